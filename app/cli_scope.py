"""Applicability: `applicability set REF (--not-applicable --justification TEXT |
--applicable)` and `applicability list [CODE]` — the clauses the analyst declared not to apply,
with why (they leave coverage and gaps, and the traceability matrix says why)."""

from __future__ import annotations

import click

from app.cli import Context, cli, emit_json, pass_ctx, table


@cli.group()
def applicability() -> None:
    """Declare clauses not applicable (with a justification), or applicable again."""


@applicability.command("set")
@click.argument("full_ref", metavar="'CODE REF'")
@click.option("--not-applicable", "not_applicable", is_flag=True,
              help="The clause (and every clause inside it) does not apply.")
@click.option("--applicable", "applicable", is_flag=True, help="The clause applies again.")
@click.option("--justification", help="Why it does not apply (required with "
              "--not-applicable).")
@click.option("--json", "as_json", is_flag=True, help="Print the change as one JSON object.")
@pass_ctx
def applicability_set(c: Context, full_ref: str, not_applicable: bool, applicable: bool,
                      justification: str | None, as_json: bool) -> None:
    """Declare a clause not applicable, with why, or applicable again (audited)."""
    from app.errors import InvalidInput
    from app.services.applicability import set_applicability

    if not_applicable == applicable:
        raise InvalidInput("give exactly one of --not-applicable and --applicable")
    change = set_applicability(c.open(write=True), full_ref, applicable=applicable,
                               justification=justification)
    if as_json:
        emit_json({"full_ref": full_ref, "change": change})
    elif not change:
        click.echo(f"{full_ref}: no change")
    else:
        click.echo(f"{full_ref}: {'applicable' if applicable else 'not applicable'}")


@applicability.command("list")
@click.argument("code", required=False)
@click.option("--all", "every", is_flag=True,
              help="Also the clauses declared applicable again.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_ctx
def applicability_list(c: Context, code: str | None, every: bool, as_json: bool) -> None:
    """The clauses declared not applicable, with the justification, in document order."""
    from app.domain.evidence import shown
    from app.services.applicability import list_decisions

    rows = list_decisions(c.open(), code, not_applicable_only=not every)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("every clause applies (no clause is declared not applicable)")
        return
    click.echo(table([(r.full_ref, "applies" if r.applicable else "not applicable",
                       r.decided_at[:10], shown(r.decided_by),
                       shown(" ".join(r.justification.split()))) for r in rows],
                     ("CLAUSE", "DECISION", "ON", "BY", "JUSTIFICATION")))
