"""Comparing two versions of a regulation, clause by clause, and what hangs on the changes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import col, select

from app.domain.clauses import ClauseNode, RegulationDoc, text_hash
from app.services.regulations import get_regulation
from app.store import Store
from app.store.models import Clause, Mapping, Regulation


@dataclass(frozen=True, slots=True)
class ClauseChange:
    ref: str
    what: str  # "text", "title", "text and title", "kind"


@dataclass(frozen=True, slots=True)
class AffectedMapping:
    ref: str
    control_id: str
    relationship: str
    because: str  # "changed" | "removed" | "uncompared" (text on one side only)


@dataclass(slots=True)
class VersionDiff:
    """Added, removed and changed clauses between two versions (by ref; text compared by hash,
    whitespace ignored), and the mappings that hang on changed or removed clauses."""

    code: str
    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ClauseChange] = field(default_factory=list)
    unchanged: int = 0
    uncompared: list[str] = field(default_factory=list)  # text on one side only
    mappings: list[AffectedMapping] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        uncompared = (f", {len(self.uncompared)} whose text could not be compared (one "
                      "version has none)" if self.uncompared else "")
        return (f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} "
                f"changed, {self.unchanged} unchanged{uncompared}; {len(self.mappings)} "
                "mappings to review")


@dataclass(frozen=True, slots=True)
class _Side:
    kind: str
    title: str
    text_hash: str
    assessable: bool
    attributes: str  # canonical JSON


def _side_of_rows(rows: list[Clause]) -> dict[str, _Side]:
    return {c.ref: _Side(c.kind, c.title, c.text_hash, bool(c.assessable),
                         c.attributes or "{}") for c in rows}


def _side_of_doc(doc: RegulationDoc) -> dict[str, _Side]:
    def h(n: ClauseNode) -> str:
        return text_hash(n.text) if n.text else ""

    return {n.ref: _Side(n.kind, n.title, h(n), n.assessable,
                         json.dumps(n.attributes, sort_keys=True)) for _, n in doc.walk()}


def compare(code: str, old_label: str, new_label: str, old: dict[str, _Side],
            new: dict[str, _Side], order: list[str]) -> VersionDiff:
    diff = VersionDiff(code, old_label, new_label)
    for ref in order:
        if ref not in old:
            diff.added.append(ref)
            continue
        a, b = old[ref], new[ref]
        what = []
        if a.text_hash and b.text_hash and a.text_hash != b.text_hash:
            what.append("text")
        if a.title and b.title and a.title != b.title:
            what.append("title")
        if a.kind != b.kind:
            what.append("kind")
        if a.attributes != b.attributes and b.attributes != "{}":
            what.append("attributes")
        if what:
            diff.changed.append(ClauseChange(ref, " and ".join(what)))
        elif bool(a.text_hash) != bool(b.text_hash):
            diff.uncompared.append(ref)
        else:
            diff.unchanged += 1
    diff.removed = [ref for ref in old if ref not in new]
    return diff


def _attach_mappings(store: Store, regulation_id: int, diff: VersionDiff) -> None:
    changed = {c.ref for c in diff.changed} | set(diff.uncompared)
    removed = set(diff.removed)
    if not changed and not removed:
        return
    with store.read() as s:
        rows = s.exec(select(Clause.ref, Mapping.control_id, Mapping.relationship)
                      .join(Mapping, col(Mapping.clause_id) == Clause.id)
                      .where(Clause.regulation_id == regulation_id)).all()
    for ref, control, relationship in rows:
        if ref in changed or ref in removed:
            because = ("removed" if ref in removed else "uncompared"
                       if ref in diff.uncompared else "changed")
            diff.mappings.append(AffectedMapping(ref, control, relationship, because))
    diff.mappings.sort(key=lambda m: (m.ref, m.control_id))


def diff_versions(store: Store, code: str, old_version: str, new_version: str) -> VersionDiff:
    """`crosswalk diff CODE V1 V2`: both versions already in the workspace."""
    from app.services.regulations import clauses

    old_reg = get_regulation(store, code, old_version)
    new_reg = get_regulation(store, code, new_version)
    assert old_reg.id is not None and new_reg.id is not None
    old_rows, new_rows = clauses(store, old_reg.id), clauses(store, new_reg.id)
    diff = compare(old_reg.code, old_version, new_version, _side_of_rows(old_rows),
                   _side_of_rows(new_rows), [c.ref for c in new_rows])
    _attach_mappings(store, old_reg.id, diff)
    return diff


def diff_against(store: Store, old: Regulation, doc: RegulationDoc) -> VersionDiff:
    """A document about to be imported, against a version already in the workspace."""
    from app.services.regulations import clauses

    assert old.id is not None
    rows = clauses(store, old.id)
    diff = compare(doc.code, old.version_label, doc.version_label, _side_of_rows(rows),
                   _side_of_doc(doc), [n.ref for _, n in doc.walk()])
    _attach_mappings(store, old.id, diff)
    return diff
