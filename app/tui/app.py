"""The Crosswalk TUI. Build it with `make_app(store)`; tests pass a temporary workspace."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from app.errors import CrosswalkError
from app.store import Store
from app.tui.commands import CrosswalkCommands
from app.tui.screens.dialogs import ErrorDialog
from app.tui.screens.help import HelpScreen
from app.tui.sections import SECTIONS


class CrosswalkApp(App[None]):
    """Sections are Textual modes: each keeps its own screen (and state) while you move on."""

    TITLE = "Crosswalk"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {CrosswalkCommands}
    MODES: ClassVar = {s.id: s.screen for s in SECTIONS}
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(s.key, f"app.goto('{s.id}')", s.title, id=f"goto-{s.id}",
                  tooltip=s.description, show=False) for s in SECTIONS),
        Binding("question_mark", "app.help", "Help", id="help", key_display="?"),
        Binding("ctrl+q", "app.quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, store: Store, *, show_paths: bool = True) -> None:
        super().__init__()
        self.store = store
        self.show_paths = show_paths
        self._control_to_open: str | None = None

    def on_mount(self) -> None:
        self.sub_title = self.store.path.name if self.show_paths else ""
        self.switch_mode(SECTIONS[0].id)
        self.call_after_refresh(self._freeze_startup_objects)
        if self.store.migrated_from is not None:
            self.notify(f"Upgraded from schema v{self.store.migrated_from} to "
                        f"v{self.store.schema_version}; the old file is kept as "
                        f"{self.store.backup_path}", title="Workspace upgraded", markup=False)

    @staticmethod
    def _freeze_startup_objects() -> None:
        """Move what start-up built (modules, styles, the first screen) out of the garbage
        collector's way: its full collections then scan only what came later, which keeps
        them from pausing the UI while a large list loads (measured in bench/README.md)."""
        import gc

        gc.collect()
        gc.freeze()

    def on_unmount(self) -> None:
        import gc

        gc.unfreeze()  # the app is done: what it froze may be collected again

    # ---------------------------------------------------------------- actions
    def action_goto(self, section_id: str) -> None:
        """Switch to a section."""
        self.switch_mode(section_id)

    def open_control(self, control_id: str) -> None:
        """Show one control on the Controls screen."""
        self._control_to_open = control_id
        if self.current_mode == "controls":
            self.screen.reload()  # type: ignore[attr-defined]
        else:
            self.switch_mode("controls")

    def take_control_to_open(self) -> str | None:
        cid, self._control_to_open = self._control_to_open, None
        return cid

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen_title(self.screen), self.key_rows(self.screen)))

    def screen_title(self, screen: Screen[object]) -> str:
        section = next((s for s in SECTIONS if isinstance(screen, s.screen)), None)
        return section.title if section else getattr(screen, "HELP_TITLE", type(screen).__name__)

    @staticmethod
    def key_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
        """(key, description, id) of every described binding active on `screen`: the
        screen's own first, then the app's, then those of the focused widget."""
        rows: dict[tuple[str, str], tuple[int, str, str, str]] = {}
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description:
                continue
            rank = 0 if active.node is screen else 1 if active.node is screen.app else 2
            display = b.key_display or screen.app.get_key_display(b) or key
            rows.setdefault((b.action, b.description), (rank, display, b.description, b.id or ""))
        return [row[1:] for row in sorted(rows.values())]

    # ---------------------------------------------------------------- workers
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed becomes an error dialog, never a crash."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, CrosswalkError):
            message = str(error)
        else:
            message = f"{type(error).__name__}: {error}\n\nThis is a bug; please report it."
        title = f"{event.worker.description or 'Background task'} failed"
        self.push_screen(ErrorDialog(title, message))


def make_app(store: Store, *, show_paths: bool = True) -> CrosswalkApp:
    """Build the TUI over an open workspace (`show_paths=False` hides paths for snapshots)."""
    return CrosswalkApp(store, show_paths=show_paths)
