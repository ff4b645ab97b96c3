"""The EU Official Journal PDF parser across the family of EU acts: directives, decisions,
implementing and delegated regulations, consolidated and short texts without recitals, a lone
"ANNEX", older acts with TITLEs; identifiers of every numbering style; degenerate and hostile
inputs that must end in one plain ImportFailed sentence; repeated headings that must not give
repeated refs. PDFs are made on the spot with tests/pdfgen.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.eu import act_identifiers, sentence_case
from app.importers.pdf import parse_pdf
from tests import pdfgen

M = 57  # left margin of the body text
CENTRE = 280  # where headings sit
Item = pdfgen.Item


def oj_head(page: int) -> list[Item]:
    return [(M, 800, 9, False, f"L 99/{page}"),
            (250, 800, 9, False, "Official Journal of the European Union"),
            (480, 800, 9, False, "20.3.2020")]


def act(tmp_path: Path, name: str, pages: list[list[Item]], *, heads: bool = True) -> Path:
    if heads:
        pages = [oj_head(n) + page for n, page in enumerate(pages, 1)]
    return pdfgen.write_pdf(tmp_path / name, pages)


def refs(doc: RegulationDoc) -> list[str]:
    return [n.ref for _, n in doc.walk()]


def node(doc: RegulationDoc, ref: str) -> ClauseNode:
    return next(n for _, n in doc.walk() if n.ref == ref)


def texts(doc: RegulationDoc) -> str:
    return " ".join(f"{n.title} {n.text}" for _, n in doc.walk())


# ------------------------------------------------------------------ acts of the family
def test_consolidated_text_without_recitals_or_enacting_formula(tmp_path: Path) -> None:
    foot = [(M, 30, 8, False, "02016R0679 — EN — 04.05.2016 — 000.001")]
    p1 = [(M, 780, 9, False, "This text is meant purely as a documentation tool."),
          (M, 740, 10, True, "REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE "
                             "COUNCIL"),
          (M, 725, 10, True, "of 27 April 2016"),
          (M, 710, 10, False, "(OJ L 119, 4.5.2016, p. 1)"),
          (M, 690, 9, False, "Corrected by: Official Journal of the European Union L 127, "
                             "23.5.2018, p. 2"),
          (CENTRE, 650, 10, False, "CHAPTER I"), (240, 635, 10, True, "General provisions"),
          (CENTRE, 605, 10, False, "Article 1"),
          (240, 590, 10, True, "Subject-matter and objectives"),
          (M, 570, 10, False, "1.   This Regulation lays down rules on personal data."),
          (M, 555, 10, False, "2.   This Regulation protects fundamental rights."),
          (CENTRE, 525, 10, False, "Article 2"), (240, 510, 10, True, "Material scope"),
          (M, 490, 10, False, "1.   This Regulation applies to the processing of personal data."),
          (M, 475, 10, False, "2.   This Regulation does not apply to the processing:"),
          (80, 460, 10, False, "(a) in the course of an activity outside Union law;"),
          (80, 445, 10, False, "(b) by the Member States.")]
    p2 = [(CENTRE, 700, 10, False, "Article 3"), (240, 685, 10, True, "Territorial scope"),
          (M, 665, 10, False, "This Regulation applies in the Union.")]
    doc = parse_pdf(act(tmp_path, "consolidated.pdf", [foot + p1, foot + p2], heads=False))
    assert refs(doc) == ["Chapter I", "Art. 1", "Art. 1(1)", "Art. 1(2)", "Art. 2",
                         "Art. 2(1)", "Art. 2(2)", "Art. 2(2)(a)", "Art. 2(2)(b)", "Art. 3"]
    assert node(doc, "Chapter I").title == "General provisions"
    assert node(doc, "Art. 2").title == "Material scope"
    assert node(doc, "Art. 2(2)(b)").text == "by the Member States."
    assert node(doc, "Art. 3").text == "This Regulation applies in the Union."
    assert doc.title == ("Regulation (EU) 2016/679 of the European Parliament and of the "
                         "Council of 27 April 2016")
    assert doc.identifiers["celex"] == "32016R0679"  # the bundled GDPR's
    assert doc.version_label == "2016-04-27"
    assert (1, "(OJ L 119, 4.5.2016, p. 1)") in doc.unplaced


def test_directive_with_a_lone_annex(tmp_path: Path) -> None:
    p1 = [(150, 760, 10, True, "DIRECTIVE (EU) 2020/123 OF THE EUROPEAN PARLIAMENT AND OF THE "
                               "COUNCIL"),
          (260, 745, 10, True, "of 1 March 2020"),
          (200, 730, 10, True, "on the security of widgets"),
          (M, 700, 10, False, "THE EUROPEAN PARLIAMENT AND THE COUNCIL OF THE EUROPEAN UNION,"),
          (M, 685, 10, False, "Whereas:"),
          (M, 670, 10, False, "(1) Widgets matter."),
          (M, 655, 10, False, "(2) Widgets must be secure."),
          (M, 640, 10, False, "HAVE ADOPTED THIS DIRECTIVE:"),
          (CENTRE, 610, 10, False, "Article 1"),
          (M, 595, 10, False, "Member States shall ensure that widgets are secure."),
          (CENTRE, 565, 10, False, "Article 2"),
          (M, 550, 10, False, "This Directive is addressed to the Member States."),
          (M, 520, 10, False, "Done at Brussels, 1 March 2020.")]
    p2 = [(CENTRE, 740, 10, False, "ANNEX"),
          (230, 725, 10, False, "SECURITY REQUIREMENTS FOR WIDGETS"),
          (M, 700, 10, False, "1.   Widgets shall be designed to be secure."),
          (M, 685, 10, False, "2.   Widgets shall log access.")]
    doc = parse_pdf(act(tmp_path, "directive.pdf", [p1, p2]))
    assert refs(doc) == ["Recital 1", "Recital 2", "Art. 1", "Art. 2", "Annex", "Annex(1)",
                         "Annex(2)"]
    assert node(doc, "Annex").kind == "annex"
    assert node(doc, "Annex").title == "Security requirements for widgets"
    assert node(doc, "Annex(2)").text == "Widgets shall log access."
    assert node(doc, "Art. 2").text == "This Directive is addressed to the Member States."
    assert doc.title == ("Directive (EU) 2020/123 of the European Parliament and of the Council "
                         "of 1 March 2020 on the security of widgets")
    assert doc.identifiers == {"celex": "32020L0123",
                               "eli": "http://data.europa.eu/eli/dir/2020/123/oj"}
    assert "Official Journal" not in texts(doc)
    assert (1, "Done at Brussels, 1 March 2020.") in doc.unplaced


def test_short_decision_keeps_running_heads_and_folios_out_of_its_text(tmp_path: Path) -> None:
    p1 = [(150, 760, 10, True, "COMMISSION DECISION (EU) 2020/123"),
          (260, 745, 10, True, "of 1 March 2020"),
          (M, 700, 10, False, "THE EUROPEAN COMMISSION,"),
          (M, 640, 10, False, "HAS ADOPTED THIS DECISION:"),
          (CENTRE, 610, 10, False, "Article 1"),
          (M, 595, 10, False, "1.   Member States shall ensure that widgets are secure and"),
          (M, 20, 10, False, "1")]
    p2 = [(M, 740, 10, False, "that their makers keep records."),
          (M, 725, 10, False, "2.   They shall inform the Commission."),
          (CENTRE, 695, 10, False, "Article 2"),
          (M, 680, 10, False, "This Decision is addressed to the Member States."),
          (M, 20, 10, False, "2")]
    doc = parse_pdf(act(tmp_path, "decision.pdf", [p1, p2]))
    assert refs(doc) == ["Art. 1", "Art. 1(1)", "Art. 1(2)", "Art. 2"]
    assert node(doc, "Art. 1(1)").text == ("Member States shall ensure that widgets are secure "
                                           "and that their makers keep records.")
    assert doc.title == "Commission Decision (EU) 2020/123 of 1 March 2020"
    assert doc.identifiers["celex"] == "32020D0123"


def test_implementing_regulation_old_numbering_and_titles_of_older_acts(tmp_path: Path) -> None:
    p1 = [(150, 760, 10, True, "COMMISSION IMPLEMENTING REGULATION (EU) 2023/1234"),
          (260, 745, 10, True, "of 5 May 2023"),
          (200, 730, 10, True, "laying down rules for widgets"),
          (M, 700, 10, False, "Whereas:"), (M, 685, 10, False, "(1) Widgets matter."),
          (M, 670, 10, False, "HAS ADOPTED THIS REGULATION:"),
          (CENTRE, 640, 10, False, "TITLE I"), (240, 625, 10, False, "GENERAL ISSUES"),
          (CENTRE, 600, 10, False, "CHAPTER 1"), (240, 585, 10, False, "Aim and scope"),
          (CENTRE, 560, 10, False, "Article 1"), (M, 545, 10, False, "Text one."),
          (CENTRE, 515, 10, False, "TITLE II"), (240, 500, 10, False, "REGISTRATION"),
          (CENTRE, 475, 10, False, "CHAPTER 1"), (240, 460, 10, False, "General obligation"),
          (CENTRE, 435, 10, False, "Article 2"), (M, 420, 10, False, "Text two.")]
    doc = parse_pdf(act(tmp_path, "implementing.pdf", [p1]))
    assert refs(doc) == ["Recital 1", "Title I", "Title I Chapter 1", "Art. 1", "Title II",
                         "Title II Chapter 1", "Art. 2"]
    assert node(doc, "Title II").title == "Registration"
    assert node(doc, "Art. 2").text == "Text two."
    assert doc.title == ("Commission Implementing Regulation (EU) 2023/1234 of 5 May 2023 "
                         "laying down rules for widgets")
    assert doc.identifiers == {"celex": "32023R1234",
                               "eli": "http://data.europa.eu/eli/reg_impl/2023/1234/oj"}


def test_old_style_regulation_number_is_number_then_year(tmp_path: Path) -> None:
    p1 = [(150, 760, 10, True, "REGULATION (EC) No 1907/2006 OF THE EUROPEAN PARLIAMENT AND "
                               "OF THE COUNCIL"),
          (260, 745, 10, True, "of 18 December 2006"),
          (200, 730, 10, True, "concerning chemicals"),
          (M, 700, 10, False, "Whereas:"), (M, 670, 10, False, "(1) Chemicals matter."),
          (M, 640, 10, False, "HAVE ADOPTED THIS REGULATION:"),
          (CENTRE, 610, 10, False, "Article 1"), (M, 595, 10, False, "Text of article one.")]
    doc = parse_pdf(act(tmp_path, "reach.pdf", [p1, [], []]))
    assert doc.identifiers == {"celex": "32006R1907",
                               "eli": "http://data.europa.eu/eli/reg/2006/1907/oj"}
    assert doc.title.endswith("of 18 December 2006 concerning chemicals")  # not the preamble
    assert doc.version_label == "2006-12-18"


@pytest.mark.parametrize(("heading", "celex", "eli"), [
    ("REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT", "32016R0679", "reg/2016/679"),
    ("REGULATION (EU) 2024/1689 OF THE EUROPEAN PARLIAMENT", "32024R1689", "reg/2024/1689"),
    ("Regulation (EC) No 1907/2006 of the European Parliament", "32006R1907", "reg/2006/1907"),
    ("COUNCIL REGULATION (EEC) No 1408/71", "31971R1408", "reg/1971/1408"),
    ("COMMISSION DELEGATED REGULATION (EU) 2024/12", "32024R0012", "reg_del/2024/12"),
    ("COMMISSION IMPLEMENTING REGULATION (EU) 2023/1234", "32023R1234", "reg_impl/2023/1234"),
    ("DIRECTIVE (EU) 2022/2555 OF THE EUROPEAN PARLIAMENT", "32022L2555", "dir/2022/2555"),
    ("Directive 95/46/EC of the European Parliament", "31995L0046", "dir/1995/46"),
    ("COUNCIL DIRECTIVE 93/42/EEC", "31993L0042", "dir/1993/42"),
    ("DECISION No 768/2008/EC OF THE EUROPEAN PARLIAMENT", "32008D0768", "dec/2008/768"),
    ("COMMISSION IMPLEMENTING DECISION (EU) 2021/914", "32021D0914", "dec_impl/2021/914"),
])
def test_identifiers_of_every_numbering_style(heading: str, celex: str, eli: str) -> None:
    assert act_identifiers(heading) == {"celex": celex,
                                        "eli": f"http://data.europa.eu/eli/{eli}/oj"}


@pytest.mark.parametrize("heading", ["REGULATIONS", "Regulation of the thing",
                                     "Having regard to Regulation (EU) 2016/679", ""])
def test_no_identifiers_without_an_act_heading(heading: str) -> None:
    assert act_identifiers(heading) == {}


def test_annex_item_that_is_a_heading_with_a_full_stop(tmp_path: Path) -> None:
    """As Annex VII(4) of the AI Act: "4. Control of the technical documentation." over 4.1."""
    p1 = [(150, 760, 10, True, "REGULATION (EU) 2024/1 OF THE EUROPEAN PARLIAMENT AND OF THE "
                               "COUNCIL"),
          (M, 700, 10, False, "HAVE ADOPTED THIS REGULATION:"),
          (CENTRE, 670, 10, False, "Article 1"), (M, 655, 10, False, "See the Annex."),
          (CENTRE, 620, 10, False, "ANNEX I"), (240, 605, 10, True, "Conformity"),
          (M, 580, 10, False, "1.   Control of the technical documentation."),
          (M, 565, 10, False, "1.1.   The provider shall lodge an application."),
          (M, 550, 10, False, "1.2.   The application shall be examined."),
          (M, 535, 10, False, "2.   The notified body shall keep the records."),
          (M, 520, 10, False, "3.   Surveillance"),
          (M, 505, 10, False, "3.1.   Audits are periodic.")]
    doc = parse_pdf(act(tmp_path, "annex.pdf", [p1]))
    assert refs(doc)[2:] == ["Annex I(1)", "Annex I(1.1)", "Annex I(1.2)", "Annex I(2)",
                             "Annex I(3)", "Annex I(3.1)"]
    assert (node(doc, "Annex I(1)").title, node(doc, "Annex I(1)").text) == (
        "Control of the technical documentation", "")
    assert (node(doc, "Annex I(2)").title, node(doc, "Annex I(2)").text) == (
        "", "The notified body shall keep the records.")  # no sub-items: a sentence
    assert node(doc, "Annex I(3)").title == "Surveillance"


def test_ai_act_annex_vii_headings_match_eurlex(corpus: Path) -> None:
    doc = parse_pdf(corpus / "OJ_L_202401689_EN_TXT.pdf")
    assert node(doc, "Annex VII(4)").title == "Control of the technical documentation"
    assert node(doc, "Annex VII(5)").title == ("Surveillance of the approved quality "
                                               "management system")
    assert node(doc, "Annex VII(4)").text == ""
    assert node(doc, "Annex VII(3)").title == "Quality management system"
    assert doc.identifiers["celex"] == "32024R1689"


# ------------------------------------------- annex parts, capital headings, definitions
def uas_regulation(tmp_path: Path) -> RegulationDoc:
    """As Implementing Regulation (EU) 2019/947: definitions printed without a hanging indent,
    an annex in "PART A" / "PART B" with headings coded "UAS.OPEN.010"."""
    p1 = [(120, 760, 10, True, "COMMISSION IMPLEMENTING REGULATION (EU) 2019/947"),
          (260, 745, 10, True, "of 24 May 2019"),
          (M, 700, 10, False, "Whereas:"),
          (M, 685, 10, False, "(1)   Unmanned aircraft should be operated safely."),
          (M, 660, 10, False, "HAS ADOPTED THIS REGULATION:"),
          (CENTRE, 635, 10, False, "Article 2"), (240, 620, 10, True, "Definitions"),
          (M, 600, 10, False, "For the purposes of this Regulation, the following definitions "
                              "apply:"),
          (M, 584, 10, False, "(1)   ‘unmanned aircraft system’ (‘UAS’) means an unmanned "
                              "aircraft and the"),
          (M, 570, 10, False, "equipment to control it remotely;"),
          (M, 554, 10, False, "(2)   ‘operator’ means any person operating UAS;"),
          (M, 538, 10, False, "(3)   ‘geographical zone’ means a portion of airspace."),
          (M, 522, 10, False, "Member States may designate such zones.")]
    p2 = [(CENTRE, 740, 10, False, "ANNEX"),
          (180, 725, 10, False, "UAS OPERATIONS IN THE ‘OPEN’ AND ‘SPECIFIC’ CATEGORIES"),
          (CENTRE, 700, 10, False, "PART A"),
          (200, 685, 10, False, "UAS OPERATIONS IN THE ‘OPEN’ CATEGORY"),
          (M, 660, 10, False, "UAS.OPEN.010 General provisions"),
          (M, 644, 10, False, "(1)   In the ‘open’ category, the maximum height is 120 metres."),
          (M, 628, 10, False, "(2)   A remote pilot shall keep the aircraft in sight."),
          (M, 604, 10, False, "UAS.OPEN.020 UAS operations in subcategory A1"),
          (M, 588, 10, False, "UAS operations in subcategory A1 shall comply with all of the "
                              "following:"),
          (80, 572, 10, False, "(a)   the remote pilot does not fly over assemblies of people;"),
          (CENTRE, 540, 10, False, "PART B"),
          (200, 525, 10, False, "UAS OPERATIONS IN THE ‘SPECIFIC’ CATEGORY"),
          (M, 500, 10, False, "UAS.SPEC.010 General provisions"),
          (M, 484, 10, False, "The UAS operator shall provide a risk assessment."),
          (M, 468, 10, False, "(1)   The assessment shall describe the operation.")]
    return parse_pdf(act(tmp_path, "uas.pdf", [p1, p2]))


def test_annex_in_parts_with_coded_headings(tmp_path: Path) -> None:
    doc = uas_regulation(tmp_path)
    annex = node(doc, "Annex")
    assert (annex.title, annex.text) == ("UAS operations in the ‘open’ and ‘specific’ "
                                         "categories", "")
    assert [(c.ref, c.kind, c.title) for c in annex.children] == [
        ("Annex Part A", "annex-section", "UAS operations in the ‘open’ category"),
        ("Annex Part B", "annex-section", "UAS operations in the ‘specific’ category")]
    part_a = node(doc, "Annex Part A")
    assert [(c.ref, c.title) for c in part_a.children] == [
        ("Annex UAS.OPEN.010", "General provisions"),
        ("Annex UAS.OPEN.020", "UAS operations in subcategory A1")]
    assert refs(doc)[refs(doc).index("Annex"):] == [
        "Annex", "Annex Part A", "Annex UAS.OPEN.010", "Annex UAS.OPEN.010(1)",
        "Annex UAS.OPEN.010(2)", "Annex UAS.OPEN.020", "Annex UAS.OPEN.020(a)", "Annex Part B",
        "Annex UAS.SPEC.010", "Annex UAS.SPEC.010(1)"]  # (1) again, under its own heading
    assert node(doc, "Annex UAS.OPEN.020").text == ("UAS operations in subcategory A1 shall "
                                                    "comply with all of the following:")
    assert node(doc, "Annex UAS.OPEN.020(a)").text == ("the remote pilot does not fly over "
                                                       "assemblies of people;")
    assert node(doc, "Annex UAS.SPEC.010").text == ("The UAS operator shall provide a risk "
                                                    "assessment.")
    assert len(set(refs(doc))) == len(refs(doc)) and not doc.warnings


def test_definitions_without_a_hanging_indent(tmp_path: Path) -> None:
    doc = uas_regulation(tmp_path)
    assert [r for r in refs(doc) if r.startswith("Art. 2")] == [
        "Art. 2", "Art. 2(1)", "Art. 2(2)", "Art. 2(3)"]
    assert node(doc, "Art. 2(1)").text == ("‘unmanned aircraft system’ (‘UAS’) means an "
                                           "unmanned aircraft and the equipment to control it "
                                           "remotely;")
    assert node(doc, "Art. 2(2)").text == "‘operator’ means any person operating UAS;"
    # a line after a finished last point is the article's text again
    assert node(doc, "Art. 2(3)").text == "‘geographical zone’ means a portion of airspace."
    assert node(doc, "Art. 2").text == ("For the purposes of this Regulation, the following "
                                        "definitions apply: Member States may designate such "
                                        "zones.")


@pytest.mark.parametrize(("part", "section", "word_part", "word_section"), [
    ("PART A", "SECTION 1", "Part A", "Section 1"),
    ("Part 1", "Section A", "Part 1", "Section A"),
])
def test_annex_parts_hold_sections_whose_points_restart(tmp_path: Path, part: str,
                                                        section: str, word_part: str,
                                                        word_section: str) -> None:
    second = word_part[:-1] + ("B" if word_part.endswith("A") else "2")
    p1 = [(CENTRE, 700, 10, False, "Article 1"), (M, 685, 10, False, "See the Annex."),
          (CENTRE, 650, 10, False, "ANNEX II"), (220, 635, 10, False, "TECHNICAL RULES"),
          (CENTRE, 610, 10, False, part), (220, 595, 10, False, "GENERAL RULES"),
          (CENTRE, 570, 10, False, section), (220, 555, 10, False, "SCOPE OF THE ICT RULES"),
          (M, 530, 10, False, "1.   The rules apply to widgets."),
          (M, 515, 10, False, "2.   They apply from 2025."),
          (CENTRE, 490, 10, False, second.upper() if part.isupper() else second),
          (M, 465, 10, False, "1.   Other rules apply to gadgets.")]
    doc = parse_pdf(act(tmp_path, "parts.pdf", [p1]))
    first = f"Annex II {word_part}"
    inner = f"{first} {word_section}"
    assert refs(doc) == ["Art. 1", "Annex II", first, inner, f"{inner}(1)", f"{inner}(2)",
                         f"Annex II {second}", f"Annex II {second}(1)"]
    assert node(doc, "Annex II").title == "Technical rules"
    assert node(doc, first).title == "General rules"
    assert node(doc, inner).title == "Scope of the ICT rules"
    assert node(doc, f"Annex II {second}(1)").text == "Other rules apply to gadgets."


def test_chapter_titles_in_capitals_keep_their_acronyms(tmp_path: Path) -> None:
    """As DORA: "ICT RISK MANAGEMENT" is "ICT risk management", not "Ict risk management"."""
    p1 = [(CENTRE, 700, 10, False, "CHAPTER II"), (200, 685, 10, True, "ICT RISK MANAGEMENT"),
          (CENTRE, 660, 10, False, "Article 5"), (240, 645, 10, True, "Governance"),
          (M, 625, 10, False, "Financial entities shall report to the ESAs."),
          (CENTRE, 600, 10, False, "CHAPTER III"),
          (150, 585, 10, True, "ICT-RELATED INCIDENT MANAGEMENT AND REPORTING TO THE ESAS"),
          (CENTRE, 560, 10, False, "Article 17"), (M, 545, 10, False, "Text.")]
    doc = parse_pdf(act(tmp_path, "dora.pdf", [p1]))
    assert node(doc, "Chapter II").title == "ICT risk management"
    assert node(doc, "Chapter III").title == ("ICT-related incident management and reporting "
                                              "to the ESAs")


@pytest.mark.parametrize(("heading", "cased"), [
    ("ICT RISK MANAGEMENT", "ICT risk management"),
    ("UAS OPERATIONS IN THE ‘OPEN’ CATEGORY", "UAS operations in the ‘open’ category"),
    ("TASKS OF THE CSIRTS AND ENISA", "Tasks of the CSIRTs and ENISA"),
    ("NIS COOPERATION GROUP", "NIS cooperation group"),
    ("PART A", "Part A"),
    ("MEASURES REFERRED TO IN ANNEX III", "Measures referred to in Annex III"),
    ("ESTABLISHING A FRAMEWORK AND ITS RULES", "Establishing a framework and its rules"),
    ("HIGH-RISK AI SYSTEMS", "High-risk AI systems"),
    ("GENERAL PROVISIONS", "General provisions"),
    ("Rights of the data subject", "Rights of the data subject"),  # mixed case: as printed
])
def test_sentence_case_keeps_acronyms_and_numbered_labels(heading: str, cased: str) -> None:
    assert sentence_case(heading) == cased


# ------------------------------------------------------- degenerate and hostile inputs
ONLY_HEADS = [[(M, 800, 9, False, "Official Journal of the European Union")]] * 5
FOOTNOTE_ONLY = [[(M, 800, 9, False, "Official Journal of the European Union"),
                  (M, 100, 7, False, "(1) OJ C 1, p. 1.")]] * 3
ARTICLE_ONLY = [[(M, 800, 9, False, "Official Journal of the European Union"),
                 (CENTRE, 600, 10, False, "Article 1")]] * 3


@pytest.mark.parametrize(("name", "pages", "layout"), [
    *[(name, pages, layout) for name, pages in (("only_heads", ONLY_HEADS),
                                                ("footnote_only", FOOTNOTE_ONLY))
      for layout in (None, "eu-oj-classic", "eu-oj-2024")],
    # detected, a heading with nothing under it falls back to the generic reading
    ("article_only", ARTICLE_ONLY, "eu-oj-classic"), ("article_only", ARTICLE_ONLY, "eu-oj-2024"),
])
def test_degenerate_acts_fail_with_one_plain_sentence(tmp_path: Path, name: str,
                                                      pages: list[list[Item]],
                                                      layout: str | None) -> None:
    path = pdfgen.write_pdf(tmp_path / f"{name}.pdf", pages)
    with pytest.raises(ImportFailed) as err:  # and no other exception
        parse_pdf(path, layout=layout)
    message = str(err.value)
    assert f"{name}.pdf" in message
    assert "\n" not in message and "Traceback" not in message and "min()" not in message


def test_repeated_article_keeps_the_first_and_warns(tmp_path: Path) -> None:
    p1 = [(CENTRE, 700, 10, False, "Article 1"), (M, 680, 10, False, "First text."),
          (CENTRE, 600, 10, False, "Article 1"), (M, 580, 10, False, "Second text."),
          (M, 565, 10, False, "1.   A paragraph of the repeat.")]
    doc = parse_pdf(act(tmp_path, "dup.pdf", [p1, [], []]))
    assert refs(doc) == ["Art. 1"]
    assert node(doc, "Art. 1").text == "First text."
    assert len(doc.warnings) == 1 and "Art. 1" in doc.warnings[0]
    assert (1, "[repeated Art. 1] Second text.") in doc.unplaced
    assert (1, "[repeated Art. 1(1)] A paragraph of the repeat.") in doc.unplaced


def test_repeated_annex_on_every_page(tmp_path: Path) -> None:
    page = [(CENTRE, 600, 10, False, "ANNEX I"), (M, 580, 10, False, "3.1. thing")]
    doc = parse_pdf(act(tmp_path, "annexes.pdf", [page, page, page]))
    assert refs(doc) == ["Annex I"]
    assert len(set(refs(doc))) == len(refs(doc))
    assert [w.split()[:2] for w in doc.warnings] == [["Annex", "I"], ["Annex", "I"]]
