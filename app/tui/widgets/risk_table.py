"""The risk register as a line-API table: it draws only the rows on screen, so 5,000 risks open
and scroll as fast as 5. Each risk's latest level is drawn in its matrix's colour, with the
stage it was read at (I inherent, C current, R residual); a review date that has passed is
red. Columns that do not fit the width are dropped (category first, then owner and system)."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import ClassVar

from rich.color import Color
from rich.style import Style

from app.services.risk_register import RiskRow, StageScore
from app.tui.widgets.row_table import Column, RowTable

COLUMNS = (
    Column("id", "ID", 7, 0),
    Column("level", "Level", 10, 0),
    Column("stage", "S", 1, 0),
    Column("title", "Title", 0, 0),
    Column("system", "System", 12, 3),
    Column("category", "Category", 13, 1),
    Column("treatment", "Treatment", 9, 0),
    Column("owner", "Owner", 12, 2),
    Column("review_on", "Review on", 10, 0),
)
MIN_TITLE = 18
SHORT_CATEGORIES = {"bias-and-fairness": "bias/fairness", "adversarial-or-poisoning":
                    "adversarial", "privacy-leakage": "privacy", "model-theft-or-tampering":
                    "theft/tamper"}
STAGE_LETTER = {"inherent": "I", "current": "C", "residual": "R"}


def latest_stage(row: RiskRow) -> tuple[str, StageScore] | None:
    """The most advanced stage scored, and its score."""
    for name in ("residual", "current", "inherent"):
        score = getattr(row, name)
        if score is not None:
            return name, score
    return None


@lru_cache(maxsize=64)
def level_style(colour: str) -> Style:
    """The matrix level's colour as a badge: its colour behind, black or white text on it."""
    try:
        r, g, b = Color.parse(colour).get_truecolor()
    except Exception:  # a colour Rich cannot read: no badge rather than a crash
        return Style(bold=True)
    light = (0.299 * r + 0.587 * g + 0.114 * b) > 140
    return Style(bgcolor=colour, color="#000000" if light else "#ffffff", bold=True)


def _text(row: RiskRow, key: str) -> str:
    if key == "id":
        return row.label
    if key == "level":
        return row.latest.level if row.latest else "unscored"
    if key == "stage":
        found = latest_stage(row)
        return STAGE_LETTER[found[0]] if found else "·"
    if key == "category":
        return SHORT_CATEGORIES.get(row.category, row.category)
    if key == "title":
        return " ".join(row.title.split())  # a title is one line, whatever was typed
    if key == "review_on":
        return row.review_on or "—"
    if key in ("owner", "system"):
        return " ".join(str(getattr(row, key)).split()) or "—"
    return str(getattr(row, key))


class RiskTable(RowTable[RiskRow]):
    """The register (`show`), filtered (`filter`, `only`); the cursor row is `current`."""

    DEFAULT_CSS = """
    RiskTable > .rktable--overdue { color: $text-error; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"rktable--overdue"}
    COLUMNS = COLUMNS
    MIN_TITLE = MIN_TITLE
    EMPTY = "no risks yet — press a to add one"
    NO_MATCH = "no risk matches the filters (esc clears them)"

    class Moved(RowTable.Moved):
        """The cursor is on another risk (or on none: `row` is None)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.today = ""  # ISO date: reviews before it are overdue
        self._filters: tuple[int | None, str | None, str | None, str] = (None, None, None, "")
        self._only: frozenset[int] | None = None  # a heat-map cell's risks

    def filter(self, system_id: int | None = None, treatment: str | None = None,
               category: str | None = None, text: str = "") -> None:
        """Only risks of this system, treatment and category whose title has `text`."""
        self._filters = (system_id, treatment, category, text.strip().casefold())
        self.refilter()

    def only(self, ids: Collection[int] | None) -> None:
        """Only these risks (a heat-map cell's), on top of the filters; None: all."""
        self._only = None if ids is None else frozenset(ids)
        self.refilter()

    @property
    def restricted(self) -> bool:
        return self._only is not None

    def keep(self, row: RiskRow) -> bool:
        system_id, treatment, category, text = self._filters
        return ((self._only is None or row.id in self._only)
                and (system_id is None or row.system_id == system_id)
                and (not treatment or row.treatment == treatment)
                and (not category or row.category == category)
                and (not text or text in row.title.casefold()
                     or text == row.label.casefold()))

    def cell(self, row: RiskRow, key: str) -> str:
        return _text(row, key)

    def cell_style(self, row: RiskRow, key: str, base: Style,
                   on_cursor: bool) -> tuple[str, Style]:
        if key == "level":
            if row.latest is not None:
                return " " + row.latest.level, base + level_style(row.latest.colour)
            return _text(row, key), base + self.style_of("rowtable--faint")
        if key == "review_on" and row.review_on and row.review_on < self.today:
            return _text(row, key), base + self.style_of("rktable--overdue")
        return _text(row, key), base
