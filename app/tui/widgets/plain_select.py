"""A Select that shows its option labels as written.

The built-in Select reads a ``str`` option label as markup — in its drop-down list and in the
box that shows the chosen option — so a system named ``x [/b]`` would crash the screen and a
regulation titled ``[legal] …`` would lose a word. Every Select in the TUI is a `PlainSelect`:
both parts are told not to read markup, so ``str`` labels show as written and labels that are
already renderables (styled `Text`) keep their styles. The options stay what was given
(``str`` labels are still ``str``), and it is still a `Select`: ``query_one(…, Select)``,
``Select.Changed`` and the ``Select`` CSS apply.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Select, Static
from textual.widgets._select import SelectCurrent, SelectOverlay, SelectType


class PlainSelect(Select[SelectType]):
    """`Select` whose ``str`` option labels are never read as markup."""

    def _on_mount(self, _event: events.Mount) -> None:
        # runs before Select's own `_on_mount`, which fills the list and shows the value
        self.query_one(SelectOverlay)._markup = False
        self.query_one(SelectCurrent).query_one("#label", Static)._render_markup = False
