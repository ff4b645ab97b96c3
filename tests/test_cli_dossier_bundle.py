"""`export dossier` and `export bundle` end to end on the demo workspace, through the real CLI:
reproducible bytes, a signed bundle that `verify-bundle` accepts, evidence files missing on
disk marked INTEGRITY FAILURE (exit 1 unless allowed), and refusals that write nothing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_error, unchanged


@pytest.fixture
def demo(cli: Any, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    r = cli("--workspace", str(path), "demo", "--no-open")
    assert r.code == 0, r.err
    return path


def run(cli: Any, ws: Path, *args: str) -> Any:
    return cli("--workspace", str(ws), *args)


def test_the_dossier_is_reproducible(cli: Any, demo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    opts = ["--organisation", "Northwind Lending", "--period", "2026-01-01", "2026-12-31"]
    r = run(cli, demo, "export", "dossier", "-o", str(first), *opts)
    assert r.code == 0, r.err
    assert r.out.startswith(f"wrote {first}: ") and "pages, as of audit event" in r.out
    assert run(cli, demo, "export", "dossier", "-o", str(second), *opts).code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"%PDF-")


def test_a_signed_bundle_verifies(cli: Any, demo: Path, tmp_path: Path) -> None:
    key = tmp_path / "audit"
    assert cli("keygen", "-o", str(key)).code == 0
    bundle = tmp_path / "dossier.zip"
    r = run(cli, demo, "export", "bundle", "-o", str(bundle), "--sign", f"{key}.key",
            "--organisation", "Northwind Lending")
    assert r.code == 0, r.err
    assert "manifest signed" in r.out
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
    assert {"dossier.pdf", "matrix/traceability-matrix.csv",
            "matrix/traceability-matrix.xlsx", "manifest.json", "manifest.sig"} <= set(names)
    assert {n for n in names if n.startswith("oscal/")} == {
        "oscal/EU-AI-ACT-2024-06-13-mappings.json", "oscal/GDPR-2016-04-27-mappings.json",
        "oscal/HIPAA-2013-03-26-mappings.json"}
    evidence = [n for n in names if n.startswith("evidence/")]
    assert len(evidence) == 7  # the latest version of each piece of evidence
    status = json.loads(run(cli, demo, "status", "--json").out)
    assert manifest["audit_head"] == status["audit_head"]
    assert {f["name"] for f in manifest["files"]} == set(names) - {"manifest.json",
                                                                    "manifest.sig"}
    ok = cli("verify-bundle", str(bundle), "--pubkey", f"{key}.pub")
    assert ok.code == 0, ok.out + ok.err
    assert ok.out.startswith("bundle intact: ")
    every = tmp_path / "all.zip"
    assert run(cli, demo, "export", "bundle", "-o", str(every), "--all-versions").code == 0
    with zipfile.ZipFile(every) as z:
        assert len([n for n in z.namelist() if n.startswith("evidence/")]) == 8


def test_a_missing_evidence_file_is_an_integrity_failure(cli: Any, demo: Path,
                                                         tmp_path: Path) -> None:
    from app.services.evidence import blobs_of
    from app.services.workspace import open_workspace

    store = open_workspace(demo, actor="tester")
    with store.raw() as q:
        sha1, sha4 = (q("SELECT sha256 FROM evidence_version WHERE evidence_id = ? ORDER BY "
                        "version DESC LIMIT 1", (eid,)).fetchone()[0] for eid in (1, 4))
    missing, altered = blobs_of(store).path(sha1), blobs_of(store).path(sha4)
    store.close()
    missing.chmod(0o644)
    missing.unlink()
    altered.chmod(0o644)
    altered.write_bytes(altered.read_bytes() + b"tampered")
    out = tmp_path / "d.pdf"
    r = run(cli, demo, "export", "dossier", "-o", str(out))
    assert r.code == 1
    assert "INTEGRITY FAILURE: 2 evidence files are missing or altered:" in r.err
    assert "EV-1 version 2: the file is missing" in r.err
    assert "EV-4 version 1: the file is altered" in r.err
    assert out.exists()  # written, with the failure marked in it
    r = run(cli, demo, "export", "dossier", "-o", str(out), "--force",
            "--allow-integrity-failures")
    assert r.code == 0
    bundle = tmp_path / "b.zip"
    r = run(cli, demo, "export", "bundle", "-o", str(bundle), "--allow-integrity-failures")
    assert r.code == 0
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
    assert not [n for n in names if n.startswith(("evidence/EV-1/", "evidence/EV-4/"))]
    # what it holds hashes right, but the signed manifest says what it was made without
    r = cli("verify-bundle", str(bundle))
    assert r.code == 1 and r.out.startswith("bundle NOT intact: 2 problems")
    assert ("the bundle was made without the file of EV-1 version 2 (it was missing at "
            "export)") in r.out
    assert ("the bundle was made without the file of EV-4 version 1 (it was altered at "
            "export)") in r.out


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026-12-31", "2026-01-01"],
     "error: the period ends (2026-01-01) before it starts (2026-12-31)"),
    (["--period", "2026-01-01", "soon"],
     "error: the period's end 'soon' is not a date; write it as YYYY-MM-DD"),
])
def test_refusals_write_nothing(cli: Any, demo: Path, tmp_path: Path, args: list[str],
                                message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for what, name in (("dossier", "d.pdf"), ("bundle", "b.zip")):
        with unchanged(demo):
            r = run(cli, demo, "export", what, "-o", str(out / name), *args)
        assert assert_error(r) == message
    assert list(out.iterdir()) == []


def test_an_existing_bundle_needs_force(cli: Any, demo: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"keep")
    r = run(cli, demo, "export", "bundle", "-o", str(bundle))
    assert assert_error(r) == (f"error: {bundle} already exists; choose another name or "
                               "pass --force")
    assert bundle.read_bytes() == b"keep"
