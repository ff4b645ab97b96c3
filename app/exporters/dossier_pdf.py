"""The audit dossier as a PDF: one document an organisation hands its auditor.

`write_dossier_pdf(dossier, path)` lays out a `app.services.dossier_data.Dossier` (gathered
once, from one workspace state) and returns the page count. Order: cover (organisation,
scope, period, version, classification, the audit head it was generated from, sign-off
block), contents, then numbered sections each on a new page — 1 executive summary, 2 controls,
3 regulation mappings, 4 traceability matrix, 5 evidence index, 6 AI system inventory, 7 risk
register with heat maps, 8 incident playbooks, 9 exercises with their after-action reports,
10 audit-trail statement, 11 appendix (method). The cover and the contents are front matter
and are not numbered; every numbered heading (and the sub-sections of controls, regulations,
playbooks and exercises) is in the contents with its page number and in the PDF outline.

Page: A4 portrait, with the running header (title · organisation, classification) and footer
(provenance, classification, "Page n of m") of `app.exporters.pdf_style`. The traceability
matrix section alone switches to A4 landscape (a second page template, `NextPageTemplate`),
with a condensed selection of `app.exporters.matrix_pdf.PRINT_COLUMNS` (11 of 17, using its
value functions and evidence colouring). Why not `matrix_story` as it is: its 17 columns are
sized for A3 landscape; in A4 landscape's 273 mm they break words mid-header ("Regulat-ion")
and run rows five lines tall (tried and looked at). Why not A3 pages: one paper size prints
cleanly. Dropped here: regulation (a row above its clauses instead), control owner and status
(in the controls section), applicability (noted under the clause when not "applicable") and gap
(always "no" for a mapping); the control id and name share a cell.

Size: the matrix section lists the rows that map a clause to a control in full up to
`MATRIX_ROWS_IN_FULL` rows; beyond that (a 30,000-row workspace would be ~1,500 landscape
pages) it prints one summary line per provision, and says that every row, all 29 columns, is
in the bundle's CSV and XLSX. Gaps are always summarised per provision. Section 3 lists every
mapping in full (six short columns). Long tables are laid out by
`dossier_sections.StreamTable` in linear time, their cells made into Paragraphs only a page at
a time (30,000 mapping rows: about 20 s and 350 MB peak, gather included).

Typography: one family (Helvetica, or DejaVu Sans Condensed when a character needs it; see
`pdf_style.pick_fonts`), Courier for hashes, sizes from a small scale (see
`dossier_sections`). Every table cell holding free text is a wrapped, escaped Paragraph, and
header rows repeat when a table splits.

Reproducible: the same Dossier gives byte-identical files — ReportLab's invariant mode, the
creation and modification dates from `Dossier.generated_at` (the audit head's time), fixed
metadata, outline keys numbered in story order, every list in the dossier's stable order.
The file is written atomically (a temporary file beside the target, then renamed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from app.exporters import dossier_sections as ds
from app.exporters import pdf_style
from app.exporters.files import atomic_target
from app.exporters.matrix_pdf import PRINT_COLUMNS, _styled

TITLE = "AI governance audit dossier"
HEAD_CHARS = 16
MATRIX_ROWS_IN_FULL = 2000
TOP_RISKS = 5
WORST_PROVISIONS = 10
FULL, PARTIAL, NONE = "#2E7D32", "#E0A526", "#C9CED6"


# ------------------------------------------------------------------ document


class DossierDoc(BaseDocTemplate):
    """Portrait and landscape page templates; headings feed the contents and the outline."""

    def afterFlowable(self, flowable: Any) -> None:
        level = getattr(flowable, "toc_level", None)
        if level is None:
            return
        key = flowable.toc_key
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(flowable.toc_text, key, level=level, closed=level > 0)
        self.notify("TOCEntry", (level, flowable.toc_markup, self.page, key))


def _canvas_class(style: pdf_style.DocStyle, fonts: pdf_style.Fonts) -> type:
    """pdf_style's running header/footer canvas, drawn at each page's own size (landscape
    pages of the matrix section get a landscape header and footer)."""
    portrait = pdf_style._canvas_class(style, fonts)
    wide = pdf_style._canvas_class(dataclasses.replace(style, pagesize=landscape(A4)), fonts)

    class DossierCanvas(portrait):  # type: ignore[misc, valid-type]
        def _decorate(self, total: int) -> None:
            width, height = self._pagesize
            if width > height:
                wide._decorate(self, total)
            else:
                super()._decorate(total)

    return DossierCanvas


def _templates(style: pdf_style.DocStyle) -> list[PageTemplate]:
    out = []
    for name, size in (("portrait", A4), ("landscape", landscape(A4))):
        fw, fh = pdf_style.frame_size(dataclasses.replace(style, pagesize=size))
        frame = Frame(style.margin, style.margin + style.footer_height, fw, fh, id=name,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        out.append(PageTemplate(name, [frame], pagesize=size))
    return out


# ------------------------------------------------------------------ texts (for the fonts)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))


def dossier_texts(d: Any) -> Iterator[str]:
    """Every text the dossier can print (for `pick_fonts`)."""
    for f in dataclasses.fields(d):
        if f.name == "matrix":
            for code, version, title in d.matrix.regulations:
                yield from (code, version, title)
            for r in d.matrix.rows:
                yield from (r.regulation, r.clause_ref, r.clause_title, r.control_name,
                            r.control_owner, r.rationale, r.applicability_justification,
                            r.tester)
        elif f.name != "blob_state":
            yield from _strings(getattr(d, f.name))


# ------------------------------------------------------------------ front matter


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ") + " UTC" if iso else "-"


def cover(kit: ds.Kit, d: Any) -> list:
    o = d.options
    big = ParagraphStyle("cover", fontName=kit.fonts.bold, fontSize=24, leading=29,
                         textColor=pdf_style.HEADER_FILL, spaceAfter=6)
    org = ParagraphStyle("org", fontName=kit.fonts.bold, fontSize=15, leading=19,
                         textColor=pdf_style.MUTED, spaceAfter=4)
    cls = ParagraphStyle("cls", fontName=kit.fonts.bold, fontSize=15, leading=19,
                         alignment=1, textColor=colors.HexColor("#9C0006"))
    period = " to ".join(p for p in (o.period_from, o.period_to) if p) or "not stated"
    out: list = [Spacer(1, 30 * mm), Paragraph(kit.m(o.organisation or d.workspace), org),
                 Paragraph(kit.m(TITLE), big),
                 Table([[Paragraph(kit.m(o.classification), cls)]], colWidths=[kit.width],
                       style=TableStyle([("BOX", (0, 0), (-1, -1), 1.4,
                                          colors.HexColor("#9C0006")),
                                         ("TOPPADDING", (0, 0), (-1, -1), 6),
                                         ("BOTTOMPADDING", (0, 0), (-1, -1), 8)])),
                 Spacer(1, 10 * mm)]
    out.append(kit.kv([
        ("Organisation", o.organisation or "-"),
        ("Scope", o.scope or "Every regulation, control, AI system, risk, playbook and "
                             "exercise recorded in the workspace"),
        ("Period", period),
        ("Version", o.version or "-"),
        ("Classification", kit.rich(f"<b>{kit.m(o.classification)}</b>", "cell_l")),
        ("Workspace", d.workspace),
        ("Regulations", ", ".join(f"{c} ({v})" for c, v, _ in d.matrix.regulations) or "-"),
        ("Generated from", f"audit head #{d.audit_head_seq} "
                           f"{d.audit_head[:HEAD_CHARS]} at {_when(d.generated_at)}, "
                           f"Crosswalk {d.crosswalk_version}"),
        ("Statuses on", f"{d.matrix.statuses_on} (evidence freshness, overdue items)")],
        widths=(1, 4), large=True))
    out.append(Spacer(1, 14 * mm))
    out.append(Paragraph("Sign-off", kit.st["h2"]))
    rows: list[list] = [[kit.p(h, "label") for h in ("Role", "Name", "", "Signature", "",
                                                      "Date")]]
    for role, name in (("Prepared by", o.preparer), ("Reviewed by", o.reviewer),
                       ("Approved by", o.approver)):
        rows.append([kit.p(role, "body"), kit.p(name or "", "body"), "", "", "", ""])
    lines = [("LINEBELOW", (c, 1), (c, -1), 0.6, pdf_style.INK) for c in (1, 3, 5)]
    out.append(Table(rows, colWidths=[kit.width * w for w in (0.17, 0.3, 0.04, 0.3, 0.04,
                                                              0.15)],
                     hAlign="LEFT",  # rows grow with a long name, never into the header
                     style=TableStyle([*lines, ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                       ("TOPPADDING", (0, 1), (-1, -1), 20),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                       ("RIGHTPADDING", (0, 0), (-1, -1), 0)])))
    return out


def contents(kit: ds.Kit) -> list:
    toc = TableOfContents(dotsMinLevel=0, tableStyle=TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    toc.levelStyles = [
        ParagraphStyle("toc0", fontName=kit.fonts.bold, fontSize=9.5, leading=13,
                       spaceBefore=5, textColor=pdf_style.INK),
        ParagraphStyle("toc1", fontName=kit.fonts.regular, fontSize=8.5, leading=10.5,
                       leftIndent=14, textColor=pdf_style.INK),
    ]
    return [Paragraph("Contents", kit.st["h1"]), toc]


# ------------------------------------------------------------------ executive summary


def coverage_chart(kit: ds.Kit, cov: list[dict[str, Any]], width: float) -> Drawing:
    """Horizontal stacked bars: fully / partially / not covered obligations, % per
    regulation, the first regulation on top, with a legend."""
    rows = list(reversed(cov))
    band = 22
    height = len(rows) * band + 44
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62, 30
    chart.width, chart.height = width - 80, len(rows) * band
    chart.data = [[r.get("full_pct", 0) for r in rows], [r.get("partial_pct", 0) for r in rows],
                  [r.get("none_pct", 0) for r in rows]]
    chart.categoryAxis.categoryNames = [r["code"] for r in rows]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontName = kit.fonts.bold
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.strokeColor = pdf_style.MUTED
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.labels.fontName = kit.fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = pdf_style.MUTED
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E3E7EE")
    chart.barWidth = 14
    chart.groupSpacing = 8
    chart.bars.strokeColor = colors.white
    chart.bars.strokeWidth = 0.5
    for i, colour in enumerate((FULL, PARTIAL, NONE)):
        chart.bars[i].fillColor = colors.HexColor(colour)
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = chart.x, height - 4
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 120
    legend.fontName = kit.fonts.regular
    legend.fontSize = 7.5
    legend.dx = legend.dy = 7
    legend.strokeColor = None
    legend.colorNamePairs = [(colors.HexColor(FULL), "Fully covered"),
                             (colors.HexColor(PARTIAL), "Partially covered"),
                             (colors.HexColor(NONE), "Not covered (gap)")]
    drawing.add(legend)
    return drawing


def _tiles(kit: ds.Kit, items: list[tuple[str, str, str]]) -> Table:
    """Key figures: (value, label, colour) in a row of boxes."""
    val = ParagraphStyle("tile", fontName=kit.fonts.bold, fontSize=15, leading=18,
                         textColor=pdf_style.HEADER_FILL)
    cells = [[Paragraph(f'<font color="{colour}">{kit.m(v)}</font>', val),
              kit.p(label, "note")] for v, label, colour in items]
    width = kit.width / len(items)
    return Table([cells], colWidths=[width] * len(items), hAlign="LEFT", style=TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.4, pdf_style.GRID),
        ("INNERGRID", (0, 0), (-1, -1), 0.4, pdf_style.GRID),
        ("BACKGROUND", (0, 0), (-1, -1), pdf_style.ZEBRA),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))


def _latest_exercise(exercises: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not exercises:
        return None
    return max(exercises, key=lambda r: (r.get("exercise", {}).get("started_at") or "",
                                         ds._num_id(r.get("exercise", {}).get("id", ""))))


def summary(kit: ds.Kit, d: Any, number: str) -> list:
    o = d.options
    cov = d.coverage
    obligations = sum(r.get("obligations", 0) for r in cov)
    covered = sum(r.get("full", 0) + r.get("partial", 0) for r in cov)
    share = 100 * covered / obligations if obligations else 0.0
    gaps = sum(d.gaps.values())
    implemented = d.control_status.get("implemented", 0)
    ev = d.evidence_status
    current_levels = [(r.get("current") or r.get("inherent") or {}) for r in d.risks]
    high = sum(1 for s in current_levels if s.get("high"))
    period = " to ".join(p for p in (o.period_from, o.period_to) if p)
    regs = ", ".join(r["code"] for r in cov) or "no regulation"
    out: list = kit.opening(number, "Executive summary",
        f"This dossier sets out how {o.organisation or d.workspace} governs its AI systems "
        f"against {regs}, as recorded in the Crosswalk workspace “{d.workspace}” up to audit "
        f"event #{d.audit_head_seq} ({_when(d.generated_at)})"
        + (f", for the period {period}" if period else "") + ".")
    out.append(_tiles(kit, [
        (f"{share:.1f}%", f"of {obligations:,} obligations covered",
         ds.GREEN if share >= 80 else ds.AMBER if share >= 50 else ds.RED),
        (f"{gaps:,}", "obligations with no mapping (gaps)", ds.RED if gaps else ds.GREEN),
        (f"{implemented} / {len(d.controls)}", "controls implemented", pdf_style.INK.hexval()
         .replace("0x", "#")),
        (f"{ev.get('expired', 0) + ev.get('expiring', 0)}",
         "evidence items expired or expiring", ds.AMBER if ev.get("expired") or
         ev.get("expiring") else ds.GREEN),
        (f"{high}", "risks rated high or above (current)", ds.RED if high else ds.GREEN),
        ("intact" if d.verify.get("intact") else "FAILED", "audit trail at export",
         ds.GREEN if d.verify.get("intact") else ds.RED)]))
    if d.integrity_failures:
        out.append(Spacer(1, 4))
        out.append(kit.p("INTEGRITY FAILURE: " + "; ".join(d.integrity_failures), "alert"))
    out.append(Paragraph("Coverage by regulation", kit.st["h2"]))
    if cov:
        out.append(coverage_chart(kit, cov, kit.width))
        out.append(kit.table(
            ["Regulation", "Version", "Obligations", "Fully", "Partially", "Not covered",
             "Covered"],
            [[kit.rich(f"<b>{kit.m(r['code'])}</b>"), r.get("version_label", ""),
              kit.p(f"{r.get('obligations', 0):,}", "cell_r"),
              kit.p(f"{r.get('full', 0):,}", "cell_r"),
              kit.p(f"{r.get('partial', 0):,}", "cell_r"),
              kit.p(f"{r.get('none', 0):,}", "cell_r"),
              kit.p(f"{r.get('covered_pct', 0):.1f}%", "cell_r")] for r in cov],
            [1.6, 1.4, 1.2, 1, 1, 1.2, 1]))
    else:
        out.append(kit.note("No regulation is in the workspace."))
    out.append(Paragraph("Largest gaps", kit.st["h2"]))
    worst = d.gap_provisions[:WORST_PROVISIONS]
    if worst:
        out.append(kit.table(
            ["Regulation", "Provision", "Title", "Uncovered obligations"],
            [[g.get("code", ""), kit.rich(f"<b>{kit.m(g.get('ref', ''))}</b>"),
              g.get("title") or "-",
              kit.p(f"{g.get('count', 0):,} of {g.get('obligations', 0):,}", "cell_r")]
             for g in worst], [1.3, 1.6, 5, 1.5]))
        out.append(kit.note("Gaps per regulation: " + ", ".join(
            f"{code} {n:,}" for code, n in d.gaps.items()) + ". Every gap is listed in the "
            "traceability section, per provision."))
    else:
        out.append(kit.note("No obligation is without a mapping."))
    out.append(Paragraph("Controls and evidence", kit.st["h2"]))
    status_text = ", ".join(f"{n} {s.replace('-', ' ')}" for s, n in
                            sorted(d.control_status.items())) or "none"
    fresh = ", ".join(f"{ev.get(s, 0)} {s}" for s in ("current", "expiring", "expired"))
    out.append(kit.kv([
        ("Control status", f"{len(d.controls)} controls: {status_text}"),
        ("Evidence freshness", f"{len(d.evidence)} items: {fresh}"),
        ("Evidence integrity", kit.rich(
            f'<font color="{ds.RED}"><b>INTEGRITY FAILURE: '
            f"{len(d.integrity_failures)} file(s) missing or altered</b></font>"
            if d.integrity_failures else
            f'<font color="{ds.GREEN}">every stored file matches its SHA-256</font>'))],
        widths=(1, 4)))
    out.append(Paragraph(f"Top {TOP_RISKS} risks", kit.st["h2"]))
    if d.risks:
        out.append(kit.table(
            ["Id", "Risk", "System", "Inherent", "Current", "Residual"],
            [[kit.rich(f"<b>{kit.m(r['id'])}</b>"), r.get("title", ""), r.get("system") or "-",
              ds.level_cell(kit, r.get("inherent")), ds.level_cell(kit, r.get("current")),
              ds.level_cell(kit, r.get("residual"))] for r in d.risks[:TOP_RISKS]],
            [0.8, 4, 2, 1.6, 1.6, 1.6]))
    else:
        out.append(kit.note("No risk is recorded."))
    out.append(Paragraph("Latest exercise", kit.st["h2"]))
    rep = _latest_exercise(d.exercises)
    if rep is None:
        out.append(kit.note("No exercise has been run."))
    else:
        ex, met = rep.get("exercise", {}), rep.get("metrics", {})
        clocks = met.get("clocks") or []
        met_n = sum(1 for c in clocks if c.get("outcome") == "met")
        ratings = ", ".join(f"{o.get('id')} {o.get('rating') or '-'}"
                            for o in rep.get("objectives") or [])
        out.append(kit.kv([
            ("Exercise", f"{ex.get('id', '')} {ex.get('title', '')} "
                         f"({(ex.get('started_at') or '')[:10]}, {ex.get('status', '')})"),
            ("Response", f"detection {ds.duration(met.get('time_to_detection_s'))}; "
                         "containment decision "
                         f"{ds.duration(met.get('time_to_containment_decision_s'))}"),
            ("Notification clocks", f"{met_n} met, {len(clocks) - met_n} missed" +
             (" — " + ", ".join(f"{c.get('id')} {c.get('outcome')}" for c in clocks)
              if clocks else "")),
            ("Objectives", ratings or "-"),
            ("Improvement items", f"{len(rep.get('improvement_plan') or [])}")],
            widths=(1, 4)))
    return out


# ------------------------------------------------------------------ traceability matrix


def matrix_section(kit: ds.Kit, d: Any, number: str) -> list:
    width = kit.land_width
    mapped = [r for r in d.matrix.rows if r.control_id]
    gaps = [r for r in d.matrix.rows if r.gap]
    out: list = kit.opening(number, "Traceability matrix",
        f"The matrix joins each clause to its controls, their evidence, tests and risks. "
        f"{len(d.matrix.rows):,} rows: {len(mapped):,} map a clause to a control, "
        f"{len(gaps):,} are gaps (obligations no mapping reaches). The complete matrix, every "
        "row with all 29 columns, is in the CSV and XLSX files of the export bundle.")
    if not mapped:
        out.append(kit.note("No clause is mapped to a control."))
    elif len(mapped) <= MATRIX_ROWS_IN_FULL:
        out.append(kit.note(
            "Printed columns are a selection of the matrix print columns; control owner and "
            "status are in the controls section, and the CSV and XLSX carry every column. "
            "Evidence status and risk levels are as at export time."))
        out.append(matrix_table(kit, d, mapped, width))
    else:
        out.append(kit.note(
            f"{len(mapped):,} mapping rows are too many to print usefully here: they are "
            "summarised per provision below; the regulation mapping tables list every mapping, "
            "and the CSV and XLSX carry every row."))
        out.append(_provision_summary(kit, mapped, width))
    out.append(Paragraph("Gaps per provision", kit.st["h2"]))
    if gaps:
        groups: dict[tuple[str, str], list[str]] = {}
        for r in gaps:
            groups.setdefault((r.regulation, ds.provision_of(r.clause_ref)), []).append(
                r.clause_ref)
        out.append(kit.table(
            ["Regulation", "Provision", "Uncovered", "Uncovered clauses"],
            [[code, kit.lazy(f"<b>{kit.m(prov)}</b>"), kit.lazy(f"{len(refs):,}", "cell_r"),
              ds.refs_text(refs, 40)] for (code, prov), refs in groups.items()],
            [1.2, 1.6, 0.9, 10], total=width, plain=(0,)))
    else:
        out.append(kit.note("No gaps: every obligation is reached by a mapping."))
    return out


# (header, relative width, value) — a selection of `matrix_pdf.PRINT_COLUMNS` for A4
# landscape: the regulation is a row above its clauses, control id and name share a cell, and
# owner, control status, applicability and gap (always "no" for a mapping) are left out.
MATRIX_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Clause", 10), ("Clause title", 18), ("Control", 17), ("Relationship", 11.5),
    ("Coverage", 8.5), ("Strength", 8.5), ("Review", 8), ("Mapping rationale", 46),
    ("Evidence", 21), ("Latest test", 12.5), ("Risks", 11))


def matrix_table(kit: ds.Kit, d: Any, rows: list, width: float) -> Any:
    values = {h: f for h, _, f in PRINT_COLUMNS}
    titles = {(c, v): t for c, v, t in d.matrix.regulations}
    body: list[list] = []
    fills: list[Any] = []
    last = None
    for r in rows:
        if (r.regulation, r.version) != last:
            last = (r.regulation, r.version)
            body.append([kit.rich(f"<b>{kit.m(r.regulation)} ({kit.m(r.version)})</b> "
                                  f"{kit.m(titles.get(last, ''))}")] + [""] * 10)
            fills.append(colors.HexColor("#E4E9F2"))
        cells: list = []
        for header, _ in MATRIX_COLUMNS:
            if header == "Control":
                cells.append(kit.rich(f"<b>{kit.m(r.control_id)}</b> {kit.m(r.control_name)}"))
            elif header == "Clause":
                ref = kit.m(r.clause_ref)
                na = "" if r.applicability == "applicable" else (
                    f"<br/><i>{kit.m(r.applicability)}</i>")
                cells.append(kit.rich(f"<b>{ref}</b>{na}"))
            elif header == "Evidence":
                cells.append(kit.rich(_styled(kit.m(values[header](r)), header)))
            else:
                cells.append(kit.p(values[header](r)))
        body.append(cells)
        fills.append(pdf_style.ZEBRA if len(body) % 2 == 0 else None)
    return kit.table([h for h, _ in MATRIX_COLUMNS], body, [w for _, w in MATRIX_COLUMNS],
                     total=width, row_fill=lambda i: fills[i], zebra=False,
                     spans=[len(b) > 1 and b[1] == "" and b[2] == "" for b in body])


def _provision_summary(kit: ds.Kit, rows: list, width: float) -> Any:
    groups: dict[tuple[str, str], list] = {}
    for r in rows:
        groups.setdefault((r.regulation, ds.provision_of(r.clause_ref)), []).append(r)
    body = []
    for (code, prov), rs in groups.items():
        controls = sorted({r.control_id for r in rs}, key=ds._num_id)
        review: dict[str, int] = {}
        for r in rs:
            review[r.review_status] = review.get(r.review_status, 0) + 1
        body.append([code, kit.lazy(f"<b>{kit.m(prov)}</b>"),
                     str(len({r.clause_ref for r in rs})), str(len(rs)),
                     ", ".join(controls), str(sum(1 for r in rs if r.coverage == "full")),
                     str(sum(1 for r in rs if r.coverage == "partial")),
                     ", ".join(f"{n} {s}" for s, n in sorted(review.items()))])
    return kit.table(["Regulation", "Provision", "Clauses", "Mappings", "Controls", "Full",
                      "Partial", "Review"], body, [1.2, 1.6, 0.8, 0.8, 4, 0.6, 0.7, 2.5],
                     total=width, plain=(0, 2, 3, 5, 6))


# ------------------------------------------------------------------ assembly


def build_story(d: Any, kit: ds.Kit) -> list:
    story: list = [*cover(kit, d), PageBreak(), *contents(kit)]
    sections = [summary, ds.controls_section, ds.mappings_section, matrix_section,
                ds.evidence_section, ds.systems_section, ds.risks_section,
                ds.playbooks_section, ds.exercises_section, ds.audit_section,
                ds.method_section]
    for n, section in enumerate(sections, start=1):
        label = "A" if section is ds.method_section else str(n)
        if section is matrix_section:
            story += [NextPageTemplate("landscape"), PageBreak(), *section(kit, d, label),
                      NextPageTemplate("portrait")]
        else:
            story += [PageBreak(), *section(kit, d, label)]
    key = 0
    for f in story:
        if getattr(f, "toc_level", None) is not None:
            key += 1
            f.toc_key = f"h{key}"
            f.toc_markup = kit.m(f.toc_text)
    return story


def write_dossier_pdf(dossier: Any, path: Path | str) -> int:
    """Write the dossier to `path` (atomically); returns the number of pages."""
    d = dossier
    o = d.options
    org = o.organisation or d.workspace
    style = pdf_style.DocStyle(
        title=f"{TITLE} · {org}", classification=o.classification,
        provenance=f"Generated from audit head {d.audit_head[:HEAD_CHARS]} "
                   f"(#{d.audit_head_seq})",
        generated_at=d.generated_at, subject=f"{TITLE}, version {o.version}",
        author=org)
    fonts = pdf_style.pick_fonts([style.title, style.provenance, *dossier_texts(d)])
    width, _ = pdf_style.frame_size(style)
    land_width, _ = pdf_style.frame_size(dataclasses.replace(style, pagesize=landscape(A4)))
    kit = ds.Kit(fonts, width, land_width)
    story = build_story(d, kit)
    with atomic_target(path) as tmp:
        doc = DossierDoc(
            str(tmp), pagesize=A4, pageTemplates=_templates(style),
            leftMargin=style.margin, rightMargin=style.margin, topMargin=style.margin,
            bottomMargin=style.margin, title=fonts.clean(style.title),
            author=fonts.clean(style.author), subject=fonts.clean(style.subject),
            creator="Crosswalk", producer=pdf_style.PRODUCER,
            keywords=[fonts.clean(o.classification)], invariant=1, pageCompression=1,
            lang=style.lang, initialFontName=fonts.regular)
        doc.multiBuild(story, canvasmaker=_canvas_class(style, fonts))
        pages = doc.page
    return pages
