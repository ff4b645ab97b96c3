"""Evidence services on real workspaces and real files: attaching with provenance, versions,
deduplication, links, control tests, statuses and roll-ups, atomicity when the write fails,
garbage collection, `verify` re-hashing the files, export, and migration from schema v4."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import app.store.store as store_module
from app.domain import evidence as ev
from app.domain.clock import SteppingClock
from app.errors import CrosswalkError, ImportFailed, InvalidInput, NotFound, WorkspaceLocked
from app.services import audit
from app.services.control_tests import add_test, latest_tests, list_tests
from app.services.controls import update_control
from app.services.evidence import (
    Source,
    add_evidence,
    add_version,
    blob_file,
    blobs_of,
    collect_garbage,
    expiring_days,
    export_evidence,
    find_version,
    get_evidence,
    link_evidence,
    set_expiring_days,
    today,
    unlink_evidence,
    update_evidence,
)
from app.services.evidence_status import control_rollup, list_evidence, summary
from app.services.workspace import open_workspace
from app.store import Store, schema
from tests.conftest import DATA, make_store
from tests.helpers import event_count, query

CLAUSE = "GDPR Art. 32(1)(b)"
TODAY = "2026-11-26"  # FIXED_START's day


@pytest.fixture
def ws(lib_ws: Path) -> Iterator[Store]:
    """A workspace with the bundled library (so clauses exist), on a fixed clock."""
    s = make_store(lib_ws, library=True)
    yield s
    s.close()


def write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def actions_since(store: Store, seq: int) -> list[str]:
    return [e.action for e in reversed(audit.events(store, limit=1000)) if e.seq > seq]


def blob_files(store: Store) -> list[Path]:
    folder = blobs_of(store).root / "sha256"
    return sorted(p for p in folder.glob("??/??/*") if p.is_file()) if folder.is_dir() else []


def temporaries(store: Store) -> list[Path]:
    folder = blobs_of(store).root / "sha256"
    return sorted(folder.glob(".tmp-*")) if folder.is_dir() else []


def alter(path: Path, data: bytes) -> None:
    """What a user (or an attacker) with a shell does to a read-only blob."""
    path.chmod(0o644)
    path.write_bytes(data)


def rows(store: Store, table: str) -> int:
    """Rows in `table` as another process sees them (read-only, WAL included)."""
    con = sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def events(store: Store) -> int:
    return audit.event_count(store)


# ------------------------------------------------------------------ attaching


def test_add_evidence_writes_record_version_links_and_one_event_each(
        ws: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "access-review-Q3.csv", "user,role\nana,admin\n")
    seq = audit.head_seq(ws)
    before = events(ws)
    att = add_evidence(ws, Source(path=src), title="  Access review Q3 ", kind="Report",
                       classification="Confidential", source_system="IAM",
                       controls=["sec-1", "GOV-4", "SEC-1"], clauses=[CLAUSE],
                       collected_at="2026-11-20T10:00+01:00", period_from="2026-07-01",
                       period_to="2026-09-30", valid_until="2027-03-31", note="export")
    assert att.duplicate_of == ()
    e, v = att.evidence, att.version
    assert (e.id, e.title, e.kind, e.classification, e.source_system, e.versions) == (
        1, "Access review Q3", "report", "confidential", "IAM", 1)
    assert (v.version, v.size, v.original_name, v.media_type) == (
        1, src.stat().st_size, "access-review-Q3.csv", "text/csv")
    assert v.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert (v.collected_at, v.collected_by, v.period_from, v.period_to, v.valid_until,
            v.note) == ("2026-11-20T09:00:00.000Z", "tester", "2026-07-01", "2026-09-30",
                        "2027-03-31", "export")
    # 1 record + 1 version + 3 links (SEC-1 given twice is linked once)
    assert events(ws) - before == 5
    assert actions_since(ws, seq) == ["evidence.create", "evidence_version.create",
                                      "evidence_link.create", "evidence_link.create",
                                      "evidence_link.create"]
    stamps = {ev_.at for ev_ in audit.events(ws, limit=5)}
    assert len(stamps) == 1  # one transaction, one moment
    detail = get_evidence(ws, "ev1")
    assert [(ln.kind, ln.target) for ln in detail.links] == [
        ("control", "GOV-4"), ("control", "SEC-1"), ("clause", CLAUSE)]
    assert detail.status == ev.CURRENT and detail.label == "EV-1"
    assert blob_file(ws, v).read_bytes() == src.read_bytes()
    report = audit.verify(ws)
    assert report.intact, report.problems
    assert (report.files_checked, report.file_problems) == (1, 0)


def test_defaults_collected_today_by_the_actor(ws: Store, tmp_path: Path) -> None:
    att = add_evidence(ws, Source(path=write(tmp_path / "n.txt", "x")), title="N")
    assert (att.version.collected_at, att.version.collected_by) == (TODAY, "tester")
    assert att.version.valid_until is None and att.version.note == ""
    assert today(ws).isoformat() == TODAY


def test_a_link_is_stored_as_a_uri_list(ws: Store) -> None:
    att = add_evidence(ws, Source(url="https://wiki.example/runbook"), title="Runbook")
    assert att.evidence.kind == "link"
    assert (att.version.media_type, att.version.original_name) == ("text/uri-list", "link.url")
    assert blob_file(ws, att.version).read_text() == "https://wiki.example/runbook\n"
    with pytest.raises(InvalidInput, match="is not a URL"):
        add_evidence(ws, Source(url="wiki/runbook"), title="Bad")


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"controls": ["SEC-9"]}, NotFound, "SEC-9"),
    ({"clauses": ["GDPR Art. 999"]}, NotFound, "Art. 999"),
    ({"title": "   "}, InvalidInput, "title"),
    ({"kind": "pdf"}, InvalidInput, "invalid kind 'pdf'"),
    ({"collected_at": "2026-11-27"}, InvalidInput, r"in the future \(today is 2026-11-26\)"),
    ({"valid_until": "2026-01-01", "collected_at": "2026-02-01"}, InvalidInput,
     "before the evidence was collected"),
    ({"period_from": "2026-09-30", "period_to": "2026-07-01"}, InvalidInput, "runs backwards"),
    ({"valid_until": "31/12/2026"}, InvalidInput, "write it as YYYY-MM-DD"),
])
def test_bad_input_is_refused_before_anything_is_stored(
        ws: Store, tmp_path: Path, kwargs: dict[str, object], error: type[Exception],
        fragment: str) -> None:
    src = write(tmp_path / "a.txt", "never stored")
    before = events(ws)
    args: dict[str, object] = {"title": "T", **kwargs}
    with pytest.raises(error, match=fragment):
        add_evidence(ws, Source(path=src), **args)  # type: ignore[arg-type]
    assert events(ws) == before
    assert blob_files(ws) == [] and temporaries(ws) == []
    assert rows(ws, "evidence") == 0


def test_a_missing_file_is_refused_in_one_sentence(ws: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="does not exist"):
        add_evidence(ws, Source(path=tmp_path / "gone.pdf"), title="Gone")
    assert rows(ws, "evidence") == 0 and blob_files(ws) == []


def test_a_name_with_undecodable_bytes_is_stored_escaped(ws: Store, tmp_path: Path) -> None:
    src = Path(os.fsdecode(bytes(tmp_path) + b"/r\xe9sum\xe9.txt"))
    write(src, "cv")
    att = add_evidence(ws, Source(path=src), title="CV")
    assert att.version.original_name == "r\\xe9sum\\xe9.txt"
    assert audit.verify(ws).intact


# ------------------------------------------------------------------ versions


def test_add_version_appends_and_keeps_old_versions_exportable(
        ws: Store, tmp_path: Path) -> None:
    first = write(tmp_path / "policy-v1.pdf", b"%PDF-1.7 first draft")
    second = write(tmp_path / "policy-v2.pdf", b"%PDF-1.7 second draft, signed")
    add_evidence(ws, Source(path=first), title="Access policy", controls=["SEC-1"],
                 collected_at="2026-01-05", valid_until="2026-06-30")
    seq = audit.head_seq(ws)
    att = add_version(ws, "EV-1", Source(path=second), valid_until="2027-06-30",
                      note="re-signed")
    assert (att.evidence.versions, att.version.version) == (2, 2)
    assert att.version.media_type == "application/pdf"
    assert actions_since(ws, seq) == ["evidence.update", "evidence_version.create"]
    detail = get_evidence(ws, 1)
    assert [v.version for v in detail.versions] == [1, 2]
    assert detail.latest.original_name == "policy-v2.pdf"
    assert detail.status == ev.CURRENT  # by the latest version's date, not the first's
    assert find_version(detail, 1).valid_until == "2026-06-30"
    with pytest.raises(NotFound, match="EV-1 has no version 3 "):
        find_version(detail, 3)
    out = tmp_path / "out"
    out.mkdir()
    path1, n1 = export_evidence(ws, "EV-1", out / "one.pdf", version=1)
    path2, n2 = export_evidence(ws, "EV-1", out / "latest.pdf")
    assert (n1, n2) == (1, 2)
    assert path1.read_bytes() == first.read_bytes()
    assert path2.read_bytes() == second.read_bytes()
    assert len(blob_files(ws)) == 2
    report = audit.verify(ws)
    assert report.intact and report.files_checked == 2


def test_add_version_to_unknown_evidence_copies_nothing(ws: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "x.txt", "x")
    for ref, fragment in (("EV-7", "no evidence EV-7"), ("CT-1", "is not an evidence id")):
        with pytest.raises(NotFound, match=fragment):
            add_version(ws, ref, Source(path=src))
    assert blob_files(ws) == []


def test_the_same_content_is_stored_once_and_named_as_a_duplicate(
        ws: Store, tmp_path: Path) -> None:
    a = write(tmp_path / "a.log", "same bytes\n")
    b = write(tmp_path / "b.log", "same bytes\n")
    one = add_evidence(ws, Source(path=a), title="First")
    two = add_evidence(ws, Source(path=b), title="Second")
    assert one.duplicate_of == ()
    assert two.duplicate_of == ("EV-1",)
    assert one.version.sha256 == two.version.sha256
    assert len(blob_files(ws)) == 1
    # a third copy names both; a new version of EV-1 with the same bytes names only EV-2, 3
    three = add_evidence(ws, Source(path=a), title="Third")
    assert three.duplicate_of == ("EV-1", "EV-2")
    again = add_version(ws, "EV-1", Source(path=b))
    assert again.duplicate_of == ("EV-2", "EV-3")
    assert len(blob_files(ws)) == 1
    assert audit.verify(ws).files_checked == 1


# ------------------------------------------------------------------ links and updates


def test_link_and_unlink(ws: Store, tmp_path: Path) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A",
                 controls=["SEC-1"])
    seq = audit.head_seq(ws)
    assert link_evidence(ws, "EV-1", controls=["ops-3"], clauses=[CLAUSE]) == ["OPS-3", CLAUSE]
    assert actions_since(ws, seq) == ["evidence_link.create", "evidence_link.create"]
    # already linked: refused, and the other link in the same call is not made either
    before = events(ws)
    with pytest.raises(InvalidInput, match="EV-1 is already linked to SEC-1"):
        link_evidence(ws, "EV-1", controls=["GOV-1", "SEC-1"])
    with pytest.raises(InvalidInput, match=r"already linked to GDPR Art\. 32\(1\)\(b\)"):
        link_evidence(ws, "EV-1", clauses=[CLAUSE])
    with pytest.raises(InvalidInput, match="name a control or a clause"):
        link_evidence(ws, "EV-1")
    with pytest.raises(NotFound, match="no evidence EV-2"):
        link_evidence(ws, "EV-2", controls=["GOV-1"])
    assert events(ws) == before
    assert [ln.target for ln in get_evidence(ws, 1).links] == ["SEC-1", "OPS-3", CLAUSE]

    seq = audit.head_seq(ws)
    assert unlink_evidence(ws, "EV-1", control="sec-1") == "SEC-1"
    assert unlink_evidence(ws, "EV-1", clause=CLAUSE) == CLAUSE
    assert actions_since(ws, seq) == ["evidence_link.delete", "evidence_link.delete"]
    last = audit.events(ws, limit=1)[0]
    assert json.loads(last.change) == {"evidence_id": 1, "target": CLAUSE}
    assert last.state_digest is None  # a deletion
    before = events(ws)
    with pytest.raises(NotFound, match="EV-1 is not linked to SEC-1"):
        unlink_evidence(ws, "EV-1", control="SEC-1")
    with pytest.raises(InvalidInput, match="name one control or one clause"):
        unlink_evidence(ws, "EV-1")
    with pytest.raises(InvalidInput, match="name one control or one clause"):
        unlink_evidence(ws, "EV-1", control="OPS-3", clause=CLAUSE)
    assert events(ws) == before
    assert [ln.target for ln in get_evidence(ws, 1).links] == ["OPS-3"]
    assert audit.verify(ws).intact


def test_update_evidence_returns_the_change_and_a_no_op_writes_nothing(
        ws: Store, tmp_path: Path) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="Old title")
    before = events(ws)
    row, change = update_evidence(ws, "EV-1", title="New title", kind="Log",
                                  classification="internal")
    assert change == {"title": {"from": "Old title", "to": "New title"},
                      "kind": {"from": "document", "to": "log"}}
    assert (row.title, row.kind) == ("New title", "log")
    assert events(ws) == before + 1
    event = audit.events(ws, limit=1)[0]
    assert (event.action, event.entity_id, json.loads(event.change)) == (
        "evidence.update", "1", change)
    row, change = update_evidence(ws, "EV-1", title="New title")
    assert change == {} and events(ws) == before + 1
    with pytest.raises(InvalidInput, match="nothing to change"):
        update_evidence(ws, "EV-1")
    with pytest.raises(InvalidInput, match="invalid classification 'secret'"):
        update_evidence(ws, "EV-1", classification="secret")
    with pytest.raises(NotFound, match="no evidence EV-9"):
        update_evidence(ws, "EV-9", title="x")
    assert events(ws) == before + 1
    assert get_evidence(ws, 1).evidence.title == "New title"
    assert audit.verify(ws).intact


# ------------------------------------------------------------------ control tests


def test_control_tests_name_the_evidence_versions_they_used(ws: Store, tmp_path: Path) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "a1.txt", "a1")), title="A",
                 collected_at="2026-01-01")
    add_evidence(ws, Source(path=write(tmp_path / "b.txt", "b")), title="B",
                 collected_at="2026-01-01")
    add_version(ws, "EV-1", Source(path=write(tmp_path / "a2.txt", "a2")))
    before = events(ws)
    t1 = add_test(ws, "sec-1", procedure="Inspection", result="effective",
                  tested_on="2026-10-01", sample_size="25", population="all admins",
                  evidence=["EV-1@1", "EV-1", "ev-1@2"])
    assert t1.evidence == ["EV-1@1", "EV-1@2"]  # latest resolved, duplicates dropped
    assert (t1.label, t1.test.control_id, t1.test.procedure, t1.test.sample_size,
            t1.test.tester) == ("CT-1", "SEC-1", "inspection", 25, "tester")
    assert events(ws) == before + 1
    assert json.loads(audit.events(ws, limit=1)[0].change)["evidence"] == ["EV-1@1", "EV-1@2"]
    t2 = add_test(ws, "SEC-1", procedure="re-performance", result="not-effective",
                  exceptions="2 leavers still active", tested_on="2026-11-20",
                  evidence=["EV-2"])
    t3 = add_test(ws, "OPS-3", procedure="inquiry", result="not tested",
                  tested_on="2026-09-01")
    t4 = add_test(ws, "SEC-1", procedure="observation", result="effective",
                  tested_on="2026-10-01")  # same day as CT-1, recorded later
    assert [v.label for v in list_tests(ws)] == ["CT-2", "CT-4", "CT-1", "CT-3"]
    assert [v.label for v in list_tests(ws, "sec-1")] == ["CT-2", "CT-4", "CT-1"]
    assert list_tests(ws, "SEC-1")[2].evidence == ["EV-1@1", "EV-1@2"]
    latest = latest_tests(ws)
    assert {c: v.label for c, v in latest.items()} == {"SEC-1": "CT-2", "OPS-3": "CT-3"}
    assert t3.test.result == "not-tested" and t4.evidence == []
    assert [t.id for t in get_evidence(ws, "EV-1").tests] == [t1.test.id]
    assert [t.id for t in get_evidence(ws, "EV-2").tests] == [t2.test.id]
    assert get_evidence(ws, "EV-1").as_dict()["tests"] == ["CT-1"]
    assert audit.verify(ws).intact


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"evidence": ["EV-1@3"]}, NotFound, "no version 3 of evidence EV-1"),
    ({"evidence": ["EV-8"]}, NotFound, "no evidence EV-8"),
    ({"evidence": ["EV-1@0"]}, InvalidInput, "must be a number"),
    ({"result": "not-effective"}, InvalidInput, "needs the exceptions described"),
    ({"tested_on": "2026-11-27"}, InvalidInput, "in the future"),
    ({"sample_size": "ten"}, InvalidInput, "'ten' is not a whole number"),
    ({"sample_size": "²"}, InvalidInput, "is not a whole number"),
    ({"procedure": "guess"}, InvalidInput, "invalid procedure 'guess'"),
])
def test_a_bad_control_test_is_refused_and_writes_nothing(
        ws: Store, tmp_path: Path, kwargs: dict[str, object], error: type[Exception],
        fragment: str) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A")
    before = events(ws)
    args: dict[str, object] = {"procedure": "inspection", "result": "effective", **kwargs}
    with pytest.raises(error, match=fragment):
        add_test(ws, "SEC-1", **args)  # type: ignore[arg-type]
    assert events(ws) == before and list_tests(ws) == []


# ------------------------------------------------------------------ statuses and roll-ups


def three_by_status(ws: Store, tmp_path: Path) -> None:
    """EV-1 expired (SEC-1), EV-2 expiring in 14 days (SEC-1, OPS-2), EV-3 current (OPS-2)."""
    add_evidence(ws, Source(path=write(tmp_path / "old.txt", "old")), title="Old",
                 controls=["SEC-1"], collected_at="2026-01-01", valid_until="2026-06-30")
    add_evidence(ws, Source(path=write(tmp_path / "soon.txt", "soon")), title="Soon",
                 controls=["SEC-1", "OPS-2"], clauses=[CLAUSE], valid_until="2026-12-10")
    add_evidence(ws, Source(path=write(tmp_path / "fresh.txt", "fresh")), title="Fresh",
                 controls=["OPS-2"])


def test_list_evidence_newest_first_with_filters(ws: Store, tmp_path: Path) -> None:
    three_by_status(ws, tmp_path)
    listed = list_evidence(ws)
    assert [(r.label, r.status) for r in listed] == [
        ("EV-3", "current"), ("EV-2", "expiring"), ("EV-1", "expired")]
    assert listed[1].controls == ("SEC-1", "OPS-2") and listed[1].clauses == 1
    assert listed[1].as_dict()["controls"] == ["SEC-1", "OPS-2"]
    assert [r.label for r in list_evidence(ws, status="Expiring")] == ["EV-2"]
    assert [r.label for r in list_evidence(ws, status="expired")] == ["EV-1"]
    assert [r.label for r in list_evidence(ws, control="sec-1")] == ["EV-2", "EV-1"]
    assert [r.label for r in list_evidence(ws, control="OPS-2", status="current")] == ["EV-3"]
    assert list_evidence(ws, control="GOV-1") == []
    with pytest.raises(InvalidInput, match="invalid status 'stale'"):
        list_evidence(ws, status="stale")
    with pytest.raises(NotFound):
        list_evidence(ws, control="SEC-9")
    # another day: the same rows, other statuses
    later = datetime(2026, 12, 11, tzinfo=UTC).date()
    assert [r.status for r in list_evidence(ws, today=later)] == [
        "current", "expired", "expired"]


def test_list_shows_the_latest_version(ws: Store, tmp_path: Path) -> None:
    three_by_status(ws, tmp_path)
    add_version(ws, "EV-1", Source(path=write(tmp_path / "renewed.txt", "renewed!")),
                valid_until="2027-12-31")
    row = next(r for r in list_evidence(ws) if r.id == 1)
    assert (row.version, row.original_name, row.size, row.status) == (
        2, "renewed.txt", 8, "current")


def test_the_expiring_window_changes_statuses(ws: Store, tmp_path: Path) -> None:
    three_by_status(ws, tmp_path)
    assert expiring_days(ws) == 30
    before = events(ws)
    assert set_expiring_days(ws, 7) == {"expiring_days": {"from": 30, "to": 7}}
    assert events(ws) == before + 1
    assert audit.events(ws, limit=1)[0].action == "workspace.update"
    assert [r.status for r in list_evidence(ws)] == ["current", "current", "expired"]
    assert get_evidence(ws, "EV-2").status == "current"
    assert set_expiring_days(ws, "14") == {"expiring_days": {"from": 7, "to": 14}}
    assert [r.status for r in list_evidence(ws)] == ["current", "expiring", "expired"]
    assert set_expiring_days(ws, 14) == {} and events(ws) == before + 2
    with pytest.raises(InvalidInput, match="must be 0 to 3650 days"):
        set_expiring_days(ws, 5000)
    assert expiring_days(ws) == 14
    assert audit.verify(ws).intact


def test_control_rollup_and_summary(ws: Store, tmp_path: Path) -> None:
    three_by_status(ws, tmp_path)
    update_control(ws, "GOV-4", status="implemented")
    update_control(ws, "OPS-2", status="implemented")
    rollup = control_rollup(ws)
    assert list(rollup)[:4] == ["GOV-1", "GOV-2", "GOV-3", "GOV-4"]
    assert rollup["SEC-1"].status == "expired"
    assert rollup["SEC-1"].counts == {"current": 0, "expiring": 1, "expired": 1}
    assert rollup["OPS-2"].status == "expiring" and rollup["OPS-2"].total == 2
    assert rollup["GOV-4"].status == "missing" and rollup["GOV-4"].total == 0
    assert rollup["GOV-1"].status == "none"
    facts = summary(ws)
    assert facts["evidence"] == 3
    assert facts["by_status"] == {"current": 1, "expiring": 1, "expired": 1}
    assert facts["tests"] == 0 and facts["expiring_days"] == 30
    assert facts["missing"] == ["GOV-4"]
    assert facts["expired"] == ["SEC-1"]
    assert facts["controls"]["OPS-2"] == "expiring"
    add_test(ws, "GOV-4", procedure="inquiry", result="effective")
    unlink_evidence(ws, "EV-1", control="SEC-1")
    facts = summary(ws)
    assert facts["tests"] == 1 and facts["expired"] == [] and facts["controls"]["SEC-1"] == \
        "expiring"


# ------------------------------------------------------------------ atomicity


@pytest.fixture
def locked(ws: Store) -> Iterator[sqlite3.Connection]:
    """Another process holding the workspace's write lock."""
    con = sqlite3.connect(ws.path, timeout=0.1, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    yield con
    con.execute("ROLLBACK")
    con.close()


def test_a_failed_write_removes_the_blob_it_stored(
        ws: Store, tmp_path: Path, locked: sqlite3.Connection) -> None:
    impatient = make_store(ws.path, busy_timeout=0.1, library=True)
    try:
        before = events(impatient)
        src = write(tmp_path / "new.txt", "content never recorded")
        with pytest.raises(WorkspaceLocked, match="locked by another process"):
            add_evidence(impatient, Source(path=src), title="Locked out", controls=["SEC-1"])
        assert blob_files(impatient) == [] and temporaries(impatient) == []
        locked.execute("ROLLBACK")
        locked.execute("BEGIN")  # the fixture's ROLLBACK still has something to end
        assert events(impatient) == before
        assert rows(impatient, "evidence") == rows(impatient, "evidence_version") == 0
    finally:
        impatient.close()


def test_a_failed_version_keeps_the_blob_an_older_version_uses(
        ws: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "same.txt", "shared bytes")
    add_evidence(ws, Source(path=src), title="A")
    [blob] = blob_files(ws)
    con = sqlite3.connect(ws.path, timeout=0.1, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    impatient = make_store(ws.path, busy_timeout=0.1, library=True)
    try:
        with pytest.raises(WorkspaceLocked):
            add_version(impatient, "EV-1", Source(path=src))
        with pytest.raises(WorkspaceLocked):
            add_evidence(impatient, Source(path=src), title="B")
    finally:
        con.execute("ROLLBACK")
        con.close()
        impatient.close()
    assert blob_files(ws) == [blob] and blob.read_bytes() == b"shared bytes"
    report = audit.verify(ws)
    assert report.intact and report.files_checked == 1
    assert get_evidence(ws, 1).evidence.versions == 1


def set_age(path: Path, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(path, (moment, moment))


def test_collect_garbage_removes_only_old_unreferenced_files(ws: Store, tmp_path: Path) -> None:
    used = add_evidence(ws, Source(path=write(tmp_path / "used.txt", "used")), title="U")
    blobs = blobs_of(ws)
    old_orphan = blobs.put_file(write(tmp_path / "old.txt", "orphan, old")).sha256
    young_orphan = blobs.put_file(write(tmp_path / "young.txt", "orphan, young")).sha256
    folder = blobs.root / "sha256"
    stale_tmp = write(folder / ".tmp-stale", "half a copy")
    fresh_tmp = write(folder / ".tmp-fresh", "a copy in progress")
    for p in (blobs.path(old_orphan), blobs.path(used.version.sha256), stale_tmp):
        set_age(p, 7200)
    assert collect_garbage(ws, min_age=3600) == [old_orphan]
    assert not blobs.path(old_orphan).exists() and not stale_tmp.exists()
    assert blobs.path(used.version.sha256).is_file()  # old but referenced
    assert blobs.path(young_orphan).is_file() and fresh_tmp.is_file()
    assert collect_garbage(ws, min_age=3600) == []
    assert collect_garbage(ws, min_age=0) == [young_orphan]
    assert not fresh_tmp.exists()
    assert blob_files(ws) == [blobs.path(used.version.sha256)]
    assert audit.verify(ws).intact


def test_attaching_sweeps_old_orphans(ws: Store, tmp_path: Path) -> None:
    blobs = blobs_of(ws)
    orphan = blobs.put_file(write(tmp_path / "orphan.txt", "left by a crash")).sha256
    set_age(blobs.path(orphan), 2 * 3600)
    att = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A")
    assert blob_files(ws) == [blobs.path(att.version.sha256)]


def test_attaching_sweeps_at_most_hourly(ws: Store, tmp_path: Path) -> None:
    """Listing every blob costs time in a big store: the sweep after an attach is skipped
    when the last one was less than an hour ago (the `.swept` marker's age)."""
    blobs = blobs_of(ws)
    first = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A")
    marker = blobs.root / ".swept"
    assert marker.is_file()
    orphan = blobs.put_file(write(tmp_path / "orphan.txt", "left by a crash")).sha256
    set_age(blobs.path(orphan), 2 * 3600)
    second = add_evidence(ws, Source(path=write(tmp_path / "b.txt", "b")), title="B")
    assert blobs.path(orphan).is_file()  # swept less than an hour ago: not yet
    set_age(marker, 2 * 3600)
    add_evidence(ws, Source(path=write(tmp_path / "c.txt", "c")), title="C")
    assert not blobs.path(orphan).exists()
    assert {blobs.path(first.version.sha256), blobs.path(second.version.sha256)} <= set(
        blob_files(ws))


# ------------------------------------------------------------------ verify


def test_verify_names_an_altered_file(ws: Store, tmp_path: Path) -> None:
    att = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "original")), title="A")
    add_evidence(ws, Source(path=write(tmp_path / "b.txt", "other")), title="B")
    where = blob_file(ws, att.version)
    assert stat.S_IMODE(where.stat().st_mode) == 0o444
    alter(where, b"tampered")
    report = audit.verify(ws)
    assert not report.intact
    assert (report.files_checked, report.file_problems) == (2, 1)
    [problem] = [str(p.as_dict()) for p in report.problems]
    assert "EV-1 version 1" in problem and "altered" in problem
    assert hashlib.sha256(b"tampered").hexdigest() in problem
    # put back byte for byte: intact again
    where.write_bytes(b"original")
    report = audit.verify(ws)
    assert report.intact, report.problems
    assert report.files_checked == 2


def test_verify_names_every_version_sharing_an_altered_file(ws: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "a.txt", "shared")
    att = add_evidence(ws, Source(path=src), title="A")
    add_version(ws, "EV-1", Source(path=write(tmp_path / "a2.txt", "new")))
    add_evidence(ws, Source(path=src), title="Copy")
    alter(blob_file(ws, att.version), b"changed")
    report = audit.verify(ws)
    texts = [str(p.as_dict()) for p in report.problems]
    assert report.file_problems == 2 and report.files_checked == 2
    assert any("EV-1 version 1" in t for t in texts)
    assert any("EV-2 version 1" in t for t in texts)
    assert not any("EV-1 version 2" in t for t in texts)


def test_verify_names_a_missing_file(ws: Store, tmp_path: Path) -> None:
    att = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A")
    blob_file(ws, att.version).unlink()
    report = audit.verify(ws)
    [problem] = [str(p.as_dict()) for p in report.problems]
    assert "EV-1 version 1" in problem and "missing" in problem
    assert report.file_problems == 1


# ------------------------------------------------------------------ export


def test_export_into_a_folder_uses_a_safe_version_of_the_name(ws: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "q3\x1b[2J\u202etxt.exe", "report body")
    att = add_evidence(ws, Source(path=src), title="Hostile name")
    assert att.version.original_name == "q3\x1b[2J\u202etxt.exe"  # stored as given
    out = tmp_path / "out"
    out.mkdir()
    path, number = export_evidence(ws, "EV-1", out)
    assert number == 1 and path.parent == out
    assert path.name == "q3_x1b[2J_u202etxt.exe"
    assert "/" not in path.name and path.name.isprintable() and path.name.isascii()
    assert path.read_bytes() == b"report body"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in out.iterdir()) == [path.name]


def test_export_of_a_dotted_name_does_not_make_a_hidden_file(ws: Store, tmp_path: Path) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "..env", "KEY=1")), title="Dotfile")
    out = tmp_path / "out"
    out.mkdir()
    path, _ = export_evidence(ws, 1, out)
    assert path.name == "env" and path.parent == out


def test_export_refuses_to_overwrite_unless_asked(ws: Store, tmp_path: Path) -> None:
    add_evidence(ws, Source(path=write(tmp_path / "a.txt", "evidence")), title="A")
    dest = write(tmp_path / "existing.txt", "precious")
    with pytest.raises(InvalidInput, match="already exists"):
        export_evidence(ws, "EV-1", dest)
    assert dest.read_text() == "precious"
    folder = tmp_path / "out"
    folder.mkdir()
    write(folder / "a.txt", "also precious")
    with pytest.raises(InvalidInput, match="already exists"):
        export_evidence(ws, "EV-1", folder)
    assert (folder / "a.txt").read_text() == "also precious"
    path, _ = export_evidence(ws, "EV-1", dest, overwrite=True)
    assert path == dest and dest.read_text() == "evidence"
    with pytest.raises(InvalidInput, match="does not exist"):
        export_evidence(ws, "EV-1", tmp_path / "nowhere" / "a.txt")
    with pytest.raises(NotFound, match="no evidence EV-5"):
        export_evidence(ws, "EV-5", tmp_path / "five.txt")
    with pytest.raises(NotFound, match="EV-1 has no version 2"):
        export_evidence(ws, "EV-1", tmp_path / "v2.txt", version=2)
    assert not (tmp_path / "five.txt").exists() and not (tmp_path / "v2.txt").exists()


def test_an_altered_file_is_not_exported(ws: Store, tmp_path: Path) -> None:
    att = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "the real thing")),
                       title="A")
    alter(blob_file(ws, att.version), b"the forged thing")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CrosswalkError, match="EV-1 version 1 has been altered on disk"):
        export_evidence(ws, "EV-1", out)
    assert list(out.iterdir()) == []  # no partial file, no temporary
    dest = write(out / "keep.txt", "untouched")
    with pytest.raises(CrosswalkError, match="altered"):
        export_evidence(ws, "EV-1", dest, overwrite=True)
    assert dest.read_text() == "untouched"
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_missing_file_is_not_exported(ws: Store, tmp_path: Path) -> None:
    att = add_evidence(ws, Source(path=write(tmp_path / "a.txt", "a")), title="A")
    blob_file(ws, att.version).unlink()
    out = tmp_path / "out"
    out.mkdir()
    fds = open_fds()
    for _ in range(3):
        with pytest.raises(CrosswalkError, match="EV-1 version 1 is missing"):
            export_evidence(ws, "EV-1", out)
    assert list(out.iterdir()) == []
    if fds is not None:
        assert open_fds() == fds  # the temporary file's descriptor is closed each time


def open_fds() -> int | None:
    folder = Path("/proc/self/fd")
    return len(list(folder.iterdir())) if folder.is_dir() else None


# ------------------------------------------------------------------ migration from v4


def make_v4(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema-v4 workspace as the previous release left it: the committed v2 file, upgraded
    by the migrations up to 4 only."""
    shutil.copyfile(DATA / "workspace-v2.db", target)
    real = schema.steps
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 4)
    monkeypatch.setattr(store_module, "steps", lambda current, _target=4: real(current, 4))
    with open_workspace(target, actor="v4-analyst",
                        clock=SteppingClock(datetime(2026, 10, 1, tzinfo=UTC))) as old:
        assert old.schema_version == 4
    monkeypatch.undo()
    for backup in target.parent.glob("*.bak"):
        backup.unlink()


def test_a_v4_workspace_migrates_and_takes_evidence(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v4.db"
    make_v4(path, monkeypatch)
    tables = {r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "evidence" not in tables
    assert query(path, "PRAGMA user_version") == [(4,)]
    v4_events = event_count(path)
    with open_workspace(path, actor="migrator",
                        clock=SteppingClock(datetime(2026, 11, 26, 9, tzinfo=UTC))) as s:
        assert (s.migrated_from, s.schema_version) == (4, schema.SCHEMA_VERSION)
        assert expiring_days(s) == 30
        report = audit.verify(s)
        assert report.intact, report.problems[:3]
        assert report.files_checked == 0
        assert audit.events(s, limit=1)[0].action == "workspace.migrate"
        assert events(s) == v4_events + 1
        att = add_evidence(s, Source(path=write(tmp_path / "a.txt", "after the upgrade")),
                           title="First evidence", controls=["OPS-3"],
                           clauses=["TEST-REG Art. 1(2)(a)"], valid_until="2026-12-01")
        assert att.evidence.id == 1
        assert [r.status for r in list_evidence(s)] == ["expiring"]
        assert set_expiring_days(s, 3) == {"expiring_days": {"from": 30, "to": 3}}
        assert get_evidence(s, "EV-1").status == "current"
        report = audit.verify(s)
        assert report.intact, report.problems[:3]
        assert report.files_checked == 1
