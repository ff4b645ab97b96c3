"""Restoring a backup from the TUI (on the Export screen, ctrl+r): the dialog asks for the
archive and the new workspace file, checks both before it closes, and the screen runs
`app.services.backup.restore` in a worker. The running TUI keeps its own workspace; the
result says how to open the restored one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Static

from app.tui.screens.evidence_dialogs import FormDialog, _input


@dataclass(frozen=True, slots=True)
class RestoreRequest:
    archive: Path
    target: Path


def _absolute(typed: str) -> Path:
    path = Path(typed).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


class RestoreDialog(FormDialog[RestoreRequest | None]):
    """The backup archive to restore and the new workspace file to restore it into."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Restore", id="restore-save", priority=True,
                tooltip="Check the two paths and restore in the background"),
        Binding("escape", "cancel", "Cancel", id="restore-cancel"),
        Binding("ctrl+o", "browse", "Browse", id="restore-browse", priority=True,
                tooltip="Choose the backup archive"),
    ]
    SAVE_LABEL = "Restore  ctrl+s"

    def compose(self) -> ComposeResult:
        with Vertical(id="restore-form", classes="dialog evidence-form"):
            yield Static("[b]Restore a backup into a new workspace[/]\n[dim]every hash is "
                         "checked first; nothing is overwritten; the result is verified[/]")
            with Horizontal(classes="form-row"):
                yield Vertical(Label("Backup archive (crosswalk backup -o …)"),
                               _input("", "restore-archive", "workspace-backup.zip"),
                               classes="field")
                yield Button("Browse…  ctrl+o", id="browse", compact=True)
            yield Vertical(Label("New workspace file (must not exist yet)"),
                           _input("", "restore-target", "restored.db"), classes="field")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#restore-archive").focus()

    def on_input_changed(self, _event: Input.Changed) -> None:
        """An error shown for the old paths goes once either path is edited."""
        self.query_one("#form-error", Static).remove_class("-shown")

    def action_browse(self) -> None:
        """Choose the backup archive."""
        from app.tui.screens.import_dialogs import FilePickerDialog

        def chosen(picked: Path | None) -> None:
            if picked is not None:
                box = self.query_one("#restore-archive")
                box.value = str(picked)  # type: ignore[attr-defined]
                self.query_one("#restore-target").focus()

        self.app.push_screen(FilePickerDialog(
            Path.cwd(), "[b]Restore a backup[/]  [dim]an archive written by crosswalk backup "
                        "or the Export screen[/]"), chosen)

    def action_save(self) -> None:
        archive, target = self.value("restore-archive"), self.value("restore-target")
        if not archive:
            self.fail("give the backup archive to restore", "restore-archive")
            return
        if not _absolute(archive).is_file():
            self.fail(f"no backup archive at {archive}", "restore-archive")
            return
        if not target:
            self.fail("give the new workspace file", "restore-target")
            return
        path = _absolute(target)
        if path.exists() or path.is_symlink():
            self.fail(f"{target} already exists; restore into a new workspace path "
                      "(nothing is overwritten)", "restore-target")
            return
        if not path.parent.is_dir():
            self.fail(f"folder {path.parent} does not exist", "restore-target")
            return
        self.dismiss(RestoreRequest(_absolute(archive), path))
