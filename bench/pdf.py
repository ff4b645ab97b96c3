"""PDF import benchmarks (issue 4), each beside the pypdfium2 raw-text floor of the same file.

    python bench/pdf.py [--quick] [--baseline] [--corpus ../shared/corpus]

For each official PDF of the corpus, every figure is one fresh process (so peak RSS is the
process's own high-water mark, interpreter included), run N times, medians reported:

- floor: pypdfium2 raw text, every page's `get_text_range()` and nothing else;
- ours: `parse_pdf` — PDF to clause tree, layout detected (time inside the process);
- `crosswalk import --dry-run --json`: the whole command, start-up, parse and plan;
- with `--baseline`: a plain pdfplumber `extract_text()` loop (one run; about 17 s each).

Then a synthetic 2,000-page numbered document (written by `tests/pdfgen.py`): our parse,
peak RSS against the 200-page version of the same document, to show memory stays bounded;
and a dense real one, the HIPAA PDF eighteen times over (2,070 pages, three runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DOCS = [  # file, name, time target (s)
    ("CELEX_32016R0679_EN_TXT.pdf", "GDPR", 2.0),
    ("OJ_L_202401689_EN_TXT.pdf", "AI Act", 3.0),
    ("hipaa-simplification-201303.pdf", "HIPAA", 3.0),
]
RSS_TARGET_MB = 200

CHILD = {
    "floor": """
import pypdfium2 as pdfium
pdf = pdfium.PdfDocument(PATH)
chars = 0
for i in range(len(pdf)):
    page = pdf[i]
    tp = page.get_textpage()
    chars += len(tp.get_text_range())
    tp.close(); page.close()
pdf.close()
""",
    "ours": """
from pathlib import Path
from app.importers.pdf import parse_pdf
doc = parse_pdf(Path(PATH))
chars = sum(1 for _ in doc.walk())
""",
    "pdfplumber": """
import pdfplumber
chars = 0
with pdfplumber.open(PATH) as pdf:
    for page in pdf.pages:
        chars += len(page.extract_text() or "")
        page.close()
""",
}
WRAPPER = """
import json, resource, sys, time
PATH = sys.argv[1]
start = time.perf_counter()
{body}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF)
                  .ru_maxrss / 1024, "n": chars}}))
"""


def child(kind: str, path: Path) -> dict[str, float]:
    code = WRAPPER.format(body=CHILD[kind])
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def crosswalk() -> list[str]:
    exe = shutil.which("crosswalk", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "app"]


def whole_import(path: Path, folder: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of `crosswalk import --dry-run --json` on a library
    workspace."""
    ws = folder / "ws.db"
    if not ws.exists():
        subprocess.run([*crosswalk(), "-w", str(ws), "init"], check=True, capture_output=True)
    start = time.perf_counter()
    proc = subprocess.Popen([*crosswalk(), "-w", str(ws), "import", str(path), "--dry-run",
                             "--json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, usage = os.wait4(proc.pid, 0)[1:]
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss / 1024


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} ({min(values):.3f}–{max(values):.3f})"


def document(path: Path, name: str, target: float, runs: int, baseline: bool,
             folder: Path) -> None:
    floor = [child("floor", path) for _ in range(runs)]
    ours = [child("ours", path) for _ in range(runs)]
    whole = [whole_import(path, folder) for _ in range(runs)]
    f_s = [r["seconds"] for r in floor]
    o_s = [r["seconds"] for r in ours]
    f_mb = max(r["rss_mb"] for r in floor)
    o_mb = max(r["rss_mb"] for r in ours)
    w_s = [w[0] for w in whole]
    w_mb = max(w[1] for w in whole)
    med = statistics.median(o_s)
    print(f"\n{name} — {path.name}, {int(ours[0]['n'])} clauses")
    print(f"  pypdfium2 raw-text floor        {stats(f_s)} s   peak {f_mb:5.0f} MB")
    print(f"  ours: PDF → clause tree         {stats(o_s)} s   peak {o_mb:5.0f} MB   "
          f"{med / statistics.median(f_s):.2f}× floor, target ≤ {target} s "
          f"({med / target:.0%}) {'ok' if med <= target else 'OVER'}; "
          f"RSS {'ok' if o_mb <= RSS_TARGET_MB else 'OVER'}")
    print(f"  crosswalk import --dry-run      {stats(w_s)} s   peak {w_mb:5.0f} MB   "
          f"(whole process)")
    if baseline:
        b = child("pdfplumber", path)
        print(f"  pdfplumber extract_text() loop  {b['seconds']:7.3f}                 s   "
              f"peak {b['rss_mb']:5.0f} MB   ours is {b['seconds'] / med:.0f}× faster")


def long_document(folder: Path, runs: int) -> None:
    try:
        from tests.pdfgen import write_long_pdf
    except ImportError:
        print("\n(tests/pdfgen.py not found: 2,000-page figure skipped)")
        return
    results = {}
    for pages in (200, 2000):
        path = folder / f"long-{pages}.pdf"
        write_long_pdf(path, pages)
        size = path.stat().st_size / 1e6
        ours = [child("ours", path) for _ in range(runs)]
        floor = [child("floor", path) for _ in range(runs)]
        results[pages] = ours
        print(f"\nsynthetic numbered document, {pages} pages ({size:.1f} MB), "
              f"{int(ours[0]['n'])} clauses")
        print(f"  pypdfium2 raw-text floor        {stats([r['seconds'] for r in floor])} s   "
              f"peak {max(r['rss_mb'] for r in floor):5.0f} MB")
        print(f"  ours: PDF → clause tree         {stats([r['seconds'] for r in ours])} s   "
              f"peak {max(r['rss_mb'] for r in ours):5.0f} MB")
    small = max(r["rss_mb"] for r in results[200])
    big = max(r["rss_mb"] for r in results[2000])
    print(f"  10× the pages: peak RSS {small:.0f} → {big:.0f} MB ({big / small:.2f}×)")


def dense_document(corpus: Path, folder: Path, runs: int) -> None:
    """The HIPAA PDF eighteen times over (2,070 dense three-column pages): memory on a long
    real document, not a synthetic one."""
    source = corpus / "hipaa-simplification-201303.pdf"
    if not source.exists():
        print(f"\n({source.name} not found: the dense 2,000-page figure is skipped)")
        return
    import pypdfium2 as pdfium

    path = folder / "hipaa-x18.pdf"
    src, out = pdfium.PdfDocument(str(source)), pdfium.PdfDocument.new()
    for _ in range(18):
        out.import_pages(src)
    out.save(str(path))
    pages = len(out)
    out.close()
    src.close()
    ours = [child("ours", path) for _ in range(runs)]
    floor = [child("floor", path) for _ in range(runs)]
    whole = [whole_import(path, folder) for _ in range(runs)]
    o_mb = max(r["rss_mb"] for r in ours)
    print(f"\nHIPAA ×18, {pages} pages ({path.stat().st_size / 1e6:.1f} MB), "
          f"{int(ours[0]['n'])} clauses")
    print(f"  pypdfium2 raw-text floor        {stats([r['seconds'] for r in floor])} s   "
          f"peak {max(r['rss_mb'] for r in floor):5.0f} MB")
    print(f"  ours: PDF → clause tree         {stats([r['seconds'] for r in ours])} s   "
          f"peak {o_mb:5.0f} MB   RSS {'ok' if o_mb <= RSS_TARGET_MB else 'OVER'}")
    print(f"  crosswalk import --dry-run      {stats([w[0] for w in whole])} s   "
          f"peak {max(w[1] for w in whole):5.0f} MB   (whole process)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 runs instead of 7")
    ap.add_argument("--baseline", action="store_true",
                    help="also time a plain pdfplumber extract_text() loop (slow)")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("CROSSWALK_CORPUS",
                                                HERE.parent.parent / "shared" / "corpus")))
    args = ap.parse_args()
    runs = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(folder / "xdg")
        for file, name, target in DOCS:
            if (args.corpus / file).exists():
                document(args.corpus / file, name, target, runs, args.baseline, folder)
            else:
                print(f"({file} not found in {args.corpus}: skipped)")
        long_document(folder, runs)
        dense_document(args.corpus, folder, 3)


if __name__ == "__main__":
    main()
