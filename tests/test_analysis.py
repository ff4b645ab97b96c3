"""Mapping analyses (issue 5): coverage, gaps, overlap, impact, the mapping checks and the graph
export — through the services and the real CLI, on the bundled library (hand-checked
subtrees) and on small synthetic workspaces built to exercise each rule.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from app.domain.clauses import ClauseNode, RegulationDoc
from app.importers.mapping_file import MappingSpec
from app.services.analysis import checks, coverage, gaps, overlap, reach
from app.services.graph import build_graph
from app.services.impact import impact_of_clause_ref, impact_of_control_id
from app.services.regulations import add_regulation, get_regulation, insert_mappings
from app.services.snapshot import load_snapshot
from app.services.workspace import open_workspace
from app.store import Store
from tests.conftest import FIXED_START, make_store
from tests.helpers import assert_error, query, unchanged


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    r = cli("--workspace", str(ws), *args)
    assert r.code == 0, (args, r.err)
    return json.loads(r.out)


def states(store: Store, code: str, prefix: str) -> dict[str, str | None]:
    """Coverage state of each obligation whose ref starts with `prefix`."""
    snap = load_snapshot(store)
    r = reach(snap)
    return {snap.clauses[c].ref: r.state(c) for c in r.obligations
            if snap.regulation[snap.clauses[c].regulation_id].code == code
            and snap.clauses[c].ref.startswith(prefix)}


# ================================================================ the bundled library
def test_gdpr_art_32_by_hand(lib_ws: Path, cli: Any) -> None:
    """GDPR Art. 32 (in Chapter IV Section 2) has paragraphs (1)–(4); (1) has points (a)–(d).
    Obligations are the assessable clauses with no assessable clause inside: (1)(a), (1)(b),
    (1)(c), (1)(d), (2), (3), (4) — seven (not Art. 32, not (1)). The bundled mappings are
    all `intersects-with`/partial: (1)(a) GOV-3+SEC-1, (1)(b) SEC-1+SEC-2+SEC-3, (1)(c)
    OPS-3+SEC-4, (1)(d) SEC-2+SEC-4, (2) GOV-2; nothing on Art. 32, (1), Section 2 or Chapter
    IV. So five partial, none full, and (3) and (4) are the article's gaps."""
    store = open_workspace(lib_ws, actor="tester")
    try:
        assert states(store, "GDPR", "Art. 32(") == {
            "Art. 32(1)(a)": "partial", "Art. 32(1)(b)": "partial", "Art. 32(1)(c)": "partial",
            "Art. 32(1)(d)": "partial", "Art. 32(2)": "partial", "Art. 32(3)": None,
            "Art. 32(4)": None}
    finally:
        store.close()
    groups = {g["full_ref"]: g for g in run_json(cli, lib_ws, "gaps", "GDPR", "--json")}
    art = groups["GDPR Art. 32"]
    assert (art["kind"], art["obligations"], art["count"]) == ("article", 7, 2)
    assert [g["ref"] for g in art["gaps"]] == ["Art. 32(3)", "Art. 32(4)"]
    assert all(g["code"] == "GDPR" for g in groups.values())
    # an article with no paragraphs is its own single obligation (Art. 10)
    assert [g["ref"] for g in groups["GDPR Art. 10"]["gaps"]] == ["Art. 10"]


def test_hipaa_164_308_by_hand(lib_ws: Path, cli: Any) -> None:
    """§ 164.308: standards (a)(1)–(a)(8) and (b)(1); implementation specifications under
    (a)(1) A–D, (a)(3) A–C, (a)(4) A–C, (a)(5) A–D, (a)(6) (ii), (a)(7) A–E; (b)(1) holds
    (b)(2) and (b)(3). Obligations: 4+1+3+3+4+1+5+1 under (a), plus (b)(2) and (b)(3) = 24.
    Full (`subset-of`/full): (a)(3)(ii)(C), (a)(4)(ii)(B), (a)(4)(ii)(C), (a)(6)(ii),
    (a)(7)(ii)(D) = 5. Not reached: (b)(2) (no mapping on it, (b)(1) or § 164.308) = 1.
    Partial: the other 18."""
    store = open_workspace(lib_ws, actor="tester")
    try:
        got = states(store, "HIPAA", "§ 164.308(")
    finally:
        store.close()
    assert len(got) == 24
    assert sorted(r for r, s in got.items() if s == "full") == [
        "§ 164.308(a)(3)(ii)(C)", "§ 164.308(a)(4)(ii)(B)", "§ 164.308(a)(4)(ii)(C)",
        "§ 164.308(a)(6)(ii)", "§ 164.308(a)(7)(ii)(D)"]
    assert [r for r, s in got.items() if s is None] == ["§ 164.308(b)(2)"]
    assert sum(s == "partial" for s in got.values()) == 18
    groups = {g["full_ref"]: g for g in run_json(cli, lib_ws, "gaps", "hipaa", "--json")}
    sec = groups["HIPAA § 164.308"]
    assert (sec["kind"], sec["obligations"], [g["ref"] for g in sec["gaps"]]) == (
        "section", 24, ["§ 164.308(b)(2)"])


def test_coverage_cli_on_the_library(lib_ws: Path, cli: Any) -> None:
    report = run_json(cli, lib_ws, "coverage", "--json")
    assert set(report) == {"regulations", "controls"}
    regs = {r["code"]: r for r in report["regulations"]}
    assert set(regs) == {"GDPR", "EU-AI-ACT", "HIPAA"}
    # the denominator, counted independently: assessable clauses with no assessable child
    counted = dict(query(lib_ws, """
        SELECT r.code, count(*) FROM clause c JOIN regulation r ON r.id = c.regulation_id
        WHERE c.assessable AND NOT EXISTS (SELECT 1 FROM clause k WHERE k.parent_id = c.id
                                           AND k.assessable)
        GROUP BY r.code"""))
    for code, r in regs.items():
        assert r["obligations"] == counted[code]
        assert r["full"] + r["partial"] + r["none"] == r["obligations"]
        assert r["covered_pct"] == round(100 * (r["full"] + r["partial"]) / r["obligations"], 1)
        assert [s["control_id"] for s in r["controls"]][:2] == ["GOV-1", "GOV-2"]
        assert set(r["controls"][0]) == {"control_id", "full", "partial", "full_pct",
                                         "partial_pct"}
    hipaa = regs["HIPAA"]
    assert set(hipaa) >= {"code", "version_label", "title", "obligations", "full", "partial",
                          "none", "full_pct", "partial_pct", "none_pct", "covered_pct"}
    assert len(report["controls"]) == 12
    assert all(c["regulations"] == ["EU-AI-ACT", "GDPR", "HIPAA"] for c in report["controls"])
    one = run_json(cli, lib_ws, "coverage", "HIPAA", "--json")
    assert one["regulations"] == [hipaa]
    text = cli("--workspace", str(lib_ws), "coverage", "HIPAA")
    assert text.code == 0
    lines = text.out.splitlines()
    assert lines[0].split() == ["CODE", "VERSION", "OBLIGATIONS", "FULL", "PARTIAL", "NONE"]
    assert lines[1].startswith("HIPAA")
    assert any(line.startswith("SEC-4") for line in lines)


def test_overlap_and_impact_on_the_library(lib_ws: Path, cli: Any) -> None:
    rows = run_json(cli, lib_ws, "overlap", "--json")
    assert [r["control_id"] for r in rows][:3] == ["GOV-1", "GOV-2", "GOV-3"]
    sec1 = run_json(cli, lib_ws, "overlap", "sec-1", "--json")
    assert len(sec1) == 1 and sec1[0]["control_id"] == "SEC-1"
    by_code = {r["code"]: r for r in sec1[0]["regulations"]}
    assert set(by_code) == {"GDPR", "EU-AI-ACT", "HIPAA"}
    assert "Art. 32(1)(b)" in [c["ref"] for c in by_code["GDPR"]["clauses"]]
    assert sec1[0]["clause_count"] == sum(len(r["clauses"]) for r in by_code.values())

    imp = run_json(cli, lib_ws, "impact", "--clause", "gdpr art. 32 (1)(b)", "--json")
    assert imp["source"]["full_ref"] == "GDPR Art. 32(1)(b)"
    assert [(m["control_id"], m["because"]) for m in imp["mappings"]] == [
        ("SEC-1", "on the clause"), ("SEC-2", "on the clause"), ("SEC-3", "on the clause")]
    assert [c["control_id"] for c in imp["controls"]] == ["SEC-1", "SEC-2", "SEC-3"]
    related = {c["full_ref"]: c["control_ids"] for c in imp["related_clauses"]}
    assert related["HIPAA § 164.308(a)(4)(ii)(A)"] == ["SEC-1", "SEC-3"]
    assert not any(r.startswith("GDPR ") for r in related)  # other regulations only
    # the playbooks whose steps exercise SEC-1…3 (shipped, not yet in the workspace)
    assert imp["reachable"] == {"playbook": [
        "playbook:data-leakage-through-a-model", "playbook:model-tampering-or-theft",
        "playbook:training-data-poisoning"]}
    # a playbook whose regulatory clock rests on the clause is reached from the clause itself
    art33 = run_json(cli, lib_ws, "impact", "--clause", "GDPR Art. 33(1)", "--json")
    assert "playbook:data-leakage-through-a-model" in art33["reachable"]["playbook"]

    text = cli("--workspace", str(lib_ws), "impact", "--clause", "GDPR Art. 32(1)(b)")
    assert text.code == 0
    assert ("controls (3): SEC-1 (evidence none), SEC-2 (evidence none), "
            "SEC-3 (evidence none)") in text.out
    assert "evidence to re-check (0)" in text.out


@pytest.mark.parametrize(("args", "fragment"), [
    (("coverage", "NOPE"), "no regulation 'NOPE'"),
    (("coverage", "GDPR", "--version", "1999"), "has no version '1999'"),
    (("coverage", "--version", "1"), "--version needs a regulation code"),
    (("gaps", "NOPE", "--json"), "no regulation 'NOPE'"),
    (("overlap", "XYZ-9"), "XYZ-9"),
    (("impact", "--clause", "GDPR Art. 999"), "no clause 'Art. 999'"),
    (("impact", "--clause", "Art. 32"), "invalid regulation code"),
    (("impact", "--control", "SEC-9", "--json"), "SEC-9"),
    (("impact", "--diff", "GDPR", "x", "y"), "has no version 'x'"),
    (("impact",), "exactly one of"),
    (("impact", "--control", "SEC-1", "--clause", "GDPR Art. 32"), "exactly one of"),
    (("export", "graph", "--format", "dot", "-o", "x"), "dot"),
])
def test_bad_input_exits_2_with_one_line(lib_ws: Path, cli: Any, args: tuple[str, ...],
                                         fragment: str) -> None:
    with unchanged(lib_ws):
        assert_error(cli("--workspace", str(lib_ws), *args), fragment)


def test_export_graph(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    clauses = query(lib_ws, "SELECT count(*) FROM clause")[0][0]
    mappings = query(lib_ws, "SELECT count(*) FROM mapping")[0][0]
    out = tmp_path / "g.graphml"
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "export", "graph", "--format", "graphml", "-o",
                str(out))
    assert r.code == 0, r.err
    g = nx.read_graphml(out)
    playbooks = [n for n, k in g.nodes(data="kind") if k == "playbook"]
    assert len(playbooks) == 5  # the shipped playbooks join the graph
    assert g.number_of_nodes() == 3 + clauses + 12 + 5
    by_kind = Counter(k for _, _, k in g.edges(data="kind"))
    assert by_kind["contains"] == clauses and by_kind["maps-to"] == mappings
    assert set(by_kind) == {"contains", "maps-to", "exercises", "clock-basis"}
    leak = "playbook:data-leakage-through-a-model"
    assert g.edges[leak, "control:SEC-1"]["kind"] == "exercises"
    art33 = query(lib_ws, "SELECT c.id FROM clause c JOIN regulation r ON r.id = "
                          "c.regulation_id WHERE r.code = 'GDPR' AND c.ref = 'Art. 33(1)'")
    assert g.edges[leak, f"clause:{art33[0][0]}"]["label"] == "gdpr-33"
    a = g.nodes["control:SEC-1"]
    assert (a["kind"], a["name"]) == ("control", "Secure data handling and access control")
    assert g.nodes["regulation:GDPR@2016-04-27"]["kind"] == "regulation"
    reg_id = query(lib_ws, "SELECT c.id FROM clause c JOIN regulation r ON r.id = "
                           "c.regulation_id WHERE r.code = 'GDPR' AND c.ref = 'Art. 32(1)(b)'")
    node = f"clause:{reg_id[0][0]}"
    assert g.nodes[node]["full_ref"] == "GDPR Art. 32(1)(b)"
    e = g.edges[node, "control:SEC-2"]
    assert (e["kind"], e["relationship"], e["coverage"]) == ("maps-to", "intersects-with",
                                                              "partial")
    assert r.out.strip() == f"wrote {out}: {g.number_of_nodes()} nodes, " \
                            f"{g.number_of_edges()} edges (graphml)"

    out_json = tmp_path / "g.json"
    r = cli("--workspace", str(lib_ws), "export", "graph", "--format", "json", "-o",
            str(out_json))
    assert r.code == 0, r.err
    data = json.loads(out_json.read_text("utf-8"))
    assert set(data) == {"directed", "multigraph", "graph", "nodes", "edges"}
    assert data["directed"] is True
    assert {n["kind"] for n in data["nodes"]} == {"regulation", "clause", "control",
                                                  "playbook"}
    assert {e["kind"] for e in data["edges"]} == {"contains", "maps-to", "exercises",
                                                  "clock-basis"}
    back = nx.node_link_graph(data, edges="edges")
    assert back.number_of_edges() == g.number_of_edges()

    assert_error(cli("--workspace", str(lib_ws), "export", "graph", "--format", "json",
                     "-o", str(tmp_path / "missing" / "g.json")), "does not exist")
    assert_error(cli("--workspace", str(lib_ws), "export", "graph", "--format", "json",
                     "-o", str(tmp_path)), "is a folder")


# ================================================================ synthetic workspaces
def toy() -> RegulationDoc:
    """Chapter I: Art. 1 ((1) with points (a), (b); (2)), Art. 2 (no paragraphs), Art. 3
    ((1), (2)), Art. 4 (definitions, not assessable, with (1)); Recital 1 (not assessable);
    Annex I with point (1). Obligations: Art. 1(1)(a), Art. 1(1)(b), Art. 1(2), Art. 2,
    Art. 3(1), Art. 3(2), Annex I(1) — seven."""
    n = ClauseNode
    return RegulationDoc(code="TOY", title="Toy rules", version_label="1", clauses=[
        n("Chapter I", "chapter", children=[
            n("Art. 1", "article", children=[
                n("Art. 1(1)", "paragraph", children=[n("Art. 1(1)(a)", "point"),
                                                      n("Art. 1(1)(b)", "point")]),
                n("Art. 1(2)", "paragraph")]),
            n("Art. 2", "article"),
            n("Art. 3", "article", children=[n("Art. 3(1)", "paragraph"),
                                             n("Art. 3(2)", "paragraph")]),
            n("Art. 4", "article", assessable=False, children=[
                n("Art. 4(1)", "paragraph", assessable=False)]),
        ]),
        n("Recital 1", "recital", assessable=False),
        n("Annex I", "annex", children=[n("Annex I(1)", "annex-point")]),
    ])


def other() -> RegulationDoc:
    n = ClauseNode
    return RegulationDoc(code="OTHER", title="Other rules", version_label="1", clauses=[
        n("X 1", "article"), n("X 2", "article"), n("X 3", "article")])


def spec(ref: str, control: str, relationship: str = "intersects-with",
         coverage_: str = "partial") -> MappingSpec:
    return MappingSpec(ref, control, relationship, "semantic", 5, coverage_,
                       f"Test mapping of {ref} to {control}.")


TOY_MAPPINGS = [
    spec("Art. 1", "SEC-1", "subset-of", "full"),  # reaches 1(1)(a), 1(1)(b), 1(2) fully
    spec("Art. 1(1)(a)", "GOV-1"),  # partial, under a full one: still full
    spec("Art. 1(2)", "SEC-1", "no-relationship"),  # conflicts with Art. 1 → SEC-1
    spec("Art. 3", "OPS-1", "no-relationship"),  # conflicts with Art. 3(1) → OPS-1
    spec("Art. 3(1)", "OPS-1"),  # partial; does not reach Art. 3(2) or make Art. 3 count
    spec("Art. 4(1)", "GOV-3", "equal-to", "full"),  # not assessable: counts nowhere
    spec("Recital 1", "GOV-3", "equal-to", "full"),  # not assessable
    spec("Annex I(1)", "OPS-2", "no-relationship"),  # no-relationship never covers
]
OTHER_MAPPINGS = [spec("X 1", "SEC-1"), spec("X 2", "GOV-1", "no-relationship"),
                  spec("X 3", "OPS-4")]


class ManualClock:
    def __init__(self) -> None:
        self.now = FIXED_START

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def toy_store(tmp_path: Path) -> Any:
    clock = ManualClock()
    store = make_store(tmp_path / "toy.db", clock=clock)
    toy_reg = add_regulation(store, toy())
    other_reg = add_regulation(store, other())
    with store.write() as tx:
        insert_mappings(tx, toy_reg.id or 0, TOY_MAPPINGS)
        insert_mappings(tx, other_reg.id or 0, OTHER_MAPPINGS, review_status="reviewed")
    yield store, clock
    store.close()


def test_coverage_rules(toy_store: Any) -> None:
    store, _ = toy_store
    assert states(store, "TOY", "") == {
        "Art. 1(1)(a)": "full", "Art. 1(1)(b)": "full",
        "Art. 1(2)": "full",  # its own no-relationship does not cancel Art. 1's full mapping
        "Art. 2": None, "Art. 3(1)": "partial", "Art. 3(2)": None, "Annex I(1)": None}
    snap = load_snapshot(store)
    rep = coverage(snap)
    toy_cov = next(r for r in rep.regulations if r.code == "TOY").as_dict()
    assert (toy_cov["obligations"], toy_cov["full"], toy_cov["partial"], toy_cov["none"]) == (
        7, 3, 1, 3)
    assert (toy_cov["full_pct"], toy_cov["partial_pct"], toy_cov["none_pct"]) == (
        42.9, 14.3, 42.9)
    shares = {s["control_id"]: (s["full"], s["partial"]) for s in toy_cov["controls"]}
    assert shares["SEC-1"] == (3, 0)
    assert shares["GOV-1"] == (0, 1)
    assert shares["OPS-1"] == (0, 1)
    assert shares["GOV-3"] == shares["OPS-2"] == (0, 0)
    ctl = {c.control_id: c for c in rep.controls}
    assert (ctl["SEC-1"].mappings, ctl["SEC-1"].full, ctl["SEC-1"].regulations) == (
        2, 3, ["OTHER", "TOY"])  # Art. 1 and X 1; the no-relationship one does not count
    assert ctl["SEC-1"].obligations == 7 + 3
    assert (ctl["GOV-3"].mappings, ctl["GOV-3"].full) == (2, 0)


def test_gaps_grouped_by_provision(toy_store: Any) -> None:
    store, _ = toy_store
    snap = load_snapshot(store, [get_regulation(store, "TOY").id or 0])
    got = [(g.provision["ref"], g.obligations, [x["ref"] for x in g.gaps])
           for g in gaps(snap)]
    assert got == [("Art. 2", 1, ["Art. 2"]), ("Art. 3", 2, ["Art. 3(2)"]),
                   ("Annex I", 1, ["Annex I(1)"])]


def test_overlap(toy_store: Any) -> None:
    store, _ = toy_store
    [sec1] = overlap(load_snapshot(store), "SEC-1")
    assert [(r["code"], [c["ref"] for c in r["clauses"]]) for r in sec1.regulations] == [
        ("OTHER", ["X 1"]), ("TOY", ["Art. 1"])]
    [ops2] = overlap(load_snapshot(store), "OPS-2")
    assert ops2.regulations == []  # only a no-relationship mapping


def test_checks_orphans_conflicts_and_stale_drafts(toy_store: Any) -> None:
    store, clock = toy_store
    clock.now = FIXED_START + timedelta(days=40)
    reg = get_regulation(store, "TOY")
    with store.write() as tx:  # a newer draft and a newer reviewed mapping
        insert_mappings(tx, reg.id or 0, [spec("Art. 2", "GOV-4")])
        insert_mappings(tx, reg.id or 0, [spec("Art. 3(2)", "GOV-2")],
                        review_status="reviewed")
    clock.now = FIXED_START + timedelta(days=45)
    r = checks(load_snapshot(store), days=30)
    assert [c["control_id"] for c in r.orphan_controls] == [
        "SEC-2", "SEC-3", "SEC-4", "OPS-2", "OPS-3"]  # OPS-2 has only a no-relationship one
    assert [(c["full_ref"], c["control_id"], c["where"], c["other"]["full_ref"])
            for c in r.conflicts] == [
        ("TOY Art. 1(2)", "SEC-1", "enclosing", "TOY Art. 1"),
        ("TOY Art. 3", "OPS-1", "inside", "TOY Art. 3(1)")]
    # the eight TOY defaults are 45-day-old drafts; OTHER's are reviewed; Art. 2 is 5 days old
    assert len(r.stale_drafts) == 8
    assert {d["age_days"] for d in r.stale_drafts} == {45}
    assert "TOY Art. 2" not in {d["full_ref"] for d in r.stale_drafts}
    assert len(checks(load_snapshot(store), days=50).stale_drafts) == 0
    assert len(checks(load_snapshot(store), days=4).stale_drafts) == 9


def test_impact_from_a_clause_and_a_control(toy_store: Any) -> None:
    store, _ = toy_store
    imp = impact_of_clause_ref(store, "TOY Art. 1(1)")
    assert [(m["full_ref"], m["control_id"], m["because"]) for m in imp.mappings] == [
        ("TOY Art. 1", "SEC-1", "on a clause enclosing it"),
        ("TOY Art. 1(1)(a)", "GOV-1", "on a clause inside it")]
    assert [c["control_id"] for c in imp.controls] == ["GOV-1", "SEC-1"]
    # X 2 says no-relationship to GOV-1 and X 3 maps an unrelated control: neither appears
    assert [(c["full_ref"], c["control_ids"]) for c in imp.related_clauses] == [
        ("OTHER X 1", ["SEC-1"])]

    imp = impact_of_control_id(store, "sec-1")
    assert imp.source == {"kind": "control", "control_id": "SEC-1"}
    assert [m["full_ref"] for m in imp.mappings] == ["OTHER X 1", "TOY Art. 1", "TOY Art. 1(2)"]
    assert [c["full_ref"] for c in imp.related_clauses] == ["OTHER X 1", "TOY Art. 1"]


def test_impact_reaches_other_node_kinds(toy_store: Any) -> None:
    """Later issues add playbooks…: impact walks them generically; evidence and risks are
    reported on their own, with their status and level, and are not walked through."""
    from app.services.impact import impact_of_clauses

    store, _ = toy_store
    snap = load_snapshot(store)
    g = build_graph(snap)
    g.add_node("evidence:7", kind="evidence", label="EV-7", evidence_id="EV-7",
               title="pen test report", status="expired", valid_until="2026-01-31")
    g.add_edge("evidence:7", "control:SEC-1", kind="supports")
    g.add_node("risk:3", kind="risk", label="RK-3", risk_id="RK-3", title="data leak",
               level="High", stage="residual", treatment="mitigate", system="Scoring",
               high=True)
    g.add_edge("risk:3", "control:SEC-1", kind="concerns")
    g.add_node("risk:9", kind="risk", label="RK-9", risk_id="RK-9", title="via evidence",
               level="", stage="", treatment="open", system="Scoring", high=False)
    g.add_edge("risk:9", "evidence:7", kind="concerns")
    g.add_node("playbook:2", kind="playbook", label="breach")
    g.add_edge("playbook:2", "control:SEC-1", kind="exercises")
    g.add_node("drill:5", kind="drill", label="only through a risk")
    g.add_edge("drill:5", "risk:3", kind="rehearses")
    g.add_node("test:1", kind="test", label="unrelated")
    g.add_edge("test:1", "control:OPS-4", kind="tests")
    art1 = next(c.id for c in snap.clauses.values() if c.ref == "Art. 1")
    imp = impact_of_clauses(g, {f"clause:{art1}": "chosen"}, {
        "kind": "clause", "full_ref": "TOY Art. 1", "code": "TOY", "version_label": "1",
        "ref": "Art. 1"})
    assert imp.reachable == {"playbook": ["playbook:2"]}
    assert imp.evidence == [{"id": "EV-7", "title": "pen test report", "status": "expired",
                             "valid_until": "2026-01-31", "via": ["SEC-1"]}]
    assert [(r["id"], r["level"], r["via"]) for r in imp.risks] == [
        ("RK-3", "High", ["SEC-1"]), ("RK-9", None, ["EV-7"])]
    assert "risks to re-assess (2)" in imp.report()


def test_cli_on_a_synthetic_workspace(toy_store: Any, cli: Any) -> None:
    store, _ = toy_store
    ws = store.path
    store.close()
    r = cli("--workspace", str(ws), "mapping-check", "--days", "36500", "--json")
    assert r.code == 1  # orphans and conflicts found
    doc = json.loads(r.out)
    assert set(doc) == {"now", "days", "orphan_controls", "conflicts", "stale_drafts"}
    assert doc["days"] == 36500 and doc["stale_drafts"] == []
    assert len(doc["conflicts"]) == 2
    text = cli("--workspace", str(ws), "mapping-check", "--days", "36500")
    assert text.code == 1
    assert "TOY Art. 1(2) says no-relationship to SEC-1, but TOY Art. 1 (enclosing) is " \
           "subset-of" in text.out
    gaps_text = cli("--workspace", str(ws), "gaps", "TOY")
    assert gaps_text.code == 0
    assert gaps_text.out.splitlines()[-1] == "3 unmapped obligations in 3 provisions"
    assert "TOY Art. 3" in gaps_text.out and "(2)" in gaps_text.out


# ================================================================ impact of a version diff
def catalog(version: str, day: str, a2_text: str, third: tuple[str, str]) -> str:
    return json.dumps({
        "schema": "crosswalk-catalog/1",
        "regulation": {"code": "SMALL", "title": "Small rules", "version_label": version,
                       "version_date": day},
        "clauses": [{"ref": "P1", "kind": "part", "children": [
            {"ref": "A1", "kind": "article", "text": "Keep records."},
            {"ref": "A2", "kind": "article", "text": a2_text, "children": [
                {"ref": "A2(1)", "kind": "paragraph", "text": "Encrypt."}]},
            {"ref": third[0], "kind": "article", "text": third[1]}]}]})


def two_versions(cli: Any, ws: Path, tmp_path: Path, other: bool = False) -> None:
    """SMALL v1 with mappings A1 OPS-3, A2 SEC-1, A2(1) SEC-2, A3 GOV-1 (and, with `other`,
    OTHER's Y 1 SEC-1, Y 2 GOV-1, Y 3 OPS-3), then v2: A2's text changed, A3 removed, A4
    added."""
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    v1.write_text(catalog("v1", "2020-01-01", "Secure the data.", ("A3", "Appoint.")), "utf-8")
    v2.write_text(catalog("v2", "2021-01-01", "Secure the data and models.",
                          ("A4", "Report incidents.")), "utf-8")
    run_json(cli, ws, "import", str(v1), "--json")
    store = open_workspace(ws, actor="tester")
    with store.write() as tx:
        insert_mappings(tx, get_regulation(store, "SMALL").id or 0, [
            spec("A1", "OPS-3"), spec("A2", "SEC-1"), spec("A2(1)", "SEC-2"),
            spec("A3", "GOV-1")])
        if other:
            insert_mappings(tx, get_regulation(store, "OTHER").id or 0, [
                spec("Y 1", "SEC-1"), spec("Y 2", "GOV-1"), spec("Y 3", "OPS-3")])
    store.close()
    run_json(cli, ws, "import", str(v2), "--json")


def test_impact_of_a_version_diff(tmp_path: Path, cli: Any) -> None:
    """v1 → v2: A2's text changes, A3 is removed, A4 is added. v1 mappings: A1 OPS-3, A2
    SEC-1, A2(1) SEC-2, A3 GOV-1; importing v2 carries A1, A2 and A2(1)'s to v2. The impact:
    A2's mapping (on the changed clause, v2), A2(1)'s (inside it), A3's (removed, v1); the
    controls GOV-1, SEC-1, SEC-2; and OTHER's clauses mapped to those (Y 1, Y 2, not Y 3)."""
    ws = tmp_path / "small.db"
    store = make_store(ws)
    add_regulation(store, RegulationDoc(code="OTHER", title="Other", version_label="1",
                                        clauses=[ClauseNode(f"Y {i}", "article")
                                                 for i in (1, 2, 3)]))
    store.close()
    two_versions(cli, ws, tmp_path, other=True)

    with unchanged(ws):
        imp = run_json(cli, ws, "impact", "--diff", "small", "v1", "v2", "--json")
    assert imp["source"]["kind"] == "diff"
    assert (imp["source"]["old_version"], imp["source"]["new_version"]) == ("v1", "v2")
    assert [(c["ref"], c["version_label"], c["why"]) for c in imp["clauses"]] == [
        ("A4", "v2", "added"), ("A2", "v2", "changed"), ("A3", "v1", "removed")]
    assert [(m["ref"], m["version_label"], m["control_id"], m["because"])
            for m in imp["mappings"]] == [
        ("A2", "v2", "SEC-1", "on the changed clause"),
        ("A2(1)", "v2", "SEC-2", "on a clause inside it"),
        ("A3", "v1", "GOV-1", "on the removed clause")]
    assert [c["control_id"] for c in imp["controls"]] == ["GOV-1", "SEC-1", "SEC-2"]
    assert [(c["full_ref"], c["control_ids"]) for c in imp["related_clauses"]] == [
        ("OTHER Y 1", ["SEC-1"]), ("OTHER Y 2", ["GOV-1"])]
    text = cli("--workspace", str(ws), "impact", "--diff", "SMALL", "v1", "v2")
    assert text.code == 0
    assert text.out.startswith("impact of SMALL v1 → v2: 1 added, 1 removed, 1 changed")


def test_coverage_and_gaps_read_without_sqlalchemy(lib_ws: Path) -> None:
    """The light read path: the same file checks, plain sqlite3, and none of SQLAlchemy's
    start-up cost (the 0.5 s target of issue 5 on a 10,000-clause workspace)."""
    import subprocess
    import sys

    code = ("import sys\nfrom app.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
            "print('sqlalchemy' in sys.modules, file=sys.stderr)")
    for command in ("coverage", "gaps"):
        p = subprocess.run([sys.executable, "-c", code, "-w", str(lib_ws), command, "GDPR"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stderr.strip().splitlines()[-1] == "False", p.stderr
        assert "GDPR" in p.stdout


def test_coverage_of_an_older_workspace_migrates_it_first(cli: Any, v1_workspace: Path) -> None:
    r = cli("-w", str(v1_workspace), "coverage", "--json")
    assert r.code == 0, r.err
    assert "upgraded workspace" in r.err and json.loads(r.out)["regulations"] == []


def test_impact_of_a_diff_counts_in_its_header_what_it_lists(tmp_path: Path, cli: Any) -> None:
    """Review 6: `impact --diff` (either order) gave `crosswalk diff`'s count of mappings in its
    header and a different count above its list. The header now counts the list; the diff's
    count, when it differs, is named as the diff's, with what each takes."""
    import re

    ws = tmp_path / "small.db"
    make_store(ws).close()
    two_versions(cli, ws, tmp_path)
    store = open_workspace(ws, actor="tester")
    with store.write() as tx:  # a mapping on the clause only v2 has
        insert_mappings(tx, get_regulation(store, "SMALL", "v2").id or 0,
                        [spec("A4", "OPS-1")])
    store.close()
    for old, new in (("v1", "v2"), ("v2", "v1")):
        diff = run_json(cli, ws, "diff", "SMALL", old, new, "--json")
        imp = run_json(cli, ws, "impact", "--diff", "SMALL", old, new, "--json")
        listed = len(imp["mappings"])
        assert imp["source"]["diff_mappings"] == len(diff["mappings"])
        text = cli("--workspace", str(ws), "impact", "--diff", "SMALL", old, new).out
        header = text.splitlines()[0]
        assert header.endswith(f"; {listed} mappings to re-review"), header
        assert f"mappings to re-review ({listed})" in text
        assert "mappings to review" not in header
        if len(diff["mappings"]) != listed:
            assert re.search(rf"`crosswalk diff` counts {len(diff['mappings'])}: the "
                             rf"mappings of {old} on its changed and removed clauses", text)
    assert len(run_json(cli, ws, "impact", "--diff", "SMALL", "v2", "v1", "--json")[
        "mappings"]) != len(run_json(cli, ws, "diff", "SMALL", "v2", "v1", "--json")["mappings"])


def test_reviewed_only_counts_what_an_auditor_would_accept(cli: Any, lib_ws: Path) -> None:
    """All bundled mappings are drafts: with --reviewed nothing covers anything, until a
    mapping is reviewed; then exactly the obligations it reaches are covered."""
    def gdpr(*extra: str) -> dict[str, Any]:
        r = cli("-w", str(lib_ws), "coverage", "GDPR", "--json", *extra)
        assert r.code == 0, r.err
        return json.loads(r.out)["regulations"][0]

    everything, reviewed = gdpr(), gdpr("--reviewed")
    assert everything["full"] + everything["partial"] > 0
    assert (reviewed["full"], reviewed["partial"]) == (0, 0)
    assert reviewed["none"] == everything["obligations"]
    assert cli("-w", str(lib_ws), "review", "GDPR Art. 32(1)(b)", "SEC-1", "--status",
               "reviewed").code == 0
    after = gdpr("--reviewed")
    assert (after["full"], after["partial"]) == (0, 1)  # Art. 32(1)(b), a partial mapping
    gaps = json.loads(cli("-w", str(lib_ws), "gaps", "GDPR", "--reviewed", "--json").out)
    assert sum(len(g["gaps"]) for g in gaps) == everything["obligations"] - 1
