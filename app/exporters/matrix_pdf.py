"""The traceability matrix as a printable PDF.

Page: A3 landscape (420 × 297 mm). The matrix is wide — even the print selection below is 17
columns, two of them free text — and at A4 landscape (277 mm of usable width) the rationale
and title columns would be a dozen characters wide, making rows many lines tall. A3 landscape
gives 396 mm of usable width: every column is readable at 7-point type and it still prints
(A3, or scaled to A4 at 71 % — 5-point type, small but legible).

Columns: print shows what an auditor reads on paper; the CSV and XLSX carry all 29 columns.
Dropped here: our clause summary (long; the clause title identifies the clause), the evidence
titles, SHA-256 digests and collection dates, the test procedure and tester. Merged to save
width: regulation and version in one cell; "not applicable" with its justification; each
evidence item on its own line as "EV-3 current (until 2027-01-01)"; the latest test as result
and date; each risk as "RK-1 (high)".

Layout: a title block (title, workspace, generated at, audit head, filters, counts), then the
table, with its header row on every page (one Table per page, each ``repeatRows=1``; see
`MatrixRows` for why not one long Table). Every cell is a wrapped Paragraph (long words
such as hashes or URLs are split), so nothing runs past its column; the text is escaped, so
markup-like user text (``<b>``, ``&amp;``) prints as written. A row taller than a page is
split across pages rather than failing. Gap rows are tinted red, other rows zebra-striped,
and status words are coloured (evidence current/expiring/expired, control status).

Fonts: see `app.exporters.pdf_style.pick_fonts` — Helvetica unless a character needs DejaVu;
characters neither has (CJK with DejaVu) print as "?".

Reproducible: the same rows and meta give byte-identical files (invariant mode, dates from
`MatrixMeta.generated_at`, fixed metadata).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A3, landscape
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from app.domain.traceability import MatrixRow
from app.exporters import pdf_style
from app.exporters.files import atomic_target
from app.exporters.matrix_files import MatrixMeta, summarise

HEAD_CHARS = 16  # hex digits of the audit head in the running footer


def _regulation(r: MatrixRow) -> str:
    return f"{r.regulation}\n{r.version}" if r.version else r.regulation


def _applicability(r: MatrixRow) -> str:
    if r.applicability_justification and r.applicability != "applicable":
        return f"{r.applicability}: {r.applicability_justification}"
    return r.applicability


def _evidence(r: MatrixRow) -> str:
    return "\n".join(f"{e.id} {e.status}" + (f" (until {e.valid_until})" if e.valid_until
                                              else "") for e in r.evidence)


def _test(r: MatrixRow) -> str:
    return ", ".join(p for p in (r.test_result, r.test_date) if p)


def _risks(r: MatrixRow) -> str:
    return "\n".join(f"{rid} ({level})" if level else rid for rid, level in r.risks)


# (header, relative width, value); the widths are scaled to fill the frame.
PRINT_COLUMNS: tuple[tuple[str, float, Callable[[MatrixRow], str]], ...] = (
    ("Regulation", 9.5, _regulation),
    ("Clause", 15.5, lambda r: r.clause_ref),
    ("Clause title", 21, lambda r: r.clause_title),
    ("Applicability", 11, _applicability),
    ("Control", 7, lambda r: r.control_id),
    ("Control name", 20, lambda r: r.control_name),
    ("Owner", 11, lambda r: r.control_owner),
    ("Control status", 10.5, lambda r: r.control_status),
    ("Relationship", 12, lambda r: r.relationship),
    ("Strength", 8, lambda r: "" if r.strength is None else str(r.strength)),
    ("Coverage", 8.5, lambda r: r.coverage),
    ("Mapping rationale", 45, lambda r: r.rationale),
    ("Review", 8.5, lambda r: r.review_status),
    ("Evidence", 20, _evidence),
    ("Latest test", 12, _test),
    ("Risks", 10, _risks),
    ("Gap", 4.5, lambda r: "yes" if r.gap else ""),
)
PRINT_HEADERS = tuple(h for h, _, _ in PRINT_COLUMNS)

_EVIDENCE_COLOUR = {"current": "#1E6B2E", "expiring": "#8A5A00", "expired": "#B00020"}
_CONTROL_COLOUR = {"implemented": "#1E6B2E", "partial": "#8A5A00", "not-started": "#B00020",
                   "not started": "#B00020"}
_COLOURED = {"Evidence", "Control status", "Gap"}


def _font(text: str, colour: str) -> str:
    return f'<font color="{colour}">{text}</font>'


def _styled(markup: str, header: str) -> str:
    """Colour the status words of an (already escaped) cell."""
    if not markup:
        return markup
    if header == "Gap":
        return f"<b>{_font(markup, '#B00020')}</b>"
    if header == "Control status":
        colour = _CONTROL_COLOUR.get(markup)
        return _font(markup, colour) if colour else markup
    lines = []
    for line in markup.split("<br/>"):  # Evidence: "EV-3 current (until …)" per line
        parts = line.split(" ", 2)
        if len(parts) > 1 and parts[1] in _EVIDENCE_COLOUR:
            parts[1] = _font(parts[1], _EVIDENCE_COLOUR[parts[1]])
        lines.append(" ".join(parts))
    return "<br/>".join(lines)


def _title_block(meta: MatrixMeta, stats: dict, fonts: pdf_style.Fonts,
                 st: dict) -> list:
    def m(text: str) -> str:
        return pdf_style.cell_markup(text, fonts)

    filters = "; ".join(f"{k}: {v}" for k, v in meta.filter_lines()) or "none"
    lines = [
        f"<b>Workspace</b> {m(meta.workspace)} &nbsp;&nbsp; <b>Generated at</b> "
        f"{m(meta.generated_at)} &nbsp;&nbsp; <b>Classification</b> {m(meta.classification)}",
        f"<b>Audit head</b> {m(meta.audit_head)} (#{meta.audit_head_seq})",
        f"<b>Filters</b> {m(filters)}",
        f"<b>Rows</b> {stats['rows']} &nbsp;&nbsp; <b>Mappings</b> {stats['mappings']} "
        f"&nbsp;&nbsp; <b>Gaps</b> {stats['gaps']} uncovered clauses ({stats['gap_rows']} rows)"
        f" &nbsp;&nbsp; <b>Regulations</b> {m(', '.join(stats['regulations'])) or '-'}",
        "Printed columns are a selection; the CSV and XLSX exports carry every column.",
    ]
    return [Paragraph(m(meta.title), st["title"]),
            *(Paragraph(line, st["meta"]) for line in lines), Spacer(1, 8)]


PAD_X, PAD_TOP, PAD_BOTTOM = 2.5, 1.5, 2.0
_BASE_COMMANDS: tuple[tuple, ...] = (
    ("BACKGROUND", (0, 0), (-1, 0), pdf_style.HEADER_FILL),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("GRID", (0, 0), (-1, -1), 0.25, pdf_style.GRID),
    ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
    ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
    ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP),
    ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
)


def _row_height(cells: list, widths: list[float]) -> float:
    """The height a Table gives this row: its tallest cell plus the vertical padding."""
    tallest = 0.0
    for cell, w in zip(cells, widths, strict=True):
        if cell:
            tallest = max(tallest, cell.wrap(w - 2 * PAD_X, 1e9)[1])
    return tallest + PAD_TOP + PAD_BOTTOM


class _Cells:
    """Makes the Paragraphs of a row and of the header row."""

    def __init__(self, fonts: pdf_style.Fonts) -> None:
        self.fonts = fonts
        self.st = pdf_style.styles(fonts, size=7.0)

    def header(self) -> list:
        return [Paragraph(pdf_style.cell_markup(h, self.fonts), self.st["header_cell"])
                for h in PRINT_HEADERS]

    def row(self, row: MatrixRow) -> list:
        cells: list = []
        for header_text, _, value in PRINT_COLUMNS:
            text = value(row)
            if not text:  # an empty cell needs no Paragraph (and no wrapping)
                cells.append("")
                continue
            markup = pdf_style.cell_markup(text, self.fonts)
            if header_text in _COLOURED:
                markup = _styled(markup, header_text)
            cells.append(Paragraph(markup, self.st["cell_bold"] if header_text == "Clause"
                                   else self.st["cell"]))
        return cells


SLACK = 2.0  # points kept free at the foot of each page against rounding


class MatrixRows(Flowable):
    """The matrix table from row `start` on, laid out one page at a time.

    Why not one long Table: ReportLab splits a long table page by page, copying the rest of it
    (rows, cell styles, style commands) at every split — quadratic, minutes at 30,000 rows —
    and every row's Paragraphs would exist before the first page is drawn (gigabytes). Here
    `split` makes the Paragraphs of just enough rows to fill the space offered, measures them
    as a Table will (same widths and paddings), and returns a Table of those rows (header
    first, ``repeatRows=1``) and a `MatrixRows` for the rest. A row taller than a page gets a
    table of its own, which the Table splits inside the row (``splitInRow``), its header
    repeated."""

    def __init__(self, rows: Sequence[MatrixRow], cells: _Cells, widths: list[float],
                 page_height: float, start: int = 0, pending: tuple[list, float] | None = None,
                 after_tail: bool = False) -> None:
        super().__init__()
        self.rows, self.cells, self.widths = rows, cells, widths
        self.page_height, self.start, self.pending = page_height, start, pending
        self.after_tail = after_tail  # follows the tail of a split row, under its header
        self.width = sum(widths)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, availHeight + 1  # never fits whole: the frame calls split

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        header = self.cells.header()
        head_h = _row_height(header, self.widths)
        at_top = availHeight >= self.page_height - SLACK
        # Right under a split row's tail on the same page, the header is already there.
        headless = self.after_tail and not at_top
        room = availHeight - SLACK - (0 if headless else head_h)
        page: list[tuple[int, list, float]] = []
        i, used = self.start, 0.0
        pending = self.pending
        while i < len(self.rows):
            cells, h = pending or (None, 0.0)
            if cells is None:
                cells = self.cells.row(self.rows[i])
                h = _row_height(cells, self.widths)
            pending = None
            too_tall = h > self.page_height - SLACK - head_h  # will be split wherever it goes
            if used + h > room and (page or not (at_top or too_tall)):
                pending = (cells, h)  # for the next page
                break
            page.append((i, cells, h))
            used += h
            i += 1
        if not page:
            self.pending = pending
            return []
        fits = self.page_height - SLACK - head_h  # taller rows are measured again and split
        if headless and any(h >= fits for _, _, h in page):
            headless = False  # a row to split needs the header to repeat
        top = 0 if headless else 1
        commands = list(_BASE_COMMANDS[1:] if headless else _BASE_COMMANDS)  # [0]: header fill
        for j, (n, _, _) in enumerate(page, start=top):
            if self.rows[n].gap:
                commands.append(("BACKGROUND", (0, j), (-1, j), pdf_style.GAP_TINT))
            elif n % 2:
                commands.append(("BACKGROUND", (0, j), (-1, j), pdf_style.ZEBRA))
        table = Table([*([] if headless else [header]), *(c for _, c, _ in page)],
                      colWidths=self.widths,
                      rowHeights=[*([] if headless else [head_h]),
                                  *(h if h < fits else None for _, _, h in page)],
                      repeatRows=top, splitByRow=1, splitInRow=1, style=TableStyle(commands),
                      hAlign="LEFT")
        parts: list[Flowable] = [table]
        split_row = used > room
        if split_row:  # one row taller than the space: the Table splits inside the row
            table.wrap(availWidth, availHeight)
            parts = table.split(availWidth, availHeight)
            if not parts:  # not even a slice fits under the title block: next page
                self.pending = page[0][1], page[0][2]
                return []
        if i < len(self.rows):
            parts.append(MatrixRows(self.rows, self.cells, self.widths, self.page_height, i,
                                    pending, after_tail=split_row))
        return parts

    def draw(self) -> None:  # never drawn itself: always split into tables
        raise AssertionError("MatrixRows is split, not drawn")


def matrix_story(rows: Sequence[MatrixRow], meta: MatrixMeta, fonts: pdf_style.Fonts,
                 width: float, height: float) -> list[Flowable]:
    """The flowables of the matrix PDF for a frame `width` × `height` points: the title block,
    then the table (a `MatrixRows`, which lays itself out page by page)."""
    cells = _Cells(fonts)
    total = sum(w for _, w, _ in PRINT_COLUMNS)
    widths = [width * w / total for _, w, _ in PRINT_COLUMNS]
    title = _title_block(meta, summarise(rows), fonts, cells.st)
    if not rows:
        empty = Table([cells.header(), [Paragraph("No rows match the filters.", cells.st["cell"])]
                       + [""] * (len(PRINT_COLUMNS) - 1)], colWidths=widths, repeatRows=1,
                      style=TableStyle([*_BASE_COMMANDS, ("SPAN", (0, 1), (-1, 1))]),
                      hAlign="LEFT")
        return [*title, empty]
    return [*title, MatrixRows(rows, cells, widths, height)]


def write_matrix_pdf(rows: Sequence[MatrixRow], path: Path | str, meta: MatrixMeta) -> int:
    """Write the matrix as a PDF to `path` (atomically, like the CSV and XLSX writers);
    returns the number of data rows. See the module docstring for page, columns and fonts."""
    head = meta.audit_head[:HEAD_CHARS]
    style = pdf_style.DocStyle(
        title=meta.title, classification=meta.classification,
        provenance=f"{meta.workspace} · generated from audit head {head} "
                   f"(#{meta.audit_head_seq}) at {meta.generated_at}",
        generated_at=meta.generated_at, subject="Traceability matrix",
        pagesize=landscape(A3))
    texts: list[str] = [meta.title, meta.workspace, meta.classification, style.provenance,
                        *(f"{k}{v}" for k, v in meta.filters.items()), *PRINT_HEADERS]
    for row in rows:
        texts.extend(value(row) for _, _, value in PRINT_COLUMNS)
    fonts = pdf_style.pick_fonts(texts)
    width, height = pdf_style.frame_size(style)
    story = matrix_story(rows, meta, fonts, width, height)
    with atomic_target(path) as tmp:
        pdf_style.build_pdf(tmp, story, style, fonts)
    return len(rows)

