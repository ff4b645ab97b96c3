"""Dossier bundles, offline: `keygen` (an Ed25519 key pair for `export bundle --sign`) and
`verify-bundle` (every hash, and the signature with --pubkey). Neither opens the workspace.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.cli import cli, emit_json


@cli.command("keygen")
@click.option("-o", "--output", "prefix", required=True, metavar="PREFIX",
              type=click.Path(path_type=Path),
              help="Write PREFIX.key (the private key, mode 0600) and PREFIX.pub.")
@click.option("--force", is_flag=True, help="Overwrite key files that exist.")
def keygen(prefix: Path, force: bool) -> None:
    """Make an Ed25519 key pair to sign dossier bundles (`export bundle --sign PREFIX.key`);
    whoever checks a bundle needs only PREFIX.pub."""
    from app.exporters.bundle import generate_keypair

    if prefix.suffix in (".key", ".pub"):
        prefix = prefix.with_suffix("")
    if not prefix.name:
        raise click.BadParameter("give a file name prefix, e.g. keys/dossier",
                                 param_hint="'--output'")
    private = prefix.with_name(prefix.name + ".key")
    public = prefix.with_name(prefix.name + ".pub")
    fp = generate_keypair(private, public, force=force)
    click.echo(f"wrote {private} (private: keep it secret) and {public} (public: give it to "
               "whoever verifies)")
    click.echo(f"key sha256 {fp}")


@cli.command("verify-bundle")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--pubkey", metavar="FILE", type=click.Path(path_type=Path),
              help="The signer's public key (PREFIX.pub from `crosswalk keygen`); checks the "
                   "signature too.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def verify_bundle_cmd(file: Path, pubkey: Path | None, as_json: bool) -> None:
    """Check a dossier bundle offline: every file's size and SHA-256 against manifest.json,
    nothing missing or added, safe entry names, and the signature (with --pubkey). Exits 1
    naming every mismatch."""
    from app.domain.text import human_size
    from app.services.bundle_verify import verify_bundle

    bar = _ByteBar() if sys.stderr.isatty() and not as_json else None
    try:
        report = verify_bundle(file, pubkey, progress=bar)
    finally:
        if bar is not None:
            bar.end()
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        if report.signature_ok:
            sig = f"signature verified (key sha256 {report.key_sha256})"
        elif report.signed:
            sig = "signed; pass --pubkey to check the signature"
        else:
            sig = "not signed"
        click.echo(f"bundle intact: {report.files} files, {human_size(report.bytes)}, {sig}")
        _about(report.manifest)
    else:
        n = len(report.problems)
        click.echo(f"bundle NOT intact: {n} problem{'s' if n != 1 else ''}")
        for p in report.problems:
            click.echo(f"  {p}")
        if report.manifest:
            _about(report.manifest)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _about(m: dict[str, Any]) -> None:
    from app.domain.evidence import shown

    def s(key: str) -> str:
        value = m.get(key)
        return "—" if value is None else shown(str(value))

    click.echo(f"  made by Crosswalk {s('crosswalk_version')} at {s('generated_at')} from "
               f"workspace {s('workspace_id')}, audit head seq {s('audit_head_seq')} "
               f"{s('audit_head')}")


class _ByteBar:
    """A byte progress bar on stderr ("verifying  [#######-----]  512/1,024 MB"), redrawn
    only when it changes."""

    WIDTH = 30

    def __init__(self) -> None:
        self.open = False
        self.last: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // max(total, 1)
        state = (filled, done >> 20)
        if state == self.last:
            return
        self.last = state
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        click.echo(f"\rverifying  [{bar}]  {done / 1e6:,.0f}/{total / 1e6:,.0f} MB", err=True,
                   nl=False)
        self.open = True

    def end(self) -> None:
        if self.open:
            click.echo("", err=True)
            self.open = False
