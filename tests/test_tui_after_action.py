"""The after-action report screen, driven by Pilot on real temporary workspaces: an exercise
run and closed through the services on a manual clock; the banner, the metrics and the tables;
rating an objective and adding an improvement item linked to a risk through the dialogs (the
risk becomes treated: mitigate, the audit chain stays intact); a bad due date that keeps the
form open and writes nothing; marking an item done and linking it to a control; and an
exercise still running, shown read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static, TextArea

from app.domain import exercise as ex
from app.domain.clock import ManualClock
from app.services import exercises
from app.services.after_action import add_improvement
from app.services.audit import event_count, verify
from app.services.risks import add_risk, get_risk
from app.services.systems import add_system
from app.store import Store
from app.tui.app import make_app
from app.tui.screens.after_action import AfterActionScreen
from app.tui.screens.after_action_dialogs import (
    ImprovementDialog,
    ImprovementLinkDialog,
    RatingDialog,
)
from tests.conftest import make_store

START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)

SCENARIO = {
    "title": "Credit model drift: quarterly tabletop",
    "playbook": "model-drift",
    "starts_at": "2026-03-02T08:30:00Z",
    "speed": 1,
    "objectives": [
        {"id": "O1", "text": "Rule a pipeline fault in or out within 30 minutes of the "
                             "first alert, and record the model version in the ticket"},
        {"id": "O2", "text": "Decide whether people may be harmed, with the time it was "
                             "made"},
        {"id": "O3", "text": "Agree improvement items, each with an owner"},
    ],
    "modules": [{"id": "M1", "title": "Detection and triage"},
                {"id": "M2", "title": "Containment"}],
    "injects": [
        {"id": "I1", "module": "M1", "at": "T+00:00", "content": "The drift monitor fires.",
         "audience": "ML on-call engineer", "window": "10:00"},
        {"id": "I2", "module": "M1", "at": "T+05:00", "content": "Approvals fall by 12%.",
         "audience": "Model owner", "window": "3:00"},
        {"id": "I3", "module": "M2", "at": "T+20:00", "content": "A journalist calls.",
         "audience": "Communications", "window": "5:00"},
    ],
}


def exercise_store(folder: Path, *, close: bool = True, risk: bool = True) -> Store:
    """EX-1 of the model-drift playbook, run on a manual clock and (by default) closed at
    T+30:00: aware at T+4:00 (I1 within its window), the containment decision at T+10:00 (I2
    late), the AI Act notification at T+20:00 (met), steps 1 and 2 done, I3 unanswered. With
    an AI system and one risk (RK-1, treatment open) in the register."""
    folder.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(START)
    store = make_store(folder / "ws.db", clock=clock)
    if risk:
        add_system(store, name="Credit scoring", tier="high", annex_iii_area="5",
                   operator_role="provider", owner="Model Risk team",
                   tier_justification="Creditworthiness of natural persons: Annex III 5(b).")
        add_risk(store, title="Approval rates drift for young applicants", system="AI-1",
                 category="data-drift", owner="Dana Reyes", inherent="4/4")
    exercises.create_exercise(store, "model-drift", ex.parse_scenario(SCENARIO))
    exercises.start(store, 1)
    clock.advance(240)
    exercises.log(store, 1, "aware", "Drift alert confirmed; not a pipeline fault",
                  inject="I1", step=1, actor="Dana")
    clock.advance(360)
    exercises.log(store, 1, "decision", "Fall back to the rules-based scorecard",
                  inject="I2", containment=True, actor="Sam")
    exercises.log(store, 1, "action", "Sized the drift by segment", step=2, actor="Sam")
    clock.advance(600)
    exercises.log(store, 1, "notification", "Told the market surveillance authority",
                  clock="ai-act-73", actor="Dana")
    clock.advance(600)
    if close:
        exercises.close(store, 1)
    clock.advance(3600)
    return store


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    ours = [w for w in pilot.app.workers if w.name != "_loader"]
    if ours:
        await pilot.app.workers.wait_for_complete(ours)
    await pilot.pause()


async def open_report(pilot, exercise_id: int = 1) -> AfterActionScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    screen = AfterActionScreen(exercise_id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


def text_of(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def row_text(table: DataTable, key: str) -> str:  # type: ignore[type-arg]
    return " ".join(str(c) for c in table.get_row(key))


async def test_the_report_shows_banner_metrics_and_tables(tmp_path: Path) -> None:
    store = exercise_store(tmp_path)
    async with make_app(store, show_paths=False).run_test(size=(120, 40)) as pilot:
        screen = await open_report(pilot)
        assert text_of(screen, "#aa-banner") == ex.BANNER
        head = text_of(screen, "#aa-head")
        assert "EX-1" in head and "Credit model drift: quarterly tabletop" in head
        assert "model-drift" in head and "final clock" in head and "T+30:00" in head
        assert "started 2026-11-26 09:00 UTC" in head and "closed 2026-11-26 09:30 UTC" in head
        metrics = text_of(screen, "#aa-metrics")
        assert "Time to detection             04:00" in metrics
        assert "Time to first decision        10:00" in metrics
        assert "Time to containment decision  10:00" in metrics
        assert "1 within · 1 late · 1 no response" in metrics
        assert "1 met · 0 missed" in metrics and "0 open at close · 0 not applicable" in metrics
        assert "2 of" in metrics and "completed" in metrics
        assert not screen.query_one("#aa-open-note").display
        objectives = screen.query_one("#aa-objectives", DataTable)
        assert objectives.row_count == 3 and "not rated" in row_text(objectives, "O1")
        injects = screen.query_one("#aa-injects", DataTable)
        assert [row_text(injects, k).split()[-1] for k in ("I1", "I2")] == ["within", "late"]
        assert row_text(injects, "I3").endswith("no response")
        clocks = screen.query_one("#aa-clocks", DataTable)
        assert "met" in row_text(clocks, "ai-act-73")
        assert "no items yet" in row_text(screen.query_one("#aa-improvements", DataTable),
                                          "none")
        # every key of the screen is in the command palette's listing, with its id
        from app.tui.commands import CrosswalkCommands

        names = [n for n, _, _ in CrosswalkCommands(screen)._commands()]
        assert {"Rate", "Add item", "Back"} <= set(names)
        ids = {b.id for b in AfterActionScreen.BINDINGS}  # type: ignore[union-attr]
        assert {"after-action-rate", "after-action-improve", "after-action-link",
                "after-action-toggle", "after-action-back"} <= ids
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, AfterActionScreen)


async def test_rating_and_an_item_linked_to_a_risk_through_the_dialogs(
        tmp_path: Path) -> None:
    store = exercise_store(tmp_path)
    assert get_risk(store, "RK-1").risk.treatment == "open"
    async with make_app(store, show_paths=False).run_test(size=(120, 40)) as pilot:
        screen = await open_report(pilot)
        await pilot.press("down")  # O2
        await pilot.press("enter")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, RatingDialog) and form.objective.id == "O2"
        # no rating chosen: the form says so and stays open
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "choose a rating" in text_of(form, "#form-error")
        form.query_one("#aa-rating", Select).value = "S"
        form.query_one("#aa-strengths", TextArea).text = "Harm decision logged [with] time"
        form.query_one("#aa-areas", TextArea).text = "Nobody owned the fallback approval"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert pilot.app.screen is screen
        rating = exercises.get_exercise(store, 1).ratings["O2"]
        assert (rating.rating, rating.strengths, rating.improvements) == (
            "S", "Harm decision logged [with] time", "Nobody owned the fallback approval")
        assert event_count(store) == before + 1
        row = row_text(screen.query_one("#aa-objectives", DataTable), "O2")
        assert "Performed with some challenges" in row and "[with]" in row

        # an improvement item linked to RK-1 (treatment open → mitigate)
        await pilot.press("i")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ImprovementDialog)
        assert form.query_one("#aa-objective", Select).value == "O2"  # the highlighted one
        form.query_one("#aa-action", Input).value = "Name an approver for the fallback"
        form.query_one("#aa-owner", Input).value = "Head of Model Risk"
        form.query_one("#aa-due", Input).value = "2027-01-31"
        risk = form.query_one("#aa-risk", Select)
        assert [v for _, v in risk._options if v != Select.NULL] == ["RK-1"]
        risk.value = "RK-1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert pilot.app.screen is screen
        item = exercises.get_exercise(store, 1).improvements[0]
        assert (item.label, item.action, item.owner, item.due_on, item.objective,
                item.risk_id, item.status) == (
            "IM-1", "Name an approver for the fallback", "Head of Model Risk", "2027-01-31",
            "O2", 1, "open")
        assert get_risk(store, "RK-1").risk.treatment == "mitigate"
        table = screen.query_one("#aa-improvements", DataTable)
        assert table.row_count == 1 and "RK-1" in row_text(table, "1")

        # link it to a control, then mark it done
        table.focus()
        await pilot.press("l")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ImprovementLinkDialog)
        await pilot.press("ctrl+s")  # nothing chosen: refused, stays open
        await settle(pilot)
        assert pilot.app.screen is form and "choose a risk or a control" in \
            text_of(form, "#form-error")
        form.query_one("#aa-control", Select).value = "OPS-2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await settle(pilot)
        item = exercises.get_exercise(store, 1).improvements[0]
        assert (item.control_id, item.status) == ("OPS-2", "done")
        assert "done" in row_text(table, "1") and "OPS-2" in row_text(table, "1")
        await pilot.press("x")
        await settle(pilot)
        await settle(pilot)
        assert exercises.get_exercise(store, 1).improvements[0].status == "open"
    assert verify(store).intact


async def test_a_bad_due_date_keeps_the_form_and_writes_nothing(tmp_path: Path) -> None:
    store = exercise_store(tmp_path)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        await open_report(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ImprovementDialog)
        form.query_one("#aa-action", Input).value = "Rehearse the fallback"
        form.query_one("#aa-owner", Input).value = "Ops lead"
        form.query_one("#aa-due", Input).value = "31/01/2027"
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "'31/01/2027' is not a date; write it as YYYY-MM-DD" in \
            text_of(form, "#form-error")
        assert any("31/01/2027" in n.message for n in pilot.app._notifications)
        assert form.query_one("#aa-action", Input).value == "Rehearse the fallback"
        assert form.query_one("#aa-owner", Input).value == "Ops lead"
        assert event_count(store) == before
        assert exercises.get_exercise(store, 1).improvements == ()
        # an empty owner is refused too
        form.query_one("#aa-due", Input).value = "2027-01-31"
        form.query_one("#aa-owner", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "the owner is empty" in text_of(form,
                                                                          "#form-error")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AfterActionScreen)
        assert event_count(store) == before
    assert verify(store).intact


async def test_a_service_refusal_gives_the_form_back(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A write the service refuses (here: made to refuse) is notified, nothing is written,
    and the form opens again with what was typed."""
    from app.errors import InvalidInput
    from app.services import after_action

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise InvalidInput("exercise EX-1 is [bold]busy[/]")

    store = exercise_store(tmp_path)
    monkeypatch.setattr(after_action, "add_improvement", refuse)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_report(pilot)
        screen.action_improve({"action": "Retrain monthly", "owner": "ML lead",
                               "due": "2027-02-01", "risk": "RK-1"})
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ImprovementDialog)
        assert form.query_one("#aa-risk", Select).value == "RK-1"
        before = event_count(store)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        reopened = pilot.app.screen
        assert isinstance(reopened, ImprovementDialog) and reopened is not form
        assert reopened.query_one("#aa-action", Input).value == "Retrain monthly"
        assert reopened.query_one("#aa-due", Input).value == "2027-02-01"
        assert reopened.query_one("#aa-risk", Select).value == "RK-1"
        assert any(n.message == "exercise EX-1 is [bold]busy[/]"
                   for n in pilot.app._notifications)
        assert event_count(store) == before
        assert exercises.get_exercise(store, 1).improvements == ()


async def test_an_exercise_still_running_is_read_only(tmp_path: Path) -> None:
    store = exercise_store(tmp_path, close=False, risk=False)
    async with make_app(store, show_paths=False).run_test(size=(80, 24)) as pilot:
        screen = await open_report(pilot)
        assert text_of(screen, "#aa-banner") == ex.BANNER
        note = text_of(screen, "#aa-open-note")
        assert note == ("EX-1 is still running; close it on the runner to write its "
                        "after-action report")
        assert screen.query_one("#aa-open-note").display
        assert not screen.query_one("#aa-objectives").display
        assert not screen.query_one("#aa-improvements").display
        metrics = text_of(screen, "#aa-metrics")
        assert "Time to detection             04:00" in metrics
        before = event_count(store)
        for key in ("r", "i", "l", "x", "enter"):
            await pilot.press(key)
            await settle(pilot)
            assert pilot.app.screen is screen
        assert event_count(store) == before
        from app.tui.commands import CrosswalkCommands

        names = [n for n, _, _ in CrosswalkCommands(screen)._commands()]
        assert "Rate" not in names and "Add item" not in names


async def test_narrow_shows_the_highlighted_ratings_below_the_table(tmp_path: Path) -> None:
    from app.services.after_action import rate_objective

    store = exercise_store(tmp_path)
    rate_objective(store, 1, "O1", "M", strengths="Fast triage",
                   improvements="Version not recorded")
    add_improvement(store, 1, "Record the model version", "ML lead", "2026-12-01",
                    objective="O1", risk="RK-1", control="OPS-2")
    async with make_app(store, show_paths=False).run_test(size=(80, 24)) as pilot:
        screen = await open_report(pilot)
        detail = text_of(screen, "#aa-objective-detail")
        assert "Performed with major challenges" in detail
        assert "Fast triage" in detail and "Version not recorded" in detail
        row = row_text(screen.query_one("#aa-improvements", DataTable), "1")
        assert "RK-1 OPS-2 O1" in row and "2026-12-01" in row
