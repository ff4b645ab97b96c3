"""US Code of Federal Regulations texts (the HHS combined HIPAA text and eCFR-style prints),
from visual lines to a clause tree with CFR refs: ``§ 164.308(a)(1)(ii)(A)``.

- Headings are the bold lines: "PART 164—…", "Subpart C—…", "§ 164.308 Administrative
  safeguards." (a heading may wrap over several bold lines). Prints that set them in roman
  (GPO, eCFR) have them on a line of their own after a finished sentence: the whole line
  matches, a part title is in capitals, a section title ends with a period. Tables of
  contents (dotted leaders) and the per-part contents lists (not bold) are left unplaced.
- Paragraphs follow the CFR's six levels of labels — (a), (1), (i), (A), then italic (1) and
  (i) — decided by what may come next in each level, so "(i)" after "(h)" stays a letter. A
  label counts only at the start of a line that opens a paragraph: after a blank gap, the end
  of a sentence or of a list item ("; and"), or set in by a first-line indent; chains such
  as "(1)(i)" open both levels at once.
- "Standard: X." makes its paragraph a standard titled X; "X (Required)." and
  "X (Addressable)." make it an implementation specification with that requirement (the
  Security Rule's kind); "Implementation specification: X." elsewhere stays a paragraph
  whose title keeps those words.
- Source notes ("[68 FR 8376, …]"), AUTHORITY and SOURCE lines and appendices are unplaced.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.eu import act_date
from app.importers.pdf.eu_oj import _next_labels
from app.importers.pdf.visual import Cleaned, VLine

_PART = re.compile(r"^PART (\d+)\s*[—–-]\s*(.*)$")
_SUBPART = re.compile(r"^Subpart ([A-Z])(?:\s*[—–-]\s*(.*)|\s+\[Reserved\])?$")
_SUBPARTS = re.compile(r"^Subparts ([A-Z])\s*[—–-]\s*([A-Z])\s+\[Reserved\]$")
_RANGE = re.compile(r"^[—–-]\s*\(([a-z]|\d{1,2}|[ivxl]+|[A-Z])\)\s*")  # "(b)-(d) [Reserved]"
_SECTION = re.compile(r"^§\s?(\d+\.\d+)\s+(.*)$")
_LABEL = re.compile(r"^\(([a-z]{1,2}|\d{1,2}|[ivxl]+|[A-Z]{1,2})\)")
_SOURCE_NOTE = re.compile(r"^\[\d+ FR \d+")
_ENTRY = re.compile(r"^(?:§|Subparts? [A-Z]|Appendix [A-Z] |PART \d)")  # of a contents list
_NUMBERED_ENTRY = re.compile(r"^\d+\.\d+\s")  # "11.10 Controls for closed systems." (GPO)
_EDITION = re.compile(r"\((\d{1,2})[–-](\d{1,2})[–-](\d{2}) Edition\)")
_UNPLACED_START = re.compile(r"^(AUTHORITY|SOURCE|EFFECTIVE DATE NOTE):")
# "Appendix A to Subpart C of Part 164—Security Standards: Matrix", over two or three lines
_APPENDIX = re.compile(r"^Appendix ([A-Z]) to (?:Subpart ([A-Z]) of )?Part\b")
_APPENDIX_TITLE = re.compile(r"^Appendix ([A-Z]) to (?:Subpart ([A-Z]) of )?Part (\d+)"
                             r"(?:\s*[—–-]\s*(.+))?$")
_REQUIREMENT = re.compile(r"^(.*?)\s*\((Required|Addressable)\)\.?\s*(.*)$", re.S)
_STANDARD = re.compile(r"^Standard(?::\s*(.*?))?(?:\.\s+|\.$|\s*—\s*|$)(.*)$", re.S)
_IMPL = re.compile(r"^Implementation specifications?:?\s*(.*)$", re.S)
_IMPL_TITLE = re.compile(r"^Implementation specifications?:\s*(.+?)(?:\.\s+(.*)|\.?\s*$)", re.S)
# a sub-paragraph run on after its parent's heading: "(a) Standard —(1) General rule. …",
# "Content of notification. (1) The …", "(k) Standard: Group health plans. (1)"
_RUN_ON = re.compile(r"(?:\s*—\s*|(?<=[.:])\s+)\(([a-z]|\d{1,2}|[ivx]{1,4}|[A-Z])\)(?:\s+|$)")
_DASH_HEADING = re.compile(r"([A-Z][^.]{1,60}\.)(?=\s|$)")
_HEADING_MAX = 160  # characters of a paragraph that may still be its heading
_PLAIN_HEADING_MAX = 90  # characters of a heading line not set in bold
_CAPTIONS = ("Contents", "Sec", "Sec.", "Section")  # over a contents list
_ITEM_END = (".", ":", ";", "; and", "; or")  # what a line before a new paragraph ends with
_ROMAN = set("ivxl")
_LEVEL_KINDS = ("lower", "digit", "roman", "upper", "digit", "roman")


def _kind_of(label: str) -> set[int]:
    """Which CFR levels (0–5) a label could belong to."""
    if label.isdigit():
        return {1, 4}
    if label.isupper():
        return {3}
    out = {0}
    if set(label) <= _ROMAN:
        out |= {2, 5}
    return out


class _Para:
    __slots__ = ("headed", "italic", "italic_open", "label", "level", "node", "own")

    def __init__(self, node: ClauseNode, level: int, label: str) -> None:
        self.node = node
        self.level = level
        self.label = label
        self.own: list[str] = []
        self.headed = False  # its heading was followed by a run-on sub-paragraph
        self.italic = ""  # its italic heading ("General requirements."), maybe wrapped
        self.italic_open = False  # the italic heading runs on to the next line


class CfrParser:
    def __init__(self, cleaned: Cleaned, path: Path) -> None:
        self.lines = cleaned.lines
        self.path = path
        self.doc = RegulationDoc(code="", title="", version_label="", jurisdiction="US",
                                 source_name=path.name, source_format="pdf:cfr")
        self.unplaced: list[tuple[int, str]] = []
        self.part: ClauseNode | None = None
        self.subpart: ClauseNode | None = None
        self.section: ClauseNode | None = None
        self.section_own: list[str] = []
        self.stack: list[_Para] = []
        self.heading: ClauseNode | None = None  # a heading still taking title lines
        self.heading_plain = False  # that heading is not set in bold
        self.page: int | None = None
        self.skipping = False  # inside a note block
        self.in_note = False
        self.appendix: ClauseNode | None = None  # an appendix: a table, kept line by line
        self.appendix_heading: list[str] = []  # its heading, while it wraps
        self.appendix_own: list[str] = []

    def _node(self, ref: str, kind: str, **fields: object) -> ClauseNode:
        return ClauseNode(ref, kind, page=self.page, **fields)  # type: ignore[arg-type]

    def parse(self) -> tuple[RegulationDoc, list[tuple[int, str]]]:
        dotted: dict[int, int] = {}
        for ln in self.lines:
            if "....." in ln.text:
                dotted[ln.page] = dotted.get(ln.page, 0) + 1
        contents_pages = {page for page, n in dotted.items() if n >= 3}
        previous: VLine | None = None
        for i, ln in enumerate(self.lines):
            self.page = ln.page
            if ln.page in contents_pages:  # a table of contents: every line of it
                self._unplace(ln)
                continue
            self._line(ln, previous, self.lines[i + 1] if i + 1 < len(self.lines) else None)
            previous = ln
        self._close_section()
        self._identity()
        return self.doc, self.unplaced

    def _identity(self) -> None:
        """Title: the largest line of the first page; identifier: "<title> CFR Parts …" from
        the CFR title number the front matter cites and the parts found."""
        parts = [c.ref.split()[1] for c in self.doc.clauses if c.kind == "part"]
        front = [ln for ln in self.lines if ln.page == self.lines[0].page
                 and len(ln.text.strip()) > 3] if self.lines else []
        largest = max(front, key=lambda ln: ln.size, default=None)
        cited = re.search(r"\b(\d{1,2}) C\.?F\.?R\.?\b",
                          " ".join(ln.text for ln in self.lines[:60]))
        number = cited.group(1) if cited else ""
        listed = f"{'Parts' if len(parts) > 1 else 'Part'} {', '.join(parts)}"
        self.doc.title = (largest.text.strip() if largest else "") or \
            f"{number} CFR {listed}".strip()
        if parts and number:
            self.doc.identifiers = {"cfr": f"{number} CFR {listed}"}
        m = re.search(r"(January|February|March|April|May|June|July|August|September|October|"
                      r"November|December) (\d{1,2}), (\d{4})",
                      " ".join(ln.text for ln in self.lines[:60]))
        edition = _EDITION.search(" ".join(ln.text for ln in self.lines[:60]))
        if m:  # "as amended through March 26, 2013" → 2013-03-26
            self.doc.version_label = act_date(f"of {m.group(2)} {m.group(1)} {m.group(3)}")
            self.doc.effective_date = self.doc.version_label
        elif edition:  # the GPO's annual edition, "(4–1–23 Edition)" → 2023-04-01
            month, day, year = (int(g) for g in edition.groups())
            self.doc.version_label = f"{2000 + year if year < 70 else 1900 + year}-{month:02d}-" \
                                     f"{day:02d}"

    # ------------------------------------------------------------------ lines
    def _line(self, ln: VLine, previous: VLine | None, following: VLine | None) -> None:
        t = ln.text.strip()
        if self.appendix_heading:
            whole = _APPENDIX_TITLE.match(" ".join(self.appendix_heading))
            if ln.bold and len(self.appendix_heading) < 3 and not _is_heading(t) and \
                    not (whole and whole.group(4)):
                self.appendix_heading.append(t)
                return
            self._place_appendix()
        if "....." in t:  # a table of contents
            self.heading = None
            self._unplace(ln)
            return
        if ln.bold:
            if self.heading is not None and not _is_heading(t) and _continues(self.heading, t):
                self.heading.title = f"{self.heading.title} {t}".strip()
                return
            if self._heading(ln, t):
                self.heading_plain = False
                return
        elif self.heading is not None and self.heading_plain and self.heading.title.isupper() \
                and t.isupper() and not _is_heading(t):  # "PART 11—ELECTRONIC RECORDS;" wraps
            self.heading.title = f"{self.heading.title} {t}".strip()
            return
        elif self._plain_heading(ln, t, previous, following) and self._heading(ln, t):
            self.heading_plain = True
            return
        self.heading = None
        if self.in_note or _SOURCE_NOTE.match(t):  # "[68 FR 8376, …]" may wrap: one entry
            self._unplace(ln, joined=self.in_note)
            self.in_note = "]" not in t
            self._close_paragraphs()
            return
        if _UNPLACED_START.match(t):  # "AUTHORITY: …", "SOURCE: …": one entry each
            self.skipping = True
            self._close_paragraphs()
            self._unplace(ln)
            return
        if self.appendix is not None and not _is_heading(t):
            self.appendix_own.append(t)
            return
        if self.skipping or self.section is None:  # a contents entry may wrap, too
            entry = not self.skipping and bool(self.unplaced) and not _ENTRY.match(t) and \
                self.unplaced[-1][0] == ln.page and bool(_ENTRY.match(self.unplaced[-1][1]))
            self._unplace(ln, joined=self.skipping or entry)
            return
        if self._opens_paragraph(ln, t, previous):
            return
        self._text(t, ln.italic)

    def _heading(self, ln: VLine, t: str) -> bool:
        if m := _PART.match(t):
            self._close_section()
            self.part = self._node(f"Part {m.group(1)}", "part", title=m.group(2))
            self.subpart = None
            self.doc.clauses.append(self.part)
            self.heading = self.part
            self.skipping = False
            return True
        if (m := _SUBPARTS.match(t)) and self.part is not None:
            self._close_section()
            for letter in range(ord(m.group(1)), ord(m.group(2)) + 1):
                self.subpart = self._node(f"{self.part.ref} Subpart {chr(letter)}", "subpart",
                                          title="[Reserved]")
                self.part.children.append(self.subpart)
            self.heading = None
            return True
        if (m := _SUBPART.match(t)) and self.part is not None:
            self._close_section()
            ref = f"{self.part.ref} Subpart {m.group(1)}"
            known = next((c for c in self.part.children if c.ref == ref), None)
            self.subpart = known or self._node(ref, "subpart",
                                               title=(m.group(2) or "[Reserved]").strip())
            if known is None:
                self.part.children.append(self.subpart)
            self.heading = self.subpart
            self.skipping = False
            return True
        if _APPENDIX.match(t) and self.part is not None:
            self._close_section()
            self.appendix_heading = [t]
            self.heading = None
            return True
        if m := _SECTION.match(t):
            self._close_section()
            self.section = self._node(f"§ {m.group(1)}", "section", title=m.group(2))
            parent = self.subpart or self.part
            (parent.children if parent else self.doc.clauses).append(self.section)
            self.heading = self.section
            self.skipping = False
            return True
        return False

    def _plain_heading(self, ln: VLine, t: str, previous: VLine | None,
                       following: VLine | None) -> bool:
        """Whether a line not set in bold is a part, subpart or section heading all the same:
        alone on its line after a finished sentence or a heading, not in a contents list, and
        "PART 11—ELECTRONIC …" in capitals, "Subpart B—Electronic Records" titled,
        "§ 11.10 Controls for closed systems." titled and ending with a period — never a
        cross-reference running on ("§ 164.306 of this subpart")."""
        if len(t) > _PLAIN_HEADING_MAX or self._in_contents(previous):
            return False
        if m := _PART.match(t):
            return t.isupper() and bool(m.group(2))
        after_end = self.heading is not None or (previous is not None and previous.bold) or \
            _break_before(previous, ln, (".", ":", ";", "]"))
        if not after_end or (self.section is None and not self.skipping and following
                             is not None and not following.bold
                             and _listed(following.text.strip())):
            return False  # running text, or a contents entry before more entries
        if m := _SUBPART.match(t):
            return bool(m.group(2) or t.endswith("]"))
        if _SUBPARTS.match(t):
            return True
        m = _SECTION.match(t)
        return bool(m and re.match(r"[A-Z\[]", m.group(2)) and t.endswith((".", "]")))

    def _in_contents(self, previous: VLine | None) -> bool:
        """Whether a line comes in a part's contents list: after its caption ("Contents",
        "Sec.") or after an entry of it, before the part's first section."""
        if self.section is not None or self.skipping:
            return False
        if previous is not None and previous.text.strip() in _CAPTIONS:
            return True
        return bool(self.unplaced) and _listed(self.unplaced[-1][1])

    def _opens_paragraph(self, ln: VLine, t: str, previous: VLine | None) -> bool:
        labels: list[str] = []
        rest = t
        while m := _LABEL.match(rest):
            labels.append(m.group(1))
            rest = rest[m.end():].lstrip()
        if not labels:
            return False
        fresh, indented = _break_before(previous, ln, _ITEM_END), _indented(previous, ln)
        if not (fresh or indented):
            return False
        plan = self._levels(labels, jump=fresh and indented)
        if plan is None:
            return False
        for level, label in plan:
            self._open(level, label)
        if (m := _RANGE.match(rest)) and self.stack:  # "(b)-(d) [Reserved]": one per label
            rest = rest[m.end():]
            para = self.stack[-1]
            while para.label != m.group(1) and (nxt := _successor(para.label, para.level)):
                para.own.append(rest)
                self._open(para.level, nxt)
                para = self.stack[-1]
        if rest:
            self.stack[-1].italic_open = True
            self._text(rest, ln.italic)
        return True

    def _text(self, t: str, italic: str = "") -> None:
        """Add a line's text to the open paragraph, opening the sub-paragraphs run on after
        its heading on the same line, and noting an italic heading."""
        if not self.stack:
            self.section_own.append(t)
            return
        para = self.stack[-1]
        if para.italic_open:
            para.italic_open = False
            if italic and t.startswith(italic):
                para.italic = f"{para.italic} {italic}".strip()
                para.italic_open = t.strip() == italic and not italic.endswith((".", "—"))
        while True:
            para = self.stack[-1]
            head = sum(len(x) + 1 for x in para.own)
            m = _RUN_ON.search(t) if not para.node.children and head < _HEADING_MAX else None
            if m is None or head + m.start() > _HEADING_MAX or para.level + 1 >= len(_FIRST) \
                    or m.group(1) != _FIRST[para.level + 1]:
                para.own.append(t)
                return
            if t[:m.start()].strip():
                para.own.append(t[:m.start()].strip())
            para.headed = True
            self._open(para.level + 1, m.group(1))
            t = t[m.end():]
            if "—" in m.group(0) and (h := _DASH_HEADING.match(t)):
                self.stack[-1].italic = h.group(1)  # "Standard —(1) General rule. A …"
            if not t.strip():
                return

    def _levels(self, labels: list[str], jump: bool = False) -> list[tuple[int, str]] | None:
        """The level of each label in a chain, or None when the chain does not fit; `jump`
        lets the first label skip ahead in an open level (see `_level_for`)."""
        path = [(p.level, p.label) for p in self.stack]
        out: list[tuple[int, str]] = []
        listing = bool(self.stack) and _introduces(self.stack[-1])
        for i, label in enumerate(labels):
            level = self._level_for(label, path, listing=listing and i == 0,
                                    jump=jump and i == 0)
            if level is None:
                return None
            out.append((level, label))
            path = [p for p in path if p[0] < level] + [(level, label)]
        return out

    @staticmethod
    def _level_for(label: str, path: list[tuple[int, str]], listing: bool,
                   jump: bool = False) -> int | None:
        """Continue the deepest level this label follows, or open the next level down. After
        a paragraph that introduces a list, its first item wins over a continuation ("(i)"
        after "(h)(1) … must:" is the (1)'s first item, not paragraph (i)), and a level may
        be skipped ("(c)(1) … include:" then "(A)"). With `jump` (a paragraph set in by its
        indent after a finished sentence) a label may also skip ahead in an open level, as
        "(h)" after "(a)" in an excerpt; never a roman-looking letter."""
        levels = _kind_of(label)
        deeper = (path[-1][0] + 1) if path else 0
        firsts = [d for d in (deeper, deeper + 1) if d < len(_FIRST) and d in levels
                  and label == _FIRST[d]]
        if listing and firsts:
            return firsts[0]
        for depth in range(len(path) - 1, -1, -1):
            level, prev = path[depth]
            if level in levels and label == _successor(prev, level):
                return level
        if firsts and firsts[0] == deeper:
            return deeper
        if jump:
            for level, prev in reversed(path):
                if level in levels and _later(label, prev, level):
                    return level
        return None

    def _open(self, level: int, label: str) -> None:
        while self.stack and self.stack[-1].level >= level:
            self._close(self.stack.pop())
        parent = self.stack[-1].node if self.stack else self.section
        assert parent is not None
        node = self._node(f"{parent.ref}({label})", "paragraph")
        parent.children.append(node)
        self.stack.append(_Para(node, level, label))

    # ---------------------------------------------------------------- closing
    def _close(self, para: _Para) -> None:
        """Standards and implementation specifications, with their titles and requirement,
        are read off the paragraph's opening words once all its lines are in."""
        text = " ".join(para.own)
        if m := _STANDARD.match(text):
            # "(1)(i) Standard: X." — the standard is the (1); its (i) states it. As the
            # Security Rule cites them, "(a)(1) Standard: X." is the standard (a)(1).
            parent = self.stack[-1] if self.stack and para.level == 2 \
                and self.stack[-1].level == 1 else None
            target = parent.node if parent is not None else para.node
            target.kind = "standard"
            target.title = (m.group(1) or "").strip()
            text = m.group(2) if parent is None else text
        elif (m := _REQUIREMENT.match(text)) and len(m.group(1)) < 140:
            title = _IMPL.sub(r"\1", m.group(1)).strip().rstrip(".")
            requirement = {"requirement": m.group(2).lower()}
            text = m.group(3)
            if _IMPL.match(m.group(1)) and not title and para.node.children:
                # "(2) Implementation specifications (Required). (i) X. … (ii) Y. …": the
                # requirement is stated once for the specifications below
                for child in para.node.children:
                    child.kind = "implementation-specification"
                    child.attributes = dict(requirement)
                    head, dot, rest = child.text.partition(". ")
                    if dot and len(head) < 80:
                        child.title, child.text = head, rest
            else:
                para.node.kind = "implementation-specification"
                para.node.title = title
                para.node.attributes = requirement
        elif (m := _IMPL_TITLE.match(text)) and len(m.group(1)) < 100:
            # "(b) Implementation specification: Timeliness of notification. Except as …":
            # titled with all its words; no requirement, so not the Security Rule's kind
            para.node.title, text = text[:m.end(1)].strip(), (m.group(2) or "").strip()
        elif para.italic.endswith((".", "—")) and len(para.italic) < 120 \
                and text.startswith(para.italic):
            # "(a) *General requirements.* Covered entities …": CFR headings are italic
            para.node.title = para.italic.rstrip(".—: ")
            text = text[len(para.italic):].strip()
        elif para.headed and len(text) < 100:
            # "(1) Written notice. (i) …": the words before a run-on label are a heading
            para.node.title, text = text.strip().rstrip(".—: "), ""
        para.node.text = text

    def _close_paragraphs(self) -> None:
        while self.stack:
            self._close(self.stack.pop())

    def _place_appendix(self) -> None:
        """The appendix under its part (and subpart), once its heading is whole."""
        m = _APPENDIX_TITLE.match(" ".join(self.appendix_heading))
        self.appendix_heading = []
        if m is None or self.part is None:
            return
        letter, subpart, part, title = m.groups()
        parent = next((p for p in self.doc.clauses if p.ref == f"Part {part}"), self.part)
        if subpart:
            parent = next((c for c in parent.children
                           if c.ref == f"{parent.ref} Subpart {subpart}"), parent)
        ref = f"{parent.ref} Appendix {letter}"
        self.appendix = self._node(ref, "appendix", title=(title or "").strip())
        parent.children.append(self.appendix)

    def _close_section(self) -> None:
        self._close_paragraphs()
        if self.appendix_heading:
            self._place_appendix()
        if self.appendix is not None:
            self.appendix.text = "\n".join(self.appendix_own)
            self.appendix, self.appendix_own = None, []
        if self.section is not None:
            self.section.text = " ".join(self.section_own)
        self.section = None
        self.section_own = []

    def _unplace(self, ln: VLine, joined: bool = False) -> None:
        """Text no clause takes; `joined` to the entry before (a note that wraps)."""
        if joined and self.unplaced:
            page, before = self.unplaced[-1]
            self.unplaced[-1] = (page, f"{before} {ln.text.strip()}")
        else:
            self.unplaced.append((ln.page, ln.text.strip()))


_FIRST = ("a", "1", "i", "A", "1", "i")


def _introduces(para: _Para) -> bool:
    """Whether a paragraph so far only leads into its items: "… a covered entity must:", or
    nothing but a heading ("Implementation specifications: Verification.")."""
    text = " ".join(para.own).strip()
    if text.endswith((":", "—")) or (para.italic and text == para.italic):
        return True
    heading = _STANDARD.match(text) or _IMPL_TITLE.match(text)
    return bool(heading and len(text) < 120 and not (heading.group(2) or "").strip())


def _break_before(previous: VLine | None, ln: VLine, ends: tuple[str, ...]) -> bool:
    """Whether a line starts afresh: first of its page or column, after a blank gap, or
    after a line ending as one of `ends`."""
    return previous is None or previous.page != ln.page or \
        previous.top - ln.top > ln.size * 1.9 or previous.x0 > ln.x0 + 100 or \
        previous.top < ln.top or previous.text.rstrip().endswith(ends)


def _indented(previous: VLine | None, ln: VLine) -> bool:
    """Whether a line is set in from the line before by a first-line indent (the GPO print's
    paragraph start), not moved to another column or block."""
    return previous is not None and previous.page == ln.page and previous.top > ln.top and \
        ln.size * 0.4 <= ln.x0 - previous.x0 <= ln.size * 3


def _listed(t: str) -> bool:
    """Whether a line reads as a contents entry or caption: "§ 11.10 …", "11.10 …", "Sec."."""
    return t in _CAPTIONS or bool(_ENTRY.match(t) or _NUMBERED_ENTRY.match(t))


def _continues(heading: ClauseNode, t: str) -> bool:
    """Whether a bold line wraps a heading's title: not a contents list's "Contents" or
    "Sec." caption, and in capitals if the title so far is ("PART 164—SECURITY AND …")."""
    if t.rstrip(".") in ("Contents", "Sec", "Section"):
        return False
    return not heading.title.isupper() or t.isupper()


def _later(label: str, prev: str, level: int) -> bool:
    """Whether `label` comes after `prev` in a level of digits, letters or capitals (roman
    levels and roman-looking letters are left out: they are too easily misread)."""
    kind = _LEVEL_KINDS[level]
    if kind == "digit":
        return label.isdigit() and prev.isdigit() and int(label) > int(prev)
    if kind == "roman" or (kind == "lower" and set(label) <= _ROMAN):
        return False
    same = str.islower if kind == "lower" else str.isupper
    return len(label) == len(prev) == 1 and same(label) and same(prev) and label > prev


def _successor(prev: str, level: int) -> str | None:
    """The label after `prev` at a CFR level: letters, digits, roman numerals, capitals."""
    kind = _LEVEL_KINDS[level]
    if kind == "digit":
        return str(int(prev) + 1) if prev.isdigit() else None
    if kind == "roman":
        nxt = _next_labels(prev) & set(_ROMANS)
        return next(iter(nxt), None)
    if kind == "lower":
        return chr(ord(prev) + 1) if len(prev) == 1 and prev.islower() and prev != "z" else None
    return chr(ord(prev) + 1) if len(prev) == 1 and prev.isupper() and prev != "Z" else None


_ROMANS = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
           "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")


def _is_heading(t: str) -> bool:
    return bool(_PART.match(t) or _SUBPART.match(t) or _SUBPARTS.match(t) or _SECTION.match(t)
                or _APPENDIX.match(t))


def parse_cfr(cleaned: Cleaned, path: Path) -> tuple[RegulationDoc, list[tuple[int, str]]]:
    return CfrParser(cleaned, path).parse()
