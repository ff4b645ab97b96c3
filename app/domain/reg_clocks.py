"""Regulatory notification clocks as data (`app/playbooks/clocks.yaml`): what must be notified,
to whom, on which legal basis, and by when, counted from a single "became aware" moment.

A clock's deadline is a number of hours or days after that moment, a number of days after the
end of its calendar year, or none at all ("without undue delay": it runs, but sets no time).
`state` says where a clock stands at a moment: its time left (negative once missed), and
whether a notification sent at `done` met it. Exercise time and real time are both plain
datetimes here; the exercise runner decides which one it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

_KEYS = {"id", "title", "basis", "recipient", "hours", "days", "after_year_end_days",
         "applies_when", "summary"}
_DEADLINES = ("hours", "days", "after_year_end_days")


@dataclass(frozen=True, slots=True)
class RegClock:
    """One notification duty (see the module doc)."""

    id: str
    title: str
    basis: str  # the clause that sets it, as a library ref ("GDPR Art. 33(1)")
    recipient: str
    applies_when: str
    summary: str
    hours: int | None = None
    days: int | None = None
    after_year_end_days: int | None = None

    @property
    def fixed(self) -> bool:
        """Whether the clock has a deadline (else: without undue delay)."""
        return any(getattr(self, k) is not None for k in _DEADLINES)

    @property
    def period(self) -> str:
        """The deadline in words: "72 hours", "15 days", "60 days after the year's end"."""
        if self.hours is not None:
            return f"{self.hours} hours"
        if self.days is not None:
            return f"{self.days} days"
        if self.after_year_end_days is not None:
            return f"{self.after_year_end_days} days after the end of the year"
        return "without undue delay"

    def due(self, aware: datetime) -> datetime | None:
        """The deadline for an incident the organisation became aware of at `aware`."""
        aware = _utc(aware)
        if self.hours is not None:
            return aware + timedelta(hours=self.hours)
        if self.days is not None:
            return aware + timedelta(days=self.days)
        if self.after_year_end_days is not None:
            year_end = datetime(aware.year + 1, 1, 1, tzinfo=UTC)
            return year_end + timedelta(days=self.after_year_end_days)
        return None

    def state(self, aware: datetime, now: datetime, done: datetime | None = None
              ) -> ClockState:
        """Where the clock stands at `now` (or when notified, at `done`)."""
        due = self.due(aware)
        at = _utc(done) if done is not None else _utc(now)
        left = (due - at) if due is not None else None
        if done is not None:
            outcome = "met" if left is None or left >= timedelta(0) else "missed"
        elif left is not None and left < timedelta(0):
            outcome = "missed"
        else:
            outcome = "running"
        return ClockState(self, due, left, outcome, at - _utc(aware))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "basis": self.basis,
                "recipient": self.recipient, "period": self.period, "hours": self.hours,
                "days": self.days, "after_year_end_days": self.after_year_end_days,
                "applies_when": self.applies_when, "summary": self.summary}


@dataclass(frozen=True, slots=True)
class ClockState:
    clock: RegClock
    due: datetime | None
    left: timedelta | None  # None: no fixed deadline
    outcome: str  # running, met or missed
    elapsed: timedelta  # since becoming aware

    def countdown(self) -> str:
        """``2d 03:15:07`` left, ``-00:12:00`` past the deadline, or the elapsed time (``+``)
        for a clock without a deadline."""
        if self.left is None:
            return "+" + _span(self.elapsed)
        return ("-" if self.left < timedelta(0) else "") + _span(abs(self.left))


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_clocks(data: Any, where: str = "the clocks") -> tuple[RegClock, ...]:
    """Check clocks given as data; a ValueError names the clock and what is wrong."""
    from app.domain.text import clean_text

    if not isinstance(data, list) or not data:
        raise ValueError(f"{where} must be a list of clocks")
    out: list[RegClock] = []
    seen: set[str] = set()
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: clock {n} is not a mapping")
        name = str(item.get("id", "")).strip() or f"number {n}"
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise ValueError(f"{where}: clock {name} has unknown keys: {', '.join(unknown)}")
        missing = [k for k in ("id", "title", "basis", "recipient", "applies_when", "summary")
                   if not item.get(k)]
        if missing:
            raise ValueError(f"{where}: clock {name} has no {', '.join(missing)}")
        if name in seen:
            raise ValueError(f"{where}: clock {name} appears twice")
        seen.add(name)
        given = [k for k in _DEADLINES if item.get(k) is not None]
        if len(given) > 1:
            raise ValueError(f"{where}: clock {name} has more than one deadline "
                             f"({', '.join(given)})")
        for k in given:
            value = item[k]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{where}: clock {name}: {k} must be a whole number ≥ 1")
        texts = {k: clean_text(str(item[k]), f"{where}: clock {name} {k}", 500)
                 for k in ("title", "basis", "recipient", "applies_when", "summary")}
        out.append(RegClock(name, **texts, **{k: item[k] for k in given}))
    return tuple(out)


@cache
def bundled_clocks() -> tuple[RegClock, ...]:
    """The clocks shipped with Crosswalk."""
    from importlib import resources

    import yaml

    text = resources.files("app.playbooks").joinpath("clocks.yaml").read_text(encoding="utf-8")
    return parse_clocks(yaml.safe_load(text), "clocks.yaml")


def clock_by_id(clock_id: str) -> RegClock:
    for c in bundled_clocks():
        if c.id == clock_id.strip().lower():
            return c
    raise ValueError(f"no regulatory clock {clock_id!r} (clocks: "
                     f"{', '.join(c.id for c in bundled_clocks())})")
