"""Dialogs of the Mapping screen: the mapping form, a clause with its mappings, and everything
mapped to one control."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static, TextArea

from app.domain.mappings import (
    COVERAGE,
    DEFAULT_COVERAGE,
    DEFAULT_MATCHING,
    DEFAULT_STRENGTH,
    MATCHING,
    RELATIONSHIPS,
    check_fields,
)
from app.store.models import Mapping
from app.tui.markup import escape
from app.tui.widgets.plain_select import PlainSelect
from app.tui.widgets.plain_table import PlainTable


@dataclass(frozen=True, slots=True)
class MappingForm:
    """What the form returns: the checked fields, or `delete` to remove the mapping."""

    fields: dict[str, str | int]
    delete: bool = False


class MappingDialog(ModalScreen[MappingForm | None]):
    """Add or edit the mapping of one clause to one control. Values are checked before the
    form closes, so a mistake never costs the user their rationale."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="mapping-form-save", priority=True),
        Binding("escape", "cancel", "Cancel", id="mapping-form-cancel"),
    ]

    def __init__(self, full_ref: str, title: str, control: str,
                 mapping: Mapping | None) -> None:
        super().__init__()
        self.full_ref, self.title_text, self.control, self.mapping = (full_ref, title, control,
                                                                      mapping)

    def compose(self) -> ComposeResult:
        m = self.mapping
        with Vertical(id="mapping-form", classes="dialog"):
            yield Static(f"[b]{escape(self.full_ref)}[/] → [b]{self.control}[/]"
                         f"{' — ' + escape(self.title_text) if self.title_text else ''}\n"
                         f"[dim]{'edit the mapping' if m else 'a new mapping'}"
                         f"{'; saving a change sends it back to draft' if m and m.review_status != 'draft' else ''}[/]")  # noqa: E501
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label("Relationship")
                    yield PlainSelect([(r, r) for r in RELATIONSHIPS], id="relationship",
                                 value=m.relationship if m else Select.NULL,
                                 prompt="choose", compact=True)
                with Vertical():
                    yield Label("Coverage")
                    yield PlainSelect([(c, c) for c in COVERAGE], id="coverage", allow_blank=False,
                                 value=m.coverage if m else DEFAULT_COVERAGE, compact=True)
                with Vertical():
                    yield Label("Matching")
                    yield PlainSelect([(x, x) for x in MATCHING], id="matching", allow_blank=False,
                                 value=m.matching if m else DEFAULT_MATCHING, compact=True)
                with Vertical():
                    yield Label("Strength 0–10")
                    yield Input(str(m.strength if m else DEFAULT_STRENGTH), id="strength",
                                compact=True)
            yield Label("Rationale — why the control meets the clause")
            yield TextArea(m.rationale if m else "", id="rationale", soft_wrap=True,
                           show_line_numbers=False)
            yield Static(id="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                if m is not None:
                    yield Button("Delete", variant="error", id="delete", compact=True)
                yield Button("Save  ctrl+s", variant="primary", id="save", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#relationship" if self.mapping is None else "#rationale").focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check the form; close it with the mapping, or say what is wrong and stay open."""
        relationship = self.query_one("#relationship", Select).value
        try:
            if relationship is Select.NULL:
                raise ValueError("choose a relationship")
            fields = check_fields(
                relationship=str(relationship),
                coverage=str(self.query_one("#coverage", Select).value),
                matching=str(self.query_one("#matching", Select).value),
                strength=self.query_one("#strength", Input).value,
                rationale=self.query_one("#rationale", TextArea).text)
        except ValueError as exc:
            error = self.query_one("#form-error", Static)
            error.update(str(exc))
            error.add_class("-shown")
            return
        self.dismiss(MappingForm(fields))

    @on(Button.Pressed, "#delete")
    def _delete(self, event: Button.Pressed) -> None:
        """The first press asks; the second deletes (the audit log keeps what it said)."""
        if not event.button.has_class("-armed"):
            event.button.add_class("-armed")
            event.button.label = "Delete: press again"
            return
        self.dismiss(MappingForm({}, delete=True))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the form; nothing is written."""
        self.dismiss(None)


class ClauseDialog(ModalScreen[None]):
    """One clause: its text and every mapping on it, with rationale and review trail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="clause-dialog-close"),
    ]

    def __init__(self, body: str) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="clause-dialog", classes="dialog"):
            with VerticalScroll():
                yield Static(self.body)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close  esc", id="close", compact=True)
        yield Footer()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close the clause."""
        self.dismiss(None)


class ControlMappingsDialog(ModalScreen[None]):
    """Every clause of every regulation mapped to one control ("test once, comply with
    many"), with relationship, coverage and review status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="control-mappings-close"),
    ]
    SHOWN = 2_000  # rows a DataTable keeps quick; the CLI lists them all

    def __init__(self, control: str, name: str,
                 rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.control, self.name_text, self.rows = control, name, rows

    def compose(self) -> ComposeResult:
        with Vertical(id="control-mappings", classes="dialog"):
            more = f" (the first {self.SHOWN:,}; `crosswalk mappings --control " \
                   f"{self.control}` lists all)" if len(self.rows) > self.SHOWN else ""
            yield Static(f"[b]{self.control}[/] {escape(self.name_text)} — "
                         f"{len(self.rows):,} mapped clauses{more}")
            yield PlainTable(id="control-mappings-table", cursor_type="row")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close  esc", id="close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Clause", "Relationship", "Coverage", "Review")
        table.add_rows(self.rows[:self.SHOWN])
        table.focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)
