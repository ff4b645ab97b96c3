"""Dialogs of the exercise screens: a new exercise (playbook, scenario file, title, speed) and
the log line (one entry: its text, and what it answers, completes or meets). Each returns a
typed draft through `dismiss()`; the screens write it in a thread worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Select, Static

from app.domain import exercise as ex
from app.tui.markup import escape
from app.tui.screens.evidence_dialogs import FormDialog, _field, _input
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.exercises import ExerciseView
    from app.services.playbooks import PlaybookView

NONE = ""
SPEEDS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
KIND_TITLES = {"aware": "Became aware", "decision": "Decision", "action": "Action",
               "escalation": "Escalation", "notification": "Notification", "note": "Note"}


@dataclass(frozen=True, slots=True)
class NewExercise:
    playbook: str
    scenario: str  # a path, or "" for the playbook's shipped scenario
    title: str
    speed: int | None


class NewExerciseDialog(FormDialog[NewExercise | None]):
    """Create an exercise from a playbook and a scenario file (blank: the shipped one)."""

    SAVE_LABEL = "Create  ctrl+s"

    def __init__(self, playbooks: list[PlaybookView], draft: NewExercise | None = None) -> None:
        super().__init__()
        self.playbooks = playbooks
        self.draft = draft

    def compose(self) -> ComposeResult:
        d = self.draft
        options = [(Text(f"{v.playbook.title} ({v.playbook.id})"), v.playbook.id)
                   for v in self.playbooks]
        first = d.playbook if d else (options[0][1] if options else NONE)
        with Vertical(id="exercise-form", classes="dialog evidence-form"):
            yield Static(f"[b]New exercise[/]  [dim]{ex.BANNER}[/]")
            yield _field("Playbook", PlainSelect(options, value=first, allow_blank=False,
                                            id="nx-playbook", compact=True))
            yield _field("Scenario file (YAML or JSON; blank: the playbook's shipped "
                         "scenario)", _input(d.scenario if d else "", "nx-scenario",
                                             "path/to/scenario.yaml"))
            with Horizontal(classes="form-row"):
                yield _field("Title (blank: the scenario's)",
                             _input(d.title if d else "", "nx-title"))
                yield _field("Speed ×", PlainSelect([(f"×{s}", str(s)) for s in SPEEDS],
                                               value=str(d.speed) if d and d.speed else Select.NULL,
                                               prompt="the scenario's", id="nx-speed",
                                               compact=True))
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#nx-playbook").focus()

    def action_save(self) -> None:
        speed = self.value("nx-speed")
        self.dismiss(NewExercise(self.value("nx-playbook"), self.value("nx-scenario"),
                                 self.value("nx-title"), int(speed) if speed else None))


@dataclass(frozen=True, slots=True)
class LogDraft:
    kind: str
    text: str
    actor: str
    at_ms: int
    inject: str | None = None
    step: int | None = None
    clock: str | None = None
    containment: bool = False


class LogLineDialog(FormDialog[LogDraft | None]):
    """One log entry, stamped with the exercise time the key was pressed (`at_ms`): enter in
    the text saves; the inject it answers defaults to the latest one released."""

    SAVE_LABEL = "Log  enter"

    def __init__(self, view: ExerciseView, kind: str, at_ms: int, actor: str,
                 draft: LogDraft | None = None) -> None:
        super().__init__()
        self.view = view
        self.kind = kind
        self.at_ms = at_ms
        self.actor = actor
        self.draft = draft

    def compose(self) -> ComposeResult:
        view, d = self.view, self.draft
        released, _ = ex.due_injects(view.scenario, self.at_ms)
        injects = [(Text(f"{i.id} {ex.format_offset(i.at_ms)} — {i.content[:50]}"), i.id)
                   for i in reversed(released)]
        # a response answers the latest inject by default; a facilitator's note answers none
        inject = d.inject if d else (released[-1].id if released and self.kind != "note"
                                     else NONE)
        steps = [(Text(f"{n}. {s.name}"), str(n)) for n, s in enumerate(view.playbook.steps, 1)]
        with Vertical(id="logline-form", classes="dialog evidence-form"):
            yield Static(f"[b]{KIND_TITLES[self.kind]}[/] at "
                         f"[b]{ex.format_offset(self.at_ms)}[/]  [dim]{view.label} · "
                         f"{ex.BANNER}[/]")
            yield _field("What happened", _input(d.text if d else "", "lg-text",
                                                 "type, then enter"))
            with Horizontal(classes="form-row"):
                yield _field("Who", _input(d.actor if d else self.actor, "lg-actor"))
                yield _field("Answers inject", PlainSelect(injects, value=inject or Select.NULL,
                                                      prompt="none", id="lg-inject",
                                                      compact=True))
            with Horizontal(classes="form-row"):
                yield _field("Completes playbook step", PlainSelect(
                    steps, value=str(d.step) if d and d.step else Select.NULL,
                    prompt="none", id="lg-step", compact=True))
                if self.kind in ("notification", "decision"):
                    label = ("Meets regulatory clock" if self.kind == "notification"
                             else "Decides this clock does not apply")
                    clocks = [(Text(c), c) for c in view.playbook.clocks]
                    yield _field(label, PlainSelect(clocks, value=(d.clock if d and d.clock
                                                              else Select.NULL),
                                               prompt="none", id="lg-clock", compact=True))
            if self.kind == "decision":
                yield Checkbox("This is the containment decision",
                               value=bool(d and d.containment), id="lg-containment",
                               compact=True)
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#lg-text").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        text = self.value("lg-text")
        if not text:
            self.fail("Say what happened (one line is enough).", "lg-text")
            return
        step = self.value("lg-step")
        clock = self.value("lg-clock") if self.query("#lg-clock") else ""
        containment = bool(self.query("#lg-containment")) and \
            self.query_one("#lg-containment", Checkbox).value
        self.dismiss(LogDraft(self.kind, text, self.value("lg-actor"), self.at_ms,
                              self.value("lg-inject") or None, int(step) if step else None,
                              clock or None, containment))


def describe(draft: LogDraft) -> str:
    """The entry as a toast says it."""
    return f"{KIND_TITLES[draft.kind]} logged at {ex.format_offset(draft.at_ms)}: " \
           f"{escape(draft.text[:60])}"
