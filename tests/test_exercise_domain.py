"""Tabletop exercises as data (`app.domain.exercise`): offsets and spans as text, the scenario
format and its refusals, the shipped scenarios, the metrics computed from a hand-built log,
and the checks on a log entry. No database here: the services are `test_exercises.py`."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml

from app.domain import exercise as ex
from app.domain.exercise import (
    Entry,
    check_entry,
    compute_metrics,
    due_injects,
    format_offset,
    format_span,
    parse_offset,
    parse_scenario,
    parse_span,
)
from app.domain.playbooks import Playbook, bundled_playbooks

H = 3_600_000  # an hour in ms
M = 60_000  # a minute in ms
START = "2026-05-08T09:00:00Z"
LEAK = "data-leakage-through-a-model"


def playbook(slug: str = LEAK) -> Playbook:
    return next(p for p in bundled_playbooks() if p.id == slug)


# ------------------------------------------------------------------ offsets and spans
@pytest.mark.parametrize(("text", "seconds"), [
    ("T+00:00", 0),
    ("T+12:30", 750),
    ("T+90:00", 5400),  # mm may exceed 59
    ("T+1:02:03", 3723),
    ("T+01:30:00", 5400),
    ("T + 05:00", 300),
    (" T+05:00 ", 300),
    ("T-00:00", 0),  # minus zero is still T+00:00
    ("T+720:00:00", 30 * 86400),  # exactly 30 days
])
def test_parse_offset_reads_mm_ss_and_hh_mm_ss(text: str, seconds: int) -> None:
    assert parse_offset(text, "the offset") == seconds


@pytest.mark.parametrize(("value", "message"), [
    ("T-01:00", "inject I1: offset T-01:00 is negative; offsets count from T+00:00"),
    ("T-1:00:00", "inject I1: offset T-1:00:00 is negative; offsets count from T+00:00"),
    ("T+00:60", "inject I1: offset T+00:60: minutes and seconds run from 00 to 59"),
    ("T+1:60:00", "inject I1: offset T+1:60:00: minutes and seconds run from 00 to 59"),
    ("T+1:00:60", "inject I1: offset T+1:00:60: minutes and seconds run from 00 to 59"),
    ("T+720:00:01", "inject I1: offset T+720:00:01 is beyond the 30 days a scenario may span"),
    ("T+9999:00:00",
     "inject I1: offset T+9999:00:00 is beyond the 30 days a scenario may span"),
    ("05:00", "inject I1: offset '05:00' is not an offset like T+05:00 or T+1:30:00"),
    ("T+5", "inject I1: offset 'T+5' is not an offset like T+05:00 or T+1:30:00"),
    (300, "inject I1: offset 300 is not an offset like T+05:00 or T+1:30:00"),
    (None, "inject I1: offset None is not an offset like T+05:00 or T+1:30:00"),
])
def test_parse_offset_refusals(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_offset(value, "inject I1: offset")
    assert str(info.value) == message


@pytest.mark.parametrize(("value", "seconds"), [
    ("10:00", 600), ("00:01", 1), ("4:10", 250), ("1:30:00", 5400), ("01:00:00", 3600),
    ("720:00:00", 30 * 86400), (600, 600), (5400, 5400),
])
def test_parse_span(value: Any, seconds: int) -> None:
    assert parse_span(value, "the window") == seconds


@pytest.mark.parametrize(("value", "message"), [
    ("00:60", "the window 00:60: minutes and seconds run from 00 to 59"),
    ("1:60:00", "the window 1:60:00: minutes and seconds run from 00 to 59"),
    ("1:00:60", "the window 1:00:60: minutes and seconds run from 00 to 59"),
    ("00:00", "the window '00:00' must be more than zero and at most 30 days"),
    (0, "the window 0 must be more than zero and at most 30 days"),
    (-5, "the window -5 must be more than zero and at most 30 days"),
    ("720:00:01", "the window '720:00:01' must be more than zero and at most 30 days"),
    ("ten minutes", "the window 'ten minutes' is not a duration like 10:00 or 1:30:00"),
    (True, "the window True is not a duration like 10:00 or 1:30:00"),
    (1.5, "the window 1.5 is not a duration like 10:00 or 1:30:00"),
])
def test_parse_span_refusals(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_span(value, "the window")
    assert str(info.value) == message


@pytest.mark.parametrize(("ms", "text"), [
    (0, "T+00:00"),
    (999, "T+00:00"),  # whole seconds, rounded down
    (750_000, "T+12:30"),
    (59 * M + 59_000, "T+59:59"),
    (H, "T+1:00:00"),
    (3_723_000, "T+1:02:03"),
    (99 * H + 59 * M + 59_000, "T+99:59:59"),
    (100 * H, "T+4d 4:00:00"),  # from 100 hours on: days
    (30 * 24 * H, "T+30d 0:00:00"),
])
def test_format_offset(ms: int, text: str) -> None:
    assert format_offset(ms) == text


def test_format_offset_round_trips_below_100_hours() -> None:
    for seconds in (0, 1, 59, 60, 3599, 3600, 3661, 36_000, 99 * 3600 + 3599):
        assert parse_offset(format_offset(seconds * 1000), "x") == seconds


@pytest.mark.parametrize(("ms", "text"), [
    (None, "—"),
    (0, "00:00"),
    (250_000, "04:10"),
    (-250_000, "-04:10"),
    (3_723_000, "1:02:03"),
    (47 * H + 59 * M + 59_000, "47:59:59"),
    (48 * H, "2d 00:00:00"),  # from 48 hours on: days
    (71 * H + 40 * M, "2d 23:40:00"),
    (-(72 * H), "-3d 00:00:00"),
])
def test_format_span(ms: int | None, text: str) -> None:
    assert format_span(ms) == text


# ------------------------------------------------------------------ the scenario
def scenario_data(**changes: Any) -> dict[str, Any]:
    """A small valid scenario; `changes` replace top-level keys."""
    data: dict[str, Any] = {
        "title": "Leak drill",
        "playbook": LEAK,
        "starts_at": START,
        "speed": 60,
        "description": "A drill.",
        "objectives": [{"id": "O1", "text": "Detect within an hour"},
                       {"id": "O2", "text": "Notify within 72 hours"}],
        "modules": [{"id": "M1", "title": "Detection"},
                    {"id": "M2", "title": "Response", "description": "After the leak"}],
        "injects": [
            {"id": "I1", "module": "M1", "at": "T+10:00", "content": "A report",
             "audience": "ML on-call engineer", "expected": ["Reproduce it"],
             "window": "05:00", "questions": ["Is it real?"]},
            {"id": "I2", "module": "M1", "at": "T+30:00", "content": "Confirmed",
             "audience": "ML on-call engineer", "window": "10:00"},
            {"id": "I3", "module": "M2", "at": "T+1:00:00", "content": "Contain",
             "audience": "ML platform engineer"},
            {"id": "I4", "module": "M2", "at": "T+2:00:00", "content": "Keys",
             "audience": "Security operations analyst", "window": "1:00:00"},
            {"id": "I5", "module": "M2", "at": "T+80:00:00", "content": "Much later",
             "audience": "Data protection officer", "window": "30:00"},
        ],
    }
    return data | changes


def inject(data: dict[str, Any], n: int, **changes: Any) -> dict[str, Any]:
    data["injects"][n] = data["injects"][n] | changes
    return data


def test_parse_scenario_builds_everything() -> None:
    s = parse_scenario(scenario_data())
    assert (s.title, s.playbook, s.starts_at, s.speed) == (
        "Leak drill", LEAK, "2026-05-08T09:00:00.000Z", 60)
    assert [o.id for o in s.objectives] == ["O1", "O2"]
    assert [m.id for m in s.modules] == ["M1", "M2"]
    assert s.module("M2").description == "After the leak"
    first = s.injects[0]
    assert (first.id, first.module, first.at, first.at_ms, first.window) == (
        "I1", "M1", 600, 600_000, 300)
    assert first.expected == ("Reproduce it",) and first.questions == ("Is it real?",)
    assert s.injects[2].window is None and s.injects[2].expected == ()
    assert [i.at for i in s.injects] == [600, 1800, 3600, 7200, 288_000]


def test_parse_scenario_defaults_and_as_data_round_trip() -> None:
    data = scenario_data()
    del data["speed"], data["starts_at"], data["description"]
    s = parse_scenario(data)
    assert (s.speed, s.starts_at, s.description) == (1, "", "")
    again = parse_scenario(parse_scenario(scenario_data()).as_data())
    assert again == parse_scenario(scenario_data())


def test_equal_offsets_are_in_order() -> None:
    data = inject(scenario_data(), 1, at="T+10:00")
    assert [i.at for i in parse_scenario(data).injects][:2] == [600, 600]


def test_the_playbook_slug_is_lowercased() -> None:
    assert parse_scenario(scenario_data(playbook=" Model-Drift ")).playbook == "model-drift"


def test_yaml_sexagesimal_window_is_read_as_seconds() -> None:
    """YAML 1.1 reads an unquoted 10:00 as the integer 600; the parser takes it as seconds."""
    text = yaml.safe_dump(scenario_data(), sort_keys=False)
    text = text.replace("window: 05:00", "window: 10:00").replace("window: '05:00'",
                                                                   "window: 10:00")
    assert "window: 10:00\n" in text
    data = yaml.safe_load(text)
    assert data["injects"][0]["window"] == 600  # what YAML 1.1 made of it
    assert parse_scenario(data).injects[0].window == 600
    unquoted = yaml.safe_load("window: 1:30:00")
    assert unquoted == {"window": 5400}
    assert parse_scenario(inject(scenario_data(), 0, window=5400)).injects[0].window == 5400


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: inject(d, 1, at="T-01:00"),
     "the scenario: inject I2: offset T-01:00 is negative; offsets count from T+00:00"),
    (lambda d: inject(d, 1, at="T+05:00"),
     "the scenario: inject I2: offset T+05:00 comes before the previous inject's (T+10:00); "
     "list injects in time order"),
    (lambda d: inject(d, 0, module="M9"),
     "the scenario: inject I1 refers to module 'M9', which the scenario does not define "
     "(modules: M1, M2)"),
    (lambda d: inject(d, 0, module=None),
     "the scenario: inject I1 refers to module '(none)', which the scenario does not define "
     "(modules: M1, M2)"),
    (lambda d: inject(d, 1, id="I1"), "the scenario: inject 2: id I1 is used twice"),
    (lambda d: d | {"objectives": [{"id": "O1", "text": "a"}, {"id": "O1", "text": "b"}]},
     "the scenario: objective 2: id O1 is used twice"),
    (lambda d: d | {"modules": d["modules"] + [{"id": "M1", "title": "again"}]},
     "the scenario: module 3: id M1 is used twice"),
    (lambda d: d | {"colour": "red"}, "the scenario has unknown keys: colour"),
    (lambda d: inject(d, 0, color="red", notes="x"),
     "the scenario: inject 1 has unknown keys: color, notes"),
    (lambda d: d | {"objectives": [{"id": "O1", "text": "a", "weight": 2}]},
     "the scenario: objective 1 has unknown keys: weight"),
    (lambda d: d | {"modules": d["modules"] + [{"id": "M3", "title": "Unused"}]},
     "the scenario: module M3 has no injects"),
    (lambda d: inject(d, 2, module="M1") | {"injects": d["injects"][:3]},
     "the scenario: module M2 has no injects"),
    (lambda d: inject(d, 3, module="M1"),
     "the scenario: inject I4 belongs to module M1, which comes before the previous inject's "
     "module M2"),
    (lambda d: inject(d, 0, module="M2"),
     "the scenario: inject I2 belongs to module M1, which comes before the previous inject's "
     "module M2"),
    (lambda d: d | {"speed": 0}, "the scenario: speed must be a whole number from 1 to 3600"),
    (lambda d: d | {"speed": 4000},
     "the scenario: speed must be a whole number from 1 to 3600"),
    (lambda d: d | {"speed": True},
     "the scenario: speed must be a whole number from 1 to 3600"),
    (lambda d: d | {"speed": "60"},
     "the scenario: speed must be a whole number from 1 to 3600"),
    (lambda d: {k: v for k, v in d.items() if k != "objectives"},
     "the scenario has no objectives"),
    (lambda d: d | {"objectives": []}, "the scenario has no objectives"),
    (lambda d: d | {"modules": []}, "the scenario has no modules"),
    (lambda d: d | {"injects": []}, "the scenario has no injects"),
    (lambda d: d | {"objectives": ["O1"]}, "the scenario: objective 1 is not a mapping"),
    (lambda d: d | {"objectives": [{"id": f"O{n}", "text": "x"} for n in range(21)]},
     "the scenario has 21 objectives; at most 20"),
    (lambda d: inject(d, 0, id="bad id!"),
     "the scenario: inject 1: id 'bad id!' must be 1–20 letters, digits, '.', '_' or '-'"),
    (lambda d: inject(d, 0, window="0:00"),
     "the scenario: inject I1: window '0:00' must be more than zero and at most 30 days"),
    (lambda d: d | {"starts_at": "next Friday"},
     "the scenario: starts_at 'next Friday' is not a date and time like 2026-03-02T09:00:00Z"),
])
def test_parse_scenario_refusals(change: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_scenario(change(scenario_data()))
    assert str(info.value) == message


def test_parse_scenario_names_the_file() -> None:
    with pytest.raises(ValueError) as info:
        parse_scenario(inject(scenario_data(), 3, at="T-00:30"), "drill.yaml")
    assert str(info.value) == ("drill.yaml: inject I4: offset T-00:30 is negative; offsets "
                               "count from T+00:00")
    with pytest.raises(ValueError, match=r"^drill\.yaml is not a mapping$"):
        parse_scenario(["a list"], "drill.yaml")


def test_starts_at_is_normalised_to_utc() -> None:
    s = parse_scenario(scenario_data(starts_at="2026-05-08T11:00:00+02:00"))
    assert s.starts_at == "2026-05-08T09:00:00.000Z"
    s = parse_scenario(scenario_data(starts_at=datetime(2026, 5, 8, 9, 0)))
    assert s.starts_at == "2026-05-08T09:00:00.000Z"


def test_long_scenario_round_trips_through_as_data() -> None:
    """A scenario may span 30 days, so one stored by its file shape must read back."""
    data = inject(scenario_data(), 4, at="T+100:00:00", window="48:00:00")
    s = parse_scenario(data)
    assert parse_scenario(s.as_data()) == s


SHIPPED = sorted(e.name for e in resources.files("app.playbooks").joinpath("scenarios")
                 .iterdir() if e.name.endswith(".yaml"))


def test_a_scenario_is_shipped_for_each_playbook() -> None:
    assert sorted(f"{p.id}.yaml" for p in bundled_playbooks()) == SHIPPED
    assert len(SHIPPED) == 5


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_parses_and_fits_its_playbook(name: str) -> None:
    text = resources.files("app.playbooks").joinpath("scenarios", name).read_text("utf-8")
    s = parse_scenario(yaml.safe_load(text), name)
    pb = playbook(name.removesuffix(".yaml"))
    assert s.playbook == pb.id
    assert s.starts_at and 1 <= s.speed <= ex.MAX_SPEED
    assert s.injects[0].at == 0  # the incident reaches the team at T+00:00
    strangers = {i.audience for i in s.injects} - set(pb.roles)
    assert not strangers, f"{name}: audiences not roles of {pb.id}: {strangers}"
    assert all(i.expected for i in s.injects), "every inject expects something"
    # stored as data and read back, it is the same scenario
    assert parse_scenario(s.as_data(), name) == s


# ------------------------------------------------------------------ metrics
def entry(seq: int, at_ms: int, kind: str, text: str = "x", **refs: Any) -> Entry:
    return Entry(seq, at_ms, kind, text, "tester", **refs)


def leak_log() -> list[Entry]:
    """First inject at T+10:00; aware at T+15:00; a back-dated first decision at T+40:00
    (seq 5) before the containment decision at T+50:00 (seq 4)."""
    return [
        entry(1, 13 * M, "action", inject="I1", step=1),
        entry(2, 45 * M, "escalation", inject="I2"),
        entry(3, 15 * M, "aware"),
        entry(4, 50 * M, "decision", containment=True, step=2),
        entry(5, 40 * M, "decision", "back-dated"),
        entry(6, 80 * M, "action", inject="I3"),
        entry(7, 65 * M, "action", inject="I3", step=2),  # back-dated reply to I3
        entry(8, 150 * M, "notification", clock="gdpr-33", step=6),
        entry(9, 160 * M, "decision", clock="hipaa-406"),
    ]


def test_metrics_times_are_measured_from_the_first_inject() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    m = compute_metrics(s, pb, leak_log(), START, 3 * H)
    assert m.start_ms == 10 * M
    assert m.detection_ms == 5 * M  # aware at T+15:00
    assert m.first_decision_ms == 30 * M  # the back-dated decision at T+40:00 counts first
    assert m.containment_ms == 40 * M  # T+50:00
    assert m.steps_done == (1, 2, 6) and m.steps_total == 9


def test_metrics_inject_outcomes() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    m = compute_metrics(s, pb, leak_log(), START, 3 * H)
    got = [(r.inject.id, r.released, r.response_ms, r.outcome) for r in m.injects]
    assert got == [
        ("I1", True, 3 * M, "within"),  # 3 min against 5
        ("I2", True, 15 * M, "late"),  # 15 min against 10
        ("I3", True, 5 * M, "answered"),  # no window; the back-dated action is the first reply
        ("I4", True, None, "no response"),
        ("I5", False, None, "not released"),
    ]


def test_metrics_window_boundary_is_within() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    exact = compute_metrics(s, pb, [entry(1, 15 * M, "action", inject="I1")], START, H)
    over = compute_metrics(s, pb, [entry(1, 15 * M + 1, "action", inject="I1")], START, H)
    assert exact.injects[0].outcome == "within" and exact.injects[0].response_ms == 5 * M
    assert over.injects[0].outcome == "late"
    released = compute_metrics(s, pb, [], START, 10 * M)
    assert [r.outcome for r in released.injects] == ["no response"] + ["not released"] * 4


AWARE_MS = 15 * M
# hipaa-408-log: 60 days after the end of 2026, from 2026-05-08T09:00Z (T+00:00)
YEAR_LOG_DUE = int((datetime(2027, 3, 2, tzinfo=UTC)
                    - datetime(2026, 5, 8, 9, tzinfo=UTC)).total_seconds() * 1000)


def test_metrics_clock_outcomes_and_due_times() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    m = compute_metrics(s, pb, leak_log(), START, 3 * H)
    got = [(c.clock.id, c.outcome, c.due_ms, c.done_ms) for c in m.clocks]
    assert YEAR_LOG_DUE == (297 * 24 + 15) * H
    assert got == [
        ("gdpr-33", "met", AWARE_MS + 72 * H, 150 * M),
        ("gdpr-34", "running", None, None),  # without undue delay: no deadline
        ("hipaa-404", "running", AWARE_MS + 60 * 24 * H, None),
        ("hipaa-406", "not applicable", None, None),
        ("hipaa-408", "running", AWARE_MS + 60 * 24 * H, None),
        ("hipaa-408-log", "running", YEAR_LOG_DUE, None),
    ]
    assert m.clocks[0].left_ms(3 * H) == AWARE_MS + 69 * H
    assert m.clocks[1].left_ms(3 * H) is None
    final = compute_metrics(s, pb, leak_log(), START, 3 * H, final=True)
    assert [c.outcome for c in final.clocks] == [
        "met", "open at close", "open at close", "not applicable", "open at close",
        "open at close"]


def test_metrics_missed_clocks() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    late_notice = [entry(1, 0, "aware"),
                   entry(2, 72 * H + 1000, "notification", clock="gdpr-33")]
    m = compute_metrics(s, pb, late_notice, START, 80 * H)
    assert (m.clocks[0].outcome, m.clocks[0].due_ms, m.clocks[0].done_ms) == (
        "missed", 72 * H, 72 * H + 1000)
    silent = compute_metrics(s, pb, [entry(1, 0, "aware")], START, 72 * H + 1)
    assert (silent.clocks[0].outcome, silent.clocks[0].done_ms) == ("missed", None)
    at_the_deadline = compute_metrics(s, pb, [entry(1, 0, "aware")], START, 72 * H)
    assert at_the_deadline.clocks[0].outcome == "running"
    # missed stays missed at close; it is not "open at close"
    closed = compute_metrics(s, pb, [entry(1, 0, "aware")], START, 73 * H, final=True)
    assert closed.clocks[0].outcome == "missed"
    assert closed.clocks[0].left_ms(73 * H) == -H


def test_metrics_without_awareness_no_clock_starts() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    log = [entry(1, 20 * M, "decision", clock="gdpr-34")]
    m = compute_metrics(s, pb, log, START, 90 * M)
    # (the log refuses a clock before awareness; a stray one does not start anything)
    assert [(c.clock.id, c.outcome, c.due_ms) for c in m.clocks] == [
        ("gdpr-33", "not started", None), ("gdpr-34", "not started", None),
        ("hipaa-404", "not started", None), ("hipaa-406", "not started", None),
        ("hipaa-408", "not started", None), ("hipaa-408-log", "not started", None)]
    assert (m.detection_ms, m.first_decision_ms, m.containment_ms) == (None, 10 * M, None)


def test_metrics_year_end_clock_counts_from_the_year_of_awareness() -> None:
    """Aware on 31 December: due 60 days after that year's end, not the next one's."""
    s = parse_scenario(scenario_data(starts_at="2026-12-31T20:00:00Z"))
    pb = dataclasses.replace(playbook(), clocks=("hipaa-408-log",))
    m = compute_metrics(s, pb, [entry(1, 3 * H, "aware")], "2026-12-31T20:00:00Z", 5 * H)
    assert m.clocks[0].due_ms == 4 * H + 60 * 24 * H  # aware at 23:00 on 31 Dec 2026
    m = compute_metrics(s, pb, [entry(1, 5 * H, "aware")], "2026-12-31T20:00:00Z", 5 * H)
    assert m.clocks[0].due_ms == 4 * H + 365 * 24 * H + 60 * 24 * H  # aware in 2027


def test_detection_before_the_first_inject_is_zero() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    m = compute_metrics(s, pb, [entry(1, 2 * M, "aware")], START, H)
    assert m.detection_ms == 0


def test_metrics_as_dict() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    d = compute_metrics(s, pb, leak_log(), START, 3 * H).as_dict()
    assert (d["time_to_detection_s"], d["time_to_first_decision_s"],
            d["time_to_containment_decision_s"]) == (300.0, 1800.0, 2400.0)
    assert d["injects"][0] == {"id": "I1", "at": "T+10:00", "window_s": 300,
                               "response_s": 180.0, "outcome": "within"}
    assert d["injects"][4] == {"id": "I5", "at": "T+80:00:00", "window_s": 1800,
                               "response_s": None, "outcome": "not released"}
    assert d["clocks"][0] == {"id": "gdpr-33", "basis": "GDPR Art. 33(1)", "outcome": "met",
                              "due": "T+72:15:00", "notified": "T+2:30:00"}
    assert d["clocks"][5]["due"] == "T+297d 15:00:00"
    assert d["steps_completed"] == [1, 2, 6] and d["steps_total"] == 9


def test_due_injects() -> None:
    s = parse_scenario(scenario_data())
    released, upcoming = due_injects(s, 30 * M)
    assert [i.id for i in released] == ["I1", "I2"] and upcoming is not None
    assert upcoming.id == "I3"
    released, upcoming = due_injects(s, 80 * H)
    assert len(released) == 5 and upcoming is None
    assert due_injects(s, 0) == ([], s.injects[0])


# ------------------------------------------------------------------ entry checks
def check(kind: str, entries: list[Entry] = (), *,  # type: ignore[assignment]
          inject: str | None = None, step: int | None = None, clock: str | None = None,
          containment: bool = False) -> str:
    return check_entry(kind, scenario=parse_scenario(scenario_data()), playbook=playbook(),
                       entries=list(entries), inject=inject, step=step, clock=clock,
                       containment=containment)


def test_check_entry_accepts_and_normalises() -> None:
    aware = [entry(1, 0, "aware")]
    assert check(" Decision ", aware, clock="gdpr-33", containment=True, step=9) == "decision"
    assert check("notification", aware, clock="HIPAA-408-log", inject="I5",
                 step=1) == "notification"
    assert check("aware", [entry(1, 0, "note")]) == "aware"


@pytest.mark.parametrize(("kind", "given", "message"), [
    ("aware", {"entries": [entry(1, 0, "aware")]},
     "the team already became aware; the clocks run from that moment"),
    ("note", {"inject": "I9"}, "the scenario has no inject I9"),
    ("action", {"step": 10}, "the playbook has steps 1 to 9, not 10"),
    ("action", {"step": 0}, "the playbook has steps 1 to 9, not 0"),
    ("action", {"clock": "gdpr-33"},
     "only a notification (meeting a clock) or a decision (that a clock does not apply) "
     "names a regulatory clock"),
    ("aware", {"clock": "gdpr-33"},
     "only a notification (meeting a clock) or a decision (that a clock does not apply) "
     "names a regulatory clock"),
    ("notification", {"clock": "ai-act-73"},
     "clock ai-act-73 is not one of the playbook's: gdpr-33, gdpr-34, hipaa-404, hipaa-406, "
     "hipaa-408, hipaa-408-log"),
    ("action", {"containment": True}, "only a decision can be the containment decision"),
    ("notification", {"containment": True}, "only a decision can be the containment decision"),
    ("memo", {}, "entry kind 'memo' is not one of: aware, decision, action, escalation, "
                 "notification, note"),
])
def test_check_entry_refusals(kind: str, given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        check(kind, **given)
    assert str(info.value) == message


@pytest.mark.parametrize(("kind", "entries", "given", "message"), [
    ("notification", [], {"clock": "gdpr-33"},
     "the regulatory clocks have not started: log that the team became aware first"),
    ("decision", [entry(1, 0, "aware"), entry(2, 5, "notification", clock="gdpr-33")],
     {"clock": "gdpr-33"},
     "clock gdpr-33 was already met by a notification; it cannot be judged not to apply now"),
])
def test_check_entry_clock_order(kind: str, entries: list[Entry], given: dict[str, Any],
                                 message: str) -> None:
    with pytest.raises(ValueError) as info:
        check(kind, entries, **given)
    assert str(info.value) == message


def test_an_inject_is_answered_only_once_released() -> None:
    with pytest.raises(ValueError) as info:
        check_entry("action", scenario=parse_scenario(scenario_data()), playbook=playbook(),
                    entries=[], inject="I2", step=None, clock=None, containment=False,
                    at_ms=0)
    assert str(info.value).startswith("inject I2 is not released before T+")
    assert str(info.value).endswith("an entry at T+00:00 cannot answer it")


def test_notes_and_early_entries_are_not_responses() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    first = s.injects[0]
    log = [entry(1, first.at_ms + 60_000, "note", inject=first.id)]
    m = compute_metrics(s, pb, log, START, first.at_ms + 3_600_000)
    assert m.injects[0].outcome == "no response"


def test_a_notification_before_awareness_does_not_meet_a_clock() -> None:
    s, pb = parse_scenario(scenario_data()), playbook()
    log = [entry(1, 5 * M, "notification", clock="gdpr-33"), entry(2, 15 * M, "aware")]
    m = compute_metrics(s, pb, log, START, 90 * M)
    assert m.clocks[0].outcome == "running" and m.clocks[0].done_ms is None


def test_clock_for_a_playbook_without_clocks() -> None:
    pb = dataclasses.replace(playbook(), clocks=())
    with pytest.raises(ValueError, match=re.escape("clock gdpr-33 is not one of the "
                                                   "playbook's: none")):
        check_entry("notification", scenario=parse_scenario(scenario_data()), playbook=pb,
                    entries=[], inject=None, step=None, clock="gdpr-33", containment=False)


# ------------------------------------------------------------------ the exercise clock
def test_exercise_time_runs_at_speed_and_stands_when_paused() -> None:
    since = datetime(2026, 1, 1, 9, tzinfo=UTC)
    later = datetime(2026, 1, 1, 9, 1, 30, tzinfo=UTC)
    assert ex.exercise_ms(1000, since, 60, later) == 1000 + 90 * 60 * 1000
    assert ex.exercise_ms(1000, None, 60, later) == 1000
    assert ex.exercise_ms(1000, later, 60, since) == 1000  # never backwards
