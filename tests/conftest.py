"""Shared fixtures: real workspaces in temp dirs, the real CLI entry point, the corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.clock import SteppingClock
from app.services.workspace import open_workspace
from app.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
FIXED_START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
FIXED_WORKSPACE_ID = "00000000000040008000000000000001"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's own data dir or workspace; a fixed actor name."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("CROSSWALK_WORKSPACE", raising=False)
    monkeypatch.delenv("CROSSWALK_BUSY_TIMEOUT", raising=False)
    monkeypatch.setenv("CROSSWALK_ACTOR", "tester")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking text cursor: snapshots must not depend on when they are taken."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)


def make_store(path: Path, **kwargs: object) -> Store:
    """A reproducible workspace: fixed clock, actor and id, so hashes are stable."""
    kwargs.setdefault("actor", "tester")
    kwargs.setdefault("clock", SteppingClock(FIXED_START))
    kwargs.setdefault("workspace_id", FIXED_WORKSPACE_ID)
    kwargs.setdefault("library", False)  # the bundled library is tested where it matters
    return open_workspace(path, create=True, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    return tmp_path / "ws.db"


@pytest.fixture
def store(ws_path: Path) -> Iterator[Store]:
    s = make_store(ws_path)
    yield s
    s.close()


@pytest.fixture
def v1_workspace(tmp_path: Path) -> Path:
    """A copy of a workspace written by schema v1 (see tests/data/README.md)."""
    target = tmp_path / "old.db"
    shutil.copyfile(DATA / "workspace-v1.db", target)
    return target


@pytest.fixture(scope="session")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the bundled library, built once; tests work on copies (`lib_ws`)."""
    path = tmp_path_factory.mktemp("library") / "library.db"
    make_store(path, library=True).close()
    return path


@pytest.fixture
def lib_ws(library_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "lib.db"
    shutil.copyfile(library_db, target)
    return target


@pytest.fixture
def corpus() -> Path:
    """The official documents of ../shared/corpus (or $CROSSWALK_CORPUS)."""
    path = Path(os.environ.get("CROSSWALK_CORPUS", ROOT.parent / "shared" / "corpus"))
    if not path.is_dir():
        pytest.skip(f"official corpus not found at {path} (set CROSSWALK_CORPUS); CI has it")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run `crosswalk ARGS…` in-process through the real entry point `app.cli.main`."""
    from app.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def crosswalk_exe():
    """Run the installed `crosswalk` console script in a subprocess."""
    exe = shutil.which("crosswalk", path=str(Path(sys.executable).parent)) or shutil.which(
        "crosswalk")
    if exe is None:
        pytest.fail("the crosswalk console script is not installed (pip install -e '.[test]')")

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            input: str | None = None) -> Result:
        full_env = {**os.environ, **(env or {})}
        p = subprocess.run([exe, *args], capture_output=True, text=True, env=full_env,
                           timeout=timeout, input=input)
        return Result(p.returncode, p.stdout, p.stderr)

    return run
