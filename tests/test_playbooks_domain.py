"""Incident playbooks as data: the five shipped ML playbooks parse, cover the incident
response functions (Detect, Respond, Recover) and the notification decision (Govern), link
every step to a control and name only clocks that exist; a playbook survives `as_data()` and
back; bad playbook data is refused with one sentence that says where."""

from __future__ import annotations

import copy
import re
from importlib import resources
from typing import Any

import pytest
import yaml

from app.domain.controls import CONTROL_IDS
from app.domain.playbooks import (
    CSF_FUNCTIONS,
    SCENARIOS,
    Playbook,
    bundled_playbooks,
    parse_playbook,
)
from app.domain.reg_clocks import clock_by_id

SHIPPED = {
    "ai-act-serious-incident": ("serious-incident",
                                ("ai-act-73", "ai-act-73-widespread", "ai-act-73-death")),
    "data-leakage-through-a-model": ("data-leakage",
                                     ("gdpr-33", "gdpr-34", "hipaa-404", "hipaa-406",
                                      "hipaa-408", "hipaa-408-log")),
    "model-drift": ("drift", ("ai-act-73",)),
    "model-tampering-or-theft": ("model-tampering-or-theft", ("gdpr-33",)),
    "training-data-poisoning": ("data-poisoning", ("gdpr-33",)),
}


def shipped() -> dict[str, Playbook]:
    return {p.id: p for p in bundled_playbooks()}


def small() -> dict[str, Any]:
    """A minimal valid playbook to break one key at a time."""
    return {
        "id": "pb",
        "title": "A playbook",
        "scenario": "other",
        "severity": "high",
        "detection": ["an alert fires"],
        "steps": [
            {"name": "Triage", "description": "Look at it.", "owner": "On-call engineer",
             "function": "detect", "minutes": 30, "controls": ["OPS-2"]},
            {"name": "Contain", "description": "Stop it.", "owner": "On-call engineer",
             "function": "respond", "minutes": 60, "controls": ["SEC-4"]},
        ],
        "escalation": [{"role": "DPO", "contact": "dpo@example.org", "when": "personal data"}],
        "clocks": ["gdpr-33"],
    }


def refused(data: Any, message: str, where: str = "the playbook") -> None:
    with pytest.raises(ValueError) as caught:
        parse_playbook(data, where)
    assert str(caught.value) == message


# --- the shipped playbooks ----------------------------------------------------------------

def test_the_five_shipped_playbooks_are_the_file_stems() -> None:
    folder = resources.files("app.playbooks")
    stems = sorted(e.name.removesuffix(".yaml") for e in folder.iterdir()
                   if e.name.endswith(".yaml") and e.name != "clocks.yaml")
    assert stems == sorted(SHIPPED)
    assert [p.id for p in bundled_playbooks()] == stems


@pytest.mark.parametrize("pid", sorted(SHIPPED))
def test_a_shipped_playbook_is_complete(pid: str) -> None:
    p = shipped()[pid]
    scenario, clocks = SHIPPED[pid]
    assert p.scenario == scenario and p.scenario in SCENARIOS
    assert p.severity in ("high", "critical")
    assert p.title and p.description and "\n" not in p.title
    assert len(p.detection) >= 5
    assert 6 <= len(p.steps) <= 10
    functions = {s.function for s in p.steps}
    assert {"detect", "respond", "recover", "govern"} <= functions <= set(CSF_FUNCTIONS)
    # Detection comes first; recovery never before the first response step.
    order = [s.function for s in p.steps]
    assert order[0] == "detect"
    assert order.index("respond") < order.index("recover")
    # Every step exercises at least one control: no step is "documentation only".
    for s in p.steps:
        assert s.controls, f"{pid}: step {s.name!r} has no controls"
        assert set(s.controls) <= set(CONTROL_IDS)
        assert s.owner and s.description
        assert 1 <= s.minutes <= 7 * 24 * 60, f"{pid}: step {s.name!r} takes {s.minutes} min"
    # Incident response itself is exercised, with the controls the scenario hinges on.
    used = {c for s in p.steps for c in s.controls}
    assert {"SEC-4", "GOV-4", "GOV-1"} <= used
    assert 3 <= len(p.escalation) <= 4
    assert all(e.role and e.contact and e.when for e in p.escalation)
    assert p.clocks == clocks
    assert all(clock_by_id(c).id == c for c in p.clocks)
    assert p.roles == tuple(dict.fromkeys([s.owner for s in p.steps]
                                          + [e.role for e in p.escalation]))


def test_each_scenario_exercises_its_own_controls() -> None:
    used = {pid: {c for s in p.steps for c in s.controls} for pid, p in shipped().items()}
    assert "OPS-2" in used["model-drift"]
    assert {"SEC-2", "OPS-3"} <= used["training-data-poisoning"]
    assert {"SEC-2", "SEC-1"} <= used["model-tampering-or-theft"]
    assert "GOV-3" in used["data-leakage-through-a-model"]
    assert "GOV-4" in used["ai-act-serious-incident"]


def test_the_serious_incident_playbook_keeps_the_article_73_points() -> None:
    p = shipped()["ai-act-serious-incident"]
    text = " ".join([p.description, *(s.description for s in p.steps)]).lower()
    assert "incomplete" in text  # an initial incomplete report is allowed
    assert "before the authority has been told" in text  # no altering the system first
    assert all(f"{n} days" in text for n in (2, 10, 15))
    names = [s.name for s in p.steps]
    # The system state is frozen, and the report sent, before the system is corrected.
    assert (names.index("Freeze the system state") < names.index("Send the initial report")
            < names.index("Correct the system and return it to service"))


def test_the_shipped_files_are_block_style_without_flow_maps() -> None:
    folder = resources.files("app.playbooks")
    for pid in SHIPPED:
        text = folder.joinpath(f"{pid}.yaml").read_text(encoding="utf-8")
        assert not re.search(r"^\s*[\w-]+:\s*[{\[]", text, re.M), pid
        assert yaml.safe_load(text)["id"] == pid


@pytest.mark.parametrize("pid", sorted(SHIPPED))
def test_as_data_round_trips(pid: str) -> None:
    p = shipped()[pid]
    data = p.as_data()
    again = parse_playbook(copy.deepcopy(data))
    assert again == p and again.roles == p.roles
    assert again.as_data() == data
    # Through YAML text as well, as an exported playbook would travel.
    assert parse_playbook(yaml.safe_load(yaml.safe_dump(data, allow_unicode=True))) == p


def test_parse_normalises_names_and_removes_repeats() -> None:
    data = small()
    data["id"] = " PB "
    data["scenario"] = "Data Poisoning"
    data["severity"] = "HIGH"
    data["steps"][0]["function"] = "Detect"
    data["steps"][0]["controls"] = ["ops2", " OPS-2 ", "sec_4"]
    data["clocks"] = ["GDPR-33", "gdpr-33"]
    p = parse_playbook(data)
    assert (p.id, p.scenario, p.severity) == ("pb", "data-poisoning", "high")
    assert p.steps[0].function == "detect"
    assert p.steps[0].controls == ("OPS-2", "SEC-4")
    assert p.clocks == ("gdpr-33",)
    assert p.roles == ("On-call engineer", "DPO")


def test_escalation_and_clocks_are_optional() -> None:
    data = small()
    del data["escalation"], data["clocks"]
    p = parse_playbook(data)
    assert p.escalation == () and p.clocks == ()


# --- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [None, [], "id: pb", 3])
def test_refuses_what_is_not_a_mapping(data: Any) -> None:
    refused(data, "the playbook is not a mapping")
    refused(data, "x.yaml is not a mapping", where="x.yaml")


@pytest.mark.parametrize("bad", ["", "a", "bad_id", "-pb", "pb!", "p" * 61])
def test_refuses_a_bad_id(bad: Any) -> None:
    data = small()
    data["id"] = bad
    refused(data, f"the playbook: id {bad!r} must be 2–60 lowercase letters, digits or '-'")


def test_refuses_a_null_id() -> None:
    data = small()
    data["id"] = None
    refused(data, "the playbook: id None must be 2–60 lowercase letters, digits or '-'")


def test_refuses_a_missing_id() -> None:
    data = small()
    del data["id"]
    refused(data, "the playbook: id None must be 2–60 lowercase letters, digits or '-'")


@pytest.mark.parametrize("steps", [[], None, "Triage", {"name": "Triage"}])
def test_refuses_no_steps(steps: Any) -> None:
    data = small()
    data["steps"] = steps
    refused(data, "playbook pb has no steps")


def test_refuses_a_playbook_without_a_steps_key() -> None:
    data = small()
    del data["steps"]
    refused(data, "playbook pb has no steps")


@pytest.mark.parametrize("step", ["Contain", ["Contain"], None])
def test_refuses_a_step_that_is_not_a_mapping(step: Any) -> None:
    data = small()
    data["steps"][1] = step
    refused(data, "playbook pb: step 2 is not a mapping")


def test_refuses_unknown_playbook_keys() -> None:
    data = small()
    data["colour"] = "red"
    data["Owner"] = "me"
    refused(data, "the playbook has unknown keys: Owner, colour")


def test_refuses_unknown_step_keys() -> None:
    data = small()
    data["steps"][0]["notes"] = "x"
    refused(data, "playbook pb: step 1 has unknown keys: notes")


def test_refuses_unknown_escalation_keys() -> None:
    data = small()
    data["escalation"][0]["phone"] = "555"
    refused(data, "playbook pb: escalation 1 has unknown keys: phone")


def test_refuses_an_escalation_that_is_not_a_mapping() -> None:
    data = small()
    data["escalation"] = ["DPO"]
    refused(data, "playbook pb: escalation 1 is not a mapping")


def test_refuses_duplicate_step_names_whatever_their_case() -> None:
    data = small()
    data["steps"][1]["name"] = "TRIAGE"
    refused(data, "playbook pb: step 2 (TRIAGE) has the same name as an earlier step")


@pytest.mark.parametrize("minutes", [0, -5, "30", True, False, 525_601, 2.5, None])
def test_refuses_bad_minutes(minutes: Any) -> None:
    data = small()
    data["steps"][0]["minutes"] = minutes
    refused(data, "playbook pb: step 1 (Triage): minutes must be a whole number from 1 to "
                  "525,600")


def test_accepts_the_minute_bounds() -> None:
    data = small()
    data["steps"][0]["minutes"] = 1
    data["steps"][1]["minutes"] = 525_600
    assert [s.minutes for s in parse_playbook(data).steps] == [1, 525_600]


@pytest.mark.parametrize("function", ["contain", "", None, "eradicate"])
def test_refuses_a_bad_csf_function(function: Any) -> None:
    data = small()
    data["steps"][1]["function"] = function
    refused(data, f"playbook pb: step 2 (Contain): CSF function {function!r} is not one of: "
                  "govern, identify, protect, detect, respond, recover")


@pytest.mark.parametrize("control", ["OPS-9", "ISO-1", "ops"])
def test_refuses_a_bad_control_id(control: str) -> None:
    data = small()
    data["steps"][0]["controls"] = ["OPS-2", control]
    with pytest.raises(ValueError) as caught:
        parse_playbook(data)
    assert str(caught.value).startswith(f"unknown control {control!r}; controls are GOV-1")
    assert control in str(caught.value)


def test_refuses_controls_that_are_not_a_list() -> None:
    data = small()
    data["steps"][0]["controls"] = "OPS-2"
    refused(data, "playbook pb: step 1 (Triage): controls must be a list of control ids")


def test_refuses_an_unknown_clock() -> None:
    data = small()
    data["clocks"] = ["gdpr-33", "nis2-23"]
    with pytest.raises(ValueError) as caught:
        parse_playbook(data)
    assert str(caught.value).startswith("no regulatory clock 'nis2-23' (clocks: gdpr-33, ")


@pytest.mark.parametrize("detection", [[], None, "an alert fires"])
def test_refuses_no_detection_criteria(detection: Any) -> None:
    data = small()
    data["detection"] = detection
    refused(data, "playbook pb has no detection criteria")


def test_refuses_a_title_with_a_newline() -> None:
    data = small()
    data["title"] = "A playbook\nsecond line"
    refused(data, "playbook pb title must be a single line")


def test_refuses_an_empty_title_and_a_bad_step_text() -> None:
    data = small()
    data["title"] = "  "
    refused(data, "playbook pb title is empty")
    data = small()
    data["steps"][0]["owner"] = ""
    refused(data, "playbook pb: step 1 (Triage) owner is empty")
    data = small()
    data["steps"][0]["name"] = ["Triage"]
    refused(data, "playbook pb: step 1 name must be text")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("scenario", "outage", "playbook pb: scenario 'outage' is not one of: drift, "
                           "data-poisoning, model-tampering-or-theft, data-leakage, "
                           "serious-incident, other"),
    ("severity", "urgent", "playbook pb: severity 'urgent' is not one of: low, medium, high, "
                           "critical"),
])
def test_refuses_an_unknown_scenario_or_severity(key: str, value: str, message: str) -> None:
    data = small()
    data[key] = value
    refused(data, message)


def test_refuses_too_many_steps() -> None:
    data = small()
    step = data["steps"][0]
    data["steps"] = [{**step, "name": f"Step {n}"} for n in range(101)]
    refused(data, "playbook pb has 101 steps; at most 100")
