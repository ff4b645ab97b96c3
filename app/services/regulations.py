"""Regulations and their clause trees in the workspace."""

from __future__ import annotations

from sqlmodel import func, select

from app.domain.clauses import RegulationDoc, text_hash
from app.domain.refs import validate_code
from app.errors import InvalidInput
from app.store import Store
from app.store.models import Clause, Regulation


def add_regulation(store: Store, doc: RegulationDoc) -> Regulation:
    """Persist a regulation version and its whole clause tree in one audited transaction."""
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
    with store.write() as tx:
        exists = tx.session.exec(select(Regulation.id).where(
            Regulation.code == doc.code, Regulation.version_label == doc.version_label)).first()
        if exists is not None:
            raise InvalidInput(f"{doc.code} version {doc.version_label!r} is already in the "
                               "workspace")
        reg = Regulation(
            code=doc.code, version_label=doc.version_label, title=doc.title,
            jurisdiction=doc.jurisdiction, effective_date=doc.effective_date,
            source_name=doc.source_name, source_sha256=doc.source_sha256,
            source_format=doc.source_format, imported_at=tx.now,
        )
        tx.session.add(reg)
        tx.session.flush()
        tx.record("regulation.create", "regulation", reg.id, {
            "code": doc.code, "version_label": doc.version_label, "title": doc.title,
            "source_sha256": doc.source_sha256,
        })
        # ids are assigned here (the write lock is held) so parents need no flush per row
        next_id = (tx.session.exec(select(func.max(Clause.id))).one() or 0) + 1
        ids: dict[int, int] = {}
        events: list[tuple[int, dict[str, str]]] = []
        for position, (parent, node) in enumerate(doc.walk(), start=1):
            ids[id(node)] = cid = next_id + position - 1
            tx.session.add(Clause(
                id=cid, regulation_id=reg.id, ref=node.ref, position=position, kind=node.kind,
                title=node.title, text=node.text, summary=node.summary,
                assessable=node.assessable, text_hash=text_hash(node.text) if node.text else "",
                parent_id=ids[id(parent)] if parent is not None else None,
            ))
            events.append((cid, {"code": doc.code, "ref": node.ref, "kind": node.kind}))
        tx.record_many("clause.create", "clause", events)
    return reg


def list_regulations(store: Store) -> list[Regulation]:
    with store.read() as s:
        return list(s.exec(select(Regulation).order_by(Regulation.code,
                                                       Regulation.version_label)).all())
