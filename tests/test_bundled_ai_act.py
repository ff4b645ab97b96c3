"""The bundled EU AI Act catalogue and its default mappings, checked against the official text.

The EUR-Lex XHTML in the corpus is parsed here with regular expressions, independently of
`app.importers.eurlex_html` (which generated the catalogue), so a bug in the importer cannot
hide itself.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.controls import CONTROL_IDS
from app.importers.catalog import parse_catalog
from app.importers.mapping_file import MappingSpec, parse_mappings

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "regulations" / "eu-ai-act.yaml"
MAPPINGS = ROOT / "mappings" / "eu-ai-act.yaml"
XHTML = "AI-Act_EUR-Lex_L_202401689EN.000101.html"

SUMMARISED_KINDS = {"chapter", "section", "article", "annex", "annex-section"}
# The 8 high-risk areas of Annex III and the 9 parts of the Annex IV technical documentation.
SUMMARISED_POINTS = {f"Annex III({n})" for n in range(1, 9)} | {
    f"Annex IV({n})" for n in range(1, 10)}
REQUIRED_MAPPED = [f"Art. {n}" for n in (4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20,
                                         26, 27, 43, 49, 50, 53, 55, 72, 73)] + ["Annex IV"]
WINDOW = 8  # no run of this many words may be shared with the official text


# ---------------------------------------------------------------------------------------------
# helpers

def norm(text: str) -> str:
    """Whitespace-normalised text (no-break spaces included)."""
    return " ".join(text.split())


def plain(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded, whitespace normalised."""
    return norm(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def words(text: str) -> list[str]:
    """Lower-case words with punctuation removed, for the copying check."""
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).split()


def windows(ws: list[str]) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + WINDOW]) for i in range(len(ws) - WINDOW + 1)}


def segments(source: str, pattern: str) -> list[tuple[re.Match[str], str]]:
    """Each match of `pattern` with the source text up to the next match."""
    found = list(re.finditer(pattern, source))
    ends = [m.start() for m in found[1:]] + [len(source)]
    return [(m, source[m.start():end]) for m, end in zip(found, ends, strict=True)]


@lru_cache(maxsize=2)
def official(path: Path) -> dict[str, object]:
    """Articles, paragraph refs, annexes, chapters, sections, recitals and the full text."""
    source = path.read_text(encoding="utf-8")
    articles: dict[int, str] = {}
    paragraphs: set[str] = set()
    # An article runs to the next article, chapter or annex anchor.
    bounds = r'id="(?:art_\d+|cpt_[IVXL]+|anx_[IVXL]+)"'
    for m, seg in segments(source, bounds):
        num = re.fullmatch(r'id="art_(\d+)"', m.group(0))
        if not num:
            continue
        n = int(num.group(1))
        heading = re.search(r'class="oj-ti-art">(.*?)</p>', seg, re.S)
        assert heading and plain(heading.group(1)) == f"Article {n}"
        title = re.search(r'class="oj-sti-art">(.*?)</p>', seg, re.S)
        assert title, f"no title for Article {n}"
        articles[n] = plain(title.group(1))
        # Paragraph ids are NNN.MMM; the amending Articles 102-110 quote paragraphs of other acts
        # (e.g. 005.012 inside Article 106), which are not paragraphs of this Regulation.
        for a, p in re.findall(r'id="(\d{3})\.(\d{3})"', seg):
            if int(a) == n:
                paragraphs.add(f"Art. {n}({int(p)})")
    annexes: dict[str, str] = {}
    for m, seg in segments(source, r'id="anx_([IVXL]+)"'):
        titles = [plain(t) for t in re.findall(r'<p class="oj-doc-ti"[^>]*>(.*?)</p>', seg, re.S)]
        assert titles[0] == f"ANNEX {m.group(1)}"
        annexes[m.group(1)] = titles[1]
    divisions: dict[str, str] = {}
    for m in re.finditer(r'id="cpt_([IVXL]+)(?:\.sct_(\d+))?\.tit_1">(.*?)</div>', source, re.S):
        chapter, section, title = m.groups()
        ref = f"Chapter {chapter}" + (f" Section {section}" if section else "")
        divisions[ref] = plain(title)
    recitals = {int(n) for n in re.findall(r'id="rct_(\d+)"', source)}
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    return {"articles": articles, "paragraphs": paragraphs, "annexes": annexes,
            "divisions": divisions, "recitals": recitals,
            "windows": windows(words(html.unescape(re.sub(r"<[^>]+>", " ", body))))}


@lru_cache(maxsize=1)
def catalog() -> RegulationDoc:
    return parse_catalog(CATALOG.read_bytes(), CATALOG, trusted=True)


def nodes() -> dict[str, ClauseNode]:
    return {node.ref: node for _, node in catalog().walk()}


@lru_cache(maxsize=1)
def mappings() -> tuple[str, tuple[MappingSpec, ...]]:
    code, specs = parse_mappings(MAPPINGS.read_bytes(), MAPPINGS, trusted=True)
    return code, tuple(specs)


@pytest.fixture
def xhtml(corpus: Path) -> dict[str, object]:
    path = corpus / XHTML
    if not path.is_file():
        pytest.skip(f"{XHTML} not in the corpus")
    return official(path)


# ---------------------------------------------------------------------------------------------
# the catalogue on its own

def test_catalog_validates() -> None:
    doc = catalog()
    assert doc.code == "EU-AI-ACT"
    assert doc.identifiers.get("celex") == "32024R1689"
    counts = doc.count_by_kind()
    assert counts["article"] == 113
    assert counts["chapter"] == 13
    assert counts["section"] == 16
    assert counts["annex"] == 13
    assert counts["recital"] == 180


def test_no_legal_text_in_the_bundle() -> None:
    with_text = [ref for ref, node in nodes().items() if node.text]
    assert with_text == []


def test_recitals_present_and_not_assessable() -> None:
    recitals = {ref: node for ref, node in nodes().items() if node.kind == "recital"}
    assert set(recitals) == {f"Recital {n}" for n in range(1, 181)}
    assert not [ref for ref, node in recitals.items() if node.assessable]


def summarised() -> dict[str, ClauseNode]:
    return {ref: node for ref, node in nodes().items()
            if node.kind in SUMMARISED_KINDS or ref in SUMMARISED_POINTS}


def test_summaries_present_one_line_and_short() -> None:
    targets = summarised()
    assert len(targets) == 113 + 13 + 16 + 13 + 7 + 8 + 9
    missing = sorted(ref for ref, node in targets.items() if not node.summary.strip())
    assert missing == []
    bad = {ref: node.summary for ref, node in targets.items()
           if len(node.summary) > 200 or "\n" in node.summary or node.summary != norm(
               node.summary)}
    assert bad == {}


# ---------------------------------------------------------------------------------------------
# the catalogue against the official XHTML

def test_article_numbers_and_titles_match_eurlex(xhtml: dict[str, object]) -> None:
    articles = xhtml["articles"]
    assert isinstance(articles, dict)
    assert sorted(articles) == list(range(1, 114))
    ours = {int(ref[5:]): norm(node.title) for ref, node in nodes().items()
            if node.kind == "article"}
    assert ours == articles


def test_annex_numbers_and_titles_match_eurlex(xhtml: dict[str, object]) -> None:
    annexes = xhtml["annexes"]
    assert isinstance(annexes, dict)
    assert len(annexes) == 13
    ours = {ref.removeprefix("Annex "): norm(node.title) for ref, node in nodes().items()
            if node.kind == "annex"}
    assert ours == annexes


def test_chapter_and_section_titles_match_eurlex(xhtml: dict[str, object]) -> None:
    divisions = xhtml["divisions"]
    assert isinstance(divisions, dict)
    assert len(divisions) == 13 + 16
    # EUR-Lex prints chapter headings in capitals; the catalogue keeps sentence case.
    ours = {ref: norm(node.title).casefold() for ref, node in nodes().items()
            if node.kind in {"chapter", "section"}}
    assert ours == {ref: title.casefold() for ref, title in divisions.items()}


def test_paragraph_refs_match_eurlex_ids(xhtml: dict[str, object]) -> None:
    ours = {ref for ref, node in nodes().items() if node.kind == "paragraph"}
    assert ours == xhtml["paragraphs"]


def test_recitals_match_eurlex(xhtml: dict[str, object]) -> None:
    assert xhtml["recitals"] == set(range(1, 181))


def test_summaries_do_not_copy_the_official_text(xhtml: dict[str, object]) -> None:
    official_windows = xhtml["windows"]
    assert isinstance(official_windows, set)
    assert len(official_windows) > 50_000
    copied = {}
    for ref, node in summarised().items():
        shared = windows(words(node.summary)) & official_windows
        if shared:
            copied[ref] = sorted(" ".join(w) for w in shared)
    assert copied == {}


# ---------------------------------------------------------------------------------------------
# the default mappings

def test_mappings_validate_and_refs_exist() -> None:
    code, specs = mappings()
    assert code == catalog().code
    assert 70 <= len(specs) <= 110
    known = nodes()
    assert sorted({s.ref for s in specs if s.ref not in known}) == []
    assert not [s.ref for s in specs if not known[s.ref].assessable]


def test_required_clauses_are_mapped() -> None:
    _, specs = mappings()
    mapped = {s.ref for s in specs}
    known = nodes()
    unmapped = []
    for ref in REQUIRED_MAPPED:
        below = {node.ref for _, node in known[ref].walk()}
        if not below & mapped:
            unmapped.append(ref)
    assert unmapped == []


def test_every_control_is_targeted_at_least_twice() -> None:
    _, specs = mappings()
    per_control = Counter(s.control_id for s in specs)
    assert {c: per_control[c] for c in CONTROL_IDS if per_control[c] < 2} == {}


def test_mapping_rationales_are_our_own(xhtml: dict[str, object]) -> None:
    official_windows = xhtml["windows"]
    assert isinstance(official_windows, set)
    _, specs = mappings()
    copied = {(s.ref, s.control_id) for s in specs
              if windows(words(s.rationale)) & official_windows}
    assert copied == set()
