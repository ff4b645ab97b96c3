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


_EVIDENCE_STYLES = {
    "current": "green",
    "expiring": "yellow",
    "expired": "bold red",
    "missing": "bold red",
    "none": "dim",
}


def evidence_cell(status: str) -> Text:
    """An evidence status (current, expiring, expired) or a control's roll-up (also missing,
    none), in words with colour as a help."""
    return Text(status, style=_EVIDENCE_STYLES.get(status, ""))
