"""A playbook as an OASIS CACAO Security Playbooks v2.0 document, and our reference check.

`playbook_to_cacao` turns a `Playbook` into a CACAO 2.0 playbook: a ``start`` step, one
``action`` step per playbook step in order (a single ``manual`` command: the step's
description, run by the step's owner role), then an ``end`` step, chained with
``on_completion``. Every role (step owners and escalation roles) becomes a ``group`` agent;
an escalation role's contact goes into the agent's ``contact.contact_details`` and when to call
them into its description, one numbered line each ("Escalation 2: <when> (contact: <x>)", the
number being the entry's place in the escalation path). The regulatory clocks become playbook
``external_references`` (name: the clock's title; description: the legal basis and the period;
``external_id``: the clock id). The labels are ``crosswalk``, the scenario and
``crosswalk-id:<slug>``, so `app.importers.cacao` gets the same playbook back.

Where our extra data goes. The official schemas close every object with
``unevaluatedProperties: false``, so a custom property on a step (``csf_function`` …) is
rejected. What the schema does allow, and what we use:

- the NIST CSF 2.0 function and the expected minutes: constant ``step_variables``
  ``__csf_function__`` (type ``string``) and ``__expected_minutes__`` (type ``integer``; CACAO
  encodes a number as a string value);
- the linked controls: step ``external_references`` (name ``Crosswalk control GOV-1``,
  ``external_id`` ``GOV-1``), repeated at the playbook level as the spec requires of every
  external reference used inside a playbook;
- the detection criteria: appended to the playbook description ("Detection criteria:" and one
  ``- `` line each) — CACAO has no field for them.

Ids are stable: exporting the same playbook twice gives the same bytes (`dumps_cacao`). The
playbook id is a UUIDv5 of our namespace and the playbook's slug, so every version of a
playbook shares it (CACAO tells versions apart by ``modified``). Step and agent ids are
derived the same way (slug, kind, step or role name) but carry the version-4 bits: the spec
says step objects MUST use UUIDv4, and a hash-derived id with those bits is indistinguishable
from a random one while staying reproducible.

`check_references` is our own check beyond the schema: every step pointer and agent/target
reference resolves, and the workflow has no loop.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from app.domain.playbooks import Playbook

SPEC_VERSION = "cacao-2.0"
# Our own namespace (never the CACAO one, which is reserved for name+playbook_types ids).
NAMESPACE = uuid.UUID("0b8e3f4a-6c2d-5e71-9a4b-3d5c7e9f1a20")
CROSSWALK_IDENTITY = f"identity--{uuid.uuid5(NAMESPACE, 'crosswalk')}"
SEVERITY_SCORES = {"low": 25, "medium": 50, "high": 75, "critical": 100}
CSF_VARIABLE = "__csf_function__"
MINUTES_VARIABLE = "__expected_minutes__"
CONTROL_SOURCE = "Crosswalk control catalogue"
ID_LABEL = "crosswalk-id:"  # + the playbook's slug, so an import gets the same id back

# playbook-type-ov values per scenario, in the vocabulary's own order
_TYPE_ORDER = ("attack", "detection", "engagement", "investigation", "mitigation",
               "notification", "prevention", "remediation")
_SCENARIO_TYPES = {
    "drift": ("investigation", "mitigation"),
    "data-poisoning": ("investigation", "mitigation", "remediation"),
    "model-tampering-or-theft": ("investigation", "mitigation", "remediation"),
    "data-leakage": ("investigation", "mitigation", "notification"),
    "serious-incident": ("investigation", "mitigation", "notification"),
    "other": ("investigation",),
}
_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|\+00:00|-00:00)")

# step properties that name the next step(s) to run
POINTERS = ("on_completion", "on_success", "on_failure", "on_true", "on_false")
# the edges a loop may not run through: every forward edge (branches of if/while/switch/
# parallel MUST end in an end step), but not on_failure, which may retry an earlier step
_LOOP_EDGES = ("on_completion", "on_success", "on_true", "on_false")


# ------------------------------------------------------------------------------ export
def playbook_to_cacao(pb: Playbook, *, created: str, created_by: str = CROSSWALK_IDENTITY,
                      modified: str | None = None) -> dict[str, Any]:
    """The playbook as a CACAO 2.0 document (see the module doc). `created` and `modified`
    are UTC timestamps (``2026-01-02T03:04:05Z``, with or without a fraction; written with
    exactly three decimals as CACAO asks); `modified` defaults to `created`."""
    created = _timestamp(created, "created")
    modified = created if modified is None else _timestamp(modified, "modified")
    if modified < created:
        raise ValueError(f"modified ({modified}) is earlier than created ({created})")
    if not re.fullmatch(r"identity--[0-9a-fA-F-]{36}", created_by):
        raise ValueError(f"created_by {created_by!r} must be a STIX identity id "
                         "(identity--<uuid>)")

    roles = list(dict.fromkeys([s.owner for s in pb.steps] + [e.role for e in pb.escalation]))
    agent_ids = {role: f"group--{_step_uuid(pb.id, 'role', role)}" for role in roles}
    agents: dict[str, Any] = {}
    for role in roles:
        agent: dict[str, Any] = {"type": "group", "name": role}
        contacts = [e for e in pb.escalation if e.role == role]
        owns = [s.name for s in pb.steps if s.owner == role]
        lines = []
        if owns:
            lines.append("Owns: " + "; ".join(owns) + ".")
        # numbered: the escalation order lives nowhere else once the agents are keyed by id
        lines += [f"Escalation {n}: {e.when}" + (f" (contact: {e.contact})" if e.contact else "")
                  for n, e in enumerate(pb.escalation, start=1) if e.role == role]
        if lines:
            agent["description"] = "\n".join(lines)
        details = "; ".join(dict.fromkeys(e.contact for e in contacts if e.contact))
        if details:
            agent["contact"] = {"contact_details": details}
        agents[agent_ids[role]] = agent

    step_ids = []
    seen: set[str] = set()
    for step in pb.steps:
        key = step.name.casefold()
        if key in seen:
            raise ValueError(f"playbook {pb.id}: two steps are named {step.name!r}")
        seen.add(key)
        step_ids.append(f"action--{_step_uuid(pb.id, 'action', key)}")
    start_id = f"start--{_step_uuid(pb.id, 'start')}"
    end_id = f"end--{_step_uuid(pb.id, 'end')}"
    chain = [*step_ids, end_id]

    workflow: dict[str, Any] = {
        start_id: {"type": "start", "name": f"Start: {pb.title}",
                   "on_completion": chain[0]}}
    all_refs: list[dict[str, str]] = [_clock_reference(c) for c in pb.clocks]
    for n, (step, sid) in enumerate(zip(pb.steps, step_ids, strict=True)):
        action: dict[str, Any] = {
            "type": "action", "name": step.name, "description": step.description,
            "commands": [{"type": "manual", "command": step.description}],
            "agent": agent_ids[step.owner],
            "step_variables": {
                CSF_VARIABLE: {"type": "string", "value": step.function, "constant": True,
                               "description": "NIST CSF 2.0 function of this step"},
                MINUTES_VARIABLE: {"type": "integer", "value": str(step.minutes),
                                   "constant": True,
                                   "description": "Expected duration in minutes"}},
            "on_completion": chain[n + 1]}
        if step.controls:
            refs = [_control_reference(c) for c in step.controls]
            action["external_references"] = refs
            all_refs += [r for r in refs if r not in all_refs]
        workflow[sid] = action
    workflow[end_id] = {"type": "end", "name": f"End: {pb.title}"}

    doc: dict[str, Any] = {
        "type": "playbook", "spec_version": SPEC_VERSION,
        "id": f"playbook--{uuid.uuid5(NAMESPACE, 'playbook' + chr(31) + pb.id)}",
        "name": pb.title, "description": _description(pb),
        "playbook_types": playbook_types(pb),
        "severity": SEVERITY_SCORES[pb.severity],
        "labels": list(dict.fromkeys(["crosswalk", pb.scenario, f"{ID_LABEL}{pb.id}"])),
        "created_by": created_by, "created": created, "modified": modified,
        "workflow_start": start_id, "workflow": workflow, "agent_definitions": agents}
    if all_refs:
        doc["external_references"] = all_refs
    return doc


def playbook_types(pb: Playbook) -> list[str]:
    """The playbook-type-ov values for the playbook's scenario (plus notification whenever a
    regulatory clock applies)."""
    chosen = set(_SCENARIO_TYPES.get(pb.scenario, ("investigation",)))
    if pb.clocks:
        chosen.add("notification")
    return [t for t in _TYPE_ORDER if t in chosen]


def dumps_cacao(doc: dict[str, Any]) -> str:
    """The canonical text of a CACAO document: sorted keys, two-space indent, UTF-8 kept,
    a final newline."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _step_uuid(*parts: str) -> uuid.UUID:
    """A reproducible UUID with the version-4 bits (see the module doc)."""
    return uuid.UUID(bytes=uuid.uuid5(NAMESPACE, "\x1f".join(parts)).bytes, version=4)


def _timestamp(value: str, what: str) -> str:
    match = _TIMESTAMP.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{what} {value!r} is not a UTC timestamp like 2026-01-02T03:04:05Z")
    return f"{match[1]}.{(match[2] or '').ljust(3, '0')[:3]}Z"


def _description(pb: Playbook) -> str:
    parts = [pb.description.strip()] if pb.description.strip() else []
    if pb.detection:
        parts.append("Detection criteria:\n" + "\n".join(f"- {d}" for d in pb.detection))
    return "\n\n".join(parts) or pb.title


def _clock_reference(clock_id: str) -> dict[str, str]:
    from app.domain.reg_clocks import clock_by_id

    clock = clock_by_id(clock_id)
    return {"name": clock.title,
            "description": f"{clock.basis}: {clock.period} from becoming aware; "
                           f"to {clock.recipient}. Applies when: {clock.applies_when}",
            "source": clock.basis, "external_id": clock.id}


def _control_reference(control_id: str) -> dict[str, str]:
    return {"name": f"Crosswalk control {control_id}", "source": CONTROL_SOURCE,
            "external_id": control_id}


# ------------------------------------------------------------------------------ checks
def check_references(doc: Any) -> list[str]:
    """What the schema cannot see, one sentence each: ``workflow_start``,
    ``workflow_exception``, every ``on_completion``/``on_success``/``on_failure``/
    ``on_true``/``on_false``/``next_steps``/``cases`` target names a step of the workflow, every
    ``agent`` an entry of ``agent_definitions`` and every ``targets`` entry one of
    ``target_definitions``; and no loop runs through the forward pointers (all but
    ``on_failure``). Empty when all is well."""
    if not isinstance(doc, dict):
        return ["The document is not a JSON object."]
    workflow = doc.get("workflow")
    if not isinstance(workflow, dict) or not workflow:
        return ["The playbook has no workflow."]
    problems: list[str] = []
    agents = _keys(doc.get("agent_definitions"))
    targets = _keys(doc.get("target_definitions"))

    start = doc.get("workflow_start")
    if start is None:
        problems.append("The playbook has no workflow_start.")
    elif start not in workflow:
        problems.append(f"workflow_start names {start}, which is not a step of the workflow.")
    elif not isinstance(workflow[start], dict) or workflow[start].get("type") != "start":
        problems.append(f"workflow_start names {_label(start, workflow[start])}, "
                        "which is not a start step.")
    exception = doc.get("workflow_exception")
    if exception is not None and exception not in workflow:
        problems.append(f"workflow_exception names {exception}, which is not a step of the "
                        "workflow.")

    for sid, step in workflow.items():
        if not isinstance(step, dict):
            problems.append(f"Step {sid} is not an object.")
            continue
        label = _label(sid, step)
        for key, target in _pointers(step):
            if not isinstance(target, str) or target not in workflow:
                problems.append(f"Step {label}: {key} names {target}, which is not a step of "
                                "the workflow.")
        if step.get("type") == "action" and "agent" not in step:
            problems.append(f"Step {label} names no agent.")
        agent = step.get("agent")
        if agent is not None and (not isinstance(agent, str) or agent not in agents):
            problems.append(f"Step {label}: agent {agent} is not in agent_definitions.")
        step_targets = step.get("targets")
        for target in step_targets if isinstance(step_targets, list) else ():
            if not isinstance(target, str) or target not in targets:
                problems.append(f"Step {label}: target {target} is not in "
                                "target_definitions.")
    problems += [_loop_sentence(cycle, workflow) for cycle in _cycles(workflow)]
    return problems


def _keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


def _label(sid: str, step: Any) -> str:
    name = step.get("name") if isinstance(step, dict) else None
    return f"'{name}' ({sid})" if isinstance(name, str) and name else sid


def _pointers(step: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """(property, target) for every step a step points to, in a fixed order."""
    for key in POINTERS:
        if key in step:
            yield key, step[key]
    next_steps = step.get("next_steps")
    if isinstance(next_steps, list):
        for n, target in enumerate(next_steps):
            yield f"next_steps[{n}]", target
    elif next_steps is not None:
        yield "next_steps", next_steps
    cases = step.get("cases")
    if isinstance(cases, dict):
        for case, target in cases.items():
            yield f"cases[{case!r}]", target
    elif cases is not None:
        yield "cases", cases


def _edges(step: Any) -> list[str]:
    if not isinstance(step, dict):
        return []
    return [t for k, t in _pointers(step) if isinstance(t, str)
            and (k in _LOOP_EDGES or k.startswith(("next_steps", "cases")))]


def _cycles(workflow: dict[str, Any]) -> list[list[str]]:
    """Each loop once (as the steps in order, starting from the one met first), found by an
    iterative depth-first walk in workflow order."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for root in workflow:
        if root in state:
            continue
        path: list[str] = [root]
        state[root] = 1
        stack = [iter(_edges(workflow[root]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if nxt not in workflow:
                continue  # a dangling pointer: reported on its own
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                if frozenset(cycle) not in seen_sets:
                    seen_sets.add(frozenset(cycle))
                    found.append(cycle)
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(_edges(workflow[nxt])))
    return found


def _loop_sentence(cycle: list[str], workflow: dict[str, Any]) -> str:
    names = [_label(s, workflow[s]) for s in cycle]
    if len(cycle) == 1:
        return f"The workflow loops: step {names[0]} leads back to itself."
    return f"The workflow loops: {' → '.join([*names, names[0]])}."
