"""Importing PDFs in the TUI, driven by Pilot on real workspaces: an unknown document asks for
its code, a long read is cancelled with ctrl+x, a PDF that cannot be read is a notification.
In every case nothing is written until the user commits. (The official GDPR PDF through the
preview and commit is in test_tui.py.)"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.message import Message
from textual.widgets import Input

from app.services.audit import event_count
from app.services.regulations import get_regulation, list_regulations
from app.tui.app import make_app
from app.tui.messages import ImportProgress, ImportStopped
from app.tui.screens.import_dialogs import ImportDetailsDialog, ImportPlanDialog
from tests import pdfgen
from tests.conftest import make_store
from tests.test_tui import settle


def once(messages: Iterable[Message]) -> list[Message]:
    """Each message once (the hook sees a message again as it bubbles to the app)."""
    return list({id(m): m for m in messages}.values())


async def choose_file(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("3")
    await settle(pilot)
    await pilot.press("i")
    await pilot.pause()
    box = pilot.app.screen.query_one("#file-path", Input)
    box.value = str(path)
    box.focus()
    await pilot.press("enter")


async def test_an_unknown_pdf_asks_for_its_code_then_imports(tmp_path: Path) -> None:
    src = pdfgen.write_pdf(tmp_path / "acme-policy.pdf", [pdfgen.POLICY_PAGE])
    store = make_store(tmp_path / "ws.db", library=True)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_file(pilot, src)
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ImportDetailsDialog)
        assert dialog.missing == ("code",)  # the version was found: "Version 2.1"
        assert dialog.query_one("#details-version", Input).value == "2.1"
        assert dialog.query_one("#details-title", Input).value == "Acme Access Control Policy"
        await pilot.press(*"acme-pol", "ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ImportPlanDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
    reg = get_regulation(store, "ACME-POL")
    assert (reg.version_label, reg.source_pages, reg.source_format) == ("2.1", 1,
                                                                        "pdf:generic")


async def test_ctrl_x_stops_reading_a_2000_page_pdf_and_writes_nothing(tmp_path: Path) -> None:
    src = pdfgen.write_long_pdf(tmp_path / "long.pdf", 2000)
    store = make_store(tmp_path / "ws.db")
    seen: list[Message] = []
    before = event_count(store)
    app = make_app(store)
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await choose_file(pilot, src)  # the read starts in a worker; cancel it at once
        for _ in range(200):
            if any(w.name == "read_and_plan" for w in app.workers):
                break
            await pilot.pause(0.01)
        await pilot.press("ctrl+x")
        await settle(pilot)
        pages = [m.phase for m in seen if isinstance(m, ImportProgress) and "page" in m.phase]
        stopped = once(m for m in seen if isinstance(m, ImportStopped))
        assert [s.reason for s in stopped] == ["import cancelled; nothing was written"]
        assert not isinstance(app.screen, (ImportPlanDialog, ImportDetailsDialog))
        assert not any("page 2,000 of 2,000" in p for p in pages)  # stopped part way
    assert list_regulations(store) == [] and event_count(store) == before


async def test_an_encrypted_pdf_is_a_notification_and_writes_nothing(tmp_path: Path) -> None:
    src = pdfgen.write_encrypted_pdf(tmp_path / "locked.pdf", [pdfgen.POLICY_PAGE])
    store = make_store(tmp_path / "ws.db")
    seen: list[Message] = []
    before = event_count(store)
    app = make_app(store)
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await choose_file(pilot, src)
        await settle(pilot)
        [stopped] = once(m for m in seen if isinstance(m, ImportStopped))
        assert stopped.failed and "is encrypted" in stopped.reason
        assert "locked.pdf" in stopped.reason
        assert not isinstance(app.screen, (ImportPlanDialog, ImportDetailsDialog))
    assert list_regulations(store) == [] and event_count(store) == before


async def test_the_preview_lists_every_ref_that_did_not_match(tmp_path: Path,
                                                               corpus: Path) -> None:
    """The HIPAA PDF against the bundled catalogue: the refs of the document the workspace
    lacks, and the workspace's clauses without text, are all in the preview, not a sample."""
    from textual.widgets import Tree

    store = make_store(tmp_path / "ws.db", library=True)
    before = event_count(store)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_file(pilot, corpus / "hipaa-simplification-201303.pdf")
        for _ in range(3):
            await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ImportPlanDialog) and dialog.plan.fill is not None
        fill = dialog.plan.fill
        assert len(fill.unplaced) > 500 and fill.missing
        folders = {str(n.label).split(" (")[0]: n for n in dialog.query_one(Tree).root.children}
        for name, refs in (("refs of the document not in the workspace", fill.unplaced),
                           ("clauses of the workspace it gives no text", fill.missing)):
            folders[name].expand()
            await pilot.pause()
            assert [str(n.label) for n in folders[name].children] == refs
        await pilot.press("u")
        await pilot.pause()
        await pilot.pause()
        unplaced = folders["text no clause took"]
        pages = {p for p, _ in dialog.plan.doc.unplaced}
        assert len(unplaced.children) == len(pages)
        assert dialog.query_one(Tree).cursor_node is unplaced.children[0]
        await pilot.press("escape")
        await settle(pilot)
    assert event_count(store) == before  # cancelled: nothing written
