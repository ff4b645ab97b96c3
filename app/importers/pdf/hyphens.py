"""Words hyphenated at a line end, repaired once the whole document is read.

PDFium marks such a hyphen with U+FFFE. Whether it was a typesetter's break ("technolo-
gically") or a real hyphen that fell at the line end ("decision-making") is decided by the
document itself: the form it uses elsewhere wins; a part starting with a digit or a capital
keeps its hyphen ("1320a-7a", "non-EU"); otherwise the word is joined.
"""

from __future__ import annotations

import re
from collections import Counter

from app.domain.clauses import RegulationDoc
from app.importers.pdf.lines import HYPHEN_MARK

_MARKED = re.compile(rf"([\w'’]*){HYPHEN_MARK}\s*([\w'’]*)")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def join_hyphenated(doc: RegulationDoc) -> None:
    """Repair every marked break in the clause titles and texts and in the unplaced text."""
    nodes = [node for _, node in doc.walk()]
    texts = [t for n in nodes for t in (n.title, n.text)] + [t for _, t in doc.unplaced]
    if not any(HYPHEN_MARK in t for t in texts):
        return
    seen = Counter(_WORD.findall(_MARKED.sub(" ", "\n".join(texts)).casefold()))

    def repair(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        if not head or not tail:
            return f"{head}-{tail}" if head and not tail else head + tail
        joined, hyphened = (head + tail).casefold(), f"{head}-{tail}".casefold()
        if seen[hyphened] > seen[joined]:
            return f"{head}-{tail}"
        if seen[joined] or not (tail[0].isdigit() or tail[0].isupper() or head[-1].isdigit()):
            return head + tail
        return f"{head}-{tail}"

    for node in nodes:
        if HYPHEN_MARK in node.title:
            node.title = _MARKED.sub(repair, node.title)
        if HYPHEN_MARK in node.text:
            node.text = _MARKED.sub(repair, node.text)
    doc.unplaced = [(page, _MARKED.sub(repair, text) if HYPHEN_MARK in text else text)
                    for page, text in doc.unplaced]
