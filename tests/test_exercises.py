"""Tabletop exercises on real workspaces, driven headless with a fake wall clock: a whole
exercise from creation to the after-action report, the improvement plan linked to risks and
controls, the playbooks in the workspace, and every refusal — each checked to write nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain import exercise as ex
from app.domain.clock import ManualClock
from app.domain.playbooks import Step, bundled_playbooks
from app.errors import CrosswalkError, ImportFailed, InvalidInput, NotFound
from app.services import after_action as aa
from app.services import audit
from app.services import exercises as xs
from app.services.playbooks import (
    get_playbook,
    import_playbook,
    list_playbooks,
    save_playbook,
)
from app.services.risks import add_risk, get_risk
from app.services.systems import add_system
from app.store import Store
from tests.conftest import make_store

LEAK = "data-leakage-through-a-model"
WALL = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
H = 3_600_000
M = 60_000
TABLES = ("playbook", "exercise", "exercise_entry", "exercise_rating", "improvement_item",
          "risk", "ai_system")


def scenario_file(name: str = LEAK) -> Path:
    return Path(str(resources.files("app.playbooks").joinpath("scenarios", f"{name}.yaml")))


@pytest.fixture
def clk() -> ManualClock:
    return ManualClock(WALL)


@pytest.fixture
def ws(tmp_path: Path, clk: ManualClock) -> Iterator[Store]:
    s = make_store(tmp_path / "ws.db", clock=clk)
    yield s
    s.close()


def actions_since(store: Store, seq: int) -> list[str]:
    return [e.action for e in reversed(audit.events(store, limit=1000)) if e.seq > seq]


def events_since(store: Store, seq: int) -> list[Any]:
    return [e for e in reversed(audit.events(store, limit=1000)) if e.seq > seq]


def snapshot(store: Store) -> tuple[Any, ...]:
    with store.raw() as run:
        rows = tuple(tuple(map(tuple, run(f"SELECT * FROM {t} ORDER BY id").all()))
                     for t in TABLES)
    report = audit.verify(store)
    return audit.event_count(store), audit.head_seq(store), report.head, rows


@contextmanager
def nothing_written(store: Store) -> Iterator[None]:
    before = snapshot(store)
    yield
    assert snapshot(store) == before


def refused(store: Store, error: type[CrosswalkError], fn: Any, message: str) -> None:
    """`fn` raises exactly `error` (not a subclass) with `message`, writing nothing."""
    with nothing_written(store), pytest.raises(CrosswalkError) as info:
        fn()
    assert type(info.value) is error, (type(info.value), str(info.value))
    assert str(info.value) == message


def intact(store: Store) -> None:
    report = audit.verify(store)
    assert report.intact, report.problems


def run_short(store: Store, clk: ManualClock) -> str:
    """A short exercise: created, started, aware at T+30:00, closed at T+1:00:00."""
    view = xs.create_exercise(store, LEAK)
    xs.start(store, view.label)
    clk.advance(30)
    xs.log(store, view.label, "aware", "")
    clk.advance(30)
    xs.close(store, view.label)
    return view.label


# ------------------------------------------------------------------ a whole exercise
def test_a_whole_exercise_headless(ws: Store, clk: ManualClock) -> None:
    seq0 = audit.head_seq(ws)
    view = xs.create_exercise(ws, LEAK)
    assert (view.id, view.label, view.status, view.speed, view.clock_ms) == (
        1, "EX-1", "planned", 60, 0)
    assert view.starts_at == "2026-05-08T09:00:00.000Z"
    assert view.scenario_name == f"{LEAK}.yaml"
    assert view.title.startswith("Patient notes leaking from a summarisation model")
    assert view.playbook.id == LEAK and len(view.playbook.steps) == 9
    assert actions_since(ws, seq0) == ["playbook.add", "exercise.create"]
    created = events_since(ws, seq0)[1]
    assert json.loads(created.change) == {
        "title": view.title, "playbook": LEAK, "scenario": f"{LEAK}.yaml", "injects": 13,
        "speed": 60, "starts_at": "2026-05-08T09:00:00.000Z"}
    assert view.now_ms(clk.advance(600)) == 0  # a planned exercise's clock stands

    seq = audit.head_seq(ws)
    view = xs.start(ws, "EX-1", speed=60)
    assert (view.status, view.started_at, view.running_since) == (
        "running", "2026-11-26T09:10:00.000Z", clk.now)
    clk.advance(30)  # 30 s of wall time at x60: T+30:00
    assert xs.get_exercise(ws, 1).now_ms(clk.now) == 30 * M
    e1 = xs.log(ws, "EX-1", "action", "Reproduced the paragraph on v2.4", inject="I1", step=1,
                actor="Aoife (ML on-call)")
    assert (e1.seq, e1.at_ms, e1.kind, e1.actor, e1.step) == (
        1, 30 * M, "action", "Aoife (ML on-call)", 1)
    clk.advance(60)  # T+1:30:00, I2 released
    aware = xs.log(ws, 1, "aware", "", inject="I2")
    assert (aware.at_ms, aware.text, aware.actor) == (
        90 * M, "The team became aware of the incident", "tester")
    running = xs.get_exercise(ws, "EX-1").metrics(clk.now)
    assert [c.outcome for c in running.clocks] == ["running"] * 6
    assert running.clocks[0].left_ms(90 * M) == 72 * H
    clk.advance(70)  # T+2:40:00
    xs.log(ws, "EX-1", "decision", "Take NoteDraft offline; handwritten summaries",
           inject="I3", step=2, containment=True)

    # paused: wall time passes, exercise time does not
    view = xs.pause(ws, "EX-1")
    assert (view.status, view.clock_ms, view.running_since) == ("paused", 160 * M, None)
    clk.advance(600)
    assert xs.get_exercise(ws, "EX-1").now_ms(clk.now) == 160 * M
    paused_note = xs.log(ws, "EX-1", "note", "Facilitator: discuss the filter option")
    assert paused_note.at_ms == 160 * M
    clk.advance(300)
    assert xs.get_exercise(ws, "EX-1").now_ms(clk.now) == 160 * M
    refused(ws, InvalidInput, lambda: xs.pause(ws, "EX-1"), "exercise EX-1 is not running")

    view = xs.start(ws, "EX-1")  # resume
    assert view.status == "running" and view.started_at == "2026-11-26T09:10:00.000Z"
    clk.advance(60)  # T+3:40:00
    view = xs.set_speed(ws, "EX-1", 600)
    assert (view.speed, view.clock_ms, view.status) == (600, 220 * M, "running")
    clk.advance(6)  # 6 s at x600: one hour, T+4:40:00
    xs.log(ws, "EX-1", "escalation", "Brightwater's key suspended; legal counsel told",
           inject="I4")
    clk.advance(74)  # T+17:00:00, I5 (T+12:00:00, window 4 h) answered late
    xs.log(ws, "EX-1", "action", "First scope recorded: 740 people", inject="I5")
    clk.advance(36)  # T+23:00:00
    xs.log(ws, "EX-1", "decision", "No media notice: under 500 residents of any state",
           inject="I7", clock="hipaa-406")
    clk.advance(108)  # T+41:00:00
    xs.log(ws, "EX-1", "notification", "Notified the Data Protection Commission",
           inject="I8", clock="gdpr-33", step=6)
    back = xs.log(ws, "EX-1", "decision", "DPO told to expect a GDPR notice", at_ms=2 * H)
    assert (back.seq, back.at_ms) == (9, 2 * H)
    clk.advance(54)  # T+50:00:00
    view = xs.close(ws, "EX-1")
    assert (view.status, view.clock_ms, view.closed_at, view.running_since) == (
        "closed", 50 * H, "2026-11-26T09:33:18.000Z", None)
    clk.advance(3600)
    assert xs.get_exercise(ws, "EX-1").now_ms(clk.now) == 50 * H  # stands for good

    actions = actions_since(ws, seq)
    assert actions == [
        "exercise.run", "exercise.action", "exercise.aware", "exercise.decision",
        "exercise.pause", "exercise.note", "exercise.run", "exercise.speed",
        "exercise.escalation", "exercise.action", "exercise.decision", "exercise.notification",
        "exercise.decision", "exercise.close"]
    aware_event = next(e for e in events_since(ws, seq) if e.action == "exercise.aware")
    assert (aware_event.entity, aware_event.entity_id) == ("exercise_entry", "2")
    assert json.loads(aware_event.change) == {
        "exercise": "EX-1", "at": "T+1:30:00", "kind": "aware", "actor": "tester",
        "text": "The team became aware of the incident", "inject": "I2", "step": None,
        "clock": None, "containment": False}

    # ---- the metrics, exactly
    view = xs.get_exercise(ws, "EX-1")
    m = view.metrics(clk.now)
    assert (m.start_ms, m.detection_ms, m.first_decision_ms, m.containment_ms) == (
        0, 90 * M, 2 * H, 160 * M)
    assert (m.steps_done, m.steps_total) == ((1, 2, 6), 9)
    assert [(r.inject.id, r.response_ms, r.outcome) for r in m.injects] == [
        ("I1", 30 * M, "within"),
        ("I2", 0, "within"),
        ("I3", 10 * M, "within"),
        ("I4", 40 * M, "within"),
        ("I5", 5 * H, "late"),
        ("I6", None, "no response"),
        ("I7", H, "within"),
        ("I8", H, "within"),
        ("I9", None, "not released"),
        ("I10", None, "not released"),
        ("I11", None, "not released"),
        ("I12", None, "not released"),
        ("I13", None, "not released")]
    sixty_days = 90 * M + 60 * 24 * H
    year_log = int((datetime(2027, 3, 2, tzinfo=UTC)
                    - datetime(2026, 5, 8, 9, tzinfo=UTC)).total_seconds() * 1000)
    assert [(c.clock.id, c.outcome, c.due_ms, c.done_ms) for c in m.clocks] == [
        ("gdpr-33", "met", 90 * M + 72 * H, 41 * H),
        ("gdpr-34", "open at close", None, None),
        ("hipaa-404", "open at close", sixty_days, None),
        ("hipaa-406", "not applicable", None, None),
        ("hipaa-408", "open at close", sixty_days, None),
        ("hipaa-408-log", "open at close", year_log, None)]
    assert view.aware_ms == 90 * M
    assert [e.seq for e in view.entries] == list(range(1, 10))

    # ---- the after-action report
    report = aa.report(ws, "EX-1")
    assert report["banner"] == report["banner_end"] == ex.BANNER == (
        "EXERCISE — EXERCISE — EXERCISE")
    assert list(report) == ["banner", "exercise", "metrics", "objectives",
                            "improvement_plan", "log", "banner_end"]
    assert report["exercise"] == {
        "id": "EX-1", "title": view.title, "status": "closed", "playbook": LEAK,
        "playbook_title": "Personal or health data leaking through a model",
        "scenario": f"{LEAK}.yaml", "starts_at": "2026-05-08T09:00:00.000Z", "speed": 600,
        "started_at": "2026-11-26T09:10:00.000Z", "closed_at": "2026-11-26T09:33:18.000Z",
        "clock": "T+50:00:00",
        "final": True}
    assert report["metrics"] == m.as_dict() | {"clocks": [
        c | {"due_at": report["metrics"]["clocks"][n]["due_at"]}
        for n, c in enumerate(m.as_dict()["clocks"])]}
    assert report["metrics"]["clocks"][0]["due_at"] == "2026-05-11T10:30Z"  # scenario time
    assert report["metrics"]["time_to_detection_s"] == 5400.0
    assert [o["id"] for o in report["objectives"]] == ["O1", "O2", "O3", "O4", "O5"]
    assert all(o["rating"] is None and o["rating_meaning"] is None
               for o in report["objectives"])
    assert [(r["at"], r["kind"], r["inject"]) for r in report["log"]] == [
        ("T+30:00", "action", "I1"), ("T+1:30:00", "aware", "I2"),
        ("T+2:40:00", "decision", "I3"), ("T+2:40:00", "note", None),
        ("T+4:40:00", "escalation", "I4"), ("T+17:00:00", "action", "I5"),
        ("T+23:00:00", "decision", "I7"), ("T+41:00:00", "notification", "I8"),
        ("T+2:00:00", "decision", None)]  # in the order logged; back-dated last
    assert report["log"][2]["containment"] is True and report["log"][2]["step"] == 2
    assert report["log"][6]["clock"] == "hipaa-406"
    assert report["improvement_plan"] == []

    summary = xs.list_exercises(ws)
    assert [s.as_dict() for s in summary] == [
        {"id": "EX-1", "title": view.title, "playbook": LEAK, "status": "closed",
         "clock": "T+50:00:00", "entries": 9, "created_at": "2026-11-26T09:00:00.000Z",
         "closed_at": "2026-11-26T09:33:18.000Z"}]
    intact(ws)


# ------------------------------------------------------------------ after action
def test_rating_objectives(ws: Store, clk: ManualClock) -> None:
    ref = run_short(ws, clk)
    seq = audit.head_seq(ws)
    first = aa.rate_objective(ws, ref, "O1", "p", strengths="Quick reproduction",
                              improvements="Record the time of awareness sooner")
    assert first == {"exercise": "EX-1", "objective": "O1", "rating": "P",
                     "strengths": "Quick reproduction",
                     "improvements": "Record the time of awareness sooner"}
    assert actions_since(ws, seq) == ["exercise.rate"]
    seq = audit.head_seq(ws)
    before = xs.get_exercise(ws, ref).ratings["O1"].rated_at
    clk.advance(60)  # a re-rating a minute later: its time is part of what is recorded
    change = aa.rate_objective(ws, ref, " O1 ", "S")  # texts None: kept
    assert change.pop("rated_at") == {"from": before,
                                      "to": xs.get_exercise(ws, ref).ratings["O1"].rated_at}
    assert change == {"rating": {"from": "P", "to": "S"}}
    assert actions_since(ws, seq) == ["exercise.rate"]
    intact(ws)  # the row as stored is the row the event recorded
    rating = xs.get_exercise(ws, ref).ratings["O1"]
    assert (rating.rating, rating.strengths, rating.improvements) == (
        "S", "Quick reproduction", "Record the time of awareness sooner")
    change = aa.rate_objective(ws, ref, "O1", "S", strengths="Quick reproduction on v2.4")
    assert change == {"strengths": {"from": "Quick reproduction",
                                    "to": "Quick reproduction on v2.4"}}
    with nothing_written(ws):  # the same rating again changes nothing
        assert aa.rate_objective(ws, ref, "O1", "S", strengths="Quick reproduction on v2.4") \
            == {}
    aa.rate_objective(ws, ref, "O3", "U")
    objectives = aa.report(ws, ref)["objectives"]
    assert [(o["id"], o["rating"], o["rating_meaning"]) for o in objectives] == [
        ("O1", "S", "Performed with some challenges"), ("O2", None, None),
        ("O3", "U", "Unable to be performed"), ("O4", None, None), ("O5", None, None)]
    assert objectives[0]["strengths"] == "Quick reproduction on v2.4"
    assert objectives[0]["areas_for_improvement"] == "Record the time of awareness sooner"
    intact(ws)


def test_improvements_linked_to_a_risk_and_a_control(ws: Store, clk: ManualClock) -> None:
    ref = run_short(ws, clk)
    system = add_system(ws, name="NoteDraft", tier="limited", operator_role="deployer",
                        tier_justification="Drafts summaries a clinician reviews.")
    risk = add_risk(ws, title="Memorised patient notes", system=system.id or 0,
                    category="privacy-leakage")
    assert risk.id == 1 and get_risk(ws, 1).risk.treatment == "open"

    seq = audit.head_seq(ws)
    item = aa.add_improvement(ws, ref, "Run canary checks on every release", "ML platform lead",
                              "2027-01-31", objective="O5", risk="RK-1", control="gov3")
    assert (item.id, item.label, item.risk_id, item.control_id, item.status, item.due_on) == (
        1, "IM-1", 1, "GOV-3", "open", "2027-01-31")
    assert actions_since(ws, seq) == ["improvement.add", "risk.treat"]
    treat = events_since(ws, seq)[1]
    assert (treat.entity, treat.entity_id) == ("risk", "1")
    assert json.loads(treat.change) == {"treatment": {"from": "open", "to": "mitigate"}}
    assert get_risk(ws, "RK-1").risk.treatment == "mitigate"
    assert item.as_dict() == {"id": "IM-1", "exercise": "EX-1", "objective": "O5",
                              "action": "Run canary checks on every release",
                              "owner": "ML platform lead", "due": "2027-01-31",
                              "status": "open", "risk": "RK-1", "control": "GOV-3"}
    # both ways: the item names them; each lists the item
    assert [i.label for i in aa.improvements_for(ws, risk_id=1)] == ["IM-1"]
    assert [i.label for i in aa.improvements_for(ws, control_id="GOV-3")] == ["IM-1"]
    assert aa.improvements_for(ws, control_id="OPS-2") == []

    seq = audit.head_seq(ws)
    plain = aa.add_improvement(ws, ref, "Watch partner query volume", "SOC lead",
                               "2027-01-15")
    assert (plain.risk_id, plain.control_id) == (None, None)
    assert actions_since(ws, seq) == ["improvement.add"]
    assert aa.improvements_for(ws, risk_id=1) == [item]

    seq = audit.head_seq(ws)
    change = aa.link_improvement(ws, "IM-2", risk=1, control="OPS-2")
    assert change == {"risk_id": {"from": None, "to": 1},
                      "control_id": {"from": None, "to": "OPS-2"}}
    assert actions_since(ws, seq) == ["improvement.link"]  # the risk is already mitigated
    assert [i.label for i in aa.improvements_for(ws, risk_id=1)] == ["IM-1", "IM-2"]
    assert [i.label for i in aa.improvements_for(ws, control_id="OPS-2")] == ["IM-2"]
    with nothing_written(ws):
        assert aa.link_improvement(ws, "IM-2", risk="RK-1") == {}

    plan = aa.report(ws, ref)["improvement_plan"]
    assert [(p["id"], p["overdue"]) for p in plan] == [("IM-1", False), ("IM-2", False)]
    with nothing_written(ws), pytest.raises(InvalidInput) as info:  # due before today
        aa.add_improvement(ws, ref, "Too late", "SOC lead", "2026-01-15")
    assert str(info.value) == ("the due date 2026-01-15 is in the past; an improvement item "
                               "is due from today on")
    clk.advance(400 * 86400)  # a year on, IM-2 (due 2027-01-15) is overdue
    plan = aa.report(ws, ref)["improvement_plan"]
    assert [(p["id"], p["overdue"]) for p in plan] == [("IM-1", True), ("IM-2", True)]
    seq = audit.head_seq(ws)
    assert aa.set_improvement_status(ws, "IM-2", "Done") == {
        "status": {"from": "open", "to": "done"}}
    assert actions_since(ws, seq) == ["improvement.status"]
    plan = aa.report(ws, ref)["improvement_plan"]
    assert [(p["id"], p["status"], p["overdue"]) for p in plan] == [
        ("IM-1", "open", True), ("IM-2", "done", False)]  # done is never overdue
    refused(ws, InvalidInput, lambda: aa.set_improvement_status(ws, "IM-2", "closed"),
            "status 'closed' is not one of: open, done")
    refused(ws, NotFound, lambda: aa.set_improvement_status(ws, "IM-9", "done"),
            "no improvement item IM-9")
    refused(ws, InvalidInput, lambda: aa.link_improvement(ws, "IM-1"),
            "name a risk (RK-n) or a control (GOV-1…) to link the item to")
    intact(ws)


def test_linking_an_accepted_risk_leaves_its_treatment(ws: Store, clk: ManualClock) -> None:
    from app.services.risks import treat_risk

    ref = run_short(ws, clk)
    system = add_system(ws, name="NoteDraft", tier="limited", operator_role="deployer",
                        tier_justification="Drafts summaries a clinician reviews.")
    add_risk(ws, title="Memorised patient notes", system=system.id or 0,
             category="privacy-leakage")
    treat_risk(ws, "RK-1", "avoid")
    seq = audit.head_seq(ws)
    aa.add_improvement(ws, ref, "Stop offering the model to partners", "CTO", "2027-02-01",
                       risk="RK-1")
    assert actions_since(ws, seq) == ["improvement.add"]
    assert get_risk(ws, 1).risk.treatment == "avoid"


# ------------------------------------------------------------------ refusals
def test_log_refusals(ws: Store, clk: ManualClock) -> None:
    xs.create_exercise(ws, LEAK)
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "too early"),
            "exercise EX-1 has not started; start its clock first")
    refused(ws, InvalidInput, lambda: xs.close(ws, "EX-1"), "exercise EX-1 has not started")
    refused(ws, InvalidInput, lambda: xs.pause(ws, "EX-1"), "exercise EX-1 is not running")
    xs.start(ws, "EX-1")
    refused(ws, InvalidInput, lambda: xs.start(ws, "EX-1"), "exercise EX-1 is already running")
    clk.advance(10)  # T+10:00
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "ahead", at_ms=10 * M + 1),
            "an entry at T+10:00 would lie outside the exercise so far (T+00:00 to T+10:00)")
    with nothing_written(ws), pytest.raises(InvalidInput) as info:
        xs.log(ws, "EX-1", "note", "before the start", at_ms=-1000)
    assert "would lie outside the exercise so far (T+00:00 to T+10:00)" in str(info.value)
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "memo", "x"),
            "entry kind 'memo' is not one of: aware, decision, action, escalation, "
            "notification, note")
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "x", inject="I99"),
            "the scenario has no inject I99")
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "action", "x", step=10),
            "the playbook has steps 1 to 9, not 10")
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "action", "x", clock="gdpr-33"),
            "only a notification (meeting a clock) or a decision (that a clock does not "
            "apply) names a regulatory clock")
    refused(ws, InvalidInput,
            lambda: xs.log(ws, "EX-1", "notification", "x", clock="ai-act-73"),
            "clock ai-act-73 is not one of the playbook's: gdpr-33, gdpr-34, hipaa-404, "
            "hipaa-406, hipaa-408, hipaa-408-log")
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "x", containment=True),
            "only a decision can be the containment decision")
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "   "),
            "the entry is empty")
    exact = xs.log(ws, "EX-1", "note", "at the edge", at_ms=10 * M)
    assert exact.at_ms == 10 * M
    zero = xs.log(ws, "EX-1", "aware", "", at_ms=0)
    assert zero.at_ms == 0
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "aware", "again"),
            "the team already became aware; the clocks run from that moment")
    refused(ws, InvalidInput, lambda: xs.set_speed(ws, "EX-1", 0),
            "speed must be from 1 to 3600 (×1 is real time)")
    refused(ws, InvalidInput, lambda: xs.set_speed(ws, "EX-1", 4000),
            "speed must be from 1 to 3600 (×1 is real time)")
    refused(ws, NotFound, lambda: xs.log(ws, "EX-7", "note", "x"),
            "no exercise EX-7 in this workspace")
    closed = xs.close(ws, "EX-1")
    final = f"exercise EX-1 was closed at {closed.closed_at}; its log is final"
    refused(ws, InvalidInput, lambda: xs.log(ws, "EX-1", "note", "too late"), final)
    refused(ws, InvalidInput, lambda: xs.start(ws, "EX-1"), final)
    refused(ws, InvalidInput, lambda: xs.pause(ws, "EX-1"), final)
    refused(ws, InvalidInput, lambda: xs.set_speed(ws, "EX-1", 2), final)
    refused(ws, InvalidInput, lambda: xs.close(ws, "EX-1"), final)
    intact(ws)


def test_negative_at_ms_message_reads_as_an_offset(ws: Store, clk: ManualClock) -> None:
    xs.create_exercise(ws, LEAK)
    xs.start(ws, "EX-1")
    clk.advance(10)
    with pytest.raises(InvalidInput) as info:
        xs.log(ws, "EX-1", "note", "before the start", at_ms=-1000)
    assert "T+-" not in str(info.value), str(info.value)


def test_after_action_refusals(ws: Store, clk: ManualClock) -> None:
    xs.create_exercise(ws, LEAK)
    xs.start(ws, "EX-1")
    refused(ws, InvalidInput, lambda: aa.rate_objective(ws, "EX-1", "O1", "P"),
            "exercise EX-1 is running; close it before writing its after-action report")
    refused(ws, InvalidInput, lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01"),
            "exercise EX-1 is running; close it before writing its after-action report")
    clk.advance(5)
    xs.close(ws, "EX-1")
    system = add_system(ws, name="NoteDraft", tier="limited", operator_role="deployer",
                        tier_justification="Drafts summaries a clinician reviews.")
    add_risk(ws, title="Memorised patient notes", system=system.id or 0,
             category="privacy-leakage")
    refused(ws, NotFound, lambda: aa.rate_objective(ws, "EX-1", "O9", "P"),
            "exercise EX-1 has no objective 'O9' (objectives: O1, O2, O3, O4, O5)")
    for bad in ("X", "PS", "", "Pass"):
        refused(ws, InvalidInput, lambda bad=bad: aa.rate_objective(ws, "EX-1", "O1", bad),
                f"rating {bad!r} is not one of: P, S, M, U")
    refused(ws, InvalidInput,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "31/01/2027"),
            "the due date '31/01/2027' is not a date; write it as YYYY-MM-DD")
    refused(ws, InvalidInput,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-02-30"),
            "the due date '2027-02-30' is not a date; write it as YYYY-MM-DD")
    refused(ws, NotFound,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01", risk="RK-99"),
            "no risk RK-99 in the register")
    refused(ws, NotFound,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01", control="OPS-9"),
            "unknown control 'OPS-9'; controls are GOV-1, GOV-2, GOV-3, GOV-4, SEC-1, SEC-2, "
            "SEC-3, SEC-4, OPS-1, OPS-2, OPS-3, OPS-4")
    refused(ws, NotFound,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01", objective="O9"),
            "exercise EX-1 has no objective 'O9'")
    # an unknown risk refuses the whole item, the known control included
    refused(ws, NotFound,
            lambda: aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01", risk="RK-2",
                                       control="GOV-1"),
            "no risk RK-2 in the register")
    aa.add_improvement(ws, "EX-1", "x", "y", "2027-01-01")
    refused(ws, NotFound, lambda: aa.link_improvement(ws, "IM-1", risk="RK-5"),
            "no risk RK-5 in the register")
    refused(ws, NotFound, lambda: aa.link_improvement(ws, "IM-1", control="XYZ-1"),
            "unknown control 'XYZ-1'; controls are GOV-1, GOV-2, GOV-3, GOV-4, SEC-1, SEC-2, "
            "SEC-3, SEC-4, OPS-1, OPS-2, OPS-3, OPS-4")
    assert get_risk(ws, 1).risk.treatment == "open"
    intact(ws)


def test_an_improvement_needs_an_action_and_an_owner(ws: Store, clk: ManualClock) -> None:
    ref = run_short(ws, clk)
    refused(ws, InvalidInput, lambda: aa.add_improvement(ws, ref, " ", "y", "2027-01-01"),
            "the action is empty")
    refused(ws, InvalidInput, lambda: aa.add_improvement(ws, ref, "x", "", "2027-01-01"),
            "the owner is empty")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def shipped_text(name: str = LEAK) -> str:
    return scenario_file(name).read_text(encoding="utf-8")


def test_create_refusals(ws: Store, tmp_path: Path) -> None:
    refused(ws, InvalidInput, lambda: xs.create_exercise(ws, LEAK, scenario_file("model-drift")),
            "the scenario is written for playbook model-drift, not " + LEAK)
    assert not get_playbook(ws, LEAK).in_workspace  # the playbook was not brought in either
    bad = write(tmp_path / "bad.yaml", "title: [unclosed\nplaybook: x\n")
    with nothing_written(ws), pytest.raises(ImportFailed) as info:
        xs.create_exercise(ws, LEAK, bad)
    assert type(info.value) is ImportFailed
    assert str(info.value).startswith(f"{bad}: invalid YAML at line 2, column 9: ")
    negative = write(tmp_path / "neg.yaml",
                     shipped_text().replace("at: T+01:30:00", "at: T-01:30:00"))
    refused(ws, ImportFailed, lambda: xs.create_exercise(ws, LEAK, negative),
            f"{negative}: inject I2: offset T-01:30:00 is negative; offsets count from "
            "T+00:00")
    missing = write(tmp_path / "missing.yaml",
                    shipped_text().replace("module: M2", "module: M7", 1))
    refused(ws, ImportFailed, lambda: xs.create_exercise(ws, LEAK, missing),
            f"{missing}: inject I3 refers to module 'M7', which the scenario does not define "
            "(modules: M1, M2, M3, M4)")
    big = tmp_path / "big.yaml"
    big.write_bytes(shipped_text().encode() + b"#" * (5 * 1024 * 1024))
    refused(ws, ImportFailed, lambda: xs.create_exercise(ws, LEAK, big),
            f"{big} is too large to import (5 MB; the limit is 5 MB)")
    aliases = write(tmp_path / "alias.yaml",
                    shipped_text().replace("title: ", "title: &t ", 1)
                    .replace("description: >-", "description: *t\nx: >-", 1))
    with nothing_written(ws), pytest.raises(ImportFailed) as info:
        xs.create_exercise(ws, LEAK, aliases)
    assert "YAML aliases (*t) are not accepted in imported files" in str(info.value)
    assert str(info.value).startswith(f"{aliases}: line ")
    refused(ws, ImportFailed, lambda: xs.create_exercise(ws, LEAK, tmp_path / "none.yaml"),
            f"{tmp_path / 'none.yaml'} does not exist")
    refused(ws, NotFound, lambda: xs.create_exercise(ws, "no-such-playbook"),
            "no playbook 'no-such-playbook' (playbooks: ai-act-serious-incident, "
            f"{LEAK}, model-drift, model-tampering-or-theft, training-data-poisoning)")
    refused(ws, InvalidInput, lambda: xs.create_exercise(ws, LEAK, speed=0),
            "speed must be from 1 to 3600 (×1 is real time)")
    refused(ws, InvalidInput, lambda: xs.create_exercise(ws, LEAK, starts_at="soon"),
            "the start moment 'soon' is not a date and time like 2026-03-02T09:00:00Z")
    assert audit.event_count(ws) == snapshot(ws)[0] and xs.list_exercises(ws) == []
    intact(ws)


def test_create_with_options_and_a_parsed_scenario(ws: Store) -> None:
    view = xs.create_exercise(ws, "model-drift", scenario_file("model-drift"),
                              title="Q3 drift drill", speed=120,
                              starts_at="2026-03-02T10:00:00+01:00")
    assert (view.title, view.speed, view.starts_at, view.scenario_name) == (
        "Q3 drift drill", 120, "2026-03-02T09:00:00.000Z", "model-drift.yaml")
    scenario = xs.read_scenario(scenario_file("model-drift"))
    other = xs.create_exercise(ws, "model-drift", dataclasses.replace(scenario, playbook=""))
    assert other.scenario.injects == scenario.injects and other.scenario_name == ""
    assert xs.get_exercise(ws, "EX-2").scenario == dataclasses.replace(scenario, playbook="")


def test_a_scenario_beyond_100_hours_can_be_run(ws: Store, tmp_path: Path) -> None:
    text = shipped_text().replace("at: T+76:00:00", "at: T+100:00:00")
    view = xs.create_exercise(ws, LEAK, write(tmp_path / "long.yaml", text))
    assert view.scenario.injects[-1].at == 100 * 3600


# ------------------------------------------------------------------ playbooks
def test_list_playbooks_shows_the_shipped_ones_without_writing(ws: Store) -> None:
    with nothing_written(ws):
        views = list_playbooks(ws)
    assert sorted(v.playbook.id for v in views) == sorted(p.id for p in bundled_playbooks())
    assert len(views) == 5
    assert all((v.origin, v.in_workspace, v.exercises) == ("shipped", False, 0) for v in views)
    assert [v.playbook.title for v in views] == sorted((v.playbook.title for v in views),
                                                       key=str.casefold)
    with nothing_written(ws):
        assert get_playbook(ws, " Model-Drift ").playbook.id == "model-drift"
    refused(ws, NotFound, lambda: get_playbook(ws, "nope"),
            "no playbook 'nope' (playbooks: " + ", ".join(v.playbook.id for v in views) + ")")


def test_create_brings_the_playbook_in_once(ws: Store, clk: ManualClock) -> None:
    seq = audit.head_seq(ws)
    xs.create_exercise(ws, LEAK)
    added = events_since(ws, seq)[0]
    assert added.action == "playbook.add"
    assert json.loads(added.change) == {
        "slug": LEAK, "title": "Personal or health data leaking through a model",
        "origin": "shipped", "source": "", "steps": 9, "notes": []}
    seq = audit.head_seq(ws)
    xs.create_exercise(ws, LEAK)
    assert actions_since(ws, seq) == ["exercise.create"]
    view = get_playbook(ws, LEAK)
    assert (view.origin, view.in_workspace, view.exercises) == ("shipped", True, 2)
    assert [e.id for e in xs.list_exercises(ws)] == [2, 1]  # newest first
    intact(ws)


def edited(pb: Any) -> Any:
    """Drop "Restore the service", shorten "Stop the leak", add a step, swap two."""
    steps = {s.name: s for s in pb.steps}
    names = [s.name for s in pb.steps if s.name != "Restore the service"]
    names[2], names[3] = names[3], names[2]  # scope before preserving the evidence
    new = [dataclasses.replace(steps[n], minutes=15) if n == "Stop the leak" else steps[n]
           for n in names]
    new.insert(2, Step("Brief the clinicians", "Tell clinicians what to do meanwhile.",
                       "Model owner", "respond", 30, ("OPS-2",)))
    return dataclasses.replace(pb, steps=tuple(new))


def test_save_playbook_audits_the_step_change(ws: Store, clk: ManualClock) -> None:
    first = xs.create_exercise(ws, LEAK)
    original = get_playbook(ws, LEAK).playbook
    new = edited(original)
    seq = audit.head_seq(ws)
    change = save_playbook(ws, new)
    order = [s.name for s in new.steps]
    assert change == {"steps": {"added": ["Brief the clinicians"],
                                "removed": ["Restore the service"],
                                "changed": ["Stop the leak"], "order": order}}
    events = events_since(ws, seq)
    assert [e.action for e in events] == ["playbook.edit"]
    assert json.loads(events[0].change) == change
    assert get_playbook(ws, LEAK).playbook == new
    with nothing_written(ws):
        assert save_playbook(ws, new) == {}

    # the exercise keeps the version it was created with; a new one gets the edit
    kept = xs.get_exercise(ws, first.id).playbook
    assert kept == original and "Restore the service" in [s.name for s in kept.steps]
    later = xs.create_exercise(ws, LEAK)
    assert later.playbook == new
    assert xs.get_exercise(ws, later.id).playbook.steps[2].name == "Brief the clinicians"

    seq = audit.head_seq(ws)
    titled = dataclasses.replace(new, title="Data leaking through a model")
    change = save_playbook(ws, titled)
    assert change["title"] == {"from": "Personal or health data leaking through a model",
                               "to": "Data leaking through a model"}
    # NOTE: a title-only edit also records "steps": {} (noise, reported); no step change
    assert set(change) <= {"title", "steps"} and not change.get("steps")
    assert actions_since(ws, seq) == ["playbook.edit"]
    intact(ws)


def test_save_playbook_of_a_shipped_one_not_yet_in_the_workspace(ws: Store) -> None:
    pb = next(p for p in bundled_playbooks() if p.id == "model-drift")
    steps = tuple(reversed(pb.steps))
    seq = audit.head_seq(ws)
    change = save_playbook(ws, dataclasses.replace(pb, steps=steps))
    assert change == {"steps": {"order": [s.name for s in steps]}}
    assert actions_since(ws, seq) == ["playbook.add", "playbook.edit"]
    bad = dataclasses.replace(pb, steps=(dataclasses.replace(pb.steps[0], minutes=0),))
    with nothing_written(ws), pytest.raises(InvalidInput) as info:
        save_playbook(ws, bad)
    assert str(info.value).endswith("minutes must be a whole number from 1 to 525,600")
    intact(ws)


def playbook_yaml(path: Path, slug: str, title: str = "My drift playbook") -> Path:
    pb = next(p for p in bundled_playbooks() if p.id == "model-drift")
    data = pb.as_data() | {"id": slug, "title": title}
    return write(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_import_playbook(ws: Store, tmp_path: Path) -> None:
    path = playbook_yaml(tmp_path / "mine.yaml", "my-drift")
    seq = audit.head_seq(ws)
    view = import_playbook(ws, path)
    assert (view.playbook.id, view.origin, view.in_workspace, view.source_name) == (
        "my-drift", "yaml", True, "mine.yaml")
    events = events_since(ws, seq)
    assert [e.action for e in events] == ["playbook.add"]
    assert json.loads(events[0].change) == {
        "slug": "my-drift", "title": "My drift playbook", "origin": "yaml",
        "source": "mine.yaml", "steps": 9, "notes": []}
    assert get_playbook(ws, "my-drift").origin == "yaml"
    assert len(list_playbooks(ws)) == 6

    refused(ws, InvalidInput, lambda: import_playbook(ws, path),
            "playbook my-drift already exists; give --replace to replace it (exercises keep "
            "the version they were made with)")
    shipped_id = playbook_yaml(tmp_path / "drift.yaml", "model-drift")
    refused(ws, InvalidInput, lambda: import_playbook(ws, shipped_id),
            "playbook model-drift already exists; give --replace to replace it (exercises "
            "keep the version they were made with)")
    refused(ws, InvalidInput, lambda: xs.create_exercise(ws, "my-drift"),
            "playbook my-drift has no shipped scenario; give one with --scenario FILE")

    renamed = playbook_yaml(tmp_path / "mine-v2.yaml", "my-drift", "My drift playbook, v2")
    seq = audit.head_seq(ws)
    view = import_playbook(ws, renamed, replace=True)
    assert (view.playbook.title, view.source_name) == ("My drift playbook, v2", "mine-v2.yaml")
    events = events_since(ws, seq)
    assert [e.action for e in events] == ["playbook.replace"]
    change = json.loads(events[0].change)
    assert {k: change[k] for k in ("title", "source_name")} == {
        "title": {"from": "My drift playbook", "to": "My drift playbook, v2"},
        "source_name": {"from": "mine.yaml", "to": "mine-v2.yaml"}}
    assert set(change) <= {"title", "source_name", "steps"} and not change.get("steps")
    assert get_playbook(ws, "my-drift").playbook.title == "My drift playbook, v2"

    broken = write(tmp_path / "broken.yaml", "id: x\nsteps: [\n")
    with nothing_written(ws), pytest.raises(ImportFailed) as info:
        import_playbook(ws, broken)
    assert str(info.value).startswith(f"{broken}: invalid YAML at line 3")
    intact(ws)


def test_an_exercise_keeps_its_playbook_when_it_is_replaced(ws: Store, tmp_path: Path,
                                                            clk: ManualClock) -> None:
    scenario = xs.read_scenario(scenario_file("model-drift"))
    import_playbook(ws, playbook_yaml(tmp_path / "mine.yaml", "my-drift"))
    first = xs.create_exercise(ws, "my-drift", dataclasses.replace(scenario, playbook=""))
    import_playbook(ws, playbook_yaml(tmp_path / "v2.yaml", "my-drift", "Renamed"),
                    replace=True)
    assert xs.get_exercise(ws, first.id).playbook.title == "My drift playbook"
    assert get_playbook(ws, "my-drift").exercises == 1
    # the log checks steps and clocks against the exercise's own copy
    xs.start(ws, first.id)
    clk.advance(1)
    xs.log(ws, first.id, "aware", "")
    entry = xs.log(ws, first.id, "notification", "Reported", clock="ai-act-73", step=9)
    assert (entry.clock, entry.step) == ("ai-act-73", 9)
    intact(ws)
