"""Traceability-matrix export benchmark: `write_xlsx` beside `write_csv` on the same rows.

    python bench/matrix_xlsx.py [--rows 30000] [--runs 3] [--pdf] [--keep DIR]

Synthetic rows with realistic text lengths: three regulations (GDPR, EU AI Act, HIPAA), about
one row in ten a gap, evidence on half the mappings (one to three items each, with 64-digit
digests), a risk on a third, rationales of 80–600 characters. Each figure is the median of
N runs in this process (the rows are built once, outside the timing). Target: `write_xlsx` of
30,000 rows in ≤ 10 s. `--pdf` also times `write_matrix_pdf` (one run; it is not a target).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app.domain.traceability import EvidenceCell, MatrixRow  # noqa: E402
from app.exporters.matrix_files import MatrixMeta, write_csv, write_xlsx  # noqa: E402

TARGET_S = 10.0
REGULATIONS = (("GDPR", "2016/679", "Art. {a}({p})({q})"),
               ("EU AI Act", "2024/1689", "Art. {a}({p}) point ({q})"),
               ("HIPAA", "2013-01-25", "§ 164.{a}(a)({p})(ii)({q})"))
_TEXT = ("the controller shall implement appropriate technical and organisational measures to "
         "ensure a level of security appropriate to the risk including pseudonymisation "
         "encryption confidentiality integrity availability resilience of processing systems "
         "and services evaluate regularly the effectiveness of those measures")
WORDS = tuple(_TEXT.split(" "))


def text(rng: random.Random, low: int, high: int) -> str:
    n = rng.randint(low, high)
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < n:
        out.append(rng.choice(WORDS))
    return " ".join(out).capitalize()


def make_rows(n: int, seed: int = 7) -> list[MatrixRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        code, version, pattern = REGULATIONS[i % 3]
        ref = pattern.format(a=300 + i // 40, p=1 + i % 7, q="abcdef"[i % 6])
        common = {"regulation": code, "version": version, "clause_ref": ref,
                  "clause_title": text(rng, 20, 90), "summary": text(rng, 60, 300)}
        if rng.random() < 0.1:
            rows.append(MatrixRow(**common, gap=True))
            continue
        evidence: tuple[EvidenceCell, ...] = ()
        if rng.random() < 0.5:
            evidence = tuple(
                EvidenceCell(f"EV-{rng.randint(1, 900)}", text(rng, 15, 60),
                             hashlib.sha256(f"{i}-{k}".encode()).hexdigest(),
                             "2026-03-01", rng.choice(("2027-03-01", "")),
                             rng.choice(("current", "current", "expiring", "expired")))
                for k in range(rng.randint(1, 3)))
        risks = ((f"RK-{rng.randint(1, 80)}", rng.choice(("low", "medium", "high"))),) \
            if rng.random() < 0.33 else ()
        ctl = rng.randint(1, 120)
        rows.append(MatrixRow(
            **common, control_id=f"C-{ctl}", control_name=text(rng, 15, 50),
            control_owner=rng.choice(("Security team", "DPO", "ML platform", "Legal")),
            control_status=rng.choice(("implemented", "partial", "planned", "not-started")),
            relationship=rng.choice(("subset-of", "intersects-with", "equivalent-to")),
            strength=rng.randint(1, 10), coverage=rng.choice(("full", "partial")),
            rationale=text(rng, 80, 600),
            review_status=rng.choice(("draft", "reviewed", "approved")), evidence=evidence,
            test_procedure=text(rng, 10, 40), test_result=rng.choice(("pass", "fail", "")),
            test_date="2026-10-01", tester="A. Auditor", risks=risks))
    return rows


META = MatrixMeta(title="Traceability matrix", generated_at="2026-11-26T10:15:00Z",
                  audit_head="3f9a0c" * 10 + "abcd", audit_head_seq=123456,
                  workspace="bench", filters={}, classification="CONFIDENTIAL")


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pdf", action="store_true", help="also time write_matrix_pdf once")
    ap.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = ap.parse_args()

    t0 = time.perf_counter()
    rows = make_rows(args.rows)
    print(f"{args.rows:,} rows built in {time.perf_counter() - t0:.2f} s "
          f"({sum(r.gap for r in rows):,} gaps, {sum(bool(r.evidence) for r in rows):,} "
          f"with evidence)")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        xlsx = [timed(write_xlsx, rows, out / "matrix.xlsx", META) for _ in range(args.runs)]
        csv_ = [timed(write_csv, rows, out / "matrix.csv", META) for _ in range(args.runs)]
        x, c = statistics.median(xlsx), statistics.median(csv_)
        size_x = (out / "matrix.xlsx").stat().st_size / 1e6
        size_c = (out / "matrix.csv").stat().st_size / 1e6
        print(f"write_xlsx  median {x:6.2f} s  range {min(xlsx):.2f}–{max(xlsx):.2f}  "
              f"{size_x:6.1f} MB  target {TARGET_S:.0f} s ({x / TARGET_S:.0%})")
        print(f"write_csv   median {c:6.2f} s  range {min(csv_):.2f}–{max(csv_):.2f}  "
              f"{size_c:6.1f} MB")
        print(f"ratio xlsx/csv {x / c:.1f}×")
        if args.pdf:
            from app.exporters.matrix_pdf import write_matrix_pdf

            p = timed(write_matrix_pdf, rows, out / "matrix.pdf", META)
            import pypdfium2 as pdfium

            pages = len(pdfium.PdfDocument(out / "matrix.pdf"))
            print(f"write_matrix_pdf {p:6.2f} s  {pages:,} pages  "
                  f"{(out / 'matrix.pdf').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
