"""Run the foundation benchmarks and print figures beside their targets.

    python bench/run.py [--quick]

Builds its workspaces in a temp dir with `make_workspace.py` (through the services). Figures
are medians of several runs; record them with the machine in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from make_workspace import build

HERE = Path(__file__).resolve().parent


def crosswalk_exe() -> list[str]:
    exe = shutil.which("crosswalk", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "app"]


def timed(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True, env=env)
        out.append(time.perf_counter() - start)
    return out


def first_paint(path: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run([sys.executable, str(HERE / "tui_first_paint.py"), str(path)],
                           capture_output=True, text=True, check=True)
        painted = next(line for line in p.stdout.splitlines() if line.startswith("painted"))
        # the child's perf_counter shares the parent's clock (CLOCK_MONOTONIC) on Linux
        out.append(float(painted.split()[1]) - start)
    return out


def audited_writes(folder: Path, n: int, synchronous: str) -> float:
    from app.services.controls import update_control
    from app.services.workspace import open_workspace
    from app.store import store as store_module

    old = store_module.SYNCHRONOUS
    store_module.SYNCHRONOUS = synchronous
    try:
        ws = open_workspace(folder / f"writes-{synchronous}.db", create=True, actor="bench")
        start = time.perf_counter()
        for i in range(n):
            update_control(ws, "OPS-2", owner=f"owner {i}")
        seconds = time.perf_counter() - start
        ws.close()
    finally:
        store_module.SYNCHRONOUS = old
    return seconds


def line(name: str, values: list[float], target: float, note: str = "") -> None:
    med = statistics.median(values)
    verdict = "ok" if med <= target else "OVER"
    spread = f"{min(values):.3f}–{max(values):.3f}" if len(values) > 1 else ""
    print(f"{name:<44} median {med:7.3f} s  ({spread:>13})  target ≤ {target:g} s  "
          f"{med / target:5.0%} of target  {verdict}  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    args = ap.parse_args()
    runs = 3 if args.quick else 7
    exe = crosswalk_exe()
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "CROSSWALK_WORKSPACE": str(folder / "help.db")}
        floor = timed([sys.executable, "-c", "pass"], runs)
        help_times = timed([*exe, "--help"], runs, env)
        line("crosswalk --help", help_times, 0.3,
             f"(bare python start-up {statistics.median(floor):.3f} s)")

        ten_k = folder / "10k.db"
        built = build(ten_k, 5, 2000)
        print(f"{'  (built 10,000-clause workspace in':<44} {built:7.2f} s)")
        line("TUI first paint, 10,000 clauses", first_paint(ten_k, runs), 1.0)

        full = [audited_writes(folder / f"f{i}", 1000, "FULL") for i in range(3)]
        normal = [audited_writes(folder / f"n{i}", 1000, "NORMAL") for i in range(3)]
        for d in folder.glob("[fn]*"):
            shutil.rmtree(d, ignore_errors=True)
        line("1,000 audited writes, synchronous=FULL", full, 2.0, "(our setting)")
        line("1,000 audited writes, synchronous=NORMAL", normal, 2.0,
             f"(FULL/NORMAL = {statistics.median(full) / statistics.median(normal):.2f}×)")

        big = folder / "100k.db"
        built = build(big, 10, 10_000)
        print(f"{'  (built 100,023-event workspace in':<44} {built:7.2f} s)")
        line("crosswalk verify, 100,023 events", timed([*exe, "-w", str(big), "verify"],
                                                        runs), 3.0, "(whole process)")


if __name__ == "__main__":
    main()
