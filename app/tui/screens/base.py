"""The frame every section screen shares: header, sidebar, body, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker

from app.errors import CrosswalkError
from app.tui.widgets.sidebar import Sidebar

if TYPE_CHECKING:
    from app.store import Store
    from app.tui.app import CrosswalkApp


class SectionScreen(Screen[None]):
    """A section of the app. Subclasses set `SECTION_ID`, compose their body and reload their
    data in `refresh_data`, which runs each time the screen is shown."""

    SECTION_ID: ClassVar[str] = ""
    AUTO_FOCUS = "#body DataTable"  # the section's main table, not the sidebar
    NARROW_BELOW: ClassVar[int] = 100  # terminal columns; matches App.HORIZONTAL_BREAKPOINTS

    _narrow: bool | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        with Horizontal(id="frame"):
            yield Sidebar(self.SECTION_ID)
            with Vertical(id="body"):
                yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def crosswalk(self) -> CrosswalkApp:
        return self.app  # type: ignore[return-value]

    @property
    def store(self) -> Store:
        return self.crosswalk.store

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        self.reload()

    @property
    def narrow(self) -> bool:
        return self.app.size.width < self.NARROW_BELOW

    def on_resize(self, _event: events.Resize) -> None:
        if self._narrow is not None and self._narrow != self.narrow:
            self.build_columns()
            self.reload()
        self._narrow = self.narrow

    def on_mount(self) -> None:
        self._narrow = self.narrow
        self.build_columns()

    def build_columns(self) -> None:
        """(Re)create the columns of the screen's tables for the current width."""

    def reload(self) -> None:
        """`refresh_data`, with a workspace failure shown as a notification, not a crash."""
        try:
            self.refresh_data()
        except CrosswalkError as exc:
            self.notify(str(exc), title="Cannot read the workspace", severity="error",
                        markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.crosswalk.on_worker_state_changed(event)  # failures become the app's error dialog

    def refresh_data(self) -> None:
        """Reload what the screen shows from the store (cheap reads only; slow work → worker)."""
