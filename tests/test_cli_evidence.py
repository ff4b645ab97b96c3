"""Evidence and control tests through the real CLI (`app.cli.main`) on a copy of a workspace
with the bundled library: attach, version, link, edit, list, show, export, the expiring
window, control tests, `verify` over the stored files, and every kind of bad input refused
with one `error:` line and nothing left behind (no row, no audit event, no blob, no temporary
file)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult, assert_error, event_count, query, unchanged

HEX64 = "0123456789abcdef"
EVIDENCE_KEYS = {"id", "title", "kind", "description", "classification", "source_system",
                 "status", "created_at", "created_by", "updated_at", "versions", "links",
                 "tests"}
VERSION_KEYS = {"version", "sha256", "size", "media_type", "original_name", "collected_at",
                "collected_by", "period_from", "period_to", "valid_until", "note", "added_at",
                "added_by"}
ROW_KEYS = {"id", "title", "kind", "classification", "version", "collected_at", "valid_until",
            "size", "media_type", "original_name", "controls", "clauses", "status"}
TEST_KEYS = {"id", "control_id", "procedure", "population", "sample_size", "result",
             "exceptions", "tester", "tested_on", "evidence", "created_at", "created_by"}
NOBODY = 65534
CLAUSE = "GDPR Art. 32(1)(b)"


def today() -> datetime:
    return datetime.now(UTC)


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).date().isoformat()


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    r: CliResult = cli("-w", str(ws), *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def blobs_dir(ws: Path) -> Path:
    return ws.with_name(ws.name + ".blobs")


def blob_tree(ws: Path) -> list[tuple[str, str]] | None:
    """Every file and folder under the blob folder (with each file's digest), or None."""
    root = blobs_dir(ws)
    if not root.exists():
        return None
    return sorted((str(p.relative_to(root)),
                   hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
                  for p in root.rglob("*"))


def evidence_rows(ws: Path) -> tuple[int, ...]:
    return tuple(query(ws, f"SELECT count(*) FROM {t}")[0][0] for t in (
        "evidence", "evidence_version", "evidence_link", "control_test"))


@contextmanager
def nothing_written(ws: Path) -> Iterator[None]:
    """The workspace byte-identical with as many audit events and evidence rows, and the blob
    folder exactly as it was (no new blob, no `.tmp-*` file, no new folder)."""
    rows, tree = evidence_rows(ws), blob_tree(ws)
    with unchanged(ws):
        yield
    assert evidence_rows(ws) == rows
    assert blob_tree(ws) == tree
    assert not list(blobs_dir(ws).rglob(".tmp-*"))


def write(path: Path, data: bytes | str = b"evidence\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.fixture
def ws(lib_ws: Path, cli: Any, tmp_path: Path) -> Path:
    """The library workspace holding EV-1 (a text file linked to SEC-1), so its blob folder
    exists: bad input must leave it exactly as it was."""
    f = write(tmp_path / "files" / "first.txt", "first evidence\n")
    r = cli("-w", str(lib_ws), "evidence", "add", str(f), "--title", "First", "--control",
            "SEC-1")
    assert r.code == 0, r.err
    return lib_ws


# ----------------------------------------------------------------------- happy paths
def test_add_prints_one_line_and_stores_a_read_only_blob(cli, lib_ws: Path,
                                                         tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + b"x" * 1_200_000
    f = write(tmp_path / "access-review.pdf", data)
    digest = hashlib.sha256(data).hexdigest()
    r = cli("-w", str(lib_ws), "evidence", "add", str(f), "--title", "Q3 access review",
            "--control", "sec-1", "--clause", CLAUSE, "--valid-until", day(200))
    assert r.code == 0, r.err
    assert r.out == (f'added EV-1 v1 "Q3 access review" (sha256 {digest[:12]}…, 1.2 MB, '
                     "application/pdf)\n")
    assert r.err == ""
    blob = blobs_dir(lib_ws) / "sha256" / digest[:2] / digest[2:4] / digest
    assert blob.read_bytes() == data
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    actions = [a for (a,) in query(lib_ws, "SELECT action FROM audit_event WHERE action LIKE "
                                           "'evidence%' ORDER BY seq")]
    assert actions == ["evidence.create", "evidence_version.create", "evidence_link.create",
                       "evidence_link.create"]


def test_add_json_shape_and_every_option(cli, lib_ws: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "drift.csv", "feature,psi\nage,0.02\n")
    made = run_json(cli, lib_ws, "evidence", "add", str(f), "--title", "Drift report",
                    "--kind", "Report", "--description", "Weekly PSI per feature.",
                    "--control", "OPS-2", "--clause", CLAUSE, "--collected-at",
                    "2025-03-01T10:30", "--collected-by", "Dana", "--period-from",
                    "2025-02-01", "--period-to", "2025-02-28", "--valid-until", day(100),
                    "--classification", "confidential", "--source-system", "evidently",
                    "--note", "exported from the dashboard")
    assert set(made) == EVIDENCE_KEYS | {"added_version", "duplicate_of"}
    assert (made["id"], made["title"], made["kind"], made["classification"],
            made["source_system"], made["status"]) == (
        "EV-1", "Drift report", "report", "confidential", "evidently", "current")
    assert made["added_version"] == 1 and made["duplicate_of"] == []
    [v] = made["versions"]
    assert set(v) == VERSION_KEYS
    assert (v["version"], v["original_name"], v["media_type"], v["collected_at"],
            v["collected_by"], v["period_from"], v["period_to"], v["valid_until"],
            v["note"]) == (1, "drift.csv", "text/csv", "2025-03-01T10:30:00.000Z", "Dana",
                           "2025-02-01", "2025-02-28", day(100),
                           "exported from the dashboard")
    assert v["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert [(ln["kind"], ln["target"]) for ln in made["links"]] == [
        ("control", "OPS-2"), ("clause", CLAUSE)]
    assert made["tests"] == []


def test_add_a_link_and_the_same_file_twice_gives_a_note(cli, ws: Path,
                                                        tmp_path: Path) -> None:
    link = run_json(cli, ws, "evidence", "add", "--url", "https://wiki.example/dpia",
                    "--title", "DPIA page")
    assert link["kind"] == "link"
    assert link["versions"][0]["media_type"] == "text/uri-list"
    assert link["versions"][0]["original_name"] == "link.url"
    again = write(tmp_path / "copy.txt", "first evidence\n")  # the same bytes as EV-1
    r = cli("-w", str(ws), "evidence", "add", str(again), "--title", "Copy")
    assert r.code == 0 and r.out.startswith('added EV-3 v1 "Copy"')
    assert r.err == "note: the same file is already attached as EV-1\n"


def test_version_link_unlink_edit(cli, ws: Path, tmp_path: Path) -> None:
    f2 = write(tmp_path / "second.txt", "second evidence\n")
    r = cli("-w", str(ws), "evidence", "version", "EV-1", str(f2), "--valid-until", day(10),
            "--note", "Q4")
    assert r.code == 0, r.err
    assert r.out.startswith('added EV-1 v2 "First" (sha256 ')
    made = run_json(cli, ws, "evidence", "version", "1", str(f2), "--collected-by", "Sam")
    assert made["added_version"] == 3 and len(made["versions"]) == 3
    assert made["versions"][2]["collected_by"] == "Sam"

    r = cli("-w", str(ws), "evidence", "link", "EV-1", "--control", "GOV-4", "--clause", CLAUSE)
    assert (r.code, r.out) == (0, f"linked EV-1 to GOV-4, {CLAUSE}\n")
    assert run_json(cli, ws, "evidence", "link", "ev1", "--control", "OPS-3") == {
        "id": "EV-1", "linked": ["OPS-3"]}
    r = cli("-w", str(ws), "evidence", "unlink", "EV-1", "--clause", CLAUSE)
    assert (r.code, r.out) == (0, f"unlinked EV-1 from {CLAUSE}\n")
    assert run_json(cli, ws, "evidence", "unlink", "EV-1", "--control", "GOV-4") == {
        "id": "EV-1", "unlinked": "GOV-4"}
    shown = run_json(cli, ws, "evidence", "show", "EV-1")
    assert [ln["target"] for ln in shown["links"]] == ["SEC-1", "OPS-3"]

    r = cli("-w", str(ws), "evidence", "edit", "EV-1", "--title", "Access review",
            "--kind", "log", "--classification", "restricted")
    assert (r.code, r.out) == (0, "EV-1: updated title, kind, classification\n")
    edited = run_json(cli, ws, "evidence", "edit", "EV-1", "--source-system", "okta",
                      "--title", "Access review")
    assert edited["change"] == {"source_system": {"from": "", "to": "okta"}}
    assert (edited["title"], edited["kind"], edited["source_system"]) == (
        "Access review", "log", "okta")
    r = cli("-w", str(ws), "evidence", "edit", "EV-1", "--kind", "log")
    assert (r.code, r.out) == (0, "EV-1: no change\n")
    assert run_json(cli, ws, "verify")["intact"] is True


def test_list_statuses_filters_and_table(cli, ws: Path, tmp_path: Path) -> None:
    def add(name: str, title: str, *extra: str) -> None:
        r = cli("-w", str(ws), "evidence", "add", str(write(tmp_path / name, name)),
                "--title", title, *extra)
        assert r.code == 0, r.err

    add("soon.txt", "Expiring soon", "--valid-until", day(10), "--control", "OPS-2")
    add("old.txt", "Long expired " + "x" * 60, "--collected-at", "2020-01-01",
        "--valid-until", "2020-06-30")
    rows = run_json(cli, ws, "evidence", "list")
    assert all(set(r) == ROW_KEYS for r in rows)
    assert [(r["id"], r["status"]) for r in rows] == [
        ("EV-3", "expired"), ("EV-2", "expiring"), ("EV-1", "current")]
    assert rows[2]["controls"] == ["SEC-1"] and rows[2]["original_name"] == "first.txt"
    assert [r["id"] for r in run_json(cli, ws, "evidence", "list", "--status", "expiring")
            ] == ["EV-2"]
    assert [r["id"] for r in run_json(cli, ws, "evidence", "list", "--control", "ops-2")
            ] == ["EV-2"]
    r = cli("-w", str(ws), "evidence", "list")
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "TITLE", "KIND", "V", "VALID", "UNTIL",
                                "CONTROLS"]
    assert lines[1].startswith("EV-3  expired") and "…" in lines[1] and "x" * 60 not in r.out
    assert "2020-06-30" in lines[1] and lines[2].rstrip().endswith("OPS-2")
    r = cli("-w", str(ws), "evidence", "list", "--status", "expired", "--control", "GOV-1")
    assert (r.code, r.out) == (0, "no evidence\n")


def test_window_show_and_set(cli, ws: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "w.txt", "w")
    assert cli("-w", str(ws), "evidence", "add", str(f), "--title", "W", "--valid-until",
               day(40)).code == 0
    assert cli("-w", str(ws), "evidence", "window").out == "expiring window: 30 days\n"
    assert run_json(cli, ws, "evidence", "list", "--status", "expiring") == []
    r = cli("-w", str(ws), "evidence", "window", "45")
    assert (r.code, r.out) == (0, "expiring window: 30 → 45 days\n")
    assert [x["id"] for x in run_json(cli, ws, "evidence", "list", "--status", "expiring")
            ] == ["EV-2"]
    assert run_json(cli, ws, "evidence", "window") == {"expiring_days": 45, "change": {}}
    assert run_json(cli, ws, "evidence", "window", "7") == {
        "expiring_days": 7, "change": {"expiring_days": {"from": 45, "to": 7}}}
    for bad, words in (("abc", "'abc' is not a whole number"), ("-1", "0 to 3650 days"),
                       ("99999", "0 to 3650 days")):
        with nothing_written(ws):
            assert_error(cli("-w", str(ws), "evidence", "window", "--", bad), words)


def test_show_text_lists_versions_links_and_tests(cli, ws: Path, tmp_path: Path) -> None:
    f2 = write(tmp_path / "second.txt", "second\n")
    assert cli("-w", str(ws), "evidence", "version", "EV-1", str(f2), "--period-from",
               "2025-01-01", "--period-to", "2025-03-31", "--note", "Q1").code == 0
    assert cli("-w", str(ws), "evidence", "link", "EV-1", "--clause", CLAUSE).code == 0
    assert cli("-w", str(ws), "test", "add", "SEC-1", "--procedure", "inspection",
               "--result", "effective", "--evidence", "EV-1@1").code == 0
    r = cli("-w", str(ws), "evidence", "show", "EV-1")
    assert r.code == 0, r.err
    out = r.out
    detail = run_json(cli, ws, "evidence", "show", "EV-1")
    for v in detail["versions"]:
        assert v["sha256"] in out
    assert "  v1  first.txt" in out and "  v2  second.txt" in out
    assert "2025-01-01 to 2025-03-31" in out and "note          Q1" in out
    assert "control  SEC-1" in out and f"clause   {CLAUSE}" in out
    assert "CT-1  SEC-1" in out and "inspection, effective" in out
    assert detail["tests"] == ["CT-1"]


def test_export_latest_a_version_into_a_folder_and_force(cli, ws: Path,
                                                        tmp_path: Path) -> None:
    f2 = write(tmp_path / "second.txt", "second evidence\n")
    assert cli("-w", str(ws), "evidence", "version", "EV-1", str(f2)).code == 0
    out = tmp_path / "out"
    out.mkdir()
    r = cli("-w", str(ws), "evidence", "export", "EV-1", "-o", str(out))
    assert (r.code, r.out) == (0, f"exported EV-1 v2 to {out / 'second.txt'}\n")
    assert (out / "second.txt").read_text() == "second evidence\n"
    target = out / "v1.txt"
    assert run_json(cli, ws, "evidence", "export", "EV-1", "--version", "1", "-o",
                    str(target)) == {"id": "EV-1", "version": 1, "path": str(target)}
    assert target.read_text() == "first evidence\n"
    before = target.stat().st_mtime_ns
    assert_error(cli("-w", str(ws), "evidence", "export", "EV-1", "-o", str(target)),
                 str(target), "already exists", "--force")
    assert target.read_text() == "first evidence\n" and target.stat().st_mtime_ns == before
    r = cli("-w", str(ws), "evidence", "export", "EV-1", "-o", str(target), "--force")
    assert r.code == 0 and target.read_text() == "second evidence\n"
    assert_error(cli("-w", str(ws), "evidence", "export", "EV-1", "--version", "9", "-o",
                     str(out / "x")), "EV-1 has no version 9")
    assert not list(out.glob(".crosswalk-export-*"))


def test_control_tests_add_and_list(cli, ws: Path, tmp_path: Path) -> None:
    f2 = write(tmp_path / "second.txt", "second\n")
    assert cli("-w", str(ws), "evidence", "version", "EV-1", str(f2)).code == 0
    r = cli("-w", str(ws), "test", "add", "SEC-1", "--procedure", "inspection", "--result",
            "effective", "--tested-on", "2025-05-02", "--evidence", "EV-1@1")
    assert (r.code, r.out) == (0, "recorded CT-1: SEC-1 inspection, effective (tested on "
                                  "2025-05-02 by tester; evidence EV-1@1)\n")
    made = run_json(cli, ws, "test", "add", "sec-1", "--procedure", "Re-performance",
                    "--result", "effective with exceptions", "--tester", "Lee",
                    "--population", "all 412 leavers", "--sample-size", "25",
                    "--exceptions", "2 accounts disabled late", "--evidence", "EV-1")
    assert set(made) == TEST_KEYS
    assert (made["id"], made["control_id"], made["procedure"], made["result"],
            made["tester"], made["population"], made["sample_size"], made["exceptions"],
            made["evidence"], made["tested_on"]) == (
        "CT-2", "SEC-1", "re-performance", "effective-with-exceptions", "Lee",
        "all 412 leavers", 25, "2 accounts disabled late", ["EV-1@2"], day(0))
    assert cli("-w", str(ws), "test", "add", "OPS-2", "--procedure", "inquiry", "--result",
               "not-tested", "--tested-on", "2025-01-01").code == 0
    listed = run_json(cli, ws, "test", "list")
    assert [t["id"] for t in listed] == ["CT-2", "CT-1", "CT-3"]
    assert all(set(t) == TEST_KEYS for t in listed)
    assert [t["id"] for t in run_json(cli, ws, "test", "list", "--control", "OPS-2")] == [
        "CT-3"]
    r = cli("-w", str(ws), "test", "list")
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CONTROL", "TESTED"]
    assert lines[1].startswith("CT-2  SEC-1") and lines[1].endswith("EV-1@2")
    assert cli("-w", str(ws), "test", "list", "--control", "GOV-1").out == "no control tests\n"
    assert run_json(cli, ws, "evidence", "show", "EV-1")["tests"] == ["CT-2", "CT-1"]


# ----------------------------------------------------------------------- verify
def the_blob(ws: Path) -> Path:
    [(sha,)] = query(ws, "SELECT sha256 FROM evidence_version WHERE evidence_id = 1")
    return blobs_dir(ws) / "sha256" / sha[:2] / sha[2:4] / sha


def test_verify_rehashes_files_and_names_an_altered_one(cli, ws: Path) -> None:
    r = cli("-w", str(ws), "verify")
    assert r.code == 0 and r.out.rstrip().endswith("; 1 evidence files intact"), r.out
    assert run_json(cli, ws, "verify")["files_checked"] == 1
    blob = the_blob(ws)
    blob.chmod(0o644)
    blob.write_bytes(b"tampered\n")
    r = cli("-w", str(ws), "verify")
    assert r.code == 1
    assert "evidence files BROKEN" in r.out and "EV-1 version 1" in r.out
    assert "altered on disk" in r.out
    report = json.loads(cli("-w", str(ws), "verify", "--json").out)
    assert report["intact"] is False
    assert any("EV-1 version 1" in p["message"] for p in report["problems"])
    assert_error(cli("-w", str(ws), "evidence", "export", "EV-1", "-o",
                     str(ws.parent / "out.txt")), "EV-1 version 1", "altered")
    assert not (ws.parent / "out.txt").exists()


def test_verify_names_a_missing_file(cli, ws: Path) -> None:
    the_blob(ws).unlink()
    r = cli("-w", str(ws), "verify")
    assert r.code == 1
    assert "EV-1 version 1 is missing" in r.out


# ----------------------------------------------------------------------- bad input
def bad(cli: Any, ws: Path, *args: str) -> str:
    with nothing_written(ws):
        r = cli("-w", str(ws), *args)
        line = assert_error(r)
    return line


def test_a_directory_is_refused(cli, ws: Path, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    line = bad(cli, ws, "evidence", "add", str(folder), "--title", "T")
    assert str(folder) in line and "is a directory" in line


def test_a_fifo_is_refused_without_blocking(cli, ws: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    line = bad(cli, ws, "evidence", "add", str(fifo), "--title", "T")
    assert str(fifo) in line and "not a regular file" in line
    line = bad(cli, ws, "evidence", "version", "EV-1", str(fifo))
    assert str(fifo) in line


def test_a_symlink_loop_is_refused(cli, ws: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    line = bad(cli, ws, "evidence", "add", str(loop), "--title", "T")
    assert str(loop) in line and "symbolic links" in line


def test_a_missing_file_is_refused(cli, ws: Path, tmp_path: Path) -> None:
    gone = tmp_path / "no-such.pdf"
    line = bad(cli, ws, "evidence", "add", str(gone), "--title", "T")
    assert line == f"error: {gone} does not exist"


def test_file_and_url_are_exclusive_and_one_is_needed(cli, ws: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "f.txt")
    assert "not both" in bad(cli, ws, "evidence", "add", str(f), "--url", "https://x.example",
                             "--title", "T")
    assert "give the FILE" in bad(cli, ws, "evidence", "add", "--title", "T")
    assert "--title" in bad(cli, ws, "evidence", "add", str(f))
    assert "is not a URL" in bad(cli, ws, "evidence", "add", "--url", "nope", "--title", "T")


BOOT = """
import os, sys
import app.cli, app.cli_evidence, app.services.evidence, app.services.workspace
import app.services.mappings, app.services.regulations, app.services.control_tests
import app.domain.preview, app.settings, mimetypes, tempfile, hashlib, io, sqlite3, json
import difflib, traceback, unicodedata, stat, time
import platformdirs, sqlalchemy.dialects.sqlite
os.setgroups([]); os.setgid({uid}); os.setuid({uid})
sys.argv[0] = "crosswalk"
app.cli.main(sys.argv[1:])
"""


def _drop_privileges() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _python_runs_as_nobody() -> bool:
    try:
        p = subprocess.run([sys.executable, "-c", "import app"], preexec_fn=_drop_privileges,
                           capture_output=True, cwd="/", timeout=60)
    except OSError:  # the interpreter itself is out of reach (e.g. under /root)
        return False
    return p.returncode == 0


def test_an_unreadable_file_is_refused(cli, lib_ws: Path, tmp_path: Path) -> None:
    """A file of mode 000, read by uid 65534 (root reads everything, so as root the CLI runs
    in a subprocess that switches to 65534; as an ordinary user, in-process)."""
    if os.geteuid() != 0:
        secret = write(tmp_path / "secret.txt", "top secret\n")
        secret.chmod(0o000)
        if os.access(secret, os.R_OK):
            pytest.skip("this user can read a file of mode 000 (CAP_DAC_OVERRIDE?)")
        with nothing_written(lib_ws):
            assert_error(cli("-w", str(lib_ws), "evidence", "add", str(secret), "--title",
                             "Secret"), str(secret), "cannot read", "Permission denied")
        return
    home = Path(tempfile.mkdtemp(prefix="crosswalk-nobody-"))  # /tmp: reachable by 65534
    try:
        ws = home / "ws.db"
        shutil.copyfile(lib_ws, ws)
        secret = write(home / "secret.txt", "top secret\n")
        secret.chmod(0o000)
        for p in (home, ws, secret):
            os.chown(p, NOBODY, NOBODY)
        args = ["-w", str(ws), "evidence", "add", str(secret), "--title", "Secret"]
        if _python_runs_as_nobody():  # switch before exec, as a real user would run it
            cmd, pre = [sys.executable, "-m", "app", *args], _drop_privileges
        else:  # the interpreter lives where 65534 cannot go: import first, then switch
            cmd, pre = [sys.executable, "-c", BOOT.format(uid=NOBODY), *args], None
        with nothing_written(ws):
            p = subprocess.run(cmd, preexec_fn=pre, capture_output=True, text=True,
                               cwd=home, timeout=120)
            assert_error(p_result(p), str(secret), "cannot read", "Permission denied")
        assert sorted(x.name for x in home.iterdir()) == ["secret.txt", "ws.db"]
    finally:
        shutil.rmtree(home, ignore_errors=True)


def p_result(p: subprocess.CompletedProcess[str]) -> CliResult:
    class R:
        code, out, err = p.returncode, p.stdout, p.stderr

    return R()


def test_a_full_disk_leaves_nothing(ws: Path, tmp_path: Path) -> None:
    """RLIMIT_FSIZE as a full disk: the copy into the blob store fails part-way."""
    limit = 64 * 1024 * 1024
    assert ws.stat().st_size < limit
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(limit + 1024 * 1024)  # sparse: cheap to make, still read in full

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with nothing_written(ws):
        p = subprocess.run([sys.executable, "-m", "app", "-w", str(ws), "evidence", "add",
                            str(big), "--title", "Too big"], preexec_fn=small_disk,
                           capture_output=True, text=True, timeout=120)
        line = assert_error(p_result(p), "cannot store the file in", str(blobs_dir(ws)))
    assert "too large" in line.lower()


def test_dotdot_control_characters_and_rlo_in_names(cli, ws: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "report.txt", "dotdot\n")
    made = run_json(cli, ws, "evidence", "add", f"{tmp_path}/sub/../report.txt",
                    "--title", "Dotdot")
    assert made["versions"][0]["original_name"] == "report.txt"

    name = "inv\x1b[31moice\n\u202eexe.txt"
    evil = write(tmp_path / name, "evil\n")
    made = run_json(cli, ws, "evidence", "add", str(evil), "--title", "Evil")
    assert made["versions"][0]["original_name"] == name  # stored as given
    assert query(ws, "SELECT original_name FROM evidence_version WHERE evidence_id = 3"
                 ) == [(name,)]
    for args in (("evidence", "show", "EV-3"), ("evidence", "list"),
                 ("evidence", "version", "EV-3", str(evil))):
        r = cli("-w", str(ws), *args)
        assert r.code == 0, r.err
        assert not any(c in r.out + r.err for c in "\x1b\u202e"), args
    r = cli("-w", str(ws), "evidence", "show", "EV-3")
    assert "inv\\x1b[31moice\\x0a\\u202eexe.txt" in r.out
    assert_error(cli("-w", str(ws), "evidence", "export", "EV-3", "-o",
                     str(tmp_path / "out" / "x.txt")), "folder", "does not exist")
    (tmp_path / "out").mkdir()
    r = cli("-w", str(ws), "evidence", "export", "EV-3", "-o", str(tmp_path / "out"))
    assert r.code == 0, r.err
    [exported] = (tmp_path / "out").iterdir()
    assert "\x1b" not in exported.name and "\u202e" not in exported.name


def test_a_long_title_is_refused_and_a_long_path_works(cli, ws: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "f.txt")
    line = bad(cli, ws, "evidence", "add", str(f), "--title", "t" * 1000)
    assert "the title is too long (1,000 characters; at most 300)" in line
    deep = tmp_path
    for i in range(6):
        deep = deep / (f"{i}" * 180)
    long_file = write(deep / ("n" * 200 + ".txt"), "deep\n")
    assert len(str(long_file)) > 1000
    made = run_json(cli, ws, "evidence", "add", str(long_file), "--title", "Deep")
    assert made["versions"][0]["original_name"] == "n" * 200 + ".txt"


@pytest.mark.parametrize(("args", "words"), [
    (["--collected-at", "2026-13-01"], ["collected at '2026-13-01' is not a date"]),
    (["--valid-until", "tomorrow"], ["valid until 'tomorrow' is not a date"]),
    (["--period-from", "2025-02-30"], ["period from '2025-02-30' is not a date"]),
    (["--period-from", "2025-03-01", "--period-to", "2025-02-01"],
     ["the period covered runs backwards: from 2025-03-01 to 2025-02-01"]),
    (["--collected-at", "2025-03-01", "--valid-until", "2025-02-01"],
     ["valid until 2025-02-01 is before the evidence was collected (2025-03-01)"]),
    (["--collected-at", "2999-01-01"], ["collected at 2999-01-01 is in the future"]),
    (["--control", "SEC-9"], ["unknown control 'SEC-9'"]),
    (["--clause", "GDPR Art. 99(9)"], ["Art. 99(9)"]),
    (["--kind", "selfie"], ["invalid kind 'selfie'"]),
    (["--classification", "secret"], ["invalid classification 'secret'"]),
    (["--title", "   "], ["the title is empty"]),
    (["--title", "bad\u202etitle"], ["the title contains a control character (U+202E)"]),
])
def test_bad_provenance_and_targets_are_refused(cli, ws: Path, tmp_path: Path,
                                                args: list[str], words: list[str]) -> None:
    f = write(tmp_path / "ok.txt", "fresh content\n")
    line = bad(cli, ws, "evidence", "add", str(f), "--title", "T", *args)
    for w in words:
        assert w in line, line
    if args[0] in ("--collected-at", "--valid-until", "--period-from"):  # versions too
        line = bad(cli, ws, "evidence", "version", "EV-1", str(f), *args)
        for w in words:
            assert w in line, line


@pytest.mark.parametrize(("args", "words"), [
    (["evidence", "version", "EV-99", "{f}"], ["no evidence EV-99 in the workspace"]),
    (["evidence", "version", "CT-1", "{f}"], ["'CT-1' is not an evidence id"]),
    (["evidence", "show", "EV-99"], ["no evidence EV-99"]),
    (["evidence", "export", "EV-99", "-o", "{d}"], ["no evidence EV-99"]),
    (["evidence", "link", "EV-99", "--control", "SEC-1"], ["no evidence EV-99"]),
    (["evidence", "link", "EV-1", "--control", "SEC-1"], ["EV-1 is already linked to SEC-1"]),
    (["evidence", "link", "EV-1"], ["name a control or a clause"]),
    (["evidence", "link", "EV-1", "--control", "GOV-1", "--clause", "GDPR Art. 99(9)"],
     ["Art. 99(9)"]),
    (["evidence", "unlink", "EV-99", "--control", "SEC-1"], ["no evidence EV-99"]),
    (["evidence", "unlink", "EV-1", "--control", "GOV-1"], ["EV-1 is not linked to GOV-1"]),
    (["evidence", "unlink", "EV-1"], ["name one --control or one --clause"]),
    (["evidence", "unlink", "EV-1", "--control", "SEC-1", "--clause", CLAUSE],
     ["name one --control or one --clause"]),
    (["evidence", "edit", "EV-99", "--title", "x"], ["no evidence EV-99"]),
    (["evidence", "edit", "EV-1"], ["nothing to change"]),
    (["evidence", "edit", "EV-1", "--title", "t" * 1000], ["the title is too long"]),
    (["evidence", "list", "--status", "stale"], ["invalid status 'stale'"]),
    (["evidence", "list", "--control", "SEC-9"], ["unknown control 'SEC-9'"]),
    (["evidence", "export", "EV-1", "--version", "abc", "-o", "{d}"], ["'abc'"]),
    (["test", "add", "SEC-1", "--procedure", "inspection", "--result", "effective",
      "--evidence", "EV-99"], ["no evidence EV-99 in the workspace"]),
    (["test", "add", "SEC-1", "--procedure", "inspection", "--result", "effective",
      "--evidence", "EV-1@7"], ["no version 7 of evidence EV-1"]),
    (["test", "add", "SEC-9", "--procedure", "inspection", "--result", "effective"],
     ["unknown control 'SEC-9'"]),
    (["test", "add", "SEC-1", "--procedure", "guessing", "--result", "effective"],
     ["invalid procedure 'guessing'"]),
    (["test", "add", "SEC-1", "--procedure", "inquiry", "--result", "fine"],
     ["invalid result 'fine'"]),
    (["test", "add", "SEC-1", "--procedure", "inquiry", "--result", "not-effective"],
     ["a result of not-effective needs the exceptions described"]),
    (["test", "add", "SEC-1", "--procedure", "inquiry", "--result", "effective",
      "--sample-size", "abc"], ["the sample size 'abc' is not a whole number"]),
    (["test", "add", "SEC-1", "--procedure", "inquiry", "--result", "effective",
      "--tested-on", "2026-13-01"], ["tested on '2026-13-01' is not a date"]),
    (["test", "add", "SEC-1", "--procedure", "inquiry", "--result", "effective",
      "--tested-on", "2999-01-01"], ["tested on 2999-01-01 is in the future"]),
    (["test", "add", "SEC-1", "--result", "effective"], ["--procedure"]),
    (["test", "list", "--control", "SEC-9"], ["unknown control 'SEC-9'"]),
])
def test_bad_ids_and_values_are_refused(cli, ws: Path, tmp_path: Path, args: list[str],
                                        words: list[str]) -> None:
    f = write(tmp_path / "v.txt", "another file\n")
    out = tmp_path / "out"
    out.mkdir()
    line = bad(cli, ws, *[a.format(f=f, d=out) for a in args])
    for w in words:
        assert w in line, line
    assert not list(out.iterdir())


def test_debug_shows_the_traceback(cli, ws: Path, tmp_path: Path) -> None:
    with nothing_written(ws):
        r = cli("-w", str(ws), "--debug", "evidence", "add", str(tmp_path / "gone.txt"),
                "--title", "T")
    assert r.code == 2
    assert "Traceback" in r.err
    assert r.err.rstrip().splitlines()[-1] == f"error: {tmp_path / 'gone.txt'} does not exist"


def test_a_failed_add_on_a_fresh_workspace_makes_no_blob_folder(cli, lib_ws: Path,
                                                               tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    events = event_count(lib_ws)
    with nothing_written(lib_ws):
        assert_error(cli("-w", str(lib_ws), "evidence", "add", str(folder), "--title", "T"))
    assert event_count(lib_ws) == events
    assert not blobs_dir(lib_ws).exists()


def test_help_lists_the_commands(cli) -> None:
    r = cli("evidence", "--help")
    for name in ("add", "version", "link", "unlink", "edit", "list", "show", "export",
                 "window"):
        assert f"  {name}" in r.out
    r = cli("test", "--help")
    assert "  add" in r.out and "  list" in r.out


# ----------------------------------------------------------------------- known gaps
def test_a_full_disk_on_a_fresh_workspace_leaves_no_blob_folder(lib_ws: Path,
                                                                tmp_path: Path) -> None:
    limit = 64 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(limit + 1024 * 1024)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    p = subprocess.run([sys.executable, "-m", "app", "-w", str(lib_ws), "evidence", "add",
                        str(big), "--title", "Too big"], preexec_fn=small_disk,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert not blobs_dir(lib_ws).exists()


def test_an_error_naming_a_hostile_path_is_escaped(cli, ws: Path, tmp_path: Path) -> None:
    line = bad(cli, ws, "evidence", "add", str(tmp_path / "gone\u202etxt.exe"), "--title", "T")
    assert "\u202e" not in line and "\\u202e" in line
