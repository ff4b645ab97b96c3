"""Evidence: every piece of evidence with its status (current, expiring, expired), filtered by
status, control and title; the highlighted one's record, versions, links, tests and a preview
of its file. Attach (`a`), add a version (`n`), link (`l`) and unlink (`u`), edit (`e`), record
a control test (`t`), export (`x`). The list is read in a worker and drawn by a line-API table,
so 20,000 records open as fast as 20; every write and file copy runs in a thread worker."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, LoadingIndicator, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from app.domain import evidence as ev
from app.domain.controls import CONTROLS
from app.domain.text import human_size
from app.errors import CrosswalkError
from app.services.audit import head_seq
from app.services.evidence import EvidenceDetail
from app.tui.markup import escape
from app.tui.messages import (
    EvidenceChanged,
    EvidenceDetailLoaded,
    EvidenceFailed,
    EvidenceLoaded,
    EvidenceProgress,
    EvidenceWorking,
)
from app.tui.screens.base import SectionScreen
from app.tui.screens.evidence_dialogs import (
    AttachDialog,
    AttachForm,
    EditEvidenceDialog,
    ExportDialog,
    ExportForm,
    LinkDialog,
    LinkForm,
    Progress,
    TestDialog,
    TestForm,
    UnlinkDialog,
    VersionDialog,
    VersionForm,
    start_copy,
    start_write,
    status_markup,
)
from app.tui.widgets.evidence_preview import EvidencePreview
from app.tui.widgets.evidence_table import EvidenceTable
from app.tui.widgets.plain_select import PlainSelect

ALL = "all"
FIRST_PAGE = 200  # rows read first, so the screen shows some at once
STATUS_FILTERS = (ALL, *ev.STATUSES)


def detail_markup(d: EvidenceDetail) -> str:
    """The record, every version (newest first), its links and the tests that used it.
    Everything that came from a user or a file is escaped; file names also through
    `shown()`, so control and bidirectional characters appear as escapes."""
    e = d.evidence
    lines = [f"[b]{d.label}[/] {status_markup(d.status)}  [b]{escape(e.title)}[/]",
             f"[dim]{escape(e.kind)} · {escape(e.classification)}"
             f"{' · from ' + escape(e.source_system) if e.source_system else ''}"
             f" · added {escape(e.created_at[:10])} by {escape(e.created_by)}[/]"]
    if e.description:
        lines += [escape(e.description)]
    lines += ["", f"[b]Versions[/] ({len(d.versions)})"]
    for v in reversed(d.versions):
        period = f" · period {v.period_from or '…'} – {v.period_to or '…'}" \
            if v.period_from or v.period_to else ""
        until = f"valid until {v.valid_until}" if v.valid_until else "no end date"
        lines.append(f" [b]v{v.version}[/] collected {escape(v.collected_at)} by "
                     f"{escape(v.collected_by)} · {until}{period}")
        lines.append(f"    {human_size(v.size)} · sha256 {v.sha256[:12]}… · "
                     f"{escape(ev.shown(v.original_name))} [dim]{escape(v.media_type)}[/]")
        if v.note:
            lines.append(f"    [i]{escape(v.note)}[/]")
    lines += ["", f"[b]Links[/] ({len(d.links)})" if d.links else
              "[b]Links[/] [dim]none — press l to link a control or a clause[/]"]
    for link in d.links:
        lines.append(f" [b]{escape(link.target)}[/] {escape(link.title)}")
    lines += ["", f"[b]Tests that used it[/] ({len(d.tests)})" if d.tests else
              "[b]Tests that used it[/] [dim]none — press t to record one[/]"]
    for t in d.tests:
        lines.append(f" [b]{ev.test_label(t.id or 0)}[/] {t.control_id} "
                     f"{escape(t.result.replace('-', ' '))} · {t.tested_on} by "
                     f"{escape(t.tester)} [dim]({escape(t.procedure)})[/]")
    return "\n".join(lines)


class EvidenceScreen(SectionScreen):
    SECTION_ID = "evidence"
    AUTO_FOCUS = "#ev-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "attach", "Attach", id="evidence-attach",
                tooltip="Attach a new piece of evidence: a file or a link, with provenance"),
        Binding("n", "new_version", "New version", id="evidence-new-version",
                tooltip="Attach a new file to the highlighted evidence as its next version"),
        Binding("l", "link", "Link", id="evidence-link",
                tooltip="Link the highlighted evidence to a control or a clause"),
        Binding("u", "unlink", "Unlink", id="evidence-unlink",
                tooltip="Remove one of the highlighted evidence's links"),
        Binding("e", "edit", "Edit", id="evidence-edit",
                tooltip="Edit the record: title, kind, classification, source, description"),
        Binding("t", "record_test", "Record test", id="evidence-test",
                tooltip="Record a control test that used this evidence"),
        Binding("x", "export", "Export", id="evidence-export",
                tooltip="Copy a version's file out to a folder or a file path"),
        Binding("s", "cycle_status", "Status filter", id="evidence-status-filter",
                tooltip="Show all, current, expiring or expired evidence"),
        Binding("slash", "filter", "Filter", id="evidence-filter", key_display="/",
                tooltip="Filter the evidence by words of its title"),
        Binding("r", "reload", "Reload", id="evidence-reload"),
        Binding("escape", "clear_filter", "Clear filters", id="evidence-clear-filter",
                show=False),
        Binding("ctrl+x", "cancel_copy", "Cancel copy", id="evidence-cancel-copy",
                tooltip="Stop the file being attached; nothing is stored"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._head: int | None = None  # the audit head the list was read at
        self._keep: int | None = None  # evidence to put the cursor on after a reload
        self.detail: EvidenceDetail | None = None
        self._previewed: tuple[int, int] | None = None  # (evidence id, version)

    def compose_body(self) -> ComposeResult:
        yield Horizontal(id="ev-bar")  # the filters: mounted after the first frame
        with Horizontal(id="ev-busy"):
            yield LoadingIndicator(id="ev-busy-spinner")
            yield Static(id="ev-busy-text", markup=False)
            yield ProgressBar(id="ev-busy-progress", show_eta=False)
        table = EvidenceTable(id="ev-table")
        table.border_title = "Evidence"
        yield table
        with Horizontal(id="ev-detail"), VerticalScroll(id="ev-info"):
            yield Static("[dim]Choose a piece of evidence to see its versions, links and "
                         "tests.[/]", id="ev-info-text")

    @property
    def table(self) -> EvidenceTable:
        return self.query_one(EvidenceTable)

    # ------------------------------------------------------------------ data
    def on_mount(self) -> None:
        super().on_mount()
        self.load()  # now, not at the first resume: the list is read while the screen lays out
        self.call_after_refresh(self._mount_the_rest)

    def _mount_the_rest(self) -> None:
        """The filter bar and the preview, once the table is on screen: the first widgets of
        their kinds cost Textual a restyle of the whole app, which should not delay the rows."""
        self.query_one("#ev-bar").mount(
            PlainSelect([(s, s) for s in STATUS_FILTERS], value=ALL, allow_blank=False,
                   id="ev-status", compact=True),
            PlainSelect([("all controls", ALL)] + [(c.id, c.id) for c in CONTROLS],
                   value=ALL, allow_blank=False, id="ev-control", compact=True),
            Input(placeholder="filter titles (/)", id="ev-filter", compact=True))
        self.query_one("#ev-detail").mount(EvidencePreview(id="ev-preview"))
        self.call_after_refresh(self._preview_current)

    def _preview(self) -> EvidencePreview | None:
        found = self.query(EvidencePreview)
        return found.first() if found else None

    def _preview_current(self) -> None:
        """Show the preview of what the detail pane shows (it may have loaded first)."""
        from app.services.evidence import blob_file

        preview, d = self._preview(), self.detail
        if preview is None:
            return
        if d is None:
            preview.show(None)
            return
        latest = d.latest
        self._previewed = (d.evidence.id or 0, latest.version)
        preview.show(blob_file(self.store, latest), latest.media_type,
                     f"v{latest.version} {ev.shown(latest.original_name)}")

    def refresh_data(self) -> None:
        if any(w.group == "evidence-list" and not w.is_finished for w in self.workers):
            return  # being read
        if self._head == head_seq(self.store) and self.table.loaded:
            return  # nothing written since the list was read
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="evidence-list",
          description="Reading the evidence")
    def load(self, everything: bool = False) -> None:  # thread: post messages only
        """The newest `FIRST_PAGE` first, so the screen shows rows at once; the rest is read
        once they are painted (`everything`)."""
        from app.services.evidence_status import list_evidence

        worker = get_current_worker()
        head = head_seq(self.store)
        rows = list_evidence(self.store, limit=None if everything else FIRST_PAGE)
        if not worker.is_cancelled:
            self.post_message(EvidenceLoaded(rows, head, complete=everything or
                                             len(rows) < FIRST_PAGE))

    def on_evidence_loaded(self, message: EvidenceLoaded) -> None:
        self._head = message.head
        self.table.show(message.rows, keep=self._keep)
        if message.complete:
            self._keep = None
        else:
            self.call_after_refresh(self.load, True)
        self._summary(message.complete)

    def _summary(self, complete: bool = True) -> None:
        table = self.table
        if not complete:
            table.border_title = f"Evidence · the newest {len(table.rows):,}, reading the rest…"
            return
        counts = dict.fromkeys(ev.STATUSES, 0)
        for r in table.rows:
            counts[r.status] += 1
        shown = f"{len(table.shown):,} of " if len(table.shown) != len(table.rows) else ""
        table.border_title = (f"Evidence {shown}{len(table.rows):,} · "
                              + " · ".join(f"{status_markup(s)} {counts[s]:,}"
                                           for s in ev.STATUSES))

    @on(Select.Changed, "#ev-status")
    @on(Select.Changed, "#ev-control")
    @on(Input.Changed, "#ev-filter")
    def _filtered(self) -> None:
        if not self.query("#ev-filter"):
            return  # the filter bar is not mounted yet
        status = self.query_one("#ev-status", Select).value
        control = self.query_one("#ev-control", Select).value
        self.table.filter(None if status == ALL else str(status),
                          None if control == ALL else str(control),
                          self.query_one("#ev-filter", Input).value)
        self._summary()

    @on(Input.Submitted, "#ev-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    # ------------------------------------------------------------------ the detail
    @on(EvidenceTable.Moved)
    def _moved(self, event: EvidenceTable.Moved) -> None:
        if event.row is None:
            self.detail = None
            self.query_one("#ev-info-text", Static).update(
                "[dim]No evidence here: press a to attach a file or a link.[/]"
                if not self.table.rows else "[dim]Nothing matches the filters.[/]")
            self._previewed = None
            if (preview := self._preview()) is not None:
                preview.show(None)
            return
        if self.detail is None or self.detail.evidence.id != event.row.id \
                or self.detail.latest.version != event.row.version:
            self.load_detail(event.row.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evidence-detail",
          description="Reading the evidence")
    def load_detail(self, evidence_id: int) -> None:  # thread: post messages only
        from app.services.evidence import get_evidence

        try:
            detail = get_evidence(self.store, evidence_id)
        except CrosswalkError:
            return  # removed meanwhile: the next reload drops the row
        if not get_current_worker().is_cancelled:
            self.post_message(EvidenceDetailLoaded(detail))

    def on_evidence_detail_loaded(self, message: EvidenceDetailLoaded) -> None:
        d = message.detail
        current = self.table.current
        if current is None or current.id != d.evidence.id:
            return  # the cursor moved on meanwhile
        self.detail = d
        self.query_one("#ev-info-text", Static).update(detail_markup(d))
        if self._previewed != (current.id, d.latest.version):
            self._preview_current()

    def reload_detail(self) -> None:
        """Read the highlighted evidence again (after a write)."""
        current = self.table.current
        self.detail = None
        self._previewed = None
        if current is not None:
            self.load_detail(current.id)

    # ------------------------------------------------------------------ writes
    def on_evidence_working(self, message: EvidenceWorking) -> None:
        self.query_one("#ev-busy-text", Static).update(message.what + "…")
        bar = self.query_one("#ev-busy-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = False
        self.query_one("#ev-busy").display = True
        self.refresh_bindings()

    def on_evidence_progress(self, message: EvidenceProgress) -> None:
        """A copy's progress, with a way out (ctrl+x)."""
        bar = self.query_one("#ev-busy-progress", ProgressBar)
        bar.display = True
        if message.total:
            bar.update(total=message.total, progress=min(message.done, message.total))
        text = self.query_one("#ev-busy-text", Static)
        what = str(text.content).removesuffix("…").split(" · ")[0]
        text.update(f"{what} · {human_size(message.done)} · ctrl+x cancels")

    def _copying(self) -> Worker[object] | None:
        return next((w for w in self.workers if w.group == "evidence-write"
                     and not w.is_finished), None)

    def action_cancel_copy(self) -> None:
        """Stop the file copy that is running; nothing is stored."""
        worker = self._copying()
        if worker is not None:
            worker.cancel()
            self.query_one("#ev-busy-text", Static).update("cancelling…")

    def _idle(self, done: Worker[object] | None = None) -> None:
        """Hide the busy line once no write is running (`done` has just finished)."""
        if not any(w.group == "evidence-write" and not w.is_finished and w is not done
                   for w in self.workers):
            self.query_one("#ev-busy").display = False
            self.refresh_bindings()

    def on_evidence_changed(self, message: EvidenceChanged) -> None:
        self.notify(message.summary, title=message.title, markup=False)
        for warning in message.warnings:
            self.notify(warning, severity="warning", markup=False)
        self._keep = message.evidence_id
        self.detail = None
        self._previewed = None
        self.load()

    def on_evidence_failed(self, message: EvidenceFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)
        draft = message.draft
        if isinstance(draft, AttachForm):  # give the user their form back
            self.app.push_screen(AttachDialog(self.store, draft.values), self._attach_form)
        elif isinstance(draft, tuple) and len(draft) == 2 and isinstance(draft[1], VersionForm):
            label, form = draft
            self._open_version_form(label, form.values)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "evidence-write" and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._idle(event.worker)

    # ------------------------------------------------------------------ actions
    def _need_detail(self) -> EvidenceDetail | None:
        current = self.table.current
        if current is None:
            self.notify("no evidence highlighted", severity="warning", markup=False)
            return None
        if self.detail is None or self.detail.evidence.id != current.id:
            self.notify("still reading this evidence; try again", severity="warning", markup=False)
            return None
        return self.detail

    def action_attach(self) -> None:
        """Attach a new piece of evidence."""
        self.app.push_screen(AttachDialog(self.store), self._attach_form)

    def _attach_form(self, form: AttachForm | None) -> None:
        if form is None:
            return
        from app.services.evidence import add_evidence

        def job(progress: Progress) -> tuple[str, int | None, list[str]]:
            done = add_evidence(self.store, form.source, controls=form.controls,
                                clauses=form.clauses, on_progress=progress, **form.record,
                                **form.provenance)
            label = ev.evidence_label(done.evidence.id or 0)
            warn = [f"the same file is already attached as {', '.join(done.duplicate_of)}"
                    ] if done.duplicate_of else []
            return (f"{label} attached: {ev.shown(done.version.original_name)} "
                    f"({human_size(done.version.size)})", done.evidence.id, warn)

        name = form.source.path.name if form.source.path else "the link"
        start_copy(self, f"Attaching {name}", job, "Not attached", form)

    def action_new_version(self) -> None:
        """Attach a new file to the highlighted evidence as its next version."""
        d = self._need_detail()
        if d is not None:
            self._open_version_form(d.label)

    def _open_version_form(self, label: str, draft: dict[str, str] | None = None) -> None:
        d = self.detail
        if d is None or d.label != label:
            return
        next_version = d.latest.version + 1

        def chosen(form: VersionForm | None) -> None:
            if form is None:
                return
            from app.services.evidence import add_version

            def job(progress: Progress) -> tuple[str, int | None, list[str]]:
                done = add_version(self.store, label, form.source, on_progress=progress,
                                   **form.provenance)
                warn = [f"the same file is already attached as "
                        f"{', '.join(done.duplicate_of)}"] if done.duplicate_of else []
                return (f"{label} version {done.version.version}: "
                        f"{ev.shown(done.version.original_name)}", done.evidence.id, warn)

            start_copy(self, f"Adding version {next_version} to {label}", job,
                       "No version added", (label, form))

        self.app.push_screen(VersionDialog(self.store, label, d.evidence.title, next_version,
                                           draft), chosen)

    def action_link(self) -> None:
        """Link the highlighted evidence to a control or a clause."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: LinkForm | None) -> None:
            if form is None:
                return
            from app.services.evidence import link_evidence

            def job() -> tuple[str, int | None, list[str]]:
                linked = link_evidence(self.store, d.label, controls=form.controls,
                                       clauses=form.clauses)
                return f"{d.label} linked to {', '.join(linked)}", d.evidence.id, []

            start_write(self, f"Linking {d.label}", job, "Not linked")

        self.app.push_screen(LinkDialog(d.label, d.evidence.title,
                                        [ln.target for ln in d.links]), chosen)

    def action_unlink(self) -> None:
        """Remove one of the highlighted evidence's links."""
        d = self._need_detail()
        if d is None:
            return
        if not d.links:
            self.notify(f"{d.label} is not linked to anything", markup=False)
            return

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            from app.services.evidence import unlink_evidence

            kind, target = choice

            def job() -> tuple[str, int | None, list[str]]:
                what = unlink_evidence(self.store, d.label,
                                       control=target if kind == "control" else None,
                                       clause=target if kind == "clause" else None)
                return f"{d.label} unlinked from {what}", d.evidence.id, []

            start_write(self, f"Unlinking {d.label}", job, "Not unlinked")

        self.app.push_screen(UnlinkDialog(d.label, [(ln.kind, ln.target, ln.title)
                                                    for ln in d.links]), chosen)

    def action_edit(self) -> None:
        """Edit the highlighted evidence's record."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(changes: dict[str, str] | None) -> None:
            if changes is None:
                return
            if not changes:
                self.notify(f"{d.label}: nothing changed", markup=False)
                return
            from app.services.evidence import update_evidence

            def job() -> tuple[str, int | None, list[str]]:
                _, change = update_evidence(self.store, d.label, **changes)
                return (f"{d.label}: saved {', '.join(change) or 'nothing new'}",
                        d.evidence.id, [])

            start_write(self, f"Saving {d.label}", job, "Not saved")

        self.app.push_screen(EditEvidenceDialog(d), chosen)

    def action_record_test(self) -> None:
        """Record a control test that used the highlighted evidence."""
        d = self._need_detail()
        if d is None:
            return
        linked = [ln.target for ln in d.links if ln.kind == "control"]
        ref = f"{d.label}@{d.latest.version}"
        self.app.push_screen(TestDialog(self.store, linked[0] if linked else None, ref),
                             lambda form: record_test(self, form, d.evidence.id))

    def action_export(self) -> None:
        """Copy the highlighted evidence's file out to a folder or a file path."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: ExportForm | None) -> None:
            if form is None:
                return
            from app.services.evidence import export_evidence

            def job() -> tuple[str, int | None, list[str]]:
                path, version = export_evidence(self.store, d.label, form.dest,
                                                version=form.version,
                                                overwrite=form.overwrite)
                return f"{d.label} version {version} exported to {path}", None, []

            start_write(self, f"Exporting {d.label}", job, "Not exported")

        self.app.push_screen(ExportDialog(d, start=Path.cwd()), chosen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cycle_status", "filter", "clear_filter"):
            return bool(self.query("#ev-filter"))  # once the filter bar is there
        if action == "cancel_copy":
            return self._copying() is not None  # offered only while a write runs
        return True

    def action_cycle_status(self) -> None:
        """Show all, current, expiring or expired evidence, in turn."""
        select = self.query_one("#ev-status", Select)
        now = STATUS_FILTERS.index(str(select.value)) if select.value in STATUS_FILTERS else 0
        select.value = STATUS_FILTERS[(now + 1) % len(STATUS_FILTERS)]

    def action_filter(self) -> None:
        """Type to filter the evidence by title."""
        self.query_one("#ev-filter", Input).focus()

    def action_clear_filter(self) -> None:
        """Clear every filter."""
        self.query_one("#ev-filter", Input).value = ""
        self.query_one("#ev-status", Select).value = ALL
        self.query_one("#ev-control", Select).value = ALL
        self.table.focus()

    def action_reload(self) -> None:
        """Read the evidence from the workspace again."""
        self._head = None
        self.detail = None
        self._previewed = None
        self.load()


def record_test(node: SectionScreen, form: TestForm | None,
                evidence_id: int | None = None) -> None:
    """Write a test from the test form in a worker (the Evidence and Controls screens)."""
    if form is None:
        return
    from app.services.control_tests import add_test

    def job() -> tuple[str, int | None, list[str]]:
        view = add_test(node.store, form.control_id, evidence=form.evidence, **form.fields)
        used = f" using {', '.join(view.evidence)}" if view.evidence else ""
        return (f"{view.label} {form.control_id}: {view.test.result.replace('-', ' ')}{used}",
                evidence_id, [])

    start_write(node, f"Recording a test of {form.control_id}", job, "Test not recorded")
