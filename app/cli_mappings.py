"""Commands that map clauses to controls: `map`, `unmap`, `review`, `mappings`."""

from __future__ import annotations

from typing import Any

import click

from app.cli import Context, cli, emit_json, pass_ctx, table
from app.domain.mappings import COVERAGE, MATCHING, RELATIONSHIPS


def _view_dict(view: Any, change: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = view.as_dict()
    if change is not None:
        out["change"] = change
    return out


@cli.command("map")
@click.argument("full_ref", metavar="'CODE REF'")
@click.argument("control")
@click.option("--relationship", "-r", metavar="R",
              help=f"OSCAL relationship: {', '.join(RELATIONSHIPS)}.")
@click.option("--rationale", metavar="TEXT", help="Why the control meets the clause (required).")
@click.option("--matching", metavar="M", help=f"Matching rationale: {', '.join(MATCHING)} "
              "(default semantic).")
@click.option("--strength", metavar="N", help="Strength 0–10 (default 5).")
@click.option("--coverage", metavar="C", help=f"{' or '.join(COVERAGE)} (default partial).")
@click.option("--edit", is_flag=True, help="Change the existing mapping: only the options "
              "given change; a reviewed one goes back to draft.")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping as one JSON object.")
@pass_ctx
def map_cmd(c: Context, full_ref: str, control: str, relationship: str | None,
            rationale: str | None, matching: str | None, strength: str | None,
            coverage: str | None, edit: bool, as_json: bool) -> None:
    """Map a clause to a control: map 'GDPR Art. 32(1)(b)' SEC-1 -r intersects-with
    --rationale '…' [--strength 7] [--coverage full]."""
    from app.errors import InvalidInput
    from app.services.mappings import add_mapping, update_mapping

    store = c.open(write=True)
    if edit:
        view, change = update_mapping(store, full_ref, control, relationship=relationship,
                                      rationale=rationale, matching=matching,
                                      strength=strength, coverage=coverage)
        if as_json:
            emit_json(_view_dict(view, change))
            return
        what = ", ".join(f"{f} {v['from']} → {v['to']}" for f, v in change.items())
        click.echo(f"{view.full_ref} → {view.mapping.control_id}: {what or 'no change'}")
        return
    missing = [n for n, v in (("--relationship", relationship), ("--rationale", rationale))
               if not v]
    if missing:
        raise InvalidInput(f"a new mapping needs {' and '.join(missing)}")
    assert relationship is not None and rationale is not None
    extra = {k: v for k, v in (("matching", matching), ("strength", strength),
                               ("coverage", coverage)) if v is not None}
    view = add_mapping(store, full_ref, control, relationship=relationship,
                       rationale=rationale, **extra)
    for note in view.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        emit_json(_view_dict(view) | {"notes": list(view.notes)})
        return
    m = view.mapping
    click.echo(f"mapped {view.full_ref} → {m.control_id}: {m.relationship}, strength "
               f"{m.strength}, {m.coverage} coverage ({m.review_status})")


@cli.command("unmap")
@click.argument("full_ref", metavar="'CODE REF'")
@click.argument("control")
@pass_ctx
def unmap_cmd(c: Context, full_ref: str, control: str) -> None:
    """Delete a mapping: unmap 'GDPR Art. 32(1)(b)' SEC-1 (the audit log keeps what it said)."""
    from app.services.mappings import remove_mapping

    view = remove_mapping(c.open(write=True), full_ref, control)
    click.echo(f"unmapped {view.full_ref} → {view.mapping.control_id}")


@cli.command("review")
@click.argument("full_ref", metavar="'CODE REF'")
@click.argument("control")
@click.option("--status", required=True, type=click.Choice(["reviewed", "approved", "draft"]),
              help="reviewed, then approved; draft reopens it.")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping as one JSON object.")
@pass_ctx
def review_cmd(c: Context, full_ref: str, control: str, status: str, as_json: bool) -> None:
    """Review a mapping: review 'GDPR Art. 32(1)(b)' SEC-1 --status reviewed|approved."""
    from app.services.mappings import review_mapping

    view, change = review_mapping(c.open(write=True), full_ref, control, status)
    if as_json:
        emit_json(_view_dict(view, change))
        return
    m = view.mapping
    by = f" by {m.reviewed_by} at {m.reviewed_at}" if m.reviewed_by else ""
    click.echo(f"{view.full_ref} → {m.control_id}: {change['review_status']['from']} → "
               f"{m.review_status}{by}")
    if m.review_status == "approved" and m.reviewed_by == m.author:
        click.echo("note: approved by its own author; an auditor may ask for a second person",
                   err=True)


@cli.command("mappings")
@click.argument("code", required=False)
@click.option("--control", metavar="ID", help="Only the mappings to this control.")
@click.option("--status", type=click.Choice(["draft", "reviewed", "approved"]),
              help="Only mappings in this review status.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_ctx
def mappings_cmd(c: Context, code: str | None, control: str | None, status: str | None,
                 as_json: bool) -> None:
    """List mappings (latest versions), in document order: mappings [CODE] [--control ID]."""
    from app.services.mappings import list_mappings

    views = list_mappings(c.open(), code=code, control_id=control, status=status)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    rows = [(v.full_ref, v.mapping.control_id, v.mapping.relationship,
             str(v.mapping.strength), v.mapping.coverage,
             v.mapping.review_status + (" [!]" if v.mapping.flag else "")) for v in views]
    click.echo(table(rows, ("CLAUSE", "CONTROL", "RELATIONSHIP", "STRENGTH", "COVERAGE",
                            "REVIEW")) if rows else "no mappings")
