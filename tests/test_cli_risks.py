"""The risk register through the real CLI (`app.cli.main`): the AI system inventory, risks
scored on a pinned matrix with their history and trend, treatment and acceptance, links, the
heat map, the quality checks (`risks check`, exit 1 while any fails), the matrices, and every
kind of bad input refused with one `error:` line and nothing written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.domain.clock import SteppingClock
from tests.conftest import make_store
from tests.helpers import CliResult, assert_error, event_count, query, unchanged

CLAUSE = "GDPR Art. 32(1)(b)"
SYSTEM_KEYS = {"id", "name", "purpose", "owner", "lifecycle", "tier", "tier_justification",
               "operator_role", "annex_iii_area", "annex_iii", "created_at", "created_by",
               "updated_at"}
RISK_KEYS = {"id", "title", "cause", "event", "consequence", "category", "system_id",
             "system", "owner", "matrix", "inherent", "current", "residual", "knowledge",
             "knowledge_justification", "treatment", "review_on", "review_every_days",
             "accepted_by", "acceptance_justification", "acceptance_expires", "links",
             "history", "created_at", "created_by", "updated_at", "trend"}
ROW_KEYS = {"id", "title", "category", "system_id", "system", "owner", "treatment", "matrix",
            "inherent", "current", "residual", "review_on", "accepted_by",
            "acceptance_expires", "controls"}
STAGE_KEYS = {"likelihood", "likelihood_name", "impact", "impact_name", "level", "colour",
              "high"}
TABLES = ("ai_system", "model_version", "risk_matrix", "risk", "risk_score", "risk_link")


def day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).date().isoformat()


def ok(cli: Any, ws: Path, *args: str) -> CliResult:
    r: CliResult = cli("-w", str(ws), *args)
    assert r.code == 0, (args, r.out, r.err)
    return r


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    return json.loads(ok(cli, ws, *args, "--json").out)


def rows(ws: Path) -> tuple[int, ...]:
    return tuple(query(ws, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES)


@contextmanager
def nothing_written(ws: Path) -> Iterator[None]:
    """The workspace byte-identical, with as many audit events and register rows."""
    before = rows(ws)
    with unchanged(ws):
        yield
    assert rows(ws) == before


def tamper(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(path)) as con:
        con.execute(sql, params)
        con.commit()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ws(lib_ws: Path, cli: Any) -> Path:
    """The library workspace with AI-1 (high risk, Annex III 4) and RK-1 scored on 5x5."""
    ok(cli, lib_ws, "system", "add", "CV screener", "--tier", "high", "--tier-justification",
       "Annex III 4(a): ranks job applicants", "--role", "deployer", "--annex-iii", "4",
       "--owner", "Dana")
    ok(cli, lib_ws, "risk", "add", "--title", "Biased ranking", "--system", "AI-1",
       "--category", "bias & fairness", "--inherent", "4/5", "--current", "3/4",
       "--residual", "2/3", "--control", "GOV-1")
    return lib_ws


MATRIX = """\
code: mine
name: Three by two
likelihood:
  - {name: Low}
  - {name: Mid}
  - {name: Top}
impact:
  - {name: Small}
  - {name: Big}
levels:
  - {name: Green, colour: "#00aa00"}
  - {name: Red, colour: "#aa0000", high: true}
grid:
  - [Green, Green]
  - [Green, Red]
  - [Red, Red]
"""


# ----------------------------------------------------------------------- systems
def test_system_add_list_show_set_and_model_versions(cli: Any, lib_ws: Path) -> None:
    r = ok(cli, lib_ws, "system", "add", "CV screener", "--tier", "high",
           "--tier-justification", "Annex III 4(a)", "--role", "deployer", "--annex-iii", "4",
           "--purpose", "Ranks applicants", "--owner", "Dana")
    assert r.out == 'added AI-1 "CV screener" (high, deployer, Annex III area 4)\n'
    added = run_json(cli, lib_ws, "system", "add", "Chatbot", "--tier", "limited",
                     "--tier-justification", "Art. 50 transparency", "--role", "provider",
                     "--lifecycle", "production")
    assert set(added) == SYSTEM_KEYS | {"models", "risks", "history"}
    assert added["id"] == "AI-2" and added["lifecycle"] == "production"
    assert added["annex_iii"] is None and added["history"][0]["action"] == "ai_system.create"

    listed = run_json(cli, lib_ws, "system", "list")
    assert [s["name"] for s in listed] == ["CV screener", "Chatbot"]  # by name
    assert all(set(s) == SYSTEM_KEYS | {"risks"} and s["risks"] == 0 for s in listed)
    text = ok(cli, lib_ws, "system", "list").out.splitlines()
    assert text[0].split() == ["ID", "NAME", "TIER", "ROLE", "LIFECYCLE", "OWNER", "RISKS"]
    assert text[1].split()[:2] == ["AI-1", "CV"] and text[1].split()[-1] == "0"

    assert ok(cli, lib_ws, "system", "model", "AI-1", "1.0", "--status", "approved",
              "--limitations", "English only").out == \
        "AI-1: added model version 1.0 (approved)\n"
    model = run_json(cli, lib_ws, "system", "model", "cv screener", "1.0", "--status",
                     "restricted")
    assert model == model | {"system": "AI-1", "version": "1.0", "created": False,
                             "approval_status": "restricted", "limitations": "English only",
                             "change": {"approval_status": {"from": "approved",
                                                            "to": "restricted"}}}
    assert ok(cli, lib_ws, "system", "model", "AI-1", "1.0", "--status", "restricted").out \
        == "AI-1: model version 1.0 no change\n"

    changed = run_json(cli, lib_ws, "system", "set", "AI-1", "--lifecycle", "production",
                       "--owner", "Eve")
    assert changed["change"] == {"owner": {"from": "Dana", "to": "Eve"},
                                 "lifecycle": {"from": "development", "to": "production"}}
    assert ok(cli, lib_ws, "system", "set", "AI-1", "--owner", "Eve").out == \
        "AI-1: no change\n"
    # leaving the high tier clears the Annex III area in the same change
    ok(cli, lib_ws, "system", "set", "AI-1", "--tier", "limited", "--tier-justification",
       "re-assessed", "--annex-iii", "")

    shown = run_json(cli, lib_ws, "system", "show", "AI-1")
    assert shown["tier"] == "limited" and shown["annex_iii_area"] is None
    assert shown["models"] == [shown["models"][0] | {"version": "1.0",
                                                     "approval_status": "restricted",
                                                     "limitations": "English only"}]
    assert [e["action"] for e in shown["history"]] == [
        "ai_system.create", "model_version.create", "model_version.update",
        "ai_system.update", "ai_system.update"]
    text = ok(cli, lib_ws, "system", "show", "CV screener").out
    assert text.startswith("AI-1  CV screener\n")
    assert "lifecycle: development → production" in text
    assert "approval status: approved → restricted" in text
    assert "tier: high → limited" in text
    assert "  1.0  restricted  English only" in text


# ----------------------------------------------------------------------- risks
def test_risk_add_score_show_with_history_and_trend(cli: Any, ws: Path) -> None:
    d = run_json(cli, ws, "risk", "show", "RK-1")
    assert set(d) == RISK_KEYS
    assert d["category"] == "bias-and-fairness" and d["matrix"] == "5x5@1"
    assert set(d["inherent"]) == STAGE_KEYS
    assert d["inherent"] | {"colour": ""} == {
        "likelihood": 4, "likelihood_name": "Likely", "impact": 5, "impact_name": "Severe",
        "level": "Very high", "colour": "", "high": True}
    assert (d["current"]["level"], d["residual"]["level"]) == ("High", "Medium")
    assert d["links"] == [{"kind": "control", "target": "GOV-1"}]
    assert d["trend"] == ["Medium"] and d["history"][0]["note"] == "first assessment"

    r = ok(cli, ws, "risk", "score", "RK-1", "--residual", "likely/major", "--note", "drift")
    assert r.out == ('scored RK-1 "Biased ranking" (5x5@1: inherent Very high, current High, '
                     "residual High)\n")
    d = run_json(cli, ws, "risk", "score", "RK-1", "--residual", "2/3")
    assert d["trend"] == ["Medium", "High", "Medium"]
    assert [h["residual"]["level"] for h in d["history"]] == ["Medium", "High", "Medium"]
    assert d["history"][1]["note"] == "drift"
    assert query(ws, "SELECT count(*) FROM risk_score")[0][0] == 3

    text = ok(cli, ws, "risk", "show", "RK-1").out
    assert text.startswith("RK-1  Biased ranking\n")
    assert "  inherent  Very high  likelihood 4 Likely, impact 5 Severe  (needs treatment)" \
        in text
    assert "trend      Medium → High → Medium" in text
    assert "  control  GOV-1" in text

    # re-assessment on another matrix: every stage again
    d = run_json(cli, ws, "risk", "score", "RK-1", "--matrix", "3x3", "--inherent", "3/3",
                 "--current", "2/2", "--residual", "1/1")
    assert d["matrix"] == "3x3@1" and d["residual"]["level"] == "Low"
    assert d["history"][-1]["matrix"] == "3x3@1"


def test_risk_add_with_every_option(cli: Any, ws: Path, tmp_path: Path) -> None:
    ok(cli, ws, "evidence", "add", str(write(tmp_path / "a.txt", "x")), "--title", "Audit")
    d = run_json(cli, ws, "risk", "add", "--title", "Membership inference", "--system",
                 "CV screener", "--category", "privacy-leakage", "--matrix", "4x4@1",
                 "--inherent", "3/4", "--cause", "Overfitted model", "--event",
                 "Attacker infers membership", "--consequence", "GDPR breach", "--owner",
                 "DPO", "--knowledge", "low", "--knowledge-justification", "No red team yet",
                 "--review-on", day(30), "--review-every", "90", "--control", "SEC-1",
                 "--control", "sec-2", "--clause", CLAUSE, "--evidence", "EV-1")
    assert d == d | {"id": "RK-2", "matrix": "4x4@1", "knowledge": "low", "owner": "DPO",
                     "review_on": day(30), "review_every_days": 90, "treatment": "open",
                     "current": None, "residual": None, "system_id": "AI-1"}
    assert d["links"] == [{"kind": "control", "target": "SEC-1"},
                          {"kind": "control", "target": "SEC-2"},
                          {"kind": "clause", "target": CLAUSE},
                          {"kind": "evidence", "target": "EV-1"}]
    r = ok(cli, ws, "risk", "add", "--title", "Unscored", "--system", "AI-1", "--category",
           "other")
    assert r.out == 'added RK-3 "Unscored" (5x5@1: not scored)\n'
    assert "trend" not in ok(cli, ws, "risk", "show", "RK-3").out


def test_treat_accept_set_link_unlink(cli: Any, ws: Path) -> None:
    assert ok(cli, ws, "risk", "treat", "RK-1", "mitigate").out == \
        "RK-1: treatment open → mitigate\n"
    assert run_json(cli, ws, "risk", "treat", "RK-1", "mitigate") == {
        "id": "RK-1", "treatment": "mitigate", "change": {}}
    acc = run_json(cli, ws, "risk", "accept", "RK-1", "--approver", "CRO",
                   "--justification", "Within appetite", "--expires", day(90))
    assert acc == acc | {"id": "RK-1", "treatment": "accept", "accepted_by": "CRO",
                         "acceptance_expires": day(90)}
    assert "accepted    by CRO until" in ok(cli, ws, "risk", "show", "RK-1").out
    # leaving acceptance ends it
    ok(cli, ws, "risk", "treat", "RK-1", "transfer")
    d = run_json(cli, ws, "risk", "show", "RK-1")
    assert (d["treatment"], d["accepted_by"], d["acceptance_expires"]) == ("transfer", None,
                                                                          None)

    ok(cli, ws, "system", "add", "Chatbot", "--tier", "limited", "--tier-justification",
       "Art. 50", "--role", "provider")
    changed = run_json(cli, ws, "risk", "set", "RK-1", "--system", "Chatbot", "--owner", "Ann",
                       "--review-on", day(10))
    assert changed["system"] == "Chatbot" and changed["owner"] == "Ann"
    assert set(changed["change"]) == {"system_id", "owner", "review_on"}

    assert run_json(cli, ws, "risk", "link", "RK-1", "--control", "SEC-1", "--clause",
                    CLAUSE) == {"id": "RK-1", "linked": ["SEC-1", CLAUSE]}
    assert ok(cli, ws, "risk", "unlink", "RK-1", "--clause", CLAUSE).out == \
        f"unlinked RK-1 from {CLAUSE}\n"
    assert run_json(cli, ws, "risk", "unlink", "RK-1", "--control", "GOV-1") == {
        "id": "RK-1", "unlinked": "GOV-1"}
    assert run_json(cli, ws, "risk", "show", "RK-1")["links"] == [
        {"kind": "control", "target": "SEC-1"}]


def test_risk_list_table_filters_and_order(cli: Any, ws: Path) -> None:
    ok(cli, ws, "system", "add", "Chatbot", "--tier", "minimal", "--tier-justification",
       "internal FAQ", "--role", "provider")
    ok(cli, ws, "risk", "add", "--title", "Prompt injection " + "x" * 60, "--system", "AI-2",
       "--category", "security", "--inherent", "5/5", "--owner", "Sam")
    ok(cli, ws, "risk", "treat", "RK-2", "mitigate")
    listed = run_json(cli, ws, "risk", "list")
    assert [r["id"] for r in listed] == ["RK-2", "RK-1"]  # highest latest level first
    assert all(set(r) == ROW_KEYS for r in listed)
    assert listed[1]["controls"] == ["GOV-1"]
    lines = ok(cli, ws, "risk", "list").out.splitlines()
    assert lines[0].split() == ["ID", "LEVEL", "TITLE", "SYSTEM", "TREATMENT", "OWNER",
                                "REVIEW", "ON"]
    assert lines[1].startswith("RK-2  Very high (I)  Prompt injection xxx")
    assert "…" in lines[1] and "mitigate" in lines[1]
    assert lines[2].startswith("RK-1  Medium (R)")
    assert [r["id"] for r in run_json(cli, ws, "risk", "list", "--system", "CV screener")] \
        == ["RK-1"]
    assert [r["id"] for r in run_json(cli, ws, "risk", "list", "--treatment", "mitigate")] \
        == ["RK-2"]
    assert [r["id"] for r in run_json(cli, ws, "risk", "list", "--category", "bias & "
                                                                            "fairness")] \
        == ["RK-1"]
    assert ok(cli, ws, "risk", "list", "--category", "data-drift").out == "no risks\n"
    assert run_json(cli, ws, "system", "list")[0]["risks"] == 1


# ----------------------------------------------------------------------- heat map
def test_heatmap_counts_per_stage(cli: Any, ws: Path) -> None:
    ok(cli, ws, "risk", "add", "--title", "Drift", "--system", "AI-1", "--category",
       "data-drift", "--inherent", "4/5", "--residual", "2/3")
    ok(cli, ws, "risk", "add", "--title", "Unscored", "--system", "AI-1", "--category",
       "other")
    ok(cli, ws, "risk", "add", "--title", "Elsewhere", "--system", "AI-1", "--category",
       "other", "--matrix", "3x3", "--residual", "1/1")
    h = run_json(cli, ws, "risks", "heatmap")
    assert (h["matrix"], h["stage"], h["total"], h["unscored"], h["other_matrices"]) == (
        "5x5@1", "residual", 2, 1, 1)
    assert set(h) == {"matrix", "stage", "total", "unscored", "other_matrices",
                      "likelihood", "impact", "cells"}
    assert len(h["cells"]) == 25
    counted = {(c["likelihood"], c["impact"]): (c["count"], sorted(c["risks"]), c["level"])
               for c in h["cells"] if c["count"]}
    assert counted == {(2, 3): (2, ["RK-1", "RK-2"], "Medium")}
    inherent = run_json(cli, ws, "risks", "heatmap", "--stage", "inherent")
    assert {(c["likelihood"], c["impact"]): c["count"] for c in inherent["cells"]
            if c["count"]} == {(4, 5): 2}
    current = run_json(cli, ws, "risks", "heatmap", "--stage", "current")
    assert current["total"] == 1 and current["unscored"] == 2
    other = run_json(cli, ws, "risks", "heatmap", "--matrix", "3x3@1")
    assert (other["matrix"], other["total"], other["other_matrices"]) == ("3x3@1", 1, 3)

    text = ok(cli, ws, "risks", "heatmap", "--stage", "inherent").out.splitlines()
    assert text[0] == ("inherent risk on 5x5@1 (5 × 5 likelihood × impact): 2 scored, "
                       "1 unscored, 1 on other matrices")
    grid = text[2:8]
    assert grid[0].split()[-1] == "Severe"
    assert grid[1].startswith("5 Almost certain") and grid[-1].startswith("1 Rare")
    assert grid[2].split()[-2:] == ["2", "VH"]  # likelihood 4 Likely × impact 5 Severe
    assert grid[5].split()[2:4] == ["·", "L"]
    assert text[-1] == "levels: L Low, M Medium, H High, VH Very high; · none"


# ----------------------------------------------------------------------- checks
def test_checks_fail_with_exit_1_then_pass_once_fixed(cli: Any, ws: Path,
                                                      tmp_path: Path) -> None:
    assert ok(cli, ws, "risks", "check").out == "all 1 risks pass the checks\n"
    ok(cli, ws, "risk", "add", "--title", "Worse after", "--system", "AI-1", "--category",
       "concept-drift", "--current", "2/2", "--residual", "3/3")
    ok(cli, ws, "risk", "add", "--title", "No control", "--system", "AI-1", "--category",
       "overfitting", "--residual", "1/1")
    ok(cli, ws, "risk", "treat", "RK-3", "mitigate")
    ok(cli, ws, "risk", "add", "--title", "Severe residual", "--system", "AI-1",
       "--category", "security", "--current", "5/5", "--residual", "5/5", "--control",
       "SEC-1")
    r = cli("-w", str(ws), "risks", "check", "--json")
    assert r.code == 1, r.err
    report = json.loads(r.out)
    assert report["passed"] is False and report["risks"] == 4
    assert {(f["check"], f["risk"]) for f in report["findings"]} == {
        ("residual-above-current", "RK-2"), ("mitigate-without-control", "RK-3"),
        ("high-residual-without-current-evidence", "RK-4")}
    assert report["counts"]["review-overdue"] == 0
    assert set(report["findings"][0]) == {"check", "risk", "title", "message"}
    r = cli("-w", str(ws), "risks", "check")
    assert r.code == 1 and r.err == ""
    assert "residual-above-current: the residual level is above the current level (1)" in r.out
    assert "RK-4" in r.out and "SEC-1 evidence none" in r.out
    assert r.out.splitlines()[-1] == "3 findings on 3 of 4 risks"

    # fixed: re-scored, a control linked, current evidence for SEC-1
    ok(cli, ws, "risk", "score", "RK-2", "--residual", "1/1")
    ok(cli, ws, "risk", "link", "RK-3", "--control", "OPS-1")
    ok(cli, ws, "evidence", "add", str(write(tmp_path / "pen.txt", "pen test")), "--title",
       "Pen test", "--control", "SEC-1", "--valid-until", day(365))
    assert ok(cli, ws, "risks", "check").out == "all 4 risks pass the checks\n"
    assert run_json(cli, ws, "risks", "check")["passed"] is True


def test_accepted_without_approver_is_found_and_verify_reports_the_tampering(
        cli: Any, ws: Path) -> None:
    """`risk accept` always records an approver: only an edit outside Crosswalk leaves an
    accepted risk without one, which the check finds and `verify` reports."""
    ok(cli, ws, "risk", "accept", "RK-1", "--approver", "CRO", "--justification", "ok",
       "--expires", day(30))
    tamper(ws, "UPDATE risk SET accepted_by = NULL WHERE id = 1")
    r = cli("-w", str(ws), "risks", "check", "--json")
    assert r.code == 1
    assert [(f["check"], f["risk"]) for f in json.loads(r.out)["findings"]] == [
        ("accepted-without-approver", "RK-1")]
    v = cli("-w", str(ws), "verify")
    assert v.code == 1 and "BROKEN" in v.out


def test_acceptance_expired_and_review_overdue_found_later(cli: Any, tmp_path: Path) -> None:
    """Accepted and scheduled with the workspace's clock in 2020, checked through the CLI
    today: the acceptance has expired and the review is overdue; renewing both passes."""
    path = tmp_path / "old.db"
    store = make_store(path, clock=SteppingClock(datetime(2020, 1, 1, 9, tzinfo=UTC)))
    try:
        from app.services.risks import accept_risk, add_risk
        from app.services.systems import add_system

        add_system(store, name="Scorer", tier="minimal", tier_justification="internal",
                   operator_role="provider")
        add_risk(store, title="Stale", system="AI-1", category="data-drift",
                 residual="1/1", review_on="2020-06-01")
        accept_risk(store, "RK-1", approver="CRO", justification="small",
                    expires="2021-01-01")
    finally:
        store.close()
    r = cli("-w", str(path), "risks", "check", "--json")
    assert r.code == 1, r.err
    assert [(f["check"], f["risk"]) for f in json.loads(r.out)["findings"]] == [
        ("acceptance-expired", "RK-1"), ("review-overdue", "RK-1")]
    text = cli("-w", str(path), "risks", "check").out
    assert "expired 2021-01-01" in text and "due 2020-06-01" in text
    ok(cli, path, "risk", "accept", "RK-1", "--approver", "CRO", "--justification", "renewed",
       "--expires", day(180))
    ok(cli, path, "risk", "set", "RK-1", "--review-on", day(30))
    assert ok(cli, path, "risks", "check").out == "all 1 risks pass the checks\n"
    assert ok(cli, path, "verify").out.startswith("audit chain intact")


# ----------------------------------------------------------------------- matrices
def test_matrix_list_show_add_and_use(cli: Any, ws: Path, tmp_path: Path) -> None:
    listed = run_json(cli, ws, "matrix", "list")
    assert [(m["ref"], m["in_workspace"], m["risks"]) for m in listed] == [
        ("5x5@1", True, 1), ("3x3@1", False, 0), ("4x4@1", False, 0)]
    assert set(listed[0]) == {"ref", "code", "version", "name", "description", "likelihood",
                              "impact", "levels", "grid", "in_workspace", "risks"}
    text = ok(cli, ws, "matrix", "list").out.splitlines()
    assert text[0].split()[:3] == ["REF", "SIZE", "LEVELS"]

    shown = ok(cli, ws, "matrix", "show", "5x5").out
    assert shown.startswith("5x5@1  5 × 5 likelihood × impact\n")
    assert [line.split()[3:] for line in shown.splitlines()
            if line.startswith("  5 Almost certain")] == [["Medium", "High", "High", "Very",
                                                           "high", "Very", "high"]]
    assert "  Very high    #c62828" in shown

    f = write(tmp_path / "mine.yaml", MATRIX)
    assert ok(cli, ws, "matrix", "add", str(f)).out == \
        'added matrix mine@1 "Three by two" (3 × 2, levels Green, Red)\n'
    again = run_json(cli, ws, "matrix", "add", str(write(
        tmp_path / "mine2.json", json.dumps({
            "code": "mine", "likelihood": [{"name": "A"}, {"name": "B"}],
            "impact": [{"name": "C"}, {"name": "D"}],
            "levels": [{"name": "Ok", "colour": "#00ff00"},
                       {"name": "Bad", "colour": "#ff0000", "high": True}],
            "grid": [["Ok", "Ok"], ["Ok", "Bad"]]}))))
    assert (again["ref"], again["in_workspace"], again["risks"]) == ("mine@2", True, 0)
    assert run_json(cli, ws, "matrix", "show", "mine@1")["grid"] == [
        ["Green", "Green"], ["Green", "Red"], ["Red", "Red"]]
    d = run_json(cli, ws, "risk", "add", "--title", "On mine", "--system", "AI-1",
                 "--category", "other", "--matrix", "mine@1", "--residual", "Top/Big")
    assert d["residual"] == d["residual"] | {"level": "Red", "high": True, "likelihood": 3}


# ----------------------------------------------------------------------- bad input
SYSTEM = ("--tier", "high", "--tier-justification", "why", "--role", "provider")
BAD: list[tuple[tuple[str, ...], str]] = [
    (("risk", "score", "RK-1", "--inherent", "6/1"), "likelihood '6' is not on matrix 5x5@1"),
    (("risk", "score", "RK-1", "--current", "1/0"), "impact '0' is not on matrix"),
    (("risk", "score", "RK-1", "--residual", "often/major"), "likelihood 'often'"),
    (("risk", "score", "RK-1", "--residual", "3"), "must be LIKELIHOOD/IMPACT"),
    (("risk", "score", "RK-1"), "give at least one of"),
    (("risk", "score", "RK-1", "--matrix", "3x3", "--residual", "1/1"),
     "is a re-assessment: score inherent, current again"),
    (("risk", "score", "RK-1", "--matrix", "9x9", "--residual", "1/1"), "no risk matrix '9x9'"),
    (("risk", "score", "RK-9", "--residual", "1/1"), "no risk RK-9"),
    (("risk", "add", "--title", "T", "--system", "nope", "--category", "other"),
     "no AI system 'nope'"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "bad"),
     "invalid category 'bad'"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--inherent",
      "6/1"), "likelihood '6' is not on matrix 5x5@1"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--control",
      "SEC-9"), "unknown control 'SEC-9'"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--clause",
      "GDPR Art. 999"), "has no clause 'Art. 999'"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--evidence",
      "EV-7"), "no evidence EV-7"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--review-on",
      "2020-01-01"), "is in the past"),
    (("risk", "add", "--title", "T", "--system", "AI-1", "--category", "other", "--knowledge",
      "total"), "invalid strength of knowledge"),
    (("risk", "add", "--title", " ", "--system", "AI-1", "--category", "other"), "title"),
    (("risk", "accept", "RK-1", "--justification", "j", "--expires", "2099-01-01"),
     "the approver"),
    (("risk", "accept", "RK-1", "--approver", "a", "--expires", "2099-01-01"),
     "the justification"),
    (("risk", "accept", "RK-1", "--approver", "a", "--justification", "j", "--expires",
      "2020-01-01"), "must be after today"),
    (("risk", "accept", "RK-1", "--approver", "a", "--justification", "j", "--expires",
      "soon"), "is not a date"),
    (("risk", "set", "RK-1", "--review-on", "2020-01-01"), "is in the past"),
    (("risk", "set", "RK-1", "--review-on", "next week"), "is not a date"),
    (("risk", "set", "RK-1", "--review-every", "0"), "1 to 3650 days"),
    (("risk", "set", "RK-1", "--category", "vibes"), "invalid category"),
    (("risk", "set", "RK-1", "--system", "nope"), "no AI system 'nope'"),
    (("risk", "set", "RK-1"), "nothing to change"),
    (("risk", "treat", "RK-1", "accept"), "use `risk accept`"),
    (("risk", "treat", "RK-1", "ignore"), "invalid treatment 'ignore'"),
    (("risk", "link", "RK-1", "--control", "GOV-1"), "already linked to GOV-1"),
    (("risk", "link", "RK-1", "--control", "SEC-1", "--control", "NOPE-1"),
     "unknown control"),
    (("risk", "link", "RK-1"), "name a control, a clause or a piece of evidence"),
    (("risk", "unlink", "RK-1", "--control", "SEC-1"), "is not linked to SEC-1"),
    (("risk", "unlink", "RK-1"), "name one --control, --clause or --evidence"),
    (("risk", "list", "--treatment", "nope"), "invalid treatment"),
    (("risk", "list", "--system", "nope"), "no AI system"),
    (("risk", "show", "AI-1"), "is not a risk id"),
    (("risks", "heatmap", "--stage", "final"), "invalid stage 'final'"),
    (("risks", "heatmap", "--matrix", "4x4"), "no risk in the register is scored on"),
    (("system", "add", "X", "--tier", "top", "--tier-justification", "j", "--role",
      "provider"), "invalid tier 'top'"),
    (("system", "add", "X", "--tier", "high", "--tier-justification", "j", "--role",
      "owner"), "invalid operator role 'owner'"),
    (("system", "add", "X", "--tier", "minimal", "--tier-justification", "j", "--role",
      "provider", "--annex-iii", "4"), "applies to high-risk systems"),
    (("system", "add", "X", *SYSTEM, "--annex-iii", "9"), "Annex III area '9'"),
    (("system", "add", "X", "--tier", "high", "--role", "provider"),
     "needs a written justification"),
    (("system", "add", "X", "--role", "provider"), "Missing option '--tier'"),
    (("system", "add", "cv SCREENER", *SYSTEM), "already in the inventory"),
    (("system", "add", "X", *SYSTEM, "--lifecycle", "beta"), "invalid lifecycle"),
    (("system", "set", "AI-1", "--tier", "minimal", "--tier-justification", "j"),
     "applies to high-risk systems"),
    (("system", "set", "AI-1", "--tier-justification", ""), "needs a written justification"),
    (("system", "set", "AI-1"), "nothing to change"),
    (("system", "set", "AI-9", "--owner", "x"), "no AI system 'AI-9'"),
    (("system", "show", "nobody"), "no AI system 'nobody'"),
    (("system", "model", "AI-1", "2.0", "--status", "maybe"), "invalid approval status"),
    (("system", "model", "AI-1", " "), "model version"),
    (("system", "model", "AI-7", "1.0"), "no AI system 'AI-7'"),
    (("matrix", "show", "9x9"), "no risk matrix '9x9'"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_refused_and_nothing_written(cli: Any, ws: Path, args: tuple[str, ...],
                                                  fragment: str) -> None:
    with nothing_written(ws):
        assert_error(cli("-w", str(ws), *args), fragment)


def _matrix_text(**changes: str) -> str:
    text = MATRIX
    for old, new in changes.items():
        text = text.replace(old.replace("_", " "), new)
    return text


BAD_MATRICES = [
    ("incomplete grid", MATRIX.replace("  - [Red, Red]\n", ""),
     "the grid needs one row per likelihood (3 rows), not 2"),
    ("short row", MATRIX.replace("[Green, Red]", "[Green]"),
     "grid row 2 (Mid) needs one level per impact (2), not 1"),
    ("duplicate levels", MATRIX.replace("{name: Red,", "{name: green,"),
     "level 'green' appears twice"),
    ("duplicate likelihood", MATRIX.replace("{name: Mid}", "{name: Low}"),
     "likelihood: level 'Low' appears twice"),
    ("unknown level", MATRIX.replace("[Red, Red]", "[Red, Amber]"),
     "names 'Amber', which is not a level"),
    ("bad colour", MATRIX.replace('"#aa0000"', "red"), "needs a colour like #c62828"),
    ("not yaml", "code: [unclosed\n  - {", "invalid YAML"),
    ("not a mapping", "- just\n- a list\n", "is not a mapping"),
    ("no grid", MATRIX.split("grid:")[0], "has no grid"),
]


@pytest.mark.parametrize(("text", "fragment"), [(t, f) for _, t, f in BAD_MATRICES],
                         ids=[n for n, _, _ in BAD_MATRICES])
def test_bad_matrix_file_is_refused(cli: Any, ws: Path, tmp_path: Path, text: str,
                                    fragment: str) -> None:
    f = write(tmp_path / "bad.yaml", text)
    with nothing_written(ws):
        assert_error(cli("-w", str(ws), "matrix", "add", str(f)), fragment)


def test_same_matrix_twice_and_missing_file_are_refused(cli: Any, ws: Path,
                                                        tmp_path: Path) -> None:
    f = write(tmp_path / "mine.yaml", MATRIX)
    ok(cli, ws, "matrix", "add", str(f))
    with nothing_written(ws):
        assert_error(cli("-w", str(ws), "matrix", "add", str(f)), "is already this matrix")
        assert_error(cli("-w", str(ws), "matrix", "add", str(tmp_path / "none.yaml")))


def test_writes_are_audited(cli: Any, ws: Path) -> None:
    before = event_count(ws)
    ok(cli, ws, "risk", "score", "RK-1", "--residual", "1/1")
    assert event_count(ws) == before + 2  # risk.score and risk_score.create
    actions = [e["action"] for e in run_json(cli, ws, "log", "-n", "2")]
    assert actions == ["risk_score.create", "risk.score"]


def test_typed_text_is_printed_with_escapes(cli: Any, ws: Path) -> None:
    """Control characters are refused on input; one written behind Crosswalk's back is shown
    as an escape, never as itself (`--json` keeps the raw value)."""
    with nothing_written(ws):
        assert_error(cli("-w", str(ws), "risk", "set", "RK-1", "--owner", "Eve\u202eevil"),
                     "control character")
    tamper(ws, "UPDATE risk SET owner = ? WHERE id = 1", ("Eve\u202eevil",))
    tamper(ws, "UPDATE ai_system SET name = ? WHERE id = 1", ("CV\x1b[31m",))
    out = (ok(cli, ws, "risk", "show", "RK-1").out + ok(cli, ws, "risk", "list").out
           + ok(cli, ws, "system", "list").out + ok(cli, ws, "system", "show", "AI-1").out)
    assert "\u202e" not in out and "\x1b" not in out
    assert "Eve\\u202eevil" in out and "CV\\x1b[31m" in out
    assert run_json(cli, ws, "risk", "show", "RK-1")["owner"] == "Eve\u202eevil"
