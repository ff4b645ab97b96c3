"""Evidence: attach files with provenance, add versions, link to controls and clauses, export.

A file is stored in the blob store first (streamed, hashed, fsynced, renamed), and only then is
its row written, in one audited transaction that checks the blob is still there. So a row never
names a missing blob; a blob whose row never came (the process died, the transaction failed) is
removed at once when possible, and otherwise by the next attach (`collect_garbage`).
Versions are append-only: a new file is a new version, and every version stays retrievable.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlmodel import col, select

from app.domain import evidence as ev
from app.domain.text import clean_text
from app.errors import CrosswalkError, ImportFailed, InvalidInput, NotFound, WorkspaceError
from app.store import Store
from app.store.blobs import BlobStore, Progress, Stored
from app.store.models import Evidence, EvidenceLink, EvidenceVersion, Workspace
from app.store.store import Tx

ORPHAN_AGE = 3600.0  # seconds: a blob younger than this may belong to an attach in progress


def blobs_of(store: Store) -> BlobStore:
    return BlobStore.beside(store.path)


def today(store: Store) -> date:
    """Today's date (UTC) by the workspace's clock: what evidence status is measured against."""
    return store.clock().date()


def expiring_days(store: Store) -> int:
    with store.read() as s:
        row = s.exec(select(Workspace)).first()
    return row.expiring_days if row is not None else ev.DEFAULT_EXPIRING_DAYS


def set_expiring_days(store: Store, days: int | str) -> dict[str, Any]:
    """Change the window in which evidence counts as expiring; returns the change."""
    try:
        value = ev.check_expiring_days(days)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with store.write() as tx:
        row = tx.session.exec(select(Workspace)).one()
        return tx.update(row, {"expiring_days": value}, "workspace.update", "workspace", row.id)


# ----------------------------------------------------------------------- checking input
def _invalid(exc: ValueError) -> InvalidInput:
    return InvalidInput(str(exc))


def check_record(*, title: str | None = None, kind: str | None = None,
                 description: str | None = None, classification: str | None = None,
                 source_system: str | None = None) -> dict[str, Any]:
    """The record's fields that were given, checked and normalised (the TUI form uses it)."""
    out: dict[str, Any] = {}
    try:
        if title is not None:
            out["title"] = clean_text(title, "the title", ev.MAX_TITLE, required=True)
        if kind is not None:
            out["kind"] = ev.choose(kind, ev.KINDS, "kind")
        if description is not None:
            out["description"] = clean_text(description, "the description",
                                            ev.MAX_DESCRIPTION, multiline=True)
        if classification is not None:
            out["classification"] = ev.choose(classification, ev.CLASSIFICATIONS,
                                              "classification")
        if source_system is not None:
            out["source_system"] = clean_text(source_system, "the source system",
                                              ev.MAX_SHORT)
    except ValueError as exc:
        raise _invalid(exc) from None
    return out


def check_provenance(store: Store, *, collected_at: str | None = None,
                     collected_by: str | None = None, period_from: str | None = None,
                     period_to: str | None = None, valid_until: str | None = None,
                     note: str | None = None) -> dict[str, Any]:
    """A version's provenance, checked: real dates in a sensible order, nothing collected in
    the future. Collected at defaults to today, collected by to the acting user."""
    now = today(store)
    try:
        collected = ev.parse_moment(collected_at, "collected at") if collected_at else \
            now.isoformat()
        start = ev.parse_date(period_from, "period from") if period_from else None
        end = ev.parse_date(period_to, "period to") if period_to else None
        until = ev.parse_date(valid_until, "valid until") if valid_until else None
        who = clean_text(collected_by if collected_by is not None else store.actor,
                         "collected by", ev.MAX_SHORT, required=True)
        text = clean_text(note or "", "the note", ev.MAX_SHORT * 5, multiline=True)
    except ValueError as exc:
        raise _invalid(exc) from None
    day = ev.day_of(collected)
    if day > now:
        raise InvalidInput(f"collected at {collected} is in the future (today is {now})")
    if start and end and start > end:
        raise InvalidInput(f"the period covered runs backwards: from {start} to {end}")
    if until and until < day:
        raise InvalidInput(f"valid until {until} is before the evidence was collected ({day})")
    return {"collected_at": collected, "collected_by": who,
            "period_from": start.isoformat() if start else None,
            "period_to": end.isoformat() if end else None,
            "valid_until": until.isoformat() if until else None, "note": text}


def _evidence_id(text: str | int) -> int:
    if isinstance(text, int):
        return text
    try:
        return ev.parse_id(text, "EV")
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def _target_rows(store: Store, controls: list[str], clauses: list[str]
                 ) -> tuple[list[str], list[tuple[int, str]]]:
    """Check every control and clause named before anything is written."""
    from app.services.mappings import _control
    from app.services.regulations import find_clause

    control_ids = list(dict.fromkeys(_control(c) for c in controls))
    clause_rows: list[tuple[int, str]] = []
    for ref in dict.fromkeys(clauses):
        reg, clause = find_clause(store, ref)
        assert clause.id is not None
        clause_rows.append((clause.id, f"{reg.code} {clause.ref}"))
    return control_ids, clause_rows


# ----------------------------------------------------------------------- the file
@dataclass(frozen=True, slots=True)
class Source:
    """What is attached: a file on disk, or (kind "link") a URL stored as a small text file."""

    path: Path | None = None
    url: str | None = None

    @property
    def name(self) -> str:
        if self.path is not None:
            return ev.stored_name(os.fsdecode(self.path))
        return "link.url"

    def media_type(self, head: bytes) -> str:
        if self.url is not None:
            return ev.LINK_MEDIA_TYPE
        return media_type(self.name, head)


def media_type(name: str, head: bytes) -> str:
    """The media type by the file's first bytes where they are telling, else by its name."""
    for magic, kind in ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n", "image/png"),
                        (b"\xff\xd8\xff", "image/jpeg"), (b"PK\x03\x04", None)):
        if head.startswith(magic) and kind:
            return kind
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    if b"\0" not in head[:4096]:
        try:
            head[:4096].decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError:
            pass
    return "application/octet-stream"


def _check_url(url: str) -> str:
    try:
        value = clean_text(url, "the link", 2000, required=True)
    except ValueError as exc:
        raise _invalid(exc) from None
    if "://" not in value and not value.startswith("urn:"):
        raise InvalidInput(f"the link {value!r} is not a URL (like https://… or urn:…)")
    return value


def _store_source(blobs: BlobStore, source: Source,
                  on_progress: Progress | None = None) -> tuple[Stored, str]:
    """Put the file in the blob store; (what was stored, its media type)."""
    import io

    if source.url is not None:
        data = (_check_url(source.url) + "\n").encode("utf-8")
        return blobs.put_stream(io.BytesIO(data)), ev.LINK_MEDIA_TYPE
    assert source.path is not None
    try:
        stored = blobs.put_file(source.path, on_progress)
    except WorkspaceError as exc:  # the disk is full, the blob folder is read-only…
        raise WorkspaceError(f"cannot attach {source.path}: {exc}") from None
    with blobs.path(stored.sha256).open("rb") as fh:
        head = fh.read(4096)
    return stored, source.media_type(head)


def _discard(blobs: BlobStore, stored: Stored | None) -> None:
    """Remove a blob this attach created when its row did not come (never an older one)."""
    if stored is not None and stored.new:
        with contextlib.suppress(OSError):  # else collect_garbage removes it later
            blobs.path(stored.sha256).unlink(missing_ok=True)


def _attach(store: Store, source: Source, write: Any,
            on_progress: Progress | None = None) -> Any:
    """Store the file, then run `write(tx, stored, media_type)` in one transaction that first
    checks the blob is there; undo the blob if the transaction fails."""
    blobs = blobs_of(store)
    stored: Stored | None = None
    try:
        stored, mtype = _store_source(blobs, source, on_progress)
        with store.write() as tx:
            if not blobs.has(stored.sha256):  # removed meanwhile by another process
                raise ImportFailed(f"{source.name}: the stored copy vanished before it was "
                                   "recorded; attach it again")
            result = write(tx, stored, mtype)
    except BaseException:
        _discard(blobs, stored)
        raise
    collect_garbage(store, every=ORPHAN_AGE)  # after success: a failure changes nothing
    return result


def collect_garbage(store: Store, *, min_age: float = ORPHAN_AGE,
                    every: float | None = None) -> list[str]:
    """Remove interrupted copies and blobs no version names (older than `min_age` seconds,
    so an attach still running in another process keeps its blob); the digests removed.
    With `every`, do nothing if the last sweep was less than `every` seconds ago (attaching
    sweeps at most hourly: listing 20,000 blobs takes a few hundred milliseconds)."""
    blobs = blobs_of(store)
    marker = blobs.root / ".swept"
    if every is not None:
        try:
            if marker.stat().st_mtime > time.time() - every:
                return []
        except OSError:
            pass
    if blobs.root.is_dir():
        with contextlib.suppress(OSError):
            marker.touch()
    blobs.sweep_temporary(min_age=min_age)
    on_disk = list(blobs.digests())
    if not on_disk:
        return []
    with store.read() as s:
        used = set(s.exec(select(EvidenceVersion.sha256)).all())
    cutoff = time.time() - min_age
    removed = []
    for digest in on_disk:
        if digest in used:
            continue
        p = blobs.path(digest)
        try:
            if p.stat().st_mtime <= cutoff:
                p.unlink()
                removed.append(digest)
        except OSError:
            continue
    return removed


# ----------------------------------------------------------------------- writing
@dataclass(frozen=True, slots=True)
class Attached:
    """What `add_evidence` and `add_version` return."""

    evidence: Evidence
    version: EvidenceVersion
    duplicate_of: tuple[str, ...] = ()  # other evidence already holding the same file


def add_evidence(store: Store, source: Source, *, title: str, kind: str = "document",
                 description: str = "", classification: str = "internal",
                 source_system: str = "", controls: list[str] | None = None,
                 clauses: list[str] | None = None, on_progress: Progress | None = None,
                 **provenance: str | None) -> Attached:
    """Attach a new piece of evidence (version 1) and link it; all or nothing.
    `on_progress(done, total)` follows the copy in bytes; raising from it cancels."""
    if source.url is not None and kind == "document":
        kind = "link"
    record = check_record(title=title, kind=kind, description=description,
                          classification=classification, source_system=source_system)
    prov = check_provenance(store, **provenance)
    control_ids, clause_rows = _target_rows(store, controls or [], clauses or [])

    def write(tx: Tx, stored: Stored, mtype: str) -> Attached:
        row = Evidence(**record, versions=1, created_at=tx.now, created_by=store.actor,
                       updated_at=tx.now)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("evidence.create", "evidence", row.id, record)
        version = _add_version_row(tx, row.id, 1, stored, mtype, source.name, prov)
        for cid in control_ids:
            _link_row(tx, row.id, control_id=cid, what=cid)
        for clause_id, ref in clause_rows:
            _link_row(tx, row.id, clause_id=clause_id, what=ref)
        return Attached(row, version, _duplicates(tx, stored.sha256, row.id))

    return _attach(store, source, write, on_progress)


def add_version(store: Store, evidence_id: str | int, source: Source, *,
                on_progress: Progress | None = None, **provenance: str | None) -> Attached:
    """Attach a new file to existing evidence as its next version (`on_progress` as in
    `add_evidence`)."""
    eid = _evidence_id(evidence_id)
    get_evidence_row(store, eid)  # a clear error before the file is copied
    prov = check_provenance(store, **provenance)

    def write(tx: Tx, stored: Stored, mtype: str) -> Attached:
        row = tx.session.get(Evidence, eid)
        assert row is not None
        row.versions += 1
        row.updated_at = tx.now
        tx.session.add(row)
        tx.record("evidence.update", "evidence", eid, {"versions": row.versions})
        version = _add_version_row(tx, eid, row.versions, stored, mtype, source.name, prov)
        return Attached(row, version, _duplicates(tx, stored.sha256, eid))

    return _attach(store, source, write, on_progress)


def _add_version_row(tx: Tx, evidence_id: int, number: int, stored: Stored, mtype: str,
                     name: str, prov: dict[str, Any]) -> EvidenceVersion:
    row = EvidenceVersion(evidence_id=evidence_id, version=number, sha256=stored.sha256,
                          size=stored.size, media_type=mtype, original_name=name,
                          added_at=tx.now, added_by=tx.store.actor, **prov)
    tx.session.add(row)
    tx.session.flush()
    assert row.id is not None
    tx.record("evidence_version.create", "evidence_version", row.id, {
        "evidence_id": evidence_id, "version": number, "sha256": stored.sha256,
        "size": stored.size, "media_type": mtype, "original_name": name, **prov})
    return row


def _duplicates(tx: Tx, sha256: str, evidence_id: int) -> tuple[str, ...]:
    ids = tx.session.exec(select(EvidenceVersion.evidence_id).where(
        EvidenceVersion.sha256 == sha256, EvidenceVersion.evidence_id != evidence_id)).all()
    return tuple(ev.evidence_label(i) for i in sorted(set(ids)))


def _link_row(tx: Tx, evidence_id: int, *, control_id: str | None = None,
              clause_id: int | None = None, what: str) -> EvidenceLink:
    q = select(EvidenceLink).where(EvidenceLink.evidence_id == evidence_id)
    q = q.where(EvidenceLink.control_id == control_id) if control_id else \
        q.where(EvidenceLink.clause_id == clause_id)
    if tx.session.exec(q).first() is not None:
        raise InvalidInput(f"{ev.evidence_label(evidence_id)} is already linked to {what}")
    row = EvidenceLink(evidence_id=evidence_id, control_id=control_id, clause_id=clause_id,
                       created_at=tx.now, created_by=tx.store.actor)
    tx.session.add(row)
    tx.session.flush()
    assert row.id is not None
    tx.record("evidence_link.create", "evidence_link", row.id, {
        "evidence_id": evidence_id, "control_id": control_id, "clause_id": clause_id,
        "target": what})
    return row


def link_evidence(store: Store, evidence_id: str | int, *, controls: list[str] = (),  # type: ignore[assignment]
                  clauses: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """Link evidence to controls and clauses; the targets linked (all or nothing)."""
    eid = _evidence_id(evidence_id)
    get_evidence_row(store, eid)
    control_ids, clause_rows = _target_rows(store, list(controls), list(clauses))
    if not control_ids and not clause_rows:
        raise InvalidInput("name a control or a clause to link to")
    with store.write() as tx:
        for cid in control_ids:
            _link_row(tx, eid, control_id=cid, what=cid)
        for clause_id, ref in clause_rows:
            _link_row(tx, eid, clause_id=clause_id, what=ref)
    return control_ids + [ref for _, ref in clause_rows]


def unlink_evidence(store: Store, evidence_id: str | int, *, control: str | None = None,
                    clause: str | None = None) -> str:
    """Remove one link (the audit log keeps that it existed); the target unlinked."""
    eid = _evidence_id(evidence_id)
    get_evidence_row(store, eid)
    control_ids, clause_rows = _target_rows(store, [control] if control else [],
                                            [clause] if clause else [])
    if len(control_ids) + len(clause_rows) != 1:
        raise InvalidInput("name one control or one clause to unlink")
    with store.write() as tx:
        q = select(EvidenceLink).where(EvidenceLink.evidence_id == eid)
        if control_ids:
            what = control_ids[0]
            q = q.where(EvidenceLink.control_id == what)
        else:
            what = clause_rows[0][1]
            q = q.where(EvidenceLink.clause_id == clause_rows[0][0])
        row = tx.session.exec(q).first()
        if row is None:
            raise NotFound(f"{ev.evidence_label(eid)} is not linked to {what}")
        link_id = row.id
        tx.session.delete(row)
        tx.record("evidence_link.delete", "evidence_link", link_id or 0,
                  {"evidence_id": eid, "target": what})
    return what


def update_evidence(store: Store, evidence_id: str | int, **changes: str | None
                    ) -> tuple[Evidence, dict[str, Any]]:
    """Change the record's title, kind, description, classification or source system."""
    eid = _evidence_id(evidence_id)
    get_evidence_row(store, eid)
    wanted = check_record(**{k: v for k, v in changes.items() if v is not None})
    if not wanted:
        raise InvalidInput("nothing to change: give a title, kind, description, "
                           "classification or source system")
    with store.write() as tx:
        row = _row(tx.session, eid)
        change = tx.update(row, wanted, "evidence.update", "evidence", eid)
    return row, change


# ----------------------------------------------------------------------- reading
def _row(session: Any, eid: int) -> Evidence:
    row = session.get(Evidence, eid)
    if row is None:
        raise NotFound(f"no evidence {ev.evidence_label(eid)} in the workspace")
    return row


def get_evidence_row(store: Store, evidence_id: str | int) -> Evidence:
    with store.read() as s:
        return _row(s, _evidence_id(evidence_id))


@dataclass(slots=True)
class LinkView:
    kind: str  # "control" or "clause"
    target: str  # SEC-1, or "GDPR Art. 32(1)(b)"
    title: str
    created_at: str
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "title": self.title,
                "created_at": self.created_at, "created_by": self.created_by}


@dataclass(slots=True)
class EvidenceDetail:
    """A piece of evidence with all its versions (oldest first), links and the tests that
    used it, and its status today."""

    evidence: Evidence
    versions: list[EvidenceVersion]
    links: list[LinkView]
    tests: list[Any] = field(default_factory=list)  # ControlTest rows
    status: str = ev.CURRENT

    @property
    def latest(self) -> EvidenceVersion:
        return self.versions[-1]

    @property
    def label(self) -> str:
        assert self.evidence.id is not None
        return ev.evidence_label(self.evidence.id)

    def as_dict(self) -> dict[str, Any]:
        e = self.evidence
        return {"id": self.label, "title": e.title, "kind": e.kind,
                "description": e.description, "classification": e.classification,
                "source_system": e.source_system, "status": self.status,
                "created_at": e.created_at, "created_by": e.created_by,
                "updated_at": e.updated_at,
                "versions": [version_dict(v) for v in self.versions],
                "links": [ln.as_dict() for ln in self.links],
                "tests": [t.id and ev.test_label(t.id) for t in self.tests]}


def version_dict(v: EvidenceVersion) -> dict[str, Any]:
    return {"version": v.version, "sha256": v.sha256, "size": v.size,
            "media_type": v.media_type, "original_name": v.original_name,
            "collected_at": v.collected_at, "collected_by": v.collected_by,
            "period_from": v.period_from, "period_to": v.period_to,
            "valid_until": v.valid_until, "note": v.note, "added_at": v.added_at,
            "added_by": v.added_by}


def get_evidence(store: Store, evidence_id: str | int) -> EvidenceDetail:
    from app.services.control_tests import tests_using

    eid = _evidence_id(evidence_id)
    with store.read() as s:
        row = _row(s, eid)
        versions = list(s.exec(select(EvidenceVersion).where(
            EvidenceVersion.evidence_id == eid).order_by(col(EvidenceVersion.version))).all())
        dbapi = s.connection().connection.dbapi_connection
        links = [LinkView(*row) for row in dbapi.execute(
            "SELECT CASE WHEN l.control_id IS NOT NULL THEN 'control' ELSE 'clause' END, "
            "coalesce(l.control_id, r.code || ' ' || c.ref), coalesce(k.name, c.title, ''), "
            "l.created_at, l.created_by FROM evidence_link l "
            "LEFT JOIN control k ON k.id = l.control_id "
            "LEFT JOIN clause c ON c.id = l.clause_id "
            "LEFT JOIN regulation r ON r.id = c.regulation_id "
            "WHERE l.evidence_id = ? ORDER BY l.control_id IS NULL, k.position, r.code, "
            "c.position", (eid,)).fetchall()]
    window = expiring_days(store)
    detail = EvidenceDetail(row, versions, links,
                            status=ev.status_of(versions[-1].valid_until, today(store), window))
    detail.tests = tests_using(store, [v.id for v in versions if v.id is not None])
    return detail


def find_version(detail: EvidenceDetail, number: int | None) -> EvidenceVersion:
    if number is None:
        return detail.latest
    for v in detail.versions:
        if v.version == number:
            return v
    raise NotFound(f"{detail.label} has no version {number} (versions 1–"
                   f"{detail.latest.version})")


def blob_file(store: Store, version: EvidenceVersion) -> Path:
    """Where a version's file is stored (it may be missing: `verify` says so)."""
    return blobs_of(store).path(version.sha256)


def export_evidence(store: Store, evidence_id: str | int, dest: Path, *,
                    version: int | None = None, overwrite: bool = False) -> tuple[Path, int]:
    """Copy a version's file out to `dest` (a file, or a folder to write it into under its
    original name), checking on the way that it is still the file that was attached."""
    import hashlib
    import tempfile

    detail = get_evidence(store, evidence_id)
    v = find_version(detail, version)
    if dest.is_dir():
        dest = dest / _safe_export_name(v.original_name)
    if dest.exists() and not overwrite:
        raise InvalidInput(f"{dest} already exists; choose another name or pass --force")
    if not dest.parent.is_dir():
        raise InvalidInput(f"cannot write {dest}: folder {dest.parent} does not exist")
    src = blob_file(store, v)
    digest = hashlib.sha256()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".crosswalk-export-", dir=dest.parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write into {dest.parent}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as fh:  # fd closed if src is gone
            _copy(fh, out, digest)
        if digest.hexdigest() != v.sha256:
            raise CrosswalkError(f"the stored file of {detail.label} version {v.version} has "
                                 "been altered on disk (its SHA-256 no longer matches); "
                                 "nothing was exported — run `crosswalk verify`")
        tmp.chmod(0o644)
        tmp.replace(dest)
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        raise CrosswalkError(f"the stored file of {detail.label} version {v.version} is "
                             f"missing from {blobs_of(store).root}; run `crosswalk verify`"
                             ) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {dest}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest, v.version


def _copy(src: BinaryIO, out: BinaryIO, digest: Any) -> None:
    from app.store.blobs import CHUNK

    while chunk := src.read(CHUNK):
        out.write(chunk)
        digest.update(chunk)


def _safe_export_name(name: str) -> str:
    """A file name safe to create: no folders, no control or bidi characters."""
    cleaned = ev.shown(name).replace("/", "_").replace("\\", "_").lstrip(".")
    return cleaned[-200:] or "evidence"  # the end holds the extension
