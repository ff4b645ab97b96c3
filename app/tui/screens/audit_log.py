"""Audit log: every event, newest first, a page at a time; verify the chain from here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from app.services.audit import change_summary, event_count, events, parse_change
from app.tui.markup import escape
from app.tui.screens.base import SectionScreen
from app.tui.widgets.chain_status import ChainStatus
from app.tui.widgets.plain_table import PlainTable

if TYPE_CHECKING:
    from app.store.models import AuditEvent

PAGE_SIZE = 100


class AuditLogScreen(SectionScreen):
    SECTION_ID = "audit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "verify", "Verify chain", id="audit-verify",
                tooltip="Recompute the audit hash chain and check every row against it"),
        Binding("escape", "cancel_verify", "Cancel verify", id="audit-cancel-verify",
                show=False),
        Binding("right_square_bracket", "older", "Older", id="audit-older", key_display="]"),
        Binding("left_square_bracket", "newer", "Newer", id="audit-newer", key_display="["),
        Binding("home", "newest", "Newest", id="audit-newest", show=False),
        Binding("r", "reload", "Reload", id="audit-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._pages: list[int | None] = [None]  # before_seq of each page visited, newest first
        self._rows: dict[int, AuditEvent] = {}
        self._total = 0

    def compose_body(self) -> ComposeResult:
        yield Static(id="audit-summary")
        table: DataTable[object] = PlainTable(id="audit-table", cursor_type="row")
        yield table
        yield Static(id="audit-detail")
        yield ChainStatus(self.store, id="audit-chain")

    def on_mount(self) -> None:
        self.query_one(ChainStatus).verify()

    def build_columns(self) -> None:
        """Narrow terminals drop the actor column (the detail below names it) and the year."""
        table = self.query_one("#audit-table", DataTable)
        table.clear(columns=True)
        table.add_column("Seq", key="seq")
        table.add_column("At (UTC)", key="at")
        if not self.narrow:
            table.add_column("Actor", key="actor", width=10)
        table.add_column("Action", key="action")
        table.add_column("ID", key="entity_id", width=8)
        table.add_column("Change", key="change")

    def refresh_data(self) -> None:
        self._total = event_count(self.store)
        self._load_page()

    def _load_page(self) -> None:
        rows = events(self.store, limit=PAGE_SIZE, before_seq=self._pages[-1])
        self._rows = {e.seq: e for e in rows}
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for e in rows:
            at = e.at.replace("T", " ")
            cells = [str(e.seq), at[5:16] if self.narrow else at[:19]]
            if not self.narrow:
                cells.append(e.actor)
            cells += [e.action, e.entity_id, change_summary(e.change, 50)]
            table.add_row(*cells, key=str(e.seq))
        page = len(self._pages)
        pages = max(1, -(-self._total // PAGE_SIZE))
        span = f"seq {rows[0].seq}–{rows[-1].seq}" if rows else "no events"
        self.query_one("#audit-summary", Static).update(
            f"[b]{self._total:,}[/] events · {span} · page {page} of {pages}  "
            "[dim]\\[ newer  ] older  v verify[/]"
        )
        self.show_detail()

    def show_detail(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        detail = self.query_one("#audit-detail", Static)
        if not table.row_count:
            detail.update("")
            return
        seq = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        e = self._rows[seq]
        change = json.dumps(parse_change(e.change), ensure_ascii=False)
        detail.update(
            f"[b]#{e.seq}[/] {escape(e.action)} {escape(e.entity)} {escape(e.entity_id)} "
            f"by {escape(e.actor)} at {e.at}\n"
            f"change {escape(change)}\n"
            f"[dim]state {e.state_digest or '—'}\nhash  {e.hash}[/]"
        )

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def action_older(self) -> None:
        """Show the next page of older events."""
        if self._rows and min(self._rows) > 1:
            self._pages.append(min(self._rows))
            self._load_page()

    def action_newer(self) -> None:
        """Show the previous page of newer events."""
        if len(self._pages) > 1:
            self._pages.pop()
            self._load_page()

    def action_newest(self) -> None:
        """Jump back to the newest events."""
        self._pages = [None]
        self._load_page()

    def action_reload(self) -> None:
        """Reload the log from the workspace."""
        self.reload()

    def action_verify(self) -> None:
        """Verify the audit chain now."""
        self.query_one(ChainStatus).verify()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_verify":
            return self.query_one(ChainStatus).running  # offered only while one runs
        return True

    def action_cancel_verify(self) -> None:
        """Cancel a running verification."""
        self.query_one(ChainStatus).cancel()
