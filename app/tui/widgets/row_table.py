"""A line-API table for long lists (the evidence, the risk register): it draws only the rows on
screen, so 20,000 rows open and scroll as fast as 20. A header line, a cursor row (`current`,
`Moved` when it changes), filters given by the subclass (`keep`), and columns that drop out in
a set order when the width is short; the `title` column takes the room left.

Subclasses set `COLUMNS` and say what a cell holds (`cell`) and, if it is coloured, how
(`cell_style`)."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

R = TypeVar("R")


class Column(NamedTuple):
    key: str
    header: str
    width: int  # 0: takes the room left (the title)
    drop: int  # the order columns are dropped in when the width is short (0: never)


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells (wide characters count twice), cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class RowTable(ScrollView, Generic[R], can_focus=True):
    """Rows with an `id` (`show`), filtered by `keep`; the cursor row is `current`."""

    DEFAULT_CSS = """
    RowTable { height: 1fr; overflow-x: hidden; }
    RowTable > .rowtable--header { color: $text-accent; text-style: bold underline; }
    RowTable > .rowtable--faint { color: $text-muted; }
    RowTable > .rowtable--cursor { background: $block-cursor-background;
                                   color: $block-cursor-foreground; }
    RowTable > .rowtable--row { background: $panel-lighten-1; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rowtable--header", "rowtable--faint", "rowtable--cursor", "rowtable--row"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000000)", "First", show=False),
        Binding("end", "move(1000000000)", "Last", show=False),
    ]
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    MIN_TITLE: ClassVar[int] = 18
    EMPTY: ClassVar[str] = "nothing here yet"  # no rows at all
    NO_MATCH: ClassVar[str] = "nothing matches the filters"

    row_index: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Moved(Message):
        """The cursor is on another row (or on none: `row` is None)."""

        def __init__(self, row: Any) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[R] = []  # everything loaded
        self.shown: list[R] = []  # what the filters let through
        self.loaded = False

    # ------------------------------------------------------------------ data
    def show(self, rows: list[R], keep: int | None = None) -> None:
        """Show `rows` (filtered as before); keep the cursor on row id `keep` if shown."""
        if keep is None and self.current is not None:
            keep = self.row_id(self.current)
        self.rows = rows
        self.loaded = True
        self._apply(keep)

    def keep(self, row: R) -> bool:
        """Whether the filters let `row` through (subclasses hold the filters)."""
        return True

    def refilter(self) -> None:
        """Apply changed filters, keeping the cursor on its row when it is still shown."""
        self._apply(self.row_id(self.current) if self.current is not None else None)

    def _apply(self, keep: int | None) -> None:
        rows = [r for r in self.rows if self.keep(r)]
        self.shown = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        index = 0
        if keep is not None:
            index = next((i for i, r in enumerate(rows) if self.row_id(r) == keep), 0)
        self.refresh()
        self.row_index = index

    @staticmethod
    def row_id(row: R) -> int:
        return row.id  # type: ignore[attr-defined, no-any-return]

    @property
    def current(self) -> R | None:
        if not self.shown:
            return None
        return self.shown[min(self.row_index, len(self.shown) - 1)]

    def go_to(self, row_id: int) -> bool:
        """Put the cursor on the row with this id; False when it is not shown."""
        for i, r in enumerate(self.shown):
            if self.row_id(r) == row_id:
                self.row_index = i
                return True
        return False

    # ------------------------------------------------------------------ keys
    def action_move(self, rows: int) -> None:
        if self.shown:
            self.row_index = max(0, min(len(self.shown) - 1, self.row_index + rows))

    def action_page(self, pages: int) -> None:
        self.action_move(pages * max(1, self.scrollable_content_region.height - 2))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        if y >= 1:
            index = y - 1 + self.scroll_offset.y
            if index < len(self.shown):
                self.row_index = index

    def watch_row_index(self, old: int, new: int) -> None:
        width = self.size.width
        for index in {old, new}:
            self.refresh(Region(0, index + 1 - self.scroll_offset.y, width, 1))
        # rows sit one line below their index (the header is line 0, drawn over the top)
        self.scroll_to_region(Region(0, new, 1, 2), animate=False, immediate=True)
        self.post_message(self.Moved(self.current))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.shown) + 1)

    # ------------------------------------------------------------------ drawing
    def cell(self, row: R, key: str) -> str:
        """The text of `row`'s cell in column `key`."""
        return str(getattr(row, key))

    def cell_style(self, row: R, key: str, base: Style, on_cursor: bool) -> tuple[str, Style]:
        """A cell's text and style (`base` is the row's); override to colour cells."""
        return self.cell(row, key), base

    def columns_for(self, width: int) -> list[tuple[Column, int]]:
        """The columns that fit `width`, each with its width (the title takes the rest)."""
        columns = list(self.COLUMNS)
        for drop in sorted({c.drop for c in columns if c.drop}):
            fixed = sum(c.width + 1 for c in columns if c.width)
            if width - fixed >= self.MIN_TITLE:
                break
            columns = [c for c in columns if c.drop != drop]
        fixed = sum(c.width + 1 for c in columns if c.width)
        return [(c, c.width or max(8, width - fixed - 1)) for c in columns]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.columns_for(width)
        if y == 0:
            style = self.rich_style + self.style_of("rowtable--header")
            text = "".join(fit(c.header, w) + " " for c, w in columns)
            return Strip([Segment(text.ljust(width), style)]).crop(0, width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self.shown):
            if not self.shown and y == 1:
                note = (self.NO_MATCH if self.rows else self.EMPTY) if self.loaded \
                    else "loading…"
                return Strip([Segment(("  " + note).ljust(width), self.rich_style +
                                      self.style_of("rowtable--faint"))]).crop(0, width)
            return Strip.blank(width, self.rich_style)
        row = self.shown[index]
        on_cursor = index == self.row_index
        base = self.rich_style
        if on_cursor:
            base += self.style_of("rowtable--cursor" if self.has_focus else "rowtable--row")
        segments = []
        for column, w in columns:
            text, style = self.cell_style(row, column.key, base, on_cursor and self.has_focus)
            segments.append(Segment(fit(text, w), style))
            segments.append(Segment(" ", base))
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)
