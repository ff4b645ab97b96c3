"""Dossier bundles on real files: writing (streamed members, manifest, Ed25519 signature,
same inputs → same bytes, safe names, nothing half-written) and `crosswalk verify-bundle`
through the real entry point catching every kind of damage: altered, missing, added or cut
entries, path-traversing names, a wrong key, an altered manifest, and keys of the wrong kind."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.exporters.bundle import (
    BundleCancelled,
    Member,
    generate_keypair,
    load_private_key,
    load_public_key,
    safe_name,
    write_bundle,
)
from app.services.bundle_verify import BAD_SIGNATURE, verify_bundle

HEAD = "ab" * 32
AT = "2026-11-26T09:00:00Z"
NON_ASCII = "évidence/Prüfbericht ü 報告.pdf"


def _meta() -> dict[str, object]:
    return {"audit_head": HEAD, "audit_seq": 42, "workspace_id": "0000ws", "generated_at": AT,
            "version": "0.1.0"}


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """A 5 MB file of random bytes (not compressible), written to disk."""
    path = tmp_path / "src" / "model-card.bin"
    path.parent.mkdir()
    rnd = __import__("random").Random(7)
    path.write_bytes(rnd.randbytes(5 * 1024 * 1024 + 123))
    return path


def _members(big: Path) -> list[Member]:
    return [Member("evidence/1/v1/model-card.bin", path=big),
            Member("matrix.csv", data=b"control,clause\nC-01,GDPR Art. 5\n" * 50),
            Member(NON_ASCII, data=b"%PDF-1.7 not really\n")]


@pytest.fixture
def keys(tmp_path: Path, cli) -> tuple[Path, Path, str]:
    r = cli("keygen", "-o", str(tmp_path / "keys" / "signer"))
    assert r.code == 2 and "does not exist" in r.err  # the folder is not made for you
    (tmp_path / "keys").mkdir()
    r = cli("keygen", "-o", str(tmp_path / "keys" / "signer"))
    assert r.code == 0, r.err
    fp = r.out.split("key sha256 ")[1].strip()
    return tmp_path / "keys" / "signer.key", tmp_path / "keys" / "signer.pub", fp


def _bundle(tmp_path: Path, big: Path, name: str = "dossier.zip", **kw: object) -> Path:
    out = tmp_path / name
    write_bundle(out, _members(big), **_meta(), **kw)  # type: ignore[arg-type]
    return out


def _rewrite(src: Path, dst: Path, *, change: dict[str, bytes | None] | None = None,
             add: dict[str, bytes] | None = None) -> Path:
    """A copy of the zip `src` with entries replaced (bytes) or dropped (None), and added."""
    change = change or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    zout.writestr(info, change[info.filename])
                continue
            zout.writestr(info, zin.read(info))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------- writing
def test_write_then_verify_unsigned(tmp_path: Path, big: Path, cli) -> None:
    seen: list[tuple[int, int]] = []
    out = tmp_path / "dossier.zip"
    result = write_bundle(out, _members(big), **_meta(),  # type: ignore[arg-type]
                          progress=lambda d, t: seen.append((d, t)))
    total = big.stat().st_size + len(_members(big)[1].data or b"") + 20
    assert (result.path, result.files, result.bytes, result.signed) == (out, 3, total, False)
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) > 5
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == ["evidence/1/v1/model-card.bin", "matrix.csv", NON_ASCII,
                         "manifest.json"]
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
        assert kinds["evidence/1/v1/model-card.bin"] == zipfile.ZIP_STORED
        assert kinds[NON_ASCII] == zipfile.ZIP_STORED
        assert kinds["matrix.csv"] == kinds["manifest.json"] == zipfile.ZIP_DEFLATED
        assert all(i.date_time == (2026, 11, 26, 9, 0, 0) for i in zf.infolist())
        raw = zf.read("manifest.json")
    manifest = json.loads(raw)
    assert raw.decode("utf-8") == json.dumps(manifest, sort_keys=True, indent=2,
                                             ensure_ascii=False) + "\n"
    assert hashlib.sha256(raw).hexdigest() == result.manifest_sha256
    assert manifest["format"] == "crosswalk-bundle/1"
    assert (manifest["audit_head"], manifest["audit_head_seq"], manifest["workspace_id"],
            manifest["generated_at"], manifest["crosswalk_version"]) == (
        HEAD, 42, "0000ws", AT, "0.1.0")
    assert "signing_key_sha256" not in manifest
    assert manifest["files"][0] == {
        "name": "evidence/1/v1/model-card.bin", "size": big.stat().st_size,
        "sha256": hashlib.sha256(big.read_bytes()).hexdigest()}
    assert [f["name"] for f in manifest["files"]] == names[:3]
    assert _listing(tmp_path) == ["dossier.zip", "src"]  # no temp file left

    r = cli("verify-bundle", str(out))
    assert r.code == 0, r.out + r.err
    assert r.out.startswith("bundle intact: 3 files, 5.2 MB, not signed\n")
    assert f"audit head seq 42 {HEAD}" in r.out
    r = cli("verify-bundle", str(out), "--json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["ok"] and doc["files"] == 3 and doc["bytes"] == total
    assert doc["signed"] is False and doc["signature_ok"] is None and doc["problems"] == []


def test_signed_bundle_verifies_with_its_key(tmp_path: Path, big: Path, cli,
                                             keys: tuple[Path, Path, str]) -> None:
    private, public, fp = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert len(fp) == 64
    out = _bundle(tmp_path, big, sign_key=private)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist()[-2:] == ["manifest.json", "manifest.sig"]
        manifest = json.loads(zf.read("manifest.json"))
        sig = base64.b64decode(zf.read("manifest.sig"))
    assert len(sig) == 64 and manifest["signing_key_sha256"] == fp
    assert "manifest.pub" not in _listing(tmp_path)

    r = cli("verify-bundle", str(out), "--pubkey", str(public))
    assert r.code == 0, r.out + r.err
    assert r.out.startswith(f"bundle intact: 3 files, 5.2 MB, signature verified "
                            f"(key sha256 {fp})\n")
    r = cli("verify-bundle", str(out))  # signed, but no key given: said, not a failure
    assert r.code == 0, r.out
    assert "signed; pass --pubkey to check the signature" in r.out
    report = verify_bundle(out, public)
    assert report.ok and report.signed and report.signature_ok and report.key_sha256 == fp


def test_same_inputs_give_the_same_bytes(tmp_path: Path, big: Path,
                                         keys: tuple[Path, Path, str]) -> None:
    a = _bundle(tmp_path, big, "a.zip")
    b = _bundle(tmp_path, big, "b.zip")
    assert a.read_bytes() == b.read_bytes()
    c = _bundle(tmp_path, big, "c.zip", sign_key=keys[0])
    d = _bundle(tmp_path, big, "d.zip", sign_key=keys[0])  # Ed25519 signing is deterministic
    assert c.read_bytes() == d.read_bytes() != a.read_bytes()


def test_keygen_refuses_to_overwrite(tmp_path: Path, cli, keys: tuple[Path, Path, str]) -> None:
    private, _public, fp = keys
    before = private.read_bytes()
    r = cli("keygen", "-o", str(tmp_path / "keys" / "signer"))
    assert r.code == 2 and r.err.startswith("error: ") and "--force" in r.err
    assert private.read_bytes() == before
    r = cli("keygen", "-o", str(tmp_path / "keys" / "signer.key"), "--force")  # suffix dropped
    assert r.code == 0 and fp not in r.out and private.read_bytes() != before
    assert sorted(_listing(tmp_path / "keys")) == ["signer.key", "signer.pub"]


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a\\b", "C:x", "c:/x",
                                  "", "a//b", "a/", "./a", "a/./b", "bad\x00name", "tab\tname",
                                  "rtl\u202etxt.pdf", "x" * 241])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="the bundle entry name"):
        safe_name(name)
    with pytest.raises(InvalidInput, match="the bundle entry name"):
        write_bundle(tmp_path / "x.zip", [Member(name, data=b"x")], **_meta())  # type: ignore
    assert _listing(tmp_path) == []


def test_safe_names_pass_unchanged() -> None:
    for name in ("a", "evidence/12/v3/report v2.pdf", "a..b/c.", NON_ASCII, "x" * 240,
                 "über/…/emoji 😀.txt"):
        assert safe_name(name) == name


def test_duplicate_and_reserved_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"'a\.txt' is given twice"):
        write_bundle(tmp_path / "x.zip", [Member("a.txt", data=b"1"),
                                          Member("a.txt", data=b"2")], **_meta())  # type: ignore
    with pytest.raises(InvalidInput, match="reserved"):
        write_bundle(tmp_path / "x.zip", [Member("manifest.json", data=b"{}")],
                     **_meta())  # type: ignore[arg-type]
    assert _listing(tmp_path) == []


def test_existing_output_needs_force(tmp_path: Path, big: Path) -> None:
    out = tmp_path / "dossier.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(InvalidInput, match="already exists; choose another name or pass --force"):
        _bundle(tmp_path, big)
    assert out.read_bytes() == b"keep me"
    _bundle(tmp_path, big, force=True)
    assert verify_bundle(out).ok
    assert _listing(tmp_path) == ["dossier.zip", "src"]


def test_unwritable_targets_are_named(tmp_path: Path, big: Path) -> None:
    with pytest.raises(InvalidInput, match=r"folder .*nowhere does not exist"):
        write_bundle(tmp_path / "nowhere" / "d.zip", _members(big), **_meta())  # type: ignore
    with pytest.raises(InvalidInput, match="is a folder"):
        write_bundle(tmp_path / "src", _members(big), **_meta(), force=True)  # type: ignore
    with pytest.raises(InvalidInput, match=r"cannot read .*missing\.bin"):
        write_bundle(tmp_path / "d.zip", [Member("m", path=tmp_path / "missing.bin")],
                     **_meta())  # type: ignore[arg-type]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            with pytest.raises(InvalidInput, match=r"cannot write into .*locked"):
                write_bundle(locked / "d.zip", _members(big), **_meta())  # type: ignore
        finally:
            locked.chmod(0o700)
    assert _listing(tmp_path) in (["src"], ["locked", "src"])


def test_cancel_or_failure_leaves_nothing_behind(tmp_path: Path, big: Path) -> None:
    calls = 0

    def cancel_after_two() -> bool:
        nonlocal calls
        calls += 1
        return calls > 2

    with pytest.raises(BundleCancelled, match="nothing was written"):
        _bundle(tmp_path, big, cancelled=cancel_after_two)
    assert _listing(tmp_path) == ["src"]

    def boom(done: int, total: int) -> None:
        if done > 2_000_000:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        _bundle(tmp_path, big, progress=boom)
    assert _listing(tmp_path) == ["src"]
    # a failure while replacing an existing bundle keeps the old one
    out = tmp_path / "dossier.zip"
    out.write_bytes(b"old")
    with pytest.raises(BundleCancelled):
        _bundle(tmp_path, big, force=True, cancelled=lambda: True)
    assert out.read_bytes() == b"old" and _listing(tmp_path) == ["dossier.zip", "src"]


# -------------------------------------------------------------------------- verifying
def test_a_changed_byte_in_a_member_is_caught(tmp_path: Path, big: Path, cli) -> None:
    good = _bundle(tmp_path, big)
    data = bytearray(big.read_bytes())
    data[1_000_000] ^= 0x01
    bad = _rewrite(good, tmp_path / "bad.zip",
                   change={"evidence/1/v1/model-card.bin": bytes(data)})
    r = cli("verify-bundle", str(bad))
    assert r.code == 1
    assert "bundle NOT intact: 1 problem\n" in r.out
    assert ("'evidence/1/v1/model-card.bin' does not match its SHA-256 in the manifest"
            in r.out)
    # a member of another size
    bad2 = _rewrite(good, tmp_path / "bad2.zip", change={"matrix.csv": b"short"})
    r = cli("verify-bundle", str(bad2))
    assert r.code == 1 and "'matrix.csv' is 5 bytes; the manifest says 1,600" in r.out


def test_a_flipped_byte_in_the_zip_itself_is_damage(tmp_path: Path, big: Path, cli) -> None:
    out = _bundle(tmp_path, big)
    raw = bytearray(out.read_bytes())
    raw[3_000_000] ^= 0xFF  # inside the stored evidence file; its CRC no longer matches
    out.write_bytes(bytes(raw))
    r = cli("verify-bundle", str(out))
    assert r.code == 1
    assert "'evidence/1/v1/model-card.bin' is truncated or damaged" in r.out


def test_removed_and_added_members_are_caught(tmp_path: Path, big: Path, cli) -> None:
    good = _bundle(tmp_path, big)
    gone = _rewrite(good, tmp_path / "gone.zip", change={NON_ASCII: None})
    r = cli("verify-bundle", str(gone))
    assert r.code == 1
    assert f"'{NON_ASCII}' is listed in the manifest but missing from the bundle" in r.out
    extra = _rewrite(good, tmp_path / "extra.zip", add={"evidence/9/v1/planted.exe": b"MZ"})
    r = cli("verify-bundle", str(extra))
    assert r.code == 1
    assert ("entry 'evidence/9/v1/planted.exe' is in the bundle but not listed in the manifest"
            in r.out)
    no_manifest = _rewrite(good, tmp_path / "nm.zip", change={"manifest.json": None})
    r = cli("verify-bundle", str(no_manifest))
    assert r.code == 1 and "the bundle has no manifest.json" in r.out
    other = _rewrite(good, tmp_path / "other.zip",
                     change={"manifest.json": b'{"format": "something-else/2", "files": []}'})
    r = cli("verify-bundle", str(other))
    assert r.code == 1 and "manifest.json is not a crosswalk-bundle/1 manifest" in r.out


def test_truncated_and_non_zip_files(tmp_path: Path, big: Path, cli) -> None:
    out = _bundle(tmp_path, big)
    raw = out.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 10, 10):
        out.write_bytes(raw[:cut])
        r = cli("verify-bundle", str(out))
        assert r.code == 1, r.err
        assert "truncated or damaged" in r.out
    text = tmp_path / "notes.txt"
    text.write_text("not a zip at all\n")
    r = cli("verify-bundle", str(text))
    assert r.code == 1 and "notes.txt cannot be read as a zip file" in r.out
    r = cli("verify-bundle", str(tmp_path / "absent.zip"))
    assert r.code == 2 and r.err == f"error: {tmp_path / 'absent.zip'} does not exist\n"


def test_path_traversing_and_duplicate_entries(tmp_path: Path, big: Path, cli) -> None:
    good = _bundle(tmp_path, big)
    evil = _rewrite(good, tmp_path / "evil.zip",
                    add={"../evil": b"owned", "/etc/cron.d/x": b"* * * * * root sh"})
    r = cli("verify-bundle", str(evil))
    assert r.code == 1
    assert "entry '../evil' has an unsafe name: it has a '..' part" in r.out
    assert "entry '/etc/cron.d/x' has an unsafe name: it is an absolute path" in r.out
    assert not (tmp_path.parent / "evil").exists()  # never extracted
    assert r.out.count("evil") == 1  # one sentence per entry
    glued = tmp_path / "glued.zip"
    glued.write_bytes(b"#!/bin/sh\necho hi\n" + good.read_bytes())
    r = cli("verify-bundle", str(glued))
    assert r.code == 1 and "the zip has 18 bytes of something else before its first" in r.out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate; that is the point
        dup = _rewrite(good, tmp_path / "dup.zip", add={"matrix.csv": b"forged,row\n"})
    r = cli("verify-bundle", str(dup))
    assert r.code == 1 and "entry 'matrix.csv' appears 2 times in the zip" in r.out


def test_wrong_key_and_altered_manifest(tmp_path: Path, big: Path, cli,
                                        keys: tuple[Path, Path, str]) -> None:
    private, public, _fp = keys
    out = _bundle(tmp_path, big, sign_key=private)
    r = cli("keygen", "-o", str(tmp_path / "other"))
    assert r.code == 0
    r = cli("verify-bundle", str(out), "--pubkey", str(tmp_path / "other.pub"))
    assert r.code == 1
    assert BAD_SIGNATURE in r.out
    assert BAD_SIGNATURE == ("the signature does not match the manifest (wrong key, or the "
                             "manifest was altered)")

    # a member swapped and the manifest updated to match, the old signature kept
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    forged = b"control,clause\nC-01,nothing to see\n"
    manifest["files"][1].update(size=len(forged), sha256=hashlib.sha256(forged).hexdigest())
    text = (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    altered = _rewrite(out, tmp_path / "altered.zip",
                       change={"matrix.csv": forged, "manifest.json": text})
    r = cli("verify-bundle", str(altered), "--pubkey", str(public))
    assert r.code == 1 and "NOT intact: 1 problem\n" in r.out and BAD_SIGNATURE in r.out
    # the signature removed: the manifest still names the key
    stripped = _rewrite(out, tmp_path / "stripped.zip", change={"manifest.sig": None})
    r = cli("verify-bundle", str(stripped))
    assert r.code == 1 and "manifest.sig is missing (the signature was removed)" in r.out
    # a garbled signature
    garbled = _rewrite(out, tmp_path / "garbled.zip", change={"manifest.sig": b"bm90IGl0\n"})
    r = cli("verify-bundle", str(garbled), "--pubkey", str(public))
    assert r.code == 1 and "manifest.sig is not an Ed25519 signature" in r.out


def test_pubkey_for_an_unsigned_bundle_fails(tmp_path: Path, big: Path, cli,
                                             keys: tuple[Path, Path, str]) -> None:
    out = _bundle(tmp_path, big)
    r = cli("verify-bundle", str(out), "--pubkey", str(keys[1]))
    assert r.code == 1
    assert "the bundle is not signed (it has no manifest.sig)" in r.out


def test_keys_of_the_wrong_kind(tmp_path: Path, big: Path, cli,
                                keys: tuple[Path, Path, str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private, public, _fp = keys
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_priv = tmp_path / "rsa.key"
    rsa_priv.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    rsa_pub = tmp_path / "rsa.pub"
    rsa_pub.write_bytes(rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    garbled = tmp_path / "garbled.pub"
    garbled.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    out = _bundle(tmp_path, big, sign_key=private)

    cases = [(rsa_pub, "is an RSA key; Crosswalk bundles are signed with Ed25519 keys"),
             (private, "is a private key; checking a signature needs the public key"),
             (garbled, "is not a PEM public key"),
             (tmp_path / "absent.pub", "does not exist")]
    for key, message in cases:
        r = cli("verify-bundle", str(out), "--pubkey", str(key))
        assert r.code == 2, (key, r.out)
        assert r.err.startswith("error: ") and message in r.err, r.err
        assert r.err.count("\n") == 1

    for key, message in [(rsa_priv, "is an RSA key; Crosswalk signs with Ed25519 keys"),
                         (public, "is a public key; signing needs the private key"),
                         (garbled, "is not a PEM private key")]:
        with pytest.raises(InvalidInput, match=message):
            write_bundle(tmp_path / "new.zip", _members(big), **_meta(),  # type: ignore
                         sign_key=key)
        with pytest.raises(InvalidInput, match=message):
            load_private_key(key)
    assert not (tmp_path / "new.zip").exists()
    assert load_public_key(public) is not None


def test_generate_keypair_api(tmp_path: Path) -> None:
    fp = generate_keypair(tmp_path / "k.key", tmp_path / "k.pub")
    assert len(fp) == 64
    with pytest.raises(InvalidInput, match="already exists"):
        generate_keypair(tmp_path / "k.key", tmp_path / "k2.pub")
    assert not (tmp_path / "k2.pub").exists()
    with pytest.raises(InvalidInput, match="two different files"):
        generate_keypair(tmp_path / "same", tmp_path / "same")
    assert generate_keypair(tmp_path / "k.key", tmp_path / "k.pub", force=True) != fp
    assert _listing(tmp_path) == ["k.key", "k.pub"]


def test_a_member_that_changed_since_it_was_checked_is_refused(tmp_path: Path) -> None:
    from app.errors import InvalidInput
    from app.exporters.bundle import Member, write_bundle

    src = tmp_path / "evidence.bin"
    src.write_bytes(b"as recorded")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput, match="changed while the bundle was written"):
        write_bundle(out / "b.zip", [Member("evidence/EV-1/v1/evidence.bin", src,
                                            sha256="0" * 64)],
                     audit_head="a" * 64, audit_seq=1, workspace_id="w",
                     generated_at="2026-11-27T09:00:00.000Z", version="0.1.0")
    assert list(out.iterdir()) == []
