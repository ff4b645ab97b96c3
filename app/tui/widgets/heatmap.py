"""A heat map of risks: the grid of a risk matrix (likelihood up, impact across), each cell in
its level's colour with the number of risks in it, for one stage at a time.

Give it the three stages' maps (`app.services.risk_checks.heatmap`, one per stage) with
`show`. Arrows move the cursor cell, `v` cycles inherent → current → residual, Enter posts
`HeatMap.CellChosen` with the cell's risks (the Risks screen filters its register with them).
The line under the grid names the cursor cell in words, so nothing depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from app.domain.risk import STAGES
from app.services.risk_checks import Heatmap
from app.tui.widgets.risk_table import level_style


def _fit(text: str, width: int, *, right: bool = False) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else text[:width]
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


class HeatMap(Widget, can_focus=True):
    """Counts of risks per likelihood × impact cell for one stage, with a cursor cell."""

    DEFAULT_CSS = """
    HeatMap {
        width: auto; height: auto;
        border: round $foreground 30%; border-title-color: $text-muted;
        padding: 0 1;
    }
    HeatMap:focus { border: round $accent; }
    HeatMap > .heatmap--axis { color: $text-muted; }
    HeatMap > .heatmap--cursor { text-style: bold reverse; }
    HeatMap > .heatmap--cursor-blur { text-style: bold underline; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"heatmap--axis", "heatmap--cursor",
                                             "heatmap--cursor-blur"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(1, 0)", "Likelier", show=False),
        Binding("down", "move(-1, 0)", "Less likely", show=False),
        Binding("right", "move(0, 1)", "More impact", show=False),
        Binding("left", "move(0, -1)", "Less impact", show=False),
        Binding("enter", "choose", "Cell's risks", id="heatmap-choose",
                tooltip="List the risks of the cursor cell in the register"),
        Binding("v", "cycle_stage", "Stage", id="heatmap-stage",
                tooltip="Show the inherent, current or residual scores, in turn"),
    ]

    stage: reactive[str] = reactive("residual")
    cursor: reactive[tuple[int, int]] = reactive((1, 1))  # (likelihood, impact), 1-based
    compact: reactive[bool] = reactive(False, layout=True)

    class CellChosen(Message):
        """Enter on a cell: its stage, position and risks."""

        def __init__(self, stage: str, likelihood: int, impact: int, risks: list[int],
                     label: str) -> None:
            super().__init__()
            self.stage, self.likelihood, self.impact = stage, likelihood, impact
            self.risks, self.label = risks, label

    class StageChanged(Message):
        def __init__(self, stage: str) -> None:
            super().__init__()
            self.stage = stage

    def __init__(self, *, id: str | None = None, stage: str = "residual") -> None:
        super().__init__(id=id)
        self.maps: dict[str, Heatmap] = {}
        self.set_reactive(HeatMap.stage, stage)
        self._title()

    # ------------------------------------------------------------------ data
    def show(self, maps: Mapping[str, Heatmap]) -> None:
        """The maps of the three stages (the same matrix); keeps the stage and cursor."""
        self.maps = dict(maps)
        m = self.heatmap
        if m is not None:
            lk, im = self.cursor
            self.cursor = (min(lk, len(m.matrix.likelihood)), min(im, len(m.matrix.impact)))
        self._title()
        self.refresh(layout=True)

    @property
    def heatmap(self) -> Heatmap | None:
        """The map of the stage shown."""
        return self.maps.get(self.stage)

    def cell(self, likelihood: int, impact: int) -> list[int]:
        m = self.heatmap
        return list(m.cells[likelihood - 1][impact - 1]) if m is not None else []

    def count(self, likelihood: int, impact: int) -> int:
        return len(self.cell(likelihood, impact))

    def cell_label(self, likelihood: int | None = None, impact: int | None = None) -> str:
        """The cell in words: ``Likely × Major: High``."""
        m = self.heatmap
        if m is None:
            return ""
        lk, im = (likelihood, impact) if likelihood and impact else self.cursor
        mx = m.matrix
        return (f"{mx.likelihood[lk - 1].name} × {mx.impact[im - 1].name}: "
                f"{mx.level(lk, im).name}")

    # ------------------------------------------------------------------ actions
    def action_move(self, d_likelihood: int, d_impact: int) -> None:
        m = self.heatmap
        if m is None:
            return
        lk, im = self.cursor
        self.cursor = (max(1, min(len(m.matrix.likelihood), lk + d_likelihood)),
                       max(1, min(len(m.matrix.impact), im + d_impact)))

    def action_cycle_stage(self) -> None:
        """Show the next stage: inherent → current → residual → inherent."""
        self.stage = STAGES[(STAGES.index(self.stage) + 1) % len(STAGES)]

    def action_choose(self) -> None:
        """List the cursor cell's risks."""
        if self.heatmap is None:
            return
        lk, im = self.cursor
        self.post_message(self.CellChosen(self.stage, lk, im, self.cell(lk, im),
                                          f"{self.cell_label()} ({self.stage})"))

    def watch_stage(self, stage: str) -> None:
        self._title()
        self.refresh()
        self.post_message(self.StageChanged(stage))

    def watch_cursor(self) -> None:
        self.refresh()

    def _title(self) -> None:
        m = self.heatmap
        ref = f" · {m.matrix.ref}" if m is not None else ""
        self.border_title = f"Heat map · {self.stage}{ref}"

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        m = self.heatmap
        if m is None:
            return
        label, cell = self._widths()
        rows = len(m.matrix.likelihood)
        x, y = event.x - label - 1, event.y
        if 0 <= y < rows and x >= 0 and x % (cell + 1) < cell:
            impact = x // (cell + 1) + 1
            if impact <= len(m.matrix.impact):
                self.cursor = (rows - y, impact)

    # ------------------------------------------------------------------ drawing
    def _widths(self) -> tuple[int, int]:
        """(likelihood label width, cell width); compact: positions instead of names."""
        m = self.heatmap
        if self.compact:
            return 2, 3
        longest = max((cell_len(lv.name) for lv in m.matrix.likelihood), default=8) \
            if m is not None else 8
        return min(longest, 14), 6

    def get_content_width(self, container: Size, viewport: Size) -> int:
        m = self.heatmap
        label, cell = self._widths()
        impacts = len(m.matrix.impact) if m is not None else 5
        return label + 1 + impacts * (cell + 1)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        m = self.heatmap
        return (len(m.matrix.likelihood) if m is not None else 1) + (3 if self.compact else 2)

    def render(self) -> Text:
        m = self.heatmap
        if m is None:
            return Text("no risks scored yet", style="dim")
        mx = m.matrix
        label, cell = self._widths()
        axis = self.get_component_rich_style("heatmap--axis", partial=True)
        cursor = self.get_component_rich_style(
            "heatmap--cursor" if self.has_focus else "heatmap--cursor-blur", partial=True)
        out = Text(no_wrap=True, overflow="crop")
        for lk in range(len(mx.likelihood), 0, -1):
            name = str(lk) if self.compact else mx.likelihood[lk - 1].name
            out.append(_fit(name, label, right=True) + " ", axis)
            for im in range(1, len(mx.impact) + 1):
                n = len(m.cells[lk - 1][im - 1])
                text = f"{n:^{cell}}" if n else f"{'·':^{cell}}"
                style = level_style(mx.level(lk, im).colour)
                if (lk, im) == self.cursor:
                    style = style + cursor
                    if cell >= 5:
                        text = f"›{text[1:-1]}‹"
                out.append(text, style)
                out.append(" ")
            out.append("\n")
        out.append(" " * (label + 1))
        for i, lv in enumerate(mx.impact, start=1):
            out.append((f"{i:^{cell}}" if self.compact else _fit(lv.name, cell)) + " ", axis)
        out.append("\n")
        lk, im = self.cursor
        n = len(m.cells[lk - 1][im - 1])
        extra = []
        if m.unscored:
            extra.append(f"{m.unscored:,} not scored {m.stage}")
        if m.elsewhere:
            extra.append(f"{m.elsewhere:,} on other matrices")
        risks = f"{n:,} risk{'s' if n != 1 else ''}"
        if self.compact:  # likelihood × impact by position, the level, the count below
            out.append(f"{lk}×{im} {mx.level(lk, im).name}\n{risks}", Style(bold=True))
            return out
        out.append(f"{self.cell_label()} · {risks}", Style(bold=True))
        if extra:
            out.append(" · " + " · ".join(extra), axis)
        return out
