"""A read-only preview of one evidence file, loaded in a thread worker.

`show(path, media_type, name)` starts a worker that calls `app.domain.preview.preview()` and
posts `EvidencePreview.Loaded`; the handler swaps the content: Markdown for markdown, a
DataTable for csv, plain scrollable text for json/text/pdf, a dim note otherwise. File content
is only ever handed to widgets as `rich.text.Text` / `Content` objects or to the Markdown
parser, never as Rich/Textual markup, and the Markdown widget does not follow links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Markdown, Static
from textual.worker import get_current_worker

from app.domain.preview import Preview, preview

NO_FILE = "no file"


class EvidencePreview(Widget):
    """Shows the file of one evidence item, read-only; the note is the border subtitle."""

    DEFAULT_CSS = """
    EvidencePreview {
        height: 1fr;
        border: round $foreground 30%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    EvidencePreview:focus-within { border: round $accent 70%; }
    EvidencePreview > VerticalScroll { height: 1fr; }
    EvidencePreview > DataTable { height: 1fr; }
    EvidencePreview > .preview-empty {
        height: auto;
        color: $text-muted;
        text-style: italic;
    }
    """

    @dataclass
    class Loaded(Message):
        """A preview is ready (posted from the worker; `token` tells stale ones apart)."""

        preview: Preview
        token: int = 0

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "preview"
        self._token = 0
        self.preview: Preview | None = None  # what is shown now (kind "none" when cleared)

    def compose(self) -> ComposeResult:
        yield Static(Text(NO_FILE), classes="preview-empty")

    def show(self, path: Path | None, media_type: str = "", name: str = "") -> None:
        """Preview the file at `path` (None clears the view); cancels a preview in progress."""
        self._token += 1
        self.workers.cancel_group(self, "preview")
        if path is None:
            self.border_title = "preview"
            self.border_subtitle = None
            self.post_message(self.Loaded(Preview("none", note=""), self._token))
            return
        self.border_title = Content(name or path.name)
        self.border_subtitle = Content("loading…")
        self._load(path, media_type, name or path.name, self._token)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False,
          description="Loading an evidence preview")
    def _load(self, path: Path, media_type: str, name: str, token: int) -> None:
        """Runs in a thread: build the preview and post it; never touches a widget."""
        worker = get_current_worker()
        try:
            result = preview(path, media_type, name)
        except Exception as exc:  # preview() should not raise; never crash the app over it
            result = Preview("none", note=f"the preview failed: {type(exc).__name__}")
        if not worker.is_cancelled:
            self.post_message(self.Loaded(result, token))

    async def on_evidence_preview_loaded(self, message: Loaded) -> None:
        """Swap the content for the new preview (stale previews are dropped)."""
        if message.token != self._token:
            return
        shown = message.preview
        self.preview = shown
        body = self._body(shown)
        async with self.batch():
            await self.remove_children()
            await self.mount(body)
        self.border_subtitle = Content(shown.note) if shown.note else None

    def _body(self, shown: Preview) -> Widget:
        """The widget that draws `shown`."""
        if shown.kind == "none":
            return Static(Text(shown.note or NO_FILE), classes="preview-empty")
        if shown.kind == "markdown":
            return VerticalScroll(Markdown(shown.text, open_links=False))
        if shown.kind == "csv":
            if not shown.rows:
                return Static(Text(shown.note or "the file is empty"), classes="preview-empty")
            return self._table(shown.rows)
        return VerticalScroll(Static(Text(shown.text), classes="preview-text"))

    @staticmethod
    def _table(rows: list[list[str]]) -> DataTable[Text]:
        """A DataTable of `rows`, the first row as the header; cells are Text, not markup."""
        table: DataTable[Text] = DataTable(zebra_stripes=True, cursor_type="row")
        header, *body = rows
        for index, label in enumerate(header, start=1):
            table.add_column(Text(label or f"column {index}"))
        table.add_rows([[Text(cell) for cell in row] for row in body])
        return table
