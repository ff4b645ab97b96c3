"""A DataTable that shows text cells as written.

The built-in DataTable reads a ``str`` cell as Rich markup, so a title, an owner or a log line
holding ``[/b]`` would crash the screen and ``[legal]`` would vanish. Every table that shows
what a user typed or a file contained is a `PlainTable`: its ``str`` cells are shown as plain
text; cells that are already renderables (styled `Text`) keep their styles.

The cells stay what was added — a ``str`` is still a ``str`` to `get_row`, `get_cell` and
sorting — only how they are drawn changes. DataTable turns a cell into what it draws with the
module function ``default_cell_formatter``, in two places (drawing a row, measuring a column);
`PlainTable` runs those two with a formatter that reads no markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets import _data_table as _dt
from textual.widgets._data_table import CellKey, CellType, RowRenderables

_MARKUP_FORMATTER = _dt.default_cell_formatter


def plain_cell_formatter(obj: object, wrap: bool = True, height: int = 0) -> RenderableType:
    """`default_cell_formatter`, but a ``str`` is text, never markup."""
    if not isinstance(obj, str):
        return _MARKUP_FORMATTER(obj, wrap, height)
    content = obj
    if height:  # as DataTable does: lines past the row's height would never show
        cut = _dt._find_newline(content, height)
        if cut != -1 and cut != len(content) - 1:
            content = content[:cut]
    return Text(content, no_wrap=not wrap, end="")


@contextmanager
def _plain_cells() -> Iterator[None]:
    _dt.default_cell_formatter = plain_cell_formatter  # type: ignore[assignment]
    try:
        yield
    finally:
        _dt.default_cell_formatter = _MARKUP_FORMATTER


class PlainTable(DataTable[CellType]):
    """`DataTable` whose ``str`` cells are never read as markup."""

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        with _plain_cells():
            return super()._compute_row_renderables(row_index)

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        with _plain_cells():
            super()._update_column_widths(updated_cells)
