"""Incident playbooks in the workspace: `playbooks` (= `playbook list`), `playbook show`,
`playbook import` (our YAML/JSON shape or OASIS CACAO 2.0 JSON) and `playbook export` as
CACAO 2.0 JSON. Exercises run from them: `app/cli_exercises.py`.

The shipped playbooks are listed (and shown, and exported) before anything brings them into
the workspace; with no workspace at all (no --workspace, none at the default place) the
reading commands show the shipped ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import Context, cli, emit_json, pass_ctx, table

JSON_ONE = "Print one JSON object."
JSON_ARRAY = "Print one JSON array."


def _s(text: Any) -> str:
    """Typed or imported text made safe to print on one line ('—' when empty)."""
    from app.domain.evidence import shown

    value = " ".join(str(text or "").split())
    return shown(value) if value else "—"


def _views(c: Context) -> list[Any]:
    """The workspace's playbooks and the shipped ones not brought in, by id."""
    from app.services.playbooks import PlaybookView, list_playbooks

    if c.workspace_flag is None and not c.path.exists():
        from app.domain.playbooks import bundled_playbooks

        views = [PlaybookView(pb, "shipped", False) for pb in bundled_playbooks()]
    else:
        views = list_playbooks(c.open())
    return sorted(views, key=lambda v: v.playbook.id)


def _view(c: Context, playbook_id: str) -> Any:
    from app.errors import NotFound

    views = _views(c)
    key = playbook_id.strip().lower()
    for v in views:
        if v.playbook.id == key:
            return v
    raise NotFound(f"no playbook {playbook_id!r} (playbooks: "
                   f"{', '.join(v.playbook.id for v in views)})")


def _origin(view: Any) -> str:
    where = "in workspace" if view.in_workspace else "not in workspace yet"
    source = f" from {_s(view.source_name)}" if view.source_name else ""
    return f"{view.origin}{source}, {where}"


def _list(c: Context, as_json: bool) -> None:
    views = _views(c)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    click.echo(table([(v.playbook.id, v.playbook.severity, v.playbook.scenario,
                       str(len(v.playbook.steps)), " ".join(v.playbook.clocks) or "—",
                       v.origin, str(v.exercises), _s(v.playbook.title)) for v in views],
                     ("ID", "SEVERITY", "SCENARIO", "STEPS", "CLOCKS", "ORIGIN", "EXERCISES",
                      "TITLE")))


@cli.command("playbooks")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def playbooks_cmd(c: Context, as_json: bool) -> None:
    """The incident playbooks: the five shipped for ML incidents (drift, poisoning, tampering
    or theft, data leaking through a model, an AI Act serious incident) and your own
    (the same as `playbook list`)."""
    _list(c, as_json)


@cli.group()
def playbook() -> None:
    """List, show, import an incident playbook, or export it as CACAO 2.0."""


@playbook.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def playbook_list(c: Context, as_json: bool) -> None:
    """The workspace's playbooks and the shipped ones not used yet: id, severity, scenario,
    steps, clocks, origin (shipped, yaml or cacao) and how many exercises use each."""
    _list(c, as_json)


@playbook.command("show")
@click.argument("playbook_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def playbook_show(c: Context, playbook_id: str, as_json: bool) -> None:
    """A playbook: origin and import notes, detection criteria, ordered steps, escalation
    path and clocks."""
    from app.domain.reg_clocks import clock_by_id

    view = _view(c, playbook_id)
    pb = view.playbook
    if as_json:
        emit_json(view.as_dict() | {"clocks": [clock_by_id(k).as_dict() for k in pb.clocks]})
        return
    click.echo(f"{pb.id}  {_s(pb.title)}\nscenario {pb.scenario} · severity {pb.severity}")
    click.echo(f"origin {_origin(view)} · {view.exercises} exercise"
               f"{'s' if view.exercises != 1 else ''}")
    for note in view.notes:
        click.echo(f"note: {_s(note)}")
    if pb.description:
        click.echo(f"\n{_s(pb.description)}")
    click.echo("\ndetection")
    for criterion in pb.detection:
        click.echo(f"  - {_s(criterion)}")
    click.echo("\nsteps")
    click.echo(table([(f"  {n}", s.function, f"{s.minutes} min", _s(s.owner),
                       " ".join(s.controls) or "—", _s(s.name))
                      for n, s in enumerate(pb.steps, start=1)],
                     ("  #", "FUNCTION", "TAKES", "OWNER", "CONTROLS", "STEP")))
    if pb.escalation:
        click.echo("\nescalation")
        click.echo(table([(f"  {_s(e.role)}", _s(e.contact), _s(e.when))
                          for e in pb.escalation], ("  ROLE", "CONTACT", "WHEN")))
    if pb.clocks:
        click.echo("\nclocks")
        click.echo(table([(f"  {k.id}", k.period, k.basis) for k in map(clock_by_id, pb.clocks)],
                         ("  CLOCK", "DEADLINE", "BASIS")))


@playbook.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace a playbook with the same id (its "
              "exercises keep the version they were made with).")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def playbook_import(c: Context, file: Path, replace: bool, as_json: bool) -> None:
    """Add a playbook from a file: our YAML/JSON shape (that of the shipped playbooks) or
    OASIS CACAO 2.0 JSON, checked against the CACAO 2.0 rules with every problem listed; a
    CACAO workflow with branches or parallel steps is flattened, each place where that
    happened printed as a note."""
    from app.cli import _one_line
    from app.importers.cacao import CacaoInvalid
    from app.services.playbooks import import_playbook

    store = c.open(write=True)
    try:
        view = import_playbook(store, file, replace=replace)
    except CacaoInvalid as exc:  # the sentence, then each problem the schema check found
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        for problem in exc.errors:
            click.echo(f"  {_one_line(problem)}", err=True)
        raise click.exceptions.Exit(2) from None
    pb = view.playbook
    if as_json:
        emit_json(view.as_dict())
        return
    click.echo(f"imported playbook {pb.id} \"{_s(pb.title)}\" from {_s(file.name)} "
               f"({view.origin}, {len(pb.steps)} steps, {len(pb.escalation)} escalation "
               f"roles, clocks: {' '.join(pb.clocks) or 'none'})")
    for note in view.notes:
        click.echo(f"note: {_s(note)}")


@playbook.command("export")
@click.argument("playbook_id", metavar="ID")
@click.option("--cacao", "fmt", flag_value="cacao", default="cacao",
              help="OASIS CACAO 2.0 JSON (the only format so far).")
@click.option("-o", "--output", "output", required=True, metavar="PATH",
              type=click.Path(path_type=Path), help="The file, or a folder to write ID.json in.")
@click.option("--created", metavar="MOMENT", help="The playbook's created time "
              "(YYYY-MM-DDTHH:MM:SS.mmmZ; default: now); the same value gives the same bytes.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_ctx
def playbook_export(c: Context, playbook_id: str, fmt: str, output: Path, created: str | None,
                    force: bool) -> None:
    """Export a playbook as CACAO 2.0 JSON: start → one manual action per step → end, each
    role an agent, the clocks' legal bases as external references."""
    from datetime import UTC, datetime

    from app.domain.clock import iso_utc
    from app.errors import InvalidInput
    from app.exporters.cacao import dumps_cacao, playbook_to_cacao

    pb = _view(c, playbook_id).playbook
    try:
        doc = playbook_to_cacao(pb, created=created or iso_utc(datetime.now(UTC)))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    path = output / f"{pb.id}.json" if output.is_dir() else output
    write_new(path, dumps_cacao(doc), force=force)
    click.echo(f"wrote {path}: CACAO 2.0 playbook {doc['id']} ({len(pb.steps)} steps, "
               f"{len(doc.get('agent_definitions', {}))} roles)")


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write `text` to `path` atomically (a temp file beside it, then a rename); an existing
    file is refused unless `force`."""
    import os
    import tempfile

    from app.errors import InvalidInput

    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists; choose another name or pass --force")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".crosswalk-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
