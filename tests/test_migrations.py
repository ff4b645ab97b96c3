"""Schema versions: the committed v1 workspace migrated by today's code, the hand-written DDL
against the SQLModel models, and a migration that fails halfway."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import app.store.models  # noqa: F401 - registers the tables on SQLModel.metadata
import app.store.store as store_module
from app.domain.chain import walk_chain
from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.clock import SteppingClock
from app.errors import WorkspaceError
from app.services import audit
from app.services.controls import list_controls, update_control
from app.services.regulations import add_regulation, list_regulations
from app.services.workspace import open_workspace, workspace_status
from app.store import Store
from app.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from tests.conftest import DATA, make_store
from tests.helpers import sha256

MIGRATED_AT = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
BACKUP_NAME = "old.db.v1-20261127T100000Z.bak"
V1_EVENTS = 16
EVENT_COLS = ("seq, at, actor, action, entity, entity_id, change, state_digest, prev_hash, "
              "hash")



def connect(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection; `immutable` for files nothing else has open (no side files)."""
    flag = "immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"{path.as_uri()}?{flag}", uri=True)


def snapshot(path: Path, *, immutable: bool = False) -> dict[str, Any]:
    con = connect(path, immutable=immutable)
    try:
        tables = sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
        return {
            "user_version": con.execute("PRAGMA user_version").fetchone()[0],
            "application_id": con.execute("PRAGMA application_id").fetchone()[0],
            "tables": tables,
            "workspace": con.execute("SELECT * FROM workspace").fetchall(),
            "control": con.execute("SELECT * FROM control ORDER BY id").fetchall(),
            "audit_event": con.execute(
                f"SELECT {EVENT_COLS} FROM audit_event ORDER BY seq").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    """The committed v1 file as it is, read without writing anything beside it."""
    return snapshot(DATA / "workspace-v1.db", immutable=True)


def open_v1(path: Path, at: datetime = MIGRATED_AT) -> Store:
    return open_workspace(path, actor="migrator", clock=SteppingClock(at))


@pytest.fixture
def migrated(v1_workspace: Path) -> Iterator[Store]:
    s = open_v1(v1_workspace)
    yield s
    s.close()


# ------------------------------------------------------------------ the committed v1 file


def test_committed_v1_file_is_what_the_readme_says(original: dict[str, Any]) -> None:
    assert original["user_version"] == 1
    assert original["application_id"] == APPLICATION_ID
    assert original["tables"] == ["audit_event", "control", "workspace"]
    assert len(original["audit_event"]) == V1_EVENTS
    assert {e[2] for e in original["audit_event"]} == {"v1-analyst"}
    assert walk_chain(original["audit_event"]).problems == []


def test_v1_workspace_is_migrated_to_the_current_schema(
        migrated: Store, v1_workspace: Path) -> None:
    assert migrated.migrated_from == 1
    assert migrated.created is False
    assert migrated.schema_version == SCHEMA_VERSION
    after = snapshot(v1_workspace)
    assert after["user_version"] == SCHEMA_VERSION
    assert after["application_id"] == APPLICATION_ID
    assert {"regulation", "clause"} <= set(after["tables"])


def test_backup_is_taken_first_with_the_v1_data(
        migrated: Store, v1_workspace: Path, original: dict[str, Any]) -> None:
    backup = v1_workspace.with_name(BACKUP_NAME)
    assert migrated.backup_path == backup
    assert re.fullmatch(r"old\.db\.v1-\d{8}T\d{6}Z\.bak", backup.name)
    assert backup.is_file()
    assert backup.stat().st_mode & 0o777 == 0o600
    assert snapshot(backup, immutable=True) == original


def test_migration_keeps_all_data(
        migrated: Store, v1_workspace: Path, original: dict[str, Any]) -> None:
    after = snapshot(v1_workspace)
    assert [row[:4] for row in after["workspace"]] == original["workspace"]
    assert [row[4:] for row in after["workspace"]] == [(30,)]  # v5: expiring_days
    assert after["control"] == original["control"]
    assert after["audit_event"][:V1_EVENTS] == original["audit_event"]
    by_id = {c.id: c for c in list_controls(migrated)}
    assert len(by_id) == 12
    assert (by_id["OPS-2"].owner, by_id["OPS-2"].status, by_id["OPS-2"].narrative) == (
        "Model Monitoring Lead", "partial",
        "PSI on inputs daily; alerts to the on-call ML engineer.")
    assert (by_id["SEC-2"].owner, by_id["SEC-2"].status) == ("", "planned")
    assert (by_id["GOV-4"].owner, by_id["GOV-4"].status) == ("ML Platform Lead", "not-started")


def test_migration_is_audited(migrated: Store, v1_workspace: Path,
                              original: dict[str, Any]) -> None:
    events = snapshot(v1_workspace)["audit_event"]
    assert len(events) == V1_EVENTS + 1
    seq, at, actor, action, entity, entity_id, change, sd, prev_hash, _ = events[-1]
    ws_id = original["workspace"][0][0]
    assert (seq, actor, action, entity, entity_id) == (
        V1_EVENTS + 1, "migrator", "workspace.migrate", "workspace", ws_id)
    assert re.fullmatch(r"2026-11-27T10:00:0\d\.000Z", at)
    assert json.loads(change) == {"from_version": 1, "to_version": SCHEMA_VERSION,
                                  "backup": BACKUP_NAME}
    assert prev_hash == original["audit_event"][-1][9]
    assert sd is not None


def test_migrated_workspace_verifies(migrated: Store) -> None:
    report = audit.verify(migrated)
    assert report.intact, report.problems
    assert report.events == V1_EVENTS + 1
    assert report.rows_checked == 13


def test_new_tables_work_after_migration(migrated: Store, v1_workspace: Path) -> None:
    reg = add_regulation(migrated, RegulationDoc("GDPR", "GDPR", "2016/679", clauses=[
        ClauseNode("Art. 32", "article", children=[ClauseNode("Art. 32(1)", "paragraph")])]))
    update_control(migrated, "OPS-4", owner="Head of Credit Analytics")
    assert [r.code for r in list_regulations(migrated)] == ["GDPR"]
    con = connect(v1_workspace)
    try:
        parents = con.execute("SELECT c.ref, p.ref FROM clause c LEFT JOIN clause p ON "
                              "p.id = c.parent_id WHERE c.regulation_id = ? ORDER BY c.position",
                              (reg.id,)).fetchall()
    finally:
        con.close()
    assert parents == [("Art. 32", None), ("Art. 32(1)", "Art. 32")]
    status = workspace_status(migrated)
    assert status.schema_version == SCHEMA_VERSION
    assert status.counts == {"controls": 12, "regulations": 1, "clauses": 2, "mappings": 0,
                             "evidence": 0, "control_tests": 0,
                             "audit_events": V1_EVENTS + 1 + 3 + 1}
    report = audit.verify(migrated)
    assert report.intact and report.events == V1_EVENTS + 5


def test_reopening_a_migrated_workspace_does_not_migrate_again(v1_workspace: Path) -> None:
    open_v1(v1_workspace).close()
    before = snapshot(v1_workspace)
    backups = sorted(p.name for p in v1_workspace.parent.glob("*.bak"))
    with open_v1(v1_workspace, datetime(2026, 11, 28, tzinfo=UTC)) as s:
        assert s.migrated_from is None and s.backup_path is None
    assert snapshot(v1_workspace) == before
    assert sorted(p.name for p in v1_workspace.parent.glob("*.bak")) == backups == [BACKUP_NAME]


def test_read_only_open_of_an_old_workspace_is_refused(v1_workspace: Path) -> None:
    before = sha256(v1_workspace)
    with pytest.raises(WorkspaceError) as info:
        Store.open(v1_workspace, mode="ro")
    assert str(v1_workspace) in str(info.value)
    assert "needs upgrading from schema v1" in str(info.value)
    assert sha256(v1_workspace) == before
    assert list(v1_workspace.parent.glob("*.bak")) == []


# ------------------------------------------------------------------ DDL against the models


def schema_of(path: Path) -> dict[str, Any]:
    """Everything PRAGMAs say about each table: columns, indexes (with columns), keys."""
    con = connect(path)
    try:
        out: dict[str, Any] = {}
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            columns = {r[1]: (r[2], r[3], r[4], r[5])  # type, notnull, default, pk
                       for r in con.execute(f"PRAGMA table_info({table})")}
            indexes = set()
            for _, name, unique, origin, partial in con.execute(f"PRAGMA index_list({table})"):
                cols = tuple(r[2] for r in con.execute(f"PRAGMA index_info({name})"))
                label = name if origin == "c" else origin  # auto-index names are SQLite's
                indexes.add((label, unique, origin, partial, cols))
            fks = {(r[2], r[3], r[4], r[5], r[6], r[7])
                   for r in con.execute(f"PRAGMA foreign_key_list({table})")}
            out[table] = {"columns": columns, "indexes": indexes, "foreign_keys": fks}
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def model_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("models") / "models.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return schema_of(path)


def test_model_schema_is_not_empty(model_schema: dict[str, Any]) -> None:
    assert {"workspace", "control", "regulation", "clause", "audit_event"} <= set(model_schema)
    assert ("ix_audit_entity", 0, "c", 0, ("entity", "entity_id")) in \
        model_schema["audit_event"]["indexes"]


def test_fresh_workspace_schema_matches_the_models(
        ws_path: Path, model_schema: dict[str, Any]) -> None:
    make_store(ws_path).close()
    actual = schema_of(ws_path)
    assert sorted(actual) == sorted(model_schema)
    for table in model_schema:
        assert actual[table] == model_schema[table], table


def test_migrated_workspace_schema_matches_the_models(
        migrated: Store, v1_workspace: Path, model_schema: dict[str, Any]) -> None:
    assert schema_of(v1_workspace) == model_schema


def test_schema_steps_are_consecutive() -> None:
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


# ---------------------------------------------------------------- a migration that fails


def broken_steps(current: int, target: int = SCHEMA_VERSION) -> list[tuple[int, tuple[str, ...]]]:
    return [(SCHEMA_VERSION, (
        "CREATE TABLE regulation (id INTEGER NOT NULL PRIMARY KEY)",
        "ALTER TABLE control ADD COLUMN half_done VARCHAR",
        "CREATE TABLE broken (",
    ))]


def test_failed_migration_leaves_the_workspace_as_it_was(
        v1_workspace: Path, original: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    before = sha256(v1_workspace)
    monkeypatch.setattr(store_module, "steps", broken_steps)
    with pytest.raises(WorkspaceError, match=r"cannot upgrade workspace .* incomplete input"):
        open_v1(v1_workspace)
    assert snapshot(v1_workspace) == original
    assert sha256(v1_workspace) == before
    backup = v1_workspace.with_name(BACKUP_NAME)
    assert backup.is_file()
    assert snapshot(backup, immutable=True) == original
    # with the real steps the same file then migrates normally
    monkeypatch.undo()
    with open_v1(v1_workspace, datetime(2026, 11, 27, 10, 5, tzinfo=UTC)) as s:
        assert s.migrated_from == 1
        assert audit.verify(s).intact


def test_retry_after_a_failed_migration_in_the_same_second(
        v1_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "steps", broken_steps)
    with pytest.raises(WorkspaceError, match=r"cannot upgrade workspace .* incomplete input"):
        open_v1(v1_workspace)
    monkeypatch.undo()
    with open_v1(v1_workspace) as s:
        assert s.migrated_from == 1


def test_v2_workspace_with_clauses_migrates_and_stays_verifiable(tmp_path: Path) -> None:
    """Columns added by a migration change every stored row; the migration records that."""
    target = tmp_path / "v2.db"
    shutil.copyfile(DATA / "workspace-v2.db", target)
    store = open_workspace(target)
    assert store.migrated_from == 2
    report = audit.verify(store)
    assert report.intact, report.problems[:3]
    actions = [e.action for e in audit.events(store, limit=100)]
    assert actions.count("clause.migrate") == 6 and actions.count("regulation.migrate") == 1
    from sqlmodel import select

    from app.store.models import Clause

    with store.read() as s:
        rows = s.exec(select(Clause).order_by(Clause.position)).all()
    assert [c.ref for c in rows] == ["Art. 1", "Art. 1(1)", "Art. 1(2)", "Art. 1(2)(a)",
                                     "Art. 1(2)(b)", "Recital 1"]
    assert rows[1].text == "This Regulation applies to test systems."
    assert all(c.attributes == "{}" for c in rows)
    store.close()
