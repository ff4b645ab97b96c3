"""The Playbooks screen through Pilot, over real temporary workspaces: the list (shipped, in
the workspace, imported), the steps table and the detail that follow the cursors, the step
editor (edit, add, move, remove; each saved through `save_playbook` and audited), import of a
playbook file (YAML, a taken id, a broken file, invalid CACAO) and export as CACAO 2.0."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from textual.widgets import DataTable, Input, Select, Static, TextArea

from app.domain.playbooks import bundled_playbooks, parse_playbook
from app.services.audit import events
from app.services.playbooks import get_playbook, list_playbooks
from app.store import Store
from app.tui.app import make_app
from app.tui.screens.dialogs import ConfirmDialog
from app.tui.screens.playbook_dialogs import (
    FolderPickerDialog,
    PlaybookFilePicker,
    StepDialog,
    split_controls,
)
from app.tui.screens.playbooks import PlaybooksScreen, playbook_markup, step_markup
from tests.conftest import make_store
from tests.test_tui import settle

DRIFT = "model-drift"  # the first row: the list is sorted by title


def actions(store: Store) -> list[str]:
    return [e.action for e in events(store, limit=500)]


def steps_of(store: Store, slug: str = DRIFT) -> list[str]:
    return [s.name for s in get_playbook(store, slug).playbook.steps]


async def open_screen(pilot) -> PlaybooksScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("9")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PlaybooksScreen)
    return screen


def detail(screen: PlaybooksScreen) -> str:
    return str(screen.query_one("#pb-text", Static).render())


def messages(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in pilot.app._notifications]


async def fill(pilot, **values: str) -> None:  # type: ignore[no-untyped-def]
    """Set the step form's fields (st-<name>) without typing them."""
    dialog = pilot.app.screen
    assert isinstance(dialog, StepDialog)
    for key, value in values.items():
        widget = dialog.query_one(f"#st-{key}")
        if isinstance(widget, Input):
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, Select):
            widget.value = value
    await pilot.pause()


async def save_form(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+s")
    await settle(pilot)
    await pilot.pause()


# --------------------------------------------------------------------------- the list
async def test_the_screen_lists_the_playbooks_and_follows_the_cursors(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=False)
    async with make_app(store, show_paths=False).run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot)
        table = screen.query_one("#pb-table", DataTable)
        assert table.row_count == 5
        assert [str(k.value) for k in table.rows] == sorted(
            (p.id for p in bundled_playbooks()),
            key=lambda i: get_playbook(store, i).playbook.title.casefold())
        assert table.get_row_at(0)[2] == "shipped"
        steps = screen.query_one("#pb-steps", DataTable)
        assert steps.row_count == 9
        assert "Step 1 of 9" in detail(screen) and "Triage the drift alert" in detail(screen)
        assert "not in the workspace yet" in detail(screen)
        steps.focus()
        await pilot.press("down")
        await pilot.pause()
        assert "Step 2 of 9" in detail(screen)
        table.focus()
        table.move_cursor(row=4)  # the serious incident
        await pilot.pause()
        text = detail(screen)
        assert "Serious incident involving a high-risk AI system" in text
        assert "15 days" in text and "EU-AI-ACT Art. 73(2)" in text
        assert "Step 1 of 9" in text and "Log the report and the awareness time" in text
        table.move_cursor(row=2)
        await pilot.pause()
        text = detail(screen)
        assert "leaking through a model" in text and "72 hours" in text
        assert "HIPAA § 164.404(b)" in text
        assert actions(store).count("playbook.add") == 0  # reading never writes
    store.close()


async def test_enter_on_a_playbook_moves_to_its_steps(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    async with make_app(store, show_paths=False).run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.focused is screen.query_one("#pb-steps")
        await pilot.press("enter")  # enter on a step edits it
        await pilot.pause()
        assert isinstance(pilot.app.screen, StepDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen
    store.close()


def test_markup_in_a_playbook_is_shown_not_interpreted() -> None:
    data = bundled_playbooks()[2].as_data()
    data["title"] = "[b]not bold[/b] title"
    data["steps"][0]["description"] = "watch [red]this[/red]"
    data["steps"][0]["owner"] = "[i]owner[/i]"
    pb = parse_playbook(data)
    assert r"\[b]not bold\[/b] title" in playbook_markup(pb)
    text = step_markup(pb, 0)
    assert r"watch \[red]this\[/red]" in text and r"\[i]owner\[/i]" in text


def test_controls_are_split_on_spaces_commas_and_semicolons() -> None:
    assert split_controls(" OPS-2 gov-2,SEC-1; ops4 ") == ["OPS-2", "gov-2", "SEC-1", "ops4"]


# --------------------------------------------------------------------------- the editor
async def test_edit_a_step_saves_the_playbook_and_audits_it(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        screen.query_one("#pb-steps", DataTable).move_cursor(row=1)
        await pilot.press("e")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, StepDialog)
        assert dialog.query_one("#st-name", Input).value == "Size the drift and its impact"
        await fill(pilot, minutes="95", owner="Head of ML", controls="ops-2 GOV-3",
                   function="respond")
        await save_form(pilot)
        assert pilot.app.screen is screen
        view = get_playbook(store, DRIFT)
        step = view.playbook.steps[1]
        assert (step.minutes, step.owner, step.function, step.controls) == \
            (95, "Head of ML", "respond", ("OPS-2", "GOV-3"))
        assert view.in_workspace and view.origin == "shipped"
        assert "playbook.edit" in actions(store)
        edit = next(e for e in events(store) if e.action == "playbook.edit")
        assert json.loads(edit.change)["steps"] == {"changed": ["Size the drift and its impact"]}
        # the screen shows it: the table row, the cursor on the step, the origin
        steps = screen.query_one("#pb-steps", DataTable)
        assert steps.cursor_row == 1
        assert list(steps.get_row_at(1))[2:6] == ["respond", "95", "Head of ML", "OPS-2 GOV-3"]
        assert screen.query_one("#pb-table", DataTable).get_row_at(0)[2] == "in workspace"
        assert "Step 2 of 9" in detail(screen) and "Head of ML" in detail(screen)
        assert any("step 2 saved" in m for m in messages(pilot))
    store.close()


async def test_a_refused_edit_keeps_the_form_and_writes_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    before = actions(store)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        screen.query_one("#pb-steps", DataTable).move_cursor(row=1)
        await pilot.press("e")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, StepDialog)
        error = dialog.query_one("#form-error", Static)
        for values, said in (
                ({"name": "triage THE drift alert"}, "same name as an earlier step"),
                ({"name": "Size it", "minutes": "0"}, "minutes must be a whole number"),
                ({"minutes": "ten"}, "minutes must be a whole number"),
                ({"minutes": "10", "controls": "OPS-2 XYZ-9"}, "unknown control 'XYZ-9'")):
            await fill(pilot, **values)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert pilot.app.screen is dialog  # still open, with what was typed
            assert said in str(error.render())
            for key, value in values.items():
                assert dialog.query_one(f"#st-{key}", Input).value == value
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen
    assert actions(store) == before
    assert not get_playbook(store, DRIFT).in_workspace
    store.close()


async def test_add_move_and_remove_steps(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    first = steps_of(store)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        steps = screen.query_one("#pb-steps", DataTable)
        # add after step 1
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(pilot.app.screen, StepDialog)
        await fill(pilot, name="Page the on-call lead", owner="Incident lead",
                   minutes="15", description="Call them; say what you know.")
        await save_form(pilot)
        assert steps_of(store) == [*first[:1], "Page the on-call lead", *first[1:]]
        added = get_playbook(store, DRIFT).playbook.steps[1]
        assert (added.function, added.minutes) == ("detect", 15)  # the function of step 1
        assert steps.row_count == 10 and steps.cursor_row == 1
        # move it down, then to the top; the cursor follows it
        await pilot.press("ctrl+down")
        await settle(pilot)
        assert steps_of(store)[2] == "Page the on-call lead" and steps.cursor_row == 2
        await pilot.press("ctrl+up")
        await settle(pilot)
        await pilot.press("ctrl+up")
        await settle(pilot)
        assert steps_of(store)[0] == "Page the on-call lead" and steps.cursor_row == 0
        edits = actions(store).count("playbook.edit")
        await pilot.press("ctrl+up")  # already the first: nothing written
        await settle(pilot)
        assert actions(store).count("playbook.edit") == edits
        assert any("already the first" in m for m in messages(pilot))
        change = json.loads(next(e for e in events(store)
                                 if e.action == "playbook.edit").change)
        assert change["steps"]["order"][0] == "Page the on-call lead"
        # remove it: asked first; "no" keeps it
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert len(steps_of(store)) == 10
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert steps_of(store) == first
        assert steps.row_count == 9 and steps.cursor_row == 0
        assert actions(store).count("playbook.edit") == edits + 1
    store.close()


async def test_a_playbook_keeps_at_least_one_step(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    data = bundled_playbooks()[0].as_data() | {"id": "one-step", "title": "A one-step book"}
    data["steps"] = data["steps"][:1]
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    from app.services.playbooks import import_playbook

    import_playbook(store, tmp_path / "one.yaml")
    before = actions(store)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        table = screen.query_one("#pb-table", DataTable)
        table.move_cursor(row=[str(k.value) for k in table.rows].index("one-step"))
        await pilot.pause()
        await pilot.press("delete")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert any("at least one step" in m for m in messages(pilot))
    assert actions(store) == before
    store.close()


# --------------------------------------------------------------------------- import
async def import_file(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("i")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PlaybookFilePicker)
    pilot.app.screen.query_one("#file-path", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.pause()


def own_playbook(tmp_path: Path, **changes: object) -> Path:
    data = bundled_playbooks()[2].as_data() | {"id": "our-drift",
                                                "title": "Our own drift playbook"}
    data |= changes
    path = tmp_path / "ours.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


async def test_import_a_yaml_playbook_and_replace_it(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    path = own_playbook(tmp_path)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        await import_file(pilot, path)
        assert pilot.app.screen is screen
        view = get_playbook(store, "our-drift")
        assert (view.origin, view.source_name) == ("yaml", "ours.yaml")
        table = screen.query_one("#pb-table", DataTable)
        assert table.row_count == 6
        assert screen.current_id == "our-drift"  # the cursor is on it
        assert table.get_row("our-drift")[2] == "imported"
        assert "imported from ours.yaml (YAML/JSON)" in detail(screen)
        assert any("imported our-drift from ours.yaml" in m for m in messages(pilot))
        # the same id again: asked; "no" writes nothing, "yes" replaces
        own_playbook(tmp_path, title="Our drift playbook, second edition")
        count = len(actions(store))
        await import_file(pilot, path)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert len(actions(store)) == count
        await import_file(pilot, path)
        await pilot.press("y")
        await settle(pilot)
        await pilot.pause()
        assert get_playbook(store, "our-drift").playbook.title == \
            "Our drift playbook, second edition"
        assert "playbook.replace" in actions(store)
        assert table.get_row("our-drift")[3] == "Our drift playbook, second edition"
    store.close()


async def test_a_broken_file_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    before = actions(store)
    broken = own_playbook(tmp_path, steps=[{"name": "Only", "owner": "x",
                                            "function": "respond", "minutes": 0,
                                            "description": "d"}])
    cacao = tmp_path / "bad-cacao.json"
    cacao.write_text(json.dumps({"type": "playbook", "spec_version": "cacao-2.0",
                                 "id": "not-a-uuid", "name": "Bad"}), encoding="utf-8")
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        await import_file(pilot, broken)
        assert pilot.app.screen is screen
        assert any("minutes must be a whole number" in m for m in messages(pilot))
        await import_file(pilot, cacao)
        said = next(m for m in messages(pilot) if "bad-cacao.json" in m)
        assert "not a valid CACAO 2.0 playbook" in said
        assert said.count("\n• ") >= 2  # the first problems, one a line
        assert screen.query_one("#pb-table", DataTable).row_count == 5
    assert actions(store) == before
    assert {v.playbook.id for v in list_playbooks(store)} == {p.id for p in bundled_playbooks()}
    store.close()


# --------------------------------------------------------------------------- export
async def export_to(pilot, folder: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("x")
    await pilot.pause()
    assert isinstance(pilot.app.screen, FolderPickerDialog)
    pilot.app.screen.query_one("#file-path", Input).value = str(folder)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.pause()


async def test_export_writes_cacao_json_and_asks_before_overwriting(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    out = tmp_path / "out"
    out.mkdir()
    before = actions(store)
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        await export_to(pilot, out / "missing")  # not a folder: the picker stays open
        assert isinstance(pilot.app.screen, FolderPickerDialog)
        await pilot.press("escape")
        await pilot.pause()
        await export_to(pilot, out)
        assert pilot.app.screen is screen
        target = out / f"{DRIFT}.json"
        doc = json.loads(target.read_text(encoding="utf-8"))
        assert doc["spec_version"] == "cacao-2.0" and doc["type"] == "playbook"
        assert doc["name"] == "Data or concept drift in a production model"
        assert any(f"wrote {target}" in m for m in messages(pilot))
        # again: asked first; "no" leaves the file alone
        target.write_text("mine", encoding="utf-8")
        await export_to(pilot, out)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text(encoding="utf-8") == "mine"
        await export_to(pilot, out)
        await pilot.press("y")
        await settle(pilot)
        assert json.loads(target.read_text(encoding="utf-8"))["spec_version"] == "cacao-2.0"
        assert [p.name for p in out.iterdir()] == [target.name]  # no temp file left
    assert actions(store) == before  # exporting writes nothing to the workspace
    store.close()


async def test_an_exported_playbook_imports_back_as_cacao(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db")
    async with make_app(store, show_paths=False).run_test(
            size=(120, 40), notifications=True) as pilot:
        screen = await open_screen(pilot)
        await export_to(pilot, tmp_path)
        path = tmp_path / f"{DRIFT}.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["name"] = "Drift, as our CACAO tool edited it"
        path.write_text(json.dumps(doc), encoding="utf-8")
        await import_file(pilot, path)
        assert isinstance(pilot.app.screen, ConfirmDialog)  # model-drift is taken
        await pilot.press("y")
        await settle(pilot)
        await pilot.pause()
        view = get_playbook(store, DRIFT)
        assert (view.origin, view.playbook.title) == ("cacao",
                                                      "Drift, as our CACAO tool edited it")
        assert screen.current_id == DRIFT
        assert screen.query_one("#pb-table", DataTable).get_row(DRIFT)[2] == "imported"
        assert f"imported from {DRIFT}.json (CACAO 2.0)" in detail(screen)
    store.close()
