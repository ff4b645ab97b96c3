"""The building blocks of the audit dossier PDF (`app.exporters.dossier_pdf`): the text kit
(fonts, the type scale, escaped Paragraphs), `StreamTable` for long tables, and the body
sections from the controls onwards. The executive summary, cover and contents are in
`dossier_pdf`.

Type scale (one family — Helvetica, or DejaVu Sans Condensed when a character needs it — plus
Courier for hashes): 7 pt table cells, 8.5 pt notes and captions, 9.5 pt body text, 12 pt
sub-headings, 15 pt section headings, 24 pt the cover title.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table, TableStyle

from app.exporters import pdf_style

CELL_PAD = 2.5
RED = "#B00020"
GREEN = "#1E6B2E"
AMBER = "#8A5A00"
STATUS_COLOUR = {"implemented": GREEN, "partial": AMBER, "planned": AMBER,
                 "not-started": RED, "current": GREEN, "expiring": AMBER, "expired": RED,
                 "effective": GREEN, "ineffective": RED, "met": GREEN, "missed": RED,
                 "open": AMBER, "done": GREEN, "closed": GREEN}
RATING_COLOUR = {"P": GREEN, "S": "#5B7F00", "M": AMBER, "U": RED}
MAX_REFS = 60  # clause refs listed per regulation under a control before "and N more"


class Kit:
    """Fonts, styles and helpers every section uses."""

    def __init__(self, fonts: pdf_style.Fonts, width: float, land_width: float) -> None:
        self.fonts = fonts
        self.width = width
        self.land_width = land_width
        base = pdf_style.styles(fonts, size=7.0)
        ink, muted = pdf_style.INK, pdf_style.MUTED
        f, b = fonts.regular, fonts.bold
        self.st: dict[str, ParagraphStyle] = {
            **base,
            "h1": ParagraphStyle("h1", fontName=b, fontSize=15, leading=19, textColor=ink,
                                 spaceAfter=8),
            "h2": ParagraphStyle("h2", fontName=b, fontSize=12, leading=15, textColor=ink,
                                 spaceBefore=10, spaceAfter=5, keepWithNext=1),
            "h3": ParagraphStyle("h3", fontName=b, fontSize=9.5, leading=12, textColor=ink,
                                 spaceBefore=7, spaceAfter=3, keepWithNext=1),
            "body": ParagraphStyle("body", fontName=f, fontSize=9.5, leading=13,
                                   textColor=ink, spaceAfter=4),
            "note": ParagraphStyle("note", fontName=f, fontSize=8.5, leading=11,
                                   textColor=muted, spaceBefore=2, spaceAfter=3),
            "cell_muted": ParagraphStyle("cell_muted", parent=base["cell"], textColor=muted),
            "alert": ParagraphStyle("alert", fontName=b, fontSize=9.5, leading=13,
                                    textColor=colors.HexColor(RED), spaceAfter=4),
            "mono": ParagraphStyle("mono", fontName="Courier", fontSize=6.5, leading=8,
                                   textColor=ink, splitLongWords=True),
            "mono_body": ParagraphStyle("mono_body", fontName="Courier", fontSize=8,
                                        leading=10.5, textColor=ink, splitLongWords=True),
            "cell_r": ParagraphStyle("cell_r", parent=base["cell"], alignment=2),
            "cell_c": ParagraphStyle("cell_c", parent=base["cell"], alignment=1),
            "label": ParagraphStyle("label", fontName=b, fontSize=7, leading=8.4,
                                    textColor=muted),
            "label_l": ParagraphStyle("label_l", fontName=b, fontSize=8.5, leading=11,
                                      textColor=muted),
            "cell_l": ParagraphStyle("cell_l", fontName=f, fontSize=8.5, leading=11,
                                     textColor=ink, splitLongWords=True),
        }

    def m(self, text: Any) -> str:
        """Plain text as safe Paragraph markup."""
        return pdf_style.cell_markup("" if text is None else str(text), self.fonts)

    def p(self, text: Any, style: str = "cell") -> Paragraph:
        return Paragraph(self.m(text), self.st[style])

    def lazy(self, markup: str, style: str = "cell") -> Lazy:
        """Markup (made safe with `m`) for a table cell, made a Paragraph only when needed."""
        return Lazy(markup, self.st[style])

    def rich(self, markup: str, style: str = "cell") -> Paragraph:
        """Markup already made safe with `m`."""
        return Paragraph(markup, self.st[style])

    def status(self, word: str, style: str = "cell") -> Paragraph:
        colour = STATUS_COLOUR.get(word)
        text = self.m(word.replace("-", " ") if word else "-")
        return self.rich(f'<font color="{colour}">{text}</font>' if colour else text, style)

    def body(self, text: str) -> Paragraph:
        return self.p(text, "body")

    def note(self, text: str) -> Paragraph:
        return self.p(text, "note")

    def opening(self, number: str, title: str, intro: str) -> list:
        """A section's numbered heading (in the contents) and its introduction."""
        return [self.heading(f"{number}  {title}", 0), self.body(intro)]

    def heading(self, text: str, level: int = 1) -> Paragraph:
        """A heading that goes into the contents (level 0: section; 1: sub-section)."""
        para = Paragraph(self.m(text), self.st["h1" if level == 0 else "h2"])
        para.toc_level = level  # type: ignore[attr-defined]
        para.toc_text = text  # type: ignore[attr-defined]
        return para

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]],
              widths: Sequence[float], *, total: float | None = None,
              commands: Sequence[tuple] = (), zebra: bool = True,
              row_fill: Callable[[int], Any] | None = None,
              plain: Sequence[int] = (), spans: Sequence[bool] | None = None) -> Flowable:
        """A table whose header row repeats when it splits: text cells become wrapped
        Paragraphs, flowables are kept; `widths` are relative, scaled to `total` (default the
        portrait frame width). Columns in `plain` keep their str cells as plain strings (for
        short, validated values — ids, enum words, numbers — in very long tables: a Paragraph
        costs far more to build and lay out)."""
        scale = (total or self.width) / sum(widths)
        col = [w * scale for w in widths]
        head = [self.p(h, "header_cell") for h in header]
        keep = set(plain)
        cell = self.st["cell"]
        body = [[c if isinstance(c, Flowable | Lazy) or (j in keep and isinstance(c, str))
                 else Lazy(self.m(c), cell) for j, c in enumerate(r)] for r in rows]
        fills = []
        for i in range(len(body)):
            fill = row_fill(i) if row_fill else None
            fills.append(fill if fill is not None else
                         pdf_style.ZEBRA if zebra and i % 2 else None)
        font = [("FONT", (0, 1), (-1, -1), self.fonts.regular, 7, 8.4)] if keep else []
        return StreamTable(head, body, col, [*font, *commands], fills,
                           list(spans) if spans is not None else None)

    def kv(self, pairs: Sequence[tuple[str, Any]], *, widths: tuple[float, float] = (1, 4),
           total: float | None = None, large: bool = False) -> Table:
        """A two-column label/value table (no header); `large`: 8.5 pt instead of 7."""
        scale = (total or self.width) / sum(widths)
        label, value = ("label_l", "cell_l") if large else ("label", "cell")
        data = [[self.p(k, label), v if isinstance(v, Flowable) else self.p(v, value)]
                for k, v in pairs]
        return Table(data, colWidths=[w * scale for w in widths], hAlign="LEFT",
                     style=TableStyle([*GRID_STYLE, ("LINEBELOW", (0, 0), (-1, -1), 0.25,
                                                     pdf_style.GRID)]))


GRID_STYLE: list[tuple] = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


class Lazy:
    """A table cell's Paragraph, not yet made: a long table keeps only these (a Paragraph,
    parsed and laid out, costs a few KB; 30,000 rows of them, hundreds of MB)."""

    __slots__ = ("markup", "style")

    def __init__(self, markup: str, style: ParagraphStyle) -> None:
        self.markup, self.style = markup, style

    def make(self) -> Paragraph:
        return Paragraph(self.markup, self.style)


def _made(cells: list) -> list:
    return [c.make() if isinstance(c, Lazy) else c for c in cells]


class StreamTable(Flowable):
    """A long table laid out in linear time and memory, its header row repeated on every page.

    ReportLab's `Table.split` re-measures every remaining row at each page break, so a table
    of n rows costs O(n² / rows per page); the mapping tables of a large workspace have tens of
    thousands of rows. This flowable measures each row once (heights cached), and at a page
    break hands the frame an ordinary `Table` of the header plus the rows that fit, keeping the
    rest as another `StreamTable` over the same lists (an offset, no copy). A row taller than
    a whole page is given to a `Table` that splits inside the row."""

    def __init__(self, header: list, rows: list[list], widths: list[float],
                 commands: list[tuple], fills: list[Any], spans: list[bool] | None = None,
                 heights: list[float] | None = None, start: int = 0) -> None:
        super().__init__()
        self.header, self.rows, self.widths = header, rows, widths
        self.commands, self.fills = commands, fills
        self.spans = spans if spans is not None else [False] * len(rows)
        self._heights = heights if heights is not None else [-1.0] * len(rows)
        self._start = start  # the first row of this part, in the shared lists
        self._header_h: float | None = None
        self._fit = 0
        self.hAlign = "LEFT"

    def _row_height(self, cells: list) -> float:
        tallest = 0.0
        for cell, w in zip(_made(cells), self.widths, strict=False):
            if isinstance(cell, Flowable):
                tallest = max(tallest, cell.wrap(w - 2 * CELL_PAD, 1e6)[1])
                _forget_layout(cell)
            elif cell:  # a plain string: FONT leading 8.4 per line (see Kit.table)
                tallest = max(tallest, 8.4 * (str(cell).count("\n") + 1))
        return tallest + 3.5  # top 1.5 + bottom 2 padding

    def _height(self, k: int) -> float:
        if self._heights[k] < 0:
            self._heights[k] = self._row_height(self.rows[k])
        return self._heights[k]

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        if self._header_h is None:
            self._header_h = self._row_height(self.header)
        used = self._header_h
        self._fit = 0
        for k in range(self._start, len(self.rows)):
            h = self._height(k)
            if used + h > ah:
                return sum(self.widths), ah + 1  # does not fit: the frame will split us
            used += h
            self._fit += 1
        return sum(self.widths), used

    def _table(self, n: int, split_in_row: bool = False) -> Table:
        """The header and the next `n` rows as a Table."""
        a, b = self._start, self._start + n
        cmds = [("BACKGROUND", (0, 0), (-1, 0), pdf_style.HEADER_FILL),
                ("GRID", (0, 0), (-1, -1), 0.25, pdf_style.GRID), *GRID_STYLE,
                *self.commands]
        for i, fill in enumerate(self.fills[a:b], start=1):
            if fill is not None:
                cmds.append(("BACKGROUND", (0, i), (-1, i), fill))
        for i, span in enumerate(self.spans[a:b], start=1):
            if span:
                cmds.append(("SPAN", (0, i), (-1, i)))
        return _Chunk([_made(self.header), *map(_made, self.rows[a:b])],
                      colWidths=self.widths, repeatRows=1, style=TableStyle(cmds),
                      hAlign="LEFT", splitInRow=int(split_in_row))

    def split(self, aw: float, ah: float) -> list[Flowable]:
        self.wrap(aw, ah)
        n, left = self._fit, len(self.rows) - self._start
        if n == left:
            return [self._table(n)]
        if n == 0:
            if left and ah > 0.6 * A4[1]:  # a row taller than a page
                return [self._table(1, split_in_row=True), *self._rest(1)]
            return []
        return [self._table(n), *self._rest(n)]

    def _rest(self, n: int) -> list[Flowable]:
        if self._start + n >= len(self.rows):
            return []
        rest = StreamTable(self.header, self.rows, self.widths, self.commands, self.fills,
                           self.spans, self._heights, self._start + n)
        rest._header_h = self._header_h
        return [rest]

    def draw(self) -> None:  # only reached when every row fits
        table = self._table(len(self.rows) - self._start)
        table.wrapOn(self.canv, sum(self.widths), 1e6)
        table.drawOn(self.canv, 0, 0)


def _forget_layout(cell: Any) -> None:
    """Drop a Paragraph's line breaks (it lays itself out again when drawn): a wrapped
    Paragraph keeps its lines, and tens of thousands of them cost hundreds of MB."""
    if isinstance(cell, Paragraph):
        cell.__dict__.pop("blPara", None)


class _Chunk(Table):
    """One page's share of a `StreamTable`; forgets its cells' layout once drawn."""

    def draw(self) -> None:
        super().draw()
        for row in self._cellvalues:
            for cell in row:
                _forget_layout(cell)


# ------------------------------------------------------------------ small formatters


def level_cell(kit: Kit, score: dict | None) -> Paragraph:
    """A risk level as a coloured swatch and its name: "■ High (3×4)"."""
    if not score:
        return kit.p("not scored", "cell_muted")
    name = kit.m(score.get("level", ""))
    colour = score.get("colour") or "#888888"
    return kit.rich(f'<font color="{colour}">\u25a0</font> {name} '
                    f'<font color="#555555">({score.get("likelihood")}×'
                    f'{score.get("impact")})</font>')


def duration(seconds: float | None) -> str:
    """Seconds as "2 h 05 min" / "12 min"; "-" when not reached."""
    if seconds is None:
        return "not reached"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def refs_text(refs: Sequence[str], limit: int = MAX_REFS) -> str:
    shown = ", ".join(refs[:limit])
    if len(refs) > limit:
        shown += f" … and {len(refs) - limit:,} more (see the regulation mapping tables)"
    return shown


def provision_of(ref: str) -> str:
    """The top-level provision of a clause reference: "Art. 58(1)(a)" → "Art. 58",
    "§ 164.308(a)(1)" → "§ 164.308", "Annex VIII Section A(1)" → "Annex VIII Section A"."""
    head = ref.split("(", 1)[0].strip()
    return head or ref


def heat_grid(kit: Kit, likelihood: Sequence[str], impact: Sequence[str],
              cell: Callable[[int, int], tuple[str, str]], width: float) -> Table:
    """A likelihood × impact grid, the highest likelihood on top: `cell(l, i)` (1-based)
    gives (colour, text)."""
    n_i = len(impact)
    first = width * 0.24
    col = (width - first) / n_i
    white = ParagraphStyle("heat", parent=kit.st["cell_c"], textColor=colors.white,
                           fontName=kit.fonts.bold, fontSize=8.5, leading=10)
    data: list[list] = []
    cmds: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.6, colors.white),
                         ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                         ("LEFTPADDING", (0, 0), (-1, -1), 2),
                         ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
    for r, li in enumerate(range(len(likelihood), 0, -1)):
        row: list = [kit.p(likelihood[li - 1], "cell_r")]
        for ii in range(1, n_i + 1):
            colour, text = cell(li, ii)
            row.append(Paragraph(kit.m(text), white))
            cmds.append(("BACKGROUND", (ii, r), (ii, r), colors.HexColor(colour)))
        data.append(row)
    data.append([kit.p("Likelihood ↑ / Impact →", "label")]
                + [kit.p(name, "cell_c") for name in impact])
    heights = [18] * len(likelihood) + [None]
    return Table(data, colWidths=[first] + [col] * n_i, rowHeights=heights,
                 style=TableStyle(cmds), hAlign="LEFT")


# ------------------------------------------------------------------ sections


def controls_section(kit: Kit, d: Any, number: str) -> list:
    evidence = {e.id: e for e in d.evidence}
    out: list = kit.opening(number, "Controls",
        "The twelve controls of the framework, each with its objective and how it is met, "
        "the clauses mapped to it, the evidence and tests that support it, and the actions "
        "raised for it by exercises.")
    for n, c in enumerate(d.controls, start=1):
        if n > 1:
            out.append(CondPageBreak(110))
        out.append(kit.heading(f"{number}.{n}  {c.id}  {c.name}", 1))
        out.append(kit.kv([("Category", c.category), ("Owner", c.owner or "not assigned"),
                           ("Status", kit.status(c.status)),
                           ("Objective", c.objective or "-"),
                           ("How it is met", c.narrative or "not described")], widths=(1, 5)))
        out.append(Paragraph("Mapped clauses", kit.st["h3"]))
        if c.clauses:
            out.append(kit.table(["Regulation", "Clauses (document order)"],
                                 [[f"{code}\n{len(refs):,} clause(s)", refs_text(refs)]
                                  for code, refs in c.clauses.items()], [1, 5], zebra=False))
        else:
            out.append(kit.note("No clause is mapped to this control."))
        out.append(Paragraph("Evidence", kit.st["h3"]))
        if c.evidence:
            rows = []
            for eid in c.evidence:
                e = evidence.get(eid)
                if e is None:
                    rows.append([eid, "", "", "", ""])
                    continue
                rows.append([e.id, e.title, kit.status(e.status), e.valid_until or "-",
                             integrity_cell(kit, e.integrity)])
            out.append(kit.table(["Id", "Title", "Status", "Valid until", "Integrity"], rows,
                                 [1, 5, 1.4, 1.4, 2.2]))
        else:
            out.append(kit.note("No evidence is linked to this control."))
        out.append(Paragraph("Tests", kit.st["h3"]))
        if c.tests:
            out.append(kit.table(
                ["Id", "Procedure", "Population", "Result", "Date", "Tester", "Exceptions"],
                [[t.get("id", ""), t.get("procedure", ""), t.get("population") or "-",
                  kit.status(t.get("result") or ""), t.get("tested_on", ""),
                  t.get("tester", ""), t.get("exceptions") or "none"] for t in c.tests],
                [0.8, 1.2, 2.4, 1.2, 1.3, 1.6, 2.2]))
        else:
            out.append(kit.note("No test is recorded for this control."))
        out.append(Paragraph("Actions from exercises", kit.st["h3"]))
        if c.actions:
            out.append(kit.table(["Id", "Action", "Owner", "Due", "Status", "Exercise"],
                                 [[a.get("id", ""), a.get("action", ""), a.get("owner", ""),
                                   a.get("due") or "-", kit.status(a.get("status") or ""),
                                   a.get("exercise", "")] for a in c.actions],
                                 [0.8, 4.5, 1.8, 1.2, 1, 1]))
        else:
            out.append(kit.note("No exercise raised an action for this control."))
    return out


def integrity_cell(kit: Kit, integrity: str) -> Paragraph:
    if integrity == "ok":
        return kit.rich(f'<font color="{GREEN}">intact</font>')
    return kit.rich(f'<font color="{RED}"><b>INTEGRITY FAILURE ({kit.m(integrity)})</b>'
                    "</font>")


def mappings_section(kit: Kit, d: Any, number: str) -> list:
    """Per regulation version, every mapping, grouped by top-level provision."""
    out: list = kit.opening(number, "Regulation mappings",
        "For each regulation version in scope, every mapping of a clause to a control: the "
        "relationship (see Appendix A), whether the control covers the clause fully or "
        "partially, the strength (1–10) and where the mapping stands in review. Clauses "
        "without a mapping are the gaps, summarised in the traceability section.")
    by_reg: dict[tuple[str, str], list] = {}
    for r in d.matrix.rows:
        if r.control_id:
            by_reg.setdefault((r.regulation, r.version), []).append(r)
    titles = {(code, version): title for code, version, title in d.matrix.regulations}
    for n, (code, version, _) in enumerate(d.matrix.regulations, start=1):
        rows = by_reg.get((code, version), [])
        if n > 1:
            out.append(CondPageBreak(160))
        out.append(kit.heading(f"{number}.{n}  {code} ({version})", 1))
        clauses = len({r.clause_ref for r in rows})
        out.append(kit.note(f"{titles[(code, version)]}. {len(rows):,} mapping(s) over "
                            f"{clauses:,} clause(s)."))
        if not rows:
            out.append(kit.note("No clause of this regulation is mapped."))
            continue
        body, fills = [], []
        last = None
        for r in rows:
            prov = provision_of(r.clause_ref)
            if prov != last:
                body.append([kit.lazy(f"<b>{kit.m(prov)}</b>"), "", "", "", "", ""])
                fills.append(colors.HexColor("#E4E9F2"))
                last = prov
            body.append([r.clause_ref, r.control_id, r.relationship, r.coverage,
                         "" if r.strength is None else str(r.strength), r.review_status])
            fills.append(None)
        out.append(kit.table(
            ["Clause", "Control", "Relationship", "Coverage", "Strength", "Review"], body,
            [3.2, 1.1, 1.7, 1.2, 1, 1.2],
            row_fill=lambda i, f=fills: f[i], zebra=False, plain=range(1, 6),
            spans=[f is not None for f in fills]))
    return out


def evidence_section(kit: Kit, d: Any, number: str) -> list:
    out: list = kit.opening(number, "Evidence index",
        "Every piece of evidence in its latest version. The SHA-256 digest identifies the "
        "stored file; each file was re-hashed when this dossier was generated. A file that is "
        "missing, or whose content no longer matches its digest, is marked INTEGRITY FAILURE.")
    if d.integrity_failures:
        out.append(kit.p(f"INTEGRITY FAILURE: {len(d.integrity_failures)} evidence file(s) "
                         "missing or altered — " + "; ".join(d.integrity_failures), "alert"))
    if not d.evidence:
        out.append(kit.note("No evidence is recorded."))
        return out
    rows = []
    for e in d.evidence:
        links = ", ".join(e.controls + e.clauses) or "-"
        rows.append([kit.rich(f"<b>{kit.m(e.id)}</b><br/>v{e.version}"),
                     e.title, e.kind, kit.p(e.sha256, "mono"),
                     f"{e.collected_at}\n{e.collected_by}", e.valid_until or "-", links,
                     kit.rich(f'<font color="{STATUS_COLOUR.get(e.status, "#1A1A1A")}">'
                              f"{kit.m(e.status)}</font>" + (
                                  "" if e.integrity == "ok" else
                                  f'<br/><font color="{RED}"><b>INTEGRITY FAILURE '
                                  f"({kit.m(e.integrity)})</b></font>"))])
    out.append(kit.table(["Id", "Title", "Kind", "SHA-256", "Collected", "Valid until",
                          "Linked to", "Status"], rows,
                         [1, 3, 1.5, 3.3, 1.8, 1.5, 2.2, 2],
                         row_fill=lambda i: pdf_style.GAP_TINT
                         if d.evidence[i].integrity != "ok" else None))
    return out


def systems_section(kit: Kit, d: Any, number: str) -> list:
    out: list = kit.opening(number, "AI system inventory",
        "The AI systems in scope, their purpose, owner and lifecycle stage, and their EU AI "
        "Act risk tier with the reason for it.")
    if not d.systems:
        out.append(kit.note("No AI system is recorded."))
        return out
    rows = []
    for s in sorted(d.systems, key=lambda s: _num_id(s["id"])):
        tier = s.get("tier") or "-"
        if s.get("annex_iii"):
            tier += f"\nAnnex III {s.get('annex_iii_area') or ''}: {s['annex_iii']}"
        rows.append([kit.rich(f"<b>{kit.m(s['id'])}</b>"), kit.rich(
            f"<b>{kit.m(s.get('name'))}</b><br/>{kit.m(s.get('purpose') or '')}"),
            s.get("owner") or "-", s.get("operator_role") or "-",
            s.get("lifecycle") or "-", tier, s.get("tier_justification") or "-"])
    out.append(kit.table(["Id", "System and purpose", "Owner", "Role", "Lifecycle", "Tier",
                          "Why this tier"], rows, [0.8, 3.6, 1.8, 1.2, 1.3, 2.2, 3.4]))
    return out


def _num_id(label: str) -> tuple:
    head, _, tail = str(label).rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (label, 0)


def risks_section(kit: Kit, d: Any, number: str) -> list:
    out: list = kit.opening(number, "Risk register",
        "Every risk, highest level first, scored on its matrix at three stages: inherent "
        "(before controls), current (with the controls as they are) and residual (after the "
        "planned treatment). The heat maps count the risks in each cell.")
    if not d.risks:
        out.append(kit.note("No risk is recorded."))
    else:
        rows = [[kit.rich(f"<b>{kit.m(r['id'])}</b>"), r.get("title", ""),
                 r.get("system") or "-", (r.get("category") or "-").replace("-", " "),
                 r.get("owner") or "-", level_cell(kit, r.get("inherent")),
                 level_cell(kit, r.get("current")), level_cell(kit, r.get("residual")),
                 r.get("treatment") or "-"] for r in d.risks]
        out.append(kit.table(["Id", "Risk", "System", "Category", "Owner", "Inherent",
                              "Current", "Residual", "Treatment"], rows,
                             [0.8, 3, 1.7, 1.7, 1.6, 1.5, 1.5, 1.5, 1.1]))
    for stage in ("inherent", "residual"):
        hm = d.heatmaps.get(stage)
        if not hm:
            continue
        cells = {(c["likelihood"], c["impact"]): c for c in hm["cells"]}

        def cell(li: int, im: int, cells: dict = cells) -> tuple[str, str]:
            c = cells.get((li, im), {})
            count = c.get("count", 0)
            return c.get("colour") or "#888888", (str(count) if count else "")
        out.append(Paragraph(kit.m(f"{stage.capitalize()} risk heat map "
                                   f"({hm.get('matrix', '')})"), kit.st["h2"]))
        out.append(heat_grid(kit, hm["likelihood"], hm["impact"], cell, kit.width * 0.75))
        notes = [f"{hm.get('total', 0)} risk(s) placed"]
        if hm.get("unscored"):
            notes.append(f"{hm['unscored']} not scored at this stage")
        if hm.get("other_matrices"):
            notes.append(f"{hm['other_matrices']} on another matrix, not shown")
        out.append(Spacer(1, 3))
        out.append(kit.note("; ".join(notes) + "."))
    return out


def playbooks_section(kit: Kit, d: Any, number: str) -> list:
    out: list = kit.opening(number, "Incident playbooks",
        "The incident response playbooks available, each step with its NIST CSF 2.0 function, "
        "owner and target time, and the regulatory notification clocks that may start.")
    if not d.playbooks:
        out.append(kit.note("No playbook is recorded."))
    for n, pb in enumerate(d.playbooks, start=1):
        if n > 1:
            out.append(CondPageBreak(140))
        out.append(kit.heading(f"{number}.{n}  {pb.get('title', pb.get('id', ''))}", 1))
        sev = pb.get("severity") or "-"
        sev_colour = RED if sev == "critical" else AMBER if sev == "high" else "#1A1A1A"
        out.append(kit.kv([
            ("Playbook", pb.get("id", "")),
            ("Severity", kit.rich(f'<font color="{sev_colour}"><b>{kit.m(sev)}</b></font>')),
            ("Scenario", pb.get("scenario") or "-"),
            ("Clocks", ", ".join(pb.get("clocks") or []) or "none"),
            ("Exercised", f"{pb.get('exercises', 0)} time(s)"),
            ("Description", pb.get("description") or "-")], widths=(1, 5)))
        out.append(Spacer(1, 4))
        steps = pb.get("steps") or []
        out.append(kit.table(
            ["#", "Step", "CSF function", "Owner", "Target", "Controls"],
            [[str(i), kit.rich(f"<b>{kit.m(s.get('name'))}</b><br/>"
                               f"{kit.m(s.get('description') or '')}"),
              (s.get("function") or "-").upper(), s.get("owner") or "-",
              f"{s['minutes']} min" if s.get("minutes") else "-",
              ", ".join(s.get("controls") or []) or "-"]
             for i, s in enumerate(steps, start=1)],
            [0.4, 6.5, 1.2, 2, 0.9, 1.3]))
    return out


def exercises_section(kit: Kit, d: Any, number: str) -> list:
    out: list = kit.opening(number, "Exercises and after-action reports",
        "Each exercise that ran, with its after-action report: response times, notification "
        "clocks, objectives rated P (performed without challenges), S (some challenges), M "
        "(major challenges) or U (unable to be performed), and the improvement plan.")
    if not d.exercises:
        out.append(kit.note("No exercise has been run."))
    for n, rep in enumerate(d.exercises, start=1):
        ex, met = rep.get("exercise", {}), rep.get("metrics", {})
        if n > 1:
            out.append(CondPageBreak(300))
        out.append(kit.heading(f"{number}.{n}  {ex.get('id', '')}  {ex.get('title', '')}", 1))
        out.append(banner(kit, rep.get("banner") or "EXERCISE — EXERCISE — EXERCISE"))
        out.append(Spacer(1, 5))
        out.append(kit.kv([
            ("Playbook", f"{ex.get('playbook_title', '')} ({ex.get('playbook', '')})"),
            ("Status", f"{ex.get('status', '')}{'' if ex.get('final') else ' (draft report)'}"),
            ("Ran", f"{ex.get('started_at', '')[:16].replace('T', ' ')} – "
                    f"{(ex.get('closed_at') or '')[:16].replace('T', ' ') or 'open'} UTC; "
                    f"exercise clock {ex.get('clock', '')}"),
            ("Steps completed", f"{len(met.get('steps_completed') or [])} of "
                                f"{met.get('steps_total', 0)}")], widths=(1, 5)))
        out.append(Paragraph("Metrics", kit.st["h3"]))
        out.append(kit.table(["Time to detection", "First escalation", "First decision",
                              "Containment decision"],
                             [[duration(met.get("time_to_detection_s")),
                               duration(met.get("time_to_first_escalation_s")),
                               duration(met.get("time_to_first_decision_s")),
                               duration(met.get("time_to_containment_decision_s"))]],
                             [1, 1, 1, 1], zebra=False))
        clocks = met.get("clocks") or []
        if clocks:
            out.append(Spacer(1, 4))
            out.append(kit.table(["Clock", "Basis", "Due", "Notified", "Outcome"],
                                 [[c.get("id", ""), c.get("basis", ""), c.get("due", ""),
                                   c.get("notified") or "-",
                                   kit.status(c.get("outcome") or "")] for c in clocks],
                                 [1.4, 2, 1.4, 1.2, 1]))
        injects = met.get("injects") or []
        if injects:
            within = sum(1 for i in injects if i.get("outcome") == "within")
            late = sum(1 for i in injects if i.get("outcome") == "late")
            none = len(injects) - within - late
            out.append(kit.note(f"Injects: {len(injects)} — {within} answered within their "
                                f"window, {late} late, {none} without a response."))
        out.append(Paragraph("Objectives", kit.st["h3"]))
        out.append(kit.table(
            ["Id", "Objective", "Rating", "Strengths", "Areas for improvement"],
            [[o.get("id", ""), o.get("text", ""), kit.rich(
                f'<font color="{RATING_COLOUR.get(o.get("rating"), "#1A1A1A")}"><b>'
                f'{kit.m(o.get("rating") or "-")}</b></font> '
                f'{kit.m(o.get("rating_meaning") or "")}'),
              o.get("strengths") or "-", o.get("areas_for_improvement") or "-"]
             for o in rep.get("objectives") or []], [0.5, 3.6, 1.5, 2.5, 2.5]))
        out.append(Paragraph("Improvement plan", kit.st["h3"]))
        plan = rep.get("improvement_plan") or []
        if plan:
            out.append(kit.table(
                ["Id", "Action", "Objective", "Owner", "Due", "Status", "Linked to"],
                [[i.get("id", ""), i.get("action", ""), i.get("objective") or "-",
                  i.get("owner", ""), i.get("due") or "-",
                  kit.status(i.get("status") or ""),
                  ", ".join(x for x in (i.get("control"), i.get("risk")) if x) or "-"]
                 for i in plan], [0.6, 4, 0.9, 1.8, 1.2, 0.9, 1.1]))
        else:
            out.append(kit.note("No improvement item was raised."))
        out.append(Spacer(1, 6))
        out.append(banner(kit, rep.get("banner_end") or rep.get("banner")
                          or "EXERCISE — EXERCISE — EXERCISE"))
    return out


def banner(kit: Kit, text: str) -> Table:
    style = ParagraphStyle("banner", parent=kit.st["cell_c"], fontName=kit.fonts.bold,
                           fontSize=9.5, leading=12, textColor=colors.white)
    return Table([[Paragraph(kit.m(text), style)]], colWidths=[kit.width],
                 style=TableStyle([("BACKGROUND", (0, 0), (-1, -1),
                                    colors.HexColor("#8A1C1C")),
                                   ("TOPPADDING", (0, 0), (-1, -1), 3),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))


def audit_section(kit: Kit, d: Any, number: str) -> list:
    v = d.verify
    out: list = kit.opening(number, "Audit-trail statement",
        "Every change to this workspace is recorded as an event in a hash chain: each event's "
        "hash covers its content and the hash of the event before it, so altering, removing "
        "or reordering any event breaks every hash after it. This dossier was generated from "
        "the head of that chain, named below.")
    out.append(kit.kv([
        ("Events", f"{v.get('events', 0):,}"),
        ("Head event", f"#{d.audit_head_seq} at {d.generated_at}"),
        ("Head hash (SHA-256)", kit.p(d.audit_head, "mono_body")),
        ("Rows checked", f"{v.get('rows_checked', 0):,}"),
        ("Evidence files re-hashed", f"{v.get('files_checked', 0):,}"),
        ("Crosswalk version", d.crosswalk_version)], widths=(1.3, 4), large=True))
    out.append(Spacer(1, 6))
    if v.get("intact"):
        out.append(kit.rich(f'<font color="{GREEN}"><b>Verified intact at export time.</b>'
                            "</font> The chain of events, the workspace rows and the evidence "
                            "files all matched.", "body"))
    else:
        out.append(kit.p("VERIFICATION FAILED at export time. Problems found:", "alert"))
        out.append(kit.table(["#", "Problem"], [[str(i), p] for i, p in enumerate(
            v.get("problems") or ["(no detail)"], start=1)], [0.4, 10]))
    if d.integrity_failures:
        out.append(Spacer(1, 4))
        out.append(kit.p("INTEGRITY FAILURE in the evidence store: "
                         + "; ".join(d.integrity_failures), "alert"))
    out.append(Paragraph("How to re-check", kit.st["h2"]))
    out.append(kit.body("On a copy of the workspace (or the exported bundle), run the command "
                        "below. It recomputes every hash and confirms that the chain still "
                        "ends at the head printed here; any later change shows as extra "
                        "events after it, any tampering as a broken chain."))
    out.append(kit.p(f"crosswalk verify --expect-head {d.audit_head}", "mono_body"))
    return out


def method_section(kit: Kit, d: Any, number: str) -> list:
    out: list = [kit.heading(f"{number}  Appendix — Method", 0)]
    out.append(Paragraph("Mapping relationships", kit.st["h2"]))
    out.append(kit.body("Each mapping says how a control relates to a clause, in the set-theory "
                        "terms of NIST's Online Informative References (OLIR):"))
    out.append(kit.table(["Relationship", "Meaning"],
                         [[kit.rich(f"<b>{kit.m(name)}</b>"), text]
                          for name, text in d.method.get("relationships", [])], [1.3, 5]))
    out.append(Paragraph("Coverage and gaps", kit.st["h2"]))
    for text in (
        "An obligation is a clause that can be assessed on its own and has no assessable clause "
        "inside it: the smallest unit a control can meet. Headings, recitals and definitions "
        "are not obligations.",
        "An obligation is covered fully when a mapping that reaches it — on the clause itself "
        "or on a clause that contains it — says the control covers it in full; partially when "
        "the mappings that reach it cover it only in part. Mappings reviewed as "
        "no-relationship do not count.",
        "A gap is an obligation that no mapping reaches. Coverage percentages are of the "
        "obligations of each regulation version.",
        "Clauses declared not applicable are left out of coverage and gaps; each such "
        "decision carries a justification, listed below."):
        out.append(kit.body(text))
    out.append(Paragraph("Clauses declared not applicable", kit.st["h3"]))
    na = [x for x in d.not_applicable if not x.get("applicable", False)]
    if na:
        out.append(kit.table(["Clause", "Justification", "Decided"],
                             [[x.get("full_ref", ""), x.get("justification") or "-",
                               f"{(x.get('decided_at') or '')[:10]}\n{x.get('decided_by') or ''}"]
                              for x in na], [1.6, 5, 1.4]))
    else:
        out.append(kit.note("None: every clause in scope counts towards coverage."))
    matrices = d.method.get("matrices") or []
    if matrices:
        out.append(Paragraph("Risk matrices used", kit.st["h2"]))
    for m in matrices:
        out.append(Paragraph(kit.m(f"{m.get('name', '')} ({m.get('code', '')}, version "
                                   f"{m.get('version', '')})"), kit.st["h3"]))
        if m.get("description"):
            out.append(kit.note(m["description"]))
        colours = {lv["name"]: lv.get("colour") or "#888888" for lv in m.get("levels", [])}
        grid = m.get("grid") or []

        def cell(li: int, im: int, grid: list = grid, colours: dict = colours
                 ) -> tuple[str, str]:
            name = grid[li - 1][im - 1] if li - 1 < len(grid) and im - 1 < len(grid[0]) else ""
            return colours.get(name, "#888888"), name
        out.append(heat_grid(kit, [x["name"] for x in m.get("likelihood", [])],
                             [x["name"] for x in m.get("impact", [])], cell, kit.width * 0.8))
        out.append(Spacer(1, 5))
        out.append(kit.table(["Level", "Meaning"], [[kit.rich(
            f'<font color="{lv.get("colour") or "#888888"}">\u25a0</font> '
            f'<b>{kit.m(lv["name"])}</b>'), lv.get("description") or "-"]
            for lv in m.get("levels", [])], [1.3, 5]))
        out.append(Spacer(1, 4))
        out.append(kit.table(["Likelihood", "Meaning", "Impact", "Meaning"], [
            [li.get("name", ""), li.get("description", ""), im.get("name", ""),
             im.get("description", "")] for li, im in zip(
                m.get("likelihood", []), m.get("impact", []), strict=False)],
            [1.2, 3, 1.2, 3]))
    return out
