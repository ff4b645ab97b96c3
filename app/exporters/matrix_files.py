"""The traceability matrix as files an auditor opens: CSV and XLSX (the PDF is in
`app.exporters.matrix_pdf`).

Input is what `app.domain.traceability` builds: `MatrixRow`s in the order they are to appear
(kept as given — every format is stably ordered) and a `MatrixMeta` saying what the matrix is
(title, workspace, when, from which audit head, which filters, how classified). Every writer
writes to a temporary file beside the target and renames it over the target only when the
whole file is written (`atomic_target`); on any error the temporary file is removed and the
error propagates (an `OSError` for a missing or read-only folder — the folder is never
created).

- `write_csv`: the full column set, one header row, one line per row. See its docstring for
  what we do against formula injection.
- `write_xlsx`: a *Summary* sheet (what, when, from which audit head, filters, counts), then
  one sheet per regulation (the whole matrix in one table is the CSV). Written with XlsxWriter in
  ``constant_memory`` mode (each sheet is written strictly row by row, so a row is flushed to
  disk as soon as the next starts and memory stays flat at 30,000 rows): every feature we use —
  formats, frozen panes, autofilter, column widths, row heights — is compatible with it. The
  one cost is that strings are stored inline rather than in the shared-string table, which
  Excel, LibreOffice and openpyxl all read.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.traceability import COLUMNS, HEADERS, KEYS, SEP, MatrixRow
from app.exporters.files import atomic_target


@dataclass(frozen=True, slots=True)
class MatrixMeta:
    """What a matrix file is, printed in the XLSX Summary sheet and the PDF header/footer."""

    title: str
    generated_at: str  # ISO 8601 UTC, e.g. "2026-11-26T10:15:00Z" (the audit head's time)
    audit_head: str  # hex hash of the latest audit event the matrix was built from
    audit_head_seq: int
    workspace: str
    filters: dict[str, str] = field(default_factory=dict)  # regulation, control, status, as_of
    classification: str = "CONFIDENTIAL"

    def filter_lines(self) -> list[tuple[str, str]]:
        """The filters that were applied, as (name, value), in a stable order."""
        order = ("regulation", "control", "status", "as_of")
        keys = [k for k in order if k in self.filters]
        keys += sorted(k for k in self.filters if k not in order)
        return [(k.replace("_", " "), str(self.filters[k])) for k in keys
                if self.filters[k] not in (None, "")]


# ------------------------------------------------------------------ CSV

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, as
# whitespace before one). The full-width forms are included because some Excel input modes
# turn them into their ASCII equivalents.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(cell: str) -> str:
    """`cell`, prefixed with a single quote when a spreadsheet would run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def write_csv(rows: Sequence[MatrixRow], path: Path | str, meta: MatrixMeta | None = None,
              *, excel: bool = False) -> int:
    """Write the matrix as CSV to `path`; returns the number of data rows.

    UTF-8, a header row with the headers of `COLUMNS`, then one line per `MatrixRow` in the
    order given; list cells are joined with ``"; "``. Fields are quoted only when needed
    (comma, quote, newline); newlines inside a cell are kept.

    Formula (CSV) injection: a cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return (or the full-width ``＝ ＋ － ＠``) would be evaluated by Excel,
    LibreOffice or Google Sheets when the file is opened — ``=HYPERLINK(…)`` or a DDE call in a
    clause title or rationale could exfiltrate data or run a command. Such a cell is written
    with a single quote in front (``'=HYPERLINK(…)``), which spreadsheets show as text; a
    program reading the CSV sees the quote and can strip it. This applies to the header and
    every cell. (No number in the matrix is negative, so nothing numeric is altered.)

    ``excel=True`` writes the file for Excel: a UTF-8 byte-order mark first (without it Excel
    reads the file in the local ANSI code page and garbles "§" or "—") and CRLF line ends.
    Otherwise no BOM and LF line ends. `meta` is accepted for a uniform signature; a CSV has no
    place for it (the XLSX Summary sheet and the PDF header carry it).
    """
    encoding = "utf-8-sig" if excel else "utf-8"
    with atomic_target(path) as tmp, tmp.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n" if excel else "\n")
        writer.writerow([neutralise(h) for h in HEADERS])
        for row in rows:
            writer.writerow([neutralise(c) for c in row.cells()])
    return len(rows)


# ------------------------------------------------------------------ XLSX

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_RESERVED_SHEETS = {"summary", "matrix", "history"}  # ours, plus one Excel reserves

# Excel's own "good / neutral / bad" palette, so the colours read as they do elsewhere.
GREEN, AMBER, RED, GREY, BLUE = "#C6EFCE", "#FFEB9C", "#FFC7CE", "#E7E6E6", "#DDEBF7"
GAP_TINT = "#FBE0E0"
HEADER_FILL = "#1F3864"
STATUS_FILL: dict[str, dict[str, str]] = {
    "evidence_status": {"current": GREEN, "expiring": AMBER, "expired": RED},
    "control_status": {"implemented": GREEN, "partial": AMBER, "planned": BLUE,
                       "not-started": RED, "not-applicable": GREY},
    "review_status": {"approved": GREEN, "reviewed": BLUE, "draft": AMBER},
    "test_result": {"pass": GREEN, "passed": GREEN, "fail": RED, "failed": RED,
                    "partial": AMBER, "inconclusive": AMBER},
    "gap": {"yes": RED},
}
# For a list cell ("current; expired") the worst colour wins, as in the evidence rollup.
_SEVERITY = {RED: 3, AMBER: 2, BLUE: 1, GREEN: 0, GREY: 0}

WRAP_MIN_WIDTH = 20  # columns at least this wide wrap their text
LINE_HEIGHT = 15.0  # points per wrapped line at the default 11-point font
MAX_LINES = 6  # a row is never taller than this many lines; the cell keeps the full text
XLSX_MAX_CELL = 32_767  # Excel's limit on characters in a cell


def safe_sheet_name(name: str, taken: set[str]) -> str:
    """A legal, unique worksheet name for `name`: characters Excel forbids (``[]:*?/\\``)
    become ``_``, no leading/trailing apostrophe, at most 31 characters, and not equal
    (case-insensitively, as Excel compares) to one in `taken`, which it is added to."""
    base = _SHEET_BAD.sub("_", " ".join(name.split())).strip("'").strip() or "Regulation"
    base = base[:31]
    candidate, n = base, 1
    while candidate.lower() in taken or candidate.lower() in _RESERVED_SHEETS:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)].rstrip() + suffix
    taken.add(candidate.lower())
    return candidate


def _colour(key: str, text: str) -> str | None:
    palette = STATUS_FILL.get(key)
    if not palette or not text:
        return None
    found = [palette.get(p.strip().lower().replace(" ", "-")) for p in text.split(SEP)]
    found = [c for c in found if c]
    return max(found, key=_SEVERITY.__getitem__) if found else None


class _Formats:
    """XlsxWriter formats, made once per distinct look (XlsxWriter needs format objects, and
    each one created is a style record in the file)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.cache: dict[tuple[bool, str | None, bool], Any] = {}
        self.header = wb.add_format({"bold": True, "font_color": "#FFFFFF",
                                     "bg_color": HEADER_FILL, "text_wrap": True,
                                     "valign": "top", "border": 1, "border_color": "#8EA9DB"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.label = wb.add_format({"bold": True, "valign": "top"})
        self.section = wb.add_format({"bold": True, "font_size": 12, "bottom": 1})
        self.text = wb.add_format({"valign": "top", "text_wrap": True})

    def cell(self, wrap: bool, fill: str | None, bold: bool = False) -> Any:
        key = (wrap, fill, bold)
        fmt = self.cache.get(key)
        if fmt is None:
            props: dict[str, Any] = {"valign": "top"}
            if wrap:
                props["text_wrap"] = True
            if fill:
                props["bg_color"] = fill
            if bold:
                props["bold"] = True
            fmt = self.cache[key] = self.wb.add_format(props)
        return fmt


def _lines(text: str, width: int) -> int:
    """Roughly how many lines `text` takes wrapped at `width` characters."""
    return sum(max(1, math.ceil(len(part) / width)) for part in text.split("\n"))


def _data_sheet(wb: Any, fmts: _Formats, name: str, rows: Sequence[MatrixRow],
                cells_of: Sequence[list[str]]) -> None:
    ws = wb.add_worksheet(name)
    wrap_cols = [w >= WRAP_MIN_WIDTH for _, _, w in COLUMNS]
    for c, (_, _, width) in enumerate(COLUMNS):  # wrap columns wrap new cells too
        ws.set_column(c, c, width, fmts.cell(True, None) if wrap_cols[c] else None)
    ws.set_row(0, 30)
    for c, header in enumerate(HEADERS):
        ws.write_string(0, c, header, fmts.header)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    strength_col = KEYS.index("strength")
    widths = [w for _, _, w in COLUMNS]
    wrapped = [c for c, wrap in enumerate(wrap_cols) if wrap]
    plain = [fmts.cell(wrap, None) for wrap in wrap_cols]
    tinted = [fmts.cell(wrap, GAP_TINT) for wrap in wrap_cols]
    status_cols = [(c, k) for c, k in enumerate(KEYS) if k in STATUS_FILL]
    row_tint = fmts.cell(False, GAP_TINT)
    write_string = ws.write_string
    for r, (row, cells) in enumerate(zip(rows, cells_of, strict=True), start=1):
        row_fmts = tinted if row.gap else plain
        for c, key in status_cols:
            colour = _colour(key, cells[c])
            if colour:
                if row_fmts is plain or row_fmts is tinted:
                    row_fmts = list(row_fmts)
                row_fmts[c] = fmts.cell(wrap_cols[c], colour)
        lines = 1
        for c in wrapped:  # row height and format go before the row's cells (constant_memory)
            text = cells[c]
            if len(text) > widths[c] or "\n" in text:
                lines = max(lines, _lines(text, widths[c]))
        height = LINE_HEIGHT * min(lines, MAX_LINES) if lines > 1 else None
        if row.gap:  # a row format tints the empty cells too, without writing blank cells
            ws.set_row(r, height, row_tint)
        elif height:
            ws.set_row(r, height)
        for c, text in enumerate(cells):
            if text and c != strength_col:
                write_string(r, c, text[:XLSX_MAX_CELL], row_fmts[c])
        if row.strength is not None:
            ws.write_number(r, strength_col, row.strength, row_fmts[strength_col])


@dataclass(slots=True)
class _Counts:
    rows: int = 0
    mappings: int = 0
    gap_rows: int = 0
    gap_clauses: set[tuple[str, str, str]] = field(default_factory=set)
    versions: list[str] = field(default_factory=list)
    by_review: Counter[str] = field(default_factory=Counter)


def summarise(rows: Iterable[MatrixRow]) -> dict[str, Any]:
    """The counts of the Summary sheet (also handy for a CLI one-liner).

    rows: every row; mappings: rows with a control; gaps: distinct uncovered clauses
    (regulation, version, clause); gap_rows: rows flagged as gaps; per regulation (in order of
    first appearance): rows, mappings, gaps and mappings by review status; per control (sorted
    by id): name, owner, status, mappings and the regulations it maps to; evidence by status:
    distinct evidence items and references to them from rows."""
    total = _Counts()
    per_reg: dict[str, _Counts] = {}
    controls: dict[str, dict[str, Any]] = {}
    ev_status: dict[str, str] = {}
    ev_refs: Counter[str] = Counter()
    for row in rows:
        reg = per_reg.setdefault(row.regulation, _Counts())
        if row.version not in reg.versions:
            reg.versions.append(row.version)
        for counts in (total, reg):
            counts.rows += 1
            if row.control_id:
                counts.mappings += 1
                counts.by_review[row.review_status or "(none)"] += 1
            if row.gap:
                counts.gap_rows += 1
                counts.gap_clauses.add((row.regulation, row.version, row.clause_ref))
        if row.control_id:
            ctl = controls.setdefault(row.control_id, {
                "name": row.control_name, "owner": row.control_owner,
                "status": row.control_status, "mappings": 0, "regulations": []})
            ctl["mappings"] += 1
            if row.regulation not in ctl["regulations"]:
                ctl["regulations"].append(row.regulation)
        for ev in row.evidence:
            ev_status[ev.id] = ev.status
            ev_refs[ev.status] += 1
    return {
        "rows": total.rows, "mappings": total.mappings, "gaps": len(total.gap_clauses),
        "gap_rows": total.gap_rows, "by_review": dict(total.by_review),
        "regulations": {k: {"versions": v.versions, "rows": v.rows, "mappings": v.mappings,
                            "gaps": len(v.gap_clauses), "gap_rows": v.gap_rows,
                            "by_review": dict(v.by_review)} for k, v in per_reg.items()},
        "controls": dict(sorted(controls.items(), key=lambda kv: _natural(kv[0]))),
        "evidence": {s: {"items": sum(1 for v in ev_status.values() if v == s),
                         "references": n} for s, n in sorted(ev_refs.items())},
    }


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def _summary_sheet(wb: Any, fmts: _Formats, meta: MatrixMeta, stats: dict[str, Any],
                   sheet_of: dict[str, str]) -> None:
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 8, 13)
    r = 0

    def line(label: str, value: str | int, fmt: Any = None) -> None:
        nonlocal r
        ws.write_string(r, 0, label, fmts.label)
        if isinstance(value, int):
            ws.write_number(r, 1, value, fmt)
        elif value:
            ws.write_string(r, 1, value, fmt or fmts.text)
        r += 1

    def table(header: list[str], body: list[list[str | int]]) -> None:
        nonlocal r
        for c, h in enumerate(header):
            ws.write_string(r, c, h, fmts.header)
        r += 1
        for values in body:
            for c, v in enumerate(values):
                if isinstance(v, int):
                    ws.write_number(r, c, v)
                elif v:
                    ws.write_string(r, c, v)
            r += 1
        r += 1

    def section(text: str) -> None:
        nonlocal r
        ws.write_string(r, 0, text, fmts.section)
        r += 1

    ws.write_string(r, 0, meta.title, fmts.title)
    r += 2
    line("Classification", meta.classification, fmts.cell(False, None, bold=True))
    line("Workspace", meta.workspace)
    line("Generated at (UTC)", meta.generated_at)
    line("Audit head", meta.audit_head)
    line("Audit head sequence", meta.audit_head_seq)
    filters = meta.filter_lines()
    if filters:
        for name, value in filters:
            line(f"Filter: {name}", value)
    else:
        line("Filters", "none (every regulation, control and status)")
    r += 1

    section("Counts")
    line("Rows", stats["rows"])
    line("Mappings", stats["mappings"])
    line("Gaps (uncovered clauses)", stats["gaps"])
    line("Rows with a gap", stats["gap_rows"])
    r += 1

    reviews = sorted({s for reg in stats["regulations"].values() for s in reg["by_review"]},
                     key=lambda s: (s not in _REVIEW_ORDER, _REVIEW_ORDER.get(s, 0), s))
    section("Per regulation")
    table(["Regulation", "Version", "Sheet", "Rows", "Mappings", "Gaps",
           *[f"Mappings {s}" for s in reviews]],
          [[code, ", ".join(reg["versions"]), sheet_of[code], reg["rows"], reg["mappings"],
            reg["gaps"], *[reg["by_review"].get(s, 0) for s in reviews]]
           for code, reg in stats["regulations"].items()])

    section("Per control")
    table(["Control", "Name", "Status", "Mappings", "Owner", "Regulations"],
          [[cid, c["name"], c["status"], c["mappings"], c["owner"], ", ".join(c["regulations"])]
           for cid, c in stats["controls"].items()])

    section("Evidence by status")
    table(["Status", "Evidence items", "References in rows"],
          [[s, e["items"], e["references"]] for s, e in stats["evidence"].items()]
          or [["(no evidence linked)", 0, 0]])


_REVIEW_ORDER = {"draft": 0, "reviewed": 1, "approved": 2}


def _when(iso: str) -> datetime:
    """`iso` as a naive UTC datetime (what XlsxWriter stores as the creation date)."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def write_xlsx(rows: Sequence[MatrixRow], path: Path | str, meta: MatrixMeta) -> int:
    """Write the matrix as an XLSX workbook to `path`; returns the number of data rows.

    Sheets, in order: *Summary* (title, classification, workspace, generated at, audit head and
    its sequence number, filters; counts of rows, mappings, gaps and gap rows; a table per
    regulation with mappings by review status; a table per control; evidence by status — see
    `summarise`), then one sheet per regulation in order of first appearance, named by
    `safe_sheet_name`. There is no sheet of every row: each row would be written twice, which
    doubles the time of a 30,000-row workbook; the CSV holds the whole matrix in one table.

    Every data sheet has a bold, filled header row that stays frozen, an autofilter over header
    and data, the column widths of `COLUMNS`, wrapped text in columns at least
    `WRAP_MIN_WIDTH` wide with a row height of at most `MAX_LINES` lines (the cell keeps its
    full text; Excel shows the rest on selection), a red-ish tint on gap rows and status
    colours (evidence current green / expiring amber / expired red — the worst wins in a
    list cell —, control status, review status, test result). Text is always written with
    ``write_string`` (a ``=…`` in a rationale stays text, never a formula) and strength as a
    number. Cells longer than Excel's 32,767-character limit are cut to it.
    """
    import xlsxwriter

    stats = summarise(rows)
    cells = [row.cells() for row in rows]
    by_reg: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_reg[row.regulation].append(i)
    taken = {"summary"}
    sheet_of = {code: safe_sheet_name(code, taken) for code in by_reg}
    with atomic_target(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False})
        try:
            wb.set_properties({"created": _when(meta.generated_at), "title": meta.title,
                               "subject": "Traceability matrix", "author": "Crosswalk",
                               "company": meta.workspace,
                               "category": meta.classification,
                               "comments": f"Generated from audit head {meta.audit_head} "
                                           f"(#{meta.audit_head_seq}) at {meta.generated_at}"})
            fmts = _Formats(wb)
            _summary_sheet(wb, fmts, meta, stats, sheet_of)
            if not rows:  # an empty matrix still shows its columns
                _data_sheet(wb, fmts, "Matrix", [], [])
            for code, idx in by_reg.items():
                _data_sheet(wb, fmts, sheet_of[code], [rows[i] for i in idx],
                            [cells[i] for i in idx])
        finally:
            wb.close()
    return len(rows)
