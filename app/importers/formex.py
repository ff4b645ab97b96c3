"""Formex 4 XML (the Publications Office's structured source of the Official Journal).

Reads ``ACT`` and ``CONS.ACT`` documents: recitals (``CONSID``), chapters and sections
(``DIVISION``), articles (``ARTICLE`` with ``TI.ART``/``STI.ART``), numbered paragraphs
(``PARAG``/``NO.PARAG``), points and sub-points (``LIST``/``ITEM``/``NP``/``NO.P``) and annexes
(``ANNEX``). Each clause keeps its own text — the words that belong to it and not to its
children — with footnotes left out. Parsed with defusedxml: DTDs and entity expansion are
refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection
from pathlib import Path

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.eu import act_identifiers, celex_eli, short_title

_SKIP = {"NOTE", "NO.P", "NO.PARAG", "TI.ART", "STI.ART"}
_BLOCKS = {"P", "TXT", "ALINEA", "NP", "ITEM", "LIST", "TI", "STI", "PARAG", "CONSID"}
_ROMAN = re.compile(r"\b([IVXLC]+)\b")


def parse_xml(data: bytes, path: Path) -> ET.Element:
    """Parse untrusted XML safely; errors name line and column."""
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise ImportFailed(f"{path}: refused XML with a DTD or entity declarations "
                           f"({type(exc).__name__}); official documents do not need them"
                           ) from None
    except ET.ParseError as exc:
        line, col = exc.position
        raise ImportFailed(f"{path}: invalid XML at line {line}, column {col + 1}: "
                           f"{str(exc).split(':')[0]}") from None


def text_of(el: ET.Element, skip: set[str] = _SKIP,
            stop: Collection[ET.Element] = ()) -> str:
    """The element's words with whitespace collapsed, leaving out `skip` tags and the `stop`
    elements (their tail text is kept)."""
    parts: list[str] = []

    def walk(e: ET.Element) -> None:
        if e.tag == "QUOT.START" or e.tag == "QUOT.END":
            code = e.get("CODE", "2018" if e.tag == "QUOT.START" else "2019")
            parts.append(chr(int(code, 16)))
        elif e.tag not in skip and e not in stop:
            block = e.tag in _BLOCKS
            parts.append(" " if block else "")
            parts.append(e.text or "")
            for child in e:
                walk(child)
                parts.append(child.tail or "")
            parts.append(" " if block else "")
            return
        # skipped element: its tail is added by the caller

    parts.append(el.text or "")
    for child in el:
        walk(child)
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _text_at(el: ET.Element, path: str) -> str:
    found = el.find(path)
    return text_of(found) if found is not None else ""


def parse_formex(data: bytes, path: Path, *, code: str | None = None) -> RegulationDoc:
    root = parse_xml(data, path)
    if root.tag not in ("ACT", "CONS.ACT"):
        raise ImportFailed(f"{path}: not a Formex act (root element <{root.tag}>, expected "
                           "<ACT> or <CONS.ACT>)")
    title = _text_at(root, ".//TITLE/TI")
    if not title:
        raise ImportFailed(f"{path}: the act has no title (TITLE/TI)")
    date_el = root.find(".//BIB.INSTANCE/DATE")
    if date_el is None:  # a consolidated version: the date of consolidation
        date_el = root.find(".//BIB.INSTANCE.CONS/DATE")
    iso = (date_el.get("ISO") if date_el is not None else None) or ""
    version = f"{iso[:4]}-{iso[4:6]}-{iso[6:8]}" if len(iso) == 8 else ""
    doc = RegulationDoc(
        code=code or "", title=title, version_label=version, effective_date=version or None,
        jurisdiction="EU", source_name=path.name, source_format="formex",
        identifiers=_identifiers(root, title),
        short_title=short_title(title),
    )
    doc.clauses += [_recital(c) for c in root.iter("CONSID")]
    terms = root.find(".//ENACTING.TERMS")
    if terms is None:
        raise ImportFailed(f"{path}: no enacting terms (ENACTING.TERMS) in the act")
    doc.clauses += _enacting(terms, prefix="")
    for annex in root.iter("ANNEX"):
        doc.clauses.append(_annex(annex))
    if not any(n.kind == "article" for _, n in doc.walk()):
        raise ImportFailed(f"{path}: no articles found in the enacting terms")
    return doc


def _identifiers(root: ET.Element, title: str) -> dict[str, str]:
    """CELEX and ELI from the document number, or (consolidated versions) from the title's
    "Regulation (EU) 2016/679"."""
    no = root.find(".//BIB.INSTANCE/NO.DOC")
    if no is None:
        return act_identifiers(title)
    words = title.lower().split()[:6]
    kind = next((k for k in ("regulation", "directive", "decision") if k in words), "")
    variant = next((v for v in ("implementing", "delegated") if v in words), "")
    return celex_eli(kind, no.findtext("YEAR", ""), no.findtext("NO.CURRENT", ""), variant)




def _recital(consid: ET.Element) -> ClauseNode:
    number = (consid.findtext("NP/NO.P") or "").strip("() ")
    return ClauseNode(f"Recital {number}", "recital", text=text_of(consid), assessable=False)


def _enacting(parent: ET.Element, prefix: str) -> list[ClauseNode]:
    out: list[ClauseNode] = []
    for el in parent:
        if el.tag == "DIVISION":
            out.append(_division(el, prefix))
        elif el.tag == "ARTICLE":
            out.append(_article(el))
    return out


def _division(div: ET.Element, prefix: str) -> ClauseNode:
    heading = _text_at(div, "TITLE/TI")
    subtitle = _text_at(div, "TITLE/STI")
    word, _, number = heading.partition(" ")
    kind = "chapter" if word.lower() == "chapter" else "section" if word.lower() == (
        "section") else word.lower() or "division"
    label = f"{word.capitalize()} {number.upper() if _ROMAN.fullmatch(number) else number}"
    ref = f"{prefix}{label}".strip()
    node = ClauseNode(ref, kind, title=subtitle)
    node.children = _enacting(div, prefix=f"{ref} ")
    return node


def _article(art: ET.Element) -> ClauseNode:
    heading = art.findtext("TI.ART", "")
    number = heading.replace("Article", "").strip() or str(int(art.get("IDENTIFIER", "0")))
    ref = f"Art. {number}"
    node = ClauseNode(ref, "article", title=_text_at(art, "STI.ART"))
    own: list[str] = []
    for el in art:
        if el.tag == "PARAG":
            node.children.append(_paragraph(el, ref))
        elif el.tag == "ALINEA":
            own.append(_own_text(el, node, ref, "point"))
    node.text = " ".join(t for t in own if t)
    return node


def _paragraph(parag: ET.Element, article_ref: str) -> ClauseNode:
    number = (parag.findtext("NO.PARAG") or "").strip().rstrip(".")
    ref = f"{article_ref}({number})" if number else article_ref
    node = ClauseNode(ref, "paragraph")
    node.text = " ".join(t for t in (_own_text(el, node, ref, "point") for el in parag
                                     if el.tag != "NO.PARAG") if t)
    return node


def _own_text(el: ET.Element, owner: ClauseNode, ref: str, kind: str) -> str:
    """Text of `el` that belongs to `owner`; labelled lists inside become `owner`'s children.
    Unlabelled lists (dash bullets) stay part of the text."""
    points = [lst for lst in el.iter("LIST")
              if _nearest_list_owner(el, lst)
              and all(item.find("NP/NO.P") is not None for item in lst.findall("ITEM"))]
    for lst in points:
        owner.children += [_point(item, ref, kind) for item in lst.findall("ITEM")]
    nested = [lst for lst in el.iter("LIST") if not _nearest_list_owner(el, lst)]
    return text_of(el, stop=set(points) | set(nested))


def _nearest_list_owner(top: ET.Element, lst: ET.Element) -> bool:
    """True when `lst` is not nested inside another LIST below `top` (those belong to points)."""
    parents = {c: p for p in top.iter() for c in p}
    p = parents.get(lst)
    while p is not None and p is not top:
        if p.tag == "LIST":
            return False
        p = parents.get(p)
    return True


def _point(item: ET.Element, parent_ref: str, kind: str) -> ClauseNode:
    np_ = item.find("NP")
    label = (item.findtext("NP/NO.P") or "").strip()
    number = label.strip("()").rstrip(".")
    ref = f"{parent_ref}({number})" if number else parent_ref
    node = ClauseNode(ref, kind)
    body = np_ if np_ is not None else item
    node.text = _own_text(body, node, ref, "subpoint")
    return node


def _annex(annex: ET.Element) -> ClauseNode:
    heading = _text_at(annex, "TITLE/TI")
    number = heading.upper().replace("ANNEX", "").strip()
    return ClauseNode(f"Annex {number}".strip(), "annex",
                      title=_text_at(annex, "TITLE/STI"),
                      text=text_of(annex, skip=_SKIP | {"TITLE"}))
