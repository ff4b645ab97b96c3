"""The Evidence screen on a workspace of 20,000 pieces of evidence (issue 6 target: the screen
opens ≤ 300 ms).

    python bench/tui_evidence.py [--records N] [--runs N]

Builds the workspace in a temp dir: one piece of evidence attached through the service (so a
real file sits in the blob store), then N-1 more written with direct SQL inserts that share
its file (the store is content-addressed) — each with a version whose end date spreads the
records over current, expiring and expired, and one or two control links. Then, for each run,
a fresh app over the workspace is started headless (Textual's `run_test`, 120×36) on the
Dashboard, and two times are taken from switching to the Evidence section: until the table
draws its first rows (the screen reads the newest 200 first, in a worker), which is the
"opens" of the target; and until all N rows are in the table (read by a second worker once
the first page is painted; filters and counts then cover everything). Prints each run and
the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONTROLS = ("GOV-1", "GOV-2", "GOV-3", "GOV-4", "SEC-1", "SEC-2", "SEC-3", "SEC-4",
            "OPS-1", "OPS-2", "OPS-3", "OPS-4")
KINDS = ("document", "report", "log", "configuration", "screenshot", "test-result")


def build(path: Path, records: int) -> float:
    """The workspace with `records` pieces of evidence; the seconds it took."""
    from app.services.evidence import Source, add_evidence, today
    from app.services.workspace import open_workspace

    start = time.perf_counter()
    store = open_workspace(path, create=True, actor="bench", library=False)
    seed = path.parent / "seed.txt"
    seed.write_text("synthetic evidence\n", encoding="utf-8")
    first = add_evidence(store, Source(path=seed), title="Synthetic evidence 0",
                         controls=["GOV-1"])
    now = today(store)
    v = first.version
    store.close()
    con = sqlite3.connect(path)
    with con:
        ev_rows, version_rows, link_rows = [], [], []
        for i in range(1, records):
            eid = i + 1
            until = (now + timedelta(days=(i * 37) % 460 - 60)).isoformat()
            ev_rows.append((eid, f"Synthetic evidence {i} of the model inventory",
                            KINDS[i % len(KINDS)], "", "internal", "", 1, v.added_at,
                            "bench", v.added_at))
            version_rows.append((eid, 1, v.sha256, v.size, v.media_type, f"evidence-{i}.txt",
                                 v.collected_at, "bench", until, v.added_at, "bench"))
            for control in {CONTROLS[i % 12], CONTROLS[(i * 5) % 12]}:
                link_rows.append((eid, control, v.added_at, "bench"))
        con.executemany("INSERT INTO evidence (id, title, kind, description, classification, "
                        "source_system, versions, created_at, created_by, updated_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)", ev_rows)
        con.executemany("INSERT INTO evidence_version (evidence_id, version, sha256, size, "
                        "media_type, original_name, collected_at, collected_by, "
                        "valid_until, note, added_at, added_by) "
                        "VALUES (?,?,?,?,?,?,?,?,?,'',?,?)", version_rows)
        con.executemany("INSERT INTO evidence_link (evidence_id, control_id, created_at, "
                        "created_by) VALUES (?,?,?,?)", link_rows)
    con.close()
    return time.perf_counter() - start


async def open_once(path: Path) -> tuple[float, float, int]:
    """(seconds until the first rows are drawn, seconds until all are in the table, rows)."""
    from app.services.workspace import open_workspace
    from app.tui.app import make_app
    from app.tui.screens.evidence import EvidenceScreen
    from app.tui.widgets.evidence_table import EvidenceTable

    drawn: list[float] = []
    render_line = EvidenceTable.render_line

    def spy(self: EvidenceTable, y: int):  # type: ignore[no-untyped-def]
        if y >= 1 and self.shown and not drawn:
            drawn.append(time.perf_counter())  # a data row drawn for the screen
        return render_line(self, y)

    EvidenceTable.render_line = spy  # type: ignore[method-assign]
    store = open_workspace(path, actor="bench")
    app = make_app(store, show_paths=False)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            start = time.perf_counter()
            app.switch_mode("evidence")
            while not drawn:
                await asyncio.sleep(0.001)
            while not (isinstance(app.screen, EvidenceScreen)
                       and len(app.screen.query_one(EvidenceTable).rows) >= 2):
                await asyncio.sleep(0.001)
            table = app.screen.query_one(EvidenceTable)
            while len(table.rows) < 2 or table.border_title is None or \
                    "reading the rest" in str(table.border_title):
                await asyncio.sleep(0.001)
            complete = time.perf_counter() - start
            rows = len(table.rows)
            await app.workers.wait_for_complete()
    finally:
        EvidenceTable.render_line = render_line  # type: ignore[method-assign]
    store.close()
    return drawn[0] - start, complete, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    import app.tui.app  # noqa: F401 - imports are not what is measured

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.db"
        seconds = build(path, args.records)
        print(f"built {args.records:,} pieces of evidence in {seconds:.2f} s")
        firsts, alls = [], []
        for run in range(1, args.runs + 1):
            first, complete, rows = asyncio.run(open_once(path))
            assert rows == args.records, rows
            firsts.append(first)
            alls.append(complete)
            print(f"run {run}: rows on screen after {first * 1000:.0f} ms, all {rows:,} in "
                  f"the table after {complete * 1000:.0f} ms")
        print(f"median over {args.runs} runs, {args.records:,} records: the Evidence screen "
              f"opens (rows drawn) in {statistics.median(firsts) * 1000:.0f} ms "
              f"(target ≤ 300 ms); all rows loaded in "
              f"{statistics.median(alls) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
