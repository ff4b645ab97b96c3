"""`crosswalk backup` and `restore` through the real CLI: a round trip keeps every row, event
and evidence file; a backup taken while another process writes is consistent; a truncated,
tampered or path-traversing archive and an existing target are refused, leaving nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_error, query


@pytest.fixture
def demo(cli: Any, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    assert cli("--workspace", str(path), "demo", "--no-open").code == 0
    return path


def status(cli: Any, ws: Path) -> dict[str, Any]:
    return json.loads(cli("--workspace", str(ws), "status", "--json").out)


def test_a_round_trip_keeps_everything(cli: Any, demo: Path, tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    r = cli("--workspace", str(demo), "backup", "-o", str(archive))
    assert r.code == 0, r.err
    assert "the workspace and 8 evidence files" in r.out
    target = tmp_path / "moved" / "ws.db"
    target.parent.mkdir()
    r = cli("restore", str(archive), "--workspace", str(target))
    assert r.code == 0, r.err
    assert "8 evidence files; audit chain intact" in r.out
    before, after = status(cli, demo), status(cli, target)
    assert after["counts"] == before["counts"]
    assert after["audit_head"] == before["audit_head"]
    assert (target.stat().st_mode & 0o777) == 0o600
    out = tmp_path / "ev.md"
    assert cli("--workspace", str(target), "evidence", "export", "EV-1", "-o",
               str(out)).code == 0
    assert cli("--workspace", str(target), "verify").code == 0


def test_an_existing_target_is_refused(cli: Any, demo: Path, tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    assert cli("--workspace", str(demo), "backup", "-o", str(archive)).code == 0
    r = cli("restore", str(archive), "--workspace", str(demo))
    assert assert_error(r) == (f"error: {demo} already exists; restore into a new workspace "
                               "path (nothing is overwritten)")
    r = cli("--workspace", str(demo), "backup", "-o", str(archive))
    assert "already exists" in assert_error(r)


@pytest.mark.parametrize("damage", ["truncate", "tamper", "traverse", "not-a-backup"])
def test_a_bad_archive_restores_nothing(cli: Any, demo: Path, tmp_path: Path,
                                        damage: str) -> None:
    archive = tmp_path / "backup.zip"
    assert cli("--workspace", str(demo), "backup", "-o", str(archive)).code == 0
    bad = tmp_path / "bad.zip"
    if damage == "truncate":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    elif damage == "tamper":
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "workspace.db":
                    data = data[:-1] + bytes([data[-1] ^ 1])
                dst.writestr(info, data)
    elif damage == "traverse":
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info))
            dst.writestr("../evil.db", b"x")
    else:  # a dossier bundle is checked like a backup, but it is not one
        bad = tmp_path / "bundle.zip"
        assert cli("--workspace", str(demo), "export", "bundle", "-o", str(bad)).code == 0
    target = tmp_path / "restored" / "ws.db"
    target.parent.mkdir()
    r = cli("restore", str(bad), "--workspace", str(target))
    line = assert_error(r)
    assert ("does not check out, nothing was restored" in line
            or "not a workspace backup" in line), line
    assert list(target.parent.iterdir()) == []
    assert not (tmp_path / "evil.db").exists()


def test_a_backup_while_another_process_writes(cli: Any, demo: Path, tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from pathlib import Path\n"
            "from app.services.workspace import open_workspace\n"
            "from app.services.controls import update_control\n"
            f"s = open_workspace(Path({str(demo)!r}), actor='writer')\n"
            "for n in range(60):\n"
            "    update_control(s, 'OPS-4', narrative=f'revision {n}')\n")],
        cwd=Path(__file__).parent.parent)
    archive = tmp_path / "busy.zip"
    r = cli("--workspace", str(demo), "backup", "-o", str(archive))
    writer.wait(timeout=120)
    assert r.code == 0, r.err
    target = tmp_path / "busy.db"
    r = cli("restore", str(archive), "--workspace", str(target))
    assert r.code == 0, r.err
    assert "audit chain intact" in r.out  # a consistent snapshot: rows agree with the chain


def test_evidence_missing_from_the_workspace_is_named_by_backup_and_restore(
        cli: Any, demo: Path, tmp_path: Path) -> None:
    from app.store.blobs import BlobStore

    (sha,), *_ = query(demo, "SELECT sha256 FROM evidence_version ORDER BY sha256")
    lost = BlobStore.beside(demo).path(sha)
    lost.unlink()
    archive = tmp_path / "backup.zip"
    r = cli("--workspace", str(demo), "backup", "-o", str(archive))
    assert r.code == 1  # written, but not whole
    assert "the workspace and 7 evidence files" in r.out
    assert "warning: 1 evidence file(s) are missing from the workspace" in r.err
    assert lost.name in r.err
    target = tmp_path / "ws.db"
    # restored as it was: verify names the same missing file, in the original and the copy
    r = cli("restore", str(archive), "--workspace", str(target))
    assert r.code == 1, r.err
    assert "restored" in r.out and "7 evidence files" in r.out
    for ws in (demo, target):
        r = cli("--workspace", str(ws), "verify")
        assert r.code == 1 and f"is missing from {ws}.blobs" in r.out, r.out


def test_a_backup_is_private_and_leaves_out_an_altered_evidence_file(
        cli: Any, demo: Path, tmp_path: Path) -> None:
    from app.store.blobs import BlobStore

    archive = tmp_path / "backup.zip"
    assert cli("--workspace", str(demo), "backup", "-o", str(archive)).code == 0
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the whole workspace
    (sha,), *_ = query(demo, "SELECT sha256 FROM evidence_version ORDER BY sha256")
    with BlobStore.beside(demo).path(sha).open("ab") as fh:
        fh.write(b"tampered")
    r = cli("--workspace", str(demo), "backup", "-o", str(tmp_path / "second.zip"))
    assert r.code == 1
    assert f"the evidence file {sha} (altered on disk: it no longer hashes to its name)" \
        in r.err
    with zipfile.ZipFile(tmp_path / "second.zip") as z:
        assert f"blobs/{sha}" not in z.namelist() and len(z.namelist()) == 9


def test_an_evidence_folder_in_the_way_is_named(cli: Any, demo: Path, tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    assert cli("--workspace", str(demo), "backup", "-o", str(archive)).code == 0
    (tmp_path / "new.db.blobs").mkdir()
    r = cli("restore", str(archive), "--workspace", str(tmp_path / "new.db"))
    assert assert_error(r) == (f"error: {tmp_path / 'new.db.blobs'} already exists; restore "
                               "into a new workspace path (nothing is overwritten)")
    assert not (tmp_path / "new.db").exists()
