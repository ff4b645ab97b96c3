"""`crosswalk clocks`: the regulatory notification clocks, and when each falls due for an
incident the organisation became aware of at a given moment. They are shipped data (no
workspace is read): the exercise runner of issue 8 starts them from its "became aware"."""

from __future__ import annotations

import click

from app.cli import cli, emit_json, table


@cli.command("clocks")
@click.option("--aware", metavar="MOMENT", help="When the organisation became aware "
              "(YYYY-MM-DDTHH:MM, UTC unless an offset is given): show each deadline and "
              "the time left now.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def clocks_cmd(aware: str | None, as_json: bool) -> None:
    """The notification clocks (GDPR Art. 33/34, AI Act Art. 73, HIPAA §§ 164.404–408): legal
    basis, recipient, deadline; with --aware, when each is due and how long is left."""
    from datetime import UTC, datetime

    from app.domain.reg_clocks import bundled_clocks
    from app.errors import InvalidInput

    moment = None
    if aware is not None:
        try:
            moment = datetime.fromisoformat(aware.strip())
        except ValueError:
            raise InvalidInput(f"--aware {aware!r} is not a moment; write it as "
                               "YYYY-MM-DDTHH:MM (UTC unless an offset is given)") from None
    now = datetime.now(UTC)
    if moment is not None:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        if moment > now:
            raise InvalidInput(f"--aware {aware} is in the future; the clocks run from the "
                               "moment the organisation became aware")
    rows = []
    for clock in bundled_clocks():
        item = clock.as_dict()
        if moment is not None:
            st = clock.state(moment, now)
            item |= {"due": st.due.isoformat().replace("+00:00", "Z") if st.due else None,
                     "left": st.countdown(), "outcome": st.outcome}
        rows.append(item)
    if as_json:
        emit_json(rows)
        return
    if moment is None:
        click.echo(table([(r["id"], r["period"], r["basis"], r["recipient"]) for r in rows],
                         ("CLOCK", "DEADLINE", "BASIS", "TO")))
        return
    click.echo(table([(r["id"], r["period"], (r["due"] or "—")[:16].replace("T", " "),
                       r["left"], r["outcome"], r["basis"]) for r in rows],
                     ("CLOCK", "DEADLINE", "DUE (UTC)", "LEFT", "STATE", "BASIS")))
