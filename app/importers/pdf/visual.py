"""From PDFium's text fragments to visual lines: fragments on one baseline joined, superscript
footnote markers taken out, running headers and footers and page-foot footnotes set aside.

Everything set aside is kept (`Cleaned.set_aside`) so the importer can show it as unplaced
text rather than lose it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from app.importers.pdf.lines import Line, PageInfo

SUP = "\x00"  # wraps superscript text while lines are joined
_MARKER = re.compile(rf"\s*\(\s*{SUP}(\d+){SUP}\s*\)")
_FOOTNOTE_START = re.compile(rf"^\(\s*{SUP}?(\d+){SUP}?\s*\)")


@dataclass(slots=True)
class VLine:
    """A visual line: what a reader sees as one line."""

    page: int
    x0: float
    x1: float
    top: float
    size: float
    bold: bool
    text: str
    italic: str = ""  # italic words it opens with, after labels (see lines.Line)


@dataclass(slots=True)
class Cleaned:
    lines: list[VLine]
    body_size: float
    pages: int
    set_aside: list[tuple[int, str, str]] = field(default_factory=list)  # (page, why, text)


def visual_lines(page: PageInfo, body_size: float) -> list[VLine]:
    """Join the fragments of each baseline, in reading order within the page."""
    out: list[VLine] = []
    for f in _rejoin_strays(page.lines):
        sup = f.size < body_size * 0.7 and f.stripped.isdigit()
        text = f"{SUP}{f.stripped}{SUP}" if sup else f.text
        last = out[-1] if out else None
        if last is not None and (sup or abs(last.top - f.top) < 2.6) \
                and last.x1 - 2 <= f.x0 < last.x1 + 40:  # not across a column gap
            gap = "" if sup or last.text.endswith((SUP, "(")) or text.startswith((")", SUP)) \
                else " "
            last.text = f"{last.text.rstrip()}{gap}{text.lstrip()}" if gap else \
                f"{last.text.rstrip()}{text.strip()}"
            last.x1 = max(last.x1, f.x1)
            continue
        if sup and last is not None:  # a marker PDFium placed before its line: keep it
            last.text = f"{last.text}{text}"
            continue
        out.append(VLine(f.page, f.x0, f.x1, f.top, f.size, f.bold, text, f.italic))
    return out


def _rejoin_strays(lines: list[Line]) -> list[Line]:
    """Put back the letters PDFium reads out of order. On some column pages it gives the
    first (or last) letter of many lines as runs of their own, far from their line in the
    reading order ("p" … "sychotherapy notes;"). A piece of up to three characters that
    touches a line on the same baseline, and is not next to it in the reading order, is
    joined to that line."""
    strays = [i for i, f in enumerate(lines) if len(f.stripped) <= 3]
    if not strays:
        return lines
    by_row: dict[int, list[int]] = {}  # (tops are of the first glyph: "M" stands higher
    for i, f in enumerate(lines):       # than "a" on the same baseline)
        by_row.setdefault(round(f.top), []).append(i)
    merged = list(lines)
    gone: set[int] = set()
    for i in strays:
        f = merged[i]
        for j in (j for row in range(-3, 4) for j in by_row.get(round(f.top) + row, [])):
            g = merged[j]
            if abs(j - i) <= 1 or j in gone or abs(g.top - f.top) > f.size * 0.35 \
                    or abs(g.size - f.size) > 0.5:
                continue
            space = " " if max(g.x0 - f.x1, f.x0 - g.x1) > f.size * 0.2 else ""
            reach = f.size * 0.6 if g.text[:1].isspace() else 2.5  # its space may be the gap
            if -1 <= g.x0 - f.x1 <= reach:
                merged[j] = replace(g, x0=f.x0, text=f"{f.stripped}{space}{g.text.lstrip()}",
                                    italic="")
            elif -1 <= f.x0 - g.x1 <= 2.5:
                merged[j] = replace(g, x1=f.x1, text=f"{g.text.rstrip()}{space}{f.stripped}")
            else:
                continue
            gone.add(i)
            break
    return [f for i, f in enumerate(merged) if i not in gone]


def strip_markers(text: str) -> str:
    """Drop footnote markers ("Committee (¹),") and any leftover superscript sentinels."""
    return _MARKER.sub("", text).replace(SUP, "")


def clean(pages: Iterable[PageInfo]) -> Cleaned:
    """Visual lines of the whole document without running headers, footers and footnotes."""
    pages = list(pages)
    sizes = Counter(f.size for p in pages for f in p.lines if f.stripped)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    per_page = [(p, visual_lines(p, body)) for p in pages]
    # running heads: lines near the top or bottom edge whose shape repeats on many pages
    shape_pages: dict[str, set[int]] = {}
    for p, lines in per_page:
        for ln in _edge_lines(lines, p):
            shape_pages.setdefault(_shape(ln.text), set()).add(p.number)
    threshold = max(3, len(pages) // 5)
    running = {s for s, where in shape_pages.items() if len(where) >= threshold}
    result = Cleaned([], body, len(pages))
    for p, lines in per_page:
        kept: list[VLine] = []
        edge = {id(ln) for ln in _edge_lines(lines, p)}
        for ln in lines:
            if id(ln) in edge and _shape(ln.text) in running:
                result.set_aside.append((p.number, "running header or footer",
                                         ln.text.replace(SUP, "")))
            else:
                kept.append(ln)
        kept, notes = _split_footnotes(kept, body)
        result.set_aside += [(ln.page, "footnote", ln.text.replace(SUP, "")) for ln in notes]
        result.lines += kept
    for ln in result.lines:
        ln.text = strip_markers(ln.text)
    return result


def _edge_lines(lines: list[VLine], page: PageInfo) -> list[VLine]:
    """Lines that may be running heads or feet: those in the outer 70 pt at the top and
    45 pt at the foot, and the outermost line at either edge (with any line beside it) when
    it lies within the outer tenth of the page — where a folio or a running foot sits."""
    if not lines:
        return []
    lowest = min(ln.top for ln in lines)
    highest = max(ln.top for ln in lines)
    near = page.height * 0.1
    return [ln for ln in lines
            if ln.top > page.height - 70 or ln.top < 45
            or (ln.top - lowest < 2 and ln.top < near)
            or (highest - ln.top < 2 and ln.top > page.height - near)]


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.replace(SUP, "")).strip()


def _split_footnotes(lines: list[VLine], body: float) -> tuple[list[VLine], list[VLine]]:
    """Footnotes sit at the foot of the page in a smaller size, each starting "(n)"; the run
    of small lines at the end of the page is taken as footnotes when it starts with one."""
    start = len(lines)
    while start > 0 and lines[start - 1].size < body - 0.7:
        start -= 1
    while start < len(lines) and not _FOOTNOTE_START.match(lines[start].text.strip()):
        start += 1
    return lines[:start], lines[start:]
