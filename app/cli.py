"""The headless command line: `crosswalk [--workspace PATH] [--actor NAME] [--debug] COMMAND`.

Only click is imported at start-up; each command imports the services it needs, so
`crosswalk --help` stays fast. Reading commands take `--json` and then print exactly one JSON
document. Exit codes: 0 success, 1 a check found a problem, 2 bad usage or bad input (one line
on stderr starting ``error:``; ``--debug`` adds the traceback).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app import __version__

if TYPE_CHECKING:
    from app.store import Store
    from app.store.reader import Reader

STATUS_CHOICES = "not-started, planned, partial, implemented, not-applicable"


class Context:
    """Global options, and the workspace opened on first use."""

    def __init__(self, workspace: str | None, actor: str | None, debug: bool,
                 workspace_from_flag: bool = False) -> None:
        self.workspace_flag = workspace
        self.workspace_from_flag = workspace_from_flag
        self.actor_flag = actor
        self.debug = debug
        self._store: Store | None = None
        self._reader: Reader | None = None

    @property
    def path(self) -> Path:
        from app import settings

        return settings.workspace_path(self.workspace_flag)

    def open(self, *, create: bool = False, write: bool = False,
             name: str | None = None, library: bool = True) -> Store:
        """Open the workspace once. Reading commands fall back to read-only access."""
        if self._store is None:
            from app import settings
            from app.services.workspace import open_workspace

            self.adopt(open_workspace(
                self.path,
                create=create,
                mode="rw" if (write or create) else "auto",
                actor=settings.actor(self.actor_flag),
                busy_timeout=settings.busy_timeout(),
                name=name,
                library=library,
            ))
        assert self._store is not None
        return self._store

    def adopt(self, store: Store) -> None:
        """Use `store` as the workspace of this command; say so if opening upgraded it."""
        self._store = store
        if store.migrated_from is not None:
            click.echo(f"note: upgraded workspace {store.path} from schema v{store.migrated_from}"
                       f" to v{store.schema_version}; the old file is kept as "
                       f"{store.backup_path}", err=True)

    def reader(self) -> Store | Reader:
        """For reading commands that need no SQLAlchemy: a plain `Reader` (a fast start) when
        the workspace is there at the current schema, else the full open (which creates,
        migrates or says what is wrong)."""
        if self._store is None and self._reader is None:
            from app import settings
            from app.store.reader import Reader

            self._reader = Reader.open(self.path, busy_timeout=settings.busy_timeout())
        return self._reader if self._reader is not None else self.open()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None


pass_ctx = click.make_pass_decorator(Context)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, bytes):  # only a hand-edited database holds binary values
        return {"$blob": value.hex()}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """A plain aligned text table (the last column is not padded)."""
    from app.domain.text import text_table

    return text_table(rows, headers)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h",
                                                                                   "--help"]})
@click.option("--workspace", "-w", metavar="PATH", envvar="CROSSWALK_WORKSPACE",
              help="Workspace file (default: $CROSSWALK_WORKSPACE, else the user data dir).")
@click.option("--actor", metavar="NAME",
              help="Name recorded in the audit log (default: $CROSSWALK_ACTOR or the OS user).")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(__version__, prog_name="crosswalk")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, actor: str | None, debug: bool) -> None:
    """Crosswalk — offline evidence and regulatory-mapping workbench for ML governance.

    With no command, opens the TUI on the workspace (created and seeded on first run).
    """
    from click.core import ParameterSource

    if workspace is not None and not workspace.strip():
        raise click.BadParameter("the workspace path is empty", param_hint="'--workspace'")
    from_flag = ctx.get_parameter_source("workspace") == ParameterSource.COMMANDLINE
    ctx.obj = Context(workspace, actor, debug, workspace_from_flag=from_flag)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


@cli.command()
@click.option("--name", help="A name for the workspace (default: the file name).")
@click.option("--bare", is_flag=True, help="Without the bundled GDPR, AI Act and HIPAA "
              "catalogues and their default mappings.")
@pass_ctx
def init(c: Context, name: str | None, bare: bool) -> None:
    """Create the workspace: the twelve controls and the bundled regulations (no-op if it
    exists)."""
    from app.services.workspace import clean_name

    store = c.open(create=True, name=clean_name(name) if name is not None else None,
                   library=not bare)
    if store.created:
        click.echo(f"created workspace {store.path}")
    else:
        click.echo(f"workspace {store.path} already exists (schema v{store.schema_version})"
                   + ("; --name applies only to a new workspace" if name else ""))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def status(c: Context, as_json: bool) -> None:
    """Workspace path, schema version, counts and audit head."""
    from app.services.workspace import workspace_status

    st = workspace_status(c.open())
    if as_json:
        emit_json(st.as_dict())
        return
    click.echo(f"workspace       {st.workspace}")
    click.echo(f"name            {st.name}")
    click.echo(f"schema version  {st.schema_version}")
    for key, n in st.counts.items():
        click.echo(f"{key.replace('_', ' '):<15} {n}")
    statuses = ", ".join(f"{n} {s.replace('-', ' ')}" for s, n in sorted(st.control_status.items()))
    click.echo(f"control status  {statuses}")
    click.echo(f"audit head      seq {st.audit_head_seq} {st.audit_head}")


@cli.command("controls")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def controls_cmd(c: Context, as_json: bool) -> None:
    """List the twelve controls."""
    from app.services.controls import control_dict, list_controls

    rows = list_controls(c.open())
    if as_json:
        emit_json([control_dict(r) for r in rows])
        return
    click.echo(table([(r.id, r.status.replace("-", " "), r.owner or "—", r.name) for r in rows],
                     ("ID", "STATUS", "OWNER", "CONTROL")))


@cli.group()
def control() -> None:
    """Show or edit one control."""


@control.command("show")
@click.argument("control_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def control_show(c: Context, control_id: str, as_json: bool) -> None:
    """Show a control: objective, guidance and the analyst's fields."""
    from app.services.after_action import improvements_for
    from app.services.controls import control_dict, get_control

    store = c.open()
    row = get_control(store, control_id)
    actions = improvements_for(store, control_id=row.id)
    if as_json:
        emit_json(control_dict(row, detail=True) |
                  {"improvements": [i.as_dict() for i in actions]})
        return
    click.echo(f"{row.id}  {row.name}")
    click.echo(f"category   {row.category}")
    click.echo(f"status     {row.status.replace('-', ' ')}")
    click.echo(f"owner      {row.owner or '—'}")
    click.echo(f"updated    {row.updated_at} by {row.updated_by}")
    for title, body in (("Objective", row.objective), ("Guidance", row.guidance),
                        ("Narrative", row.narrative or "—")):
        click.echo(f"\n{title}\n{body}")
    if actions:
        click.echo("\nActions from exercises")
        for i in actions:
            click.echo(f"  {i.label}  {i.status}  due {i.due_on}  {i.owner}: {i.action} "
                       f"(EX-{i.exercise_id})")


@control.command("set")
@click.argument("control_id", metavar="ID")
@click.option("--owner", help="Who is accountable for the control.")
@click.option("--status", help=f"One of: {STATUS_CHOICES}.")
@click.option("--narrative", help="How the control is implemented (free text).")
@click.option("--narrative-file", type=click.File("r", encoding="utf-8"),
              help="Read the narrative from a UTF-8 file ('-' for stdin).")
@pass_ctx
def control_set(c: Context, control_id: str, owner: str | None, status: str | None,
                narrative: str | None, narrative_file: Any) -> None:
    """Edit a control's owner, status or narrative (audited)."""
    from app.errors import InvalidInput
    from app.services.controls import MAX_NARRATIVE, get_control, update_control

    if narrative is not None and narrative_file is not None:
        raise InvalidInput("give either --narrative or --narrative-file, not both")
    if narrative_file is not None:
        limit = 2 * MAX_NARRATIVE  # room for surrounding whitespace; the service checks
        try:
            narrative = narrative_file.read(limit + 1)
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{narrative_file.name} is not UTF-8 text ({exc.reason})") from None
        if len(narrative) > limit:
            raise InvalidInput(f"narrative file {narrative_file.name} is too large (a narrative "
                               f"holds at most {MAX_NARRATIVE:,} characters)")
    if owner is None and status is None and narrative is None:
        get_control(c.open(), control_id)  # an unknown id is the more useful error
        raise InvalidInput("nothing to change: give --owner, --status or --narrative")
    store = c.open(write=True)
    row, change = update_control(store, control_id, owner=owner, status=status,
                                 narrative=narrative)
    if change:
        click.echo(f"{row.id}: updated {', '.join(change)}")
    else:
        click.echo(f"{row.id}: no change")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--expect-head", metavar="HASH",
              help="A head hash recorded earlier that must still be in the chain.")
@pass_ctx
def verify(c: Context, as_json: bool, expect_head: str | None) -> None:
    """Recompute the audit chain and compare every row with it (exit 1 on any problem)."""
    import re

    from app.errors import InvalidInput
    from app.services.audit import verify as run_verify

    if expect_head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expect_head):
        raise InvalidInput(f"--expect-head must be a 64-character hex hash, not {expect_head!r}")
    report = run_verify(c.open(), expect_head=expect_head)
    if as_json:
        emit_json(report.as_dict())
    elif report.intact:
        files = (f"; {report.files_checked} evidence files intact" if report.files_checked
                 else "")
        click.echo(f"audit chain intact: {report.events} events, head {report.head}{files}")
    else:
        first = report.problems[0]
        what = ("evidence files" if report.file_problems == len(report.problems)
                else "audit chain")
        click.echo(f"{what} BROKEN: {first.message}")
        for p in report.problems[1:20]:
            click.echo(f"  also: {p.message}")
        if len(report.problems) > 20:
            click.echo(f"  … and {len(report.problems) - 20} more")
    if not report.intact:
        raise click.exceptions.Exit(1)


@cli.command()
@click.option("--limit", "-n", default=20, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many events, newest first.")
@click.option("--entity", help="Only events about this entity type (control, clause…).")
@click.option("--id", "entity_id", help="Only events about this entity id.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def log(c: Context, limit: int, entity: str | None, entity_id: str | None,
        as_json: bool) -> None:
    """The audit log, newest first."""
    from app.domain.controls import normalise_control_id
    from app.services.audit import change_summary, event_dict, events

    if entity_id is not None and entity in (None, "control"):
        with suppress(ValueError):
            entity_id = normalise_control_id(entity_id)
    rows = events(c.open(), limit=limit, entity=entity, entity_id=entity_id)
    if as_json:
        emit_json([event_dict(e) for e in rows])
        return
    click.echo(table([(str(e.seq), e.at, e.actor, e.action, e.entity_id,
                       change_summary(e.change)) for e in rows],
                     ("SEQ", "AT", "ACTOR", "ACTION", "ID", "CHANGE")))


@cli.command("regulations")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def regulations_cmd(c: Context, as_json: bool) -> None:
    """List the regulations and their versions."""
    from app.services.regulations import list_regulations

    rows = list_regulations(c.open())
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    click.echo(table([(r.code, r.version_label + (" *" if r.latest else ""), str(r.clauses),
                       str(r.with_text), str(r.mappings), r.short_title or r.title[:50])
                      for r in rows],
                     ("CODE", "VERSION", "CLAUSES", "WITH TEXT", "MAPPINGS", "TITLE")))
    if rows:
        click.echo("* latest version")


@cli.command("clauses")
@click.argument("code")
@click.option("--version", "version", metavar="V", help="A version label (default: latest).")
@click.option("--ref-prefix", metavar="REF", help="Only this clause and those inside it.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def clauses_cmd(c: Context, code: str, version: str | None, ref_prefix: str | None,
                as_json: bool) -> None:
    """List the clauses of a regulation, in document order."""
    from app.domain.refs import normalise_ref
    from app.services.regulations import clause_dict, clauses, get_regulation

    store = c.open()
    reg = get_regulation(store, code, version)
    assert reg.id is not None
    rows = clauses(store, reg.id,
                   ref_prefix=normalise_ref(ref_prefix) if ref_prefix else None)
    if as_json:
        emit_json([clause_dict(reg, r) for r in rows])
        return
    click.echo(table([(r.ref, r.kind, ("" if r.assessable else "no"), r.title or r.summary)
                      for r in rows], ("REF", "KIND", "ASSESS", "TITLE / SUMMARY")))


@cli.command("clause")
@click.argument("full_ref", metavar="'CODE REF'")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def clause_cmd(c: Context, full_ref: str, as_json: bool) -> None:
    """Show one clause and its mappings: clause 'GDPR Art. 32(1)(b)'."""
    from app.services.regulations import (
        clause_dict,
        clause_mappings,
        enclosing_mappings,
        find_clause,
        mapping_dict,
    )

    store = c.open()
    reg, row = find_clause(store, full_ref)
    assert row.id is not None
    maps = clause_mappings(store, row.id)
    above = enclosing_mappings(store, row)
    if as_json:
        emit_json(clause_dict(reg, row, detail=True) | {
            "mappings": [mapping_dict(m) for m in maps],
            "enclosing_mappings": [mapping_dict(m) | {"ref": ref} for ref, m in above]})
        return
    click.echo(f"{reg.code} {row.ref}  ({row.kind}, {reg.code} version {reg.version_label})")
    if row.title:
        click.echo(f"title      {row.title}")
    if row.summary:
        click.echo(f"summary    {row.summary}")
    click.echo(f"assessable {'yes' if row.assessable else 'no'}")
    attrs = json.loads(row.attributes or "{}")
    for key, value in attrs.items():
        click.echo(f"{key:<10} {value}")
    click.echo("\nText\n" + (row.text or "— not imported yet (import the official document "
                                           "to fill it in)"))
    click.echo("\nMappings")
    for m in maps:
        flag = f"  [!] {m.flag}" if m.flag else ""
        click.echo(f"  {m.control_id}  {m.relationship}, strength {m.strength}, {m.coverage}, "
                   f"{m.review_status}{flag}\n         {m.rationale}")
    if not maps:
        click.echo("  none on this clause")
    for ref, m in above:
        click.echo(f"  via {ref}: {m.control_id}  {m.relationship}, {m.coverage}")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--code", help="Regulation code (needed when the document does not say).")
@click.option("--title", help="Title, overriding the document's.")
@click.option("--version", "version", metavar="V", help="Version label, overriding the "
              "document's.")
@click.option("--format", "fmt", help="Skip detection: catalog, csv, formex, eurlex-html, "
              "oscal-json, oscal-xml, ciso-assistant, oscal-mapping.")
@click.option("--layout", help="PDF layout instead of detecting it: eu-oj-classic, "
              "eu-oj-2024, cfr, generic.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
@pass_ctx
def import_cmd(c: Context, file: Path, code: str | None, title: str | None,
               version: str | None, fmt: str | None, layout: str | None, dry_run: bool,
               as_json: bool) -> None:
    """Import a regulation (new, a new version, or the official text of one already here)
    from a PDF, Formex XML, EUR-Lex XHTML, OSCAL, CISO Assistant, CSV or catalog file."""
    from app.services.imports import check_code, commit_import, plan_import, read_document
    from app.services.mapping_import import is_mapping_collection

    if is_mapping_collection(file, fmt):  # an OSCAL mapping collection: app/cli_oscal.py
        from app.cli_oscal import import_mapping_collection

        return import_mapping_collection(c, file, code=code, version=version,
                                         dry_run=dry_run, as_json=as_json)
    progress = _page_progress()
    try:
        doc = read_document(file, fmt=fmt, code=check_code(code) if code else None,
                            title=title, version=version, layout=layout, on_page=progress)
    finally:
        if progress is not None:
            progress.end()  # an error then starts on a line of its own
    store = c.open(write=not dry_run)
    plan = plan_import(store, doc)
    if not dry_run:
        commit_import(store, plan)
    if as_json:
        emit_json(plan.as_dict() | {"committed": not dry_run})
        return
    _print_plan(plan, dry_run)


def _page_progress() -> _PageBar | None:
    """A page progress bar, only when stderr is a terminal."""
    return _PageBar() if sys.stderr.isatty() else None


class _PageBar:
    """A page progress bar on stderr ("reading  [#######-----]  52/88 pages")."""

    WIDTH = 30

    def __init__(self) -> None:
        self.open = False

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        click.echo(f"\rreading  [{bar}]  {done}/{total} pages", err=True, nl=False)
        self.open = True

    def end(self) -> None:
        if self.open:
            click.echo("", err=True)
            self.open = False


def _print_plan(plan: Any, dry_run: bool) -> None:
    click.echo(plan.headline)
    for line in plan.details():
        click.echo(f"  {line}")
    click.echo("dry run: nothing written" if dry_run else "committed")


@cli.command("diff")
@click.argument("code")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def diff_cmd(c: Context, code: str, old: str, new: str, as_json: bool) -> None:
    """Compare two versions of a regulation: clauses added, removed and changed, and the
    mappings that hang on changed or removed clauses."""
    from app.services.versions import diff_versions

    d = diff_versions(c.open(), code, old, new)
    if as_json:
        emit_json(d.as_dict())
        return
    click.echo(f"{d.code} {d.old_version} → {d.new_version}: {d.summary}")
    for ref in d.added:
        click.echo(f"  + {ref}")
    for ref in d.removed:
        click.echo(f"  - {ref}")
    for ch in d.changed:
        click.echo(f"  ~ {ch.ref} ({ch.what})")
    for m in d.mappings:
        click.echo(f"  ! {m.ref} → {m.control_id} ({m.relationship}) hangs on a {m.because} "
                   "clause")


@cli.command()
@pass_ctx
def tui(c: Context) -> None:
    """Open the TUI (the default when no command is given)."""
    from app.tui.app import make_app

    store = c.open(create=True)
    make_app(store).run()


@cli.command()
@click.option("--reset", is_flag=True, help="Recreate the demo workspace from scratch.")
@click.option("--no-open", is_flag=True, help="Create it but do not open the TUI.")
@pass_ctx
def demo(c: Context, reset: bool, no_open: bool) -> None:
    """Create a demo workspace with sample content and open it."""
    from app import settings
    from app.services.demo import create_demo

    # only an explicit --workspace moves the demo: $CROSSWALK_WORKSPACE is the real workspace
    path = (Path(c.workspace_flag).expanduser() if c.workspace_from_flag and c.workspace_flag
            else settings.demo_path())
    store = create_demo(path, actor=settings.actor(c.actor_flag), reset=reset)
    c.adopt(store)
    click.echo(f"demo workspace {'ready' if store.created else 'opened'}: {store.path}",
               err=not no_open)
    if not no_open:
        from app.tui.app import make_app

        make_app(store).run()


def _one_line(text: str) -> str:
    """One line, with control characters and bidirectional marks (from a hostile file name)
    shown as escapes."""
    from app.domain.evidence import shown

    return shown(" ".join(str(text).split()), backslash=False)


def main(argv: Iterable[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into `error: …` and an exit code."""
    from app.errors import CrosswalkError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="crosswalk", standalone_mode=False)
    except CrosswalkError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code if exc.exit_code != 1 else 2)
    except (click.Abort, KeyboardInterrupt):
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        with suppress(Exception):
            click.echo(
                f"error: unexpected failure ({type(exc).__name__}: {_one_line(str(exc))}); "
                "rerun with --debug for the traceback and report it", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


# Commands kept in modules of their own register themselves on `cli` when imported.
from app import (  # noqa: E402, F401
    cli_analysis,
    cli_backup,
    cli_bundle,
    cli_clocks,
    cli_evidence,
    cli_exercises,
    cli_export,
    cli_mappings,
    cli_oscal,
    cli_playbooks,
    cli_risks,
    cli_scope,
)
