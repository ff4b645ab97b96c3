"""The risk register: `system add|list|show|set|model`, `risk add|score|treat|accept|set|link|
unlink|list|show`, `risks heatmap|check` and `matrix list|show|add`.

Every typed text (names, titles, owners, justifications) is printed through
`app.domain.evidence.shown`, so control characters and right-to-left marks appear as escapes;
`--json` keeps the raw values (JSON escapes them itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli import Context, cli, emit_json, pass_ctx, table
from app.domain.text import ellipsis

JSON_ONE = "Print one JSON object."
JSON_ARRAY = "Print one JSON array."
SCORE_HELP = "LIKELIHOOD/IMPACT on the matrix, as positions (3/4) or names (likely/major)."


def _s(text: Any) -> str:
    """A typed value made safe to print on one line ('—' when empty)."""
    from app.domain.evidence import shown

    value = "" if text is None else str(text)
    return shown(value) if value else "—"



def _abbrev(names: list[str]) -> dict[str, str]:
    """A short tag per level name: the initials of its words (``Very high`` → ``VH``),
    lengthened until every level's tag is different."""
    def tag(name: str, n: int) -> str:
        words = name.split() or [name]
        if len(words) > 1:
            return "".join(w[0] for w in words).upper() + (name.replace(" ", "")[len(words):n]
                                                           if n > 1 else "")
        return name[:n].capitalize() if n > 1 else name[:1].upper()

    for n in range(1, 12):
        tags = {name: tag(name, n) for name in names}
        if len(set(tags.values())) == len(names):
            return tags
    return {name: name for name in names}


# ----------------------------------------------------------------------- systems
@cli.group()
def system() -> None:
    """The AI system inventory: add, list, show and change systems and their model
    versions."""


TIERS_HELP = "prohibited, high, limited, minimal, general-purpose or out-of-scope"
ROLES_HELP = ("provider, deployer, importer, distributor, authorised-representative or "
              "product-manufacturer")
LIFECYCLE_HELP = "planned, development, validation, production or retired"


def _system_options(adding: bool) -> Any:
    """The options describing a system (add: tier and role required; set: all optional,
    plus --name)."""
    opts = [
        ("--tier", "T", f"EU AI Act tier: {TIERS_HELP}.", adding),
        ("--tier-justification", "TEXT", "Why this tier (a tier needs one).", False),
        ("--role", "R", f"Operator role: {ROLES_HELP}.", adding),
        ("--purpose", "TEXT", "What the system is for.", False),
        ("--owner", "NAME", "Who is accountable for it.", False),
        ("--lifecycle", "S", f"{LIFECYCLE_HELP}"
                             + (" (default development)." if adding else "."), False),
        ("--annex-iii", "N", "The EU AI Act Annex III area, 1 to 8 (high-risk systems only"
                             + ("" if adding else "; '' clears it") + ").", False),
    ]
    if not adding:
        opts.insert(0, ("--name", "NAME", "A new name.", False))

    def decorate(f: Any) -> Any:
        for decl, metavar, help_text, required in reversed(opts):
            f = click.option(decl, metavar=metavar, help=help_text, required=required)(f)
        return f

    return decorate


def _system_fields(given: dict[str, Any]) -> dict[str, Any]:
    """The CLI's option names → the service's field names."""
    names = {"role": "operator_role", "annex_iii": "annex_iii_area"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


def _model_line(m: Any) -> str:
    limits = f"  {_s(m.limitations)}" if m.limitations else ""
    return f"  {_s(m.version)}  {m.approval_status}{limits}"


def _history_line(e: dict[str, Any]) -> str:
    """One audit event of a system: what changed, as field from → to."""
    change = e.get("change")
    action = e["action"]
    if "model_version" in e:
        action = f"{action} {_s(e['model_version'])}"
    parts = []
    if isinstance(change, dict):
        for key, value in change.items():
            if isinstance(value, dict) and set(value) == {"from", "to"}:
                parts.append(f"{key.replace('_', ' ')}: {_s(value['from'])} → "
                             f"{_s(value['to'])}")
    what = "; ".join(parts) if parts else ("created" if action.endswith("create") or
                                           ".create " in action else "")
    return f"  {e['at']}  {_s(e['actor'])}  {action}  {what}".rstrip()


@system.command("add")
@click.argument("name")
@_system_options(adding=True)
@click.option("--json", "as_json", is_flag=True, help="Print the system as one JSON object.")
@pass_ctx
def system_add(c: Context, name: str, as_json: bool, **given: str | None) -> None:
    """Add an AI system to the inventory: system add 'CV screener' --tier high
    --tier-justification 'Annex III 4(a): recruitment' --role deployer --annex-iii 4."""
    from app.domain.risk import system_label
    from app.services.systems import add_system, get_system

    fields = _system_fields(given)
    fields.setdefault("tier_justification", "")  # the service says it is needed
    store = c.open(write=True)
    row = add_system(store, name=name, **fields)
    if as_json:
        emit_json(get_system(store, row.id or 0).as_dict())
        return
    area = f", Annex III area {row.annex_iii_area}" if row.annex_iii_area else ""
    click.echo(f"added {system_label(row.id or 0)} \"{_s(row.name)}\" ({row.tier}, "
               f"{row.operator_role}{area})")


@system.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def system_list(c: Context, as_json: bool) -> None:
    """List the AI systems with their tier, role, lifecycle, owner and number of risks."""
    from collections import Counter

    from app.domain.risk import system_label
    from app.services.risks import list_risks
    from app.services.systems import list_systems, system_dict

    store = c.open()
    rows = list_systems(store)
    counts = Counter(r.system_id for r in list_risks(store))
    if as_json:
        emit_json([system_dict(r) | {"risks": counts.get(r.id, 0)} for r in rows])
        return
    if not rows:
        click.echo("no AI systems (add one with `crosswalk system add`)")
        return
    click.echo(table([(system_label(r.id or 0), ellipsis(_s(r.name), 40), r.tier,
                       r.operator_role, r.lifecycle, ellipsis(_s(r.owner), 24),
                       str(counts.get(r.id, 0))) for r in rows],
                     ("ID", "NAME", "TIER", "ROLE", "LIFECYCLE", "OWNER", "RISKS")))


@system.command("show")
@click.argument("ref", metavar="ID|NAME")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def system_show(c: Context, ref: str, as_json: bool) -> None:
    """Show a system: its fields, model versions, risks and history (every change, from →
    to)."""
    from app.services.systems import get_system

    d = get_system(c.open(), ref)
    if as_json:
        emit_json(d.as_dict())
        return
    _print_system(d)


def _print_system(d: Any) -> None:
    from app.domain.risk import ANNEX_III

    s = d.system
    click.echo(f"{d.label}  {_s(s.name)}")
    area = (f"{s.annex_iii_area} {ANNEX_III.get(s.annex_iii_area, '')}".strip()
            if s.annex_iii_area else "—")
    for name, value in (("tier", s.tier), ("justification", _s(s.tier_justification)),
                        ("role", s.operator_role), ("Annex III", area),
                        ("lifecycle", s.lifecycle), ("owner", _s(s.owner)),
                        ("purpose", _s(s.purpose)),
                        ("created", f"{s.created_at} by {_s(s.created_by)}"),
                        ("updated", s.updated_at)):
        click.echo(f"{name:<14} {value}")
    click.echo("\nModel versions")
    for m in d.models:
        click.echo(_model_line(m))
    if not d.models:
        click.echo("  none")
    click.echo("\nRisks")
    for r in d.risks:
        click.echo(f"  {r.label:<7} {_level_text(r):<16} {r.treatment:<9} {_s(r.title)}")
    if not d.risks:
        click.echo("  none")
    click.echo("\nHistory")
    for e in d.history:
        click.echo(_history_line(e))


@system.command("set")
@click.argument("ref", metavar="ID|NAME")
@_system_options(adding=False)
@click.option("--json", "as_json", is_flag=True, help="Print the system as one JSON object.")
@pass_ctx
def system_set(c: Context, ref: str, as_json: bool, **given: str | None) -> None:
    """Change a system's fields (audited: `system show` lists every change):
    system set AI-1 --lifecycle production."""
    from app.services.systems import get_system, update_system

    store = c.open(write=True)
    row, change = update_system(store, ref, **_system_fields(given))
    detail = get_system(store, row.id or 0)
    if as_json:
        emit_json(detail.as_dict() | {"change": change})
        return
    click.echo(f"{detail.label}: updated {', '.join(f.replace('_', ' ') for f in change)}"
               if change else f"{detail.label}: no change")


@system.command("model")
@click.argument("ref", metavar="ID|NAME")
@click.argument("version")
@click.option("--status", metavar="S", help="Approval status: pending (default for a new "
              "version), approved, restricted, blocked or retired.")
@click.option("--limitations", metavar="TEXT", help="Known limitations of this version.")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def system_model(c: Context, ref: str, version: str, status: str | None,
                 limitations: str | None, as_json: bool) -> None:
    """Add a model version to a system, or change its approval status or limitations:
    system model AI-1 2.3.0 --status approved."""
    from app.domain.risk import system_label
    from app.services.systems import set_model_version

    row, change = set_model_version(c.open(write=True), ref, version,
                                    approval_status=status, limitations=limitations)
    created = "system_id" in change  # a new version records its fields, not from → to
    label = system_label(row.system_id)
    if as_json:
        emit_json({"system": label, "version": row.version,
                   "approval_status": row.approval_status, "limitations": row.limitations,
                   "created": created, "change": {} if created else change,
                   "created_at": row.created_at, "updated_at": row.updated_at})
        return
    if created:
        click.echo(f"{label}: added model version {_s(row.version)} ({row.approval_status})")
    elif change:
        click.echo(f"{label}: model version {_s(row.version)} updated "
                   f"{', '.join(f.replace('_', ' ') for f in change)}")
    else:
        click.echo(f"{label}: model version {_s(row.version)} no change")


# ----------------------------------------------------------------------- risks
STAGE_INITIAL = {"inherent": "I", "current": "C", "residual": "R"}


def _level_text(r: Any) -> str:
    """The latest stage's level with the stage's initial: ``High (R)``; '—' if unscored."""
    for stage in ("residual", "current", "inherent"):
        s = getattr(r, stage)
        if s is not None:
            return f"{s.level} ({STAGE_INITIAL[stage]})"
    return "—"


def _risk_fields(given: dict[str, Any]) -> dict[str, Any]:
    names = {"review_every": "review_every_days"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


def _risk_options(adding: bool) -> Any:
    """The descriptive options of a risk (add and set)."""
    opts: list[tuple[str, str, str]] = [
        ("--title", "TEXT", "A short title" + (" (required)." if adding else ".")),
        ("--category", "C", "bias-and-fairness, data-drift, concept-drift, overfitting, "
                            "adversarial-or-poisoning, privacy-leakage, security, "
                            "model-theft-or-tampering, availability, compliance or other"
                            + (" (required)." if adding else ".")),
        ("--system", "ID|NAME", "The AI system it belongs to"
                                + (" (required)." if adding else " (moves it).")),
        ("--cause", "TEXT", "What could cause it."),
        ("--event", "TEXT", "What would happen."),
        ("--consequence", "TEXT", "What it would lead to."),
        ("--owner", "NAME", "Who owns the risk."),
        ("--knowledge", "K", "Strength of knowledge behind the scores: low, medium or high."),
        ("--knowledge-justification", "TEXT", "Why that strength of knowledge."),
        ("--review-on", "DATE", "Next review (YYYY-MM-DD, not in the past"
                                + ("" if adding else "; '' clears it") + ")."),
        ("--review-every", "DAYS", "Review cadence in days (1 to 3650)."),
    ]

    def decorate(f: Any) -> Any:
        for decl, metavar, help_text in reversed(opts):
            required = adding and decl in ("--title", "--category", "--system")
            f = click.option(decl, metavar=metavar, help=help_text, required=required)(f)
        return f

    return decorate


def _link_options(f: Any) -> Any:
    for decl, dest, metavar, what in reversed((
            ("--control", "controls", "ID", "a control, e.g. SEC-1"),
            ("--clause", "clauses", "'CODE REF'", "a clause, e.g. 'GDPR Art. 32(1)(b)'"),
            ("--evidence", "evidence", "EV-N", "a piece of evidence"))):
        f = click.option(decl, dest, metavar=metavar, multiple=True,
                         help=f"Link to {what} (repeatable).")(f)
    return f


def _report_risk(store: Any, risk_id: int, verb: str, as_json: bool) -> None:
    """What a command that wrote a risk prints: the risk as JSON, or one line."""
    from app.services.risks import get_risk

    d = get_risk(store, risk_id)
    if as_json:
        emit_json(_risk_json(d))
    else:
        click.echo(_risk_line(verb, d))


def _risk_line(verb: str, d: Any) -> str:
    stages = ", ".join(f"{st} {sc.level}" for st in ("inherent", "current", "residual")
                       if (sc := d.stage(st)) is not None) or "not scored"
    return f"{verb} {d.label} \"{_s(d.risk.title)}\" ({d.matrix.ref}: {stages})"


def _risk_json(d: Any) -> dict[str, Any]:
    return d.as_dict() | {"trend": _trend(d.history)}


def _trend(history: list[dict[str, Any]]) -> list[str]:
    """The level of each assessment's most advanced stage, oldest first."""
    out = []
    for h in history:
        for stage in ("residual", "current", "inherent"):
            if h.get(stage):
                out.append(h[stage]["level"])
                break
    return out


@cli.group()
def risk() -> None:
    """The risk register: add, score, treat, accept, link, list and show risks."""


@risk.command("add")
@_risk_options(adding=True)
@click.option("--matrix", metavar="M", help="The matrix to score on: a code (its latest "
              "version, default 5x5) or CODE@VERSION.")
@click.option("--inherent", metavar="L/I", help="Inherent score: " + SCORE_HELP)
@click.option("--current", metavar="L/I", help="Current score (with today's controls).")
@click.option("--residual", metavar="L/I", help="Residual score (after the treatment).")
@_link_options
@click.option("--json", "as_json", is_flag=True, help="Print the risk as one JSON object.")
@pass_ctx
def risk_add(c: Context, matrix: str | None, inherent: str | None, current: str | None,
             residual: str | None, controls: tuple[str, ...], clauses: tuple[str, ...],
             evidence: tuple[str, ...], as_json: bool, **given: str | None) -> None:
    """Add a risk, scored now if any stage is given (all or nothing): risk add --title
    'Training data poisoning' --system AI-1 --category adversarial-or-poisoning
    --inherent 4/4 --control SEC-1."""
    from app.services.risks import add_risk

    fields = _risk_fields(given)
    store = c.open(write=True)
    row = add_risk(store, title=fields.pop("title"), system=fields.pop("system"),
                   category=fields.pop("category"), matrix=matrix, inherent=inherent,
                   current=current, residual=residual, controls=list(controls),
                   clauses=list(clauses), evidence=list(evidence), **fields)
    _report_risk(store, row.id or 0, "added", as_json)


@risk.command("score")
@click.argument("risk_id", metavar="ID")
@click.option("--inherent", metavar="L/I", help="Inherent score: " + SCORE_HELP)
@click.option("--current", metavar="L/I", help="Current score.")
@click.option("--residual", metavar="L/I", help="Residual score.")
@click.option("--matrix", metavar="M", help="Re-assess on another matrix (every stage "
              "scored before must be scored again).")
@click.option("--note", metavar="TEXT", default="", help="Why it was re-scored.")
@click.option("--json", "as_json", is_flag=True, help="Print the risk as one JSON object.")
@pass_ctx
def risk_score(c: Context, risk_id: str, inherent: str | None, current: str | None,
               residual: str | None, matrix: str | None, note: str, as_json: bool) -> None:
    """Re-score a risk (stages not given carry over); appends one assessment to its
    history: risk score RK-1 --residual 2/3 --note 'after SEC-1 review'."""
    from app.services.risks import score_risk

    store = c.open(write=True)
    row = score_risk(store, risk_id, inherent=inherent, current=current, residual=residual,
                     matrix=matrix, note=note)
    _report_risk(store, row.id or 0, "scored", as_json)


@risk.command("treat")
@click.argument("risk_id", metavar="ID")
@click.argument("treatment")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risk_treat(c: Context, risk_id: str, treatment: str, as_json: bool) -> None:
    """Set the treatment: open, mitigate, avoid or transfer (accept a risk with
    `risk accept`)."""
    from app.domain.risk import parse_id, risk_label
    from app.services.risks import get_risk, treat_risk

    store = c.open(write=True)
    change = treat_risk(store, risk_id, treatment)
    label = risk_label(parse_id(risk_id, "RK"))
    value = get_risk(store, label).risk.treatment
    if as_json:
        emit_json({"id": label, "treatment": value, "change": change})
        return
    if change:
        click.echo(f"{label}: treatment {change['treatment']['from']} → {value}")
    else:
        click.echo(f"{label}: treatment already {value}")


@risk.command("accept")
@click.argument("risk_id", metavar="ID")
@click.option("--approver", metavar="NAME", help="Who approved the acceptance (required).")
@click.option("--justification", metavar="TEXT", help="Why it is accepted (required).")
@click.option("--expires", metavar="DATE", help="Until when (YYYY-MM-DD, after today; "
              "required).")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risk_accept(c: Context, risk_id: str, approver: str | None, justification: str | None,
                expires: str | None, as_json: bool) -> None:
    """Accept a risk: who approved it, why, and until when:
    risk accept RK-2 --approver 'CRO' --justification '…' --expires 2027-06-30."""
    from app.domain.risk import parse_id, risk_label
    from app.services.risks import accept_risk

    store = c.open(write=True)
    change = accept_risk(store, risk_id, approver=approver or "",
                         justification=justification or "", expires=expires or "")
    label = risk_label(parse_id(risk_id, "RK"))
    if as_json:
        emit_json({"id": label, "treatment": "accept", "accepted_by": change["accepted_by"],
                   "acceptance_justification": change["acceptance_justification"],
                   "acceptance_expires": change["acceptance_expires"], "change": change})
        return
    click.echo(f"{label}: accepted by {_s(change['accepted_by'])} until "
               f"{change['acceptance_expires']}")


@risk.command("set")
@click.argument("risk_id", metavar="ID")
@_risk_options(adding=False)
@click.option("--json", "as_json", is_flag=True, help="Print the risk as one JSON object.")
@pass_ctx
def risk_set(c: Context, risk_id: str, as_json: bool, **given: str | None) -> None:
    """Change a risk's descriptive fields, owner, system, knowledge or review schedule
    (scores change with `risk score`)."""
    from app.services.risks import get_risk, update_risk

    store = c.open(write=True)
    row, change = update_risk(store, risk_id, **_risk_fields(given))
    d = get_risk(store, row.id or 0)
    if as_json:
        emit_json(_risk_json(d) | {"change": change})
        return
    click.echo(f"{d.label}: updated {', '.join(f.replace('_', ' ') for f in change)}"
               if change else f"{d.label}: no change")


@risk.command("link")
@click.argument("risk_id", metavar="ID")
@_link_options
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risk_link(c: Context, risk_id: str, controls: tuple[str, ...], clauses: tuple[str, ...],
              evidence: tuple[str, ...], as_json: bool) -> None:
    """Link a risk to controls, clauses and evidence (all or nothing):
    risk link RK-1 --control SEC-1 --evidence EV-3."""
    from app.domain.risk import parse_id, risk_label
    from app.services.risks import link_risk

    linked = link_risk(c.open(write=True), risk_id, controls=list(controls),
                       clauses=list(clauses), evidence=list(evidence))
    label = risk_label(parse_id(risk_id, "RK"))
    if as_json:
        emit_json({"id": label, "linked": linked})
        return
    click.echo(f"linked {label} to {', '.join(_s(t) for t in linked)}")


@risk.command("unlink")
@click.argument("risk_id", metavar="ID")
@click.option("--control", metavar="ID", help="The control to unlink.")
@click.option("--clause", metavar="'CODE REF'", help="The clause to unlink.")
@click.option("--evidence", metavar="EV-N", help="The evidence to unlink.")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risk_unlink(c: Context, risk_id: str, control: str | None, clause: str | None,
                evidence: str | None, as_json: bool) -> None:
    """Remove one link (the audit log keeps that it existed): risk unlink RK-1
    --control SEC-1."""
    from app.domain.risk import parse_id, risk_label
    from app.errors import InvalidInput
    from app.services.risks import unlink_risk

    if sum(x is not None for x in (control, clause, evidence)) != 1:
        raise InvalidInput("name one --control, --clause or --evidence to unlink")
    target = unlink_risk(c.open(write=True), risk_id, control=control, clause=clause,
                         evidence=evidence)
    label = risk_label(parse_id(risk_id, "RK"))
    if as_json:
        emit_json({"id": label, "unlinked": target})
        return
    click.echo(f"unlinked {label} from {_s(target)}")


@risk.command("list")
@click.option("--system", metavar="ID|NAME", help="Only the risks of this system.")
@click.option("--treatment", metavar="T", help="Only risks with this treatment.")
@click.option("--category", metavar="C", help="Only risks in this category.")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def risk_list(c: Context, system: str | None, treatment: str | None, category: str | None,
              as_json: bool) -> None:
    """The register, highest level first; LEVEL is the latest stage scored (I inherent,
    C current, R residual)."""
    from app.services.risk_register import list_risks, matrices_by_id

    store = c.reader()
    rows = list_risks(store, system=system, treatment=treatment, category=category)
    if as_json:
        matrices = matrices_by_id(store)
        emit_json([r.as_dict(matrices) for r in rows])
        return
    if not rows:
        click.echo("no risks")
        return
    click.echo(table([(r.label, _level_text(r), ellipsis(_s(r.title), 40),
                       ellipsis(_s(r.system), 24), r.treatment, ellipsis(_s(r.owner), 20),
                       r.review_on or "—") for r in rows],
                     ("ID", "LEVEL", "TITLE", "SYSTEM", "TREATMENT", "OWNER", "REVIEW ON")))


@risk.command("show")
@click.argument("risk_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risk_show(c: Context, risk_id: str, as_json: bool) -> None:
    """Show a risk: its fields, the three stages, links, and every assessment with the
    trend of its level."""
    from app.domain.risk import system_label
    from app.services.risks import get_risk

    d = get_risk(c.open(), risk_id)
    if as_json:
        emit_json(_risk_json(d))
        return
    r = d.risk
    click.echo(f"{d.label}  {_s(r.title)}")
    accepted = "—"
    if r.treatment == "accept":
        accepted = f"by {_s(r.accepted_by)} until {r.acceptance_expires or '—'}"
    review = r.review_on or "—"
    if r.review_every_days:
        review += f" (every {r.review_every_days} days)"
    for name, value in (("system", f"{system_label(r.system_id)} {_s(d.system)}"),
                        ("category", r.category), ("owner", _s(r.owner)),
                        ("treatment", r.treatment), ("accepted", accepted),
                        ("review on", review), ("knowledge", r.knowledge),
                        ("matrix", f"{d.matrix.ref} ({_s(d.matrix.name)})"),
                        ("created", f"{r.created_at} by {_s(r.created_by)}"),
                        ("updated", r.updated_at)):
        click.echo(f"{name:<11} {value}")
    if r.knowledge_justification:
        click.echo(f"{'':<11} {_s(r.knowledge_justification)}")
    if r.acceptance_justification:
        click.echo(f"\nAcceptance justification\n{_s(r.acceptance_justification)}")
    for name in ("cause", "event", "consequence"):
        if getattr(r, name):
            click.echo(f"\n{name.capitalize()}\n{_s(getattr(r, name))}")
    click.echo("\nScores")
    for stage in ("inherent", "current", "residual"):
        sc = d.stage(stage)
        if sc is None:
            click.echo(f"  {stage:<9} —")
            continue
        lk, im = d.matrix.likelihood[sc.likelihood - 1], d.matrix.impact[sc.impact - 1]
        high = "  (needs treatment)" if sc.high else ""
        click.echo(f"  {stage:<9} {sc.level:<10} likelihood {sc.likelihood} {lk.name}, "
                   f"impact {sc.impact} {im.name}{high}")
    click.echo("\nLinks")
    for kind, target in d.links:
        click.echo(f"  {kind:<8} {_s(target)}")
    if not d.links:
        click.echo("  none")
    click.echo("\nHistory")
    for h in d.history:
        stages = ", ".join(f"{STAGE_INITIAL[st]} {h[st]['level']}"
                           for st in ("inherent", "current", "residual") if h.get(st))
        note = f"  {_s(h['note'])}" if h.get("note") else ""
        click.echo(f"  {h['scored_at']}  {_s(h['scored_by'])}  {h['matrix']}  "
                   f"{stages or 'not scored'}{note}")
    if not d.history:
        click.echo("  not scored yet")
    else:
        click.echo(f"trend      {' → '.join(_trend(d.history))}")


# ----------------------------------------------------------------------- register views
@cli.group()
def risks() -> None:
    """The register at a glance: the heat map and the quality checks."""


@risks.command("heatmap")
@click.option("--stage", default="residual", show_default=True, metavar="S",
              help="inherent, current or residual.")
@click.option("--matrix", metavar="M", help="Which matrix (default: the one most risks are "
              "scored on).")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risks_heatmap(c: Context, stage: str, matrix: str | None, as_json: bool) -> None:
    """Count risks per cell of the matrix for one stage: likelihood rows (highest first),
    impact columns; each cell shows its count and its level's initials."""
    from app.services.risk_checks import heatmap

    h = heatmap(c.reader(), stage=stage, matrix=matrix)
    if as_json:
        emit_json(h.as_dict())
        return
    click.echo("\n".join(_heatmap_lines(h)))


def _heatmap_lines(h: Any) -> list[str]:
    m = h.matrix
    tags = _abbrev([lv.name for lv in m.levels])
    cols = [f"{i} {lv.name}" for i, lv in enumerate(m.impact, start=1)]
    cells = [[f"{len(h.cells[li][ii]) or '·'} {tags[m.level(li + 1, ii + 1).name]}"
              for ii in range(len(m.impact))] for li in range(len(m.likelihood))]
    width = max(len(x) for x in cols + [c for row in cells for c in row])
    rows = [f"{li} {lv.name}" for li, lv in enumerate(m.likelihood, start=1)]
    label_w = max(len(x) for x in [*rows, "likelihood ↓ / impact →"])
    out = [f"{h.stage} risk on {m.ref} ({_s(m.name)}): {h.total} scored, {h.unscored} "
           f"unscored, {h.elsewhere} on other matrices", "",
           f"{'likelihood ↓ / impact →':<{label_w}}  " + "  ".join(f"{x:<{width}}"
                                                                   for x in cols).rstrip()]
    for li in reversed(range(len(m.likelihood))):
        out.append(f"{rows[li]:<{label_w}}  " + "  ".join(f"{x:<{width}}"
                                                          for x in cells[li]).rstrip())
    out.append("")
    out.append("levels: " + ", ".join(f"{tags[lv.name]} {lv.name}" for lv in m.levels)
               + "; · none")
    return out


@risks.command("check")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def risks_check(c: Context, as_json: bool) -> None:
    """Run the quality checks on every risk (exit 1 when any fails): residual above current,
    accepted without approver, acceptance expired, review overdue, mitigate without a control,
    high residual without current evidence."""
    from app.services.risk_checks import CHECKS, check_risks

    report = check_risks(c.reader())
    if as_json:
        emit_json(report.as_dict())
    elif report.passed:
        click.echo(f"all {report.risks} risks pass the checks")
    else:
        for check, text in CHECKS.items():
            found = [f for f in report.findings if f.check == check]
            if not found:
                continue
            click.echo(f"{check}: {text} ({len(found)})")
            for f in found:
                click.echo(f"  {f.risk:<7} {ellipsis(_s(f.title), 40)}  {_s(f.detail)}")
        risky = len({f.risk for f in report.findings})
        click.echo(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''} "
                   f"on {risky} of {report.risks} risks")
    if not report.passed:
        raise click.exceptions.Exit(1)


# ----------------------------------------------------------------------- matrices
@cli.group()
def matrix() -> None:
    """Risk matrices: the shipped 3x3, 4x4 and 5x5 and the analyst's own, by version."""


def _matrix_json(view: Any) -> dict[str, Any]:
    return {"ref": view.matrix.ref} | view.as_dict()


@matrix.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_ARRAY)
@pass_ctx
def matrix_list(c: Context, as_json: bool) -> None:
    """List the workspace's matrices (every version) and the shipped ones not used yet."""
    from app.services.risk_matrices import list_matrices

    views = list_matrices(c.open())
    if as_json:
        emit_json([_matrix_json(v) for v in views])
        return
    click.echo(table([(v.matrix.ref, f"{len(v.matrix.likelihood)} × {len(v.matrix.impact)}",
                       ", ".join(lv.name for lv in v.matrix.levels),
                       "yes" if v.id is not None else "no (shipped)", str(v.risks),
                       _s(v.matrix.name)) for v in views],
                     ("REF", "SIZE", "LEVELS", "IN WORKSPACE", "RISKS", "NAME")))


@matrix.command("show")
@click.argument("ref", metavar="REF")
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def matrix_show(c: Context, ref: str, as_json: bool) -> None:
    """Show a matrix (CODE for its latest version, or CODE@VERSION): its scales, levels and
    grid."""
    from app.services.risk_matrices import get_matrix

    view = get_matrix(c.open(), ref)
    if as_json:
        emit_json(_matrix_json(view))
        return
    m = view.matrix
    click.echo(f"{m.ref}  {_s(m.name)}")
    if m.description:
        click.echo(_s(m.description))
    click.echo(f"{'in workspace' if view.id is not None else 'shipped, not used yet'}; "
               f"{view.risks} risk{'s' if view.risks != 1 else ''}")
    for title, levels in (("Likelihood", m.likelihood), ("Impact", m.impact)):
        click.echo(f"\n{title} (lowest first)")
        for i, lv in enumerate(levels, start=1):
            click.echo(f"  {i}  {_s(lv.name):<16} {_s(lv.description)}")
    click.echo("\nLevels (lowest first)")
    for lv in m.levels:
        high = "  needs treatment" if lv.high else ""
        click.echo(f"  {_s(lv.name):<12} {lv.colour}  {_s(lv.description)}{high}")
    click.echo("\nGrid (likelihood ↓, impact →)")
    names = [[m.level(li + 1, ii + 1).name for ii in range(len(m.impact))]
             for li in range(len(m.likelihood))]
    width = max(len(n) for row in names for n in row)
    width = max(width, max(len(str(i)) for i in range(1, len(m.impact) + 1)))
    label_w = max(len(f"{i} {lv.name}") for i, lv in enumerate(m.likelihood, start=1))
    click.echo(f"  {'':<{label_w}}  " + "  ".join(f"{i:<{width}}" for i in
                                                 range(1, len(m.impact) + 1)).rstrip())
    for li in reversed(range(len(m.likelihood))):
        label = f"{li + 1} {m.likelihood[li].name}"
        click.echo(f"  {_s(label):<{label_w}}  "
                   + "  ".join(f"{_s(n):<{width}}" for n in names[li]).rstrip())


@matrix.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help=JSON_ONE)
@pass_ctx
def matrix_add(c: Context, file: Path, as_json: bool) -> None:
    """Add your own matrix from a YAML or JSON file (the shape of `matrix show --json`);
    a code already here becomes its next version."""
    from app.services.risk_matrices import add_matrix, get_matrix

    store = c.open(write=True)
    m = add_matrix(store, file)
    if as_json:
        emit_json(_matrix_json(get_matrix(store, m.ref)))
        return
    click.echo(f"added matrix {m.ref} \"{_s(m.name)}\" ({len(m.likelihood)} × "
               f"{len(m.impact)}, levels {', '.join(_s(lv.name) for lv in m.levels)})")
