"""The Risks screen on a register of 5,000 risks (issue 7 targets: the register screen opens
≤ 300 ms; the heat map for 5,000 risks renders ≤ 100 ms).

    python bench/tui_risks.py [--risks N] [--runs N]

Builds the workspace in a temp dir: one AI system and one risk through the services (which
bring the shipped 5×5 matrix into the workspace), then N-1 more risks written with direct SQL
inserts, each with its assessment row (`risk_score`) and, for every other one, a control link;
the scores spread over the whole grid at every stage. Then, for each run, a fresh app over the
workspace is started headless (Textual's `run_test`, 120×36) on the Dashboard, and two times
are taken from switching to the Risks section:

- **opens**: until the register draws its first data row (the list is read in a worker);
- **heat map**: the counting per cell of all three stages (the service's `heatmap`, run in
  the screen's worker over the 5,000 rows it read) plus the time from handing the widget
  the maps until it has drawn its grid (UI thread) — taken on a reload (`r`), when the
  widget is on screen; the first opening is printed too, which also pays for mounting the
  widget (it is mounted once the register's rows are drawn, so as not to delay them).

Prints each run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONTROLS = ("GOV-1", "GOV-2", "GOV-3", "GOV-4", "SEC-1", "SEC-2", "SEC-3", "SEC-4",
            "OPS-1", "OPS-2", "OPS-3", "OPS-4")
TREATMENTS = ("open", "mitigate", "avoid", "transfer")


def build(path: Path, risks: int) -> float:
    """The workspace with `risks` risks on one system; the seconds it took."""
    from datetime import timedelta

    from app.domain.risk import CATEGORIES
    from app.services.risks import add_risk, today
    from app.services.systems import add_system
    from app.services.workspace import open_workspace

    start = time.perf_counter()
    store = open_workspace(path, create=True, actor="bench", library=False)
    add_system(store, name="Credit scoring", tier="high", annex_iii_area="5",
               tier_justification="Creditworthiness of natural persons (Annex III 5(b)).",
               operator_role="provider", owner="Model Risk")
    first = add_risk(store, title="Synthetic risk 0", system="AI-1", category="data-drift",
                     matrix="5x5", inherent="4/4", current="3/3", residual="2/3")
    now = today(store)
    stamp, matrix_id = first.created_at, first.matrix_id
    store.close()
    con = sqlite3.connect(path)
    with con:
        risk_rows, score_rows, link_rows = [], [], []
        for i in range(1, risks):
            rid = i + 1
            il, ii = 1 + i % 5, 1 + (i // 5) % 5
            cl, ci = max(1, il - i % 2), max(1, ii - (i // 3) % 2)
            rl, ri = max(1, cl - (i // 7) % 2), max(1, ci - (i // 11) % 2)
            review = (now + timedelta(days=(i * 13) % 400 - 30)).isoformat()
            risk_rows.append((rid, f"Synthetic risk {i} of the credit scoring model",
                              CATEGORIES[i % len(CATEGORIES)], 1, f"owner {i % 17}", matrix_id,
                              il, ii, cl, ci, rl, ri, TREATMENTS[i % len(TREATMENTS)], review,
                              stamp, "bench", stamp))
            score_rows.append((rid, matrix_id, il, ii, cl, ci, rl, ri, stamp))
            if i % 2:
                link_rows.append((rid, CONTROLS[i % 12], stamp))
        con.executemany(
            "INSERT INTO risk (id, title, category, system_id, owner, matrix_id, "
            "inherent_likelihood, inherent_impact, current_likelihood, current_impact, "
            "residual_likelihood, residual_impact, treatment, review_on, created_at, "
            "created_by, updated_at, cause, event, consequence, knowledge, "
            "knowledge_justification, acceptance_justification) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'','','','medium','','')", risk_rows)
        con.executemany(
            "INSERT INTO risk_score (risk_id, matrix_id, inherent_likelihood, inherent_impact, "
            "current_likelihood, current_impact, residual_likelihood, residual_impact, note, "
            "scored_at, scored_by) VALUES (?,?,?,?,?,?,?,?,'first assessment',?,'bench')",
            score_rows)
        con.executemany("INSERT INTO risk_link (risk_id, control_id, created_at, created_by) "
                        "VALUES (?,?,?,'bench')", link_rows)
    con.close()
    return time.perf_counter() - start


async def open_once(path: Path) -> tuple[float, float, float, int]:
    """(seconds until the first rows are drawn; seconds the heat map took to be counted and
    drawn, on a reload and the first time (which includes mounting the widget); rows)."""
    from app.services.workspace import open_workspace
    from app.tui.app import make_app
    from app.tui.screens.risks import RisksScreen
    from app.tui.widgets.heatmap import HeatMap
    from app.tui.widgets.risk_table import RiskTable

    drawn: list[float] = []
    render_line = RiskTable.render_line

    def spy(self: RiskTable, y: int):  # type: ignore[no-untyped-def]
        if y >= 1 and self.shown and not drawn:
            drawn.append(time.perf_counter())  # a data row drawn for the screen
        return render_line(self, y)

    import app.services.risk_checks as checks

    counting: list[float] = []  # the service's counting per stage (in the screen's worker)
    heat: list[float] = []
    count, show, render = checks.heatmap, HeatMap.show, HeatMap.render
    started: list[float] = []

    def spy_count(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = count(*args, **kwargs)
        counting.append(time.perf_counter() - t)
        return out

    def spy_show(self: HeatMap, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(time.perf_counter())
        return show(self, *args, **kwargs)

    def spy_render(self: HeatMap):  # type: ignore[no-untyped-def]
        out = render(self)
        if started and not heat and self.heatmap is not None and self.heatmap.total:
            heat.append(time.perf_counter() - started[0])
        return out

    RiskTable.render_line = spy  # type: ignore[method-assign]
    checks.heatmap = spy_count  # type: ignore[assignment]
    HeatMap.show = spy_show  # type: ignore[method-assign]
    HeatMap.render = spy_render  # type: ignore[method-assign]
    store = open_workspace(path, actor="bench")
    app = make_app(store, show_paths=False)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            start = time.perf_counter()
            app.switch_mode("risks")
            while not drawn or not heat:
                await asyncio.sleep(0.001)
            screen = app.screen
            assert isinstance(screen, RisksScreen)
            rows = len(screen.query_one(RiskTable).rows)
            first_heat = sum(counting[:3]) + heat[0]
            await app.workers.wait_for_complete()
            await pilot.pause()
            # again with the heat map mounted: what a reload (or a write) costs it
            counting.clear()
            started.clear()
            heat.clear()
            screen.action_reload()
            while not heat:
                await asyncio.sleep(0.001)
            await app.workers.wait_for_complete()
            await pilot.pause()
    finally:
        RiskTable.render_line = render_line  # type: ignore[method-assign]
        checks.heatmap = count  # type: ignore[assignment]
        HeatMap.show, HeatMap.render = show, render  # type: ignore[method-assign]
    store.close()
    return drawn[0] - start, sum(counting[:3]) + heat[0], first_heat, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--risks", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    import app.tui.app  # noqa: F401 - imports are not what is measured

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.db"
        seconds = build(path, args.risks)
        print(f"built {args.risks:,} risks in {seconds:.2f} s")
        opens, heats, firsts = [], [], []
        for run in range(1, args.runs + 1):
            first, heat, first_heat, rows = asyncio.run(open_once(path))
            assert rows == args.risks, rows
            opens.append(first)
            heats.append(heat)
            firsts.append(first_heat)
            print(f"run {run}: rows on screen after {first * 1000:.0f} ms; heat map counted "
                  f"and drawn in {heat * 1000:.1f} ms ({first_heat * 1000:.0f} ms the first "
                  "time, mounting the widget included)")
        print(f"median over {args.runs} runs, {args.risks:,} risks: the Risks screen opens "
              f"(rows drawn) in {statistics.median(opens) * 1000:.0f} ms (target ≤ 300 ms); "
              f"the heat map renders in {statistics.median(heats) * 1000:.1f} ms "
              f"(target ≤ 100 ms; {statistics.median(firsts) * 1000:.0f} ms the first time, "
              "mounting included)")


if __name__ == "__main__":
    main()
