"""OSCAL exports of the workspace: read a view model from the store, hand it to the pure
exporters in `app.exporters`, and return the document (the CLI writes it)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from app.errors import InvalidInput
from app.exporters.oscal_common import ClauseView, ControlView, MapView, RegulationView
from app.services.regulations import get_regulation
from app.store import Store
from app.store.models import Clause, Control, Mapping, Regulation


def regulation_view(store: Store, reg: Regulation) -> RegulationView:
    """One regulation version with its whole clause tree, in document order."""
    with store.read() as s:
        rows = s.exec(select(Clause).where(Clause.regulation_id == reg.id)
                      .order_by(Clause.position)).all()
    refs = {c.id: c.ref for c in rows}
    def view(c: Clause) -> ClauseView:
        attrs = json.loads(c.attributes or "{}")
        return ClauseView(
            ref=c.ref, parent=refs.get(c.parent_id) if c.parent_id else None, kind=c.kind,
            title=c.title, text=c.text, summary=c.summary, assessable=bool(c.assessable),
            oscal_id=attrs.pop("oscal_id", None),
            attributes=tuple((str(k), str(v)) for k, v in attrs.items()))

    clauses = tuple(view(c) for c in rows)
    return RegulationView(code=reg.code, version_label=reg.version_label, title=reg.title,
                          short_title=reg.short_title, effective_date=reg.effective_date,
                          imported_at=reg.imported_at, clauses=clauses,
                          attribution=reg.attribution)


def map_views(store: Store, regulation_id: int) -> list[MapView]:
    """The version's mappings in document order, then by control."""
    with store.read() as s:
        rows = s.exec(select(Clause.ref, Mapping).join(Mapping, col(Mapping.clause_id) ==
                                                       Clause.id)
                      .where(Clause.regulation_id == regulation_id)
                      .order_by(Clause.position, Mapping.control_id)).all()
    return [MapView(ref=ref, control_id=m.control_id, relationship=m.relationship,
                    matching=m.matching, strength=m.strength, coverage=m.coverage,
                    rationale=m.rationale, author=m.author, review_status=m.review_status,
                    reviewed_by=m.reviewed_by, reviewed_at=m.reviewed_at,
                    updated_at=m.updated_at) for ref, m in rows]


def controls_document(store: Store) -> dict[str, Any]:
    """The twelve controls as an OSCAL catalog."""
    from app.exporters.oscal_controls import controls_catalog

    with store.read() as s:
        rows = s.exec(select(Control).order_by(Control.position)).all()
    return controls_catalog([ControlView(c.id, c.name, c.category, c.objective, c.guidance,
                                         c.updated_at) for c in rows])


def regulation_document(store: Store, code: str, version: str | None = None) -> dict[str, Any]:
    """A regulation version (the latest unless `version`) as an OSCAL catalog."""
    from app.exporters.oscal_regulation import regulation_catalog

    reg = get_regulation(store, code, version)
    assert reg.id is not None
    mapped = {m.ref for m in map_views(store, reg.id)}
    return regulation_catalog(regulation_view(store, reg), mapped)


def mappings_document(store: Store, code: str, version: str | None = None) -> dict[str, Any]:
    """A regulation version's mappings as an OSCAL mapping-collection."""
    from app.exporters.oscal_mappings import check_relationships, mapping_collection

    reg = get_regulation(store, code, version)
    assert reg.id is not None
    from app.services.analysis import reach
    from app.services.snapshot import load_snapshot

    snap = load_snapshot(store, [reg.id], lean=True)
    r = reach(snap)
    gaps = [snap.clauses[cid].ref for cid in r.obligations if not r.by_control[cid]]
    try:
        doc = mapping_collection(regulation_view(store, reg), map_views(store, reg.id), gaps)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    problems = check_relationships(doc)
    if problems:  # only a hand-edited database gets here: refuse to write an invalid file
        raise InvalidInput(f"cannot export {reg.code}: {'; '.join(problems)}")
    return doc
