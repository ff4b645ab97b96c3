"""The look every Crosswalk PDF shares (the traceability matrix, the audit dossier): fonts,
paragraph styles, and a page template with a running header and footer.

- `DocStyle` says what a document is: title, classification, the provenance line ("generated
  from audit head 3f9a…"), when (the audit head's time, never the wall clock), page size and
  margins.
- `pick_fonts` chooses the fonts for a set of texts (see there) and gives `Fonts.clean`, which
  makes any text printable in them; `cell_markup` turns plain text into safe Paragraph markup.
- `build_pdf` lays out a platypus story with a header (title left, classification right) and a
  footer (provenance left, classification centre, "Page n of m" right) on every page.

Reproducible output: `build_pdf` runs ReportLab in invariant mode (no random document id, no
wall-clock timestamp) and writes the creation and modification dates from
`DocStyle.generated_at`, with fixed title/author/subject/creator/producer metadata, so the same
story and style give byte-identical files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.rl_codecs import RL_Codecs
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#8EA9DB")
HEADER_FILL = colors.HexColor("#1F3864")
ZEBRA = colors.HexColor("#F4F6FA")
GAP_TINT = colors.HexColor("#FBE0E0")
GRID = colors.HexColor("#B8C4D9")

PRODUCER = "Crosswalk (ReportLab)"


@dataclass(frozen=True, slots=True)
class DocStyle:
    """What a document is, for its running header/footer and its metadata."""

    title: str
    classification: str  # e.g. "CONFIDENTIAL", printed on every page
    provenance: str  # e.g. "generated from audit head 3f9a0c… (#1234)"
    generated_at: str  # ISO 8601 (UTC); becomes the PDF creation and modification date
    subject: str = ""
    author: str = "Crosswalk"
    pagesize: tuple[float, float] = A4
    margin: float = 12 * mm
    header_height: float = 9 * mm  # band above the frame for the running header
    footer_height: float = 9 * mm  # band below the frame for the running footer
    lang: str = "en"


# ------------------------------------------------------------------ fonts

# Where DejaVu Sans Condensed usually lives (Debian/Ubuntu, Fedora, Arch, Homebrew/macOS).
# $CROSSWALK_PDF_FONT_DIR, when set, is looked at first.
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/opt/homebrew/share/fonts",
    "/Library/Fonts",
)
DEJAVU = ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf")

_STANDARD_CODECS = ("cp1252", "symbol", "zapfdingbats")
RL_Codecs.register()  # makes the "symbol" and "zapfdingbats" codecs known


@dataclass(frozen=True, slots=True)
class Fonts:
    """The regular and bold font names to use, and which characters they can show."""

    regular: str
    bold: str
    embedded: bool  # a TrueType font embedded (subset) in the file
    supports: Callable[[str], bool]

    def clean(self, text: str) -> str:
        """`text` with every character the fonts cannot show replaced by "?", and control
        characters other than newline turned into spaces."""
        if text.isascii() and text.isprintable():  # the common case, and fast
            return text
        out = []
        for ch in text:
            if ch == "\n":
                out.append(ch)
            elif ch < " " or "\x7f" <= ch < "\xa0":
                out.append(" ")
            else:
                out.append(ch if self.supports(ch) else "?")
        return "".join(out)


@functools.lru_cache(maxsize=4096)
def standard_supports(ch: str) -> bool:
    """Whether ReportLab's standard Type 1 fonts can show `ch`: Helvetica's WinAnsi (cp1252)
    set, or a glyph of Symbol (Greek, ≤, ≥, arrows…) or ZapfDingbats (✓, ■…), to which
    ReportLab switches by itself. CJK, Cyrillic and most other scripts are not there."""
    for codec in _STANDARD_CODECS:
        try:
            ch.encode(codec)
        except (UnicodeEncodeError, LookupError):
            continue
        return True
    return False


def _find_dejavu() -> tuple[Path, Path] | None:
    dirs = [os.environ.get("CROSSWALK_PDF_FONT_DIR", ""), *FONT_DIRS]
    for folder in filter(None, dirs):
        regular, bold = (Path(folder) / name for name in DEJAVU)
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def pick_fonts(texts: Iterable[str], *, font_dirs: Sequence[str] | None = None) -> Fonts:
    """The fonts for a document made of `texts`.

    Helvetica (a standard PDF font: nothing embedded, smallest file) when every character is
    one the standard fonts can show (`standard_supports`: Latin-1 and the rest of cp1252 —
    "§", "é", "—", "€" — plus Symbol's "≤", "≥", Greek). Otherwise DejaVu Sans Condensed, if
    found on this machine (`FONT_DIRS`, or `font_dirs` when given), embedded as a subset; its
    licence (Bitstream Vera, with DejaVu's changes in the public domain) allows embedding and
    redistribution. Any character neither can show (for DejaVu: CJK, for instance) is printed as
    "?" by `Fonts.clean`; CSV and XLSX keep the original text.

    The choice depends on the font files present, so a document with non-standard characters
    is byte-identical only between machines with the same DejaVu version.
    """
    seen: set[str] = set()
    for text in texts:
        seen.update(text)
    if all(standard_supports(ch) for ch in seen):
        return Fonts("Helvetica", "Helvetica-Bold", False, standard_supports)
    found = _find_dejavu() if font_dirs is None else next(
        ((Path(d) / DEJAVU[0], Path(d) / DEJAVU[1]) for d in font_dirs
         if (Path(d) / DEJAVU[0]).is_file() and (Path(d) / DEJAVU[1]).is_file()), None)
    if found is None:
        return Fonts("Helvetica", "Helvetica-Bold", False, standard_supports)
    from reportlab.pdfbase.ttfonts import TTFont

    names = ("CrosswalkSans", "CrosswalkSans-Bold")
    for name, file in zip(names, found, strict=True):
        try:
            pdfmetrics.getFont(name)
        except KeyError:
            pdfmetrics.registerFont(TTFont(name, str(file)))
    glyphs = pdfmetrics.getFont(names[0]).face.charToGlyph
    return Fonts(names[0], names[1], True, lambda ch: ord(ch) in glyphs)


# ------------------------------------------------------------------ text


def cell_markup(text: str, fonts: Fonts) -> str:
    """Plain `text` as Paragraph markup that shows exactly that text: characters the fonts
    lack become "?", ``& < >`` are escaped (a Paragraph parses its text as XML-like markup, so
    ``<b>`` or ``&amp;`` in user text would otherwise be obeyed or fail), newlines become
    line breaks, and runs of spaces are kept."""
    safe = escape(fonts.clean(text))
    safe = safe.replace("  ", " &nbsp;")
    return safe.replace("\n", "<br/>")


def styles(fonts: Fonts, size: float = 7.0) -> dict[str, ParagraphStyle]:
    """Paragraph styles at body size `size`: title, meta (the lines under it), heading, body,
    cell and header cell (white on dark blue)."""
    lead = size * 1.2
    return {
        "title": ParagraphStyle("title", fontName=fonts.bold, fontSize=16, leading=20,
                                textColor=INK, spaceAfter=4),
        "meta": ParagraphStyle("meta", fontName=fonts.regular, fontSize=8.5, leading=11,
                               textColor=MUTED),
        "heading": ParagraphStyle("heading", fontName=fonts.bold, fontSize=11, leading=14,
                                  textColor=INK, spaceBefore=6, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=fonts.regular, fontSize=9, leading=11.5,
                               textColor=INK),
        "cell": ParagraphStyle("cell", fontName=fonts.regular, fontSize=size, leading=lead,
                               textColor=INK, splitLongWords=True),
        "cell_bold": ParagraphStyle("cell_bold", fontName=fonts.bold, fontSize=size,
                                    leading=lead, textColor=INK, splitLongWords=True),
        "header_cell": ParagraphStyle("header_cell", fontName=fonts.bold, fontSize=size,
                                      leading=lead, textColor=colors.white),
    }


# ------------------------------------------------------------------ page template


def pdf_date(iso: str) -> str:
    """An ISO 8601 time as a PDF date string in UTC: ``D:20261126101500+00'00'``."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def _canvas_class(style: DocStyle, fonts: Fonts) -> type[Canvas]:
    date = pdf_date(style.generated_at)
    title = fonts.clean(style.title)
    classification = fonts.clean(style.classification)
    provenance = fonts.clean(style.provenance)

    class RunningCanvas(Canvas):
        """Keeps each page until the end, then draws the header and footer on all of them,
        so the footer can say "Page n of m"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_: date)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = style.pagesize
            left, right = style.margin, width - style.margin
            top = height - style.margin
            bottom = style.margin
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.setFillColor(INK)
            self.setFont(fonts.bold, 9)
            self.drawString(left, top - 9, _fit(title, fonts.bold, 9, (right - left) * 0.7))
            self.setFillColor(colors.HexColor("#9C0006"))
            self.drawRightString(right, top - 9, _fit(classification, fonts.bold, 9,
                                                      (right - left) * 0.28))
            self.line(left, top - 13, right, top - 13)
            self.line(left, bottom + 13, right, bottom + 13)
            self.setFont(fonts.regular, 7.5)
            self.setFillColor(MUTED)
            self.drawString(left, bottom + 4, _fit(provenance, fonts.regular, 7.5,
                                                   (right - left) * 0.45))
            self.setFillColor(colors.HexColor("#9C0006"))
            self.setFont(fonts.bold, 7.5)
            self.drawCentredString((left + right) / 2, bottom + 4,
                                   _fit(classification, fonts.bold, 7.5,
                                        (right - left) * 0.25))
            self.setFont(fonts.regular, 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(right, bottom + 4, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return RunningCanvas


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text`, cut and ended with "..." if needed to fit `width` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def frame_size(style: DocStyle) -> tuple[float, float]:
    """Width and height (points) of the body frame under `style`: what a table can fill."""
    width, height = style.pagesize
    return (width - 2 * style.margin,
            height - 2 * style.margin - style.header_height - style.footer_height)


def build_pdf(target: Path | str | IO[bytes], story: list[Flowable], style: DocStyle,
              fonts: Fonts) -> None:
    """Lay out `story` into `target` (a path or a binary file) with the running header and
    footer of `style`; reproducible (see the module docstring)."""
    fw, fh = frame_size(style)
    frame = Frame(style.margin, style.margin + style.footer_height, fw, fh, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc = BaseDocTemplate(
        target if not isinstance(target, Path) else str(target),
        pagesize=style.pagesize, pageTemplates=[PageTemplate("page", [frame])],
        leftMargin=style.margin, rightMargin=style.margin, topMargin=style.margin,
        bottomMargin=style.margin, title=fonts.clean(style.title),
        author=fonts.clean(style.author), subject=fonts.clean(style.subject),
        creator="Crosswalk", producer=PRODUCER, keywords=[fonts.clean(style.classification)],
        invariant=1, pageCompression=1, lang=style.lang, initialFontName=fonts.regular,
    )
    doc.build(story, canvasmaker=_canvas_class(style, fonts))
