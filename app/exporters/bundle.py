"""The dossier bundle: a zip of files with `manifest.json` (the SHA-256 and size of each) and,
optionally, `manifest.sig` (an Ed25519 signature of the manifest's exact bytes).

`write_bundle` streams each member into the zip once, hashing as it goes, and writes to a
temp file beside the target that is renamed into place only when everything is written: an
error or a cancel leaves nothing behind. The same inputs give the same bytes (fixed entry
times, attributes and order). `app.services.bundle_verify` checks a bundle offline.

Keys are PEM files: PKCS#8 for the private key (mode 0600, unencrypted), SubjectPublicKeyInfo
for the public one. A key's fingerprint is the SHA-256 of its raw 32-byte public key, in hex.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from app.errors import CrosswalkError, InvalidInput

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

FORMAT = "crosswalk-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RESERVED = frozenset({MANIFEST, SIGNATURE})
MAX_NAME = 240
CHUNK = 1 << 20
TEXT_SUFFIXES = frozenset({".json", ".csv", ".md", ".txt", ".xml"})

_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DRIVE = re.compile(r"^[A-Za-z]:")


class BundleCancelled(CrosswalkError):
    """The caller cancelled `write_bundle`; the temp file is gone and nothing was written."""


@dataclass(frozen=True)
class Member:
    """A file to put in the bundle: from disk (`path`, streamed) or from memory (`data`)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    sha256: str | None = None  # what the file must hash to (an evidence file's record)


@dataclass(frozen=True)
class BundleResult:
    path: Path
    files: int  # members, not counting manifest.json and manifest.sig
    bytes: int  # their total size, uncompressed
    manifest_sha256: str
    signed: bool


def _shown(name: str) -> str:
    from app.domain.evidence import shown

    return shown(name)


def unsafe_reason(name: object) -> str | None:
    """Why `name` cannot be a bundle entry name (a clause to follow "… because it"), or
    None when it is safe."""
    if not isinstance(name, str) or not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    for c in name:
        if c in _BIDI or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp"):
            return f"holds a control character ({_shown(c)})"
    if "\\" in name:
        return "holds a backslash (use / between folders)"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    parts = name.split("/")
    if "" in parts:
        return "has an empty folder or file part (a doubled or trailing /)"
    if "." in parts:
        return "has a '.' part"
    if ".." in parts:
        return "has a '..' part (it would point outside the bundle's folder)"
    return None


def safe_name(name: str) -> str:
    """`name` unchanged when it is a safe zip entry name (relative, / between folders, no
    `.`/`..`/empty parts, no backslash, drive letter or control character, at most
    240 characters); else ValueError with a sentence saying why."""
    reason = unsafe_reason(name)
    if reason is not None:
        raise ValueError(f"the bundle entry name '{_shown(str(name))}' {reason}")
    return name


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """The key's SHA-256 fingerprint: of its raw 32 bytes, in hex."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# ----------------------------------------------------------------------------- writing
def write_bundle(out: Path, members: list[Member], *, audit_head: str, audit_seq: int,
                 workspace_id: str, generated_at: str, version: str,
                 sign_key: Path | None = None, force: bool = False,
                 audit_head_at: str | None = None, omitted: list[str] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 private: bool = False) -> BundleResult:
    """Write `members` (in order), then manifest.json and, with `sign_key`, manifest.sig, to
    the zip `out`. A member with a recorded `sha256` must still hash to it. `omitted` names
    what the bundle should hold but does not (evidence files missing or altered on disk);
    the manifest lists it, and `verify-bundle` reports it. `progress(done, total)` is called
    with member bytes; `cancelled()` is polled between chunks; `private` keeps the file 0600
    (a backup holds the whole workspace). Raises InvalidInput for a bad
    name, key, member or target, and BundleCancelled; in every failure no file is left
    behind."""
    out = Path(out)
    names = _check_members(members)
    key = load_private_key(sign_key) if sign_key is not None else None
    moment = _zip_time(generated_at)
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder; give the bundle a file name")
    if (out.exists() or out.is_symlink()) and not force:
        raise InvalidInput(f"{out} already exists; choose another name or pass --force")
    folder = out.absolute().parent
    if not folder.is_dir():
        raise InvalidInput(f"cannot write {out}: folder {folder} does not exist")
    sizes = [_member_size(m) for m in members]
    total = sum(sizes)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write into {folder}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
                entries = []
                done = 0

                def step(n: int) -> None:
                    nonlocal done
                    done += n
                    if progress is not None:
                        progress(done, total)

                step(0)
                for member, name, size in zip(members, names, sizes, strict=True):
                    digest, written = _write_member(zf, member, name, size, moment, step,
                                                    cancelled)
                    if member.sha256 is not None and digest != member.sha256:
                        raise InvalidInput(f"{_shown(name)} changed while the bundle was "
                                           "written (its SHA-256 is not the recorded one); "
                                           "nothing was written")
                    entries.append({"name": name, "sha256": digest, "size": written})
                manifest: dict[str, Any] = {
                    "format": FORMAT,
                    "crosswalk_version": version,
                    "generated_at": generated_at,
                    "workspace_id": workspace_id,
                    "audit_head": audit_head,
                    "audit_head_seq": audit_seq,
                    "files": entries,
                }
                if audit_head_at is not None:
                    manifest["audit_head_at"] = audit_head_at
                if omitted:  # files the export could not vouch for: signed with the rest
                    manifest["omitted"] = list(omitted)
                if key is not None:
                    manifest["signing_key_sha256"] = fingerprint(key.public_key())
                data = manifest_bytes(manifest)
                zf.writestr(_entry(MANIFEST, moment), data)
                if key is not None:
                    sig = base64.b64encode(key.sign(data)) + b"\n"
                    zf.writestr(_entry(SIGNATURE, moment), sig)
            fh.flush()
            os.fsync(fh.fileno())
        if not private:  # mkstemp makes it 0600; a bundle is made to be shared
            from app.exporters.files import make_shareable

            make_shareable(tmp)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BundleResult(path=out, files=len(members), bytes=done,
                        manifest_sha256=hashlib.sha256(data).hexdigest(),
                        signed=key is not None)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: sorted keys, 2-space indent, UTF-8, a final newline."""
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False)
            + "\n").encode("utf-8")


def _check_members(members: list[Member]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for m in members:
        try:
            name = safe_name(m.name)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if name in RESERVED:
            raise InvalidInput(f"the bundle entry name '{name}' is reserved for the bundle's "
                               "own manifest")
        if name in seen:
            raise InvalidInput(f"the bundle entry name '{_shown(name)}' is given twice")
        if (m.path is None) == (m.data is None):
            raise InvalidInput(f"the bundle entry '{_shown(name)}' needs either a file or "
                               "bytes, not both or neither")
        seen.add(name)
        names.append(name)
    return names


def _member_size(m: Member) -> int:
    if m.data is not None:
        return len(m.data)
    assert m.path is not None
    try:
        st = Path(m.path).stat()
    except OSError as exc:
        raise InvalidInput(f"cannot read {m.path} for the bundle: "
                           f"{exc.strerror or exc}") from None
    if not Path(m.path).is_file():
        raise InvalidInput(f"cannot read {m.path} for the bundle: it is not a file")
    return st.st_size


def _zip_time(generated_at: str) -> tuple[int, int, int, int, int, int]:
    """The zip entries' timestamp: `generated_at` in UTC (zip times have no zone; years
    before 1980 cannot be stored and are clamped)."""
    try:
        when = datetime.fromisoformat(generated_at)
    except (TypeError, ValueError):
        raise InvalidInput(f"the bundle's generation time '{generated_at}' is not an ISO 8601 "
                           "date and time") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    if when.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if when.year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _entry(name: str, moment: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=moment)
    text = Path(name).suffix.lower() in TEXT_SUFFIXES
    info.compress_type = zipfile.ZIP_DEFLATED if text else zipfile.ZIP_STORED
    info.create_system = 3  # Unix, on every platform, so the bytes do not depend on it
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    return info


def _write_member(zf: zipfile.ZipFile, m: Member, name: str, size: int,
                  moment: tuple[int, int, int, int, int, int],
                  step: Callable[[int], None],
                  cancelled: Callable[[], bool] | None) -> tuple[str, int]:
    """Copy one member into the zip, hashing on the way; its SHA-256 and size."""
    info = _entry(name, moment)
    info.file_size = size  # lets zipfile choose ZIP64 headers up front for a large file
    digest = hashlib.sha256()
    if cancelled is not None and cancelled():
        raise BundleCancelled("the bundle was cancelled; nothing was written")
    if m.data is not None:
        digest.update(m.data)
        zf.writestr(info, m.data)
        step(len(m.data))
        return digest.hexdigest(), len(m.data)
    assert m.path is not None
    written = 0
    with ExitStack() as stack:
        try:
            src: BinaryIO = stack.enter_context(Path(m.path).open("rb", buffering=0))
        except OSError as exc:
            raise InvalidInput(f"cannot read {m.path} for the bundle: "
                               f"{exc.strerror or exc}") from None
        dst = stack.enter_context(zf.open(info, "w", force_zip64=size > 0x7FFF0000))
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            try:
                n = src.readinto(buf)
            except OSError as exc:
                raise InvalidInput(f"cannot read {m.path} for the bundle: "
                                   f"{exc.strerror or exc}") from None
            if not n:
                break
            chunk = view[:n]
            digest.update(chunk)
            dst.write(chunk)
            written += n
            step(n)
            if cancelled is not None and cancelled():
                raise BundleCancelled("the bundle was cancelled; nothing was written")
    if written != size:
        raise InvalidInput(f"{m.path} changed while it was being bundled ({size} bytes became "
                           f"{written}); try again")
    return digest.hexdigest(), written


# -------------------------------------------------------------------------------- keys
def generate_keypair(private_path: Path, public_path: Path, *, force: bool = False) -> str:
    """Make an Ed25519 key pair: `private_path` (PKCS#8 PEM, mode 0600) and `public_path`
    (SubjectPublicKeyInfo PEM). Refuses to overwrite either without `force`. Returns the
    key's fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = Path(private_path), Path(public_path)
    if private_path.absolute() == public_path.absolute():
        raise InvalidInput("the private and the public key need two different files")
    for p in (private_path, public_path):
        if p.is_dir():
            raise InvalidInput(f"{p} is a folder; give the key a file name")
        if (p.exists() or p.is_symlink()) and not force:
            raise InvalidInput(f"{p} already exists; choose another name or pass --force")
        if not p.absolute().parent.is_dir():
            raise InvalidInput(f"cannot write {p}: folder {p.absolute().parent} does not "
                               "exist")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_file(private_path, private_pem, 0o600)
    try:
        _write_file(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return fingerprint(key.public_key())


def _write_file(path: Path, data: bytes, mode: int) -> None:
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                        dir=path.absolute().parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_key_file(path: Path, what: str) -> bytes:
    path = Path(path)
    try:
        if path.is_dir():
            raise InvalidInput(f"the {what} {path} is a folder, not a key file")
        with path.open("rb") as fh:
            data = fh.read(1 << 16)
    except FileNotFoundError:
        raise InvalidInput(f"the {what} {path} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    return data


def _kind(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x448, x25519

    kinds = [((rsa.RSAPrivateKey, rsa.RSAPublicKey), "an RSA"),
             ((ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), "an elliptic-curve"),
             ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "a DSA"),
             ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "an Ed448"),
             ((x25519.X25519PrivateKey, x25519.X25519PublicKey), "an X25519"),
             ((x448.X448PrivateKey, x448.X448PublicKey), "an X448")]
    for types, name in kinds:
        if isinstance(key, types):
            return name
    return "an unsupported"


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file `path` (as `crosswalk keygen` writes it);
    InvalidInput saying what is wrong otherwise."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_key_file(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidInput(f"the signing key {path} is protected by a passphrase; Crosswalk "
                           "needs an unencrypted Ed25519 key (make one with `crosswalk "
                           "keygen`)") from None
    except (ValueError, UnsupportedAlgorithm):
        if _loads_public(data):
            raise InvalidInput(f"{path} is a public key; signing needs the private key (the "
                               ".key file `crosswalk keygen` wrote)") from None
        raise InvalidInput(f"the signing key {path} is not a PEM private key (make one with "
                           "`crosswalk keygen`)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"the signing key {path} is {_kind(key)} key; Crosswalk signs with "
                           "Ed25519 keys (make one with `crosswalk keygen`)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file `path`; InvalidInput saying what is wrong
    otherwise (a private key is refused: it should not be handed to whoever verifies)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_key_file(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        if b"PRIVATE KEY-----" in data:
            raise InvalidInput(f"{path} is a private key; checking a signature needs the public "
                               "key (the .pub file `crosswalk keygen` wrote)") from None
        raise InvalidInput(f"the public key {path} is not a PEM public key (expected the .pub "
                           "file `crosswalk keygen` wrote)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"the public key {path} is {_kind(key)} key; Crosswalk bundles are "
                           "signed with Ed25519 keys")
    return key


def _loads_public(data: bytes) -> bool:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True
