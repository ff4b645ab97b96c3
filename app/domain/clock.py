"""Time as the workspace records it: UTC, ISO 8601, millisecond precision, a `Z` suffix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-11-26T22:40:38.123Z``; naive datetimes are taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SteppingClock:
    """A clock that starts at a fixed moment and advances by `step` at each reading.

    Used to build reproducible workspaces (tests, snapshots, the demo): the same operations
    then give the same timestamps and therefore the same audit hashes.
    """

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self._next = start if start.tzinfo else start.replace(tzinfo=UTC)
        self._step = step

    def __call__(self) -> datetime:
        now = self._next
        self._next = now + self._step
        return now


class ManualClock:
    """A clock that stands still until told to move (`advance`, `set`): drives an exercise
    headless, second by second, in tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self.now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
