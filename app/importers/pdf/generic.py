"""Generic numbered documents (frameworks, standards, policies): structure from the numbering
("3", "3.2", "3.2.1"; "GOVERN 1.1") and, for unnumbered headings, from bold or larger type.

A number only opens a clause when it fits the sequence so far — the next sibling, or the
first child of the clause before it — so numbers inside sentences ("see 4.2 below", a year)
stay text. A short numbered line, or a bold one, is a heading with its title; a long one is
a clause whose text starts on that line.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.pdf.visual import Cleaned, VLine

_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,4})\.?\s+(\S.*)$")
_PREFIXED = re.compile(r"^([A-Z][A-Z-]{2,})\s+(\d{1,3}(?:\.\d{1,3}){0,3})[:.]?\s+(\S.*)$")


class GenericParser:
    def __init__(self, cleaned: Cleaned, path: Path) -> None:
        self.lines = cleaned.lines
        self.body = cleaned.body_size
        self.doc = RegulationDoc(code="", title="", version_label="", source_name=path.name,
                                 source_format="pdf:generic")
        self.unplaced: list[tuple[int, str]] = []
        self.open: dict[str, ClauseNode] = {}  # ref → node, for parents
        self.current: ClauseNode | None = None
        self.numbered: ClauseNode | None = None
        self.texts: dict[int, list[str]] = {}
        self.last: tuple[str, tuple[int, ...]] | None = None  # (prefix, number) of the last
        self.used: Counter[str] = Counter()
        self.page: int | None = None

    def _node(self, ref: str, kind: str, **fields: object) -> ClauseNode:
        return ClauseNode(ref, kind, page=self.page, **fields)  # type: ignore[arg-type]

    def parse(self) -> tuple[RegulationDoc, list[tuple[int, str]]]:
        self._identity()
        for ln in self.lines:
            self.page = ln.page
            self._line(ln)
        for node_id, parts in self.texts.items():
            node = self._by_id[node_id]
            node.text = " ".join(parts)
        return self.doc, self.unplaced

    def _identity(self) -> None:
        first_page = [ln for ln in self.lines if ln.page == 1] or self.lines[:30]
        if first_page:
            biggest = max(ln.size for ln in first_page)
            self.doc.title = " ".join(ln.text.strip() for ln in first_page
                                      if ln.size >= biggest - 0.5)[:300]
        text = " ".join(ln.text for ln in self.lines[:200])
        m = re.search(r"\b(?:Version|Revision|Rev\.)\s*([\w.]+)", text, re.IGNORECASE) or \
            re.search(r"\b((?:19|20)\d{2}-\d{2}-\d{2})\b", text)
        self.doc.version_label = m.group(1) if m else ""
        self._by_id: dict[int, ClauseNode] = {}

    def _line(self, ln: VLine) -> None:
        t = ln.text.strip()
        m = _PREFIXED.match(t)
        if m and self._fits(m.group(1), m.group(2)):
            self._open(m.group(1), m.group(2), m.group(3), ln)
            return
        m = _NUMBERED.match(t)
        if m and self._fits("", m.group(1)):
            self._open("", m.group(1), m.group(2), ln)
            return
        if self._is_heading(ln, t) and self.current is not None:
            self._open_heading(t)
            return
        if self.current is None:
            self.unplaced.append((ln.page, t))
            return
        self.texts.setdefault(id(self.current), []).append(t)

    def _fits(self, prefix: str, number: str) -> bool:
        parts = tuple(int(p) for p in number.split("."))
        if self.last is None or self.last[0] != prefix:
            return parts[-1] == 1 and (prefix or len(parts) == 1)
        last = self.last[1]
        if len(parts) == len(last) + 1:  # first child
            return parts[:-1] == last and parts[-1] == 1
        for depth in range(min(len(parts), len(last)), 0, -1):
            if len(parts) == depth and parts[:-1] == last[:depth - 1] \
                    and parts[-1] == last[depth - 1] + 1:
                return True
        return False

    def _open(self, prefix: str, number: str, rest: str, ln: VLine) -> None:
        parts = tuple(int(p) for p in number.split("."))
        self.last = (prefix, parts)
        ref = f"{prefix} {number}".strip()
        parent_ref = f"{prefix} {'.'.join(number.split('.')[:-1])}".strip() \
            if len(parts) > 1 else None
        parent = self.open.get(parent_ref) if parent_ref else None
        heading = ln.bold or ln.size > self.body + 0.5 or (
            len(rest) < 90 and not rest.endswith((".", ";", ":", ",")))
        node = self._node(ref, "heading" if heading else "clause",
                          title=rest if heading else "")
        self._by_id[id(node)] = node
        if not heading:
            self.texts[id(node)] = [rest]
        (parent.children if parent else self.doc.clauses).append(node)
        self.open[ref] = node
        self.current = self.numbered = node

    def _is_heading(self, ln: VLine, t: str) -> bool:
        return (ln.bold or ln.size > self.body + 1) and len(t) < 120 and not t.endswith(".")

    def _open_heading(self, t: str) -> None:
        """An unnumbered heading inside a numbered clause: a titled group of its text."""
        self.used[t] += 1
        owner = self.numbered or self.current
        ref = f"{owner.ref} — {t}" if owner else t  # type: ignore[union-attr]
        if self.used[t] > 1:
            ref = f"{ref} ({self.used[t]})"
        node = self._node(ref[:200], "heading", title=t)
        self._by_id[id(node)] = node
        owner.children.append(node)  # type: ignore[union-attr]
        self.current = node  # the text below it is its text


def parse_generic(cleaned: Cleaned, path: Path) -> tuple[RegulationDoc, list[tuple[int, str]]]:
    return GenericParser(cleaned, path).parse()
