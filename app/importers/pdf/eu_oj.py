"""EU Official Journal acts (the classic layout and the 2024 "L series" layout), from visual
lines to the clause tree the Formex and EUR-Lex importers produce — same refs, same kinds.

Structure is read from the act's own markers: "Whereas:" and "(n)" recitals; "CHAPTER I",
"Section 1" and "Article N" headings with their titles on the lines after; numbered paragraphs
"1."; points "(a)", "(1)", "(i)" whose nesting comes from how far their labels are indented, a
line in line with a label going on with its item until the item ends a clause (definitions
printed without a hanging indent); "ANNEX I" (or a lone "ANNEX") with its Parts, the Sections
in them, headings coded "UAS.OPEN.010" and numbered items, which number afresh under each. A
label only counts when it is the next one in its sequence, so "(a) of Article 5" wrapped to the
start of a line stays text. Headings in capitals are sentence-cased keeping acronyms ("ICT RISK
MANAGEMENT" → "ICT risk management"), the act's own among them. Regulations, directives and
decisions, implementing and delegated acts, and consolidated or short texts without recitals
("Whereas:") or enacting formula ("HAVE ADOPTED") all read the same way: the terms start at the
first heading. The closing formula and signatures, and anything else that belongs to no clause,
are kept as unplaced text; so is a repeated heading's clause (with a warning), as refs must be
unique.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.eu import (
    acronyms_in,
    act_date,
    act_identifiers,
    heading_case,
    sentence_case,
    short_title,
)
from app.importers.pdf.visual import Cleaned, VLine

_TITLE = re.compile(r"^TITLE ([IVXLC]+)$")
_CHAPTER = re.compile(r"^CHAPTER ([IVXLC]+|\d+)$")
_SECTION = re.compile(r"^SECTION (\d+)$", re.IGNORECASE)
_ARTICLE = re.compile(r"^Article (\d+[a-z]*)$")
_ANNEX = re.compile(r"^ANNEX(?: ([IVXLC]+|\d+|[A-Z]))?$")
_HEADINGS = (_TITLE, _CHAPTER, _SECTION, _ARTICLE, _ANNEX)
_ACT_HEAD = re.compile(r"^(?:[A-Z]+ )*(REGULATION|DIRECTIVE|DECISION) (\(|No |\d)")
_TITLE_END = re.compile(r"^(\(Text with|\(OJ |\(Codification\)|THE |Having regard|Whereas:"
                        r"|HA(VE|S) |Corrected by|Amended by|[▼►])")
_RUNNING = re.compile(r"Official Journal of the European Union.*\b[LC] \d+/\d+|\b[LC] \d+/\d+"
                      r".*Official Journal of the European Union|^OJ [LC], \d|^ELI: http")
_MARKER = re.compile(r"^[▼►◄]\s*[A-Z]\d*$")  # consolidated texts: "▼B", "▼M1"
_INLINE_MARKER = re.compile(r"►[A-Z]\d*\s*|\s*◄")
_PARA = re.compile(r"^(\d+)\.\s+(.*)$")
_LABEL = re.compile(r"^\((\d+|[a-z]{1,2}|[ivxl]+)\)\s*(.*)$")
_ANNEX_LABEL = re.compile(r"^(\d+(?:\.\d+)*)\.\s+(.*)$")
_ANNEX_SECTION = re.compile(r"^(Section|Part|SECTION|PART)\s+([A-Z0-9]+)(?:\s*[.—–-]\s+(.*)|$)")
_ANNEX_RANK = {"Part": 0, "Section": 1}  # a Part holds Sections, a Section coded headings
_CODE = re.compile(r"^([A-Z]{2,}(?:\.[A-Z0-9]+)*\.\d+[A-Za-z]?)\s+([A-Z(‘].*)$")  # "UAS.OPEN.010 …"
_CLAUSE_END = re.compile(r"(?:[.;:]|[;,]\s*(?:and|or))[’”)]?$")
_ADOPTED = re.compile(r"^HA(?:VE|S) (?:ADOPTED|DECIDED) ")
_CLOSING = re.compile(r"^(This (Regulation|Directive|Decision) shall be binding|Done at )")
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
          "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")


@dataclass(slots=True)
class _Item:
    node: ClauseNode
    label_x: float
    label: str
    own: list[str] = field(default_factory=list)
    base: str = ""  # the ref its label is appended to
    short: bool = False  # its first line ends well before the right margin


def _next_labels(prev: str | None) -> set[str]:
    """Labels that may follow `prev` in a list ("a" → "b", "h" → "i", "ii" → "iii")."""
    if prev is None:
        return {"a", "1", "i"}
    out: set[str] = set()
    if prev.isdigit():
        out.add(str(int(prev) + 1))
    if prev in _ROMAN and _ROMAN.index(prev) + 1 < len(_ROMAN):
        out.add(_ROMAN[_ROMAN.index(prev) + 1])
    if prev.isalpha() and len(prev) == 1 and prev != "z":
        out.add(chr(ord(prev) + 1))
    if prev == "z":
        out.add("aa")
    if len(prev) == 2 and prev[0] == prev[1] and prev[0] != "z":  # aa → bb
        out.add(chr(ord(prev[0]) + 1) * 2)
    return out


class EuOjParser:
    """One pass over the visual lines of an act: front matter, recitals, then the terms."""

    def __init__(self, cleaned: Cleaned, path: Path, layout: str) -> None:
        self.path = path
        self.layout = layout
        self.unplaced: list[tuple[int, str]] = []
        self.lines = self._furniture(cleaned.lines)
        if not self.lines:
            raise ImportFailed(f"{path}: read as an EU Official Journal act (layout {layout}) "
                               "but it has no text beside running heads and footnotes")
        xs = Counter(round(ln.x0) for ln in self.lines)
        self.margin = float(min(x for x, _ in xs.most_common(3)))
        rights = Counter(round(ln.x1) for ln in self.lines)
        self.right = float(max(x for x, _ in rights.most_common(3)))
        self.doc = RegulationDoc(code="", title="", version_label="", jurisdiction="EU",
                                 source_name=path.name, source_format=f"pdf:{layout}")
        self.title_part: ClauseNode | None = None
        self.chapter: ClauseNode | None = None
        self.section: ClauseNode | None = None
        self.container: ClauseNode | None = None  # article or annex (or annex section)
        self.annex: ClauseNode | None = None
        self.annex_open: list[tuple[int, ClauseNode]] = []  # Parts, Sections, coded headings
        self.paragraph: _Item | None = None
        self.items: list[_Item] = []  # open points, outermost first
        self.own: list[str] = []  # the container's own text
        self.last_para: int = 0
        self.subpara = 1
        self.title_for: ClauseNode | None = None
        self.in_annex = False
        self.annex_last = 0
        self.page: int | None = None
        self.acronyms = acronyms_in(ln.text for ln in self.lines)

    def _furniture(self, lines: list[VLine]) -> list[VLine]:
        """Lines less the OJ running heads and folios the page-count threshold of a short act
        lets through, and the amendment markers of consolidated texts ("▼M1", "►M2 … ◄")."""
        kept: list[VLine] = []
        for i, ln in enumerate(lines):
            t = ln.text.strip()
            last_on_page = i + 1 == len(lines) or lines[i + 1].page != ln.page
            folio = bool(re.fullmatch(r"\d{1,4}(?:/\d{1,4})?", t)) and last_on_page and \
                bool(kept) and kept[-1].page == ln.page and kept[-1].top < ln.top
            if not t or _RUNNING.search(t) or _MARKER.match(t) or folio:
                if t:
                    self.unplaced.append((ln.page, t))
                continue
            if "►" in t or "◄" in t:
                ln = replace(ln, text=_INLINE_MARKER.sub(" ", t).strip())
            kept.append(ln)
        return kept

    # ------------------------------------------------------------------ parse
    def _node(self, ref: str, kind: str, **fields: object) -> ClauseNode:
        return ClauseNode(ref, kind, page=self.page, **fields)  # type: ignore[arg-type]

    def parse(self) -> RegulationDoc:
        whereas, adopted, start = self._front()
        if whereas is not None:
            self._recitals(whereas + 1, start if adopted is None else adopted)
        if adopted is not None:
            self._unplaced(self.lines[adopted])
        self._terms(start)
        self._close_container()
        self._dedupe()
        if not any(n.text or n.title for _, n in self.doc.walk()):
            found = ", ".join(n.ref for _, n in self.doc.walk())[:80]
            what = f"only headings with no text ({found})" if found else \
                "no recitals, articles or annexes"
            raise ImportFailed(f"{self.path}: read as an EU Official Journal act (layout "
                               f"{self.layout}) but found {what}")
        return self.doc

    def _heading(self, ln: VLine, pattern: re.Pattern[str] = _ARTICLE) -> re.Match[str] | None:
        """A structural heading: its own line, set off from the left margin."""
        return pattern.match(ln.text.strip()) if ln.x0 > self.margin + 40 else None

    def _front(self) -> tuple[int | None, int | None, int]:
        """Title and identifiers from the act's heading. Returns where "Whereas:" and "HAVE
        ADOPTED …" are, if anywhere, and where the terms start: after the latter, else at the
        first heading. The lines before the recitals (or the terms) are unplaced."""
        texts = [ln.text.strip() for ln in self.lines]
        whereas = next((i for i, t in enumerate(texts) if t == "Whereas:"), None)
        adopted = next((i for i, t in enumerate(texts) if _ADOPTED.match(t)
                        and (whereas is None or i > whereas)), None)
        after = whereas or 0
        first = next((i for i, ln in enumerate(self.lines[after:], after)
                      if any(self._heading(ln, h) for h in _HEADINGS)), len(self.lines))
        start = adopted + 1 if adopted is not None else first
        head = whereas + 1 if whereas is not None else start
        self._title(self.lines[:head])
        for ln in self.lines[:head]:
            self._unplaced(ln)
        return whereas, adopted, start

    def _title(self, lines: list[VLine]) -> None:
        """The heading ("REGULATION (EU) 2016/679 OF …", "of 27 April 2016", "on …") up to
        "(Text with EEA relevance)", the preamble or a change of weight."""
        first = next((i for i, ln in enumerate(lines) if _ACT_HEAD.match(ln.text.strip())
                      and ln.page <= 2), None)
        if first is None:
            return
        title = [heading_case(lines[first].text.strip())]
        for ln in lines[first + 1:first + 8]:
            t = ln.text.strip()
            if _TITLE_END.match(t) or ln.page != lines[first].page \
                    or ln.bold != lines[first].bold:
                break
            title.append(heading_case(t) if t.isupper() else t)
        self.doc.title = " ".join(title)
        self.doc.version_label = act_date(self.doc.title)
        self.doc.effective_date = self.doc.version_label or None
        self.doc.short_title = short_title(self.doc.title)
        self.doc.identifiers = act_identifiers(self.doc.title)

    def _recitals(self, i: int, end: int) -> None:
        current: ClauseNode | None = None
        expected = 1
        for ln in self.lines[i:end]:
            self.page = ln.page
            t = ln.text.strip()
            m = re.match(r"^\((\d+)\)\s*(.*)$", t)
            if m and int(m.group(1)) == expected and ln.x0 < self.margin + 8:
                current = self._node(f"Recital {expected}", "recital", text=m.group(2),
                                     assessable=False)
                self.doc.clauses.append(current)
                expected += 1
            elif current is not None:
                current.text = _join(current.text, t)
            else:
                self._unplaced(ln)

    def _terms(self, i: int) -> None:
        closing = False
        while i < len(self.lines):
            ln = self.lines[i]
            self.page = ln.page
            t = ln.text.strip()
            i += 1
            if m := self._heading(ln, _ANNEX):
                closing = False
                self._open_annex(m.group(1))
                continue
            if closing:
                self._unplaced(ln)
                continue
            if not self.in_annex and _CLOSING.match(t):
                self._close_container()
                closing = True
                self._unplaced(ln)
                continue
            if self.title_for is not None and self._title_line(ln, t):
                continue
            if not self.in_annex:
                if m := self._heading(ln, _TITLE):
                    self._open_part(m.group(1))
                    continue
                if m := self._heading(ln, _CHAPTER):
                    self._open_chapter(m.group(1))
                    continue
                if m := self._heading(ln, _SECTION):
                    self._open_section(m.group(1))
                    continue
                if m := self._heading(ln, _ARTICLE):
                    self._open_article(m.group(1))
                    continue
            self._body(ln, t)

    def _dedupe(self) -> None:
        """Refs must be unique: a clause whose ref came before (a repeated heading) is taken
        out of the tree with all under it, its text kept as unplaced and a warning given."""
        seen: dict[str, int | None] = {}

        def prune(nodes: list[ClauseNode]) -> None:
            for node in list(nodes):
                if node.ref in seen:
                    nodes.remove(node)
                    self.doc.warnings.append(
                        f"{node.ref} appears again on page {node.page} (first on page "
                        f"{seen[node.ref]}); the repeat's text is kept as unplaced text")
                    for _, n in node.walk():
                        words = " ".join(w for w in (n.title, n.text) if w)
                        self.unplaced.append((n.page or 0, f"[repeated {n.ref}] {words}"))
                    continue
                seen[node.ref] = node.page
                prune(node.children)

        prune(self.doc.clauses)

    # ------------------------------------------------------------ structure
    def _open_part(self, number: str) -> None:
        """A "TITLE I" of older acts (REACH): its chapters may number from 1 again."""
        self._close_container()
        self.title_part = self._node(f"Title {number}", "title")
        self.chapter = self.section = None
        self.doc.clauses.append(self.title_part)
        self.title_for = self.title_part

    def _open_chapter(self, number: str) -> None:
        self._close_container()
        prefix = f"{self.title_part.ref} " if self.title_part else ""
        self.chapter = self._node(f"{prefix}Chapter {number}", "chapter")
        self.section = None
        (self.title_part.children if self.title_part else self.doc.clauses).append(self.chapter)
        self.title_for = self.chapter

    def _open_section(self, number: str) -> None:
        self._close_container()
        prefix = f"{self.chapter.ref} " if self.chapter else ""
        self.section = self._node(f"{prefix}Section {number}", "section")
        (self.chapter.children if self.chapter else self.doc.clauses).append(self.section)
        self.title_for = self.section

    def _open_article(self, number: str) -> None:
        self._close_container()
        art = self._node(f"Art. {number}", "article")
        parent = self.section or self.chapter or self.title_part
        (parent.children if parent else self.doc.clauses).append(art)
        self.container = art
        self.title_for = art
        self.last_para = 0

    def _open_annex(self, number: str | None) -> None:
        self._close_container()
        self.in_annex = True
        self.annex_last = 0
        annex = self._node(f"Annex {number}" if number else "Annex", "annex")
        self.doc.clauses.append(annex)
        self.container = annex
        self.annex = annex
        self.annex_open = []
        self.title_for = annex

    def _title_line(self, ln: VLine, t: str) -> bool:
        """Lines right after a heading, set off from the body, make its title."""
        node = self.title_for
        assert node is not None
        if self.in_annex and (_ANNEX_SECTION.match(t) or _CODE.match(t)):
            self.title_for = None  # "PART A" ends the annex's title
            return False
        annexed = node.kind in ("annex", "annex-section")
        if ln.bold and (annexed or node.kind == "article"):  # titles set in bold (2024 layout)
            node.title = _join(node.title, sentence_case(t, self.acronyms) if annexed else t)
            return True
        if any(h.match(t) for h in _HEADINGS):
            self.title_for = None  # the next heading: this one had no (more) title
            return False
        centred = ln.x0 > self.margin + 20 and not _LABEL.match(t) and not _PARA.match(t)
        if node.kind in ("title", "chapter", "section"):
            node.title = _join(node.title, sentence_case(t, self.acronyms))
            if not centred:  # a one-line title is all a chapter or section gets
                self.title_for = None
            return True
        if centred:
            node.title = _join(node.title, sentence_case(t, self.acronyms) if annexed else t)
            return True
        self.title_for = None
        return False

    def _close_container(self) -> None:
        self._close_items(0)
        self._close_paragraph()
        if self.container is not None:
            self.container.text = _join(self.container.text, " ".join(self.own))
        self.own = []
        self.container = None

    def _close_paragraph(self) -> None:
        self._close_items(0)
        if self.paragraph is not None:
            self.paragraph.node.text = " ".join(self.paragraph.own)
        self.paragraph = None

    def _close_items(self, keep: int) -> None:
        while len(self.items) > keep:
            item = self.items.pop()
            item.node.text = " ".join(item.own)

    # ------------------------------------------------------------------ body
    def _body(self, ln: VLine, t: str) -> None:
        if self.container is None:
            self._unplaced(ln)
            return
        if self.in_annex and (m := _ANNEX_SECTION.match(t)):
            self._open_annex_section(m.group(1).capitalize(), m.group(2), m.group(3) or "")
            return
        if self.in_annex and (m := _CODE.match(t)) and _code_heading(m.group(2)):
            self._open_coded(m.group(1), m.group(2))
            return
        if not self.in_annex and (m := _PARA.match(t)) and abs(ln.x0 - self.margin) < 8 \
                and int(m.group(1)) == self.last_para + 1:
            self._close_paragraph()
            self.last_para += 1
            node = self._node(f"{self.container.ref}({m.group(1)})", "paragraph")
            self.container.children.append(node)
            self.paragraph = _Item(node, ln.x0, m.group(1), [m.group(2)])
            self.subpara = 1
            return
        label = self._label(ln, t)
        if label is not None:
            return
        # continuation: it belongs to the deepest open item it is indented under
        while self.items and ln.x0 < self.items[-1].label_x + 6 \
                and not _runs_on(self.items[-1], ln.x0):
            self._close_items(len(self.items) - 1)
            if not self.items:  # text after a list: a new subparagraph
                self.subpara += 1
        target = self.items[-1].own if self.items else (
            self.paragraph.own if self.paragraph else self.own)
        target.append(t)

    def _label(self, ln: VLine, t: str) -> _Item | None:
        m = _LABEL.match(t)
        numbered = self.in_annex and _ANNEX_LABEL.match(t)
        if not m and not numbered:
            return None
        label, rest = (m.group(1), m.group(2)) if m else (numbered.group(1),  # type: ignore[union-attr]
                                                          numbered.group(2))  # type: ignore[union-attr]
        if "." in label:  # "3.1." in an annex: under item 3, with its own number
            major = label.split(".")[0]
            parent_depth = next((d for d, it in enumerate(self.items)
                                 if it.label == major), -1) + 1
            if parent_depth == 0:
                return None
            _heading_item(self.items[parent_depth - 1])
        else:
            parent_depth = self._place(label, ln.x0)
            if parent_depth is None:
                return None
        sibling_base = (self.items[parent_depth].base if parent_depth < len(self.items)
                        else None)
        self._close_items(parent_depth)
        if parent_depth:
            parent = self.items[-1].node
        elif self.paragraph is not None:
            parent = self.paragraph.node
        else:
            parent = self.container  # type: ignore[assignment]
        base = parent.ref
        if "." in label:
            base = self.annex_base()
        elif sibling_base is not None:
            base = sibling_base
        elif parent_depth == 0 and f"{base}({label})" in {c.ref for c in parent.children}:
            # a second list reusing the labels of the first (Art. 43(1)): name its subparagraph
            base = f"{base} subpara {self.subpara}"
        if self.in_annex:
            kind = "annex-point" if parent_depth == 0 or "." in label else "annex-subpoint"
        else:
            kind = "point" if parent_depth == 0 else "subpoint"
        node = self._node(f"{base}({label})", kind)
        parent.children.append(node)
        if self.in_annex and numbered and parent_depth == 0 and "." not in label \
                and rest and not rest.endswith((".", ";", ":", ",")) and ln.x1 < self.right - 90:
            node.title, rest = rest, ""  # a numbered heading ("1. Introduction")
        item = _Item(node, ln.x0, label, [rest] if rest else [], base,
                     short=ln.x1 < self.right - 90)
        if self.in_annex and parent_depth == 0 and label.isdigit():
            self.annex_last = int(label)
        self.items.append(item)
        return item

    def _place(self, label: str, x0: float) -> int | None:
        """How many open items the new label sits under, or None if it is not a label here.

        It continues the list of the deepest open item it follows in sequence and lines up
        with (labels may shift a few points: "(9)" sits right of "(10)"); otherwise it must
        start a new list ("a", "1", "i") under the items indented less than it."""
        for depth in range(len(self.items) - 1, -1, -1):
            item = self.items[depth]
            if label in _next_labels(item.label) and abs(item.label_x - x0) <= 8:
                return depth
            if item.label_x < x0 - 8:
                break
        depth = sum(1 for it in self.items if it.label_x < x0 - 3)
        continues = self.in_annex and depth == 0 and label == str(self.annex_last + 1)
        if label not in _next_labels(None) and not continues:  # Annex I Section B goes on
            return None                                        # from 13 where A stopped
        return depth

    def annex_base(self) -> str:
        assert self.annex is not None
        return self.annex.ref

    def _open_annex_section(self, word: str, number: str, title: str) -> None:
        """"PART A", "Section 1" in an annex: a Section goes under the open Part, and its
        points number under it ("Annex Part A Section 1(1)")."""
        parent = self._annex_parent(_ANNEX_RANK[word])
        section = self._annex_heading(f"{parent.ref} {word} {number}", title, parent,
                                      _ANNEX_RANK[word])
        if not title:
            self.title_for = section

    def _open_coded(self, code: str, title: str) -> None:
        """A heading an annex numbers with a code ("UAS.OPEN.010 General provisions"): under
        the open Part or Section; codes are unique in the annex, so its ref is "Annex UAS…"."""
        assert self.annex is not None
        parent = self._annex_parent(2)
        self._annex_heading(f"{self.annex.ref} {code}", title, parent, 2)

    def _annex_parent(self, rank: int) -> ClauseNode:
        """The open heading a new one of `rank` goes under (the annex at the top); the
        container's text and items so far are closed, as are headings of the same rank or
        below."""
        assert self.annex is not None and self.container is not None
        self._close_items(0)
        self.subpara = 1
        self.container.text = _join(self.container.text, " ".join(self.own))
        self.own = []
        while self.annex_open and self.annex_open[-1][0] >= rank:
            self.annex_open.pop()
        return self.annex_open[-1][1] if self.annex_open else self.annex

    def _annex_heading(self, ref: str, title: str, parent: ClauseNode, rank: int) -> ClauseNode:
        node = self._node(ref, "annex-section", title=title)
        parent.children.append(node)
        self.annex_open.append((rank, node))
        self.container = node
        return node

    def _unplaced(self, ln: VLine) -> None:
        self.unplaced.append((ln.page, ln.text.strip()))


def _heading_item(item: _Item) -> None:
    """A numbered annex item whose only text is one short line, right before its first
    "N.1." item, is a heading even with a full stop ("4. Control of the technical
    documentation." over 4.1, 4.2 …): its text becomes its title."""
    node = item.node
    if node.title or node.children or len(item.own) != 1 or not item.short:
        return
    text = item.own[0]
    if len(text) < 100 and "." not in text.rstrip(".") and not text.endswith((";", ":", ",")):
        node.title, item.own = text.rstrip("."), []


def _code_heading(title: str) -> bool:
    """After a code, a heading's title, not a sentence wrapped there ("UAS.OPEN.020 of …")."""
    return len(title) < 120 and not title.endswith((";", ",", ":"))


def _runs_on(item: _Item, x0: float) -> bool:
    """A line in line with an item's label goes on with the item's text when that text does
    not end a clause yet: definitions printed without a hanging indent ("(1) ‘term’ means
    the" / "thing;")."""
    return abs(x0 - item.label_x) <= 3 and bool(item.own) and not _CLAUSE_END.search(
        item.own[-1].rstrip())


def _join(a: str, b: str) -> str:
    return f"{a} {b}".strip() if a else b.strip()


def parse_eu_oj(cleaned: Cleaned, path: Path, layout: str) -> tuple[RegulationDoc,
                                                                    list[tuple[int, str]]]:
    parser = EuOjParser(cleaned, path, layout)
    doc = parser.parse()
    return doc, parser.unplaced
