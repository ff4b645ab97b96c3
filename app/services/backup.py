"""Backup and restore of a whole workspace: the database and its evidence files, in one
archive that checks itself.

A backup is a bundle (`app.exporters.bundle`: a zip with `manifest.json` listing every
file's SHA-256 and size, the audit head and the Crosswalk version) holding ``workspace.db``
— a consistent copy taken with SQLite's online backup API, safe while the TUI or another
process writes — and every evidence file the copy names, under ``blobs/<sha256>``, each
hashed again first: one missing or altered on disk is left out and named (in the result and
the manifest's `omitted`). The archive is written 0600, as the workspace is.

`restore` refuses a target that exists, checks the whole archive first (`verify_bundle`:
every hash, safe names, no truncation), then rebuilds the workspace beside the target under
a temporary name, stores every evidence file through the blob store (which hashes it again),
renames the database into place and runs `verify` on it. Any failure removes what it made.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import InvalidInput
from app.store import Store

DATABASE = "workspace.db"
BLOBS = "blobs/"


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    files: int  # the database and the evidence files
    bytes: int
    audit_head_seq: int
    audit_head: str
    missing: tuple[str, ...] = ()  # evidence files the workspace names but no longer has


class RestoreCancelled(InvalidInput):
    """The user stopped a restore; what it had made is removed."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: Path
    evidence_files: int
    verify: Any  # app.services.audit.VerifyReport
    missing: tuple[str, ...] = ()  # already missing when the backup was taken


def backup(store: Store, out: Path, *, force: bool = False,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> BackupResult:
    """Write the backup archive of `store` to `out` (see the module doc); `progress` and
    `cancelled` are those of `write_bundle` (bytes written; polled between chunks)."""
    from app import __version__
    from app.domain.clock import iso_utc
    from app.exporters.bundle import Member, write_bundle
    from app.services.dossier_bundle import check_target
    from app.services.evidence import blobs_of

    check_target(out, force)
    blobs = blobs_of(store)
    with tempfile.TemporaryDirectory(prefix="crosswalk-backup-") as tmp:
        copy = Path(tmp) / DATABASE
        source = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # one consistent snapshot, whoever writes meanwhile
        finally:
            source.close()
        try:
            head = target.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC "
                                  "LIMIT 1").fetchone() or (0, "0" * 64)
            workspace_id = target.execute("SELECT id FROM workspace").fetchone()[0]
            digests = [r[0] for r in target.execute(
                "SELECT DISTINCT sha256 FROM evidence_version ORDER BY sha256")]
        finally:
            target.close()
        members = [Member(DATABASE, copy)]
        missing = []
        for sha in digests:
            now = blobs.rehash(sha)
            if now is None:
                missing.append(f"the evidence file {sha} (missing from {blobs.root})")
            elif now != sha:  # damaged on disk: kept out of the backup, and named
                missing.append(f"the evidence file {sha} (altered on disk: it no longer "
                               "hashes to its name)")
            else:
                members.append(Member(f"{BLOBS}{sha}", blobs.path(sha), sha256=sha))
        result = write_bundle(out, members, audit_head=head[1], audit_seq=head[0],
                              workspace_id=workspace_id, generated_at=iso_utc(store.clock()),
                              version=__version__, omitted=missing, force=force,
                              progress=progress, cancelled=cancelled, private=True)
    return BackupResult(out, result.files, result.bytes, head[0], head[1], tuple(missing))


def restore(archive: Path, target: Path, *,
            cancelled: Callable[[], bool] | None = None) -> RestoreResult:
    """Rebuild the workspace of `archive` at `target`, which must not exist (see the module
    doc); InvalidInput names the first problems of an archive that does not check out.
    `cancelled()` is polled between evidence files (RestoreCancelled; nothing is left)."""
    import shutil
    import zipfile

    from app.services.audit import verify
    from app.services.bundle_verify import verify_bundle
    from app.services.workspace import open_workspace
    from app.store.blobs import BlobStore

    target = Path(target)
    blob_dir = BlobStore.beside(target).root
    for taken in (target, blob_dir):
        if taken.exists() or taken.is_symlink():
            raise InvalidInput(f"{taken} already exists; restore into a new workspace path "
                               "(nothing is overwritten)")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot restore to {target}: folder {target.parent} does not exist")
    report = verify_bundle(archive, noun="backup")
    # Evidence files already missing when the backup was taken are listed in its manifest:
    # the restored workspace lacks them as the original did (and `verify` names them).
    omitted = (report.manifest or {}).get("omitted") or []
    missing = tuple(str(w) for w in omitted) if isinstance(omitted, list) else ()
    expected = {f"the backup was made without {what}" for what in missing}
    problems = [p for p in report.problems if p not in expected]
    if problems:
        shown = "; ".join(problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InvalidInput(f"{archive} does not check out, nothing was restored: {shown}{more}")
    names = [f["name"] for f in report.manifest["files"]]
    if DATABASE not in names or any(n != DATABASE and not n.startswith(BLOBS) for n in names):
        raise InvalidInput(f"{archive} is a Crosswalk bundle but not a workspace backup")
    partial = target.with_name(f".{target.name}.restoring")
    blobs = BlobStore(blob_dir)
    try:
        with zipfile.ZipFile(archive) as z:
            with z.open(DATABASE) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            partial.chmod(0o600)
            stored = 0
            for name in names:
                if cancelled is not None and cancelled():
                    raise RestoreCancelled("restore cancelled; nothing was restored")
                if name.startswith(BLOBS):
                    with z.open(name) as src:
                        got = blobs.put_stream(src)
                    if got.sha256 != name.removeprefix(BLOBS):
                        raise InvalidInput(f"{name} in {archive} does not hash to its name")
                    stored += 1
        partial.replace(target)
        store = open_workspace(target, actor="restore")
        try:
            checked = verify(store)
        finally:
            store.close()
    except BaseException:
        from app.store import files

        partial.unlink(missing_ok=True)
        if target.exists():
            files.remove_with_side_files(target)
        shutil.rmtree(blob_dir, ignore_errors=True)
        raise
    return RestoreResult(target, stored, checked, missing)
