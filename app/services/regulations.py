"""Regulations, their clause trees and their versions in the workspace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, func, select

from app.domain.clauses import RegulationDoc, text_hash
from app.domain.mappings import DEFAULT_AUTHOR, check_fields
from app.domain.refs import parse_full_ref, validate_code
from app.errors import InvalidInput, NotFound
from app.importers.mapping_file import MappingSpec
from app.store import Store, Tx
from app.store.models import Clause, Mapping, Regulation


def insert_regulation(tx: Tx, doc: RegulationDoc) -> Regulation:
    """Persist a regulation version and its whole clause tree inside `tx` (audited: one
    `regulation.create` and one `clause.create` per clause)."""
    try:
        validate_code(doc.code)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    seen: set[str] = set()
    for _, node in doc.walk():
        if node.ref in seen:
            raise InvalidInput(f"{doc.code} {doc.version_label}: clause ref {node.ref!r} "
                               "appears twice")
        seen.add(node.ref)
    exists = tx.session.exec(select(Regulation.id).where(
        Regulation.code == doc.code, Regulation.version_label == doc.version_label)).first()
    if exists is not None:
        raise InvalidInput(f"{doc.code} version {doc.version_label!r} is already in the "
                           "workspace")
    reg = Regulation(
        code=doc.code, version_label=doc.version_label, title=doc.title,
        jurisdiction=doc.jurisdiction, effective_date=doc.effective_date,
        source_name=doc.source_name, source_sha256=doc.source_sha256,
        source_format=doc.source_format, imported_at=tx.now, short_title=doc.short_title,
        identifiers=json.dumps(doc.identifiers, sort_keys=True), attribution=doc.attribution,
        source_pages=doc.pages,
    )
    tx.session.add(reg)
    tx.session.flush()
    assert reg.id is not None
    tx.record("regulation.create", "regulation", reg.id, {
        "code": doc.code, "version_label": doc.version_label, "title": doc.title,
        "source_sha256": doc.source_sha256,
    })
    # ids are assigned here (the write lock is held), so parents need no flush per row
    next_id = (tx.session.exec(select(func.max(Clause.id))).one() or 0) + 1
    ids: dict[int, int] = {}
    rows: list[Clause] = []
    for position, (parent, node) in enumerate(doc.walk(), start=1):
        ids[id(node)] = cid = next_id + position - 1
        rows.append(Clause(
            id=cid, regulation_id=reg.id, ref=node.ref, position=position, kind=node.kind,
            title=node.title, text=node.text, summary=node.summary,
            assessable=node.assessable, text_hash=text_hash(node.text) if node.text else "",
            parent_id=ids[id(parent)] if parent is not None else None,
            attributes=json.dumps(node.attributes, sort_keys=True),
        ))
    tx.session.add_all(rows)
    tx.record_many("clause.create", "clause",
                   [(c.id, {"code": doc.code, "ref": c.ref, "kind": c.kind})  # type: ignore[misc]
                    for c in rows])
    return reg


def add_regulation(store: Store, doc: RegulationDoc) -> Regulation:
    """Persist a regulation version and its clause tree in one audited transaction."""
    with store.write() as tx:
        return insert_regulation(tx, doc)


def insert_mappings(tx: Tx, regulation_id: int, specs: Iterable[MappingSpec], *,
                    author: str = DEFAULT_AUTHOR, review_status: str = "draft",
                    flags: dict[str, str] | None = None) -> int:
    """Create mappings from clause refs of one regulation version to controls (audited).
    `flags` gives a per-ref flag (e.g. "clause changed in version …"); returns the count."""
    by_ref = dict(tx.session.exec(select(Clause.ref, Clause.id).where(
        Clause.regulation_id == regulation_id)).all())
    next_id = (tx.session.exec(select(func.max(Mapping.id))).one() or 0) + 1
    rows: list[Mapping] = []
    for spec in specs:
        clause_id = by_ref.get(spec.ref)
        if clause_id is None:
            raise InvalidInput(f"mapping to {spec.control_id} names clause {spec.ref!r}, which "
                               "the regulation does not have")
        try:  # the one write path checks what every mapping says, wherever it came from
            check_fields(relationship=spec.relationship, matching=spec.matching,
                         strength=spec.strength, coverage=spec.coverage,
                         rationale=spec.rationale)
        except ValueError as exc:
            raise InvalidInput(f"mapping of {spec.ref} to {spec.control_id}: {exc}") from None
        rows.append(Mapping(
            id=next_id + len(rows), clause_id=clause_id, control_id=spec.control_id,
            relationship=spec.relationship, matching=spec.matching, strength=spec.strength,
            coverage=spec.coverage, rationale=spec.rationale, author=author,
            review_status=review_status, flag=(flags or {}).get(spec.ref, ""),
            created_at=tx.now, updated_at=tx.now,
        ))
    tx.session.add_all(rows)
    tx.record_many("mapping.create", "mapping", [
        (m.id, {"clause_id": m.clause_id, "control_id": m.control_id,  # type: ignore[misc]
                "relationship": m.relationship, "author": m.author}) for m in rows])
    return len(rows)


# ------------------------------------------------------------------------------ reading
@dataclass(frozen=True, slots=True)
class RegulationInfo:
    """A regulation version as listed: identity, provenance and counts."""

    id: int
    code: str
    version_label: str
    title: str
    short_title: str
    jurisdiction: str
    effective_date: str | None
    identifiers: dict[str, str]
    attribution: str
    source_name: str
    source_sha256: str
    source_format: str
    source_pages: int | None
    imported_at: str
    clauses: int
    with_text: int
    mappings: int
    latest: bool

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def _version_key(r: Regulation) -> tuple[str, int]:
    """Versions order by their date; an undated one counts from the day it was imported."""
    return (r.effective_date or r.imported_at[:10], r.id or 0)


def list_regulations(store: Store) -> list[RegulationInfo]:
    with store.read() as s:
        regs = s.exec(select(Regulation)).all()
        counts = dict(s.exec(select(Clause.regulation_id, func.count())
                             .group_by(Clause.regulation_id)).all())
        texts = dict(s.exec(select(Clause.regulation_id, func.count())
                            .where(Clause.text != "").group_by(Clause.regulation_id)).all())
        maps = dict(s.exec(select(Clause.regulation_id, func.count()).join(
            Mapping, col(Mapping.clause_id) == Clause.id).group_by(Clause.regulation_id)).all())
    latest: dict[str, Regulation] = {}
    for r in regs:
        if r.code not in latest or _version_key(r) > _version_key(latest[r.code]):
            latest[r.code] = r
    out = [RegulationInfo(
        id=r.id or 0, code=r.code, version_label=r.version_label, title=r.title,
        short_title=r.short_title, jurisdiction=r.jurisdiction, effective_date=r.effective_date,
        identifiers=json.loads(r.identifiers or "{}"), attribution=r.attribution,
        source_name=r.source_name, source_sha256=r.source_sha256,
        source_format=r.source_format, source_pages=r.source_pages,
        imported_at=r.imported_at,
        clauses=counts.get(r.id, 0), with_text=texts.get(r.id, 0), mappings=maps.get(r.id, 0),
        latest=latest[r.code] is r) for r in regs]
    return sorted(out, key=lambda i: (i.code, i.effective_date or i.imported_at[:10], i.id))


def get_regulation(store: Store, code: str, version: str | None = None) -> Regulation:
    """One version of a regulation: the given one, or the latest."""
    code = code.strip().upper()
    with store.read() as s:
        regs = s.exec(select(Regulation).where(Regulation.code == code)).all()
    if not regs:
        known = ", ".join(sorted({r.code for r in list_regulations(store)})) or "none"
        raise NotFound(f"no regulation {code!r} in the workspace (regulations: {known})")
    if version is None:
        return max(regs, key=_version_key)
    for r in regs:
        if r.version_label == version:
            return r
    have = ", ".join(r.version_label for r in regs)
    raise NotFound(f"{code} has no version {version!r} (versions: {have})")


def clauses(store: Store, regulation_id: int, *, ref_prefix: str | None = None,
            parent_id: int | None = None, top_level: bool = False,
            limit: int | None = None) -> list[Clause]:
    """Clauses of a regulation version in document order. With `ref_prefix`, the clause of
    that ref and everything inside it in the tree (``Chapter IV`` gives its sections,
    articles, paragraphs and points); refs that only start with it (``Art. 32`` for a ref the
    tree does not have) fall back to a prefix match. `parent_id` gives one clause's
    children."""
    with store.read() as s:
        q = select(Clause).where(Clause.regulation_id == regulation_id)
        if parent_id is not None:
            q = q.where(Clause.parent_id == parent_id)
        elif top_level:
            q = q.where(col(Clause.parent_id).is_(None))
        rows = list(s.exec(q.order_by(Clause.position)).all())
    if ref_prefix:
        p = " ".join(ref_prefix.split())
        top = next((c for c in rows if c.ref == p), None)
        if top is not None:
            inside = {top.id}
            for c in rows:  # document order: a parent always comes before its children
                if c.parent_id in inside:
                    inside.add(c.id)
            rows = [c for c in rows if c.id in inside]
        else:
            rows = [c for c in rows if c.ref.startswith((f"{p}(", f"{p} ", f"{p}."))]
    return rows[:limit] if limit else rows


def get_clause(store: Store, clause_id: int) -> Clause:
    with store.read() as s:
        row = s.get(Clause, clause_id)
    if row is None:
        raise NotFound(f"clause {clause_id} is not in the workspace")
    return row


def enclosing_mappings(store: Store, clause: Clause) -> list[tuple[str, Mapping]]:
    """Mappings on the clauses that enclose `clause` (its paragraph, article, chapter…),
    nearest first: an obligation is met by what is mapped to it or to what contains it."""
    out: list[tuple[str, Mapping]] = []
    with store.read() as s:
        parent_id = clause.parent_id
        while parent_id is not None:
            parent = s.get(Clause, parent_id)
            if parent is None:
                break
            out += [(parent.ref, m) for m in s.exec(
                select(Mapping).where(Mapping.clause_id == parent.id)
                .order_by(Mapping.control_id)).all()]
            parent_id = parent.parent_id
    return out


def find_clause(store: Store, full_ref: str) -> tuple[Regulation, Clause]:
    """`GDPR Art. 32(1)(b)` (latest version) or `GDPR@2016-04-27 Art. 32(1)(b)`."""
    codes = {i.code for i in list_regulations(store)}
    text = " ".join(full_ref.split())
    version = None
    head, _, rest = text.partition(" ")
    if "@" in head:
        code, _, version = head.partition("@")
        text = f"{code} {rest}"
    try:
        ref = parse_full_ref(text, codes)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    reg = get_regulation(store, ref.code, version)
    with store.read() as s:
        row = s.exec(select(Clause).where(Clause.regulation_id == reg.id,
                                          Clause.ref == ref.ref)).first()
    if row is None:
        raise NotFound(f"{reg.code} {reg.version_label} has no clause {ref.ref!r}")
    return reg, row


def clause_mappings(store: Store, clause_id: int) -> list[Mapping]:
    with store.read() as s:
        return list(s.exec(select(Mapping).where(Mapping.clause_id == clause_id)
                           .order_by(Mapping.control_id)).all())


def mappings_below(store: Store, clause_ids: list[int]) -> list[tuple[str, str, str]]:
    """(ref, control, relationship) of the mappings on the given clauses (e.g. a clause's
    paragraphs and points), in document order."""
    out: list[tuple[str, str, str]] = []
    with store.read() as s:
        for i in range(0, len(clause_ids), 500):
            chunk = clause_ids[i:i + 500]
            out += s.exec(select(Clause.ref, Mapping.control_id, Mapping.relationship)
                          .join(Mapping, col(Mapping.clause_id) == Clause.id)
                          .where(col(Clause.id).in_(chunk))
                          .order_by(Clause.position, Mapping.control_id)).all()
    return out


def clause_dict(reg: Regulation, c: Clause, *, detail: bool = False) -> dict[str, Any]:
    """The stable JSON shape of a clause (`clauses --json`, `clause --json`)."""
    out: dict[str, Any] = {
        "id": c.id, "code": reg.code, "version_label": reg.version_label, "ref": c.ref,
        "full_ref": f"{reg.code} {c.ref}", "kind": c.kind, "title": c.title,
        "summary": c.summary, "assessable": bool(c.assessable),
        "attributes": json.loads(c.attributes or "{}"), "has_text": bool(c.text),
    }
    if detail:
        out["text"] = c.text
        out["text_hash"] = c.text_hash
    return out


def mapping_dict(m: Mapping) -> dict[str, Any]:
    return {
        "id": m.id, "control_id": m.control_id, "relationship": m.relationship,
        "matching": m.matching, "strength": m.strength, "coverage": m.coverage,
        "rationale": m.rationale, "author": m.author, "review_status": m.review_status,
        "flag": m.flag, "created_at": m.created_at, "updated_at": m.updated_at,
    }
