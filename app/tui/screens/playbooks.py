"""Playbooks: the incident playbooks of the workspace — the ones shipped with Crosswalk (drift,
poisoning, tampering or theft, data leaking through a model, an AI Act serious incident),
brought into the workspace the first time something edits or uses them, and those imported
from our YAML shape or from CACAO 2.0 — and, for the highlighted one, its ordered steps (NIST
CSF 2.0 function, owner role, expected time, controls) in a table, with the highlighted step,
the detection criteria, escalation path, regulatory clocks and import notes below.

The step editor: `e` edits the highlighted step, `a` adds one after it, ctrl+↑/↓ moves it,
`delete` removes it; each saves the whole playbook through `save_playbook` (audited
"playbook.edit") in a thread worker. `i` imports a playbook file, `x` exports the highlighted
one as CACAO 2.0 JSON. Exercises run from them (issue 8)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from app.domain.playbooks import Playbook, Step
from app.domain.reg_clocks import clock_by_id
from app.errors import CrosswalkError, InvalidInput
from app.services.playbooks import PlaybookView
from app.tui.markup import escape
from app.tui.screens.base import SectionScreen
from app.tui.screens.dialogs import ConfirmDialog
from app.tui.screens.playbook_dialogs import (
    FolderPickerDialog,
    PlaybookChanged,
    PlaybookExists,
    PlaybookExported,
    PlaybookFailed,
    PlaybookFilePicker,
    StepDialog,
    moved_step,
    with_step,
    without_step,
)
from app.tui.widgets.plain_table import PlainTable

SEVERITY_MARKUP = {"critical": "b $text-error", "high": "b $text-warning", "medium": "",
                   "low": "dim"}
ORIGIN = {"shipped": "shipped", "yaml": "imported", "cacao": "imported"}
CACAO_ERRORS_SHOWN = 5


def origin_label(view: PlaybookView) -> str:
    """shipped (not brought in yet), in workspace (a shipped one brought in), imported."""
    if view.origin == "shipped":
        return "in workspace" if view.in_workspace else "shipped"
    return "imported"


def origin_markup(view: PlaybookView) -> str:
    if view.origin == "shipped":
        where = ("in the workspace (edits and exercises use this copy)" if view.in_workspace
                 else "not in the workspace yet (an edit or an exercise brings it in)")
        text = f"shipped with Crosswalk · {where}"
    else:
        kind = "CACAO 2.0" if view.origin == "cacao" else "YAML/JSON"
        text = f"imported from {escape(view.source_name) or 'a file'} ({kind})"
    if view.exercises:
        text += f" · {view.exercises} exercise{'s' if view.exercises != 1 else ''}"
    return f"[b]Origin[/] {text}"


def step_markup(pb: Playbook, index: int) -> str:
    """One step as the detail pane shows it (every text escaped)."""
    s = pb.steps[index]
    controls = " ".join(s.controls) or "none"
    return (f"[b]Step {index + 1} of {len(pb.steps)}[/]  [b]{escape(s.name)}[/]\n"
            f"[dim]{s.function} · {escape(s.owner)} · {s.minutes} min · controls "
            f"{controls}[/]\n{escape(s.description)}")


def playbook_markup(pb: Playbook, view: PlaybookView | None = None) -> str:
    """The playbook (its steps are in the table above) as the detail pane shows it: origin
    and import notes, description, detection, escalation, clocks. Every text is escaped."""
    sev = SEVERITY_MARKUP.get(pb.severity, "")
    lines = [f"[b]{escape(pb.title)}[/]  [{sev}]{pb.severity}[/] · {pb.scenario}"
             if sev else f"[b]{escape(pb.title)}[/]  {pb.severity} · {pb.scenario}"]
    if view is not None:
        lines.append(origin_markup(view))
        if view.notes:
            lines += ["[b]Import notes[/]"] + [f" • {escape(n)}" for n in view.notes]
    if pb.description:
        lines += ["", escape(pb.description)]
    lines += ["", "[b]Detection[/]"] + [f" • {escape(d)}" for d in pb.detection]
    if pb.escalation:
        lines += ["", "[b]Escalation[/]"]
        lines += [f" {escape(e.role)} [dim]({escape(e.contact)})[/] — {escape(e.when)}"
                  for e in pb.escalation]
    if pb.clocks:
        lines += ["", "[b]Regulatory clocks[/] [dim](from the moment of becoming aware)[/]"]
        for c in map(clock_by_id, pb.clocks):
            lines.append(f" [b]{c.period}[/] {escape(c.title)} [dim]— {escape(c.basis)}; "
                         f"{escape(c.applies_when)}[/]")
    lines += ["", "[dim]x exports it as CACAO 2.0 (crosswalk playbook export "
                  f"{pb.id} -o FILE)[/]"]
    return "\n".join(lines)


def write_new_file(path: Path, text: str, *, overwrite: bool) -> None:
    """Write `text` to `path` through a temp file beside it and a rename; an existing file is
    refused unless `overwrite`. Raises InvalidInput."""
    if path.exists() and not overwrite:
        raise InvalidInput(f"{path} already exists")
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", delete=False) as f:
            tmp = f.name
            f.write(text)
        Path(tmp).replace(path)
        tmp = None
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


class PlaybooksScreen(SectionScreen):
    SECTION_ID = "playbooks"
    AUTO_FOCUS = "#pb-table"
    DEFAULT_CSS = """
    PlaybooksScreen #pb-steps { height: 1fr; min-height: 5; }
    PlaybooksScreen #pb-detail { min-height: 4; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit_step", "Edit step", id="playbooks-edit-step",
                tooltip="Edit the highlighted step: name, description, owner, CSF function, "
                        "minutes, controls"),
        Binding("a", "add_step", "Add step", id="playbooks-add-step",
                tooltip="Add a step after the highlighted one"),
        Binding("ctrl+up", "move_step(-1)", "Move up", id="playbooks-move-step-up",
                key_display="ctrl+↑", show=False,
                tooltip="Move the highlighted step one place earlier"),
        Binding("ctrl+down", "move_step(1)", "Move down", id="playbooks-move-step-down",
                key_display="ctrl+↓", show=False,
                tooltip="Move the highlighted step one place later"),
        Binding("delete", "delete_step", "Remove step", id="playbooks-delete-step",
                key_display="del", show=False,
                tooltip="Remove the highlighted step (asks first)"),
        Binding("i", "import", "Import", id="playbooks-import",
                tooltip="Import a playbook file: our YAML/JSON shape or CACAO 2.0 JSON"),
        Binding("x", "export", "Export", id="playbooks-export",
                tooltip="Export the highlighted playbook as CACAO 2.0 JSON to a folder"),
        Binding("r", "reload", "Reload", id="playbooks-reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, PlaybookView] = {}
        self._shown: tuple[str, Playbook] | None = None  # the playbook the steps table shows
        self._want: tuple[str, int | None] | None = None  # the playbook (and step) to show

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = PlainTable(id="pb-table", cursor_type="row")
        table.border_title = "Incident playbooks"
        yield table
        steps: DataTable[str] = PlainTable(id="pb-steps", cursor_type="row")
        steps.border_title = "Steps"
        steps.border_subtitle = "e edit · a add · ctrl+↑↓ move · del remove"
        yield steps
        with VerticalScroll(id="pb-detail"):
            yield Static(id="pb-text")

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#pb-table", DataTable)

    @property
    def steps(self) -> DataTable[str]:
        return self.query_one("#pb-steps", DataTable)

    # ------------------------------------------------------------------ columns, rows
    def build_columns(self) -> None:
        width = self.app.size.width
        wide = width >= 140
        # 28 columns of sidebar, padding, borders and scrollbar, and 2 of padding per column
        cols = [("Severity", "severity", 8)] + ([] if self.narrow else [("Steps", "steps", 5)])
        cols += [("Origin", "origin", 12), ("Title", "title", 0)]
        cols += [("Scenario", "scenario", 24)] if wide else []
        self._add_columns(self.table, cols, width)
        cols = [("#", "n", 2), ("Step", "name", 0), ("Function", "function", 8),
                ("Min", "minutes", 5)]
        if not self.narrow:
            cols += [("Owner", "owner", 24 if wide else 20),
                     ("Controls", "controls", 16 if wide else 12)]
        self._add_columns(self.steps, cols, width)
        self._shown = None

    @staticmethod
    def _add_columns(table: DataTable[str], cols: list[tuple[str, str, int]],
                     width: int) -> None:
        """The columns; the one of width 0 takes what the others leave."""
        table.clear(columns=True)
        rest = max(18, width - 28 - sum(w for *_, w in cols) - 2 * len(cols))
        for label, key, w in cols:
            table.add_column(label, key=key, width=w or rest)

    def refresh_data(self) -> None:
        from app.services.playbooks import list_playbooks

        table = self.table
        keep = self._want[0] if self._want else self.current_id
        cursor = table.cursor_row
        self._views = {v.playbook.id: v for v in list_playbooks(self.store)}
        keys = [str(c.key.value) for c in table.columns.values()]
        table.clear()
        for v in self._views.values():
            pb = v.playbook
            cells = {"severity": pb.severity, "steps": str(len(pb.steps)),
                     "origin": origin_label(v), "title": pb.title, "scenario": pb.scenario}
            table.add_row(*[cells[k] for k in keys], key=pb.id)
        ids = list(self._views)
        table.move_cursor(row=ids.index(keep) if keep in ids else cursor)
        self.show_playbook()

    @property
    def current_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @property
    def current(self) -> PlaybookView | None:
        key = self.current_id
        return self._views.get(key) if key else None

    def show_playbook(self) -> None:
        """The steps of the highlighted playbook (rebuilt only when it changed), then the
        detail."""
        view = self.current
        steps = self.steps
        if view is None:
            steps.clear()
            self._shown = None
            self.query_one("#pb-text", Static).update("[dim]No playbooks: press i to import "
                                                      "one.[/]")
            return
        pb = view.playbook
        want = self._want[1] if self._want and self._want[0] == pb.id else None
        if self._shown != (pb.id, pb):
            row = (steps.cursor_row if self._shown and self._shown[0] == pb.id else 0)
            steps.clear()
            cols = [str(c.key.value) for c in steps.columns.values()]
            for n, s in enumerate(pb.steps, start=1):
                cells = {"n": str(n), "name": s.name, "function": s.function,
                         "minutes": str(s.minutes), "owner": s.owner,
                         "controls": " ".join(s.controls) or "—"}
                steps.add_row(*[cells[c] for c in cols], key=str(n - 1))
            hours = sum(s.minutes for s in pb.steps) / 60
            steps.border_title = (f"Steps of {pb.id} · {len(pb.steps)}, about "
                                  f"{hours:.0f} h" if hours >= 1 else
                                  f"Steps of {pb.id} · {len(pb.steps)}, "
                                  f"{sum(s.minutes for s in pb.steps)} min")
            self._shown = (pb.id, pb)
            steps.move_cursor(row=min(row, len(pb.steps) - 1))
        if want is not None:
            steps.move_cursor(row=min(want, len(pb.steps) - 1))
        if self._want and self._want[0] == pb.id:
            self._want = None
        self.show_detail()

    def show_detail(self) -> None:
        view = self.current
        if view is None:
            return
        pb = view.playbook
        row = self.steps.cursor_row
        step = step_markup(pb, row) + "\n\n" if 0 <= row < len(pb.steps) else ""
        self.query_one("#pb-text", Static).update(step + playbook_markup(pb, view))

    @on(DataTable.RowHighlighted, "#pb-table")
    def _playbook_highlighted(self) -> None:
        self.show_playbook()

    @on(DataTable.RowHighlighted, "#pb-steps")
    def _step_highlighted(self) -> None:
        self.show_detail()

    @on(DataTable.RowSelected, "#pb-table")
    def _playbook_chosen(self) -> None:
        self.steps.focus()

    @on(DataTable.RowSelected, "#pb-steps")
    def _step_chosen(self) -> None:
        self.action_edit_step()

    # ------------------------------------------------------------------ the step editor
    def _editable(self) -> tuple[PlaybookView, int] | None:
        """The highlighted playbook and step, if an edit may start now."""
        view = self.current
        if view is None:
            self.notify("no playbook highlighted", severity="warning", markup=False)
            return None
        if any(w.group == "playbook-write" and not w.is_finished for w in self.workers):
            self.notify("still saving the last change; try again", severity="warning", markup=False)
            return None
        if self._shown != (view.playbook.id, view.playbook):
            self.show_playbook()
        return view, max(0, min(self.steps.cursor_row, len(view.playbook.steps) - 1))

    def action_edit_step(self, draft: Step | None = None) -> None:
        """Edit the highlighted step."""
        found = self._editable()
        if found is None:
            return
        view, at = found
        pb = view.playbook

        def chosen(step: Step | None) -> None:
            if step is None:
                return
            if step == pb.steps[at]:
                self.notify(f"step {at + 1}: nothing changed", markup=False)
                return
            self.save(with_step(pb, step, at=at, new=False), at,
                      f"{pb.id}: step {at + 1} saved ({step.name})",
                      lambda: self.action_edit_step(step))

        self.app.push_screen(StepDialog(pb, at, draft=draft, in_workspace=view.in_workspace),
                             chosen)

    def action_add_step(self, draft: Step | None = None) -> None:
        """Add a step after the highlighted one."""
        found = self._editable()
        if found is None:
            return
        view, at = found
        pb = view.playbook

        def chosen(step: Step | None) -> None:
            if step is None:
                return
            self.save(with_step(pb, step, at=at + 1, new=True), at + 1,
                      f"{pb.id}: step {at + 2} added ({step.name})",
                      lambda: self.action_add_step(step))

        self.app.push_screen(StepDialog(pb, at + 1, new=True, draft=draft,
                                        in_workspace=view.in_workspace), chosen)

    def action_move_step(self, by: int) -> None:
        """Move the highlighted step one place earlier (-1) or later (1)."""
        found = self._editable()
        if found is None:
            return
        view, at = found
        pb = view.playbook
        to = at + by
        if not 0 <= to < len(pb.steps):
            self.notify(f"step {at + 1} is already the {'first' if by < 0 else 'last'}",
                        severity="warning", markup=False)
            return
        self.save(moved_step(pb, at, to), to,
                  f"{pb.id}: {pb.steps[at].name} is now step {to + 1}")

    def action_delete_step(self) -> None:
        """Remove the highlighted step (after a question)."""
        found = self._editable()
        if found is None:
            return
        view, at = found
        pb = view.playbook
        if len(pb.steps) == 1:
            self.notify("a playbook keeps at least one step; edit this one instead",
                        severity="warning", markup=False)
            return
        name = pb.steps[at].name

        def answered(yes: bool | None) -> None:
            if yes:
                self.save(without_step(pb, at), min(at, len(pb.steps) - 2),
                          f"{pb.id}: step {at + 1} removed ({name})")

        self.app.push_screen(ConfirmDialog(f"Remove step {at + 1}, “{name}”, from "
                                           f"{pb.title}?\n\nThe audit log keeps what it was; "
                                           "exercises keep the version they were made with.",
                                           "Remove"), answered)

    @work(thread=True, exit_on_error=False, group="playbook-write",
          description="Saving the playbook")
    def save(self, pb: Playbook, step: int, summary: str,
             reopen: Callable[[], object] | None = None) -> None:  # thread: messages only
        from app.services.playbooks import save_playbook

        try:
            change = save_playbook(self.store, pb)
        except CrosswalkError as exc:
            self.post_message(PlaybookFailed("Playbook not saved", str(exc), reopen))
            return
        self.post_message(PlaybookChanged(summary if change else f"{pb.id}: nothing changed",
                                          pb.id, step))

    def on_playbook_changed(self, message: PlaybookChanged) -> None:
        self.notify(message.summary, title="Playbooks", markup=False)
        self._want = (message.slug, message.step)
        self.reload()

    def on_playbook_failed(self, message: PlaybookFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)
        if message.reopen is not None:
            message.reopen()

    # ------------------------------------------------------------------ import
    def action_import(self) -> None:
        """Import a playbook file (our YAML/JSON shape or CACAO 2.0 JSON)."""

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.import_file(path)

        self.app.push_screen(PlaybookFilePicker(Path.cwd()), chosen)

    @work(thread=True, exit_on_error=False, group="playbook-write",
          description="Importing a playbook")
    def import_file(self, path: Path, replace: bool = False) -> None:  # thread
        from app.importers.cacao import CacaoInvalid
        from app.services.playbooks import import_playbook, list_playbooks, read_playbook_file

        try:
            if not replace:
                pb, _, _ = read_playbook_file(path)
                if any(v.playbook.id == pb.id for v in list_playbooks(self.store)):
                    self.post_message(PlaybookExists(path, pb.id, pb.title))
                    return
            view = import_playbook(self.store, path, replace=replace)
        except CacaoInvalid as exc:
            shown = list(exc.errors[:CACAO_ERRORS_SHOWN])
            more = len(exc.errors) - len(shown)
            self.post_message(PlaybookFailed(
                "Playbook not imported", "\n".join([str(exc)] + [f"• {e}" for e in shown]
                                                   + ([f"… and {more} more"] if more else []))))
            return
        except CrosswalkError as exc:
            self.post_message(PlaybookFailed("Playbook not imported", str(exc)))
            return
        pb = view.playbook
        notes = f"; {len(view.notes)} import note{'s' if len(view.notes) != 1 else ''}" \
            if view.notes else ""
        self.post_message(PlaybookChanged(
            f"{'replaced' if replace else 'imported'} {pb.id} from {path.name} "
            f"({len(pb.steps)} steps{notes})", pb.id, 0))

    def on_playbook_exists(self, message: PlaybookExists) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.import_file(message.path, replace=True)

        self.app.push_screen(ConfirmDialog(
            f"The workspace already has a playbook {message.slug} ({message.title}).\n\n"
            f"Replace it with the one in {message.path.name}? Exercises keep the version "
            "they were made with; the audit log keeps the old one.", "Replace"), answered)

    # ------------------------------------------------------------------ export
    def action_export(self) -> None:
        """Export the highlighted playbook as CACAO 2.0 JSON to a folder."""
        view = self.current
        if view is None:
            self.notify("no playbook highlighted", severity="warning", markup=False)
            return
        pb = view.playbook

        def chosen(folder: Path | None) -> None:
            if folder is None:
                return
            target = folder / f"{pb.id}.json"
            if not target.exists():
                self.export_to(pb, target)
                return
            self.app.push_screen(
                ConfirmDialog(f"{target} already exists.\n\nReplace it?", "Replace"),
                lambda yes: self.export_to(pb, target, overwrite=True) if yes else None)

        self.app.push_screen(FolderPickerDialog(
            Path.cwd(), f"[b]Export {escape(pb.title)}[/]\n[dim]as CACAO 2.0 JSON: choose "
                        f"the folder to write {pb.id}.json in[/]"), chosen)

    @work(thread=True, exit_on_error=False, group="playbook-export",
          description="Exporting the playbook")
    def export_to(self, pb: Playbook, path: Path, overwrite: bool = False) -> None:  # thread
        from app.domain.clock import iso_utc
        from app.exporters.cacao import dumps_cacao, playbook_to_cacao

        try:
            try:
                doc = playbook_to_cacao(pb, created=iso_utc(self.store.clock()))
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            write_new_file(path, dumps_cacao(doc), overwrite=overwrite)
        except CrosswalkError as exc:
            self.post_message(PlaybookFailed("Playbook not exported", str(exc)))
            return
        self.post_message(PlaybookExported(path, pb.id, len(pb.steps)))

    def on_playbook_exported(self, message: PlaybookExported) -> None:
        self.notify(f"wrote {message.path}: CACAO 2.0 playbook {message.slug} "
                    f"({message.steps} steps)", title="Exported", markup=False)

    def action_reload(self) -> None:
        """Read the playbooks again."""
        self.reload()
