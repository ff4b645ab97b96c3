"""Tabletop exercises: create one from a playbook and a scenario, run its clock (start, pause,
resume, speed), append to its log, close it. The after-action side is `after_action.py`.

Every change is audited; the log is append-only and refused once the exercise is closed. The
exercise clock is kept as `clock_ms` (exercise time run before `running_since`) and the
wall-clock moment it last resumed, so any reader can tell the time now
(`ExerciseView.now_ms`) from the store's clock — tests inject a fake one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from app.domain import exercise as ex
from app.domain.clock import iso_utc
from app.domain.playbooks import Playbook
from app.domain.risk import parse_id
from app.domain.text import clean_text
from app.errors import ImportFailed, InvalidInput, NotFound
from app.services.playbooks import ensure_playbook, playbook_of
from app.store import Store
from app.store.models import Exercise, ExerciseEntry, ExerciseRating, ImprovementItem
from app.store.models import Playbook as PlaybookRow
from app.store.store import Tx

MAX_SCENARIO = 5 << 20
MAX_ENTRY = 2000


def exercise_label(exercise_id: int) -> str:
    return f"EX-{exercise_id}"


def improvement_label(item_id: int) -> str:
    return f"IM-{item_id}"


def _when(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Rating:
    objective: str
    rating: str
    strengths: str
    improvements: str
    rated_at: str
    rated_by: str


@dataclass(frozen=True, slots=True)
class Improvement:
    id: int
    exercise_id: int
    objective: str | None
    action: str
    owner: str
    due_on: str
    status: str
    risk_id: int | None
    control_id: str | None

    @property
    def label(self) -> str:
        return improvement_label(self.id)

    def as_dict(self) -> dict[str, Any]:
        from app.domain.risk import risk_label

        return {"id": self.label, "exercise": exercise_label(self.exercise_id),
                "objective": self.objective, "action": self.action, "owner": self.owner,
                "due": self.due_on, "status": self.status,
                "risk": None if self.risk_id is None else risk_label(self.risk_id),
                "control": self.control_id}


def improvement_of(row: ImprovementItem) -> Improvement:
    assert row.id is not None
    return Improvement(row.id, row.exercise_id, row.objective, row.action, row.owner,
                       row.due_on, row.status, row.risk_id, row.control_id)


@dataclass(frozen=True, slots=True)
class ExerciseView:
    id: int
    title: str
    playbook: Playbook  # as it stood when the exercise was created
    scenario: ex.Scenario
    scenario_name: str
    starts_at: str
    speed: int
    status: str
    clock_ms: int
    running_since: datetime | None
    started_at: str | None
    closed_at: str | None
    created_at: str
    entries: tuple[ex.Entry, ...] = ()
    ratings: dict[str, Rating] = field(default_factory=dict)
    improvements: tuple[Improvement, ...] = ()

    @property
    def label(self) -> str:
        return exercise_label(self.id)

    def now_ms(self, now: datetime) -> int:
        return ex.exercise_ms(self.clock_ms, self.running_since, self.speed, now)

    def metrics(self, now: datetime) -> ex.Metrics:
        return self.metrics_at(self.now_ms(now))

    def metrics_at(self, now_ms: int) -> ex.Metrics:
        return ex.compute_metrics(self.scenario, self.playbook, list(self.entries),
                                  self.starts_at, now_ms, final=self.status == "closed")

    @property
    def aware_ms(self) -> int | None:
        return next((e.at_ms for e in self.entries if e.kind == "aware"), None)


def _view(row: Exercise, entries: list[ExerciseEntry] = (),  # type: ignore[assignment]
          ratings: list[ExerciseRating] = (),  # type: ignore[assignment]
          items: list[ImprovementItem] = ()) -> ExerciseView:  # type: ignore[assignment]
    assert row.id is not None
    return ExerciseView(
        row.id, row.title, playbook_of(row.playbook_definition),
        ex.parse_scenario(json.loads(row.scenario)), row.scenario_name, row.starts_at,
        row.speed, row.status, row.clock_ms, _when(row.running_since), row.started_at,
        row.closed_at, row.created_at,
        tuple(ex.Entry(n, e.at_ms, e.kind, e.text, e.actor, e.inject, e.step, e.clock,
                       e.containment) for n, e in enumerate(entries, start=1)),
        {r.objective: Rating(r.objective, r.rating, r.strengths, r.improvements, r.rated_at,
                             r.rated_by) for r in ratings},
        tuple(improvement_of(i) for i in items))


def _exercise_id(ref: str | int) -> int:
    try:
        return parse_id(ref, "EX")
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def _row(tx_or_session: Any, ref: str | int) -> Exercise:
    eid = _exercise_id(ref)
    session = getattr(tx_or_session, "session", tx_or_session)
    row = session.get(Exercise, eid)
    if row is None:
        raise NotFound(f"no exercise {exercise_label(eid)} in this workspace")
    return row


def _load(session: Any, row: Exercise) -> ExerciseView:
    entries = session.exec(select(ExerciseEntry).where(ExerciseEntry.exercise_id == row.id)
                           .order_by(col(ExerciseEntry.id))).all()
    ratings = session.exec(select(ExerciseRating).where(ExerciseRating.exercise_id == row.id)
                           .order_by(col(ExerciseRating.id))).all()
    items = session.exec(select(ImprovementItem).where(ImprovementItem.exercise_id == row.id)
                         .order_by(col(ImprovementItem.id))).all()
    return _view(row, list(entries), list(ratings), list(items))


def get_exercise(store: Store, ref: str | int) -> ExerciseView:
    with store.read() as session:
        return _load(session, _row(session, ref))


@dataclass(frozen=True, slots=True)
class ExerciseSummary:
    id: int
    title: str
    playbook: str
    status: str
    clock_ms: int
    entries: int
    created_at: str
    closed_at: str | None
    running_since: str | None = None
    speed: int = 1

    def now_ms(self, now: datetime) -> int:
        return ex.exercise_ms(self.clock_ms, _when(self.running_since), self.speed, now)

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """The summary; with `now`, the clock of a running exercise as it stands then."""
        clock = self.clock_ms if now is None else self.now_ms(now)
        return {"id": exercise_label(self.id), "title": self.title, "playbook": self.playbook,
                "status": self.status, "clock": ex.format_offset(clock),
                "entries": self.entries, "created_at": self.created_at,
                "closed_at": self.closed_at}


def list_exercises(store: Store) -> list[ExerciseSummary]:
    """Every exercise, newest first (the clock as it stood at its last pause or close)."""
    from sqlmodel import func

    with store.read() as session:
        counts = dict(session.exec(select(ExerciseEntry.exercise_id, func.count())
                                   .group_by(ExerciseEntry.exercise_id)).all())
        rows = session.exec(select(Exercise, PlaybookRow.slug)
                            .join(PlaybookRow, col(PlaybookRow.id) == Exercise.playbook_id)
                            .order_by(col(Exercise.id).desc())).all()
        return [ExerciseSummary(r.id or 0, r.title, slug, r.status, r.clock_ms,
                                counts.get(r.id, 0), r.created_at, r.closed_at,
                                r.running_since, r.speed)
                for r, slug in rows]


# ------------------------------------------------------------------------------ create
def read_scenario(path: Path) -> ex.Scenario:
    """A scenario file (YAML or JSON), checked; errors name the file and the inject."""
    from app.importers.source import read_bytes
    from app.importers.yaml_safe import load_yaml

    data = load_yaml(read_bytes(path, limit=MAX_SCENARIO), path)
    try:
        return ex.parse_scenario(data, str(path))
    except ValueError as exc:
        raise ImportFailed(str(exc)) from None


def shipped_scenario(slug: str) -> tuple[ex.Scenario, str] | None:
    """The scenario shipped for a shipped playbook, with its file name, if there is one."""
    from importlib import resources

    import yaml

    entry = resources.files("app.playbooks").joinpath("scenarios", f"{slug}.yaml")
    if not entry.is_file():
        return None
    return ex.parse_scenario(yaml.safe_load(entry.read_text(encoding="utf-8")),
                             entry.name), entry.name


def create_exercise(store: Store, playbook: str, scenario: Path | ex.Scenario | None = None,
                    *, title: str | None = None, speed: int | None = None,
                    starts_at: str | None = None) -> ExerciseView:
    """A new exercise (status planned) of `playbook` with `scenario` — a file, a parsed
    scenario, or, when None, the scenario shipped with a shipped playbook."""
    name = ""
    if isinstance(scenario, Path):
        name, scenario = scenario.name, read_scenario(scenario)
    try:
        title = None if title is None else clean_text(title, "the title", 200)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if speed is not None and not 1 <= speed <= ex.MAX_SPEED:
        raise InvalidInput(f"speed must be from 1 to {ex.MAX_SPEED} (×1 is real time)")
    with store.write() as tx:
        pb_row = ensure_playbook(tx, playbook)
        if scenario is None:
            found = shipped_scenario(pb_row.slug)
            if found is None:
                raise InvalidInput(f"playbook {pb_row.slug} has no shipped scenario; give "
                                   "one with --scenario FILE")
            scenario, name = found
        if scenario.playbook and scenario.playbook != pb_row.slug:
            raise InvalidInput(f"the scenario is written for playbook {scenario.playbook}, "
                               f"not {pb_row.slug}")
        moment = scenario.starts_at
        if starts_at:
            try:
                moment = iso_utc(ex.clock_start(starts_at, "the start moment"))
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        row = Exercise(title=title or scenario.title, playbook_id=pb_row.id or 0,
                       playbook_definition=pb_row.definition,
                       scenario=json.dumps(scenario.as_data(), sort_keys=True,
                                           ensure_ascii=False),
                       scenario_name=name, starts_at=moment or tx.now,
                       speed=speed or scenario.speed, status="planned", clock_ms=0,
                       created_at=tx.now, created_by=tx.store.actor, updated_at=tx.now)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("exercise.create", "exercise", row.id,
                  {"title": row.title, "playbook": pb_row.slug, "scenario": name,
                   "injects": len(scenario.injects), "speed": row.speed,
                   "starts_at": row.starts_at})
        return _view(row)


# ------------------------------------------------------------------------------ the clock
def _closed(row: Exercise) -> InvalidInput:
    return InvalidInput(f"exercise {exercise_label(row.id or 0)} was closed at "
                        f"{row.closed_at}; its log is final")


def _fold(tx: Tx, row: Exercise) -> int:
    """Exercise time now, as of the transaction's moment."""
    now = _when(tx.now)
    assert now is not None
    return ex.exercise_ms(row.clock_ms, _when(row.running_since), row.speed, now)


def _set_clock(store: Store, ref: str | int, action: str, *,
               run: bool | None, speed: int | None = None) -> ExerciseView:
    with store.write() as tx:
        row = _row(tx, ref)
        if row.status == "closed":
            raise _closed(row)
        if run is True and row.status == "running":
            raise InvalidInput(f"exercise {exercise_label(row.id or 0)} is already running")
        if run is False and row.status != "running":
            raise InvalidInput(f"exercise {exercise_label(row.id or 0)} is not running")
        now_ms = _fold(tx, row)
        wanted: dict[str, Any] = {"clock_ms": now_ms}
        if run is not None:
            wanted |= {"status": "running" if run else "paused",
                       "running_since": tx.now if run else None}
        elif row.status == "running":
            wanted["running_since"] = tx.now
        if speed is not None:
            if not 1 <= speed <= ex.MAX_SPEED:
                raise InvalidInput(f"speed must be from 1 to {ex.MAX_SPEED} (×1 is real time)")
            wanted["speed"] = speed
        if run and row.started_at is None:
            wanted["started_at"] = tx.now
        tx.update(row, wanted, action, "exercise", row.id or 0)
        return _load(tx.session, row)


def start(store: Store, ref: str | int, *, speed: int | None = None) -> ExerciseView:
    """Start (or resume) the exercise clock."""
    return _set_clock(store, ref, "exercise.run", run=True, speed=speed)


def pause(store: Store, ref: str | int) -> ExerciseView:
    return _set_clock(store, ref, "exercise.pause", run=False)


def set_speed(store: Store, ref: str | int, speed: int) -> ExerciseView:
    return _set_clock(store, ref, "exercise.speed", run=None, speed=speed)


def close(store: Store, ref: str | int) -> ExerciseView:
    """End the exercise: the clock stops for good and the log becomes final."""
    with store.write() as tx:
        row = _row(tx, ref)
        if row.status == "closed":
            raise _closed(row)
        if row.status == "planned":
            raise InvalidInput(f"exercise {exercise_label(row.id or 0)} has not started")
        tx.update(row, {"clock_ms": _fold(tx, row), "status": "closed",
                        "running_since": None, "closed_at": tx.now},
                  "exercise.close", "exercise", row.id or 0)
        return _load(tx.session, row)


# ------------------------------------------------------------------------------ the log
def log(store: Store, ref: str | int, kind: str, text: str, *, actor: str | None = None,
        inject: str | None = None, step: int | None = None, clock: str | None = None,
        containment: bool = False, at_ms: int | None = None) -> ex.Entry:
    """Append one entry at the exercise time now — or at `at_ms`, the moment the facilitator
    pressed the key, which may not lie in the future; refused before the start and after the
    close, and when its references do not hold (see `domain.exercise.check_entry`)."""
    with store.write() as tx:
        row = _row(tx, ref)
        if row.status == "closed":
            raise _closed(row)
        if row.status == "planned":
            raise InvalidInput(f"exercise {exercise_label(row.id or 0)} has not started; "
                               "start its clock first")
        from sqlmodel import func

        # what the checks need, without reading the whole log: the entry count, the
        # "became aware" entry and those naming a clock (so a long exercise logs as fast
        # as a short one)
        count = tx.session.exec(select(func.count()).select_from(ExerciseEntry)
                                .where(ExerciseEntry.exercise_id == row.id)).one()
        relevant = tx.session.exec(select(ExerciseEntry).where(
            ExerciseEntry.exercise_id == row.id,
            (col(ExerciseEntry.kind) == "aware") | col(ExerciseEntry.clock).is_not(None))
            .order_by(col(ExerciseEntry.id))).all()
        view = _view(row, list(relevant))
        now_ms = _fold(tx, row)
        if at_ms is not None and not 0 <= at_ms <= now_ms:
            raise InvalidInput(f"an entry at {ex.format_offset(at_ms)} would lie outside the "
                               f"exercise so far (T+00:00 to {ex.format_offset(now_ms)})")
        at_ms = now_ms if at_ms is None else int(at_ms)
        clock = None if clock is None else clock.strip().lower()
        try:
            kind = ex.check_entry(kind, scenario=view.scenario, playbook=view.playbook,
                                  entries=list(view.entries), inject=inject, step=step,
                                  clock=clock, containment=containment, at_ms=at_ms)
            words = clean_text(text or "", "the entry", MAX_ENTRY, multiline=True,
                               required=kind != "aware")
            who = clean_text(actor or tx.store.actor, "the actor", 120)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if kind == "aware" and not words:
            words = "The team became aware of the incident"
        entry = ExerciseEntry(exercise_id=row.id or 0, at_ms=at_ms, kind=kind, text=words,
                              actor=who, inject=inject, step=step, clock=clock,
                              containment=containment, logged_at=tx.now)
        tx.session.add(entry)
        tx.session.flush()
        assert entry.id is not None
        tx.record(f"exercise.{kind}", "exercise_entry", entry.id,
                  {"exercise": exercise_label(row.id or 0), "at": ex.format_offset(at_ms),
                   "kind": kind, "actor": who, "text": words, "inject": inject, "step": step,
                   "clock": clock, "containment": containment})
        return ex.Entry(count + 1, at_ms, kind, words, who, inject, step, clock, containment)
