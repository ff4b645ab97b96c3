"""Build a synthetic large workspace through the services (so every row is audited).

    python bench/make_workspace.py PATH [--regulations N] [--clauses M] [--edits K]

Each regulation gets M clauses: articles with numbered paragraphs and lettered points, with a
few hundred characters of filler text each. Later issues extend this with their entities.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.services.controls import update_control
from app.services.regulations import add_regulation
from app.services.workspace import open_workspace

FILLER = ("The provider shall ensure that the system is designed and developed so that it "
          "achieves an appropriate level of accuracy, robustness and cybersecurity, and that it "
          "performs consistently in those respects throughout its lifecycle. ")


def synthetic_regulation(index: int, clauses: int) -> RegulationDoc:
    """An article → paragraph → point tree of exactly `clauses` nodes."""
    nodes: list[ClauseNode] = []
    count = 0
    article = 0
    while count < clauses:
        article += 1
        art = ClauseNode(f"Art. {article}", "article", title=f"Synthetic article {article}",
                         summary="Synthetic obligation for benchmarking.")
        nodes.append(art)
        count += 1
        for p in range(1, 5):
            if count >= clauses:
                break
            para = ClauseNode(f"Art. {article}({p})", "paragraph", text=FILLER * 2)
            art.children.append(para)
            count += 1
            for letter in "ab":
                if count >= clauses:
                    break
                para.children.append(ClauseNode(f"Art. {article}({p})({letter})", "point",
                                                text=FILLER))
                count += 1
    return RegulationDoc(code=f"SYN-{index}", title=f"Synthetic regulation {index}",
                         version_label="1", jurisdiction="Nowhere", clauses=nodes)


def build(path: Path, regulations: int, clauses: int, edits: int = 0) -> float:
    """Create the workspace; return the seconds it took."""
    start = time.perf_counter()
    store = open_workspace(path, create=True, actor="bench")
    for i in range(1, regulations + 1):
        add_regulation(store, synthetic_regulation(i, clauses))
    for i in range(edits):
        update_control(store, "OPS-2", owner=f"owner {i}")
    store.close()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--regulations", type=int, default=5)
    ap.add_argument("--clauses", type=int, default=2000, help="clauses per regulation")
    ap.add_argument("--edits", type=int, default=0, help="control edits to add")
    args = ap.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists; choose a new path")
    seconds = build(args.path, args.regulations, args.clauses, args.edits)
    total = args.regulations * args.clauses
    print(f"built {args.path}: {args.regulations} regulations × {args.clauses} clauses = "
          f"{total:,} clauses, {args.edits} edits in {seconds:.2f} s")


if __name__ == "__main__":
    main()
