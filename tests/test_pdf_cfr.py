"""The CFR layout on prints other than the HHS HIPAA text: GPO-style pages that set paragraphs
in by a first-line indent and headings in roman, two-column eCFR prints whose list items end
"; and", and the HHS text's "Implementation specification: …" headings outside the Security
Rule. Each PDF is written on the spot with tests/pdfgen.py and read by the real importer."""

from __future__ import annotations

from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.pdf import parse_pdf
from tests import pdfgen

Item = pdfgen.Item
HIPAA_PDF = "hipaa-simplification-201303.pdf"
HEAD: list[Item] = [(40, 805, 8, False, "Food and Drug Administration, HHS"),
                    (40, 780, 9, False, "21 CFR Ch. I (4–1–23 Edition)")]


def column(x: float, top: float, lines: list[tuple[int, bool, str]]) -> list[Item]:
    """Lines of one column, 11 points apart; (indent, bold, text), indent 1 sets a line in
    by 8 points as the GPO print does a paragraph's first line."""
    return [(x + 8 * indent, top - 11 * i, 8, bold, text)
            for i, (indent, bold, text) in enumerate(lines)]


def read(tmp_path: Path, pages: list[list[Item]]) -> RegulationDoc:
    doc = parse_pdf(pdfgen.write_pdf(tmp_path / "cfr.pdf", pages), layout="cfr")
    refs = [n.ref for _, n in doc.walk()]
    assert len(refs) == len(set(refs)), refs  # the service refuses duplicate refs
    return doc


def tree(doc: RegulationDoc) -> list[tuple[str, str]]:
    """(parent ref, ref) in document order."""
    return [(parent.ref if parent else "", node.ref) for parent, node in doc.walk()]


def by_ref(doc: RegulationDoc) -> dict[str, ClauseNode]:
    return {n.ref: n for _, n in doc.walk()}


CLOSED = [(1, True, "§ 11.10 Controls for closed systems."),
          (1, False, "Persons who use closed systems shall"),
          (0, False, "employ procedures and controls:"),
          (1, False, "(a) Validation of systems."),
          (1, False, "(b) Protection of records:"),
          (1, False, "(1) To enable their accurate and ready"),
          (0, False, "retrieval; and"),
          (1, False, "(i) Throughout the records retention"),
          (0, False, "period; and"),
          (1, False, "(ii) In human readable form."),
          (1, False, "(A) Including metadata."),
          (1, False, "(B) Including audit trails."),
          (1, False, "(2) To protect against loss.")]
CLOSED_TREE = [("§ 11.10", "§ 11.10(a)"), ("§ 11.10", "§ 11.10(b)"),
               ("§ 11.10(b)", "§ 11.10(b)(1)"), ("§ 11.10(b)(1)", "§ 11.10(b)(1)(i)"),
               ("§ 11.10(b)(1)", "§ 11.10(b)(1)(ii)"),
               ("§ 11.10(b)(1)(ii)", "§ 11.10(b)(1)(ii)(A)"),
               ("§ 11.10(b)(1)(ii)", "§ 11.10(b)(1)(ii)(B)"), ("§ 11.10(b)", "§ 11.10(b)(2)")]


def test_indented_labels_open_their_paragraph_after_and(tmp_path: Path) -> None:
    """GPO print: each paragraph's first line set in; "(i)" after "retrieval; and" opens the
    (1)'s first item, and the skipped letters "(h) (i) (j)" stay letters."""
    left = [(0, True, "PART 11—ELECTRONIC RECORDS;"), (0, True, "ELECTRONIC SIGNATURES"),
            (0, False, "Subpart A—General Provisions"), *CLOSED]
    right = [(1, True, "§ 11.50 Signature manifestations."),
             (1, False, "(a) Signed electronic records shall"),
             (0, False, "contain information."),
             (1, False, "(h) Eighth item."),
             (1, False, "(i) Ninth item, a letter, not a roman"),
             (0, False, "numeral."),
             (1, False, "(j) Tenth item.")]
    doc = read(tmp_path, [HEAD + column(40, 760, left) + [(350, 760, 8, False,
               "Subpart B—Electronic Signatures")] + column(310, 749, right)])
    got = by_ref(doc)
    shape = tree(doc)
    assert [e for e in shape if e[0].startswith("§ 11.10")] == CLOSED_TREE
    assert got["§ 11.10(b)(1)"].text == "To enable their accurate and ready retrieval; and"
    assert got["§ 11.10(b)(1)(i)"].text == "Throughout the records retention period; and"
    assert got["§ 11.10(b)(1)(ii)(B)"].text == "Including audit trails."
    assert [e for e in shape if e[0] == "§ 11.50"] == [
        ("§ 11.50", f"§ 11.50({x})") for x in "ahij"]
    assert got["§ 11.50(i)"].text == "Ninth item, a letter, not a roman numeral."
    # the subpart headings, not bold, are headings all the same
    assert shape[:3] == [("", "Part 11"), ("Part 11", "Part 11 Subpart A"),
                         ("Part 11 Subpart A", "§ 11.10")]
    assert ("Part 11", "Part 11 Subpart B") in shape and \
        ("Part 11 Subpart B", "§ 11.50") in shape
    assert got["Part 11 Subpart B"].title == "Electronic Signatures"
    assert got["§ 11.10(b)(2)"].text == "To protect against loss."  # not the subpart's
    assert not any("Subpart" in t for _, t in doc.unplaced)
    assert doc.version_label == "2023-04-01"  # the GPO edition of the running head


def test_two_column_items_ending_and_nest_without_indents(tmp_path: Path) -> None:
    """An eCFR print without indents: a label after a line ending "; and" opens the item;
    a roman subpart heading after a finished sentence is a subpart, not text."""
    left = [(0, True, "PART 11—ELECTRONIC RECORDS;"), (0, True, "ELECTRONIC SIGNATURES"),
            (0, True, "§ 11.3 Definitions."),
            (0, False, "(a) The definitions in section 201 of"),
            (0, False, "the act apply."),
            (0, False, "Subpart B—Electronic Records"),
            *[(0, bold, text) for _, bold, text in CLOSED]]
    doc = read(tmp_path, [HEAD + column(40, 760, left)])
    got, shape = by_ref(doc), tree(doc)
    assert [e for e in shape if e[0].startswith("§ 11.10")] == CLOSED_TREE
    assert got["§ 11.3(a)"].text == "The definitions in section 201 of the act apply."
    assert ("Part 11 Subpart B", "§ 11.10") in shape
    assert got["Part 11 Subpart B"].title == "Electronic Records"


def test_roman_headings_open_parts_subparts_and_sections(tmp_path: Path) -> None:
    """Part, subpart and section headings all in roman: the part's contents list ("Sec.",
    "11.1 Scope.") stays unplaced, a cross-reference at a line start stays text."""
    lines = [(0, False, "PART 11—ELECTRONIC RECORDS;"), (0, False, "ELECTRONIC SIGNATURES"),
             (0, False, "Subpart A—General Provisions"), (0, False, "Sec."),
             (0, False, "11.1 Scope."), (0, False, "11.3 Definitions."),
             (0, False, "Subpart B—Electronic Records"),
             (0, False, "11.10 Controls for closed systems."),
             (0, False, "AUTHORITY: 21 U.S.C. 321–393."),
             (0, False, "SOURCE: 62 FR 13464, Mar. 20, 1997."),
             (0, False, "Subpart A—General Provisions"),
             (1, False, "§ 11.1 Scope."),
             (1, False, "(a) The regulations in this part apply"),
             (0, False, "as provided in"),
             (0, False, "§ 11.3 Definitions of this part."),
             (1, False, "(b) This part applies to records."),
             (1, False, "§ 11.3 Definitions."),
             (1, False, "(a) The definitions in section 201 apply."),
             (0, False, "Subpart B—Electronic Records"),
             (1, False, "§ 11.10 Controls for closed systems."),
             (1, False, "(a) Validation of systems.")]
    doc = read(tmp_path, [HEAD + column(40, 760, lines)])
    got = by_ref(doc)
    assert tree(doc) == [
        ("", "Part 11"), ("Part 11", "Part 11 Subpart A"), ("Part 11 Subpart A", "§ 11.1"),
        ("§ 11.1", "§ 11.1(a)"), ("§ 11.1", "§ 11.1(b)"), ("Part 11 Subpart A", "§ 11.3"),
        ("§ 11.3", "§ 11.3(a)"), ("Part 11", "Part 11 Subpart B"),
        ("Part 11 Subpart B", "§ 11.10"), ("§ 11.10", "§ 11.10(a)")]
    assert got["Part 11"].title == "ELECTRONIC RECORDS; ELECTRONIC SIGNATURES"
    assert (got["§ 11.1"].title, got["§ 11.10"].title) == (
        "Scope.", "Controls for closed systems.")
    assert got["§ 11.1(a)"].text == ("The regulations in this part apply as provided in "
                                     "§ 11.3 Definitions of this part.")
    contents = " | ".join(t for _, t in doc.unplaced)  # its wrapped entries are joined
    assert "Sec. 11.1 Scope. 11.3 Definitions." in contents
    assert "Subpart B—Electronic Records 11.10 Controls for closed systems." in contents


def test_implementation_specification_headings_keep_their_words(tmp_path: Path) -> None:
    """Outside §§ 164.308–316 an "Implementation specification: X." heading has no
    requirement: the paragraph stays a paragraph titled with all its words, while
    "X (Required)." under "Implementation specifications:" is still the Security Rule's
    implementation specification."""
    lines = [(0, True, "PART 164—SECURITY AND PRIVACY"),
             (0, True, "§ 164.308 Administrative safeguards."),
             (0, False, "(a)(1)(i) Standard: Security management"),
             (0, False, "process. Implement policies."),
             (0, False, "(ii) Implementation specifications:"),
             (0, False, "(A) Risk analysis (Required). Conduct an"),
             (0, False, "accurate and thorough assessment."),
             (0, True, "§ 164.502 Uses and disclosures."),
             (0, False, "(a)(1) Standard: Personal representatives."),
             (0, False, "A covered entity must treat a personal"),
             (0, False, "representative as the individual."),
             (0, False, "(2) Implementation specification:"),
             (0, False, "adults and emancipated minors. If under"),
             (0, False, "applicable law a person has authority."),
             (0, False, "(3)(i) Implementation specification:"),
             (0, False, "unemancipated minors. If under"),
             (0, False, "applicable law a parent has authority.")]
    got = by_ref(read(tmp_path, [column(40, 760, lines)]))
    adults = got["§ 164.502(a)(2)"]
    assert (adults.kind, adults.title, adults.text) == (
        "paragraph", "Implementation specification: adults and emancipated minors",
        "If under applicable law a person has authority.")
    assert got["§ 164.502(a)(3)(i)"].title == \
        "Implementation specification: unemancipated minors"
    risk = got["§ 164.308(a)(1)(ii)(A)"]
    assert (risk.kind, risk.title, risk.attributes, risk.text) == (
        "implementation-specification", "Risk analysis", {"requirement": "required"},
        "Conduct an accurate and thorough assessment.")


def test_hipaa_implementation_specification_titles_are_whole(corpus: Path) -> None:
    got = by_ref(parse_pdf(corpus / HIPAA_PDF))
    adults = got["§ 164.502(g)(2)"]
    assert (adults.kind, adults.title) == (
        "paragraph", "Implementation specification: adults and emancipated minors")
    assert adults.text.startswith("If under applicable law a person has authority")
    assert got["§ 164.404(b)"].title == "Implementation specification: Timeliness of notification"
    assert got["§ 164.508(b)"].title == "Implementation specifications: General requirements"
    risk = got["§ 164.308(a)(1)(ii)(A)"]  # the Security Rule's, as the catalog has them
    assert (risk.kind, risk.title, risk.attributes) == (
        "implementation-specification", "Risk analysis", {"requirement": "required"})
