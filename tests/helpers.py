"""Small helpers shared by the test modules: looking at a workspace file from outside,
checking the CLI's error contract, and Python processes that cannot reach the network."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote


class CliResult(Protocol):
    code: int
    out: str
    err: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the file as it is (immutable: no -wal/-shm beside it, no locks)."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as con:
        return con.execute(sql, params).fetchall()


def event_count(path: Path) -> int:
    return int(query(path, "SELECT count(*) FROM audit_event")[0][0])


def assert_error(r: CliResult, *fragments: str) -> str:
    """Exit 2, nothing on stdout, exactly one `error: …` line on stderr, no traceback."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err + r.out
    assert r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("error: "), r.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@contextmanager
def unchanged(path: Path, *, workspace: bool = True) -> Iterator[None]:
    """The file at `path` is byte-identical afterwards (and, for a workspace, has as many
    audit events)."""
    before = sha256(path)
    events = event_count(path) if workspace else None
    yield
    assert sha256(path) == before, f"{path} changed"
    if workspace:
        assert event_count(path) == events


OFFLINE_GUARD = '''
import socket

_real = socket.socket


class _Offline(_real):
    def __init__(self, family=-1, *args, **kwargs):
        if family in (socket.AF_INET, socket.AF_INET6) or family == -1:
            raise OSError("network access attempted while offline")
        super().__init__(family, *args, **kwargs)


def _refuse(*args, **kwargs):
    raise OSError("network access attempted while offline")


socket.socket = _Offline
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def offline_environment(folder: Path, *paths: Path) -> dict[str, str]:
    """os.environ for Python processes (and the Python processes they start) that refuse
    IPv4/IPv6 sockets from their first line: a `sitecustomize` in `folder`, put first on
    PYTHONPATH before `paths`. Local AF_UNIX socket pairs stay allowed (asyncio uses one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(OFFLINE_GUARD, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (folder, *paths))
    return env
