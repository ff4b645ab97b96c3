"""EUR-Lex XHTML (the "L series" rendering of an act on eur-lex.europa.eu).

Uses the stable anchors EUR-Lex gives every unit: ``rct_N`` (recitals), ``cpt_X`` and
``cpt_X.sct_N`` (chapters, sections), ``art_N`` (articles, with ``oj-ti-art``/``oj-sti-art``),
``NNN.MMM`` (numbered paragraphs) and ``anx_X`` (annexes). Points are the two-cell tables
(label, content) the OJ layout uses; annexes keep their internal numbering — ``Annex III(1)(a)``,
``Annex VIII Section A(1)``, ``Annex VII(3.1)``. Each clause keeps its own text, without
footnote markers. The page is parsed with the standard library's HTML parser, which never
fetches or expands anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.eu import act_date, celex_eli, sentence_case, short_title

_VOID = {"meta", "link", "br", "hr", "img", "col", "input", "base", "area", "wbr", "source"}
_BLOCK = {"p", "div", "td", "tr", "table", "li", "h1", "h2", "h3", "h4", "tbody"}
_ENUM = "oj-enumeration-spacing"


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def iter(self) -> list[Node]:
        out: list[Node] = []
        stack = [self]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(reversed(n.elements()))
        return out

    def find_class(self, cls: str) -> Node | None:
        return next((n for n in self.iter() if cls in n.classes), None)

    def text(self, *, skip_tables: bool = False) -> str:
        parts: list[str] = []

        def walk(n: Node | str) -> None:
            if isinstance(n, str):
                parts.append(n)
                return
            if "oj-note-tag" in n.classes or n.tag in ("script", "style"):
                return
            if skip_tables and n.tag == "table":
                return
            block = n.tag in _BLOCK
            parts.append(" " if block else "")
            for c in n.children:
                walk(c)
            parts.append(" " if block else "")

        for c in self.children:
            walk(c)
        return " ".join("".join(parts).split())


MAX_DEPTH = 200


class _TooDeep(Exception):
    pass


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.closed = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            if len(self.stack) > MAX_DEPTH:
                raise _TooDeep
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "html":
            self.closed = True
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(data: bytes, path: Path) -> Node:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(f"{path}: line {line} is not valid UTF-8 text") from None
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except _TooDeep:
        raise ImportFailed(f"{path}: elements are nested more than {MAX_DEPTH} deep; this is "
                           "not an EUR-Lex page") from None
    builder.root.attrs["closed"] = "yes" if builder.closed else ""
    return builder.root


def parse_eurlex_html(data: bytes, path: Path, *, code: str | None = None) -> RegulationDoc:
    root = parse_html(data, path)
    by_id = {n.id: n for n in root.iter() if n.id}
    articles = [n for i, n in by_id.items() if re.fullmatch(r"art_\d+[a-z]?", i)]
    if not articles:
        raise ImportFailed(f"{path}: no EUR-Lex article anchors (id=\"art_1\"…) found; is this "
                           "the XHTML of an act from eur-lex.europa.eu?")
    title_node = by_id.get("tit_1") or root.find_class("eli-main-title")
    title = title_node.text() if title_node else ""
    doc = RegulationDoc(
        code=code or "", title=title, version_label=act_date(title), jurisdiction="EU",
        source_name=path.name, source_format="eurlex-html",
        identifiers=_identifiers(root), short_title=short_title(title),
    )
    doc.effective_date = doc.version_label or None
    if not root.attrs.get("closed"):
        doc.warnings.append(f"{path.name} ends before </html>: the file may be cut short, so "
                            "clauses at its end may be missing")
    for i in sorted((i for i in by_id if re.fullmatch(r"rct_\d+", i)),
                    key=lambda i: int(i[4:])):
        doc.clauses.append(_recital(by_id[i]))
    enacting = by_id.get("enc_1") or root
    doc.clauses += _units(enacting, prefix="")
    for i in [i for i in by_id if re.fullmatch(r"anx_[IVXLC]+", i)]:
        doc.clauses.append(_annex(by_id[i]))
    return doc




def _identifiers(root: Node) -> dict[str, str]:
    for n in root.iter():
        href = n.attrs.get("href", "")
        m = re.search(r"/eli/(reg|dir|dec)(?:_(impl|del))?/(\d{4})/(\d+)/oj", href)
        if n.tag == "link" and m:
            kind = {"reg": "regulation", "dir": "directive", "dec": "decision"}[m.group(1)]
            variant = {"impl": "implementing", "del": "delegated"}.get(m.group(2) or "", "")
            return celex_eli(kind, m.group(3), m.group(4), variant)
    return {}




def _recital(div: Node) -> ClauseNode:
    number = div.id[4:]
    cells = [n for n in div.iter() if n.tag == "td"]
    text = cells[-1].text() if len(cells) >= 2 else re.sub(r"^\(\d+\)\s*", "", div.text())
    return ClauseNode(f"Recital {number}", "recital", text=text, assessable=False)


def _units(parent: Node, prefix: str) -> list[ClauseNode]:
    """Chapters, sections and articles directly under `parent`, in document order."""
    out: list[ClauseNode] = []
    for child in parent.elements():
        if re.fullmatch(r"cpt_[IVXLC]+(\.sct_\d+)?", child.id):
            out.append(_division(child, prefix))
        elif re.fullmatch(r"art_\d+[a-z]?", child.id):
            out.append(_article(child))
        elif not child.id.startswith(("anx_", "rct_")):
            out += _units(child, prefix)
    return out


def _division(div: Node, prefix: str) -> ClauseNode:
    heading = div.find_class("oj-ti-section-1")
    word, _, number = (heading.text() if heading else div.id).partition(" ")
    kind = "section" if ".sct_" in div.id else "chapter"
    ref = f"{prefix}{word.capitalize()} {number}".strip()
    title_node = div.find_class("oj-ti-section-2")
    node = ClauseNode(ref, kind, title=sentence_case(title_node.text()) if title_node else "")
    node.children = _units(div, prefix=f"{ref} " if kind == "chapter" else prefix)
    return node




def _article(div: Node) -> ClauseNode:
    number = div.id[4:]
    ref = f"Art. {number}"
    sti = div.find_class("oj-sti-art")
    node = ClauseNode(ref, "article", title=sti.text() if sti else "")
    body = [c for c in div.elements() if not ({"oj-ti-art", "eli-title"} & c.classes)]
    paragraphs = [c for c in body if re.fullmatch(r"\d{3}\.\d{3}", c.id)]
    node.children += [_paragraph(p, ref) for p in paragraphs]
    node.text = _fill(node, [c for c in body if c not in paragraphs], ref, "point")
    return node


def _paragraph(div: Node, article_ref: str) -> ClauseNode:
    number = str(int(div.id.split(".")[1]))
    ref = f"{article_ref}({number})"
    node = ClauseNode(ref, "paragraph")
    node.text = re.sub(rf"^{number}\.\s*", "", _fill(node, div.elements(), ref, "point"))
    return node


def _fill(owner: ClauseNode, elements: list[Node], ref: str, kind: str) -> str:
    """Walk a unit's blocks: text blocks are its subparagraphs and its own text; labelled
    tables are its points. A later list whose first label is already taken (Art. 43(1) has
    points (a), (b) in its first subparagraph and (a)–(d) in its second) is qualified with its
    subparagraph: ``Art. 43(1) subpara 2(a)``. Returns the unit's own text."""
    texts: list[str] = []
    subpara = 0
    base = ref
    in_list = False
    for el in _flatten(elements):
        label = _label(el)
        if label is None:
            text = el.text()
            if text:
                texts.append(text)
                subpara += el.tag != "table"
            in_list = False
            continue
        if not in_list:  # a new list starts here
            taken = {c.ref for c in owner.children}
            base = f"{ref} subpara {max(subpara, 1)}" if f"{ref}({label})" in taken else ref
            in_list = True
        owner.children.append(_item(el, label, base, kind))
    return " ".join(texts)


def _flatten(elements: list[Node]) -> list[Node]:
    """Tables and text blocks in document order, looking through wrapper divs."""
    out: list[Node] = []
    for el in elements:
        if el.tag == "div" and not ({"oj-ti-art", "eli-title", _ENUM} & el.classes):
            out += _flatten(el.elements())
        else:
            out.append(el)
    return out


def _label(el: Node) -> str | None:
    """The label of a (label, content) item — "1.", "(a)", "3.1." — or None. Items are
    two-cell tables, or (Annex VI) ``oj-enumeration-spacing`` blocks of two inline paragraphs."""
    cells = _cells(el)
    if len(cells) != 2:
        return None
    m = re.fullmatch(r"\(?([0-9]+(?:\.[0-9]+)*|[a-z]{1,4})\)?\.?", cells[0].text())
    return m.group(1) if m else None


def _cells(el: Node) -> list[Node]:
    """An item's label and content: the cells of a table's first row (without the empty indent
    cells some rows start with), or the two paragraphs of an enumeration block."""
    if el.tag == "div" and _ENUM in el.classes:
        return el.elements()
    if el.tag != "table":
        return []
    row = next((n for n in el.iter() if n.tag == "tr"), None)
    cells = [c for c in row.elements() if c.tag == "td"] if row else []
    while len(cells) > 2 and not cells[0].text():
        cells = cells[1:]
    return cells


def _item(table: Node, label: str, parent_ref: str, kind: str) -> ClauseNode:
    ref = f"{parent_ref}({label})"
    node = ClauseNode(ref, kind)
    content = _cells(table)[1]
    sub = {"point": "subpoint", "annex-point": "annex-subpoint"}.get(kind, kind)
    node.text = _fill(node, content.elements(), ref, sub)
    return node


def _annex(div: Node) -> ClauseNode:
    """An annex with its sections ("Section A — …"), numbered headings ("3. Quality
    management system") and items; refs follow the annex's own numbering."""
    number = div.id[4:]
    ref = f"Annex {number}"
    heads = [n for n in div.elements() if "oj-doc-ti" in n.classes]
    node = ClauseNode(ref, "annex", title=heads[1].text() if len(heads) > 1 else "")
    container = node
    own: list[str] = []
    untitled: ClauseNode | None = None
    for child in div.elements():
        if "oj-doc-ti" in child.classes:
            continue
        if "oj-ti-grseq-1" in child.classes:
            heading = child.text()
            if untitled is not None:  # "Section 1", then its title on a line of its own
                untitled.title, untitled = heading, None
                continue
            sec = re.match(r"^(Section|Part)\s+([A-Z0-9]+)\b[\s.—–-]*(.*)$", heading)
            num = re.match(r"^(\d+(?:\.\d+)*)\.\s+(.*)$", heading)
            if sec:
                container = ClauseNode(f"{ref} {sec.group(1)} {sec.group(2)}", "annex-section",
                                       title=sec.group(3))
                untitled = container if not sec.group(3) else None
            elif num:
                container = ClauseNode(f"{ref}({num.group(1)})", "annex-point",
                                       title=num.group(2).rstrip("."))
            else:
                own.append(heading)
                continue
            node.children.append(container)
            continue
        untitled = None
        if container.kind == "annex-point":  # items under a numbered heading
            before = len(container.children)
            text = _fill(container, [child], container.ref, "annex-subpoint")
            _renumber(container, before, ref)
        else:
            text = _fill(container, [child], container.ref, "annex-point")
        if text and container is node:
            own.append(text)
        elif text:
            container.text = f"{container.text} {text}".strip()
    node.text = " ".join(own)
    return node


def _renumber(heading: ClauseNode, start: int, annex_ref: str) -> None:
    """Items "3.1", "3.2" under heading 3 keep their own number (``Annex VII(3.1)``); letters
    nest (``Annex X(1)(a)``)."""
    number = heading.ref[heading.ref.rindex("(") + 1: -1]
    for child in heading.children[start:]:
        label = child.ref[child.ref.rindex("(") + 1: -1]
        if label.startswith(f"{number}."):
            child.kind = "annex-point"
            _rebase(child, f"{annex_ref}({label})")


def _rebase(node: ClauseNode, ref: str) -> None:
    old = node.ref
    node.ref = ref
    for c in node.children:
        _rebase(c, ref + c.ref[len(old):])
