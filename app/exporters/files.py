"""Writing an export safely: to a temporary file beside the target, renamed over it only
when the whole file is written, with the permissions an export should have."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def make_shareable(path: Path) -> None:
    """Give `path` the usual permissions (0666 less the umask) instead of mkstemp's private
    0600: an export is meant to be shared."""
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)


@contextlib.contextmanager
def atomic_target(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path in `path`'s folder; on success make it shareable and rename
    it over `path`, on any error remove it and re-raise."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        make_shareable(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
