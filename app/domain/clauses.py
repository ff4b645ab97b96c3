"""Plain clause trees: what importers produce and the regulation service persists."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field


def text_hash(text: str) -> str:
    """Hash of a clause's text with whitespace collapsed, for change detection across versions."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class ClauseNode:
    """One clause and its children, in document order."""

    ref: str
    kind: str
    title: str = ""
    text: str = ""
    summary: str = ""
    assessable: bool = True
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[ClauseNode] = field(default_factory=list)
    page: int | None = None  # where it starts in a paged source (shown in previews)

    def walk(self, parent: ClauseNode | None = None) -> Iterator[tuple[ClauseNode | None,
                                                                       ClauseNode]]:
        """Yield `(parent, node)` for this node and every descendant, depth first."""
        yield parent, self
        for child in self.children:
            yield from child.walk(self)


@dataclass(slots=True)
class RegulationDoc:
    """A regulation version as plain data: identity, provenance and its clause tree."""

    code: str
    title: str
    version_label: str
    jurisdiction: str = ""
    effective_date: str | None = None
    source_name: str = ""
    source_sha256: str = ""
    source_format: str = ""
    short_title: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    attribution: str = ""
    clauses: list[ClauseNode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # text of the source that no clause took (page, text): shown to the user, never dropped
    unplaced: list[tuple[int, str]] = field(default_factory=list)
    pages: int | None = None  # for paged sources (PDF)

    def walk(self) -> Iterator[tuple[ClauseNode | None, ClauseNode]]:
        for top in self.clauses:
            yield from top.walk()

    def count_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, node in self.walk():
            counts[node.kind] = counts.get(node.kind, 0) + 1
        return counts
