"""A clause × control matrix that draws only the rows on screen (Textual's line API), so a
regulation of 10,000 clauses opens and moves as fast as one of 100."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.services.matrix import CONTROLS, Matrix, Row

SYMBOLS = {"equal-to": "=", "equivalent-to": "≈", "subset-of": "⊂", "superset-of": "⊃",
           "intersects-with": "∩", "no-relationship": "∅"}
CELL = 5  # characters per control column (4 when the screen is narrow)
NARROW_WORDS = (("Chapter ", "Ch."), ("Section ", "Sec."), ("Recitals ", "Rec."),
                ("Article ", "Art."), ("Subpart ", "Subp."))
LEGEND = ("= equal-to  ≈ equivalent-to  ⊂ subset-of  ⊃ superset-of  ∩ intersects-with  "
          "∅ no-relationship · F full, P partial, ! flagged · ↑ covered from above, · mapped "
          "below")
SHORT_LEGEND = "= equal ≈ equiv ⊂ subset ⊃ superset ∩ intersects ∅ none · F/P full/partial"


class MappingMatrix(ScrollView, can_focus=True):
    """Rows are the shown clauses (folded or opened), columns the twelve controls."""

    DEFAULT_CSS = """
    MappingMatrix { height: 1fr; overflow-x: hidden; }
    MappingMatrix > .matrix--full { color: $success; text-style: bold; }
    MappingMatrix > .matrix--partial { color: $warning; text-style: bold; }
    MappingMatrix > .matrix--none { color: $error; }
    MappingMatrix > .matrix--faint { color: $text-muted; }
    MappingMatrix > .matrix--gap { color: $error; }
    MappingMatrix > .matrix--cursor { background: $accent; color: $text; }
    MappingMatrix > .matrix--row { background: $boost; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "matrix--full", "matrix--partial", "matrix--none", "matrix--faint", "matrix--gap",
        "matrix--cursor", "matrix--row"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "move(-10, 0)", "Page up", show=False),
        Binding("pagedown", "move(10, 0)", "Page down", show=False),
        Binding("space", "toggle", "Open/fold", id="matrix-toggle",
                tooltip="Show or hide the paragraphs and points under this clause"),
    ]

    row_index: reactive[int] = reactive(0, always_update=True, repaint=False)
    column: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Moved(Message):
        """The cursor is on another cell."""

        def __init__(self, row: Row | None, control_id: str) -> None:
            super().__init__()
            self.row = row
            self.control_id = control_id

    class Resized(Message):
        """The cells moved: the widget resized, or its scrollbar came or went."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matrix: Matrix | None = None
        self.expanded: set[int] = set()
        self.shown: list[tuple[int, Row]] = []
        self._width = -1  # the content width the cells were laid out for

    # ------------------------------------------------------------------ data
    def show(self, matrix: Matrix, keep: int | None = None) -> None:
        """Show `matrix`; keep the cursor on clause `keep` when it is still there."""
        self.matrix = matrix
        if keep is not None and keep in matrix.by_id:
            self.expanded |= set(matrix.ancestors(keep))
        self.expanded &= set(matrix.by_id)
        self._layout()
        self.row_index = next((i for i, (_, r) in enumerate(self.shown) if r.id == keep), 0)

    def _layout(self) -> None:
        assert self.matrix is not None
        self.shown = self.matrix.visible(self.expanded)
        self.virtual_size = Size(self.ref_width + self.cell_width * len(CONTROLS),
                                 len(self.shown))
        self.refresh()
        self.call_after_refresh(self._check_width)

    def _check_width(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self.virtual_size = Size(self.ref_width + self.cell_width * len(CONTROLS),
                                     len(self.shown))
            self.refresh()
            self.post_message(self.Resized())
            self.call_after_refresh(self._check_width)  # until the scrollbar settles

    def on_resize(self) -> None:
        self.call_after_refresh(self._check_width)

    @property
    def cell_width(self) -> int:
        return CELL if self.scrollable_content_region.width >= 20 + CELL * len(CONTROLS) \
            else CELL - 1

    @property
    def ref_width(self) -> int:
        return max(10, self.scrollable_content_region.width - self.cell_width * len(CONTROLS))

    @property
    def current(self) -> Row | None:
        return self.shown[self.row_index][1] if self.shown else None

    @property
    def control(self) -> str:
        return CONTROLS[self.column]

    def go_to(self, clause_id: int) -> None:
        """Open the clause's ancestors and put the cursor on it."""
        assert self.matrix is not None
        self.expanded |= set(self.matrix.ancestors(clause_id))
        self._layout()
        self.row_index = next(i for i, (_, r) in enumerate(self.shown) if r.id == clause_id)

    # ------------------------------------------------------------------ keys
    def action_move(self, rows: int, columns: int) -> None:
        if not self.shown:
            return
        self.row_index = max(0, min(len(self.shown) - 1, self.row_index + rows))
        self.column = max(0, min(len(CONTROLS) - 1, self.column + columns))

    def action_toggle(self) -> None:
        """Open or fold the clause under the cursor."""
        row = self.current
        if row is None or self.matrix is None or not self.matrix.has_children(row.id):
            return
        self.expanded ^= {row.id}
        self._layout()
        self.row_index = self.row_index

    def watch_row_index(self, old: int, new: int) -> None:
        self._moved(old, new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False)

    def watch_column(self, old: int, new: int) -> None:
        self._moved(self.row_index, self.row_index)

    def _moved(self, old: int, new: int) -> None:
        width = self.size.width
        for y in {old, new}:
            self.refresh(Region(0, y - self.scroll_offset.y, width, 1))
        self.post_message(self.Moved(self.current, self.control))

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        if self.matrix is None or index >= len(self.shown):
            return Strip.blank(self.size.width, self.rich_style)
        depth, row = self.shown[index]
        on_row = index == self.row_index
        base = self.get_component_rich_style("matrix--row") if on_row else self.rich_style
        marker = ("▾ " if row.id in self.expanded else "▸ ") \
            if self.matrix.has_children(row.id) else "  "
        gap = self.matrix.is_gap(row)
        wide = self.cell_width == CELL
        ref = row.ref
        if not wide:  # narrow: "(b)" under "Art. 32(1)", "Ch. III", no titles
            parent = self.matrix.by_id[row.parent_id].ref if row.parent_id is not None else ""
            ref = ref[len(parent):].strip() if parent and ref.startswith(parent) else ref
            for word, short in NARROW_WORDS:
                ref = ref.replace(word, short)
        label = f"{' ' * depth * (2 if wide else 1)}{marker}{ref}" \
                f"{' ' + row.title if row.title and wide else ''}"
        width = self.ref_width
        label = (label[:width - 2] + "…") if len(label) > width - 1 else label
        segments = [Segment(label.ljust(width), base + self._style("matrix--gap")
                            if gap else base)]
        for i, control in enumerate(CONTROLS):
            text, style = self._cell(row, control)
            if on_row and i == self.column and self.has_focus:
                style = self.get_component_rich_style("matrix--cursor")
            else:
                style = base + style
            segments.append(Segment(text.center(self.cell_width), style))
        return Strip(segments).crop(0, self.size.width)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _cell(self, row: Row, control: str) -> tuple[str, Style]:
        assert self.matrix is not None
        cell = self.matrix.cell(row.id, control)
        if cell is not None:
            sym = SYMBOLS.get(cell.relationship, "?")
            if cell.relationship == "no-relationship":
                return sym, self._style("matrix--none")
            mark = cell.coverage[:1].upper() + ("!" if cell.flag else "")
            return f"{sym}{mark}", self._style(f"matrix--{cell.coverage}")
        if self.matrix.inherited(row.id, control) is not None:
            return "↑", self._style("matrix--faint")
        if row.id not in self.expanded and self.matrix.below(row.id, control):
            return "·", self._style("matrix--faint")
        return "", Style()
