"""Mappings as records: map, edit, review, unmap and list them through the real CLI on a copy
of a workspace with the bundled library; every write audited, every bad input refused with
one sentence and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult, assert_error, query, unchanged

REF = "GDPR Art. 33(3)(d)"  # no bundled mapping goes from it to GOV-2


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    r: CliResult = cli("-w", str(ws), *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def events(ws: Path, action: str) -> list[tuple[str, dict[str, Any]]]:
    return [(entity_id, json.loads(change)) for entity_id, change in query(
        ws, "SELECT entity_id, change FROM audit_event WHERE action = ? ORDER BY seq",
        (action,))]


def test_a_new_mapping_is_a_draft_with_its_author_and_an_audit_event(cli, lib_ws: Path) -> None:
    made = run_json(cli, lib_ws, "map", REF, "gov-2", "-r", "intersects-with", "--rationale",
                    "The incident lead role owns the description of mitigating measures.",
                    "--strength", "6", "--coverage", "full", "--matching", "functional")
    assert {k: made[k] for k in ("full_ref", "control_id", "relationship", "strength",
                                 "coverage", "matching", "review_status")} == {
        "full_ref": REF, "control_id": "GOV-2", "relationship": "intersects-with",
        "strength": 6, "coverage": "full", "matching": "functional", "review_status": "draft"}
    assert made["author"] == "tester"  # the actor ($CROSSWALK_ACTOR in the tests)
    [(entity_id, change)] = events(lib_ws, "mapping.create")[-1:]
    assert entity_id == str(made["id"]) and change["ref"] == REF and change["strength"] == 6
    shown = run_json(cli, lib_ws, "clause", REF)
    assert [m["control_id"] for m in shown["mappings"]] == ["GOV-2"]
    assert run_json(cli, lib_ws, "verify")["intact"] is True


def test_defaults_are_semantic_strength_5_partial(cli, lib_ws: Path) -> None:
    made = run_json(cli, lib_ws, "map", REF, "GOV-2", "-r", "subset-of", "--rationale", "r")
    assert (made["matching"], made["strength"], made["coverage"]) == ("semantic", 5, "partial")


BAD: list[tuple[list[str], list[str]]] = [
    (["map", "GDPR Art. 99(9)", "SEC-1", "-r", "equal-to", "--rationale", "r"],
     ["GDPR 2016-04-27 has no clause 'Art. 99(9)'"]),
    (["map", "XYZ Art. 1", "SEC-1", "-r", "equal-to", "--rationale", "r"], ["XYZ"]),
    (["map", REF, "SEC-9", "-r", "equal-to", "--rationale", "r"], ["unknown control 'SEC-9'"]),
    (["map", REF, "SEC-1", "-r", "similar-to", "--rationale", "r"],
     ["relationship 'similar-to' is not one of: equivalent-to, equal-to"]),
    (["map", REF, "SEC-1", "-r", "equal-to"], ["a new mapping needs --rationale"]),
    (["map", REF, "SEC-1", "-r", "equal-to", "--rationale", "   "], ["rationale is empty"]),
    (["map", REF, "SEC-1", "-r", "equal-to", "--rationale", "r", "--strength", "11"],
     ["strength 11 is out of range"]),
    (["map", REF, "SEC-1", "-r", "equal-to", "--rationale", "r", "--strength", "high"],
     ["strength 'high' is not a whole number"]),
    (["map", REF, "SEC-1", "-r", "equal-to", "--rationale", "r", "--coverage", "most"],
     ["coverage 'most' is not one of: full, partial"]),
    (["map", REF, "SEC-1", "-r", "no-relationship", "--rationale", "r", "--coverage", "full"],
     ["no-relationship mapping covers nothing"]),
    (["map", REF, "SEC-1", "-r", "equal-to", "--rationale", "x" * 4001],
     ["rationale is too long"]),
    (["map", "GDPR Art. 32(1)(b)", "SEC-1", "-r", "equal-to", "--rationale", "r"],
     ["GDPR Art. 32(1)(b) is already mapped to SEC-1"]),  # a bundled mapping
    (["map", REF, "GOV-2", "--edit", "--coverage", "full"], ["is not mapped to GOV-2"]),
    (["map", "GDPR Art. 32(1)(b)", "SEC-1", "--edit"], ["nothing to change"]),
    (["unmap", REF, "GOV-2"], ["GDPR Art. 33(3)(d) is not mapped to GOV-2"]),
    (["review", "GDPR Art. 32(1)(b)", "SEC-1", "--status", "approved"],
     ["only a reviewed mapping can be approved"]),
    (["review", "GDPR Art. 32(1)(b)", "SEC-1", "--status", "draft"], ["already draft"]),
    (["review", "GDPR Art. 32(1)(b)", "SEC-1", "--status", "done"], ["'done'"]),
    (["mappings", "--control", "OPS-7"], ["unknown control 'OPS-7'"]),
]


@pytest.mark.parametrize(("args", "fragments"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_one_sentence_and_writes_nothing(cli, lib_ws: Path, args: list[str],
                                                       fragments: list[str]) -> None:
    with unchanged(lib_ws):
        r = cli("-w", str(lib_ws), *args)
    assert_error(r, *fragments)


def test_the_review_trail_and_edits_that_reopen_it(cli, lib_ws: Path) -> None:
    ref, control = "GDPR Art. 32(1)(b)", "SEC-1"
    reviewed = run_json(cli, lib_ws, "review", ref, control, "--status", "reviewed")
    assert reviewed["review_status"] == "reviewed" and reviewed["reviewed_by"]
    assert reviewed["change"]["review_status"] == {"from": "draft", "to": "reviewed"}
    approved = run_json(cli, lib_ws, "review", ref, control, "--status", "approved")
    assert approved["review_status"] == "approved"
    assert approved["reviewed_at"] >= reviewed["reviewed_at"]
    # editing only the wording of the rationale is still a change of substance
    edited = run_json(cli, lib_ws, "map", ref, control, "--edit", "--rationale",
                      "TLS and disk encryption keep personal data confidential.")
    assert edited["review_status"] == "draft" and edited["reviewed_by"] is None
    assert edited["change"]["review_status"] == {"from": "approved", "to": "draft"}
    same = run_json(cli, lib_ws, "map", ref, control, "--edit", "--rationale",
                    "TLS and disk encryption keep personal data confidential.")
    assert same["change"] == {}  # no change, no event
    assert [c["review_status"]["to"] for _, c in events(lib_ws, "mapping.review")] == [
        "reviewed", "approved"]
    assert len(events(lib_ws, "mapping.update")) == 1


def test_reviewing_clears_the_flag_a_changed_clause_left(cli, lib_ws: Path) -> None:
    """A new version flags the mappings of clauses whose text changed (`insert_mappings` with
    flags, as the version import does); reviewing the mapping clears its flag."""
    from app.importers.mapping_file import MappingSpec
    from app.services.regulations import get_regulation, insert_mappings
    from tests.conftest import make_store

    store = make_store(lib_ws)
    try:
        gdpr = get_regulation(store, "GDPR")
        with store.write() as tx:
            insert_mappings(tx, gdpr.id, [MappingSpec(  # type: ignore[arg-type]
                "Art. 33(3)(d)", "GOV-2", "intersects-with", "semantic", 5, "partial", "r")],
                flags={"Art. 33(3)(d)": "clause changed in version 2016-04-27"})
    finally:
        store.close()
    [flagged] = [m for m in run_json(cli, lib_ws, "mappings", "GDPR", "--control", "GOV-2")
                 if m["full_ref"] == REF]
    assert flagged["flag"].startswith("clause changed")
    assert "draft [!]" in cli("-w", str(lib_ws), "mappings", "GDPR", "--control",
                              "GOV-2").out
    done = run_json(cli, lib_ws, "review", REF, "GOV-2", "--status", "reviewed")
    assert done["flag"] == "" and done["change"]["flag"]["to"] == ""


def test_unmap_deletes_and_the_log_keeps_what_it_said(cli, lib_ws: Path) -> None:
    ref, control = "GDPR Art. 32(1)(b)", "SEC-1"
    before = run_json(cli, lib_ws, "clause", ref)["mappings"]
    r = cli("-w", str(lib_ws), "unmap", ref, control)
    assert r.code == 0 and r.out.strip() == f"unmapped {ref} → {control}"
    after = run_json(cli, lib_ws, "clause", ref)["mappings"]
    assert [m["control_id"] for m in after] == [m["control_id"] for m in before
                                                 if m["control_id"] != control]
    [(_, change)] = events(lib_ws, "mapping.delete")
    gone = next(m for m in before if m["control_id"] == control)
    assert (change["ref"], change["relationship"], change["rationale"]) == (
        ref, gone["relationship"], gone["rationale"])
    assert run_json(cli, lib_ws, "verify")["intact"] is True


def test_mappings_list_filters_by_regulation_control_and_status(cli, lib_ws: Path) -> None:
    every = run_json(cli, lib_ws, "mappings")
    gdpr = run_json(cli, lib_ws, "mappings", "GDPR")
    sec1 = run_json(cli, lib_ws, "mappings", "GDPR", "--control", "sec-1")
    assert {m["code"] for m in every} == {"GDPR", "EU-AI-ACT", "HIPAA"}
    assert len(gdpr) == sum(m["code"] == "GDPR" for m in every)
    assert sec1 and {m["control_id"] for m in sec1} == {"SEC-1"}
    assert [m["full_ref"] for m in sec1][:2] == ["GDPR Art. 5(1)(f)", "GDPR Art. 9(1)"]
    run_json(cli, lib_ws, "review", "GDPR Art. 32(1)(b)", "SEC-1", "--status", "reviewed")
    assert [m["full_ref"] for m in run_json(cli, lib_ws, "mappings", "--status",
                                            "reviewed")] == ["GDPR Art. 32(1)(b)"]
    text = cli("-w", str(lib_ws), "mappings", "GDPR", "--control", "SEC-1").out.splitlines()
    assert text[0].split() == ["CLAUSE", "CONTROL", "RELATIONSHIP", "STRENGTH", "COVERAGE",
                               "REVIEW"]
    assert len(text) == len(sec1) + 1


def test_the_demo_has_mappings_in_every_review_state(cli, tmp_path: Path) -> None:
    ws = tmp_path / "demo.db"
    r = cli("-w", str(ws), "demo", "--no-open")
    assert r.code == 0, r.err
    maps = run_json(cli, ws, "mappings")
    assert {m["review_status"] for m in maps} == {"draft", "reviewed", "approved"}
    mine = [m for m in maps if m["author"] != "crosswalk (default mapping)"]
    assert [m["full_ref"] for m in mine] == ["GDPR Art. 35(7)(b)", "GDPR Art. 35(7)(b)"]
    reopened = next(m for m in maps if m["full_ref"] == "GDPR Art. 22(1)"
                    and m["control_id"] == "GOV-2")
    assert (reopened["review_status"], reopened["strength"]) == ("draft", 8)
    assert run_json(cli, ws, "verify")["intact"] is True


def test_a_mapping_where_the_analyst_will_not_see_it_comes_with_a_note(cli, lib_ws: Path) -> None:
    r = cli("-w", str(lib_ws), "map", "GDPR Recital 71", "GOV-3", "-r", "intersects-with",
            "--rationale", "Explains automated decision-making.")
    assert r.code == 0 and r.out.startswith("mapped GDPR Recital 71 → GOV-3")
    assert r.err == ("note: GDPR Recital 71 is not assessable (recital): the mapping does not "
                     "count towards coverage\n")


def test_an_imported_mapping_is_checked_like_a_typed_one(cli, lib_ws: Path,
                                                         tmp_path: Path) -> None:
    """A mapping collection whose rationale is 5,000 characters (or carries a bidi override)
    is refused with the map named, and nothing is written."""
    out = tmp_path / "gdpr.json"
    assert cli("-w", str(lib_ws), "export", "oscal", "--what", "mappings", "GDPR", "-o",
               str(out)).code == 0
    doc = json.loads(out.read_text())
    maps = doc["mapping-collection"]["mappings"][0]["maps"]
    assert cli("-w", str(lib_ws), "unmap", "GDPR Art. 5(1)(a)", "GOV-3").code == 0
    for remarks, fragment in (("x" * 5000, "rationale is too long"),
                              ("fine \u202e reversed", "rationale contains a control")):
        target = next(m for m in maps if m["sources"][0]["id-ref"] == "art_5.1.a"
                      and m["targets"][0]["id-ref"] == "gov-3")
        target["remarks"] = remarks
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(doc))
        with unchanged(lib_ws):
            r = cli("-w", str(lib_ws), "import", str(bad))
        assert_error(r, "Art. 5(1)(a) to GOV-3", fragment)
