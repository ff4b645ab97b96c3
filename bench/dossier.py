"""Audit dossier benchmark: gather + write the PDF, each run in a fresh child process.

    python bench/dossier.py [--big PATH] [--runs N]

Cases:
- demo: the demo workspace (`crosswalk demo`), median of N runs (default 3); target ≤ 5 s;
- 10k: a synthetic workspace of one regulation × 10,000 clauses with about three mappings per
  clause (~30,000 mapping rows), 500 pieces of evidence and 300 risks, built with
  `bench/make_workspace.py` (or `--big PATH`, an existing one); one run; target ≤ 60 s and
  ≤ 400 MB peak RSS.

Each figure is one child process (`resource.getrusage(RUSAGE_SELF).ru_maxrss` is then the
process's own high-water mark, interpreter and imports included); the time is measured inside
it, from before `gather_dossier` to after `write_dossier_pdf`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, resource, sys, time
from pathlib import Path
from app.services.workspace import open_workspace
from app.services.dossier_data import DossierOptions, gather_dossier
from app.exporters.dossier_pdf import write_dossier_pdf
store = open_workspace(Path(sys.argv[1]), actor="bench")
start = time.perf_counter()
d = gather_dossier(store, DossierOptions(organisation="Bench Ltd"))
gathered = time.perf_counter()
pages = write_dossier_pdf(d, sys.argv[2])
done = time.perf_counter()
print(json.dumps({"gather": gathered - start, "write": done - gathered,
                  "seconds": done - start, "pages": pages, "rows": len(d.matrix.rows),
                  "mappings": sum(1 for r in d.matrix.rows if r.control_id),
                  "size_mb": Path(sys.argv[2]).stat().st_size / 1e6,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(workspace: Path, out: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(workspace), str(out)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(name: str, runs: list[dict[str, float]], target_s: float,
           target_mb: float | None) -> None:
    secs = [r["seconds"] for r in runs]
    med = statistics.median(secs)
    best = min(runs, key=lambda r: abs(r["seconds"] - med))
    rss = max(r["rss_mb"] for r in runs)
    rng = f" ({min(secs):.2f}–{max(secs):.2f})" if len(runs) > 1 else ""
    print(f"{name}: {int(best['rows']):,} matrix rows ({int(best['mappings']):,} mappings), "
          f"{int(best['pages'])} pages, {best['size_mb']:.1f} MB")
    print(f"  gather + write  {med:6.2f} s{rng}  [gather {best['gather']:.2f} s, write "
          f"{best['write']:.2f} s]  target ≤ {target_s:g} s: "
          f"{'ok' if med <= target_s else 'OVER'}")
    print(f"  peak RSS        {rss:6.0f} MB" + (
        f"  target ≤ {target_mb:g} MB: {'ok' if rss <= target_mb else 'OVER'}"
        if target_mb else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", type=Path, help="an existing large workspace to use")
    ap.add_argument("--runs", type=int, default=3, help="runs of the demo case")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = folder / "demo.db"
        subprocess.run([sys.executable, "-m", "app", "--workspace", str(demo), "demo",
                        "--no-open"], check=True, capture_output=True, cwd=ROOT)
        report("demo", [child(demo, folder / "demo.pdf") for _ in range(args.runs)], 5, None)
        big = args.big
        if big is None:
            big = folder / "big.db"
            subprocess.run([sys.executable, str(HERE / "make_workspace.py"), str(big),
                            "--regulations", "1", "--clauses", "10000",
                            "--mappings-per-clause", "3", "--evidence", "500",
                            "--risks", "300"], check=True, capture_output=True, cwd=ROOT)
        report("10k clauses", [child(big, folder / "big.pdf")], 60, 400)


if __name__ == "__main__":
    main()
