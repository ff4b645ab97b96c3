"""Checks for text that people type into the workspace (names, owners, narratives).

Control characters and the Unicode bidirectional overrides are refused: they can hide or
reorder what an auditor reads in a terminal or a report.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bad_char(c: str, multiline: bool) -> bool:
    if multiline and c in "\n\t":
        return False
    return unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS


def clean_text(value: str, field: str, limit: int, *, multiline: bool = False,
               required: bool = False) -> str:
    """Strip `value` and check it; raise ValueError with a sentence naming `field`."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise ValueError(f"{field} is empty")
    if len(value) > limit:
        raise ValueError(f"{field} is too long ({len(value):,} characters; at most {limit:,})")
    if not multiline and "\n" in value:
        raise ValueError(f"{field} must be a single line")
    bad = next((c for c in value if _bad_char(c, multiline)), None)
    if bad is not None:
        raise ValueError(f"{field} contains a control character (U+{ord(bad):04X})")
    return value


def ellipsis(text: str, width: int) -> str:
    """`text` cut to `width` characters, the last one an ellipsis when it was longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """A plain aligned text table (the last column is not padded)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    lines = []
    for r in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(r, widths, strict=False)]
        lines.append("  ".join([*cells, str(r[-1])]).rstrip())
    return "\n".join(lines)


def human_size(size: int) -> str:
    """A byte count for people, in decimal units: "812 B", "64 KB", "3.2 MB"."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            shown = f"{value:.1f}".removesuffix(".0")
            return f"{shown} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def md_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """A Markdown pipe table; a ``|`` in a cell is escaped and line breaks become spaces."""
    def cell(value: str) -> str:
        return " ".join(str(value).split()).replace("|", "\\|") or " "

    lines = ["| " + " | ".join(map(cell, headers)) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)
