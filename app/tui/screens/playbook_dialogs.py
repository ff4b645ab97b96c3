"""Dialogs of the Playbooks screen: a step (edit or add), a yes/no question, the playbook file
to import and the folder to export to; and the messages the screen's thread workers post.

The step form checks the whole playbook as it would be saved (`parse_playbook`: a duplicate
step name, minutes out of range, an unknown control…) before it closes, so a refusal keeps
the form open with what was typed and the error shown in it (not in a toast: at 80×24 a
toast covers the form's buttons)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Footer, Input, Static, TextArea

from app.domain.playbooks import CSF_FUNCTIONS, Playbook, Step, parse_playbook
from app.tui.markup import escape
from app.tui.screens.evidence_dialogs import FormDialog, _field, _input, _select
from app.tui.screens.import_dialogs import FilePickerDialog


# --------------------------------------------------------------------------- messages
@dataclass
class PlaybookChanged(Message):
    """A write went through: say so, and show `slug` (and its step `step`, 0-based)."""

    summary: str
    slug: str
    step: int | None = None


@dataclass
class PlaybookFailed(Message):
    """A write, an import or an export failed and wrote nothing; `reopen` gives the user
    their form back."""

    title: str
    error: str
    reopen: Callable[[], object] | None = None


@dataclass
class PlaybookExists(Message):
    """The file's playbook has an id the workspace already has: ask before replacing."""

    path: Path
    slug: str
    title: str


@dataclass
class PlaybookExported(Message):
    path: Path
    slug: str
    steps: int


# --------------------------------------------------------------------------- steps
def split_controls(text: str) -> list[str]:
    """``OPS-2 GOV-2``, ``ops-2, gov-2`` → the ids as typed (checked by `parse_playbook`)."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


def with_step(pb: Playbook, step: Step, *, at: int, new: bool) -> Playbook:
    """The playbook with `step` at index `at`: replacing the step there, or inserted."""
    steps = list(pb.steps)
    if new:
        steps.insert(at, step)
    else:
        steps[at] = step
    return replace(pb, steps=tuple(steps))


def without_step(pb: Playbook, at: int) -> Playbook:
    return replace(pb, steps=pb.steps[:at] + pb.steps[at + 1:])


def moved_step(pb: Playbook, at: int, to: int) -> Playbook:
    steps = list(pb.steps)
    steps.insert(to, steps.pop(at))
    return replace(pb, steps=tuple(steps))


def checked(pb: Playbook) -> Playbook:
    """The playbook as `save_playbook` will store it; a ValueError says what is wrong."""
    return parse_playbook(pb.as_data())


class StepDialog(FormDialog[Step | None]):
    """One step of a playbook: its name, description, owner role, NIST CSF 2.0 function,
    expected minutes and the controls it exercises. `new` adds it at index `at`; otherwise it
    replaces the step at `at`. Returns the checked step, or None."""

    DEFAULT_CSS = """
    StepDialog { align: center middle; }
    StepDialog #step-form { width: 90; }
    StepDialog #st-function { width: 100%; }
    StepDialog #st-description { margin-top: 1; border-title-color: $text-muted; }
    """
    SAVE_LABEL = "Save step  ctrl+s"

    def __init__(self, playbook: Playbook, at: int, *, new: bool = False,
                 draft: Step | None = None, in_workspace: bool = True) -> None:
        super().__init__()
        self.playbook, self.at, self.new = playbook, at, new
        self.in_workspace = in_workspace
        if draft is None and not new:
            draft = playbook.steps[at]
        self.draft = draft

    def compose(self) -> ComposeResult:
        pb, s = self.playbook, self.draft
        near = self.playbook.steps[min(self.at, len(pb.steps) - 1)]
        title = escape(pb.title if len(pb.title) <= 52 else pb.title[:51] + "…")
        if self.new:
            heading = f"[b]Add step {self.at + 1}[/] · {title}\n[dim]" + (
                f"after step {self.at}, {escape(pb.steps[self.at - 1].name[:40])}"
                if self.at else "as the first step")
        else:
            heading = (f"[b]Step {self.at + 1} of {len(pb.steps)}[/] · {title}\n"
                       "[dim]an audited edit")
        if not self.in_workspace:
            heading += " · saving brings the shipped playbook into the workspace"
        with Vertical(id="step-form", classes="dialog evidence-form risk-form"):
            yield Static(heading + "[/]", id="step-heading")
            with Horizontal(classes="form-row"):
                yield _field("Name", _input(s.name if s else "", "st-name",
                                            "what the team does, in a few words"))
                minutes = _field("Minutes", _input(str(s.minutes) if s else "", "st-minutes",
                                                   "e.g. 30"))
                minutes.styles.width = 12  # inline: the forms' `.field` rule makes fields 1fr
                yield minutes
            with Horizontal(classes="form-row"):
                yield _field("Owner (a role)", _input(s.owner if s else "", "st-owner",
                                                      "e.g. ML on-call engineer"))
                yield _field("CSF function", _select(CSF_FUNCTIONS,
                                                     s.function if s else near.function,
                                                     "st-function"))
                yield _field("Controls", _input(" ".join(s.controls) if s else "",
                                                "st-controls", "e.g. OPS-2 GOV-2"))
            area = TextArea(s.description if s else "", id="st-description", soft_wrap=True,
                            show_line_numbers=False)
            area.border_title = "Description"
            area.styles.height = 6  # inline: the register forms' TextArea rule says 4
            yield area
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#st-name").focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        """Check the step within its playbook; close with it, or say what is wrong."""
        minutes_text = self.value("st-minutes")
        if not minutes_text.isdigit():
            self.fail("minutes must be a whole number from 1 to 525,600", "st-minutes")
            return
        step = Step(self.value("st-name"), self.value("st-description"),
                    self.value("st-owner"), self.value("st-function"), int(minutes_text),
                    tuple(split_controls(self.value("st-controls"))))
        try:
            pb = checked(with_step(self.playbook, step, at=self.at, new=self.new))
        except ValueError as exc:
            self.fail(_short(str(exc), self.playbook.id), _field_of(str(exc)))
            return
        self.dismiss(pb.steps[self.at])


def _short(message: str, slug: str) -> str:
    """"playbook model-drift: step 3 (X) has …" → "step 3 (X) has …"."""
    return message.removeprefix(f"playbook {slug}: ").removeprefix(f"playbook {slug} ")


def _field_of(message: str) -> str | None:
    for word, widget in (("minutes", "st-minutes"), ("control", "st-controls"),
                         ("same name", "st-name"), ("name", "st-name"),
                         ("owner", "st-owner"), ("description", "st-description")):
        if word in message:
            return widget
    return None


# --------------------------------------------------------------------------- confirm
# --------------------------------------------------------------------------- files
class PlaybookFilePicker(FilePickerDialog):
    """The file picker, titled for a playbook."""

    HEADING = "[b]Import a playbook[/]  [dim]our YAML/JSON shape, or OASIS CACAO 2.0 JSON[/]"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#file-tree").styles.height = 12  # inline: the buttons fit 80×24


class _Folders(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if p.is_dir() and not p.name.startswith(".")]


class FolderPickerDialog(ModalScreen[Path | None]):
    """Browse to a folder (or type its path); returns it, or None."""

    DEFAULT_CSS = """
    FolderPickerDialog { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="folder-picker-cancel"),
    ]

    def __init__(self, start: Path, heading: str) -> None:
        super().__init__()
        self.start, self.heading = start, heading

    def compose(self) -> ComposeResult:
        with Vertical(id="file-picker", classes="dialog"):
            yield Static(self.heading)
            tree = _Folders(self.start, id="file-tree")
            tree.styles.height = 12  # inline, under the file picker's 16: fits 80×24
            yield tree
            yield Input(str(self.start), placeholder="path to a folder", id="file-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Choose  enter", variant="primary", id="open", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#file-path", Input).focus()

    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#file-path", Input).value = str(event.path)

    @on(Input.Submitted, "#file-path")
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        path = Path(self.query_one("#file-path", Input).value).expanduser()
        if not path.is_dir():
            self.notify(f"{path} is not a folder", severity="warning", markup=False)
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)
