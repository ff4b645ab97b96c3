"""Messages posted by thread workers; only their handlers touch widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from app.services.audit import VerifyReport


@dataclass
class VerifyProgress(Message):
    """`done` of `total` events walked so far."""

    done: int
    total: int


@dataclass
class VerifyFinished(Message):
    report: VerifyReport


@dataclass
class VerifyFailed(Message):
    """Verification stopped on an error (the app shows it in an error dialog)."""

    error: str


@dataclass
class ControlSaved(Message):
    """A control edit was written; `changed` names the fields that changed (empty: no-op)."""

    control_id: str
    changed: list[str]


@dataclass
class ControlSaveFailed(Message):
    """A control edit could not be written; `changes` lets the form reopen with them."""

    control_id: str
    changes: dict[str, str]
    error: str
