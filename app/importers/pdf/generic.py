"""Generic numbered documents (frameworks, standards, policies): structure from the numbering
and, where a document has no numbered headings, from its bold or larger headings.

Numbering schemes, each followed on its own (a document may mix them):

- decimal "3", "3.2", "3.2.1" ("3.2." with a full stop; "1.0" is the parent of "1.1");
- annex letters "A.5", "A.5.1" (ISO 27001 Annex A, appendices "B.2"), under an "Annex A" or
  "Appendix A" heading when there is one; decimal numbers after that heading are read as
  "A.5.1" too (ISO/IEC 27001:2022 numbers its Annex A controls "5.1"). An annex takes its
  title from its line or from the bold or larger line below it, past a "(normative)" /
  "(informative)" line (ISO's layout), and keeps that status as `attributes["annex"]`
  ("normative"); the status is never part of the title;
- "Section 2", "Chapter 2", "Part 2": divisions, parents of "2.1";
- a capitalised word before a number, "GOVERN 1.1", "MAP 2.3": "GOVERN 1.1" nests under
  "GOVERN 1";
- control ids "AC-2", "AC-2(1)", "GV.OC-01": enhancements ("AC-2(1)", or "(1) ACCOUNT
  MANAGEMENT | AUTOMATED …" below AC-2) nest under their control, controls under a group
  heading naming their family ("Organizational Context (GV.OC)", itself under "GOVERN (GV)");
- "§ 1.2" sections.

A number only opens a clause when it moves its scheme forward: the next sibling or the first
child of the last number, so numbers inside sentences ("see 4.2 below", a year) stay text.
The first number of a scheme may be any number (an excerpt may start at "3.1"); a heading in
bold or larger type, and the prefixed schemes, may skip numbers. A number that does not move
forward (a repeat) never opens a clause: refs are unique. Captions ("TABLE 1", "Figure 2")
are text. Table-of-contents lines (under a "Contents" caption, with dot leaders, or runs of
numbered lines ending in page numbers) go to unplaced as "[contents] …".

Numbered lists in body text. While a scheme's clauses so far were all opened by lines in bold
or larger type, a numbered line of it in body type is a list item, text of the clause above,
when a bold or larger heading further on (with no annex heading between) has its number, or
when it is indented from the page's text margin and ends like a list item (";", ",", "and",
"or", or a short phrase and a full stop): a list never takes a section's number.

Word and control ids nest under the decimal (or annex) section they appear in. A numbered
line in bold or larger type, or short and not a sentence, is a heading with its title; a
longer one is a clause whose text starts on that line.

Refs Crosswalk assigns, marked `attributes["numbering"] = "assigned by Crosswalk"`: an
unnumbered heading inside a numbered clause or annex X is "X §1", "X §2" (in order under X). A
document without numbered headings (a policy; numbered list items at most) is read from its
bold or larger headings, nested by type size, as "§1", "§2", "§2.1" … in document order; its
numbered items nest under them with their own numbers while those stay unique.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.pdf.visual import Cleaned, VLine

_NUM = r"\d{1,3}(?:\.\d{1,3}){0,4}"
_SCHEMES = [  # (pattern, kind), tried in this order
    (re.compile(r"^([A-Z]{2,3}(?:\.[A-Z]{2,3})?)-(\d{1,3})(?:\s?\((\d{1,3})\))?(:?)\.?\s+(\S.*)$"),
     "control"),
    (re.compile(rf"^§\s*({_NUM})\.?\s+(\S.*)$"), "§ "),
    (re.compile(rf"^([A-Z])\.({_NUM})\.?\s+(\S.*)$"), "letter"),
    (re.compile(rf"^([A-Z][A-Z-]{{2,}}|Section|Chapter|Part|Clause)\s+({_NUM})[:.]?\s+(\S.*)$"),
     "word"),
    (re.compile(rf"^({_NUM})\.?\s+(\S.*)$"), ""),
]
_ENHANCEMENT = re.compile(r"^\((\d{1,3})\)\s+([A-Z][A-Z0-9 ,/&()-]*\s\|\s.+)$")  # SP 800-53
_APPENDIX = re.compile(r"^(Annex|Appendix|ANNEX|APPENDIX)\s+([A-Z]|\d{1,2}|[IVX]{1,5})"
                       r"(?:[\s:.—–-]+(.*))?$")
_GROUP = re.compile(r"^(\S.{1,80}?)\s*\(([A-Z]{2,3}(?:\.[A-Z]{2,3})?)\)(?::\s*(.*))?$")
_DIVISIONS = {"section", "chapter", "part", "clause"}
_LONE_DIVISION = re.compile(r"^(CHAPTER|Chapter|SECTION|Section|PART|Part)\s+(\d{1,3})[:.]?$")
_CAPTION = re.compile(r"^(table|figure|fig\.|exhibit|chart|example|note|box|listing|equation)"
                      r"\s+[\dA-Z]", re.IGNORECASE)
_LABEL = re.compile(r"^[\w ]{1,30}:\s+\S")  # "Control: a. Develop …": a bold label, not a heading
_TOC_CAPTION = re.compile(r"^(table of )?contents$|^list of (figures|tables)$|^(section|contents)"
                          r"\s+page$", re.IGNORECASE)
_PAGE_NO = r"(\d{1,4}|(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3}))"
_LEADER = re.compile(rf"(?:\.\s?){{4,}}\s*{_PAGE_NO}$|(?:…|_{{4,}})\s*{_PAGE_NO}$|\.{{8,}}$")
_ENDS_IN_PAGE = re.compile(rf"\S\s+{_PAGE_NO}$")
_LIST_END = re.compile(r"[;,]$|[;,]?\s(and|or)$")  # "Access Control;", "… records; and"
_STATUS = re.compile(r"^\((normative|informative)\)\s*(.*)$", re.IGNORECASE)  # ISO annexes
_DATE = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?,?\s+\d{4}\b")
ASSIGNED = {"numbering": "assigned by Crosswalk"}


@dataclass(frozen=True, slots=True)
class _Id:
    """A document's number at the start of a line: "GOVERN " + ("1", "1") is GOVERN 1.1."""

    scheme: str  # "" decimal, "A.", "GOVERN ", "§ ", "AC-"
    nums: tuple[str, ...]
    rest: str
    colon: bool = False  # "GV.OC-01: …"

    @property
    def ints(self) -> tuple[int, ...]:
        """For ordering; "2.0" is "2" (policies number "1.0 Purpose", "1.1 Scope")."""
        ints = [int(n) for n in self.nums]
        while len(ints) > 1 and ints[-1] == 0:
            ints.pop()
        return tuple(ints)

    def ref(self, depth: int | None = None) -> str:
        nums = self.nums[:depth]
        if self.scheme.endswith("-"):
            return f"{self.scheme}{nums[0]}" + "".join(f"({n})" for n in nums[1:])
        return self.scheme + ".".join(nums)


def _match(text: str) -> _Id | None:
    if _CAPTION.match(text):
        return None
    for pattern, kind in _SCHEMES:
        if m := pattern.match(text):
            g = m.groups()
            if kind == "control":
                return _Id(f"{g[0]}-", (g[1], g[2]) if g[2] else (g[1],), g[4], g[3] == ":")
            if kind in ("letter", "word"):
                scheme = f"{g[0]}." if kind == "letter" else f"{g[0]} "
                return _Id(scheme, tuple(g[1].split(".")), g[2])
            return _Id(kind, tuple(g[0].split(".")), g[1])
    return None


class GenericParser:
    def __init__(self, cleaned: Cleaned, path: Path) -> None:
        self.lines = [ln for ln in cleaned.lines if ln.text.strip()]
        self.toc = self._contents()
        chars: Counter[float] = Counter()  # the body size: the size of most text
        for i, ln in enumerate(self.lines):
            chars[round(ln.size, 1)] += 0 if i in self.toc else len(ln.text)
        self.body = chars.most_common(1)[0][0] if chars else cleaned.body_size
        body = [ln for i, ln in enumerate(self.lines)
                if abs(ln.size - self.body) < 0.5 and i not in self.toc]
        self.body_bold = sum(len(ln.text) for ln in body if ln.bold) * 2 > \
            sum(len(ln.text) for ln in body)
        ends = sorted(ln.x1 for ln in body)
        self.right = ends[int(len(ends) * 0.9)] if len(ends) >= 10 else None
        self.margins = self._margins(body)
        self.doc = RegulationDoc(code="", title="", version_label="", source_name=path.name,
                                 source_format="pdf:generic")
        self.title_lines = self._identity() - self.toc
        self.zones, self.strong_at = self._strong_numbers()

    # ------------------------------------------------------------------ document-wide reads
    def _identity(self) -> set[int]:
        """Title: the first run of lines in the largest type on page 1 (or in bold, when that
        is the body size), not numbered, in a type no heading elsewhere has (else it is the
        first heading). Version: "Version 2.1" or a date."""
        first = [(i, ln) for i, ln in enumerate(self.lines[:15]) if ln.page == 1]
        title: list[int] = []
        if first:
            biggest = max(ln.size for _, ln in first)
            for i, ln in first:
                styled = abs(ln.size - biggest) < 0.5 and (
                    biggest > self.body + 0.5 or (ln.bold and not self.body_bold))
                if styled and not _match(ln.text.strip()) and \
                        not _TOC_CAPTION.match(ln.text.strip()):
                    title.append(i)
                elif title:
                    break
            style = {(round(self.lines[i].size), self.lines[i].bold) for i in title}
            if any((round(ln.size), ln.bold) in style and self._heading_line(ln)
                   for i, ln in enumerate(self.lines) if i not in title):
                title = []
        self.doc.title = " ".join(self.lines[i].text.strip() for i in title)[:300]
        text = " ".join(ln.text for ln in self.lines[:200])
        m = re.search(r"\b(?:Version|Revision|Rev\.)\s*([\w.]+)", text, re.IGNORECASE) or \
            re.search(r"\b((?:19|20)\d{2}-\d{2}-\d{2})\b", text)
        self.doc.version_label = m.group(1).rstrip(".") if m else ""
        return set(title)

    def _contents(self) -> set[int]:
        """Table-of-contents lines: dot leaders; lines ending in a page number under a
        "Contents" caption; runs of three or more numbered lines ending in rising page
        numbers; up to two lines between such lines (an entry that wraps, a group)."""
        toc: set[int] = set()
        block = False
        run: list[tuple[int, str]] = []
        for i, ln in enumerate(self.lines):
            t = ln.text.strip()
            nxt = self.lines[i + 1].text.strip() if i + 1 < len(self.lines) else ""
            paged = _ENDS_IN_PAGE.search(t)
            if _TOC_CAPTION.match(t):
                toc.add(i)
                block = True
            elif _LEADER.search(t) or (block and (paged or _ENDS_IN_PAGE.search(nxt))):
                toc.add(i)  # an entry, or the first line of an entry that wraps
            else:
                block = False
            number = paged[1] if paged and _match(t) else None
            if number is None or (run and number.isdigit() and run[-1][1].isdigit()
                                  and int(number) < int(run[-1][1])):
                if len(run) >= 3:
                    toc.update(j for j, _ in run)
                run = []
            if number is not None:
                run.append((i, number))
        if len(run) >= 3:
            toc.update(j for j, _ in run)
        for i in sorted(toc):  # wrapped entries and group captions between two entries
            for gap in (2, 3):
                if i + gap in toc and (gap == 2 or self.lines[i + 3].page == self.lines[i].page):
                    toc.update(range(i + 1, i + gap))
        return toc

    def _margins(self, body: list[VLine]) -> dict[int, float]:
        """Each page's text margin: where most of its body-type lines start (the document's,
        for a page with fewer than three)."""
        def mode(lines: list[VLine]) -> float:
            return Counter(round(ln.x0) for ln in lines).most_common(1)[0][0]
        pages: dict[int, list[VLine]] = {}
        for ln in body:
            pages.setdefault(ln.page, []).append(ln)
        whole = mode(body) if body else 0.0
        return {page: mode(lines) if len(lines) >= 3 else whole for page, lines in pages.items()}

    def _strong_numbers(self) -> tuple[list[int], dict[tuple[int, str], int]]:
        """Each line's zone (the strong "Annex"/"Appendix" headings above it) and, for each
        (zone, ref) of a numbered line in bold or larger type, the last line that has it."""
        zones: list[int] = []
        strong: dict[tuple[int, str], int] = {}
        zone, annex = 0, ""
        for i, ln in enumerate(self.lines):
            t = ln.text.strip()
            skip = i in self.toc or i in self.title_lines
            if not skip and self._strong(ln) and (a := _APPENDIX.match(t)):
                zone += 1
                annex = a[2] if len(a[2]) == 1 and a[2].isalpha() else ""
            elif not skip and self._strong(ln) and (c := _match(t)):
                scheme = f"{annex}." if c.scheme == "" and annex else c.scheme
                strong[(zone, _Id(scheme, c.nums, c.rest).ref())] = i
            zones.append(zone)
        return zones, strong

    def _strong(self, ln: VLine) -> bool:
        return (ln.bold and not self.body_bold) or ln.size > self.body + 0.5

    def _title_like(self, rest: str, i: int) -> bool:
        """Short, not a sentence, not running on to the next line."""
        ln = self.lines[i]
        nxt = self.lines[i + 1].text.strip() if i + 1 < len(self.lines) else ""
        return len(rest) < 90 and not rest.endswith((".", ";", ":", ",")) \
            and not (self.right and ln.x1 >= self.right - 15) and not nxt[:1].islower()

    def _heading_line(self, ln: VLine) -> bool:
        t = ln.text.strip()
        return self._strong(ln) and 2 < len(t) < 120 and not t.endswith((".", ",", ";")) \
            and any(c.isalpha() for c in t) and not _CAPTION.match(t) and not _LABEL.match(t)

    # ------------------------------------------------------------------------------ parse
    def parse(self) -> tuple[RegulationDoc, list[tuple[int, str]]]:
        self._read(numbered=True)
        skip = self.title_lines | self.toc
        if not any(n.kind != "clause" and "numbering" not in n.attributes
                   for _, n in self.doc.walk()) and any(
                self._heading_line(ln) for i, ln in enumerate(self.lines) if i not in skip):
            self._read(numbered=False)  # no numbered headings: the others are the structure
        return self.doc, self.unplaced

    def _read(self, numbered: bool) -> None:
        self.doc.clauses, self.doc.warnings = [], []
        self.unplaced: list[tuple[int, str]] = []
        self.refs: dict[str, ClauseNode] = {}
        self.last: dict[str, _Id] = {}  # scheme → its last number
        self.current: ClauseNode | None = None  # where text goes
        self.numbered: ClauseNode | None = None  # the last clause the document numbered
        self.section: ClauseNode | None = None  # the last decimal, letter, § or annex clause
        self.stack: list[tuple[int, ClauseNode]] = []  # headings mode: (level, node)
        self.control: _Id | None = None  # the last "AC-2"
        self.annex = ""  # the letter of the last "Annex A" heading
        self.annexes: dict[str, ClauseNode] = {}  # "A" → Annex A
        self.divisions: dict[tuple[str, ...], ClauseNode] = {}  # ("1",) → Section 1
        self.groups: dict[str, ClauseNode] = {}  # "GV.OC" → Organizational Context (GV.OC)
        self.counts: dict[str, int] = {}
        self.weak: set[str] = set()  # schemes with a clause opened by a line in body type
        self.taken: set[int] = set()  # lines read as the title of a heading above them
        levels = sorted({(round(ln.size * 2) / 2, ln.bold) for ln in self.lines
                         if self._heading_line(ln)}, reverse=True)
        texts: dict[int, list[str]] = {}
        for i, ln in enumerate(self.lines):
            t = ln.text.strip()
            if i in self.taken:
                continue
            if i in self.toc or i in self.title_lines:
                self.unplaced.append((ln.page, f"[contents] {t}" if i in self.toc else t))
            elif numbered and (a := _APPENDIX.match(t)) and self._strong(ln) \
                    and f"{a[1]} {a[2]}" not in self.refs:
                title, status, below = self._title_below(i, (a[3] or "").strip())
                self.taken |= below
                self._add(ClauseNode(f"{a[1]} {a[2]}", "annex", title=title, page=ln.page,
                                     attributes={"annex": status} if status else {}),
                          None, section=True)
                self.annex = a[2] if len(a[2]) == 1 and a[2].isalpha() else ""
                self.annexes[a[2]] = self.numbered = self.refs[f"{a[1]} {a[2]}"]
            elif numbered and (g := _GROUP.match(t)) and self._strong(ln) \
                    and g[2] not in self.refs:
                node = ClauseNode(g[2], "heading", title=g[1], page=ln.page)
                texts[id(node)] = [g[3]] if g[3] else []
                self._add(node, self.groups.get(g[2].rpartition(".")[0]) or self.section,
                          section=False)
                self.groups[g[2]] = self.numbered = node
            elif (c := self._opening(i, ln, t, numbered)) is not None:
                self._open(c, ln, i, texts, numbered)
            elif self._heading_line(ln) and (not numbered or self.numbered is not None):
                self._heading(t, ln, levels.index((round(ln.size * 2) / 2, ln.bold)))
            elif self.current is None:
                self.unplaced.append((ln.page, t))
            else:
                texts.setdefault(id(self.current), []).append(t)
        for _, node in self.doc.walk():
            node.text = " ".join(texts.get(id(node), []))

    def _title_below(self, i: int, title: str) -> tuple[str, str, set[int]]:
        """The title and status ("normative", "informative") of the annex heading on line i,
        from its line or, as ISO sets them, from the lines below it: "(normative)", then the
        title in bold or larger type (up to two lines in one style). Returns them and the lines
        below that hold them."""
        s = _STATUS.match(title)
        status, title = (s[1].lower(), s[2]) if s else ("", title)
        page, parts, style = self.lines[i].page, [title] if title else [], None
        below: set[int] = set()
        for j in range(i + 1, min(i + 4, len(self.lines))):
            ln, t = self.lines[j], self.lines[j].text.strip()
            if ln.page != page or j in self.toc:
                break
            key = (round(ln.size, 1), ln.bold)
            if not status and not parts and (s := _STATUS.match(t)):
                status, parts = s[1].lower(), [s[2]] if s[2] else []
            elif self._plain_heading(ln) and (not parts or (key == style and len(parts) < 2)):
                parts, style = [*parts, t], key
            else:
                break
            below.add(j)
        return " ".join(parts), status, below

    def _opening(self, i: int, ln: VLine, t: str, numbered: bool) -> _Id | None:
        """The number that line i opens a clause with, if it does."""
        if numbered and (c := self._lone_division(i, ln, t)) is not None:
            return c
        c = self._id(t)
        return c if c is not None and self._fits(c, ln, i) else None

    def _lone_division(self, i: int, ln: VLine, t: str) -> _Id | None:
        """"CHAPTER 2" on a line of its own, in heading type, titled by the line(s) below: a
        division, parent of "2.1"."""
        m = _LONE_DIVISION.match(t)
        if m is None or not self._strong(ln):
            return None
        title, _, below = self._title_below(i, "")
        c = _Id(f"{m[1]} ", (m[2],), title)
        if not self._fits(c, ln, i):
            return None
        self.taken |= below
        return c

    def _plain_heading(self, ln: VLine) -> bool:
        """A heading line with no number of its own."""
        t = ln.text.strip()
        return self._heading_line(ln) and not (_match(t) or _APPENDIX.match(t) or _GROUP.match(t))

    def _list_item(self, c: _Id, ln: VLine, i: int) -> bool:
        """A numbered line in body type that is not a section while the clauses of its scheme
        so far were opened by lines in bold or larger type: a heading further on has its
        number, or it is indented from the text margin and ends like a list item
        ("Access Control;", "… records; and", a short phrase and a full stop)."""
        if self._strong(ln) or c.scheme.endswith("-") or c.scheme in self.weak:
            return False
        if self.strong_at.get((self.zones[i], c.ref()), -1) > i:
            return True
        indent = ln.x0 - self.margins.get(ln.page, ln.x0)
        phrase = c.rest.endswith(".") and len(c.rest) <= 60 and len(c.rest.split()) <= 8
        return c.scheme in self.last and 4 < indent <= 80 and \
            (phrase or bool(_LIST_END.search(c.rest)))

    def _id(self, t: str) -> _Id | None:
        """The line's number in context: "(1) ACCOUNT MANAGEMENT | AUTOMATED …" under AC-2 is
        AC-2(1); a decimal "5.1" after an "Annex A" heading is A.5.1."""
        if (m := _ENHANCEMENT.match(t)) and self.control is not None:
            return _Id(self.control.scheme, (self.control.nums[0], m[1]), m[2])
        c = _match(t)
        if c is not None and c.scheme == "" and self.annex:
            return _Id(f"{self.annex}.", c.nums, c.rest)
        return c

    def _fits(self, c: _Id, ln: VLine, i: int) -> bool:
        if c.rest[:1].islower() or _DATE.match(c.rest) or \
                (c.scheme.endswith("-") and not (self._strong(ln) or c.rest.isupper() or c.colon)) \
                or self._list_item(c, ln, i):
            return False
        p, prev = c.ints, self.last.get(c.scheme)
        last = prev.ints if prev else None
        free = c.scheme != "" or self._strong(ln)  # may start anywhere and skip numbers
        if c.ref() in self.refs or (last is not None and free and p <= last):
            if self._strong(ln):
                where = f"repeats {c.ref()} of page {self.refs[c.ref()].page}" \
                    if c.ref() in self.refs else f"comes after {prev.ref() if prev else ''}"
                self.doc.warnings.append(f"page {ln.page}: “{ln.text.strip()[:60]}” {where}; "
                                         f"not read as a new {c.ref()}")
            return False
        if last is None:
            return free or p[-1] == 1 or self._title_like(c.rest, i)
        if free:
            return p > last
        if len(p) == len(last) + 1 and p[:-1] == last:
            return p[-1] == 1
        d = len(p)
        return d <= len(last) and p[:-1] == last[:d - 1] and p[-1] == last[d - 1] + 1

    def _open(self, c: _Id, ln: VLine, i: int, texts: dict[int, list[str]],
              numbered: bool) -> None:
        self.last[c.scheme] = c
        if not self._strong(ln):
            self.weak.add(c.scheme)
        if c.scheme.endswith("-") and len(c.nums) == 1:
            self.control = c
        heading = self._strong(ln) or self._title_like(c.rest, i)
        node = ClauseNode(c.ref(), "heading" if heading else "clause",
                          title=c.rest if heading else "", page=ln.page)
        if not heading:
            texts[id(node)] = [c.rest]
        item = c.scheme.endswith("-") or (c.scheme.endswith(" ") and c.scheme != "§ " and
                                          c.scheme.strip().lower() not in _DIVISIONS)
        self._add(node, self._parent(c, item), section=not item)
        if c.scheme.strip().lower() in _DIVISIONS:
            self.divisions[c.nums] = node
        if numbered:
            self.numbered = node

    def _parent(self, c: _Id, item: bool) -> ClauseNode | None:
        """Its parent number ("GOVERN 1" of "GOVERN 1.1"; "1.0" or "Section 1" of "1.1"), its
        annex ("Annex A" of "A.5"), its group ("GV.OC" of "GV.OC-01") or, for an item id
        ("GOVERN 1", "AC-1"), the section it sits in."""
        if len(c.nums) > 1:
            up = c.ref(-1)
            found = self.refs.get(up) or self.refs.get(f"{up}.0") or \
                (self.divisions.get(c.nums[:-1]) if c.scheme == "" else None)
            if found is not None:
                return found
        if c.scheme.endswith(".") and len(c.nums) == 1:
            return self.annexes.get(c.scheme[:-1])
        if c.scheme.endswith("-") and c.scheme[:-1] in self.groups:
            return self.groups[c.scheme[:-1]]
        return self.section if item else self.stack[-1][1] if self.stack else None

    def _add(self, node: ClauseNode, parent: ClauseNode | None, *, section: bool) -> None:
        (parent.children if parent else self.doc.clauses).append(node)
        self.refs[node.ref] = node
        self.current = node
        if section:
            self.section = node

    def _heading(self, t: str, ln: VLine, level: int) -> None:
        """An unnumbered heading: "X §n" inside numbered clause X, or in a document without
        numbered headings "§n", "§n.m" by type size. Its text is the text below it."""
        if self.numbered is not None:
            parent: ClauseNode | None = self.numbered
            stem = f"{self.numbered.ref} §"
        else:
            while self.stack and self.stack[-1][0] >= level:
                self.stack.pop()
            parent = self.stack[-1][1] if self.stack else None
            stem = f"{parent.ref}." if parent else "§"
        self.counts[stem] = self.counts.get(stem, 0) + 1
        ref = f"{stem}{self.counts[stem]}"
        while ref in self.refs:  # a document's own "§1" or "X §1"
            ref += "'"
        node = ClauseNode(ref, "heading", title=t, page=ln.page, attributes=dict(ASSIGNED))
        (parent.children if parent else self.doc.clauses).append(node)
        self.refs[ref] = node
        self.current = node
        if self.numbered is None:
            self.stack.append((level, node))


def parse_generic(cleaned: Cleaned, path: Path) -> tuple[RegulationDoc, list[tuple[int, str]]]:
    return GenericParser(cleaned, path).parse()
