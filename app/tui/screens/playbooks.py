"""Playbooks: the incident playbooks shipped with Crosswalk (drift, poisoning, tampering or
theft, data leaking through a model, an AI Act serious incident) and, for the highlighted one,
its detection criteria, ordered steps (NIST CSF 2.0 function, owner role, expected time,
controls), escalation path and the regulatory clocks that may run, with their legal basis.
`crosswalk playbook export ID` writes one as CACAO 2.0. Exercises run from them (issue 8)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import DataTable, Static

from app.domain.playbooks import Playbook, bundled_playbooks
from app.domain.reg_clocks import clock_by_id
from app.tui.screens.base import SectionScreen

SEVERITY_MARKUP = {"critical": "b $text-error", "high": "b $text-warning", "medium": "",
                   "low": "dim"}


def playbook_markup(pb: Playbook) -> str:
    """The playbook as the detail pane shows it (every text escaped)."""
    sev = SEVERITY_MARKUP.get(pb.severity, "")
    lines = [f"[b]{escape(pb.title)}[/]  [{sev}]{pb.severity}[/] · {pb.scenario}"
             if sev else f"[b]{escape(pb.title)}[/]  {pb.severity} · {pb.scenario}"]
    if pb.description:
        lines += ["", escape(pb.description)]
    lines += ["", "[b]Detection[/]"] + [f" • {escape(d)}" for d in pb.detection]
    lines += ["", f"[b]Steps[/] ({len(pb.steps)}, about "
                  f"{sum(s.minutes for s in pb.steps) / 60:.0f} h in all)"]
    for n, s in enumerate(pb.steps, start=1):
        controls = " ".join(s.controls) or "—"
        lines.append(f" [b]{n}[/] {escape(s.name)}  [dim]{s.function} · {escape(s.owner)} · "
                     f"{s.minutes} min · {controls}[/]")
        lines.append(f"   {escape(s.description)}")
    if pb.escalation:
        lines += ["", "[b]Escalation[/]"]
        lines += [f" {escape(e.role)} [dim]({escape(e.contact)})[/] — {escape(e.when)}"
                  for e in pb.escalation]
    if pb.clocks:
        lines += ["", "[b]Regulatory clocks[/] [dim](from the moment of becoming aware)[/]"]
        for c in map(clock_by_id, pb.clocks):
            lines.append(f" [b]{c.period}[/] {escape(c.title)} [dim]— {escape(c.basis)}; "
                         f"{escape(c.applies_when)}[/]")
    lines += ["", f"[dim]crosswalk playbook export {pb.id} -o FILE writes it as CACAO 2.0[/]"]
    return "\n".join(lines)


class PlaybooksScreen(SectionScreen):
    SECTION_ID = "playbooks"
    AUTO_FOCUS = "#pb-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload", id="playbooks-reload"),
    ]

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="pb-table", cursor_type="row")
        table.border_title = "Incident playbooks"
        yield table
        with VerticalScroll(id="pb-detail"):
            yield Static(id="pb-text")

    def build_columns(self) -> None:
        table = self.query_one("#pb-table", DataTable)
        table.clear(columns=True)
        wide = self.app.size.width >= 140
        table.add_column("Severity", key="severity", width=8)
        table.add_column("Steps", key="steps", width=5)
        table.add_column("Title", key="title",
                         width=max(20, self.app.size.width - (72 if wide else 47)))
        if wide:
            table.add_column("Scenario", key="scenario", width=24)

    def refresh_data(self) -> None:
        table = self.query_one("#pb-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        self._books = {pb.id: pb for pb in bundled_playbooks()}
        wide = len(table.columns) == 4
        for pb in self._books.values():
            cells = [pb.severity, str(len(pb.steps)), pb.title] + ([pb.scenario] if wide else [])
            table.add_row(*cells, key=pb.id)
        table.move_cursor(row=cursor)
        self.show_detail()

    def show_detail(self) -> None:
        table = self.query_one("#pb-table", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.query_one("#pb-text", Static).update(playbook_markup(self._books[str(key)]))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def action_reload(self) -> None:
        """Read the playbooks again."""
        self.reload()
