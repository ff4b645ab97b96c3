"""Mapping analyses (issue 5): figures against the issue's targets.

    python bench/analysis.py [--quick]

Builds a workspace of 5 regulations × 2,000 clauses with about 3 mappings per clause
(`make_workspace.py --mappings-per-clause 3`, through the services) in a temp dir, then times
`crosswalk coverage` and `crosswalk gaps` as whole processes, and building the networkx graph
in-process (snapshot + graph) and `crosswalk export graph` as a whole process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from make_workspace import build
from run import crosswalk_exe, line, timed


def graph_builds(path: Path, runs: int) -> tuple[list[float], int, int]:
    from app.services.graph import load_graph
    from app.services.workspace import open_workspace

    store = open_workspace(path, actor="bench")
    import networkx  # noqa: F401  (imported once, as a long-lived process would have it)

    out = []
    g = None
    for _ in range(runs):
        start = time.perf_counter()
        g = load_graph(store)
        out.append(time.perf_counter() - start)
    store.close()
    assert g is not None
    return out, g.number_of_nodes(), g.number_of_edges()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    args = ap.parse_args()
    runs = 3 if args.quick else 7
    exe = crosswalk_exe()
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-") as tmp:
        ws = Path(tmp) / "mapped.db"
        built = build(ws, 5, 2000, mappings_per_clause=3)
        print(f"{'  (built 10,000 clauses + ~30,000 mappings in':<44} {built:7.2f} s)")
        base = timed([*exe, "-w", str(ws), "status"], runs)
        print(f"{'  (crosswalk status, for comparison':<44} "
              f"{statistics.median(base):7.3f} s)")
        line("crosswalk coverage", timed([*exe, "-w", str(ws), "coverage"], runs), 0.5,
             "(whole process)")
        line("crosswalk coverage --json", timed([*exe, "-w", str(ws), "coverage", "--json"],
                                                runs), 0.5, "(whole process)")
        line("crosswalk gaps", timed([*exe, "-w", str(ws), "gaps"], runs), 0.5,
             "(whole process)")
        times, nodes, edges = graph_builds(ws, runs)
        line("build the graph (snapshot + networkx)", times, 1.0,
             f"(in-process; {nodes:,} nodes, {edges:,} edges)")
        out = Path(tmp) / "g.graphml"
        line("crosswalk export graph --format json",
             timed([*exe, "-w", str(ws), "export", "graph", "--format", "json", "-o",
                    str(out.with_suffix(".json"))], runs), 1.0, "(whole process, for information)")
        line("crosswalk export graph --format graphml",
             timed([*exe, "-w", str(ws), "export", "graph", "--format", "graphml", "-o",
                    str(out)], runs), 1.0, "(whole process, for information)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
