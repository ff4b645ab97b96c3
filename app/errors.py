"""Errors a user can act on. Each carries one plain sentence saying what is wrong and where.

The CLI prints them as ``error: <sentence>`` and exits 2; the TUI shows them as notifications.
Anything that is not a `CrosswalkError` is a bug and keeps its traceback (shown with --debug).
"""

from __future__ import annotations


class CrosswalkError(Exception):
    """Base of every error meant for the user; ``str(err)`` is the sentence to show."""


class WorkspaceError(CrosswalkError):
    """The workspace file cannot be used: missing, not ours, corrupt, too new, read-only."""


class WorkspaceLocked(WorkspaceError):
    """Another process holds the workspace's write lock for longer than the busy timeout."""


class NotFound(CrosswalkError):
    """A named thing (control, clause, regulation…) does not exist in the workspace."""


class InvalidInput(CrosswalkError):
    """A value given by the user is not acceptable (bad status, bad ref, empty field…)."""


class ImportFailed(CrosswalkError):
    """A file given to an importer cannot be read as what it claims to be.

    The message names the file and, where known, the place: line and column, page, or the
    path of the offending element."""


class DetailsNeeded(ImportFailed):
    """The document does not say what it is — its regulation code or its version — so the
    user must say. The CLI asks for --code/--version; the TUI asks in a dialog and goes on
    with `doc` (the document already read, when there is one)."""

    def __init__(self, message: str, missing: tuple[str, ...], doc: object = None) -> None:
        super().__init__(message)
        self.missing = missing
        self.doc = doc
