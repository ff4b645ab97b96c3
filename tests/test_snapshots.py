"""SVG snapshots of every screen (pytest-textual-snapshot). Plain sync tests, as snap_compare
requires. Workspaces are reproducible (fixed clock, actor, id) and paths are hidden, so the
hashes and timestamps on screen are the same on every run."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Input

from app.services.controls import update_control
from app.store import Store
from app.tui.app import CrosswalkApp, make_app
from tests.conftest import make_store


def demo_like(path: Path) -> Store:
    store = make_store(path)
    update_control(store, "GOV-1", owner="Head of Compliance", status="implemented",
                   narrative="Regulations are mapped clause by clause.")
    update_control(store, "OPS-2", owner="Model Monitoring Lead", status="partial",
                   narrative="PSI on input features daily; alert thresholds per feature.")
    update_control(store, "SEC-2", owner="ML Platform Lead", status="planned")
    update_control(store, "OPS-4", status="not-applicable")
    return store


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def app_for(tmp_path: Path) -> CrosswalkApp:
    return make_app(demo_like(tmp_path / "ws.db"), show_paths=False)


class TestDashboard:
    def test_wide(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path), run_before=settle, terminal_size=(120, 36))

    def test_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path), run_before=settle, terminal_size=(80, 24))

    def test_no_color(self, snap_compare, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(app_for(tmp_path), run_before=settle, terminal_size=(100, 30))

    def test_broken_chain(self, snap_compare, tmp_path: Path) -> None:
        app = app_for(tmp_path)
        con = sqlite3.connect(app.store.path)
        con.execute("UPDATE control SET status = 'implemented' WHERE id = 'SEC-2'")
        con.commit()
        con.close()
        assert snap_compare(app, run_before=settle, terminal_size=(120, 36))


def script(*steps: str | Callable[[Screen[object]], object]):  # type: ignore[no-untyped-def]
    """A `run_before`: wait for the workers, then press each key or apply each function to the
    current screen, settling after every step."""
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                step(pilot.app.screen)
            await settle(pilot)

    return run_before


def select_ops2(screen: Screen[object]) -> None:
    screen.query_one("#controls-table", DataTable).move_cursor(row=9)


def too_long_owner(screen: Screen[object]) -> None:
    screen.query_one("#owner", Input).value = "x" * 250


SIZES = pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["wide", "80x24"])


class TestControls:
    @SIZES
    def test_detail(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("2", select_ops2),
                            terminal_size=size)

    def test_edit_form_80x24(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("2", select_ops2, "e"),
                            terminal_size=(80, 24))

    def test_form_error_keeps_the_form_open(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path),
                            run_before=script("2", "e", too_long_owner, "ctrl+s"),
                            terminal_size=(100, 30))


class TestAuditLog:
    @SIZES
    def test_log(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("3"), terminal_size=size)

    def test_help(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("3", "question_mark"),
                            terminal_size=(120, 36))

    def test_error_dialog(self, snap_compare) -> None:
        # the message names the workspace path, so this one lives at a fixed path
        folder = Path(tempfile.gettempdir()) / "crosswalk-snapshot-error"
        shutil.rmtree(folder, ignore_errors=True)

        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await settle(pilot)
            con = sqlite3.connect(pilot.app.store.path)
            con.execute("DROP TABLE audit_event")
            con.commit()
            con.close()
            await pilot.press("v")
            await settle(pilot)

        assert snap_compare(app_for(folder), run_before=run_before, terminal_size=(100, 30))
