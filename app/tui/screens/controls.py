"""Controls: the twelve controls, their detail, and a form to edit the analyst's fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from app.domain.controls import ControlStatus
from app.errors import CrosswalkError
from app.services.controls import list_controls, update_control, validate_fields
from app.tui.markup import escape
from app.tui.messages import (
    ControlSaved,
    ControlSaveFailed,
    EvidenceChanged,
    EvidenceFailed,
)
from app.tui.screens.base import SectionScreen
from app.tui.screens.evidence_dialogs import (
    EvidencePickerDialog,
    TestDialog,
    TestForm,
    start_write,
    status_markup,
)
from app.tui.widgets.plain_select import PlainSelect
from app.tui.widgets.plain_table import PlainTable
from app.tui.widgets.status_cell import status_cell

if TYPE_CHECKING:
    from app.services.control_tests import TestView
    from app.services.evidence_status import Rollup
    from app.store.models import Control

SHOWN_EVIDENCE = 12  # linked evidence listed in the detail (the Evidence screen lists all)


@dataclass(frozen=True, slots=True)
class ControlEdit:
    """What the edit form returns: the fields the user changed, checked, with their new values
    (sending only those keeps a colleague's concurrent edit of the other fields)."""

    control_id: str
    changes: dict[str, str]


class EditControlDialog(ModalScreen[ControlEdit | None]):
    """Owner, status and narrative of one control; returns the edit, or None on cancel.

    Values are checked before the form closes, so a mistake never costs the user their text;
    `draft` refills the form after a save that failed (e.g. the workspace was locked)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="control-form-save", priority=True),
        Binding("escape", "cancel", "Cancel", id="control-form-cancel"),
    ]

    def __init__(self, control: Control, draft: dict[str, str] | None = None) -> None:
        super().__init__()
        self.control = control
        self.draft = draft or {}

    def compose(self) -> ComposeResult:
        c = self.control
        value = {"owner": c.owner, "status": c.status, "narrative": c.narrative} | self.draft
        known = value["status"] in {s.value for s in ControlStatus}
        with Vertical(id="control-form"):
            yield Static(f"[b]{c.id}[/] {escape(c.name)}", id="form-title")
            yield Label("Owner")
            yield Input(value["owner"], placeholder="who is accountable", id="owner")
            yield Label("Implementation status")
            yield PlainSelect([(s.label, s.value) for s in ControlStatus],
                         value=value["status"] if known else Select.NULL,
                         allow_blank=not known, prompt="choose a status", id="status")
            yield Label("Narrative — how the control is implemented")
            yield TextArea(value["narrative"], id="narrative", soft_wrap=True,
                           show_line_numbers=False)
            yield Static(id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save  ctrl+s", variant="primary", id="save", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        """Check the form; close it with the changes, or say what is wrong and stay open."""
        status = self.query_one("#status", Select).value
        entered = {
            "owner": self.query_one("#owner", Input).value,
            "status": None if status is Select.NULL else str(status),
            "narrative": self.query_one("#narrative", TextArea).text,
        }
        try:
            checked = validate_fields(**entered)
        except CrosswalkError as exc:
            error = self.query_one("#form-error", Static)
            error.update(str(exc))
            error.add_class("-shown")
            return
        before = {"owner": self.control.owner, "status": self.control.status,
                  "narrative": self.control.narrative}
        changes = {k: v for k, v in checked.items() if v != before[k]}
        self.dismiss(ControlEdit(self.control.id, changes))

    def action_cancel(self) -> None:
        """Close the form without saving."""
        self.dismiss(None)


class ControlsScreen(SectionScreen):
    SECTION_ID = "controls"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="controls-edit",
                tooltip="Edit owner, status and narrative of the highlighted control"),
        Binding("l", "link_evidence", "Link evidence", id="controls-link-evidence",
                tooltip="Choose a piece of evidence and link it to the highlighted control"),
        Binding("t", "record_test", "Record test", id="controls-record-test",
                tooltip="Record a test of the highlighted control"),
        Binding("r", "reload", "Reload", id="controls-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._controls: dict[str, Control] = {}
        self._rollups: dict[str, Rollup] = {}
        self._tests: dict[str, TestView] = {}
        self._select: str | None = None  # control to highlight at the next refresh

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="controls-split"):
            table: DataTable[object] = PlainTable(id="controls-table", cursor_type="row")
            table.border_title = "Controls"
            yield table
            with VerticalScroll(id="control-detail"):
                yield Static(id="control-text")

    def build_columns(self) -> None:
        """Narrow terminals keep ID and status; the detail pane names the owner."""
        table = self.query_one("#controls-table", DataTable)
        table.clear(columns=True)
        table.add_column("ID", key="id", width=5)
        table.add_column("Status", key="status", width=14)
        if not self.narrow:
            table.add_column("Owner", key="owner", width=20)

    def refresh_data(self) -> None:
        from app.services.control_tests import latest_tests
        from app.services.evidence_status import control_rollup

        self._controls = {c.id: c for c in list_controls(self.store)}
        self._rollups = control_rollup(self.store)
        self._tests = latest_tests(self.store)
        table = self.query_one("#controls-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for c in self._controls.values():
            cells = [c.id, status_cell(c.status)] + ([] if self.narrow else [c.owner or "—"])
            table.add_row(*cells, key=c.id)
        wanted = self._select or self.crosswalk.take_control_to_open()
        self._select = None
        if wanted in self._controls:
            cursor = list(self._controls).index(wanted)
        table.move_cursor(row=cursor)
        self.show_detail()

    def current_id(self) -> str | None:
        table = self.query_one("#controls-table", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def show_detail(self) -> None:
        cid = self.current_id()
        c = self._controls.get(cid or "")
        text = self.query_one("#control-text", Static)
        if c is None:
            text.update("")
            return
        narrative = (escape(c.narrative) if c.narrative
                     else "[dim]none yet — press e to write one[/]")
        text.update(
            f"[b]{c.id}  {escape(c.name)}[/]\n[dim]{escape(c.category)}[/]\n\n"
            f"[b]Status[/]  {c.status.replace('-', ' ')}    [b]Owner[/]  {escape(c.owner) or '—'}\n"
            f"[dim]updated {c.updated_at} by {escape(c.updated_by)}[/]\n\n"
            f"[b]Objective[/]\n{escape(c.objective)}\n\n"
            f"[b]Guidance[/]\n{escape(c.guidance)}\n\n"
            f"[b]Narrative[/]\n{narrative}\n\n"
            f"{self._evidence_markup(c.id)}"
        )

    def _evidence_markup(self, cid: str) -> str:
        """The control's evidence status, its linked evidence and its latest test."""
        from app.services.evidence_status import list_evidence

        rollup = self._rollups.get(cid)
        lines = []
        if rollup is not None:
            counts = " · ".join(f"{n} {s}" for s, n in rollup.counts.items() if n)
            why = {"missing": " — implemented, but no evidence is linked",
                   "none": " — no evidence linked"}.get(rollup.status, "")
            lines.append(f"[b]Evidence[/] {status_markup(rollup.status)}"
                         f"{' (' + counts + ')' if counts else ''}[dim]{why}[/]")
        try:
            linked = list_evidence(self.store, control=cid)
        except CrosswalkError:
            linked = []
        for row in linked[:SHOWN_EVIDENCE]:
            lines.append(f"  [b]{row.label}[/] {status_markup(row.status)} "
                         f"{escape(' '.join(row.title.split()))}"
                         f"{' [dim](until ' + row.valid_until + ')[/]' if row.valid_until else ''}")
        if len(linked) > SHOWN_EVIDENCE:
            lines.append(f"  [dim]… and {len(linked) - SHOWN_EVIDENCE:,} more (Evidence "
                         f"screen, 6)[/]")
        lines.append("  [dim]l links evidence · t records a test[/]")
        test = self._tests.get(cid)
        if test is None:
            lines.append("\n[b]Latest test[/] [dim]none recorded[/]")
        else:
            t = test.test
            style = {"effective": "$text-success", "not-effective": "b $text-error"}.get(
                t.result, "$text-warning")
            used = f" · used {', '.join(test.evidence)}" if test.evidence else ""
            lines.append(f"\n[b]Latest test[/] {test.label} [{style}]"
                         f"{t.result.replace('-', ' ')}[/] on {t.tested_on} by "
                         f"{escape(t.tester)} [dim]({escape(t.procedure)}{escape(used)})[/]")
            if t.exceptions:
                lines.append(f"  [i]{escape(t.exceptions)}[/]")
        lines += self._actions_markup(cid)
        return "\n".join(lines)

    def _actions_markup(self, cid: str) -> list[str]:
        """The improvement items (from exercises' after-action reports) that are actions of
        the control."""
        from app.services.after_action import improvements_for

        try:
            items = improvements_for(self.store, control_id=cid)
        except CrosswalkError:
            return []
        if not items:
            return []
        return ["\n[b]Actions from exercises[/]"] + [
            f"  [b]{i.label}[/] {i.status} · due {i.due_on} · {escape(i.owner)} — "
            f"{escape(i.action)} [dim](EX-{i.exercise_id})[/]" for i in items]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_reload(self) -> None:
        """Reload the controls from the workspace."""
        self.reload()

    # ------------------------------------------------------------------ evidence
    def action_link_evidence(self) -> None:
        """Choose a piece of evidence and link it to the highlighted control."""
        from app.services.evidence_status import list_evidence

        cid = self.current_id()
        if cid is None:
            return
        linked = {r.id for r in list_evidence(self.store, control=cid)}

        def chosen(evidence_id: int | None) -> None:
            if evidence_id is None:
                return
            from app.domain.evidence import evidence_label
            from app.services.evidence import link_evidence

            label = evidence_label(evidence_id)

            def job() -> tuple[str, int | None, list[str]]:
                link_evidence(self.store, evidence_id, controls=[cid])
                return f"{label} linked to {cid}", evidence_id, []

            self._select = cid
            start_write(self, f"Linking {label} to {cid}", job, "Not linked")

        self.app.push_screen(EvidencePickerDialog(
            self.store, f"[b]Link evidence to {cid}[/] [dim]{escape(self._controls[cid].name)}"
                        "[/]", exclude=linked), chosen)

    def action_record_test(self) -> None:
        """Record a test of the highlighted control."""
        from app.tui.screens.evidence import record_test

        cid = self.current_id()
        if cid is None:
            return

        def chosen(form: TestForm | None) -> None:
            self._select = cid
            record_test(self, form)

        self.app.push_screen(TestDialog(self.store, cid), chosen)

    def on_evidence_changed(self, message: EvidenceChanged) -> None:
        self.notify(message.summary, title=message.title, markup=False)
        self.reload()

    def on_evidence_failed(self, message: EvidenceFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)

    def action_edit(self) -> None:
        """Edit the highlighted control."""
        c = self._controls.get(self.current_id() or "")
        if c is not None:
            self.app.push_screen(EditControlDialog(c), self._save)

    def _save(self, edit: ControlEdit | None) -> None:
        if edit is None:
            return
        if not edit.changes:
            self.notify(f"{edit.control_id}: nothing changed", markup=False)
            return
        self.save_control(edit)

    @work(thread=True, exit_on_error=False, group="write", description="Saving the control")
    def save_control(self, edit: ControlEdit) -> None:  # thread: post messages only
        try:
            _row, change = update_control(self.store, edit.control_id, **edit.changes)
        except CrosswalkError as exc:
            self.post_message(ControlSaveFailed(edit.control_id, edit.changes, str(exc)))
            return
        self.post_message(ControlSaved(edit.control_id, list(change)))

    def on_control_save_failed(self, message: ControlSaveFailed) -> None:
        """Tell the user, and give them their form back with what they typed."""
        self.notify(message.error, title="Not saved", severity="error", markup=False)
        control = self._controls.get(message.control_id)
        if control is not None:
            self.app.push_screen(EditControlDialog(control, draft=message.changes), self._save)

    def on_control_saved(self, message: ControlSaved) -> None:
        if message.changed:
            self.notify(f"{message.control_id}: saved {', '.join(message.changed)}",
                        title="Control updated", markup=False)
        else:
            self.notify(f"{message.control_id}: nothing changed", markup=False)
        self._select = message.control_id
        self.reload()
