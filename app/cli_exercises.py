"""Tabletop exercises from the command line: `exercise create|list|show|report`, and, to run
one headless (scripts, CI), `exercise start|pause|resume|close|log|rate|improve|link`.

Every text screen starts with the banner ``EXERCISE — EXERCISE — EXERCISE`` so nothing printed
here can be mistaken for a real incident; the after-action report ends with it too, and its
JSON always carries the `banner` and `banner_end` keys. Exercise time is shown as offsets from
T+00:00 (``T+12:30``); the regulatory clocks count in scenario time (the scenario's fictional
start plus the exercise clock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import Context, cli, emit_json, pass_ctx, table

JSON_ONE = "Print one JSON object."
JSON_ARRAY = "Print one JSON array."


def _s(text: Any) -> str:
    """Typed text made safe to print on one line ('—' when empty)."""
    from app.domain.evidence import shown

    value = " ".join(str(text or "").split())
    return shown(value) if value else "—"


def _banner() -> None:
    from app.domain.exercise import BANNER

    click.echo(BANNER)


def _now(store: Any) -> Any:
    return store.clock()


def _moment(view: Any, ms: int) -> str:
    """The scenario moment at exercise time `ms`, to the second."""
    from datetime import timedelta

    from app.domain.exercise import clock_start

    moment = clock_start(view.starts_at) + timedelta(seconds=ms // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_dict(e: Any) -> dict[str, Any]:
    from app.domain.exercise import format_offset

    return {"seq": e.seq, "at": format_offset(e.at_ms), "at_s": e.at_ms / 1000,
            "kind": e.kind, "actor": e.actor, "text": e.text, "inject": e.inject,
            "step": e.step, "clock": e.clock, "containment": e.containment}


def _exercise_json(view: Any, now: Any) -> dict[str, Any]:
    from app.domain.exercise import BANNER, RATINGS, due_injects, format_offset, format_span

    now_ms = view.now_ms(now)
    _released, upcoming = due_injects(view.scenario, now_ms)
    metrics = view.metrics(now)
    return {
        "banner": BANNER, "id": view.label, "title": view.title, "status": view.status,
        "clock": format_offset(now_ms), "clock_s": now_ms / 1000,
        "scenario_time": _moment(view, now_ms), "speed": view.speed,
        "starts_at": view.starts_at, "created_at": view.created_at,
        "started_at": view.started_at, "closed_at": view.closed_at,
        "playbook": {"id": view.playbook.id, "title": view.playbook.title,
                     "steps": [s.name for s in view.playbook.steps],
                     "clocks": list(view.playbook.clocks)},
        "scenario_name": view.scenario_name,
        "scenario": {"title": view.scenario.title, "description": view.scenario.description,
                     "objectives": [{"id": o.id, "text": o.text}
                                    for o in view.scenario.objectives]},
        "modules": [{"id": m.id, "title": m.title, "description": m.description,
                     "injects": [{"id": r.inject.id, "at": format_offset(r.inject.at_ms),
                                  "window": (format_span(r.inject.window * 1000)
                                             if r.inject.window else None),
                                  "audience": r.inject.audience, "content": r.inject.content,
                                  "expected": list(r.inject.expected),
                                  "questions": list(r.inject.questions),
                                  "released": r.released, "outcome": r.outcome,
                                  "response_s": (None if r.response_ms is None
                                                 else r.response_ms / 1000)}
                                 for r in metrics.injects if r.inject.module == m.id]}
                    for m in view.scenario.modules],
        "next_inject": None if upcoming is None else {"id": upcoming.id,
                                                      "at": format_offset(upcoming.at_ms)},
        "log": [_entry_dict(e) for e in view.entries],
        "clocks": [d | {"left_s": None if (left := c.left_ms(now_ms)) is None
                        or c.outcome != "running" else left / 1000}
                   for c, d in zip(metrics.clocks, metrics.as_dict()["clocks"], strict=True)],
        "metrics": metrics.as_dict(),
        "ratings": {k: {"rating": r.rating, "meaning": RATINGS[r.rating],
                        "strengths": r.strengths, "improvements": r.improvements,
                        "rated_at": r.rated_at, "rated_by": r.rated_by}
                    for k, r in view.ratings.items()},
        "improvements": [i.as_dict() for i in view.improvements],
        "banner_end": BANNER}


def _header(view: Any, now: Any) -> None:
    from app.domain.exercise import format_offset

    now_ms = view.now_ms(now)
    click.echo(f"{view.label}  {_s(view.title)}")
    for name, value in (
            ("status", view.status),
            ("clock", f"{format_offset(now_ms)} (scenario time {_moment(view, now_ms)})"),
            ("speed", f"×{view.speed}"),
            ("playbook", f"{view.playbook.id} ({_s(view.playbook.title)})"),
            ("scenario", _s(view.scenario_name or view.scenario.title)),
            ("T+00:00", view.starts_at),
            ("created", view.created_at),
            ("started", view.started_at or "—"),
            ("closed", view.closed_at or "—")):
        click.echo(f"{name:<9} {value}")


# ------------------------------------------------------------------------------ commands
@cli.group()
def exercise() -> None:
    """Tabletop exercises of a playbook: create one from a scenario, run its clock, log what
    the team does, close it, rate the objectives and write the after-action report."""


@exercise.command("create")
@click.argument("playbook_id", metavar="PLAYBOOK")
@click.option("--scenario", "scenario", metavar="FILE", type=click.Path(path_type=Path,
              dir_okay=False), help="A scenario file (YAML or JSON; default: the scenario "
              "shipped for the playbook).")
@click.option("--title", metavar="T", help="A title (default: the scenario's).")
@click.option("--speed", type=int, metavar="N", help="Clock speed, ×1 (real time) to ×3600 "
              "(default: the scenario's).")
@click.option("--starts-at", "starts_at", metavar="MOMENT", help="The fictional moment at "
              "T+00:00, e.g. 2026-03-02T09:00:00Z (default: the scenario's, else now).")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def exercise_create(c: Context, playbook_id: str, scenario: Path | None, title: str | None,
                    speed: int | None, starts_at: str | None, as_json: bool) -> None:
    """Create an exercise (status planned) of a playbook with a scenario: objectives, modules
    and timed injects. The playbook is copied as it stands now."""
    from app.services.exercises import create_exercise

    store = c.open(write=True)
    view = create_exercise(store, playbook_id, scenario, title=title, speed=speed,
                           starts_at=starts_at)
    if as_json:
        emit_json(_exercise_json(view, _now(store)))
        return
    _banner()
    s = view.scenario
    click.echo(f"created {view.label} \"{_s(view.title)}\" of playbook {view.playbook.id}: "
               f"{len(s.objectives)} objectives, {len(s.modules)} modules, {len(s.injects)} "
               f"injects; speed ×{view.speed}; T+00:00 is {view.starts_at}")
    click.echo(f"start its clock with `crosswalk exercise start {view.label}`")


@exercise.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def exercise_list(c: Context, as_json: bool) -> None:
    """The exercises, newest first: status, clock (as of the last pause or close), entries."""
    from app.services.exercises import exercise_label, list_exercises

    store = c.open()
    rows = list_exercises(store)
    now = store.clock()
    if as_json:
        emit_json([r.as_dict(now) for r in rows])
        return
    _banner()
    if not rows:
        click.echo("no exercises (create one with `crosswalk exercise create PLAYBOOK`)")
        return
    click.echo(table([(exercise_label(r.id), r.status, r.as_dict(now)["clock"], r.playbook,
                       str(r.entries), r.created_at[:10], _s(r.title)) for r in rows],
                     ("ID", "STATUS", "CLOCK", "PLAYBOOK", "ENTRIES", "CREATED", "TITLE")))


@exercise.command("show")
@click.argument("ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def exercise_show(c: Context, ref: str, as_json: bool) -> None:
    """An exercise: status, clock and speed; its modules and injects with offsets, windows and
    outcomes; the log; the regulatory clocks with due time and outcome; the metrics."""
    from app.domain.exercise import format_offset, format_span
    from app.services.exercises import get_exercise

    store = c.open()
    view = get_exercise(store, ref)
    now = _now(store)
    if as_json:
        emit_json(_exercise_json(view, now))
        return
    d = _exercise_json(view, now)
    now_ms = view.now_ms(now)
    _banner()
    _header(view, now)
    click.echo("\nModules and injects")
    for m in d["modules"]:
        click.echo(f"  {m['id']}  {_s(m['title'])}")
        click.echo(table([(f"    {i['id']}", i["at"], i["window"] or "—",
                           "—" if i["response_s"] is None
                           else format_span(i["response_s"] * 1000),
                           i["outcome"], _s(i["audience"])) for i in m["injects"]],
                         ("    INJECT", "AT", "WINDOW", "RESPONSE", "OUTCOME", "AUDIENCE")))
    nxt = d["next_inject"]
    if nxt is not None:
        click.echo(f"  next inject: {nxt['id']} at {nxt['at']}")
    click.echo("\nLog")
    if view.entries:
        click.echo(table([(f"  {e.seq}", format_offset(e.at_ms), e.kind, _s(e.actor),
                           _refs(e), _s(e.text)) for e in view.entries],
                         ("  #", "AT", "KIND", "ACTOR", "REFS", "TEXT")))
    else:
        click.echo("  no entries")
    _clocks(view.metrics(now), now_ms)
    _metrics(view.metrics(now))


def _refs(e: Any) -> str:
    parts = []
    if e.inject:
        parts.append(f"inject {e.inject}")
    if e.step is not None:
        parts.append(f"step {e.step}")
    if e.clock:
        parts.append(f"clock {e.clock}")
    if e.containment:
        parts.append("containment")
    return ", ".join(parts) or "—"


def _clocks(metrics: Any, now_ms: int) -> None:
    from app.domain.exercise import format_offset, format_span

    click.echo("\nClocks")
    if not metrics.clocks:
        click.echo("  the playbook has no regulatory clocks")
        return
    click.echo(table([(f"  {r.clock.id}", r.outcome,
                       "—" if r.due_ms is None else format_offset(r.due_ms),
                       "—" if r.done_ms is None else format_offset(r.done_ms),
                       format_span(r.left_ms(now_ms)) if r.outcome == "running" else "—",
                       r.clock.basis) for r in metrics.clocks],
                     ("  CLOCK", "OUTCOME", "DUE", "NOTIFIED", "LEFT", "BASIS")))


def _metrics(metrics: Any) -> None:
    from app.domain.exercise import format_span

    click.echo("\nMetrics (from the first inject)")
    for name, ms in (("time to detection", metrics.detection_ms),
                     ("time to first decision", metrics.first_decision_ms),
                     ("time to containment decision", metrics.containment_ms)):
        click.echo(f"  {name:<30} {format_span(ms)}")
    done = ", ".join(map(str, metrics.steps_done))
    click.echo(f"  {'playbook steps completed':<30} {len(metrics.steps_done)} of "
               f"{metrics.steps_total}" + (f" ({done})" if done else ""))


# ------------------------------------------------------------------------------ the report
def report_text(rep: dict[str, Any]) -> str:
    """The after-action report as Markdown (pipe tables), the banner at top and bottom."""
    from app.domain.exercise import format_span
    from app.domain.text import md_table

    def span(seconds: float | None) -> str:
        return format_span(None if seconds is None else seconds * 1000)

    x, m = rep["exercise"], rep["metrics"]
    out = [rep["banner"], "", f"# After-action report: {x['id']} {_s(x['title'])}", ""]
    for name, value in (("Playbook", f"{x['playbook']} ({_s(x['playbook_title'])})"),
                        ("Scenario", _s(x["scenario"])), ("Status", x["status"]),
                        ("T+00:00", x["starts_at"]), ("Started", x["started_at"] or "—"),
                        ("Closed", x["closed_at"] or "—"), ("Clock", x["clock"]),
                        ("Speed", f"×{x['speed']}")):
        out.append(f"- {name}: {value}")
    if not x["final"]:
        out.append("- Not closed yet: every figure below may still change")
    out += ["", "## Metrics", "",
            f"- Time to detection: {span(m['time_to_detection_s'])}",
            f"- Time to first decision: {span(m['time_to_first_decision_s'])}",
            f"- Time to containment decision: {span(m['time_to_containment_decision_s'])}",
            f"- Time to first escalation: {span(m['time_to_first_escalation_s'])}",
            f"- Playbook steps completed: {len(m['steps_completed'])} of {m['steps_total']}"
            + (f" ({', '.join(map(str, m['steps_completed']))})" if m["steps_completed"]
               else "")]
    clocks = m["clocks"]
    met = sum(1 for k in clocks if k["outcome"] == "met")
    missed = sum(1 for k in clocks if k["outcome"] == "missed")
    out.append(f"- Regulatory clocks: {met} met, {missed} missed, {len(clocks)} in all")
    out += ["", "## Objectives", ""]
    out.append(md_table([(o["id"], o["rating"] or "—", o["rating_meaning"] or "not rated",
                       _s(o["text"])) for o in rep["objectives"]],
                     ("ID", "RATING", "MEANING", "OBJECTIVE")))
    for title, key in (("Strengths", "strengths"),
                       ("Areas for improvement", "areas_for_improvement")):
        out += ["", f"## {title}", ""]
        found = [o for o in rep["objectives"] if o[key]]
        for o in found:
            out.append(f"- {o['id']}: {_s(o[key])}")
        if not found:
            out.append("- none recorded")
    out += ["", "## Improvement plan", ""]
    if rep["improvement_plan"]:
        out.append(md_table([(i["id"], i["status"] + (" (overdue)" if i["overdue"] else ""),
                           i["due"], _s(i["owner"]), i["objective"] or "—", i["risk"] or "—",
                           i["control"] or "—", _s(i["action"]))
                          for i in rep["improvement_plan"]],
                         ("ITEM", "STATUS", "DUE", "OWNER", "OBJECTIVE", "RISK", "CONTROL",
                          "ACTION")))
    else:
        out.append("- no items")
    out += ["", "## Regulatory clocks", ""]
    if clocks:
        out.append(md_table([(k["id"], k["outcome"], k["due"] or "—",
                              k.get("due_at") or "—", k["notified"] or "—", k["basis"])
                             for k in clocks],
                            ("CLOCK", "OUTCOME", "DUE", "DUE (SCENARIO TIME)", "NOTIFIED",
                             "BASIS")))
        out.append("")
        out.append(f"Met: {', '.join(k['id'] for k in clocks if k['outcome'] == 'met') or '—'}"
                   f"; missed: "
                   f"{', '.join(k['id'] for k in clocks if k['outcome'] == 'missed') or '—'}")
    else:
        out.append("- the playbook has no regulatory clocks")
    out += ["", "## Inject latency", ""]
    out.append(md_table([(i["id"], i["at"], span(i["window_s"]), span(i["response_s"]),
                       i["outcome"]) for i in m["injects"]],
                     ("INJECT", "AT", "WINDOW", "RESPONSE", "OUTCOME")))
    out += ["", "## Log", ""]
    if rep["log"]:
        out.append(md_table([(e["at"], e["kind"], _s(e["actor"]), _refs_dict(e), _s(e["text"]))
                          for e in rep["log"]], ("AT", "KIND", "ACTOR", "REFS", "TEXT")))
    else:
        out.append("- no entries")
    out += ["", rep["banner_end"]]
    return "\n".join(out) + "\n"


def _refs_dict(e: dict[str, Any]) -> str:
    parts = [f"inject {e['inject']}" if e["inject"] else "",
             f"step {e['step']}" if e["step"] is not None else "",
             f"clock {e['clock']}" if e["clock"] else "",
             "containment" if e["containment"] else ""]
    return ", ".join(p for p in parts if p) or "—"


@exercise.command("report")
@click.argument("ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print (or write) one JSON object.")
@click.option("-o", "--output", "output", metavar="FILE", type=click.Path(path_type=Path),
              help="Write the report to FILE (or a folder: ID-after-action.md/.json in it).")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_ctx
def exercise_report(c: Context, ref: str, as_json: bool, output: Path | None,
                    force: bool) -> None:
    """The after-action report: the metrics, each objective rated P/S/M/U with its meaning,
    the strengths and areas for improvement, the improvement plan, the clocks met and missed,
    the latency of each inject and the log — between two banners."""
    import json

    from app.cli_playbooks import write_new
    from app.domain.exercise import BANNER
    from app.errors import InvalidInput
    from app.services.after_action import report

    if output is not None and not output.is_dir() and output.exists() and not force:
        raise InvalidInput(f"{output} already exists; choose another name or pass --force")
    rep = report(c.open(), ref)
    if output is None:
        if as_json:
            emit_json(rep)
        else:
            click.echo(report_text(rep), nl=False)
        return
    suffix = "json" if as_json else "md"
    path = output / f"{rep['exercise']['id']}-after-action.{suffix}" if output.is_dir() \
        else output
    text = (json.dumps(rep, indent=2, ensure_ascii=False) + "\n") if as_json \
        else report_text(rep)
    write_new(path, text, force=force)
    if as_json:
        emit_json({"banner": BANNER, "exercise": rep["exercise"]["id"], "written": str(path),
                   "format": "json", "banner_end": BANNER})
        return
    _banner()
    click.echo(f"wrote {path}: after-action report of {rep['exercise']['id']}")


# ------------------------------------------------------------------------------ running
def _clock_line(view: Any, now: Any, verb: str) -> None:
    from app.domain.exercise import format_offset

    _banner()
    click.echo(f"{view.label} {verb} at {format_offset(view.now_ms(now))} (×{view.speed}, "
               f"{view.status})")


@exercise.command("start")
@click.argument("ref", metavar="ID")
@click.option("--speed", type=int, metavar="N", help="Clock speed, ×1 to ×3600.")
@pass_ctx
def exercise_start(c: Context, ref: str, speed: int | None) -> None:
    """Start the exercise clock (or resume it after a pause)."""
    from app.services.exercises import get_exercise, start

    store = c.open(write=True)
    planned = get_exercise(store, ref).status == "planned"
    _clock_line(start(store, ref, speed=speed), _now(store),
                "started" if planned else "resumed")


@exercise.command("pause")
@click.argument("ref", metavar="ID")
@pass_ctx
def exercise_pause(c: Context, ref: str) -> None:
    """Pause the exercise clock (while an inject is discussed)."""
    from app.services.exercises import pause

    store = c.open(write=True)
    _clock_line(pause(store, ref), _now(store), "paused")


@exercise.command("resume")
@click.argument("ref", metavar="ID")
@click.option("--speed", type=int, metavar="N", help="A new clock speed, ×1 to ×3600.")
@pass_ctx
def exercise_resume(c: Context, ref: str, speed: int | None) -> None:
    """Resume a paused exercise clock."""
    from app.errors import InvalidInput
    from app.services.exercises import get_exercise, start

    store = c.open(write=True)
    view = get_exercise(store, ref)
    if view.status == "planned":
        raise InvalidInput(f"exercise {view.label} has not started; start it with "
                           f"`crosswalk exercise start {view.label}`")
    _clock_line(start(store, ref, speed=speed), _now(store), "resumed")


@exercise.command("close")
@click.argument("ref", metavar="ID")
@pass_ctx
def exercise_close(c: Context, ref: str) -> None:
    """End the exercise: the clock stops for good and the log becomes final."""
    from app.services.exercises import close

    store = c.open(write=True)
    view = close(store, ref)
    _clock_line(view, _now(store), "closed")
    click.echo(f"rate its objectives with `crosswalk exercise rate {view.label} OBJECTIVE "
               "P|S|M|U`")


@exercise.command("log")
@click.argument("ref", metavar="ID")
@click.argument("kind")
@click.argument("text", required=False, default="")
@click.option("--actor", metavar="A", help="Who did it (default: the --actor of the command).")
@click.option("--inject", metavar="I", help="The inject this responds to.")
@click.option("--step", type=int, metavar="N", help="The playbook step it completes (1-based).")
@click.option("--clock", metavar="C", help="A regulatory clock: a notification meets it, a "
              "decision records that it does not apply.")
@click.option("--containment", is_flag=True, help="This decision is the containment decision.")
@pass_ctx
def exercise_log(c: Context, ref: str, kind: str, text: str, actor: str | None,
                 inject: str | None, step: int | None, clock: str | None,
                 containment: bool) -> None:
    """Append to the exercise log at the exercise time now. KIND: aware (the team became
    aware; starts the clocks), decision, action, escalation, notification or note."""
    from app.domain.exercise import format_offset
    from app.domain.risk import parse_id
    from app.services.exercises import exercise_label, log

    entry = log(c.open(write=True), ref, kind, text, actor=actor, inject=inject, step=step,
                clock=clock, containment=containment)
    _banner()
    refs = _refs(entry)
    label = exercise_label(parse_id(ref, "EX"))
    click.echo(f"{label} #{entry.seq} {format_offset(entry.at_ms)} "
               f"{entry.kind}: {_s(entry.text)}" + (f" ({refs})" if refs != "—" else ""))


@exercise.command("rate")
@click.argument("ref", metavar="ID")
@click.argument("objective")
@click.argument("rating", metavar="P|S|M|U")
@click.option("--strengths", metavar="T", help="What went well for this objective.")
@click.option("--improvements", metavar="T", help="Areas for improvement.")
@pass_ctx
def exercise_rate(c: Context, ref: str, objective: str, rating: str, strengths: str | None,
                  improvements: str | None) -> None:
    """Rate an objective of a closed exercise (HSEEP): P performed without challenges, S with
    some, M with major challenges, U unable to be performed. Rating again changes it."""
    from app.domain.exercise import RATINGS
    from app.domain.risk import parse_id
    from app.services.after_action import rate_objective
    from app.services.exercises import exercise_label

    change = rate_objective(c.open(write=True), ref, objective, rating, strengths=strengths,
                            improvements=improvements)
    _banner()
    grade = rating.strip().upper()
    label = exercise_label(parse_id(ref, "EX"))
    if change:
        click.echo(f"{label} objective {_s(objective)}: {grade} ({RATINGS[grade]})")
    else:
        click.echo(f"{label} objective {_s(objective)}: no change")


@exercise.command("improve")
@click.argument("ref", metavar="ID")
@click.argument("action")
@click.option("--owner", required=True, metavar="O", help="Who will do it.")
@click.option("--due", required=True, metavar="YYYY-MM-DD", help="When it is due.")
@click.option("--objective", metavar="O", help="The objective it answers.")
@click.option("--risk", metavar="RK-n", help="Make it a treatment action of this risk (a "
              "risk still 'open' becomes 'mitigate').")
@click.option("--control", metavar="ID", help="Make it an action of this control.")
@pass_ctx
def exercise_improve(c: Context, ref: str, action: str, owner: str, due: str,
                     objective: str | None, risk: str | None, control: str | None) -> None:
    """Add an item to the improvement plan of a closed exercise."""
    from app.services.after_action import add_improvement

    item = add_improvement(c.open(write=True), ref, action, owner, due, objective=objective,
                           risk=risk, control=control)
    d = item.as_dict()
    _banner()
    links = ", ".join(f"{k} {d[k]}" for k in ("objective", "risk", "control") if d[k])
    click.echo(f"added {item.label} to the improvement plan of {d['exercise']}: "
               f"{_s(item.action)} (owner {_s(item.owner)}, due {item.due_on}"
               + (f"; {links}" if links else "") + ")")


@exercise.command("link")
@click.argument("item", metavar="IM-n")
@click.option("--risk", metavar="RK-n", help="Make it a treatment action of this risk.")
@click.option("--control", metavar="ID", help="Make it an action of this control.")
@pass_ctx
def exercise_link(c: Context, item: str, risk: str | None, control: str | None) -> None:
    """Link an improvement item to a risk (as its treatment action) and/or a control."""
    from app.domain.risk import parse_id
    from app.services.after_action import link_improvement
    from app.services.exercises import improvement_label

    change = link_improvement(c.open(write=True), item, risk=risk, control=control)
    _banner()
    label = improvement_label(parse_id(item, "IM"))
    if not change:
        click.echo(f"{label}: no change")
        return
    parts = []
    if "risk_id" in change:
        from app.domain.risk import risk_label

        parts.append(f"risk {risk_label(change['risk_id']['to'])}")
    if "control_id" in change:
        parts.append(f"control {change['control_id']['to']}")
    click.echo(f"{label} linked to {' and '.join(parts)}")
