"""The dossier bundle assembled from a workspace: the dossier PDF, the matrix as CSV and XLSX,
the OSCAL mapping collection of each regulation, the evidence files (latest versions, or
every version) and the signed manifest (`app.exporters.bundle.write_bundle`). The CLI's
`export bundle` and the TUI's Export screen both call `build_bundle`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.services.dossier_data import Dossier, DossierOptions
from app.store import Store


def check_target(path: Path, overwrite: bool, *, how: str = "pass --force",
                 name: str | None = None) -> Path:
    """The file an export is about to write: not a folder, not an existing file unless
    `overwrite`, in a folder that exists. `how` says how to overwrite (the CLI's flag, the
    form's box); `name` is how the path is shown (the TUI may hide folders)."""
    from app.errors import InvalidInput

    shown = name or str(path)
    if path.is_dir():
        raise InvalidInput(f"{shown} is a folder; give a file name to write to")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise InvalidInput(f"{shown} already exists; choose another name or {how}")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {shown}: folder "
                           f"{path.parent if name is None else 'of ' + name} does not exist")
    return path


@dataclass(frozen=True, slots=True)
class BuiltBundle:
    result: Any  # app.exporters.bundle.BundleResult
    dossier: Dossier


def write_matrix(matrix: Any, fmt: str, path: Path, classification: str, *,
                 excel: bool = False) -> None:
    """The traceability matrix (`TraceMatrix`) as csv, xlsx or pdf at `path`."""
    from app.exporters.matrix_files import MatrixMeta, write_csv, write_xlsx

    meta = MatrixMeta(title="Traceability matrix", generated_at=matrix.generated_at,
                      audit_head=matrix.audit_head, audit_head_seq=matrix.audit_head_seq,
                      workspace=matrix.workspace, filters=matrix.filters,
                      classification=classification)
    if fmt == "csv":
        write_csv(matrix.rows, path, meta, excel=excel)
    elif fmt == "xlsx":
        write_xlsx(matrix.rows, path, meta)
    else:
        from app.exporters.matrix_pdf import write_matrix_pdf

        write_matrix_pdf(matrix.rows, path, meta)


def evidence_members(store: Store, all_versions: bool, state: dict[tuple[int, int], str]
                     ) -> tuple[list[Any], list[str]]:
    """The evidence files as bundle members (`evidence/EV-3/v2/<name>`, each to hash to its
    recorded SHA-256), and what is left out: files missing or altered on disk (`state`,
    checked when the dossier was gathered) — the dossier marks them and the manifest lists
    them."""
    from app.domain.evidence import evidence_label, stored_name
    from app.exporters.bundle import Member
    from app.services.evidence import blobs_of

    blobs = blobs_of(store)
    sql = ("SELECT v.evidence_id, v.version, v.sha256, v.original_name FROM evidence_version v"
           + ("" if all_versions else " JOIN evidence e ON e.id = v.evidence_id AND "
              "v.version = e.versions") + " ORDER BY v.evidence_id, v.version")
    with store.raw() as run:
        rows = run(sql).fetchall()
    out, omitted = [], []
    for eid, version, sha, name in rows:
        if state.get((eid, version)) != "ok":
            omitted.append(f"the file of {evidence_label(eid)} version {version} (it was "
                           f"{state.get((eid, version), 'missing')} at export)")
            continue
        safe = stored_name(name or "file").replace("/", "_").replace("\\", "_")
        out.append(Member(f"evidence/{evidence_label(eid)}/v{version}/{safe}",
                          blobs.path(sha), sha256=sha))
    return out, omitted


def build_bundle(store: Store, path: Path, options: DossierOptions, *,
                 all_versions: bool = False, sign_key: Path | None = None,
                 force: bool = False, on_step: Callable[[str], None] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> BuiltBundle:
    """Gather the dossier, write its parts to a temporary folder and the bundle to `path`
    (atomically; see `write_bundle`). `on_step(name)` reports each stage, `progress(done,
    total)` the bytes written, and `cancelled()` stops it between files."""
    from app import __version__
    from app.domain.clock import iso_utc
    from app.errors import CrosswalkError
    from app.exporters.bundle import BundleCancelled, Member, write_bundle
    from app.exporters.dossier_pdf import write_dossier_pdf
    from app.services.dossier_data import gather_dossier
    from app.services.oscal_export import mappings_document
    from app.services.workspace import workspace_status

    def step(name: str) -> None:
        if cancelled is not None and cancelled():
            raise BundleCancelled("the bundle was cancelled; nothing was written")
        if on_step is not None:
            on_step(name)

    dossier = gather_dossier(store, options, on_step=step)
    classification = options.classification
    with tempfile.TemporaryDirectory(prefix="crosswalk-bundle-") as tmp:
        work = Path(tmp)
        step("the dossier")
        write_dossier_pdf(dossier, work / "dossier.pdf")
        step("the matrix")
        write_matrix(dossier.matrix, "csv", work / "matrix.csv", classification)
        write_matrix(dossier.matrix, "xlsx", work / "matrix.xlsx", classification)
        members = [Member("dossier.pdf", work / "dossier.pdf"),
                   Member("matrix/traceability-matrix.csv", work / "matrix.csv"),
                   Member("matrix/traceability-matrix.xlsx", work / "matrix.xlsx")]
        step("the OSCAL mappings")
        for code, version, _title in dossier.matrix.regulations:
            try:
                doc = mappings_document(store, code, version)
            except CrosswalkError:  # a regulation nothing is mapped to yet has no collection
                continue
            members.append(Member(f"oscal/{code}-{version}-mappings.json",
                                  data=(json.dumps(doc, indent=2, sort_keys=True,
                                                   ensure_ascii=False) + "\n").encode()))
        files, omitted = evidence_members(store, all_versions, dossier.blob_state)
        members += files
        step(f"writing {len(members)} files")
        result = write_bundle(path, members, audit_head=dossier.audit_head,
                              audit_seq=dossier.audit_head_seq,
                              workspace_id=workspace_status(store).workspace_id,
                              generated_at=iso_utc(store.clock()), version=__version__,
                              audit_head_at=dossier.generated_at, omitted=omitted,
                              sign_key=sign_key, force=force, progress=progress,
                              cancelled=cancelled)
    return BuiltBundle(result, dossier)
