"""The Playbooks screen through Pilot: the five shipped playbooks, and the detail pane that
follows the cursor with steps, escalation and the regulatory clocks (file text escaped)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from app.domain.playbooks import bundled_playbooks, parse_playbook
from app.tui.app import make_app
from app.tui.screens.playbooks import PlaybooksScreen, playbook_markup
from tests.conftest import make_store
from tests.test_tui import settle


async def test_the_screen_lists_the_playbooks_and_follows_the_cursor(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=False)
    async with make_app(store, show_paths=False).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, PlaybooksScreen)
        table = screen.query_one("#pb-table", DataTable)
        assert table.row_count == 5
        text = str(screen.query_one("#pb-text", Static).render())
        assert "Serious incident involving a high-risk AI system" in text
        assert "15 days" in text and "EU-AI-ACT Art. 73(2)" in text
        await pilot.press("down")
        await pilot.pause()
        text = str(screen.query_one("#pb-text", Static).render())
        assert "leaking through a model" in text and "72 hours" in text
        assert "HIPAA § 164.404(b)" in text
    store.close()


def test_markup_in_a_playbook_is_shown_not_interpreted() -> None:
    data = bundled_playbooks()[2].as_data()
    data["title"] = "[b]not bold[/b] title"
    data["steps"][0]["description"] = "watch [red]this[/red]"
    text = playbook_markup(parse_playbook(data))
    assert r"\[b]not bold\[/b] title" in text and r"watch \[red]this\[/red]" in text
