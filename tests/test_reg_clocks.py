"""The regulatory clocks as data: the shipped ones parse, each names a clause that the bundled
library has, deadlines are counted from one "became aware" moment, and `crosswalk clocks`
shows them; bad clock data and a bad moment are refused in one sentence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from app.domain.reg_clocks import bundled_clocks, clock_by_id, parse_clocks

AWARE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_the_shipped_clocks_cover_gdpr_ai_act_and_hipaa() -> None:
    clocks = {c.id: c for c in bundled_clocks()}
    assert list(clocks) == ["gdpr-33", "gdpr-34", "ai-act-73", "ai-act-73-widespread",
                            "ai-act-73-death", "hipaa-404", "hipaa-406", "hipaa-408",
                            "hipaa-408-log"]
    assert (clocks["gdpr-33"].hours, clocks["ai-act-73"].days,
            clocks["ai-act-73-widespread"].days, clocks["ai-act-73-death"].days,
            clocks["hipaa-404"].days) == (72, 15, 2, 10, 60)
    assert not clocks["gdpr-34"].fixed and clocks["gdpr-34"].period == "without undue delay"
    assert all(c.summary and c.applies_when and c.recipient for c in clocks.values())


def test_every_basis_is_a_clause_of_the_bundled_library(lib_ws: Path) -> None:
    from app.services.regulations import find_clause
    from app.services.workspace import open_workspace

    store = open_workspace(lib_ws)
    try:
        for clock in bundled_clocks():
            reg, clause = find_clause(store, clock.basis)
            assert f"{reg.code} {clause.ref}" == clock.basis
    finally:
        store.close()


def test_deadlines_from_one_moment() -> None:
    assert clock_by_id("gdpr-33").due(AWARE) == AWARE + timedelta(hours=72)
    assert clock_by_id("ai-act-73").due(AWARE) == AWARE + timedelta(days=15)
    assert clock_by_id("hipaa-408-log").due(AWARE) == datetime(2027, 3, 2, tzinfo=UTC)
    assert clock_by_id("gdpr-34").due(AWARE) is None
    # an offset is honoured; a naive moment is UTC
    paris = AWARE.astimezone(timezone(timedelta(hours=1)))
    assert clock_by_id("gdpr-33").due(paris) == AWARE + timedelta(hours=72)
    assert clock_by_id("gdpr-33").due(AWARE.replace(tzinfo=None)) == AWARE + timedelta(hours=72)


def test_state_running_met_and_missed() -> None:
    c = clock_by_id("ai-act-73-widespread")  # 2 days
    running = c.state(AWARE, AWARE + timedelta(hours=47, minutes=59, seconds=30))
    assert (running.outcome, running.countdown()) == ("running", "00:00:30")
    missed = c.state(AWARE, AWARE + timedelta(days=2, minutes=12))
    assert (missed.outcome, missed.countdown()) == ("missed", "-00:12:00")
    met = c.state(AWARE, AWARE + timedelta(days=5), done=AWARE + timedelta(days=1))
    assert (met.outcome, met.countdown()) == ("met", "1d 00:00:00")
    late = c.state(AWARE, AWARE + timedelta(days=5), done=AWARE + timedelta(days=3))
    assert late.outcome == "missed"
    open_ended = clock_by_id("gdpr-34").state(AWARE, AWARE + timedelta(days=1, hours=2))
    assert (open_ended.outcome, open_ended.countdown()) == ("running", "+1d 02:00:00")


def test_unknown_clock_id() -> None:
    with pytest.raises(ValueError, match=r"no regulatory clock 'gdpr-99' \(clocks: gdpr-33"):
        clock_by_id("gdpr-99")


GOOD: dict[str, Any] = {"id": "x", "title": "T", "basis": "GDPR Art. 33(1)", "recipient": "R",
                        "applies_when": "A", "summary": "S", "days": 3}


@pytest.mark.parametrize(("data", "message"), [
    ({}, "the clocks must be a list of clocks"),
    ([], "the clocks must be a list of clocks"),
    (["x"], "the clocks: clock 1 is not a mapping"),
    ([GOOD | {"minutes": 5}], "the clocks: clock x has unknown keys: minutes"),
    ([{k: v for k, v in GOOD.items() if k != "basis"}], "the clocks: clock x has no basis"),
    ([GOOD, GOOD], "the clocks: clock x appears twice"),
    ([GOOD | {"hours": 72}], "the clocks: clock x has more than one deadline (hours, days)"),
    ([GOOD | {"days": 0}], "the clocks: clock x: days must be a whole number ≥ 1"),
    ([GOOD | {"days": "15"}], "the clocks: clock x: days must be a whole number ≥ 1"),
    ([GOOD | {"days": True}], "the clocks: clock x: days must be a whole number ≥ 1"),
    ([GOOD | {"title": "two\nlines"}], "the clocks: clock x title must be a single line"),
])
def test_bad_clock_data_is_refused(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_clocks(data)
    assert str(info.value) == message


def test_cli_lists_the_clocks_and_counts_down(cli: Any) -> None:
    plain = cli("clocks")
    assert plain.code == 0
    assert plain.out.splitlines()[0].split() == ["CLOCK", "DEADLINE", "BASIS", "TO"]
    assert "gdpr-33               72 hours" in plain.out
    rows = json.loads(cli("clocks", "--aware", "2026-11-25T09:00", "--json").out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["gdpr-33"]["due"] == "2026-11-28T09:00:00Z"
    assert by_id["hipaa-408-log"]["due"] == "2027-03-02T00:00:00Z"
    assert by_id["gdpr-34"]["due"] is None and by_id["gdpr-34"]["left"].startswith("+")
    assert set(by_id["ai-act-73"]) == {"id", "title", "basis", "recipient", "period", "hours",
                                       "days", "after_year_end_days", "applies_when",
                                       "summary", "due", "left", "outcome"}
    old = json.loads(cli("clocks", "--aware", "2020-01-01T00:00+02:00", "--json").out)
    assert {r["outcome"] for r in old if r["due"]} == {"missed"}
    assert {r["due"] for r in old if r["id"] == "gdpr-33"} == {"2020-01-03T22:00:00Z"}


@pytest.mark.parametrize("moment", ["tomorrow", "2026-13-01T00:00", ""])
def test_cli_refuses_a_moment_that_is_not_one(cli: Any, moment: str) -> None:
    r = cli("clocks", "--aware", moment)
    assert r.code == 2
    assert r.err.startswith("error: --aware ") and "is not a moment" in r.err
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err


def test_cli_refuses_a_future_aware_moment(cli: Any) -> None:
    r = cli("clocks", "--aware", "2999-01-01T00:00")
    assert (r.code, r.out) == (2, "")
    assert r.err == ("error: --aware 2999-01-01T00:00 is in the future; the clocks run from "
                     "the moment the organisation became aware\n")
