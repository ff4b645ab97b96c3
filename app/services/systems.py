"""The AI system inventory: systems with their EU AI Act tier and operator role, and their
model versions. Every change is an audited update recording from → to, so a system's history
is its audit trail (`system show` lists it); nothing is overwritten without a trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from app.domain import risk as rk
from app.domain.text import clean_text
from app.errors import InvalidInput, NotFound
from app.store import Store
from app.store.models import AiSystem, ModelVersion

MAX_SHORT = 200
MAX_LONG = 5000


def check_system(**given: Any) -> dict[str, Any]:
    """The system fields that were given, checked and normalised (the TUI form uses it)."""
    out: dict[str, Any] = {}
    try:
        for key, limit, multiline in (("name", MAX_SHORT, False), ("owner", MAX_SHORT, False),
                                      ("purpose", MAX_LONG, True),
                                      ("tier_justification", MAX_LONG, True)):
            if given.get(key) is not None:
                out[key] = clean_text(given[key], key.replace("_", " "), limit,
                                      multiline=multiline, required=key == "name")
        for key, choices in (("lifecycle", rk.LIFECYCLE), ("tier", rk.TIERS),
                             ("operator_role", rk.ROLES)):
            if given.get(key) is not None:
                out[key] = rk.choose(given[key], choices, key.replace("_", " "))
        area = given.get("annex_iii_area")
        if area is not None:
            text = str(area).strip()
            if text and text not in rk.ANNEX_III:
                raise ValueError(f"Annex III area {text!r} is not one of 1–8 ("
                                 + "; ".join(f"{k} {v}" for k, v in rk.ANNEX_III.items()) + ")")
            out["annex_iii_area"] = text or None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return out


def check_consistent(row: dict[str, Any]) -> None:
    """A tier needs its justification; an Annex III area belongs to high-risk systems."""
    if not row.get("tier_justification"):
        raise InvalidInput(f"the tier {row.get('tier')} needs a written justification "
                           "(--tier-justification)")
    if row.get("annex_iii_area") and row.get("tier") != "high":
        raise InvalidInput(f"an Annex III area applies to high-risk systems; this one is "
                           f"{row.get('tier')}")


def _named(session: Any, name: str) -> AiSystem | None:
    """The system called `name`, ignoring case (compared here: SQL LIKE would take '_' and
    '%' in a name as wildcards, and folds ASCII letters only)."""
    key = name.strip().casefold()
    return next((r for r in session.exec(select(AiSystem)) if r.name.casefold() == key), None)


def find_system(session: Any, ref: str | int) -> AiSystem:
    """A system by id (``AI-3``, ``3``) or exact name (case-insensitive)."""
    row = None
    if isinstance(ref, int) or str(ref).strip().upper().startswith("AI-") or \
            str(ref).strip().isdigit():
        try:
            row = session.get(AiSystem, rk.parse_id(ref, "AI"))
        except ValueError:  # a name such as "AI-Assistant"
            row = None
    if row is None and not isinstance(ref, int):
        row = _named(session, str(ref))
    if row is None:
        raise NotFound(f"no AI system {str(ref)!r} in the inventory (see `crosswalk system "
                       "list`)")
    return row


def add_system(store: Store, *, name: str, tier: str, tier_justification: str,
               operator_role: str, purpose: str = "", owner: str = "",
               lifecycle: str = "development", annex_iii_area: str | None = None) -> AiSystem:
    fields = check_system(name=name, tier=tier, tier_justification=tier_justification,
                          operator_role=operator_role, purpose=purpose, owner=owner,
                          lifecycle=lifecycle, annex_iii_area=annex_iii_area)
    check_consistent(fields)
    with store.write() as tx:
        if _named(tx.session, fields["name"]) is not None:
            raise InvalidInput(f"an AI system named {fields['name']!r} is already in the "
                               "inventory")
        row = AiSystem(**fields, created_at=tx.now, created_by=store.actor, updated_at=tx.now)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("ai_system.create", "ai_system", row.id, fields)
    return row


def update_system(store: Store, ref: str | int, **changes: Any
                  ) -> tuple[AiSystem, dict[str, Any]]:
    wanted = check_system(**{k: v for k, v in changes.items() if v is not None})
    if not wanted:
        raise InvalidInput("nothing to change: give a name, purpose, owner, lifecycle, tier, "
                           "justification, role or Annex III area")
    with store.write() as tx:
        row = find_system(tx.session, ref)
        after = row.model_dump() | wanted
        check_consistent(after)
        other = _named(tx.session, wanted["name"]) if "name" in wanted else None
        if other is not None and other.id != row.id:
            raise InvalidInput(f"an AI system named {other.name!r} is already in the "
                               "inventory")
        change = tx.update(row, wanted, "ai_system.update", "ai_system", row.id or 0)
    return row, change


def check_model_version(version: str, approval_status: str | None = None,
                        limitations: str | None = None) -> tuple[str, str | None, str | None]:
    """(version, approval status, limitations) checked; None where not given. The TUI form
    uses it before closing."""
    try:
        ver = clean_text(version, "the model version", 80, required=True)
        status = rk.choose(approval_status, rk.MODEL_STATUSES, "approval status") \
            if approval_status is not None else None
        limits = clean_text(limitations, "the limitations", MAX_LONG, multiline=True) \
            if limitations is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return ver, status, limits


def set_model_version(store: Store, system: str | int, version: str, *,
                      approval_status: str | None = None, limitations: str | None = None
                      ) -> tuple[ModelVersion, dict[str, Any]]:
    """Add a model version to a system, or change its approval status or limitations."""
    ver, status, limits = check_model_version(version, approval_status, limitations)
    with store.write() as tx:
        sys_row = find_system(tx.session, system)
        row = tx.session.exec(select(ModelVersion).where(
            ModelVersion.system_id == sys_row.id, ModelVersion.version == ver)).first()
        if row is None:
            row = ModelVersion(system_id=sys_row.id or 0, version=ver,
                               approval_status=status or "pending", limitations=limits or "",
                               created_at=tx.now, updated_at=tx.now)
            tx.session.add(row)
            tx.session.flush()
            change: dict[str, Any] = {"system_id": sys_row.id, "version": ver,
                                      "approval_status": row.approval_status,
                                      "limitations": row.limitations}
            tx.record("model_version.create", "model_version", row.id or 0, change)
            return row, change
        wanted = {k: v for k, v in (("approval_status", status), ("limitations", limits))
                  if v is not None}
        change = tx.update(row, wanted, "model_version.update", "model_version", row.id or 0)
    return row, change


@dataclass(slots=True)
class SystemDetail:
    system: AiSystem
    models: list[ModelVersion]
    risks: list[Any] = field(default_factory=list)  # RiskRow
    history: list[dict[str, Any]] = field(default_factory=list)  # audit events, oldest first

    @property
    def label(self) -> str:
        return rk.system_label(self.system.id or 0)

    def as_dict(self) -> dict[str, Any]:
        return system_dict(self.system) | {
            "models": [{"version": m.version, "approval_status": m.approval_status,
                        "limitations": m.limitations, "created_at": m.created_at,
                        "updated_at": m.updated_at} for m in self.models],
            "risks": [r.label for r in self.risks],
            "history": self.history}


def system_dict(s: AiSystem) -> dict[str, Any]:
    return {"id": rk.system_label(s.id or 0), "name": s.name, "purpose": s.purpose,
            "owner": s.owner, "lifecycle": s.lifecycle, "tier": s.tier,
            "tier_justification": s.tier_justification, "operator_role": s.operator_role,
            "annex_iii_area": s.annex_iii_area,
            "annex_iii": rk.ANNEX_III.get(s.annex_iii_area or "", None),
            "created_at": s.created_at, "created_by": s.created_by, "updated_at": s.updated_at}


def list_systems(store: Store) -> list[AiSystem]:
    with store.read() as s:
        return list(s.exec(select(AiSystem).order_by(col(AiSystem.name))).all())


def get_system(store: Store, ref: str | int) -> SystemDetail:
    from app.services.audit import event_dict, events
    from app.services.risks import list_risks

    with store.read() as s:
        row = find_system(s, ref)
        models = list(s.exec(select(ModelVersion).where(ModelVersion.system_id == row.id)
                             .order_by(col(ModelVersion.id))).all())
    history = [event_dict(e) for e in reversed(events(
        store, limit=1000, entity="ai_system", entity_id=str(row.id)))]
    for m in models:
        history += [event_dict(e) | {"model_version": m.version} for e in reversed(events(
            store, limit=1000, entity="model_version", entity_id=str(m.id)))]
    history.sort(key=lambda e: e["seq"])
    return SystemDetail(row, models, list_risks(store, system=str(row.id)), history)
