"""The section list on the left of every screen."""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option


class Sidebar(OptionList):
    """Lists the app's sections with their number keys; choosing one switches to it."""

    DEFAULT_CSS = """
    Sidebar {
        width: 15;
        height: 1fr;
        border: none;
        border-right: vkey $foreground 20%;
        padding: 0;
        background: $surface;
    }
    Sidebar:focus {
        border: none;
        border-right: vkey $accent;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__(id="sidebar")
        self.current = current

    def on_mount(self) -> None:
        from app.tui.sections import SECTIONS  # here: sections → screens → sidebar at import

        self.add_options(Option(f"{s.key} {s.title}", id=s.id) for s in SECTIONS)
        self.highlighted = next(i for i, s in enumerate(SECTIONS) if s.id == self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != self.current:
            self.app.switch_mode(event.option.id)
