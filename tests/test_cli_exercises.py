"""Tabletop exercises through the real CLI (`app.cli.main`) on real temp workspaces: created
from the shipped scenario and from a file, run headless from the first inject to the
after-action report (whose banner stands at the top and the bottom), the audit chain intact
afterwards, and every kind of bad input refused with one `error:` line and nothing written.

Each command opens the workspace afresh with the real clock, so the metrics are checked for
presence and order here; their exact values are tested with a fake clock elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.domain.exercise import BANNER
from tests.conftest import make_store
from tests.helpers import CliResult, assert_error, unchanged

SHIPPED = Path(__file__).resolve().parent.parent / "app" / "playbooks" / "scenarios"

SCENARIO = """\
title: Drift drill
playbook: model-drift
starts_at: 2026-03-02T09:00:00Z
speed: 2
description: A short drill.
objectives:
  - id: O1
    text: Evaluate the triage of the alert
  - id: O2
    text: Evaluate the harm decision
modules:
  - id: M1
    title: Detection
  - id: M2
    title: Decision
injects:
  - id: I1
    module: M1
    at: T+00:00
    content: The drift monitor fires.
    audience: ML on-call engineer
    expected:
      - Open a ticket
    window: "30:00"
  - id: I2
    module: M1
    at: T+10:00
    content: Input counts are normal.
    audience: ML on-call engineer
  - id: I3
    module: M2
    at: T+20:00
    content: The model owner asks whether people are harmed.
    audience: Model owner
    window: "15:00"
"""


def ok(cli: Any, ws: Path, *args: str) -> CliResult:
    r: CliResult = cli("-w", str(ws), *args)
    assert r.code == 0, (args, r.out, r.err)
    return r


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    return json.loads(ok(cli, ws, *args, "--json").out)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ws(tmp_path: Path, cli: Any) -> Path:
    """A workspace with AI-1 and its risk RK-1 (treatment still open)."""
    path = tmp_path / "ws.db"
    make_store(path).close()
    ok(cli, path, "system", "add", "Credit scorer", "--tier", "high", "--tier-justification",
       "Annex III 5(b): creditworthiness", "--role", "provider", "--annex-iii", "5")
    ok(cli, path, "risk", "add", "--title", "Drift harms applicants", "--system", "AI-1",
       "--category", "data-drift")
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return write(tmp_path / "drill.yaml", SCENARIO)


@contextmanager
def nothing_written(cli: Any, ws: Path) -> Iterator[None]:
    """The workspace byte-identical, with the same audit log as `crosswalk log --json`."""
    before = run_json(cli, ws, "log", "-n", "1000")
    with unchanged(ws):
        yield
    assert run_json(cli, ws, "log", "-n", "1000") == before


# ------------------------------------------------------------------------------ create
@pytest.mark.skipif(not (SHIPPED / "model-drift.yaml").is_file(),
                    reason="no scenario shipped for model-drift")
def test_create_from_the_shipped_scenario(cli: Any, ws: Path) -> None:
    r = ok(cli, ws, "exercise", "create", "model-drift")
    lines = r.out.splitlines()
    assert lines[0] == BANNER
    assert lines[1].startswith('created EX-1 "') and "of playbook model-drift" in lines[1]
    d = run_json(cli, ws, "exercise", "show", "EX-1")
    assert d["banner"] == d["banner_end"] == BANNER
    assert (d["id"], d["status"], d["clock"]) == ("EX-1", "planned", "T+00:00")
    assert d["scenario_name"] == "model-drift.yaml" and d["playbook"]["id"] == "model-drift"
    assert d["modules"] and all(m["injects"] for m in d["modules"])
    # the shipped playbook was brought into the workspace by the exercise
    books = {b["id"]: b for b in run_json(cli, ws, "playbook", "list")}
    assert books["model-drift"]["in_workspace"] and books["model-drift"]["exercises"] == 1


def test_create_from_a_file_with_options_then_list_and_show(cli: Any, ws: Path,
                                                            scenario: Path) -> None:
    d = run_json(cli, ws, "exercise", "create", "model-drift", "--scenario", str(scenario),
                 "--title", "Q3 drill", "--speed", "60", "--starts-at", "2026-05-04T10:00:00Z")
    assert d["banner"] == BANNER and d["banner_end"] == BANNER
    assert (d["id"], d["title"], d["speed"], d["status"]) == ("EX-1", "Q3 drill", 60,
                                                                "planned")
    assert d["starts_at"].startswith("2026-05-04T10:00:00")
    assert d["scenario_name"] == "drill.yaml"
    assert [[i["id"] for i in m["injects"]] for m in d["modules"]] == [["I1", "I2"], ["I3"]]
    assert d["modules"][0]["injects"][0]["window"] == "30:00"
    assert d["next_inject"] == {"id": "I2", "at": "T+10:00"}  # I1 stands at T+00:00
    ok(cli, ws, "exercise", "create", "model-drift", "--scenario", str(scenario))
    rows = run_json(cli, ws, "exercise", "list")
    assert [(r["id"], r["title"], r["status"]) for r in rows] == [
        ("EX-2", "Drift drill", "planned"), ("EX-1", "Q3 drill", "planned")]
    text = ok(cli, ws, "exercise", "list").out.splitlines()
    assert text[0] == BANNER and text[1].split()[:3] == ["ID", "STATUS", "CLOCK"]
    show = ok(cli, ws, "exercise", "show", "ex-1").out
    assert show.splitlines()[0] == BANNER
    assert show.splitlines()[1] == "EX-1  Q3 drill"
    for heading in ("status    planned", "speed     ×60", "Modules and injects", "  M1  Detection",
                    "Log", "  no entries", "Clocks", "ai-act-73", "not started",
                    "Metrics (from the first inject)", "time to detection"):
        assert heading in show, heading


def test_an_empty_workspace_lists_no_exercises(cli: Any, ws: Path) -> None:
    assert run_json(cli, ws, "exercise", "list") == []
    out = ok(cli, ws, "exercise", "list").out.splitlines()
    assert out == [BANNER, "no exercises (create one with `crosswalk exercise create "
                           "PLAYBOOK`)"]


# ------------------------------------------------------------------------------ a whole run
def test_a_whole_exercise_driven_through_the_cli(cli: Any, ws: Path, scenario: Path,
                                                 tmp_path: Path) -> None:
    ok(cli, ws, "exercise", "create", "model-drift", "--scenario", str(scenario))
    out = ok(cli, ws, "exercise", "start", "EX-1").out.splitlines()
    assert out[0] == BANNER and out[1].startswith("EX-1 started at T+00:")
    r = ok(cli, ws, "exercise", "log", "EX-1", "aware", "--actor", "Ana")
    assert r.out.splitlines()[1].startswith("EX-1 #1 T+00:")
    assert r.out.splitlines()[1].endswith("aware: The team became aware of the incident")
    r = ok(cli, ws, "exercise", "log", "EX-1", "decision", "Fall back to the scorecard",
           "--containment", "--inject", "I1", "--step", "1")
    assert r.out.splitlines()[1].endswith("(inject I1, step 1, containment)")
    r = ok(cli, ws, "exercise", "log", "EX-1", "notification", "Told the market surveillance "
           "authority", "--clock", "ai-act-73", "--step", "2")
    assert r.out.splitlines()[1].endswith("(step 2, clock ai-act-73)")
    assert ok(cli, ws, "exercise", "pause", "EX-1").out.splitlines()[1].startswith(
        "EX-1 paused at T+")
    assert ok(cli, ws, "exercise", "resume", "EX-1", "--speed", "3").out.splitlines()[1] \
        .startswith("EX-1 resumed at T+")
    ok(cli, ws, "exercise", "log", "EX-1", "note", "Hot wash starts", "--actor", "Facilitator")
    show = ok(cli, ws, "exercise", "show", "EX-1").out
    assert show.splitlines()[0] == BANNER and "status    running" in show
    assert "  1  T+" in show and "inject I1, step 1, containment" in show
    assert ok(cli, ws, "exercise", "close", "EX-1").out.splitlines()[1].startswith(
        "EX-1 closed at T+")

    r = ok(cli, ws, "exercise", "rate", "EX-1", "O1", "p")
    assert r.out.splitlines() == [BANNER, "EX-1 objective O1: P (Performed without "
                                          "challenges)"]
    ok(cli, ws, "exercise", "rate", "EX-1", "O2", "M", "--strengths", "Clear roles",
       "--improvements", "The harm decision took too long")
    r = ok(cli, ws, "exercise", "improve", "EX-1", "Write the harm-decision runbook",
           "--owner", "Model risk manager", "--due", "2027-01-31", "--objective", "O2",
           "--risk", "RK-1", "--control", "ops-2")
    assert r.out.splitlines() == [
        BANNER, "added IM-1 to the improvement plan of EX-1: Write the harm-decision runbook "
                "(owner Model risk manager, due 2027-01-31; objective O2, risk RK-1, control "
                "OPS-2)"]
    r = ok(cli, ws, "exercise", "link", "IM-1", "--control", "GOV-1")
    assert r.out.splitlines() == [BANNER, "IM-1 linked to control GOV-1"]
    assert run_json(cli, ws, "risk", "show", "RK-1")["treatment"] == "mitigate"

    rep = run_json(cli, ws, "exercise", "report", "EX-1")
    assert rep["banner"] == rep["banner_end"] == BANNER
    x, m = rep["exercise"], rep["metrics"]
    assert (x["id"], x["status"], x["final"]) == ("EX-1", "closed", True)
    detect, decide = m["time_to_detection_s"], m["time_to_first_decision_s"]
    assert detect is not None and decide is not None
    assert 0 <= detect <= decide == m["time_to_containment_decision_s"]
    assert m["injects"][0]["id"] == "I1" and m["injects"][0]["outcome"] == "within"
    assert m["injects"][0]["response_s"] == decide
    assert [i["outcome"] for i in m["injects"][1:]] == ["not released", "not released"]
    assert [(k["id"], k["outcome"]) for k in m["clocks"]] == [("ai-act-73", "met")]
    assert m["clocks"][0]["due"] is not None and m["clocks"][0]["notified"] is not None
    assert (m["steps_completed"], m["steps_total"]) == ([1, 2], 9)
    assert [(o["id"], o["rating"], o["rating_meaning"]) for o in rep["objectives"]] == [
        ("O1", "P", "Performed without challenges"),
        ("O2", "M", "Performed with major challenges")]
    assert rep["objectives"][1]["strengths"] == "Clear roles"
    assert [(i["id"], i["risk"], i["control"], i["status"], i["overdue"])
            for i in rep["improvement_plan"]] == [("IM-1", "RK-1", "GOV-1", "open", False)]
    assert [e["kind"] for e in rep["log"]] == ["aware", "decision", "notification", "note"]
    assert rep["log"][0]["actor"] == "Ana" and rep["log"][1]["containment"] is True

    text = ok(cli, ws, "exercise", "report", "EX-1").out
    lines = text.splitlines()
    assert lines[0] == BANNER and lines[-1] == BANNER
    for part in ("# After-action report: EX-1 Drift drill", "## Metrics",
                 "- Time to detection: ", "## Objectives", "Performed with major challenges",
                 "## Strengths", "- O2: Clear roles", "## Areas for improvement",
                 "- O2: The harm decision took too long", "## Improvement plan",
                 "Write the harm-decision runbook", "## Regulatory clocks",
                 "Met: ai-act-73; missed: —", "- Regulatory clocks: 1 met, 0 missed, 1 in all",
                 "## Inject latency", "## Log", "Hot wash starts"):
        assert part in text, part

    out = tmp_path / "aar.md"
    r = ok(cli, ws, "exercise", "report", "EX-1", "-o", str(out))
    assert r.out.splitlines() == [BANNER, f"wrote {out}: after-action report of EX-1"]
    assert out.read_text(encoding="utf-8") == text
    r = ok(cli, ws, "exercise", "report", "EX-1", "-o", str(tmp_path), "--json")
    written = json.loads(r.out)
    assert written["banner"] == written["banner_end"] == BANNER
    assert written["written"] == str(tmp_path / "EX-1-after-action.json")
    assert json.loads((tmp_path / "EX-1-after-action.json").read_text()) == rep
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".crosswalk-")]
    ok(cli, ws, "exercise", "report", "EX-1", "-o", str(out), "--force")

    v = ok(cli, ws, "verify")
    assert v.out.startswith("audit chain intact")
    actions = [e["action"] for e in run_json(cli, ws, "log", "-n", "100")]
    for action in ("exercise.create", "exercise.run", "exercise.aware", "exercise.decision",
                   "exercise.notification", "exercise.pause", "exercise.close",
                   "exercise.rate", "improvement.add", "improvement.link", "risk.treat"):
        assert action in actions, action


# ------------------------------------------------------------------------------ bad input
@pytest.fixture
def states(cli: Any, ws: Path, scenario: Path) -> Path:
    """EX-1 planned, EX-2 running (aware logged), EX-3 closed."""
    for _ in range(3):
        ok(cli, ws, "exercise", "create", "model-drift", "--scenario", str(scenario))
    for ref in ("EX-2", "EX-3"):
        ok(cli, ws, "exercise", "start", ref)
    ok(cli, ws, "exercise", "log", "EX-2", "aware")
    ok(cli, ws, "exercise", "close", "EX-3")
    return ws


@pytest.mark.parametrize(("args", "message"), [
    (["exercise", "create", "nope"],
     "no playbook 'nope' (playbooks: ai-act-serious-incident, data-leakage-through-a-model, "
     "model-drift, model-tampering-or-theft, training-data-poisoning)"),
    (["exercise", "log", "EX-1", "note", "too early"],
     "exercise EX-1 has not started; start its clock first"),
    (["exercise", "log", "EX-3", "note", "too late"],
     "exercise EX-3 was closed at {closed}; its log is final"),
    (["exercise", "log", "EX-2", "panic", "oh no"],
     "entry kind 'panic' is not one of: aware, decision, action, escalation, notification, "
     "note"),
    (["exercise", "log", "EX-2", "action", "answered", "--inject", "I99"],
     "the scenario has no inject I99"),
    (["exercise", "log", "EX-2", "action", "done", "--step", "10"],
     "the playbook has steps 1 to 9, not 10"),
    (["exercise", "log", "EX-2", "notification", "told the DPA", "--clock", "gdpr-33"],
     "clock gdpr-33 is not one of the playbook's: ai-act-73"),
    (["exercise", "log", "EX-2", "aware"],
     "the team already became aware; the clocks run from that moment"),
    (["exercise", "rate", "EX-2", "O1", "P"],
     "exercise EX-2 is running; close it before writing its after-action report"),
    (["exercise", "rate", "EX-3", "O1", "X"], "rating 'X' is not one of: P, S, M, U"),
    (["exercise", "rate", "EX-3", "O9", "P"],
     "exercise EX-3 has no objective 'O9' (objectives: O1, O2)"),
    (["exercise", "improve", "EX-3", "Fix it", "--owner", "Dana", "--due", "31/01/2027"],
     "the due date '31/01/2027' is not a date; write it as YYYY-MM-DD"),
    (["exercise", "improve", "EX-3", "Fix it", "--owner", "Dana", "--due", "2027-01-31",
      "--risk", "RK-9"], "no risk RK-9 in the register"),
    (["exercise", "improve", "EX-3", "Fix it", "--owner", "Dana", "--due", "2027-01-31",
      "--control", "XYZ-9"], "unknown control 'XYZ-9'; controls are GOV-1, GOV-2, GOV-3, "
     "GOV-4, SEC-1, SEC-2, SEC-3, SEC-4, OPS-1, OPS-2, OPS-3, OPS-4"),
    (["exercise", "start", "EX-2"], "exercise EX-2 is already running"),
    (["exercise", "resume", "EX-1"],
     "exercise EX-1 has not started; start it with `crosswalk exercise start EX-1`"),
    (["exercise", "close", "EX-1"], "exercise EX-1 has not started"),
    (["exercise", "show", "EX-9"], "no exercise EX-9 in this workspace"),
    (["exercise", "link", "IM-4"], "name a risk (RK-n) or a control (GOV-1…) to link the item "
                                   "to"),
    (["exercise", "link", "IM-4", "--risk", "RK-1"], "no improvement item IM-4"),
])
def test_bad_input_is_one_line_and_writes_nothing(cli: Any, states: Path, args: list[str],
                                                  message: str) -> None:
    closed = run_json(cli, states, "exercise", "show", "EX-3")["closed_at"]
    with nothing_written(cli, states):
        r = cli("-w", str(states), *args)
    assert assert_error(r) == f"error: {message.format(closed=closed)}"


@pytest.mark.parametrize(("change", "message"), [
    (("at: T+10:00", "at: T-01:00"),
     "{path}: inject I2: offset T-01:00 is negative; offsets count from T+00:00"),
    (("at: T+20:00", "at: T+05:00"),
     "{path}: inject I3: offset T+05:00 comes before the previous inject's (T+10:00); list "
     "injects in time order"),
    (("module: M2", "module: M9"),
     "{path}: inject I3 refers to module 'M9', which the scenario does not define (modules: "
     "M1, M2)"),
    (("title: Drift drill", "title: [Drift drill"),
     "{path}: invalid YAML at line 2, column 9: did not find expected ',' or ']'"),
])
def test_a_bad_scenario_file_is_refused(cli: Any, ws: Path, tmp_path: Path,
                                        change: tuple[str, str], message: str) -> None:
    assert SCENARIO.count(change[0]) == 1
    path = write(tmp_path / "bad.yaml", SCENARIO.replace(*change))
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "exercise", "create", "model-drift", "--scenario", str(path))
    assert assert_error(r) == f"error: {message.format(path=path)}"
    assert run_json(cli, ws, "exercise", "list") == []


def test_a_scenario_for_another_playbook_and_bad_options(cli: Any, ws: Path,
                                                         scenario: Path) -> None:
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "exercise", "create", "training-data-poisoning", "--scenario",
                str(scenario))
        assert assert_error(r) == ("error: the scenario is written for playbook model-drift, "
                                   "not training-data-poisoning")
        r = cli("-w", str(ws), "exercise", "create", "model-drift", "--scenario",
                str(scenario), "--speed", "0")
        assert assert_error(r) == "error: speed must be from 1 to 3600 (×1 is real time)"
        r = cli("-w", str(ws), "exercise", "create", "model-drift", "--scenario",
                str(scenario), "--starts-at", "next monday")
        assert_error(r, "next monday")


def test_report_onto_an_existing_file_is_refused(cli: Any, states: Path,
                                                 tmp_path: Path) -> None:
    target = write(tmp_path / "aar.md", "mine\n")
    with nothing_written(cli, states), unchanged(target, workspace=False):
        r = cli("-w", str(states), "exercise", "report", "EX-3", "-o", str(target))
    assert assert_error(r) == f"error: {target} already exists; choose another name or pass " \
                              "--force"
    missing = tmp_path / "nowhere" / "aar.md"
    r = cli("-w", str(states), "exercise", "report", "EX-3", "-o", str(missing))
    assert assert_error(r) == (f"error: cannot write {missing}: folder {missing.parent} does "
                               "not exist")


def test_an_open_exercise_reports_as_not_final(cli: Any, states: Path) -> None:
    rep = run_json(cli, states, "exercise", "report", "EX-2")
    assert rep["exercise"]["final"] is False and rep["banner_end"] == BANNER
    assert rep["metrics"]["time_to_detection_s"] is not None
    assert [k["outcome"] for k in rep["metrics"]["clocks"]] == ["running"]
    text = ok(cli, states, "exercise", "report", "EX-2").out
    assert "- Not closed yet: every figure below may still change" in text
    show = run_json(cli, states, "exercise", "show", "EX-2")
    assert show["clocks"][0]["outcome"] == "running" and show["clocks"][0]["left_s"] > 0
