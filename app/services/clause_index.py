"""An in-memory index of one regulation version's clauses, for browsing and filtering.

Built with one query (no text: that is fetched per clause when shown), it answers "children of
X" and "clauses matching these words" without touching the database again, so a tree of
10,000 clauses opens fast and filtering keeps up with typing.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store import Store


@dataclass(frozen=True, slots=True)
class ClauseRow:
    id: int
    parent_id: int | None
    ref: str
    kind: str
    title: str
    summary: str
    assessable: bool
    has_text: bool
    haystack: str  # lower-cased ref, title, summary and text, for filtering

    @property
    def label(self) -> str:
        name = self.title or self.summary
        return f"{self.ref} — {name}" if name else self.ref


class ClauseIndex:
    """The clauses of one regulation version, in document order, with their tree."""

    def __init__(self, rows: list[ClauseRow]) -> None:
        self.rows = rows
        self.by_id = {r.id: r for r in rows}
        self.children: dict[int | None, list[ClauseRow]] = {}
        for r in rows:
            self.children.setdefault(r.parent_id, []).append(r)

    @classmethod
    def load(cls, store: Store, regulation_id: int) -> ClauseIndex:
        with store.raw() as run:
            result = run(
                "SELECT id, parent_id, ref, kind, title, summary, assessable, text "
                "FROM clause WHERE regulation_id = ? ORDER BY position", (regulation_id,))
            rows = [ClauseRow(i, p, ref, kind, title, summary, bool(a), bool(text),
                              f"{ref}\n{title}\n{summary}\n{text}".lower())
                    for i, p, ref, kind, title, summary, a, text in result]
        return cls(rows)

    def roots(self) -> list[ClauseRow]:
        return self.children.get(None, [])

    def kids(self, clause_id: int) -> list[ClauseRow]:
        return self.children.get(clause_id, [])

    def descendants(self, clause_id: int) -> list[int]:
        out: list[int] = []
        stack = [clause_id]
        while stack:
            for row in self.kids(stack.pop()):
                out.append(row.id)
                stack.append(row.id)
        return out

    def search(self, query: str, limit: int = 500) -> tuple[list[ClauseRow], int]:
        """Clauses whose ref, title, summary or text contain every word of `query` (any case):
        `art. 32(1)` finds the paragraph and its points, `breach notification` the articles
        that speak of it. Returns the first `limit` matches and the total."""
        words = query.lower().split()
        if not words:
            return [], 0
        found = [r for r in self.rows if all(w in r.haystack for w in words)]
        return found[:limit], len(found)
