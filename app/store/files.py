"""The workspace file on disk: recognising it, creating it privately, backing it up.

Everything here runs before SQLite is allowed to write, so a file that is not a workspace is
never touched (no journal mode set, no WAL created, no header rewritten).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from app.errors import WorkspaceError
from app.store.schema import APPLICATION_ID, SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class FileState:
    """What an existing workspace file is: empty (adoptable) or ours at some schema version."""

    exists: bool
    empty: bool
    version: int = 0


def readonly_uri(path: Path, *, immutable: bool = False) -> str:
    return f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")


def inspect(path: Path, *, patience: float = 3.0) -> FileState:
    """Look at `path` without writing to it and say whether it can be opened as a workspace.

    A file another Crosswalk is creating right now can be read half-written (its tables
    there, its header not yet stamped): while a -wal or -journal beside it says someone is
    writing, an unstamped SQLite file is looked at again for up to `patience` seconds before
    it is called someone else's."""
    import time

    deadline = time.monotonic() + patience
    while True:
        try:
            return _inspect(path)
        except _Unstamped:
            busy = any(Path(f"{path}{side}").exists() for side in ("-wal", "-journal"))
            if not busy or time.monotonic() >= deadline:
                raise WorkspaceError(
                    f"{path} is an SQLite database but not a Crosswalk workspace") from None
            time.sleep(0.05)


class _Unstamped(Exception):
    """An SQLite file without our application id (perhaps one being created)."""


def _inspect(path: Path) -> FileState:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise WorkspaceError(f"workspace {path} is a broken symbolic link") from None
        return FileState(exists=False, empty=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot read workspace {path}: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        raise WorkspaceError(f"workspace {path} is a directory, not a workspace file")
    if not stat.S_ISREG(mode):
        raise WorkspaceError(f"workspace {path} is not a regular file (a device, pipe or "
                             "socket cannot hold a workspace)")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return FileState(exists=False, empty=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot read workspace {path}: {exc.strerror}") from exc
    if not header:
        return FileState(exists=True, empty=True)
    if header != SQLITE_MAGIC:
        raise WorkspaceError(
            f"{path} is not a Crosswalk workspace (it is not an SQLite database)"
        )
    try:
        # With no -wal beside it the file is self-contained: open it immutable, so SQLite
        # creates no -wal/-shm next to a database that may not be ours.
        immutable = not Path(f"{path}-wal").exists()
        con = sqlite3.connect(readonly_uri(path, immutable=immutable), uri=True)
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            version = con.execute("PRAGMA user_version").fetchone()[0]
            check = [r[0] for r in con.execute("PRAGMA quick_check(3)")]
            objects = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(f"workspace {path} is corrupt or unreadable ({exc})") from exc
    if app_id == 0 and version == 0 and objects == 0 and check == ["ok"]:
        # an SQLite file with nothing in it: a workspace being created by another Crosswalk
        # right now, or the header a failed creation left; adopt it like an empty file
        return FileState(exists=True, empty=True)
    if check != ["ok"] and app_id == APPLICATION_ID:
        raise WorkspaceError(
            f"workspace {path} is corrupt ({'; '.join(check)}); restore it from a backup"
        )
    if app_id == 0:
        raise _Unstamped
    if app_id != APPLICATION_ID:
        raise WorkspaceError(
            f"{path} is an SQLite database but not a Crosswalk workspace"
        )
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"workspace {path} was written by a newer Crosswalk (schema v{version}); this "
            f"version reads up to v{SCHEMA_VERSION} — upgrade Crosswalk to open it"
        )
    return FileState(exists=True, empty=False, version=version)


def folder_writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK)


def writable(path: Path) -> bool:
    """Can SQLite write the file and create its -wal/-shm beside it?"""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folder will be made inside its nearest existing ancestor
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def create_private(path: Path) -> bool:
    """Create the (empty) workspace file with mode 0600, making its folder if needed.

    Returns False when an empty regular file was already there (made by the user, or by a
    second Crosswalk starting at the same moment): it is adopted, privately, not replaced.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)  # inspect() saw a regular file
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        return False
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create workspace {path}: {exc.strerror.lower() if exc.strerror else exc}"
        ) from exc
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return True


def remove_with_side_files(path: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def empty_again(path: Path) -> None:
    """Undo a failed creation on an adopted empty file: empty it again — but only while holding
    SQLite's exclusive lock and only if no schema is in it (another Crosswalk may have created
    the workspace meanwhile). Closing the last connection removes the side files."""
    try:
        con = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        con.execute("BEGIN EXCLUSIVE")
        if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            os.truncate(path, 0)
        con.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # locked or unreadable: leave it as it is rather than risk another's work
    finally:
        con.close()


def backup(path: Path, version: int, stamp: str) -> Path:
    """Copy the workspace (consistently, through SQLite) before migrating it; return the copy."""
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        target = path.with_name(f"{path.name}.v{version}-{stamp}{suffix}.bak")
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue  # an earlier attempt in the same second (e.g. a failed migration)
        os.close(fd)
        break
    else:
        raise FileExistsError(f"too many backups named {path.name}.v{version}-{stamp}*.bak")
    src = sqlite3.connect(readonly_uri(path), uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target
