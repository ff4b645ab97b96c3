"""The incident playbooks shipped with Crosswalk: `playbooks`, `playbook show`, and
`playbook export` as OASIS CACAO 2.0 JSON. (Exercises run from them: see issue 8.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import cli, emit_json, table


def _playbook(playbook_id: str) -> Any:
    from app.domain.playbooks import bundled_playbooks
    from app.errors import NotFound

    found = {p.id: p for p in bundled_playbooks()}
    key = playbook_id.strip().lower()
    if key not in found:
        raise NotFound(f"no playbook {playbook_id!r} (playbooks: {', '.join(found)})")
    return found[key]


@cli.command("playbooks")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def playbooks_cmd(as_json: bool) -> None:
    """The incident playbooks for ML incidents: drift, poisoning, tampering or theft, data
    leaking through a model, an AI Act serious incident."""
    from app.domain.playbooks import bundled_playbooks

    books = bundled_playbooks()
    if as_json:
        emit_json([p.as_data() for p in books])
        return
    click.echo(table([(p.id, p.severity, p.scenario, str(len(p.steps)),
                       " ".join(p.clocks) or "—", p.title) for p in books],
                     ("ID", "SEVERITY", "SCENARIO", "STEPS", "CLOCKS", "TITLE")))


@cli.group()
def playbook() -> None:
    """Show an incident playbook or export it as CACAO 2.0."""


@playbook.command("show")
@click.argument("playbook_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def playbook_show(playbook_id: str, as_json: bool) -> None:
    """A playbook: detection criteria, ordered steps, escalation path and clocks."""
    from app.domain.reg_clocks import clock_by_id

    pb = _playbook(playbook_id)
    if as_json:
        emit_json(pb.as_data() | {"clocks": [clock_by_id(c).as_dict() for c in pb.clocks]})
        return
    click.echo(f"{pb.id}  {pb.title}\nscenario {pb.scenario} · severity {pb.severity}")
    if pb.description:
        click.echo(f"\n{pb.description}")
    click.echo("\ndetection")
    for criterion in pb.detection:
        click.echo(f"  - {criterion}")
    click.echo("\nsteps")
    click.echo(table([(f"  {n}", s.function, f"{s.minutes} min", s.owner,
                       " ".join(s.controls) or "—", s.name)
                      for n, s in enumerate(pb.steps, start=1)],
                     ("  #", "FUNCTION", "TAKES", "OWNER", "CONTROLS", "STEP")))
    if pb.escalation:
        click.echo("\nescalation")
        click.echo(table([(f"  {e.role}", e.contact, e.when) for e in pb.escalation],
                         ("  ROLE", "CONTACT", "WHEN")))
    if pb.clocks:
        click.echo("\nclocks")
        click.echo(table([(f"  {c.id}", c.period, c.basis) for c in map(clock_by_id, pb.clocks)],
                         ("  CLOCK", "DEADLINE", "BASIS")))


@playbook.command("export")
@click.argument("playbook_id", metavar="ID")
@click.option("--cacao", "fmt", flag_value="cacao", default="cacao",
              help="OASIS CACAO 2.0 JSON (the only format so far).")
@click.option("-o", "--output", "output", required=True, metavar="PATH",
              type=click.Path(path_type=Path), help="The file, or a folder to write ID.json in.")
@click.option("--created", metavar="MOMENT", help="The playbook's created time "
              "(YYYY-MM-DDTHH:MM:SS.mmmZ; default: now); the same value gives the same bytes.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def playbook_export(playbook_id: str, fmt: str, output: Path, created: str | None,
                    force: bool) -> None:
    """Export a playbook as CACAO 2.0 JSON: start → one manual action per step → end, each
    role an agent, the clocks' legal bases as external references."""
    import os
    import tempfile
    from datetime import UTC, datetime

    from app.domain.clock import iso_utc
    from app.errors import InvalidInput
    from app.exporters.cacao import dumps_cacao, playbook_to_cacao

    pb = _playbook(playbook_id)
    try:
        doc = playbook_to_cacao(pb, created=created or iso_utc(datetime.now(UTC)))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    path = output / f"{pb.id}.json" if output.is_dir() else output
    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists; choose another name or pass --force")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".crosswalk-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps_cacao(doc))
        Path(tmp).replace(path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}: CACAO 2.0 playbook {doc['id']} ({len(pb.steps)} steps, "
               f"{len(doc.get('agent_definitions', {}))} roles)")
