"""Build a synthetic large workspace through the services (so every row is audited).

    python bench/make_workspace.py PATH [--regulations N] [--clauses M] [--edits K]
                                        [--mappings-per-clause X] [--evidence E]
                                        [--risks R]

Each regulation gets M clauses: articles with numbered paragraphs and lettered points, with a
few hundred characters of filler text each. With X > 0, about X mappings per clause (issue 5):
every tenth clause is left unmapped (gaps), others get X or 2X distinct controls; mostly
`intersects-with`/partial, one in five `subset-of`/full, one in fifty `no-relationship`;
draft, reviewed and approved in turn. With `--evidence E` (issue 6), E pieces of evidence,
each a small distinct text file in the blob store, linked to one or two controls and valid
until dates spread from 60 days ago to a year ahead (so every status occurs), plus one
control test per ten pieces — all audited, in transactions of 1,000. With `--risks R`
(issue 7), ten AI systems and R risks spread over them, scored at all three stages on the
5x5 matrix (cells spread over the grid, some residuals above current), each treatment in
turn, one or two linked controls, every seventh review overdue-able — audited, in
transactions of 1,000. Later issues extend this with their entities.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.controls import CONTROL_IDS
from app.domain.mappings import REVIEW_STATUS
from app.importers.mapping_file import MappingSpec
from app.services.controls import update_control
from app.services.regulations import add_regulation, insert_mappings
from app.services.workspace import open_workspace
from app.store import Store

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


def synthetic_mappings(doc: RegulationDoc, per_clause: int) -> dict[str, list[MappingSpec]]:
    """About `per_clause` mappings per clause of `doc`, by review status (see the module doc)."""
    out: dict[str, list[MappingSpec]] = {s: [] for s in REVIEW_STATUS}
    n = 0
    for i, (_, node) in enumerate(doc.walk()):
        k = 0 if i % 10 == 0 else 2 * per_clause if i % 10 == 5 else per_clause
        for j in range(k):
            control = CONTROL_IDS[(i * 5 + j * 7) % len(CONTROL_IDS)]
            rel, cov = (("no-relationship", "partial") if n % 50 == 49 else
                        ("subset-of", "full") if n % 5 == 4 else ("intersects-with", "partial"))
            out[REVIEW_STATUS[n % 3]].append(MappingSpec(
                node.ref, control, rel, "semantic", 5, cov,
                f"Synthetic mapping {n} for benchmarking."))
            n += 1
    return out


def synthetic_evidence(store: Store, count: int) -> None:
    """`count` pieces of evidence through the services' row writers (see the module doc)."""
    import io
    import json
    from datetime import timedelta

    from app.services.evidence import _add_version_row, _link_row, blobs_of, today
    from app.store.models import ControlTest, Evidence

    blobs, now = blobs_of(store), today(store)
    kinds = ("document", "report", "log", "configuration", "screenshot", "test-result")
    for start in range(0, count, 1000):
        with store.write() as tx:
            for i in range(start, min(count, start + 1000)):
                stored = blobs.put_stream(io.BytesIO(f"synthetic evidence {i}\n".encode()))
                row = Evidence(title=f"Synthetic evidence {i}", kind=kinds[i % len(kinds)],
                               versions=1, created_at=tx.now, created_by="bench",
                               updated_at=tx.now)
                tx.session.add(row)
                tx.session.flush()
                assert row.id is not None
                tx.record("evidence.create", "evidence", row.id, {"title": row.title})
                until = (now + timedelta(days=(i * 37) % 460 - 60)).isoformat()
                version = _add_version_row(tx, row.id, 1, stored, "text/plain",
                                           f"evidence-{i}.txt", {
                                               "collected_at": (now - timedelta(days=90))
                                               .isoformat(), "collected_by": "bench",
                                               "period_from": None, "period_to": None,
                                               "valid_until": until, "note": ""})
                for control in {CONTROL_IDS[i % 12], CONTROL_IDS[(i * 5) % 12]}:
                    _link_row(tx, row.id, control_id=control, what=control)
                if i % 10 == 0:
                    test = ControlTest(control_id=CONTROL_IDS[i % 12], procedure="inspection",
                                       result="effective", tester="bench",
                                       tested_on=now.isoformat(),
                                       evidence_versions=json.dumps([version.id]),
                                       created_at=tx.now, created_by="bench")
                    tx.session.add(test)
                    tx.session.flush()
                    assert test.id is not None
                    tx.record("control_test.create", "control_test", test.id,
                              {"control_id": test.control_id})


def synthetic_risks(store: Store, count: int) -> None:
    """Ten systems and `count` risks through the services' row writers (see the module doc)."""
    from datetime import timedelta

    from app.domain.risk import CATEGORIES, TREATMENTS
    from app.services.risk_matrices import ensure_matrix
    from app.services.risks import _append_score, _apply_scores, _link, today
    from app.services.systems import add_system
    from app.store.models import Risk

    systems = [add_system(store, name=f"Synthetic system {k}", tier="minimal",
                          tier_justification="Synthetic, for benchmarking.",
                          operator_role="provider").id for k in range(10)]
    now = today(store)
    for start in range(0, count, 1000):
        with store.write() as tx:
            matrix_row, m = ensure_matrix(tx, "5x5")
            for i in range(start, min(count, start + 1000)):
                lk, im = i % 5 + 1, (i * 3) % 5 + 1
                scores = {"inherent": (min(5, lk + 1), min(5, im + 1)), "current": (lk, im),
                          "residual": (max(1, lk - 1) if i % 11 else min(5, lk + 1), im)}
                row = Risk(title=f"Synthetic risk {i}", category=CATEGORIES[i % 11],
                           system_id=systems[i % 10] or 0, matrix_id=matrix_row.id or 0,
                           treatment=TREATMENTS[i % 5 if i % 5 != 2 else 1],
                           review_on=(now + timedelta(days=i % 7)).isoformat(),
                           created_at=tx.now, created_by="bench", updated_at=tx.now)
                _apply_scores(row, scores)
                tx.session.add(row)
                tx.session.flush()
                assert row.id is not None
                tx.record("risk.create", "risk", row.id, {"title": row.title})
                _append_score(tx, row, matrix_row, m, scores, "")
                for control in dict.fromkeys((CONTROL_IDS[i % 12], CONTROL_IDS[(i * 7) % 12])):
                    if i % 4:
                        _link(tx, row.id, "control_id", control, control)


def build(path: Path, regulations: int, clauses: int, edits: int = 0,
          mappings_per_clause: int = 0, evidence: int = 0, risks: int = 0) -> float:
    """Create the workspace; return the seconds it took."""
    start = time.perf_counter()
    store = open_workspace(path, create=True, actor="bench")
    for i in range(1, regulations + 1):
        doc = synthetic_regulation(i, clauses)
        reg = add_regulation(store, doc)
        if mappings_per_clause:
            assert reg.id is not None
            with store.write() as tx:
                for status, specs in synthetic_mappings(doc, mappings_per_clause).items():
                    insert_mappings(tx, reg.id, specs, author="bench", review_status=status)
    for i in range(edits):
        update_control(store, "OPS-2", owner=f"owner {i}")
    if evidence:
        synthetic_evidence(store, evidence)
    if risks:
        synthetic_risks(store, risks)
    store.close()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--regulations", type=int, default=5)
    ap.add_argument("--clauses", type=int, default=2000, help="clauses per regulation")
    ap.add_argument("--edits", type=int, default=0, help="control edits to add")
    ap.add_argument("--mappings-per-clause", type=int, default=0, metavar="X",
                    help="about X mappings per clause (0: none)")
    ap.add_argument("--evidence", type=int, default=0, metavar="E",
                    help="pieces of evidence to add (0: none)")
    ap.add_argument("--risks", type=int, default=0, metavar="R",
                    help="risks to add, over ten AI systems (0: none)")
    args = ap.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists; choose a new path")
    seconds = build(args.path, args.regulations, args.clauses, args.edits,
                    args.mappings_per_clause, args.evidence, args.risks)
    total = args.regulations * args.clauses
    print(f"built {args.path}: {args.regulations} regulations × {args.clauses} clauses = "
          f"{total:,} clauses, {args.edits} edits, {args.mappings_per_clause} mappings per "
          f"clause, {args.evidence:,} pieces of evidence, {args.risks:,} risks in {seconds:.2f} s")


if __name__ == "__main__":
    main()
