"""Applicability on the Regulations screen: the scope dialog (is this clause applicable? if
not, why), the worker that records the decision, and the messages it posts. The form checks
the justification with the service's own rule before it closes, so a missing one never
costs the user their input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Footer, Label, Static, Switch, TextArea

from app.errors import CrosswalkError
from app.tui.markup import escape
from app.tui.screens.evidence_dialogs import FormDialog

if TYPE_CHECKING:
    from app.services.applicability import ScopeDecision
    from app.store import Store


# --------------------------------------------------------------------------- messages
@dataclass
class ScopeLoaded(Message):
    """The applicability decisions (clauses not applicable), read in a worker; `relabel`:
    after a change, relabel the tree in place instead of waiting for the clause index."""

    decisions: list[ScopeDecision]
    relabel: bool = False


@dataclass
class ScopeChanged(Message):
    summary: str


@dataclass
class ScopeFailed(Message):
    error: str
    full_ref: str
    draft: ScopeForm


# --------------------------------------------------------------------------- the form
@dataclass(frozen=True, slots=True)
class ScopeForm:
    applicable: bool
    justification: str


class ScopeDialog(FormDialog[ScopeForm | None]):
    """Declare a clause not applicable (with its justification) or applicable again."""

    BINDINGS: ClassVar[list[BindingType]] = [*FormDialog.BINDINGS]
    SAVE_LABEL = "Save  ctrl+s"

    def __init__(self, full_ref: str, title: str, current: ScopeDecision | None = None, *,
                 inherited_from: str | None = None, draft: ScopeForm | None = None) -> None:
        super().__init__()
        self.full_ref, self.title_text, self.current = full_ref, title, current
        self.inherited_from = inherited_from
        self.draft = draft

    def compose(self) -> ComposeResult:
        now = self.draft or (ScopeForm(False, self.current.justification) if self.current
                             else ScopeForm(True, ""))
        if self.current is not None:
            state = (f"not applicable since {escape(self.current.decided_at[:10])}, decided "
                     f"by {escape(self.current.decided_by)}")
        elif self.inherited_from:
            state = (f"not applicable as part of {escape(self.inherited_from)}; a decision "
                     "here is recorded for this clause too")
        else:
            state = "applicable (no decision recorded)"
        with Vertical(id="scope-form", classes="dialog evidence-form"):
            yield Static(f"[b]Applicability of {escape(self.full_ref)}[/]  "
                         f"{escape(self.title_text)}\n[dim]now: {state}[/]")
            with Horizontal(classes="scope-switch"):
                yield Switch(value=not now.applicable, id="scope-na", animate=False)
                yield Label("Not applicable to us (the clauses inside it go with it)")
            yield Label("Justification (required when not applicable; kept in the audit "
                        "log)")
            yield TextArea(now.justification, id="scope-why", soft_wrap=True,
                           show_line_numbers=False)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scope-na", Switch).focus()

    def action_save(self) -> None:
        from app.domain.text import clean_text
        from app.services.applicability import MAX_JUSTIFICATION

        applicable = not self.query_one("#scope-na", Switch).value
        try:
            why = clean_text(self.value("scope-why"), "the justification", MAX_JUSTIFICATION,
                             multiline=True, required=not applicable)
        except ValueError as exc:
            self.fail(f"{exc}: say why {self.full_ref} does not apply" if not applicable
                      else str(exc), "scope-why")
            return
        self.dismiss(ScopeForm(applicable, why))


# --------------------------------------------------------------------------- the write
def start_scope_write(node: DOMNode, store: Store, full_ref: str, form: ScopeForm) -> None:
    """Record the decision in a thread worker; it posts `ScopeChanged` or `ScopeFailed`."""

    def run() -> None:  # thread: post messages only
        from app.services.applicability import set_applicability

        try:
            change = set_applicability(store, full_ref, applicable=form.applicable,
                                       justification=form.justification)
        except CrosswalkError as exc:
            node.post_message(ScopeFailed(str(exc), full_ref, form))
            return
        state = "applicable" if form.applicable else "not applicable"
        node.post_message(ScopeChanged(f"{full_ref}: {state}" if change else
                                       f"{full_ref}: already {state}; nothing changed"))

    node.run_worker(run, thread=True, group="clause-scope-write", exit_on_error=False,
                    description=f"Recording the applicability of {full_ref}")
