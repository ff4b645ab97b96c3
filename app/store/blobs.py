"""The blob store beside a workspace: evidence files, content-addressed by SHA-256.

    <workspace>.blobs/sha256/ab/cd/abcd…   (read-only files)

A file is copied in one pass that hashes what it writes: into a temporary file in the same
folder, flushed and fsynced, then renamed to its digest (atomic on one file system), so a
crash leaves at most a temporary file (``.tmp-*``, swept by `sweep_temporary`), never a
blob under a wrong name. The same content is stored once. The digest is of the bytes that
reached the disk: a source that changes while it is copied gives the digest of what was
stored, and `put` checks the size it saw against the source's size before and after.

Which blobs are in use is the workspace's business (its evidence versions reference them);
this module only stores, finds and re-hashes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.errors import ImportFailed, WorkspaceError

CHUNK = 1 << 20  # 1 MiB: large enough for the hash to run at disk speed, small in memory
Progress = Callable[[int, int], None]  # (bytes copied, bytes expected or 0)


@dataclass(frozen=True, slots=True)
class Stored:
    sha256: str
    size: int
    new: bool  # False: the same content was already there


class BlobStore:
    """The blob folder of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def beside(cls, workspace: Path) -> BlobStore:
        return cls(workspace.with_name(workspace.name + ".blobs"))

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    # ------------------------------------------------------------------ storing
    def put_file(self, source: Path, on_progress: Progress | None = None) -> Stored:
        """Store a regular file (not a directory, FIFO, device or dangling link); a plain
        sentence names what is wrong. `on_progress(done, total)` is called after each chunk;
        an exception raised from it abandons the copy (nothing is left)."""
        try:
            st = source.stat()
        except FileNotFoundError:
            raise ImportFailed(f"{source} does not exist") from None
        except OSError as exc:  # a symlink loop, a name too long, no permission…
            raise ImportFailed(f"cannot read {source}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode):
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise ImportFailed(f"{source} is {what}; attach a file")
        try:
            with source.open("rb") as fh:
                stored = self.put_stream(fh, on_progress, st.st_size)
            after = source.stat().st_size
        except FileNotFoundError:
            raise ImportFailed(f"{source} vanished while it was being copied") from None
        except PermissionError as exc:
            raise ImportFailed(f"cannot read {source}: {exc.strerror or exc}") from None
        if stored.size != st.st_size or after != st.st_size:
            raise ImportFailed(f"{source} changed while it was being copied ({st.st_size:,} "
                               f"bytes before, {stored.size:,} read, {after:,} after); "
                               "attach it again once it is complete")
        return stored

    def put_stream(self, stream: BinaryIO, on_progress: Progress | None = None,
                   total: int = 0) -> Stored:
        """Copy `stream` in, hashing exactly the bytes written (`on_progress` as in
        `put_file`, with `total` the expected size, 0 if unknown)."""
        tmp_dir = self.root / "sha256"
        fresh = [p for p in (self.root, tmp_dir) if not p.exists()]
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create the blob folder {tmp_dir}: "
                                 f"{exc.strerror or exc}") from None
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = _temporary(tmp_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := _read(stream):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if on_progress is not None:
                        on_progress(size, total)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.is_file():
                tmp.unlink()
                os.utime(final)  # fresh again: garbage collection spares a blob just reused
                return Stored(sha, size, new=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o444)
            tmp.replace(final)
            _fsync_dir(final.parent)
            return Stored(sha, size, new=True)
        except OSError as exc:
            _undo(tmp, fresh)
            raise WorkspaceError(f"cannot store the file in {self.root}: "
                                 f"{exc.strerror or exc}") from None
        except BaseException:
            _undo(tmp, fresh)
            raise

    # ------------------------------------------------------------------ checking
    def rehash(self, sha256: str) -> str | None:
        """The digest of the blob as it is on disk now, or None when it is missing."""
        digest = hashlib.sha256()
        try:
            with self.path(sha256).open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    def sweep_temporary(self, min_age: float = 0.0) -> list[Path]:
        """Remove what an interrupted copy left (`.tmp-*` files not written to for `min_age`
        seconds: a copy still running elsewhere keeps its file); return them."""
        import time

        folder = self.root / "sha256"
        cutoff = time.time() - min_age
        left = []
        for p in sorted(folder.glob(".tmp-*")) if folder.is_dir() else []:
            try:
                if p.stat().st_mtime <= cutoff:
                    p.unlink()
                    left.append(p)
            except OSError:
                continue
        return left

    def digests(self) -> Iterator[str]:
        """Every blob's digest, from the folder names."""
        folder = self.root / "sha256"
        for top in _subfolders(folder):
            for mid in _subfolders(top):
                with os.scandir(mid) as entries:
                    for e in entries:
                        if len(e.name) == 64 and e.is_file(follow_symlinks=False):
                            yield e.name


def _subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if len(e.name) == 2 and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _undo(tmp: Path, fresh: list[Path]) -> None:
    """Remove a failed copy's temporary file and the folders that copy created (if empty)."""
    tmp.unlink(missing_ok=True)
    for folder in reversed(fresh):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _read(stream: BinaryIO) -> bytes:
    """The next chunk; a failure to read the source is the source's fault, not the store's."""
    try:
        return stream.read(CHUNK)
    except OSError as exc:
        name = getattr(stream, "name", "the file")
        raise ImportFailed(f"cannot read {name}: {exc.strerror or exc}") from None


def _temporary(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=".tmp-", dir=folder)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
