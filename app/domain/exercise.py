"""Tabletop exercises as data: the scenario (objectives, modules, timed injects), the exercise
clock, the log, and the metrics computed from it.

Time. An exercise runs on its own clock, in **exercise time**: milliseconds from T+00:00,
advancing `speed` times faster than the wall clock while the exercise runs and standing still
while it is paused. Inject offsets, log entries and the metrics are all in exercise time.
The scenario's `starts_at` is the fictional moment at T+00:00, so an exercise moment is also a
scenario date — which is what the regulatory clocks count in (72 hours run in 72 minutes at
×60).

The log is append-only. Each entry has a kind (`KINDS`), the text, who logged it (the actor)
and, optionally: the inject it responds to, the playbook step it completes (1-based), a
regulatory clock (a notification *meets* that clock; a decision naming a clock records that
the clock does not apply), and whether a decision is the containment decision. One `aware`
entry — "became aware" — starts every regulatory clock of the playbook.

Metrics (`compute_metrics`) are measured from the first inject (the incident reaching the
team): time to detection (the `aware` entry), time to the first decision and to the
containment decision and to the first escalation; for each inject the latency of its first
response (any entry naming it once released, a facilitator's note aside) against its window;
each clock met (by a notification after becoming aware), missed, still running, not
applicable or never started; and the playbook steps completed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.playbooks import Playbook
from app.domain.reg_clocks import RegClock, clock_by_id

BANNER = "EXERCISE — EXERCISE — EXERCISE"
KINDS = ("aware", "decision", "action", "escalation", "notification", "note")
STATUSES = ("planned", "running", "paused", "closed")
RATINGS = {"P": "Performed without challenges", "S": "Performed with some challenges",
           "M": "Performed with major challenges", "U": "Unable to be performed"}
MAX_OFFSET_S = 30 * 86400  # a scenario spans at most 30 days
MAX_INJECTS = 200
MAX_MODULES = 20
MAX_OBJECTIVES = 20
MAX_SPEED = 3600

_SCENARIO_KEYS = {"title", "playbook", "starts_at", "speed", "description", "objectives",
                  "modules", "injects"}
_OBJECTIVE_KEYS = {"id", "text"}
_MODULE_KEYS = {"id", "title", "description"}
_INJECT_KEYS = {"id", "module", "at", "content", "audience", "expected", "window", "questions"}
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
_OFFSET = re.compile(r"T\s*([+-])\s*(?:(\d{1,2})d\s*)?(\d{1,4}):(\d{1,2})(?::(\d{1,2}))?")
_SPAN = re.compile(r"(?:(\d{1,2})d\s*)?(\d{1,4}):(\d{1,2})(?::(\d{1,2}))?")


# ------------------------------------------------------------------------------ time text
def _clock_seconds(days: str | None, a: str, b: str, c: str | None, what: str,
                   value: Any) -> int:
    """``[Nd ]a:b[:c]`` → seconds: mm:ss without c, hh:mm:ss with it."""
    if (c is not None and int(b) > 59) or int(c if c is not None else b) > 59:
        raise ValueError(f"{what} {value}: minutes and seconds run from 00 to 59")
    seconds = (int(a) * 3600 + int(b) * 60 + int(c)) if c is not None else int(a) * 60 + int(b)
    return seconds + int(days or 0) * 86400


def parse_offset(value: Any, what: str) -> int:
    """Seconds from ``T+mm:ss``, ``T+hh:mm:ss`` or ``T+4d 2:00:00``; a negative offset is
    refused."""
    match = _OFFSET.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{what} {value!r} is not an offset like T+05:00 or T+1:30:00")
    sign, days, a, b, c = match.groups()
    seconds = _clock_seconds(days, a, b, c, what, value)
    if sign == "-" and seconds:
        raise ValueError(f"{what} {value} is negative; offsets count from T+00:00")
    if seconds > MAX_OFFSET_S:
        raise ValueError(f"{what} {value} is beyond the 30 days a scenario may span")
    return seconds


def parse_span(value: Any, what: str) -> int:
    """Seconds from ``mm:ss`` or ``hh:mm:ss`` (a bare integer is seconds: YAML 1.1 reads an
    unquoted 10:00 as 600)."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        match = _SPAN.fullmatch(str(value).strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"{what} {value!r} is not a duration like 10:00 or 1:30:00")
        seconds = _clock_seconds(*match.groups(), what, value)
    if not 0 < seconds <= MAX_OFFSET_S:
        raise ValueError(f"{what} {value!r} must be more than zero and at most 30 days")
    return seconds


def format_offset(ms: int | float, *, sign: str = "T+") -> str:
    """``T+12:30`` below an hour, ``T+1:02:03`` from an hour on, ``T+4d 2:00:00`` from 100
    hours on (exercise milliseconds; before T+00:00 the sign is ``T-``)."""
    if ms < 0:
        return format_offset(-ms, sign=sign.replace("+", "-"))
    seconds = int(ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 100:
        days, hours = divmod(hours, 24)
        return f"{sign}{days}d {hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes:02d}:{secs:02d}"


def format_span(ms: int | float | None) -> str:
    """A duration: ``4:10``, ``1:02:03``, ``2d 23:40:00`` from 48 hours on; ``—`` for none."""
    if ms is None:
        return "—"
    sign = "-" if ms < 0 else ""
    seconds = int(abs(ms) // 1000)
    if seconds >= 48 * 3600:
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        return f"{sign}{days}d {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return format_offset(abs(ms), sign=sign)


def _utc(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what} {value!r} is not a date and time like "
                             "2026-03-02T09:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ------------------------------------------------------------------------------ scenario
@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Module:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Inject:
    id: str
    module: str
    at: int  # seconds from T+00:00
    content: str
    audience: str
    expected: tuple[str, ...] = ()
    window: int | None = None  # response window, seconds
    questions: tuple[str, ...] = ()

    @property
    def at_ms(self) -> int:
        return self.at * 1000


@dataclass(frozen=True, slots=True)
class Scenario:
    title: str
    playbook: str
    starts_at: str  # ISO UTC, the fictional moment at T+00:00 ("" = the exercise's creation)
    speed: int
    description: str
    objectives: tuple[Objective, ...]
    modules: tuple[Module, ...]
    injects: tuple[Inject, ...]

    def as_data(self) -> dict[str, Any]:
        """The scenario in its file shape (offsets and windows as text)."""
        return {
            "title": self.title, "playbook": self.playbook, "starts_at": self.starts_at,
            "speed": self.speed, "description": self.description,
            "objectives": [{"id": o.id, "text": o.text} for o in self.objectives],
            "modules": [{"id": m.id, "title": m.title, "description": m.description}
                        for m in self.modules],
            "injects": [{"id": i.id, "module": i.module, "at": format_offset(i.at_ms),
                         "content": i.content, "audience": i.audience,
                         "expected": list(i.expected),
                         "window": format_span(i.window * 1000) if i.window else None,
                         "questions": list(i.questions)} for i in self.injects]}

    def module(self, key: str) -> Module:
        return next(m for m in self.modules if m.id == key)


def _text(value: Any, what: str, limit: int, *, required: bool = True,
          multiline: bool = False) -> str:
    from app.domain.text import clean_text

    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"{what} must be text")
    return clean_text(str(value), what, limit, multiline=multiline, required=required)


def _texts(value: Any, what: str, limit: int = 500, most: int = 20) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of text")
    if len(value) > most:
        raise ValueError(f"{what} has {len(value)} items; at most {most}")
    return tuple(_text(v, f"{what} {n}", limit) for n, v in enumerate(value, start=1))


def _items(data: dict[str, Any], key: str, where: str, most: int) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where} has no {key}")
    if len(items) > most:
        raise ValueError(f"{where} has {len(items)} {key}; at most {most}")
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: {key[:-1]} {n} is not a mapping")
    return items


def _key(item: dict[str, Any], what: str, seen: set[str]) -> str:
    key = str(item.get("id") or "").strip()
    if not _KEY.fullmatch(key):
        raise ValueError(f"{what}: id {item.get('id')!r} must be 1–20 letters, digits, '.', "
                         "'_' or '-'")
    if key in seen:
        raise ValueError(f"{what}: id {key} is used twice")
    seen.add(key)
    return key


def _unknown(item: dict[str, Any], allowed: set[str], what: str) -> None:
    extra = sorted(map(str, set(item) - allowed))
    if extra:
        raise ValueError(f"{what} has unknown keys: {', '.join(extra)}")


def parse_scenario(data: Any, where: str = "the scenario") -> Scenario:
    """Check a scenario given as data and build it; a ValueError names what is wrong and where
    (the objective, module or inject by its id)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not a mapping")
    _unknown(data, _SCENARIO_KEYS, where)
    title = _text(data.get("title"), f"{where}: title", 200)
    starts_at = ""
    if data.get("starts_at") not in (None, ""):
        from app.domain.clock import iso_utc

        starts_at = iso_utc(_utc(data["starts_at"], f"{where}: starts_at"))
    speed = data.get("speed", 1)
    if not isinstance(speed, int) or isinstance(speed, bool) or not 1 <= speed <= MAX_SPEED:
        raise ValueError(f"{where}: speed must be a whole number from 1 to {MAX_SPEED}")
    seen: set[str] = set()
    objectives = []
    for n, item in enumerate(_items(data, "objectives", where, MAX_OBJECTIVES), start=1):
        at = f"{where}: objective {n}"
        _unknown(item, _OBJECTIVE_KEYS, at)
        key = _key(item, at, seen)
        objectives.append(Objective(key, _text(item.get("text"), f"{at} ({key}) text", 500)))
    modules = []
    seen = set()
    for n, item in enumerate(_items(data, "modules", where, MAX_MODULES), start=1):
        at = f"{where}: module {n}"
        _unknown(item, _MODULE_KEYS, at)
        key = _key(item, at, seen)
        modules.append(Module(key, _text(item.get("title"), f"{at} ({key}) title", 200),
                              _text(item.get("description"), f"{at} ({key}) description",
                                    2000, required=False, multiline=True)))
    module_ids = [m.id for m in modules]
    injects: list[Inject] = []
    seen = set()
    for n, item in enumerate(_items(data, "injects", where, MAX_INJECTS), start=1):
        at = f"{where}: inject {n}"
        _unknown(item, _INJECT_KEYS, at)
        key = _key(item, at, seen)
        at = f"{where}: inject {key}"
        module = str(item.get("module") or "").strip()
        if module not in module_ids:
            raise ValueError(f"{at} refers to module {module or '(none)'!r}, which the "
                             f"scenario does not define (modules: {', '.join(module_ids)})")
        offset = parse_offset(item.get("at"), f"{at}: offset")
        if injects and offset < injects[-1].at:
            raise ValueError(f"{at}: offset {item.get('at')} comes before the previous "
                             f"inject's ({format_offset(injects[-1].at_ms)}); list injects "
                             "in time order")
        if injects and module_ids.index(module) < module_ids.index(injects[-1].module):
            raise ValueError(f"{at} belongs to module {module}, which comes before the "
                             f"previous inject's module {injects[-1].module}")
        window = item.get("window")
        injects.append(Inject(
            key, module, offset, _text(item.get("content"), f"{at} content", 4000,
                                       multiline=True),
            _text(item.get("audience"), f"{at} audience", 200),
            _texts(item.get("expected"), f"{at} expected action"),
            None if window in (None, "") else parse_span(window, f"{at}: window"),
            _texts(item.get("questions"), f"{at} question")))
    unused = [m for m in module_ids if all(i.module != m for i in injects)]
    if unused:
        raise ValueError(f"{where}: module {unused[0]} has no injects")
    playbook = str(data.get("playbook") or "").strip().lower()
    return Scenario(title, playbook, starts_at, speed,
                    _text(data.get("description"), f"{where}: description", 5000,
                          required=False, multiline=True),
                    tuple(objectives), tuple(modules), tuple(injects))


# ------------------------------------------------------------------------------ the clock
def exercise_ms(clock_ms: int, running_since: datetime | None, speed: int,
                now: datetime) -> int:
    """Exercise time now: what had run before `running_since`, plus the wall time since,
    times the speed (standing still when paused, ``running_since`` None)."""
    if running_since is None:
        return clock_ms
    wall = (now - running_since).total_seconds()
    return clock_ms + max(0, int(wall * 1000 * speed))


# ------------------------------------------------------------------------------ the log
@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at_ms: int
    kind: str
    text: str
    actor: str
    inject: str | None = None
    step: int | None = None
    clock: str | None = None
    containment: bool = False


def check_entry(kind: str, *, scenario: Scenario, playbook: Playbook, entries: list[Entry],
                inject: str | None, step: int | None, clock: str | None,
                containment: bool, at_ms: int | None = None) -> str:
    """The entry's kind, checked with its references against the scenario, the playbook and
    the log so far: one `aware` entry; an inject answered only once released (at `at_ms`); a
    clock only on a notification (which meets it) or a decision (that it does not apply),
    and only once the clocks run — a clock already met cannot be judged not to apply."""
    kind = str(kind).strip().lower()
    if kind not in KINDS:
        raise ValueError(f"entry kind {kind!r} is not one of: {', '.join(KINDS)}")
    if kind == "aware" and any(e.kind == "aware" for e in entries):
        raise ValueError("the team already became aware; the clocks run from that moment")
    if inject is not None:
        found = next((i for i in scenario.injects if i.id == inject), None)
        if found is None:
            raise ValueError(f"the scenario has no inject {inject}")
        if at_ms is not None and at_ms < found.at_ms:
            raise ValueError(f"inject {inject} is not released before "
                             f"{format_offset(found.at_ms)}; an entry at "
                             f"{format_offset(at_ms)} cannot answer it")
    if step is not None and not 1 <= step <= len(playbook.steps):
        raise ValueError(f"the playbook has steps 1 to {len(playbook.steps)}, not {step}")
    if clock is not None:
        clock = clock.strip().lower()
        if kind not in ("notification", "decision"):
            raise ValueError("only a notification (meeting a clock) or a decision (that a "
                             "clock does not apply) names a regulatory clock")
        if clock not in playbook.clocks:
            raise ValueError(f"clock {clock} is not one of the playbook's: "
                             f"{', '.join(playbook.clocks) or 'none'}")
        if not any(e.kind == "aware" for e in entries):
            raise ValueError("the regulatory clocks have not started: log that the team "
                             "became aware first")
        if kind == "decision" and any(e.kind == "notification" and e.clock == clock
                                      for e in entries):
            raise ValueError(f"clock {clock} was already met by a notification; it cannot "
                             "be judged not to apply now")
    if containment and kind != "decision":
        raise ValueError("only a decision can be the containment decision")
    return kind


# ------------------------------------------------------------------------------ metrics
@dataclass(frozen=True, slots=True)
class InjectResult:
    inject: Inject
    released: bool
    response_ms: int | None  # latency of the first response
    outcome: str  # within, late, answered (no window), no response, not released


@dataclass(frozen=True, slots=True)
class ClockResult:
    clock: RegClock
    outcome: str  # met, missed, running, open at close, not applicable, not started
    due_ms: int | None  # exercise time of the deadline
    done_ms: int | None  # exercise time of the notification

    def left_ms(self, now_ms: int) -> int | None:
        return None if self.due_ms is None else self.due_ms - now_ms


@dataclass(frozen=True, slots=True)
class Metrics:
    start_ms: int  # the first inject
    detection_ms: int | None
    first_decision_ms: int | None
    containment_ms: int | None
    injects: tuple[InjectResult, ...]
    clocks: tuple[ClockResult, ...]
    steps_done: tuple[int, ...]  # 1-based step numbers completed
    steps_total: int
    escalation_ms: int | None = None  # the first escalation

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_to_detection_s": _s(self.detection_ms),
            "time_to_first_decision_s": _s(self.first_decision_ms),
            "time_to_containment_decision_s": _s(self.containment_ms),
            "time_to_first_escalation_s": _s(self.escalation_ms),
            "injects": [{"id": r.inject.id, "at": format_offset(r.inject.at_ms),
                         "window_s": r.inject.window, "response_s": _s(r.response_ms),
                         "outcome": r.outcome} for r in self.injects],
            "clocks": [{"id": c.clock.id, "basis": c.clock.basis, "outcome": c.outcome,
                        "due": None if c.due_ms is None else format_offset(c.due_ms),
                        "notified": None if c.done_ms is None else format_offset(c.done_ms)}
                       for c in self.clocks],
            "steps_completed": list(self.steps_done), "steps_total": self.steps_total}


def _s(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def clock_start(starts_at: str, what: str = "starts_at") -> datetime:
    """The scenario moment at T+00:00."""
    return _utc(starts_at, what)


def compute_metrics(scenario: Scenario, playbook: Playbook, entries: list[Entry],
                    starts_at: str, now_ms: int, *, final: bool = False) -> Metrics:
    """The metrics of an exercise whose clock stands at `now_ms`; once the exercise is
    closed (`final`), a clock still running reads "open at close"."""
    t0 = scenario.injects[0].at_ms if scenario.injects else 0
    entries = sorted(entries, key=lambda e: (e.at_ms, e.seq))  # a back-dated entry counts
    aware = next((e for e in entries if e.kind == "aware"), None)
    decisions = [e for e in entries if e.kind == "decision"]
    containment = next((e for e in decisions if e.containment), None)
    escalation = next((e for e in entries if e.kind == "escalation"), None)

    def since(entry: Entry | None) -> int | None:
        return None if entry is None else max(0, entry.at_ms - t0)

    inject_results = []
    for inj in scenario.injects:
        if inj.at_ms > now_ms:
            inject_results.append(InjectResult(inj, False, None, "not released"))
            continue
        reply = next((e for e in entries if e.inject == inj.id and e.kind != "note"
                      and e.at_ms >= inj.at_ms), None)
        if reply is None:
            inject_results.append(InjectResult(inj, True, None, "no response"))
            continue
        latency = max(0, reply.at_ms - inj.at_ms)
        outcome = ("answered" if inj.window is None
                   else "within" if latency <= inj.window * 1000 else "late")
        inject_results.append(InjectResult(inj, True, latency, outcome))

    base = clock_start(starts_at)
    clock_results = []
    for cid in playbook.clocks:
        clock = clock_by_id(cid)
        if aware is None:
            clock_results.append(ClockResult(clock, "not started", None, None))
            continue
        notice = next((e for e in entries if e.kind == "notification" and e.clock == cid
                       and e.at_ms >= aware.at_ms), None)
        if notice is None and any(e.kind == "decision" and e.clock == cid for e in entries):
            clock_results.append(ClockResult(clock, "not applicable", None, None))
            continue
        aware_at = base + timedelta(milliseconds=aware.at_ms)
        due = clock.due(aware_at)
        due_ms = None if due is None else int((due - base).total_seconds() * 1000)
        done = None if notice is None else base + timedelta(milliseconds=notice.at_ms)
        state = clock.state(aware_at, base + timedelta(milliseconds=now_ms), done)
        outcome = "open at close" if final and state.outcome == "running" else state.outcome
        clock_results.append(ClockResult(clock, outcome, due_ms,
                                         None if notice is None else notice.at_ms))
    done_steps = sorted({e.step for e in entries if e.step is not None})
    return Metrics(t0, since(aware), since(decisions[0] if decisions else None),
                   since(containment), tuple(inject_results), tuple(clock_results),
                   tuple(done_steps), len(playbook.steps), since(escalation))


def due_injects(scenario: Scenario, now_ms: int) -> tuple[list[Inject], Inject | None]:
    """(the injects released by `now_ms`, the next one to come)."""
    released = [i for i in scenario.injects if i.at_ms <= now_ms]
    upcoming = next((i for i in scenario.injects if i.at_ms > now_ms), None)
    return released, upcoming
