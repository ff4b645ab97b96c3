"""The evidence list as a line-API table (`RowTable`): 20,000 records open and scroll as fast
as 20. Its status is coloured; columns that do not fit the width are dropped
(classification first, then kind, version and controls)."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style

from app.services.evidence_status import EvidenceRow
from app.tui.widgets.row_table import Column, RowTable

SHORT_KINDS = {"configuration": "config", "test-result": "test result"}


class EvidenceTable(RowTable[EvidenceRow]):
    """All the evidence (`show`), filtered (`filter`); the cursor row is `current`."""

    DEFAULT_CSS = """
    EvidenceTable > .evtable--current { color: $text-success; }
    EvidenceTable > .evtable--expiring { color: $text-warning; text-style: bold; }
    EvidenceTable > .evtable--expired { color: $text-error; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"evtable--current", "evtable--expiring",
                                             "evtable--expired"}
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
    EMPTY = "no evidence yet — press a to attach a file or a link"

    class Moved(RowTable.Moved):
        """The cursor is on another piece of evidence (or on none: `row` is None)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._filters: tuple[str | None, str | None, str] = (None, None, "")

    def filter(self, status: str | None, control: str | None, text: str) -> None:
        """Only rows of this status, linked to this control, whose title has `text`."""
        self._filters = (status, control, text.strip().casefold())
        self.refilter()

    def keep(self, row: EvidenceRow) -> bool:
        status, control, text = self._filters
        return ((not status or row.status == status) and (not control or control in row.controls)
                and (not text or text in row.title.casefold() or text == row.label.casefold()))

    def cell(self, row: EvidenceRow, key: str) -> str:
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

    def cell_style(self, row: EvidenceRow, key: str, base: Style,
                   on_cursor: bool) -> tuple[str, Style]:
        style = base
        if key == "status" and not on_cursor:
            style = base + self.style_of(f"evtable--{row.status}")
        return self.cell(row, key), style
