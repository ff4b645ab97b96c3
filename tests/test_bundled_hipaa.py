"""The bundled HIPAA catalogue (regulations/hipaa.yaml) and its default mappings
(mappings/hipaa.yaml): schema, structure against the HHS combined-text PDF, summaries in our own
words, and mappings for every clause issue 3 names."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.controls import CONTROL_IDS
from app.importers.catalog import parse_catalog
from app.importers.mapping_file import MappingSpec, parse_mappings

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "regulations" / "hipaa.yaml"
MAPPINGS = ROOT / "mappings" / "hipaa.yaml"
PDF_NAME = "hipaa-simplification-201303.pdf"
# Pages (1-based) the catalogue draws on: Part 160 Subpart A (§ 160.103) and all of Part 164.
PDF_PAGES = (*range(10, 18), *range(59, 116))
BODY_TOP, BODY_BOTTOM = 65, 735  # below the running header, above the page number
SECURITY_SECTIONS = ("§ 164.308", "§ 164.310", "§ 164.312", "§ 164.314", "§ 164.316")
BREACH_SECTIONS = tuple(f"§ 164.{n}" for n in range(400, 415, 2))
PRIVACY_MAPPED = ("§ 164.502", "§ 164.514", "§ 164.530")
SECTION_REF = re.compile(r"^§ (164\.\d{3})$")


# --------------------------------------------------------------------------- helpers

@lru_cache(maxsize=1)
def catalog() -> RegulationDoc:
    return parse_catalog(CATALOG.read_bytes(), CATALOG, trusted=True)


@lru_cache(maxsize=1)
def mappings() -> tuple[str, list[MappingSpec]]:
    return parse_mappings(MAPPINGS.read_bytes(), MAPPINGS, trusted=True)


def nodes() -> list[ClauseNode]:
    return [node for _, node in catalog().walk()]


def node(ref: str) -> ClauseNode:
    found = [n for n in nodes() if n.ref == ref]
    assert found, f"{ref} is not in the catalogue"
    return found[0]


def descendants(n: ClauseNode) -> list[ClauseNode]:
    return [d for _, d in n.walk()]


def _column_edges(width: float, chars: list[dict]) -> list[float]:
    """x positions splitting a page body into its text columns: the (at most two) widest
    vertical gaps, in the middle of the page, that no visible character crosses."""
    spans = sorted((c["x0"], c["x1"]) for c in chars if c["text"].strip())
    if not spans:
        return [0, width]
    gaps, reach = [], spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach >= 5 and 0.2 * width < x0 < 0.8 * width:
            gaps.append((reach, x0))
        reach = max(reach, x1)
    widest = sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:2])
    return [0, *((a + b) / 2 for a, b in widest), width]


@lru_cache(maxsize=2)
def pdf_text(pdf_path: Path) -> str:
    """The text of PDF_PAGES read column by column (each page's body cut at its column gaps),
    whitespace collapsed to single spaces."""
    import pdfplumber
    from pdfplumber.utils import extract_text

    parts: list[str] = []
    with pdfplumber.open(pdf_path) as pdf:
        for number in PDF_PAGES:
            page = pdf.pages[number - 1]
            body = [c for c in page.chars if BODY_TOP < c["top"] < BODY_BOTTOM]
            for x0, x1 in pairwise(_column_edges(page.width, body)):
                column = [c for c in body if x0 <= (c["x0"] + c["x1"]) / 2 < x1]
                parts.append(extract_text(column))
    return " ".join(" ".join(parts).split())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@lru_cache(maxsize=2)
def pdf_ngrams(pdf_path: Path, n: int = 8) -> frozenset[tuple[str, ...]]:
    """Every run of n words in the PDF, with line-end hyphenation both kept and undone."""
    text = pdf_text(pdf_path)
    grams: set[tuple[str, ...]] = set()
    for variant in (text, re.sub(r"(\w)- (\w)", r"\1\2", text)):
        words = _words(variant)
        grams.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return frozenset(grams)


def pdf_headings(pdf_path: Path) -> list[tuple[str, str]]:
    """`(number, title)` of every § 164.3xx–164.5xx heading in the body of Subparts C–E."""
    text = pdf_text(pdf_path)
    # Part 164 opens with its own table of contents; the body starts at the last Subpart C title.
    start = text.rindex("Subpart C—Security Standards")
    found = re.findall(r"§ (164\.[345]\d\d) ([A-Z\[][^.§]*\.)", text[start:])
    return [(number, title) for number, title in found]


def catalog_sections() -> list[tuple[str, str]]:
    out = []
    for n in nodes():
        m = SECTION_REF.match(n.ref)
        if n.kind == "section" and m and m.group(1)[4] in "345":
            out.append((m.group(1), n.title))
    return out


def required_mapping_groups() -> dict[str, set[str]]:
    """Each clause issue 3 requires a mapping for → the refs whose mapping satisfies it."""
    groups: dict[str, set[str]] = {}
    for section in SECURITY_SECTIONS:
        for n in descendants(node(section)):
            specs = [d for d in descendants(n) if d.kind == "implementation-specification"]
            if n.kind == "implementation-specification" or (n.kind == "standard" and not specs):
                groups[n.ref] = {n.ref}
    for section in BREACH_SECTIONS + PRIVACY_MAPPED:
        groups[section] = {d.ref for d in descendants(node(section))}
    return groups


# --------------------------------------------------------------------------- catalogue

def test_catalog_validates_with_unique_refs():
    doc = catalog()
    assert doc.code == "HIPAA"
    assert doc.version_label == "2013-03-26"
    assert doc.effective_date == "2013-03-26"
    assert doc.jurisdiction == "US"
    assert doc.identifiers == {"cfr": "45 CFR Parts 160, 162, 164"}
    assert "Department of Health and Human Services" in doc.attribution
    refs = Counter(n.ref for n in nodes())
    assert [r for r, k in refs.items() if k > 1] == []


def test_top_structure():
    assert [c.ref for c in catalog().clauses] == ["Part 160", "Part 164"]
    part160, part164 = catalog().clauses
    assert [(c.ref, c.kind, c.title, c.assessable) for c in part160.children] == [
        ("§ 160.103", "section", "Definitions.", False)]
    assert [(c.ref, c.kind) for c in part164.children] == [
        ("Part 164 Subpart C", "subpart"), ("Part 164 Subpart D", "subpart"),
        ("Part 164 Subpart E", "subpart")]


def test_no_legal_text():
    assert [n.ref for n in nodes() if n.text] == []


def test_definitions_are_not_assessable():
    for ref in ("§ 160.103", "§ 164.304", "§ 164.402", "§ 164.501"):
        assert node(ref).title == "Definitions."
        assert node(ref).assessable is False


def test_every_implementation_specification_is_required_or_addressable():
    specs = [n for n in nodes() if n.kind == "implementation-specification"]
    assert len(specs) >= 40
    assert {n.attributes.get("requirement") for n in specs} <= {"required", "addressable"}
    assert all(n.attributes.get("requirement") for n in specs)
    # Only Subpart C has implementation specifications marked required or addressable.
    subpart_c = {d.ref for d in descendants(node("Part 164 Subpart C"))}
    assert {n.ref for n in specs} <= subpart_c


@pytest.mark.parametrize(("ref", "title", "requirement"), [
    ("§ 164.308(a)(1)(ii)(A)", "Risk analysis", "required"),
    ("§ 164.308(a)(1)(ii)(D)", "Information system activity review", "required"),
    ("§ 164.308(a)(3)(ii)(C)", "Termination procedures", "addressable"),
    ("§ 164.308(a)(5)(ii)(B)", "Protection from malicious software", "addressable"),
    ("§ 164.308(a)(6)(ii)", "Response and reporting", "required"),
    ("§ 164.308(a)(7)(ii)(D)", "Testing and revision procedures", "addressable"),
    ("§ 164.308(b)(3)", "Written contract or other arrangement", "required"),
    ("§ 164.310(a)(2)(iii)", "Access control and validation procedures", "addressable"),
    ("§ 164.310(d)(2)(i)", "Disposal", "required"),
    ("§ 164.310(d)(2)(ii)", "Media re-use", "required"),
    ("§ 164.312(a)(2)(i)", "Unique user identification", "required"),
    ("§ 164.312(a)(2)(iv)", "Encryption and decryption", "addressable"),
    ("§ 164.312(c)(2)", "Mechanism to authenticate electronic protected health information",
     "addressable"),
    ("§ 164.312(e)(2)(ii)", "Encryption", "addressable"),
    ("§ 164.314(a)(2)(i)", "Business associate contracts", "required"),
    ("§ 164.316(b)(2)(i)", "Time limit", "required"),
])
def test_spot_checks(ref, title, requirement):
    n = node(ref)
    assert (n.kind, n.title, n.attributes) == (
        "implementation-specification", title, {"requirement": requirement})


def test_security_standards_and_specification_counts():
    standards = {n.ref: n.title for n in descendants(node("Part 164 Subpart C"))
                 if n.kind == "standard"}
    assert standards["§ 164.308(a)(1)"] == "Security management process"
    assert standards["§ 164.312(b)"] == "Audit controls"
    assert standards["§ 164.316(b)(1)"] == "Documentation"
    assert len(standards) == 22
    specs = [n.attributes["requirement"] for n in nodes()
             if n.kind == "implementation-specification"]
    assert Counter(specs) == {"required": 21, "addressable": 22}


def test_summaries_are_one_short_line_and_present_where_required():
    for n in nodes():
        if n.kind in ("section", "standard", "implementation-specification"):
            assert n.summary, f"{n.ref} has no summary"
        if n.summary:
            assert "\n" not in n.summary and n.summary == n.summary.strip(), n.ref
            assert len(n.summary) <= 200, f"{n.ref}: summary is {len(n.summary)} characters"


# --------------------------------------------------------------------------- against the PDF

def test_summaries_and_rationales_are_not_copied_from_the_pdf(corpus: Path):
    grams = pdf_ngrams(corpus / PDF_NAME)
    assert len(grams) > 30_000  # the text was really read
    own_words = [(n.ref, n.summary) for n in nodes() if n.summary]
    own_words += [(f"{m.ref} → {m.control_id}", m.rationale) for m in mappings()[1]]
    copied = []
    for where, text in own_words:
        words = _words(text)
        copied += [(where, " ".join(words[i:i + 8])) for i in range(len(words) - 7)
                   if tuple(words[i:i + 8]) in grams]
    assert copied == []


def test_section_headings_match_the_pdf(corpus: Path):
    headings = pdf_headings(corpus / PDF_NAME)
    assert len(headings) >= 30
    assert catalog_sections() == headings


def test_subpart_titles_match_the_pdf(corpus: Path):
    text = pdf_text(corpus / PDF_NAME)
    for letter in "CDE":
        found = re.findall(rf"Subpart {letter}—(.+?) (?:AUTHORITY|SOURCE):", text)
        assert found, f"Subpart {letter} heading not found"
        assert node(f"Part 164 Subpart {letter}").title == found[-1]


def test_definitions_heading_of_part_160_is_in_the_pdf(corpus: Path):
    assert "§ 160.103 Definitions." in pdf_text(corpus / PDF_NAME)


# --------------------------------------------------------------------------- mappings

def test_mappings_validate_and_name_existing_refs():
    code, specs = mappings()
    assert code == "HIPAA"
    refs = {n.ref for n in nodes()}
    assert [m.ref for m in specs if m.ref not in refs] == []
    assert all(m.control_id in CONTROL_IDS for m in specs)
    assert all("\n" not in m.rationale and len(m.rationale) <= 300 for m in specs)


def test_every_required_clause_is_mapped():
    mapped = Counter(m.ref for m in mappings()[1])
    missing = [clause for clause, satisfied_by in required_mapping_groups().items()
               if not satisfied_by & set(mapped)]
    assert missing == []
    assert max(mapped.values()) <= 3


def test_required_groups_cover_the_security_rule():
    groups = required_mapping_groups()
    assert "§ 164.308(a)(1)(ii)(A)" in groups  # an implementation specification
    assert "§ 164.308(a)(8)" in groups  # a standard without specifications
    assert "§ 164.308(a)(1)" not in groups  # a standard that has them
    assert len([g for g in groups if g.startswith("§ 164.3")]) == 43 + 7


def test_every_control_is_a_target():
    assert {m.control_id for m in mappings()[1]} == set(CONTROL_IDS)
