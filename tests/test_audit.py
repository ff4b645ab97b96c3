"""The audit chain against tampering: the store writes a workspace, the test edits the file with
the stdlib's sqlite3 as an outsider would, and `verify` must say what was done and where."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.domain.chain import EventFields, canonical_json, event_hash, state_digest
from app.domain.clauses import ClauseNode, RegulationDoc
from app.services import audit
from app.services.controls import get_control, update_control
from app.services.regulations import add_regulation
from app.services.workspace import open_workspace
from app.store import Store
from tests.conftest import make_store

# History of the workspace every tamper test starts from:
#  1 workspace.create, 2–13 control.create (GOV-1 … OPS-4),
# 14 OPS-2 owner, 15 OPS-2 status, 16 SEC-2 status,
# 17 regulation.create, 18 clause.create Art. 1, 19 clause.create Art. 2
EVENTS = 19


@pytest.fixture
def history(ws_path: Path) -> Path:
    with make_store(ws_path) as s:
        update_control(s, "OPS-2", owner="Model Monitoring Lead")
        update_control(s, "OPS-2", status="partial")
        update_control(s, "SEC-2", status="planned")
        add_regulation(s, RegulationDoc("TEST-REG", "A test regulation", "1", clauses=[
            ClauseNode("Art. 1", "article", text="First."),
            ClauseNode("Art. 2", "article", text="Second."),
        ]))
    assert count(ws_path) == EVENTS
    return ws_path


@pytest.fixture
def reopen(history: Path) -> Iterator[Any]:
    """Open the (tampered) workspace again, as the next Crosswalk session would."""
    opened: list[Store] = []

    def run(**kwargs: Any) -> audit.VerifyReport:
        s = open_workspace(history)
        opened.append(s)
        return audit.verify(s, **kwargs)

    yield run
    for s in opened:
        s.close()


def sql(path: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
    """Edit the workspace file directly, outside Crosswalk."""
    con = sqlite3.connect(path)
    try:
        for st in statements:
            text, params = (st, ()) if isinstance(st, str) else st
            con.execute(text, params)
        con.commit()
    finally:
        con.close()


def query(path: Path, text: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(text, params).fetchall()
    finally:
        con.close()


def count(path: Path) -> int:
    return int(query(path, "SELECT count(*) FROM audit_event")[0][0])


def event(path: Path, seq: int) -> dict[str, Any]:
    con = sqlite3.connect(path)
    try:
        cur = con.execute("SELECT * FROM audit_event WHERE seq = ?", (seq,))
        cols = [d[0] for d in cur.description]
        return dict(zip(cols, cur.fetchone(), strict=True))
    finally:
        con.close()


def row_digest(path: Path, table: str, row_id: str | int) -> str:
    con = sqlite3.connect(path)
    try:
        cur = con.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        cols = [d[0] for d in cur.description]
        return state_digest(dict(zip(cols, cur.fetchone(), strict=True)))
    finally:
        con.close()


def clause_id(path: Path, ref: str) -> int:
    return int(query(path, "SELECT id FROM clause WHERE ref = ?", (ref,))[0][0])


def forged(prev_hash: str, seq: int, entity_id: str, digest: str | None) -> tuple[Any, ...]:
    """A well-formed event an attacker could compute: right hash for its content and link."""
    fields = EventFields(seq, "2026-11-26T10:00:00.000Z", "mallory", "control.update",
                         "control", entity_id,
                         canonical_json({"owner": {"from": "", "to": "Mallory"}}), digest)
    return (seq, fields.at, fields.actor, fields.action, fields.entity, fields.entity_id,
            fields.change, digest, prev_hash, event_hash(prev_hash, fields))


INSERT = ("INSERT INTO audit_event (seq, at, actor, action, entity, entity_id, change, "
          "state_digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

# ------------------------------------------------------------------------------ untampered


def test_untampered_workspace_is_intact(history: Path, reopen: Any) -> None:
    report = reopen()
    assert report.intact
    assert report.problems == []
    assert report.events == EVENTS
    assert report.head_seq == EVENTS
    assert report.head == event(history, EVENTS)["hash"]
    assert report.rows_checked == 1 + 12 + 1 + 2
    as_dict = report.as_dict()
    assert as_dict["intact"] is True and as_dict["problems"] == []
    assert as_dict["head"] == report.head


def test_expect_head_of_an_earlier_head_passes(history: Path, reopen: Any) -> None:
    earlier = event(history, 13)["hash"]
    assert reopen(expect_head=earlier).intact
    assert reopen(expect_head=earlier.upper()).intact
    assert reopen(expect_head=event(history, EVENTS)["hash"]).intact


def test_expect_head_of_an_unknown_hash_fails(reopen: Any) -> None:
    unknown = "ab" * 32
    report = reopen(expect_head=unknown)
    assert not report.intact
    assert len(report.problems) == 1
    assert unknown in report.problems[0].message
    assert "not in the audit chain" in report.problems[0].message


# --------------------------------------------------------------------------- altered events


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "mallory"),
        ("at", "2020-01-01T00:00:00.000Z"),
        ("change", '{"owner":{"from":"","to":"Mallory"}}'),
        ("action", "control.delete"),
        ("state_digest", "0" * 64),
        ("hash", "f" * 64),
        ("entity_id", "GOV-1"),
        ("prev_hash", "e" * 64),
    ],
)
def test_altered_event_is_named_by_its_seq(
        history: Path, reopen: Any, column: str, value: str) -> None:
    assert event(history, 14)[column] != value
    sql(history, (f"UPDATE audit_event SET {column} = ? WHERE seq = 14", (value,)))
    report = reopen()
    assert not report.intact
    first = report.problems[0]
    assert first.seq == 14
    assert "seq 14" in first.message
    assert any("seq 14 was altered" in p.message for p in report.problems)


def test_altered_and_rehashed_event_is_caught_by_the_next_link(
        history: Path, reopen: Any) -> None:
    e = event(history, 16)
    fields = EventFields(16, e["at"], "mallory", e["action"], e["entity"], e["entity_id"],
                         e["change"], e["state_digest"])
    sql(history, ("UPDATE audit_event SET actor = ?, hash = ? WHERE seq = 16",
                  ("mallory", event_hash(e["prev_hash"], fields))))
    report = reopen()
    assert not report.intact
    assert report.problems[0].seq == 17
    assert "seq 17 does not link to seq 16" in report.problems[0].message


# --------------------------------------------------------------------------- deleted events


def test_deleted_middle_event_leaves_a_gap(history: Path, reopen: Any) -> None:
    sql(history, "DELETE FROM audit_event WHERE seq = 14")
    report = reopen()
    assert not report.intact
    assert len(report.problems) == 1
    assert report.problems[0].seq == 15
    assert report.problems[0].message == (
        "audit event seq 14 missing before seq 15 (deleted from the log)")
    assert report.events == EVENTS - 1


def test_deleted_only_event_of_an_edit_names_the_entity(history: Path, reopen: Any) -> None:
    sql(history, "DELETE FROM audit_event WHERE seq = 16")  # SEC-2's status change
    report = reopen()
    assert not report.intact
    first = report.problems[0]  # the log's own damage comes first: it explains the rest
    assert first.seq == 17 and "seq 16 missing before seq 17" in first.message
    assert any((p.entity, p.entity_id) == ("control", "SEC-2") for p in report.problems[1:])


def test_deleted_last_event_names_the_unrecorded_row(history: Path, reopen: Any) -> None:
    art2 = clause_id(history, "Art. 2")
    sql(history, f"DELETE FROM audit_event WHERE seq = {EVENTS}")
    report = reopen()
    assert not report.intact
    first = report.problems[0]
    assert (first.entity, first.entity_id) == ("clause", str(art2))
    assert "has no audit event" in first.message
    assert report.head_seq == EVENTS - 1


def test_log_cut_back_names_every_row_it_no_longer_covers(history: Path, reopen: Any) -> None:
    """Cut the log back to seq 14: the rows written by the events after it give it away."""
    sql(history, "DELETE FROM audit_event WHERE seq >= 15")
    report = reopen()
    assert not report.intact
    assert report.head_seq == 14
    found = {(p.seq, p.entity, p.entity_id) for p in report.problems}
    reg_id = str(query(history, "SELECT id FROM regulation")[0][0])
    assert found == {
        (14, "control", "OPS-2"),  # status edited after the last event it has
        (7, "control", "SEC-2"),
        (None, "regulation", reg_id),
        (None, "clause", str(clause_id(history, "Art. 1"))),
        (None, "clause", str(clause_id(history, "Art. 2"))),
    }
    assert report.problems[0].seq == 7  # problems come in seq order


def test_log_cut_short_with_its_rows_needs_expect_head(history: Path, reopen: Any) -> None:
    head = event(history, EVENTS)["hash"]
    art2 = clause_id(history, "Art. 2")
    sql(history, f"DELETE FROM audit_event WHERE seq = {EVENTS}",
        f"DELETE FROM clause WHERE id = {art2}")
    assert reopen().intact  # a consistent prefix: the chain alone cannot tell
    report = reopen(expect_head=head)
    assert not report.intact
    assert head in report.problems[0].message


# -------------------------------------------------------------------------- inserted events


def test_event_inserted_in_the_middle(history: Path, reopen: Any) -> None:
    prev = event(history, 14)["hash"]
    digest = row_digest(history, "control", "OPS-4")  # even a clever forgery of the state
    sql(history,
        "UPDATE audit_event SET seq = -seq WHERE seq >= 15",
        "UPDATE audit_event SET seq = 1 - seq WHERE seq < 0",
        (INSERT, forged(prev, 15, "OPS-4", digest)))
    report = reopen()
    assert not report.intact
    assert report.events == EVENTS + 1
    assert report.problems[0].seq == 16
    assert "seq 16 was altered" in report.problems[0].message
    assert all(p.seq != 15 for p in report.problems)


def test_event_appended_with_a_bogus_hash(history: Path, reopen: Any) -> None:
    row = list(forged(event(history, EVENTS)["hash"], EVENTS + 1, "OPS-4", None))
    row[-1] = "0" * 64
    sql(history, (INSERT, tuple(row)))
    report = reopen()
    assert not report.intact
    assert report.problems[0].seq == EVENTS + 1
    assert "was altered" in report.problems[0].message


def test_well_formed_forged_event_is_caught_by_the_state_check(
        history: Path, reopen: Any) -> None:
    head = event(history, EVENTS)["hash"]
    sql(history, (INSERT, forged(head, EVENTS + 1, "OPS-4", "0" * 64)))
    report = reopen()
    assert not report.intact
    first = report.problems[0]
    assert (first.seq, first.entity, first.entity_id) == (EVENTS + 1, "control", "OPS-4")


def test_event_not_linked_to_the_head(history: Path, reopen: Any) -> None:
    digest = row_digest(history, "control", "OPS-4")
    sql(history, (INSERT, forged(event(history, 13)["hash"], EVENTS + 1, "OPS-4", digest)))
    report = reopen()
    assert not report.intact
    assert report.problems[0].seq == EVENTS + 1
    assert f"does not link to seq {EVENTS}" in report.problems[0].message


# ------------------------------------------------------------------------- reordered events


def test_reordered_events_are_found_at_the_first_moved_seq(history: Path, reopen: Any) -> None:
    cols = "at, actor, action, entity, entity_id, change, state_digest, prev_hash, hash"
    a = query(history, f"SELECT {cols} FROM audit_event WHERE seq = 15")[0]
    b = query(history, f"SELECT {cols} FROM audit_event WHERE seq = 16")[0]
    assign = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    sql(history,
        (f"UPDATE audit_event SET {assign} WHERE seq = 15", b),
        (f"UPDATE audit_event SET {assign} WHERE seq = 16", a))
    report = reopen()
    assert not report.intact
    assert report.problems[0].seq == 15
    assert "seq 15 was altered" in report.problems[0].message
    assert {p.seq for p in report.problems} >= {15, 16}


# -------------------------------------------------------------------- rows edited outside


def test_control_row_edited_outside(history: Path, reopen: Any) -> None:
    sql(history, "UPDATE control SET owner = 'Mallory' WHERE id = 'GOV-1'")
    report = reopen()
    assert not report.intact
    assert len(report.problems) == 1
    p = report.problems[0]
    assert (p.seq, p.entity, p.entity_id) == (2, "control", "GOV-1")
    assert "edited outside Crosswalk" in p.message


def test_edited_row_names_its_last_event(history: Path, reopen: Any) -> None:
    sql(history, "UPDATE control SET narrative = 'x' WHERE id = 'OPS-2'")
    p = reopen().problems[0]
    assert (p.seq, p.entity, p.entity_id) == (15, "control", "OPS-2")


def test_workspace_row_edited_outside(history: Path, reopen: Any) -> None:
    sql(history, "UPDATE workspace SET name = 'renamed'")
    p = reopen().problems[0]
    assert (p.seq, p.entity) == (1, "workspace")


def test_clause_inserted_outside(history: Path, reopen: Any) -> None:
    reg_id = query(history, "SELECT id FROM regulation")[0][0]
    sql(history, ("INSERT INTO clause (id, regulation_id, parent_id, ref, position, kind, title,"
                  " text, summary, assessable, text_hash) VALUES (100, ?, NULL, 'Art. 99', 3, "
                  "'article', '', '', '', 1, '')", (reg_id,)))
    report = reopen()
    assert not report.intact
    assert len(report.problems) == 1
    p = report.problems[0]
    assert (p.seq, p.entity, p.entity_id) == (None, "clause", "100")
    assert "has no audit event (written outside Crosswalk)" in p.message


def test_regulation_inserted_outside(history: Path, reopen: Any) -> None:
    sql(history, "INSERT INTO regulation (id, code, version_label, title, jurisdiction, "
                 "source_name, source_sha256, source_format, imported_at) VALUES "
                 "(50, 'FAKE', '1', 'Fake', '', '', '', '', '2026-01-01T00:00:00.000Z')")
    p = reopen().problems[0]
    assert (p.entity, p.entity_id) == ("regulation", "50")


def test_control_deleted_outside(history: Path, reopen: Any) -> None:
    sql(history, "DELETE FROM control WHERE id = 'OPS-4'")
    report = reopen()
    assert not report.intact
    assert len(report.problems) == 1
    p = report.problems[0]
    assert (p.seq, p.entity, p.entity_id) == (13, "control", "OPS-4")
    assert "deleted outside Crosswalk" in p.message


def test_clause_deleted_outside(history: Path, reopen: Any) -> None:
    art2 = clause_id(history, "Art. 2")
    sql(history, f"DELETE FROM clause WHERE id = {art2}")
    p = reopen().problems[0]
    assert (p.seq, p.entity, p.entity_id) == (19, "clause", str(art2))


# -------------------------------------------------------------------------------- progress


def test_progress_is_reported_at_the_end(history: Path, reopen: Any) -> None:
    calls: list[tuple[int, int]] = []
    report = reopen(on_progress=lambda done, total: calls.append((done, total)))
    assert report.intact
    assert calls == [(EVENTS, EVENTS)]


class Cancelled(Exception):
    pass


def test_raising_from_progress_aborts_verify(reopen: Any) -> None:
    def cancel(done: int, total: int) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        reopen(on_progress=cancel)


def test_progress_on_a_long_chain_and_cancel_midway(store: Store) -> None:
    add_regulation(store, RegulationDoc("BIG", "Big", "1", clauses=[
        ClauseNode(f"Art. {i}", "article") for i in range(1, 5101)]))
    total = 13 + 1 + 5100
    calls: list[tuple[int, int]] = []
    assert audit.verify(store, on_progress=lambda d, t: calls.append((d, t))).intact
    assert calls == [(5000, total), (total, total)]

    seen: list[tuple[int, int]] = []

    def cancel(done: int, total: int) -> None:
        seen.append((done, total))
        raise Cancelled

    with pytest.raises(Cancelled):
        audit.verify(store, on_progress=cancel)
    assert seen == [(5000, total)]


# ---------------------------------------------------------------------- control edit events


def test_control_edit_appends_one_event_with_from_and_to(store: Store, ws_path: Path) -> None:
    row, change = update_control(store, "ops2", owner="Dana Ø")
    assert change == {"owner": {"from": "", "to": "Dana Ø"}}
    assert count(ws_path) == 14
    e = event(ws_path, 14)
    assert (e["action"], e["entity"], e["entity_id"], e["actor"]) == (
        "control.update", "control", "OPS-2", "tester")
    assert json.loads(e["change"]) == change
    assert e["change"] == canonical_json(change)
    assert e["state_digest"] == row_digest(ws_path, "control", "OPS-2")
    assert e["at"] == row.updated_at == get_control(store, "OPS-2").updated_at
    assert audit.verify(store).intact


def test_control_edit_records_only_the_fields_that_changed(store: Store, ws_path: Path) -> None:
    update_control(store, "OPS-2", owner="Dana")
    _, change = update_control(store, "OPS-2", owner="Dana", status="Implemented",
                               narrative="PSI daily.")
    assert change == {"status": {"from": "not-started", "to": "implemented"},
                      "narrative": {"from": "", "to": "PSI daily."}}
    assert count(ws_path) == 15
    assert json.loads(event(ws_path, 15)["change"]) == change
    c = get_control(store, "OPS-2")
    assert (c.owner, c.status, c.narrative) == ("Dana", "implemented", "PSI daily.")


def test_no_op_edit_appends_no_event(store: Store, ws_path: Path) -> None:
    update_control(store, "OPS-2", owner="Dana", status="partial")
    before = get_control(store, "OPS-2")
    head = event(ws_path, 14)["hash"]
    for kwargs in ({"owner": "Dana"}, {"owner": "  Dana "}, {"status": "Partial"},
                   {"owner": "Dana", "status": "partial"}):
        row, change = update_control(store, "OPS-2", **kwargs)
        assert change == {}
        assert row.updated_at == before.updated_at
    assert count(ws_path) == 14
    assert event(ws_path, 14)["hash"] == head
    assert get_control(store, "OPS-2") == before
    report = audit.verify(store)
    assert report.intact and report.events == 14
