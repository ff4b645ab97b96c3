"""Applicability: the analyst's decision that a clause does not apply to the organisation (a
HIPAA section for a lender with no health data, an AI Act obligation of providers for a mere
deployer), always with a written justification, or that it applies again.

A clause declared not applicable takes the clauses inside it along: none of them is an
obligation any more, so coverage and gaps leave them out (`analysis.reach`), and the
traceability matrix shows them with the justification. Every decision is audited; declaring
a clause applicable again keeps the row (and its history in the audit log) with
``applicable`` true.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from app.domain.text import clean_text
from app.errors import InvalidInput
from app.store import Store
from app.store.models import ClauseScope

MAX_JUSTIFICATION = 2000


@dataclass(frozen=True, slots=True)
class ScopeDecision:
    code: str
    version_label: str
    ref: str
    title: str
    applicable: bool
    justification: str
    decided_at: str
    decided_by: str

    @property
    def full_ref(self) -> str:
        return f"{self.code} {self.ref}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "version_label": self.version_label, "ref": self.ref,
                "full_ref": self.full_ref, "title": self.title, "applicable": self.applicable,
                "justification": self.justification, "decided_at": self.decided_at,
                "decided_by": self.decided_by}


def set_applicability(store: Store, full_ref: str, *, applicable: bool,
                      justification: str | None = None) -> dict[str, Any]:
    """Declare a clause not applicable (a justification is required) or applicable again;
    the change as recorded (``{}`` when nothing changed)."""
    from app.services.regulations import find_clause

    try:
        why = clean_text(justification or "", "the justification", MAX_JUSTIFICATION,
                         multiline=True, required=not applicable)
    except ValueError as exc:
        raise InvalidInput(f"{exc}: say why {full_ref} does not apply" if not applicable
                           else str(exc)) from None
    reg, clause = find_clause(store, full_ref)
    assert clause.id is not None
    with store.write() as tx:
        row = tx.session.exec(select(ClauseScope)
                              .where(ClauseScope.clause_id == clause.id)).first()
        label = f"{reg.code} {clause.ref}"
        if row is None:
            if applicable:
                return {}  # a clause with no decision applies already
            row = ClauseScope(clause_id=clause.id, applicable=False, justification=why,
                              decided_at=tx.now, decided_by=tx.store.actor)
            tx.session.add(row)
            tx.session.flush()
            change = {"ref": label, "applicable": False, "justification": why}
            tx.record("clause_scope.create", "clause_scope", row.id or 0, change)
            return change
        wanted: dict[str, Any] = {"applicable": applicable, "justification": why}
        if all(getattr(row, f) == v for f, v in wanted.items()):
            return {}
        wanted |= {"decided_at": tx.now, "decided_by": tx.store.actor}
        return tx.update(row, wanted, "clause_scope.update", "clause_scope", row.id or 0)


def list_decisions(store: Store, code: str | None = None, *,
                   not_applicable_only: bool = True) -> list[ScopeDecision]:
    """The applicability decisions (by default the clauses not applicable), in document
    order, optionally of one regulation code."""
    from app.services.snapshot import _reading

    sql = ("SELECT r.code, r.version_label, c.ref, c.title, s.applicable, s.justification, "
           "s.decided_at, s.decided_by FROM clause_scope s JOIN clause c ON c.id = s.clause_id "
           "JOIN regulation r ON r.id = c.regulation_id")
    where, params = [], []
    if not_applicable_only:
        where.append("s.applicable = 0")
    if code:
        where.append("r.code = ?")
        params.append(code.strip().upper())
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY r.code, r.version_label, c.position"
    with _reading(store) as dbapi:
        rows = dbapi.execute(sql, params).fetchall()
    return [ScopeDecision(code, version, ref, title, bool(applicable), why, at, by)
            for code, version, ref, title, applicable, why, at, by in rows]
