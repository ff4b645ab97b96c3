"""The Mapping screen on a 10,000-clause / 30,000-mapping workspace (issue 5 targets: the
matrix opens ≤ 300 ms, a cursor move repaints ≤ 50 ms).

    python bench/tui_matrix.py [--runs N]

Builds the workspace with `make_workspace.py` (5 regulations × 2,000 clauses, ≈ 3 mappings
per clause) in a temp dir, then in one process drives the real app headless (Textual's
`run_test`, 160×50): choosing a 2,000-clause regulation until its matrix is read (in a
worker), built and painted, alternating between two of them; going back to the screen from
the Dashboard (nothing written meanwhile, so the matrix is kept); then each cursor move — a
key press until its repaint is done (`pilot.pause()` waits for the screen to be refreshed),
alternating down, right, up and left over 200 moves — and 20 opens/folds of an article.
Pilot adds its own waits to every key press (about 40 ms here, idle: measured on an unbound
key in the same run), so a move is reported as the process's CPU time for the press — the
handlers, the repaint and Pilot's bookkeeping — and as wall time beside that baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_workspace import build

idle: list[float] = []  # Pilot's wait on a key bound to nothing
reopen_times: list[float] = []
move_cpu: list[float] = []


async def drive(path: Path, opens: int) -> tuple[list[float], list[float], list[float], int]:
    from textual.widgets import Select

    from app.services.workspace import open_workspace
    from app.tui.app import make_app
    from app.tui.screens.mapping import MappingScreen
    from app.tui.widgets.mapping_matrix import MappingMatrix

    store = open_workspace(path, actor="bench")
    app = make_app(store, show_paths=False)
    from app.services.regulations import list_regulations

    big = [r.id for r in sorted(list_regulations(store), key=lambda r: -r.clauses)[:2]]
    open_times: list[float] = []
    moves: list[float] = []
    toggles: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("5")  # first visit (not timed)
        while not isinstance(app.screen, MappingScreen) or \
                app.screen.query_one(MappingMatrix).matrix is None:
            await pilot.pause(0.001)
        m = app.screen.query_one(MappingMatrix)
        select = app.screen.query_one("#matrix-select", Select)
        for i in range(opens):  # a 2,000-clause regulation chosen: read, built, painted
            target = big[i % 2]
            start = time.perf_counter()
            select.value = target
            while m.matrix is None or m.matrix.regulation_id != target:
                await pilot.pause(0.001)
            await pilot.pause()
            open_times.append(time.perf_counter() - start)
        rows = len(m.matrix.rows)
        for _ in range(opens):  # back to the Dashboard and to the matrix again (unchanged)
            await pilot.press("1")
            await app.workers.wait_for_complete()
            await pilot.pause()
            start = time.perf_counter()
            await pilot.press("5")
            await app.workers.wait_for_complete()
            await pilot.pause()
            reopen_times.append(time.perf_counter() - start)
        matrix = app.screen.query_one(MappingMatrix)
        for _ in range(50):
            start = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: Pilot's own wait
            idle.append(time.perf_counter() - start)
        for i in range(200):
            key = ("down", "right", "down", "left", "up", "right")[i % 6]
            start, cpu = time.perf_counter(), time.process_time()
            await pilot.press(key)
            moves.append(time.perf_counter() - start)
            move_cpu.append(time.process_time() - cpu)
        matrix.row_index = 1
        for _ in range(20):
            cpu = time.process_time()
            await pilot.press("space")
            toggles.append(time.process_time() - cpu)
    store.close()
    return open_times, moves, toggles, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="times the screen is opened")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        seconds = build(path, 5, 2000, mappings_per_clause=3)
        print(f"  (built 10,000 clauses + ~30,000 mappings in {seconds:6.2f} s)")
        opens, moves, toggles, rows = asyncio.run(drive(path, args.runs))
    ms = [x * 1000 for x in opens]
    mv = sorted(x * 1000 for x in move_cpu)
    wall = statistics.median(moves) * 1000
    tg = [x * 1000 for x in toggles]
    re = [x * 1000 for x in reopen_times]
    base = statistics.median(idle) * 1000
    print(f"open a regulation's matrix ({rows:,} clauses) median {statistics.median(ms):6.1f} ms "
          f"({min(ms):.1f}–{max(ms):.1f})  target ≤ 300 ms  "
          f"{'ok' if statistics.median(ms) <= 300 else 'OVER'}")
    print(f"back to the Mapping screen, key to paint    median {statistics.median(re) - base:6.1f}"
          f" ms  (wall {statistics.median(re):.1f} ms less Pilot's {base:.1f} ms)")
    print(f"cursor move, repainted (CPU)               median {statistics.median(mv):6.1f} ms "
          f"p95 {mv[int(len(mv) * 0.95)]:.1f} ms  max {mv[-1]:.1f} ms  target ≤ 50 ms  "
          f"{'ok' if mv[int(len(mv) * 0.95)] <= 50 else 'OVER'}")
    print(f"cursor move, wall time with Pilot          median {wall:6.1f} ms  (an unbound key: "
          f"{base:.1f} ms, so the move adds {wall - base:.1f} ms)")
    print(f"open/fold an article (space, CPU)          median {statistics.median(tg):6.1f} ms "
          f"max {max(tg):.1f} ms")


if __name__ == "__main__":
    main()
