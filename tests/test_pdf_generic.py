"""The generic PDF layout on the documents analysts get handed besides regulations: NIST
frameworks (SP 800-53 controls, the AI RMF), ISO-style annexes, company policies with or
without numbering. Each PDF is written on the spot with tests/pdfgen.py and read by the real
importer, once with the layout forced and once detected where it matters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.pdf import parse_pdf
from tests import pdfgen
from tests.conftest import make_store

Item = pdfgen.Item
LAYOUTS = pytest.mark.parametrize("layout", [None, "generic"])
ASSIGNED = {"numbering": "assigned by Crosswalk"}


def body(y: float, n: int, tag: str) -> list[Item]:
    return [(72, y - 14 * i, 10, False, f"Body line {i} of {tag}, which is ordinary running "
                                        "text and says things") for i in range(n)]


def read(tmp_path: Path, pages: list[list[Item]], layout: str | None = "generic",
         name: str = "doc.pdf") -> RegulationDoc:
    doc = parse_pdf(pdfgen.write_pdf(tmp_path / name, pages), layout=layout)
    assert doc.source_format == "pdf:generic"
    refs = [n.ref for _, n in doc.walk()]
    assert len(refs) == len(set(refs)), refs  # the service refuses duplicate refs
    return doc


def tree(doc: RegulationDoc) -> list[tuple[str, str, str]]:
    """(parent ref, ref, title) in document order."""
    return [(p.ref if p else "", n.ref, n.title) for p, n in doc.walk()]


def by_ref(doc: RegulationDoc) -> dict[str, ClauseNode]:
    return {n.ref: n for _, n in doc.walk()}


def unplaced(doc: RegulationDoc) -> list[str]:
    return [text for _, text in doc.unplaced]


# ------------------------------------------------------------------------ tables of contents
@LAYOUTS
def test_contents_lines_go_to_unplaced_and_the_real_headings_open_clauses(
        tmp_path: Path, layout: str | None) -> None:
    toc = [(72, 760, 16, True, "Guide for Securing Widgets"),
           (72, 730, 10, False, "NIST Special Publication 800-999 Revision 1"),
           (72, 690, 12, True, "Table of Contents"),
           (72, 670, 10, False, "1 Introduction ........................................ 1"),
           (90, 656, 10, False, "1.1 Purpose ........................................... 1"),
           (90, 642, 10, False, "1.2 Scope ............................................. 2"),
           (72, 628, 10, False, "2 Requirements ........................................ 3"),
           (90, 614, 10, False, "2.1 Access control .................................... 3")]
    p2 = [(72, 740, 14, True, "1 Introduction"), (72, 720, 12, True, "1.1 Purpose"),
          *body(704, 3, "1.1"), (72, 640, 12, True, "1.2 Scope"), *body(624, 3, "1.2")]
    p3 = [(72, 740, 14, True, "2 Requirements"), (72, 720, 12, True, "2.1 Access control"),
          *body(704, 3, "2.1")]
    doc = read(tmp_path, [toc, p2, p3], layout)
    assert tree(doc) == [("", "1", "Introduction"), ("1", "1.1", "Purpose"),
                         ("1", "1.2", "Scope"), ("", "2", "Requirements"),
                         ("2", "2.1", "Access control")]
    assert by_ref(doc)["1.1"].page == 2 and by_ref(doc)["2.1"].page == 3
    assert by_ref(doc)["1.2"].text.startswith("Body line 0 of 1.2")
    contents = [t for t in unplaced(doc) if t.startswith("[contents] ")]
    assert len(contents) == 6 and "1.1 Purpose ....." in contents[2]
    assert doc.title == "Guide for Securing Widgets"


def test_contents_without_leaders_are_known_by_their_page_numbers(tmp_path: Path) -> None:
    toc = [(72, 700 - 14 * i, 10, False, text) for i, text in enumerate(
        ["1 Purpose 2", "2 Scope 2", "2.1 Systems 3", "3 Roles 4"])]
    p2 = [(72, 740, 12, True, "1 Purpose"), *body(724, 2, "1"),
          (72, 680, 12, True, "2 Scope"), *body(664, 2, "2"),
          (72, 620, 11, True, "2.1 Systems"), *body(604, 2, "2.1"),
          (72, 560, 12, True, "3 Roles"), *body(544, 2, "3")]
    doc = read(tmp_path, [toc, p2])
    assert [r for _, r, _ in tree(doc)] == ["1", "2", "2.1", "3"]
    assert all(n.page == 2 for _, n in doc.walk())
    assert unplaced(doc) == ["[contents] 1 Purpose 2", "[contents] 2 Scope 2",
                             "[contents] 2.1 Systems 3", "[contents] 3 Roles 4"]


# ------------------------------------------------------------------- prefixed ids, excerpts
RMF = [(72, 780, 16, True, "Artificial Intelligence Risk Management Framework"),
       (72, 760, 10, False, "Version 1.0"),
       (72, 730, 14, True, "5 AI RMF Core"), (72, 710, 12, True, "5.1 Govern"),
       (72, 694, 10, False, "The GOVERN function cultivates a culture of risk management."),
       (72, 680, 10, False, "2023 was the year the framework came out; see 5.2 below."),
       (72, 660, 10, False, "GOVERN 1: Policies, processes, procedures, and practices are in "
                            "place."),
       (72, 640, 10, False, "GOVERN 1.1: Legal and regulatory requirements involving AI are "
                            "understood."),
       (72, 620, 10, False, "GOVERN 1.2: The characteristics of trustworthy AI are "
                            "integrated."),
       (72, 600, 10, False, "GOVERN 2: Accountability structures are in place."),
       (72, 580, 10, False, "GOVERN 2.1: Roles and responsibilities are documented."),
       (72, 550, 12, True, "5.2 Map"),
       (72, 534, 10, False, "MAP 1: Context is established and understood."),
       (72, 514, 10, False, "MAP 1.1: Intended purposes are understood and documented."),
       (72, 480, 14, True, "6 AI RMF Profiles"), *body(464, 2, "6")]


@LAYOUTS
def test_prefixed_ids_nest_under_their_group_inside_their_section(tmp_path: Path,
                                                                  layout: str | None) -> None:
    doc = read(tmp_path, [RMF], layout)
    assert [(p, r) for p, r, _ in tree(doc)] == [
        ("", "5"), ("5", "5.1"), ("5.1", "GOVERN 1"), ("GOVERN 1", "GOVERN 1.1"),
        ("GOVERN 1", "GOVERN 1.2"), ("5.1", "GOVERN 2"), ("GOVERN 2", "GOVERN 2.1"),
        ("5", "5.2"), ("5.2", "MAP 1"), ("MAP 1", "MAP 1.1"), ("", "6")]
    nodes = by_ref(doc)
    assert nodes["GOVERN 1.1"].kind == "clause"
    assert nodes["GOVERN 1.1"].text == ("Legal and regulatory requirements involving AI are "
                                        "understood.")
    assert nodes["5.1"].text == ("The GOVERN function cultivates a culture of risk "
                                 "management. 2023 was the year the framework came out; "
                                 "see 5.2 below.")
    assert (doc.title, doc.version_label) == (RMF[0][4], "1.0")


def test_an_excerpt_may_start_at_any_number(tmp_path: Path) -> None:
    page = [(72, 760, 12, True, "3.4 Monitoring"), *body(744, 2, "3.4"),
            (72, 700, 12, True, "3.5 Reporting"), *body(684, 2, "3.5"),
            (72, 640, 14, True, "4 Review"),
            (72, 620, 10, False, "4.1 Reviews take place every year."),
            (72, 606, 10, False, "4.2 Findings are reported to the board."),
            (72, 592, 10, False, "4.4 is not the next number here and stays text.")]
    doc = read(tmp_path, [page])
    assert [(p, r) for p, r, _ in tree(doc)] == [
        ("", "3.4"), ("", "3.5"), ("", "4"), ("4", "4.1"), ("4", "4.2")]
    assert by_ref(doc)["4.2"].text == ("Findings are reported to the board. 4.4 is not the "
                                       "next number here and stays text.")


# ---------------------------------------------------------------------------------- captions
def test_captions_stay_text_of_their_clause(tmp_path: Path) -> None:
    page = [(72, 760, 16, True, "Acme Security Standard"), (72, 740, 10, False, "Version 3"),
            (72, 700, 14, True, "1 Scope"), *body(684, 2, "1"),
            (72, 640, 10, True, "TABLE 1 Risk levels"), (72, 620, 10, False, "Low Medium High"),
            (72, 600, 10, True, "Figure 2: Data flow"),
            (72, 580, 14, True, "2 Roles"), *body(564, 2, "2")]
    doc = read(tmp_path, [page])
    assert tree(doc) == [("", "1", "Scope"), ("", "2", "Roles")]
    assert by_ref(doc)["1"].text.endswith("TABLE 1 Risk levels Low Medium High Figure 2: "
                                          "Data flow")


# ------------------------------------------------------------------------ duplicate numbers
@pytest.mark.parametrize("lines", [
    ["1 Scope", "GOVERN 1.1 Thing", "1 Scope again"],
    ["1 Scope", "1.1 Part", "GOVERN 1.1 Thing", "1 Scope again", "1.1 Part again"]],
    ids=["restart", "restart-with-child"])
def test_a_repeated_number_is_text_when_everything_is_bold(tmp_path: Path,
                                                           lines: list[str]) -> None:
    doc = read(tmp_path, [[(72, 700 - 20 * i, 12, True, t) for i, t in enumerate(lines)]])
    assert [n.ref for _, n in doc.walk()] == [r for r in ("1", "1.1", "GOVERN 1.1")
                                              if any(t.startswith(r + " ") for t in lines)]
    last = list(doc.walk())[-1][1]
    assert (last.ref, last.text) == ("GOVERN 1.1", " ".join(lines[lines.index(
        "GOVERN 1.1 Thing") + 1:]))


def test_a_repeated_numbered_heading_is_kept_apart_and_warned_about(tmp_path: Path) -> None:
    page = [(72, 760, 14, True, "1 Scope"), *body(744, 2, "1"),
            (72, 700, 14, True, "2 Roles"), *body(684, 2, "2"),
            (72, 640, 14, True, "1 Scope"), *body(624, 2, "1 again")]
    doc = read(tmp_path, [page])
    assert tree(doc) == [("", "1", "Scope"), ("", "2", "Roles"), ("2", "2 §1", "1 Scope")]
    assert by_ref(doc)["2 §1"].attributes == ASSIGNED
    assert by_ref(doc)["2 §1"].text.startswith("Body line 0 of 1 again")
    assert doc.warnings == ["page 1: “1 Scope” repeats 1 of page 1; not read as a new 1"]


# ------------------------------------------------------------------------ control catalogues
@LAYOUTS
def test_sp_800_53_controls_and_enhancements(tmp_path: Path, layout: str | None) -> None:
    lines = [(16, True, "Security and Privacy Controls"), (10, False, "Revision 5"),
             (14, True, "3.1 ACCESS CONTROL"), (11, True, "AC-1 POLICY AND PROCEDURES"),
             (10, False, "Control: a. Develop and document an access control policy."),
             (10, False, "Related Controls: AC-2, AC-3."),
             (11, True, "AC-2 ACCOUNT MANAGEMENT"),
             (10, False, "Control: a. Define the types of accounts allowed."),
             (10, True, "Discussion:"),  # a bold label opening a line: not a heading
             (10, False, "AC-17 Remote access is covered in its own control."),
             (11, True, "AC-2(1) AUTOMATED SYSTEM ACCOUNT MANAGEMENT"),
             (10, False, "Support the management of system accounts."),
             (10, True, "(2) ACCOUNT MANAGEMENT | AUTOMATED TEMPORARY ACCOUNTS"),
             (10, False, "Automatically remove temporary accounts."),
             (11, True, "AC-3 ACCESS ENFORCEMENT"),
             (10, False, "Control: Enforce approved authorizations."),
             (14, True, "3.2 AWARENESS AND TRAINING"),
             (11, True, "AT-1 POLICY AND PROCEDURES"), (10, False, "Body of AT-1.")]
    page: list[Item] = [(72, 790 - 20 * i, size, bold, text)
                        for i, (size, bold, text) in enumerate(lines)]
    page.insert(9, (136, 790 - 20 * 8, 10, False, "Accounts include individual and group "
                                                   "accounts and"))  # after "Discussion:"
    doc = read(tmp_path, [page], layout)
    assert tree(doc) == [
        ("", "3.1", "ACCESS CONTROL"), ("3.1", "AC-1", "POLICY AND PROCEDURES"),
        ("3.1", "AC-2", "ACCOUNT MANAGEMENT"),
        ("AC-2", "AC-2(1)", "AUTOMATED SYSTEM ACCOUNT MANAGEMENT"),
        ("AC-2", "AC-2(2)", "ACCOUNT MANAGEMENT | AUTOMATED TEMPORARY ACCOUNTS"),
        ("3.1", "AC-3", "ACCESS ENFORCEMENT"), ("", "3.2", "AWARENESS AND TRAINING"),
        ("3.2", "AT-1", "POLICY AND PROCEDURES")]
    assert by_ref(doc)["AC-2"].text == (
        "Control: a. Define the types of accounts allowed. Discussion: Accounts include "
        "individual and group accounts and AC-17 Remote access is covered in its own control.")
    assert by_ref(doc)["AC-1"].text.endswith("Related Controls: AC-2, AC-3.")


@pytest.mark.parametrize("style", ["A.5", "Annex A then 5"])
def test_iso_annex_numbering_nests(tmp_path: Path, style: str) -> None:
    main = [(72, 780, 16, True, "ISO-style Standard"), (72, 760, 10, False, "Version 2022"),
            (72, 730, 14, True, "5 Leadership"), (72, 710, 12, True, "5.1 Leadership and "
                                                                     "commitment"),
            *body(694, 2, "5.1")]
    prefix = "A." if style == "A.5" else ""
    annex = [(72, 760, 14, True, "Annex A"),
             (72, 740, 12, True, f"{prefix}5 Organizational controls"),
             (72, 720, 11, True, f"{prefix}5.1 Policies for information security"),
             (72, 704, 10, False, "Information security policy shall be defined."),
             (72, 680, 11, True, f"{prefix}5.2 Information security roles"),
             (72, 664, 10, False, "Roles shall be defined."),
             (72, 640, 12, True, f"{prefix}6 People controls"),
             (72, 620, 11, True, f"{prefix}6.1 Screening"), *body(604, 1, "6.1")]
    doc = read(tmp_path, [main, annex])
    assert [(p, r) for p, r, _ in tree(doc)] == [
        ("", "5"), ("5", "5.1"), ("", "Annex A"), ("Annex A", "A.5"), ("A.5", "A.5.1"),
        ("A.5", "A.5.2"), ("Annex A", "A.6"), ("A.6", "A.6.1")]
    assert by_ref(doc)["A.5.1"].title == "Policies for information security"
    assert by_ref(doc)["A.5.2"].text == "Roles shall be defined."
    assert not doc.warnings


def test_policy_numbered_1_0_nests_1_1_under_it(tmp_path: Path) -> None:
    page = [(72, 760, 12, True, "1.0 Purpose"), *body(744, 1, "1.0"),
            (72, 720, 11, True, "1.1 Background"), *body(704, 1, "1.1"),
            (72, 680, 12, True, "2.0 Scope"), *body(664, 1, "2.0"),
            (72, 640, 11, True, "2.1 Systems"), *body(624, 1, "2.1")]
    doc = read(tmp_path, [page])
    assert [(p, r) for p, r, _ in tree(doc)] == [
        ("", "1.0"), ("1.0", "1.1"), ("", "2.0"), ("2.0", "2.1")]


# --------------------------------------------------------------------- unnumbered documents
POLICY = [(72, 780, 18, True, "Acme Remote Work Policy"),
          (72, 760, 10, False, "Approved by the board on 2024-03-01."),
          (72, 730, 14, True, "Purpose"), *body(714, 2, "Purpose"),
          (72, 670, 14, True, "Rules"),
          (72, 650, 11, True, "Equipment"), *body(634, 2, "Equipment"),
          (72, 590, 11, True, "Networks"), *body(574, 2, "Networks"),
          (72, 530, 14, True, "Review"), *body(514, 1, "Review")]


@LAYOUTS
def test_unnumbered_headings_get_refs_assigned_by_crosswalk(tmp_path: Path,
                                                            layout: str | None) -> None:
    doc = read(tmp_path, [POLICY], layout)
    assert tree(doc) == [("", "§1", "Purpose"), ("", "§2", "Rules"),
                         ("§2", "§2.1", "Equipment"), ("§2", "§2.2", "Networks"),
                         ("", "§3", "Review")]
    assert all(n.attributes == ASSIGNED and n.kind == "heading" for _, n in doc.walk())
    assert by_ref(doc)["§2.2"].text.startswith("Body line 0 of Networks")
    assert (doc.title, doc.version_label) == ("Acme Remote Work Policy", "2024-03-01")
    assert unplaced(doc) == [POLICY[0][4], POLICY[1][4]]


def test_a_policy_without_a_title_starts_with_its_first_heading(tmp_path: Path) -> None:
    doc = read(tmp_path, [POLICY[2:]])
    assert [r for _, r, _ in tree(doc)] == ["§1", "§2", "§2.1", "§2.2", "§3"]
    assert (doc.title, doc.unplaced) == ("", [])


def test_a_single_numbered_line_is_a_clause(tmp_path: Path) -> None:
    doc = read(tmp_path, [[(72, 400, 10, False, "1 Hello")]])
    assert tree(doc) == [("", "1", "Hello")]


def test_plain_prose_without_numbers_or_headings_is_refused(tmp_path: Path) -> None:
    page = [(72, 760 - 14 * i, 10, False, "Just a plain sentence of a letter, nothing more.")
            for i in range(20)]
    with pytest.raises(ImportFailed, match="layout generic"):
        parse_pdf(pdfgen.write_pdf(tmp_path / "letter.pdf", [page]), layout="generic")


# ----------------------------------------------------------------------- through the CLI
class Cli(Protocol):
    def __call__(self, *args: str) -> Any: ...


def test_an_unnumbered_policy_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws.db"
    make_store(ws).close()
    src = pdfgen.write_pdf(tmp_path / "remote.pdf", [POLICY])
    r = cli("--workspace", str(ws), "import", str(src), "--dry-run", "--json", "--code", "POL")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert (plan["format"], plan["committed"], plan["title"]) == (
        "pdf:generic", False, "Acme Remote Work Policy")
    assert plan["clauses_by_kind"] == {"heading": 5}
    assert [u["text"] for u in plan["unplaced_text"]] == [POLICY[0][4], POLICY[1][4]]
    r = cli("--workspace", str(ws), "import", str(src), "--json", "--code", "POL")
    assert r.code == 0, r.err
    r = cli("--workspace", str(ws), "clauses", "POL", "--json")
    rows = json.loads(r.out)
    assert [(c["ref"], c["title"]) for c in rows] == [
        ("§1", "Purpose"), ("§2", "Rules"), ("§2.1", "Equipment"), ("§2.2", "Networks"),
        ("§3", "Review")]
    assert all(c["attributes"] == ASSIGNED for c in rows)


# ------------------------------------------------------------------------- more of the family
def test_csf_style_groups_hold_their_subcategories(tmp_path: Path) -> None:
    page = [(72, 780, 18, True, "The Cybersecurity Framework 2.0"),
            (72, 740, 14, True, "GOVERN (GV)"),
            (72, 720, 12, True, "Organizational Context (GV.OC)"),
            (72, 700, 10, False, "GV.OC-01: The organizational mission is understood."),
            (72, 680, 10, False, "GV.OC-02: Internal and external stakeholders are "
                                 "understood."),
            (72, 650, 12, True, "Risk Management Strategy (GV.RM)"),
            (72, 630, 10, False, "GV.RM-01: Risk management objectives are established."),
            (72, 610, 10, False, "GV.RM-03 describes the rest, see GV.RM-02 first.")]
    doc = read(tmp_path, [page])
    assert tree(doc) == [("", "GV", "GOVERN"), ("GV", "GV.OC", "Organizational Context"),
                         ("GV.OC", "GV.OC-01", ""), ("GV.OC", "GV.OC-02", ""),
                         ("GV", "GV.RM", "Risk Management Strategy"),
                         ("GV.RM", "GV.RM-01", "")]
    assert by_ref(doc)["GV.RM-01"].text == ("Risk management objectives are established. "
                                            "GV.RM-03 describes the rest, see GV.RM-02 first.")


def test_section_divisions_are_parents_of_their_decimal_subsections(tmp_path: Path) -> None:
    page = [(72, 780, 18, True, "Acme Handbook"),
            (72, 740, 14, True, "Section 1 Purpose"), (72, 720, 12, True, "1.1 Background"),
            *body(704, 1, "1.1"), (72, 680, 14, True, "Section 2 Scope"),
            (72, 660, 12, True, "2.1 Systems"), *body(644, 1, "2.1")]
    doc = read(tmp_path, [page])
    assert [(p, r) for p, r, _ in tree(doc)] == [
        ("", "Section 1"), ("Section 1", "1.1"), ("", "Section 2"), ("Section 2", "2.1")]


def test_numbered_lists_under_unnumbered_headings(tmp_path: Path) -> None:
    page = [(72, 780, 18, True, "Acme Travel Policy"),
            (72, 740, 14, True, "Purpose"), (72, 724, 10, False, "This policy covers travel."),
            (72, 700, 14, True, "Rules"),
            (72, 684, 10, False, "1. Employees must book through the portal."),
            (72, 670, 10, False, "2. Receipts are kept for seven years."),
            (72, 640, 14, True, "Approvals"),
            (72, 624, 10, False, "1. Managers approve trips.")]
    doc = read(tmp_path, [page])
    assert tree(doc) == [("", "§1", "Purpose"), ("", "§2", "Rules"), ("§2", "1", ""),
                         ("§2", "2", ""), ("", "§3", "Approvals")]
    assert by_ref(doc)["2"].text == "Receipts are kept for seven years."
    assert by_ref(doc)["§3"].text == "1. Managers approve trips."  # a repeat: text
    assert by_ref(doc)["1"].attributes == {} and by_ref(doc)["§2"].attributes == ASSIGNED


def test_contents_with_bare_leaders_and_wrapped_entries(tmp_path: Path) -> None:
    toc = [(72, 760, 14, True, "Contents"),
           (72, 740, 10, True, "PART 1 GENERAL ....................................."),
           (72, 726, 9, False, "1.1 Purpose ......................................."),
           (72, 712, 9, False, "1.2 Compliance dates for implementation of new standards and"),
           (72, 698, 9, False, "specifications. ...................................."),
           (72, 684, 9, False, "1.3 Definitions ...................................")]
    text = [(72, 760, 12, True, "1.1 Purpose"), *body(744, 1, "1.1"),
            (72, 720, 12, True, "1.2 Compliance dates"), *body(704, 1, "1.2"),
            (72, 680, 12, True, "1.3 Definitions"), *body(664, 1, "1.3")]
    doc = read(tmp_path, [toc, text])
    assert [r for _, r, _ in tree(doc)] == ["1.1", "1.2", "1.3"]
    assert len(unplaced(doc)) == 6 and not doc.warnings


# ------------------------------------------------------------------ lists inside body text
def nist_pages(list_x: float, later: bool) -> list[list[Item]]:
    """1 Introduction / 1.1 Purpose with a numbered list in body type, then (on the next page,
    when `later`) the bold heading "2 The Controls" that the list's "2." must not take."""
    first = [(72, 760, 14, True, "1 Introduction"), *body(744, 1, "1"),
             (72, 715, 12, True, "1.1 Purpose and Applicability"), *body(699, 3, "1.1"),
             (72, 650, 10, False, "The controls are organized into families:"),
             (list_x, 635, 10, False, "1. Access Control;"),
             (list_x, 620, 10, False, "2. Audit and Accountability."),
             (list_x, 605, 10, False, "3. Incident Response.")]
    second = [(72, 760, 14, True, "2 The Controls"), (72, 735, 12, True, "2.1 Access Control"),
              *body(719, 2, "2.1")]
    return [first, second] if later else [first]


@pytest.mark.parametrize(("list_x", "later"), [(90, True), (72, True), (90, False)],
                         ids=["indented", "at-the-margin", "indented-at-the-end"])
def test_a_numbered_list_in_body_text_is_text_of_its_section(
        tmp_path: Path, list_x: float, later: bool) -> None:
    doc = read(tmp_path, nist_pages(list_x, later))
    expected = [("", "1", "Introduction"), ("1", "1.1", "Purpose and Applicability")]
    if later:
        expected += [("", "2", "The Controls"), ("2", "2.1", "Access Control")]
    assert tree(doc) == expected
    assert by_ref(doc)["1.1"].text.endswith(
        "families: 1. Access Control; 2. Audit and Accountability. 3. Incident Response.")
    assert not doc.warnings


def test_numbered_clauses_in_body_type_keep_their_numbers_before_an_appendix(
        tmp_path: Path) -> None:
    page = [(72, 780, 16, True, "Acme Supplier Terms"),
            (72, 750, 10, False, "1 The supplier shall keep records of every delivery made."),
            (72, 736, 10, False, "2 The supplier shall report incidents within one day."),
            (72, 710, 14, True, "Appendix 1 Forms"),
            (72, 690, 12, True, "1 Delivery form"), *body(674, 1, "the form"),
            (72, 650, 12, True, "2 Incident form"), *body(634, 1, "the other form")]
    doc = read(tmp_path, [page])
    assert tree(doc)[:3] == [("", "1", ""), ("", "2", ""), ("", "Appendix 1", "Forms")]
    assert by_ref(doc)["2"].text == "The supplier shall report incidents within one day."
    assert ("Appendix 1", "Appendix 1 §1", "1 Delivery form") in tree(doc)  # not under 2


# ---------------------------------------------------------------------------- ISO annexes
@pytest.mark.parametrize("lines", [
    ["Annex A", "(normative)", "Information security controls reference"],
    ["Annex A (normative)", "Information security controls reference"],
    ["Annex A", "(normative) Information security controls reference"],
    ["Annex A (normative) Information security controls reference"]],
    ids=["three-lines", "status-on-the-heading", "status-with-title", "one-line"])
def test_an_iso_annex_takes_its_title_and_status_from_the_lines_below(
        tmp_path: Path, lines: list[str]) -> None:
    styles = {"Annex A": (13, True), "(normative)": (11, False)}
    head: list[Item] = [(72, 780, 14, True, "ISO/IEC 27001:2022")]
    head += [(72, 750 - 18 * k, *styles.get(t, (12, True)), t) for k, t in enumerate(lines)]
    page = [*head, (72, 680, 11, True, "A.5 Organizational controls"),
            (72, 660, 10, True, "A.5.1 Policies for information security"),
            (90, 645, 10, False, "Control: Information security policy shall be defined."),
            (72, 620, 11, True, "A.6 People controls"), (72, 600, 10, True, "A.6.1 Screening"),
            (90, 585, 10, False, "Control: Background verification checks shall be done.")]
    doc = read(tmp_path, [page])
    assert tree(doc) == [
        ("", "Annex A", "Information security controls reference"),
        ("Annex A", "A.5", "Organizational controls"),
        ("A.5", "A.5.1", "Policies for information security"),
        ("Annex A", "A.6", "People controls"), ("A.6", "A.6.1", "Screening")]
    annex = by_ref(doc)["Annex A"]
    assert (annex.text, annex.attributes) == ("", {"annex": "normative"})


# ------------------------------------------------------------------ divisions on their own line
@LAYOUTS
def test_a_chapter_number_alone_on_its_line_is_titled_by_the_line_below(
        tmp_path: Path, layout: str | None) -> None:
    """Handbooks open each chapter on a new page: "CHAPTER 2" centred, its title below; the
    chapter holds "2.1", "2.2" (and is not a running head, though it opens every page)."""
    pages = [[(250, 780, 14, True, f"CHAPTER {n}"), (240, 760, 14, True, title),
              (72, 730, 10, True, f"{n}.1 General"),
              (72, 714, 10, False, f"Rule {n} applies to every system the organisation runs."),
              (72, 690, 10, True, f"{n}.2 Details"),
              (72, 674, 10, False, f"More on rule {n} is set out in the procedures.")]
             for n, title in enumerate(("Introduction", "Access", "Logging", "Review"), 1)]
    doc = read(tmp_path, pages, layout)
    assert tree(doc)[:4] == [("", "CHAPTER 1", "Introduction"),
                             ("CHAPTER 1", "1.1", "General"), ("CHAPTER 1", "1.2", "Details"),
                             ("", "CHAPTER 2", "Access")]
    assert by_ref(doc)["4.2"].text == "More on rule 4 is set out in the procedures."
    assert not doc.unplaced
