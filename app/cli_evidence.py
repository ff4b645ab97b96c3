"""Evidence and control tests: `evidence add|version|link|unlink|edit|list|show|export|window`
and `test add|list`.

Every name that came from a file (its original name) or was typed is printed through
`app.domain.evidence.shown`, so control characters and right-to-left marks appear as escapes;
`--json` keeps the raw values (JSON escapes them itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import Context, cli, emit_json, pass_ctx, table
from app.domain.text import ellipsis

PROVENANCE = ("collected_at", "collected_by", "period_from", "period_to", "valid_until", "note")


def _provenance_options(f: Any) -> Any:
    """The options describing where and when a file was collected (add and version)."""
    for decl, help_text in reversed((
        ("--collected-at", "When it was collected: YYYY-MM-DD or YYYY-MM-DDTHH:MM "
                           "(default today)."),
        ("--collected-by", "Who collected it (default: the actor)."),
        ("--period-from", "Start of the period it covers (YYYY-MM-DD)."),
        ("--period-to", "End of the period it covers (YYYY-MM-DD)."),
        ("--valid-until", "The last day it may be relied on (YYYY-MM-DD)."),
        ("--note", "A note on this version."),
    )):
        metavar = "NAME" if decl == "--collected-by" else "TEXT" if decl == "--note" else "DATE"
        f = click.option(decl, metavar=metavar, help=help_text)(f)
    return f


def _source(file: Path | None, url: str | None) -> Any:
    from app.errors import InvalidInput
    from app.services.evidence import Source

    if file is not None and url is not None:
        raise InvalidInput("give either FILE or --url, not both")
    if file is None and url is None:
        raise InvalidInput("give the FILE to attach, or --url for a link")
    return Source(path=file) if file is not None else Source(url=url)


def _sha(sha256: str) -> str:
    return sha256[:12] + "…"


def _added_line(attached: Any) -> str:
    from app.domain.evidence import evidence_label, shown
    from app.domain.text import human_size

    e, v = attached.evidence, attached.version
    return (f"added {evidence_label(e.id)} v{v.version} \"{shown(e.title)}\" "
            f"(sha256 {_sha(v.sha256)}, {human_size(v.size)}, {shown(v.media_type)})")


def _duplicate_notes(attached: Any) -> None:
    if attached.duplicate_of:
        click.echo(f"note: the same file is already attached as "
                   f"{', '.join(attached.duplicate_of)}", err=True)


def _report_attached(store: Any, attached: Any, as_json: bool) -> None:
    """What `evidence add` and `evidence version` print (duplicates as notes on stderr)."""
    _duplicate_notes(attached)
    if as_json:
        emit_json(_attached_json(store, attached))
    else:
        click.echo(_added_line(attached))


def _attached_json(store: Any, attached: Any) -> dict[str, Any]:
    from app.services.evidence import get_evidence

    detail = get_evidence(store, attached.evidence.id)
    return detail.as_dict() | {"added_version": attached.version.version,
                               "duplicate_of": list(attached.duplicate_of)}


# ----------------------------------------------------------------------- evidence
@cli.group()
def evidence() -> None:
    """Attach, version, link, list and export evidence files."""


@evidence.command("add")
@click.argument("file", required=False, type=click.Path(path_type=Path, readable=False))
@click.option("--url", metavar="URL", help="Attach a link instead of a file (kind link).")
@click.option("--title", required=True, help="What the evidence is (required).")
@click.option("--kind", metavar="K", help="document (default), configuration, log, screenshot, "
              "report, test-result or link.")
@click.option("--description", metavar="TEXT", help="A longer description.")
@click.option("--control", "controls", metavar="ID", multiple=True,
              help="Link to this control (repeatable).")
@click.option("--clause", "clauses", metavar="'CODE REF'", multiple=True,
              help="Link to this clause, e.g. 'GDPR Art. 32(1)(b)' (repeatable).")
@_provenance_options
@click.option("--classification", metavar="C", help="public, internal (default), confidential "
              "or restricted.")
@click.option("--source-system", metavar="S", help="The system it came from.")
@click.option("--json", "as_json", is_flag=True, help="Print the evidence as one JSON object.")
@pass_ctx
def evidence_add(c: Context, file: Path | None, url: str | None, title: str,
                 kind: str | None, description: str | None, controls: tuple[str, ...],
                 clauses: tuple[str, ...], classification: str | None,
                 source_system: str | None, as_json: bool, **provenance: str | None) -> None:
    """Attach a file (or --url) as new evidence, version 1, linked to controls and clauses:
    evidence add report.pdf --title 'Q3 access review' --control SEC-1."""
    from app.services.evidence import add_evidence

    source = _source(file, url)
    record = {k: v for k, v in (("kind", kind), ("description", description),
                                ("classification", classification),
                                ("source_system", source_system)) if v is not None}
    store = c.open(write=True)
    attached = add_evidence(store, source, title=title, controls=list(controls),
                            clauses=list(clauses), **record, **provenance)
    _report_attached(store, attached, as_json)


@evidence.command("version")
@click.argument("evidence_id", metavar="ID")
@click.argument("file", required=False, type=click.Path(path_type=Path, readable=False))
@click.option("--url", metavar="URL", help="A new link instead of a file.")
@_provenance_options
@click.option("--json", "as_json", is_flag=True, help="Print the evidence as one JSON object.")
@pass_ctx
def evidence_version(c: Context, evidence_id: str, file: Path | None, url: str | None,
                     as_json: bool, **provenance: str | None) -> None:
    """Attach a new file to existing evidence as its next version (earlier versions stay):
    evidence version EV-3 report-q4.pdf --valid-until 2027-03-31."""
    from app.services.evidence import add_version

    source = _source(file, url)
    store = c.open(write=True)
    attached = add_version(store, evidence_id, source, **provenance)
    _report_attached(store, attached, as_json)


@evidence.command("link")
@click.argument("evidence_id", metavar="ID")
@click.option("--control", "controls", metavar="ID", multiple=True,
              help="A control to link to (repeatable).")
@click.option("--clause", "clauses", metavar="'CODE REF'", multiple=True,
              help="A clause to link to (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def evidence_link(c: Context, evidence_id: str, controls: tuple[str, ...],
                  clauses: tuple[str, ...], as_json: bool) -> None:
    """Link evidence to controls and clauses (all or nothing):
    evidence link EV-3 --control SEC-1 --clause 'GDPR Art. 32(1)(b)'."""
    from app.domain.evidence import evidence_label, parse_id, shown
    from app.services.evidence import link_evidence

    linked = link_evidence(c.open(write=True), evidence_id, controls=list(controls),
                           clauses=list(clauses))
    label = evidence_label(parse_id(evidence_id, "EV"))
    if as_json:
        emit_json({"id": label, "linked": linked})
        return
    click.echo(f"linked {label} to {', '.join(shown(t) for t in linked)}")


@evidence.command("unlink")
@click.argument("evidence_id", metavar="ID")
@click.option("--control", metavar="ID", help="The control to unlink.")
@click.option("--clause", metavar="'CODE REF'", help="The clause to unlink.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def evidence_unlink(c: Context, evidence_id: str, control: str | None, clause: str | None,
                    as_json: bool) -> None:
    """Remove one link (the audit log keeps that it existed):
    evidence unlink EV-3 --control SEC-1."""
    from app.domain.evidence import evidence_label, shown
    from app.errors import InvalidInput
    from app.services.evidence import get_evidence_row, unlink_evidence

    store = c.open(write=True)
    row = get_evidence_row(store, evidence_id)  # an unknown id is the more useful error
    assert row.id is not None
    if (control is None) == (clause is None):
        raise InvalidInput("name one --control or one --clause to unlink")
    target = unlink_evidence(store, row.id, control=control, clause=clause)
    if as_json:
        emit_json({"id": evidence_label(row.id), "unlinked": target})
        return
    click.echo(f"unlinked {evidence_label(row.id)} from {shown(target)}")


@evidence.command("edit")
@click.argument("evidence_id", metavar="ID")
@click.option("--title", help="A new title.")
@click.option("--kind", metavar="K", help="A new kind.")
@click.option("--description", metavar="TEXT", help="A new description.")
@click.option("--classification", metavar="C", help="A new classification.")
@click.option("--source-system", metavar="S", help="A new source system.")
@click.option("--json", "as_json", is_flag=True, help="Print the evidence as one JSON object.")
@pass_ctx
def evidence_edit(c: Context, evidence_id: str, as_json: bool, **changes: str | None) -> None:
    """Change the record's title, kind, description, classification or source system
    (versions never change; attach a new one with `evidence version`)."""
    from app.domain.evidence import evidence_label
    from app.errors import InvalidInput
    from app.services.evidence import get_evidence, get_evidence_row, update_evidence

    store = c.open(write=True)
    row = get_evidence_row(store, evidence_id)
    assert row.id is not None
    if all(v is None for v in changes.values()):
        raise InvalidInput("nothing to change: give --title, --kind, --description, "
                           "--classification or --source-system")
    row, change = update_evidence(store, row.id, **changes)
    if as_json:
        emit_json(get_evidence(store, row.id).as_dict() | {"change": change})
        return
    label = evidence_label(row.id) if row.id is not None else evidence_id
    click.echo(f"{label}: updated {', '.join(f.replace('_', ' ') for f in change)}"
               if change else f"{label}: no change")


@evidence.command("list")
@click.option("--status", metavar="S", help="Only current, expiring or expired evidence.")
@click.option("--control", metavar="ID", help="Only evidence linked to this control.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_ctx
def evidence_list(c: Context, status: str | None, control: str | None, as_json: bool) -> None:
    """List evidence, newest first, with its status and latest version."""
    from app.domain.evidence import shown
    from app.services.evidence_status import list_evidence

    rows = list_evidence(c.open(), status=status, control=control)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("no evidence")
        return
    click.echo(table([(r.label, r.status, ellipsis(shown(r.title), 40), r.kind, str(r.version),
                       r.valid_until or "—", " ".join(r.controls) or "—") for r in rows],
                     ("ID", "STATUS", "TITLE", "KIND", "V", "VALID UNTIL", "CONTROLS")))



@evidence.command("show")
@click.argument("evidence_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def evidence_show(c: Context, evidence_id: str, as_json: bool) -> None:
    """Show a piece of evidence: its fields, every version with its SHA-256, its links and
    the control tests that used it."""
    from app.domain.evidence import shown, test_label
    from app.domain.text import human_size
    from app.services.evidence import get_evidence

    d = get_evidence(c.open(), evidence_id)
    if as_json:
        emit_json(d.as_dict())
        return
    e = d.evidence
    click.echo(f"{d.label}  {shown(e.title)}")
    for name, value in (("status", d.status), ("kind", e.kind),
                        ("classification", e.classification),
                        ("source system", shown(e.source_system) or "—"),
                        ("created", f"{e.created_at} by {shown(e.created_by)}"),
                        ("updated", e.updated_at)):
        click.echo(f"{name:<15} {value}")
    if e.description:
        click.echo("\nDescription\n" + "\n".join(shown(line)
                                                  for line in e.description.split("\n")))
    click.echo("\nVersions")
    for v in d.versions:
        click.echo(f"  v{v.version}  {shown(v.original_name)}  {human_size(v.size)}  "
                   f"{shown(v.media_type)}")
        click.echo(f"      sha256        {v.sha256}")
        click.echo(f"      collected     {v.collected_at} by {shown(v.collected_by)}")
        if v.period_from or v.period_to:
            click.echo(f"      period        {v.period_from or '…'} to {v.period_to or '…'}")
        click.echo(f"      valid until   {v.valid_until or '—'}")
        click.echo(f"      added         {v.added_at} by {shown(v.added_by)}")
        if v.note:
            click.echo(f"      note          {shown(v.note)}")
    click.echo("\nLinks")
    for ln in d.links:
        click.echo(f"  {ln.kind:<8} {shown(ln.target)}  {shown(ln.title)}")
    if not d.links:
        click.echo("  none")
    click.echo("\nTests that used it")
    for t in d.tests:
        click.echo(f"  {test_label(t.id)}  {t.control_id}  {t.tested_on}  {t.procedure}, "
                   f"{t.result} (by {shown(t.tester)})")
    if not d.tests:
        click.echo("  none")


@evidence.command("export")
@click.argument("evidence_id", metavar="ID")
@click.option("--version", "version", type=click.IntRange(min=1), metavar="N",
              help="Which version (default: the latest).")
@click.option("--output", "-o", "output", required=True, metavar="PATH",
              type=click.Path(path_type=Path),
              help="The file to write, or a folder to write it into under its own name.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def evidence_export(c: Context, evidence_id: str, version: int | None, output: Path,
                    force: bool, as_json: bool) -> None:
    """Copy a version's file out, checking on the way that it is unchanged:
    evidence export EV-3 --version 1 -o ./out/."""
    from app.domain.evidence import evidence_label, parse_id, shown
    from app.services.evidence import export_evidence

    path, number = export_evidence(c.open(), evidence_id, output, version=version,
                                   overwrite=force)
    label = evidence_label(parse_id(evidence_id, "EV"))
    if as_json:
        emit_json({"id": label, "version": number, "path": str(path)})
        return
    click.echo(f"exported {label} v{number} to {shown(str(path))}")


@evidence.command("window")
@click.argument("days", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def evidence_window(c: Context, days: str | None, as_json: bool) -> None:
    """Show, or set, how many days before its valid-until date evidence counts as
    expiring (30 unless changed)."""
    from app.services.evidence import expiring_days, set_expiring_days

    change: dict[str, Any] = {}
    if days is None:
        value = expiring_days(c.open())
    else:
        store = c.open(write=True)
        change = set_expiring_days(store, days)
        value = expiring_days(store)
    if as_json:
        emit_json({"expiring_days": value, "change": change})
        return
    if change:
        old = change["expiring_days"]["from"]
        click.echo(f"expiring window: {old} → {value} days")
    else:
        click.echo(f"expiring window: {value} days" + (" (no change)" if days else ""))


# ----------------------------------------------------------------------- control tests
@cli.group("test")
def test_group() -> None:
    """Record and list control tests."""


@test_group.command("add")
@click.argument("control")
@click.option("--procedure", required=True, metavar="P",
              help="inquiry, observation, inspection or re-performance.")
@click.option("--result", required=True, metavar="R", help="effective, "
              "effective-with-exceptions, not-effective or not-tested.")
@click.option("--tested-on", metavar="DATE", help="When (YYYY-MM-DD, default today).")
@click.option("--tester", metavar="NAME", help="Who tested (default: the actor).")
@click.option("--population", metavar="TEXT", help="What was tested from.")
@click.option("--sample-size", metavar="N", help="How many items were tested.")
@click.option("--exceptions", metavar="TEXT", help="What was found (needed unless the "
              "result is effective or not-tested).")
@click.option("--evidence", "evidence_refs", metavar="EV-1[@2]", multiple=True,
              help="Evidence used (the latest version, or @N for version N; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the test as one JSON object.")
@pass_ctx
def test_add(c: Context, control: str, procedure: str, result: str, tested_on: str | None,
             tester: str | None, population: str | None, sample_size: str | None,
             exceptions: str | None, evidence_refs: tuple[str, ...], as_json: bool) -> None:
    """Record a test of a control: test add SEC-1 --procedure inspection --result effective
    --evidence EV-3."""
    from app.domain.evidence import shown
    from app.services.control_tests import add_test

    view = add_test(c.open(write=True), control, procedure=procedure, result=result,
                    tested_on=tested_on, tester=tester, population=population or "",
                    sample_size=sample_size, exceptions=exceptions or "",
                    evidence=list(evidence_refs))
    if as_json:
        emit_json(view.as_dict())
        return
    t = view.test
    used = f"; evidence {', '.join(view.evidence)}" if view.evidence else ""
    click.echo(f"recorded {view.label}: {t.control_id} {t.procedure}, {t.result} "
               f"(tested on {t.tested_on} by {shown(t.tester)}{used})")


@test_group.command("list")
@click.option("--control", metavar="ID", help="Only the tests of this control.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_ctx
def test_list(c: Context, control: str | None, as_json: bool) -> None:
    """List control tests, most recent first."""
    from app.domain.evidence import shown
    from app.services.control_tests import list_tests

    views = list_tests(c.open(), control)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo("no control tests")
        return
    click.echo(table([(v.label, v.test.control_id, v.test.tested_on, v.test.procedure,
                       v.test.result, ellipsis(shown(v.test.tester), 24),
                       " ".join(v.evidence) or "—") for v in views],
                     ("ID", "CONTROL", "TESTED ON", "PROCEDURE", "RESULT", "TESTER",
                      "EVIDENCE")))
