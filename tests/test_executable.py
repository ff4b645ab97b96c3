"""Smoke test of the self-contained executable that `packaging/build_executable.py` builds.

The executable is what users without Python get, so it is tested as they would use it: the
archive is checked against its `.sha256`, unpacked with `tarfile`'s "data" filter, every file
is checked against the folder's SHA256SUMS, and then the frozen program itself runs real
commands (init, status, verify, demo, the exports, the bundle round trip, backup and restore, a
bad import) and starts its TUI under a pseudo-terminal and quits it with ctrl+q.

Nothing is mocked. Each run gets a minimal environment: a temp HOME and XDG_DATA_HOME, PATH
pointing nowhere, no PYTHON* variables, so a working run shows that the executable needs no
Python install. Where unprivileged user namespaces work, every command also runs under
`unshare -rn`, in a network namespace with no interfaces, so it shows the program needs no
network either; where they do not (some containers, macOS), the commands run directly.

Getting the archive: CI builds it once with the script and sets CROSSWALK_EXECUTABLE_ARCHIVE
to its path; otherwise the module builds it in a temp dir (about a minute; pip must reach an
index or a local mirror; the test skips, saying so, when it cannot).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest

import app

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "packaging" / "build_executable.py"
ARCHIVE_ENV = "CROSSWALK_EXECUTABLE_ARCHIVE"
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 180
UNSHARE = Path("/usr/bin/unshare")
# pip's words for "no index to fetch PyInstaller or the dependencies from"
UNREACHABLE = ("No matching distribution found", "Could not find a version")
EXE_NAME = "crosswalk.exe" if sys.platform == "win32" else "crosswalk"


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@cache
def no_network_prefix() -> tuple[str, ...]:
    """`unshare -rn` (a user namespace mapping us to root, with an empty network namespace)
    when the machine allows it; else nothing, and the commands run with the host's network
    (they still must not need it, but this run cannot prove that)."""
    if not UNSHARE.exists():
        return ()
    try:
        probe = subprocess.run([str(UNSHARE), "-rn", "true"], capture_output=True,
                               timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (str(UNSHARE), "-rn") if probe.returncode == 0 else ()


def minimal_env(home: Path, **extra: str) -> dict[str, str]:
    """No Python on PATH, no PYTHON* variables: only what any user's shell would have."""
    return {"HOME": str(home), "XDG_DATA_HOME": str(home / "xdg"), "PATH": "/nonexistent",
            "LANG": "C.UTF-8", "CROSSWALK_ACTOR": "smoke", **extra}


def run(exe: Path, *args: str | Path, cwd: Path,
        timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run the executable with `args` in `cwd`, which is also its HOME."""
    return subprocess.run([*no_network_prefix(), str(exe), *map(str, args)], cwd=cwd,
                          env=minimal_env(cwd), capture_output=True, text=True,
                          timeout=timeout, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """`result`, after asserting it exited 0 (showing its output if not)."""
    assert result.returncode == 0, (
        f"{result.args} exited {result.returncode}\nstdout:\n{tail(result.stdout)}\n"
        f"stderr:\n{tail(result.stderr)}")
    return result


# --------------------------------------------------------------------------- the archive


def build_archive(out: Path) -> Path:
    """Run the build script; skip when pip has no index to fetch from."""
    try:
        result = subprocess.run([sys.executable, str(BUILD_SCRIPT), "-o", str(out)],
                                cwd=ROOT, capture_output=True, text=True,
                                timeout=BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"building the executable took over {BUILD_TIMEOUT} s: {exc}")
    log = result.stdout + result.stderr
    if result.returncode != 0:
        why = next((ln.strip() for ln in log.splitlines()
                    if any(marker in ln for marker in UNREACHABLE)), None)
        if why is not None:
            pytest.skip("cannot build the executable: pip cannot fetch PyInstaller or the "
                        f"dependencies (no index reachable): {why}")
        pytest.fail(f"{BUILD_SCRIPT.name} exited {result.returncode}:\n{tail(log)}")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, f"expected the archive and its .sha256 on stdout:\n{log}"
    archive, sums = Path(lines[0]), Path(lines[1])
    assert archive.is_file(), archive
    assert sums == archive.with_name(archive.name + ".sha256"), sums
    return archive


def check_archive(archive: Path) -> None:
    """The archive's SHA-256 matches the one line of its `.sha256` file."""
    sums = archive.with_name(archive.name + ".sha256")
    assert sums.is_file(), f"no checksum file beside the archive: {sums}"
    line = sums.read_text(encoding="utf-8")
    assert line.count("\n") == 1 and line.endswith("\n"), repr(line)
    expected, name = line.rstrip("\n").split("  ", 1)
    assert name == archive.name
    assert sha256(archive) == expected, f"{archive.name} does not match {sums.name}"


def check_folder(folder: Path) -> None:
    """Every line of SHA256SUMS matches, and it lists every file but itself."""
    listed: dict[str, str] = {}
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    assert listed, "SHA256SUMS is empty"
    bad = [rel for rel, digest in listed.items() if sha256(folder / rel) != digest]
    assert not bad, f"files that do not match SHA256SUMS: {bad}"
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.name != "SHA256SUMS"}
    assert present == set(listed), {"unlisted": sorted(present - set(listed)),
                                    "missing": sorted(set(listed) - present)}
    for link in (p for p in folder.rglob("*") if p.is_symlink()):
        assert link.resolve().is_relative_to(folder.resolve()), f"{link} points outside"


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The executable, from the checked and unpacked archive (CI's, or built here)."""
    given = os.environ.get(ARCHIVE_ENV)
    if given:
        archive = Path(given)
        if not archive.is_file():
            pytest.fail(f"{ARCHIVE_ENV}={given} but there is no such file")
    else:
        archive = build_archive(tmp_path_factory.mktemp("dist"))
    check_archive(archive)
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive, "r:gz") as tar:
        tops = {Path(name).parts[0] for name in tar.getnames()}
        tar.extractall(unpacked, filter="data")
    top = archive.name.removesuffix(".tar.gz")
    assert tops == {top}, f"expected one top folder {top!r}, got {sorted(tops)}"
    folder = unpacked / top
    assert {p.name for p in folder.iterdir()} == {EXE_NAME, "_internal", "README.txt",
                                                  "SHA256SUMS"}
    check_folder(folder)
    program = folder / EXE_NAME
    assert os.access(program, os.X_OK), f"{program} is not executable"
    return program


# --------------------------------------------------------------------------- the CLI


def demo_workspace(exe: Path, cwd: Path) -> Path:
    """Make the demo workspace and return the path `demo` says it wrote."""
    result = ok(run(exe, "demo", "--no-open", cwd=cwd))
    prefix = "demo workspace ready: "
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith(prefix)), None)
    assert line is not None, result.stdout
    path = Path(line.removeprefix(prefix).strip())
    assert path == cwd / "xdg" / "crosswalk" / "demo.db"
    assert path.is_file()
    return path


def status(exe: Path, workspace: Path, cwd: Path) -> dict[str, object]:
    return json.loads(ok(run(exe, "--workspace", workspace, "status", "--json",
                             cwd=cwd)).stdout)


def test_version(exe: Path, tmp_path: Path) -> None:
    result = ok(run(exe, "--version", cwd=tmp_path))
    assert result.stdout.strip() == f"crosswalk, version {app.__version__}"


def test_init_status_verify(exe: Path, tmp_path: Path) -> None:
    ok(run(exe, "init", cwd=tmp_path))
    report = json.loads(ok(run(exe, "status", "--json", cwd=tmp_path)).stdout)
    assert report["counts"]["controls"] == 12
    assert Path(report["workspace"]) == tmp_path / "xdg" / "crosswalk" / "workspace.db"
    verified = ok(run(exe, "verify", cwd=tmp_path))
    assert "intact" in verified.stdout


def test_demo_exports_and_bundle(exe: Path, tmp_path: Path) -> None:
    import openpyxl
    import pdfplumber

    ws = demo_workspace(exe, tmp_path)
    ok(run(exe, "--workspace", ws, "export", "dossier", "-o", "d.pdf", cwd=tmp_path))
    pdf = tmp_path / "d.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) > 10

    ok(run(exe, "--workspace", ws, "export", "matrix", "--format", "xlsx", "-o", "m.xlsx",
           cwd=tmp_path))
    book = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True)
    try:
        headers = [next(sheet.iter_rows(max_row=1, values_only=True), ())
                   for sheet in book.worksheets]
    finally:
        book.close()
    assert any(sum(isinstance(cell, str) and cell.strip() != "" for cell in row) >= 3
               for row in headers), headers

    ok(run(exe, "--workspace", ws, "export", "matrix", "--format", "csv", "-o", "m.csv",
           cwd=tmp_path))
    rows = (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) > 1 and rows[0].count(",") >= 2, rows[:2]

    ok(run(exe, "--workspace", ws, "export", "bundle", "-o", "b.zip", cwd=tmp_path))
    checked = ok(run(exe, "verify-bundle", "b.zip", cwd=tmp_path))
    assert "intact" in checked.stdout


def test_backup_and_restore(exe: Path, tmp_path: Path) -> None:
    ws = demo_workspace(exe, tmp_path)
    ok(run(exe, "--workspace", ws, "backup", "-o", "ws.cwbackup", cwd=tmp_path))
    assert (tmp_path / "ws.cwbackup").is_file()
    restored = tmp_path / "restored.db"  # restore wants a new file in an existing folder
    ok(run(exe, "restore", "ws.cwbackup", "--workspace", restored, cwd=tmp_path))
    assert restored.is_file()
    verified = ok(run(exe, "--workspace", restored, "verify", cwd=tmp_path))
    assert "intact" in verified.stdout
    assert status(exe, restored, tmp_path)["audit_head"] == status(exe, ws, tmp_path)[
        "audit_head"]


def test_bad_import_is_a_clean_error(exe: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws.db"
    ok(run(exe, "--workspace", ws, "init", cwd=tmp_path))
    before = status(exe, ws, tmp_path)["audit_head"]
    garbage = tmp_path / "x.pdf"
    garbage.write_bytes(bytes(range(256)) * 8 + b"\x00\xff not a pdf \x89PNG")
    result = run(exe, "--workspace", ws, "import", garbage, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert status(exe, ws, tmp_path)["audit_head"] == before


# --------------------------------------------------------------------------- the TUI


def _read_until(master: int, proc: subprocess.Popen[bytes], needle: bytes,
                timeout: float) -> bytes:
    """Read the terminal until `needle` appears; fail on timeout or if the program exits."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no {needle!r} on the terminal within {timeout} s; "
                        f"last output: {seen[-2000:]!r}")
        ready, _, _ = select.select([master], [], [], min(left, 0.5))
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed the terminal
                chunk = b""
            if not chunk:
                pytest.fail(f"the TUI exited ({proc.poll()}) before showing {needle!r}: "
                            f"{seen[-2000:]!r}")
            seen += chunk
    return seen


def _wait_draining(master: int, proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """Wait for the program to exit, reading its output so it never blocks writing."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            with contextlib.suppress(OSError):
                os.read(master, 65536)
    return proc.poll()


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX only")
def test_tui_starts_and_quits(exe: Path, tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = minimal_env(tmp_path, TERM="xterm-256color", COLUMNS="120", LINES="36")
    argv: Sequence[str] = [*no_network_prefix(), str(exe)]
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True, close_fds=True)
        os.close(slave)
        slave = -1
        _read_until(master, proc, b"Dashboard", timeout=30)
        os.write(master, b"\x11")  # ctrl+q
        code = _wait_draining(master, proc, timeout=15)
        assert code == 0, f"the TUI did not exit 0 within 15 s after ctrl+q: {code}"
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if slave >= 0:
            os.close(slave)
        os.close(master)


def test_no_python_on_path() -> None:
    """The environment the executable runs in has no interpreter to fall back on."""
    env = minimal_env(Path("/nonexistent-home"))
    assert not any(key.startswith("PYTHON") for key in env)
    assert shutil.which("python3", path=env["PATH"]) is None
    assert shutil.which("python", path=env["PATH"]) is None
