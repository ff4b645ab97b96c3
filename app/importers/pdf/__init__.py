"""Official PDFs into clause trees: the EU Official Journal (classic and 2024 layouts), US CFR
texts in columns, and generic numbered documents.

    parse_pdf(path, layout=None, on_page=None) -> RegulationDoc

The layout is detected from the first pages unless given. Text that no clause takes (the
preamble, signatures, footnotes, running heads) is returned in `doc.unplaced`, page by page,
so nothing disappears silently.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.domain.clauses import RegulationDoc
from app.errors import ImportFailed
from app.importers.pdf.hyphens import join_hyphenated
from app.importers.pdf.lines import PageInfo, Progress, ends_whole, read_pages
from app.importers.pdf.visual import Cleaned, clean

LAYOUTS = ("eu-oj-classic", "eu-oj-2024", "cfr", "generic")


def parse_pdf(path: Path, *, layout: str | None = None,
              on_page: Progress | None = None) -> RegulationDoc:
    if layout is not None and layout not in LAYOUTS:
        raise ImportFailed(f"unknown PDF layout {layout!r}; use one of: {', '.join(LAYOUTS)}")
    cleaned = clean(read_pages(path, on_page=on_page))
    _check_text_layer(cleaned.empty, cleaned.pages, path)
    tried = [layout] if layout else _candidates(detect_layout(cleaned.first_pages))
    cleaned.first_pages = []
    for name in tried:
        try:
            doc, unplaced = _parse(cleaned, path, name)
        except ImportFailed:
            if name == tried[-1]:
                raise
            continue
        if any(True for _ in doc.walk()):
            break
    else:
        if layout:  # forced, from the CLI
            raise ImportFailed(f"{path}: found no numbered clauses in {_pages(cleaned.pages)} "
                               f"read as layout {layout}; try another --layout (one of: "
                               f"{', '.join(LAYOUTS)}) or leave it out to detect the layout")
        raise ImportFailed(f"{path}: found no numbered clauses in {_pages(cleaned.pages)} of "
                           f"{len(cleaned.lines):,} lines (read as {' and as '.join(tried)}); "
                           "it does not look like a "
                           "regulation, standard or policy with numbered parts")
    doc.pages = cleaned.pages
    doc.unplaced = unplaced + [(page, f"[footnote] {text}")
                               for page, why, text in cleaned.set_aside if why == "footnote"]
    doc.unplaced += _running_heads(cleaned.set_aside)
    if not ends_whole(path):
        doc.warnings.append(f"the file does not end as a PDF should (no %%EOF): it may be cut "
                            f"short; {_pages(cleaned.pages)} could be read — check against a "
                            "fresh copy")
    if cleaned.empty:
        doc.warnings.append(f"no text layer on pages {_ranges(cleaned.empty)} of "
                            f"{cleaned.pages}: blank, or scanned (OCR them if they hold text)")
    join_hyphenated(doc)
    return doc


def _candidates(detected: str) -> list[str]:
    """The detected layout first; when it finds nothing, the generic reading."""
    return [detected] if detected == "generic" else [detected, "generic"]


def _parse(cleaned: Cleaned, path: Path, layout: str) -> tuple[RegulationDoc,
                                                               list[tuple[int, str]]]:
    if layout in ("eu-oj-classic", "eu-oj-2024"):
        from app.importers.pdf.eu_oj import parse_eu_oj

        return parse_eu_oj(cleaned, path, layout)
    if layout == "cfr":
        from app.importers.pdf.cfr import parse_cfr

        return parse_cfr(cleaned, path)
    from app.importers.pdf.generic import parse_generic

    return parse_generic(cleaned, path)


def _running_heads(set_aside: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    """Running heads and feet, one entry per repeated line: where it ran, and its first
    instance ("[running head or foot on 44 pages, 1–87] 4.5.2016 EN Official Journal … L 119/1")."""
    runs: dict[str, tuple[list[int], str]] = {}
    for page, why, text in set_aside:
        if why != "footnote":
            runs.setdefault(re.sub(r"\d+", "#", text), ([], text))[0].append(page)
    out = []
    for where, text in runs.values():
        spans = _ranges(where)
        spans = spans if spans.count(",") < 3 else f"{where[0]}–{where[-1]}"
        out.append((where[0], f"[running head or foot on {len(where)} pages, {spans}] {text}"))
    return out


_CONSOLIDATED = re.compile(r"\b0\d{4}[A-Z]\d{4}\s*[—–-]\s*[A-Z]{2}\s*[—–-]")  # EUR-Lex foot


def detect_layout(pages: list[PageInfo]) -> str:
    """From the running heads and the first pages' text."""
    head = "\n".join(ln.text for p in pages[:4] for ln in p.lines)
    if re.search(r"\bOJ L, \d{1,2}\.\d{1,2}\.\d{4}\b", head) or "ELI: http://data.europa.eu" \
            in head:
        return "eu-oj-2024"
    if "Official Journal of the European Union" in head or _CONSOLIDATED.search(head):
        return "eu-oj-classic"
    body = "\n".join(ln.text for p in pages[:30] for ln in p.lines)
    sections = len(re.findall(r"^§\s?\d{1,3}\.\d+\s", body, re.MULTILINE))
    if sections >= 5 or (sections >= 2 and re.search(r"\b\d+ CFR\b", head)):
        return "cfr"
    return "generic"


def _check_text_layer(empty: list[int], pages: int, path: Path) -> None:
    if not pages:
        raise ImportFailed(f"{path} has no pages")
    if len(empty) == pages:
        raise ImportFailed(f"{path}: no text layer on pages {_ranges(empty)}: it is a scan; "
                           "OCR it first")
    if len(empty) > pages // 2:
        raise ImportFailed(f"{path}: no text layer on pages {_ranges(empty)} of {pages}; "
                           "OCR it first")


def _pages(n: int) -> str:
    return "1 page" if n == 1 else f"{n:,} pages"


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}–{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return ", ".join(out)
