"""The TUI through `App.run_test()` and Pilot, on real temp workspaces."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static, TextArea

from app.services.audit import events
from app.services.controls import get_control
from app.store import Store
from app.tui.app import make_app
from app.tui.screens.audit_log import AuditLogScreen
from app.tui.screens.controls import ControlsScreen, EditControlDialog
from app.tui.screens.dashboard import DashboardScreen
from app.tui.screens.dialogs import ErrorDialog
from app.tui.screens.help import HelpScreen
from app.tui.widgets.chain_status import ChainStatus
from tests.conftest import make_store


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for our workers (not DirectoryTree's never-ending loader), then for the UI."""
    ours = [w for w in pilot.app.workers if w.name != "_loader"]
    if ours:  # wait_for_complete([]) would wait for every worker, the loader included
        await pilot.app.workers.wait_for_complete(ours)
    await pilot.pause()


async def test_starts_on_dashboard_with_controls_and_intact_chain(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one("#dash-controls", DataTable)
        assert table.row_count == 12
        assert table.get_row("OPS-2")[0] == "OPS-2"
        chain = app.screen.query_one(ChainStatus)
        assert chain.report is not None and chain.report.intact
        assert chain.report.events == 13
        info = str(app.screen.query_one("#ws-info", Static).render())
        assert "12 controls" in info and "13 audit events" in info


async def test_number_keys_sidebar_and_palette_switch_screens(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ControlsScreen)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, AuditLogScreen)
        # the sidebar: click the first entry
        await pilot.click("#sidebar", offset=(2, 0))
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        # the command palette lists the sections
        await pilot.press("ctrl+p")
        await pilot.press(*"audit log")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditLogScreen)


async def test_palette_lists_screen_actions(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"edit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditControlDialog)


async def test_edit_control_through_form_is_saved_and_audited(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one("#controls-table", DataTable)
        table.move_cursor(row=9)  # OPS-2
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditControlDialog) and form.control.id == "OPS-2"
        form.query_one("#owner", Input).value = "Model Monitoring Lead"
        form.query_one("#status", Select).value = "implemented"
        form.query_one("#narrative", TextArea).text = "PSI daily; alerts to on-call."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ControlsScreen)
        row = table.get_row("OPS-2")
        assert str(row[1]) == "implemented" and row[2] == "Model Monitoring Lead"
        saved = get_control(store, "OPS-2")
        assert (saved.owner, saved.status, saved.narrative) == (
            "Model Monitoring Lead", "implemented", "PSI daily; alerts to on-call.")
        # the audit log screen shows the event at the top
        await pilot.press("4")
        await settle(pilot)
        log = app.screen.query_one("#audit-table", DataTable)
        top = log.get_row_at(0)
        assert top[3] == "control.update" and top[4] == "OPS-2"
        assert top[5].startswith("narrative: — → PSI daily")
        detail = str(app.screen.query_one("#audit-detail", Static).render())
        assert '"owner": {"from": "", "to": "Model Monitoring Lead"}' in detail
        assert app.screen.query_one(ChainStatus).report.intact  # type: ignore[union-attr]


async def test_cancel_edit_changes_nothing(store: Store) -> None:
    app = make_app(store)
    before = len(events(store, limit=1000))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "e")
        await pilot.pause()
        app.screen.query_one("#owner", Input).value = "Someone"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ControlsScreen)
    assert get_control(store, "GOV-1").owner == ""
    assert len(events(store, limit=1000)) == before


async def test_dashboard_opens_control_on_enter(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#dash-controls", DataTable)
        table.focus()
        table.move_cursor(row=5)  # SEC-2
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ControlsScreen)
        assert app.screen.current_id() == "SEC-2"
        assert "Model integrity protection" in str(
            app.screen.query_one("#control-text", Static).render())


async def test_help_screen_is_generated_from_bindings(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        ids = {table.get_row_at(i)[2] for i in range(table.row_count)}
        assert {"audit-verify", "audit-older", "audit-newer", "goto-dashboard", "help",
                "quit"} <= ids
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditLogScreen)


async def test_audit_log_pages(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    from app.services.controls import update_control

    for i in range(150):
        update_control(store, "GOV-1", owner=f"owner {i}")
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#audit-table", DataTable)
        assert table.row_count == 100 and table.get_row_at(0)[0] == "163"
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert table.row_count == 63 and table.get_row_at(0)[0] == "63"
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert table.get_row_at(0)[0] == "163"
        summary = str(app.screen.query_one("#audit-summary", Static).render())
        assert "163 events" in summary and "page 1 of 2" in summary


async def test_tampered_workspace_shows_broken_chain(store: Store) -> None:
    con = sqlite3.connect(store.path)
    con.execute("UPDATE control SET owner = 'Mallory' WHERE id = 'SEC-1'")
    con.commit()
    con.close()
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        chain = app.screen.query_one(ChainStatus)
        assert chain.report is not None and not chain.report.intact
        assert "SEC-1" in str(chain.query_one("#chain-text", Static).render())
        assert chain.has_class("-broken")


async def test_worker_failure_becomes_error_dialog(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        con = sqlite3.connect(store.path)
        con.execute("DROP TABLE audit_event")
        con.commit()
        con.close()
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        text = str(app.screen.query_one("#error-message", Static).render())
        assert "audit_event" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_save_while_locked_notifies_and_changes_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", busy_timeout=0.2)
    app = make_app(store)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2", "e")
        await pilot.pause()
        app.screen.query_one("#owner", Input).value = "Blocked"
        blocker = sqlite3.connect(store.path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("ctrl+s")
            await settle(pilot)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        messages = [n.message for n in app._notifications]
        assert any("locked" in m for m in messages)
        # the form is back, with what the user typed
        assert isinstance(app.screen, EditControlDialog)
        assert app.screen.query_one("#owner", Input).value == "Blocked"
        await pilot.press("ctrl+s")  # the lock is gone: now it saves
        await settle(pilot)
        assert isinstance(app.screen, ControlsScreen)
    assert get_control(store, "GOV-1").owner == "Blocked"


async def test_usable_at_80x24(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, screen_type in (("1", DashboardScreen), ("2", ControlsScreen),
                                 ("4", AuditLogScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_type)
        await pilot.press("2", "e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditControlDialog)
        save = form.query_one("#save")
        assert save.region.bottom <= 24 and save.region.right <= 80  # reachable on screen


async def test_invalid_form_stays_open_and_keeps_the_text(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "e")
        await pilot.pause()
        app.screen.query_one("#narrative", TextArea).text = "n" * 20_001
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditControlDialog)
        assert "narrative is too long" in str(app.screen.query_one("#form-error").render())
        assert len(app.screen.query_one("#narrative", TextArea).text) == 20_001
    assert get_control(store, "GOV-1").narrative == ""


async def test_form_sends_only_changed_fields(tmp_path: Path) -> None:
    """A colleague's edit made while the form was open survives a save of another field."""
    store = make_store(tmp_path / "ws.db")
    from app.services.controls import update_control

    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "e")
        await pilot.pause()
        colleague = make_store(tmp_path / "ws.db", actor="colleague")
        update_control(colleague, "GOV-1", narrative="Colleague's text", status="implemented")
        colleague.close()
        app.screen.query_one("#owner", Input).value = "Me"
        await pilot.press("ctrl+s")
        await settle(pilot)
    saved = get_control(store, "GOV-1")
    assert (saved.owner, saved.status, saved.narrative) == (
        "Me", "implemented", "Colleague's text")


async def test_hand_edited_rows_do_not_crash_the_screens(store: Store) -> None:
    con = sqlite3.connect(store.path)
    con.execute("UPDATE control SET status = 'hacked' WHERE id = 'GOV-1'")
    con.execute("UPDATE audit_event SET change = 'not json' WHERE seq = 3")
    con.commit()
    con.close()
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(ChainStatus).report.intact  # type: ignore[union-attr]
        await pilot.press("2", "e")
        await pilot.pause()
        assert isinstance(app.screen, EditControlDialog)
        assert app.screen.query_one("#status", Select).is_blank()
        await pilot.press("escape", "4")
        await settle(pilot)
        table = app.screen.query_one("#audit-table", DataTable)
        assert table.get_row("3")[-1] == "not json"


async def test_palette_offers_screen_actions_not_widget_internals(store: Store) -> None:
    from app.tui.commands import CrosswalkCommands

    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        provider = CrosswalkCommands(app.screen)
        names = [name for name, _help, _run in provider._commands()]
        assert {"Go to Dashboard", "Go to Controls", "Go to Audit log", "Verify chain",
                "Older", "Newer", "Help"} <= set(names)
        assert not {"Cursor up", "Page Left", "Cancel verify", "Quit"} & set(names)
        assert len(names) == len(set(names))


# ------------------------------------------------------------------------- regulations
async def open_regulations(pilot, code: str = "GDPR") -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    select = screen.query_one("#reg-select", Select)
    target = next(v for label, v in select._options if str(label).startswith(code))
    select.value = target
    await settle(pilot)


async def test_regulations_tree_expands_lazily_and_shows_clause(tmp_path: Path) -> None:
    from textual.widgets import Tree

    from app.tui.screens.regulations import RegulationsScreen

    store = make_store(tmp_path / "ws.db", library=True)
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_regulations(pilot, "GDPR")
        assert isinstance(app.screen, RegulationsScreen)
        tree = app.screen.query_one("#clause-tree", Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert labels[0].startswith("Recitals 1–173")  # folded, one line
        assert len(tree.root.children) == 1 + 11  # recitals + 11 chapters
        chapter4 = tree.root.children[4]
        assert "Chapter IV" in str(chapter4.label) and len(chapter4.children) == 0  # lazy
        chapter4.expand()
        await pilot.pause()
        assert [str(c.label).split(" ")[0] + " " + str(c.label).split(" ")[1]
                for c in chapter4.children][:2] == ["Chapter IV", "Chapter IV"]  # sections
        section2 = next(c for c in chapter4.children if "Section 2" in str(c.label))
        section2.expand()
        await pilot.pause()
        art32 = next(c for c in section2.children if str(c.label).startswith("Art. 32 "))
        tree.move_cursor(art32)
        await pilot.pause()
        detail = str(app.screen.query_one("#clause-text", Static).render())
        assert "Security of processing" in detail
        assert "Art. 32(1)(b) → SEC-1" in detail  # the mappings of its paragraphs and points


async def test_regulations_filter_as_you_type(tmp_path: Path) -> None:
    from textual.widgets import Tree

    store = make_store(tmp_path / "ws.db", library=True)
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_regulations(pilot, "GDPR")
        await pilot.press("slash", *"art. 32(1)")
        await pilot.pause()
        matches = app.screen.query_one("#match-tree", Tree)
        tree = app.screen.query_one("#clause-tree", Tree)
        assert matches.display  # on a layer above the whole tree, which is left as it is
        refs = [str(n.label).split(" ", 2)[0] + " " + str(n.label).split(" ", 2)[1]
                for n in matches.root.children]
        assert refs == ["Art. 32(1)", "Art. 32(1)(a)", "Art. 32(1)(b)", "Art. 32(1)(c)",
                        "Art. 32(1)(d)"]
        # a filter that matches nothing says so (and does not crash)
        await pilot.press(*"zzz")
        await pilot.pause()
        assert len(matches.root.children) == 0
        assert "No clause matches" in str(app.screen.query_one("#clause-text", Static).render())
        await pilot.press(*["backspace"] * 3)  # back to "art. 32(1)": the detail follows
        await pilot.pause(0.3)
        assert "Art. 32(1)" in str(app.screen.query_one("#clause-text", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert tree.display and not matches.display
        assert len(tree.root.children) == 12


async def test_switching_regulation_refreshes_the_detail(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=True)
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_regulations(pilot, "HIPAA")
        detail = app.screen.query_one("#clause-text", Static)
        assert "Part 160" in str(detail.render())
        await open_regulations(pilot, "GDPR")
        text = str(detail.render())
        assert "Part 160" not in text and "Chapter I" in text


async def test_import_from_the_tui_with_confirm(tmp_path: Path) -> None:
    from app.services.regulations import list_regulations
    from app.tui.screens.import_dialogs import (
        FilePickerDialog,
        ImportDetailsDialog,
        ImportPlanDialog,
    )

    csv = tmp_path / "policy.csv"
    csv.write_text("ref,title,text,parent_ref,kind\nP-1,Scope,Applies to all models.,,"
                   "section\nP-1.1,Inventory,Keep a model inventory.,P-1,requirement\n",
                   encoding="utf-8")
    store = make_store(tmp_path / "ws.db")
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, FilePickerDialog)
        # a CSV does not say what it is: the TUI asks; cancelling writes nothing
        app.screen.query_one("#file-path", Input).value = str(csv)
        app.screen.query_one("#file-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImportDetailsDialog)
        assert app.screen.missing == ("code", "version")
        await pilot.press("escape")
        await settle(pilot)
        assert list_regulations(store) == []
        # asked again, a bad code is refused in the dialog; a good one goes on to the plan
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#file-path", Input).value = str(csv)
        app.screen.query_one("#file-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"bad code", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ImportDetailsDialog)
        app.screen.query_one("#details-code", Input).value = "acme-csv"
        app.screen.query_one("#details-version", Input).value = "2025"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ImportPlanDialog)
        assert "a new regulation ACME-CSV 2025" in str(app.screen.query_one("#plan-text")
                                                        .render())
        await pilot.press("escape")
        await settle(pilot)
        assert list_regulations(store) == []
        yaml_file = tmp_path / "policy.yaml"
        yaml_file.write_text(
            "schema: crosswalk-catalog/1\nregulation: {code: POLICY, title: Model policy, "
            "version_label: '1'}\nclauses:\n- {ref: P-1, kind: section, title: Scope, "
            "children: [{ref: P-1.1, kind: requirement, title: Inventory}]}\n",
            encoding="utf-8")
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#file-path", Input).value = str(yaml_file)
        app.screen.query_one("#file-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImportPlanDialog)
        assert "a new regulation POLICY 1" in str(app.screen.query_one("#plan-text").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
    regs = list_regulations(store)
    assert [(r.code, r.clauses) for r in regs] == [("POLICY", 2)]


async def test_diff_dialog_lists_changes(tmp_path: Path) -> None:
    from app.domain.clauses import ClauseNode, RegulationDoc
    from app.services.regulations import add_regulation
    from app.tui.screens.import_dialogs import DiffDialog

    store = make_store(tmp_path / "ws.db")
    add_regulation(store, RegulationDoc("POL", "Policy", "1", effective_date="2025-01-01",
                                        clauses=[ClauseNode("A", "clause", text="one"),
                                                 ClauseNode("B", "clause", text="two")]))
    add_regulation(store, RegulationDoc("POL", "Policy", "2", effective_date="2026-01-01",
                                        clauses=[ClauseNode("A", "clause", text="one, changed"),
                                                 ClauseNode("C", "clause", text="three")]))
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_regulations(pilot, "POL")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DiffDialog)
        table = app.screen.query_one("#diff-table", DataTable)
        rows = {tuple(table.get_row_at(i)[:2]) for i in range(table.row_count)}
        assert rows == {("+", "C"), ("−", "B"), ("~", "A")}


async def test_pdf_import_preview_then_commit(tmp_path: Path, corpus: Path) -> None:
    from textual.widgets import Tree

    from app.services.regulations import get_regulation
    from app.tui.screens.import_dialogs import ImportPlanDialog

    store = make_store(tmp_path / "ws.db", library=True)
    app = make_app(store)
    progress: list[str] = []

    def hook(message: object) -> None:
        from app.tui.messages import ImportProgress

        if isinstance(message, ImportProgress):
            progress.append(message.phase)

    async with app.run_test(size=(140, 44), message_hook=hook) as pilot:
        await open_regulations(pilot, "GDPR")
        await pilot.press("i")
        await pilot.pause()
        box = app.screen.query_one("#file-path", Input)
        box.value = str(corpus / "CELEX_32016R0679_EN_TXT.pdf")
        box.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImportPlanDialog)
        assert any("page 88 of 88" in p for p in progress)  # page by page
        plan_text = str(app.screen.query_one("#plan-text").render())
        assert "is the text of GDPR 2016-04-27" in plan_text and "pages: 88" in plan_text
        tree = app.screen.query_one("#preview-tree", Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert len(labels) == 1 + 11 + 3  # the recitals in one folder, the chapters, then
        assert labels[12:] == ["text no clause took (74 lines)",  # what did not fit
                               "refs of the document not in the workspace (0)",
                               "clauses of the workspace it gives no text (108)"]
        recitals = tree.root.children[0]
        assert str(recitals.label).startswith("173 recitals")
        recitals.expand()
        await pilot.pause()
        assert len(recitals.children) == 173
        tree.move_cursor(recitals.children[14])
        await pilot.pause()
        detail = str(app.screen.query_one("#preview-text").render())
        assert "Recital 15" in detail and "page 3" in detail
        assert "technologically neutral" in detail  # the line-end hyphen repaired
        await pilot.press("u")
        await pilot.pause()
        await pilot.pause()
        assert "Text no clause took, page 1" in str(app.screen.query_one("#preview-text")
                                                    .render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
    gdpr = get_regulation(store, "GDPR")
    assert gdpr.source_pages == 88 and gdpr.source_format == "pdf:eu-oj-classic"
