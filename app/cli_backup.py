"""Moving a workspace: `backup -o FILE` (the database, copied consistently even while it is
in use, and its evidence files, with a manifest of hashes) and `restore FILE --workspace NEW`
(checks every hash, refuses an existing target, runs `verify` on the result)."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import Context, cli, pass_ctx


@cli.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The archive to write.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_ctx
def backup_cmd(c: Context, output: Path, force: bool) -> None:
    """Back the workspace up into one archive: the database and every evidence file."""
    from app.domain.text import human_size
    from app.services.backup import backup

    result = backup(c.open(), output, force=force)
    click.echo(f"wrote {output}: the workspace and {result.files - 1} evidence files, "
               f"{human_size(result.bytes)}, as of audit event {result.audit_head_seq}")
    if result.missing:  # written, but not whole: say what is not in it, exit 1
        click.echo(f"warning: {len(result.missing)} evidence file(s) are missing from the "
                   "workspace and not in the backup:", err=True)
        for line in result.missing:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1)


@cli.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--workspace", "target", required=True, type=click.Path(path_type=Path),
              help="Where to restore it: a path that does not exist yet.")
def restore_cmd(archive: Path, target: Path) -> None:
    """Restore a backup into a new workspace, checking every hash, then verify it."""
    import sys

    from app.errors import InvalidInput
    from app.services.backup import restore

    if not archive.is_file():
        raise InvalidInput(f"no backup archive at {archive}")
    result = restore(archive, target)
    report = result.verify
    if report.intact:
        click.echo(f"restored {target}: {result.evidence_files} evidence files; audit chain "
                   f"intact: {report.events:,} events, head {report.head}")
    else:
        click.echo(f"restored {target}: {result.evidence_files} evidence files; verify "
                   f"found {len(report.problems)} problem(s) ({report.events:,} events):")
    if not report.intact:
        for problem in report.problems:
            click.echo(f"  {problem.message}")
        sys.exit(1)
