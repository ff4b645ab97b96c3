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

from app.importers.pdf.lines import HARD_BREAK, Line, PageInfo

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
    empty: list[int] = field(default_factory=list)  # pages with no text layer
    first_pages: list[PageInfo] = field(default_factory=list)  # as read, for detection


def visual_lines(page: PageInfo, body_size: float) -> list[VLine]:
    """Join the fragments of each baseline, in reading order within the page."""
    out: list[VLine] = []
    for f in _rejoin_strays(_masthead_first(page)):
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


def _masthead_first(page: PageInfo) -> list[Line]:
    """Lines at the head of the page that PDFium reads after text below them (the 2024
    Official Journal's first-page masthead comes last) are put first."""
    lines = page.lines
    if len(lines) < 2:
        return lines
    top = lines[0].top
    late = [f for f in lines[1:] if f.top > top + 2 and f.top > page.height - 90]
    if not late:
        return lines
    moved = {id(f) for f in late}
    return late + [f for f in lines if id(f) not in moved]


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
    """Visual lines of the whole document without running headers, footers and footnotes.

    Pages are taken one at a time and only their visual lines are kept, so a long document
    is held once. The body size that tells superscripts apart is the commonest size of the
    first pages; the one the parsers get is that of the whole document."""
    result = Cleaned([], 10.0, 0)
    sizes: Counter[float] = Counter()
    held: list[PageInfo] = []  # pages read before the body size is known
    per_page: list[tuple[PageInfo, list[VLine]]] = []
    body: float | None = None
    for p in pages:
        result.pages += 1
        sizes.update(f.size for f in p.lines if f.stripped)
        if not p.lines:
            result.empty.append(p.number)
        if len(result.first_pages) < _FIRST_PAGES:
            result.first_pages.append(p)
        if body is None:
            held.append(p)
            if len(held) < _BODY_PAGES:
                continue
            body = _commonest(sizes)
            per_page += [(_bare(h), visual_lines(h, body)) for h in held]
            held = []
        else:
            per_page.append((_bare(p), visual_lines(p, body)))
    if body is None:
        body = _commonest(sizes)
        per_page += [(_bare(h), visual_lines(h, body)) for h in held]
    result.body_size = body = _commonest(sizes)
    running = _running_shapes(per_page, result.pages)
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
        ln.text = _HARD_END.sub(f"-{HARD_BREAK}", strip_markers(ln.text))
    return result


_HARD_END = re.compile(r"(?<=\w)-\s*$")  # "Public Law 104-" (then "191" on the next line)


def _running_shapes(per_page: list[tuple[PageInfo, list[VLine]]], pages: int) -> set[str]:
    """Shapes (digits as "#") of running heads and feet: lines near the top or bottom edge
    that repeat on many pages. The same text every time ("EN", a document title) is a
    running head whatever its type; lines that differ in their numbers must also look like
    one — not bold, not a heading ("CHAPTER 2", "Article 7", "3 Scope") that happens to open
    each page — as folios and "L 119/2 … 4.5.2016" do."""
    seen: dict[str, tuple[set[int], set[str], bool]] = {}  # shape → pages, texts, any bold
    for p, lines in per_page:
        for ln in _edge_lines(lines, p):
            where, texts, bold = seen.setdefault(_shape(ln.text), (set(), set(), False))
            where.add(p.number)
            texts.add(ln.text)
            if ln.bold and not bold:
                seen[_shape(ln.text)] = (where, texts, True)
    threshold = max(2, pages // 5)
    return {s for s, (where, texts, bold) in seen.items() if len(where) >= threshold
            and (len(texts) == 1 or not (bold or _STRUCTURAL.match(s) or _NUMBERED.match(s)))}


_NUMBERED = re.compile(r"^#(?:\.#)*\.?\s+[A-Z][a-z]")  # "# Scope": a numbered heading's shape
_STRUCTURAL = re.compile(r"^(?:Article|ARTICLE|Chapter|CHAPTER|Section|SECTION|Annex|ANNEX|"
                         r"Title|TITLE|Part|PART|Subpart|§)\b")  # a heading, on two pages
_BODY_PAGES = 10  # pages whose commonest size is taken as the body size
_FIRST_PAGES = 30  # pages kept whole for layout detection


def _commonest(sizes: Counter[float]) -> float:
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _bare(page: PageInfo) -> PageInfo:
    """The page without its lines, once they are visual lines."""
    return PageInfo(page.number, page.width, page.height, [])


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
