"""One read snapshot of the mapping graph's rows: regulations, clause trees, controls, mappings.

Every analysis (coverage, gaps, overlap, checks, impact, the networkx graph) works from a
:class:`Snapshot` loaded in one read transaction with a handful of SELECTs of plain columns
(no ORM objects per row, no query per clause), so a 10,000-clause / 30,000-mapping workspace
loads in a few tens of milliseconds and the answers are consistent with each other.

By default a snapshot holds the **latest version** of every regulation; `regulation_ids`
chooses versions explicitly (a version diff needs both sides).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from app.domain.clock import iso_utc
from app.errors import NotFound

if TYPE_CHECKING:
    from app.store import Store
    from app.store.reader import Reader

NO_RELATIONSHIP = "no-relationship"


class RegRow(NamedTuple):
    id: int
    code: str
    version_label: str
    title: str
    latest: bool


class ClauseRow(NamedTuple):
    id: int
    regulation_id: int
    parent_id: int | None
    ref: str
    kind: str
    title: str
    assessable: bool
    position: int


class ControlRow(NamedTuple):
    id: str
    name: str
    position: int


class MappingRow(NamedTuple):
    id: int
    clause_id: int
    control_id: str
    relationship: str
    coverage: str
    strength: int
    matching: str
    review_status: str
    author: str
    flag: str
    created_at: str
    updated_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    rationale: str = ""

    @property
    def relates(self) -> bool:
        """Whether the mapping says the control meets the clause at all."""
        return self.relationship != NO_RELATIONSHIP


@dataclass(slots=True)
class Snapshot:
    """The rows of the chosen regulation versions, in document order, and the clock reading
    taken when they were read (``now``, ISO UTC)."""

    now: str
    regulations: list[RegRow]
    clauses: dict[int, ClauseRow]  # regulation by regulation, each in document order
    controls: list[ControlRow]
    mappings: list[MappingRow]  # by clause (document order), then control; lean: any order
    # clauses declared not applicable (clause id → justification); see services.applicability
    not_applicable: dict[int, str] = field(default_factory=dict)
    _children: dict[int | None, list[int]] | None = field(default=None, repr=False)
    regulation: dict[int, RegRow] = field(init=False, repr=False)  # by id

    def __post_init__(self) -> None:
        self.regulation = {r.id: r for r in self.regulations}

    @property
    def children(self) -> dict[int | None, list[int]]:
        """Clause ids by parent id (``None``: top-level clauses), in document order."""
        if self._children is None:
            out: dict[int | None, list[int]] = {}
            for c in self.clauses.values():
                parent = c.parent_id if c.parent_id in self.clauses else None
                out.setdefault(parent, []).append(c.id)
            self._children = out
        return self._children

    def preorder(self) -> Iterator[ClauseRow]:
        """Every clause after its parent (document order within each regulation)."""
        kids = self.children
        stack = list(reversed(kids.get(None, [])))
        while stack:
            cid = stack.pop()
            yield self.clauses[cid]
            stack.extend(reversed(kids.get(cid, [])))

    def ancestors(self, clause_id: int) -> list[int]:
        """Ids of the clauses enclosing `clause_id`, nearest first."""
        out: list[int] = []
        parent = self.clauses[clause_id].parent_id
        while parent is not None and parent in self.clauses:
            out.append(parent)
            parent = self.clauses[parent].parent_id
        return out

    def descendants(self, clause_id: int) -> list[int]:
        """Ids of the clauses inside `clause_id`, in document order."""
        kids = self.children
        out: list[int] = []
        stack = list(reversed(kids.get(clause_id, [])))
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(reversed(kids.get(cid, [])))
        return out

    def full_ref(self, clause_id: int) -> str:
        c = self.clauses[clause_id]
        return f"{self.regulation[c.regulation_id].code} {c.ref}"


def _fetch(dbapi: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """All rows, decoding text natively (several times faster than the store's lenient text
    factory); only text that is not UTF-8 (a hand-edited file) falls back to the lenient one."""
    lenient = dbapi.text_factory
    dbapi.text_factory = str
    try:
        try:
            return dbapi.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
            dbapi.text_factory = lenient
            return dbapi.execute(sql, params).fetchall()
    finally:
        dbapi.text_factory = lenient


_MAPPING_COLUMNS = ", ".join(MappingRow._fields)
_LEAN_COLUMNS = "id, clause_id, control_id, relationship, coverage"
_LEAN_DEFAULTS = (0, "", "", "", "", "", "", None, None, "")  # strength … rationale


class _Version(NamedTuple):
    id: int
    code: str
    version_label: str
    title: str
    effective_date: str | None
    imported_at: str


def _version_key(r: _Version) -> tuple[str, int]:
    """The order of versions: `app.services.regulations._version_key`, repeated here so that
    the analyses need not import the regulation services (and their importers)."""
    return (r.effective_date or r.imported_at[:10], r.id or 0)


@contextmanager
def _reading(source: Store | Reader) -> Iterator[Any]:
    """The driver connection of one read transaction, from a store or a reader."""
    from app.store.reader import Reader

    if isinstance(source, Reader):
        with source.read() as con:
            yield con
    else:
        with source.read() as s:
            yield s.connection().connection.dbapi_connection


def _not_found(regs: list[_Version], code: str, version: str | None) -> NotFound:
    """What `get_regulation` says when a code or version is not there."""
    codes = sorted({r.code for r in regs})
    if code not in codes:
        return NotFound(f"no regulation {code!r} in the workspace (regulations: "
                        f"{', '.join(codes) or 'none'})")
    have = ", ".join(r.version_label for r in sorted(
        (r for r in regs if r.code == code), key=_version_key))
    return NotFound(f"{code} has no version {version!r} (versions: {have})")


def load_snapshot(store: Store | Reader, regulation_ids: Iterable[int] | None = None, *,
                  also: Iterable[int] = (), code: str | None = None,
                  version: str | None = None, lean: bool = False,
                  reviewed_only: bool = False) -> Snapshot:
    """Read the rows of the given regulation versions in one read transaction: four SELECTs,
    rows read straight from the driver. By default the latest version of every code, plus the
    versions in `also`; with `code`, only that regulation's latest version (or `version`).
    `lean` reads only what coverage and gaps need of each mapping (id, clause, control,
    relationship, coverage; the other fields are left empty); `reviewed_only` leaves out the
    draft mappings (what an auditor would accept so far)."""
    now = iso_utc(store.clock())
    with _reading(store) as dbapi:  # one read transaction for all
        regs = [_Version._make(row) for row in _fetch(dbapi, (
            "SELECT id, code, version_label, title, effective_date, imported_at "
            "FROM regulation"), [])]
        latest: dict[str, _Version] = {}
        for r in regs:
            if r.code not in latest or _version_key(r) > _version_key(latest[r.code]):
                latest[r.code] = r
        if code is not None:
            want = code.strip().upper()
            found = [r for r in regs if r.code == want and (
                r.version_label == version if version is not None else r is latest[want])]
            if not found:
                raise _not_found(regs, want, version)
            regulation_ids = [r.id for r in found if r.id is not None]
        wanted = ({r.id for r in latest.values()} | set(also) if regulation_ids is None
                  else set(regulation_ids))
        chosen = sorted((r for r in regs if r.id in wanted),
                        key=lambda r: (r.code, _version_key(r)))
        ids = [int(r.id) for r in chosen if r.id is not None]
        marks = ",".join("?" * len(ids))
        clause_rows = _fetch(dbapi, (
            "SELECT id, regulation_id, parent_id, ref, kind, title, assessable, position "
            f"FROM clause WHERE regulation_id IN ({marks})"), ids)
        control_rows = _fetch(dbapi, "SELECT id, name, position FROM control "
                                     "ORDER BY position", [])
        columns = _LEAN_COLUMNS if lean else _MAPPING_COLUMNS
        mapping_rows = _fetch(dbapi, (
            f"SELECT {', '.join('m.' + c.strip() for c in columns.split(','))} FROM mapping m "
            f"JOIN clause c ON c.id = m.clause_id WHERE c.regulation_id IN ({marks})"
            + (" AND m.review_status IN ('reviewed', 'approved')" if reviewed_only else "")), ids)
        scope_rows = _fetch(dbapi, (
            "SELECT s.clause_id, s.justification FROM clause_scope s JOIN clause c ON "
            f"c.id = s.clause_id WHERE s.applicable = 0 AND c.regulation_id IN ({marks})"), ids)
    order = {rid: i for i, rid in enumerate(ids)}
    clause_list = [ClauseRow._make((*row[:6], bool(row[6]), row[7])) for row in clause_rows]
    clause_list.sort(key=lambda c: (order[c.regulation_id], c.position))
    by_order = {c.id: i for i, c in enumerate(clause_list)}
    make = MappingRow._make
    if lean:  # coverage and gaps do not need the mappings in order
        mappings = [make(row + _LEAN_DEFAULTS) for row in mapping_rows]
    else:
        mappings = list(map(make, mapping_rows))
        mappings.sort(key=lambda m: (by_order[m.clause_id], m.control_id))
    return Snapshot(
        now=now,
        regulations=[RegRow(r.id or 0, r.code, r.version_label, r.title,
                            latest[r.code] is r) for r in chosen],
        clauses={c.id: c for c in clause_list},
        controls=[ControlRow(*row) for row in control_rows],
        mappings=mappings,
        not_applicable=dict(scope_rows),
    )
