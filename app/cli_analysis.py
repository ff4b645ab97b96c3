"""CLI commands of the mapping analyses (issue 5): `coverage`, `gaps`, `overlap`, `impact`,
`mapping-check`, and the `export` group with `export graph` (the OSCAL exporter adds
`export oscal` to the same group).

Semantics live in the services' docs: :mod:`app.services.analysis` (coverage, gaps, overlap,
checks), :mod:`app.services.impact` and :mod:`app.services.graph`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli import Context, cli, emit_json, pass_ctx, table

if TYPE_CHECKING:
    from app.services.snapshot import Snapshot


@cli.group("export")
def export_group() -> None:
    """Export the workspace's data (the mapping graph, OSCAL documents)."""


def _snapshot(c: Context, code: str | None, version: str | None, *,
              lean: bool = False, reviewed: bool = False) -> Snapshot:
    """The latest version of every regulation, or the one regulation (version) asked for."""
    from app.errors import InvalidInput
    from app.services.snapshot import load_snapshot

    if code is None and version is not None:
        raise InvalidInput("--version needs a regulation code")
    if lean:  # coverage and gaps: read without SQLAlchemy when the workspace allows it
        from app import settings
        from app.store.reader import Reader

        reader = Reader.open(c.path, busy_timeout=settings.busy_timeout())
        if reader is not None:
            try:
                return load_snapshot(reader, code=code, version=version, lean=True,
                                     reviewed_only=reviewed)
            finally:
                reader.close()
    return load_snapshot(c.open(), code=code, version=version, lean=lean,
                         reviewed_only=reviewed)


def _share(n: int, pct: float) -> str:
    return f"{n} ({pct:.1f} %)"


@cli.command("coverage")
@click.argument("code", required=False)
@click.option("--version", "version", metavar="V", help="A version label (default: latest).")
@click.option("--reviewed", is_flag=True, help="Count only reviewed and approved mappings "
              "(leave the drafts out).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def coverage_cmd(c: Context, code: str | None, version: str | None, reviewed: bool,
                 as_json: bool) -> None:
    """Coverage of the obligations per regulation and per control.

    An obligation (an assessable clause with no assessable clause inside it) is covered
    fully when a full-coverage mapping sits on it or on a clause enclosing it, partially when
    only partial ones do."""
    from app.services.analysis import coverage

    report = coverage(_snapshot(c, code, version, lean=True, reviewed=reviewed))
    if as_json:
        emit_json(report.as_dict())
        return
    regs = [r.as_dict() for r in report.regulations]
    click.echo(table([(r["code"], r["version_label"], str(r["obligations"]),
                       _share(r["full"], r["full_pct"]),
                       _share(r["partial"], r["partial_pct"]),
                       _share(r["none"], r["none_pct"])) for r in regs],
                     ("CODE", "VERSION", "OBLIGATIONS", "FULL", "PARTIAL", "NONE")))
    click.echo("")
    codes = [r["code"] for r in regs]
    cells = {r["code"]: {s["control_id"]: s for s in r["controls"]} for r in regs}
    rows = [(ctl.control_id, *(f"{cells[k][ctl.control_id]['full']} F + "
                               f"{cells[k][ctl.control_id]['partial']} P" for k in codes),
             ctl.name) for ctl in report.controls]
    click.echo(table(rows, ("CONTROL", *codes, "NAME")))
    click.echo("cells: how many obligations the control covers, F fully and P partially")


@cli.command("gaps")
@click.argument("code", required=False)
@click.option("--version", "version", metavar="V", help="A version label (default: latest).")
@click.option("--reviewed", is_flag=True, help="Count only reviewed and approved mappings "
              "(leave the drafts out).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (one object per "
              "article, section or annex).")
@pass_ctx
def gaps_cmd(c: Context, code: str | None, version: str | None, reviewed: bool,
             as_json: bool) -> None:
    """Obligations no mapping reaches, grouped by article, section or annex."""
    from app.services.analysis import gaps

    groups = gaps(_snapshot(c, code, version, lean=True, reviewed=reviewed))
    if as_json:
        emit_json([g.as_dict() for g in groups])
        return
    total = sum(len(g.gaps) for g in groups)
    rows = []
    for g in groups:
        p = g.provision
        refs = ", ".join(_short(x["ref"], p["ref"]) for x in g.gaps)
        rows.append((p["full_ref"], f"{len(g.gaps)}/{g.obligations}",
                     textwrap.shorten(refs, 70, placeholder=" …")))
    if rows:
        click.echo(table(rows, ("PROVISION", "GAPS", "UNMAPPED OBLIGATIONS")))
    click.echo(f"{total} unmapped obligations in {len(groups)} provisions")


def _short(ref: str, provision: str) -> str:
    """`Art. 32(1)(a)` inside `Art. 32` is shown as `(1)(a)`."""
    return ref[len(provision):] if ref.startswith(provision + "(") else ref


@cli.command("overlap")
@click.argument("control_id", metavar="[CONTROL]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (one object per "
              "control).")
@pass_ctx
def overlap_cmd(c: Context, control_id: str | None, as_json: bool) -> None:
    """The clauses of every regulation each control serves ("test once, comply with many")."""
    from app.services.analysis import overlap
    from app.services.controls import get_control
    from app.services.snapshot import load_snapshot

    store = c.open()
    wanted = get_control(store, control_id).id if control_id is not None else None
    rows = overlap(load_snapshot(store), wanted)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    if wanted is not None:
        o = rows[0]
        click.echo(f"{o.control_id}  {o.name}: {o.clause_count} clauses in "
                   f"{len(o.regulations)} regulations")
        click.echo(table([(x["full_ref"], x["relationship"], x["coverage"], x["review_status"])
                          for r in o.regulations for x in r["clauses"]],
                         ("CLAUSE", "RELATIONSHIP", "COVERAGE", "STATUS")))
        return
    click.echo(table([(o.control_id, str(len(o.regulations)), str(o.clause_count),
                       ", ".join(f"{r['code']} {len(r['clauses'])}" for r in o.regulations)
                       or "—") for o in rows],
                     ("CONTROL", "REGULATIONS", "CLAUSES", "BY REGULATION")))


@cli.command("impact")
@click.option("--clause", "clause_ref", metavar="'CODE REF'", help="A clause, e.g. "
              "'GDPR Art. 32(1)(b)'.")
@click.option("--control", "control_id", metavar="ID", help="A control, e.g. SEC-1.")
@click.option("--diff", "diff", nargs=3, metavar="CODE V1 V2", help="The added, changed and "
              "removed clauses between two versions of a regulation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def impact_cmd(c: Context, clause_ref: str | None, control_id: str | None,
               diff: tuple[str, str, str] | None, as_json: bool) -> None:
    """What a change reaches: mappings to re-review, controls, and the clauses of other
    regulations that share those controls."""
    from app.errors import InvalidInput
    from app.services import impact as im

    given = [x for x in (clause_ref, control_id, diff or None) if x is not None]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --clause, --control or --diff")
    store = c.open()
    if clause_ref is not None:
        result = im.impact_of_clause_ref(store, clause_ref)
    elif control_id is not None:
        result = im.impact_of_control_id(store, control_id)
    else:
        assert diff is not None
        result = im.impact_of_diff(store, *diff)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(result.report())


@cli.command("mapping-check")
@click.option("--days", type=click.IntRange(0, 36_500), default=30, show_default=True,
              help="A draft mapping older than this many days is stale.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def mapping_check_cmd(c: Context, days: int, as_json: bool) -> None:
    """Orphan controls (no mapping), no-relationship conflicts, and draft mappings older
    than --days. Exit 1 when any is found."""
    from app.services.analysis import checks
    from app.services.snapshot import load_snapshot

    r = checks(load_snapshot(c.open()), days)
    if as_json:
        emit_json(r.as_dict())
    else:
        click.echo(f"orphan controls ({len(r.orphan_controls)})"
                   + (": " + ", ".join(x["control_id"] for x in r.orphan_controls)
                      if r.orphan_controls else ""))
        click.echo(f"conflicts ({len(r.conflicts)})")
        for x in r.conflicts:
            click.echo(f"  {x['full_ref']} says no-relationship to {x['control_id']}, but "
                       f"{x['other']['full_ref']} ({x['where']}) is {x['other']['relationship']}")
        click.echo(f"draft mappings older than {days} days ({len(r.stale_drafts)})")
        if r.stale_drafts:
            click.echo(table([(f"  {x['full_ref']}", x["control_id"], str(x["age_days"]),
                               x["author"]) for x in r.stale_drafts],
                             ("  CLAUSE", "CONTROL", "AGE (DAYS)", "AUTHOR")))
    if r.found:
        raise click.exceptions.Exit(1)


@export_group.command("graph")
@click.option("--format", "fmt", type=click.Choice(["graphml", "json"]), required=True,
              help="GraphML (yEd, Gephi, networkx) or networkx node-link JSON.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              metavar="PATH", help="The file to write.")
@click.option("--all-versions", is_flag=True, help="Every version of every regulation, not "
              "only the latest.")
@pass_ctx
def export_graph_cmd(c: Context, fmt: str, output: Path, all_versions: bool) -> None:
    """Write the mapping graph: regulations, clauses, controls, and mappings as edges."""
    from app.services.graph import export_graph

    nodes, edges = export_graph(c.open(), output, fmt, every_version=all_versions)
    click.echo(f"wrote {output}: {nodes} nodes, {edges} edges ({fmt})")
