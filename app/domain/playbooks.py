"""Incident playbooks as data: what the team does, in order, when an ML incident happens.

A playbook has a title, a scenario type, a severity, the criteria that say it applies
(detection), its **ordered steps** (each with an owner role, a NIST CSF 2.0 function —
Govern, Identify, Protect, Detect, Respond, Recover — an expected duration and the controls
it exercises), an escalation path (roles and how to reach them) and the regulatory clocks
that may run (`app.domain.reg_clocks`). The shipped playbooks are `app/playbooks/*.yaml`,
written by us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

SCENARIOS = ("drift", "data-poisoning", "model-tampering-or-theft", "data-leakage",
             "serious-incident", "other")
SEVERITIES = ("low", "medium", "high", "critical")
CSF_FUNCTIONS = ("govern", "identify", "protect", "detect", "respond", "recover")
MAX_STEPS = 100

_PLAYBOOK_KEYS = {"id", "title", "scenario", "severity", "description", "detection", "steps",
                  "escalation", "clocks"}
_STEP_KEYS = {"name", "description", "owner", "function", "minutes", "controls"}
_ESCALATION_KEYS = {"role", "contact", "when"}
_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,59}")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    description: str
    owner: str  # a role: "ML on-call engineer", "DPO"…
    function: str  # NIST CSF 2.0 function
    minutes: int  # expected duration
    controls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalation:
    role: str
    contact: str
    when: str  # when to call them


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str  # a slug: "model-drift"
    title: str
    scenario: str
    severity: str
    description: str
    detection: tuple[str, ...]  # the criteria that say this playbook applies
    steps: tuple[Step, ...]
    escalation: tuple[Escalation, ...] = ()
    clocks: tuple[str, ...] = ()  # ids of `app.domain.reg_clocks`
    roles: tuple[str, ...] = field(default=(), compare=False)  # derived: owners, escalation

    def as_data(self) -> dict[str, Any]:
        """The playbook as the YAML/JSON shape it is read from."""
        return {"id": self.id, "title": self.title, "scenario": self.scenario,
                "severity": self.severity, "description": self.description,
                "detection": list(self.detection),
                "steps": [{"name": s.name, "description": s.description, "owner": s.owner,
                           "function": s.function, "minutes": s.minutes,
                           "controls": list(s.controls)} for s in self.steps],
                "escalation": [{"role": e.role, "contact": e.contact, "when": e.when}
                               for e in self.escalation],
                "clocks": list(self.clocks)}


def _text(value: Any, what: str, limit: int, *, multiline: bool = False,
          required: bool = True) -> str:
    from app.domain.text import clean_text

    if value is None:
        value = ""
    if not isinstance(value, str | int | float):
        raise ValueError(f"{what} must be text")
    return clean_text(str(value), what, limit, multiline=multiline, required=required)


def _choose(value: Any, choices: tuple[str, ...], what: str) -> str:
    key = str(value or "").strip().lower().replace("_", "-").replace(" ", "-")
    if key not in choices:
        raise ValueError(f"{what} {value!r} is not one of: {', '.join(choices)}")
    return key


def _unknown(item: dict[str, Any], allowed: set[str], what: str) -> None:
    extra = sorted(map(str, set(item) - allowed))
    if extra:
        raise ValueError(f"{what} has unknown keys: {', '.join(extra)}")


def parse_playbook(data: Any, where: str = "the playbook") -> Playbook:
    """Check a playbook given as data and build it; a ValueError names what is wrong and
    where (the step by number and name)."""
    from app.domain.controls import normalise_control_id
    from app.domain.reg_clocks import clock_by_id

    if not isinstance(data, dict):
        raise ValueError(f"{where} is not a mapping")
    _unknown(data, _PLAYBOOK_KEYS, where)
    pid = str(data.get("id") or "").strip().lower()
    if not _ID.fullmatch(pid):
        raise ValueError(f"{where}: id {data.get('id')!r} must be 2–60 lowercase letters, "
                         "digits or '-'")
    where = f"playbook {pid}"
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise ValueError(f"{where} has no steps")
    if len(steps_data) > MAX_STEPS:
        raise ValueError(f"{where} has {len(steps_data)} steps; at most {MAX_STEPS}")
    steps: list[Step] = []
    names: set[str] = set()
    for n, item in enumerate(steps_data, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: step {n} is not a mapping")
        at = f"{where}: step {n}"
        _unknown(item, _STEP_KEYS, at)
        name = _text(item.get("name"), f"{at} name", 120)
        at = f"{where}: step {n} ({name})"
        if name.lower() in names:
            raise ValueError(f"{at} has the same name as an earlier step")
        names.add(name.lower())
        minutes = item.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 525_600:
            raise ValueError(f"{at}: minutes must be a whole number from 1 to 525,600")
        controls = item.get("controls") or []
        if not isinstance(controls, list):
            raise ValueError(f"{at}: controls must be a list of control ids")
        steps.append(Step(
            name, _text(item.get("description"), f"{at} description", 2000, multiline=True),
            _text(item.get("owner"), f"{at} owner", 120),
            _choose(item.get("function"), CSF_FUNCTIONS, f"{at}: CSF function"), minutes,
            tuple(dict.fromkeys(normalise_control_id(str(c)) for c in controls))))
    escalation = []
    for n, item in enumerate(data.get("escalation") or [], start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: escalation {n} is not a mapping")
        _unknown(item, _ESCALATION_KEYS, f"{where}: escalation {n}")
        escalation.append(Escalation(_text(item.get("role"), f"{where}: escalation {n} role",
                                           120),
                                     _text(item.get("contact"),
                                           f"{where}: escalation {n} contact", 200),
                                     _text(item.get("when"), f"{where}: escalation {n} when",
                                           300)))
    clocks = tuple(dict.fromkeys(clock_by_id(str(c)).id for c in data.get("clocks") or []))
    detection = data.get("detection") or []
    if not isinstance(detection, list) or not detection:
        raise ValueError(f"{where} has no detection criteria")
    roles = tuple(dict.fromkeys([s.owner for s in steps] + [e.role for e in escalation]))
    return Playbook(
        pid, _text(data.get("title"), f"{where} title", 200),
        _choose(data.get("scenario"), SCENARIOS, f"{where}: scenario"),
        _choose(data.get("severity"), SEVERITIES, f"{where}: severity"),
        _text(data.get("description"), f"{where} description", 5000, multiline=True,
              required=False),
        tuple(_text(d, f"{where} detection criterion", 500) for d in detection),
        tuple(steps), tuple(escalation), clocks, roles)


@cache
def bundled_playbooks() -> tuple[Playbook, ...]:
    """The playbooks shipped with Crosswalk (`app/playbooks/*.yaml`, clocks.yaml aside)."""
    from importlib import resources

    import yaml

    out = []
    folder = resources.files("app.playbooks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml") and entry.name != "clocks.yaml":
            out.append(parse_playbook(yaml.safe_load(entry.read_text(encoding="utf-8")),
                                      entry.name))
    return tuple(out)
