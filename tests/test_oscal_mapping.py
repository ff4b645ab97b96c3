"""OSCAL exchange (issue 5, item 4), end to end through the real CLI on real workspaces:

- `export oscal --what controls|catalog|mappings` writes documents that validate against the
  official NIST OSCAL 1.2.1 JSON schemas in ../shared/schemas/oscal (skipped when absent),
  plus our own check of the relationship values, and re-exports are byte-identical;
- a GDPR mapping collection exported from the library workspace imports into a workspace that
  has GDPR but no mappings and gives back the same mappings (as drafts);
- deviant real-world files (id_ref/idRef keys, ids in other cases and spellings, relationship
  synonyms, YAML) import with a warning listing each normalisation; dangling refs, unknown
  relationships, conflicting duplicates, the wrong root, malformed JSON and oversized files
  fail with one `error:` line and leave the workspace byte-identical.

Schema validation: the OSCAL schemas use ``\\p{L}``/``\\p{N}`` regex classes that Python's `re`
cannot compile, and the `regex` package is not a dependency, so `_schema` **substitutes the
patterns** (``\\p{L}`` → ``[^\\W\\d_]``, ``\\p{N}`` → ``\\d``: Unicode letters and digits) and
validates with jsonschema's Draft7Validator (the schemas' draft); ``format`` is not asserted,
the schemas' own patterns already constrain dates, UUIDs and tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import pytest

from app.domain.controls import CONTROL_IDS
from app.exporters.oscal_mappings import check_relationships
from tests.conftest import ROOT, make_store
from tests.helpers import assert_error, query, unchanged

SCHEMAS = ROOT.parent / "shared" / "schemas" / "oscal"
REPO = ROOT
MAPPING_FIELDS = ("c.ref", "m.control_id", "m.relationship", "m.matching", "m.strength",
                  "m.coverage", "m.rationale", "m.author")


class CliResult(Protocol):
    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


# ------------------------------------------------------------------------------ helpers
@cache
def _schema(name: str) -> Any:
    import jsonschema

    text = (SCHEMAS / name).read_text(encoding="utf-8")
    text = text.replace("\\\\p{L}", "[^\\\\W\\\\d_]").replace("\\\\p{N}", "\\\\d")
    schema = json.loads(text)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(doc: Any, name: str) -> list[str]:
    if not SCHEMAS.is_dir():
        pytest.skip(f"official OSCAL schemas not found at {SCHEMAS} (../shared/schemas)")
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in _schema(name).iter_errors(doc)]


def run_json(cli: Cli, ws: Path, *args: str) -> Any:
    r = cli("--workspace", str(ws), *args)
    assert r.code == 0, (args, r.err)
    return json.loads(r.out)


def export(cli: Cli, ws: Path, out: Path, what: str, *code: str) -> dict[str, Any]:
    r = cli("--workspace", str(ws), "export", "oscal", "--what", what, *code, "-o", str(out))
    assert r.code == 0, r.err
    assert r.out == ""
    return json.loads(out.read_text(encoding="utf-8"))


def mapping_rows(ws: Path, code: str) -> set[tuple[Any, ...]]:
    return set(query(ws, f"SELECT {', '.join(MAPPING_FIELDS)} FROM mapping m "
                         "JOIN clause c ON c.id = m.clause_id JOIN regulation r ON "
                         "r.id = c.regulation_id WHERE r.code = ?", (code,)))


def mapping_count(ws: Path) -> int:
    return int(query(ws, "SELECT count(*) FROM mapping")[0][0])


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def collection(maps: list[dict[str, Any]], title: str = "GDPR to MLOps controls",
               **extra: Any) -> dict[str, Any]:
    """A mapping collection as another tool might write it (minimal, valid-looking)."""
    return {"mapping-collection": {
        "uuid": "0d7e5a52-8a7c-4d57-9a51-6c2f0e3b7a11",
        "metadata": {"title": title, "last-modified": "2026-01-01T00:00:00Z",
                     "version": "1", "oscal-version": "1.2.1"},
        "provenance": {"method": "human", "matching-rationale": "semantic",
                       "status": "draft", "mapping-description": "test"},
        "mappings": [{"uuid": "1d7e5a52-8a7c-4d57-9a51-6c2f0e3b7a11",
                      "source-resource": {"type": "catalog", "href": "gdpr.json"},
                      "target-resource": {"type": "catalog", "href": "mlops.json"},
                      "maps": maps}],
        **extra,
    }}


def a_map(source: str, target: str, relationship: str = "intersects-with",
          key: str = "id-ref", remarks: str | None = "Because the control does this.") -> dict:
    m: dict[str, Any] = {"uuid": "2d7e5a52-8a7c-4d57-9a51-6c2f0e3b7a11",
                         "relationship": relationship,
                         "sources": [{"type": "control", key: source}],
                         "targets": [{"type": "control", key: target}]}
    if remarks:
        m["remarks"] = remarks
    return m


@pytest.fixture
def gdpr_ws(cli: Cli, tmp_path: Path) -> Path:
    """A workspace with the bundled GDPR catalogue (imported from its file) and no mapping."""
    path = tmp_path / "gdpr.db"
    make_store(path).close()
    r = cli("--workspace", str(path), "import", str(REPO / "regulations" / "gdpr.yaml"))
    assert r.code == 0, r.err
    assert mapping_count(path) == 0
    return path


# ------------------------------------------------------------------------------ exports
def test_exports_validate_against_the_official_schemas(cli: Cli, lib_ws: Path,
                                                        tmp_path: Path) -> None:
    controls = export(cli, lib_ws, tmp_path / "controls.json", "controls")
    assert schema_errors(controls, "oscal_catalog_schema.json") == []
    groups = controls["catalog"]["groups"]
    assert [g["id"] for g in groups] == ["gov", "sec", "ops"]
    ids = [c["id"] for g in groups for c in g["controls"]]
    assert ids == [c.lower() for c in CONTROL_IDS]
    gov1 = groups[0]["controls"][0]
    assert {"name": "label", "value": "GOV-1"} in gov1["props"]
    assert [p["name"] for p in gov1["parts"]] == ["statement", "guidance"]
    assert controls["catalog"]["metadata"]["oscal-version"] == "1.2.1"

    for code in ("GDPR", "EU-AI-ACT", "HIPAA"):
        catalog = export(cli, lib_ws, tmp_path / f"{code}.catalog.json", "catalog", code)
        assert schema_errors(catalog, "oscal_catalog_schema.json") == [], code
        text = json.dumps(catalog)
        assert '"name": "statement"' not in text  # the library holds no legal text
        mappings = export(cli, lib_ws, tmp_path / f"{code}.mapping.json", "mappings", code)
        assert schema_errors(mappings, "oscal_mapping_schema.json") == [], code
        assert check_relationships(mappings) == []
        body = mappings["mapping-collection"]
        maps = body["mappings"][0]["maps"]
        assert len(maps) == len(mapping_rows(lib_ws, code))
        assert len({m["uuid"] for m in maps}) == len(maps)
        # every source is a control of the regulation catalog, every target one of ours
        catalog_ids = _ids(catalog["catalog"])
        assert {m["sources"][0]["id-ref"] for m in maps} <= catalog_ids
        assert {m["targets"][0]["id-ref"] for m in maps} <= set(ids)
        gaps = body["mappings"][0]["source-gap-summary"]["unmapped-controls"][0]["with-ids"]
        assert set(gaps) <= catalog_ids and not set(gaps) & {
            m["sources"][0]["id-ref"] for m in maps}

    gdpr = json.loads((tmp_path / "GDPR.mapping.json").read_text())["mapping-collection"]
    art32 = next(m for m in gdpr["mappings"][0]["maps"]
                 if m["sources"][0]["id-ref"] == "art_32.1.b"
                 and m["targets"][0]["id-ref"] == "sec-1")
    props = {p["name"]: p["value"] for p in art32["props"]}
    assert props["review-status"] == "draft" and props["coverage"] in ("full", "partial")
    assert 0 <= int(props["strength"]) <= 10 and art32["remarks"]
    assert gdpr["provenance"]["status"] == "draft"  # the library's mappings are drafts


def _ids(node: dict[str, Any]) -> set[str]:
    out = set()
    for key in ("groups", "controls"):
        for child in node.get(key, []):
            if key == "controls":
                out.add(child["id"])
            out |= _ids(child)
    return out


def test_reexport_is_byte_identical_and_stdout_works(cli: Cli, lib_ws: Path,
                                                     tmp_path: Path) -> None:
    for what, code in (("controls", ()), ("catalog", ("GDPR",)), ("mappings", ("HIPAA",))):
        a, b = tmp_path / f"{what}-a.json", tmp_path / f"{what}-b.json"
        export(cli, lib_ws, a, what, *code)
        export(cli, lib_ws, b, what, *code)
        assert a.read_bytes() == b.read_bytes(), what
    r = cli("--workspace", str(lib_ws), "export", "oscal", "--what", "controls", "-o", "-")
    assert r.code == 0 and json.loads(r.out)["catalog"]["groups"]


def test_the_validation_itself_catches_bad_documents(cli: Cli, lib_ws: Path,
                                                     tmp_path: Path) -> None:
    """The substituted patterns still bite: a bad token, a bad UUID, a bad enum."""
    doc = export(cli, lib_ws, tmp_path / "m.json", "mappings", "GDPR")
    first = doc["mapping-collection"]["mappings"][0]["maps"][0]
    first["uuid"] = "not-a-uuid"
    doc["mapping-collection"]["provenance"]["method"] = "manual"
    assert len(schema_errors(doc, "oscal_mapping_schema.json")) >= 2
    first["relationship"] = "related-to"  # a token: only our own check refuses it
    assert check_relationships(doc) and "related-to" in check_relationships(doc)[0]
    cat = export(cli, lib_ws, tmp_path / "c.json", "controls")
    cat["catalog"]["groups"][0]["controls"][0]["id"] = "1 bad id"
    assert schema_errors(cat, "oscal_catalog_schema.json")


def test_catalog_carries_legal_text_only_once_imported(cli: Cli, lib_ws: Path, corpus: Path,
                                                       tmp_path: Path) -> None:
    r = cli("--workspace", str(lib_ws), "import", str(corpus / "L_2016119EN.01000101.xml"))
    assert r.code == 0, r.err
    catalog = export(cli, lib_ws, tmp_path / "gdpr.json", "catalog", "GDPR")
    assert schema_errors(catalog, "oscal_catalog_schema.json") == []
    node = _find(catalog["catalog"], "art_32.1.b")
    statement = next(p for p in node["parts"] if p["name"] == "statement")
    assert "pseudonymisation" in statement["prose"] or "confidentiality" in statement["prose"]
    assert "imported into the workspace" in catalog["catalog"]["metadata"]["remarks"]


def _find(node: dict[str, Any], oid: str) -> dict[str, Any]:
    for key in ("groups", "controls"):
        for child in node.get(key, []):
            if child["id"] == oid:
                return child
            try:
                return _find(child, oid)
            except KeyError:
                pass
    raise KeyError(oid)


def test_export_usage_errors(cli: Cli, lib_ws: Path, gdpr_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    assert_error(cli("--workspace", str(lib_ws), "export", "oscal", "--what", "catalog",
                     "-o", str(out)), "needs a regulation CODE")
    assert_error(cli("--workspace", str(lib_ws), "export", "oscal", "--what", "mappings",
                     "NOPE", "-o", str(out)), "NOPE")
    assert_error(cli("--workspace", str(gdpr_ws), "export", "oscal", "--what", "mappings",
                     "GDPR", "-o", str(out)), "no mappings")
    assert not out.exists()


# ------------------------------------------------------------------------------ round trip
def test_round_trip_gdpr_mappings(cli: Cli, lib_ws: Path, gdpr_ws: Path,
                                  tmp_path: Path) -> None:
    src = tmp_path / "gdpr.mapping.json"
    exported = export(cli, lib_ws, src, "mappings", "GDPR")
    with unchanged(gdpr_ws):
        plan = run_json(cli, gdpr_ws, "import", str(src), "--dry-run", "--json")
    assert (plan["format"], plan["code"], plan["committed"]) == ("oscal-mapping", "GDPR", False)
    assert len(plan["create"]) == len(mapping_rows(lib_ws, "GDPR")) and plan["warnings"] == []

    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert done["committed"] and done["created"] == len(plan["create"])
    assert mapping_rows(gdpr_ws, "GDPR") == mapping_rows(lib_ws, "GDPR")
    assert {s for (s,) in query(gdpr_ws, "SELECT DISTINCT review_status FROM mapping")} == {
        "draft"}
    assert run_json(cli, gdpr_ws, "verify", "--json")["intact"] is True
    events = query(gdpr_ws, "SELECT action, count(*) FROM audit_event WHERE action LIKE "
                            "'mapping.%' GROUP BY action")
    assert events == [("mapping.create", done["created"])]

    again = export(cli, gdpr_ws, tmp_path / "again.json", "mappings", "GDPR")
    assert [m["uuid"] for m in again["mapping-collection"]["mappings"][0]["maps"]] == [
        m["uuid"] for m in exported["mapping-collection"]["mappings"][0]["maps"]]

    # importing the same file again: every pair exists, skipped and listed, nothing written
    with unchanged(gdpr_ws):
        r = cli("--workspace", str(gdpr_ws), "import", str(src))
    assert r.code == 0, r.err
    assert "0 new mappings" in r.out and "already in the workspace, skipped" in r.out
    assert "Art. 32(1)(b) → SEC-1" in r.out


def test_existing_mappings_are_kept_and_the_rest_added(cli: Cli, lib_ws: Path, gdpr_ws: Path,
                                                       tmp_path: Path) -> None:
    src = tmp_path / "gdpr.mapping.json"
    doc = export(cli, lib_ws, src, "mappings", "GDPR")
    maps = doc["mapping-collection"]["mappings"][0]["maps"]
    first = maps[0]
    partial = tmp_path / "first.json"
    doc["mapping-collection"]["mappings"][0]["maps"] = [first]
    write_json(partial, doc)
    assert run_json(cli, gdpr_ws, "import", str(partial), "--json")["created"] == 1
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert done["created"] == len(maps) - 1 and len(done["skipped"]) == 1


# ------------------------------------------------------------------------------ deviant files
DEVIANT_MAPS = [
    a_map("ART_32.1.B", "sec_1", "equivalent", key="id_ref"),
    a_map("Art. 33(1)", "SEC-4", "Subset", key="idRef"),
    a_map("art-35-1", "Gov1", "related-to"),
    a_map("article 30 (1)", "gov-4", "intersects", remarks=None),
    a_map("art_5.1.c", "GOV-3", "subset-of"),
]


def test_deviant_file_imports_with_every_normalisation_listed(cli: Cli, gdpr_ws: Path,
                                                              tmp_path: Path) -> None:
    doc = collection(DEVIANT_MAPS)
    doc["mapping-collection"]["provenance"]["method"] = "manual"
    doc["mapping-collection"]["provenance"]["matchingRationale"] = "Semantics"
    del doc["mapping-collection"]["provenance"]["matching-rationale"]
    src = write_json(tmp_path / "deviant.json", doc)
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert done["created"] == 5 and done["code"] == "GDPR"
    warnings = "\n".join(done["warnings"])
    for fragment in ("'id_ref' → id-ref", "'idRef' → id-ref", "'equivalent' → equivalent-to",
                     "'Subset' → subset-of", "'related-to' → intersects-with",
                     "'intersects' → intersects-with", "'manual' → human",
                     "'Semantics' → semantic", "'ART_32.1.B' → Art. 32(1)(b)",
                     "'art-35-1' → Art. 35(1)", "'article 30 (1)' → Art. 30(1)",
                     "'sec_1' → SEC-1", "'Gov1' → GOV-1", "no remarks",
                     "names"):  # the regulation was found from the title
        assert fragment in warnings, (fragment, warnings)
    assert "'art_5.1.c'" not in warnings and "'SEC-4'" not in warnings  # exact: not listed
    rows = {(r[0], r[1]): r for r in mapping_rows(gdpr_ws, "GDPR")}
    assert rows[("Art. 32(1)(b)", "SEC-1")][2:6] == ("equivalent-to", "semantic", 5, "full")
    assert rows[("Art. 35(1)", "GOV-1")][2] == "intersects-with"
    assert rows[("Art. 35(1)", "GOV-1")][5] == "partial"
    assert rows[("Art. 33(1)", "SEC-4")][7] == "OSCAL import (deviant.json)"
    assert "without a rationale" in rows[("Art. 30(1)", "GOV-4")][6]


def test_deviant_yaml_file(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    import yaml

    src = tmp_path / "deviant.yaml"
    src.write_text(yaml.safe_dump(collection(DEVIANT_MAPS[:2])), encoding="utf-8")
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert done["created"] == 2 and done["format"] == "oscal-mapping"


def test_many_to_many_map_is_split_pair_by_pair(cli: Cli, gdpr_ws: Path,
                                                tmp_path: Path) -> None:
    m = a_map("art_32.1.a", "sec-1", "equal-to")
    m["sources"].append({"type": "control", "id-ref": "art_32.1.b"})
    src = write_json(tmp_path / "many.json", collection([m]))
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert {(c["ref"], c["relationship"]) for c in done["create"]} == {
        ("Art. 32(1)(a)", "subset-of"), ("Art. 32(1)(b)", "subset-of")}
    assert any("pair by pair" in w for w in done["warnings"])


def test_a_foreign_file_needs_a_code_when_it_names_no_regulation(cli: Cli, gdpr_ws: Path,
                                                                 tmp_path: Path) -> None:
    doc = collection(DEVIANT_MAPS[:1], title="Mapping")
    doc["mapping-collection"]["mappings"][0]["source-resource"]["href"] = "source.json"
    src = write_json(tmp_path / "anon.json", doc)
    with unchanged(gdpr_ws):
        assert_error(cli("--workspace", str(gdpr_ws), "import", str(src)), "--code")
    done = run_json(cli, gdpr_ws, "import", str(src), "--code", "gdpr", "--json")
    assert done["created"] == 1


# ------------------------------------------------------------------------------ bad input
def _refused(cli: Cli, ws: Path, src: Path, *fragments: str, extra: tuple[str, ...] = ()
             ) -> str:
    before = mapping_count(ws)
    with unchanged(ws):
        line = assert_error(cli("--workspace", str(ws), "import", str(src), *extra),
                            *fragments)
    assert mapping_count(ws) == before
    return line


def test_dangling_refs_fail_listing_them_all(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    maps = [a_map("art_32.1.b", "sec-1"), a_map("art_999", "sec-1"),
            a_map("Art. 32(9)", "gov-1"), a_map("art_5.1.c", "GOV-9")]
    src = write_json(tmp_path / "dangling.json", collection(maps))
    line = _refused(cli, gdpr_ws, src, "nothing imported", "'art_999'", "'Art. 32(9)'",
                    "'GOV-9'", "GDPR 2016-04-27")
    assert "'art_32.1.b'" not in line


def test_unknown_relationship_fails_listing_every_map(cli: Cli, gdpr_ws: Path,
                                                      tmp_path: Path) -> None:
    maps = [a_map("art_32.1.b", "sec-1", "foo"), a_map("art_32.1.a", "sec-1", "bar"),
            a_map("art_5.1.c", "gov-3", "equivalent")]
    src = write_json(tmp_path / "rel.json", collection(maps))
    _refused(cli, gdpr_ws, src, "'foo'", "'bar'", "maps[0]", "maps[1]")


def test_conflicting_duplicates_fail(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    maps = [a_map("art_32.1.b", "sec-1", "subset-of"), a_map("Art. 32(1)(b)", "SEC-1")]
    src = write_json(tmp_path / "dup.json", collection(maps))
    _refused(cli, gdpr_ws, src, "mapped twice", "Art. 32(1)(b) → SEC-1")


@pytest.mark.parametrize(("name", "content", "fragments", "extra"), [
    ("catalog.json", {"catalog": {"uuid": "x", "metadata": {"title": "t"}}},
     ("OSCAL catalog, not an OSCAL mapping-collection",), ("--format", "oscal-mapping")),
    ("other.json", {"mapping": []}, ("no 'mapping-collection' key",),
     ("--format", "oscal-mapping")),
    ("list.json", [1, 2], ("is a list",), ("--format", "oscal-mapping")),
    ("empty.json", {"mapping-collection": {"mappings": []}}, ("maps nothing",), ()),
])
def test_wrong_root_is_refused(cli: Cli, gdpr_ws: Path, tmp_path: Path, name: str,
                               content: Any, fragments: tuple[str, ...],
                               extra: tuple[str, ...]) -> None:
    src = write_json(tmp_path / name, content)
    _refused(cli, gdpr_ws, src, name, *fragments, extra=extra)


def test_malformed_json_gives_line_and_column(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text('{"mapping-collection": {\n  "uuid": "x",\n  "metadata": ,\n}}\n',
                   encoding="utf-8")
    _refused(cli, gdpr_ws, src, "bad.json", "invalid JSON at line 3, column 15")


def test_huge_file_is_refused_before_reading(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    from app.services.mapping_import import MAX_MAPPING_BYTES

    src = tmp_path / "huge.json"
    with src.open("wb") as fh:  # sparse: the size is checked before a byte is read
        fh.write(b'{"mapping-collection": {"maps": [')
        fh.truncate(MAX_MAPPING_BYTES + 1)
    _refused(cli, gdpr_ws, src, "too large")


def test_large_collection_imports_quickly(cli: Cli, gdpr_ws: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    refs = [r for (r,) in query(gdpr_ws, "SELECT ref FROM clause WHERE assessable = 1 AND "
                                         "kind IN ('paragraph', 'point')")]
    maps = [a_map(ref, control, "intersects-with") for ref in refs
            for control in ("GOV-1", "SEC-1", "OPS-2")]
    for i, m in enumerate(maps):
        m["uuid"] = f"2d7e5a52-8a7c-4d57-9a51-{i:012d}"
    src = write_json(tmp_path / "big.json", collection(maps))
    start = time.perf_counter()
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    seconds = time.perf_counter() - start
    assert done["created"] == len(maps) == mapping_count(gdpr_ws)
    with capsys.disabled():
        print(f"\n  [figure] OSCAL mapping import: {len(maps)} maps in {seconds:.2f} s")
    assert seconds < 10


# ------------------------------------------------------------------------------ ids
@pytest.mark.parametrize(("ref", "oid"), [
    ("Art. 32(1)(b)", "art_32.1.b"), ("Recital 71", "recital_71"),
    ("Annex IV(2)(b)", "annex_iv.2.b"), ("§ 164.312(a)(2)(iv)", "sec_164.312.a.2.iv"),
    ("Chapter IV Section 2", "chapter_iv_section_2"), ("GOVERN 1.1", "govern_1.1"),
    ("1.2", "c_1.2"),
])
def test_clause_ids_are_oscal_tokens(ref: str, oid: str) -> None:
    from app.domain.oscal_ids import is_token, loose_key, ref_token

    assert ref_token(ref) == oid and is_token(oid)
    assert loose_key(oid.removeprefix("c_")) == loose_key(ref)


def test_our_regulation_catalog_reimports_with_the_same_refs(cli: Cli, lib_ws: Path,
                                                             tmp_path: Path) -> None:
    """The `label` props carry the refs, so our OSCAL catalog importer reads them back."""
    src = tmp_path / "hipaa.catalog.json"
    export(cli, lib_ws, src, "catalog", "HIPAA")
    bare = tmp_path / "bare.db"
    make_store(bare).close()
    r = cli("--workspace", str(bare), "import", str(src), "--code", "HIPAA-COPY")
    assert r.code == 0, r.err
    refs = {c["ref"] for c in run_json(cli, bare, "clauses", "HIPAA-COPY", "--json")}
    assert refs == {c["ref"] for c in run_json(cli, lib_ws, "clauses", "HIPAA", "--json")}


def test_the_gap_summary_lists_what_crosswalk_gaps_lists(cli: Cli, lib_ws: Path,
                                                         tmp_path: Path) -> None:
    """Obligations covered from an enclosing clause are not gaps, in OSCAL as in the CLI."""
    r = cli("-w", str(lib_ws), "map", "GDPR Art. 32", "OPS-2", "-r", "intersects-with",
            "--coverage", "full", "--rationale", "Covers the whole article.")
    assert r.code == 0, r.err
    doc = export(cli, lib_ws, tmp_path / "m.json", "mappings", "GDPR")
    listed = doc["mapping-collection"]["mappings"][0]["source-gap-summary"][
        "unmapped-controls"][0]["with-ids"]
    gaps = [g for group in run_json(cli, lib_ws, "gaps", "GDPR", "--json")
            for g in group["gaps"]]
    assert len(listed) == len(gaps) > 0
    assert "art_32.3" not in listed and "art_32.4" not in listed  # covered by Art. 32 now


# ------------------------------------------------------------------ review 6: round trips
def clause_rows(cli: Cli, ws: Path, code: str, version: str) -> list[tuple[Any, ...]]:
    """Every clause of the version, in document order, with its parent's ref."""
    fields = ("ref", "kind", "title", "summary", "assessable", "has_text", "attributes")
    rows = run_json(cli, ws, "clauses", code, "--version", version, "--json")
    parents = dict(query(ws, "SELECT c.ref, p.ref FROM clause c JOIN regulation r ON r.id = "
                             "c.regulation_id LEFT JOIN clause p ON p.id = c.parent_id WHERE "
                             "r.code = ? AND r.version_label = ?", (code, version)))
    return [(*(json.dumps(c[f]) for f in fields), parents[c["ref"]]) for c in rows]


@pytest.mark.parametrize(("code", "old"), [("GDPR", "2016-04-27"), ("HIPAA", "2013-03-26")])
def test_our_catalog_export_reimports_as_an_unchanged_new_version(
        cli: Cli, lib_ws: Path, tmp_path: Path, code: str, old: str) -> None:
    """Export → import as a new version: the regulation-code prop names the regulation, the
    Crosswalk props give back kinds and assessable, our summary part is a summary (not text),
    a title that is only the ref is no title, the recitals group is no clause: 0 changed."""
    src = tmp_path / "c.json"
    doc = export(cli, lib_ws, src, "catalog", code)
    assert schema_errors(doc, "oscal_catalog_schema.json") == []
    done = run_json(cli, lib_ws, "import", str(src), "--version", "2099-01-01", "--json")
    assert done["code"] == code, done  # not R-EU-2016-679-…
    diff = run_json(cli, lib_ws, "diff", code, old, "2099-01-01", "--json")
    assert (diff["added"], diff["removed"], diff["changed"], diff["mappings"]) == (
        [], [], [], []), diff
    assert diff["unchanged"] > 100
    assert clause_rows(cli, lib_ws, code, "2099-01-01") == clause_rows(cli, lib_ws, code, old)
    text = cli("--workspace", str(lib_ws), "diff", code, old, "2099-01-01")
    assert "0 changed" in text.out and "RECITALS" not in text.out
    assert query(lib_ws, "SELECT count(*) FROM clause c JOIN regulation r ON r.id = "
                         "c.regulation_id WHERE r.version_label = '2099-01-01' AND "
                         "(c.text != '' OR c.ref = 'RECITALS')")[0][0] == 0


def test_a_catalog_export_without_statements_keeps_summaries_out_of_the_text(
        cli: Cli, lib_ws: Path, tmp_path: Path) -> None:
    """Into a bare workspace, as a new regulation: same code, summaries, kinds; no text."""
    src = tmp_path / "gdpr.catalog.json"
    export(cli, lib_ws, src, "catalog", "GDPR")
    bare = tmp_path / "bare.db"
    make_store(bare).close()
    done = run_json(cli, bare, "import", str(src), "--json")
    assert done["code"] == "GDPR"
    assert clause_rows(cli, bare, "GDPR", "2016-04-27") == clause_rows(
        cli, lib_ws, "GDPR", "2016-04-27")


# ------------------------------------------------------------------ review 6: mapping import
def test_every_tolerant_normalisation_is_listed(cli: Cli, gdpr_ws: Path,
                                                tmp_path: Path) -> None:
    m = a_map("art_32.1.b", " gov-1 ", "no-relationship")
    m["props"] = [{"name": "coverage", "value": "full"}, {"name": "strength", "value": "7.6"}]
    src = write_json(tmp_path / "norm.json", collection([m]))
    done = run_json(cli, gdpr_ws, "import", str(src), "--json")
    assert [(c["control_id"], c["coverage"], c["strength"]) for c in done["create"]] == [
        ("GOV-1", "partial", 8)]
    warnings = "\n".join(done["warnings"])
    for fragment in ("' gov-1 ' → 'gov-1'", "no-relationship", "'full (maps[0]",
                     "→ partial", "'7.6' → 8"):
        assert fragment in warnings, (fragment, warnings)


def test_structural_problems_and_dangling_refs_are_listed_together(
        cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    empty_target = a_map("art_998", "")
    maps = [a_map("art_32.1.b", "sec-1"), a_map("art_999", "sec-1"),
            a_map("art_5.1.c", "GOV-9"), empty_target, a_map("art_32.1.a", "sec-1", "foo")]
    src = write_json(tmp_path / "both.json", collection(maps))
    line = _refused(cli, gdpr_ws, src, "nothing imported", "maps[3]", "has no id-ref",
                    "'foo'", "'art_999'", "'art_998'", "'GOV-9'", "GDPR 2016-04-27")
    assert "'art_32.1.b'" not in line and "'art_32.1.a'" not in line


def test_a_document_of_neither_kind_says_so(cli: Cli, gdpr_ws: Path, tmp_path: Path) -> None:
    doc = {"catalog-mapping": collection([a_map("art_32.1.b", "sec-1")])["mapping-collection"]}
    src = write_json(tmp_path / "wrong.json", doc)  # its resources are typed "catalog"
    for extra in ((), ("--format", "oscal-json"), ("--format", "oscal-mapping")):
        _refused(cli, gdpr_ws, src, "neither an OSCAL", "catalog", "mapping-collection",
                 "found: catalog-mapping", extra=extra)


def test_clause_attributes_travel_with_the_catalog(cli: Cli, lib_ws: Path,
                                                   tmp_path: Path) -> None:
    """HIPAA's required/addressable flags go out as Crosswalk props and come back, even into
    a workspace that never had HIPAA; the catalog still validates."""
    doc = export(cli, lib_ws, tmp_path / "hipaa.json", "catalog", "HIPAA")
    assert schema_errors(doc, "oscal_catalog_schema.json") == []
    bare = tmp_path / "bare.db"
    assert cli("-w", str(bare), "init", "--bare").code == 0
    assert cli("-w", str(bare), "import", str(tmp_path / "hipaa.json")).code == 0
    for ref, flag in (("§ 164.312(a)(2)(iv)", "addressable"),
                      ("§ 164.308(a)(1)(ii)(A)", "required")):
        shown = run_json(cli, bare, "clause", f"HIPAA {ref}", "--json")
        assert shown["attributes"] == {"requirement": flag}, shown["attributes"]
