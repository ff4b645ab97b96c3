"""Text lines of a PDF with where they sit and how they look, read page by page with PDFium.

PDFium (through pypdfium2, the engine under pdfplumber) gives each page's text with
its line breaks in one call; for each line we then ask only for the box and font of its first
and last characters (and of an italic heading it opens with). That is what layout detection
and structure parsing need — position, size, weight — at a small fraction of the cost of
pdfplumber's per-character extraction (bench/pdf.py: 7.7 s for the GDPR, ours 0.39 s), one
page at a time.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.errors import ImportFailed
from app.importers.source import read_head

Progress = Callable[[int, int], None]  # (page done, pages) → None; raise to cancel
HYPHEN_MARK = "\ufffe"  # PDFium's mark of a word hyphenated at a line end
HARD_BREAK = "\ufff0"  # our mark of a line that ends in a hyphen PDFium did not mark


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text on a page (PDF points, origin bottom left)."""

    page: int  # 1-based
    x0: float
    x1: float
    top: float  # top of the first character
    size: float  # font size of the first character (loose box height)
    bold: bool
    text: str
    italic: str = ""  # the italic words the line opens with, after any "(a)(1)" labels

    @property
    def stripped(self) -> str:
        return self.text.strip()


@dataclass(frozen=True, slots=True)
class PageInfo:
    number: int
    width: float
    height: float
    lines: list[Line]


def open_pdf(path: Path) -> object:
    """Open a PDF with PDFium, with a plain error for what cannot be opened."""
    import pypdfium2 as pdfium

    if b"%PDF" not in read_head(path, 1024):
        raise ImportFailed(f"{path} is not a PDF (it does not start with %PDF)")
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise ImportFailed(f"{path} is encrypted; save an unprotected copy and import "
                               "that") from None
        detail = re.search(r"PDFium: ([^)]+)", str(exc))
        why = f" (PDFium: {detail.group(1).rstrip('.').lower()})" if detail else ""
        raise ImportFailed(f"{path} is damaged or truncated and cannot be read as a PDF{why}; "
                           "get a fresh copy") from None


def read_pages(path: Path, *, on_page: Progress | None = None,
               first: int = 1, last: int | None = None) -> Iterator[PageInfo]:
    """Yield each page's lines in the order PDFium reads them; pages are freed as we go."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = open_pdf(path)
    try:
        total = len(pdf)  # type: ignore[arg-type]
        end = min(total, last or total)
        buf = ctypes.create_string_buffer(96)
        flags = ctypes.c_int()
        for index in range(first - 1, end):
            try:
                width, height, lines = _read_page(pdf, index, raw, buf, flags)
            except pdfium.PdfiumError:
                raise ImportFailed(f"{path}: page {index + 1} is damaged and cannot be read; "
                                   "repair the file (open and save it again) or get a fresh "
                                   "copy") from None
            yield PageInfo(index + 1, width, height, lines)
            if on_page is not None:
                on_page(index + 1, end)
    finally:
        pdf.close()  # type: ignore[attr-defined]


def _read_page(pdf: object, index: int, raw: object, buf: object,
               flags: object) -> tuple[float, float, list[Line]]:
    page = pdf[index]  # type: ignore[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            return width, height, _page_lines(index + 1, textpage, raw, buf, flags)
        finally:
            textpage.close()
    finally:
        page.close()


def ends_whole(path: Path) -> bool:
    """Whether the file ends as a PDF does, with "%%EOF" in its last kilobyte (PDFium reads
    a file cut short near its end without a word, rebuilding what it can)."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 1024))
        return b"%%EOF" in fh.read()


def page_count(path: Path) -> int:
    pdf = open_pdf(path)
    try:
        return len(pdf)  # type: ignore[arg-type]
    finally:
        pdf.close()  # type: ignore[attr-defined]


def _page_lines(number: int, textpage: object, raw: object, buf: object,
                flags: object) -> list[Line]:
    count = textpage.count_chars()  # type: ignore[attr-defined]
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)  # type: ignore[attr-defined]
    out: list[Line] = []
    reader = _LineReader(number, textpage, raw, buf, flags)
    for start, chunk in _segments(text):
        if chunk.strip():
            reader.read(start, chunk, out)
    return out


class _LineReader:
    """One PDFium line (a run of the page's text between breaks) into a `Line`."""

    def __init__(self, number: int, textpage: object, raw: object, buf: object,
                 flags: object) -> None:
        self.number, self.textpage, self.raw, self.buf, self.flags = \
            number, textpage, raw, buf, flags
        self.handle = textpage.raw  # type: ignore[attr-defined]

    def char(self, text_index: int) -> int:
        char = self.raw.FPDFText_GetCharIndexFromTextIndex(self.handle, text_index)  # type: ignore[attr-defined]
        return char if char >= 0 else text_index

    def read(self, start: int, chunk: str, out: list[Line], *, split: bool = True) -> None:
        tp, raw, handle, flags = self.textpage, self.raw, self.handle, self.flags
        lead = start + (len(chunk) - len(chunk.lstrip()))
        tail = start + len(chunk.rstrip()) - 1
        first_char, last_char = self.char(lead), self.char(tail)
        left, _bottom, first_right, top = tp.get_charbox(first_char, loose=False)  # type: ignore[attr-defined]
        _l, lb, _r, lt = tp.get_charbox(first_char, loose=True)  # type: ignore[attr-defined]
        last_left, _b2, right, _t2 = tp.get_charbox(last_char)  # type: ignore[attr-defined]
        size = lt - lb
        if split and (m := _SUPERSCRIPT_LEAD.match(chunk)) and \
                size < 0.75 * _height(tp, self.char(start + m.end(1))):
            self.read(start, chunk[:m.end(1)], out, split=False)  # "11) and (EU) …": the
            self.read(start + m.end(1), chunk[m.end(1):], out)    # marker ran into the text
            return
        if split and first_char != last_char and (
                abs(tp.get_charbox(last_char, loose=True)[3] - lt) > size * 0.6  # type: ignore[attr-defined]
                or self._apart(chunk, start, size, first_right, last_left)):
            self.split(start, chunk, out)  # PDFium ran pieces of several lines together
            return
        raw.FPDFText_GetFontInfo(handle, first_char, self.buf, 96, ctypes.byref(flags))  # type: ignore[attr-defined]
        font = self.buf.value.decode("latin-1", "replace").lower()  # type: ignore[attr-defined]
        weight = raw.FPDFText_GetFontWeight(handle, first_char)  # type: ignore[attr-defined]
        bold = "bold" in font or "black" in font or weight >= 600
        italic = _italic_lead(chunk, start, raw, handle, self.buf, flags) \
            if flags.value & _ITALIC or chunk.lstrip().startswith("(") else ""  # type: ignore[attr-defined]
        chunk = _drop_kerning_spaces(chunk, start, tp, raw, handle, lt - lb)
        text = _CONTROL.sub(" ", chunk.replace("\u00ad", "")).rstrip()
        out.append(Line(self.number, _shared(left), _shared(right), _shared(top),
                        _shared(lt - lb), bold, text, italic))

    def _apart(self, chunk: str, start: int, size: float, first_right: float,
               last_left: float) -> bool:
        """Whether the first or last character stands off from its neighbour by more than a
        column gap: a letter of another column PDFium ran into this line."""
        body = chunk.rstrip()
        lead = len(chunk) - len(chunk.lstrip())
        end = len(body) - 1
        second = next((i for i in range(lead + 1, end + 1) if not body[i].isspace()), None)
        if second is None:
            return False
        before = next(i for i in range(end - 1, lead - 1, -1) if not body[i].isspace())
        box = self.textpage.get_charbox  # type: ignore[attr-defined]
        return box(self.char(start + second))[0] - first_right > size * 0.9 or \
            last_left - box(self.char(start + before))[2] > size * 0.9

    def split(self, start: int, chunk: str, out: list[Line]) -> None:
        """Cut a run that strays over several baselines, or jumps across the page, into one
        piece per place."""
        piece_start, piece_top, piece_right = start, None, 0.0
        for offset, ch in enumerate(chunk):
            if ch.isspace():
                continue
            left, bottom, right, top = self.textpage.get_charbox(self.char(start + offset),  # type: ignore[attr-defined]
                                                                 loose=True)
            if piece_top is not None and (abs(top - piece_top) > 1.5
                                          or left - piece_right > (top - bottom) * 0.9):
                self._piece(piece_start, chunk[piece_start - start:offset], out)
                piece_start = start + offset
            piece_top, piece_right = top, right
        self._piece(piece_start, chunk[piece_start - start:], out)

    def _piece(self, start: int, text: str, out: list[Line]) -> None:
        if text.strip():
            self.read(start, text, out, split=False)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # control characters
_FLOATS: dict[float, float] = {}


def _shared(value: float) -> float:
    """Rounded to a tenth of a point, and one object per value: a long document repeats its
    margins, baselines and sizes on every page, and holds hundreds of thousands of lines."""
    value = round(value, 1)
    return _FLOATS.setdefault(value, value)


_SUPERSCRIPT_LEAD = re.compile(r"\s*(\d{1,3})\)")


def _height(textpage: object, char: int) -> float:
    _l, bottom, _r, top = textpage.get_charbox(char, loose=True)  # type: ignore[attr-defined]
    return top - bottom


_LABELS = re.compile(r"\s*(?:\([0-9A-Za-z]{1,4}\)\s*)*")
_ITALIC = 64  # PDF font flag


def _italic_lead(chunk: str, start: int, raw: object, handle: object, buf: object,
                 flags: object) -> str:
    """The run of italic characters a line opens with, after its labels: a CFR paragraph
    heading ("(a) *General requirements.* Covered entities …"). Only the characters of the
    run itself are looked at, so this costs almost nothing on lines without one."""
    pos = _LABELS.match(chunk).end()  # type: ignore[union-attr]
    end = pos
    while end < len(chunk):
        char = raw.FPDFText_GetCharIndexFromTextIndex(handle, start + end)  # type: ignore[attr-defined]
        if char < 0:
            break
        raw.FPDFText_GetFontInfo(handle, char, buf, 96, ctypes.byref(flags))  # type: ignore[attr-defined]
        if not flags.value & _ITALIC:  # type: ignore[attr-defined]
            break
        end += 1
    return chunk[pos:end].strip() if end > pos else ""


def _segments(text: str) -> Iterator[tuple[int, str]]:
    """(offset, text) of each line. PDFium ends a line broken at a hyphen with U+FFFE and no
    line break, running the next line on; we break there too, keeping the mark at the end of
    the first line for `join_hyphenated` to repair once the whole document is read."""
    index = 0
    for chunk in text.split("\r\n"):
        start = index
        index += len(chunk) + 2
        while (cut := chunk.find(HYPHEN_MARK)) >= 0:
            yield start, chunk[:cut + 1]
            start, chunk = start + cut + 1, chunk[cut + 1:]
        yield start, chunk


def _drop_kerning_spaces(chunk: str, start: int, textpage: object, raw: object, handle: object,
                         size: float) -> str:
    """PDFium inserts a space wherever two letters stand apart; in letter-spaced headings
    that splits words ("dat a"). A space PDFium made up, between letters closer together
    than a fifth of the font size, is dropped; real word spaces are kept."""
    if " " not in chunk or size <= 0:
        return chunk
    drop: list[int] = []
    pos = 0
    while (pos := chunk.find(" ", pos + 1)) > 0:
        if pos == len(chunk) - 1:
            break
        if not (chunk[pos - 1].isalpha() and chunk[pos + 1].isalpha()):
            continue
        char = raw.FPDFText_GetCharIndexFromTextIndex(handle, start + pos)  # type: ignore[attr-defined]
        if char < 0 or raw.FPDFText_IsGenerated(handle, char) != 1:  # type: ignore[attr-defined]
            continue
        before = textpage.get_charbox(char - 1)  # type: ignore[attr-defined]
        after = textpage.get_charbox(char + 1)  # type: ignore[attr-defined]
        if after[0] - before[2] < size * 0.2:
            drop.append(pos)
    for pos in reversed(drop):
        chunk = chunk[:pos] + chunk[pos + 1:]
    return chunk
