"""The risk register (issue 7): the heat map, the quality checks and the register listing on
5,000 risks, median of 7 warm runs each.

    python bench/risks.py [--risks 5000] [--runs 7]

Targets: the heat map for 5,000 risks ≤ 100 ms; `risks check` ≤ 0.5 s. The heat map and the
checks each read the register themselves (one SELECT, levels read off the matrix), as the CLI
and the TUI call them; `risks check` is also timed as the real command, in a fresh process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    from make_workspace import synthetic_risks

    from app.services.risk_checks import check_risks, heatmap
    from app.services.risks import list_risks
    from app.services.workspace import open_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--risks", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.db"
        store = open_workspace(path, create=True, actor="bench")  # with the library
        start = time.perf_counter()
        synthetic_risks(store, args.risks)
        print(f"built {args.risks:,} risks in {time.perf_counter() - start:.1f} s")
        report = check_risks(store)
        print(f"  ({len(report.findings):,} findings on {report.risks:,} risks)")
        figures = {
            "list_risks (the register)": median_ms(lambda: list_risks(store), args.runs),
            "heatmap (residual)": median_ms(lambda: heatmap(store, "residual"), args.runs),
            "check_risks": median_ms(lambda: check_risks(store), args.runs),
        }
        store.close()
        cmd = [sys.executable, "-m", "app", "-w", str(path), "risks", "check", "--json"]
        figures["`crosswalk risks check` (process)"] = median_ms(
            lambda: subprocess.run(cmd, capture_output=True, check=False), args.runs)
        targets = {"heatmap (residual)": 100, "check_risks": 500,
                   "`crosswalk risks check` (process)": 500}
        print(f"{args.risks:,} risks, median of {args.runs}:")
        for name, ms in figures.items():
            target = targets.get(name)
            verdict = "" if target is None else \
                f"  (target ≤ {target} ms: {'ok' if ms <= target else 'OVER'})"
            print(f"  {name:<36} {ms:8.1f} ms{verdict}")


if __name__ == "__main__":
    main()
