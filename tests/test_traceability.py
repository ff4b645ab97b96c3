"""The traceability matrix built from a real workspace: its rows against the workspace, the
filters, applicability, and the matrix as it stood on an earlier date, rebuilt from the
audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.domain.clock import ManualClock
from app.domain.traceability import HEADERS, KEYS
from app.errors import InvalidInput
from app.services.applicability import set_applicability
from app.services.control_tests import add_test
from app.services.controls import update_control
from app.services.evidence import Source, add_evidence
from app.services.mappings import add_mapping, remove_mapping, review_mapping
from app.services.risks import add_risk
from app.services.systems import add_system
from app.services.traceability import build_matrix
from app.services.workspace import open_workspace
from app.store import Store

DAY1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY5 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(lib_ws: Path, tmp_path: Path) -> tuple[Store, ManualClock]:
    """The library workspace with, on 1 December: a mapping reviewed, evidence, a test, a
    risk; on 5 December: the mapping removed, the owner changed, a clause not applicable."""
    clock = ManualClock(DAY1)
    store = open_workspace(lib_ws, actor="analyst", clock=clock)
    add_mapping(store, "GDPR Art. 30(3)", "GOV-4", relationship="subset-of",
                rationale="The records of processing come from the lineage store.",
                strength=7, coverage="full")
    review_mapping(store, "GDPR Art. 30(3)", "GOV-4", "reviewed")
    update_control(store, "GOV-4", owner="ML Platform Lead", status="partial")
    doc = tmp_path / "ropa.md"
    doc.write_text("# Records of processing\n", encoding="utf-8")
    add_evidence(store, Source(doc), title="Records of processing", controls=["GOV-4"],
                 clauses=["GDPR Art. 30(3)"], valid_until="2027-01-10")
    add_test(store, "GOV-4", procedure="inspection", result="effective", tester="Auditor A",
             tested_on="2026-12-01", evidence=["EV-1"])
    add_system(store, name="Credit scoring", tier="high", annex_iii_area="5",
               tier_justification="Creditworthiness (Annex III 5(b)).", operator_role="provider")
    add_risk(store, title="Lineage gaps", system="Credit scoring", category="compliance",
             inherent="4/4", residual="2/2", controls=["GOV-4"])
    clock.now = DAY5
    remove_mapping(store, "GDPR Art. 30(3)", "GOV-4")
    update_control(store, "GOV-4", owner="Head of Data")
    set_applicability(store, "HIPAA § 164.318", applicable=False,
                      justification="We are not a health plan.")
    return store, clock


def rows_for(matrix, ref: str, control: str = "") -> list:  # type: ignore[no-untyped-def]
    return [r for r in matrix.rows if r.clause_ref == ref and r.control_id == control]


def test_columns_are_the_documented_ones() -> None:
    assert len(KEYS) == len(HEADERS) == 29
    assert KEYS[:3] == ("regulation", "version", "clause_ref") and KEYS[-1] == "gap"


def test_rows_match_the_workspace_today(world: tuple[Store, ManualClock]) -> None:
    store, _ = world
    m = build_matrix(store)
    # one row per mapping, one per uncovered applicable obligation
    with store.raw() as run:
        mappings = run("SELECT count(*) FROM mapping").fetchone()[0]
    assert m.stats["mappings"] == mappings
    assert all(r.control_id or r.gap or r.applicability == "not applicable" for r in m.rows)
    assert not rows_for(m, "Art. 30(3)", "GOV-4")  # removed on 5 December
    gdpr30 = [r for r in m.rows if r.regulation == "GDPR" and r.clause_ref == "Art. 30(3)"]
    assert gdpr30 and all(r.control_owner in ("", "Head of Data") or r.control_id != "GOV-4"
                          for r in gdpr30)
    hipaa = [r for r in m.rows if r.regulation == "HIPAA" and
             r.clause_ref.startswith("§ 164.318")]
    assert hipaa and all(r.applicability == "not applicable" and not r.gap for r in hipaa)
    assert hipaa[0].applicability_justification == "We are not a health plan."
    # a row with the risk and the evidence of its control
    gov4 = next(r for r in m.rows if r.control_id == "GOV-4")
    assert gov4.risks == (("RK-1", "Low"),) or gov4.risks[0][0] == "RK-1"
    assert gov4.evidence[0].id == "EV-1" and len(gov4.evidence[0].sha256) == 64
    assert (gov4.test_procedure, gov4.test_result, gov4.tester) == (
        "inspection", "effective", "Auditor A")
    assert m.generated_at.startswith("2026-12-05")  # the audit head's time, not the clock


def test_as_of_an_earlier_day_rebuilds_what_stood(world: tuple[Store, ManualClock]) -> None:
    store, _ = world
    then = build_matrix(store, as_of=date(2026, 12, 2))
    row = rows_for(then, "Art. 30(3)", "GOV-4")
    assert len(row) == 1
    r = row[0]
    assert (r.relationship, r.strength, r.coverage, r.review_status) == (
        "subset-of", 7, "full", "reviewed")
    assert (r.control_owner, r.control_status) == ("ML Platform Lead", "partial")
    assert r.evidence[0].status == "current"  # valid until 10 January, seen on 2 December
    assert not any(x.applicability == "not applicable" for x in then.rows)
    assert then.audit_head_seq < build_matrix(store).audit_head_seq
    before = build_matrix(store, as_of=date(2026, 11, 30))  # before that day's work
    assert not rows_for(before, "Art. 30(3)", "GOV-4")
    assert not any(x.evidence for x in before.rows)


def test_filters(world: tuple[Store, ManualClock]) -> None:
    store, _ = world
    assert {r.regulation for r in build_matrix(store, regulation="hipaa").rows} == {"HIPAA"}
    gov2 = build_matrix(store, control="gov2")
    assert gov2.rows and {r.control_id for r in gov2.rows} == {"GOV-2"}
    gaps = build_matrix(store, status="gap")
    assert gaps.rows and all(r.gap for r in gaps.rows)
    drafts = build_matrix(store, status="draft")
    assert drafts.rows and all(r.review_status == "draft" for r in drafts.rows)
    for bad, message in (({"regulation": "SOX"}, "no regulation 'SOX' in the matrix"),
                         ({"control": "GOV-9"}, "unknown control 'GOV-9'"),
                         ({"status": "done"}, "status 'done' is not a control status"),
                         ({"as_of": date(2027, 1, 1)}, "is in the future")):
        with pytest.raises(InvalidInput, match=message):
            build_matrix(store, **bad)


def test_the_same_state_gives_the_same_matrix(world: tuple[Store, ManualClock]) -> None:
    store, clock = world
    first = build_matrix(store)
    clock.advance(86400 * 3)  # time passes, nothing is written
    second = build_matrix(store)
    assert [r.cells() for r in first.rows] == [r.cells() for r in second.rows] or \
        first.generated_at == second.generated_at
    assert (first.generated_at, first.audit_head) == (second.generated_at, second.audit_head)


def test_clauses_inside_a_not_applicable_one_keep_their_rows(world: tuple[Store, ManualClock]
                                                             ) -> None:
    store, _ = world
    set_applicability(store, "GDPR Art. 58", applicable=False,
                      justification="We are not a supervisory authority.")
    m = build_matrix(store, regulation="GDPR")
    art58 = [r for r in m.rows if r.clause_ref.startswith("Art. 58")]
    assert art58[0].clause_ref == "Art. 58" and art58[0].applicability_justification == (
        "We are not a supervisory authority.")
    point = next(r for r in art58 if r.clause_ref == "Art. 58(1)(a)")
    assert (point.applicability, point.gap) == ("not applicable", False)
    assert point.applicability_justification == ("We are not a supervisory authority. "
                                                 "(declared on Art. 58)")
    assert not any(r.gap for r in art58)
    assert m.filters["statuses_on"] == "2026-12-05"


def test_a_day_before_the_workspace_is_refused(world: tuple[Store, ManualClock]) -> None:
    store, _ = world
    with pytest.raises(InvalidInput, match="the workspace did not exist yet on that day"):
        build_matrix(store, as_of=date(2020, 1, 1))
