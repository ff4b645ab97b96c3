"""Hostile input found in review: odd files as workspaces, races, hand-made schema objects,
binary and non-UTF-8 values, and the demo never touching a real workspace."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.errors import WorkspaceError
from app.services import audit
from app.services.controls import update_control
from app.services.demo import create_demo
from app.services.workspace import open_workspace
from tests.conftest import make_store
from tests.helpers import sha256


def test_fifo_is_refused_without_blocking(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    r = cli("--workspace", str(fifo), "status")
    assert r.code == 2 and "not a regular file" in r.err
    r = cli("--workspace", str(fifo), "init")
    assert r.code == 2 and "not a regular file" in r.err
    assert fifo.is_fifo()


def test_dangling_symlink_is_refused(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "nowhere" / "x.db")
    r = cli("--workspace", str(link), "init")
    assert r.code == 2 and r.err.startswith("error: ") and "broken symbolic link" in r.err
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_symlink_to_a_workspace_works(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    make_store(tmp_path / "real.db").close()
    (tmp_path / "link.db").symlink_to(tmp_path / "real.db")
    r = cli("--workspace", str(tmp_path / "link.db"), "verify")
    assert r.code == 0 and "intact: 13 events" in r.out


def test_concurrent_first_runs_create_one_workspace(tmp_path: Path) -> None:
    """Six `crosswalk init` started at once: one creates, the others open; nothing is lost."""
    path = tmp_path / "cc.db"
    env = {**os.environ, "CROSSWALK_WORKSPACE": str(path)}
    procs = [subprocess.Popen([sys.executable, "-m", "app", "init", "--bare"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    assert all(code == 0 for code, _out, _err in results), results
    assert sum("created workspace" in out for _code, out, _err in results) == 1
    store = open_workspace(path)
    report = audit.verify(store)
    assert report.intact and report.events == 13
    store.close()


def _open_each_at_once(paths: list[Path], ready: Any, t0: Any, results: Any) -> None:
    """One of the racing processes: open new file n at t0 + n/4 s, as the other five do."""
    ready.wait(timeout=120)
    while not t0.value:
        pass
    for n, path in enumerate(paths):
        start = t0.value + n / 4
        while time.time() < start:
            pass
        try:
            open_workspace(path, create=True, library=False).close()
            results.put((path.name, "ok"))
        except Exception as exc:  # reported to the parent, which shows it
            results.put((path.name, f"{type(exc).__name__}: {exc}"))


def test_crosswalks_opening_a_new_file_at_the_same_instant_all_succeed(tmp_path: Path) -> None:
    """Six processes open one new workspace at the same instant, twenty times over.

    Switching a new file to WAL is where SQLite refuses at once (no busy wait) when two
    connections race; without the retry most runs of this test failed with "locked"."""
    paths = [tmp_path / f"race{n:02}.db" for n in range(20)]
    for path in paths:
        path.touch()  # an empty file, as the user may make one: every process adopts it
    ctx = multiprocessing.get_context("spawn")  # never fork the threaded test process
    ready, t0, results = ctx.Barrier(7), ctx.Value("d", 0.0), ctx.Queue()
    procs = [ctx.Process(target=_open_each_at_once, args=(paths, ready, t0, results))
             for _ in range(6)]
    for p in procs:
        p.start()
    ready.wait(timeout=120)  # all six have imported Crosswalk
    t0.value = time.time() + 0.3
    outcome = sorted(results.get(timeout=120) for _ in range(6 * len(paths)))
    for p in procs:
        p.join(timeout=60)
    assert outcome == sorted((path.name, "ok") for path in paths for _ in range(6)), [
        o for o in outcome if o[1] != "ok"]
    for path in paths:
        store = open_workspace(path)
        assert audit.verify(store).events == 13
        store.close()


def test_verify_during_concurrent_writes_is_not_fooled(tmp_path: Path) -> None:
    """A write landing while verify runs must not be reported as tampering."""
    store = make_store(tmp_path / "ws.db")
    from app.domain.clauses import ClauseNode, RegulationDoc
    from app.services.regulations import add_regulation

    add_regulation(store, RegulationDoc("BIG", "Big", "1", clauses=[
        ClauseNode(f"Art. {i}", "article", text="x" * 200) for i in range(1, 3001)]))
    writer = make_store(tmp_path / "ws.db", actor="writer")
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            update_control(writer, "GOV-1", owner=f"owner {i}")
            i += 1

    t = threading.Thread(target=write)
    t.start()
    try:
        reports = [audit.verify(store) for _ in range(6)]
    finally:
        stop.set()
        t.join()
        writer.close()
    assert all(r.intact for r in reports), [r.problems[:1] for r in reports]
    store.close()


@pytest.mark.parametrize("sql, names", [
    ("UPDATE control SET narrative = X'41' WHERE id = 'GOV-1'", ("control", "GOV-1")),
    ("UPDATE control SET narrative = CAST(X'FF41' AS TEXT) WHERE id = 'GOV-1'",
     ("control", "GOV-1")),
    ("UPDATE audit_event SET actor = X'41' WHERE seq = 3", (None, None)),
    ("UPDATE audit_event SET change = CAST(X'FF' AS TEXT) WHERE seq = 4", (None, None)),
])
def test_binary_and_non_utf8_tampering_is_reported(tmp_path: Path, sql: str,
                                                   names: tuple[str | None, str | None],
                                                   cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ws.db"
    make_store(path).close()
    con = sqlite3.connect(path)
    con.execute(sql)
    con.commit()
    con.close()
    r = cli("--workspace", str(path), "verify")
    assert r.code == 1 and "Traceback" not in r.err, (r.out, r.err)
    assert "BROKEN" in r.out
    store = open_workspace(path)
    report = audit.verify(store)
    first = report.problems[0]
    if names[0]:
        assert (first.entity, first.entity_id) == names
    else:
        assert first.seq is not None and "altered" in first.message
    assert cli("--workspace", str(path), "log", "--json").code == 0
    store.close()


def test_trigger_added_outside_crosswalk_is_reported(store) -> None:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(store.path)
    con.execute("CREATE TRIGGER sneaky AFTER UPDATE ON control BEGIN "
                "UPDATE control SET narrative = 'x' WHERE id = 'GOV-2'; END")
    con.commit()
    con.close()
    report = audit.verify(store)
    assert not report.intact
    assert "trigger 'sneaky' is not part of Crosswalk's schema" in report.problems[0].message


def test_deleted_workspace_record_is_a_clear_error(store, cli) -> None:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(store.path)
    con.execute("DELETE FROM workspace")
    con.commit()
    con.close()
    r = cli("--workspace", str(store.path), "status")
    assert r.code == 2 and "workspace record is missing" in r.err
    r = cli("--workspace", str(store.path), "verify")
    assert r.code == 1 and "deleted outside Crosswalk" in r.out


def test_demo_never_opens_or_replaces_a_real_workspace(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    store = make_store(real)
    update_control(store, "GOV-1", owner="Important Person", narrative="months of work")
    store.close()
    before = sha256(real)
    for reset in (False, True):
        with pytest.raises(WorkspaceError, match="not a demo one"):
            create_demo(real, actor="tester", reset=reset)
    assert sha256(real) == before
    demo = create_demo(tmp_path / "demo.db", actor="tester")
    demo.close()
    again = create_demo(tmp_path / "demo.db", actor="tester", reset=True)
    assert again.created
    again.close()


def test_control_group_without_subcommand_prints_help(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("control")
    assert r.code == 2 and "show" in r.err and "set" in r.err


def test_read_command_in_read_only_folder(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions; this needs an ordinary user")
    folder = tmp_path / "ro"
    folder.mkdir()
    make_store(folder / "ws.db").close()
    folder.chmod(0o555)
    try:
        r = cli("--workspace", str(folder / "ws.db"), "verify")
        assert r.code == 0 and "intact" in r.out
        r = cli("--workspace", str(folder / "ws.db"), "control", "set", "GOV-1", "--owner", "x")
        assert r.code == 2 and "read-only" in r.err
    finally:
        folder.chmod(0o755)


def test_migration_is_announced(v1_workspace: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--workspace", str(v1_workspace), "status", "--json")
    assert r.code == 0
    assert r.err.startswith("note: upgraded workspace") and ".bak" in r.err
    import json

    assert json.loads(r.out)["schema_version"] >= 2


def test_concurrent_upgrades_of_an_old_workspace(v1_workspace: Path) -> None:
    """Several Crosswalks opening the same v1 file at once: one migrates, none fails."""
    env = {**os.environ, "CROSSWALK_WORKSPACE": str(v1_workspace)}
    procs = [subprocess.Popen([sys.executable, "-m", "app", "status", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    assert all(code == 0 for code, _out, _err in results), results
    store = open_workspace(v1_workspace)
    report = audit.verify(store)
    migrations = [e for e in audit.events(store, limit=100) if e.action == "workspace.migrate"]
    assert report.intact and len(migrations) == 1
    store.close()
