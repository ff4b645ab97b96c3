"""SVG snapshots of the after-action report (pytest-textual-snapshot): a closed exercise with
a rating and an improvement item, wide and at 80×24, the rating dialog open, an exercise still
running (read-only) and the report under NO_COLOR. Plain sync tests, as snap_compare
requires; a manual clock and hidden paths keep every run the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.after_action import add_improvement, rate_objective
from app.tui.app import CrosswalkApp, make_app
from app.tui.screens.after_action import AfterActionScreen
from tests.test_tui_after_action import exercise_store


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    ours = [w for w in pilot.app.workers if w.name != "_loader"]
    if ours:
        await pilot.app.workers.wait_for_complete(ours)
    await pilot.pause()


def report_app(tmp_path: Path, *, close: bool = True) -> CrosswalkApp:
    store = exercise_store(tmp_path, close=close)
    if close:
        rate_objective(store, 1, "O1", "S", strengths="Pipeline fault ruled out in 4 minutes",
                       improvements="The model version was not written in the ticket")
        rate_objective(store, 1, "O2", "M", strengths="",
                       improvements="Nobody could name who approves the fallback")
        add_improvement(store, 1, "Name an approver for the fallback scorecard",
                        "Head of Model Risk", "2027-01-31", objective="O2", risk="RK-1")
        add_improvement(store, 1, "Add the model version to the ticket template",
                        "ML on-call lead", "2026-12-01", objective="O1", control="OPS-2")
    return make_app(store, show_paths=False)


def opened(*keys: str):  # type: ignore[no-untyped-def]
    """A `run_before`: push the report of EX-1, then press `keys`, settling after each."""
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.app.push_screen(AfterActionScreen(1))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


class TestAfterAction:
    def test_wide(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path), run_before=opened(),
                            terminal_size=(120, 40))

    def test_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path), run_before=opened(),
                            terminal_size=(80, 24))

    def test_rating_dialog(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path), run_before=opened("down", "r"),
                            terminal_size=(120, 40))

    def test_rating_dialog_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path), run_before=opened("r"),
                            terminal_size=(80, 24))

    def test_improvement_dialog(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path), run_before=opened("i"),
                            terminal_size=(120, 40))

    def test_still_running(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(report_app(tmp_path, close=False), run_before=opened(),
                            terminal_size=(120, 40))

    def test_no_color(self, snap_compare, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(report_app(tmp_path), run_before=opened(),
                            terminal_size=(100, 30))
