"""The `?` help screen, generated from the bindings active where it was opened."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from app.tui.widgets.plain_table import PlainTable


class HelpScreen(ModalScreen[None]):
    """Lists every key of the screen it was opened from, with its description and id."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close help", id="close-help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; padding: 0 0 1 0; }
    HelpScreen DataTable { height: auto; max-height: 20; }
    HelpScreen #help-hint { color: $text-muted; padding-top: 1; }
    """

    def __init__(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Keys — {self._title}", id="help-title", markup=False)
            table: DataTable[str] = PlainTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action", "Id")
            table.add_rows(self._rows)
            yield table
            yield Static("ctrl+p opens the command palette, where every action is listed too. "
                         "esc closes.", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
