"""The after-action report of a closed exercise (HSEEP shape): each objective rated P, S, M or
U with its strengths and areas for improvement, and an improvement plan whose items may become
a risk's treatment action or a control's action — linked both ways (the item names the risk
or control; `improvements_for` lists the items of a risk or control).

Linking an item to a risk whose treatment is still "open" sets it to "mitigate": the item is
now how the risk is being treated. Both changes are audited in one transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from app.domain import exercise as ex
from app.domain.evidence import parse_date
from app.domain.risk import parse_id
from app.domain.text import clean_text
from app.errors import InvalidInput, NotFound
from app.services.exercises import (
    ExerciseView,
    Improvement,
    _load,
    _row,
    exercise_label,
    get_exercise,
    improvement_label,
    improvement_of,
)
from app.store import Store
from app.store.models import Control, ExerciseRating, ImprovementItem, Risk
from app.store.store import Tx

ITEM_STATUSES = ("open", "done")


def _closed_exercise(tx: Tx, ref: str | int) -> ExerciseView:
    row = _row(tx, ref)
    if row.status != "closed":
        raise InvalidInput(f"exercise {exercise_label(row.id or 0)} is {row.status}; close "
                           "it before writing its after-action report")
    return _load(tx.session, row)


def rate_objective(store: Store, ref: str | int, objective: str, rating: str, *,
                   strengths: str | None = None, improvements: str | None = None
                   ) -> dict[str, Any]:
    """Rate one objective P/S/M/U (again, to change it), with its strengths and areas for
    improvement; text left as None keeps what was there."""
    grade = str(rating).strip().upper()[:1]
    if grade not in ex.RATINGS or len(str(rating).strip()) != 1:
        raise InvalidInput(f"rating {rating!r} is not one of: P, S, M, U")
    try:
        texts = {k: None if v is None else clean_text(v, f"the {k}", 5000, multiline=True,
                                                       required=False)
                 for k, v in (("strengths", strengths), ("improvements", improvements))}
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with store.write() as tx:
        view = _closed_exercise(tx, ref)
        key = str(objective).strip()
        if key not in {o.id for o in view.scenario.objectives}:
            raise NotFound(f"exercise {view.label} has no objective {objective!r} "
                           f"(objectives: {', '.join(o.id for o in view.scenario.objectives)})")
        row = tx.session.exec(select(ExerciseRating).where(
            ExerciseRating.exercise_id == view.id, ExerciseRating.objective == key)).first()
        if row is None:
            row = ExerciseRating(exercise_id=view.id, objective=key, rating=grade,
                                 strengths=texts["strengths"] or "",
                                 improvements=texts["improvements"] or "",
                                 rated_at=tx.now, rated_by=tx.store.actor)
            tx.session.add(row)
            tx.session.flush()
            change = {"exercise": view.label, "objective": key, "rating": grade,
                      "strengths": row.strengths, "improvements": row.improvements}
            tx.record("exercise.rate", "exercise_rating", row.id or 0, change)
            return change
        wanted: dict[str, Any] = {"rating": grade} | {k: v for k, v in texts.items()
                                                      if v is not None}
        if all(getattr(row, f) == v for f, v in wanted.items()):
            return {}
        wanted |= {"rated_at": tx.now, "rated_by": tx.store.actor}
        return tx.update(row, wanted, "exercise.rate", "exercise_rating", row.id or 0)


def _due(text: str) -> str:
    try:
        return parse_date(text, "the due date").isoformat()
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _target(tx: Tx, risk: str | int | None, control: str | None
            ) -> tuple[Risk | None, str | None]:
    from app.domain.controls import normalise_control_id
    from app.services.risks import parse_risk_ref, risk_row

    row = None if risk is None else risk_row(tx.session, parse_risk_ref(risk))
    control_id = None
    if control is not None:
        try:
            control_id = normalise_control_id(str(control))
        except ValueError as exc:
            raise NotFound(str(exc)) from None
        if tx.session.get(Control, control_id) is None:
            raise NotFound(f"no control {control_id} in this workspace")
    return row, control_id


def _treat(tx: Tx, risk: Risk | None) -> None:
    """An improvement item linked to a risk still "open" becomes its treatment: mitigate."""
    if risk is not None and risk.treatment == "open":
        tx.update(risk, {"treatment": "mitigate"}, "risk.treat", "risk", risk.id or 0)


def add_improvement(store: Store, ref: str | int, action: str, owner: str, due: str, *,
                    objective: str | None = None, risk: str | int | None = None,
                    control: str | None = None) -> Improvement:
    """An improvement-plan item of a closed exercise, optionally already a risk treatment
    action (`risk`) or a control action (`control`)."""
    try:
        what = clean_text(action, "the action", 1000, multiline=True, required=True)
        who = clean_text(owner, "the owner", 200, required=True)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    due_on = _due(due)
    if due_on < store.clock().date().isoformat():
        raise InvalidInput(f"the due date {due_on} is in the past; an improvement item is "
                           "due from today on")
    with store.write() as tx:
        view = _closed_exercise(tx, ref)
        if objective is not None and objective not in {o.id for o in view.scenario.objectives}:
            raise NotFound(f"exercise {view.label} has no objective {objective!r}")
        risk_row, control_id = _target(tx, risk, control)
        row = ImprovementItem(exercise_id=view.id, objective=objective, action=what,
                              owner=who, due_on=due_on, status="open",
                              risk_id=None if risk_row is None else risk_row.id,
                              control_id=control_id, created_at=tx.now,
                              created_by=tx.store.actor, updated_at=tx.now)
        tx.session.add(row)
        tx.session.flush()
        item = improvement_of(row)
        tx.record("improvement.add", "improvement_item", item.id, item.as_dict())
        _treat(tx, risk_row)
        return item


def _item(tx: Tx, item_ref: str | int) -> ImprovementItem:
    try:
        iid = parse_id(item_ref, "IM")
    except ValueError as exc:
        raise NotFound(str(exc)) from None
    row = tx.session.get(ImprovementItem, iid)
    if row is None:
        raise NotFound(f"no improvement item {improvement_label(iid)}")
    return row


def link_improvement(store: Store, item_ref: str | int, *, risk: str | int | None = None,
                     control: str | None = None) -> dict[str, Any]:
    """Make an item a risk treatment action and/or a control action."""
    if risk is None and control is None:
        raise InvalidInput("name a risk (RK-n) or a control (GOV-1…) to link the item to")
    with store.write() as tx:
        row = _item(tx, item_ref)
        risk_row, control_id = _target(tx, risk, control)
        wanted: dict[str, Any] = {}
        if risk_row is not None:
            wanted["risk_id"] = risk_row.id
        if control_id is not None:
            wanted["control_id"] = control_id
        change = tx.update(row, wanted, "improvement.link", "improvement_item", row.id or 0)
        _treat(tx, risk_row)
        return change


def set_improvement_status(store: Store, item_ref: str | int, status: str) -> dict[str, Any]:
    value = str(status).strip().lower()
    if value not in ITEM_STATUSES:
        raise InvalidInput(f"status {status!r} is not one of: {', '.join(ITEM_STATUSES)}")
    with store.write() as tx:
        row = _item(tx, item_ref)
        return tx.update(row, {"status": value}, "improvement.status", "improvement_item",
                         row.id or 0)


def improvements_for(store: Store, *, risk_id: int | None = None,
                     control_id: str | None = None) -> list[Improvement]:
    """The improvement items that are a risk's treatment actions or a control's actions."""
    with store.read() as session:
        q = select(ImprovementItem).order_by(col(ImprovementItem.id))
        if risk_id is not None:
            q = q.where(ImprovementItem.risk_id == risk_id)
        if control_id is not None:
            q = q.where(ImprovementItem.control_id == control_id)
        return [improvement_of(r) for r in session.exec(q)]


# ------------------------------------------------------------------------------ the report
def report(store: Store, ref: str | int) -> dict[str, Any]:
    """The after-action report as data (JSON-ready): the banner, the exercise, the metrics,
    the ratings per objective, the improvement plan and the log."""
    view = get_exercise(store, ref)
    return report_of(view, store.clock())


def report_of(view: ExerciseView, now: Any) -> dict[str, Any]:
    metrics = view.metrics(now)
    today = now.date() if hasattr(now, "date") else date.today()
    return {
        "banner": ex.BANNER,
        "exercise": {"id": view.label, "title": view.title, "status": view.status,
                     "playbook": view.playbook.id, "playbook_title": view.playbook.title,
                     "scenario": view.scenario_name, "starts_at": view.starts_at,
                     "speed": view.speed, "started_at": view.started_at,
                     "closed_at": view.closed_at,
                     "clock": ex.format_offset(view.now_ms(now)),
                     "final": view.status == "closed"},
        "metrics": _with_scenario_dates(metrics.as_dict(), metrics, view.starts_at),
        "objectives": [
            {"id": o.id, "text": o.text,
             "rating": (r := view.ratings.get(o.id)) and r.rating,
             "rating_meaning": ex.RATINGS[r.rating] if r else None,
             "strengths": r.strengths if r else "",
             "areas_for_improvement": r.improvements if r else ""}
            for o in view.scenario.objectives],
        "improvement_plan": [i.as_dict() | {"overdue": i.status == "open" and
                                            i.due_on < today.isoformat()}
                             for i in view.improvements],
        "log": [{"at": ex.format_offset(e.at_ms), "kind": e.kind, "actor": e.actor,
                 "text": e.text, "inject": e.inject, "step": e.step, "clock": e.clock,
                 "containment": e.containment} for e in view.entries],
        "banner_end": ex.BANNER}


def _with_scenario_dates(data: dict[str, Any], metrics: ex.Metrics, starts_at: str
                         ) -> dict[str, Any]:
    """Each clock's deadline also as a scenario date and time (``due_at``)."""
    from datetime import timedelta

    base = ex.clock_start(starts_at)
    for out, c in zip(data["clocks"], metrics.clocks, strict=True):
        out["due_at"] = (None if c.due_ms is None else
                         (base + timedelta(seconds=c.due_ms // 1000)).strftime("%Y-%m-%dT%H:%MZ"))
    return data


def exercise_summary(store: Store) -> dict[str, Any] | None:
    """The latest exercise that ran (its metrics so far, or final) and the improvement plan's
    items across every exercise: open, overdue, done. None when no exercise has run."""
    from app.services.exercises import list_exercises

    ran = [r for r in list_exercises(store) if r.status != "planned"]
    if not ran:
        return None
    now = store.clock()
    view = get_exercise(store, ran[0].id)
    m = view.metrics(now)
    items = improvements_for(store)
    today = now.date().isoformat()
    outcomes = [c.outcome for c in m.clocks]
    return {"exercise": view.label, "title": view.title, "status": view.status,
            "playbook": view.playbook.id, "closed_at": view.closed_at,
            "detection_ms": m.detection_ms, "containment_ms": m.containment_ms,
            "clocks_met": outcomes.count("met"), "clocks_missed": outcomes.count("missed"),
            "late_injects": sum(r.outcome in ("late", "no response") for r in m.injects),
            "rated": len(view.ratings), "objectives": len(view.scenario.objectives),
            "exercises": len(ran),
            "items_open": sum(i.status == "open" for i in items),
            "items_overdue": sum(i.status == "open" and i.due_on < today for i in items),
            "items_done": sum(i.status == "done" for i in items)}
