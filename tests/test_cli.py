"""The command line, end to end: real workspaces in temp dirs, through `app.cli.main` (in-process,
fast) and, for a handful of cases, through the installed `crosswalk` console script.

Conventions checked everywhere (see DESIGN.md, "CLI conventions"): `--json` prints exactly one JSON
document on stdout and nothing else; exit 0 success, 1 a check found a problem, 2 bad usage or bad
input with exactly one `error: …` line on stderr, no traceback, and the workspace left exactly as
it was (same bytes, same number of audit events).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import pytest

from app import __version__
from app.store.schema import SCHEMA_VERSION
from tests.helpers import assert_error, event_count, sha256, unchanged

CONTROL_IDS = ["GOV-1", "GOV-2", "GOV-3", "GOV-4", "SEC-1", "SEC-2", "SEC-3", "SEC-4",
               "OPS-1", "OPS-2", "OPS-3", "OPS-4"]
SEED_EVENTS = 13  # workspace.create + 12 × control.create
HEX64 = re.compile(r"[0-9a-f]{64}")
STATUS_KEYS = {"workspace", "name", "workspace_id", "created_at", "schema_version",
               "crosswalk_version", "counts", "control_status", "audit_head_seq", "audit_head"}
COUNT_KEYS = {"controls", "regulations", "clauses", "mappings", "evidence", "control_tests",
              "audit_events"}
CONTROL_KEYS = {"id", "name", "category", "status", "owner"}
DETAIL_KEYS = CONTROL_KEYS | {"objective", "guidance", "narrative", "updated_at", "updated_by",
                              "improvements"}
EVENT_KEYS = {"seq", "at", "actor", "action", "entity", "entity_id", "change", "state_digest",
              "prev_hash", "hash"}
VERIFY_KEYS = {"intact", "events", "head_seq", "head", "rows_checked", "files_checked",
               "problems"}
PROBLEM_KEYS = {"seq", "entity", "entity_id", "message"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


class CliResult(Protocol):
    code: int
    out: str
    err: str


class Cli(Protocol):
    def __call__(self, *args: str) -> CliResult: ...


class Exe(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
                 input: str | None = None) -> CliResult: ...


Ws = Callable[..., CliResult]  # runs `crosswalk --workspace <ws> ARGS…`


# --------------------------------------------------------------------------------- helpers

def _ro(path: Path) -> sqlite3.Connection:
    """Read the file as it is, creating no -wal/-shm beside it (immutable read)."""
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)



def tamper(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Edit the workspace behind Crosswalk's back, with the sqlite3 stdlib module."""
    with closing(sqlite3.connect(path)) as con:
        con.execute(sql, params)
        con.commit()


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir()
                  if p.name != path.name and p.name.startswith(path.name))




def status_json(ws: Ws) -> dict[str, Any]:
    r = ws("status", "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def log_json(ws: Ws, *args: str) -> list[dict[str, Any]]:
    r = ws("log", "--json", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def show_json(ws: Ws, control_id: str) -> dict[str, Any]:
    r = ws("control", "show", control_id, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def data_home() -> Path:
    return Path(os.environ["XDG_DATA_HOME"])


# --------------------------------------------------------------------------------- fixtures
@pytest.fixture
def ws_file(cli: Cli, ws_path: Path) -> Path:
    """A fresh workspace made by `crosswalk --workspace PATH init`."""
    r = cli("--workspace", str(ws_path), "init", "--bare")
    assert r.code == 0, r.err
    return ws_path


@pytest.fixture
def ws(cli: Cli, ws_file: Path) -> Ws:
    def run(*args: str) -> CliResult:
        return cli("--workspace", str(ws_file), *args)

    return run


# ------------------------------------------------------------------------------------ init
def test_init_at_workspace_flag_creates_private_seeded_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "ws.db"
    r = cli("--workspace", str(path), "init", "--bare")
    assert r.code == 0, r.err
    assert r.out == f"created workspace {path}\n"
    assert r.err == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert side_files(path) == []  # WAL checkpointed and removed on close
    st = json.loads(cli("-w", str(path), "status", "--json").out)
    assert st["workspace"] == str(path)
    assert st["counts"] == {"controls": 12, "regulations": 0, "clauses": 0, "mappings": 0,
                            "evidence": 0, "control_tests": 0, "audit_events": SEED_EVENTS}


def test_init_at_env_var(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("CROSSWALK_WORKSPACE", str(path))
    r = cli("init")
    assert r.code == 0, r.err
    assert r.out == f"created workspace {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(cli("status", "--json").out)["workspace"] == str(path)
    assert not (data_home() / "crosswalk").exists()


def test_workspace_flag_wins_over_env_var(cli: Cli, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env_path, flag_path = tmp_path / "env.db", tmp_path / "flag.db"
    monkeypatch.setenv("CROSSWALK_WORKSPACE", str(env_path))
    assert cli("--workspace", str(flag_path), "init").code == 0
    assert flag_path.exists()
    assert not env_path.exists()


def test_init_at_default_location_in_user_data_dir(cli: Cli) -> None:
    path = data_home() / "crosswalk" / "workspace.db"
    assert not path.exists()
    r = cli("init")
    assert r.code == 0, r.err
    assert r.out == f"created workspace {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    st = json.loads(cli("status", "--json").out)
    assert st["workspace"] == str(path)
    assert st["name"] == "workspace"  # default name: the file's stem


def test_workspace_path_expands_tilde(cli: Cli, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    r = cli("--workspace", "~/home.db", "init")
    assert r.code == 0, r.err
    assert (tmp_path / "home.db").is_file()
    assert not Path("~").exists()


def test_second_init_is_a_no_op(cli: Cli, ws_file: Path) -> None:
    with unchanged(ws_file):
        r = cli("--workspace", str(ws_file), "init")
    assert r.code == 0, r.err
    assert r.out == f"workspace {ws_file} already exists (schema v{SCHEMA_VERSION})\n"
    assert r.err == ""


def test_init_name_is_shown_by_status(cli: Cli, ws_path: Path) -> None:
    assert cli("-w", str(ws_path), "init", "--name", "Risk Team — 2026").code == 0
    text = cli("-w", str(ws_path), "status")
    assert text.code == 0
    assert "name            Risk Team — 2026\n" in text.out
    assert json.loads(cli("-w", str(ws_path), "status", "--json").out)["name"] == (
        "Risk Team — 2026")


# ---------------------------------------------------------------------------------- status
def test_status_json_shape(ws: Ws, ws_file: Path) -> None:
    r = ws("status", "--json")
    assert r.code == 0 and r.err == ""
    st = json.loads(r.out)
    assert set(st) == STATUS_KEYS
    assert set(st["counts"]) == COUNT_KEYS
    assert st["workspace"] == str(ws_file)
    assert st["name"] == "ws"
    assert re.fullmatch(r"[0-9a-f]{32}", st["workspace_id"])
    assert ISO_UTC.fullmatch(st["created_at"])
    assert st["schema_version"] == SCHEMA_VERSION
    assert st["crosswalk_version"] == __version__
    assert st["counts"] == {"controls": 12, "regulations": 0, "clauses": 0, "mappings": 0,
                            "evidence": 0, "control_tests": 0, "audit_events": SEED_EVENTS}
    assert st["control_status"] == {"not-started": 12}
    assert st["audit_head_seq"] == SEED_EVENTS
    assert HEX64.fullmatch(st["audit_head"])
    assert st["audit_head"] == log_json(ws, "--limit", "1")[0]["hash"]


def test_status_text(ws: Ws, ws_file: Path) -> None:
    ws("control", "set", "GOV-1", "--status", "implemented")
    r = ws("status")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == f"workspace       {ws_file}"
    assert lines[1] == "name            ws"
    assert lines[2] == f"schema version  {SCHEMA_VERSION}"
    assert "controls        12" in lines
    assert f"audit events    {SEED_EVENTS + 1}" in lines
    assert "control status  1 implemented, 11 not started" in lines
    assert re.fullmatch(rf"audit head      seq {SEED_EVENTS + 1} [0-9a-f]{{64}}", lines[-1])


@pytest.mark.parametrize("args", [
    ("status",), ("status", "--json"), ("controls",), ("controls", "--json"),
    ("control", "show", "OPS-2"), ("control", "show", "ops2", "--json"), ("verify",),
    ("verify", "--json"), ("log",), ("log", "--json", "--entity", "control"),
], ids=" ".join)
def test_reading_commands_leave_the_workspace_byte_identical(ws: Ws, ws_file: Path,
                                                             args: tuple[str, ...]) -> None:
    with unchanged(ws_file):
        r = ws(*args)
    assert r.code == 0, r.err
    assert side_files(ws_file) == []


# -------------------------------------------------------------------------------- controls
def test_controls_json(ws: Ws) -> None:
    r = ws("controls", "--json")
    assert r.code == 0 and r.err == ""
    rows = json.loads(r.out)
    assert isinstance(rows, list)
    assert [c["id"] for c in rows] == CONTROL_IDS
    for c in rows:
        assert set(c) == CONTROL_KEYS
        assert c["status"] == "not-started"
        assert c["owner"] == ""
        assert c["name"]
    assert rows[0]["name"] == "Regulatory mapping and impact assessment"
    assert {c["category"] for c in rows} == {"Governance & compliance", "Security",
                                            "Operational excellence"}
    assert rows[9]["category"] == "Operational excellence"


def test_controls_text_table(ws: Ws) -> None:
    ws("control", "set", "SEC-3", "--owner", "Cloud Lead", "--status", "partial")
    r = ws("controls")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "OWNER", "CONTROL"]
    assert [line.split()[0] for line in lines[1:]] == CONTROL_IDS
    sec3 = lines[1 + CONTROL_IDS.index("SEC-3")]
    assert "partial" in sec3 and "Cloud Lead" in sec3
    assert "—" in lines[1]  # an unset owner


@pytest.mark.parametrize("spelling", ["OPS-2", "ops2", "ops-2", " Ops_2 "])
def test_control_show_json_accepts_any_case(ws: Ws, spelling: str) -> None:
    r = ws("control", "show", spelling, "--json")
    assert r.code == 0 and r.err == ""
    c = json.loads(r.out)
    assert set(c) == DETAIL_KEYS
    assert c["id"] == "OPS-2"
    assert c["name"] == "Continuous monitoring and drift detection"
    assert c["objective"] and c["guidance"]
    assert c["narrative"] == ""
    assert c["updated_by"] == "tester"
    assert ISO_UTC.fullmatch(c["updated_at"])


def test_control_show_text(ws: Ws) -> None:
    r = ws("control", "show", "ops2")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "OPS-2  Continuous monitoring and drift detection"
    assert "category   Operational excellence" in lines
    assert "status     not started" in lines
    assert "owner      —" in lines
    for title in ("Objective", "Guidance", "Narrative"):
        assert title in lines


# ----------------------------------------------------------------------------- control set
def test_control_set_owner_is_audited(ws: Ws, ws_file: Path) -> None:
    r = ws("control", "set", "ops2", "--owner", "Dana Scully")
    assert r.code == 0, r.err
    assert r.out == "OPS-2: updated owner\n"
    assert show_json(ws, "OPS-2")["owner"] == "Dana Scully"
    assert event_count(ws_file) == SEED_EVENTS + 1
    event = log_json(ws, "--limit", "1")[0]
    assert set(event) == EVENT_KEYS
    assert event["seq"] == SEED_EVENTS + 1
    assert event["action"] == "control.update"
    assert event["entity"] == "control"
    assert event["entity_id"] == "OPS-2"
    assert event["actor"] == "tester"
    assert event["change"] == {"owner": {"from": "", "to": "Dana Scully"}}
    assert ISO_UTC.fullmatch(event["at"])


def test_control_set_several_fields_is_one_event(ws: Ws, ws_file: Path) -> None:
    r = ws("control", "set", "SEC-1", "--owner", "CISO", "--status", "partial",
           "--narrative", "  Quarterly access reviews.  ")
    assert r.code == 0, r.err
    assert r.out == "SEC-1: updated owner, status, narrative\n"
    c = show_json(ws, "SEC-1")
    assert (c["owner"], c["status"], c["narrative"]) == ("CISO", "partial",
                                                         "Quarterly access reviews.")
    assert event_count(ws_file) == SEED_EVENTS + 1
    assert log_json(ws, "-n", "1")[0]["change"] == {
        "owner": {"from": "", "to": "CISO"},
        "status": {"from": "not-started", "to": "partial"},
        "narrative": {"from": "", "to": "Quarterly access reviews."},
    }


@pytest.mark.parametrize(("spelling", "expected"), [
    ("Implemented", "implemented"), ("not started", "not-started"),
    ("not_applicable", "not-applicable"), ("PLANNED", "planned"), ("not-applicable",
                                                                   "not-applicable"),
])
def test_control_set_status_spellings(ws: Ws, spelling: str, expected: str) -> None:
    assert ws("control", "set", "GOV-3", "--status", "partial").code == 0
    r = ws("control", "set", "GOV-3", "--status", spelling)
    assert r.code == 0, r.err
    assert r.out == "GOV-3: updated status\n"
    assert show_json(ws, "gov3")["status"] == expected
    assert log_json(ws, "-n", "1")[0]["change"] == {
        "status": {"from": "partial", "to": expected}}


def test_control_set_narrative_file(ws: Ws, tmp_path: Path) -> None:
    text = "Drift is checked daily.\n\nPSI > 0.2 pages the owner — ünïcødé ✓\n"
    f = tmp_path / "narrative.md"
    f.write_text(text, encoding="utf-8")
    r = ws("control", "set", "OPS-2", "--narrative-file", str(f))
    assert r.code == 0, r.err
    assert r.out == "OPS-2: updated narrative\n"
    assert show_json(ws, "OPS-2")["narrative"] == text.strip()
    assert log_json(ws, "-n", "1")[0]["change"] == {
        "narrative": {"from": "", "to": text.strip()}}


def test_control_set_narrative_from_stdin(ws: Ws, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("from stdin — ok\n".encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    r = ws("control", "set", "GOV-2", "--narrative-file", "-")
    assert r.code == 0, r.err
    assert show_json(ws, "GOV-2")["narrative"] == "from stdin — ok"


def test_actor_from_flag_and_from_env(ws: Ws, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ws("--actor", "alice", "control", "set", "GOV-1", "--owner", "A").code == 0
    monkeypatch.setenv("CROSSWALK_ACTOR", "bob")
    assert ws("control", "set", "GOV-1", "--owner", "B").code == 0
    newest, older = log_json(ws, "-n", "2")
    assert (older["actor"], newest["actor"]) == ("alice", "bob")
    assert show_json(ws, "GOV-1")["updated_by"] == "bob"


def test_control_set_without_change_prints_no_change_and_adds_no_event(
        ws: Ws, ws_file: Path) -> None:
    assert ws("control", "set", "OPS-2", "--owner", "Dana", "--status", "planned").code == 0
    with unchanged(ws_file):
        r = ws("control", "set", "ops-2", "--owner", " Dana ", "--status", "Planned")
    assert r.code == 0, r.err
    assert r.out == "OPS-2: no change\n"
    assert r.err == ""


# ---------------------------------------------------------------------------------- verify
def test_verify_intact(ws: Ws) -> None:
    ws("control", "set", "GOV-1", "--owner", "X")
    r = ws("verify")
    assert r.code == 0, r.out + r.err
    assert r.err == ""
    m = re.fullmatch(r"audit chain intact: (\d+) events, head ([0-9a-f]{64})\n", r.out)
    assert m, r.out
    assert int(m[1]) == SEED_EVENTS + 1
    assert m[2] == status_json(ws)["audit_head"]


def test_verify_json_intact_shape(ws: Ws) -> None:
    r = ws("verify", "--json")
    assert r.code == 0 and r.err == ""
    report = json.loads(r.out)
    assert set(report) == VERIFY_KEYS
    assert report["intact"] is True
    assert report["events"] == report["head_seq"] == SEED_EVENTS
    assert HEX64.fullmatch(report["head"])
    assert report["rows_checked"] == 13  # 1 workspace row + 12 controls
    assert report["problems"] == []


def test_verify_detects_a_control_row_edited_outside(ws: Ws, ws_file: Path) -> None:
    tamper(ws_file, "UPDATE control SET owner = 'Mallory' WHERE id = 'SEC-2'")
    r = ws("verify")
    assert r.code == 1
    assert r.out.startswith("audit chain BROKEN:")
    assert "control SEC-2" in r.out
    assert "Traceback" not in r.err
    j = ws("verify", "--json")
    assert j.code == 1
    report = json.loads(j.out)
    assert report["intact"] is False
    assert len(report["problems"]) == 1
    problem = report["problems"][0]
    assert set(problem) == PROBLEM_KEYS
    assert (problem["entity"], problem["entity_id"]) == ("control", "SEC-2")
    assert "SEC-2" in problem["message"]


def test_verify_detects_an_altered_audit_event(ws: Ws, ws_file: Path) -> None:
    tamper(ws_file, "UPDATE audit_event SET actor = 'Mallory' WHERE seq = 5")
    r = ws("verify")
    assert r.code == 1
    assert r.out.startswith("audit chain BROKEN:")
    assert "seq 5" in r.out
    report = json.loads(ws("verify", "--json").out)
    assert report["intact"] is False
    assert [p["seq"] for p in report["problems"]] == [5]
    assert report["problems"][0]["entity"] is None


def test_verify_detects_a_deleted_audit_event(ws: Ws, ws_file: Path) -> None:
    tamper(ws_file, "DELETE FROM audit_event WHERE seq = 7")
    r = ws("verify")
    assert r.code == 1
    assert "seq 7" in r.out and "missing" in r.out


def test_verify_expect_head(ws: Ws) -> None:
    old_head = status_json(ws)["audit_head"]
    assert ws("control", "set", "OPS-4", "--owner", "Later").code == 0
    r = ws("verify", "--expect-head", old_head)
    assert r.code == 0, r.out
    assert r.out.startswith("audit chain intact:")
    assert ws("verify", "--expect-head", old_head.upper()).code == 0
    bogus = "ab" * 32
    bad = ws("verify", "--expect-head", bogus)
    assert bad.code == 1
    assert bogus in bad.out and "audit chain BROKEN" in bad.out
    j = ws("verify", "--json", "--expect-head", bogus)
    assert j.code == 1
    assert json.loads(j.out)["intact"] is False


# ------------------------------------------------------------------------------------- log
def test_log_limit_newest_first(ws: Ws) -> None:
    events = log_json(ws, "--limit", "3")
    assert [e["seq"] for e in events] == [SEED_EVENTS, SEED_EVENTS - 1, SEED_EVENTS - 2]
    r = ws("log", "-n", "3")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0].split() == ["SEQ", "AT", "ACTOR", "ACTION", "ID", "CHANGE"]
    assert [int(line.split()[0]) for line in lines[1:]] == [13, 12, 11]
    assert "control.create" in lines[1] and "OPS-4" in lines[1]


def test_log_json_is_one_array_with_chained_events(ws: Ws) -> None:
    r = ws("log", "--json")
    assert r.code == 0 and r.err == ""
    events = json.loads(r.out)
    assert isinstance(events, list)
    assert len(events) == SEED_EVENTS
    assert [e["seq"] for e in events] == list(range(SEED_EVENTS, 0, -1))
    for newer, older in itertools.pairwise(events):
        assert newer["prev_hash"] == older["hash"]
    assert events[-1]["action"] == "workspace.create"
    assert events[-1]["prev_hash"] == "0" * 64


def test_log_default_limit_is_20(ws: Ws) -> None:
    for i in range(10):
        assert ws("control", "set", "GOV-1", "--owner", f"owner {i}").code == 0
    assert len(log_json(ws)) == 20
    assert len(log_json(ws, "--limit", "1000")) == SEED_EVENTS + 10


def test_log_filters_by_entity_and_id(ws: Ws) -> None:
    ws("control", "set", "OPS-2", "--owner", "Dana")
    ws("control", "set", "GOV-1", "--owner", "Eve")
    ws("control", "set", "OPS-2", "--status", "partial")
    events = log_json(ws, "--entity", "control", "--id", "OPS-2")
    assert [e["action"] for e in events] == ["control.update", "control.update",
                                             "control.create"]
    assert {(e["entity"], e["entity_id"]) for e in events} == {("control", "OPS-2")}
    ws_events = log_json(ws, "--entity", "workspace")
    assert [e["action"] for e in ws_events] == ["workspace.create"]
    assert log_json(ws, "--entity", "clause") == []
    text = ws("log", "--entity", "control", "--id", "OPS-2")
    assert len(text.out.splitlines()) == 4
    assert "GOV-1" not in text.out


@pytest.mark.parametrize("args", [
    ("status", "--json"), ("controls", "--json"), ("control", "show", "sec1", "--json"),
    ("verify", "--json"), ("log", "--json"), ("log", "--json", "--id", "nothing"),
], ids=" ".join)
def test_every_json_output_is_exactly_one_document(ws: Ws, args: tuple[str, ...]) -> None:
    ws("control", "set", "SEC-1", "--owner", "Zoë «quoted» \"x\"", "--narrative", "a\tb\nc")
    r = ws(*args)
    assert r.code == 0, r.err
    assert r.err == ""
    json.loads(r.out)  # raises on anything but exactly one JSON document
    assert r.out.endswith("\n") and r.out.count("\n") >= 1


# ------------------------------------------------------------------------------ error paths
@pytest.mark.parametrize(("args", "fragment"), [
    (("control", "show", "GOV-9"), "unknown control 'GOV-9'"),
    (("control", "show", "GOV-9", "--json"), "unknown control"),
    (("control", "set", "XYZ", "--owner", "a"), "unknown control 'XYZ'"),
    (("control", "set", "XYZ"), "unknown control"),
    (("control", "set", "GOV-1", "--status", "bogus"), "invalid status 'bogus'"),
    (("control", "set", "GOV-1", "--status", "done", "--owner", "a"), "invalid status"),
    (("control", "set", "GOV-1"), "nothing to change"),
    (("control", "set", "GOV-1", "--owner", "a" * 201), "owner is too long"),
    (("control", "set", "GOV-1", "--owner", "a\nb"), "single line"),
    (("control", "set", "GOV-1", "--owner", "a\rb"), "single line"),
    (("control", "set", "GOV-1", "--owner", "\x1b[31mred"), "control character"),
    (("control", "set", "GOV-1", "--narrative", "nul\x00byte"), "control character"),
    (("control", "set", "GOV-1", "--narrative", "x" * 20_001), "narrative is too long"),
    (("--actor", "", "control", "set", "GOV-1", "--owner", "x"), "invalid actor"),
    (("--actor", "   ", "status"), "invalid actor"),
    (("--actor", "x" * 121, "control", "set", "GOV-1", "--owner", "x"), "invalid actor"),
    (("bogus",), "No such command 'bogus'"),
    (("control", "frob"), "No such command"),
    (("log", "--limit", "0"), "--limit"),
    (("log", "--limit", "many"), "--limit"),
    (("verify", "--frobnicate"), "--frobnicate"),
    (("control", "show"), "ID"),
], ids=lambda v: v if isinstance(v, str) else " ".join(a[:20] for a in v))
def test_bad_input_exits_2_with_one_error_line(ws: Ws, ws_file: Path,
                                               args: tuple[str, ...], fragment: str) -> None:
    with unchanged(ws_file):
        r = ws(*args)
    assert_error(r, fragment)


def test_narrative_and_narrative_file_together(ws: Ws, ws_file: Path, tmp_path: Path) -> None:
    f = tmp_path / "n.txt"
    f.write_text("from file", encoding="utf-8")
    with unchanged(ws_file):
        r = ws("control", "set", "GOV-1", "--narrative", "x", "--narrative-file", str(f))
    assert_error(r, "--narrative", "--narrative-file")


def test_non_utf8_narrative_file(ws: Ws, ws_file: Path, tmp_path: Path) -> None:
    f = tmp_path / "latin1.txt"
    f.write_bytes("Überwachung täglich".encode("latin-1"))
    with unchanged(ws_file):
        r = ws("control", "set", "GOV-1", "--narrative-file", str(f))
    assert_error(r, "latin1.txt", "not UTF-8")


def test_missing_narrative_file(ws: Ws, ws_file: Path, tmp_path: Path) -> None:
    with unchanged(ws_file):
        r = ws("control", "set", "GOV-1", "--narrative-file", str(tmp_path / "nope.txt"))
    assert_error(r, "--narrative-file")


@pytest.mark.parametrize("value", ["abc", "-1", "3601", "nan", ""])
def test_invalid_busy_timeout(ws: Ws, ws_file: Path, monkeypatch: pytest.MonkeyPatch,
                              value: str) -> None:
    monkeypatch.setenv("CROSSWALK_BUSY_TIMEOUT", value)
    with unchanged(ws_file):
        r = ws("control", "set", "GOV-1", "--owner", "x")
        r2 = ws("status")
    assert_error(r, "CROSSWALK_BUSY_TIMEOUT")
    assert_error(r2, "CROSSWALK_BUSY_TIMEOUT")


@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("controls",),
                                  ("control", "show", "GOV-1"), ("verify",), ("log",),
                                  ("control", "set", "GOV-1", "--owner", "x")], ids=" ".join)
def test_missing_workspace_for_a_command_other_than_init(cli: Cli, tmp_path: Path,
                                                        args: tuple[str, ...]) -> None:
    path = tmp_path / "sub" / "absent.db"
    r = cli("--workspace", str(path), *args)
    assert_error(r, "no workspace at", str(path), "crosswalk init")
    assert not path.parent.exists()  # nothing created on the way


def test_missing_default_workspace_is_not_created_by_status(cli: Cli) -> None:
    assert_error(cli("status"), "no workspace at")
    assert not (data_home() / "crosswalk" / "workspace.db").exists()


@pytest.mark.parametrize("args", [("status",), ("init",), ("verify",),
                                  ("control", "set", "GOV-1", "--owner", "x")], ids=" ".join)
def test_text_file_as_workspace(cli: Cli, tmp_path: Path, args: tuple[str, ...]) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n", encoding="utf-8")
    with unchanged(path, workspace=False):
        r = cli("-w", str(path), *args)
    assert_error(r, "not an SQLite database")
    assert side_files(path) == []


@pytest.mark.parametrize("args", [("status",), ("init",)], ids=" ".join)
def test_directory_as_workspace(cli: Cli, tmp_path: Path, args: tuple[str, ...]) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    r = cli("-w", str(folder), *args)
    assert_error(r, "is a directory")
    assert list(folder.iterdir()) == []


def _corrupt_copy(src: Path, dst: Path, *, from_byte: int) -> Path:
    data = bytearray(src.read_bytes())
    for i in range(from_byte, len(data)):
        data[i] = (data[i] * 7 + 13) % 256
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.parametrize("from_byte", [100, 4096], ids=["schema-page", "later-pages"])
@pytest.mark.parametrize("args", [("status",), ("verify",), ("init",),
                                  ("control", "set", "GOV-1", "--owner", "x")], ids=" ".join)
def test_corrupt_sqlite_file(cli: Cli, ws_file: Path, tmp_path: Path, from_byte: int,
                             args: tuple[str, ...]) -> None:
    path = _corrupt_copy(ws_file, tmp_path / "corrupt.db", from_byte=from_byte)
    with unchanged(path, workspace=False):
        r = cli("-w", str(path), *args)
    if args == ("init",) and from_byte > 100:
        # init only looks at page 1 of an existing file and reports "already exists": it is a
        # no-op, so it need not notice damage further in (`status`/`verify` do), but it must
        # not touch the file or crash.
        assert r.code in (0, 2) and "Traceback" not in r.err
        return
    assert_error(r, "corrupt")


@pytest.mark.parametrize("args", [("status",), ("init",), ("verify",),
                                  ("control", "set", "GOV-1", "--owner", "x")], ids=" ".join)
def test_sqlite_database_that_is_not_a_workspace(cli: Cli, tmp_path: Path,
                                                 args: tuple[str, ...]) -> None:
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES ('precious')")
        con.commit()
    with unchanged(path, workspace=False):
        r = cli("-w", str(path), *args)
    assert_error(r, "not a Crosswalk workspace")
    assert side_files(path) == []


@pytest.mark.parametrize("args", [("status",), ("init",), ("verify",), ("log", "--json"),
                                  ("control", "set", "GOV-1", "--owner", "x")], ids=" ".join)
def test_workspace_with_a_newer_schema(cli: Cli, ws_file: Path, tmp_path: Path,
                                       args: tuple[str, ...]) -> None:
    path = tmp_path / "future.db"
    shutil.copyfile(ws_file, path)
    tamper(path, "PRAGMA user_version = 99")
    with unchanged(path):
        r = cli("-w", str(path), *args)
    assert_error(r, "newer Crosswalk", "v99")


def test_read_only_location(cli: Cli) -> None:
    if not Path("/sys").is_dir():
        pytest.skip("needs /sys")
    target = Path("/sys/crosswalk-test/ws.db")
    r = cli("--workspace", str(target), "init")
    assert_error(r, "cannot create workspace", str(target))
    assert not target.parent.exists()


def test_workspace_locked_by_another_writer(ws: Ws, ws_file: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSWALK_BUSY_TIMEOUT", "0.2")
    before, events = sha256(ws_file), event_count(ws_file)
    with closing(sqlite3.connect(ws_file, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        r = ws("control", "set", "GOV-1", "--owner", "x")
        waited = time.monotonic() - started
        reading = ws("status", "--json")  # WAL: readers are not blocked by the writer
        other.execute("ROLLBACK")
    assert_error(r, "locked", "0.2 s")
    assert 0.15 < waited < 4
    assert reading.code == 0, reading.err
    assert json.loads(reading.out)["counts"]["audit_events"] == SEED_EVENTS
    assert sha256(ws_file) == before
    assert event_count(ws_file) == events
    assert ws("control", "set", "GOV-1", "--owner", "x").code == 0  # free again


def test_debug_shows_the_traceback_and_still_exits_2(ws: Ws, ws_file: Path) -> None:
    with unchanged(ws_file):
        r = ws("--debug", "control", "show", "GOV-9")
    assert r.code == 2
    assert r.out == ""
    assert "Traceback (most recent call last)" in r.err
    assert "NotFound" in r.err
    assert r.err.splitlines()[-1].startswith("error: unknown control 'GOV-9'")


def test_version(cli: Cli) -> None:
    r = cli("--version")
    assert r.code == 0
    assert r.out == f"crosswalk, version {__version__}\n"


# ------------------------------------------------------------------------------------ demo
DEMO_STATUS = {"implemented": 6, "partial": 4, "planned": 1, "not-started": 1}


def test_demo_creates_default_demo_workspace(cli: Cli) -> None:
    path = data_home() / "crosswalk" / "demo.db"
    r = cli("demo", "--no-open")
    assert r.code == 0, r.err
    assert r.out == f"demo workspace ready: {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (data_home() / "crosswalk" / "workspace.db").exists()
    st = json.loads(cli("-w", str(path), "status", "--json").out)
    assert st["name"] == "Northwind Lending (demo)"
    assert st["control_status"] == DEMO_STATUS
    c = st["counts"]
    assert c["regulations"] == 3 and c["clauses"] > 2000 and c["mappings"] > 100
    library = c["regulations"] + c["clauses"] + c["mappings"]  # one event each
    demo_work = 12 + 8 + 1  # control edits; mapping reviews; one mapping edited
    # evidence: 7 records, 8 versions (one record has 2), 13 links, 1 record update, 3 tests
    demo_work += 7 + 8 + 13 + 1 + 3
    # risks: 4 systems, 3 model versions, the 5x5 matrix, 8 risks with their first scores and
    # 8 links; then 6 treatments, 2 acceptances, 6 re-scores (2 events each), 2 more links
    demo_work += 4 + 3 + 1 + 8 + 8 + 8 + 6 + 2 + 6 * 2 + 2
    # the exercise: its playbook brought in, created, started, 10 log entries, closed,
    # 5 objectives rated, 3 improvement items
    demo_work += 1 + 1 + 1 + 10 + 1 + 5 + 3
    assert c["audit_events"] == SEED_EVENTS + library + demo_work
    controls = json.loads(cli("-w", str(path), "controls", "--json").out)
    assert all(c["owner"] for c in controls)
    gov1 = next(c for c in controls if c["id"] == "GOV-1")
    assert (gov1["owner"], gov1["status"]) == ("Head of Compliance", "implemented")
    v = cli("-w", str(path), "verify")
    assert v.code == 0 and v.out.startswith(
        f"audit chain intact: {SEED_EVENTS + library + demo_work} events, head ")


def test_demo_again_opens_the_same_one_and_reset_recreates_it(cli: Cli) -> None:
    path = data_home() / "crosswalk" / "demo.db"
    assert cli("demo", "--no-open").code == 0
    first = json.loads(cli("-w", str(path), "status", "--json").out)
    with unchanged(path):
        again = cli("demo", "--no-open")
    assert again.code == 0, again.err
    assert again.out == f"demo workspace opened: {path}\n"

    reset = cli("demo", "--reset", "--no-open")
    assert reset.code == 0, reset.err
    assert reset.out == f"demo workspace ready: {path}\n"
    second = json.loads(cli("-w", str(path), "status", "--json").out)
    assert second["workspace_id"] != first["workspace_id"]
    assert second["counts"]["audit_events"] == first["counts"]["audit_events"]
    assert second["control_status"] == DEMO_STATUS
    assert cli("-w", str(path), "verify").code == 0
    assert side_files(path) == ["demo.db.blobs"]  # the new demo's evidence files only
    blobs = path.with_name("demo.db.blobs")
    assert len(list(blobs.glob("sha256/*/*/*"))) == 8


def test_demo_at_workspace_path(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "my-demo.db"
    r = cli("--workspace", str(path), "demo", "--no-open")
    assert r.code == 0, r.err
    assert r.out == f"demo workspace ready: {path}\n"
    assert json.loads(cli("-w", str(path), "status", "--json").out)["control_status"] == (
        DEMO_STATUS)
    assert not (data_home() / "crosswalk" / "demo.db").exists()


@pytest.mark.parametrize("reset", [False, True], ids=["open", "reset"])
@pytest.mark.parametrize("kind", ["text", "sqlite"])
def test_demo_refuses_a_file_that_is_not_a_workspace(cli: Cli, tmp_path: Path, reset: bool,
                                                     kind: str) -> None:
    path = tmp_path / "precious.db"
    if kind == "text":
        path.write_text("not a workspace\n", encoding="utf-8")
    else:
        with closing(sqlite3.connect(path)) as con:
            con.execute("CREATE TABLE t (x)")
            con.commit()
    args = ["-w", str(path), "demo", "--no-open", *(["--reset"] if reset else [])]
    with unchanged(path, workspace=False):
        r = cli(*args)
    assert_error(r, "not", "Crosswalk workspace" if kind == "sqlite" else "SQLite")
    assert path.exists()


def test_demo_reset_does_not_replace_the_workspace_named_by_the_env_var(
        cli: Cli, ws_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("-w", str(ws_file), "control", "set", "GOV-1", "--owner", "real work")
    monkeypatch.setenv("CROSSWALK_WORKSPACE", str(ws_file))
    with unchanged(ws_file):
        r = cli("demo", "--reset", "--no-open")
    assert r.code == 0, r.err
    assert (data_home() / "crosswalk" / "demo.db").exists()


# ------------------------------------------------------------------------ hostile input
def test_huge_narrative_file_is_rejected(ws: Ws, ws_file: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("a" * 5_000_000, encoding="utf-8")
    started = time.monotonic()
    with unchanged(ws_file):
        r = ws("control", "set", "OPS-2", "--narrative-file", str(big))
    assert time.monotonic() - started < 5
    assert_error(r, "narrative file", "is too large", "at most 20,000 characters")
    assert show_json(ws, "OPS-2")["narrative"] == ""


def test_narrative_at_the_limit_is_accepted(ws: Ws, tmp_path: Path) -> None:
    f = tmp_path / "max.txt"
    f.write_text("b" * 20_000 + "\n", encoding="utf-8")
    assert ws("control", "set", "OPS-2", "--narrative-file", str(f)).code == 0
    assert len(show_json(ws, "OPS-2")["narrative"]) == 20_000
    assert ws("verify").code == 0


def test_long_narrative_file_is_never_truncated_silently(ws: Ws, tmp_path: Path) -> None:
    f = tmp_path / "padded.txt"
    f.write_text("Intro.\n" + "\n" * 250_000 + "Signed: Dana\n", encoding="utf-8")
    r = ws("control", "set", "OPS-2", "--narrative-file", str(f))
    if r.code == 0:
        assert "Signed: Dana" in show_json(ws, "OPS-2")["narrative"]
    else:
        assert_error(r, "narrative")


def test_sql_like_owner_is_stored_verbatim(ws: Ws, ws_file: Path) -> None:
    owner = "x'); DROP TABLE control;--"
    r = ws("control", "set", "GOV-4", "--owner", owner)
    assert r.code == 0, r.err
    assert show_json(ws, "GOV-4")["owner"] == owner
    with closing(_ro(ws_file)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
        n = con.execute("SELECT count(*) FROM control").fetchone()[0]
    assert "control" in tables
    assert n == 12
    assert len(json.loads(ws("controls", "--json").out)) == 12
    assert log_json(ws, "-n", "1")[0]["change"] == {"owner": {"from": "", "to": owner}}
    assert ws("verify").code == 0


def test_unicode_round_trips(ws: Ws) -> None:
    owner = "Zoë Ådahl 🛡️ مدير"
    assert ws("control", "set", "SEC-4", "--owner", owner).code == 0
    r = ws("control", "show", "SEC-4", "--json")
    assert json.loads(r.out)["owner"] == owner
    assert owner in r.out  # ensure_ascii=False: readable JSON
    assert owner in ws("controls").out


def test_foreign_wal_database_gets_no_side_files(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("CREATE TABLE t (x)")
        con.commit()
    assert side_files(path) == []
    with unchanged(path, workspace=False):
        r = cli("-w", str(path), "status")
    assert_error(r, "not a Crosswalk workspace")
    assert side_files(path) == []


def test_old_schema_workspace_is_migrated_by_a_read_command(cli: Cli,
                                                           v1_workspace: Path) -> None:
    r = cli("-w", str(v1_workspace), "status", "--json")
    assert r.code == 0, r.err
    st = json.loads(r.out)
    assert st["schema_version"] == SCHEMA_VERSION
    assert st["counts"]["audit_events"] == 17  # 16 + workspace.migrate
    assert [p.name for p in v1_workspace.parent.glob("old.db.v1-*.bak")]
    assert cli("-w", str(v1_workspace), "verify").code == 0
    assert log_json(lambda *a: cli("-w", str(v1_workspace), *a), "-n", "1")[0]["action"] == (
        "workspace.migrate")


# --------------------------------------------------------- the installed console script
def test_exe_init_and_status_json(crosswalk_exe: Exe, tmp_path: Path) -> None:
    path = tmp_path / "exe.db"
    r = crosswalk_exe("--workspace", str(path), "init", "--name", "Via exe")
    assert r.code == 0, r.err
    assert r.out == f"created workspace {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s = crosswalk_exe("--workspace", str(path), "status", "--json")
    assert s.code == 0 and s.err == ""
    st = json.loads(s.out)
    assert set(st) == STATUS_KEYS
    assert st["name"] == "Via exe"
    assert st["counts"]["controls"] == 12


def test_exe_set_and_verify(crosswalk_exe: Exe, tmp_path: Path) -> None:
    path = tmp_path / "exe.db"
    env = {"CROSSWALK_WORKSPACE": str(path)}
    assert crosswalk_exe("init", "--bare", env=env).code == 0
    s = crosswalk_exe("control", "set", "ops2", "--narrative-file", "-", env=env,
                      input="Piped in.\n")
    assert s.code == 0, s.err
    assert s.out == "OPS-2: updated narrative\n"
    r = crosswalk_exe("verify", env=env)
    assert r.code == 0, r.out + r.err
    assert re.fullmatch(rf"audit chain intact: {SEED_EVENTS + 1} events, head [0-9a-f]{{64}}\n",
                        r.out)


def test_exe_error_has_no_traceback(crosswalk_exe: Exe, ws_file: Path) -> None:
    with unchanged(ws_file):
        r = crosswalk_exe("--workspace", str(ws_file), "control", "show", "GOV-9")
    assert_error(r, "unknown control 'GOV-9'")


def test_exe_help_lists_every_command(crosswalk_exe: Exe) -> None:
    r = crosswalk_exe("--help")
    assert r.code == 0, r.err
    listed = re.findall(r"^  ([a-z-]+)\s", r.out.split("Commands:", 1)[1], flags=re.M)
    assert set(listed) == {"init", "status", "controls", "control", "verify", "log", "tui",
                           "demo", "regulations", "clauses", "clause", "import", "diff",
                           "map", "unmap", "review", "mappings", "coverage", "gaps",
                           "overlap", "impact", "mapping-check", "export", "evidence",
                           "test", "system", "risk", "risks", "matrix", "clocks",
                           "playbooks", "playbook", "exercise", "applicability", "backup",
                           "restore", "keygen", "verify-bundle"}
    for option in ("--workspace", "--actor", "--debug", "--version"):
        assert option in r.out


def test_python_dash_m_app_help() -> None:
    p = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True,
                       text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Usage: ")
    assert "Commands:" in p.stdout and "verify" in p.stdout
