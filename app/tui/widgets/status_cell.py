"""How an implementation status looks in tables: its words first, colour only as a help."""

from __future__ import annotations

from rich.text import Text

_STYLES = {
    "implemented": "bold green",
    "partial": "yellow",
    "planned": "cyan",
    "not-started": "dim",
    "not-applicable": "dim italic",
}


def status_cell(status: str) -> Text:
    return Text(status.replace("-", " "), style=_STYLES.get(status, ""))
