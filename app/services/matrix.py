"""The clause × control matrix of one regulation version, for the Mapping screen.

Built from one snapshot of the regulation (`app.services.snapshot`, the clauses without their
text and the mappings) and the analyses' own reach (`app.services.analysis.reach`), so its gaps
are exactly those of `crosswalk gaps`. It answers what the screen asks on every key press
without touching the database: the rows shown for the expanded clauses, the mapping in a
cell, what covers a clause from above, and where the next gap is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.controls import CONTROL_IDS
from app.store import Store

RECITALS = -1  # the id of the row that holds the recitals


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    parent_id: int | None
    ref: str
    title: str
    kind: str
    assessable: bool


@dataclass(frozen=True, slots=True)
class Cell:
    """One mapping as the matrix shows it."""

    relationship: str
    coverage: str
    strength: int
    review_status: str
    flag: str


@dataclass(slots=True)
class Matrix:
    regulation_id: int
    rows: list[Row]  # document order
    cells: dict[int, dict[str, Cell]]  # clause id → control → its mapping
    children: dict[int | None, list[Row]] = field(default_factory=dict)
    by_id: dict[int, Row] = field(default_factory=dict)
    order: dict[int, int] = field(default_factory=dict)  # clause id → document position

    mapped_below: dict[int, set[str]] = field(default_factory=dict)  # controls under a clause
    head: int = 0  # the audit head it was read at: unchanged head, unchanged matrix
    obligations: list[int] = field(default_factory=list)  # see `crosswalk coverage`
    gap_ids: set[int] = field(default_factory=set)  # obligations no mapping covers

    def __post_init__(self) -> None:
        for i, r in enumerate(self.rows):
            self.children.setdefault(r.parent_id, []).append(r)
            self.by_id[r.id] = r
            self.order[r.id] = i
        for r in reversed(self.rows):  # children come after their parent
            if r.parent_id is not None and (under := self.mapped_below.get(r.id, set()) |
                                            set(self.cells.get(r.id, ()))):
                self.mapped_below.setdefault(r.parent_id, set()).update(under)

    @classmethod
    def load(cls, store: Store, regulation_id: int) -> Matrix:
        from app.services.analysis import reach
        from app.services.audit import head_seq
        from app.services.snapshot import load_snapshot

        head = head_seq(store)  # read first: a write in between only makes the next reload
        snap = load_snapshot(store, [regulation_id])
        rows = [Row(c.id, c.parent_id, c.ref, c.title, c.kind, c.assessable)
                for c in snap.clauses.values()]
        cells: dict[int, dict[str, Cell]] = {}
        for m in snap.mappings:
            cells.setdefault(m.clause_id, {})[m.control_id] = Cell(
                m.relationship, m.coverage, m.strength, m.review_status, m.flag)
        r = reach(snap)
        return cls(regulation_id, rows, cells, head=head, obligations=r.obligations,
                   gap_ids={cid for cid in r.obligations if not r.by_control[cid]})

    # ------------------------------------------------------------------ the tree
    def visible(self, expanded: set[int]) -> list[tuple[int, Row]]:
        """(depth, row) of the rows shown: top-level clauses, and the children of expanded
        ones, in document order. The recitals are folded into one row (RECITALS) of their
        own, since they are not obligations."""
        out: list[tuple[int, Row]] = []
        top = self.children.get(None, [])
        recitals = [r for r in top if r.kind == "recital"]
        if len(recitals) > 1:
            group = Row(RECITALS, None, f"Recitals {recitals[0].ref.split()[-1]}–"
                        f"{recitals[-1].ref.split()[-1]}", "not assessable", "group", False)
            self.children[RECITALS] = recitals
            self.by_id[RECITALS] = group
            top = [group, *(r for r in top if r.kind != "recital")]
        stack = [(0, r) for r in reversed(top)]
        while stack:
            depth, row = stack.pop()
            out.append((depth, row))
            if row.id in expanded:
                stack += [(depth + 1, c) for c in reversed(self.children.get(row.id, []))]
        return out

    def ancestors(self, clause_id: int) -> list[int]:
        out, parent = [], self.by_id[clause_id].parent_id
        while parent is not None:
            out.append(parent)
            parent = self.by_id[parent].parent_id
        return out

    def has_children(self, clause_id: int) -> bool:
        return bool(self.children.get(clause_id))

    # ------------------------------------------------------------------ mappings
    def cell(self, clause_id: int, control: str) -> Cell | None:
        return self.cells.get(clause_id, {}).get(control)

    def inherited(self, clause_id: int, control: str) -> Cell | None:
        """The mapping of the nearest ancestor to `control` that covers this clause."""
        for a in self.ancestors(clause_id):
            c = self.cell(a, control)
            if c is not None and c.relationship != "no-relationship":
                return c
        return None

    def below(self, clause_id: int, control: str) -> bool:
        """Whether a clause under this one is mapped to `control` (shown when folded)."""
        return control in self.mapped_below.get(clause_id, ())

    def is_gap(self, row: Row) -> bool:
        return row.id in self.gap_ids

    def gaps(self) -> list[Row]:
        return [r for r in self.rows if r.id in self.gap_ids]

    def next_gap(self, after: int | None) -> Row | None:
        """The first gap after clause `after` in document order, wrapping to the start."""
        start = self.order[after] + 1 if after in self.order else 0
        n = len(self.rows)
        for i in range(n):
            row = self.rows[(start + i) % n]
            if self.is_gap(row):
                return row
        return None


CONTROLS: tuple[str, ...] = CONTROL_IDS
