"""The risk register: risks of AI systems, scored on a pinned matrix version at three stages
(inherent, current, residual), treated, accepted, linked to controls, clauses and evidence.

Every assessment appends a `risk_score` row (the risk's history and trend); the `risk` row
keeps the latest scores for listing. Moving a risk to another matrix is a re-assessment: every
stage it had scores for must be scored again on the new matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from app.domain import risk as rk
from app.domain.evidence import parse_date
from app.domain.text import clean_text
from app.errors import InvalidInput, NotFound
from app.services.risk_matrices import ensure_matrix, matrix_of
from app.services.risk_register import (  # noqa: F401  (the read side, re-exported)
    RiskRow,
    StageScore,
    list_risks,
    matrices_by_id,
    stage,
)
from app.store import Store
from app.store.models import Risk, RiskLink, RiskMatrix, RiskScore
from app.store.store import Tx

if TYPE_CHECKING:
    pass

MAX_SHORT = 200
MAX_LONG = 5000
Score = tuple[int, int] | None  # (likelihood, impact), 1-based on the pinned matrix


def today(store: Store) -> date:
    return store.clock().date()


def parse_risk_ref(text: str | int) -> int:
    """The number of a risk reference (`RK-3`, `3`); NotFound naming what is wrong."""
    try:
        return rk.parse_id(text, "RK")
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def risk_row(session: Any, rid: int) -> Risk:
    """The risk's row; NotFound when the register has none with that number."""
    row = session.get(Risk, rid)
    if row is None:
        raise NotFound(f"no risk {rk.risk_label(rid)} in the register")
    return row


# ----------------------------------------------------------------------- checking input
def check_fields(store: Store, **given: Any) -> dict[str, Any]:
    """The risk's descriptive fields that were given, checked (the TUI form uses it)."""
    out: dict[str, Any] = {}
    try:
        for key, limit, multi, required in (
                ("title", MAX_SHORT, False, True), ("owner", MAX_SHORT, False, False),
                ("cause", MAX_LONG, True, False), ("event", MAX_LONG, True, False),
                ("consequence", MAX_LONG, True, False),
                ("knowledge_justification", MAX_LONG, True, False)):
            if given.get(key) is not None:
                out[key] = clean_text(given[key], key.replace("_", " "), limit,
                                      multiline=multi, required=required)
        if given.get("category") is not None:
            out["category"] = rk.choose(given["category"], rk.CATEGORIES, "category")
        if given.get("knowledge") is not None:
            out["knowledge"] = rk.choose(given["knowledge"], rk.KNOWLEDGE,
                                         "strength of knowledge")
        if given.get("review_on") is not None:
            day = parse_date(given["review_on"], "review on") if given["review_on"] else None
            if day is not None and day < today(store):
                raise ValueError(f"review on {day} is in the past (today is {today(store)})")
            out["review_on"] = day.isoformat() if day else None
        if given.get("review_every_days") is not None:
            text = str(given["review_every_days"]).strip()
            if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 3650:
                raise ValueError(f"the review cadence {text!r} must be 1 to 3650 days")
            out["review_every_days"] = int(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return out


def _score(m: rk.Matrix, value: str | tuple[Any, Any] | None, stage: str) -> Score:
    if value is None or value == "":
        return None
    try:
        likelihood, impact = rk.parse_score(value) if isinstance(value, str) else value
        return m.position(likelihood, "likelihood"), m.position(impact, "impact")
    except ValueError as exc:
        raise InvalidInput(f"{stage}: {exc}") from None


def _scores_of(row: Risk | RiskScore) -> dict[str, Score]:
    out: dict[str, Score] = {}
    for name in rk.STAGES:
        lk, im = getattr(row, f"{name}_likelihood"), getattr(row, f"{name}_impact")
        out[name] = (lk, im) if lk is not None and im is not None else None
    return out


def _apply_scores(row: Risk | RiskScore, scores: dict[str, Score]) -> None:
    for name, s in scores.items():
        setattr(row, f"{name}_likelihood", s[0] if s else None)
        setattr(row, f"{name}_impact", s[1] if s else None)


def _score_change(m: rk.Matrix, scores: dict[str, Score]) -> dict[str, Any]:
    return {name: ({"likelihood": s[0], "impact": s[1], "level": m.level(*s).name}
                   if s else None) for name, s in scores.items()}


def _append_score(tx: Tx, risk: Risk, matrix_row: RiskMatrix, m: rk.Matrix,
                  scores: dict[str, Score], note: str) -> None:
    assert risk.id is not None and matrix_row.id is not None
    row = RiskScore(risk_id=risk.id, matrix_id=matrix_row.id, note=note, scored_at=tx.now,
                    scored_by=tx.store.actor)
    _apply_scores(row, scores)
    tx.session.add(row)
    tx.session.flush()
    tx.record("risk_score.create", "risk_score", row.id or 0, {
        "risk_id": risk.id, "matrix": m.ref, **_score_change(m, scores), "note": note})


# ----------------------------------------------------------------------- targets
def _targets(store: Store, controls: list[str], clauses: list[str], evidence: list[str]
             ) -> list[tuple[str, Any, str]]:
    """(column, value, label) for every target, each checked before anything is written."""
    from app.services.evidence import get_evidence_row
    from app.services.mappings import _control
    from app.services.regulations import find_clause

    out: list[tuple[str, Any, str]] = [("control_id", c, c)
                                       for c in dict.fromkeys(_control(x) for x in controls)]
    for ref in dict.fromkeys(clauses):
        reg, clause = find_clause(store, ref)
        out.append(("clause_id", clause.id, f"{reg.code} {clause.ref}"))
    for ref in dict.fromkeys(evidence):
        row = get_evidence_row(store, ref)
        out.append(("evidence_id", row.id, f"EV-{row.id}"))
    return out


def _link(tx: Tx, risk_id: int, column: str, value: Any, label: str) -> None:
    q = select(RiskLink).where(RiskLink.risk_id == risk_id,
                               getattr(RiskLink, column) == value)
    if tx.session.exec(q).first() is not None:
        raise InvalidInput(f"{rk.risk_label(risk_id)} is already linked to {label}")
    row = RiskLink(risk_id=risk_id, created_at=tx.now, created_by=tx.store.actor,
                   **{column: value})
    tx.session.add(row)
    tx.session.flush()
    tx.record("risk_link.create", "risk_link", row.id or 0,
              {"risk_id": risk_id, column: value, "target": label})


# ----------------------------------------------------------------------- writing
def add_risk(store: Store, *, title: str, system: str | int, category: str,
             matrix: str | None = None, inherent: Any = None, current: Any = None,
             residual: Any = None, controls: list[str] = (),  # type: ignore[assignment]
             clauses: list[str] = (),  # type: ignore[assignment]
             evidence: list[str] = (),  # type: ignore[assignment]
             **fields: Any) -> Risk:
    """Add a risk to the register (scored now if any stage is given); all or nothing."""
    from app.services.systems import find_system

    checked = check_fields(store, title=title, category=category, **fields)
    targets = _targets(store, list(controls), list(clauses), list(evidence))
    with store.write() as tx:
        system_row = find_system(tx.session, system)
        matrix_row, m = ensure_matrix(tx, matrix)
        scores = {"inherent": _score(m, inherent, "inherent"),
                  "current": _score(m, current, "current"),
                  "residual": _score(m, residual, "residual")}
        row = Risk(**checked, system_id=system_row.id or 0, matrix_id=matrix_row.id or 0,
                   created_at=tx.now, created_by=store.actor, updated_at=tx.now)
        _apply_scores(row, scores)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("risk.create", "risk", row.id, checked | {
            "system_id": system_row.id, "matrix": m.ref, **_score_change(m, scores)})
        if any(scores.values()):
            _append_score(tx, row, matrix_row, m, scores, "first assessment")
        for column, value, label in targets:
            _link(tx, row.id, column, value, label)
    return row


def score_risk(store: Store, risk_id: str | int, *, inherent: Any = None, current: Any = None,
               residual: Any = None, matrix: str | None = None, note: str = "") -> Risk:
    """Re-score a risk: the stages given change, the others carry over; a new matrix is a
    re-assessment of every stage that was scored. Appends one row to its history."""
    rid = parse_risk_ref(risk_id)
    try:
        note = clean_text(note, "the note", 500)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    given = {"inherent": inherent, "current": current, "residual": residual}
    if all(v in (None, "") for v in given.values()):
        raise InvalidInput("give at least one of --inherent, --current, --residual "
                           "(LIKELIHOOD/IMPACT)")
    with store.write() as tx:
        row = risk_row(tx.session, rid)
        before = _scores_of(row)
        pinned = tx.session.get(RiskMatrix, row.matrix_id)
        assert pinned is not None
        if matrix is not None:
            matrix_row, m = ensure_matrix(tx, matrix)
        else:
            matrix_row, m = pinned, matrix_of(pinned)
        moving = matrix_row.id != pinned.id
        if moving:
            missing = [s for s, v in before.items() if v and given[s] in (None, "")]
            if missing:
                raise InvalidInput(
                    f"moving {rk.risk_label(rid)} from matrix {pinned.code}@{pinned.version} "
                    f"to {m.ref} is a re-assessment: score {', '.join(missing)} again on it")
        scores = {s: (_score(m, given[s], s) if given[s] not in (None, "") else
                      (None if moving else before[s])) for s in rk.STAGES}
        _apply_scores(row, scores)
        row.matrix_id = matrix_row.id or 0
        row.updated_at = tx.now
        tx.session.add(row)
        change: dict[str, Any] = _score_change(m, scores)
        if moving:
            change["matrix"] = {"from": f"{pinned.code}@{pinned.version}", "to": m.ref}
        tx.record("risk.score", "risk", rid, change)
        _append_score(tx, row, matrix_row, m, scores, note)
    return row


def treat_risk(store: Store, risk_id: str | int, treatment: str) -> dict[str, Any]:
    """Set the treatment (acceptance goes through `accept_risk`, which needs an approver)."""
    rid = parse_risk_ref(risk_id)
    try:
        value = rk.choose(treatment, rk.TREATMENTS, "treatment")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if value == "accept":
        raise InvalidInput("accepting a risk needs an approver, a justification and an "
                           "expiry: use `risk accept`")
    with store.write() as tx:
        row = risk_row(tx.session, rid)
        if row.treatment == value:
            return {}
        change: dict[str, Any] = {"treatment": {"from": row.treatment, "to": value}}
        if row.treatment == "accept":  # leaving acceptance ends it
            change |= {"accepted_by": {"from": row.accepted_by, "to": None}}
            row.accepted_by, row.acceptance_expires = None, None
            row.acceptance_justification = ""
        row.treatment = value
        row.updated_at = tx.now
        tx.session.add(row)
        tx.record("risk.treat", "risk", rid, change)
    return change


class FieldInvalid(InvalidInput):
    """An input refused, naming the form field at fault (`field`)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_acceptance(store: Store, label: str, *, approver: str | None,
                     justification: str | None, expires: str | None) -> tuple[str, str, str]:
    """(approver, justification, expiry) of an acceptance, checked: all three are needed and
    the expiry is a date after today. The TUI form uses it before closing."""
    try:
        who = clean_text(approver or "", "the approver", MAX_SHORT, required=True)
    except ValueError as exc:
        raise FieldInvalid(f"cannot accept {label}: {exc}", "approver") from None
    try:
        why = clean_text(justification or "", "the justification", MAX_LONG, multiline=True,
                         required=True)
    except ValueError as exc:
        raise FieldInvalid(f"cannot accept {label}: {exc}", "justification") from None
    try:
        until = parse_date(expires or "", "the acceptance expiry")
    except ValueError as exc:
        raise FieldInvalid(f"cannot accept {label}: {exc}", "expires") from None
    if until <= today(store):
        raise FieldInvalid(f"the acceptance expiry {until} must be after today "
                           f"({today(store)})", "expires")
    return who, why, until.isoformat()


def accept_risk(store: Store, risk_id: str | int, *, approver: str, justification: str,
                expires: str) -> dict[str, Any]:
    """Accept a risk: who approved it, why, and until when (a date after today)."""
    rid = parse_risk_ref(risk_id)
    who, why, until = check_acceptance(store, rk.risk_label(rid), approver=approver,
                                       justification=justification, expires=expires)
    with store.write() as tx:
        row = risk_row(tx.session, rid)
        change = {"treatment": {"from": row.treatment, "to": "accept"}, "accepted_by": who,
                  "acceptance_justification": why, "acceptance_expires": until}
        row.treatment, row.accepted_by = "accept", who
        row.acceptance_justification, row.acceptance_expires = why, until
        row.updated_at = tx.now
        tx.session.add(row)
        tx.record("risk.accept", "risk", rid, change)
    return change


def update_risk(store: Store, risk_id: str | int, **changes: Any
                ) -> tuple[Risk, dict[str, Any]]:
    """Change the descriptive fields, owner, system, knowledge or review schedule."""
    from app.services.systems import find_system

    rid = parse_risk_ref(risk_id)
    system = changes.pop("system", None)
    wanted = check_fields(store, **{k: v for k, v in changes.items() if v is not None})
    if not wanted and system is None:
        raise InvalidInput("nothing to change")
    with store.write() as tx:
        row = risk_row(tx.session, rid)
        if system is not None:
            wanted["system_id"] = find_system(tx.session, system).id
        change = tx.update(row, wanted, "risk.update", "risk", rid)
    return row, change


def link_risk(store: Store, risk_id: str | int, *, controls: list[str] = (),  # type: ignore[assignment]
              clauses: list[str] = (), evidence: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    rid = parse_risk_ref(risk_id)
    with store.read() as s:
        risk_row(s, rid)
    targets = _targets(store, list(controls), list(clauses), list(evidence))
    if not targets:
        raise InvalidInput("name a control, a clause or a piece of evidence to link to")
    with store.write() as tx:
        for column, value, label in targets:
            _link(tx, rid, column, value, label)
    return [label for _, _, label in targets]


def unlink_risk(store: Store, risk_id: str | int, *, control: str | None = None,
                clause: str | None = None, evidence: str | None = None) -> str:
    rid = parse_risk_ref(risk_id)
    with store.read() as s:
        risk_row(s, rid)
    targets = _targets(store, [control] if control else [], [clause] if clause else [],
                       [evidence] if evidence else [])
    if len(targets) != 1:
        raise InvalidInput("name one control, clause or piece of evidence to unlink")
    column, value, label = targets[0]
    with store.write() as tx:
        row = tx.session.exec(select(RiskLink).where(
            RiskLink.risk_id == rid, getattr(RiskLink, column) == value)).first()
        if row is None:
            raise NotFound(f"{rk.risk_label(rid)} is not linked to {label}")
        link_id = row.id or 0
        tx.session.delete(row)
        tx.record("risk_link.delete", "risk_link", link_id, {"risk_id": rid, "target": label})
    return label


# ----------------------------------------------------------------------- reading
@dataclass(slots=True)
class RiskDetail:
    risk: Risk
    system: str
    matrix: rk.Matrix
    links: list[tuple[str, str]]  # (kind, target)
    history: list[dict[str, Any]] = field(default_factory=list)  # assessments, oldest first

    @property
    def label(self) -> str:
        return rk.risk_label(self.risk.id or 0)

    def stage(self, name: str) -> StageScore | None:
        return stage(self.matrix, getattr(self.risk, f"{name}_likelihood"),
                     getattr(self.risk, f"{name}_impact"))

    def as_dict(self) -> dict[str, Any]:
        r = self.risk
        return {"id": self.label, "title": r.title, "cause": r.cause, "event": r.event,
                "consequence": r.consequence, "category": r.category,
                "system_id": rk.system_label(r.system_id), "system": self.system,
                "owner": r.owner, "matrix": self.matrix.ref,
                **{s: (sc.as_dict(self.matrix) if (sc := self.stage(s)) else None)
                   for s in rk.STAGES},
                "knowledge": r.knowledge, "knowledge_justification": r.knowledge_justification,
                "treatment": r.treatment, "review_on": r.review_on,
                "review_every_days": r.review_every_days, "accepted_by": r.accepted_by,
                "acceptance_justification": r.acceptance_justification,
                "acceptance_expires": r.acceptance_expires,
                "links": [{"kind": k, "target": t} for k, t in self.links],
                "history": self.history, "created_at": r.created_at,
                "created_by": r.created_by, "updated_at": r.updated_at}


def get_risk(store: Store, risk_id: str | int) -> RiskDetail:
    """A risk with its links and every assessment (its trend), oldest first."""
    from app.store.models import AiSystem

    rid = parse_risk_ref(risk_id)
    matrices = matrices_by_id(store)
    with store.read() as s:
        row = risk_row(s, rid)
        system = s.get(AiSystem, row.system_id)
        dbapi = s.connection().connection.dbapi_connection
        links = dbapi.execute(
            "SELECT CASE WHEN l.control_id IS NOT NULL THEN 'control' WHEN l.clause_id IS "
            "NOT NULL THEN 'clause' ELSE 'evidence' END, coalesce(l.control_id, "
            "g.code || ' ' || c.ref, 'EV-' || l.evidence_id) FROM risk_link l "
            "LEFT JOIN clause c ON c.id = l.clause_id "
            "LEFT JOIN regulation g ON g.id = c.regulation_id "
            "WHERE l.risk_id = ? ORDER BY l.id", (rid,)).fetchall()
        links += dbapi.execute(  # improvement items that became its treatment actions
            "SELECT 'improvement', 'IM-' || id || ' (EX-' || exercise_id || ', ' || status || "
            "', due ' || due_on || '): ' || action FROM improvement_item WHERE risk_id = ? "
            "ORDER BY id", (rid,)).fetchall()
        scores = list(s.exec(select(RiskScore).where(RiskScore.risk_id == rid)
                             .order_by(col(RiskScore.id))).all())
    history = []
    for sc in scores:
        m = matrices[sc.matrix_id]
        history.append({"scored_at": sc.scored_at, "scored_by": sc.scored_by,
                        "matrix": m.ref, "note": sc.note,
                        **{st: (v.as_dict(m) if (v := stage(m, *(_scores_of(sc)[st] or
                                                                  (None, None)))) else None)
                           for st in rk.STAGES}})
    return RiskDetail(row, system.name if system else "?", matrices[row.matrix_id],
                      [(k, t) for k, t in links], history)
