"""Check a dossier bundle offline: every entry name safe, every file listed in manifest.json
present with its size and SHA-256, nothing unlisted, and (with the public key) the Ed25519
signature of the manifest.

Nothing is ever extracted or written. A compressed entry is read through `zipfile`'s stream
(which checks its CRC-32 too); a stored one (evidence, PDFs: nearly all the bytes) is read
straight from the zip at the offset zipfile's directory gives, after its local header is
checked against that directory, in 1 MiB reads into one reused buffer, so hashing runs at the
speed of SHA-256 itself. Its CRC-32 is looked at only when the hash does not match, to tell
damage from alteration. An entry with an unsafe name is reported and not read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from app.errors import InvalidInput
from app.exporters.bundle import CHUNK, FORMAT, MANIFEST, SIGNATURE, fingerprint, unsafe_reason

MAX_MANIFEST = 256 << 20  # bytes; a manifest of a million files is about 150 MB
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
NOT_SIGNED_NOTE = "signed; pass --pubkey to check the signature"
BAD_SIGNATURE = "the signature does not match the manifest (wrong key, or the manifest was altered)"


@dataclass
class BundleReport:
    ok: bool
    files: int  # files listed in the manifest
    bytes: int  # bytes hashed (the listed files' contents)
    problems: list[str]
    signed: bool
    signature_ok: bool | None  # None: not checked (no --pubkey, or not signed)
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # worth saying, not failures
    key_sha256: str | None = None  # the fingerprint of the key that verified the signature

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _q(name: str) -> str:
    from app.domain.evidence import shown

    return f"'{shown(name)}'"


def verify_bundle(path: Path, pubkey: Path | None = None,
                  progress: Callable[[int, int], None] | None = None, *,
                  noun: str = "bundle") -> BundleReport:
    """Check the bundle at `path` (and its signature with `pubkey`). Problems found in the
    bundle go into the report; an unusable input (no such file, a garbled or wrong-type key)
    raises InvalidInput. `noun` is what the messages call it (a workspace backup is a
    bundle too)."""
    from app.exporters.bundle import load_public_key

    path = Path(path)
    key = load_public_key(pubkey) if pubkey is not None else None
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder, not a {noun}")
    report = BundleReport(ok=False, files=0, bytes=0, problems=[], signed=False,
                          signature_ok=None, manifest={})
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        report.problems.append(f"{path.name} cannot be read as a zip file: it is truncated or "
                               f"damaged, or not a {noun} ({exc})")
        return report
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    with zf, path.open("rb", buffering=0) as raw:
        _check(zf, raw, key, report, progress, noun)
    report.ok = not report.problems
    return report


def _check(zf: zipfile.ZipFile, raw_file: BinaryIO, key: Any, report: BundleReport,
           progress: Callable[[int, int], None] | None, noun: str) -> None:
    problems = report.problems
    infos = zf.infolist()
    counts = Counter(i.orig_filename for i in infos)
    readable: dict[str, zipfile.ZipInfo] = {}
    unsafe: set[str] = set()
    first = min((i.header_offset for i in infos), default=0)
    if first > 0:  # zipfile reads past data glued in front; a bundle we wrote has none
        problems.append(f"the zip has {first:,} bytes of something else before its first "
                        "entry")
    for info in infos:
        name = info.orig_filename
        reason = unsafe_reason(name)
        if reason is not None:
            unsafe.add(name)
            problems.append(f"entry {_q(name)} has an unsafe name: it {reason}; it was not read")
        elif counts[name] > 1:
            if name not in readable:  # say it once
                problems.append(f"entry {_q(name)} appears {counts[name]} times in the zip; "
                                "which one is meant cannot be told")
            readable[name] = info
        elif info.flag_bits & 0x1:
            problems.append(f"entry {_q(name)} is encrypted; a {noun} never is")
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"entry {_q(name)} uses an unsupported compression method "
                            f"({info.compress_type})")
        elif (info.external_attr >> 16) & 0o170000 == 0o120000:
            problems.append(f"entry {_q(name)} is a symbolic link; a {noun} holds only files")
        else:
            readable[name] = info
    duplicated = {n for n, k in counts.items() if k > 1}

    if MANIFEST not in counts:
        problems.append(f"the {noun} has no {MANIFEST}, so its files cannot be checked")
        return
    if MANIFEST in duplicated or MANIFEST not in readable:
        return
    raw = _read_small(zf, readable[MANIFEST], MAX_MANIFEST, problems, noun)
    if raw is None:
        return
    manifest = _parse_manifest(raw, problems)
    if manifest is None:
        return
    report.manifest = manifest
    _check_signature(zf, readable, duplicated, raw, manifest, key, report)
    omitted = manifest.get("omitted") or []
    for what in omitted if isinstance(omitted, list) else [omitted]:
        # what the export could not vouch for is recorded (and signed) in the manifest
        problems.append(f"the {noun} was made without {what}")

    files = manifest["files"]
    report.files = len(files)
    listed = {f["name"] for f in files}
    total = sum(f["size"] for f in files)
    done = 0
    if progress is not None:
        progress(0, total)
    for f in files:
        name = f["name"]
        if name not in counts:
            problems.append(f"{_q(name)} is listed in the manifest but missing from the {noun}")
            done += f["size"]
            continue
        if name in duplicated or name not in readable:
            done += f["size"]
            continue  # already reported
        info = readable[name]
        if info.compress_type == zipfile.ZIP_STORED:
            size, digest = _hash_stored(raw_file, info, problems, progress, done, total)
        else:
            size, digest = _hash_entry(zf, info, problems, progress, done, total)
        done += f["size"]
        if size is None:
            continue
        report.bytes += size
        if size != f["size"]:
            problems.append(f"{_q(name)} is {size:,} bytes; the manifest says {f['size']:,}")
        elif digest != f["sha256"]:
            if info.compress_type == zipfile.ZIP_STORED and _crc_fails(raw_file, info):
                problems.append(f"{_q(name)} is truncated or damaged (its bytes fail the zip's "
                                "CRC-32 check and do not match its SHA-256 in the manifest)")
            else:
                problems.append(f"{_q(name)} does not match its SHA-256 in the manifest (the "
                                "file was altered)")
    if progress is not None:
        progress(total, total)
    for name in counts:
        if name not in listed and name not in (MANIFEST, SIGNATURE) and name not in unsafe:
            problems.append(f"entry {_q(name)} is in the {noun} but not listed in the manifest")


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int,
                problems: list[str], noun: str) -> bytes | None:
    name = info.orig_filename
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except _DAMAGE as exc:
        problems.append(f"{_q(name)} is truncated or damaged ({_why(exc)})")
        return None
    if len(data) > limit:
        problems.append(f"{_q(name)} is larger than {limit >> 20} MB; it is not a {noun}'s")
        return None
    return data


_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
           RuntimeError)


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else text


def _parse_manifest(raw: bytes, problems: list[str]) -> dict[str, Any] | None:
    """The manifest, when it is a crosswalk-bundle/1 manifest; else None and the problems."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{MANIFEST} is not valid UTF-8 JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        problems.append(f"{MANIFEST} is not a {FORMAT} manifest"
                        + (f" (its format is {found!r})" if found is not None else ""))
        return None
    files = manifest.get("files")
    if not isinstance(files, list):
        problems.append(f"{MANIFEST} has no list of files")
        return None
    before = len(problems)
    seen: set[str] = set()
    for i, f in enumerate(files, 1):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            problems.append(f"{MANIFEST} file entry {i} has no name")
            continue
        name = f["name"]
        reason = unsafe_reason(name)
        if reason is not None:
            problems.append(f"{MANIFEST} lists {_q(name)}, an unsafe name: it {reason}")
        elif name in (MANIFEST, SIGNATURE):
            problems.append(f"{MANIFEST} lists {_q(name)}, a name kept for the bundle itself")
        elif name in seen:
            problems.append(f"{MANIFEST} lists {_q(name)} twice")
        size = f.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{MANIFEST} gives {_q(name)} no valid size")
        if not isinstance(f.get("sha256"), str) or not _HEX64.match(f["sha256"]):
            problems.append(f"{MANIFEST} gives {_q(name)} no valid SHA-256")
        seen.add(name)
    if len(problems) > before:
        return None
    return manifest


def _check_signature(zf: zipfile.ZipFile, readable: dict[str, zipfile.ZipInfo],
                     duplicated: set[str], raw: bytes, manifest: dict[str, Any], key: Any,
                     report: BundleReport) -> None:
    from cryptography.exceptions import InvalidSignature

    problems = report.problems
    names_key = manifest.get("signing_key_sha256")
    present = SIGNATURE in readable or SIGNATURE in duplicated
    report.signed = present
    if not present:
        if names_key is not None:
            problems.append(f"{MANIFEST} names a signing key but {SIGNATURE} is missing (the "
                            "signature was removed)")
        if key is not None:
            problems.append(f"the bundle is not signed (it has no {SIGNATURE}), so --pubkey "
                            "cannot be checked")
            report.signature_ok = False
        return
    if SIGNATURE in duplicated:
        report.signature_ok = False if key is not None else None
        return
    if key is None:
        report.notes.append(NOT_SIGNED_NOTE)
        return
    report.signature_ok = False
    text = _read_small(zf, readable[SIGNATURE], 4096, problems, "bundle")
    if text is None:
        return
    try:
        sig = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    if len(sig) != 64:
        problems.append(f"{SIGNATURE} is not an Ed25519 signature (64 bytes, in base64)")
        return
    try:
        key.verify(sig, raw)
    except InvalidSignature:
        problems.append(BAD_SIGNATURE)
        return
    report.signature_ok = True
    report.key_sha256 = fingerprint(key)


def _hash_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, problems: list[str],
                progress: Callable[[int, int], None] | None, base: int,
                total: int) -> tuple[int | None, str]:
    """The size and SHA-256 of one entry's contents, read as a stream; (None, "") and a
    problem when it cannot be read to the end (zipfile checks its CRC-32 on the way)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as fh:
            read = fh.read
            update = digest.update
            while chunk := read(CHUNK):
                update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(base + size, total)
    except _DAMAGE as exc:
        problems.append(f"{_q(info.orig_filename)} is truncated or damaged ({_why(exc)})")
        return None, ""
    return size, digest.hexdigest()


_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a zip local file header (zipfile's structFileHeader)


def _stored_span(fh: BinaryIO, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Where a stored entry's bytes start in the zip and how many there are, after checking
    its local header against the central directory (as zipfile does); ValueError if not."""
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL.size)
    if len(head) < _LOCAL.size:
        raise EOFError("its header is cut off")
    fields = _LOCAL.unpack(head)
    if fields[0] != b"PK\x03\x04":
        raise ValueError("bad local header signature")
    if fields[4] != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise ValueError("its local header does not match the zip's directory")
    name_len, extra_len = fields[10], fields[11]
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if fh.read(name_len) != info.orig_filename.encode(encoding):
        raise ValueError("the name in its local header differs from the zip's directory")
    return info.header_offset + _LOCAL.size + name_len + extra_len, info.compress_size


def _hash_stored(fh: BinaryIO, info: zipfile.ZipInfo, problems: list[str],
                 progress: Callable[[int, int], None] | None, base: int,
                 total: int) -> tuple[int | None, str]:
    """Like `_hash_entry`, for an uncompressed entry: its bytes read straight from the zip
    into one reused buffer (no copies, no CRC pass: the SHA-256 is the check; the CRC is
    looked at only to tell damage from alteration when the hash does not match)."""
    digest = hashlib.sha256()
    size = 0
    try:
        start, length = _stored_span(fh, info)
        fh.seek(start)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        update = digest.update
        while size < length:
            n = fh.readinto(view[:min(CHUNK, length - size)])
            if not n:
                raise EOFError(f"it ends after {size:,} of its {length:,} bytes")
            update(view[:n])
            size += n
            if progress is not None:
                progress(base + size, total)
    except (*_DAMAGE, struct.error) as exc:
        problems.append(f"{_q(info.orig_filename)} is truncated or damaged ({_why(exc)})")
        return None, ""
    return size, digest.hexdigest()


def _crc_fails(fh: BinaryIO, info: zipfile.ZipInfo) -> bool:
    """Whether a stored entry's bytes fail the CRC-32 in the zip's directory."""
    try:
        start, length = _stored_span(fh, info)
        fh.seek(start)
        crc, left = 0, length
        while left and (chunk := fh.read(min(CHUNK, left))):
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
    except (*_DAMAGE, struct.error):
        return True
    return crc != info.CRC
