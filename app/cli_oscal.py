"""CLI of the OSCAL exchange (issue 5, item 4): `export oscal`, and the mapping-collection
branch of `import` (called from `import_cmd` when the file is a mapping collection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import Context, _print_plan, emit_json, pass_ctx
from app.cli_analysis import export_group
from app.errors import InvalidInput


@export_group.command("oscal")
@click.option("--what", type=click.Choice(["catalog", "controls", "mappings"]), required=True,
              help="catalog: a regulation as an OSCAL catalog (needs CODE); controls: the "
                   "twelve controls as an OSCAL catalog; mappings: a regulation's mappings as "
                   "an OSCAL mapping-collection (needs CODE).")
@click.argument("code", required=False)
@click.option("--version", "version", metavar="V", help="Regulation version (default: the "
              "latest).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="File to write (JSON); '-' for stdout.")
@pass_ctx
def export_oscal(c: Context, what: str, code: str | None, version: str | None,
                 output: Path) -> None:
    """Export OSCAL 1.2 JSON: `--what controls` (the control catalog), `--what catalog CODE`
    (a regulation version's clauses as a catalog; legal text only where it was imported into
    the workspace) or `--what mappings CODE` (its mappings as a mapping-collection whose
    source is that catalog and target the control catalog). UUIDs are stable, so exporting an
    unchanged workspace again gives the same file.

    \b
    crosswalk export oscal --what controls -o crosswalk-controls.catalog.json
    crosswalk export oscal --what catalog GDPR -o gdpr.catalog.json
    crosswalk export oscal --what mappings GDPR -o gdpr.mapping.json
    """
    from app.exporters.oscal_common import dumps
    from app.services import oscal_export

    store = c.open()
    if what == "controls":
        if code:
            raise InvalidInput("--what controls takes no CODE (the control catalog is one)")
        doc = oscal_export.controls_document(store)
    else:
        if not code:
            raise InvalidInput(f"--what {what} needs a regulation CODE, e.g. GDPR")
        make = (oscal_export.regulation_document if what == "catalog"
                else oscal_export.mappings_document)
        doc = make(store, code, version)
    data = dumps(doc)
    if str(output) == "-":
        click.echo(data.decode("utf-8"), nl=False)
        return
    _write_atomically(output, data)
    click.echo(f"wrote {output} ({_summary(doc)})", err=True)


def _summary(doc: dict[str, Any]) -> str:
    if "mapping-collection" in doc:
        n = sum(len(m["maps"]) for m in doc["mapping-collection"]["mappings"])
        return f"OSCAL mapping-collection, {n} maps"
    return "OSCAL catalog"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a failure never leaves half a file."""
    from app.exporters.files import atomic_target

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def import_mapping_collection(c: Context, file: Path, *, code: str | None,
                              version: str | None, dry_run: bool, as_json: bool) -> None:
    """`crosswalk import FILE` for an OSCAL mapping collection: plan, then (unless dry run)
    commit in one audited transaction; prints the plan like a regulation import."""
    from app.services.imports import check_code
    from app.services.mapping_import import (
        commit_mapping_import,
        plan_mapping_import,
        read_mapping_collection,
    )

    doc = read_mapping_collection(file)
    store = c.open(write=not dry_run)
    plan = plan_mapping_import(store, doc, code=check_code(code) if code else None,
                               version=version)
    created = 0 if dry_run else commit_mapping_import(store, plan)
    if as_json:
        emit_json(plan.as_dict() | {"committed": not dry_run, "created": created})
        return
    _print_plan(plan, dry_run)
