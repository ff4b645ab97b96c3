"""The risk register on real workspaces: the AI system inventory and its history, risks scored
on pinned matrix versions with an appended history, treatment and acceptance, links, the
register's order and filters, the analyst's own matrices, the heat map and the quality checks.
Every refusal is checked to write nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.domain.clock import SteppingClock
from app.errors import CrosswalkError, ImportFailed, InvalidInput, NotFound
from app.services import audit
from app.services.evidence import Source, add_evidence
from app.services.risk_checks import CHECKS, check_risks, heatmap, overdue_reviews
from app.services.risk_matrices import (
    add_matrix,
    defaults,
    get_matrix,
    list_matrices,
    matrices_by_id,
)
from app.services.risks import (
    accept_risk,
    add_risk,
    get_risk,
    link_risk,
    list_risks,
    score_risk,
    treat_risk,
    unlink_risk,
    update_risk,
)
from app.services.systems import (
    add_system,
    get_system,
    list_systems,
    set_model_version,
    update_system,
)
from app.store import Store
from tests.conftest import FIXED_START, make_store

CLAUSE = "GDPR Art. 32(1)(b)"
TODAY = "2026-11-26"  # FIXED_START's day
PAST = datetime(2026, 1, 10, 9, 0, 0, tzinfo=UTC)  # a clock to make things due later


@pytest.fixture
def ws(lib_ws: Path) -> Iterator[Store]:
    """A workspace with the bundled library (clauses to link to), on a fixed clock."""
    s = make_store(lib_ws, library=True)
    yield s
    s.close()


def system(store: Store, name: str = "Credit scoring", **given: Any) -> int:
    fields = {"name": name, "tier": "limited", "operator_role": "deployer",
              "tier_justification": "Customer-facing chatbot; transparency duties only."}
    row = add_system(store, **(fields | given))
    assert row.id is not None
    return row.id


def risk(store: Store, title: str = "Biased scores", *, sys: int | str = 1,
         category: str = "bias-and-fairness", **given: Any) -> int:
    row = add_risk(store, title=title, system=sys, category=category, **given)
    assert row.id is not None
    return row.id


def actions_since(store: Store, seq: int) -> list[str]:
    return [e.action for e in reversed(audit.events(store, limit=1000)) if e.seq > seq]


def table_rows(store: Store, table: str) -> int:
    with store.raw() as run:
        return int(run(f"SELECT count(*) FROM {table}").scalar_one())


@contextmanager
def nothing_written(store: Store) -> Iterator[None]:
    """No audit event and no row in any risk table is added by the block."""
    tables = ("ai_system", "model_version", "risk_matrix", "risk", "risk_score", "risk_link")
    before = (audit.event_count(store), [table_rows(store, t) for t in tables])
    yield
    assert (audit.event_count(store), [table_rows(store, t) for t in tables]) == before


def refused(store: Store, error: type[CrosswalkError], fn: Any, *fragments: str) -> str:
    with nothing_written(store), pytest.raises(error) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def intact(store: Store) -> None:
    report = audit.verify(store)
    assert report.intact, report.problems


def write_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ systems


def test_add_system_normalises_and_audits(ws: Store) -> None:
    seq = audit.head_seq(ws)
    row = add_system(ws, name="  Triage assistant ", tier="General purpose",
                     tier_justification="A GPAI model used as is.",
                     operator_role="Authorised representative", purpose="Sort tickets",
                     owner="Ana", lifecycle="Production")
    assert (row.id, row.name, row.tier, row.operator_role, row.lifecycle, row.owner,
            row.annex_iii_area) == (1, "Triage assistant", "general-purpose",
                                    "authorised-representative", "production", "Ana", None)
    assert (row.created_by, row.created_at[:10]) == ("tester", TODAY)
    assert actions_since(ws, seq) == ["ai_system.create"]
    assert [s.name for s in list_systems(ws)] == ["Triage assistant"]
    intact(ws)


def test_system_names_are_unique_ignoring_case(ws: Store) -> None:
    system(ws, "Credit scoring")
    refused(ws, InvalidInput, lambda: system(ws, "  CREDIT Scoring "),
            "an AI system named 'CREDIT Scoring' is already in the inventory")
    system(ws, "Ärzte-Triage")
    refused(ws, InvalidInput, lambda: system(ws, "ärzte-triage"), "already in the inventory")


def test_underscores_and_percent_in_names_are_not_wildcards(ws: Store) -> None:
    system(ws, "creditXscoring")
    assert system(ws, "credit_scoring") == 2  # '_' is not "any character"
    assert get_system(ws, "credit_scoring").system.id == 2
    assert get_system(ws, "CREDITXSCORING").system.id == 1
    with pytest.raises(NotFound, match="no AI system 'credit%' in the inventory"):
        get_system(ws, "credit%")


def test_a_system_named_like_an_id_is_found_by_name(ws: Store) -> None:
    system(ws, "Credit scoring")
    sid = system(ws, "AI-Assistant")
    assert get_system(ws, "ai-assistant").system.id == sid
    assert get_system(ws, "AI-1").system.name == "Credit scoring"
    assert get_system(ws, "2").system.name == "AI-Assistant"
    rid = risk(ws, sys="AI-Assistant")
    assert get_risk(ws, rid).system == "AI-Assistant"
    with pytest.raises(NotFound, match="no AI system 'AI-9'"):
        get_system(ws, "AI-9")


@pytest.mark.parametrize("justification", ["", "   "])
def test_a_tier_needs_a_justification(ws: Store, justification: str) -> None:
    refused(ws, InvalidInput, lambda: system(ws, tier="high",
                                             tier_justification=justification),
            "the tier high needs a written justification")


def test_annex_iii_area_only_for_high_risk(ws: Store) -> None:
    refused(ws, InvalidInput, lambda: system(ws, tier="limited", annex_iii_area="4"),
            "an Annex III area applies to high-risk systems; this one is limited")
    sid = system(ws, tier="high", annex_iii_area=" 4 ")
    detail = get_system(ws, sid).as_dict()
    assert (detail["tier"], detail["annex_iii_area"], detail["annex_iii"]) == (
        "high", "4", "Employment, workers' management and access to self-employment")


@pytest.mark.parametrize(("given", "fragment"), [
    ({"tier": "risky"}, "invalid tier 'risky'; choose one of: prohibited, high"),
    ({"operator_role": "user"}, "invalid operator role 'user'"),
    ({"lifecycle": "beta"}, "invalid lifecycle 'beta'"),
    ({"tier": "high", "annex_iii_area": "9"}, "Annex III area '9' is not one of 1–8"),
    ({"tier": "high", "annex_iii_area": "III"}, "Annex III area 'III' is not one of 1–8"),
    ({"name": "  "}, "name is empty"),
    ({"name": "two\nlines"}, "name must be a single line"),
])
def test_bad_system_fields(ws: Store, given: dict[str, Any], fragment: str) -> None:
    refused(ws, InvalidInput, lambda: system(ws, **given), fragment)


def test_update_system_records_from_and_to(ws: Store) -> None:
    sid = system(ws)
    row, change = update_system(ws, "AI-1", lifecycle="production", owner="Ana",
                                purpose=None)
    assert change == {"lifecycle": {"from": "development", "to": "production"},
                      "owner": {"from": "", "to": "Ana"}}
    assert (row.lifecycle, row.owner) == ("production", "Ana")
    detail = get_system(ws, sid)
    assert [e["action"] for e in detail.history] == ["ai_system.create", "ai_system.update"]
    assert detail.history[1]["change"] == change
    assert detail.history[0]["change"]["lifecycle"] == "development"  # not overwritten
    # a no-op writes nothing
    with nothing_written(ws):
        _, same = update_system(ws, sid, lifecycle="Production", owner="Ana")
    assert same == {}
    assert len(get_system(ws, sid).history) == 2
    intact(ws)


def test_update_system_refusals(ws: Store) -> None:
    system(ws, "Credit scoring", tier="high", annex_iii_area="5")
    system(ws, "Chatbot")
    refused(ws, InvalidInput, lambda: update_system(ws, 1), "nothing to change")
    refused(ws, InvalidInput, lambda: update_system(ws, 1, tier="minimal"),
            "an Annex III area applies to high-risk systems; this one is minimal")
    refused(ws, InvalidInput, lambda: update_system(ws, 1, tier_justification=" "),
            "needs a written justification")
    refused(ws, InvalidInput, lambda: update_system(ws, 1, name="CHATBOT"),
            "an AI system named 'Chatbot' is already in the inventory")
    refused(ws, NotFound, lambda: update_system(ws, "AI-7", owner="x"), "no AI system 'AI-7'")
    # leaving the high tier and dropping the area together is fine
    row, change = update_system(ws, 1, tier="minimal", annex_iii_area="")
    assert (row.tier, row.annex_iii_area) == ("minimal", None)
    assert change["annex_iii_area"] == {"from": "5", "to": None}
    # renaming a system to its own name in another case is not a clash
    _, change = update_system(ws, "chatbot", name="ChatBot")
    assert change == {"name": {"from": "Chatbot", "to": "ChatBot"}}


def test_model_versions_are_added_then_changed(ws: Store) -> None:
    sid = system(ws)
    seq = audit.head_seq(ws)
    row, change = set_model_version(ws, "Credit scoring", " 1.0 ")
    assert (row.version, row.approval_status, row.limitations) == ("1.0", "pending", "")
    assert change == {"system_id": sid, "version": "1.0", "approval_status": "pending",
                      "limitations": ""}
    row, change = set_model_version(ws, sid, "1.0", approval_status="Approved",
                                    limitations="Not validated for applicants under 21.")
    assert change == {"approval_status": {"from": "pending", "to": "approved"},
                      "limitations": {"from": "",
                                      "to": "Not validated for applicants under 21."}}
    with nothing_written(ws):
        assert set_model_version(ws, sid, "1.0", approval_status="approved")[1] == {}
    assert actions_since(ws, seq) == ["model_version.create", "model_version.update"]
    detail = get_system(ws, sid)
    assert [(m.version, m.approval_status) for m in detail.models] == [("1.0", "approved")]
    assert [(e["action"], e.get("model_version")) for e in detail.history] == [
        ("ai_system.create", None), ("model_version.create", "1.0"),
        ("model_version.update", "1.0")]
    assert detail.as_dict()["models"][0]["limitations"].startswith("Not validated")
    refused(ws, InvalidInput, lambda: set_model_version(ws, sid, "1.0",
                                                        approval_status="maybe"),
            "invalid approval status 'maybe'")
    refused(ws, InvalidInput, lambda: set_model_version(ws, sid, " "),
            "the model version is empty")
    refused(ws, NotFound, lambda: set_model_version(ws, "Nope", "2.0"), "no AI system 'Nope'")
    intact(ws)


# ------------------------------------------------------------------ adding risks


def test_add_risk_scores_links_and_audits(ws: Store, tmp_path: Path) -> None:
    sid = system(ws)
    add_evidence(ws, Source(path=write_file(tmp_path / "bias.txt", "report")),
                 title="Bias audit")
    seq = audit.head_seq(ws)
    rid = risk(ws, "Biased credit scores", sys="Credit scoring", category="Bias & fairness",
               inherent="5/4", current="likely / major", residual=(2, "Moderate"),
               controls=["sec1", "SEC-1", "GOV-4"], clauses=[CLAUSE], evidence=["EV-1"],
               cause="Skewed training data", event="Loans refused",
               consequence="Discrimination", owner="Ana", knowledge="High",
               knowledge_justification="Measured on holdout data", review_on="2027-01-15",
               review_every_days="90")
    assert rid == 1
    assert actions_since(ws, seq) == [
        "risk_matrix.create", "risk.create", "risk_score.create", "risk_link.create",
        "risk_link.create", "risk_link.create", "risk_link.create"]
    created = audit.events(ws, limit=7)
    assert len({e.at for e in created}) == 1  # one transaction
    change = next(audit.parse_change(e.change) for e in created if e.action == "risk.create")
    assert change["matrix"] == "5x5@1" and change["system_id"] == sid
    assert change["inherent"] == {"likelihood": 5, "impact": 4, "level": "Very high"}
    assert change["residual"] == {"likelihood": 2, "impact": 3, "level": "Medium"}
    d = get_risk(ws, "rk1")
    assert (d.label, d.system, d.matrix.ref, d.risk.category, d.risk.knowledge) == (
        "RK-1", "Credit scoring", "5x5@1", "bias-and-fairness", "high")
    assert (d.risk.review_on, d.risk.review_every_days, d.risk.treatment) == (
        "2027-01-15", 90, "open")
    assert d.stage("inherent")[:3] == (5, 4, "Very high")
    assert d.stage("current")[:3] == (4, 4, "High") and d.stage("current").high
    assert d.stage("residual")[:3] == (2, 3, "Medium") and not d.stage("residual").high
    assert d.links == [("control", "SEC-1"), ("control", "GOV-4"), ("clause", CLAUSE),
                       ("evidence", "EV-1")]
    assert [h["note"] for h in d.history] == ["first assessment"]
    as_dict = d.as_dict()
    assert as_dict["current"]["likelihood_name"] == "Likely"
    assert as_dict["current"]["impact_name"] == "Major"
    intact(ws)


def test_the_default_matrix_enters_the_workspace_once(ws: Store) -> None:
    system(ws)
    assert [v.id for v in list_matrices(ws)] == [None, None, None]
    seq = audit.head_seq(ws)
    risk(ws, "One", inherent="3/3")
    risk(ws, "Two")
    risk(ws, "Three", residual="1/1")
    assert actions_since(ws, seq).count("risk_matrix.create") == 1
    assert table_rows(ws, "risk_matrix") == 1
    views = {v.matrix.ref: v for v in list_matrices(ws)}
    assert (views["5x5@1"].id, views["5x5@1"].risks) == (1, 3)
    assert views["3x3@1"].id is None and views["4x4@1"].id is None
    assert views["5x5@1"].matrix == defaults()["5x5"]
    # an unscored risk writes no history row
    assert [len(get_risk(ws, n).history) for n in (1, 2, 3)] == [1, 0, 1]
    intact(ws)


def test_add_risk_refusals_write_nothing(ws: Store, tmp_path: Path) -> None:
    system(ws)
    refused(ws, NotFound, lambda: risk(ws, sys="Nope", inherent="3/3"),
            "no AI system 'Nope'")
    refused(ws, NotFound, lambda: risk(ws, controls=["SEC-9"]), "unknown control 'SEC-9'")
    refused(ws, NotFound, lambda: risk(ws, clauses=["GDPR Art. 999"]), "GDPR")
    refused(ws, NotFound, lambda: risk(ws, evidence=["EV-99"]), "EV-99")
    refused(ws, InvalidInput, lambda: risk(ws, category="drift"), "invalid category 'drift'")
    refused(ws, InvalidInput, lambda: risk(ws, title=" "), "title is empty")
    refused(ws, InvalidInput, lambda: risk(ws, knowledge="total"),
            "invalid strength of knowledge 'total'")
    refused(ws, InvalidInput, lambda: risk(ws, review_on="2026-11-25"),
            "review on 2026-11-25 is in the past (today is 2026-11-26)")
    refused(ws, InvalidInput, lambda: risk(ws, review_on="soon"), "not a date")
    refused(ws, InvalidInput, lambda: risk(ws, review_every_days="0"),
            "the review cadence '0' must be 1 to 3650 days")
    refused(ws, NotFound, lambda: risk(ws, matrix="7x7"), "no risk matrix '7x7'")
    refused(ws, NotFound, lambda: risk(ws, matrix="5x5@2"), "no risk matrix '5x5@2'")
    refused(ws, InvalidInput, lambda: risk(ws, matrix="5x5@x"), "must be a number")
    # a score off the matrix: the default matrix it would have brought in is not kept
    msg = refused(ws, InvalidInput, lambda: risk(ws, inherent="3/3", residual="6/1"))
    assert msg == ("residual: likelihood '6' is not on matrix 5x5@1 (1 Rare, 2 Unlikely, "
                   "3 Possible, 4 Likely, 5 Almost certain)")
    refused(ws, InvalidInput, lambda: risk(ws, matrix="3x3", current="likely/major"),
            "current: impact 'major' is not on matrix 3x3@1 (1 Minor, 2 Moderate, 3 Severe)")
    refused(ws, InvalidInput, lambda: risk(ws, inherent="3"), "inherent: score '3' must be")
    assert table_rows(ws, "risk_matrix") == 0
    intact(ws)


# ------------------------------------------------------------------ scoring


def test_score_risk_appends_history_and_carries_stages_over(ws: Store) -> None:
    system(ws)
    rid = risk(ws, inherent="5/5")
    seq = audit.head_seq(ws)
    score_risk(ws, "RK-1", current="4/4", note="after the fairness review")
    score_risk(ws, rid, residual="Unlikely/Minor", note="")
    assert actions_since(ws, seq) == ["risk.score", "risk_score.create"] * 2
    d = get_risk(ws, rid)
    assert [d.stage(s)[:2] for s in ("inherent", "current", "residual")] == [
        (5, 5), (4, 4), (2, 2)]
    assert [h["note"] for h in d.history] == ["first assessment", "after the fairness review",
                                              ""]
    assert [(h["inherent"] or {}).get("level") for h in d.history] == ["Very high"] * 3
    assert [(h["current"] or {}).get("level") for h in d.history] == [None, "High", "High"]
    assert [(h["residual"] or {}).get("level") for h in d.history] == [None, None, "Low"]
    assert [h["scored_at"] for h in d.history] == sorted(h["scored_at"] for h in d.history)
    assert table_rows(ws, "risk_score") == 3
    # re-scoring a stage replaces its latest value, not its history
    score_risk(ws, rid, inherent="4/5")
    d = get_risk(ws, rid)
    assert d.stage("inherent")[:2] == (4, 5)
    assert [h["inherent"]["likelihood"] for h in d.history] == [5, 5, 5, 4]
    intact(ws)


def test_score_risk_refusals(ws: Store) -> None:
    system(ws)
    risk(ws, inherent="3/3")
    refused(ws, InvalidInput, lambda: score_risk(ws, 1), "give at least one of --inherent")
    refused(ws, InvalidInput, lambda: score_risk(ws, 1, current="", residual=""),
            "give at least one of")
    refused(ws, InvalidInput, lambda: score_risk(ws, 1, current="0/3"),
            "current: likelihood '0' is not on matrix 5x5@1")
    refused(ws, NotFound, lambda: score_risk(ws, "RK-9", current="1/1"),
            "no risk RK-9 in the register")
    refused(ws, NotFound, lambda: score_risk(ws, "AI-1", current="1/1"),
            "'AI-1' is not a risk id")
    refused(ws, InvalidInput, lambda: score_risk(ws, 1, current="1/1", note="a\x00b"),
            "control character")


def test_moving_to_another_matrix_is_a_reassessment(ws: Store) -> None:
    system(ws)
    rid = risk(ws, inherent="5/5", current="4/4")
    msg = refused(ws, InvalidInput, lambda: score_risk(ws, rid, matrix="3x3",
                                                       inherent="3/3"))
    assert msg == ("moving RK-1 from matrix 5x5@1 to 3x3@1 is a re-assessment: score "
                   "current again on it")
    refused(ws, InvalidInput, lambda: score_risk(ws, rid, matrix="3x3", residual="1/1"),
            "score inherent, current again on it")
    assert table_rows(ws, "risk_matrix") == 1  # 3x3 was not brought in by the refusals
    seq = audit.head_seq(ws)
    score_risk(ws, rid, matrix="3x3", inherent="Likely/Severe", current="2/3",
               note="moved to the 3 × 3")
    assert actions_since(ws, seq) == ["risk_matrix.create", "risk.score", "risk_score.create"]
    change = audit.parse_change(audit.events(ws, limit=2)[1].change)
    assert change["matrix"] == {"from": "5x5@1", "to": "3x3@1"}
    d = get_risk(ws, rid)
    assert d.matrix.ref == "3x3@1"
    assert (d.stage("inherent")[:3], d.stage("current")[:3]) == ((3, 3, "High"),
                                                                 (2, 3, "High"))
    assert [h["matrix"] for h in d.history] == ["5x5@1", "3x3@1"]
    assert d.history[0]["inherent"]["level"] == "Very high"  # the old assessment stays
    # scoring again on the pinned matrix needs no matrix
    score_risk(ws, rid, residual="1/1")
    assert get_risk(ws, rid).history[-1]["matrix"] == "3x3@1"
    intact(ws)


def test_moving_an_unscored_risk_needs_nothing_more(ws: Store) -> None:
    system(ws)
    rid = risk(ws)
    score_risk(ws, rid, matrix="4x4", residual="Almost certain/Critical")
    d = get_risk(ws, rid)
    assert (d.matrix.ref, d.stage("residual")[2]) == ("4x4@1", "Critical")
    assert d.stage("inherent") is None


# ------------------------------------------------------------------ treatment, acceptance


def test_treat_risk(ws: Store) -> None:
    system(ws)
    rid = risk(ws)
    assert treat_risk(ws, rid, "Mitigate") == {"treatment": {"from": "open",
                                                              "to": "mitigate"}}
    with nothing_written(ws):
        assert treat_risk(ws, rid, "mitigate") == {}
    refused(ws, InvalidInput, lambda: treat_risk(ws, rid, "accept"), "use `risk accept`")
    refused(ws, InvalidInput, lambda: treat_risk(ws, rid, "ignore"),
            "invalid treatment 'ignore'")
    refused(ws, NotFound, lambda: treat_risk(ws, 5, "avoid"), "no risk RK-5")


def test_accept_risk_and_leaving_acceptance(ws: Store) -> None:
    system(ws)
    rid = risk(ws, residual="2/2")
    refused(ws, InvalidInput, lambda: accept_risk(ws, rid, approver=" ", justification="ok",
                                                  expires="2027-06-30"),
            "cannot accept RK-1: the approver is empty")
    refused(ws, InvalidInput, lambda: accept_risk(ws, rid, approver="CRO", justification="",
                                                  expires="2027-06-30"),
            "cannot accept RK-1: the justification is empty")
    refused(ws, InvalidInput, lambda: accept_risk(ws, rid, approver="CRO", justification="ok",
                                                  expires=""),
            "cannot accept RK-1: the acceptance expiry '' is not a date")
    refused(ws, InvalidInput, lambda: accept_risk(ws, rid, approver="CRO", justification="ok",
                                                  expires="30/06/2027"), "not a date")
    for day in (TODAY, "2026-01-01"):
        refused(ws, InvalidInput,
                lambda day=day: accept_risk(ws, rid, approver="CRO", justification="ok",
                                            expires=day),
                f"the acceptance expiry {day} must be after today ({TODAY})")
    refused(ws, NotFound, lambda: accept_risk(ws, 9, approver="CRO", justification="ok",
                                              expires="2027-06-30"), "no risk RK-9")
    change = accept_risk(ws, rid, approver=" CRO ", justification="Low residual; cheap "
                         "to monitor.", expires="2026-11-27")
    assert change == {"treatment": {"from": "open", "to": "accept"}, "accepted_by": "CRO",
                      "acceptance_justification": "Low residual; cheap to monitor.",
                      "acceptance_expires": "2026-11-27"}
    r = get_risk(ws, rid).risk
    assert (r.treatment, r.accepted_by, r.acceptance_expires) == ("accept", "CRO",
                                                                  "2026-11-27")
    change = treat_risk(ws, rid, "transfer")
    assert change == {"treatment": {"from": "accept", "to": "transfer"},
                      "accepted_by": {"from": "CRO", "to": None}}
    r = get_risk(ws, rid).risk
    assert (r.treatment, r.accepted_by, r.acceptance_expires,
            r.acceptance_justification) == ("transfer", None, None, "")
    intact(ws)


def test_update_risk(ws: Store) -> None:
    system(ws)
    system(ws, "Chatbot")
    rid = risk(ws)
    _, change = update_risk(ws, rid, system="Chatbot", owner="Bo", title="Biased answers")
    assert change == {"owner": {"from": "", "to": "Bo"},
                      "title": {"from": "Biased scores", "to": "Biased answers"},
                      "system_id": {"from": 1, "to": 2}}
    assert get_risk(ws, rid).system == "Chatbot"
    refused(ws, InvalidInput, lambda: update_risk(ws, rid), "nothing to change")
    refused(ws, NotFound, lambda: update_risk(ws, rid, system="Nope"), "no AI system 'Nope'")
    with nothing_written(ws):
        assert update_risk(ws, rid, owner="Bo")[1] == {}


# ------------------------------------------------------------------ links


def test_link_and_unlink(ws: Store, tmp_path: Path) -> None:
    system(ws)
    rid = risk(ws)
    add_evidence(ws, Source(path=write_file(tmp_path / "e.txt", "x")), title="E")
    seq = audit.head_seq(ws)
    assert link_risk(ws, rid, controls=["ops1", "OPS-1"], clauses=[CLAUSE],
                     evidence=["ev1"]) == ["OPS-1", CLAUSE, "EV-1"]
    assert actions_since(ws, seq) == ["risk_link.create"] * 3
    refused(ws, InvalidInput, lambda: link_risk(ws, rid, controls=["OPS-1"]),
            "RK-1 is already linked to OPS-1")
    refused(ws, InvalidInput, lambda: link_risk(ws, rid, clauses=[CLAUSE]),
            f"RK-1 is already linked to {CLAUSE}")
    # all or nothing: OPS-2 is not kept when OPS-1 is refused
    refused(ws, InvalidInput, lambda: link_risk(ws, rid, controls=["OPS-2", "OPS-1"]),
            "already linked to OPS-1")
    refused(ws, NotFound, lambda: link_risk(ws, rid, controls=["OPS-2", "OPS-9"]),
            "unknown control 'OPS-9'")
    refused(ws, NotFound, lambda: link_risk(ws, rid, clauses=["GDPR Art. 999"]), "GDPR")
    refused(ws, InvalidInput, lambda: link_risk(ws, rid, clauses=["Art. 5"]))
    refused(ws, NotFound, lambda: link_risk(ws, rid, evidence=["EV-2"]), "EV-2")
    refused(ws, NotFound, lambda: link_risk(ws, "RK-3", controls=["OPS-2"]), "no risk RK-3")
    refused(ws, InvalidInput, lambda: link_risk(ws, rid), "name a control, a clause")
    assert get_risk(ws, rid).links == [("control", "OPS-1"), ("clause", CLAUSE),
                                       ("evidence", "EV-1")]
    assert unlink_risk(ws, rid, control="ops-1") == "OPS-1"
    assert unlink_risk(ws, rid, evidence="EV-1") == "EV-1"
    assert audit.events(ws, limit=1)[0].action == "risk_link.delete"
    refused(ws, NotFound, lambda: unlink_risk(ws, rid, control="OPS-1"),
            "RK-1 is not linked to OPS-1")
    refused(ws, InvalidInput, lambda: unlink_risk(ws, rid), "name one control")
    refused(ws, InvalidInput, lambda: unlink_risk(ws, rid, control="OPS-1", clause=CLAUSE),
            "name one control")
    assert get_risk(ws, rid).links == [("clause", CLAUSE)]
    # and it can be linked again
    link_risk(ws, rid, controls=["OPS-1"])
    assert list_risks(ws)[0].controls == ("OPS-1",)
    intact(ws)


# ------------------------------------------------------------------ the register


def test_list_risks_highest_latest_level_first(ws: Store) -> None:
    system(ws)
    system(ws, "Chatbot")
    low = risk(ws, "Low now", inherent="5/5", residual="1/1")  # latest: residual Low
    top = risk(ws, "Very high", residual="5/5", category="data drift", sys="Chatbot")
    high = risk(ws, "High inherent", inherent="4/3")  # latest: inherent High
    unscored = risk(ws, "Unscored", category="security")
    medium = risk(ws, "Medium current", current="3/2", category="security")
    high2 = risk(ws, "High current", inherent="5/5", current="2/5", sys="Chatbot")
    rows = list_risks(ws)
    assert [r.id for r in rows] == [top, high2, high, medium, low, unscored]
    assert [r.latest.level if r.latest else None for r in rows] == [
        "Very high", "High", "High", "Medium", "Low", None]
    assert rows[0].label == "RK-2" and rows[0].system == "Chatbot"
    # filters
    assert [r.id for r in list_risks(ws, system="Chatbot")] == [top, high2]
    assert [r.id for r in list_risks(ws, system="AI-1")] == [high, medium, low, unscored]
    assert [r.id for r in list_risks(ws, category="Security")] == [medium, unscored]
    treat_risk(ws, low, "avoid")
    assert [r.id for r in list_risks(ws, treatment="Avoid")] == [low]
    assert [r.id for r in list_risks(ws, system="chatbot", category="data-drift")] == [top]
    assert list_risks(ws, treatment="transfer") == []
    with pytest.raises(InvalidInput, match="invalid treatment 'later'"):
        list_risks(ws, treatment="later")
    with pytest.raises(InvalidInput, match="invalid category 'bias'"):
        list_risks(ws, category="bias")
    with pytest.raises(NotFound, match="no AI system 'Nope'"):
        list_risks(ws, system="Nope")
    d = rows[0].as_dict(matrices_by_id(ws))
    assert (d["id"], d["matrix"], d["residual"]["level"], d["inherent"]) == (
        "RK-2", "5x5@1", "Very high", None)
    assert get_system(ws, "Chatbot").as_dict()["risks"] == ["RK-2", "RK-6"]


# ------------------------------------------------------------------ the analyst's matrices

TEAM = """\
code: team
version: 7
name: Team 2 × 3
likelihood:
  - {name: Seldom}
  - {name: Often}
impact:
  - {name: Small}
  - {name: Medium}
  - {name: Large}
levels:
  - {name: Green, colour: "#2e7d32"}
  - {name: Red, colour: "#c62828", high: true}
grid:
  - [Green, Green, Red]
  - [%s]
"""


def team(tmp_path: Path, last_row: str = "Green, Red, Red", name: str = "team.yaml") -> Path:
    return write_file(tmp_path / name, TEAM % last_row)


def test_add_matrix_versions_by_code(ws: Store, tmp_path: Path) -> None:
    seq = audit.head_seq(ws)
    m = add_matrix(ws, team(tmp_path))
    assert (m.ref, m.name, len(m.likelihood), len(m.impact)) == ("team@1", "Team 2 × 3", 2, 3)
    assert actions_since(ws, seq) == ["risk_matrix.create"]
    assert get_matrix(ws, "team").id == 1
    # the same file again is refused
    refused(ws, InvalidInput, lambda: add_matrix(ws, team(tmp_path)),
            "matrix team@1 is already this matrix")
    # a different grid is the next version, whatever version the file says
    m2 = add_matrix(ws, team(tmp_path, "Red, Red, Red", "team-v2.yaml"))
    assert m2.ref == "team@2" and m2.level(2, 1).name == "Red"
    assert get_matrix(ws, "team").matrix.ref == "team@2"
    assert get_matrix(ws, "team@1").matrix.level(2, 1).name == "Green"
    refused(ws, InvalidInput, lambda: add_matrix(ws, team(tmp_path, "Red, Red, Red", "v3")),
            "matrix team@2 is already this matrix")
    # JSON is YAML too
    json_file = write_file(tmp_path / "team.json",
                           __import__("json").dumps(m2.as_data() | {"name": "Renamed"}))
    assert add_matrix(ws, json_file).ref == "team@3"
    refs = [v.matrix.ref for v in list_matrices(ws)]
    assert refs == ["team@1", "team@2", "team@3", "3x3@1", "4x4@1", "5x5@1"]
    with pytest.raises(NotFound, match="no risk matrix 'team@4'"):
        get_matrix(ws, "team@4")
    intact(ws)


def test_a_custom_matrix_under_a_default_code_follows_its_version(ws: Store,
                                                                  tmp_path: Path) -> None:
    data = defaults()["5x5"].as_data()
    data["grid"][0][0] = "Medium"
    path = write_file(tmp_path / "5x5.json", __import__("json").dumps(data))
    assert add_matrix(ws, path).ref == "5x5@2"
    system(ws)
    # the shipped version is still there to pin
    assert get_risk(ws, risk(ws, matrix="5x5@1", residual="1/1")).stage("residual")[2] == \
        "Low"
    assert get_risk(ws, risk(ws, matrix="5x5", residual="1/1")).stage("residual")[2] == \
        "Medium"


@pytest.mark.parametrize(("text", "fragments"), [
    ("code: [unclosed\n", ("invalid YAML at line",)),
    ("\xff\xfe", ("invalid YAML",)),
    ("base: &a {name: Low}\nlevels: [*a, *a]\n", ("YAML aliases (*a) are not accepted",)),
    ("- just\n- a list\n", ("is not a mapping",)),
    (TEAM % "Green, Red", ("grid row 2 (Often) needs one level per impact (3), not 2",)),
    (TEAM.replace('  - {name: Red, colour: "#c62828", high: true}\n', "") % "Green, Red, Red",
     ("levels must list 2 to 10 levels",)),
    (TEAM.replace("{name: Often}", "{name: often}").replace("Seldom", "Often")
     % "Green, Red, Red", ("level 'often' appears twice",)),
    (TEAM % "Green, Amber, Red", ("grid row 2, column 2 names 'Amber'",)),
])
def test_bad_matrix_files_name_the_file_and_write_nothing(
        ws: Store, tmp_path: Path, text: str, fragments: tuple[str, ...]) -> None:
    path = tmp_path / "bad.yaml"
    if text == "\xff\xfe":
        path.write_bytes(b"code: \xff\xfe\n")
    else:
        write_file(path, text)
    message = refused(ws, ImportFailed, lambda: add_matrix(ws, path), *fragments)
    assert message.startswith(str(path)), message


def test_a_missing_matrix_file(ws: Store, tmp_path: Path) -> None:
    refused(ws, ImportFailed, lambda: add_matrix(ws, tmp_path / "none.yaml"), "none.yaml")


def test_a_risk_stays_on_its_pinned_version(ws: Store, tmp_path: Path) -> None:
    add_matrix(ws, team(tmp_path))
    system(ws)
    rid = risk(ws, matrix="team", inherent="Often/Small", current="1/3")
    add_matrix(ws, team(tmp_path, "Red, Red, Red", "v2.yaml"))
    score_risk(ws, rid, residual="2/1")
    d = get_risk(ws, rid)
    assert d.matrix.ref == "team@1"
    assert d.stage("residual")[2] == "Green"  # team@1 reads Often/Small as Green
    assert [h["matrix"] for h in d.history] == ["team@1", "team@1"]
    assert {v.matrix.ref: v.risks for v in list_matrices(ws)}["team@1"] == 1
    # a new risk on "team" takes the latest version
    assert get_risk(ws, risk(ws, "New", matrix="team")).matrix.ref == "team@2"
    # moving to version 2 is a re-assessment of both scored stages
    refused(ws, InvalidInput, lambda: score_risk(ws, rid, matrix="team@2", current="2/1"),
            "moving RK-1 from matrix team@1 to team@2 is a re-assessment: score inherent, "
            "residual again on it")
    score_risk(ws, rid, matrix="team@2", inherent="2/1", current="1/1", residual="1/1")
    d = get_risk(ws, rid)
    assert (d.matrix.ref, d.stage("inherent")[2], d.stage("residual")[2]) == (
        "team@2", "Red", "Green")
    assert [h["matrix"] for h in d.history] == ["team@1", "team@1", "team@2"]


# ------------------------------------------------------------------ the heat map


def test_heatmap_counts_per_cell(ws: Store) -> None:
    system(ws)
    a = risk(ws, "A", inherent="5/5", current="4/4", residual="2/3")
    b = risk(ws, "B", inherent="5/5", residual="2/3")
    c = risk(ws, "C", inherent="3/1", current="5/5", residual="5/5")
    d = risk(ws, "D", inherent="4/4")  # no residual yet
    risk(ws, "E")  # not scored at all
    other = risk(ws, "F", matrix="3x3", residual="3/3")
    residual = heatmap(ws)
    assert (residual.matrix.ref, residual.stage) == ("5x5@1", "residual")
    counts = {(li + 1, ii + 1): sorted(ids) for li, row in enumerate(residual.cells)
              for ii, ids in enumerate(row) if ids}
    assert counts == {(2, 3): sorted([a, b]), (5, 5): [c]}
    assert (residual.total, residual.unscored, residual.elsewhere) == (3, 2, 1)
    inherent = heatmap(ws, "Inherent")
    counts = {(li + 1, ii + 1): sorted(ids) for li, row in enumerate(inherent.cells)
              for ii, ids in enumerate(row) if ids}
    assert counts == {(5, 5): sorted([a, b]), (3, 1): [c], (4, 4): [d]}
    assert (inherent.total, inherent.unscored, inherent.elsewhere) == (4, 1, 1)
    current = heatmap(ws, "current")
    assert (current.total, current.unscored) == (2, 3)
    assert current.cells[3][3] == [a] and current.cells[4][4] == [c]
    # the other matrix, chosen by code
    three = heatmap(ws, matrix="3x3")
    assert (three.matrix.ref, three.total, three.unscored, three.elsewhere) == ("3x3@1", 1, 0,
                                                                                5)
    assert three.cells[2][2] == [other]
    data = residual.as_dict()
    assert (data["matrix"], data["total"], data["unscored"], data["other_matrices"]) == (
        "5x5@1", 3, 2, 1)
    assert len(data["cells"]) == 25
    cell = next(x for x in data["cells"] if (x["likelihood"], x["impact"]) == (2, 3))
    assert (cell["count"], cell["level"], cell["colour"]) == (2, "Medium", "#f9a825")
    assert sorted(cell["risks"]) == [f"RK-{a}", f"RK-{b}"]
    assert sum(x["count"] for x in data["cells"]) == 3
    with pytest.raises(InvalidInput, match="invalid stage 'target'"):
        heatmap(ws, "target")
    with pytest.raises(InvalidInput, match="no risk in the register is scored on matrix"):
        heatmap(ws, matrix="4x4")


def test_heatmap_of_given_rows_and_versions(ws: Store, tmp_path: Path) -> None:
    add_matrix(ws, team(tmp_path))
    system(ws)
    risk(ws, "On v1", matrix="team", residual="2/3")
    add_matrix(ws, team(tmp_path, "Red, Red, Red", "v2.yaml"))
    v2 = risk(ws, "On v2", matrix="team", residual="1/1")
    risk(ws, "Default", residual="1/1")
    risk(ws, "Default 2", residual="1/2")
    assert heatmap(ws).matrix.ref == "5x5@1"  # where most risks are
    latest = heatmap(ws, matrix="team")  # the latest version of the code
    assert (latest.matrix.ref, latest.total, latest.elsewhere) == ("team@2", 1, 3)
    assert latest.cells[0][0] == [v2]
    assert heatmap(ws, matrix="team@1").cells[1][2] == [1]
    only = [r for r in list_risks(ws) if r.id == v2]
    assert heatmap(ws, rows=only).matrix.ref == "team@2"


def test_heatmap_of_an_empty_register(ws: Store) -> None:
    h = heatmap(ws, "current")
    assert (h.matrix, h.stage, h.total, h.unscored, h.elsewhere) == (
        defaults()["5x5"], "current", 0, 0, 0)
    assert len(h.cells) == 5 and all(row == [[]] * 5 for row in h.cells)
    assert all(c["count"] == 0 for c in h.as_dict()["cells"])


# ------------------------------------------------------------------ the quality checks


def test_each_check_fires_once(lib_ws: Path) -> None:
    s = make_store(lib_ws, library=True, clock=SteppingClock(PAST))
    try:
        system(s)
        risk(s, "Residual above current", current="1/1", residual="3/3")
        no_approver = risk(s, "Accepted, approver removed", residual="2/2")
        accept_risk(s, no_approver, approver="CRO", justification="ok", expires="2030-01-01")
        expired = risk(s, "Acceptance expired", residual="1/2")
        accept_risk(s, expired, approver="CRO", justification="ok", expires="2026-03-01")
        risk(s, "Review overdue", residual="1/1", review_on="2026-06-01")
        mitigated = risk(s, "Mitigated without a control", residual="1/1")
        treat_risk(s, mitigated, "mitigate")
        risk(s, "High residual, no evidence", residual="5/5", controls=["SEC-2"])
        risk(s, "Fine", inherent="5/5", current="3/3", residual="2/2", review_on="2027-01-01")
        # on the day they were written, only the two that need no calendar fail
        early = check_risks(s)
        assert sorted(f.check for f in early.findings) == [
            "high-residual-without-current-evidence", "mitigate-without-control",
            "residual-above-current"]
        intact(s)
    finally:
        s.close()
    # the services never accept without an approver: only an edit outside Crosswalk does
    with closing(sqlite3.connect(lib_ws)) as con:
        con.execute("UPDATE risk SET accepted_by = NULL WHERE id = ?", (no_approver,))
        con.commit()
    later = make_store(lib_ws, clock=SteppingClock(FIXED_START))
    try:
        report = check_risks(later)
        assert report.risks == 7 and not report.passed
        found = {f.check: (f.risk, f.detail) for f in report.findings}
        assert len(report.findings) == len(CHECKS) == 6
        assert found == {
            "residual-above-current": ("RK-1", "residual Medium, current Low"),
            "accepted-without-approver": ("RK-2", "no approver recorded"),
            "acceptance-expired": ("RK-3", "expired 2026-03-01"),
            "review-overdue": ("RK-4", "due 2026-06-01"),
            "mitigate-without-control": ("RK-5", "link the controls that mitigate it"),
            "high-residual-without-current-evidence": ("RK-6", "residual Very high; SEC-2 "
                                                               "evidence none"),
        }
        data = report.as_dict()
        assert data["passed"] is False and set(data["counts"].values()) == {1}
        assert data["findings"][0]["message"] == (
            "RK-1: the residual level is above the current level (residual Medium, current "
            "Low)")
        assert [r.label for r in overdue_reviews(list_risks(later), FIXED_START.date())] == [
            "RK-4"]
        problems = [p.message for p in audit.verify(later).problems]
        assert any(f"risk {no_approver} differs from the state recorded" in p
                   and "edited outside Crosswalk" in p for p in problems), problems
        # an explicit day: before the review was due, nothing calendar-bound fails
        early = {f.check for f in check_risks(later, today=PAST.date()).findings}
        assert "review-overdue" not in early and "acceptance-expired" not in early
    finally:
        later.close()


def test_a_clean_register_passes(ws: Store, tmp_path: Path) -> None:
    system(ws)
    add_evidence(ws, Source(path=write_file(tmp_path / "pen-test.txt", "no findings")),
                 title="Pen test", controls=["SEC-3"], valid_until="2027-06-30")
    mitigated = risk(ws, "Mitigated", inherent="5/5", current="4/5", residual="4/4",
                     controls=["SEC-3"], review_on="2027-01-01")
    treat_risk(ws, mitigated, "Mitigate")
    accepted = risk(ws, "Accepted", residual="2/2")
    accept_risk(ws, accepted, approver="CRO", justification="ok", expires="2027-01-01")
    risk(ws, "Unscored")
    risk(ws, "Equal stages", current="3/3", residual="3/3")
    report = check_risks(ws)
    assert report.passed and report.findings == [] and report.risks == 4
    data = report.as_dict()
    assert data["passed"] is True and set(data["counts"]) == set(CHECKS)
    assert set(data["counts"].values()) == {0}


def test_high_residual_passes_once_the_control_has_current_evidence(
        ws: Store, tmp_path: Path) -> None:
    system(ws)
    risk(ws, "Model tampering", category="model theft or tampering", residual="5/4",
         controls=["SEC-2"])
    report = check_risks(ws)
    assert [(f.check, f.risk, f.detail) for f in report.findings] == [
        ("high-residual-without-current-evidence", "RK-1",
         "residual Very high; SEC-2 evidence none")]
    # evidence on another control does not help
    add_evidence(ws, Source(path=write_file(tmp_path / "other.txt", "other")),
                 title="Other", controls=["SEC-1"])
    assert not check_risks(ws).passed
    add_evidence(ws, Source(path=write_file(tmp_path / "integrity.txt", "hashes match")),
                 title="Model integrity check", controls=["SEC-2"], valid_until="2027-11-30")
    assert check_risks(ws).passed


def test_high_residual_with_expired_evidence_or_no_control(ws: Store, tmp_path: Path) -> None:
    system(ws)
    rid = risk(ws, "Drift", category="data drift", residual="4/4", controls=["OPS-3"])
    add_evidence(ws, Source(path=write_file(tmp_path / "old.txt", "2025 review")),
                 title="Old review", controls=["OPS-3"], valid_until="2026-01-01",
                 collected_at="2025-12-01")
    assert [f.detail for f in check_risks(ws).findings] == [
        "residual High; OPS-3 evidence expired"]
    unlink_risk(ws, rid, control="OPS-3")
    assert [f.detail for f in check_risks(ws).findings] == [
        "residual High; no control linked"]
    # a residual that is not high needs no evidence
    score_risk(ws, rid, residual="3/3")
    assert check_risks(ws).passed
