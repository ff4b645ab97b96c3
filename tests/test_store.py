"""The workspace store on real SQLite files: settings, seeding, refusals, locks, atomic writes."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.domain.chain import GENESIS, state_digest
from app.domain.clauses import ClauseNode, RegulationDoc, text_hash
from app.domain.controls import CONTROL_IDS, CONTROLS
from app.errors import InvalidInput, NotFound, WorkspaceError, WorkspaceLocked
from app.services import audit
from app.services.controls import update_control
from app.services.regulations import add_regulation, list_regulations
from app.services.workspace import open_workspace
from app.store import Store, Tx
from app.store.models import Clause, Control, Regulation
from app.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import FIXED_WORKSPACE_ID, make_store
from tests.helpers import sha256

# ------------------------------------------------------------------------------- helpers



def side_files(path: Path) -> list[str]:
    return [s for s in ("-wal", "-shm", "-journal") if Path(f"{path}{s}").exists()]


def ro(path: Path) -> sqlite3.Connection:
    """A read-only connection of the test's own, for looking at what the store wrote."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, plus the header fields, as stored now."""
    con = ro(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
        out["#header"] = [(con.execute("PRAGMA user_version").fetchone()[0],
                           con.execute("PRAGMA application_id").fetchone()[0])]
        return out
    finally:
        con.close()


def audit_rows(path: Path, after: int = 0) -> list[tuple[Any, ...]]:
    con = ro(path)
    try:
        return con.execute("SELECT seq, actor, action, entity, entity_id, change, state_digest "
                           "FROM audit_event WHERE seq > ? ORDER BY seq", (after,)).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------------- a new workspace


def test_new_workspace_file_is_private(store: Store, ws_path: Path) -> None:
    assert ws_path.stat().st_mode & 0o777 == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(f"{ws_path}{suffix}")
        if side.exists():  # SQLite gives side files the database file's permissions
            assert side.stat().st_mode & 0o077 == 0, suffix


def test_new_workspace_in_a_new_folder_is_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ws.db"
    with make_store(path):
        pass
    assert path.stat().st_mode & 0o777 == 0o600


def test_connection_settings(store: Store, ws_path: Path) -> None:
    with store.raw() as run:
        assert run("PRAGMA journal_mode").scalar_one() == "wal"
        assert run("PRAGMA foreign_keys").scalar_one() == 1
        assert run("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert run("PRAGMA busy_timeout").scalar_one() == 5000
    con = sqlite3.connect(ws_path)
    try:  # WAL is a property of the file, not only of our connections
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_busy_timeout_follows_the_option(ws_path: Path) -> None:
    with make_store(ws_path, busy_timeout=0.75) as s, s.raw() as run:
        assert run("PRAGMA busy_timeout").scalar_one() == 750


def test_writes_use_the_same_settings(store: Store) -> None:
    with store.write() as tx:
        assert tx._raw("PRAGMA foreign_keys").scalar_one() == 1
        assert tx._raw("PRAGMA synchronous").scalar_one() == 2


def test_header_marks_the_file_as_ours(store: Store, ws_path: Path) -> None:
    con = ro(ws_path)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID == 0x43575753
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        con.close()
    assert store.schema_version == SCHEMA_VERSION
    assert store.created is True and store.migrated_from is None


def test_seeded_with_the_twelve_controls(store: Store, ws_path: Path) -> None:
    con = ro(ws_path)
    try:
        rows = con.execute("SELECT id, position, name, category, objective, guidance, owner, "
                           "status, narrative, updated_by FROM control ORDER BY position"
                           ).fetchall()
        ws = con.execute("SELECT id, name, created_by FROM workspace").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == list(CONTROL_IDS)
    for row, c in zip(rows, CONTROLS, strict=True):
        assert row[1:6] == (CONTROLS.index(c) + 1, c.name, c.category, c.objective, c.guidance)
        assert row[6:] == ("", "not-started", "", "tester")
    assert ws == [(FIXED_WORKSPACE_ID, "ws", "tester")]


def test_seeded_with_thirteen_audit_events(store: Store, ws_path: Path) -> None:
    events = audit_rows(ws_path)
    assert [e[0] for e in events] == list(range(1, 14))
    assert [e[2] for e in events] == ["workspace.create"] + ["control.create"] * 12
    assert events[0][3:5] == ("workspace", FIXED_WORKSPACE_ID)
    assert [e[4] for e in events[1:]] == list(CONTROL_IDS)
    assert {e[1] for e in events} == {"tester"}
    assert json.loads(events[2][5]) == {"name": CONTROLS[1].name,
                                        "category": "Governance & compliance"}
    assert all(e[6] is not None for e in events)
    con = ro(ws_path)
    try:
        assert con.execute("SELECT prev_hash FROM audit_event WHERE seq = 1").fetchone()[0] \
            == GENESIS
    finally:
        con.close()
    report = audit.verify(store)
    assert report.intact and report.events == 13 and report.rows_checked == 13


def test_reopening_does_not_seed_again(ws_path: Path) -> None:
    make_store(ws_path).close()
    before = dump(ws_path)
    with open_workspace(ws_path) as s:
        assert s.created is False
    with make_store(ws_path) as s:  # create=True on an existing workspace just opens it
        assert s.created is False
    assert dump(ws_path) == before


def test_read_only_store_reads_but_refuses_writes(store: Store, ws_path: Path) -> None:
    store.close()
    before = sha256(ws_path)
    with Store.open(ws_path, mode="ro") as s:
        assert s.readonly
        assert audit.verify(s).intact
        with pytest.raises(WorkspaceError, match="read-only"):
            update_control(s, "OPS-2", owner="Dana")
    assert sha256(ws_path) == before


# ---------------------------------------------------------------------- refusing bad files


def _not_sqlite(tmp: Path) -> Path:
    path = tmp / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    return path


def _foreign_sqlite(tmp: Path, *, wal: bool = False) -> Path:
    path = tmp / ("other-wal.db" if wal else "other.db")
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE recipe (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO recipe (name) VALUES ('bread')")
    con.commit()
    con.close()
    assert side_files(path) == []
    return path


def _foreign_sqlite_wal(tmp: Path) -> Path:
    return _foreign_sqlite(tmp, wal=True)


def _workspace_bytes(tmp: Path) -> bytes:
    src = tmp / "source" / "ws.db"
    make_store(src).close()
    assert side_files(src) == []
    return src.read_bytes()


def _corrupt(tmp: Path) -> Path:
    """A workspace's 100-byte header (ours: magic, application id, version) then garbage."""
    data = _workspace_bytes(tmp)
    rng = random.Random(7)
    path = tmp / "corrupt.db"
    path.write_bytes(data[:100] + bytes(rng.randrange(256) for _ in range(len(data) - 100)))
    return path


def _damaged(tmp: Path) -> Path:
    """A workspace whose first page (header and schema) is intact but whose tables are not."""
    data = _workspace_bytes(tmp)
    rng = random.Random(3)
    path = tmp / "damaged.db"
    path.write_bytes(data[:4096] + bytes(rng.randrange(256) for _ in range(len(data) - 4096)))
    return path


def _too_new(tmp: Path) -> Path:
    path = tmp / "future.db"
    path.write_bytes(_workspace_bytes(tmp))
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    assert side_files(path) == []
    return path


REFUSALS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not-sqlite": (_not_sqlite, "is not a Crosswalk workspace (it is not an SQLite database)"),
    "foreign-sqlite": (_foreign_sqlite, "is an SQLite database but not a Crosswalk workspace"),
    "foreign-sqlite-wal": (_foreign_sqlite_wal,
                           "is an SQLite database but not a Crosswalk workspace"),
    "corrupt": (_corrupt, "corrupt"),
    "damaged": (_damaged, "corrupt"),
    "too-new": (_too_new, f"newer Crosswalk (schema v{SCHEMA_VERSION + 1})"),
}


@pytest.mark.parametrize("create", [False, True])
@pytest.mark.parametrize("kind", list(REFUSALS))
def test_refuses_files_that_are_not_usable_workspaces(
        tmp_path: Path, kind: str, create: bool) -> None:
    make, phrase = REFUSALS[kind]
    path = make(tmp_path)
    before = sha256(path)
    with pytest.raises(WorkspaceError) as info:
        open_workspace(path, create=create)
    message = str(info.value)
    assert str(path) in message
    assert phrase in message
    assert sha256(path) == before


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_refusing_a_file_creates_nothing_beside_it(tmp_path: Path, kind: str) -> None:
    make, _ = REFUSALS[kind]
    path = make(tmp_path)
    listing = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(WorkspaceError):
        open_workspace(path)
    assert side_files(path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == listing


def test_refuses_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.db"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    for create in (False, True):
        with pytest.raises(WorkspaceError) as info:
            open_workspace(folder, create=create)
        assert str(folder) in str(info.value)
        assert "is a directory" in str(info.value)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.db"]


def test_refuses_a_missing_file_without_create(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "missing.db"
    with pytest.raises(WorkspaceError) as info:
        open_workspace(path)
    assert str(path) in str(info.value)
    assert "no workspace at" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs /sys")
@pytest.mark.parametrize("name", ["crosswalk-{}.db", "crosswalk-{}/sub/ws.db"])
def test_refuses_to_create_in_a_location_it_cannot_write(name: str) -> None:
    path = Path("/sys") / name.format(uuid.uuid4().hex)
    with pytest.raises(WorkspaceError) as info:
        open_workspace(path, create=True)
    assert str(path) in str(info.value)
    assert "cannot create workspace" in str(info.value)
    assert not path.exists()
    assert not path.parent.exists() or path.parent == Path("/sys")


# ----------------------------------------------------------------------------------- locks


def test_locked_workspace_raises_workspace_locked_and_changes_nothing(ws_path: Path) -> None:
    s = make_store(ws_path, busy_timeout=0.2)
    before = dump(ws_path)
    other = sqlite3.connect(ws_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(WorkspaceLocked) as info:
            update_control(s, "OPS-2", owner="Dana")
        assert str(ws_path) in str(info.value)
        assert "locked by another process" in str(info.value)
        assert "0.2 s" in str(info.value)
        with pytest.raises(WorkspaceLocked):
            add_regulation(s, _doc())
        # readers are not blocked by the other writer
        assert audit.verify(s).intact
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert dump(ws_path) == before
    # once the lock is released the same store writes normally and continues the chain
    update_control(s, "OPS-2", owner="Dana")
    assert audit_rows(ws_path, after=13)[0][:5] == (14, "tester", "control.update", "control",
                                                    "OPS-2")
    assert audit.verify(s).intact
    s.close()


# --------------------------------------------------------------------- atomic failed writes


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": "done"}, InvalidInput),
        ({"owner": "Dana", "status": "finished"}, InvalidInput),
        ({"owner": "two\nlines"}, InvalidInput),
        ({"narrative": "bell \x07"}, InvalidInput),
        ({"owner": "x" * 201}, InvalidInput),
        ({}, InvalidInput),
    ],
)
def test_rejected_control_update_writes_nothing(
        store: Store, ws_path: Path, kwargs: dict[str, str], error: type[Exception]) -> None:
    before = dump(ws_path)
    with pytest.raises(error):
        update_control(store, "OPS-2", **kwargs)
    assert dump(ws_path) == before


def test_update_of_unknown_control_writes_nothing(store: Store, ws_path: Path) -> None:
    before = dump(ws_path)
    with pytest.raises(NotFound, match="unknown control"):
        update_control(store, "OPS-9", owner="Dana")
    assert dump(ws_path) == before


def test_exception_inside_a_write_rolls_everything_back(store: Store, ws_path: Path) -> None:
    before = dump(ws_path)
    with pytest.raises(RuntimeError, match="boom"), store.write() as tx:
        reg = Regulation(code="X", version_label="1", title="t", imported_at=tx.now)
        tx.session.add(reg)
        tx.session.flush()
        tx.record("regulation.create", "regulation", reg.id, {"code": "X"})
        row = tx.session.get(Control, "OPS-2")
        assert row is not None
        row.owner = "Dana"
        tx.session.add(row)
        tx.record("control.update", "control", "OPS-2", {"owner": {"from": "", "to": "Dana"}})
        raise RuntimeError("boom")
    assert dump(ws_path) == before
    # the chain continues from the real head, not from the events that were dropped
    update_control(store, "OPS-2", owner="Dana")
    assert [r[0] for r in audit_rows(ws_path, after=13)] == [14]
    assert audit.verify(store).intact


def test_constraint_violation_is_a_workspace_error_and_writes_nothing(
        store: Store, ws_path: Path) -> None:
    before = dump(ws_path)
    with pytest.raises(WorkspaceError, match="refused the change") as info, \
            store.write() as tx:
        tx.session.add(Clause(id=1, regulation_id=999, ref="Art. 1", position=1,
                              kind="article"))
        tx.session.flush()
    assert "FOREIGN KEY" in str(info.value)
    assert str(ws_path) in str(info.value)
    assert dump(ws_path) == before


def test_recording_an_unaudited_entity_is_refused(store: Store, ws_path: Path) -> None:
    before = dump(ws_path)
    with pytest.raises(ValueError, match="not an audited entity"), store.write() as tx:
        tx.record("thing.create", "thing", 1, {})
    assert dump(ws_path) == before


def _failing_seed(tx: Tx) -> None:
    from app.services.workspace import seed_workspace

    seed_workspace(tx, "doomed", FIXED_WORKSPACE_ID)
    raise RuntimeError("seed failed")


def test_failed_creation_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    with pytest.raises(RuntimeError, match="seed failed"):
        Store.open(path, create=True, seed=_failing_seed)
    assert not path.exists()
    assert side_files(path) == []
    assert list(tmp_path.iterdir()) == []
    with make_store(path) as s:  # and the path can be used afterwards
        assert audit.verify(s).events == 13


def test_failed_creation_in_a_new_folder_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "ws.db"
    with pytest.raises(RuntimeError, match="seed failed"):
        Store.open(path, create=True, seed=_failing_seed)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_failed_creation_on_an_adopted_empty_file_leaves_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    path.touch()
    with pytest.raises(RuntimeError, match="seed failed"):
        Store.open(path, create=True, seed=_failing_seed)
    assert path.exists()
    assert path.stat().st_size == 0
    with make_store(path) as s:
        assert audit.verify(s).events == 13


def test_creation_adopts_an_empty_file_privately(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    path.touch()
    path.chmod(0o644)
    with make_store(path) as s:
        assert s.created
        assert audit.verify(s).events == 13
    assert path.stat().st_mode & 0o777 == 0o600


# ----------------------------------------------------------------------------- regulations


def _doc(code: str = "GDPR", version: str = "2016/679") -> RegulationDoc:
    return RegulationDoc(
        code=code,
        title="General Data Protection Regulation",
        version_label=version,
        jurisdiction="EU",
        effective_date="2018-05-25",
        source_name="gdpr.xml",
        source_sha256="ab" * 32,
        source_format="formex",
        clauses=[
            ClauseNode("Recital 71", "recital", text="The data subject should have the right "
                       "not to be subject to a decision…"),
            ClauseNode("Chapter IV", "chapter", title="Controller and processor",
                       assessable=False, children=[
                           ClauseNode("Art. 32", "article", title="Security of processing",
                                      children=[
                                          ClauseNode("Art. 32(1)", "paragraph",
                                                     text="Taking into account the state of "
                                                     "the art…", children=[
                                                         ClauseNode("Art. 32(1)(a)", "point",
                                                                    text="the pseudonymisation "
                                                                    "and encryption of "
                                                                    "personal data;"),
                                                         ClauseNode("Art. 32(1)(b)", "point",
                                                                    text="the ability to "
                                                                    "ensure the ongoing "
                                                                    "confidentiality…",
                                                                    summary="CIA and "
                                                                    "resilience."),
                                                     ]),
                                      ]),
                       ]),
        ],
    )


EXPECTED_TREE = [  # (ref, parent ref, kind)
    ("Recital 71", None, "recital"),
    ("Chapter IV", None, "chapter"),
    ("Art. 32", "Chapter IV", "article"),
    ("Art. 32(1)", "Art. 32", "paragraph"),
    ("Art. 32(1)(a)", "Art. 32(1)", "point"),
    ("Art. 32(1)(b)", "Art. 32(1)", "point"),
]


def _clause_rows(path: Path, regulation_id: int) -> list[tuple[Any, ...]]:
    con = ro(path)
    try:
        return con.execute(
            "SELECT c.ref, p.ref, c.kind, c.position, c.title, c.text, c.summary, "
            "c.assessable, c.text_hash, c.id, p.regulation_id FROM clause c "
            "LEFT JOIN clause p ON p.id = c.parent_id WHERE c.regulation_id = ? "
            "ORDER BY c.position", (regulation_id,)).fetchall()
    finally:
        con.close()


def test_add_regulation_persists_the_tree_with_parents(store: Store, ws_path: Path) -> None:
    doc = _doc()
    reg = add_regulation(store, doc)
    assert reg.id is not None
    rows = _clause_rows(ws_path, reg.id)
    assert [(r[0], r[1], r[2]) for r in rows] == EXPECTED_TREE
    assert [r[3] for r in rows] == list(range(1, 7))
    nodes = [n for _, n in doc.walk()]
    for row, node in zip(rows, nodes, strict=True):
        assert row[4:8] == (node.title, node.text, node.summary, int(node.assessable))
        assert row[8] == (text_hash(node.text) if node.text else "")
        assert row[10] in (None, reg.id)  # parents belong to the same regulation
    listed = list_regulations(store)
    assert [(r.code, r.version_label, r.title, r.jurisdiction, r.effective_date,
             r.source_name, r.source_sha256, r.source_format) for r in listed] == [
        ("GDPR", "2016/679", doc.title, "EU", "2018-05-25", "gdpr.xml", "ab" * 32, "formex")]
    assert listed[0].imported_at.endswith("Z")


def test_add_regulation_appends_one_event_per_entity(store: Store, ws_path: Path) -> None:
    reg = add_regulation(store, _doc())
    assert reg.id is not None
    events = audit_rows(ws_path, after=13)
    assert [e[0] for e in events] == list(range(14, 21))
    assert events[0][2:5] == ("regulation.create", "regulation", str(reg.id))
    assert json.loads(events[0][5]) == {"code": "GDPR", "version_label": "2016/679",
                                        "title": "General Data Protection Regulation",
                                        "source_sha256": "ab" * 32}
    rows = _clause_rows(ws_path, reg.id)
    assert [e[2:4] for e in events[1:]] == [("clause.create", "clause")] * 6
    assert [e[4] for e in events[1:]] == [str(r[9]) for r in rows]
    assert [json.loads(e[5]) for e in events[1:]] == [
        {"code": "GDPR", "ref": ref, "kind": kind} for ref, _, kind in EXPECTED_TREE]
    # each event's digest is that of the row exactly as stored
    con = ro(ws_path)
    try:
        cur = con.execute("SELECT * FROM clause WHERE id = ?", (rows[5][9],))
        cols = [d[0] for d in cur.description]
        stored = dict(zip(cols, cur.fetchone(), strict=True))
    finally:
        con.close()
    assert events[-1][6] == state_digest(stored)
    report = audit.verify(store)
    assert report.intact and report.events == 20 and report.rows_checked == 13 + 1 + 6


def test_second_regulation_gets_its_own_ids_and_parents(store: Store, ws_path: Path) -> None:
    first = add_regulation(store, _doc())
    second = add_regulation(store, _doc(version="2016/679-corrigendum"))
    assert first.id is not None and second.id is not None and first.id != second.id
    rows = _clause_rows(ws_path, second.id)
    assert [(r[0], r[1]) for r in rows] == [(ref, parent) for ref, parent, _ in EXPECTED_TREE]
    assert all(r[10] in (None, second.id) for r in rows)
    first_ids = {r[9] for r in _clause_rows(ws_path, first.id)}
    assert first_ids.isdisjoint({r[9] for r in rows})
    assert audit.verify(store).intact


def test_add_regulation_rejects_duplicate_refs(store: Store, ws_path: Path) -> None:
    doc = _doc()
    doc.clauses[1].children[0].children.append(ClauseNode("Art. 32", "article"))
    before = dump(ws_path)
    with pytest.raises(InvalidInput, match=re.escape("'Art. 32' appears twice")):
        add_regulation(store, doc)
    assert dump(ws_path) == before


def test_add_regulation_rejects_a_duplicate_version(store: Store, ws_path: Path) -> None:
    add_regulation(store, _doc())
    before = dump(ws_path)
    with pytest.raises(InvalidInput, match="already in the workspace"):
        add_regulation(store, _doc())
    assert dump(ws_path) == before
    # another version of the same code is fine
    add_regulation(store, _doc(version="2024"))
    assert len(list_regulations(store)) == 2


@pytest.mark.parametrize("code", ["gdpr", "EU AI ACT", "", "GDPR-"])
def test_add_regulation_rejects_a_bad_code(store: Store, ws_path: Path, code: str) -> None:
    before = dump(ws_path)
    with pytest.raises(InvalidInput, match="invalid regulation code"):
        add_regulation(store, _doc(code=code))
    assert dump(ws_path) == before
