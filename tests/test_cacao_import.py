"""CACAO 2.0 import (`app.importers.cacao`): round trips, flattening, bad input, and agreement
of our own runtime check with the official OASIS schemas.

Every file is real (written to tmp_path and read back). The official schemas are read through
the harness of tests/test_cacao_export.py (never copied here); the agreement tests skip, saying
why, where ../shared/schemas/cacao is absent.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.domain.playbooks import bundled_playbooks, parse_playbook
from app.errors import ImportFailed
from app.exporters.cacao import check_references, dumps_cacao, playbook_to_cacao
from app.importers.cacao import CacaoInvalid, CacaoPlaybook, check_cacao, read_cacao
from tests.test_cacao_export import SCHEMAS, schema_errors, strict_errors

CREATED = "2026-03-01T09:00:00.000Z"
CORPUS = Path(os.environ.get("CROSSWALK_CORPUS",
                             Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"))
EXAMPLE = CORPUS / "oasis-tcs_cacao_basic-example-1.json"


def _id(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def _read(tmp_path: Path, doc: Any, name: str = "playbook.json") -> CacaoPlaybook:
    path = tmp_path / name
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return read_cacao(path.read_bytes(), path.name)


def _invalid(tmp_path: Path, doc: Any) -> CacaoInvalid:
    with pytest.raises(CacaoInvalid) as info:
        _read(tmp_path, doc)
    return info.value


# ------------------------------------------------------------------------------ documents
AGENT = _id("group", 900)
PAGER = _id("individual", 901)


def _action(n: int, name: str, nxt: str, *, function: str = "respond",
            minutes: int = 15, agent: str = AGENT) -> dict[str, Any]:
    return {"type": "action", "name": name, "description": f"{name}.",
            "commands": [{"type": "manual", "command": f"{name} now."}], "agent": agent,
            "step_variables": {
                "__csf_function__": {"type": "string", "value": function, "constant": True},
                "__expected_minutes__": {"type": "integer", "value": str(minutes),
                                         "constant": True}},
            "on_completion": nxt}


def branching() -> dict[str, Any]:
    """A hand-written playbook like the spec's examples: parallel, if, switch and while."""
    w: dict[str, Any] = {}
    a, b, c, d, e, f, g, h, z = (_id("action", n) for n in range(1, 10))
    par, cond, sw, loop = (_id("parallel", 20), _id("if-condition", 21),
                           _id("switch-condition", 22), _id("while-condition", 23))
    ends = {k: _id("end", 30 + n) for n, k in enumerate("bcdefghz")}
    w[_id("start", 0)] = {"type": "start", "on_completion": a}
    w[a] = _action(1, "Confirm the alert", par, function="detect")
    w[par] = {"type": "parallel", "name": "Contain", "next_steps": [b, c],
              "on_completion": cond}
    w[b] = _action(2, "Freeze the pipeline", ends["b"], function="protect")
    w[c] = _action(3, "Tell the model owner", ends["c"], agent=PAGER)
    w[cond] = {"type": "if-condition", "name": "Check scope", "condition": "scope == 'EU'",
               "on_true": d, "on_false": e, "on_completion": sw}
    w[d] = _action(4, "Notify the DPO", ends["d"], function="govern")
    w[e] = _action(5, "Log the decision", ends["e"], function="govern")
    w[sw] = {"type": "switch-condition", "name": "By severity", "switch": "__severity__:value",
             "cases": {"high": f, "default": g}, "on_completion": loop}
    w[f] = _action(6, "Page the CISO", ends["f"])
    w[g] = _action(7, "Open a ticket", ends["g"])
    w[loop] = {"type": "while-condition", "name": "Until fixed",
               "condition": "__open__:value = true", "on_true": h, "on_completion": z}
    w[h] = _action(8, "Review the fix", ends["h"], function="recover", minutes=90)
    w[z] = _action(9, "Close the incident", ends["z"], function="recover")
    for end in ends.values():
        w[end] = {"type": "end"}
    return {
        "type": "playbook", "spec_version": "cacao-2.0", "id": _id("playbook", 100),
        "name": "Model incident triage",
        "description": "Triage an ML incident.\n\nDetection criteria:\n- An alert fires",
        "playbook_types": ["investigation"], "severity": 80,
        "labels": ["drift", "crosswalk-id:triage"],
        "created_by": _id("identity", 101), "created": CREATED, "modified": CREATED,
        "playbook_variables": {"__severity__": {"type": "string", "value": "high"},
                               "__open__": {"type": "bool", "value": "true"}},
        "workflow_start": _id("start", 0), "workflow": w,
        "agent_definitions": {
            AGENT: {"type": "group", "name": "ML on-call engineer"},
            PAGER: {"type": "individual", "name": "Incident manager",
                    "contact": {"email": {"work": "im@example.org"}}}}}


def minimal() -> dict[str, Any]:
    """Start → one action → end, nothing Crosswalk-specific."""
    a, end = _id("action", 1), _id("end", 2)
    return {"type": "playbook", "spec_version": "cacao-2.0", "id": _id("playbook", 3),
            "name": "Rotate keys", "created_by": _id("identity", 4), "created": CREATED,
            "modified": CREATED, "workflow_start": _id("start", 0),
            "workflow": {_id("start", 0): {"type": "start", "on_completion": a},
                         a: {"type": "action", "name": "Rotate",
                             "commands": [{"type": "manual", "command": "Rotate the keys"}],
                             "agent": AGENT, "timeout": 125_000, "on_completion": end},
                         end: {"type": "end"}},
            "agent_definitions": {AGENT: {"type": "group", "name": "Security team"}}}


def exported(n: int = 0) -> dict[str, Any]:
    return playbook_to_cacao(bundled_playbooks()[n], created=CREATED)


def _chain(doc: dict[str, Any]) -> list[str]:
    out, sid = [], doc["workflow_start"]
    while sid is not None:
        out.append(sid)
        sid = doc["workflow"][sid].get("on_completion")
    return out


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("pb", bundled_playbooks(), ids=lambda pb: pb.id)
def test_shipped_playbooks_come_back_equal_with_no_notes(tmp_path: Path, pb: Any) -> None:
    text = dumps_cacao(playbook_to_cacao(pb, created=CREATED))
    got = _read(tmp_path, text.encode(), f"{pb.id}.json")
    assert got.playbook == pb
    assert got.playbook.roles == pb.roles
    assert got.notes == ()


def test_there_are_five_shipped_playbooks() -> None:
    assert len(bundled_playbooks()) == 5


def test_escalation_order_survives_the_agents_being_keyed_by_id(tmp_path: Path) -> None:
    pb = next(p for p in bundled_playbooks() if p.id == "model-tampering-or-theft")
    doc = playbook_to_cacao(pb, created=CREATED)
    assert [e.role for e in _read(tmp_path, doc).playbook.escalation] == [
        "Security operations analyst", "Chief information security officer",
        "Data protection officer", "Legal counsel"]
    assert any(line.startswith("Escalation 2: ") for a in doc["agent_definitions"].values()
               for line in a.get("description", "").splitlines())


# ------------------------------------------------------------------------------ flattening
def test_branches_flatten_in_the_documented_order_with_notes(tmp_path: Path) -> None:
    got = _read(tmp_path, branching())
    pb = got.playbook
    assert [s.name for s in pb.steps] == [
        "Confirm the alert", "Freeze the pipeline", "Tell the model owner", "Notify the DPO",
        "Log the decision", "Page the CISO", "Open a ticket", "Review the fix",
        "Close the incident"]
    assert got.notes == (
        "steps 'Freeze the pipeline' and 'Tell the model owner' ran in parallel in the CACAO "
        "file; they are listed one after another",
        "'Check scope' was an if-condition (scope == 'EU'); its true branch is listed first, "
        "then its false branch",
        "'By severity' was a switch-condition on __severity__:value; its case 'high' is "
        "listed, then its default",
        "'Until fixed' was a while-condition (__open__:value = true); its loop body is listed "
        "once",
        "agent 'Incident manager' has contact details but no escalation rule; it is listed as "
        "an escalation contact ('As the imported CACAO playbook calls for')")
    assert (pb.id, pb.title, pb.scenario, pb.severity) == (
        "triage", "Model incident triage", "drift", "critical")
    assert pb.description == "Triage an ML incident." and pb.detection == ("An alert fires",)
    assert [s.function for s in pb.steps][:3] == ["detect", "protect", "respond"]
    assert pb.steps[7].minutes == 90 and pb.steps[2].owner == "Incident manager"
    assert [(e.role, e.contact) for e in pb.escalation] == [
        ("Incident manager", "im@example.org (work)")]


def test_a_minimal_foreign_playbook_gets_defaults_and_says_so(tmp_path: Path) -> None:
    got = _read(tmp_path, minimal())
    pb = got.playbook
    assert (pb.id, pb.scenario, pb.severity, pb.detection) == (
        "rotate-keys", "other", "medium", ("As described in the imported CACAO playbook",))
    step = pb.steps[0]
    assert (step.name, step.description, step.owner, step.function, step.minutes) == (
        "Rotate", "Rotate the keys", "Security team", "respond", 3)  # 125 s → 3 minutes
    assert got.notes == (
        "no NIST CSF function (__csf_function__) for 'Rotate'; set to 'respond'",
        "expected minutes for 'Rotate' come from the step timeout",
        "the playbook has no crosswalk-id: label; its id 'rotate-keys' comes from its name",
        "no label names a Crosswalk scenario; the scenario is 'other'",
        "the playbook has no severity; it is set to 'medium'",
        "the description lists no detection criteria; the one criterion is 'As described in "
        "the imported CACAO playbook'")


def test_branches_that_meet_again_list_a_step_once(tmp_path: Path) -> None:
    doc = branching()
    w = doc["workflow"]
    shared, end = _id("action", 50), _id("end", 51)
    w[shared] = _action(50, "Write it up", end)
    w[end] = {"type": "end"}
    w[_id("action", 4)]["on_completion"] = shared
    w[_id("action", 5)]["on_completion"] = shared
    names = [s.name for s in _read(tmp_path, doc).playbook.steps]
    assert names.count("Write it up") == 1
    branches = [w[_id("action", n)]["name"] for n in (4, 5)]
    assert names.index("Write it up") > max(names.index(b) for b in branches)  # after both
    assert ("several branches lead to step 'Write it up' in the CACAO file; it is listed "
            "once, after them") in _read(tmp_path, doc).notes


def test_failure_paths_and_playbook_actions_and_unreachable_steps(tmp_path: Path) -> None:
    doc = minimal()
    w = doc["workflow"]
    a, end = _id("action", 1), _id("end", 2)
    fix, sub, orphan = _id("action", 60), _id("playbook-action", 61), _id("action", 62)
    del w[a]["on_completion"]
    w[a].update(on_success=end, on_failure=fix)
    w[fix] = _action(60, "Roll back", sub)
    w[sub] = {"type": "playbook-action", "name": "Run the recovery playbook",
              "playbook_id": _id("playbook", 63), "on_completion": end}
    w[orphan] = _action(62, "Never run", end)
    got = _read(tmp_path, doc)
    assert [s.name for s in got.playbook.steps] == [
        "Rotate", "Roll back", "Run the recovery playbook"]
    assert got.playbook.steps[2].description == (
        f"Runs another CACAO playbook: {_id('playbook', 63)}.")
    assert got.playbook.steps[2].owner == "Unassigned"
    for note in ("step 'Rotate' has an on_failure path; its steps ('Roll back' and 'Run the "
                 "recovery playbook') are listed after the main path",
                 "step 'Never run' cannot be reached from workflow_start and is left out",
                 f"step 'Run the recovery playbook' runs another CACAO playbook "
                 f"({_id('playbook', 63)}); it is listed as one step",
                 "no agent names an owner for 'Run the recovery playbook'; the owner is "
                 "'Unassigned'"):
        assert note in got.notes


def test_the_official_example_imports() -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"official CACAO example not found at {EXAMPLE} (set CROSSWALK_CORPUS)")
    got = read_cacao(EXAMPLE.read_bytes(), EXAMPLE.name)
    assert [(s.name, s.owner) for s in got.playbook.steps] == [
        ("Block MAC address", "Network Admin")]
    assert got.playbook.id == "bad-mac-address"


# ------------------------------------------------------------------------------ bad input
def test_a_wrong_spec_version_is_the_headline(tmp_path: Path) -> None:
    doc = exported()
    doc["spec_version"] = "cacao-1.0"
    err = _invalid(tmp_path, doc)
    assert err.errors == ("/spec_version: must be 'cacao-2.0', not 'cacao-1.0'",)
    assert str(err) == ("playbook.json is a CACAO playbook of spec_version 'cacao-1.0', not "
                        "cacao-2.0, so it cannot be imported (1 problem)")
    assert isinstance(err, ImportFailed)


def test_a_dangling_on_completion(tmp_path: Path) -> None:
    doc = exported()
    first = _chain(doc)[1]
    missing = _id("action", 77)
    doc["workflow"][first]["on_completion"] = missing
    err = _invalid(tmp_path, doc)
    assert err.errors == (
        f"/workflow/{first}/on_completion: names step {missing} which is not in the workflow",)
    assert str(err) == "playbook.json is not a valid CACAO 2.0 playbook (1 problem)"


def test_a_dangling_agent(tmp_path: Path) -> None:
    doc = minimal()
    a = _id("action", 1)
    doc["workflow"][a]["agent"] = _id("group", 78)
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}/agent: names agent {_id('group', 78)} which is not in "
        "agent_definitions",)


def test_a_step_cycle_names_the_steps(tmp_path: Path) -> None:
    doc = exported()
    _start, a, b, *_ = _chain(doc)
    doc["workflow"][b]["on_completion"] = a
    names = [doc["workflow"][s]["name"] for s in (a, b)]
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}: a step cycle: '{names[0]}' ({a}) → '{names[1]}' ({b}) → "
        f"'{names[0]}' ({a})",)


def test_missing_commands_and_an_unknown_step_type(tmp_path: Path) -> None:
    doc = minimal()
    a = _id("action", 1)
    del doc["workflow"][a]["commands"]
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}/commands: is required in an action step",)
    doc = minimal()
    doc["workflow"][a]["commands"] = []
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}/commands: must have at least 1 item",)
    doc = minimal()
    doc["workflow"][a]["commands"] = [{"type": "manual"}, {"type": "telepathy"}]
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}/commands/0/command: a manual command needs command or command_b64",
        f"/workflow/{a}/commands/1/type: 'telepathy' is not a CACAO command type (bash, "
        "caldera-cmd, elastic, http-api, jupyter, kestrel, manual, openc2-http, powershell, "
        "sigma, ssh, yara)")
    doc = minimal()
    doc["workflow"][a]["type"] = "goto"
    assert _invalid(tmp_path, doc).errors == (
        f"/workflow/{a}/type: 'goto' is not a CACAO workflow step type (start, end, action, "
        "playbook-action, parallel, if-condition, while-condition, switch-condition)",)


def test_every_problem_is_listed(tmp_path: Path) -> None:
    doc = minimal()
    a = _id("action", 1)
    del doc["name"]
    doc["id"] = "playbook--nope"
    doc["severity"] = 101
    doc["workflow"][a]["on_success"] = _id("end", 2)
    cond = _id("if-condition", 5)
    doc["workflow"][cond] = {"type": "if-condition", "on_completion": _id("end", 2)}
    doc["workflow"][_id("parallel", 6)] = {"type": "switch-condition", "switch": "x",
                                           "cases": {"a": _id("end", 2)}}
    err = _invalid(tmp_path, doc)
    assert err.errors == (
        "/name: is required in a playbook",
        "/id: must be an identifier like playbook--<uuid>, not 'playbook--nope'",
        "/severity: must be from 0 to 100, not 101",
        f"/workflow/{a}/on_completion: cannot be combined with on_success or on_failure",
        f"/workflow/{cond}/condition: is required in an if-condition step",
        f"/workflow/{cond}/on_true: is required in an if-condition step",
        f"/workflow/{_id('parallel', 6)}/type: must be 'parallel' as the step id says, not "
        "'switch-condition'")
    assert str(err) == "playbook.json is not a valid CACAO 2.0 playbook (7 problems)"


@pytest.mark.parametrize(("data", "message"), [
    (b'{\n  "type": "playbook",\n  "name": oops\n}', "playbook.json: invalid JSON at line 3, "
                                                     "column 11: Expecting value"),
    (b"[1, 2]", "playbook.json is not a CACAO playbook: the JSON is a list, not an object"),
    (b'"playbook"', "playbook.json is not a CACAO playbook: the JSON is a string, not an "
                    "object"),
    (b"", "playbook.json is empty"),
    (b"  \n", "playbook.json is empty"),
    (b'{"name": "caf\xe9"}', "playbook.json: line 1 is not valid UTF-8 text (byte 0xE9)"),
    (b"[" * 100_000 + b"]" * 100_000, "playbook.json: the JSON is nested too deeply"),
], ids=["syntax", "array", "string", "empty", "blank", "latin-1", "deep"])
def test_files_that_are_not_a_json_object(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ImportFailed) as info:
        _read(tmp_path, data)
    assert str(info.value) == message
    assert not isinstance(info.value, CacaoInvalid)


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.write(b'{"description": "')
        fh.write(b"x" * (20 * 1024 * 1024))
        fh.write(b'"}')
    with pytest.raises(ImportFailed) as info:
        read_cacao(path.read_bytes(), path.name)
    assert str(info.value) == ("huge.json is too large to import (20.0 MB; the limit for a "
                               "CACAO playbook is 20 MB)")


def test_hostile_strings_are_kept_as_text_or_refused_cleanly(tmp_path: Path) -> None:
    doc = minimal()
    a = _id("action", 1)
    doc["name"] = "[bold red]Rotate[/] keys <script>"
    doc["workflow"][a]["name"] = "[link=file:///etc/passwd]Rotate[/link]"
    pb = _read(tmp_path, doc).playbook
    assert pb.title == "[bold red]Rotate[/] keys <script>"
    assert pb.steps[0].name == "[link=file:///etc/passwd]Rotate[/link]"
    assert pb.id == "bold-red-rotate-keys-script"

    doc["workflow"][a]["name"] = "Rotate\x1b[2J\x07"
    with pytest.raises(ImportFailed) as info:
        _read(tmp_path, doc)
    assert str(info.value) == ("playbook.json: playbook bold-red-rotate-keys-script: step 1 "
                               "name contains a control character (U+001B)")
    assert not isinstance(info.value, CacaoInvalid)

    doc = minimal()  # hostile text in messages is escaped, never printed raw
    doc["spec_version"] = "cacao-2.0\u202e\x1b[31m"
    doc["workflow"]["action--\u202eevil"] = {"type": "end"}
    err = _invalid(tmp_path, doc)
    assert err.errors == (
        "/spec_version: must be 'cacao-2.0', not 'cacao-2.0\\u202e\\x1b[31m'",
        "/workflow/action--\\u202eevil: is not a workflow step id (a step type such as action, "
        "then --<uuid>)")
    assert all(c.isprintable() for e in err.errors for c in e)
    assert all(c.isprintable() for c in str(err))


def test_a_slug_label_that_is_not_a_slug_is_refused_by_our_rules(tmp_path: Path) -> None:
    doc = minimal()
    doc["labels"] = ["crosswalk-id:Not A Slug!"]
    with pytest.raises(ImportFailed, match=r"^playbook.json: playbook.json: id 'Not A Slug!' "
                                           r"must be 2–60 lowercase"):
        _read(tmp_path, doc)


# ------------------------------------------------------------------------------ the official schema
def small() -> dict[str, Any]:
    """A small export that still has every kind of Crosswalk data (controls, clocks,
    escalation contacts)."""
    pb = parse_playbook({
        "id": "small", "title": "Small", "scenario": "data-leakage", "severity": "low",
        "description": "Two steps.", "detection": ["A leak is reported"],
        "steps": [{"name": "Check", "description": "Check it.", "owner": "DPO",
                   "function": "detect", "minutes": 5, "controls": ["GOV-1", "SEC-2"]},
                  {"name": "Tell", "description": "Tell them.", "owner": "Counsel",
                   "function": "govern", "minutes": 10}],
        "escalation": [{"role": "DPO", "contact": "dpo@example.org", "when": "Always."}],
        "clocks": ["gdpr-33"]})
    return playbook_to_cacao(pb, created=CREATED)


def _valid_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = [(pb.id, playbook_to_cacao(pb, created=CREATED)) for pb in bundled_playbooks()]
    docs += [("small", small()), ("branching", branching()), ("minimal", minimal())]
    if EXAMPLE.is_file():
        docs.append(("official-example", json.loads(EXAMPLE.read_text(encoding="utf-8"))))
    return docs


def _needs_schemas() -> None:
    if not (SCHEMAS / "playbook.json").is_file():
        pytest.skip(f"official CACAO schemas not found at {SCHEMAS} "
                    "(../shared/schemas/cacao; set CROSSWALK_CACAO_SCHEMAS)")


def test_valid_documents_pass_the_schema_and_our_check() -> None:
    _needs_schemas()
    for name, doc in _valid_documents():
        assert schema_errors(doc) == [], name
        assert strict_errors(doc) == [], name
        assert check_references(doc) == [], name
        assert check_cacao(doc) == [], name


# Places whose content our check does not look into (mutations there are not about the
# properties we check): marking, authentication and extension definitions, the processing
# summary and signatures.
_NOT_OURS = ("playbook_processing_summary", "signatures", "extension_definitions",
             "data_marking_definitions", "authentication_info_definitions")


def _mutants(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of `doc` with one property removed or one value given a wrong type or value;
    a mutation is made once per shape (the first action step stands for the others)."""
    def at(root: Any, p: tuple[Any, ...]) -> Any:
        for part in p:
            root = root[part]
        return root

    done: set[tuple[Any, ...]] = set()

    def once(here: tuple[Any, ...], change: str) -> bool:
        shape = (*(str(x).split("--")[0] if "--" in str(x) else x for x in here), change)
        if shape in done:
            return False
        done.add(shape)
        return True

    def walk(p: tuple[Any, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
        node = at(doc, p)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            here = (*p, key)
            if isinstance(node, dict) and once(here, "del"):
                gone = copy.deepcopy(doc)
                del at(gone, p)[key]
                yield f"del {'/'.join(map(str, here))}", gone
            for wrong in _wrong_types(value):
                if once(here, repr(wrong)):
                    changed = copy.deepcopy(doc)
                    at(changed, p)[key] = wrong
                    yield f"{'/'.join(map(str, here))} = {wrong!r}", changed
            if isinstance(value, dict | list):
                yield from walk(here)

    yield from walk(())


def _wrong_types(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return ["yes"]
    if isinstance(value, int):
        return ["50", -1, 1000]
    if isinstance(value, str):
        return [7, "", "x" + value]
    if isinstance(value, list):
        return [{}, []]
    if isinstance(value, dict):
        return [[], "x"]
    return []


def test_we_reject_what_the_official_schema_rejects() -> None:
    _needs_schemas()
    checked = rejected = 0
    misses = []
    for name, base in _valid_documents():
        if name not in ("small", "branching", "official-example"):
            continue
        for what, doc in _mutants(base):
            if any(part in what for part in _NOT_OURS):
                continue
            checked += 1
            if strict_errors(doc):
                rejected += 1
                if not check_cacao(doc):
                    misses.append(f"{name}: {what}: {strict_errors(doc)[:2]}")
    assert misses == []
    assert rejected > 250, (checked, rejected)  # the mutations do reach the schema


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda d, w, a: d.update(spec_version="cacao-1.0"), "/spec_version"),
    (lambda d, w, a: d.update(type="bundle"), "/type"),
    (lambda d, w, a: d.pop("created_by"), "/created_by"),
    (lambda d, w, a: d.update(created="2026-13-01T00:00:00Z"), "/created"),
    (lambda d, w, a: d.update(playbook_extension={}), "/playbook_extension"),
    (lambda d, w, a: d.update(labels=[]), "/labels"),
    (lambda d, w, a: d.update(external_references=[{"url": "x"}]),
     "/external_references/0/name"),
    (lambda d, w, a: w[a].pop("agent"), "/agent"),
    (lambda d, w, a: w[a].update(commands=[{"command": "x"}]), "/commands/0/type"),
    (lambda d, w, a: w[a].update(x_crosswalk=1), "/x_crosswalk"),
    (lambda d, w, a: w[a]["step_variables"].update(minutes={"type": "integer"}),
     "/step_variables/minutes"),
    (lambda d, w, a: w[a].update(type="end"), "/type"),
    (lambda d, w, a: w[_id("parallel", 20)]["next_steps"].pop(), "/next_steps"),
    (lambda d, w, a: w[_id("switch-condition", 22)].pop("cases"), "/cases"),
    (lambda d, w, a: w[_id("while-condition", 23)].pop("condition"), "/condition"),
    (lambda d, w, a: w[_id("if-condition", 21)].pop("on_true"), "/on_true"),
    (lambda d, w, a: w[_id("start", 0)].update(on_failure=a), "/on_failure"),
    (lambda d, w, a: w[_id("end", 32)].update(on_completion=a), "/on_completion"),
    (lambda d, w, a: w.update({"step--" + str(uuid.UUID(int=5, version=4)): {"type": "end"}}),
     "/workflow/step--"),
    (lambda d, w, a: d["agent_definitions"][AGENT].pop("name"), "/name"),
    (lambda d, w, a: d["agent_definitions"].update({"robot--x": {"type": "group", "name": "R"}}),
     "/agent_definitions/robot--x"),
    (lambda d, w, a: d.update(severity=101), "/severity"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_named_mutations_are_rejected_by_both(mutate: Any, problem: str) -> None:
    _needs_schemas()
    doc = branching()
    mutate(doc, doc["workflow"], _id("action", 1))
    assert strict_errors(doc), "the mutation must be one the official schema rejects"
    assert any(problem in e.split(": ")[0] for e in check_cacao(doc)), check_cacao(doc)


@pytest.mark.parametrize("mutate", [
    lambda d, w: w[_id("action", 1)].update(on_completion=_id("action", 99)),
    lambda d, w: w[_id("action", 1)].update(agent=_id("group", 99)),
    lambda d, w: w[_id("action", 9)].update(on_completion=_id("action", 1)),
    lambda d, w: d.update(workflow_start=_id("action", 1)),
], ids=["dangling-step", "dangling-agent", "cycle", "start-not-a-start"])
def test_beyond_the_schema_we_reject_what_check_references_sees(mutate: Any) -> None:
    _needs_schemas()
    doc = branching()
    mutate(doc, doc["workflow"])
    assert strict_errors(doc) == []  # the schema cannot see these
    assert check_references(doc) and check_cacao(doc)
