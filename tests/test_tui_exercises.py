"""The Exercises section and the exercise runner, driven through the real TUI with Pilot and a
fake wall clock (`ManualClock`): a whole tabletop exercise run from the keyboard, with the
metrics and clock outcomes asserted exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from app.domain import exercise as ex
from app.domain.clock import ManualClock
from app.services.audit import verify
from app.services.exercises import create_exercise, get_exercise
from app.store import Store
from app.tui.app import make_app
from app.tui.screens.dialogs import ConfirmDialog
from app.tui.screens.exercise_dialogs import LogLineDialog, NewExerciseDialog
from app.tui.screens.exercise_run import ExerciseRunScreen
from tests.conftest import make_store

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SCENARIO = {
    "title": "Leak drill", "playbook": "data-leakage-through-a-model",
    "starts_at": "2026-05-01T09:00:00Z", "speed": 60,
    "objectives": [{"id": "O1", "text": "Notify within 72 hours"}],
    "modules": [{"id": "M1", "title": "Report"}, {"id": "M2", "title": "Notify"}],
    "injects": [
        {"id": "I1", "module": "M1", "at": "T+30:00", "content": "A registrar finds "
         "[b]someone else's[/b] notes in a summary.", "audience": "ML on-call engineer",
         "window": "45:00", "expected": ["Reproduce it"], "questions": ["Is it real?"]},
        {"id": "I2", "module": "M2", "at": "T+2:00:00", "content": "The DPO asks for the "
         "facts.", "audience": "Data protection officer", "window": "20:00"},
        {"id": "I3", "module": "M2", "at": "T+80:00:00", "content": "Day four.",
         "audience": "Data protection officer"}]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Store:
    store = make_store(tmp_path / "ws.db", clock=clock)
    create_exercise(store, "data-leakage-through-a-model", ex.parse_scenario(SCENARIO))
    return store


async def wait(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def notes(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(n.message for n in app._notifications)


def text_of(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


async def test_a_whole_exercise_from_the_keyboard(store: Store, clock: ManualClock) -> None:
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("0")
        await wait(pilot)
        assert app.screen.query_one("#exl-table", DataTable).row_count == 1
        await pilot.press("enter")
        await wait(pilot)
        run = app.screen
        assert isinstance(run, ExerciseRunScreen)
        assert ex.BANNER in text_of(run, ".exercise-banner")
        assert "READY" in text_of(run, "#ex-status")

        await pilot.press("a")  # not started: refused, nothing written
        await wait(pilot)
        assert get_exercise(store, 1).entries == ()

        await pilot.press("space")  # start at ×60
        await wait(pilot)
        clock.advance(30)  # 30 wall seconds = T+30:00: the first inject falls due
        run.tick()
        await pilot.pause()
        assert "T+30:00" in text_of(run, "#ex-status")
        assert "someone else's" in text_of(run, "#ex-feed-text")  # markup shown as text
        assert "I2 at T+2:00:00" in text_of(run, "#ex-next")

        clock.advance(15)  # T+45:00
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)  # it cannot be taken back: asked first
        clock.advance(3)  # the answer takes a moment; the key's moment counts
        await pilot.press("y")
        await wait(pilot)
        clock.advance(12)  # T+1:00:00: key pressed now, saved after typing for a while
        await pilot.press("d")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LogLineDialog)
        assert dialog.query_one("#lg-inject", Select).value == "I1"  # the latest released
        clock.advance(5)  # typing takes 5 wall seconds (5 scenario minutes)
        await pilot.press(*"Suspend the API keys")
        dialog.query_one("#lg-containment", Checkbox).value = True
        dialog.query_one("#lg-step", Select).value = "2"
        await pilot.press("enter")
        await wait(pilot)
        assert "Decision logged at T+1:00:00" in notes(app)

        clock.advance(70)  # T+2:15:00: I2 released at T+2:00:00
        run.tick()
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#lg-inject", Select).value == "I2"
        dialog.query_one("#lg-clock", Select).value = "gdpr-33"
        await pilot.press(*"Notified the DPC")
        await pilot.press("enter")
        await wait(pilot)

        await pilot.press("space")  # pause: the exercise clock stands still
        await wait(pilot)
        frozen = get_exercise(store, 1).now_ms(clock())
        clock.advance(600)
        assert get_exercise(store, 1).now_ms(clock()) == frozen == (2 * 3600 + 15 * 60) * 1000
        await pilot.press("space")  # resume
        await wait(pilot)
        clock.advance(5)  # T+2:20:00
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await wait(pilot)
        assert "CLOSED" in text_of(run, "#ex-status")

        await pilot.press("d")  # the log is final
        await wait(pilot)
        assert not isinstance(app.screen, LogLineDialog)

    view = get_exercise(store, 1)
    assert view.status == "closed" and view.clock_ms == (2 * 3600 + 20 * 60) * 1000
    assert [(e.kind, e.at_ms, e.inject) for e in view.entries] == [
        ("aware", 45 * 60_000, None), ("decision", 60 * 60_000, "I1"),
        ("notification", 135 * 60_000, "I2")]
    m = view.metrics(clock())
    assert (m.detection_ms, m.first_decision_ms, m.containment_ms) == (
        15 * 60_000, 30 * 60_000, 30 * 60_000)  # measured from the first inject at T+30:00
    assert [(r.inject.id, r.response_ms, r.outcome) for r in m.injects] == [
        ("I1", 30 * 60_000, "within"), ("I2", 15 * 60_000, "within"),
        ("I3", None, "not released")]
    outcomes = {c.clock.id: c.outcome for c in m.clocks}
    assert outcomes["gdpr-33"] == "met" and outcomes["hipaa-404"] == "open at close"
    gdpr = next(c for c in m.clocks if c.clock.id == "gdpr-33")
    assert gdpr.due_ms == (45 * 60 + 72 * 3600) * 1000
    assert m.steps_done == (2,)
    assert verify(store).intact


async def test_a_refused_entry_reopens_the_line_and_writes_nothing(
        store: Store, clock: ManualClock) -> None:
    from app.services.exercises import log, start

    start(store, 1)
    clock.advance(60)
    log(store, 1, "aware", "")
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ExerciseRunScreen(1, tick=0))
        await wait(pilot)
        await pilot.press("a")  # a second "became aware" is refused
        await wait(pilot)
        assert "the clocks run from that moment" in notes(app)
        assert not isinstance(app.screen, ConfirmDialog)
        assert len(get_exercise(store, 1).entries) == 1
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("enter")  # empty text: the form says so and stays open
        await pilot.pause()
        assert isinstance(app.screen, LogLineDialog)
        assert "Say what happened" in str(app.screen.query_one("#form-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
    assert len(get_exercise(store, 1).entries) == 1


async def test_create_from_the_tui_and_a_bad_scenario_file(store: Store,
                                                            tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nobjectives: [{id: O1, text: t}]\nmodules: [{id: M1, title: m}]\n"
                   "injects:\n  - {id: I1, module: M9, at: 'T+00:00', content: c, "
                   "audience: a}\n", encoding="utf-8")
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("0")
        await wait(pilot)
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NewExerciseDialog)
        dialog.query_one("#nx-playbook", Select).value = "model-drift"
        dialog.query_one("#nx-scenario", Input).value = str(bad)
        await pilot.press("ctrl+s")
        await wait(pilot)
        assert "refers to module 'M9'" in notes(app)
        assert isinstance(app.screen, NewExerciseDialog)  # given back with what was typed
        assert app.screen.query_one("#nx-scenario", Input).value == str(bad)
        app.screen.query_one("#nx-scenario", Input).value = ""  # the shipped scenario
        await pilot.press("ctrl+s")
        await wait(pilot)
        assert app.screen.query_one("#exl-table", DataTable).row_count == 2
    view = get_exercise(store, 2)
    assert view.playbook.id == "model-drift" and view.scenario_name == "model-drift.yaml"


async def test_the_dashboard_shows_the_latest_exercise(store: Store, clock: ManualClock) -> None:
    from app.services.after_action import add_improvement
    from app.services.exercises import close, log, start

    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot)
        assert "no exercise yet" in text_of(app.screen, "#dash-exercises")
    start(store, 1)
    clock.advance(50)  # T+50:00, 20 minutes after the first inject
    log(store, 1, "aware", "")
    close(store, 1)
    add_improvement(store, 1, "Write the notice template", "DPO", "2026-05-10")
    clock.advance(30 * 86400)  # a month later it is overdue
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot)
        box = text_of(app.screen, "#dash-exercises")
        assert "EX-1 Leak drill" in box and "detection 20:00" in box
        assert "1 open · 1 overdue" in box
