"""A tiny writer of valid PDF files for tests, with no dependencies: hand-written PDF syntax.

Each page is a list of text items `(x, y, size, bold, text)` drawn with the standard
Helvetica or Helvetica-Bold fonts (WinAnsiEncoding), in PDF points from the bottom left of an
A4 page. Pages are written to the file as they come, so a generator of pages makes a file of
any length without holding it in memory; only the objects' byte offsets are kept for the
cross-reference table.

    write_pdf(path, pages)              # a plain PDF
    write_encrypted_pdf(path, pages)    # Standard security handler, /V 1 /R 2: password needed
    write_scanned_pdf(path, 12)         # pages that draw a filled rectangle and no text
    write_long_pdf(path, 2000)          # a numbered document of that many pages, streamed
    damage_page(path, 3)                # blank out a page object in place: the file opens,
                                        # that page does not
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

Item = tuple[float, float, float, bool, str]  # x, y, font size, bold, text
PAGE_SIZE = (595, 842)  # A4 in points

# fixed object numbers; pages take two each (page, content) from FIRST_PAGE_OBJECT on
CATALOG, PAGES, FONT, FONT_BOLD, ENCRYPT = 1, 2, 3, 4, 5
FIRST_PAGE_OBJECT = 6


def escape(text: str) -> bytes:
    """A PDF literal string's bytes: backslashes and parentheses escaped, WinAnsi encoded."""
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_content(items: Iterable[Item]) -> bytes:
    """A content stream drawing each item as one line of text."""
    ops: list[bytes] = []
    for x, y, size, bold, text in items:
        font = b"/F2" if bold else b"/F1"
        ops.append(b"BT %s %g Tf %g %g Td (%s) Tj ET" % (font, size, x, y, escape(text)))
    return b"\n".join(ops) + b"\n"


def rectangle_content() -> bytes:
    """What a scanner's page looks like to a text extractor: paint, no text."""
    return b"0.85 g 40 40 515 762 re f\n"


class _Writer:
    """Writes numbered objects to a binary file and remembers where each one starts."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self.pos = 0
        self._raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _raw(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def obj(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.pos
        self._raw(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def stream(self, number: int, data: bytes) -> None:
        self.obj(number, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data))

    def finish(self, trailer_extra: bytes = b"") -> None:
        """The cross-reference table (one 20-byte entry per object) and the trailer."""
        size = max(self.offsets) + 1
        xref = self.pos
        self._raw(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for number in range(1, size):
            if number in self.offsets:
                self._raw(b"%010d 00000 n \n" % self.offsets[number])
            else:
                self._raw(b"0000000000 65535 f \n")
        self._raw(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
                  % (size, CATALOG, trailer_extra, xref))


def _write(path: Path, contents: Iterable[bytes], *, encrypt: bool = False) -> Path:
    """Write one page per content stream, streaming; the pages tree goes last."""
    kids: list[bytes] = []
    with path.open("wb") as fh:
        w = _Writer(fh)
        w.obj(CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES)
        for number, name in ((FONT, b"Helvetica"), (FONT_BOLD, b"Helvetica-Bold")):
            w.obj(number, b"<< /Type /Font /Subtype /Type1 /BaseFont /%s "
                          b"/Encoding /WinAnsiEncoding >>" % name)
        number = FIRST_PAGE_OBJECT
        for content in contents:
            w.obj(number, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                          b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> "
                          b"/Contents %d 0 R >>"
                  % (PAGES, *PAGE_SIZE, FONT, FONT_BOLD, number + 1))
            w.stream(number + 1, content)
            kids.append(b"%d 0 R" % number)
            number += 2
        w.obj(PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids)))
        extra = b""
        if encrypt:  # random /O and /U: no password, not even the empty one, opens it
            w.obj(ENCRYPT, b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 "
                           b"/O <%s> /U <%s> >>"
                  % (os.urandom(32).hex().encode(), os.urandom(32).hex().encode()))
            file_id = os.urandom(16).hex().encode()
            extra = b"/Encrypt %d 0 R /ID [<%s> <%s>] " % (ENCRYPT, file_id, file_id)
        w.finish(extra)
    return path


def write_pdf(path: Path, pages: Iterable[list[Item]]) -> Path:
    """A PDF with one page per list of text items (an iterator of pages is streamed)."""
    return _write(path, (text_content(items) for items in pages))


def write_encrypted_pdf(path: Path, pages: Iterable[list[Item]]) -> Path:
    """The same, with an /Encrypt dictionary (Standard handler, RC4 40-bit, /V 1 /R 2) whose
    random /O and /U strings match no password: a reader must ask for one. The streams are
    left as they are; a reader never gets that far."""
    return _write(path, (text_content(items) for items in pages), encrypt=True)


def write_scanned_pdf(path: Path, pages: int) -> Path:
    """A "scan": every page paints a grey rectangle and has no text layer."""
    return _write(path, (rectangle_content() for _ in range(pages)))


def long_document_page(number: int, per_chapter: int = 50) -> list[Item]:
    """Page `number` of a long numbered document: chapters "C Chapter C" of `per_chapter`
    pages, each page a bold section "C.S Requirement C.S" with a clause "C.S.1 …" and a few
    lines of body text."""
    chapter, section = divmod(number - 1, per_chapter)
    ref = f"{chapter + 1}.{section + 1}"
    items: list[Item] = []
    if section == 0:
        items.append((72, 750, 14, True, f"{chapter + 1} Chapter {chapter + 1}"))
    items += [(72, 730, 12, True, f"{ref} Requirement {ref}"),
              (72, 712, 10, False, f"{ref}.1 The organisation shall keep record {number} up "
                                   "to date and reviewed.")]
    items += [(72, 698 - 14 * i, 10, False,
               f"Line {i} of page {number}: text that belongs to clause {ref}.1 (kept).")
              for i in range(1, 9)]
    return items


def write_long_pdf(path: Path, pages: int) -> Path:
    """A numbered document of `pages` pages, written page by page as it is generated. (The
    headings sit below the top 70 points, where a reader looks for running heads.)"""
    def generate() -> Iterator[list[Item]]:
        for number in range(1, pages + 1):
            yield long_document_page(number)

    return write_pdf(path, generate())


def damage_page(path: Path, page: int) -> Path:
    """Overwrite the dictionary of page `page` (1-based) with spaces, in place: offsets and
    the xref table stay right, so the file opens, but that page cannot be loaded."""
    data = path.read_bytes()
    head = b"\n%d 0 obj\n" % (FIRST_PAGE_OBJECT + 2 * (page - 1))
    start = data.index(head) + len(head)
    end = data.index(b"\nendobj", start)
    path.write_bytes(data[:start] + b" " * (end - start) + data[end:])
    return path


# a one-page numbered policy: a title, a version line, two headings with a clause each
POLICY_PAGE: list[Item] = [
    (72, 760, 18, True, "Acme Access Control Policy"),
    (72, 738, 10, False, "Version 2.1, approved by the board (see annex)."),
    (72, 700, 13, True, "1 Scope"),
    (72, 680, 12, True, "1.1 Purpose"),
    (72, 664, 10, False, "This policy sets the rules for access to Acme systems (all of them)."),
    (72, 630, 13, True, "2 Controls"),
    (72, 610, 12, True, "2.1 Access"),
    (72, 594, 10, False, "Access is granted on a need-to-know basis and reviewed yearly."),
]
