"""Mapping: the clause × control matrix of a regulation. Move with the arrows, open a clause's
paragraphs with space, read it with enter, map or edit with `m`, review with `v`, jump to the
next gap with `g`, list everything mapped to a control with `c`, and see what a change of a
clause reaches with `i`."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Select, Static

from app.errors import CrosswalkError
from app.services.audit import head_seq
from app.services.controls import list_controls
from app.services.mappings import (
    add_mapping,
    get_mapping,
    list_mappings,
    remove_mapping,
    review_mapping,
    update_mapping,
)
from app.services.matrix import CONTROLS, Matrix
from app.services.regulations import (
    RegulationInfo,
    clause_mappings,
    get_clause,
    list_regulations,
)
from app.tui.markup import escape
from app.tui.messages import ImpactReady, MatrixLoaded
from app.tui.screens.base import SectionScreen
from app.tui.screens.mapping_dialogs import (
    ClauseDialog,
    ControlMappingsDialog,
    MappingDialog,
    MappingForm,
)
from app.tui.widgets.mapping_matrix import LEGEND, SHORT_LEGEND, SYMBOLS, MappingMatrix
from app.tui.widgets.plain_select import PlainSelect

NEXT_REVIEW = {"draft": "reviewed", "reviewed": "approved"}


class MappingScreen(SectionScreen):
    SECTION_ID = "mapping"
    AUTO_FOCUS = "#matrix"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "map", "Map", id="mapping-map",
                tooltip="Add or edit the mapping in the highlighted cell"),
        Binding("v", "review", "Review", id="mapping-review",
                tooltip="Review the mapping in the highlighted cell (draft → reviewed → "
                        "approved)"),
        Binding("g", "next_gap", "Next gap", id="mapping-next-gap",
                tooltip="Jump to the next assessable clause no mapping covers"),
        Binding("enter", "open_clause", "Open clause", id="mapping-open-clause"),
        Binding("c", "control_view", "By control", id="mapping-control-view",
                tooltip="Every clause of every regulation mapped to this column's control"),
        Binding("i", "impact", "Impact", id="mapping-impact",
                tooltip="What a change of this clause reaches: mappings to re-review, "
                        "controls, clauses of other regulations"),
        Binding("r", "reload", "Reload", id="mapping-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._regs: list[RegulationInfo] = []
        self._names: dict[str, str] = {}
        self._keep: int | None = None  # clause to keep the cursor on after a reload

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="matrix-bar"):
            yield PlainSelect[int]([], prompt="no regulations", id="matrix-select",
                              allow_blank=True)
            yield Static(id="matrix-summary")
        yield Static(id="matrix-header")
        yield MappingMatrix(id="matrix")
        yield Static(id="matrix-cell")
        yield Static(LEGEND, id="matrix-legend")

    # ------------------------------------------------------------------ data
    def refresh_data(self) -> None:
        self._regs = [r for r in list_regulations(self.store) if r.latest]
        self._names = {c.id: c.name for c in list_controls(self.store)}
        select = self.query_one("#matrix-select", Select)
        current = select.value if select.value is not Select.NULL else None
        with self.app.batch_update():
            select.set_options([(f"{r.code} {r.version_label}", r.id) for r in self._regs])
            ids = [r.id for r in self._regs]
            if current in ids:
                select.value = current
                shown = self.query_one(MappingMatrix).matrix
                if shown is None or shown.regulation_id != current or \
                        shown.head != head_seq(self.store):  # nothing written since: keep it
                    self.load(current)  # type: ignore[arg-type]
            elif ids:
                select.value = ids[0]

    @on(Select.Changed, "#matrix-select")
    def _chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self._keep = None
            self.load(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="matrix",
          description="Loading the mapping matrix")
    def load(self, regulation_id: int) -> None:  # thread: post messages only
        self.post_message(MatrixLoaded(Matrix.load(self.store, regulation_id)))

    def on_matrix_loaded(self, message: MatrixLoaded) -> None:
        matrix = self.query_one(MappingMatrix)
        if self._keep is None and matrix.matrix is not None \
                and matrix.matrix.regulation_id == message.matrix.regulation_id:
            self._keep = matrix.current.id if matrix.current else None
        matrix.show(message.matrix, keep=self._keep)
        self._keep = None
        self.call_after_refresh(self._header)  # once the matrix is laid out (scrollbar or not)
        self._summary(message.matrix)

    def _header(self) -> None:
        """Column heads over the cells; and a legend that fits the width."""
        self.query_one("#matrix-legend", Static).update(LEGEND if not self.narrow
                                                        else SHORT_LEGEND)
        matrix = self.query_one(MappingMatrix)
        cell = matrix.cell_width
        head = "clause".ljust(matrix.ref_width) + "".join(  # GOV1 … OPS4, or G1 … O4
            (c.replace("-", "") if cell > 4 else c[0] + c[-1]).center(cell) for c in CONTROLS)
        self.query_one("#matrix-header", Static).update(escape(head))

    def _summary(self, m: Matrix) -> None:
        obligations, gaps = m.obligations, len(m.gap_ids)
        drafts = sum(1 for cells in m.cells.values() for c in cells.values()
                     if c.review_status == "draft")
        share = (len(obligations) - gaps) / len(obligations) if obligations else 0.0
        self.query_one("#matrix-summary", Static).update(
            f"{len(obligations):,} obligations, {share:.0%} covered · [b]{gaps:,} gaps[/] · "
            f"{sum(len(c) for c in m.cells.values()):,} mappings ({drafts:,} unreviewed)")

    def on_resize(self, event: object) -> None:
        super().on_resize(event)  # type: ignore[arg-type]
        self.call_after_refresh(self._header)

    @on(MappingMatrix.Resized)
    def _matrix_resized(self) -> None:
        self._header()  # its scrollbar came or went: the cells moved

    # ------------------------------------------------------------------ the cell
    @on(MappingMatrix.Moved)
    def _moved(self, event: MappingMatrix.Moved) -> None:
        matrix = self.query_one(MappingMatrix)
        row, control = event.row, event.control_id
        out = self.query_one("#matrix-cell", Static)
        if row is None or matrix.matrix is None:
            out.update("")
            return
        head = f"[b]{escape(row.ref)}[/] {escape(row.title)} → [b]{control}[/] " \
               f"{escape(self._names.get(control, ''))}"
        cell = matrix.matrix.cell(row.id, control)
        if cell is not None:
            flag = f"  [b $warning]{escape(cell.flag)}[/]" if cell.flag else ""
            out.update(f"{head}\n{SYMBOLS[cell.relationship]} {cell.relationship}, "
                       f"{cell.coverage} coverage, strength {cell.strength}, "
                       f"{cell.review_status}{flag}  [dim](m edit · v review)[/]")
        elif (up := matrix.matrix.inherited(row.id, control)) is not None:
            out.update(f"{head}\n[dim]covered from above: {up.relationship}, "
                       f"{up.coverage} (m maps this clause itself)[/]")
        else:
            gap = " — [b $error]a gap: no mapping covers it[/]" \
                if matrix.matrix.is_gap(row) else ""
            out.update(f"{head}\n[dim]not mapped (m maps it)[/]{gap}")

    def _target(self) -> tuple[str, str, int, str] | None:
        matrix = self.query_one(MappingMatrix)
        row = matrix.current
        reg = next((r for r in self._regs if matrix.matrix and
                    r.id == matrix.matrix.regulation_id), None)
        if row is None or reg is None:
            return None
        return f"{reg.code} {row.ref}", row.title, row.id, matrix.control

    # ------------------------------------------------------------------ actions
    def action_map(self) -> None:
        """Add or edit the mapping in the highlighted cell."""
        target = self._target()
        if target is None:
            return
        full_ref, title, clause_id, control = target
        try:
            existing = get_mapping(self.store, full_ref, control).mapping
        except CrosswalkError:
            existing = None

        def save(form: MappingForm | None) -> None:
            if form is None:
                return
            try:
                if form.delete:
                    remove_mapping(self.store, full_ref, control)
                    self.notify(f"unmapped {full_ref} → {control}", markup=False)
                elif existing is None:
                    view = add_mapping(self.store, full_ref, control, **form.fields)  # type: ignore[arg-type]
                    self.notify(f"mapped {full_ref} → {control}", markup=False)
                    for note in view.notes:
                        self.notify(note, severity="warning", markup=False)
                else:
                    _, change = update_mapping(self.store, full_ref, control, **form.fields)
                    self.notify(f"{full_ref} → {control}: " + (", ".join(change) or
                                                                "no change"), markup=False)
            except CrosswalkError as exc:
                self.notify(str(exc), title="Not saved", severity="error", markup=False)
            self._reload_keeping(clause_id)

        self.app.push_screen(MappingDialog(full_ref, title, control, existing), save)

    def action_review(self) -> None:
        """Move the highlighted mapping along its review trail."""
        target = self._target()
        if target is None:
            return
        full_ref, _, clause_id, control = target
        try:
            current = get_mapping(self.store, full_ref, control).mapping.review_status
            if current not in NEXT_REVIEW:
                self.notify(f"{full_ref} → {control} is already approved", markup=False)
                return
            view, _ = review_mapping(self.store, full_ref, control, NEXT_REVIEW[current])
            self.notify(f"{full_ref} → {control}: {current} → {view.mapping.review_status}",
                        markup=False)
        except CrosswalkError as exc:
            self.notify(str(exc), title="Not reviewed", severity="error", markup=False)
        self._reload_keeping(clause_id)

    def action_next_gap(self) -> None:
        """Jump to the next assessable clause no mapping covers."""
        matrix = self.query_one(MappingMatrix)
        if matrix.matrix is None:
            return
        row = matrix.matrix.next_gap(matrix.current.id if matrix.current else None)
        if row is None:
            self.notify("no gaps: every obligation is covered", markup=False)
            return
        matrix.go_to(row.id)

    def action_open_clause(self) -> None:
        """Read the highlighted clause with all its mappings."""
        target = self._target()
        if target is None:
            return
        full_ref, _, clause_id, _ = target
        clause = get_clause(self.store, clause_id)
        lines = [f"[b]{escape(full_ref)}[/] [dim]{escape(clause.kind)}[/]"]
        if clause.title:
            lines.append(f"[b]{escape(clause.title)}[/]")
        lines += ["", escape(clause.text) if clause.text else
                  "[dim]no text yet — import the official document to fill it in[/]", "",
                  "[b]Mappings[/]"]
        maps = clause_mappings(self.store, clause_id)
        for m in maps:
            trail = f"{m.review_status}" + (f" by {m.reviewed_by}" if m.reviewed_by else "")
            lines.append(f"{m.control_id}  {m.relationship}, {m.coverage}, strength "
                         f"{m.strength}, {escape(trail)}\n    {escape(m.rationale)}")
        if not maps:
            lines.append("[dim]none on this clause[/]")
        self.app.push_screen(ClauseDialog("\n".join(lines)))

    def action_control_view(self) -> None:
        """List every clause of every regulation mapped to this column's control."""
        control = self.query_one(MappingMatrix).control
        rows = [(v.full_ref, v.mapping.relationship, v.mapping.coverage,
                 v.mapping.review_status) for v in list_mappings(self.store,
                                                                control_id=control)]
        self.app.push_screen(ControlMappingsDialog(control, self._names.get(control, ""),
                                                   rows))

    def action_impact(self) -> None:
        """What a change of the highlighted clause reaches."""
        target = self._target()
        if target is not None:
            self.work_out_impact(target[0])

    @work(thread=True, exclusive=True, exit_on_error=False, group="impact",
          description="Working out the impact")
    def work_out_impact(self, full_ref: str) -> None:  # thread: post messages only
        from app.services.impact import impact_of_clause_ref

        self.post_message(ImpactReady(impact_of_clause_ref(self.store, full_ref).report()))

    def on_impact_ready(self, message: ImpactReady) -> None:
        self.app.push_screen(ClauseDialog(escape(message.text)))

    def _reload_keeping(self, clause_id: int) -> None:
        matrix = self.query_one(MappingMatrix)
        if matrix.matrix is not None:
            self._keep = clause_id
            self.load(matrix.matrix.regulation_id)
