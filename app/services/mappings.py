"""Mappings between clauses and controls: create, edit, review, delete and list them.

A mapping is named by its clause's full ref and its control ("GDPR Art. 32(1)(b)", "SEC-1");
there is at most one per pair. Every write is one transaction with its audit event.

The review trail: a new mapping is a draft; `review` moves it to reviewed, then approved
(recording who and when, and clearing any flag such as "its clause changed"), or reopens it
as a draft. Editing what a mapping says — relationship, matching, strength, coverage or
rationale — sends a reviewed or approved mapping back to draft, since the review no longer
covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from app.domain.controls import normalise_control_id
from app.domain.mappings import (
    DEFAULT_COVERAGE,
    DEFAULT_MATCHING,
    DEFAULT_STRENGTH,
    SUBSTANCE,
    check_fields,
    review_step,
)
from app.errors import InvalidInput, NotFound
from app.services.regulations import find_clause, mapping_dict
from app.store import Store
from app.store.models import Clause, Mapping, Regulation
from app.store.store import Tx


@dataclass(frozen=True, slots=True)
class MappingView:
    """A mapping with the clause it starts from, as listed and shown."""

    code: str
    version_label: str
    ref: str
    mapping: Mapping
    notes: tuple[str, ...] = ()  # what the analyst should know about a new mapping

    @property
    def full_ref(self) -> str:
        return f"{self.code} {self.ref}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "version_label": self.version_label, "ref": self.ref,
                "full_ref": self.full_ref} | mapping_dict(self.mapping) | {
                    "reviewed_by": self.mapping.reviewed_by,
                    "reviewed_at": self.mapping.reviewed_at}


def _control(control_id: str) -> str:
    try:
        return normalise_control_id(control_id)
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def _fields(**given: Any) -> dict[str, Any]:
    try:
        return check_fields(**given)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _target(store: Store, full_ref: str, control_id: str) -> tuple[Regulation, Clause, str]:
    reg, clause = find_clause(store, full_ref)
    return reg, clause, _control(control_id)


def _existing(tx: Tx, clause: Clause, control: str) -> Mapping | None:
    return tx.session.exec(select(Mapping).where(Mapping.clause_id == clause.id,
                                                 Mapping.control_id == control)).first()


def _one(tx: Tx, reg: Regulation, clause: Clause, control: str) -> Mapping:
    row = _existing(tx, clause, control)
    if row is None:
        raise NotFound(f"{reg.code} {clause.ref} is not mapped to {control}")
    return row


def add_mapping(store: Store, full_ref: str, control_id: str, *, relationship: str,
                rationale: str, matching: str = DEFAULT_MATCHING,
                strength: int | str = DEFAULT_STRENGTH,
                coverage: str = DEFAULT_COVERAGE) -> MappingView:
    """Map a clause to a control; a second mapping of the same pair is refused (edit it)."""
    reg, clause, control = _target(store, full_ref, control_id)
    fields = _fields(relationship=relationship, rationale=rationale, matching=matching,
                     strength=strength, coverage=coverage)
    with store.write() as tx:
        if _existing(tx, clause, control) is not None:
            raise InvalidInput(f"{reg.code} {clause.ref} is already mapped to {control}; "
                               "change that mapping instead of adding another")
        row = Mapping(clause_id=clause.id, control_id=control, author=store.actor,  # type: ignore[arg-type]
                      review_status="draft", created_at=tx.now, updated_at=tx.now, **fields)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("mapping.create", "mapping", row.id, {
            "clause_id": clause.id, "ref": f"{reg.code} {clause.ref}", "control_id": control,
            **fields, "author": store.actor})
    return MappingView(reg.code, reg.version_label, clause.ref, row,
                       _notes(store, reg, clause))


def _notes(store: Store, reg: Regulation, clause: Clause) -> tuple[str, ...]:
    """A mapping that will not show where the analyst looks: on a clause that is not an
    obligation, or on a version that is not the latest."""
    from app.services.regulations import get_regulation

    notes = []
    if not clause.assessable:
        notes.append(f"{reg.code} {clause.ref} is not assessable ({clause.kind}): the mapping "
                     "does not count towards coverage")
    latest = get_regulation(store, reg.code)
    if latest.id != reg.id:
        notes.append(f"{reg.code} {reg.version_label} is not the latest version "
                     f"({latest.version_label}): coverage, gaps and the matrix show the latest")
    return tuple(notes)


def update_mapping(store: Store, full_ref: str, control_id: str,
                   **changes: Any) -> tuple[MappingView, dict[str, Any]]:
    """Change what a mapping says; returns it and the change (`{field: {from, to}}`). A
    reviewed or approved mapping whose substance changes goes back to draft."""
    reg, clause, control = _target(store, full_ref, control_id)
    wanted = _fields(**{k: v for k, v in changes.items() if v is not None})
    if not wanted:
        raise InvalidInput("nothing to change: give a relationship, matching, strength, "
                           "coverage or rationale")
    with store.write() as tx:
        row = _one(tx, reg, clause, control)
        if wanted.get("relationship", row.relationship) == "no-relationship" and \
                wanted.get("coverage", row.coverage) == "full":
            raise InvalidInput("a no-relationship mapping covers nothing: it cannot have "
                               "full coverage")
        change = {f: {"from": getattr(row, f), "to": v} for f, v in wanted.items()
                  if getattr(row, f) != v}
        if change:
            for f in change:
                setattr(row, f, wanted[f])
            if row.review_status != "draft" and any(f in SUBSTANCE for f in change):
                change["review_status"] = {"from": row.review_status, "to": "draft"}
                row.review_status, row.reviewed_by, row.reviewed_at = "draft", None, None
            row.updated_at = tx.now
            tx.session.add(row)
            assert row.id is not None
            tx.record("mapping.update", "mapping", row.id, change)
    return MappingView(reg.code, reg.version_label, clause.ref, row), change


def review_mapping(store: Store, full_ref: str, control_id: str,
                   status: str) -> tuple[MappingView, dict[str, Any]]:
    """Move a mapping along its review trail (see the module docstring); the reviewer is the
    workspace's actor."""
    reg, clause, control = _target(store, full_ref, control_id)
    with store.write() as tx:
        row = _one(tx, reg, clause, control)
        try:
            new = review_step(row.review_status, status)
        except ValueError as exc:
            raise InvalidInput(f"{reg.code} {clause.ref} → {control}: {exc}") from None
        change: dict[str, Any] = {"review_status": {"from": row.review_status, "to": new}}
        if new == "draft":
            row.reviewed_by, row.reviewed_at = None, None
        else:
            row.reviewed_by, row.reviewed_at = store.actor, tx.now
            change["reviewed_by"] = store.actor
            if row.flag:
                change["flag"] = {"from": row.flag, "to": ""}
                row.flag = ""
        row.review_status, row.updated_at = new, tx.now
        tx.session.add(row)
        assert row.id is not None
        tx.record("mapping.review", "mapping", row.id, change)
    return MappingView(reg.code, reg.version_label, clause.ref, row), change


def remove_mapping(store: Store, full_ref: str, control_id: str) -> MappingView:
    """Delete a mapping; the audit event keeps what it said."""
    reg, clause, control = _target(store, full_ref, control_id)
    with store.write() as tx:
        row = _one(tx, reg, clause, control)
        said = {f: getattr(row, f) for f in (*SUBSTANCE, "review_status", "author")}
        mapping_id = row.id
        assert mapping_id is not None
        tx.session.delete(row)
        tx.session.flush()
        tx.record("mapping.delete", "mapping", mapping_id, {
            "ref": f"{reg.code} {clause.ref}", "control_id": control, **said})
    return MappingView(reg.code, reg.version_label, clause.ref, row)


def get_mapping(store: Store, full_ref: str, control_id: str) -> MappingView:
    reg, clause, control = _target(store, full_ref, control_id)
    with store.read() as s:
        row = s.exec(select(Mapping).where(Mapping.clause_id == clause.id,
                                           Mapping.control_id == control)).first()
    if row is None:
        raise NotFound(f"{reg.code} {clause.ref} is not mapped to {control}")
    return MappingView(reg.code, reg.version_label, clause.ref, row)


def list_mappings(store: Store, *, code: str | None = None, control_id: str | None = None,
                  status: str | None = None) -> list[MappingView]:
    """Mappings in document order, of one regulation's latest version (or of all latest
    versions), to one control, in one review status."""
    from app.services.regulations import get_regulation, list_regulations

    regs = [get_regulation(store, code)] if code else \
        [get_regulation(store, r.code) for r in list_regulations(store) if r.latest]
    query = select(Regulation.code, Regulation.version_label, Clause.ref, Mapping) \
        .join(Clause, col(Clause.id) == Mapping.clause_id) \
        .join(Regulation, col(Regulation.id) == Clause.regulation_id) \
        .where(col(Regulation.id).in_([r.id for r in regs]))
    if control_id:
        query = query.where(Mapping.control_id == _control(control_id))
    if status:
        if status not in ("draft", "reviewed", "approved"):
            raise InvalidInput(f"review status {status!r} is not one of: draft, reviewed, "
                               "approved")
        query = query.where(Mapping.review_status == status)
    with store.read() as s:
        rows = s.exec(query.order_by(Regulation.code, Clause.position, Mapping.control_id)).all()
    return [MappingView(c, v, ref, m) for c, v, ref, m in rows]
