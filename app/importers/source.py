"""Reading an import file safely: size limit, format detection and text decoding."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import ImportFailed

MAX_BYTES = 100 * 1024 * 1024  # no regulation or catalog comes near this; refuse before reading


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, or a clear error for a missing, unreadable or oversized file."""
    with _reading(path):
        size = path.stat().st_size
        if not path.is_file():
            raise ImportFailed(f"{path} is not a regular file")
        if size > limit:
            raise ImportFailed(
                f"{path} is too large to import ({size / 1_048_576:,.0f} MB; the limit is "
                f"{limit / 1_048_576:,.0f} MB)"
            )
        return path.read_bytes()


def read_head(path: Path, size: int = 4096) -> bytes:
    """The file's first bytes (to tell its format), with the same clear errors."""
    with _reading(path), path.open("rb") as fh:
        return fh.read(size)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """OS errors while reading `path` as one plain sentence."""
    try:
        yield
    except FileNotFoundError:
        raise ImportFailed(f"{path} does not exist") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from None


def decode_text(data: bytes, path: Path, *, allow_cp1252: bool = False) -> tuple[str, str | None]:
    """UTF-8 (with or without BOM); with `allow_cp1252`, fall back to Windows-1252 and return a
    warning saying so. Anything else is an error naming the first bad byte's line."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if allow_cp1252:
            try:
                return data.decode("cp1252"), (
                    f"{path.name} is not UTF-8; read it as Windows-1252 (first non-UTF-8 byte "
                    f"on line {line}) — check accented characters")
            except UnicodeDecodeError:
                pass
        raise ImportFailed(
            f"{path}: line {line} is not valid UTF-8 text (byte 0x{data[exc.start]:02X})"
        ) from None


def sniff_format(path: Path, head: bytes) -> str | None:
    """Guess the format from the first bytes and the extension; None if unknown."""
    if head.startswith(b"%PDF") or path.suffix.lower() == ".pdf":
        return "pdf"
    text = head.lstrip(codecs.BOM_UTF8).lstrip()[:4096].decode("utf-8", "replace")
    low = text.lower()
    suffix = path.suffix.lower()
    if low.startswith("<") or suffix in (".xml", ".html", ".xhtml", ".htm"):
        if "<act" in low[:2000] or "<cons.act" in low[:2000] or "formex" in low:
            return "formex"
        if "<html" in low or "<!doctype html" in low:
            return "eurlex-html"
        if "<catalog" in low and "oscal" in low:
            return "oscal-xml"
        return "xml" if low.startswith("<") else None
    if re.search(r'"mapping[-_]?collection"|^\s*mapping[-_]collection\s*:', low, re.M):
        return "oscal-mapping"  # before "catalog": its resources are typed "catalog"
    if low.startswith("{") or suffix == ".json":
        if '"catalog"' in low:
            return "oscal-json"
        return "catalog"
    if suffix in (".yaml", ".yml"):
        if "urn:" in low and ("requirement_nodes" in low or "framework" in low):
            return "ciso-assistant"
        return "catalog"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    return None


def load_json(text: str | bytes, path: Path) -> Any:
    """Parse JSON, with a plain error naming the file and the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}") from None
    except RecursionError:
        raise ImportFailed(f"{path}: the JSON is nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path}: not UTF-8 text ({exc.reason})") from None
