"""SVG snapshots of the Exercises section, the exercise runner and its log line. Plain sync
tests (snap_compare requires it); the wall clock is a `ManualClock` that stands still, so the
exercise clock, the countdowns and every timestamp are the same on every run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.domain.clock import ManualClock
from app.services.exercises import close, create_exercise, log, pause, start
from app.tui.app import CrosswalkApp, make_app
from app.tui.screens.exercise_run import ExerciseRunScreen
from tests.conftest import make_store
from tests.test_snapshots import script


def exercise_app(tmp_path: Path, *, state: str = "running") -> CrosswalkApp:
    """EX-1 (the shipped leak scenario, ×60) in `state`, and EX-2 still planned."""
    clock = ManualClock(datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    store = make_store(tmp_path / "ws.db", clock=clock)
    create_exercise(store, "data-leakage-through-a-model")
    start(store, 1)
    clock.advance(95)  # T+1:35:00
    log(store, 1, "action", "Reproduced the output on v2.4: real patient data",
        actor="ML on-call engineer", inject="I1", step=1)
    clock.advance(5)
    log(store, 1, "aware", "", actor="Data protection officer")
    clock.advance(25)
    log(store, 1, "decision", "Suspend the research partner's API keys", actor="CISO",
        inject="I2", step=2, containment=True)
    clock.advance(40)  # T+2:45:00
    if state == "paused":
        pause(store, 1)
    if state == "closed":
        clock.advance(3000)
        log(store, 1, "notification", "Notified the Data Protection Commission",
            actor="Data protection officer", clock="gdpr-33")
        close(store, 1)
    create_exercise(store, "model-drift", title="Drift drill (next quarter)")
    return make_app(store, show_paths=False)


def run_screen(pilot_screen) -> None:  # type: ignore[no-untyped-def]
    pilot_screen.app.push_screen(ExerciseRunScreen(1, tick=0))


class TestExercises:
    def test_list(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path), run_before=script("0", "down"),
                            terminal_size=(120, 36))

    def test_list_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path), run_before=script("0", "down"),
                            terminal_size=(80, 24))

    def test_runner(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path), run_before=script(run_screen),
                            terminal_size=(130, 40))

    def test_runner_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path, state="paused"),
                            run_before=script(run_screen), terminal_size=(80, 24))

    def test_log_line(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path), run_before=script(run_screen, "n"),
                            terminal_size=(130, 40))

    def test_runner_closed(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(exercise_app(tmp_path, state="closed"),
                            run_before=script(run_screen), terminal_size=(130, 40))
