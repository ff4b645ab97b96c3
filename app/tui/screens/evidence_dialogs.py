"""Dialogs of the evidence flows (Evidence, Controls and Regulations screens): attach, new
version, edit, link, unlink, record a test, export, and the evidence picker. Every form checks
its values with the services' own checks before it closes, so a mistake never costs the user
their input; the write itself runs in a thread worker (`start_write`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from app.domain import evidence as ev
from app.domain.controls import CONTROLS
from app.errors import CrosswalkError
from app.services.evidence import Source, check_provenance, check_record
from app.services.evidence_status import EvidenceRow
from app.tui.markup import escape
from app.tui.messages import (
    EvidenceChanged,
    EvidenceFailed,
    EvidenceLoaded,
    EvidenceProgress,
    EvidenceWorking,
)
from app.tui.screens.import_dialogs import FilePickerDialog
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.evidence import EvidenceDetail
    from app.store import Store

T = TypeVar("T")

STATUS_STYLE = {ev.CURRENT: "green", ev.EXPIRING: "bold yellow", ev.EXPIRED: "bold red",
                ev.MISSING: "bold red", ev.NONE: "dim"}
STATUS_MARKUP = {ev.CURRENT: "$text-success", ev.EXPIRING: "b $text-warning",
                 ev.EXPIRED: "b $text-error", ev.MISSING: "b $text-error", ev.NONE: "dim"}


def status_markup(status: str) -> str:
    """A status in words, coloured (the words carry the meaning; colour only helps)."""
    return f"[{STATUS_MARKUP.get(status, '')}]{status}[/]"


def split_list(text: str) -> list[str]:
    """``SEC-1, OPS-2`` or ``GDPR Art. 30; GDPR Art. 32(1)(b)`` → the items."""
    return [part.strip() for part in re.split(r"[;,\n]", text) if part.strip()]


# --------------------------------------------------------------------------- writes
JobResult = tuple[str, int | None, list[str]]  # summary, evidence to show, warnings
Job = Callable[[], JobResult]
Progress = Callable[[int, int], None]


class CopyCancelled(CrosswalkError):
    """The user stopped a file copy; the service removed what it had copied."""


def start_write(node: DOMNode, what: str, job: Job, failed: str,
                draft: object | None = None) -> None:
    """Run `job` (a service call returning summary, evidence id, warnings) in a thread
    worker. It posts `EvidenceWorking`, then `EvidenceChanged`, or `EvidenceFailed` for a
    CrosswalkError (the service wrote nothing); it never touches a widget."""

    def run() -> None:  # thread
        node.post_message(EvidenceWorking(what))
        try:
            summary, evidence_id, warnings = job()
        except CopyCancelled:
            node.post_message(EvidenceFailed(failed, f"{what} was cancelled; nothing was "
                                                     "stored"))
            return
        except CrosswalkError as exc:
            node.post_message(EvidenceFailed(failed, str(exc), draft))
            return
        node.post_message(EvidenceChanged(summary, evidence_id, warnings))

    node.run_worker(run, thread=True, group="evidence-write", exit_on_error=False,
                    description=what)


def start_copy(node: DOMNode, what: str, job: Callable[[Progress], JobResult], failed: str,
               draft: object | None = None) -> None:
    """`start_write` for a job that copies a file: it gets a progress callback that posts
    `EvidenceProgress` (at most once per percent) and stops the copy once the worker is
    cancelled (ctrl+x on the Evidence screen)."""
    last = [-1]

    def progress(done: int, total: int) -> None:  # thread
        if get_current_worker().is_cancelled:
            raise CopyCancelled(f"{what} was cancelled")
        percent = done * 100 // total if total else -1
        if percent != last[0]:
            last[0] = percent
            node.post_message(EvidenceProgress(done, total))

    start_write(node, what, lambda: job(progress), failed, draft)


# --------------------------------------------------------------------------- the base form
class FormDialog(ModalScreen[T]):
    """A form: ctrl+s checks and closes, escape closes with nothing; errors show inside."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="evidence-form-save", priority=True),
        Binding("escape", "cancel", "Cancel", id="evidence-form-cancel"),
    ]
    SAVE_LABEL = "Save  ctrl+s"

    def buttons(self) -> ComposeResult:
        yield Static(id="form-error", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button(self.SAVE_LABEL, variant="primary", id="save", compact=True)
            yield Button("Cancel  esc", id="cancel", compact=True)

    def value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        raise TypeError(widget_id)

    def fail(self, message: str, focus: str | None = None) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.add_class("-shown")
        if focus:
            self.query_one(f"#{focus}").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        action = {"save": "save", "cancel": "cancel", "browse": "browse"}.get(
            event.button.id or "")
        if action is not None:
            event.stop()
            self.run_action(action)

    def action_save(self) -> None:
        """Check the form; close it with its values, or say what is wrong and stay open."""

    def action_cancel(self) -> None:
        """Close the form; nothing is written."""
        self.dismiss(None)  # type: ignore[arg-type]


def _field(label: str, widget: Any) -> Vertical:
    return Vertical(Label(label), widget, classes="field")


def _text(values: dict[str, str], key: str, label: str, placeholder: str = "") -> Vertical:
    """A labelled one-line input for `values[key]`, with the id ``ev-<key>``."""
    return _field(label, _input(values.get(key, ""), "ev-" + key.replace("_", "-"),
                                placeholder))


def _input(value: str, widget_id: str, placeholder: str = "") -> Input:
    return Input(value, placeholder=placeholder, id=widget_id, compact=True)


def _select(options: tuple[str, ...], value: str, widget_id: str) -> Select[str]:
    return PlainSelect([(o, o) for o in options], value=value if value in options else options[0],
                  allow_blank=False, id=widget_id, compact=True)


class EvidenceFilePicker(FilePickerDialog):
    """The file picker of the imports, titled for evidence."""

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#file-picker > Static", Static).update(
            "[b]Choose the evidence file[/]  [dim]any file: a document, a report, a log, a "
            "screenshot, an export…[/]")


# --------------------------------------------------------------------------- attach
@dataclass(slots=True)
class AttachForm:
    """A checked attach form: what add_evidence needs, and the raw `values` (a draft)."""

    values: dict[str, str]
    source: Source
    record: dict[str, str]
    controls: list[str]
    clauses: list[str]
    provenance: dict[str, str | None]


PROVENANCE = ("collected_at", "collected_by", "valid_until", "period_from", "period_to")


class _SourceFields:
    """The file-or-link part shared by the attach and new-version forms."""

    values: dict[str, str]
    start: Path

    def source_fields(self) -> ComposeResult:
        v = self.values
        with Horizontal(classes="form-row"):
            yield _text(v, "path", "File to attach (a path; ctrl+o browses)", "path to a file")
            yield Button("Browse…  ctrl+o", id="browse", compact=True)
        yield _text(v, "url", "…or a link (URL), stored as the evidence instead of a file", "https://…")

    def action_browse(self: Any) -> None:
        """Choose the file in a file browser."""
        typed = self.value("ev-path")
        start = Path(typed).expanduser() if typed else self.start
        start = start if start.is_dir() else start.parent if start.parent.is_dir() \
            else self.start

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#ev-path", Input).value = str(path)
                self.query("#ev-title, #ev-collected-at").first().focus()

        self.app.push_screen(EvidenceFilePicker(start), chosen)

    def source_of(self, form: FormDialog[Any]) -> Source | None:
        path, url = form.value("ev-path"), form.value("ev-url")
        if path and url:
            form.fail("give a file or a link, not both", "ev-url")
            return None
        if not path and not url:
            form.fail("give a file to attach (or a link)", "ev-path")
            return None
        return Source(path=Path(path).expanduser()) if path else Source(url=url)


class AttachDialog(FormDialog[AttachForm | None], _SourceFields):
    """A new piece of evidence: a file (or a link), its record, links and provenance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormDialog.BINDINGS,
        Binding("ctrl+o", "browse", "Browse", id="evidence-form-browse", priority=True),
    ]
    SAVE_LABEL = "Attach  ctrl+s"

    def __init__(self, store: Store, draft: dict[str, str] | None = None, *,
                 start: Path | None = None) -> None:
        super().__init__()
        self.store = store
        self.values = dict(draft or {})
        self.start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        v = self.values
        with Vertical(id="attach-form", classes="dialog evidence-form"):
            yield Static("[b]Attach evidence[/]  [dim]the file is copied into the "
                         "workspace's evidence store and hashed (SHA-256)[/]")
            with VerticalScroll(classes="form-body"):
                yield from self.source_fields()
                yield _text(v, "title", "Title", "what it is, e.g. Q3 access review")
                with Horizontal(classes="form-row"):
                    yield _field("Kind", _select(ev.KINDS, v.get("kind", "document"),
                                                 "ev-kind"))
                    yield _field("Classification", _select(
                        ev.CLASSIFICATIONS, v.get("classification", "internal"),
                        "ev-classification"))
                    yield _text(v, "source_system", "Source system", "e.g. Jira")
                with Horizontal(classes="form-row"):
                    yield _text(v, "controls", "Controls (e.g. SEC-1, OPS-2)")
                    yield _text(v, "clauses", "Clauses (e.g. GDPR Art. 32(1)(b); …)")
                with Horizontal(classes="form-row"):
                    yield _text(v, "collected_at", "Collected at", "today")
                    yield _text(v, "valid_until", "Valid until", "YYYY-MM-DD")
                    yield _text(v, "period_from", "Period from", "YYYY-MM-DD")
                    yield _text(v, "period_to", "Period to", "YYYY-MM-DD")
                yield Label("Description")
                yield TextArea(v.get("description", ""), id="ev-description",
                               soft_wrap=True, show_line_numbers=False)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ev-path", Input).focus()

    def action_save(self) -> None:
        ids = {"path": "ev-path", "url": "ev-url", "title": "ev-title", "kind": "ev-kind",
               "classification": "ev-classification", "source_system": "ev-source-system",
               "controls": "ev-controls", "clauses": "ev-clauses",
               "collected_at": "ev-collected-at", "valid_until": "ev-valid-until",
               "period_from": "ev-period-from", "period_to": "ev-period-to",
               "description": "ev-description"}
        values = {k: self.value(i) for k, i in ids.items()}
        source = self.source_of(self)
        if source is None:
            return
        try:
            record = check_record(title=values["title"], kind=values["kind"],
                                  description=values["description"],
                                  classification=values["classification"],
                                  source_system=values["source_system"])
        except CrosswalkError as exc:
            self.fail(str(exc), "ev-title")
            return
        provenance = {k: values[k] or None for k in PROVENANCE if k in values}
        try:
            check_provenance(self.store, **provenance)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        self.dismiss(AttachForm(values, source, record, split_list(values["controls"]),
                                split_list(values["clauses"]), provenance))


# --------------------------------------------------------------------------- new version
@dataclass(slots=True)
class VersionForm:
    values: dict[str, str]
    source: Source
    provenance: dict[str, str | None]


class VersionDialog(FormDialog[VersionForm | None], _SourceFields):
    """A new file for existing evidence (the next version), with its provenance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormDialog.BINDINGS,
        Binding("ctrl+o", "browse", "Browse", id="evidence-form-browse", priority=True),
    ]
    SAVE_LABEL = "Add version  ctrl+s"

    def __init__(self, store: Store, label: str, title: str, next_version: int,
                 draft: dict[str, str] | None = None, *, start: Path | None = None) -> None:
        super().__init__()
        self.store, self.label, self.title_text = store, label, title
        self.next_version = next_version
        self.values = dict(draft or {})
        self.start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        v = self.values
        with Vertical(id="version-form", classes="dialog evidence-form"):
            yield Static(f"[b]{self.label} version {self.next_version}[/]  "
                         f"{escape(self.title_text)}\n[dim]a new file; the earlier versions "
                         "stay as they are[/]")
            with VerticalScroll(classes="form-body"):
                yield from self.source_fields()
                with Horizontal(classes="form-row"):
                    yield _text(v, "collected_at", "Collected at", "today")
                    yield _text(v, "collected_by", "Collected by", "you")
                    yield _text(v, "valid_until", "Valid until", "YYYY-MM-DD")
                with Horizontal(classes="form-row"):
                    yield _text(v, "period_from", "Period from", "YYYY-MM-DD")
                    yield _text(v, "period_to", "Period to", "YYYY-MM-DD")
                    yield _text(v, "note", "Note", "what changed")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ev-path", Input).focus()

    def action_save(self) -> None:
        keys = ("path", "url", *PROVENANCE, "note")
        values = {k: self.value("ev-" + k.replace("_", "-")) for k in keys}
        source = self.source_of(self)
        if source is None:
            return
        provenance = {k: values[k] or None for k in (*PROVENANCE, "note")}
        try:
            check_provenance(self.store, **provenance)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        self.dismiss(VersionForm(values, source, provenance))


# --------------------------------------------------------------------------- edit
class EditEvidenceDialog(FormDialog[dict[str, str] | None]):
    """The record's fields: title, kind, classification, source system, description.
    Returns only the fields that changed."""

    def __init__(self, detail: EvidenceDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        e = self.detail.evidence
        with Vertical(id="edit-evidence-form", classes="dialog evidence-form"):
            yield Static(f"[b]{self.detail.label}[/]  edit the record\n[dim]its files "
                         "(versions) do not change[/]")
            with VerticalScroll(classes="form-body"):
                yield _field("Title", _input(e.title, "ev-title"))
                with Horizontal(classes="form-row"):
                    yield _field("Kind", _select(ev.KINDS, e.kind, "ev-kind"))
                    yield _field("Classification", _select(ev.CLASSIFICATIONS,
                                                           e.classification,
                                                           "ev-classification"))
                    yield _field("Source system", _input(e.source_system,
                                                         "ev-source-system"))
                yield Label("Description")
                yield TextArea(e.description, id="ev-description", soft_wrap=True,
                               show_line_numbers=False)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ev-title", Input).focus()

    def action_save(self) -> None:
        values = {"title": self.value("ev-title"), "kind": self.value("ev-kind"),
                  "classification": self.value("ev-classification"),
                  "source_system": self.value("ev-source-system"),
                  "description": self.value("ev-description")}
        try:
            checked = check_record(**values)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        e = self.detail.evidence
        self.dismiss({k: v for k, v in checked.items() if getattr(e, k) != v})


# --------------------------------------------------------------------------- link / unlink
@dataclass(slots=True)
class LinkForm:
    controls: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)


class LinkDialog(FormDialog[LinkForm | None]):
    """Link the evidence to a control and/or to clauses."""

    SAVE_LABEL = "Link  ctrl+s"

    def __init__(self, label: str, title: str, linked: list[str]) -> None:
        super().__init__()
        self.label, self.title_text, self.linked = label, title, linked

    def compose(self) -> ComposeResult:
        now = ", ".join(escape(t) for t in self.linked) or "nothing yet"
        with Vertical(id="link-form", classes="dialog evidence-form"):
            yield Static(f"[b]Link {self.label}[/]  {escape(self.title_text)}\n"
                         f"[dim]linked to: {now}[/]")
            yield _field("Control", PlainSelect([(f"{c.id}  {c.name}", c.id) for c in CONTROLS],
                                           prompt="no control", id="ev-link-control",
                                           compact=True))
            yield _field("Clauses (full refs, e.g. GDPR Art. 32(1)(b); HIPAA § 164.312(b))",
                         _input("", "ev-link-clauses"))
            yield from self.buttons()
        yield Footer()

    def action_save(self) -> None:
        control = self.value("ev-link-control")
        clauses = split_list(self.value("ev-link-clauses"))
        if not control and not clauses:
            self.fail("choose a control or give a clause to link to")
            return
        self.dismiss(LinkForm([control] if control else [], clauses))


class UnlinkDialog(FormDialog[tuple[str, str] | None]):
    """Choose one link to remove; returns ("control" | "clause", target)."""

    SAVE_LABEL = "Unlink  ctrl+s"

    def __init__(self, label: str, links: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.label, self.links = label, links

    def compose(self) -> ComposeResult:
        with Vertical(id="unlink-form", classes="dialog evidence-form"):
            yield Static(f"[b]Unlink {self.label}[/]  [dim]the audit log keeps that the link "
                         "existed[/]")
            yield OptionList(*(Option(Text.assemble((target, "bold"), "  ", title),
                                      id=str(i)) for i, (_, target, title)
                               in enumerate(self.links)), id="ev-unlink-list")
            yield from self.buttons()
        yield Footer()

    @on(OptionList.OptionSelected)
    def action_save(self) -> None:
        index = self.query_one("#ev-unlink-list", OptionList).highlighted
        if index is None:
            self.fail("choose the link to remove")
            return
        kind, target, _ = self.links[index]
        self.dismiss((kind, target))


# --------------------------------------------------------------------------- control test
@dataclass(slots=True)
class TestForm:
    """A checked control test: the control, the fields add_test takes, the evidence refs."""

    control_id: str
    fields: dict[str, Any]
    evidence: list[str]

    __test__ = False  # not a pytest class


class TestDialog(FormDialog[TestForm | None]):
    """Record how a control was tested, with the evidence versions used."""

    SAVE_LABEL = "Record  ctrl+s"
    __test__ = False

    def __init__(self, store: Store, control_id: str | None, evidence: str = "",
                 controls: list[str] | None = None) -> None:
        super().__init__()
        self.store, self.control_id, self.evidence = store, control_id, evidence
        self.controls = controls

    def compose(self) -> ComposeResult:
        about = f" of {self.control_id}" if self.control_id else ""
        wanted = self.controls or [c.id for c in CONTROLS]
        with Vertical(id="test-form", classes="dialog evidence-form"):
            yield Static(f"[b]Record a control test{about}[/]  [dim]how it was tested, on "
                         "what, with what result[/]")
            with VerticalScroll(classes="form-body"):
                with Horizontal(classes="form-row"):
                    yield _field("Control", PlainSelect(
                        [(c.id, c.id) for c in CONTROLS if c.id in wanted],
                        value=self.control_id if self.control_id in wanted else wanted[0],
                        allow_blank=False, id="ct-control", compact=True))
                    yield _field("Procedure", _select(ev.PROCEDURES, "inspection",
                                                      "ct-procedure"))
                    yield _field("Result", _select(ev.RESULTS, "effective", "ct-result"))
                with Horizontal(classes="form-row"):
                    yield _field("Tested on", _input("", "ct-tested-on", "today"))
                    yield _field("Tester", _input("", "ct-tester", "you"))
                    yield _field("Sample size", _input("", "ct-sample-size", "e.g. 25"))
                yield _field("Population", _input("", "ct-population",
                                                  "e.g. all 412 access requests of Q3"))
                yield _field("Evidence used (EV-3 is its latest version, EV-3@1 version 1)",
                             _input(self.evidence, "ct-evidence"))
                yield Label("Exceptions (needed when the result is not plainly effective)")
                yield TextArea("", id="ct-exceptions", soft_wrap=True,
                               show_line_numbers=False)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ct-procedure").focus()

    def action_save(self) -> None:
        from app.services.control_tests import check_test

        refs = split_list(self.value("ct-evidence"))
        try:
            for ref in refs:
                ev.parse_version_ref(ref)
        except ValueError as exc:
            self.fail(str(exc), "ct-evidence")
            return
        fields = {"procedure": self.value("ct-procedure"), "result": self.value("ct-result"),
                  "tested_on": self.value("ct-tested-on") or None,
                  "tester": self.value("ct-tester") or None,
                  "population": self.value("ct-population"),
                  "sample_size": self.value("ct-sample-size") or None,
                  "exceptions": self.value("ct-exceptions")}
        try:
            check_test(self.store, **fields)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        self.dismiss(TestForm(self.value("ct-control"), fields, refs))


# --------------------------------------------------------------------------- export
@dataclass(slots=True)
class ExportForm:
    version: int
    dest: Path
    overwrite: bool


class ExportDialog(FormDialog[ExportForm | None]):
    """Copy a version's file out of the workspace (its hash is checked on the way)."""

    SAVE_LABEL = "Export  ctrl+s"

    def __init__(self, detail: EvidenceDetail, version: int | None = None,
                 start: Path | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.version = version or detail.latest.version
        self.start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        d = self.detail
        options = [(f"v{v.version}  {ev.shown(v.original_name)[:50]}", v.version)
                   for v in reversed(d.versions)]
        with Vertical(id="export-form", classes="dialog evidence-form"):
            yield Static(f"[b]Export {d.label}[/]  {escape(d.evidence.title)}\n[dim]to a "
                         "folder (the file keeps its name) or to a file path[/]")
            yield _field("Version", PlainSelect(options, value=self.version, allow_blank=False,
                                           id="ev-export-version", compact=True))
            yield _field("Folder or file", _input(str(self.start), "ev-export-path"))
            yield Checkbox("Overwrite an existing file", id="ev-export-overwrite",
                           compact=True)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ev-export-path", Input).focus()

    @on(Input.Submitted)
    def action_save(self) -> None:
        path = self.value("ev-export-path")
        if not path:
            self.fail("give a folder or a file path")
            return
        version = self.query_one("#ev-export-version", Select).value
        self.dismiss(ExportForm(int(version) if isinstance(version, int) else
                                self.detail.latest.version, Path(path).expanduser(),
                                self.query_one("#ev-export-overwrite", Checkbox).value))


# --------------------------------------------------------------------------- picker
class EvidencePickerDialog(ModalScreen[int | None]):
    """Search the evidence by title (or EV id) and choose one; returns its id. The list is
    read in a worker, and at most `SHOWN` matches are listed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="evidence-picker-cancel"),
        Binding("down", "focus_list", "List", show=False),
    ]
    SHOWN = 200

    def __init__(self, store: Store, heading: str, exclude: set[int] | None = None) -> None:
        super().__init__()
        self.store, self.heading = store, heading
        self.exclude = exclude or set()
        self.rows: list[EvidenceRow] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="evidence-picker", classes="dialog"):
            yield Static(self.heading, id="picker-heading")
            yield Input(placeholder="search titles, or an id like EV-12", id="picker-search")
            yield OptionList(id="picker-list")
            yield Static(id="picker-count")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Link  enter", variant="primary", id="pick", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#picker-list", OptionList).loading = True
        self.query_one("#picker-search", Input).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker",
          description="Reading the evidence")
    def load(self) -> None:  # thread: post messages only
        from app.services.evidence_status import list_evidence

        rows = list_evidence(self.store)
        if not get_current_worker().is_cancelled:
            self.post_message(EvidenceLoaded(rows))

    def on_evidence_loaded(self, message: EvidenceLoaded) -> None:
        self.rows = [r for r in message.rows if r.id not in self.exclude]
        self.query_one("#picker-list", OptionList).loading = False
        self._list(self.query_one("#picker-search", Input).value)

    def on_worker_state_changed(self, event: object) -> None:
        self.app.on_worker_state_changed(event)  # type: ignore[attr-defined,arg-type]

    @on(Input.Changed, "#picker-search")
    def _typed(self, event: Input.Changed) -> None:
        if self.rows is not None:
            self._list(event.value)

    def _list(self, query: str) -> None:
        assert self.rows is not None
        text = query.strip().casefold()
        found = [r for r in self.rows if not text or text in r.title.casefold()
                 or text == r.label.casefold()]
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        options.add_options(Option(Text.assemble((r.label.ljust(8), "bold"),
                                                 (r.status.ljust(9), STATUS_STYLE[r.status]),
                                                 " ".join(r.title.split())), id=str(r.id))
                            for r in found[:self.SHOWN])
        if found:
            options.highlighted = 0
        more = f" (the first {self.SHOWN})" if len(found) > self.SHOWN else ""
        self.query_one("#picker-count", Static).update(
            f"[dim]{len(found):,} of {len(self.rows):,} match{more}[/]" if self.rows else
            "[dim]no evidence to link yet: attach some on the Evidence screen (6)[/]")

    def action_focus_list(self) -> None:
        self.query_one("#picker-list", OptionList).focus()

    @on(Input.Submitted, "#picker-search")
    @on(OptionList.OptionSelected, "#picker-list")
    @on(Button.Pressed, "#pick")
    def _pick(self) -> None:
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is None:
            self.notify("no evidence matches", severity="warning", markup=False)
            return
        option = options.get_option_at_index(options.highlighted)
        self.dismiss(int(option.id or 0))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
