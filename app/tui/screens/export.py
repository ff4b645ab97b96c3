"""Export: the auditor's files from the TUI — the traceability matrix (CSV, XLSX or PDF),
the audit dossier (PDF) and its bundle, with the options of `crosswalk export …` — and the
workspace backup (`crosswalk backup`), with its restore (ctrl+r, `crosswalk restore`).
The options are checked before anything runs; the file is built and written in a thread worker
with a progress bar and a status line (the dossier's gather steps, then the writing); esc or
ctrl+x cancels between steps. The result panel says where the file went, its size, its rows or
pages, the audit head it reflects and every evidence file that failed its integrity check.
The dossier bundle (ZIP) is the CLI's own `build_bundle`, with its bytes as progress and
the cancel checked between files. The writers and option checks are those of the CLI
(`app.services.dossier_bundle`, `dossier_data.check_options`); every file is written
atomically, so a failure or a cancel leaves nothing behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    Static,
)
from textual.worker import Worker, WorkerState, get_current_worker

from app.domain.controls import CONTROLS
from app.domain.text import human_size
from app.errors import CrosswalkError, InvalidInput
from app.exporters.bundle import BundleCancelled
from app.tui.markup import escape
from app.tui.screens.base import SectionScreen
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.backup import BackupResult, RestoreResult
    from app.store import Store
    from app.tui.screens.backup_dialogs import RestoreRequest

ALL = "all"
# kind → (label, default file name); the order is the order of the choices
KINDS: dict[str, tuple[str, str]] = {
    "matrix-csv": ("Traceability matrix · CSV", "traceability-matrix.csv"),
    "matrix-xlsx": ("Traceability matrix · XLSX", "traceability-matrix.xlsx"),
    "matrix-pdf": ("Traceability matrix · PDF", "traceability-matrix.pdf"),
    "dossier": ("Audit dossier · PDF", "audit-dossier.pdf"),
    "bundle": ("Dossier bundle · ZIP", "dossier-bundle.zip"),
    "backup": ("Workspace backup · ZIP", "workspace-backup.zip"),
}
SUFFIXES = (".csv", ".xlsx", ".pdf", ".zip")
DOSSIER_STEPS = ("matrix", "coverage", "evidence", "controls", "risks", "playbooks",
                 "exercises", "audit trail")
BUNDLE_STEPS = ("the dossier", "the matrix", "the OSCAL mappings", "writing the files")


def _statuses() -> list[tuple[str, str]]:
    from app.services.traceability import CONTROL_STATUSES, REVIEW_STATUSES

    return [("any status", ALL)] + [(s, s) for s in (*CONTROL_STATUSES, *REVIEW_STATUSES,
                                                      "gap")]


# --------------------------------------------------------------------------- the job
@dataclass(frozen=True, slots=True)
class ExportJob:
    """A checked export: what to write where, with which options."""

    kind: str
    path: Path  # absolute
    shown: str  # the path as the result panel shows it
    overwrite: bool = False
    classification: str = "CONFIDENTIAL"
    regulation: str | None = None
    control: str | None = None
    status: str | None = None
    as_of: date | None = None
    excel: bool = False
    dossier: Any = None  # DossierOptions
    allow_failures: bool = False
    all_versions: bool = False
    sign_key: Path | None = None

    @property
    def steps(self) -> int:
        return {"dossier": len(DOSSIER_STEPS) + 1,
                "bundle": len(DOSSIER_STEPS) + len(BUNDLE_STEPS)}.get(self.kind, 2)


@dataclass(slots=True)
class ExportResult:
    job: ExportJob
    size: int
    audit_head: str
    audit_seq: int
    rows: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None
    failures: list[str] = field(default_factory=list)
    bundle: Any = None  # app.exporters.bundle.BundleResult
    backup: BackupResult | None = None


class ExportCancelled(CrosswalkError):
    """The user cancelled the export between two steps; nothing was written."""


def check_target(path: Path, overwrite: bool) -> None:
    """The CLI's checks of the file to write, worded for the form: Overwrite, not --force."""
    from app.services.dossier_bundle import check_target as check

    check(path, overwrite, how="tick Overwrite", name=path.name)


def run_export(store: Store, job: ExportJob, step: Any, *,
               progress: Any = None, cancelled: Any = None) -> ExportResult:
    """Build and write the file of `job`; `step(text, done)` is called before each step and
    raises to cancel; the bundle also reports `progress(done, total)` bytes and polls
    `cancelled()` between files. Runs in a thread: it touches no widget."""
    from app.services.dossier_bundle import write_matrix

    check_target(job.path, job.overwrite)
    if job.kind == "backup":
        from app.services.backup import backup

        step("backing up the database and the evidence files…", 0)
        made = backup(store, job.path, force=job.overwrite, progress=progress,
                      cancelled=cancelled)
        return ExportResult(job, job.path.stat().st_size, made.audit_head,
                            made.audit_head_seq, failures=list(made.missing), backup=made)
    if job.kind == "bundle":
        from app.services.dossier_bundle import build_bundle

        names = [*DOSSIER_STEPS, *BUNDLE_STEPS]
        count = [0]

        def stage(name: str) -> None:
            n = count[0] = min(count[0], len(names) - 1)
            step(f"gathering: {name}" if n < len(DOSSIER_STEPS) else f"bundle: {name}…", n)
            count[0] += 1

        built = build_bundle(store, job.path, job.dossier, all_versions=job.all_versions,
                             sign_key=job.sign_key, force=job.overwrite, on_step=stage,
                             progress=progress, cancelled=cancelled)
        d = built.dossier
        return ExportResult(job, job.path.stat().st_size, d.audit_head, d.audit_head_seq,
                            stats=dict(d.matrix.stats), failures=list(d.integrity_failures),
                            bundle=built.result)
    if job.kind == "dossier":
        from app.exporters.dossier_pdf import write_dossier_pdf
        from app.services.dossier_data import gather_dossier

        done = [0]

        def gathered(name: str) -> None:
            step(f"gathering: {name}", min(done[0], len(DOSSIER_STEPS) - 1))
            done[0] += 1

        dossier = gather_dossier(store, job.dossier, on_step=gathered)
        step("laying out the pages…", len(DOSSIER_STEPS))
        check_target(job.path, job.overwrite)
        pages = write_dossier_pdf(dossier, job.path)
        return ExportResult(job, job.path.stat().st_size, dossier.audit_head,
                            dossier.audit_head_seq, pages=pages,
                            stats=dict(dossier.matrix.stats),
                            failures=list(dossier.integrity_failures))
    from app.services.traceability import build_matrix

    step("building the matrix", 0)
    m = build_matrix(store, regulation=job.regulation, control=job.control, status=job.status,
                     as_of=job.as_of)
    fmt = job.kind.removeprefix("matrix-")
    step(f"writing {len(m.rows):,} rows as {fmt.upper()}…", 1)
    check_target(job.path, job.overwrite)
    write_matrix(m, fmt, job.path, job.classification, excel=job.excel)
    return ExportResult(job, job.path.stat().st_size, m.audit_head, m.audit_head_seq,
                        rows=len(m.rows), stats=dict(m.stats))


# --------------------------------------------------------------------------- messages
@dataclass
class ExportStepped(Message):
    text: str
    done: int
    total: int


@dataclass
class ExportBytes(Message):
    """The bundle's bytes written so far."""

    done: int
    total: int


@dataclass
class ExportFinished(Message):
    result: ExportResult


@dataclass
class ExportStopped(Message):
    error: str
    cancelled: bool = False
    title: str = "Not exported"


@dataclass
class RestoreFinished(Message):
    result: RestoreResult
    archive: str  # as shown


def restore_markup(r: RestoreResult, archive: str, target: str) -> str:
    """The result panel after a restore: where, what, and the verify verdict."""
    report = r.verify
    verdict = ("[b $text-success]intact[/]" if report.intact
               else "[b $text-error]NOT intact[/]")
    lines = ["[b $text-success]Restored[/] a workspace backup", "",
             f"[b]From[/]     {escape(archive)}",
             f"[b]Into[/]     {escape(target)}",
             f"[b]Evidence[/] {r.evidence_files:,} files, each hashed again",
             f"[b]Verify[/]   {verdict}: {report.events:,} events, head {report.head[:12]}…"]
    lines += [f"[$text-error]{escape(p.message)}[/]" for p in report.problems[:20]]
    lines += ["", "[dim]This window keeps its workspace; open the restored one with[/]",
              f"crosswalk --workspace {escape(target)}"]
    return "\n".join(lines)


def result_markup(r: ExportResult) -> str:
    """The result panel: where the file went, size, rows or pages, audit head, failures."""
    job = r.job
    lines = [f"[b $text-success]Exported[/] {escape(KINDS[job.kind][0])}", "",
             f"[b]File[/]     {escape(job.shown)}",
             f"[b]Size[/]     {human_size(r.size)}"]
    s = r.stats
    if r.rows is not None:
        lines.append(f"[b]Rows[/]     {r.rows:,} ({s.get('mappings', 0):,} mappings, "
                     f"{s.get('gaps', 0):,} gaps)")
    if r.pages is not None:
        lines.append(f"[b]Pages[/]    {r.pages:,}")
    if r.backup is not None:
        lines.append(f"[b]Files[/]    the database and {r.backup.files - 1:,} evidence files "
                     f"({human_size(r.backup.bytes)} before compression)")
    if r.bundle is not None:
        b = r.bundle
        lines.append(f"[b]Files[/]    {b.files:,} ({human_size(b.bytes)} before "
                     f"compression){' · manifest signed' if b.signed else ''}")
        lines.append(f"[b]Manifest[/] SHA-256 {b.manifest_sha256[:32]}…")
    lines.append(f"[b]Audit[/]    event {r.audit_seq:,} · head {r.audit_head[:12]}…")
    filters = [f"{k} {v}" for k, v in (("regulation", job.regulation),
                                       ("control", job.control), ("status", job.status),
                                       ("as of", job.as_of)) if v]
    if filters:
        lines.append(f"[b]Filters[/]  {escape(' · '.join(str(f) for f in filters))}")
    if r.failures:
        lines += ["", f"[b $text-error]INTEGRITY FAILURE: {len(r.failures)} evidence "
                      f"file{'s are' if len(r.failures) > 1 else ' is'} missing or altered[/]"]
        lines += [f"[$text-error]INTEGRITY FAILURE  {escape(line)}[/]" for line in r.failures]
        if job.kind == "backup":
            lines.append("[dim]they are not in the backup; crosswalk verify names them[/]")
        elif not job.allow_failures:
            lines.append("[dim]the dossier marks them; tick Allow integrity failures to "
                         "accept them[/]")
    return "\n".join(lines)


def _field(label: str, widget: Any, widget_class: str = "field") -> Vertical:
    return Vertical(Label(label), widget, classes=widget_class)


def _input(widget_id: str, value: str = "", placeholder: str = "") -> Input:
    return Input(value, placeholder=placeholder, id=widget_id, compact=True)


# --------------------------------------------------------------------------- the screen
class ExportScreen(SectionScreen):
    SECTION_ID = "export"
    AUTO_FOCUS = "#exp-kind"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "export", "Export", id="export-start", priority=True,
                tooltip="Build and write the file (in the background)"),
        Binding("ctrl+o", "browse", "Browse", id="export-browse",
                tooltip="Choose the folder to write the file into"),
        Binding("ctrl+x", "cancel_export", "Cancel export", id="export-cancel",
                tooltip="Stop the export between two steps; nothing is written"),
        Binding("escape", "cancel_export", "Cancel export", id="export-cancel-esc",
                show=False),
        Binding("ctrl+r", "restore", "Restore backup", id="export-restore",
                tooltip="Restore a workspace backup into a new workspace file"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._export_worker: Worker[None] | None = None
        self._codes: list[str] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="exp-split"):
            with VerticalScroll(id="exp-form") as form:
                form.border_title = "Export"
                yield Label("What", classes="exp-label")
                with RadioSet(id="exp-kind"):
                    for kind, (label, _) in KINDS.items():
                        yield RadioButton(label, value=kind == "matrix-csv", id=f"kind-{kind}")
                with Vertical(id="exp-matrix", classes="exp-group"):
                    with Horizontal(classes="form-row"):
                        yield _field("Regulation", PlainSelect(
                            [("all regulations", ALL)], value=ALL, allow_blank=False,
                            id="exp-regulation", compact=True))
                        yield _field("Control", PlainSelect(
                            [("all controls", ALL)] + [(c.id, c.id) for c in CONTROLS],
                            value=ALL, allow_blank=False, id="exp-control", compact=True))
                        yield _field("Status", PlainSelect(
                            _statuses(), value=ALL, allow_blank=False, id="exp-status",
                            compact=True))
                    with Horizontal(classes="form-row"):
                        yield _field("As of (YYYY-MM-DD)", _input("exp-as-of", "", "today"))
                        yield Checkbox("CSV for Excel", id="exp-excel",
                                       compact=True)
                with Vertical(id="exp-dossier", classes="exp-group"):
                    with Horizontal(classes="form-row"):
                        yield _field("Organisation", _input("exp-organisation"))
                        yield _field("Scope", _input("exp-scope", "", "systems, units"))
                    with Horizontal(classes="form-row"):
                        yield _field("Period from", _input("exp-period-from", "", "YYYY-MM-DD"))
                        yield _field("Period to", _input("exp-period-to", "", "YYYY-MM-DD"))
                        yield _field("Version", _input("exp-version", "1.0"))
                    with Horizontal(classes="form-row"):
                        yield _field("Preparer", _input("exp-preparer"))
                        yield _field("Reviewer", _input("exp-reviewer"))
                        yield _field("Approver", _input("exp-approver"))
                    with Horizontal(classes="form-row", id="exp-bundle"):
                        yield _field("Sign with key (Ed25519 PEM; crosswalk keygen)",
                                     _input("exp-sign-key", "", "no signature"))
                        yield Checkbox("Every evidence version", id="exp-all-versions",
                                       compact=True)
                    yield Checkbox("Allow integrity failures (missing or altered files)",
                                   id="exp-allow", compact=True)
                with Horizontal(classes="form-row exp-output"):
                    yield _field("Output file", _input("exp-path", KINDS["matrix-csv"][1]))
                    yield Button("Browse…  ctrl+o", id="exp-browse", compact=True)
                with Horizontal(classes="form-row exp-actions"):
                    yield _field("Classification", _input("exp-classification",
                                                          "CONFIDENTIAL"), "field exp-class")
                    yield Checkbox("Overwrite", id="exp-overwrite",
                                   compact=True)
                    yield Button("Export  ctrl+s", variant="primary", id="exp-go",
                                 compact=True)
            with Vertical(id="exp-side"):
                with Horizontal(id="exp-busy"):
                    yield Static(id="exp-busy-text", markup=False)
                    yield ProgressBar(id="exp-progress", show_eta=False)
                with VerticalScroll(id="exp-result-box") as box:
                    box.border_title = "Result"
                    yield Static("[dim]Choose what to export, its options and the file, then "
                                 "press ctrl+s. The file is written in the background; esc "
                                 "or ctrl+x cancels.[/]", id="exp-result")

    def on_mount(self) -> None:
        super().on_mount()
        self._kind_shown("matrix-csv")

    # ------------------------------------------------------------------ data
    def refresh_data(self) -> None:
        from app.services.regulations import list_regulations

        codes = sorted({r.code for r in list_regulations(self.store) if r.latest})
        if codes == self._codes:
            return
        self._codes = codes
        select = self.query_one("#exp-regulation", Select)
        current = select.value
        select.set_options([("all regulations", ALL)] + [(c, c) for c in codes])
        select.value = current if current in codes else ALL

    @property
    def kind(self) -> str:
        pressed = self.query_one("#exp-kind", RadioSet).pressed_button
        return (pressed.id or "kind-matrix-csv").removeprefix("kind-") if pressed \
            else "matrix-csv"

    @on(RadioSet.Changed, "#exp-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        kind = (event.pressed.id or "").removeprefix("kind-")
        self._kind_shown(kind)
        box = self.query_one("#exp-path", Input)
        path = Path(box.value.strip() or ".")
        defaults = {name for _, name in KINDS.values()}
        if not box.value.strip() or path.name in defaults:
            box.value = str(path.with_name(KINDS[kind][1])) if box.value.strip() \
                else KINDS[kind][1]
        elif path.suffix.lower() in SUFFIXES:
            box.value = str(path.with_suffix(Path(KINDS[kind][1]).suffix))

    def _kind_shown(self, kind: str) -> None:
        matrix = kind.startswith("matrix-")
        self.query_one("#exp-matrix").display = matrix
        self.query_one("#exp-excel").display = kind == "matrix-csv"
        self.query_one("#exp-dossier").display = kind in ("dossier", "bundle")
        self.query_one("#exp-bundle").display = kind == "bundle"
        self.query_one(".exp-class").display = kind != "backup"

    # ------------------------------------------------------------------ the form
    def _value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, Select):
            return "" if widget.value in (Select.NULL, ALL) else str(widget.value)
        if isinstance(widget, Checkbox):
            return "1" if widget.value else ""
        raise TypeError(widget_id)

    def form_job(self) -> ExportJob:
        """The form as a checked job; raises InvalidInput naming what is wrong."""
        from app.services.dossier_data import check_options
        from app.services.traceability import check_status, parse_as_of

        kind = self.kind
        typed = self._value("exp-path")
        if not typed:
            raise InvalidInput("give the file to write")
        given = Path(typed).expanduser()
        path = given if given.is_absolute() else Path.cwd() / given
        shown = str(path) if self.crosswalk.show_paths else path.name
        classification = self._value("exp-classification") or "CONFIDENTIAL"
        common: dict[str, Any] = {"kind": kind, "path": path, "shown": shown,
                                  "overwrite": bool(self._value("exp-overwrite")),
                                  "classification": classification}
        if kind in ("dossier", "bundle"):
            options = check_options(
                organisation=self._value("exp-organisation"), scope=self._value("exp-scope"),
                period_from=self._value("exp-period-from"),
                period_to=self._value("exp-period-to"), version=self._value("exp-version"),
                classification=classification, preparer=self._value("exp-preparer"),
                reviewer=self._value("exp-reviewer"), approver=self._value("exp-approver"))
            key = self._value("exp-sign-key") if kind == "bundle" else ""
            if key and not Path(key).expanduser().is_file():
                raise InvalidInput(f"the signing key {key} is not a file")
            return ExportJob(**common, dossier=options,
                             allow_failures=bool(self._value("exp-allow")),
                             all_versions=kind == "bundle"
                             and bool(self._value("exp-all-versions")),
                             sign_key=Path(key).expanduser() if key else None)
        return ExportJob(**common, regulation=self._value("exp-regulation") or None,
                         control=self._value("exp-control") or None,
                         status=check_status(self._value("exp-status") or None),
                         as_of=parse_as_of(self._value("exp-as-of") or None),
                         excel=kind == "matrix-csv" and bool(self._value("exp-excel")))

    @on(Button.Pressed, "#exp-go")
    def action_export(self) -> None:
        """Check the options and write the file in the background."""
        if self._exporting():
            self.notify("an export is already running (ctrl+x cancels it)", markup=False)
            return
        try:
            job = self.form_job()
            check_target(job.path, job.overwrite)
        except CrosswalkError as exc:
            self.notify(str(exc), title="Not exported", severity="error", markup=False)
            return
        self._show_busy("starting…  esc or ctrl+x cancels", total=job.steps)
        self._export_worker = self.run_job(job)
        self.refresh_bindings()

    def _show_busy(self, text: str, *, total: int | None) -> None:
        """The progress row in place of the Export button, while a worker runs."""
        self.query_one("#exp-progress", ProgressBar).update(total=total, progress=0)
        self.query_one("#exp-busy-text", Static).update(text)
        self.query_one("#exp-busy").display = True
        self.query_one("#exp-go", Button).disabled = True

    @work(thread=True, exclusive=True, exit_on_error=False, group="export",
          description="Exporting")
    def run_job(self, job: ExportJob) -> None:  # thread: post messages only
        worker = get_current_worker()

        shown = [-1]

        def step(text: str, done: int) -> None:
            if worker.is_cancelled:
                raise ExportCancelled("export cancelled; nothing was written")
            self.post_message(ExportStepped(text, done, job.steps))

        def progress(done: int, total: int) -> None:  # at most once per percent
            percent = done * 100 // total if total else 100
            if percent != shown[0]:
                shown[0] = percent
                self.post_message(ExportBytes(done, total))

        try:
            result = run_export(self.store, job, step, progress=progress,
                                cancelled=lambda: worker.is_cancelled)
        except (ExportCancelled, BundleCancelled):
            self.post_message(ExportStopped("export cancelled; nothing was written",
                                            cancelled=True))
        except CrosswalkError as exc:
            self.post_message(ExportStopped(str(exc)))
        except OSError as exc:
            self.post_message(ExportStopped(f"cannot write {job.shown}: "
                                            f"{exc.strerror or exc}"))
        else:
            self.post_message(ExportFinished(result))

    def on_export_stepped(self, message: ExportStepped) -> None:
        self.query_one("#exp-progress", ProgressBar).update(total=message.total,
                                                             progress=message.done)
        self.query_one("#exp-busy-text", Static).update(
            f"{message.text}  esc or ctrl+x cancels")

    def on_export_bytes(self, message: ExportBytes) -> None:
        self.query_one("#exp-progress", ProgressBar).update(total=max(message.total, 1),
                                                             progress=message.done)
        self.query_one("#exp-busy-text", Static).update(
            f"writing {human_size(message.done)} of {human_size(message.total)}  "
            "esc or ctrl+x cancels")

    def on_export_finished(self, message: ExportFinished) -> None:
        r = message.result
        self.query_one("#exp-result", Static).update(result_markup(r))
        what = f"{r.job.shown} ({human_size(r.size)})"
        if r.failures:
            self.notify(f"{what} written, but {len(r.failures)} evidence file"
                        f"{'s are' if len(r.failures) > 1 else ' is'} missing or altered",
                        title="INTEGRITY FAILURE",
                        severity="warning" if r.job.allow_failures else "error", markup=False)
        else:
            self.notify(what, title="Exported", markup=False)

    def on_export_stopped(self, message: ExportStopped) -> None:
        self.notify(message.error, title="Cancelled" if message.cancelled
                    else message.title, severity="information" if message.cancelled
                    else "error", markup=False)

    # ------------------------------------------------------------------ restore
    def action_restore(self) -> None:
        """Restore a workspace backup into a new workspace file (in the background)."""
        from app.tui.screens.backup_dialogs import RestoreDialog

        if self._exporting():
            self.notify("an export or restore is already running", markup=False)
            return
        self.app.push_screen(RestoreDialog(), self._restore_chosen)

    def _restore_chosen(self, request: RestoreRequest | None) -> None:
        if request is None:
            return
        self._show_busy("restoring: checking every hash, then the evidence files…  "
                        "esc or ctrl+x cancels", total=None)
        self._export_worker = self.run_restore(request)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export",
          description="Restoring")
    def run_restore(self, request: RestoreRequest) -> None:  # thread: post messages only
        from app.services.backup import RestoreCancelled, restore

        worker = get_current_worker()
        shown = self._shown
        try:
            result = restore(request.archive, request.target,
                             cancelled=lambda: worker.is_cancelled)
        except RestoreCancelled:
            self.post_message(ExportStopped("restore cancelled; nothing was restored",
                                            cancelled=True))
        except CrosswalkError as exc:
            self.post_message(ExportStopped(str(exc), title="Not restored"))
        except OSError as exc:
            self.post_message(ExportStopped(f"cannot restore to {shown(request.target)}: "
                                            f"{exc.strerror or exc}", title="Not restored"))
        else:
            self.post_message(RestoreFinished(result, shown(request.archive)))

    def _shown(self, path: Path) -> str:
        return str(path) if self.crosswalk.show_paths else path.name

    def on_restore_finished(self, message: RestoreFinished) -> None:
        r = message.result
        target = self._shown(r.path)
        self.query_one("#exp-result", Static).update(restore_markup(r, message.archive, target))
        if r.verify.intact:
            self.notify(f"{target}: {r.evidence_files} evidence files; audit chain intact",
                        title="Restored", markup=False)
        else:
            self.notify(f"{target} was restored, but verify found "
                        f"{len(r.verify.problems)} problem(s)", title="Restored, NOT intact",
                        severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "export" and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#exp-busy").display = False
            self.query_one("#exp-go", Button).disabled = False
            self.refresh_bindings()

    def _exporting(self) -> bool:
        return self._export_worker is not None and not self._export_worker.is_finished

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_export":
            return self._exporting()
        return True

    def action_cancel_export(self) -> None:
        """Stop the export between two steps; nothing is written."""
        if self._export_worker is not None and not self._export_worker.is_finished:
            self._export_worker.cancel()
            self.query_one("#exp-busy-text", Static).update("cancelling…")

    @on(Button.Pressed, "#exp-browse")
    def action_browse(self) -> None:
        """Choose the folder to write the file into."""
        from app.tui.screens.playbook_dialogs import FolderPickerDialog

        box = self.query_one("#exp-path", Input)
        typed = Path(box.value.strip() or KINDS[self.kind][1]).expanduser()
        folder = typed.parent if typed.is_absolute() else (Path.cwd() / typed).parent
        start = folder if folder.is_dir() else Path.cwd()

        def chosen(picked: Path | None) -> None:
            if picked is not None:
                box.value = str(picked / (typed.name or KINDS[self.kind][1]))
                box.focus()

        self.app.push_screen(FolderPickerDialog(
            start, "[b]Choose the folder to export into[/]  [dim]the file keeps the name "
                   "in the form[/]"), chosen)
