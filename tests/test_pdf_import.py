"""The PDF importer (issue 4): faithful clause trees from the official PDFs of the corpus,
checked against structured sources, into the workspace through the real CLI, and clear
errors for hostile and odd PDFs made on the spot with tests/pdfgen.py.

Faithfulness (each test prints its measured scores; `pytest -s` shows them):

- GDPR PDF against the Formex XML: article numbers and titles, numbered paragraphs, clause
  text similarity per article (see `similarity`), recitals;
- AI Act PDF against the EUR-Lex XHTML: articles, annexes, recitals, titles; paragraphs and
  the similarity distribution are measured and held at today's level;
- HIPAA PDF against our catalog regulations/hipaa.yaml (checked by hand against the PDF):
  section titles of Part 164 Subparts C, D and E, and the implementation specifications of
  §§ 164.308–164.312 with their "(Required)" / "(Addressable)" flag.

Known bugs are pinned with strict xfails ("BUG: …"); they pass once the importer is fixed.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.catalog import parse_catalog
from app.importers.eurlex_html import parse_eurlex_html
from app.importers.formex import parse_formex
from app.importers.pdf import detect_layout, parse_pdf
from app.importers.pdf.lines import read_pages
from app.importers.pdf.visual import clean
from app.services.imports import read_document
from tests import pdfgen
from tests.conftest import ROOT
from tests.helpers import assert_error, sha256, unchanged

GDPR_PDF = "CELEX_32016R0679_EN_TXT.pdf"
AI_ACT_PDF = "OJ_L_202401689_EN_TXT.pdf"
HIPAA_PDF = "hipaa-simplification-201303.pdf"
FORMEX = "L_2016119EN.01000101.xml"
XHTML = "AI-Act_EUR-Lex_L_202401689EN.000101.html"
HIPAA_CATALOG = ROOT / "regulations" / "hipaa.yaml"
LONG_PAGES = 2000
QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


class CliResult(Protocol):
    code: int
    out: str
    err: str


class Cli(Protocol):
    def __call__(self, *args: str) -> CliResult: ...


# ------------------------------------------------------------------------------- the metric
def normalise(text: str) -> str:
    """Whitespace collapsed, typographic quotes ‘’“” made plain ' and "."""
    return " ".join(text.translate(QUOTES).split())


def article_text(node: ClauseNode) -> str:
    """The article's own text and the texts of all its descendants (paragraphs, points,
    sub-points), in document order, joined by spaces and normalised."""
    return normalise(" ".join(n.text for _, n in node.walk() if n.text))


def similarity(pdf: ClauseNode, truth: ClauseNode) -> float:
    """Clause text similarity of one article (or annex), the metric of issue 4:

    `difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()` of `article_text` of the
    clause read from the PDF (a) and of the same clause from the structured source (b) —
    2·M / (len(a) + len(b)), M the characters of the matching blocks. 1.0 is identical text;
    a missing clause scores 0. Comparing whole articles makes the score indifferent to where
    a boundary between two of its clauses falls, and sensitive to lost or extra words,
    unrepaired hyphenation, footnote markers and running heads left in the text."""
    return ratio(article_text(pdf), article_text(truth))


def ratio(a: str, b: str) -> float:
    """SequenceMatcher's ratio without autojunk (identical texts, most of them, skip it)."""
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def by_ref(doc: RegulationDoc) -> dict[str, ClauseNode]:
    return {node.ref: node for _, node in doc.walk()}


def of_kind(doc: RegulationDoc, kind: str) -> list[ClauseNode]:
    return [node for _, node in doc.walk() if node.kind == kind]


def pages_in_order(doc: RegulationDoc, pages: int) -> bool:
    """Every clause knows the page it starts on (for the preview), in document order."""
    found = [node.page or 0 for _, node in doc.walk()]
    return found == sorted(found) and all(1 <= page <= pages for page in found)


def spread(scores: list[float]) -> str:
    s = sorted(scores)
    return (f"min {s[0]:.3f}, p5 {s[len(s) // 20]:.3f}, median {statistics.median(s):.3f}, "
            f"≥0.98 {sum(x >= 0.98 for x in s)}/{len(s)}")


# ------------------------------------------------------------------- parsed once per session
@functools.cache
def pdf_doc(path: Path) -> RegulationDoc:
    """A corpus PDF through the import service, layout detected (treat as read-only)."""
    return read_document(path)


@functools.cache
def formex_doc(path: Path) -> RegulationDoc:
    return parse_formex(path.read_bytes(), path)


@functools.cache
def xhtml_doc(path: Path) -> RegulationDoc:
    return parse_eurlex_html(path.read_bytes(), path)


@functools.cache
def hipaa_catalog() -> RegulationDoc:
    return parse_catalog(HIPAA_CATALOG.read_bytes(), HIPAA_CATALOG)


# ================================================================= faithfulness on the corpus
def test_gdpr_pdf_matches_the_formex_xml(corpus: Path) -> None:
    pdf, truth = pdf_doc(corpus / GDPR_PDF), formex_doc(corpus / FORMEX)
    got, want = by_ref(pdf), by_ref(truth)
    articles = of_kind(truth, "article")
    paragraphs = [p.ref for p in of_kind(truth, "paragraph")]
    recitals = of_kind(truth, "recital")
    assert (len(articles), len(paragraphs), len(recitals)) == (99, 372, 173)  # the truth

    titled = sum(a.ref in got and got[a.ref].title == a.title for a in articles)
    present = sum(ref in got and got[ref].kind == "paragraph" for ref in paragraphs)
    scores = {a.ref: similarity(got[a.ref], a) if a.ref in got else 0.0 for a in articles}
    close = sum(s >= 0.98 for s in scores.values())
    with_text = sum(bool(got.get(r.ref) and got[r.ref].text) for r in recitals)
    recital_scores = [ratio(normalise(got[r.ref].text), normalise(r.text))
                      for r in recitals if r.ref in got]
    print(f"\n[GDPR PDF vs Formex] article numbers and titles {titled}/99 exact; paragraphs "
          f"{present}/372; all refs {sum(ref in got for ref in want)}/{len(want)}; article "
          f"similarity {spread(list(scores.values()))} (worst "
          f"{min(scores, key=scores.__getitem__)}); recitals with text {with_text}/173, "
          f"similarity {spread(recital_scores)}")

    assert (pdf.code, pdf.version_label, pdf.source_format, pdf.pages) == (
        "", "2016-04-27", "pdf:eu-oj-classic", 88)
    assert pdf.identifiers == truth.identifiers  # how the workspace recognises it
    assert [n.ref for n in of_kind(pdf, "article")] == [a.ref for a in articles]
    assert [(a.ref, got[a.ref].title) for a in articles] == [(a.ref, a.title) for a in articles]
    assert present >= 0.99 * 372
    assert close >= 0.99 * 99, sorted(scores.items(), key=lambda kv: kv[1])[:5]
    assert with_text == 173
    assert got["Art. 32(1)(b)"].text.startswith("the ability to ensure the ongoing "
                                                "confidentiality, integrity, availability")
    assert pages_in_order(pdf, 88)
    assert (got["Recital 1"].page, got["Art. 1"].page, got["Art. 99"].page) == (1, 32, 87)


def test_ai_act_pdf_matches_the_eurlex_xhtml(corpus: Path) -> None:
    pdf, truth = pdf_doc(corpus / AI_ACT_PDF), xhtml_doc(corpus / XHTML)
    got = by_ref(pdf)
    counts = {kind: len(of_kind(pdf, kind)) for kind in ("article", "annex", "recital")}
    titled = {kind: sum(n.ref in got and got[n.ref].title == n.title
                        for n in of_kind(truth, kind)) for kind in ("article", "annex")}
    paragraphs = [p.ref for p in of_kind(truth, "paragraph")]
    present = sum(ref in got and got[ref].kind == "paragraph" for ref in paragraphs)
    every = sum(n.ref in got for _, n in truth.walk())
    scores = {a.ref: similarity(got[a.ref], a) if a.ref in got else 0.0
              for a in of_kind(truth, "article")}
    annexes = {a.ref: similarity(got[a.ref], a) if a.ref in got else 0.0
               for a in of_kind(truth, "annex")}
    recitals = [ratio(normalise(got[r.ref].text), normalise(r.text)) if r.ref in got else 0.0
                for r in of_kind(truth, "recital")]
    low = sorted((ref for ref, s in scores.items() if s < 0.98), key=lambda r: int(r[5:]))
    print(f"\n[AI Act PDF vs XHTML] {counts}; titles exact: articles {titled['article']}/113, "
          f"annexes {titled['annex']}/13; paragraphs {present}/{len(paragraphs)}; all refs "
          f"{every}/{sum(1 for _ in truth.walk())}; article similarity "
          f"{spread(list(scores.values()))}, below 0.98: {', '.join(low)}; annexes "
          f"{spread(list(annexes.values()))}; recitals {spread(recitals)}")

    assert (pdf.version_label, pdf.source_format, pdf.pages) == (
        "2024-06-13", "pdf:eu-oj-2024", 144)
    assert pdf.identifiers == truth.identifiers
    assert counts == {"article": 113, "annex": 13, "recital": 180}
    for kind in ("article", "annex"):
        want = [(n.ref, n.title) for n in of_kind(truth, kind)]
        assert [(n.ref, n.title) for n in of_kind(pdf, kind)] == want
    assert all(r.text for r in of_kind(pdf, "recital"))
    # floors at today's level: every paragraph; the articles below 0.98 are those amending
    # other acts (Arts. 102–110), whose quoted amendment carries a footnote "(*) Regulation
    # (EU) 2024/1689 …" that the PDF keeps and the XHTML importer leaves out
    assert present == len(paragraphs)
    assert set(low) <= {f"Art. {n}" for n in range(102, 111)}, low
    assert sum(s >= 0.98 for s in scores.values()) >= 106
    assert min(annexes.values()) >= 0.98 and min(recitals) >= 0.98
    assert pages_in_order(pdf, 144)
    assert (got["Art. 1"].page, got["Annex I"].page, got["Annex XIII"].page) == (44, 124, 144)


def test_hipaa_pdf_matches_the_bundled_catalog(corpus: Path) -> None:
    pdf, catalog = pdf_doc(corpus / HIPAA_PDF), hipaa_catalog()
    got = by_ref(pdf)
    subparts = of_kind(catalog, "subpart")
    sections = [n for s in subparts for _, n in s.walk() if n.kind == "section"]
    specs = [n for n in of_kind(catalog, "implementation-specification")
             if re.match(r"§ 164\.3(08|10|12)\(", n.ref)]
    assert [s.ref for s in subparts] == [f"Part 164 Subpart {x}" for x in "CDE"]
    assert (len(sections), len(specs)) == (34, 36)  # what the catalog holds

    titles = [(n.ref, got[n.ref].title if n.ref in got else None) for n in sections]
    exact_titles = sum(t == (n.ref, n.title) for t, n in zip(titles, sections, strict=True))
    found = [(n.ref, got[n.ref].kind, got[n.ref].attributes.get("requirement"),
              got[n.ref].title) if n.ref in got else (n.ref, None, None, None) for n in specs]
    want = [(n.ref, n.kind, n.attributes["requirement"], n.title) for n in specs]
    exact_specs = sum(f == w for f, w in zip(found, want, strict=True))
    pdf_specs = [n.ref for n in of_kind(pdf, "implementation-specification")
                 if re.match(r"§ 164\.3(08|10|12)\(", n.ref)]
    print(f"\n[HIPAA PDF vs catalog] Part 164 Subparts C–E: {exact_titles}/34 sections with "
          f"the exact title; §§ 164.308–312: {exact_specs}/36 implementation specifications "
          f"with ref, required/addressable and title ({len(pdf_specs)} in the PDF tree); "
          f"{len(pdf.unplaced)} lines unplaced")

    assert (pdf.version_label, pdf.source_format, pdf.pages) == ("2013-03-26", "pdf:cfr", 115)
    assert pdf.identifiers == catalog.identifiers
    assert [(s.ref, got[s.ref].title) for s in subparts] == [(s.ref, s.title) for s in subparts]
    assert titles == [(n.ref, n.title) for n in sections]
    assert all(got[n.ref].kind == "section" for n in sections)
    assert found == want
    assert sorted(pdf_specs) == sorted(n.ref for n in specs)  # and none the catalog lacks
    assert all(got[n.ref].text for n in specs)
    assert pages_in_order(pdf, 115)
    assert [got[f"Part 164 Subpart {x}"].page for x in "CDE"] == [62, 71, 73]


@pytest.mark.parametrize("name", [GDPR_PDF, AI_ACT_PDF, HIPAA_PDF])
def test_no_pdfium_hyphen_marks_left_in_clause_text(corpus: Path, name: str) -> None:
    doc = pdf_doc(corpus / name)
    marked = [(n.ref, n.text[max(0, n.text.find("\ufffe") - 20):n.text.find("\ufffe") + 20])
              for _, n in doc.walk() if "\ufffe" in n.text + n.title]
    assert marked == []
    if name == GDPR_PDF:
        assert "technologically neutral" in by_ref(doc)["Recital 15"].text


WORD = re.compile(r"\w+(?:-\w+)*")


@pytest.mark.parametrize(("name", "truth"), [(GDPR_PDF, FORMEX), (AI_ACT_PDF, XHTML)])
def test_line_end_hyphens_are_repaired_as_the_official_text_has_them(corpus: Path, name: str,
                                                                     truth: str) -> None:
    """Every word PDFium marks as broken at a line end comes out as the structured text
    spells it: joined ("technologically") or hyphenated ("decision-making")."""
    official = formex_doc(corpus / truth) if truth == FORMEX else xhtml_doc(corpus / truth)
    words = {w.casefold() for _, n in official.walk() for w in WORD.findall(n.title + " " +
                                                                             n.text)}
    lines = [ln.text for page in read_pages(corpus / name) for ln in page.lines]
    breaks = [(re.search(r"[\w'’]+(?:-[\w'’]+)*$", a[:-1]), re.match(r"\w+", b.strip()))
              for a, b in pairwise(lines) if a.endswith("\ufffe")]
    ours = {w.casefold() for _, n in pdf_doc(corpus / name).walk()
            for w in WORD.findall(n.title + " " + n.text)}
    wrong = []
    for head, tail in ((h.group(0), t.group(0)) for h, t in breaks if h and t):
        spelled = [w for w in (head + tail, f"{head}-{tail}") if w.casefold() in words]
        if spelled and spelled[0].casefold() not in ours:
            wrong.append(spelled[0])
    print(f"\n[{name}] {len(breaks)} line-end breaks, {len(wrong)} repaired unlike the "
          "official text")
    assert breaks and wrong == []


def test_hipaa_words_on_three_column_pages_are_whole(corpus: Path) -> None:
    """On some three-column pages PDFium gives first and last letters of lines as runs of
    their own, out of order; every word we keep there must be a word pdfplumber (an
    independent reader) finds on the page, and the clauses there read whole."""
    import pdfplumber

    path, pages = corpus / HIPAA_PDF, (29, 85, 86, 94, 111)
    with pdfplumber.open(path) as pdf:
        theirs = {w for n in pages for w in WORD.findall(pdf.pages[n - 1].extract_text())}
    ours = [w for ln in clean(read_pages(path, first=min(pages), last=max(pages))).lines
            if ln.page in pages for w in WORD.findall(ln.text)]
    strangers = sorted({w for w in ours if w not in theirs})
    print(f"\n[HIPAA pages {pages}] {len(ours)} words, not found by pdfplumber: {strangers}")
    assert strangers == []
    got = by_ref(pdf_doc(path))
    assert got["§ 164.508(b)"].title == "Implementation specifications: General requirements" \
        or got["§ 164.508(b)"].title == "General requirements"
    assert "§ 164.508(c)(1)" in got and "§ 164.528(c)" in got and "§ 164.528(d)" in got
    assert "or for other research" in got["§ 164.512(i)(2)(ii)(A)(3)"].text


def test_hipaa_page_numbers_stay_out_of_clause_text(corpus: Path) -> None:
    path = corpus / HIPAA_PDF
    doc = pdf_doc(path)
    folios = {(ln.page, ln.text.strip()) for ln in clean(read_pages(path)).lines
              if ln.text.strip() == str(ln.page)}
    in_clauses = sorted(folios - set(doc.unplaced))
    assert in_clauses == [], f"{len(in_clauses)} page numbers in clause text"
    assert " 112 " not in by_ref(doc)["§ 164.530(a)(1)"].text


def test_hipaa_appendix_is_a_clause_with_its_table(corpus: Path) -> None:
    """Appendix A to Subpart C (the security standards matrix) is a clause of the subpart,
    its table kept row by row, not unplaced text."""
    got = by_ref(pdf_doc(corpus / HIPAA_PDF))
    matrix = got["Part 164 Subpart C Appendix A"]
    assert (matrix.kind, matrix.title, matrix.page) == ("appendix", "Security Standards: Matrix",
                                                        69)
    rows = matrix.text.splitlines()
    assert "Security Management Process 164.308(a)(1) Risk Analysis (R)" in rows
    assert rows[-1] == "Encryption (A)"  # the table's end, on the next page


def test_hipaa_part_titles_end_at_the_heading(corpus: Path) -> None:
    got = by_ref(pdf_doc(corpus / HIPAA_PDF))
    for part in of_kind(hipaa_catalog(), "part"):
        assert got[part.ref].title.casefold() == part.title.casefold()


def test_hipaa_labels_run_on_after_a_standard_open_paragraphs(corpus: Path) -> None:
    got = by_ref(pdf_doc(corpus / HIPAA_PDF))
    for ref in ("§ 164.404(a)(1)", "§ 164.404(a)(2)", "§ 164.404(c)(1)", "§ 164.410(a)(1)",
                "§ 164.530(a)(1)(i)", "§ 164.530(a)(1)(ii)"):
        assert ref in got, ref
    breach = got["§ 164.404(a)(2)"]
    assert breach.title == "Breaches treated as discovered"  # the CFR's italic heading
    assert breach.text.startswith("For purposes of paragraph (a)(1) of this section")
    assert (got["§ 164.404(a)"].kind, got["§ 164.306(a)"].title) == (
        "standard", "General requirements")


def test_running_heads_are_reported_as_unplaced(corpus: Path) -> None:
    """Nothing is dropped silently: each running head is listed once, with the pages it ran
    on; together the GDPR's two alternating heads cover all 88 pages."""
    doc = pdf_doc(corpus / GDPR_PDF)
    heads = [text for _, text in doc.unplaced if text.startswith("[running head or foot")
             and "Official Journal of the European Union" in text and "L 119/" in text]
    assert len(heads) == 2
    counts = sorted(int(re.search(r"on (\d+) pages", text).group(1)) for text in heads)
    assert counts == [44, 44]


# ------------------------------------------------------------------------ layout detection
@pytest.mark.parametrize(("name", "layout"), [(GDPR_PDF, "eu-oj-classic"),
                                              (AI_ACT_PDF, "eu-oj-2024"), (HIPAA_PDF, "cfr")])
def test_each_corpus_pdf_is_detected_as_its_layout(corpus: Path, name: str,
                                                   layout: str) -> None:
    assert detect_layout(list(read_pages(corpus / name, last=30))) == layout
    assert pdf_doc(corpus / name).source_format == f"pdf:{layout}"


def test_a_consolidated_eu_text_is_known_by_its_foot(tmp_path: Path) -> None:
    """EUR-Lex consolidated texts carry no Official Journal head, but a CELEX foot."""
    pages = [[(72, 760, 11, True, "REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT"),
              (72, 700, 10, False, "Article 1"), (72, 686, 10, True, "Subject-matter"),
              (72, 670, 10, False, "This Regulation lays down rules."),
              (72, 30, 8, False, f"02016R0679 — EN — 04.05.2016 — 000.001 — {n}")]
             for n in (1, 2)]
    path = pdfgen.write_pdf(tmp_path / "consolidated.pdf", pages)
    assert detect_layout(list(read_pages(path))) == "eu-oj-classic"


def test_a_policy_citing_the_cfr_is_not_read_as_cfr(tmp_path: Path) -> None:
    """A mention of "45 CFR" and a cited section are not a CFR text."""
    page = [*POLICY, (72, 570, 10, False, "This policy meets 45 CFR 164.308 and § 164.312 "
                                          "of the HIPAA Security Rule.")]
    path = pdfgen.write_pdf(tmp_path / "policy.pdf", [page])
    assert detect_layout(list(read_pages(path))) == "generic"
    assert [n.ref for _, n in parse_pdf(path).walk()] == ["1", "1.1", "2", "2.1"]


def test_when_the_detected_layout_finds_nothing_the_generic_reading_is_tried(
        tmp_path: Path) -> None:
    """A policy that names the Official Journal is detected as one, finds no articles, and
    is read as the numbered document it is."""
    page = [*POLICY, (72, 570, 10, False, "As published in the Official Journal of the "
                                          "European Union.")]
    path = pdfgen.write_pdf(tmp_path / "policy.pdf", [page])
    assert detect_layout(list(read_pages(path))) == "eu-oj-classic"
    doc = parse_pdf(path)
    assert doc.source_format == "pdf:generic"
    assert [n.ref for _, n in doc.walk()] == ["1", "1.1", "2", "2.1"]


def test_pages_without_text_in_a_text_pdf_are_named(tmp_path: Path) -> None:
    """Pages 2–3 were scanned into an otherwise digital PDF: the import goes on and says so."""
    tail = [(72, 700, 13, True, "3 Review"), (72, 680, 10, False, "Reviewed every year.")]
    path = pdfgen.write_pdf(tmp_path / "mixed.pdf", [POLICY, [], [], tail, tail[1:]])
    doc = parse_pdf(path)
    assert doc.warnings == ["no text layer on pages 2–3 of 5: blank, or scanned (OCR them if "
                            "they hold text)"]
    assert [n.ref for _, n in doc.walk()] == ["1", "1.1", "2", "2.1", "3"]


def test_a_running_head_of_a_two_page_document_is_set_aside(tmp_path: Path) -> None:
    head = (72, 800, 9, False, "Acme Corp — internal use only")
    tail = [head, (72, 700, 13, True, "3 Review"), (72, 680, 10, False, "Reviewed yearly.")]
    path = pdfgen.write_pdf(tmp_path / "two.pdf", [[head, *POLICY], tail])
    doc = parse_pdf(path)
    assert all("Acme Corp" not in n.text + n.title for _, n in doc.walk())
    assert any(t.startswith("[running head or foot on 2 pages, 1–2] Acme Corp")
               for _, t in doc.unplaced)


@pytest.mark.parametrize("bold", [True, False])
def test_headings_opening_every_page_are_not_running_heads(tmp_path: Path, bold: bool) -> None:
    """A chapter or numbered heading at the top of each page repeats its shape ("CHAPTER #",
    "# Heading #") like a folio, but it is a heading: kept, nothing lost."""
    pages = [[(250, 780, 14, bold, f"CHAPTER {n}"), (240, 760, 14, True, f"Topic {n}"),
              (72, 730, 10, True, f"{n}.1 General"), (72, 714, 10, False, f"Rule {n}.")]
             for n in range(1, 7)]
    numbered = [[(72, 780, 12, bold, f"{n} Heading {n}"), (72, 760, 10, False, f"Body {n}.")]
                for n in range(1, 11)]
    for name, doc_pages, wanted in (("chapters.pdf", pages, "CHAPTER"),
                                    ("numbered.pdf", numbered, "Heading")):
        doc = parse_pdf(pdfgen.write_pdf(tmp_path / name, doc_pages))
        seen = " ".join([f"{n.ref} {n.title} {n.text}" for _, n in doc.walk()]
                        + [t for _, t in doc.unplaced])
        assert not any(t.startswith("[running head") for _, t in doc.unplaced), doc.unplaced
        assert all(f"{wanted} {n}" in seen for n in range(1, len(doc_pages) + 1)), seen


def test_ai_act_footnote_markers_and_masthead_stay_out_of_recitals(corpus: Path) -> None:
    """Two-digit footnote markers run into the text by PDFium ("11) and (EU) …") are taken
    out, and the first page's masthead, which PDFium reads last, is not recital 3's end."""
    got = by_ref(pdf_doc(corpus / AI_ACT_PDF))
    assert "2016/679 and (EU) 2018/1725 of the European Parliament" in got["Recital 10"].text
    assert not re.search(r"\(1[1-4]\)", got["Recital 10"].text)
    assert "Official Journal" not in got["Recital 3"].text
    assert "uniform obligations for operators and guaranteeing the uniform protection" in \
        got["Recital 3"].text


def test_generic_layout_on_the_gdpr_still_reads_numbered_clauses(corpus: Path) -> None:
    try:
        doc = parse_pdf(corpus / GDPR_PDF, layout="generic")
    except ImportFailed as exc:  # acceptable too, if it says what it tried
        assert "layout generic" in str(exc) and GDPR_PDF in str(exc)
        return
    numbered = [n.ref for _, n in doc.walk() if re.fullmatch(r"\d+(\.\d+)*", n.ref)]
    print(f"\n[GDPR PDF as generic] {doc.count_by_kind()}; {len(numbered)} numbered refs; "
          f"{len(doc.unplaced)} lines unplaced")
    assert doc.source_format == "pdf:generic" and doc.pages == 88
    assert numbered


def test_a_forced_layout_that_does_not_fit_says_what_it_tried(cli: Cli, lib_ws: Path,
                                                              corpus: Path) -> None:
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(corpus / GDPR_PDF), "--layout", "cfr")
    assert_clean_error(r, GDPR_PDF, "no numbered clauses", "88 pages", "layout cfr",
                       "--layout")
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(corpus / GDPR_PDF), "--layout", "x")
    assert_clean_error(r, "unknown PDF layout 'x'", "eu-oj-classic, eu-oj-2024, cfr, generic")


# ========================================================= into the workspace, through the CLI
def run_json(cli: Cli, ws: Path, *args: str) -> Any:
    r = cli("--workspace", str(ws), *args)
    assert r.code == 0, (args, r.err)
    return json.loads(r.out)


def assert_clean_error(r: CliResult, *fragments: str) -> str:
    """`assert_error`, and not the CLI's wrapper for an exception nobody turned into a
    message ("unexpected failure (PdfiumError: …)")."""
    line = assert_error(r, *fragments)
    assert "unexpected failure" not in line, line
    return line


def show(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """print() past the capture the `cli` fixture does (shown with -s)."""
    with capsys.disabled():
        print(text)


def test_gdpr_pdf_fills_the_bundled_gdpr(cli: Cli, lib_ws: Path, corpus: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = corpus / GDPR_PDF
    with unchanged(lib_ws):
        dry = run_json(cli, lib_ws, "import", str(src), "--dry-run", "--json")
    assert dry["committed"] is False and dry["mode"] == "fill"

    start = time.perf_counter()
    plan = run_json(cli, lib_ws, "import", str(src), "--json")
    seconds = time.perf_counter() - start
    assert (plan["mode"], plan["code"], plan["pages"], plan["format"]) == (
        "fill", "GDPR", 88, "pdf:eu-oj-classic")
    assert plan["committed"] is True and plan["sha256"] == sha256(src)
    assert plan["fill"]["unplaced"] == [] and plan["fill"]["changed"] == 0
    assert {k: v for k, v in dry.items() if k != "committed"} == {
        k: v for k, v in plan.items() if k != "committed"}  # the dry run showed the truth
    show(capsys, f"\n[GDPR PDF fill, CLI in-process] {seconds:.2f} s; "
                 f"{plan['fill']['placed']} clauses got text, {plan['fill']['without_text']} "
                 f"none; {len(plan['unplaced_text'])} lines of text unplaced")

    [gdpr] = [r for r in run_json(cli, lib_ws, "regulations", "--json") if r["code"] == "GDPR"]
    assert (gdpr["source_pages"], gdpr["source_format"], gdpr["source_name"],
            gdpr["source_sha256"]) == (88, "pdf:eu-oj-classic", GDPR_PDF, sha256(src))
    assert gdpr["with_text"] == plan["fill"]["placed"]
    point = run_json(cli, lib_ws, "clause", "GDPR Art. 32(1)(b)", "--json")
    assert point["has_text"] is True
    assert "confidentiality, integrity, availability and resilience" in point["text"]
    assert run_json(cli, lib_ws, "verify", "--json")["intact"] is True


def test_hipaa_pdf_fills_the_bundled_hipaa(cli: Cli, lib_ws: Path, corpus: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    src = corpus / HIPAA_PDF
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(src), "--dry-run")
    assert r.code == 0 and "is the text of HIPAA 2013-03-26 (pdf:cfr)" in r.out, r.err
    assert r.out.rstrip().endswith("dry run: nothing written")
    before_import = max(r["imported_at"] for r in run_json(cli, lib_ws, "regulations", "--json"))
    plan = run_json(cli, lib_ws, "import", str(src), "--json")
    assert (plan["mode"], plan["code"], plan["pages"], plan["format"]) == (
        "fill", "HIPAA", 115, "pdf:cfr")
    rows = run_json(cli, lib_ws, "clauses", "HIPAA", "--json")
    specs = [r for r in rows if r["kind"] == "implementation-specification"]
    assert len(specs) == 43 and all(r["has_text"] for r in specs)
    assert sum(r["has_text"] for r in rows) == plan["fill"]["placed"]
    show(capsys, f"\n[HIPAA PDF fill] {plan['fill']['placed']} clauses got text, "
                 f"{plan['fill']['without_text']} none; {len(plan['fill']['unplaced'])} refs "
                 "of the PDF not in the catalog")
    spec = run_json(cli, lib_ws, "clause", "HIPAA 164.312(a)(2)(iv)", "--json")
    assert spec["has_text"] is True and spec["kind"] == "implementation-specification"
    assert spec["text"] == ("Implement a mechanism to encrypt and decrypt electronic protected "
                            "health information.")
    [hipaa] = [r for r in run_json(cli, lib_ws, "regulations", "--json")
               if r["code"] == "HIPAA"]
    assert (hipaa["source_pages"], hipaa["source_format"]) == (115, "pdf:cfr")
    assert hipaa["attribution"].endswith("; text from the official document " + HIPAA_PDF)
    assert hipaa["imported_at"] > before_import
    for ref in ("164.308", "164.310", "164.312", "164.314", "164.316"):
        text = run_json(cli, lib_ws, "clause", f"HIPAA § {ref}", "--json")["text"]
        assert not [line for line in text.splitlines()  # no bare "(a)" of a holder
                    if re.fullmatch(r"(\(\w{1,4}\))+", line.strip())], (ref, text)
    assert run_json(cli, lib_ws, "verify", "--json")["intact"] is True


# ============================================================ hostile and odd files, made here
PROSE = ("It was a bright cold day in April, and the clocks were striking thirteen. Winston",
         "Smith, his chin nuzzled into his breast in an effort to escape the vile wind,",
         "slipped quickly through the glass doors of Victory Mansions, though not quickly",
         "enough to prevent a swirl of gritty dust from entering along with him.")


def _encrypted(path: Path) -> Path:
    return pdfgen.write_encrypted_pdf(path, [[(72, 700, 12, False, "Article 1 (secret)")]])


def _scanned(path: Path) -> Path:
    return pdfgen.write_scanned_pdf(path, 12)


def _not_a_pdf(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 this is a zipped Word file with a .pdf name\n" * 40)
    return path


def _prose(path: Path) -> Path:
    """Three pages of a novel: no numbering, nothing in bold."""
    page = [(72.0, 760.0 - 14 * i, 10.0, False, PROSE[i % 4]) for i in range(45)]
    return pdfgen.write_pdf(path, [page, page, page])


HOSTILE: list[tuple[str, Callable[[Path], Path], list[str]]] = [
    ("encrypted.pdf", _encrypted, ["is encrypted", "unprotected copy"]),
    ("scan.pdf", _scanned, ["no text layer on pages 1–12", "OCR"]),
    ("word.pdf", _not_a_pdf, ["is not a PDF"]),
    ("novel.pdf", _prose, ["found no numbered clauses in 3 pages of 132 lines",
                           "read as generic",
                           "does not look like a regulation"]),
]


@pytest.mark.parametrize(("name", "make", "fragments"),
                         [pytest.param(*case, id=case[0].removesuffix(".pdf"))
                          for case in HOSTILE])
def test_hostile_pdf_is_refused_clearly(cli: Cli, lib_ws: Path, tmp_path: Path, name: str,
                                        make: Callable[[Path], Path],
                                        fragments: list[str]) -> None:
    src = make(tmp_path / name)
    with pytest.raises(ImportFailed) as info:
        read_document(src)
    message = str(info.value)
    assert name in message and all(f in message for f in fragments), message
    for extra in ([], ["--json"], ["--dry-run", "--code", "X", "--version", "1"]):
        with unchanged(lib_ws):
            r = cli("--workspace", str(lib_ws), "import", str(src), *extra)
        assert_clean_error(r, name, *fragments)


def test_truncated_gdpr_pdf_is_reported_not_crashed_on(cli: Cli, lib_ws: Path,
                                                       tmp_path: Path, corpus: Path) -> None:
    data = (corpus / GDPR_PDF).read_bytes()
    src = tmp_path / "gdpr-cut.pdf"
    src.write_bytes(data[:int(len(data) * 0.3)])
    try:
        doc = read_document(src)
    except ImportFailed as exc:  # what PDFium does today: the cross-reference data is gone
        assert "gdpr-cut.pdf" in str(exc) and "damaged or truncated" in str(exc)
        with unchanged(lib_ws):
            r = cli("--workspace", str(lib_ws), "import", str(src), "--json")
        assert_clean_error(r, "gdpr-cut.pdf", "damaged or truncated")
        return
    # PDFium may recover some pages: then the loss must show, never pass for the whole act
    assert (doc.pages is not None and doc.pages < 88) or doc.warnings, doc.count_by_kind()


@pytest.mark.parametrize("short_by", [30, 200, 2000])
def test_a_pdf_cut_short_near_its_end_is_read_with_a_warning(cli: Cli, lib_ws: Path,
                                                             tmp_path: Path, corpus: Path,
                                                             short_by: int) -> None:
    """PDFium rebuilds a file that lost its last bytes and reads every page: the import may
    go on, but the plan says the file is not whole."""
    data = (corpus / GDPR_PDF).read_bytes()
    src = tmp_path / "gdpr-end-cut.pdf"
    src.write_bytes(data[:-short_by])
    with unchanged(lib_ws):
        plan = run_json(cli, lib_ws, "import", str(src), "--dry-run", "--json")
    assert any("no %%EOF" in w and "cut short" in w for w in plan["warnings"]), plan["warnings"]


def test_a_damaged_page_is_reported_with_its_number(cli: Cli, lib_ws: Path,
                                                    tmp_path: Path) -> None:
    pages = [[(72, 700, 12, True, f"{n} Heading {n}"), (72, 680, 10, False, f"Text {n}.")]
             for n in range(1, 6)]
    src = pdfgen.damage_page(pdfgen.write_pdf(tmp_path / "damaged.pdf", pages), 3)
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(src), "--code", "X", "--version", "1")
    assert_clean_error(r, "damaged.pdf", "page 3")
    with pytest.raises(ImportFailed, match="page 3"):
        read_document(src, code="X", version="1")


def test_on_a_terminal_the_error_starts_below_the_page_bar(cli: Cli, lib_ws: Path,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import app.cli

    monkeypatch.setattr(app.cli, "_page_progress", app.cli._PageBar)  # as on a terminal
    pages = [[(72, 700, 12, True, f"{n} Heading {n}"), (72, 680, 10, False, f"Text {n}.")]
             for n in range(1, 6)]
    src = pdfgen.damage_page(pdfgen.write_pdf(tmp_path / "damaged.pdf", pages), 3)
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(src), "--code", "X", "--version", "1")
    bar, error = r.err.rsplit("\r", 1)[1].splitlines()
    assert r.code == 2 and bar == f"reading  [{'#' * 12}{'-' * 18}]  2/5 pages"
    assert error.startswith("error: ") and "page 3" in error


POLICY = pdfgen.POLICY_PAGE


@pytest.mark.parametrize("layout", [None, "generic"])
def test_a_numbered_policy_is_read_as_a_generic_document(cli: Cli, lib_ws: Path,
                                                         tmp_path: Path,
                                                         layout: str | None) -> None:
    src = pdfgen.write_pdf(tmp_path / "policy.pdf", [POLICY])
    doc = read_document(src, code="ACME-POL", layout=layout)
    assert (doc.source_format, doc.version_label, doc.pages) == ("pdf:generic", "2.1", 1)
    tree = [(n.ref, n.title, n.text) for _, n in doc.walk()]
    assert tree == [
        ("1", "Scope", ""),
        ("1.1", "Purpose", "This policy sets the rules for access to Acme systems (all of "
                           "them)."),
        ("2", "Controls", ""),
        ("2.1", "Access", "Access is granted on a need-to-know basis and reviewed yearly.")]
    assert [c.ref for c in doc.clauses] == ["1", "2"]  # 1.1 and 2.1 nest
    assert [text for _, text in doc.unplaced] == [POLICY[0][4], POLICY[1][4]]

    args = ["import", str(src), "--code", "ACME-POL", "--json"]
    plan = run_json(cli, lib_ws, *args, *(["--layout", layout] if layout else []))
    assert (plan["mode"], plan["format"], plan["pages"]) == ("new", "pdf:generic", 1)
    rows = run_json(cli, lib_ws, "clauses", "ACME-POL", "--json")
    assert [(c["ref"], c["title"]) for c in rows] == [
        ("1", "Scope"), ("1.1", "Purpose"), ("2", "Controls"), ("2.1", "Access")]


# --------------------------------------------------------------- 2,000 pages: memory, cancel
@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-page numbered document, written once per module, page by page."""
    return pdfgen.write_long_pdf(tmp_path_factory.mktemp("long") / "long.pdf", LONG_PAGES)


def test_a_2000_page_pdf_is_read_page_by_page_in_bounded_memory(long_pdf: Path) -> None:
    calls: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        start = time.perf_counter()
        doc = read_document(long_pdf, code="LONG", version="1",
                            on_page=lambda done, total: calls.append((done, total)))
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n[2,000-page PDF] {seconds:.1f} s under tracemalloc, Python peak "
          f"{peak / 1e6:.1f} MB, {doc.count_by_kind()}")
    assert calls == [(n, LONG_PAGES) for n in range(1, LONG_PAGES + 1)]
    assert doc.pages == LONG_PAGES
    assert doc.count_by_kind() == {"heading": LONG_PAGES + LONG_PAGES // 50,
                                   "clause": LONG_PAGES}
    assert by_ref(doc)["40.50.1"].text.startswith("The organisation shall keep record 2000")
    assert peak < 150 * 1024 * 1024


class Cancelled(Exception):
    """What a UI's cancel button raises from the page callback."""


def test_raising_from_on_page_stops_the_read_at_once(long_pdf: Path) -> None:
    calls: list[int] = []

    def cancel_at_100(done: int, total: int) -> None:
        calls.append(done)
        if done == 100:
            raise Cancelled

    start = time.perf_counter()
    with pytest.raises(Cancelled):
        read_document(long_pdf, code="LONG", version="1", on_page=cancel_at_100)
    seconds = time.perf_counter() - start
    assert calls == list(range(1, 101))  # not one page more
    assert seconds < 2.0, seconds


def test_interrupting_a_cli_import_writes_nothing(cli: Cli, lib_ws: Path, long_pdf: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C at page 100 of 2,000 (the page counter is where the CLI notices it)."""
    import app.cli

    class Interrupted(app.cli._PageBar):
        def __call__(self, done: int, total: int) -> None:
            super().__call__(done, total)
            if done == 100:
                raise KeyboardInterrupt

    monkeypatch.setattr(app.cli, "_page_progress", Interrupted)
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "import", str(long_pdf), "--code", "LONG",
                "--version", "1")
    assert (r.code, r.out) == (130, "")
    bar, *rest = r.err.rsplit("\r", 1)[1].splitlines()  # the bar's line is ended first
    assert bar == f"reading  [#{'-' * 29}]  100/2000 pages"
    assert [line for line in rest if line] == ["error: interrupted"], r.err
    assert "LONG" not in {g["code"] for g in run_json(cli, lib_ws, "regulations", "--json")}


# ------------------------------------------------------------------------- the generator
def test_pdfgen_writes_a_correct_cross_reference_table(tmp_path: Path) -> None:
    """Every in-use xref entry points at its object, so readers need no repair."""
    path = pdfgen.write_pdf(tmp_path / "t.pdf", [[(72, 700, 12, True, r"a (b) \ c")]] * 3)
    data = path.read_bytes()
    start = int(data.rsplit(b"startxref\n", 1)[1].split()[0])
    assert data[start:].startswith(b"xref\n0 ")
    entries = data[start:].split(b"trailer")[0].splitlines()[2:]
    for number, entry in enumerate(entries):
        offset, _, state = entry.split()
        if state == b"n":
            assert data[int(offset):].startswith(b"%d 0 obj" % number), number
    assert b"(a \\(b\\) \\\\ c)" in data
    assert [p.lines[0].text for p in read_pages(path)] == [r"a (b) \ c"] * 3
