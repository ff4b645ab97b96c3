"""The Systems and Risks screens and the Dashboard's risk box, driven by Pilot on real
temporary workspaces: the register with its levels and filters, the heat map (counts, stage
toggle, Enter filters the register), adding a system and a risk through the forms, scores that
can only be chosen from the matrix, an acceptance without approver that keeps the form open
and writes nothing, a re-score that appends history and moves the trend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.domain.clock import SteppingClock
from app.services.risks import accept_risk, add_risk, score_risk, treat_risk
from app.services.systems import add_system, set_model_version, update_system
from app.store import Store
from tests.conftest import FIXED_START, make_store

BUILT_FROM = datetime(2026, 9, 1, 9, 0, 0, tzinfo=UTC)


def risk_store(folder: Path) -> Store:
    """A workspace built from 2026-09-01 and opened at 2026-11-26 (the fixed clock), with two
    AI systems (model versions, a history) and five risks: every treatment but avoid, an
    accepted one, a review overdue, a risk on the 3×3 matrix, and one re-scored twice."""
    folder.mkdir(parents=True, exist_ok=True)
    store = make_store(folder / "ws.db", clock=SteppingClock(BUILT_FROM))
    add_system(store, name="Credit scoring", tier="high", annex_iii_area="5",
               operator_role="provider", owner="Model Risk team", lifecycle="validation",
               tier_justification="Creditworthiness of natural persons: Annex III 5(b).",
               purpose="Scores consumer credit applications in the EU.")
    set_model_version(store, "AI-1", "3.0", approval_status="approved")
    set_model_version(store, "AI-1", "3.1", limitations="Not validated for applicants "
                      "under 21.")
    update_system(store, "AI-1", lifecycle="production")
    add_system(store, name="Support chatbot", tier="limited", operator_role="deployer",
               owner="Customer Care", tier_justification="Talks to people: Art. 50 "
               "transparency duties only.", purpose="Answers customer questions.")
    add_risk(store, title="Approval rates drift for young applicants", system="AI-1",
             category="data-drift", owner="Dana Reyes", inherent="4/4", current="3/4",
             residual="3/4", controls=["OPS-2"], cause="Applicant mix shifts",
             event="the model scores young applicants on stale patterns",
             consequence="unfair refusals and a regulator's inquiry", knowledge="medium",
             knowledge_justification="Six months of drift reports.",
             review_on="2026-10-15", review_every_days="90")
    add_risk(store, title="Disparate impact on protected groups", system="AI-1",
             category="bias-and-fairness", owner="Dana Reyes", inherent="5/5",
             current="4/4", residual="3/4", controls=["GOV-3"], review_on="2027-03-01")
    treat_risk(store, "RK-2", "mitigate")
    add_risk(store, title="Prompt injection leaks customer data", system="AI-2",
             category="privacy-leakage", owner="Sam Ortiz", inherent="4/5", current="3/5",
             review_on="2027-02-01")
    add_risk(store, title="Model weights copied by a contractor", system="AI-1",
             category="model-theft-or-tampering", owner="CISO office", inherent="2/4",
             residual="1/4")
    accept_risk(store, "RK-4", approver="Chief Risk Officer", expires="2027-06-30",
                justification="Contractors work in a locked-down enclave.")
    add_risk(store, title="Chatbot unavailable at peak hours", system="AI-2",
             category="availability", matrix="3x3", inherent="2/2")
    treat_risk(store, "RK-5", "transfer")
    score_risk(store, "RK-1", residual="2/3", note="after the October retraining")
    score_risk(store, "RK-1", residual="1/2", note="drift monitor live")
    store.clock = SteppingClock(FIXED_START)
    return store


# --------------------------------------------------------------------------- driving
from textual.widgets import Input, Select, Sparkline, Static  # noqa: E402

from app.services.audit import event_count  # noqa: E402
from app.services.risks import get_risk, list_risks  # noqa: E402
from app.services.systems import list_systems  # noqa: E402
from app.tui.app import make_app  # noqa: E402
from app.tui.screens.risk_dialogs import (  # noqa: E402
    AcceptDialog,
    RiskDialog,
    ScoreDialog,
    SystemDialog,
)
from app.tui.screens.risks import RisksScreen  # noqa: E402
from app.tui.screens.systems import SystemsScreen  # noqa: E402
from app.tui.widgets.heatmap import HeatMap  # noqa: E402
from app.tui.widgets.risk_table import RiskTable  # noqa: E402
from tests.test_tui import settle  # noqa: E402


async def open_risks(pilot) -> RiskTable:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("8")
    for _ in range(3):  # the register, then the detail: each in a worker
        await settle(pilot)
    assert isinstance(pilot.app.screen, RisksScreen)
    return pilot.app.screen.query_one(RiskTable)


def text_of(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def fill(screen, **values: object) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import TextArea

    for widget_id, value in values.items():
        widget = screen.query_one("#" + widget_id.replace("_", "-"))
        if isinstance(widget, TextArea):
            widget.text = str(value)
        else:
            widget.value = value


async def test_the_register_lists_risks_with_levels_and_filters(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_risks(pilot)
        screen = pilot.app.screen
        got = [(r.label, r.latest.level if r.latest else None) for r in table.shown]
        assert got == [("RK-3", "High"), ("RK-2", "High"), ("RK-5", "Medium"),
                       ("RK-4", "Medium"), ("RK-1", "Low")]
        title = str(table.border_title)
        assert "Risks 5" in title and "2 high" in title and "1 review overdue" in title
        # the first row drawn: its id, level and stage letter, title and review date
        line = "".join(s.text for s in table.render_line(1))
        assert "RK-3" in line and "High" in line and " C " in line and "2027-02-01" in line
        overdue = table.shown[-1]
        assert overdue.review_on == "2026-10-15" and overdue.review_on < table.today
        # filters: system, treatment, category, title
        screen.query_one("#rk-system", Select).value = "2"
        await settle(pilot)
        assert [r.label for r in table.shown] == ["RK-3", "RK-5"]
        screen.query_one("#rk-treatment", Select).value = "transfer"
        await settle(pilot)
        assert [r.label for r in table.shown] == ["RK-5"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(table.shown) == 5
        screen.query_one("#rk-category", Select).value = "bias-and-fairness"
        await settle(pilot)
        assert [r.label for r in table.shown] == ["RK-2"]
        await pilot.press("escape")
        await pilot.press("slash")
        await pilot.press(*"weights")
        await settle(pilot)
        assert [r.label for r in table.shown] == ["RK-4"]
        assert screen.query_one("#rk-filter", Input).has_focus


async def test_the_detail_shows_stages_links_and_the_trend(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_risks(pilot)
        screen = pilot.app.screen
        assert table.go_to(1)
        await settle(pilot)
        info = text_of(screen, "#rk-info-text")
        assert "Applicant mix shifts → the model scores young applicants" in info
        assert "inherent   High  Likely (4) × Major (4)" in info
        assert "residual   Low  Rare (1) × Minor (2)" in info
        assert "OPS-2" in info and "2026-10-15 (overdue)" in info and "every 90 days" in info
        assert "Six months of drift reports" in info
        assert screen.query_one(Sparkline).data == [3, 2, 1]  # High, Medium, Low (rank+1)
        assert "High → Medium → Low" in text_of(screen, "#rk-trend-text")
        assert table.go_to(4)
        await settle(pilot)
        info = text_of(screen, "#rk-info-text")
        assert "accepted by Chief Risk Officer until 2027-06-30" in info


async def test_the_heat_map_counts_toggles_stages_and_filters_the_register(
        tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_risks(pilot)
        screen = pilot.app.screen
        heat = screen.query_one(HeatMap)
        assert heat.stage == "residual" and heat.heatmap is not None
        assert heat.heatmap.matrix.ref == "5x5@1"
        assert heat.heatmap.total == 3 and heat.heatmap.unscored == 1
        assert heat.heatmap.elsewhere == 1  # RK-5 is on the 3×3 matrix
        assert heat.count(3, 4) == 1 and heat.count(1, 2) == 1 and heat.count(1, 4) == 1
        await pilot.press("v")  # residual → inherent
        await settle(pilot)
        assert heat.stage == "inherent" and heat.heatmap.total == 4
        assert heat.count(4, 4) == 1 and heat.count(5, 5) == 1 and heat.count(4, 5) == 1
        assert "inherent" in str(heat.border_title)
        await pilot.press("m")  # to the heat map; the cursor to Almost certain × Severe
        assert heat.has_focus
        for key in ("up",) * 4 + ("right",) * 4:
            await pilot.press(key)
        assert heat.cursor == (5, 5)
        assert "Almost certain × Severe: Very high · 1 risk" in str(heat.render())
        await pilot.press("v", "v")  # inherent → current → residual; `v` on the map too
        await pilot.press("v")
        assert heat.stage == "inherent"
        await pilot.press("enter")
        await settle(pilot)
        assert [r.label for r in table.shown] == ["RK-2"]
        assert table.has_focus and "cell Almost certain × Severe" in str(table.border_title)
        await pilot.press("escape")
        await settle(pilot)
        assert len(table.shown) == 5


async def test_adding_a_system_and_a_risk_through_the_forms(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SystemsScreen)
        assert "Credit scoring" in text_of(screen, "#sys-info")
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, SystemDialog)
        # an Annex III area on a minimal-risk system: refused inside, nothing written
        fill(form, sy_name="CV screening", sy_tier="minimal", sy_annex="4",
             sy_justification="Ranks applicants.", sy_role="deployer", sy_owner="HR")
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "applies to high-risk systems" in text_of(form, "#form-error")
        fill(form, sy_tier="high")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(pilot.app.screen, SystemsScreen)
        assert event_count(store) == before + 1
        added = next(s for s in list_systems(store) if s.name == "CV screening")
        assert (added.tier, added.annex_iii_area, added.owner) == ("high", "4", "HR")
        assert "CV screening" in text_of(screen, "#sys-info")  # the cursor went to it

        await pilot.press("8")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, RiskDialog)
        # the scores are selects of the matrix's named levels: nothing off the matrix
        likelihood = form.query_one("#rk-inherent-l", Select)
        assert [label for label, _ in likelihood._options][1:] == [
            "1 Rare", "2 Unlikely", "3 Possible", "4 Likely", "5 Almost certain"]
        form.query_one("#rk-matrix", Select).value = "3x3@1"
        await settle(pilot)
        assert len(likelihood._options) == 4  # the prompt and three levels
        form.query_one("#rk-matrix", Select).value = "5x5@1"
        await settle(pilot)
        fill(form, rk_title="Ranking favours one university", rk_system=str(added.id),
             rk_category="bias-and-fairness", rk_owner="HR analytics",
             rk_inherent_l=4, rk_inherent_i=4, rk_current_l=3, rk_current_i=4,
             rk_cause="Historic hiring data", rk_event="the model learns the bias",
             rk_consequence="qualified people are screened out",
             rk_review_on="2027-01-31", rk_controls="gov-3, OPS-2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(pilot.app.screen, RisksScreen)
        rows = {r.title: r for r in list_risks(store)}
        new = rows["Ranking favours one university"]
        assert new.system == "CV screening" and new.controls == ("GOV-3", "OPS-2")
        assert (new.inherent.level, new.current.level) == ("High", "High")
        assert new.residual is None and new.review_on == "2027-01-31"
        table = pilot.app.screen.query_one(RiskTable)
        await settle(pilot)
        assert table.current is not None and table.current.id == new.id


async def test_half_a_score_and_a_bad_control_keep_the_form_open(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await open_risks(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        fill(form, rk_title="Half scored", rk_inherent_l=3)
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "inherent: choose both a likelihood and an impact" in text_of(form,
                                                                             "#form-error")
        fill(form, rk_inherent_i=2, rk_controls="SEC-9")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "no control SEC-9" in text_of(form, "#form-error")
        assert form.query_one("#rk-title", Input).value == "Half scored"
        assert event_count(store) == before


async def test_an_acceptance_without_approver_keeps_the_form_open(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_risks(pilot)
        assert table.go_to(3)
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, AcceptDialog)
        fill(form, rk_justification="Low traffic; vendor SLA covers it.",
             rk_expires="2027-03-31")
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "cannot accept RK-3: the approver is empty" in text_of(form, "#form-error")
        assert form.query_one("#rk-expires", Input).value == "2027-03-31"
        assert event_count(store) == before
        assert get_risk(store, 3).risk.treatment == "open"
        # an expiry in the past: refused too
        fill(form, rk_approver="CISO", rk_expires="2026-11-01")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "must be after today" in text_of(form,
                                                                             "#form-error")
        fill(form, rk_expires="2027-03-31")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        r = get_risk(store, 3).risk
        assert (r.treatment, r.accepted_by, r.acceptance_expires) == (
            "accept", "CISO", "2027-03-31")


async def test_a_failed_write_reopens_the_form_with_the_input(tmp_path: Path) -> None:
    """A clause that does not exist passes the form (it is free text) but not the service:
    the error is shown and the link form comes back with what was typed."""
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        table = await open_risks(pilot)
        assert table.go_to(3)
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        fill(pilot.app.screen, rk_link_clauses="NOPE Art. 99")
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        form = pilot.app.screen
        assert form.query_one("#rk-link-clauses", Input).value == "NOPE Art. 99"
        assert event_count(store) == before
        assert any("NOPE" in n.message for n in pilot.app._notifications)


async def test_re_scoring_appends_history_and_moves_the_trend(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_risks(pilot)
        screen = pilot.app.screen
        assert table.go_to(2)
        await settle(pilot)
        assert screen.query_one(Sparkline).data == [3]  # High
        await pilot.press("s")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ScoreDialog)
        assert form.query_one("#rk-residual-l", Select).value == 3  # the scores as they are
        fill(form, rk_residual_l=2, rk_residual_i=3, rk_note="fairness constraints added")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        await settle(pilot)
        assert isinstance(pilot.app.screen, RisksScreen)
        d = get_risk(store, 2)
        assert len(d.history) == 2 and d.history[-1]["note"] == "fairness constraints added"
        assert d.history[-1]["residual"]["level"] == "Medium"
        assert d.history[-1]["inherent"]["level"] == "Very high"  # carried over
        assert table.current is not None and table.current.id == 2
        assert screen.query_one(Sparkline).data == [3, 2]
        assert "High → Medium" in text_of(screen, "#rk-trend-text")
        # a new matrix is a re-assessment: every scored stage again, or the form says so
        await pilot.press("s")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#rk-matrix", Select).value = "3x3@1"
        await settle(pilot)
        assert form.query_one("#rk-inherent-l", Select).value == Select.NULL
        fill(form, rk_residual_l=2, rk_residual_i=2)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "re-assessment: score inherent, current again" in text_of(form, "#form-error")


async def test_the_dashboard_shows_the_top_risks_and_overdue_reviews(tmp_path: Path) -> None:
    store = risk_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await settle(pilot)
        box = text_of(pilot.app.screen, "#dash-risks")
        assert "5 risks" in box and "1 review overdue" in box
        lines = box.splitlines()
        assert lines[1].startswith("RK-3") and "Sam Ortiz · open" in lines[1]
        assert lines[2].startswith("RK-2") and "Dana Reyes · mitigate" in lines[2]
        assert "review overdue: RK-1 (due 2026-10-15)" in box


async def test_empty_workspace(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    async with make_app(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no risks yet" in text_of(pilot.app.screen, "#dash-risks")
        table = await open_risks(pilot)
        assert table.shown == [] and pilot.app.screen.query_one(HeatMap).heatmap.total == 0
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(pilot.app.screen, RisksScreen)  # no system yet: said, not opened
        await pilot.press("7")
        await settle(pilot)
        assert "No AI systems yet" in text_of(pilot.app.screen, "#sys-info")
