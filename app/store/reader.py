"""A workspace opened for reading only, through plain `sqlite3`: the same checks of the file
as a full open (`files.inspect`: ours, not damaged, not newer), none of SQLAlchemy. The
analyses read their snapshot through it, so `crosswalk coverage` and `gaps` start in a
fraction of the time. A workspace of an older schema is left to the full open, which
migrates it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from app.domain.clock import Clock, system_clock
from app.store import files
from app.store.schema import SCHEMA_VERSION


def _lenient(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")  # as the full open: hand-edited text never crashes


class Reader:
    """Read transactions on one connection that cannot write (`query_only`)."""

    def __init__(self, path: Path, con: sqlite3.Connection, clock: Clock) -> None:
        self.path, self.con, self._clock = path, con, clock

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = 5.0,
             clock: Clock = system_clock) -> Reader | None:
        """The reader, or None when only a full open will do (no workspace yet, an empty
        file, an older schema: the full open creates, adopts or migrates, and says why)."""
        state = files.inspect(path)
        if not state.exists or state.empty or state.version != SCHEMA_VERSION:
            return None
        con = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                              check_same_thread=False)
        con.text_factory = _lenient
        con.execute("PRAGMA query_only = ON")
        return cls(path, con, clock)

    def clock(self) -> datetime:
        return self._clock()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One consistent read transaction."""
        self.con.execute("BEGIN")
        try:
            yield self.con
        finally:
            self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()
