"""CACAO 2.0 export (`app.exporters.cacao`): schema-valid, reference-clean, byte-stable.

The documents are validated against the official OASIS CACAO JSON schemas in
``../shared/schemas/cacao`` (or ``$CROSSWALK_CACAO_SCHEMAS``), read at test time and never copied
into the repository (the tests skip, saying why, where the folder is absent). Two harnesses:

- `schema_errors`, the standards note's approach: ``jsonschema.Draft201909Validator`` over a
  ``referencing.Registry`` holding every schema file under its ``$id``. Caveat found here:
  jsonschema picks the validator class from a resource's ``$schema`` whenever it follows a
  ``$ref`` (``Validator.evolve`` → ``validator_for``), and every file declares draft-07, so
  ``unevaluatedProperties`` is enforced only inside playbook.json itself (the playbook object,
  the ``workflow`` and ``agent_definitions`` keys…), not inside a step, an agent, a command,
  a variable or an external reference.
- `strict_errors`: the same registry with every resource read as 2019-09, so those
  ``unevaluatedProperties: false`` hold too. One in-memory change is needed: commands/
  command-data.json closes itself, and action.json's ``commands`` refer to it rather than to
  manual.json/ssh.json…, so read strictly it rejects ``command`` — in the official example too.
  We drop that one keyword (commands stay open; everything else is closed).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.domain.playbooks import Playbook, bundled_playbooks, parse_playbook
from app.exporters.cacao import (
    CROSSWALK_IDENTITY,
    CSF_VARIABLE,
    MINUTES_VARIABLE,
    SEVERITY_SCORES,
    check_references,
    dumps_cacao,
    playbook_to_cacao,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(os.environ.get("CROSSWALK_CACAO_SCHEMAS",
                              ROOT.parent / "shared" / "schemas" / "cacao"))
EXAMPLE = "oasis-tcs_cacao_basic-example-1.json"
CREATED = "2026-03-01T09:00:00.000Z"


# ------------------------------------------------------------------------------ harness
PLAYBOOK_SCHEMA = ("https://raw.githubusercontent.com/oasis-open/cacao-json-schemas/main/"
                   "schemas/playbook.json")
DRAFT_2019_09 = "https://json-schema.org/draft/2019-09/schema"


@cache
def _validator(strict: bool = False) -> Any:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency "
                                     "(pip install -e '.[test]')")
    from referencing import Registry
    from referencing.jsonschema import DRAFT201909

    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if strict:
            contents["$schema"] = DRAFT_2019_09
            if contents["$id"].endswith("/commands/command-data.json"):
                del contents["unevaluatedProperties"]
        resources.append((contents["$id"], DRAFT201909.create_resource(contents)))
    registry = Registry().with_resources(resources)
    root = registry.contents(PLAYBOOK_SCHEMA)
    jsonschema.Draft201909Validator.check_schema(root)
    return jsonschema.Draft201909Validator(root, registry=registry)


def schema_errors(doc: Any, *, strict: bool = False) -> list[str]:
    if not (SCHEMAS / "playbook.json").is_file():
        pytest.skip(f"official CACAO schemas not found at {SCHEMAS} "
                    "(../shared/schemas/cacao; set CROSSWALK_CACAO_SCHEMAS)")
    errors = sorted(_validator(strict).iter_errors(doc), key=lambda e: list(map(str, e.path)))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors]


def strict_errors(doc: Any) -> list[str]:
    return schema_errors(doc, strict=True)


def _playbook(**overrides: Any) -> Playbook:
    data: dict[str, Any] = {
        "id": "model-drift", "title": "Credit model drift", "scenario": "drift",
        "severity": "high", "description": "The scoring model's inputs drift.",
        "detection": ["PSI above 0.2 on two features", "Approval rate moves by 5 points"],
        "steps": [
            {"name": "Confirm the drift", "description": "Check the monitors and the data.",
             "owner": "ML on-call engineer", "function": "detect", "minutes": 30,
             "controls": ["GOV-1"]},
            {"name": "Decide on containment",
             "description": "Fall back to the previous model or to manual review.",
             "owner": "Model owner", "function": "respond", "minutes": 60},
            {"name": "Retrain and revalidate", "description": "Retrain on fresh data.",
             "owner": "ML on-call engineer", "function": "recover", "minutes": 480},
        ],
        "escalation": [{"role": "DPO", "contact": "dpo@example.org",
                        "when": "Personal data may be involved."}],
        "clocks": ["gdpr-33"],
    }
    data.update(overrides)
    return parse_playbook(data)


def _export(pb: Playbook | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("created", CREATED)
    return playbook_to_cacao(pb or _playbook(), **kwargs)


def _chain(doc: dict[str, Any]) -> list[str]:
    """The step ids from workflow_start along on_completion."""
    out, sid = [], doc["workflow_start"]
    while sid is not None and sid not in out:
        out.append(sid)
        sid = doc["workflow"][sid].get("on_completion")
    return out


def _actions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [doc["workflow"][s] for s in _chain(doc) if s.startswith("action--")]


# ------------------------------------------------------------------------------ the harness itself
def test_the_official_example_validates(corpus: Path) -> None:
    example = json.loads((corpus / EXAMPLE).read_text(encoding="utf-8"))
    assert schema_errors(example) == []
    assert check_references(example) == []


def test_the_harness_rejects_broken_copies(corpus: Path) -> None:
    example = json.loads((corpus / EXAMPLE).read_text(encoding="utf-8"))
    action = next(k for k in example["workflow"] if k.startswith("action--"))

    no_commands = copy.deepcopy(example)
    del no_commands["workflow"][action]["commands"]
    assert any("commands" in e for e in schema_errors(no_commands))

    no_agent = copy.deepcopy(example)
    del no_agent["workflow"][action]["agent"]
    assert any("agent" in e for e in schema_errors(no_agent))

    singular = copy.deepcopy(example)
    singular["playbook_extension"] = {}
    assert any("playbook_extension" in e for e in schema_errors(singular))

    wrong_version = copy.deepcopy(example)
    wrong_version["spec_version"] = "cacao-1.0"
    assert schema_errors(wrong_version)


def test_the_strict_harness_closes_steps_and_agents(corpus: Path) -> None:
    example = json.loads((corpus / EXAMPLE).read_text(encoding="utf-8"))
    assert strict_errors(example) == []
    action = next(k for k in example["workflow"] if k.startswith("action--"))
    agent = next(iter(example["agent_definitions"]))
    for section, key in (("workflow", action), ("agent_definitions", agent)):
        broken = copy.deepcopy(example)
        broken[section][key]["x_crosswalk"] = "extra"
        assert schema_errors(broken) == [], "the note's harness lets this through (see top)"
        assert any("x_crosswalk" in e for e in strict_errors(broken))
    broken = copy.deepcopy(example)
    del broken["workflow"][action]["commands"]
    broken["playbook_extension"] = {}
    errors = strict_errors(broken)
    assert any("commands" in e for e in errors)
    assert any("playbook_extension" in e for e in errors)


def test_a_custom_step_property_is_rejected_so_our_extras_go_into_step_variables() -> None:
    """Why the CSF function and minutes are step_variables: the schema closes a step."""
    doc = _export()
    assert strict_errors(doc) == []
    sid = _chain(doc)[1]
    doc["workflow"][sid]["csf_function"] = "detect"
    assert any("csf_function" in e for e in strict_errors(doc))
    doc = _export()
    doc["workflow"][sid]["step_variables"]["csf_function"] = {"type": "string", "value": "x"}
    assert any("csf_function" in e for e in strict_errors(doc)), \
        "a variable name without the __ … __ frame is rejected"
    doc = _export()
    doc["workflow"][sid]["external_references"][0]["controls"] = ["GOV-1"]
    assert any("controls" in e for e in strict_errors(doc))


# ------------------------------------------------------------------------------ export
@pytest.mark.parametrize("pb", [
    _playbook(),
    _playbook(escalation=[], clocks=[], description=""),
    _playbook(id="leak", scenario="data-leakage", severity="critical",
              clocks=["gdpr-33", "gdpr-34", "hipaa-404"],
              steps=[{"name": "Só um passo", "description": "Ação — «manual»\nem duas linhas",
                      "owner": "DPO", "function": "govern", "minutes": 1,
                      "controls": ["GOV-1"]}]),
], ids=["full", "bare", "one-step-unicode"])
def test_exports_validate_against_the_official_schemas(pb: Playbook) -> None:
    doc = _export(pb)
    assert schema_errors(doc) == []
    assert strict_errors(doc) == []
    assert check_references(doc) == []
    assert schema_errors(json.loads(dumps_cacao(doc))) == []


def test_the_document_has_the_cacao_shape() -> None:
    doc = _export()
    assert doc["type"] == "playbook"
    assert doc["spec_version"] == "cacao-2.0"
    assert doc["name"] == "Credit model drift"
    assert doc["created_by"] == CROSSWALK_IDENTITY
    assert doc["created"] == doc["modified"] == CREATED
    assert doc["labels"] == ["crosswalk", "drift", "crosswalk-id:model-drift"]
    assert doc["playbook_types"] == ["investigation", "mitigation", "notification"]
    assert "Detection criteria:\n- PSI above 0.2 on two features" in doc["description"]
    chain = _chain(doc)
    assert [s.split("--")[0] for s in chain] == ["start", "action", "action", "action", "end"]
    assert set(chain) == set(doc["workflow"])
    for action in _actions(doc):
        assert action["commands"] == [{"type": "manual", "command": action["description"]}]


def test_step_order_follows_the_playbook() -> None:
    pb = _playbook()
    assert [a["name"] for a in _actions(_export(pb))] == [s.name for s in pb.steps]
    steps = [pb.as_data()["steps"][i] for i in (2, 0, 1)]
    reordered = _playbook(steps=steps)
    assert [a["name"] for a in _actions(_export(reordered))] == [s["name"] for s in steps]


def test_exports_are_byte_stable_and_ids_are_stable() -> None:
    first, second = dumps_cacao(_export()), dumps_cacao(_export())
    assert first == second
    assert first.endswith("}\n")
    later = _export(created="2027-01-01T00:00:00Z")
    doc = _export()
    assert later["id"] == doc["id"] and later["workflow"] == doc["workflow"]
    assert later["agent_definitions"] == doc["agent_definitions"]
    # another playbook, other ids
    other = _export(_playbook(id="other-drift"))
    assert other["id"] != doc["id"]
    assert not set(other["workflow"]) & set(doc["workflow"])
    # CACAO: the playbook id may be a UUIDv5, step ids MUST be UUIDv4
    assert uuid.UUID(doc["id"].split("--")[1]).version == 5
    assert {uuid.UUID(s.split("--")[1]).version for s in doc["workflow"]} == {4}


def test_timestamps_are_written_to_the_millisecond_and_checked() -> None:
    doc = _export(created="2026-03-01T09:00:00Z", modified="2026-03-02T10:00:00.123456Z")
    assert (doc["created"], doc["modified"]) == ("2026-03-01T09:00:00.000Z",
                                                 "2026-03-02T10:00:00.123Z")
    with pytest.raises(ValueError, match="not a UTC timestamp"):
        _export(created="2026-03-01 09:00")
    with pytest.raises(ValueError, match="earlier than created"):
        _export(modified="2026-02-01T00:00:00Z")
    with pytest.raises(ValueError, match="STIX identity"):
        _export(created_by="crosswalk")


@pytest.mark.parametrize(("severity", "score"),
                         [("low", 25), ("medium", 50), ("high", 75), ("critical", 100)])
def test_severity_maps_to_a_number(severity: str, score: int) -> None:
    assert SEVERITY_SCORES[severity] == score
    assert _export(_playbook(severity=severity))["severity"] == score


def test_agent_definitions_cover_every_role() -> None:
    pb = _playbook()
    doc = _export(pb)
    agents = doc["agent_definitions"]
    assert sorted(a["name"] for a in agents.values()) == sorted(pb.roles)
    assert all(k.startswith("group--") and a["type"] == "group" for k, a in agents.items())
    for step, action in zip(pb.steps, _actions(doc), strict=True):
        assert agents[action["agent"]]["name"] == step.owner
    dpo = next(a for a in agents.values() if a["name"] == "DPO")
    assert dpo["contact"] == {"contact_details": "dpo@example.org"}
    assert "Personal data may be involved." in dpo["description"]


def test_csf_function_minutes_and_controls_travel_where_the_schema_allows() -> None:
    pb = _playbook()
    doc = _export(pb)
    for step, action in zip(pb.steps, _actions(doc), strict=True):
        variables = action["step_variables"]
        assert variables[CSF_VARIABLE]["value"] == step.function
        assert variables[MINUTES_VARIABLE] == {
            "type": "integer", "value": str(step.minutes), "constant": True,
            "description": "Expected duration in minutes"}
        refs = action.get("external_references", [])
        assert [r["external_id"] for r in refs] == list(step.controls)
    top = {r["external_id"]: r for r in doc["external_references"]}
    assert top["GOV-1"]["name"] == "Crosswalk control GOV-1"  # repeated at playbook level
    clock = top["gdpr-33"]
    assert clock["name"] == "Notify the supervisory authority of a personal data breach"
    assert clock["description"].startswith("GDPR Art. 33(1): 72 hours from becoming aware")
    bare = _export(_playbook(clocks=[], steps=[{**pb.as_data()["steps"][1]}]))
    assert "external_references" not in bare  # CACAO arrays have at least one item


# ------------------------------------------------------------------------------ references
def _ids(doc: dict[str, Any]) -> list[str]:
    return _chain(doc)


def test_a_dangling_on_completion_is_named() -> None:
    doc = _export()
    start, first = _ids(doc)[:2]
    doc["workflow"][first]["on_completion"] = "action--00000000-0000-4000-8000-000000000000"
    problems = check_references(doc)
    assert problems == [
        f"Step 'Confirm the drift' ({first}): on_completion names "
        "action--00000000-0000-4000-8000-000000000000, which is not a step of the workflow."]
    del doc["workflow"][start]
    assert any("workflow_start names" in p for p in check_references(doc))


def test_a_missing_agent_is_named() -> None:
    doc = _export()
    first = _ids(doc)[1]
    agent = doc["workflow"][first]["agent"]
    del doc["agent_definitions"][agent]
    assert check_references(doc) == [
        f"Step 'Confirm the drift' ({first}): agent {agent} is not in agent_definitions.",
        f"Step 'Retrain and revalidate' ({_ids(doc)[3]}): agent {agent} is not in "
        "agent_definitions."]
    del doc["workflow"][first]["agent"]
    assert f"Step 'Confirm the drift' ({first}) names no agent." in check_references(doc)


def test_a_cycle_is_one_sentence_naming_the_steps() -> None:
    doc = _export()
    _start, a, b, c, _end = _ids(doc)
    doc["workflow"][c]["on_completion"] = a
    assert check_references(doc) == [
        f"The workflow loops: 'Confirm the drift' ({a}) → 'Decide on containment' ({b}) → "
        f"'Retrain and revalidate' ({c}) → 'Confirm the drift' ({a})."]
    doc = _export()
    doc["workflow"][b]["on_completion"] = b
    assert check_references(doc) == [
        f"The workflow loops: step 'Decide on containment' ({b}) leads back to itself."]
    doc = _export()  # on_failure may retry an earlier step
    del doc["workflow"][c]["on_completion"]
    doc["workflow"][c].update(on_success=_end, on_failure=a)
    assert check_references(doc) == []


def test_branch_pointers_and_targets_are_checked() -> None:
    missing = "action--11111111-1111-4111-8111-111111111111"
    doc = _export()
    _start, a, b, _c, end = _ids(doc)
    doc["workflow"]["parallel--22222222-2222-4222-8222-222222222222"] = {
        "type": "parallel", "next_steps": [a, missing], "on_completion": end}
    doc["workflow"]["switch-condition--33333333-3333-4333-8333-333333333333"] = {
        "type": "switch-condition", "switch": "__x__:value", "cases": {"one": missing},
        "on_completion": end}
    doc["workflow"]["if-condition--44444444-4444-4444-8444-444444444444"] = {
        "type": "if-condition", "condition": "[x:y = 1]", "on_true": b, "on_false": missing,
        "on_completion": end}
    problems = check_references(doc)
    assert [p.split(": ")[1].split(" names")[0] for p in problems] == [
        "next_steps[1]", "cases['one']", "on_false"]
    doc = _export()
    doc["workflow"][a]["targets"] = ["security-category--66666666-6666-4666-8666-666666666666"]
    assert check_references(doc) == [
        f"Step 'Confirm the drift' ({a}): target "
        "security-category--66666666-6666-4666-8666-666666666666 is not in target_definitions."]


def test_check_references_survives_junk() -> None:
    assert check_references([]) == ["The document is not a JSON object."]
    assert check_references({"workflow": {}}) == ["The playbook has no workflow."]
    doc = _export()
    del doc["workflow_start"]
    doc["workflow"]["end--55555555-5555-4555-8555-555555555555"] = "not a step"
    assert check_references(doc) == [
        "The playbook has no workflow_start.",
        "Step end--55555555-5555-4555-8555-555555555555 is not an object."]


# ------------------------------------------------------------------------------ bundled, imports
def test_bundled_playbooks_export_and_validate() -> None:
    playbooks = bundled_playbooks()
    if not playbooks:
        pytest.skip("no default playbooks in app/playbooks/*.yaml yet")
    ids = set()
    for pb in playbooks:
        doc = _export(pb)
        assert schema_errors(doc) == [], pb.id
        assert strict_errors(doc) == [], pb.id
        assert check_references(doc) == [], pb.id
        assert [a["name"] for a in _actions(doc)] == [s.name for s in pb.steps]
        assert dumps_cacao(doc) == dumps_cacao(_export(pb))
        ids.add(doc["id"])
    assert len(ids) == len(playbooks)


def test_the_exporter_does_not_import_textual() -> None:
    code = "import sys, app.exporters.cacao; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "False"
