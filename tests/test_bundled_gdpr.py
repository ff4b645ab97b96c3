"""The bundled GDPR catalogue and its default mappings, checked against the official Formex XML.

The Formex file is read here with `xml.etree` on purpose, not with `app.importers.formex`, so a
bug in our importer cannot hide the same bug in the bundled catalogue (which was generated
with it). Tests that need the official document use the `corpus` fixture and skip without it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.catalog import parse_catalog
from app.importers.mapping_file import MappingSpec, parse_mappings

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "regulations" / "gdpr.yaml"
MAPPINGS = ROOT / "mappings" / "gdpr.yaml"
FORMEX_NAME = "L_2016119EN.01000101.xml"
QUOTES = ("QUOT.START", "QUOT.END")
WINDOW = 8  # no run of this many words may be shared with the official text
SUMMARISED = ("chapter", "section", "article")
REQUIRED_ARTICLES = (5, 6, 9, 13, 14, 15, 17, 20, 21, 22, 24, 25, 28, 30, 32, 33, 34, 35, 36,
                     37, 44)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI")


# --- the bundled files -------------------------------------------------------------------------

@cache
def catalog() -> RegulationDoc:
    return parse_catalog(CATALOG.read_bytes(), CATALOG, trusted=True)


@cache
def nodes() -> dict[str, ClauseNode]:
    return {node.ref: node for _, node in catalog().walk()}


@cache
def mappings() -> tuple[str, list[MappingSpec]]:
    return parse_mappings(MAPPINGS.read_bytes(), MAPPINGS, trusted=True)


def of_kind(kind: str) -> dict[str, ClauseNode]:
    return {ref: n for ref, n in nodes().items() if n.kind == kind}


# --- the official document, read independently --------------------------------------------------

def _text(el: ET.Element) -> str:
    """Text of an element with Formex quotation marks rendered (CODE is the code point)."""
    out = [el.text or ""]
    for child in el:
        if child.tag in QUOTES:
            out.append(chr(int(child.get("CODE", "22"), 16)))
        else:
            out.append(_text(child))
        out.append(child.tail or "")
    return "".join(out)


def _norm(text: str) -> str:
    return " ".join(text.split())


@cache
def formex(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def official_articles(root: ET.Element) -> dict[int, ET.Element]:
    found: dict[int, ET.Element] = {}
    for art in root.iter("ARTICLE"):
        m = re.fullmatch(r"Article (\d+)", _norm(_text(art.find("TI.ART"))))
        assert m, f"unexpected article heading {_text(art.find('TI.ART'))!r}"
        found[int(m.group(1))] = art
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _windows(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


@cache
def official_windows(path: Path) -> frozenset[tuple[str, ...]]:
    """Every 8-word window of the whole act. Joined both with and without a separator between
    elements, so that neither a word split by markup nor two glued headings hide a match."""
    root = formex(path)
    spaced = _windows(_words(" ".join(root.itertext())))
    glued = _windows(_words("".join(root.itertext())))
    return frozenset(spaced | glued)


def shared_run(text: str, windows: frozenset[tuple[str, ...]]) -> str | None:
    for window in _windows(_words(text)):
        if window in windows:
            return " ".join(window)
    return None


@pytest.fixture
def official(corpus: Path) -> Path:
    path = corpus / FORMEX_NAME
    if not path.is_file():
        pytest.skip(f"{FORMEX_NAME} not in the corpus")
    return path


# --- catalogue against the official structure ----------------------------------------------------

def test_catalog_validates_with_header() -> None:
    doc = catalog()
    assert doc.code == "GDPR"
    assert doc.identifiers.get("celex") == "32016R0679"
    assert doc.version_label
    assert doc.count_by_kind()["article"] == 99


def test_article_numbers_and_titles_match_formex(official: Path) -> None:
    arts = official_articles(formex(official))
    assert sorted(arts) == list(range(1, 100))
    expected = {f"Art. {n}": _norm(_text(a.find("STI.ART"))) for n, a in arts.items()}
    got = {ref: n.title for ref, n in of_kind("article").items()}
    assert got == expected


def test_paragraph_refs_match_formex(official: Path) -> None:
    expected = set()
    for n, art in official_articles(formex(official)).items():
        for parag in art.iter("PARAG"):
            no = _norm(_text(parag.find("NO.PARAG"))).rstrip(".")
            expected.add(f"Art. {n}({no})")
    assert len(expected) == 372
    assert set(of_kind("paragraph")) == expected


def test_chapter_and_section_titles_match_formex(official: Path) -> None:
    chapters: dict[str, str] = {}
    sections: dict[str, str] = {}
    enacting = formex(official).find("ENACTING.TERMS")
    for chapter in enacting.findall("DIVISION"):
        head = _norm(_text(chapter.find("TITLE/TI")))
        m = re.fullmatch(r"CHAPTER ([IVX]+)", head)
        assert m, head
        ref = f"Chapter {m.group(1)}"
        chapters[ref] = _norm(_text(chapter.find("TITLE/STI")))
        for section in chapter.findall("DIVISION"):
            no = re.fullmatch(r"Section (\d+)", _norm(_text(section.find("TITLE/TI"))))
            assert no
            sections[f"{ref} Section {no.group(1)}"] = _norm(_text(section.find("TITLE/STI")))
    assert list(chapters) == [f"Chapter {r}" for r in ROMAN]
    assert {ref: n.title for ref, n in of_kind("chapter").items()} == chapters
    assert len(sections) == 15
    assert {ref: n.title for ref, n in of_kind("section").items()} == sections


def test_recitals_present_and_not_assessable(official: Path) -> None:
    assert len(list(formex(official).iter("CONSID"))) == 173
    recitals = of_kind("recital")
    assert set(recitals) == {f"Recital {i}" for i in range(1, 174)}
    assert not [ref for ref, n in recitals.items() if n.assessable]


# --- our summaries ------------------------------------------------------------------------------

def test_every_article_chapter_and_section_has_a_one_line_summary() -> None:
    summarised = {ref: n for ref, n in nodes().items() if n.kind in SUMMARISED}
    assert len(summarised) == 99 + 11 + 15
    bad = {ref: n.summary for ref, n in summarised.items()
           if not n.summary.strip() or "\n" in n.summary or len(n.summary) > 200}
    assert not bad


def test_summaries_do_not_copy_the_official_text(official: Path) -> None:
    windows = official_windows(official)
    assert len(windows) > 50_000  # the whole act, recitals included
    copied = {ref: run for ref, n in nodes().items() if n.summary
              if (run := shared_run(n.summary, windows))}
    assert not copied


def test_overlap_check_catches_a_copied_phrase(official: Path) -> None:
    """The check above is live: a sentence lifted from Art. 22(1) is caught."""
    lifted = ("People have the right not to be subject to a decision based solely on "
              "automated processing.")
    assert shared_run(lifted, official_windows(official))


def test_catalog_holds_no_legal_text() -> None:
    assert not [ref for ref, n in nodes().items() if n.text]


# --- default mappings ---------------------------------------------------------------------------

def test_mappings_validate_and_target_this_regulation() -> None:
    code, specs = mappings()
    assert code == "GDPR"
    assert 50 <= len(specs) <= 100


def test_every_mapped_ref_exists_in_the_catalog() -> None:
    _, specs = mappings()
    missing = sorted({s.ref for s in specs} - set(nodes()))
    assert not missing
    assert all(nodes()[s.ref].assessable for s in specs)


@pytest.mark.parametrize("article", REQUIRED_ARTICLES)
def test_required_article_is_mapped(article: int) -> None:
    _, specs = mappings()
    ref = f"Art. {article}"
    assert [s for s in specs if s.ref == ref or s.ref.startswith(f"{ref}(")], ref


def test_mapping_rationales_are_our_own(official: Path) -> None:
    windows = official_windows(official)
    _, specs = mappings()
    copied = {(s.ref, s.control): run for s in specs if (run := shared_run(s.rationale, windows))}
    assert not copied
