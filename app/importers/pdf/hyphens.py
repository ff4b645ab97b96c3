"""Words hyphenated at a line end, repaired once the whole document is read.

PDFium marks such a hyphen with U+FFFE. Whether it was a typesetter's break ("technolo-
gically") or a real hyphen that fell at the line end ("decision-making") is decided, in
order, by:

1. the document itself: the form it uses elsewhere wins;
2. the shape of the word: a compound that already has a hyphen ("out-of-date"), an acronym
   ("ANSI-accredited"), a part starting with a digit or a capital ("1320a-7a", "non-EU") or a
   prefix that English keeps apart ("non-", "pre-", "cross-", "half-") keeps its hyphen;
3. the document's habit: if most of the breaks step 1 could settle were real hyphens (as in
   the HHS HIPAA text, which breaks lines only at hyphens), the rest keep theirs too;
4. otherwise the word is joined.

A hyphen PDFium did not mark (a line ending "Public Law 104-") is a real one: the line
break's space after it goes ("104-191"), unless a word like "and" follows ("pre- and post-").
A web address broken at a line end is joined without the space the line break left.
"""

from __future__ import annotations

import re
from collections import Counter

from app.domain.clauses import RegulationDoc
from app.importers.pdf.lines import HARD_BREAK, HYPHEN_MARK

_MARKED = re.compile(rf"([\w'’]+(?:-[\w'’]+)*|){HYPHEN_MARK}\s*([\w'’]*)")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_HARD = re.compile(rf"{HARD_BREAK}(\s*)(?=(and|or|to|nor)\b)?")
_URL_BREAK = re.compile(r"(https?://\S*[./])\s+(?=[a-z0-9/])")
_KEPT_PREFIXES = frozenset({"non", "pre", "post", "self", "cross", "half", "anti", "multi",
                            "semi", "quasi", "ex", "well"})


def join_hyphenated(doc: RegulationDoc) -> None:
    """Repair every marked break in the clause titles and texts and in the unplaced text."""
    nodes = [node for _, node in doc.walk()]
    texts = [t for n in nodes for t in (n.title, n.text)] + [t for _, t in doc.unplaced]
    if not any(HYPHEN_MARK in t or HARD_BREAK in t or "://" in t for t in texts):
        return
    breaks = [m.groups() for t in texts if HYPHEN_MARK in t for m in _MARKED.finditer(t)]
    seen = _usage(texts, {form for head, tail in breaks if head and tail
                          for form in ((head + tail).casefold(), f"{head}-{tail}".casefold())})
    known = Counter(_by_usage(head, tail, seen) for head, tail in breaks if head and tail)
    habit = "hyphen" if known["hyphen"] > known["join"] and known["hyphen"] >= 3 else "join"

    def repair(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        if not head or not tail:
            return f"{head}-{tail}" if head and not tail else head + tail
        choice = _by_usage(head, tail, seen) or _by_shape(head, tail) or habit
        return f"{head}-{tail}" if choice == "hyphen" else head + tail

    def fix(text: str) -> str:
        if HYPHEN_MARK in text:
            text = _MARKED.sub(repair, text)
        if HARD_BREAK in text:
            text = _HARD.sub(lambda m: m.group(1) if m.group(2) else "", text)
        return _URL_BREAK.sub(r"\1", text) if "://" in text else text

    for node in nodes:
        node.title, node.text = fix(node.title), fix(node.text)
    doc.unplaced = [(page, fix(text)) for page, text in doc.unplaced]


def _usage(texts: list[str], wanted: set[str]) -> Counter[str]:
    """How often each wanted word form occurs outside the breaks, text by text (a long
    document is never held twice)."""
    seen: Counter[str] = Counter()
    for text in texts:
        if HYPHEN_MARK in text:
            text = _MARKED.sub(" ", text)
        seen.update(w for w in _WORD.findall(text.casefold()) if w in wanted)
    return seen


def _by_usage(head: str, tail: str, seen: Counter[str]) -> str | None:
    joined, hyphened = (head + tail).casefold(), f"{head}-{tail}".casefold()
    if seen[hyphened] > seen[joined]:
        return "hyphen"
    return "join" if seen[joined] else None


def _by_shape(head: str, tail: str) -> str | None:
    if "-" in head or tail[0].isdigit() or tail[0].isupper() or head[-1].isdigit() \
            or (head.isupper() and len(head) > 1) or head.casefold() in _KEPT_PREFIXES:
        return "hyphen"
    return None
