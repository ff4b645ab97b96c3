"""The evidence list as a line-API table: it draws only the rows on screen, so 20,000 records
open and scroll as fast as 20. The header stays on the first line; columns that do not fit
the width are dropped (classification first, then kind, version and controls)."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.services.evidence_status import EvidenceRow


class Column(NamedTuple):
    key: str
    header: str
    width: int  # 0: takes the room left (the title)
    drop: int  # the order columns are dropped in when the width is short (0: never)


COLUMNS = (
    Column("id", "ID", 8, 0),
    Column("status", "Status", 9, 0),
    Column("title", "Title", 0, 0),
    Column("kind", "Kind", 11, 2),
    Column("version", "v", 3, 3),
    Column("valid_until", "Valid until", 11, 0),
    Column("controls", "Controls", 14, 4),
    Column("classification", "Class.", 12, 1),
)
MIN_TITLE = 22
SHORT_KINDS = {"configuration": "config", "test-result": "test result"}


def _text(row: EvidenceRow, key: str) -> str:
    if key == "id":
        return row.label
    if key == "version":
        return str(row.version)
    if key == "valid_until":
        return row.valid_until or "—"
    if key == "controls":
        return " ".join(row.controls) or "—"
    if key == "kind":
        return SHORT_KINDS.get(row.kind, row.kind)
    if key == "title":
        return " ".join(row.title.split())  # a title is one line, whatever was typed
    return str(getattr(row, key))


class EvidenceTable(ScrollView, can_focus=True):
    """All the evidence (`show`), filtered (`filter`); the cursor row is `current`."""

    DEFAULT_CSS = """
    EvidenceTable { height: 1fr; overflow-x: hidden; }
    EvidenceTable > .evtable--header { color: $text-accent; text-style: bold underline; }
    EvidenceTable > .evtable--current { color: $text-success; }
    EvidenceTable > .evtable--expiring { color: $text-warning; text-style: bold; }
    EvidenceTable > .evtable--expired { color: $text-error; text-style: bold; }
    EvidenceTable > .evtable--faint { color: $text-muted; }
    EvidenceTable > .evtable--cursor { background: $block-cursor-background;
                                       color: $block-cursor-foreground; }
    EvidenceTable > .evtable--row { background: $boost; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "evtable--header", "evtable--current", "evtable--expiring", "evtable--expired",
        "evtable--faint", "evtable--cursor", "evtable--row"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000000)", "First", show=False),
        Binding("end", "move(1000000000)", "Last", show=False),
    ]

    row_index: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Moved(Message):
        """The cursor is on another row (or on none: `row` is None)."""

        def __init__(self, row: EvidenceRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[EvidenceRow] = []  # everything loaded
        self.shown: list[EvidenceRow] = []  # what the filters let through
        self.loaded = False
        self._filters: tuple[str | None, str | None, str] = (None, None, "")

    # ------------------------------------------------------------------ data
    def show(self, rows: list[EvidenceRow], keep: int | None = None) -> None:
        """Show `rows` (filtered as before); keep the cursor on evidence `keep` if shown."""
        if keep is None and self.current is not None:
            keep = self.current.id
        self.rows = rows
        self.loaded = True
        self._apply(keep)

    def filter(self, status: str | None, control: str | None, text: str) -> None:
        """Only rows of this status, linked to this control, whose title has `text`."""
        self._filters = (status, control, text.strip().casefold())
        self._apply(self.current.id if self.current is not None else None)

    def _apply(self, keep: int | None) -> None:
        status, control, text = self._filters
        rows = self.rows
        if status:
            rows = [r for r in rows if r.status == status]
        if control:
            rows = [r for r in rows if control in r.controls]
        if text:
            rows = [r for r in rows if text in r.title.casefold() or text == r.label.casefold()]
        self.shown = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        index = 0
        if keep is not None:
            index = next((i for i, r in enumerate(rows) if r.id == keep), 0)
        self.refresh()
        self.row_index = index

    @property
    def current(self) -> EvidenceRow | None:
        if not self.shown:
            return None
        return self.shown[min(self.row_index, len(self.shown) - 1)]

    def go_to(self, evidence_id: int) -> bool:
        """Put the cursor on evidence `evidence_id`; False when it is not shown."""
        for i, r in enumerate(self.shown):
            if r.id == evidence_id:
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
    def columns_for(self, width: int) -> list[tuple[Column, int]]:
        """The columns that fit `width`, each with its width (the title takes the rest)."""
        columns = list(COLUMNS)
        for drop in (1, 2, 3, 4):
            fixed = sum(c.width + 1 for c in columns if c.width)
            if width - fixed >= MIN_TITLE:
                break
            columns = [c for c in columns if c.drop != drop]
        fixed = sum(c.width + 1 for c in columns if c.width)
        return [(c, c.width or max(8, width - fixed - 1)) for c in columns]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.columns_for(width)
        if y == 0:
            style = self.rich_style + self._style("evtable--header")
            text = "".join(_fit(c.header, w) + " " for c, w in columns)
            return Strip([Segment(text.ljust(width), style)]).crop(0, width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self.shown):
            if not self.shown and y == 1:
                note = ("no evidence yet — press a to attach a file or a link"
                        if not self.rows else "nothing matches the filters")
                return Strip([Segment(("  " + note if self.loaded else "  loading…")
                                      .ljust(width), self.rich_style +
                                      self._style("evtable--faint"))]).crop(0, width)
            return Strip.blank(width, self.rich_style)
        row = self.shown[index]
        if index == self.row_index:
            base = self.rich_style + (self._style("evtable--cursor") if self.has_focus
                                      else self._style("evtable--row"))
        else:
            base = self.rich_style
        segments = []
        for column, w in columns:
            style = base
            if column.key == "status" and not (index == self.row_index and self.has_focus):
                style = base + self._style(f"evtable--{row.status}")
            segments.append(Segment(_fit(_text(row, column.key), w) + " ", style))
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells (wide characters count twice), cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"
