"""What both packaging scripts share: a clean copy of the sources, the Crosswalk wheel,
SHA-256 sums and reproducible tar.gz archives. Standard library only."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = (".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
               ".ruff_cache", ".ci-venv*", ".venv", "venv", "*.db", "*.db-wal", "*.db-shm",
               "tests", "bench")
# Archive entries carry this time (1 Jan 2020) so the same inputs give the same archive.
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1577836800"))


class BuildError(Exception):
    """A build step failed; the message is one plain sentence for the user."""


def version() -> str:
    """Crosswalk's version, read from the sources (not from whatever is installed)."""
    for line in (ROOT / "app" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise BuildError("app/__init__.py does not set __version__")


def run(cmd: list[str], what: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a build command; on failure raise BuildError with the tail of its output."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False,
                          **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done


def build_wheel(out: Path, scratch: Path) -> Path:
    """Build the Crosswalk wheel from a clean copy of the sources (an in-tree build would
    leave `build/` and `*.egg-info` in the checkout)."""
    source = scratch / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
         str(source)], "building the Crosswalk wheel")
    wheels = sorted(out.glob("crosswalk_workbench-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one Crosswalk wheel in {out}, found {len(wheels)}")
    return wheels[0]


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_sums(folder: Path, name: str = "SHA256SUMS") -> Path:
    """`sha256sum`-format sums of every file under `folder` (sorted, `/` separators)."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != name):
        lines.append(f"{sha256(path)}  {path.relative_to(folder).as_posix()}\n")
    target = folder / name
    target.write_text("".join(lines), encoding="utf-8", newline="\n")
    return target


def write_archive(folder: Path, archive: Path) -> Path:
    """A reproducible tar.gz of `folder` (its name as the top directory): sorted entries,
    fixed times and owners, modes 0755/0644, symbolic links kept when they stay inside.
    Then `<archive>.sha256` beside it."""
    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = EPOCH
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        executable = info.isdir() or info.mode & 0o111
        info.mode = 0o755 if executable else 0o644
        return info

    tmp = archive.with_name(archive.name + ".part")
    with tmp.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=EPOCH) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(folder, arcname=folder.name, recursive=False, filter=normalise)
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
                raise BuildError(f"{path} links outside {folder.name}; the archive would "
                                 "not be self-contained")
            arcname = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            tar.add(path, arcname=arcname, recursive=False, filter=normalise)
    tmp.replace(archive)
    checksum = archive.with_name(archive.name + ".sha256")
    checksum.write_text(f"{sha256(archive)}  {archive.name}\n", encoding="utf-8", newline="\n")
    return archive


def main_guard(fn: object) -> None:
    """Run a script's main(): a BuildError is one message and exit 2."""
    try:
        sys.exit(fn())  # type: ignore[operator]
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
