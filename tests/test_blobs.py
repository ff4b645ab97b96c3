"""The blob store on a real file system: content-addressed, atomic, read-only, deduplicated;
bad sources refused in one sentence with nothing left behind."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from app.errors import ImportFailed
from app.store.blobs import BlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore.beside(tmp_path / "ws.db")


def leftovers(store: BlobStore) -> list[Path]:
    folder = store.root / "sha256"
    return sorted(folder.glob(".tmp-*")) if folder.is_dir() else []


def test_a_file_is_stored_once_by_its_digest_and_read_only(blobs: BlobStore,
                                                           tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 123)  # more than one chunk
    src = tmp_path / "model-card.pdf"
    src.write_bytes(data)
    first = blobs.put_file(src)
    assert (first.sha256, first.size, first.new) == (hashlib.sha256(data).hexdigest(),
                                                     len(data), True)
    where = blobs.path(first.sha256)
    assert where.read_bytes() == data
    assert where.parent.parent.parent == blobs.root / "sha256"
    assert stat.S_IMODE(where.stat().st_mode) == 0o444
    again = blobs.put_file(src)
    assert (again.sha256, again.new) == (first.sha256, False)
    assert list(blobs.digests()) == [first.sha256] and not leftovers(blobs)
    assert blobs.rehash(first.sha256) == first.sha256


def test_an_altered_or_missing_blob_is_seen_by_rehash(blobs: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("access review Q3")
    sha = blobs.put_file(src).sha256
    where = blobs.path(sha)
    where.chmod(0o644)
    where.write_text("access review Q4")
    assert blobs.rehash(sha) == hashlib.sha256(b"access review Q4").hexdigest() != sha
    where.unlink()
    assert blobs.rehash(sha) is None


def test_not_a_regular_file_is_refused(blobs: BlobStore, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for source, fragment in ((tmp_path, "is a directory"), (fifo, "is not a regular file"),
                             (loop, "cannot read"), (tmp_path / "gone.pdf", "does not exist")):
        with pytest.raises(ImportFailed, match=fragment):
            blobs.put_file(source)
    assert list(blobs.digests()) == [] and not leftovers(blobs)


def test_a_file_that_changes_while_copied_is_refused(blobs: BlobStore) -> None:
    """/proc files say they are empty and then give bytes: the size seen when reading is
    checked against the size before and after, as for a file still being written."""
    with pytest.raises(ImportFailed, match="changed while it was being copied"):
        blobs.put_file(Path("/proc/self/status"))
    assert not leftovers(blobs)


class Failing(io.RawIOBase):
    """A source that breaks after its first megabyte (a disk error, a network share gone)."""

    name = "share/report.pdf"

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError(5, "Input/output error")
        return b"x" * size


def test_a_source_that_fails_mid_copy_leaves_nothing(blobs: BlobStore) -> None:
    with pytest.raises(ImportFailed, match=r"cannot read share/report\.pdf: Input/output error"):
        blobs.put_stream(Failing())  # type: ignore[arg-type]
    assert list(blobs.digests()) == [] and not leftovers(blobs)


def test_what_an_interrupted_copy_left_is_swept(blobs: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("x")
    blobs.put_file(src)
    stale = blobs.root / "sha256" / ".tmp-abc123"
    stale.write_bytes(b"half a file")  # as a killed process leaves it
    assert blobs.sweep_temporary() == [stale] and not stale.exists()


def test_only_digests_name_blobs(blobs: BlobStore) -> None:
    for bad in ("../../etc/passwd", "ABCD", "a" * 63, "g" * 64):
        with pytest.raises(ValueError, match="not a SHA-256 digest"):
            blobs.path(bad)
