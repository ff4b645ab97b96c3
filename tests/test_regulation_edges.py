"""Edges of the regulation library found in review: versions, refs, diffs and odd files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.domain.refs import normalise_ref
from app.errors import ImportFailed, InvalidInput
from app.services.imports import commit_import, plan_import, read_document
from app.services.regulations import clauses, find_clause, get_regulation
from app.store import Store
from tests.conftest import make_store

FORMEX = "L_2016119EN.01000101.xml"
XHTML = "AI-Act_EUR-Lex_L_202401689EN.000101.html"


@pytest.fixture
def lib(library_db: Path, tmp_path: Path) -> Store:
    path = tmp_path / "ws.db"
    shutil.copyfile(library_db, path)
    store = make_store(path)
    yield store
    store.close()



@pytest.mark.parametrize(("typed", "canonical"), [
    ("164.312(a)(2)(iv)", "§ 164.312(a)(2)(iv)"),
    ("45 CFR § 164.312(a)", "§ 164.312(a)"),
    ("Sec. 164.308", "§ 164.308"),
    ("chapter iv", "Chapter IV"),
    ("Chapter 4", "Chapter IV"),
    ("annex 4(2)(b)", "Annex IV(2)(b)"),
    ("chapter iv section 2", "Chapter IV Section 2"),
    ("art 43(1) subpara 2(a)", "Art. 43(1) subpara 2(a)"),
    ("Part 164 Subpart C", "Part 164 Subpart C"),
])
def test_refs_as_people_type_them(typed: str, canonical: str) -> None:
    assert normalise_ref(typed) == canonical


def test_clause_lookup_with_natural_spellings(lib: Store) -> None:
    for typed, ref in (("HIPAA 164.312(a)(2)(iv)", "§ 164.312(a)(2)(iv)"),
                       ("gdpr chapter iv", "Chapter IV"),
                       ("EU-AI-ACT annex 4(2)(b)", "Annex IV(2)(b)")):
        _reg, clause = find_clause(lib, typed)
        assert clause.ref == ref


def test_ref_prefix_returns_everything_inside(lib: Store) -> None:
    gdpr = get_regulation(lib, "GDPR")
    assert gdpr.id is not None
    inside = [c.ref for c in clauses(lib, gdpr.id, ref_prefix="Chapter IV")]
    assert inside[0] == "Chapter IV" and "Art. 32(1)(b)" in inside and "Art. 24" in inside
    assert "Art. 44" not in inside  # Chapter V
    hipaa = get_regulation(lib, "HIPAA")
    assert hipaa.id is not None
    sub_c = [c.ref for c in clauses(lib, hipaa.id, ref_prefix="Part 164 Subpart C")]
    assert "§ 164.312(a)(2)(iv)" in sub_c and "§ 164.404" not in sub_c


def test_a_csv_needs_its_version(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text("ref,title\nP-1,Scope\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="give --code and --version"):
        read_document(src, code="POL")


def test_duplicate_articles_are_refused_before_planning(corpus: Path, tmp_path: Path) -> None:
    text = (corpus / FORMEX).read_text(encoding="utf-8")
    start = text.index('<ARTICLE IDENTIFIER="032">')
    end = text.index("</ARTICLE>", start) + len("</ARTICLE>")
    dup = tmp_path / "dup.xml"
    dup.write_text(text[:end] + text[start:end] + text[end:], encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"'Art\. 32' appears more than once"):
        read_document(dup)


def test_new_version_over_a_textless_one_flags_uncompared(lib: Store, corpus: Path,
                                                          tmp_path: Path) -> None:
    """The bundled GDPR has no text yet: a new version's changes cannot be seen, so the
    mappings carried over are flagged rather than silently trusted."""
    doc = read_document(corpus / FORMEX, version="2099-01-01")
    plan = plan_import(lib, doc)
    assert plan.mode == "version" and plan.diff is not None
    assert len(plan.diff.uncompared) > 900
    assert "could not be compared" in plan.diff.summary
    commit_import(lib, plan)
    _reg, art32 = find_clause(lib, "GDPR Art. 32(1)(b)")
    from app.services.regulations import clause_mappings

    assert art32.id is not None
    maps = clause_mappings(lib, art32.id)
    assert maps and all("could not be compared" in m.flag for m in maps)


def test_new_version_keeps_summaries_attributes_and_assessable(lib: Store, corpus: Path) -> None:
    commit_import(lib, plan_import(lib, read_document(corpus / FORMEX, version="2099-01-01")))
    _reg, art32 = find_clause(lib, "GDPR@2099-01-01 Art. 32")
    assert art32.summary  # ours, carried over by ref
    _reg, definition = find_clause(lib, "GDPR@2099-01-01 Art. 4(1)")
    assert not definition.assessable


def test_diff_sees_attribute_changes(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    for version, requirement in (("1", "addressable"), ("2", "required")):
        f = tmp_path / f"v{version}.yaml"
        f.write_text(
            "schema: crosswalk-catalog/1\nregulation: {code: HR, title: Rules, version_label: "
            f"'{version}', version_date: 202{version}-01-01}}\nclauses:\n- {{ref: R-1, kind: "
            f"rule, text: Keep logs., attributes: {{requirement: {requirement}}}}}\n",
            encoding="utf-8")
        plan = plan_import(store, read_document(f))
        commit_import(store, plan)
    assert plan.diff is not None and [c.what for c in plan.diff.changed] == ["attributes"]


def test_a_stale_plan_is_not_committed(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    f = tmp_path / "p.yaml"
    f.write_text("schema: crosswalk-catalog/1\nregulation: {code: POL, title: P, "
                 "version_label: '1'}\nclauses:\n- {ref: P-1, kind: rule}\n", encoding="utf-8")
    plan = plan_import(store, read_document(f))
    commit_import(store, plan_import(store, read_document(f)))  # someone else got there first
    with pytest.raises(InvalidInput, match="the workspace changed"):
        commit_import(store, plan)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("deep.json", b'{"schema": "crosswalk-catalog/1", "x": ' + b"[" * 5000 + b"]" * 5000
     + b"}", "nested too deeply"),
    ("deep.html", b"<html><body><div id='art_1'>" + b"<div>" * 300 + b"</div>" * 300
     + b"</div></body></html>", "nested more than 200 deep"),
    ("broken.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "damaged or truncated"),
    ("playbook.json", json.dumps({"type": "playbook", "spec_version": "cacao-2.0"}).encode(),
     "is not a Crosswalk catalog"),
])
def test_odd_files_get_a_clear_error(tmp_path: Path, name: str, data: bytes,
                                     message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImportFailed, match=message):
        read_document(path)


def test_a_truncated_eurlex_page_warns(corpus: Path, tmp_path: Path) -> None:
    data = (corpus / XHTML).read_bytes()
    cut = tmp_path / "cut.html"
    cut.write_bytes(data[: len(data) // 3])
    doc = read_document(cut)
    assert any("cut short" in w for w in doc.warnings)


def test_clause_json_shows_enclosing_mappings(lib: Store, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--workspace", str(lib.path), "clause", "EU-AI-ACT Annex IV(2)(b)", "--json")
    assert r.code == 0, r.err
    shown = json.loads(r.out)
    assert shown["mappings"] == []
    assert {m["ref"] for m in shown["enclosing_mappings"]} == {"Annex IV"}
