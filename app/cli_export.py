"""The auditor's exports: `export matrix` (CSV, XLSX or PDF), `export dossier` (the audit
dossier PDF) and `export bundle` (the dossier, the matrix, the OSCAL mapping collections and
the evidence files with a manifest of hashes, optionally signed).

Every file is written to a temporary file beside its target and renamed into place, so a
failure leaves nothing half-written; an existing target is refused without ``--force``.
Progress goes to stderr when it is a terminal. A dossier or bundle whose evidence files are
missing or altered on disk is still written — the dossier marks each one INTEGRITY FAILURE —
but the command exits 1 unless ``--allow-integrity-failures``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from app.cli import Context, pass_ctx
from app.cli_analysis import export_group

FORMATS = ("csv", "xlsx", "pdf")


def _say(message: str) -> None:
    """A progress line on stderr, only when it is a terminal."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _target(path: Path, force: bool) -> Path:
    from app.services.dossier_bundle import check_target

    return check_target(path, force)


@export_group.command("matrix")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="csv (UTF-8), xlsx (a sheet per regulation and a summary) or pdf; "
              "by default the output's suffix.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The file to write.")
@click.option("--regulation", metavar="CODE", help="Only this regulation (its latest version).")
@click.option("--control", metavar="ID", help="Only this control's rows.")
@click.option("--status", help="A control status (implemented…), a review status (draft, "
              "reviewed, approved) or 'gap'.")
@click.option("--as-of", metavar="DATE", help="The matrix as it stood at the end of that "
              "day (YYYY-MM-DD), rebuilt from the audit log.")
@click.option("--excel", is_flag=True, help="CSV for Excel: a byte-order mark and CRLF.")
@click.option("--classification", default="CONFIDENTIAL", show_default=True,
              help="Printed in the header and footer of the XLSX summary and the PDF.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_ctx
def export_matrix(c: Context, fmt: str | None, output: Path, regulation: str | None,
                  control: str | None, status: str | None, as_of: str | None, excel: bool,
                  classification: str, force: bool) -> None:
    """The traceability matrix: one row per clause–control mapping and one per gap, with
    applicability, the control's owner and status, the evidence (with SHA-256), the latest
    test and the linked risks."""
    from app.services.dossier_bundle import write_matrix
    from app.services.traceability import build_matrix, parse_as_of

    day = parse_as_of(as_of)  # the options first, then the target
    fmt = fmt or _format_of(output)
    path = _target(output, force)
    m = build_matrix(c.open(), regulation=regulation, control=control, status=status,
                     as_of=day)
    _say(f"matrix: {len(m.rows):,} rows; writing {fmt}")
    with _writing(path):
        write_matrix(m, fmt, path, classification, excel=excel)
    click.echo(f"wrote {path}: {m.stats['rows']:,} rows ({m.stats['mappings']:,} mappings, "
               f"{m.stats['gaps']:,} gaps) as of audit event {m.audit_head_seq}")


def _format_of(output: Path) -> str:
    from app.errors import InvalidInput

    suffix = output.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidInput(f"cannot tell the format from {output.name!r}: give --format csv, "
                           "xlsx or pdf, or an output ending in .csv, .xlsx or .pdf")
    return suffix


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A file system refusal while writing `path` as one plain sentence (nothing is left:
    the writers write to a temporary file and rename it)."""
    from app.errors import InvalidInput

    try:
        yield
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _dossier_options(organisation: str, scope: str, period: tuple[str, str] | None,
                     version: str, classification: str, preparer: str, reviewer: str,
                     approver: str) -> Any:
    from app.services.dossier_data import check_options

    start, end = period or ("", "")
    return check_options(organisation=organisation, scope=scope, period_from=start,
                         period_to=end, version=version, classification=classification,
                         preparer=preparer, reviewer=reviewer, approver=approver)


def dossier_options(f: Any) -> Any:
    """The options shared by `export dossier` and `export bundle`."""
    for option in reversed((
        click.option("--organisation", default="", help="Printed on the cover."),
        click.option("--scope", default="", help="What the dossier covers (systems, units)."),
        click.option("--period", nargs=2, metavar="FROM TO",
                     help="The period under review (YYYY-MM-DD YYYY-MM-DD)."),
        click.option("--version", "doc_version", default="1.0", show_default=True,
                     help="The dossier's version."),
        click.option("--classification", default="CONFIDENTIAL", show_default=True,
                     help="On the cover and in every page's header and footer."),
        click.option("--preparer", default="", help="Name in the sign-off block."),
        click.option("--reviewer", default="", help="Name in the sign-off block."),
        click.option("--approver", default="", help="Name in the sign-off block."),
        click.option("--allow-integrity-failures", is_flag=True,
                     help="Exit 0 even when evidence files are missing or altered."),
        click.option("--force", is_flag=True, help="Replace an existing file."),
    )):
        f = option(f)
    return f


def _integrity_exit(failures: list[str], allow: bool) -> None:
    if failures:
        click.echo(f"INTEGRITY FAILURE: {len(failures)} evidence file"
                   f"{'s are' if len(failures) > 1 else ' is'} missing or altered:", err=True)
        for line in failures:
            click.echo(f"  {line}", err=True)
        if not allow:
            sys.exit(1)


@export_group.command("dossier")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The PDF to write.")
@dossier_options
@pass_ctx
def export_dossier(c: Context, output: Path, organisation: str, scope: str,
                   period: tuple[str, str] | None, doc_version: str, classification: str,
                   preparer: str, reviewer: str, approver: str,
                   allow_integrity_failures: bool, force: bool) -> None:
    """The audit dossier: cover and sign-off, contents, executive summary, the twelve
    controls, mapping tables, the traceability matrix, the evidence index, AI systems, the
    risk register with heat maps, playbooks, exercises, the audit-trail statement and the
    method. The same workspace state and options give a byte-identical PDF."""
    from app.exporters.dossier_pdf import write_dossier_pdf
    from app.services.dossier_data import gather_dossier

    options = _dossier_options(organisation, scope, period, doc_version, classification,
                               preparer, reviewer, approver)
    path = _target(output, force)
    dossier = gather_dossier(c.open(), options, on_step=lambda s: _say(f"dossier: {s}"))
    _say("dossier: laying out the pages")
    with _writing(path):
        pages = write_dossier_pdf(dossier, path)
    click.echo(f"wrote {path}: {pages} pages, as of audit event {dossier.audit_head_seq} "
               f"({dossier.audit_head[:16]}…)")
    _integrity_exit(dossier.integrity_failures, allow_integrity_failures)


@export_group.command("bundle")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The zip to write.")
@click.option("--all-versions", is_flag=True,
              help="Every version of every evidence file, not only the latest.")
@click.option("--sign", "sign_key", type=click.Path(path_type=Path), metavar="KEYFILE",
              help="Sign the manifest with this Ed25519 private key (`crosswalk keygen`).")
@dossier_options
@pass_ctx
def export_bundle(c: Context, output: Path, all_versions: bool, sign_key: Path | None,
                  organisation: str, scope: str, period: tuple[str, str] | None,
                  doc_version: str, classification: str, preparer: str, reviewer: str,
                  approver: str, allow_integrity_failures: bool, force: bool) -> None:
    """The dossier bundle: the dossier PDF, the matrix as CSV and XLSX, the OSCAL mapping
    collections, the evidence files and manifest.json with every file's SHA-256 and size,
    the audit head and the Crosswalk version; `verify-bundle` checks it offline."""
    from app.services.dossier_bundle import build_bundle

    options = _dossier_options(organisation, scope, period, doc_version, classification,
                               preparer, reviewer, approver)
    path = _target(output, force)
    built = build_bundle(c.open(), path, options, all_versions=all_versions,
                         sign_key=sign_key, force=force,
                         on_step=lambda s: _say(f"bundle: {s}"))
    result = built.result
    from app.domain.text import human_size

    click.echo(f"wrote {path}: {result.files} files, {human_size(result.bytes)}"
               f"{', manifest signed' if result.signed else ''}; manifest SHA-256 "
               f"{result.manifest_sha256}")
    _integrity_exit(built.dossier.integrity_failures, allow_integrity_failures)


