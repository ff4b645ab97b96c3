"""A CACAO 2.0 playbook (JSON) read back as one of our linear `Playbook`s.

Checking. The official OASIS CACAO JSON schemas are not shipped with Crosswalk (they are used
by the tests only, and jsonschema is a test dependency), so the runtime check is our own,
written from those schemas and the spec: the playbook's required properties and their formats,
every workflow step's type, id prefix and the properties its type requires (an action's
commands, an if-condition's condition and on_true, a switch's cases…), agents and targets, and
everything `app.exporters.cacao.check_references` sees (dangling step pointers, unknown agents
and targets, loops). Every problem is collected and reported at once in `CacaoInvalid.errors`
as ``<JSON pointer>: <what is wrong>``. The tests hold this check to agree with the official
schemas.

Flattening. A CACAO workflow is a graph; our playbook is a list. We walk it from
``workflow_start`` in workflow order: along ``on_completion``/``on_success``; a ``parallel``
step's ``next_steps`` branch by branch in listed order; an ``if-condition``'s true branch, then
its false branch; a ``switch-condition``'s cases in listed order, then ``default``; a
``while-condition``'s body once; each branch up to its ``end`` step, then on with the
condition step's own ``on_completion``. Steps only reached through ``on_failure`` or
``workflow_exception`` follow the main path. Each ``action`` becomes one step, a
``playbook-action`` one step saying which playbook it runs; start, end and condition steps are
not steps. A step reached twice is listed once. Every such flattening, and every value we had
to supply (a CSF function, minutes, an owner…), is a plain sentence in `CacaoPlaybook.notes`;
a playbook exported by Crosswalk comes back equal to the original, with no notes.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.playbooks import CSF_FUNCTIONS, SCENARIOS, Playbook, parse_playbook
from app.errors import ImportFailed
from app.exporters.cacao import (
    CSF_VARIABLE,
    ID_LABEL,
    MINUTES_VARIABLE,
    SPEC_VERSION,
    _cycles,
    _label,
    _pointers,
    check_references,
)

MAX_BYTES = 20 * 1024 * 1024

_UUID = (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-"
         r"[0-9a-fA-F]{12}")
_IDENTIFIER = re.compile(rf"[a-z][a-z0-9-]+[a-z0-9]--{_UUID}")
_TIMESTAMP = re.compile(r"[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):"
                        r"([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?Z")
_VARIABLE_NAME = re.compile(r"__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__")
_EXTENSION_ID = re.compile(rf"extension-definition--{_UUID}")

STEP_TYPES = ("start", "end", "action", "playbook-action", "parallel", "if-condition",
              "while-condition", "switch-condition")
_STEP_ID = re.compile(rf"({'|'.join(STEP_TYPES)})--{_UUID}")
_COMMON_STEP_KEYS = {"type", "name", "description", "external_references", "delay", "timeout",
                     "step_variables", "owner", "on_completion", "on_success", "on_failure",
                     "step_extensions"}
_STEP_KEYS: dict[str, set[str]] = {
    "start": set(), "end": set(),
    "action": {"commands", "agent", "targets", "in_args", "out_args"},
    "playbook-action": {"playbook_id", "playbook_version", "in_args", "out_args"},
    "parallel": {"next_steps"},
    "if-condition": {"condition", "on_true", "on_false"},
    "while-condition": {"condition", "on_true"},
    "switch-condition": {"switch", "cases"},
}
_STEP_REQUIRED: dict[str, tuple[str, ...]] = {
    "action": ("commands", "agent"), "playbook-action": ("playbook_id",),
    "parallel": ("next_steps",), "if-condition": ("condition", "on_true"),
    "while-condition": ("condition", "on_true"), "switch-condition": ("switch", "cases"),
}
# command type → the fields it needs: a tuple means "one of these"
_COMMAND_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    **dict.fromkeys(("manual", "bash", "caldera-cmd", "powershell", "ssh"),
                    (("command", "command_b64"),)),
    **dict.fromkeys(("elastic", "jupyter", "kestrel", "sigma", "yara"), (("command_b64",),)),
    "http-api": (("command",),),
    "openc2-http": (("command",), ("content_b64",)),
}
AGENT_TYPES = ("group", "http-api", "individual", "linux", "location", "net-address",
               "organization", "sector", "security-category", "ssh")
_AGENT_ID = re.compile(rf"({'|'.join(AGENT_TYPES)})--{_UUID}")
_AGENT_NEEDS = {"http-api": "address", "linux": "address", "net-address": "address",
                "ssh": "address", "sector": "sector", "security-category": "category"}
_PLAYBOOK_KEYS = (
    "type", "spec_version", "id", "name", "description", "playbook_types",
    "playbook_activities", "playbook_processing_summary", "created_by", "created", "modified",
    "revoked", "valid_from", "valid_until", "derived_from", "related_to", "priority", "severity",
    "impact", "industry_sectors", "labels", "external_references", "markings",
    "playbook_variables", "workflow_start", "workflow_exception", "workflow",
    "playbook_extensions", "authentication_info_definitions", "agent_definitions",
    "target_definitions", "extension_definitions", "data_marking_definitions", "signatures")
_REQUIRED = ("type", "spec_version", "id", "name", "created_by", "created", "modified",
             "workflow_start", "workflow")
_EXTERNAL_REFERENCE_KEYS = ("name", "description", "source", "url", "external_id",
                            "reference_id")
_VARIABLE_KEYS = ("type", "description", "value", "constant", "external")

DEFAULT_FUNCTION = "respond"
DEFAULT_MINUTES = 30
DEFAULT_OWNER = "Unassigned"
DEFAULT_DETECTION = "As described in the imported CACAO playbook"
DEFAULT_WHEN = "As the imported CACAO playbook calls for"
_DETECTION = re.compile(r"^Detection criteria:[ \t]*$", re.M)
_ESCALATION = re.compile(r"Escalation(?: (\d+))?: (.*?)(?: \(contact: (.*)\))?")


class CacaoInvalid(ImportFailed):
    """The file is JSON but not a valid CACAO 2.0 playbook. ``str()`` is one sentence;
    `errors` lists every problem as ``<JSON pointer>: <what is wrong>``."""

    def __init__(self, message: str, errors: Iterable[str]) -> None:
        super().__init__(message)
        self.errors: tuple[str, ...] = tuple(errors)


@dataclass(frozen=True, slots=True)
class CacaoPlaybook:
    """The playbook read, and what was changed to make it linear (one sentence each)."""

    playbook: Playbook
    notes: tuple[str, ...]


# ------------------------------------------------------------------------------ reading
def read_cacao(data: bytes, where: str) -> CacaoPlaybook:
    """Read a CACAO 2.0 JSON playbook; `where` (the file name) is used in messages. Raises
    `ImportFailed` for what is not a JSON object, `CacaoInvalid` for an invalid playbook."""
    doc = _load(data, where)
    errors = check_cacao(doc)
    if errors:
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        version = doc.get("spec_version")
        if doc.get("type") == "playbook" and version != SPEC_VERSION and version is not None:
            message = (f"{where} is a CACAO playbook of spec_version {_show(version)}, not "
                       f"cacao-2.0, so it cannot be imported ({count})")
        else:
            message = f"{where} is not a valid CACAO 2.0 playbook ({count})"
        raise CacaoInvalid(message, errors)
    data_, notes = _to_data(doc)
    if not data_["steps"]:
        raise ImportFailed(f"{where} has no action or playbook-action step to import")
    try:
        playbook = parse_playbook(data_, where)
    except ValueError as exc:
        raise ImportFailed(f"{where}: {exc}") from None
    return CacaoPlaybook(playbook, tuple(notes))


def _load(data: bytes, where: str) -> dict[str, Any]:
    from app.importers.source import decode_text, load_json

    if len(data) > MAX_BYTES:
        raise ImportFailed(f"{where} is too large to import ({len(data) / 1_048_576:,.1f} MB; "
                           f"the limit for a CACAO playbook is {MAX_BYTES // 1_048_576} MB)")
    if not data.strip():
        raise ImportFailed(f"{where} is empty")
    text, _ = decode_text(data, Path(where))
    doc = load_json(text, Path(where))
    if not isinstance(doc, dict):
        raise ImportFailed(f"{where} is not a CACAO playbook: the JSON is {_json_type(doc)}, "
                           "not an object")
    return doc


# ------------------------------------------------------------------------------ checking
def check_cacao(doc: dict[str, Any]) -> list[str]:
    """Every problem that makes `doc` an invalid CACAO 2.0 playbook, as
    ``<JSON pointer>: <what is wrong>``; empty when it is valid (see the module doc)."""
    c = _Checker()
    c.playbook(doc)
    return c.errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: tuple[Any, ...], message: str) -> None:
        pointer = "".join("/" + _plain(str(p).replace("~", "~0").replace("/", "~1"))
                          for p in path)
        self.errors.append(f"{pointer or '/'}: {message}")

    # --- generic shapes
    def string(self, value: Any, path: tuple[Any, ...]) -> bool:
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_json_type(value)}")
            return False
        return True

    def identifier(self, value: Any, path: tuple[Any, ...], prefix: str | None = None) -> None:
        if not self.string(value, path):
            return
        if not _IDENTIFIER.fullmatch(value):
            self.add(path, f"must be an identifier like {prefix or '<type>'}--<uuid>, "
                           f"not {_show(value)}")
        elif prefix and not value.startswith(prefix + "--"):
            self.add(path, f"must be a {prefix}--<uuid> identifier, not {_show(value)}")

    def timestamp(self, value: Any, path: tuple[Any, ...]) -> None:
        if self.string(value, path) and not _TIMESTAMP.fullmatch(value):
            self.add(path, f"must be a UTC timestamp like 2026-01-02T03:04:05.000Z, "
                           f"not {_show(value)}")

    def whole(self, value: Any, path: tuple[Any, ...], low: int | None = None,
              high: int | None = None) -> None:
        if not _is_whole(value):
            self.add(path, f"must be a whole number, not {_show(value)}")
        elif (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            self.add(path, f"must be {bounds}, not {_show(value)}")

    def array(self, value: Any, path: tuple[Any, ...], min_items: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.add(path, f"must be a list, not {_json_type(value)}")
            return []
        if len(value) < min_items:
            self.add(path, f"must have at least {min_items} item{'s' * (min_items > 1)}")
        return value

    def strings(self, value: Any, path: tuple[Any, ...], min_items: int = 1) -> None:
        for n, item in enumerate(self.array(value, path, min_items)):
            self.string(item, (*path, n))

    def obj(self, value: Any, path: tuple[Any, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(path, f"must be an object, not {_json_type(value)}")
            return None
        return value

    def unknown(self, value: dict[str, Any], allowed: Iterable[str], path: tuple[Any, ...],
                what: str) -> None:
        allowed = set(allowed)
        for key in value:
            if key not in allowed:
                self.add((*path, key), f"is not a property of {what}")

    def required(self, value: dict[str, Any], keys: Iterable[str], path: tuple[Any, ...],
                 what: str) -> None:
        for key in keys:
            if key not in value:
                self.add((*path, key), f"is required in {what}")

    # --- the playbook
    def playbook(self, doc: dict[str, Any]) -> None:
        if "spec_version" in doc and doc["spec_version"] != SPEC_VERSION:
            self.add(("spec_version",), f"must be {SPEC_VERSION!r}, not "
                                        f"{_show(doc['spec_version'])}")
        if "type" in doc and doc["type"] != "playbook":
            self.add(("type",), f"must be 'playbook', not {_show(doc['type'])}")
        self.required(doc, _REQUIRED, (), "a playbook")
        self.unknown(doc, _PLAYBOOK_KEYS, (), "a CACAO 2.0 playbook")
        for key in ("name", "description"):
            if key in doc:
                self.string(doc[key], (key,))
        if "id" in doc:
            self.identifier(doc["id"], ("id",), "playbook")
        if "created_by" in doc:
            self.identifier(doc["created_by"], ("created_by",), "identity")
        for key in ("created", "modified", "valid_from", "valid_until"):
            if key in doc:
                self.timestamp(doc[key], (key,))
        created, modified = _when(doc.get("created")), _when(doc.get("modified"))
        if created and modified and modified < created:
            self.add(("modified",), f"is earlier than created ({doc['created']})")
        if "revoked" in doc and not isinstance(doc["revoked"], bool):
            self.add(("revoked",), f"must be true or false, not {_show(doc['revoked'])}")
        for key in ("priority", "severity", "impact"):
            if key in doc:
                self.whole(doc[key], (key,), 0, 100)
        if "playbook_types" in doc:
            self.strings(doc["playbook_types"], ("playbook_types",), 0)
        for key in ("playbook_activities", "industry_sectors", "labels"):
            if key in doc:
                self.strings(doc[key], (key,))
        for key in ("derived_from", "related_to", "markings"):
            for n, item in enumerate(self.array(doc[key], (key,)) if key in doc else ()):
                self.identifier(item, (key, n))
        if "external_references" in doc:
            self.references(doc["external_references"], ("external_references",))
        if "playbook_variables" in doc:
            self.variables(doc["playbook_variables"], ("playbook_variables",))
        for key in ("workflow_start", "workflow_exception"):
            if key in doc:
                self.identifier(doc[key], (key,))
        for key in ("playbook_processing_summary", "authentication_info_definitions",
                    "extension_definitions", "data_marking_definitions"):
            if key in doc:
                self.obj(doc[key], (key,))
        if "playbook_extensions" in doc:
            self.extensions(doc["playbook_extensions"], ("playbook_extensions",))
        if "signatures" in doc:
            self.array(doc["signatures"], ("signatures",))
        for key in ("agent_definitions", "target_definitions"):
            if key in doc:
                self.agents(doc[key], key)
        workflow = self.obj(doc["workflow"], ("workflow",)) if "workflow" in doc else None
        if workflow is not None:
            if not workflow:
                self.add(("workflow",), "has no steps")
            for sid, step in workflow.items():
                self.step(sid, step)
            self.links(doc, workflow)

    def references(self, value: Any, path: tuple[Any, ...]) -> None:
        for n, ref in enumerate(self.array(value, path)):
            ref = self.obj(ref, (*path, n))
            if ref is None:
                continue
            self.required(ref, ("name",), (*path, n), "an external reference")
            self.unknown(ref, _EXTERNAL_REFERENCE_KEYS, (*path, n), "an external reference")
            for key in _EXTERNAL_REFERENCE_KEYS:
                if key in ref:
                    self.string(ref[key], (*path, n, key))

    def variables(self, value: Any, path: tuple[Any, ...]) -> None:
        variables = self.obj(value, path)
        for name, var in (variables or {}).items():
            at = (*path, name)
            if not _VARIABLE_NAME.fullmatch(name):
                self.add(at, "is not a variable name (__name__)")
            var = self.obj(var, at)
            if var is None:
                continue
            self.required(var, ("type",), at, "a variable")
            self.unknown(var, _VARIABLE_KEYS, at, "a variable")
            for key in ("type", "description"):
                if key in var:
                    self.string(var[key], (*at, key))
            if "value" in var and var["value"] is not None:
                self.string(var["value"], (*at, "value"))
            for key in ("constant", "external"):
                if key in var and not isinstance(var[key], bool):
                    self.add((*at, key), f"must be true or false, not {_show(var[key])}")

    def extensions(self, value: Any, path: tuple[Any, ...]) -> None:
        extensions = self.obj(value, path)
        if extensions is None:
            return
        if not extensions:
            self.add(path, "must name at least one extension")
        for key, ext in extensions.items():
            if not _EXTENSION_ID.fullmatch(key):
                self.add((*path, key), "is not an extension-definition--<uuid> identifier")
            self.obj(ext, (*path, key))

    def agents(self, value: Any, section: str) -> None:
        agents = self.obj(value, (section,))
        if agents is None:
            return
        if not agents:
            self.add((section,), "must define at least one agent or target")
        for aid, agent in agents.items():
            at = (section, aid)
            match = _AGENT_ID.fullmatch(aid)
            if match is None:
                self.add(at, f"is not an agent or target id (one of {', '.join(AGENT_TYPES)}, "
                             "then --<uuid>)")
            agent = self.obj(agent, at)
            if agent is None:
                continue
            self.required(agent, ("type", "name"), at, "an agent or target")
            for key in ("type", "name", "description"):
                if key in agent:
                    self.string(agent[key], (*at, key))
            kind = agent.get("type")
            if match is not None and isinstance(kind, str) and kind != match[1]:
                self.add((*at, "type"), f"must be {match[1]!r} as the id says, not "
                                        f"{_show(kind)}")
            need = _AGENT_NEEDS.get(kind) if isinstance(kind, str) else None
            if need and need not in agent:
                self.add((*at, need), f"is required in a {kind} agent or target")
            if "contact" in agent:
                self.contact(agent["contact"], (*at, "contact"))
            if "category" in agent:
                self.strings(agent["category"], (*at, "category"))
            if "address" in agent:
                self.obj(agent["address"], (*at, "address"))

    def contact(self, value: Any, path: tuple[Any, ...]) -> None:
        contact = self.obj(value, path)
        if contact is None:
            return
        self.unknown(contact, ("email", "phone", "contact_details"), path, "a contact")
        if "contact_details" in contact:
            self.string(contact["contact_details"], (*path, "contact_details"))
        for key in ("email", "phone"):
            for label, item in (self.obj(contact[key], (*path, key)) or {}).items() \
                    if key in contact else ():
                self.string(item, (*path, key, label))

    # --- workflow steps
    def step(self, sid: str, step: Any) -> None:
        at = ("workflow", sid)
        match = _STEP_ID.fullmatch(sid)
        if match is None:
            self.add(at, "is not a workflow step id (a step type such as action, then "
                         "--<uuid>)")
        step = self.obj(step, at)
        if step is None:
            return
        kind = step.get("type")
        if "type" not in step:
            self.add((*at, "type"), "is required in a workflow step")
            return
        if kind not in STEP_TYPES:
            self.add((*at, "type"), f"{_show(kind)} is not a CACAO workflow step type "
                                    f"({', '.join(STEP_TYPES)})")
            return
        if match is not None and match[1] != kind:
            self.add((*at, "type"), f"must be {match[1]!r} as the step id says, not {kind!r}")
        self.required(step, _STEP_REQUIRED.get(kind, ()), at, f"{_a(kind)} step")
        self.unknown(step, _COMMON_STEP_KEYS | _STEP_KEYS[kind], at, f"{_a(kind)} step")
        for key in ("name", "description"):
            if key in step:
                self.string(step[key], (*at, key))
        if "external_references" in step:
            self.references(step["external_references"], (*at, "external_references"))
        if "delay" in step:
            self.whole(step["delay"], (*at, "delay"), 1)
        if "timeout" in step:
            self.whole(step["timeout"], (*at, "timeout"), 0)
        if "step_variables" in step:
            self.variables(step["step_variables"], (*at, "step_variables"))
        if "owner" in step:
            self.identifier(step["owner"], (*at, "owner"), "identity")
        if "step_extensions" in step:
            self.extensions(step["step_extensions"], (*at, "step_extensions"))
        for key in ("on_completion", "on_success", "on_failure", "on_true", "on_false"):
            if key in step:
                self.identifier(step[key], (*at, key))
        if kind == "start":
            for key in ("on_success", "on_failure"):
                if key in step:
                    self.add((*at, key), "is not allowed on a start step")
        elif kind == "end":
            for key in ("on_completion", "on_success", "on_failure"):
                if key in step:
                    self.add((*at, key), "is not allowed on an end step")
        if "on_completion" in step and ("on_success" in step or "on_failure" in step):
            self.add((*at, "on_completion"), "cannot be combined with on_success or on_failure")
        for key in ("condition", "switch"):
            if key in step:
                self.string(step[key], (*at, key))
        for key in ("in_args", "out_args"):
            if key in step:
                self.strings(step[key], (*at, key))
        if kind == "action":
            if "commands" in step:
                self.commands(step["commands"], at)
            if "agent" in step:
                self.identifier(step["agent"], (*at, "agent"))
            for n, target in enumerate(self.array(step["targets"], (*at, "targets"))
                                       if "targets" in step else ()):
                self.identifier(target, (*at, "targets", n))
        elif kind == "playbook-action":
            if "playbook_id" in step:
                self.identifier(step["playbook_id"], (*at, "playbook_id"), "playbook")
            if "playbook_version" in step:
                self.timestamp(step["playbook_version"], (*at, "playbook_version"))
        elif kind == "parallel" and "next_steps" in step:
            for n, target in enumerate(self.array(step["next_steps"], (*at, "next_steps"), 2)):
                self.identifier(target, (*at, "next_steps", n))
        elif kind == "switch-condition" and "cases" in step:
            cases = self.obj(step["cases"], (*at, "cases"))
            if cases is not None and not cases:
                self.add((*at, "cases"), "has no cases")
            for case, target in (cases or {}).items():
                if self.string(target, (*at, "cases", case)) and not _STEP_ID.fullmatch(target):
                    self.add((*at, "cases", case), f"must be a workflow step id, not "
                                                   f"{_show(target)}")

    def commands(self, value: Any, at: tuple[Any, ...]) -> None:
        path = (*at, "commands")
        for n, command in enumerate(self.array(value, path)):
            command = self.obj(command, (*path, n))
            if command is None:
                continue
            kind = command.get("type")
            if "type" not in command:
                self.add((*path, n, "type"), "is required in a command")
                continue
            if kind not in _COMMAND_NEEDS:
                self.add((*path, n, "type"), f"{_show(kind)} is not a CACAO command type "
                                             f"({', '.join(sorted(_COMMAND_NEEDS))})")
                continue
            for need in _COMMAND_NEEDS[kind]:
                if not any(k in command for k in need):
                    self.add((*path, n, need[0]), f"is required in {_a(kind)} command" if
                             len(need) == 1 else f"{_a(kind)} command needs {' or '.join(need)}")
            for key in ("command", "command_b64", "content_b64", "version"):
                if key in command:
                    self.string(command[key], (*path, n, key))

    # --- references between steps, agents and targets (our own check, beyond the schema)
    def links(self, doc: dict[str, Any], workflow: dict[str, Any]) -> None:
        before = len(self.errors)
        agents = doc.get("agent_definitions")
        targets = doc.get("target_definitions")
        agents = agents if isinstance(agents, dict) else {}
        targets = targets if isinstance(targets, dict) else {}
        start = doc.get("workflow_start")
        if isinstance(start, str):
            if start not in workflow:
                self.add(("workflow_start",), f"names step {_plain(start)} which is not in "
                                              "the workflow")
            elif not isinstance(workflow[start], dict) or workflow[start].get("type") != "start":
                self.add(("workflow_start",), f"names {_plain(_label(start, workflow[start]))}, "
                                              "which is not a start step")
        exception = doc.get("workflow_exception")
        if isinstance(exception, str) and exception not in workflow:
            self.add(("workflow_exception",), f"names step {_plain(exception)} which is not in "
                                              "the workflow")
        for sid, step in workflow.items():
            if not isinstance(step, dict):
                continue
            at = ("workflow", sid)
            for key, target in _pointers(step):
                if isinstance(target, str) and target not in workflow:
                    self.add((*at, *_pointer_path(key)),
                             f"names step {_plain(target)} which is not in the workflow")
            agent = step.get("agent")
            if isinstance(agent, str) and agent not in agents:
                self.add((*at, "agent"), f"names agent {_plain(agent)} which is not in "
                                         "agent_definitions")
            step_targets = step.get("targets")
            for n, target in enumerate(step_targets if isinstance(step_targets, list) else ()):
                if isinstance(target, str) and target not in targets:
                    self.add((*at, "targets", n), f"names target {_plain(target)} which is not "
                                                  "in target_definitions")
        for cycle in _cycles(workflow):
            names = [_plain(_label(s, workflow[s])) for s in cycle]
            if len(cycle) == 1:
                self.add(("workflow", cycle[0]), f"a step cycle: {names[0]} leads back to "
                                                 "itself")
            else:
                self.add(("workflow", cycle[0]),
                         f"a step cycle: {' → '.join([*names, names[0]])}")
        if len(self.errors) == before:  # a safety net: nothing the shared check sees escapes
            self.errors += [f"/workflow: {_plain(p, 500)}" for p in check_references(doc)]


def _pointer_path(key: str) -> tuple[Any, ...]:
    """`_pointers`' key (``on_true``, ``next_steps[1]``, ``cases['x']``) as pointer parts."""
    import ast

    name, _, rest = key.partition("[")
    if not rest:
        return (name,)
    return (name, ast.literal_eval(rest[:-1]))


# ------------------------------------------------------------------------------ flattening
class _Flattener:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.workflow: dict[str, dict[str, Any]] = doc["workflow"]
        self.order: list[str] = []
        self.seen: set[str] = set()
        self.notes: list[str] = []
        self.failures: list[tuple[str, str]] = []
        # a step several forward paths lead to (where parallel or conditional branches join)
        # waits until every one of them has reached it, so it is listed after all of them
        self.waiting_for: dict[str, int] = {}
        for step in self.workflow.values():
            for target in _forward(step):
                self.waiting_for[target] = self.waiting_for.get(target, 0) + 1
        self.deferred: list[str] = []

    def name(self, sid: str) -> str:
        step = self.workflow.get(sid)
        name = step.get("name") if isinstance(step, dict) else None
        return _quote(name if isinstance(name, str) and name.strip() else sid)

    def walk(self, first: str) -> None:
        """Walk from `first` (see the module doc), appending action steps to `order`."""
        stack: list[str | None] = [first]
        while stack:
            sid = stack.pop()
            while sid is not None:
                if sid in self.seen:
                    if sid in self.order:
                        self.notes.append(f"step {self.name(sid)} is reached more than once in "
                                          "the CACAO file; it is listed once")
                    break
                self.waiting_for[sid] = self.waiting_for.get(sid, 0) - 1
                if self.waiting_for[sid] > 0:  # more branches lead here: list it after them
                    if sid not in self.deferred:
                        self.deferred.append(sid)
                    break
                if sid in self.deferred and self.workflow[sid]["type"] in (
                        "action", "playbook-action"):
                    self.notes.append(f"several branches lead to step {self.name(sid)} in the "
                                      "CACAO file; it is listed once, after them")
                self.seen.add(sid)
                step = self.workflow[sid]
                kind = step["type"]
                after = step.get("on_completion", step.get("on_success"))
                if "on_failure" in step:
                    self.failures.append((sid, step["on_failure"]))
                if kind in ("action", "playbook-action"):
                    self.order.append(sid)
                    sid = after
                    continue
                if kind == "end":
                    break
                branches = self.branches(sid, step)
                if not branches:
                    sid = after
                    continue
                stack.append(after)
                stack.extend(reversed(branches))
                break

    def branches(self, sid: str, step: dict[str, Any]) -> list[str]:
        """The branches of a parallel or condition step, in the order they are listed, with
        a note saying how."""
        kind, name = step["type"], self.name(sid)
        if kind == "parallel":
            targets = list(dict.fromkeys(step["next_steps"]))
            self.notes.append(f"steps {_and([self.name(t) for t in targets])} ran in parallel "
                              "in the CACAO file; they are listed one after another")
            return targets
        if kind == "if-condition":
            condition = _plain(step["condition"], 200)
            if "on_false" in step:
                self.notes.append(f"{name} was an if-condition ({condition}); its true branch "
                                  "is listed first, then its false branch")
                return [step["on_true"], step["on_false"]]
            self.notes.append(f"{name} was an if-condition ({condition}) with no false "
                              "branch; its true branch is listed as if the condition held")
            return [step["on_true"]]
        if kind == "while-condition":
            self.notes.append(f"{name} was a while-condition ({_plain(step['condition'], 200)});"
                              " its loop body is listed once")
            return [step["on_true"]]
        if kind == "switch-condition":
            cases = step["cases"]
            keys = [k for k in cases if k != "default"]
            if len(keys) > 1:
                listed = (f"its cases {_and([_quote(k) for k in keys])} are listed one after "
                          "another")
            else:
                listed = f"its case {_quote(keys[0])} is listed" if keys else ""
            if "default" in cases:
                listed = f"{listed}, then its default" if keys else "its default case is listed"
            self.notes.append(f"{name} was a switch-condition on {_plain(step['switch'], 200)}; "
                              f"{listed}")
            return [cases[k] for k in keys] + ([cases["default"]] if "default" in cases else [])
        return []

    def run(self) -> list[str]:
        self.walk(self.doc["workflow_start"])
        while pending := [s for s in self.deferred if s not in self.seen]:
            self.waiting_for[pending[0]] = 0  # its other paths are not on the main path
            self.walk(pending[0])
        done = 0
        while done < len(self.failures):  # walking a failure path may meet more of them
            sid, target = self.failures[done]
            done += 1
            before = len(self.order)
            self.walk(target)
            if len(self.order) > before:
                self.notes.append(
                    f"step {self.name(sid)} has an on_failure path; its steps "
                    f"({_and([self.name(s) for s in self.order[before:]])}) are listed after "
                    "the main path")
        exception = self.doc.get("workflow_exception")
        if isinstance(exception, str):
            before = len(self.order)
            self.walk(exception)
            if len(self.order) > before:
                self.notes.append(
                    f"the exception handler's steps "
                    f"({_and([self.name(s) for s in self.order[before:]])}) are listed last")
        left = [s for s, step in self.workflow.items()
                if step["type"] in ("action", "playbook-action") and s not in self.seen]
        if left:
            self.notes.append(f"step{'s' * (len(left) > 1)} {_and([self.name(s) for s in left])}"
                              f" cannot be reached from workflow_start and "
                              f"{'are' if len(left) > 1 else 'is'} left out")
        return self.order


def _forward(step: Any) -> list[str]:
    """The steps a step leads to on its forward paths (on_failure aside)."""
    if not isinstance(step, dict):
        return []
    out = [step[k] for k in ("on_completion", "on_success", "on_true", "on_false")
           if isinstance(step.get(k), str)]
    out += [t for t in step.get("next_steps") or [] if isinstance(t, str)]
    cases = step.get("cases")
    if isinstance(cases, dict):
        out += [t for t in cases.values() if isinstance(t, str)]
    return out


def _to_data(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The playbook as `parse_playbook` data, and the notes on what was changed."""
    flat = _Flattener(doc)
    order = flat.run()
    notes = flat.notes
    workflow = flat.workflow
    agents = doc.get("agent_definitions") or {}
    catalogue = _control_ids()

    steps: list[dict[str, Any]] = []
    unnamed, no_owner, no_function, from_timeout, no_minutes = [], [], [], [], []
    used: set[str] = set()
    for n, sid in enumerate(order, start=1):
        step = workflow[sid]
        name = step.get("name", "").strip() if isinstance(step.get("name"), str) else ""
        if not name:
            name = f"Step {n}"
            unnamed.append(name)
        base, k = name, 2
        while name.casefold() in used:
            name = f"{base} ({k})"
            k += 1
        if name != base:
            notes.append(f"two steps are named {_quote(base)}; the later one is called "
                         f"{_quote(name)}")
        used.add(name.casefold())
        agent = agents.get(step.get("agent")) if isinstance(step.get("agent"), str) else None
        owner = agent.get("name", "").strip() if isinstance(agent, dict) else ""
        if not owner:
            owner = DEFAULT_OWNER
            no_owner.append(name)
        variables = step.get("step_variables") or {}
        function = str(_variable(variables, CSF_VARIABLE) or "").strip().lower()
        if function not in CSF_FUNCTIONS:
            function = DEFAULT_FUNCTION
            no_function.append(name)
        minutes = _minutes(_variable(variables, MINUTES_VARIABLE))
        if minutes is None and _is_whole(step.get("timeout")) and step["timeout"] > 0:
            minutes = min(math.ceil(step["timeout"] / 60_000), 525_600)
            from_timeout.append(name)
        if minutes is None:
            minutes = DEFAULT_MINUTES
            no_minutes.append(name)
        controls = [ref["external_id"].strip().upper() for ref in
                    step.get("external_references") or ()
                    if isinstance(ref.get("external_id"), str)
                    and ref["external_id"].strip().upper() in catalogue]
        steps.append({"name": name, "description": _step_description(step, name),
                      "owner": owner, "function": function, "minutes": minutes,
                      "controls": list(dict.fromkeys(controls))})
        if step["type"] == "playbook-action":
            notes.append(f"step {_quote(name)} runs another CACAO playbook "
                         f"({step['playbook_id']}); it is listed as one step")
    if unnamed:
        notes.append(f"{_and([_quote(s) for s in unnamed])} had no name in the CACAO file")
    if no_owner:
        notes.append(f"no agent names an owner for {_and([_quote(s) for s in no_owner])}; "
                     f"the owner is {DEFAULT_OWNER!r}")
    if no_function:
        notes.append(f"no NIST CSF function ({CSF_VARIABLE}) for "
                     f"{_and([_quote(s) for s in no_function])}; set to {DEFAULT_FUNCTION!r}")
    if from_timeout:
        notes.append(f"expected minutes for {_and([_quote(s) for s in from_timeout])} come "
                     "from the step timeout")
    if no_minutes:
        notes.append(f"no expected minutes ({MINUTES_VARIABLE}) for "
                     f"{_and([_quote(s) for s in no_minutes])}; set to {DEFAULT_MINUTES}")

    labels = [x for x in doc.get("labels") or () if isinstance(x, str)]
    pid = next((x[len(ID_LABEL):] for x in labels if x.startswith(ID_LABEL)), None)
    if pid is None:
        pid = _slug(doc["name"])
        notes.append(f"the playbook has no {ID_LABEL} label; its id {pid!r} comes from its name")
    scenario = next((x for x in labels if x in SCENARIOS), None)
    if scenario is None:
        scenario = "other"
        notes.append("no label names a Crosswalk scenario; the scenario is 'other'")
    score = doc.get("severity")
    if not score:  # absent, or 0: "specifically undefined"
        severity = "medium"
        notes.append("the playbook has no severity; it is set to 'medium'")
    else:
        severity = ("low" if score <= 25 else "medium" if score <= 50 else
                    "high" if score <= 75 else "critical")
    description, detection = _split_description(doc.get("description") or "")
    if not detection:
        detection = [DEFAULT_DETECTION]
        notes.append("the description lists no detection criteria; the one criterion is "
                     f"{DEFAULT_DETECTION!r}")
    escalation, escalation_notes = _escalation(agents, [workflow[s].get("agent") for s in order])
    notes += escalation_notes
    clocks = _clock_ids()
    return ({"id": pid, "title": doc["name"], "scenario": scenario, "severity": severity,
             "description": description, "detection": detection, "steps": steps,
             "escalation": escalation,
             "clocks": list(dict.fromkeys(
                 ref["external_id"] for ref in doc.get("external_references") or ()
                 if ref.get("external_id") in clocks))},
            notes)


def _step_description(step: dict[str, Any], name: str) -> str:
    description = step.get("description")
    text = description.strip() if isinstance(description, str) else ""
    if step["type"] == "playbook-action":
        version = step.get("playbook_version")
        runs = (f"Runs another CACAO playbook: {step['playbook_id']}"
                + (f" (version {version})" if version else "") + ".")
        return f"{text}\n\n{runs}" if text else runs
    if text:
        return text
    commands = step.get("commands") or []
    for command in sorted(commands, key=lambda c: c.get("type") != "manual"):
        words = _command_text(command)
        if words:
            return words if command["type"] == "manual" else f"{command['type']}: {words}"
    return name


def _command_text(command: dict[str, Any]) -> str:
    text = command.get("command")
    if isinstance(text, str) and text.strip():
        return text.strip()
    encoded = command.get("command_b64")
    if isinstance(encoded, str):
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8").strip()
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _escalation(agents: dict[str, Any], owners: list[Any]
                ) -> tuple[list[dict[str, str]], list[str]]:
    """Escalation entries from the agents' "Escalation N: <when> (contact: <x>)" lines (in
    their numbered order), or from an agent's contact details alone (noted)."""
    # agents in the order the steps use them, then in file order
    ids = list(dict.fromkeys([a for a in owners if isinstance(a, str) and a in agents]
                             + list(agents)))
    found: list[tuple[float, int, dict[str, str]]] = []
    notes: list[str] = []
    for rank, aid in enumerate(ids):
        agent = agents[aid]
        role = agent.get("name", "").strip()
        contact = agent.get("contact") if isinstance(agent.get("contact"), dict) else {}
        details = _contact_details(contact)
        lines = [m for m in (_ESCALATION.fullmatch(line.strip()) for line in
                             str(agent.get("description") or "").splitlines()) if m]
        for match in lines:
            number = float(match[1]) if match[1] else math.inf
            found.append((number, rank, {"role": role, "contact": (match[3] or details).strip(),
                                         "when": match[2].strip()}))
        if not lines and details:
            found.append((math.inf, rank, {"role": role, "contact": details,
                                           "when": DEFAULT_WHEN}))
            notes.append(f"agent {_quote(role)} has contact details but no escalation rule; "
                         f"it is listed as an escalation contact ({DEFAULT_WHEN!r})")
    found.sort(key=lambda f: (f[0], f[1]))
    return [entry for _, _, entry in found], notes


def _contact_details(contact: dict[str, Any]) -> str:
    parts = []
    if isinstance(contact.get("contact_details"), str):
        parts.append(contact["contact_details"].strip())
    for kind in ("email", "phone"):
        values = contact.get(kind)
        if isinstance(values, dict):
            parts += [f"{v.strip()} ({k})" if k else v.strip()
                      for k, v in values.items() if isinstance(v, str) and v.strip()]
    return "; ".join(p for p in dict.fromkeys(parts) if p)


def _split_description(text: str) -> tuple[str, list[str]]:
    """The description before the last "Detection criteria:" line, and the criteria after it
    (one per non-empty line, "- " bullets removed)."""
    matches = list(_DETECTION.finditer(text))
    if not matches:
        return text.strip(), []
    last = matches[-1]
    criteria = [re.sub(r"^[-*•]\s*", "", line.strip()) for line in
                text[last.end():].splitlines()]
    return text[:last.start()].strip(), [c for c in criteria if c]


# ------------------------------------------------------------------------------ small helpers
def _variable(variables: Any, name: str) -> Any:
    var = variables.get(name) if isinstance(variables, dict) else None
    return var.get("value") if isinstance(var, dict) else None


def _minutes(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if _is_whole(value) and 1 <= value <= 525_600 else None


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].rstrip("-")
    return slug if len(slug) >= 2 else "cacao-playbook"


def _control_ids() -> set[str]:
    from app.domain.controls import CONTROL_IDS

    return set(CONTROL_IDS)


def _clock_ids() -> set[str]:
    from app.domain.reg_clocks import bundled_clocks

    return {c.id for c in bundled_clocks()}


def _show(value: Any, limit: int = 80) -> str:
    """A value from the file as it is written in a message: its repr, cut to `limit`."""
    return _plain(repr(value), limit)


def _plain(text: str, limit: int = 120) -> str:
    """Text from the file, safe to print: control and format characters (bidi overrides…)
    escaped, cut to `limit`. Markup such as ``[bold]`` stays text: the UI shows it as is."""
    text = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf") else c
                   for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeio' else 'a'} {word}"


def _quote(text: str) -> str:
    return "'" + _plain(text) + "'"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


__all__ = ["MAX_BYTES", "CacaoInvalid", "CacaoPlaybook", "check_cacao",
           "read_cacao"]
