"""Structured importers: CSV tables, OSCAL catalogs (JSON and XML), CISO Assistant libraries.

Happy paths on small inline files, the real 800-53 LOW catalog from the corpus, and bad input:
every failure is an `ImportFailed` naming the file and the place, never a raw exception."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from app.domain.clauses import RegulationDoc
from app.errors import ImportFailed
from app.importers.ciso_assistant import parse_ciso_library
from app.importers.csv_table import parse_csv
from app.importers.oscal_catalog import code_from_title, parse_oscal_json, parse_oscal_xml
from app.importers.source import read_bytes

LOW_CATALOG = "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json"


def tree(doc: RegulationDoc) -> list[tuple[str | None, str, str]]:
    """(parent ref, ref, kind) for every clause, depth first."""
    return [(p.ref if p else None, n.ref, n.kind) for p, n in doc.walk()]


def by_ref(doc: RegulationDoc) -> dict[str, Any]:
    return {n.ref: n for _, n in doc.walk()}


def csv_doc(data: bytes | str, name: str = "table.csv") -> RegulationDoc:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_csv(raw, Path(name), code="EX", title="Example", version="1")


def fails(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ImportFailed) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ================================================================= CSV

def test_csv_builds_the_tree_with_defaults_and_warns_about_extra_columns() -> None:
    doc = csv_doc(
        "ref,title,text,parent_ref,kind,notes\n"
        "Art. 1(1),First paragraph,Text one,Art. 1,paragraph,ignored\n"  # child before parent
        "Art. 1,Subject matter,,,article,\n"
        'Art. 1(2),Second,"Multi-line\ntext, with a comma",Art. 1,,\n'
        "Art. 2,Scope,,,article,\n"
    )
    assert tree(doc) == [(None, "Art. 1", "article"), ("Art. 1", "Art. 1(1)", "paragraph"),
                         ("Art. 1", "Art. 1(2)", "clause"), (None, "Art. 2", "article")]
    assert by_ref(doc)["Art. 1(2)"].text == "Multi-line\ntext, with a comma"
    assert doc.code == "EX" and doc.version_label == "1" and doc.source_format == "csv"
    assert doc.warnings == ["table.csv: ignored column 'notes'"]


def test_csv_reads_summary_and_assessable() -> None:
    doc = csv_doc("ref,title,summary,assessable\nR1,One,Our summary,no\nR2,Two,,yes\nR3,,,\n")
    nodes = by_ref(doc)
    assert nodes["R1"].summary == "Our summary" and nodes["R1"].assessable is False
    assert nodes["R2"].assessable is True and nodes["R3"].assessable is True


def test_csv_tolerates_trailing_empty_fields_and_blank_lines() -> None:
    doc = csv_doc("\nref,title,\r\nA,Alpha,,\r\n\r\nB,Beta\r\n")
    assert [n.title for _, n in doc.walk()] == ["Alpha", "Beta"] and doc.warnings == []

@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_sniffs_semicolon_and_tab(sep: str) -> None:
    rows = ["ref,title,parent_ref", "A,Alpha; with semicolon,", "A.1,Child,A"]
    if sep == "\t":
        text = "\n".join(r.replace(",", "\t") for r in rows)
    else:
        text = "\n".join(r.replace(";", ".").replace(",", ";") for r in rows)
    doc = csv_doc(text)
    assert tree(doc) == [(None, "A", "clause"), ("A", "A.1", "clause")]


def test_csv_utf8_bom_is_fine_and_cp1252_is_read_with_a_warning() -> None:
    doc = csv_doc(b"\xef\xbb\xbfref,title\nA,Caf\xc3\xa9\n")
    assert by_ref(doc)["A"].title == "Café" and doc.warnings == []
    doc = csv_doc(b"ref,title\nA,Caf\xe9 \x93quoted\x94\n")
    assert by_ref(doc)["A"].title == "Café \u201cquoted\u201d"
    assert len(doc.warnings) == 1 and "Windows-1252" in doc.warnings[0]
    assert "line 2" in doc.warnings[0]


def test_csv_utf16_is_refused_clearly() -> None:
    data = "ref,title\nA,Alpha\n".encode("utf-16")
    msg = fails(csv_doc, data, "u16.csv")
    assert "u16.csv" in msg and "UTF-16" in msg and "line 1" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("", "line 1: the file is empty"),
    ("title,text\nA,B\n", "line 1: the header row has no 'ref' column"),
    ("ref,title,ref\nA,B,C\n", "line 1: the header names column 'ref' twice"),
    ("ref,title\n", "header but no clauses"),
    ("ref,title\nA,One\n  ,Two\n", "line 3: the ref is empty"),
    ("ref,title\nA,One\nB,Two\nA,Again\n", "line 4: ref 'A' already appears on line 2"),
    ("ref,title,parent_ref\nA,One,\nB,Two,Z\n", "line 3: parent_ref 'Z' is not the ref"),
    ("ref,parent_ref\nA,\nB,C\nC,B\n", "parent_ref makes a cycle (B → C → B)"),
    ("ref,parent_ref\nA,A\n", "line 2: parent_ref makes a cycle (A → A)"),
    ('ref,title\nA,"bad"quote\n', "line 2: malformed CSV"),
    ('ref,title\nA,"never closed\nB,x\n', "malformed CSV"),
    ("ref,title\nA,One,Extra\n", "line 2 has 3 fields but the header has 2"),
    ("ref,kind\nA,Not A Kind!\n", "line 2: kind 'not-a-kind!' is not valid"),
    ("ref,assessable\nA,maybe\n", "line 2: assessable 'maybe' is not yes or no"),
])
def test_csv_bad_input(text: str, expected: str) -> None:
    msg = fails(csv_doc, text, "bad.csv")
    assert msg.startswith("bad.csv: ") and expected in msg


def test_csv_cycle_names_a_line() -> None:
    msg = fails(csv_doc, "ref,parent_ref\nA,\nB,C\nC,B\n")
    assert "line 3" in msg or "line 4" in msg


# ================================================================= OSCAL

def oscal_sample() -> dict[str, Any]:
    """A two-control catalog shaped like 800-53 (labels, params, items, an enhancement, a
    withdrawn control)."""
    return {"catalog": {
        "uuid": "11111111-2222-4333-8444-555555555555",
        "metadata": {"title": "Example Control Catalog", "last-modified": "2024-01-02T03:04:05Z",
                     "version": "1.0", "oscal-version": "1.1.2"},
        "groups": [{
            "id": "ac", "class": "family", "title": "Access Control",
            "controls": [
                {"id": "ac-1", "class": "SP800-53", "title": "Policy and Procedures",
                 "params": [
                     {"id": "ac-1_prm_1", "label": "organization-defined personnel or roles"},
                     {"id": "ac-1_prm_2", "select": {"how-many": "one-or-more", "choice": [
                         "organization-level", "system-level"]}},
                     {"id": "ac-1_prm_3", "select": {"choice": [
                         "within {{ insert: param, ac-1_prm_4 }} ", "never"]}},
                     {"id": "ac-1_prm_4", "guidelines": [{"prose": "a period is defined;"}]},
                 ],
                 "props": [{"name": "label", "value": "AC-01", "class": "zero-padded"},
                           {"name": "label", "value": "AC-1"},
                           {"name": "sort-id", "value": "ac-01"}],
                 "parts": [
                     {"id": "ac-1_smt", "name": "statement", "parts": [
                         {"id": "ac-1_smt.a", "name": "item",
                          "props": [{"name": "label", "value": "a."}],
                          "prose": "Develop and disseminate to "
                                   "{{ insert: param, ac-1_prm_1 }}:",
                          "parts": [{"id": "ac-1_smt.a.1", "name": "item",
                                     "props": [{"name": "label", "value": "1."}],
                                     "prose": " {{ insert: param, ac-1_prm_2 }} access control "
                                              "policy; and"}]},
                         {"id": "ac-1_smt.b", "name": "item",
                          "props": [{"name": "label", "value": "b."}],
                          "prose": "Review the policy annually, or "
                                   "{{ insert: param, ac-1_prm_3 }}."}]},
                     {"id": "ac-1_gdn", "name": "guidance",
                      "prose": "Policies address the controls in the family."},
                     {"id": "ac-1_obj", "name": "assessment-objective",
                      "prose": "Not imported."}],
                 "controls": [
                     {"id": "ac-1.1", "class": "SP800-53-enhancement",
                      "title": "Automated Policy Checks",
                      "props": [{"name": "label", "value": "AC-1(1)"}],
                      "parts": [{"id": "ac-1.1_smt", "name": "statement",
                                 "prose": "Check the policy automatically."}]}]},
                {"id": "ac-2", "title": "Legacy Account Control",
                 "props": [{"name": "label", "value": "AC-2"},
                           {"name": "status", "value": "withdrawn"}],
                 "links": [{"href": "#ac-1", "rel": "incorporated-into"}]},
            ]}],
    }}


OSCAL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="11111111-2222-4333-8444-555555555555">
  <metadata>
    <title>Example Control Catalog</title>
    <last-modified>2024-01-02T03:04:05Z</last-modified>
    <version>1.0</version>
    <oscal-version>1.1.2</oscal-version>
  </metadata>
  <group id="ac" class="family">
    <title>Access Control</title>
    <control id="ac-1" class="SP800-53">
      <title>Policy and Procedures</title>
      <param id="ac-1_prm_1"><label>organization-defined personnel or roles</label></param>
      <param id="ac-1_prm_2">
        <select how-many="one-or-more">
          <choice>organization-level</choice><choice>system-level</choice>
        </select>
      </param>
      <param id="ac-1_prm_3">
        <select><choice>within <insert type="param" id-ref="ac-1_prm_4"/> </choice>
                <choice>never</choice></select>
      </param>
      <param id="ac-1_prm_4"><guideline><p>a period is defined;</p></guideline></param>
      <prop name="label" value="AC-01" class="zero-padded"/>
      <prop name="label" value="AC-1"/>
      <prop name="sort-id" value="ac-01"/>
      <part id="ac-1_smt" name="statement">
        <part id="ac-1_smt.a" name="item">
          <prop name="label" value="a."/>
          <p>Develop and disseminate to <insert type="param" id-ref="ac-1_prm_1"/>:</p>
          <part id="ac-1_smt.a.1" name="item">
            <prop name="label" value="1."/>
            <p> <insert type="param" id-ref="ac-1_prm_2"/> access control policy; and</p>
          </part>
        </part>
        <part id="ac-1_smt.b" name="item">
          <prop name="label" value="b."/>
          <p>Review the policy <em>annually</em>, or <insert type="param" id-ref="ac-1_prm_3"/>.</p>
        </part>
      </part>
      <part id="ac-1_gdn" name="guidance"><p>Policies address the controls in the family.</p></part>
      <part id="ac-1_obj" name="assessment-objective"><p>Not imported.</p></part>
      <control id="ac-1.1" class="SP800-53-enhancement">
        <title>Automated Policy Checks</title>
        <prop name="label" value="AC-1(1)"/>
        <part id="ac-1.1_smt" name="statement"><p>Check the policy automatically.</p></part>
      </control>
    </control>
    <control id="ac-2">
      <title>Legacy Account Control</title>
      <prop name="label" value="AC-2"/>
      <prop name="status" value="withdrawn"/>
      <link href="#ac-1" rel="incorporated-into"/>
    </control>
  </group>
</catalog>
"""

AC1_TEXT = (
    "a. Develop and disseminate to [Assignment: organization-defined personnel or roles]:\n"
    "  1. [Selection (one or more): organization-level; system-level] access control policy; "
    "and\n"
    "b. Review the policy annually, or [Selection: within [Assignment: a period is defined;]; "
    "never]."
)


def oscal_json(raw: Any) -> bytes:
    return json.dumps(raw, indent=1).encode()


def test_oscal_json_small_catalog() -> None:
    doc = parse_oscal_json(oscal_json(oscal_sample()), Path("cat.json"))
    assert tree(doc) == [(None, "AC", "group"), ("AC", "AC-1", "control"),
                         ("AC-1", "AC-1(1)", "control-enhancement"), ("AC", "AC-2", "control")]
    nodes = by_ref(doc)
    assert nodes["AC-1"].text == AC1_TEXT
    assert nodes["AC-1"].summary == ""
    assert nodes["AC-1"].attributes == {"oscal_id": "ac-1", "guidance":
                                        "Policies address the controls in the family."}
    assert nodes["AC-1(1)"].text == "Check the policy automatically."
    assert nodes["AC"].title == "Access Control" and nodes["AC"].assessable is False
    assert nodes["AC-2"].assessable is False
    assert nodes["AC-2"].attributes["status"] == "withdrawn"
    assert nodes["AC-2"].attributes["incorporated-into"] == "AC-1"
    assert nodes["AC-1"].assessable is True
    assert (doc.code, doc.title, doc.version_label, doc.effective_date) == (
        "ECC", "Example Control Catalog", "1.0", "2024-01-02")
    assert doc.identifiers["oscal-uuid"] == "11111111-2222-4333-8444-555555555555"
    assert doc.source_format == "oscal-json" and doc.warnings == []


def test_oscal_code_override_and_published_date() -> None:
    raw = oscal_sample()
    raw["catalog"]["metadata"]["published"] = "2023-05-06T00:00:00Z"
    doc = parse_oscal_json(oscal_json(raw), Path("cat.json"), code=" nist-ex")
    assert doc.code == "NIST-EX" and doc.effective_date == "2023-05-06"
    msg = fails(parse_oscal_json, oscal_json(raw), Path("cat.json"), code="bad code")
    assert "cat.json" in msg and "invalid regulation code" in msg


@pytest.mark.parametrize(("title", "code"), [
    ("NIST Special Publication 800-53 Revision 5.1.1 LOW IMPACT BASELINE",
     "NIST-SP-800-53-R5-LOW-IMPACT-BASELINE"),
    ("Cloud Controls Matrix", "CCM"),
    ("800-53", "OSCAL-800-53"),
    ("", "OSCAL-CATALOG"),
])
def test_oscal_code_from_title(title: str, code: str) -> None:
    assert code_from_title(title) == code


def test_oscal_xml_gives_the_same_tree_as_json() -> None:
    from_json = parse_oscal_json(oscal_json(oscal_sample()), Path("cat.json"))
    from_xml = parse_oscal_xml(OSCAL_XML.encode(), Path("cat.xml"))
    assert from_xml.source_format == "oscal-xml"
    assert [(p and p.ref, n.ref, n.kind, n.title, n.text, n.assessable, n.attributes)
            for p, n in from_xml.walk()] == \
        [(p and p.ref, n.ref, n.kind, n.title, n.text, n.assessable, n.attributes)
         for p, n in from_json.walk()]
    assert (from_xml.code, from_xml.title, from_xml.version_label, from_xml.effective_date) == (
        from_json.code, from_json.title, from_json.version_label, from_json.effective_date)


def test_oscal_unknown_parameter_is_shown_by_id_with_a_warning() -> None:
    raw = oscal_sample()
    raw["catalog"]["groups"][0]["controls"][1]["parts"] = [
        {"name": "statement", "prose": "Keep {{ insert: param, nope }} days."}]
    doc = parse_oscal_json(oscal_json(raw), Path("cat.json"))
    assert by_ref(doc)["AC-2"].text == "Keep [Assignment: nope] days."
    assert doc.warnings == ["cat.json: parameter 'nope' is used but not defined; shown as its id"]


def test_oscal_parameter_cycles_and_expansion_bombs_are_contained() -> None:
    def catalog(params: list[dict[str, Any]], prose: str) -> bytes:
        return oscal_json({"catalog": {
            "uuid": "u", "metadata": {"title": "T", "version": "1"}, "params": params,
            "controls": [{"id": "c-1", "title": "C", "parts": [
                {"name": "statement", "prose": prose}]}]}})

    cycle = [{"id": "a", "select": {"choice": ["{{ insert: param, b }}"]}},
             {"id": "b", "select": {"choice": ["{{ insert: param, a }}"]}}]
    doc = parse_oscal_json(catalog(cycle, "Use {{ insert: param, a }}."), Path("c.json"))
    assert doc.clauses[0].text == "Use [Selection: [Selection: [Assignment: a]]]."
    nested = [{"id": f"p{i}", "select": {"choice": [f"{{{{ insert: param, p{i + 1} }}}}"] * 50}}
              for i in range(6)] + [{"id": "p6", "label": "x" * 50}]
    doc = parse_oscal_json(catalog(nested, "{{ insert: param, p0 }}"), Path("n.json"))
    assert len(doc.clauses[0].text) == 2000  # one parameter's text is cut at 2,000 characters
    msg = fails(parse_oscal_json, catalog(nested, "{{ insert: param, p0 }} " * 20_000),
                Path("bomb.json"))
    assert msg == ("bomb.json: catalog.controls[0]: parameter insertions expand the catalog "
                   "past 20,000,000 characters; refused")

def test_oscal_real_800_53_low_catalog(corpus: Path) -> None:
    path = corpus / LOW_CATALOG
    data = read_bytes(path)
    raw = json.loads(data)
    controls = enhancements = withdrawn = 0

    def count(ctrl: dict[str, Any], nested: bool) -> None:
        nonlocal controls, enhancements, withdrawn
        if nested:
            enhancements += 1
        else:
            controls += 1
        withdrawn += any(p["name"] == "status" and p["value"] == "withdrawn"
                         for p in ctrl.get("props", []))
        for sub in ctrl.get("controls", []):
            count(sub, True)

    for group in raw["catalog"]["groups"]:
        for ctrl in group.get("controls", []):
            count(ctrl, False)

    started = time.perf_counter()
    doc = parse_oscal_json(data, path)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"parse took {elapsed:.3f} s"

    kinds = doc.count_by_kind()
    assert kinds == {"group": len(raw["catalog"]["groups"]), "control": controls,
                     "control-enhancement": enhancements}
    assert (controls, enhancements) == (131, 18)
    nodes = by_ref(doc)
    ac2 = nodes["AC-2"]
    assert ac2.title == "Account Management" and ac2.kind == "control"
    assert ac2.text.startswith("a. Define and document the types of accounts allowed")
    assert "\nd. Specify:\n  1. Authorized users of the system;\n" in ac2.text
    assert "c. Require [Assignment: prerequisites and criteria] for group and role" in ac2.text
    assert "\n  1. [Assignment: time period] when accounts are no longer required;" in ac2.text
    assert ac2.attributes["guidance"].startswith("Examples of system account types")
    assert "[Selection (one or more): organization-level; mission/business process-level; " \
           "system-level] access control policy that:" in nodes["AC-1"].text
    assert nodes["IA-2(1)"].kind == "control-enhancement"
    assert nodes["IA-2(1)"].title == "Multi-factor Authentication to Privileged Accounts"
    assert not any("{{" in n.text for _, n in doc.walk())
    assert sum(n.attributes.get("status") == "withdrawn" for _, n in doc.walk()) == withdrawn
    assert all(n.text for _, n in doc.walk() if n.kind != "group")
    assert doc.version_label == "5.1.1+u4" and doc.effective_date == "2024-02-13"
    assert doc.code == "NIST-SP-800-53-R5-LOW-IMPACT-BASELINE"
    assert doc.warnings == []


def test_oscal_json_malformed_gives_line_and_column() -> None:
    data = b'{\n  "catalog": {\n    "uuid": "x",\n    "metadata": {"title": "T",}\n  }\n}\n'
    msg = fails(parse_oscal_json, data, Path("broken.json"))
    assert msg.startswith("broken.json: invalid JSON at line 4, column ")


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda c: c["metadata"].pop("title"), "catalog.metadata.title: Field required"),
    (lambda c: c.pop("uuid"), "catalog.uuid: Field required"),
    (lambda c: c["groups"][0]["controls"][0].pop("title"),
     "catalog.groups[0].controls[0].title: Field required"),
    (lambda c: c["groups"][0]["controls"][0]["props"].append({"name": "label"}),
     "catalog.groups[0].controls[0].props[3].value: Field required"),
    (lambda c: c.update(groups="nope"), "catalog.groups: Input should be a valid list"),
    (lambda c: c.update(groups=[]), "the catalog has no groups or controls"),
])
def test_oscal_json_structure_errors_name_the_element(mutate: Any, expected: str) -> None:
    raw = oscal_sample()
    mutate(raw["catalog"])
    msg = fails(parse_oscal_json, oscal_json(raw), Path("cat.json"))
    assert msg.startswith("cat.json: ") and expected in msg


@pytest.mark.parametrize(("raw", "expected"), [
    ({"profile": {}}, "this is an OSCAL profile (resolve it to a catalog first), not a catalog"),
    ({"something": 1}, "the top-level object has no 'catalog' key (found: something)"),
    ([1, 2], "the document is a JSON list"),
    ({"catalog": []}, "catalog: Input should be a valid dictionary"),
])
def test_oscal_json_unknown_structure(raw: Any, expected: str) -> None:
    msg = fails(parse_oscal_json, json.dumps(raw).encode(), Path("x.json"))
    assert expected in msg


def test_oscal_duplicate_refs_name_both_elements() -> None:
    raw = oscal_sample()
    raw["catalog"]["groups"][0]["controls"][1]["props"][0]["value"] = "AC-1"
    msg = fails(parse_oscal_json, oscal_json(raw), Path("cat.json"))
    assert msg == ("cat.json: catalog.groups[0].controls[1]: ref 'AC-1' is already used by "
                   "catalog.groups[0].controls[0]")
    xml = OSCAL_XML.replace('<prop name="label" value="AC-2"/>', '<prop name="label" '
                            'value="AC-1(1)"/>')
    msg = fails(parse_oscal_xml, xml.encode(), Path("cat.xml"))
    assert msg == ("cat.xml: /catalog/group[1]/control[2]: ref 'AC-1(1)' is already used by "
                   "/catalog/group[1]/control[1]/control[1]")


def test_oscal_json_in_utf16_is_refused() -> None:
    msg = fails(parse_oscal_json, json.dumps(oscal_sample()).encode("utf-16"), Path("u.json"))
    assert "u.json" in msg and "UTF-16" in msg


def test_oscal_xml_malformed_gives_line_and_column() -> None:
    data = OSCAL_XML.replace("</title>\n    <control", "</titel>\n    <control", 1).encode()
    msg = fails(parse_oscal_xml, data, Path("broken.xml"))
    assert msg.startswith("broken.xml: invalid XML at line 10, column ")
    assert "mismatched tag" in msg


@pytest.mark.parametrize(("xml", "expected"), [
    ('<catalog uuid="u"><metadata><title>T</title></metadata></catalog>',
     "the root <catalog> is in namespace '(none)'"),
    ('<profile xmlns="http://csrc.nist.gov/ns/oscal/1.0"/>', "the root element is <profile>"),
    ('<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0"><metadata><title>T</title></metadata>'
     "</catalog>", "/catalog/@uuid: Input should be a valid string"),
    ('<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u"/>',
     "/catalog/metadata: Field required"),
])
def test_oscal_xml_unknown_structure(xml: str, expected: str) -> None:
    msg = fails(parse_oscal_xml, xml.encode(), Path("x.xml"))
    assert msg.startswith("x.xml: ") and expected in msg


def test_oscal_xml_unknown_encoding_is_refused() -> None:
    data = OSCAL_XML.replace('encoding="UTF-8"', 'encoding="UTF-9"').encode()
    msg = fails(parse_oscal_xml, data, Path("enc.xml"))
    assert msg == "enc.xml: line 1: the XML cannot be decoded (unknown encoding: UTF-9)"

def test_oscal_xml_missing_title_names_the_element_path() -> None:
    xml = OSCAL_XML.replace("<title>Automated Policy Checks</title>", "")
    msg = fails(parse_oscal_xml, xml.encode(), Path("cat.xml"))
    assert "/catalog/group[1]/control[1]/control[1]/title: Field required" in msg


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE catalog [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u">
  <metadata><title>&lol9;</title></metadata>
</catalog>
"""


def test_oscal_xml_entity_expansion_bomb_is_refused() -> None:
    msg = fails(parse_oscal_xml, BILLION_LAUGHS, Path("bomb.xml"))
    assert msg.startswith("bomb.xml: line 3: the file declares XML entities (<!ENTITY lol>)")


def test_oscal_xml_external_entity_is_refused() -> None:
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE catalog [\n'
            b'<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
            b'<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u">'
            b"<metadata><title>&xxe;</title></metadata></catalog>")
    msg = fails(parse_oscal_xml, data, Path("xxe.xml"))
    assert msg.startswith("xxe.xml: line 3: ") and "refused" in msg


# ================================================================= CISO Assistant

CISO_LIBRARY = """\
urn: urn:acme:risk:library:acme-ai-gov
locale: en
ref_id: ACME AI-Gov 1.0
name: ACME AI governance baseline
description: An example framework library in the CISO Assistant format.
copyright: ACME, for tests
version: 3
publication_date: 2025-07-09
provider: ACME
packager: tests
translations:
  fr:
    name: Référentiel ACME
objects:
  framework:
    urn: urn:acme:risk:framework:acme-ai-gov
    ref_id: ACME-AI-GOV
    name: ACME AI Governance
    description: Governance requirements for ML systems.
    implementation_groups_definition:
    - ref_id: S
      name: standard
    requirement_nodes:
    - urn: urn:acme:risk:req_node:acme-ai-gov:node1
      assessable: false
      depth: 1
      name: Preamble
    - urn: urn:acme:risk:req_node:acme-ai-gov:gv
      assessable: false
      depth: 1
      ref_id: GV
      name: GOVERN
      description: Governance is established.
    - urn: urn:acme:risk:req_node:acme-ai-gov:gv.1
      assessable: true
      depth: 2
      parent_urn: urn:acme:risk:req_node:acme-ai-gov:gv
      ref_id: GV.1
      name: Roles
      description: Roles for ML risk are assigned.
      annotation: 'Ex1: name an owner per model'
      implementation_groups:
      - S
      reference_controls:
      - urn:intuitem:risk:function:doc-pol:pol.main
      translations:
        fr:
          name: Rôles
    - urn: urn:acme:risk:req_node:acme-ai-gov:gv.1.a
      assessable: true
      depth: 3
      parent_urn: urn:acme:risk:req_node:acme-ai-gov:gv.1
      ref_id: 1.10
      description: Owners are recorded.
    - urn: urn:acme:risk:req_node:acme-ai-gov:recital-1
      assessable: false
      depth: 2
      parent_urn: urn:acme:risk:req_node:acme-ai-gov:node1
      ref_id: Recital 1
      description: Context only.
"""


def ciso(text: str, name: str = "lib.yaml", **kwargs: Any) -> RegulationDoc:
    return parse_ciso_library(text.encode(), Path(name), **kwargs)


def test_ciso_library_builds_the_tree() -> None:
    doc = ciso(CISO_LIBRARY)
    assert tree(doc) == [(None, "node1", "group"), ("node1", "Recital 1", "requirement"),
                         (None, "GV", "group"), ("GV", "GV.1", "requirement"),
                         ("GV.1", "1.1", "requirement")]
    nodes = by_ref(doc)
    assert nodes["node1"].title == "Preamble" and nodes["node1"].text == ""
    assert nodes["GV.1"].title == "Roles"
    assert nodes["GV.1"].text == "Roles for ML risk are assigned."
    assert nodes["GV.1"].assessable is True and nodes["Recital 1"].assessable is False
    assert nodes["GV.1"].attributes == {"urn": "urn:acme:risk:req_node:acme-ai-gov:gv.1",
                                        "annotation": "Ex1: name an owner per model",
                                        "implementation_groups": "S"}
    assert (doc.code, doc.title, doc.version_label, doc.effective_date) == (
        "ACME-AI-GOV-1-0", "ACME AI Governance", "3", "2025-07-09")
    assert doc.identifiers == {"urn": "urn:acme:risk:library:acme-ai-gov",
                               "framework-urn": "urn:acme:risk:framework:acme-ai-gov"}
    assert doc.attribution == "ACME, for tests; provider: ACME"
    assert doc.source_format == "ciso-assistant" and doc.warnings == []


def test_ciso_library_code_override_and_real_style_ref_ids() -> None:
    assert ciso(CISO_LIBRARY, code="acme").code == "ACME"
    assert ciso(CISO_LIBRARY.replace("ref_id: ACME AI-Gov 1.0", "ref_id: AI Act")).code \
        == "AI-ACT"
    assert ciso(CISO_LIBRARY.replace("ref_id: ACME AI-Gov 1.0", "ref_id: NIST-CSF-2.0")).code \
        == "NIST-CSF-2-0"


def test_ciso_library_children_may_come_before_parents() -> None:
    head, nodes = CISO_LIBRARY.split("    requirement_nodes:\n")
    items = ["    - " + chunk for chunk in re.split(r"(?m)^    - (?=urn:)", nodes)[1:]]
    doc = ciso(head + "    requirement_nodes:\n" + "".join(reversed(items)))
    assert {(p, r) for p, r, _ in tree(doc)} == {(p, r) for p, r, _ in tree(ciso(CISO_LIBRARY))}


def test_ciso_library_headings_without_ref_id_get_unique_refs() -> None:
    """Real libraries number unnamed headings per section (``…:1:1``, ``…:2:1``, next to a node
    with ref_id ``2``): the ref is the urn past the shared prefix, not its last segment."""
    head = CISO_LIBRARY.split("    requirement_nodes:\n")[0]
    nodes = "".join(
        f"    - urn: urn:acme:risk:req_node:acme-ai-gov:{urn}\n      assessable: false\n"
        + (f"      parent_urn: urn:acme:risk:req_node:acme-ai-gov:{parent}\n" if parent else "")
        + (f"      ref_id: '{ref}'\n" if ref else "") + f"      name: {name}\n"
        for urn, parent, ref, name in [("1", None, "1", "Data quality"),
                                       ("1:1", "1", None, "A. Principles"),
                                       ("2", None, "2", "Rights"),
                                       ("2:1", "2", None, "A. Information"),
                                       ("2.1", "2:1", "2.1", "Art. 5")])
    doc = ciso(head + "    requirement_nodes:\n" + nodes)
    assert tree(doc) == [(None, "1", "group"), ("1", "1:1", "requirement"),
                         (None, "2", "group"), ("2", "2:1", "group"),
                         ("2:1", "2.1", "requirement")]

def test_ciso_library_depth_mismatch_is_a_warning() -> None:
    doc = ciso(CISO_LIBRARY.replace("      depth: 3\n", "      depth: 5\n"))
    assert doc.warnings == ["lib.yaml: node '1.1' says depth 5 but sits at depth 3 under its "
                            "parent_urn; the parent_urn wins"]


def test_ciso_library_malformed_yaml_gives_line_and_column() -> None:
    msg = fails(ciso, CISO_LIBRARY.replace("      name: Roles\n", "      name: [Roles\n"))
    assert msg.startswith("lib.yaml: invalid YAML at line ") and ", column " in msg


def test_ciso_library_alias_bomb_is_refused() -> None:
    bomb = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n")
    msg = fails(ciso, bomb, "bomb.yaml")
    assert msg.startswith("bomb.yaml: line 2, column ") and "aliases" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("- just\n- a list\n", "line 1: the document is a YAML list"),
    ("urn: x\nobjects:\n  requirement_mapping_sets: []\n",
     "line 3: there is no objects.framework, so this is not a CISO Assistant framework library "
     "(its objects are: requirement_mapping_sets)"),
    ("urn: x\nname: no objects\n", "line 1: there is no objects.framework"),
])
def test_ciso_library_unknown_structure(text: str, expected: str) -> None:
    assert expected in fails(ciso, text)


def test_ciso_library_missing_field_gives_its_line() -> None:
    msg = fails(ciso, CISO_LIBRARY.replace(
        "    - urn: urn:acme:risk:req_node:acme-ai-gov:gv.1\n", "    - id: gv.1\n"))
    assert msg == ("lib.yaml: line 34: objects.framework.requirement_nodes[2].urn: "
                   "Field required")
    msg = fails(ciso, CISO_LIBRARY.replace("version: 3\n", ""))
    assert msg == "lib.yaml: line 1: version: Field required"


def test_ciso_library_missing_parent() -> None:
    msg = fails(ciso, CISO_LIBRARY.replace("parent_urn: urn:acme:risk:req_node:acme-ai-gov:gv.1",
                                           "parent_urn: urn:acme:risk:req_node:acme-ai-gov:zz"))
    assert msg == ("lib.yaml: line 52: parent_urn 'urn:acme:risk:req_node:acme-ai-gov:zz' is not "
                   "the urn of any node in this file")


def test_ciso_library_duplicate_ref_and_urn() -> None:
    msg = fails(ciso, CISO_LIBRARY.replace("ref_id: Recital 1", "ref_id: GV.1"))
    assert msg == "lib.yaml: line 59: ref 'GV.1' is already used by the node on line 34"
    msg = fails(ciso, CISO_LIBRARY.replace("acme-ai-gov:recital-1", "acme-ai-gov:gv"))
    assert "line 55: urn 'urn:acme:risk:req_node:acme-ai-gov:gv' is already used" in msg


def test_ciso_library_cycle() -> None:
    text = CISO_LIBRARY.replace(
        "      depth: 1\n      ref_id: GV\n",
        "      depth: 1\n      parent_urn: urn:acme:risk:req_node:acme-ai-gov:gv.1\n"
        "      ref_id: GV\n")
    msg = fails(ciso, text)
    assert msg.startswith("lib.yaml: line ") and "parent_urn makes a cycle" in msg
    assert "GV → GV.1 → GV" in msg or "GV.1 → GV → GV.1" in msg


# ================================================================= all importers

def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 4096 + b"}")
    msg = fails(read_bytes, big, limit=1024)
    assert str(big) in msg and "too large to import" in msg


def test_absurdly_deep_trees_are_refused_clearly() -> None:
    """Trees are walked recursively downstream, so every importer caps the depth at 50."""
    csv_text = "ref,parent_ref\n" + "".join(f"r{i},{f'r{i - 1}' if i else ''}\n"
                                            for i in range(60))
    assert fails(csv_doc, csv_text, "deep.csv") == (
        "deep.csv: line 52: clause 'r50' is nested more than 50 levels deep")
    yaml_text = CISO_LIBRARY.split("    requirement_nodes:\n")[0] + "    requirement_nodes:\n" + \
        "".join(f"    - urn: n{i}\n" + (f"      parent_urn: n{i - 1}\n" if i else "")
                for i in range(60))
    assert fails(ciso, yaml_text, "deep.yaml").startswith(
        "deep.yaml: line 124: node 'n50' is nested more than 50 levels deep")
    for depth in (60, 3000):
        control: dict[str, Any] = {"id": "c", "title": "c"}
        body = json.dumps(control)
        for i in range(depth):
            body = f'{{"id": "c{i}", "title": "t", "controls": [{body}]}}'
        data = ('{"catalog": {"uuid": "u", "metadata": {"title": "T", "version": "1"}, '
                f'"controls": [{body}]}}}}').encode()
        msg = fails(parse_oscal_json, data, Path("deep.json"))
        assert "nested more than 50 levels deep" in msg or "nested too deeply" in msg
        xml = ('<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u"><metadata><title>T'
               "</title></metadata>" + "<group><title>g</title>" * depth
               + "</group>" * depth + "</catalog>")
        msg = fails(parse_oscal_xml, xml.encode(), Path("deep.xml"))
        assert msg.startswith("deep.xml: ")
        assert "nested more than 50 levels deep" in msg or "nested too deeply" in msg

def _samples() -> list[tuple[str, Any, bytes]]:
    return [
        ("csv", lambda d, p: parse_csv(d, p, code="EX", title="T", version="1"),
         b"ref,title,parent_ref\nA,Alpha,\n\"A.1\",\"Child, quoted\",A\n"),
        ("json", parse_oscal_json, oscal_json(oscal_sample())),
        ("xml", parse_oscal_xml, OSCAL_XML.encode()),
        ("yaml", parse_ciso_library, CISO_LIBRARY.encode()),
    ]


@pytest.mark.parametrize(("fmt", "parse", "data"), _samples(), ids=lambda v: str(v)[:4])
def test_truncated_or_corrupted_files_fail_only_with_import_failed(
        fmt: str, parse: Any, data: bytes) -> None:
    """Whatever is left of a file, an importer returns a doc or raises ImportFailed."""
    variants = [data[:n] for n in range(0, len(data), max(1, len(data) // 60))]
    variants += [data.replace(b"\n", b"\n\x00", 1), data.replace(b"a", b"\xff", 3),
                 data.replace(b'"', b"", 5), data.replace(b"<", b"", 3), data.replace(b":", b"")]
    path = Path(f"sample.{fmt}")
    for variant in variants:
        try:
            parse(variant, path)
        except ImportFailed as exc:
            assert str(exc).startswith(str(path)), str(exc)

