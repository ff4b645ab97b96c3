"""A read-only preview of an evidence file: what to show, and a note on what was left out.

Pure Python (no Textual): the TUI's `EvidencePreview` widget calls `preview()` in a thread
worker and only decides how to draw the result. Every text in a `Preview` is already safe for
a terminal: control characters (other than newline and tab) and the Unicode bidirectional
controls are replaced with visible escapes such as ``\\u202e``, so a file cannot move the
cursor, recolour the screen or reorder what an auditor reads.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app.domain.text import human_size

PreviewKind = Literal["text", "markdown", "csv", "json", "pdf", "none"]

MAX_ROWS = 200  # csv rows kept, the header row included
MAX_COLUMNS = 20  # csv columns shown
MISSING_NOTE = "the stored file is missing; run `crosswalk verify`"

# U+202A–U+202E, U+2066–U+2069, LRM, RLM, ALM; plus the line/paragraph separators, which some
# terminals treat as line breaks
_BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029")

_MEDIA_KINDS: dict[str, PreviewKind] = {
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/json": "json",
    "text/json": "json",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/xml": "text",
    "application/yaml": "text",
    "application/x-yaml": "text",
    "application/toml": "text",
    "application/javascript": "text",
    "application/x-sh": "text",
    "application/sql": "text",
    "application/x-ndjson": "text",
    "application/jsonl": "text",
}

# media types that say nothing about the content: the file name decides
_GENERIC_MEDIA = frozenset(
    {"", "text/plain", "application/octet-stream", "binary/octet-stream", "unknown/unknown"})

_SUFFIX_KINDS: dict[str, PreviewKind] = {
    ".md": "markdown", ".markdown": "markdown",
    ".csv": "csv", ".tsv": "csv", ".tab": "csv",
    ".json": "json", ".geojson": "json", ".ipynb": "json",
    ".pdf": "pdf",
    **dict.fromkeys(
        (".txt", ".text", ".log", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml",
         ".html", ".htm", ".py", ".sh", ".sql", ".js", ".ts", ".css", ".rst", ".tex", ".r",
         ".properties", ".env", ".jsonl", ".ndjson", ".diff", ".patch", ".csl", ".uri",
         ".urls", ".list", ".eml", ".srt", ".vtt"),
        "text"),
}

_TSV_MEDIA = frozenset({"text/tab-separated-values"})
_TSV_SUFFIXES = frozenset({".tsv", ".tab"})


@dataclass(frozen=True)
class Preview:
    """What to show for one file.

    `kind` says how to draw it; `text` is the (terminal-safe) text to show; for "csv", `rows`
    holds the parsed cells (the first row is the header), padded to one width; `note` is one
    line for the user (what was cut, which page, or why there is no preview); `truncated` is
    True when less than the whole file is shown.
    """

    kind: PreviewKind
    text: str = ""
    note: str = ""
    truncated: bool = False
    rows: list[list[str]] = field(default_factory=list)


def terminal_safe(text: str) -> str:
    """`text` with CR/CRLF as newlines and every other control or bidi character escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if all(c.isprintable() or c in "\n\t" for c in text):  # fast path for ordinary text
        return text
    return "".join(_escape_char(c) for c in text)


def _escape_char(c: str) -> str:
    if c in "\n\t":
        return c
    if c in _BIDI_CONTROLS or unicodedata.category(c) == "Cc":
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return c


def _base_media(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def preview_kind(media_type: str, name: str, head: bytes = b"") -> PreviewKind:
    """How to preview a file: by its media type, then its name's suffix, then its magic."""
    media = _base_media(media_type)
    suffix = Path(name).suffix.lower()
    if media in _MEDIA_KINDS:
        return _MEDIA_KINDS[media]
    if media.endswith("+json"):
        return "json"
    if media.endswith("+xml"):
        return "text"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if media in _GENERIC_MEDIA:
        if suffix in _SUFFIX_KINDS:
            return _SUFFIX_KINDS[suffix]
        if media == "text/plain":
            return "text"
        return "none"
    if media.startswith("text/"):  # text/html, text/uri-list, text/x-python, …
        return "markdown" if suffix in (".md", ".markdown") else "text"
    return "none"


def preview(path: Path, media_type: str, name: str, *, limit: int = 64_000) -> Preview:
    """A preview of the file at `path`, stored as `media_type` under the name `name`.

    Reads at most `limit` bytes (a PDF is read by PDFium, page 1 only). Never raises for
    what is in the file: a missing, unreadable, binary or damaged file gives kind "none" with a
    note saying why.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            kind = preview_kind(media_type, name, head)
            if kind == "pdf":
                return _pdf_preview(path, limit)
            if kind == "none":
                shown = _base_media(media_type) or "this file"
                return Preview("none", note=f"no preview for {shown}; export it to open it")
            data = head + fh.read(max(limit - len(head), 0))
    except FileNotFoundError:
        return Preview("none", note=MISSING_NOTE)
    except OSError as exc:
        return Preview("none", note=f"the stored file cannot be read ({exc.strerror or exc})")

    data = data[:limit]
    truncated = size > len(data)
    if b"\x00" in data:
        shown = _base_media(media_type) or "this file"
        return Preview("none", note=f"binary content; no preview for {shown}; export it to open it")
    # an incremental decoder leaves out a character cut in half at the limit
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    raw = decoder.decode(data, final=not truncated)
    cut_note = f"first {human_size(len(data))} of {human_size(size)} shown" if truncated else ""

    if kind == "json":
        return _json_preview(raw, truncated, cut_note)
    if kind == "csv":
        tsv = _base_media(media_type) in _TSV_MEDIA or Path(name).suffix.lower() in _TSV_SUFFIXES
        return _csv_preview(raw, "\t" if tsv else ",", truncated, cut_note)
    note = cut_note or ("the file is empty" if not raw else "")
    return Preview(kind, text=terminal_safe(raw), note=note, truncated=truncated)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _json_preview(raw: str, truncated: bool, cut_note: str) -> Preview:
    if truncated:  # half a document cannot parse: show it as it is
        return Preview("json", text=terminal_safe(raw), note=_join(cut_note, "not pretty-printed"),
                       truncated=True)
    if not raw.strip():
        return Preview("json", text="", note="the file is empty")
    try:
        value = json.loads(raw)
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
    except json.JSONDecodeError as exc:
        return Preview("json", text=terminal_safe(raw),
                       note=f"not valid JSON: {exc.msg}, line {exc.lineno}")
    except (ValueError, RecursionError) as exc:  # e.g. an integer too long, nesting too deep
        reason = str(exc).split("\n", 1)[0] or type(exc).__name__
        return Preview("json", text=terminal_safe(raw), note=f"not shown as JSON: {reason}")
    return Preview("json", text=terminal_safe(pretty))


def _csv_preview(raw: str, delimiter: str, truncated: bool, cut_note: str) -> Preview:
    text = terminal_safe(raw)
    rows: list[list[str]] = []
    total = 0
    widest = 0
    try:
        for row in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter, strict=False):
            total += 1
            widest = max(widest, len(row))
            if len(rows) < MAX_ROWS:
                rows.append([terminal_safe(cell) for cell in row[:MAX_COLUMNS]])
    except csv.Error as exc:
        return Preview("text", text=text, note=_join(cut_note, f"not read as a table: {exc}"),
                       truncated=truncated)
    if not rows:
        return Preview("csv", text=text, note=cut_note or "the file is empty",
                       truncated=truncated)
    width = min(widest, MAX_COLUMNS)
    rows = [row + [""] * (width - len(row)) for row in rows]
    notes = [cut_note]  # the rows counted for people are the rows below the header
    if total > MAX_ROWS:
        notes.append(f"first {MAX_ROWS - 1:,} of {total - 1:,} rows shown")
    else:
        notes.append("header only" if total == 1 else f"{total - 1:,} rows")
    if widest > MAX_COLUMNS:
        notes.append(f"first {MAX_COLUMNS} of {widest} columns shown")
    return Preview("csv", text=text, note=_join(*notes), rows=rows,
                   truncated=truncated or total > MAX_ROWS or widest > MAX_COLUMNS)


def _pdf_preview(path: Path, limit: int) -> Preview:
    """Page 1's text, by PDFium (pypdfium2, as the PDF importer)."""
    unreadable = Preview("none", note="this PDF cannot be read (it is encrypted or damaged)")
    try:
        pages, text = _pdf_page_one(path)
    except FileNotFoundError:
        return Preview("none", note=MISSING_NOTE)
    except Exception:  # PDFium raises several kinds of error on damaged files
        return unreadable
    if pages == 0:
        return Preview("none", note="this PDF has no pages")
    text = text.strip("\n")
    truncated = pages > 1 or len(text) > limit
    note = f"page 1 of {pages}"
    if len(text) > limit:
        text = text[:limit]
        note = _join(note, f"first {limit:,} characters shown")
    if not text.strip():
        note = _join(note, "no text on this page (it may be a scanned image)")
    return Preview("pdf", text=terminal_safe(text), note=note, truncated=truncated)


def _pdf_page_one(path: Path) -> tuple[int, str]:
    """(page count, text of page 1); raises whatever PDFium raises."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        count = len(doc)
        if count == 0:
            return 0, ""
        page = doc[0]
        textpage = page.get_textpage()
        try:
            return count, textpage.get_text_range()
        finally:
            textpage.close()
            page.close()
    finally:
        doc.close()
