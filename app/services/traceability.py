"""The traceability matrix: one row per (clause, control) mapping, one per gap (an applicable
obligation no mapping covers) and one per clause declared not applicable without a mapping —
with the clause, our summary, its applicability, the control with its owner and status, the
mapping, the evidence behind the control or the clause, the control's latest test and the
risks linked to either. Rows are in document order (regulation, clause), then control order.

**Filters.** `regulation` (a code), `control` (an id; gap rows have no control and drop out),
`status`: a control status (``implemented``…), a review status (``draft``, ``reviewed``,
``approved``) or ``gap``.

**As of a date** (`as_of`): the matrix as it stood at the end of that day (UTC), rebuilt from
the audit log — every mapping, control, applicability decision, evidence link and risk link
event after that moment is undone in reverse order (a deletion brings the row back from its
creation event, an update returns to its "from" value, a creation removes it); the
regulation versions are those imported by then; each piece of evidence shows its latest
version added by then, with its status on that day; the latest control test is the latest
tested and recorded by then; a risk's residual level is its latest assessment by then. Text
fields that are not audited field by field (titles, summaries) are today's.

The matrix's moment (`generated_at`) is the time of the audit head, and evidence statuses are
evaluated on one day (`statuses_on`: the `as_of` day, or today), printed with the filters:
the same workspace state, options and day give the same matrix, to the byte.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain import evidence as ev
from app.domain.controls import normalise_control_id
from app.domain.traceability import EvidenceCell, MatrixRow
from app.errors import InvalidInput
from app.services.snapshot import MappingRow, Snapshot, _reading, load_snapshot
from app.store import Store

CONTROL_STATUSES = ("not-started", "planned", "partial", "implemented", "not-applicable")
REVIEW_STATUSES = ("draft", "reviewed", "approved")
NOT_APPLICABLE = "not applicable"


@dataclass(slots=True)
class TraceMatrix:
    rows: list[MatrixRow]
    regulations: list[tuple[str, str, str]]  # (code, version, title) in the matrix
    filters: dict[str, str]
    generated_at: str  # the audit head's time (ISO UTC)
    audit_head: str
    audit_head_seq: int
    workspace: str
    stats: dict[str, Any] = field(default_factory=dict)
    statuses_on: str = ""  # the day evidence statuses are evaluated on (ISO date)


def _cutoff(as_of: date | None) -> str | None:
    return None if as_of is None else f"{as_of.isoformat()}T23:59:59.999Z"


def parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return ev.parse_date(text, "--as-of")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def check_status(status: str | None) -> str | None:
    if status is None:
        return None
    key = status.strip().lower().replace(" ", "-")
    if key not in (*CONTROL_STATUSES, *REVIEW_STATUSES, "gap"):
        raise InvalidInput(f"status {status!r} is not a control status "
                           f"({', '.join(CONTROL_STATUSES)}), a review status "
                           f"({', '.join(REVIEW_STATUSES)}) or 'gap'")
    return key


# ------------------------------------------------------------------------------ as of
def _events_after(dbapi: Any, cutoff: str, entities: tuple[str, ...]
                  ) -> list[tuple[str, str, str, str]]:
    marks = ",".join("?" * len(entities))
    return dbapi.execute(
        f"SELECT action, entity, entity_id, change FROM audit_event WHERE at > ? AND "
        f"entity IN ({marks}) ORDER BY seq DESC", [cutoff, *entities]).fetchall()


def _created(dbapi: Any, entity: str, entity_id: str) -> dict[str, Any]:
    row = dbapi.execute("SELECT change FROM audit_event WHERE entity = ? AND entity_id = ? "
                        "AND action LIKE '%.create' ORDER BY seq LIMIT 1",
                        [entity, entity_id]).fetchone()
    return json.loads(row[0]) if row else {}


def _undo(state: dict[str, dict[str, Any]], action: str, entity_id: str,
          change: dict[str, Any], restore: dict[str, Any]) -> None:
    """Step one event back: a creation is removed, a deletion restored, an update reverted."""
    verb = action.rpartition(".")[2]
    if verb == "create":
        state.pop(entity_id, None)
    elif verb == "delete":
        state[entity_id] = restore
    elif entity_id in state:
        for f, v in change.items():
            if isinstance(v, dict) and set(v) == {"from", "to"}:
                state[entity_id][f] = v["from"]


def _mappings_as_of(dbapi: Any, snap: Snapshot, cutoff: str) -> list[MappingRow]:
    state: dict[str, dict[str, Any]] = {str(m.id): m._asdict() for m in snap.mappings}
    for action, _entity, eid, change_json in _events_after(dbapi, cutoff, ("mapping",)):
        change = json.loads(change_json)
        restore: dict[str, Any] = {}
        if action.endswith(".delete"):
            created = _created(dbapi, "mapping", eid)
            restore = dict.fromkeys(MappingRow._fields) | {
                "id": int(eid), "clause_id": created.get("clause_id"),
                "control_id": change.get("control_id"), "matching": "", "flag": "",
                "strength": None, "created_at": "", "updated_at": "", "author": ""}
            restore |= {k: v for k, v in change.items() if k in MappingRow._fields}
        _undo(state, action, eid, change, restore)
    rows = [MappingRow(**{f: s.get(f) for f in MappingRow._fields}) for s in state.values()
            if s.get("clause_id") in snap.clauses]
    order = {cid: n for n, cid in enumerate(snap.clauses)}
    return sorted(rows, key=lambda m: (order[m.clause_id], m.control_id))


def _scope_as_of(dbapi: Any, cutoff: str | None, clause_ids: set[int]) -> dict[int, str]:
    """Clause id → justification of every clause not applicable (at the cutoff)."""
    rows = dbapi.execute("SELECT id, clause_id, applicable, justification FROM clause_scope"
                         ).fetchall()
    state = {str(i): {"clause_id": c, "applicable": bool(a), "justification": j}
             for i, c, a, j in rows}
    if cutoff is not None:
        for action, _entity, eid, change_json in _events_after(dbapi, cutoff,
                                                               ("clause_scope",)):
            _undo(state, action, eid, json.loads(change_json), {})
    return {s["clause_id"]: s["justification"] for s in state.values()
            if not s["applicable"] and s["clause_id"] in clause_ids}


def _controls(dbapi: Any, cutoff: str | None) -> dict[str, dict[str, Any]]:
    rows = dbapi.execute("SELECT id, name, owner, status, position FROM control "
                         "ORDER BY position").fetchall()
    state = {cid: {"name": n, "owner": o, "status": s, "position": p}
             for cid, n, o, s, p in rows}
    if cutoff is not None:
        for action, _entity, eid, change_json in _events_after(dbapi, cutoff, ("control",)):
            _undo(state, action, eid, json.loads(change_json), {})
    return state


def _links(dbapi: Any, table: str, owner: str, cutoff: str | None
           ) -> list[tuple[int, str | None, int | None]]:
    """(owner id, control id, clause id) of the evidence or risk links (at the cutoff)."""
    rows = dbapi.execute(f"SELECT id, {owner}, control_id, clause_id FROM {table}").fetchall()
    state = {str(i): {"owner": o, "control_id": c, "clause_id": k} for i, o, c, k in rows}
    if cutoff is not None:
        for action, _entity, eid, change_json in _events_after(dbapi, cutoff, (table,)):
            restore = {}
            if action.endswith(".delete"):
                created = _created(dbapi, table, eid)
                restore = {"owner": created.get(owner), "control_id": created.get("control_id"),
                           "clause_id": created.get("clause_id")}
            _undo(state, action, eid, json.loads(change_json), restore)
    return [(s["owner"], s["control_id"], s["clause_id"]) for s in state.values()
            if s["owner"] is not None]


# ------------------------------------------------------------------------------ the rows
def _evidence(dbapi: Any, cutoff: str | None, day: date) -> dict[int, EvidenceCell]:
    window = dbapi.execute("SELECT expiring_days FROM workspace").fetchone()
    window = window[0] if window else ev.DEFAULT_EXPIRING_DAYS
    sql = ("SELECT e.id, e.title, v.sha256, v.collected_at, v.valid_until, v.version "
           "FROM evidence e JOIN evidence_version v ON v.evidence_id = e.id")
    params: list[Any] = []
    if cutoff is not None:
        sql += " WHERE v.added_at <= ?"
        params.append(cutoff)
    latest: dict[int, tuple[Any, ...]] = {}
    for row in dbapi.execute(sql + " ORDER BY e.id, v.version", params).fetchall():
        latest[row[0]] = row
    return {eid: EvidenceCell(ev.evidence_label(eid), title, sha, collected[:10],
                              (until or "")[:10], ev.status_of(until, day, window))
            for eid, (_, title, sha, collected, until, _v) in latest.items()}


def _latest_tests(dbapi: Any, cutoff: str | None, day: date) -> dict[str, tuple[str, ...]]:
    sql = ("SELECT control_id, procedure, result, tested_on, tester FROM control_test "
           "WHERE tested_on <= ?")
    params: list[Any] = [day.isoformat()]
    if cutoff is not None:
        sql += " AND created_at <= ?"
        params.append(cutoff)
    out: dict[str, tuple[str, ...]] = {}
    for cid, procedure, result, tested_on, tester in dbapi.execute(
            sql + " ORDER BY tested_on, id", params).fetchall():
        out[cid] = (procedure, result, tested_on, tester)
    return out


def _residual(store: Store, dbapi: Any, cutoff: str | None) -> dict[int, str]:
    """Risk id → its residual level (by then), or "" when the residual is not scored."""
    from app.services.risk_register import matrices_by_id, stage

    matrices = matrices_by_id(store)
    sql = "SELECT risk_id, matrix_id, residual_likelihood, residual_impact FROM risk_score"
    params: list[Any] = []
    if cutoff is not None:
        sql += " WHERE scored_at <= ?"
        params.append(cutoff)
    out: dict[int, str] = {}
    for rid, mid, lk, im in dbapi.execute(sql + " ORDER BY id", params).fetchall():
        level = stage(matrices[mid], lk, im) if mid in matrices else None
        out[rid] = level.level if level else ""
    return out


def _audit_head(dbapi: Any, cutoff: str | None) -> tuple[int, str, str]:
    sql = "SELECT seq, hash, at FROM audit_event"
    params: list[Any] = []
    if cutoff is not None:
        sql += " WHERE at <= ?"
        params.append(cutoff)
    row = dbapi.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
    return (row[0], row[1], row[2]) if row else (0, "0" * 64, "1970-01-01T00:00:00.000Z")


def _version_ids(dbapi: Any, cutoff: str | None, code: str | None) -> list[int]:
    """The latest version of each regulation (imported by the cutoff), or of `code`."""
    from app.services.snapshot import _Version, _version_key

    regs = [_Version._make(r) for r in dbapi.execute(
        "SELECT id, code, version_label, title, effective_date, imported_at FROM regulation"
    ).fetchall()]
    if cutoff is not None:
        regs = [r for r in regs if r.imported_at <= cutoff]
    latest: dict[str, Any] = {}
    for r in regs:
        if r.code not in latest or _version_key(r) > _version_key(latest[r.code]):
            latest[r.code] = r
    if code is not None:
        want = code.strip().upper()
        if want not in latest:
            have = ", ".join(sorted(latest)) or "none"
            raise InvalidInput(f"no regulation {code!r} in the matrix (regulations: {have})")
        return [latest[want].id]
    return [r.id for r in latest.values()]


def build_matrix(store: Store, *, regulation: str | None = None, control: str | None = None,
                 status: str | None = None, as_of: date | None = None) -> TraceMatrix:
    """The traceability matrix (see the module doc)."""
    from app.services.analysis import reach
    from app.services.workspace import workspace_status

    status = check_status(status)
    if control is not None:
        try:
            control = normalise_control_id(control)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    if as_of is not None and as_of > store.clock().date():
        raise InvalidInput(f"--as-of {as_of.isoformat()} is in the future; the matrix can "
                           "only be rebuilt as it stood on a past day or today")
    cutoff = _cutoff(as_of)
    day = as_of or store.clock().date()
    with _reading(store) as dbapi:
        ids = _version_ids(dbapi, cutoff, regulation)
    snap = load_snapshot(store, ids)
    with _reading(store) as dbapi:
        if cutoff is not None:
            snap.mappings = _mappings_as_of(dbapi, snap, cutoff)
        snap.not_applicable = _scope_as_of(dbapi, cutoff, set(snap.clauses))
        controls = _controls(dbapi, cutoff)
        summaries = dict(dbapi.execute(
            f"SELECT id, summary FROM clause WHERE regulation_id IN "
            f"({','.join('?' * len(ids))})", ids).fetchall()) if ids else {}
        evidence = _evidence(dbapi, cutoff, day)
        ev_links = _links(dbapi, "evidence_link", "evidence_id", cutoff)
        risk_links = _links(dbapi, "risk_link", "risk_id", cutoff)
        tests = _latest_tests(dbapi, cutoff, day)
        residual = _residual(store, dbapi, cutoff)
        seq, head, head_at = _audit_head(dbapi, cutoff)
    if seq == 0:
        raise InvalidInput(f"--as-of {as_of}: the workspace did not exist yet on that day")

    ev_by_control: dict[str, list[int]] = defaultdict(list)
    ev_by_clause: dict[int, list[int]] = defaultdict(list)
    for eid, cid, clause_id in ev_links:
        if eid in evidence:
            (ev_by_control[cid] if cid else ev_by_clause[clause_id]).append(eid)
    risks_by_control: dict[str, list[int]] = defaultdict(list)
    risks_by_clause: dict[int, list[int]] = defaultdict(list)
    for rid, cid, clause_id in risk_links:
        if cid:
            risks_by_control[cid].append(rid)
        elif clause_id:
            risks_by_clause[clause_id].append(rid)

    r = reach(snap)
    covered = {cid for cid in r.obligations if r.by_control[cid]}
    obligations = set(r.obligations)
    out_of_scope: dict[int, str] = {}  # the clause (or the one enclosing it) declared N/A
    scope_root: dict[int, str] = {}  # the ref of the clause the decision was taken on
    for c in snap.preorder():
        parent = c.parent_id if c.parent_id in snap.clauses else None
        if c.id in snap.not_applicable:
            out_of_scope[c.id] = snap.not_applicable[c.id]
            scope_root[c.id] = c.ref
        elif parent in out_of_scope:
            out_of_scope[c.id] = out_of_scope[parent]
            scope_root[c.id] = scope_root[parent]
    # obligations as they would be if everything applied (those inside a N/A clause get a row)
    has_assessable_child = {c.parent_id for c in snap.clauses.values() if c.assessable}
    would_be = {c.id for c in snap.clauses.values()
                if c.assessable and c.id not in has_assessable_child}
    by_clause: dict[int, list[MappingRow]] = defaultdict(list)
    for m in snap.mappings:
        by_clause[m.clause_id].append(m)
    position = {cid: c["position"] for cid, c in controls.items()}

    titled: dict[int, tuple[str, str]] = {}  # a paragraph reads its article's title
    rows: list[MatrixRow] = []
    for c in snap.preorder():
        reg = snap.regulation[c.regulation_id]
        parent = c.parent_id if c.parent_id in snap.clauses else None
        above = titled.get(parent, ("", "")) if parent is not None else ("", "")
        titled[c.id] = (c.title or above[0], summaries.get(c.id) or above[1])
        base = {"regulation": reg.code, "version": reg.version_label, "clause_ref": c.ref,
                "clause_title": titled[c.id][0], "summary": titled[c.id][1]}
        if c.id in out_of_scope:
            base |= {"applicability": NOT_APPLICABLE,
                     "applicability_justification": out_of_scope[c.id]}
        mapped = sorted(by_clause.get(c.id, []), key=lambda m: position.get(m.control_id, 99))
        for m in mapped:
            ctl = controls.get(m.control_id, {})
            eids = list(dict.fromkeys(ev_by_control.get(m.control_id, [])
                                      + ev_by_clause.get(c.id, [])))
            rids = list(dict.fromkeys(risks_by_control.get(m.control_id, [])
                                      + risks_by_clause.get(c.id, [])))
            test = tests.get(m.control_id, ("", "", "", ""))
            rows.append(MatrixRow(
                **base, control_id=m.control_id, control_name=ctl.get("name", ""),
                control_owner=ctl.get("owner", ""),
                control_status=ctl.get("status", ""), relationship=m.relationship,
                strength=m.strength, coverage=m.coverage, rationale=m.rationale or "",
                review_status=m.review_status or "",
                evidence=tuple(evidence[e] for e in sorted(eids)),
                test_procedure=test[0], test_result=test[1], test_date=test[2],
                tester=test[3],
                risks=tuple((f"RK-{rid}", residual.get(rid, "")) for rid in sorted(rids))))
        if c.id in obligations and c.id not in covered:
            rows.append(MatrixRow(**base, gap=True,
                                  evidence=tuple(evidence[e] for e in
                                                 sorted(set(ev_by_clause.get(c.id, [])))),
                                  risks=tuple((f"RK-{rid}", residual.get(rid, ""))
                                              for rid in sorted(set(
                                                  risks_by_clause.get(c.id, []))))))
        elif c.id in out_of_scope and not mapped and (
                c.id in snap.not_applicable or c.id in would_be):
            # the clause declared not applicable, and each obligation it takes along
            declared = c.id if c.id in snap.not_applicable else None
            rows.append(MatrixRow(**base) if declared else MatrixRow(
                **base | {"applicability_justification":
                          f"{out_of_scope[c.id]} (declared on {scope_root[c.id]})"}))
    rows = [row for row in rows if _keep(row, control, status)]
    filters = {k: v for k, v in (("regulation", regulation and regulation.upper()),
                                 ("control", control), ("status", status),
                                 ("as_of", as_of.isoformat() if as_of else None),
                                 ("statuses_on", day.isoformat())) if v}
    return TraceMatrix(
        rows, [(g.code, g.version_label, g.title) for g in snap.regulations], filters,
        head_at, head, seq, workspace_status(store).name,
        {"rows": len(rows), "mappings": sum(1 for x in rows if x.control_id),
         "gaps": sum(1 for x in rows if x.gap),
         "not_applicable": sum(1 for x in rows if x.applicability == NOT_APPLICABLE)},
        day.isoformat())


def _keep(row: MatrixRow, control: str | None, status: str | None) -> bool:
    if control is not None and row.control_id != control:
        return False
    if status is None:
        return True
    if status == "gap":
        return row.gap
    if status in REVIEW_STATUSES:
        return row.review_status == status
    return row.control_status == status
