"""Hostile text in the TUI: every free-text field a user types or an imported file fills holds
``HOSTILE`` — a closing tag with no opening one, a word in brackets, a styled span and a
trailing backslash. Markup read from such text crashes a screen (``[/b]``), makes words vanish
(``[legal]``) or turns the tag that follows into text (the backslash). The workspace is built
through the services; Pilot then visits every section, moves over the rows and opens every
dialog that lists user text, and checks the app is still running and that wherever the text
is shown it is shown literally (`intact`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, OptionList, Static, Tree

from app.domain import exercise as ex
from app.domain.clock import ManualClock
from app.services import exercises
from app.services.after_action import add_improvement, rate_objective
from app.services.control_tests import add_test
from app.services.controls import update_control
from app.services.evidence import Source, add_evidence, add_version
from app.services.imports import commit_import, plan_import, read_document
from app.services.mappings import add_mapping
from app.services.playbooks import import_playbook
from app.services.risks import add_risk
from app.services.systems import add_system, set_model_version
from app.store import Store
from app.tui.app import make_app
from app.tui.widgets.plain_table import PlainTable
from tests.conftest import make_store

START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
MARK = "Hx"  # where the hostile text starts: what follows it must be the text itself
HOSTILE = "Hx [/b] [legal] [bold red]R[/] \\"
ONE_LINE = HOSTILE  # single-line fields; the same text


def hostile(tag: str = "") -> str:
    """The hostile text, with a tag in front so each field can be told apart."""
    return f"{tag}{HOSTILE}"


CATALOG = {
    "schema": "crosswalk-catalog/1",
    "regulation": {"code": "HOSTILE", "title": hostile("reg "), "short_title": hostile(),
                   "jurisdiction": hostile(), "version_label": "1.0",
                   "version_date": "2025-01-15", "source": hostile()},
    "clauses": [
        {"ref": "Art. 1", "kind": "article", "title": hostile("art "),
         "summary": hostile(), "children": [
             {"ref": "Art. 1(1)", "kind": "paragraph", "text": hostile("para ")},
             {"ref": "Art. 1(2)", "kind": "paragraph", "title": hostile(),
              "text": hostile()}]},
        {"ref": "Art. 2", "kind": "article", "title": hostile(), "text": hostile()},
    ],
}

STEP = {"description": HOSTILE, "owner": HOSTILE, "function": "respond", "minutes": 30,
        "controls": ["OPS-2"]}
PLAYBOOK = {
    "id": "hostile-pb", "title": hostile("pb "), "scenario": "drift", "severity": "high",
    "description": HOSTILE, "detection": [HOSTILE, HOSTILE],
    "steps": [{"name": hostile("step1 "), **STEP}, {"name": hostile("step2 "), **STEP},
              {"name": hostile("step3 "), **STEP}],
    "escalation": [{"role": HOSTILE, "contact": HOSTILE, "when": HOSTILE}],
    "clocks": ["ai-act-73"],
}


def catalog_version(folder: Path, version: str) -> Path:
    """The catalogue again as `version`, with a clause added and a text changed."""
    doc = json.loads(json.dumps(CATALOG))
    doc["regulation"]["version_label"] = version
    doc["clauses"][1]["text"] = hostile(f"v{version} ")
    doc["clauses"].append({"ref": f"Art. {len(doc['clauses']) + 1}", "kind": "article",
                           "title": hostile("new "), "text": HOSTILE})
    path = folder / f"hostile-{version}.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def scenario(playbook: str) -> dict[str, Any]:
    return {
        "title": hostile("ex "), "playbook": playbook, "starts_at": "2026-03-02T08:30:00Z",
        "speed": 1,
        "objectives": [{"id": "O1", "text": hostile("obj ")}, {"id": "O2", "text": HOSTILE}],
        "modules": [{"id": "M1", "title": hostile("mod ")}],
        "injects": [
            {"id": "I1", "module": "M1", "at": "T+00:00", "content": hostile("inj "),
             "audience": HOSTILE, "window": "10:00"},
            {"id": "I2", "module": "M1", "at": "T+05:00", "content": HOSTILE,
             "audience": HOSTILE, "window": "3:00"},
        ],
    }


def hostile_store(folder: Path) -> Store:
    """Every free-text field holds HOSTILE: controls, an imported regulation and a mapping,
    evidence (two versions, linked) and a control test, an AI system with a model version, a
    risk, an imported playbook, a closed exercise (logged, rated, an improvement item) and a
    running one on the imported playbook."""
    folder.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(START)
    store = make_store(folder / "ws.db", clock=clock)
    for cid in ("GOV-1", "OPS-2"):
        update_control(store, cid, owner=hostile("owner "), narrative=hostile("narr "))

    catalog = folder / "hostile.json"
    catalog.write_text(json.dumps(CATALOG), "utf-8")
    commit_import(store, plan_import(store, read_document(catalog)))
    add_mapping(store, "HOSTILE Art. 1", "GOV-1", relationship="equivalent-to",
                rationale=hostile("why "))
    add_mapping(store, "HOSTILE Art. 1(1)", "OPS-2", relationship="equivalent-to",
                rationale=HOSTILE)
    add_mapping(store, "HOSTILE Art. 2", "OPS-2", relationship="subset-of", rationale=HOSTILE)
    commit_import(store, plan_import(store, read_document(catalog_version(folder, "2.0"))))

    doc = folder / "file [legal] [b] report.txt"
    doc.write_text("plain [/b] [legal] content \\\n", "utf-8")
    add_evidence(store, Source(path=doc), title=hostile("ev "), description=hostile(),
                 source_system=hostile(), controls=["GOV-1"], clauses=["HOSTILE Art. 1"],
                 collected_by=hostile(), note=hostile())
    doc.write_text("second [/b] version \\\n", "utf-8")
    add_version(store, "EV-1", Source(path=doc), collected_by=hostile(), note=hostile())
    add_test(store, "GOV-1", evidence=["EV-1"], procedure="inspection",
             result="effective-with-exceptions", tester=hostile(), population=hostile(),
             exceptions=hostile())

    add_system(store, name=hostile("sys "), tier="high", annex_iii_area="5",
               operator_role="provider", owner=hostile(), purpose=hostile(),
               tier_justification=hostile())
    set_model_version(store, "AI-1", "v1 [/b] [legal] \\", limitations=hostile())
    add_risk(store, title=hostile("risk "), system="AI-1", category="data-drift",
             owner=hostile(), cause=hostile(), event=hostile(), consequence=hostile(),
             inherent="4/4", controls=["GOV-1"], evidence=["EV-1"])

    pb_file = folder / "hostile-pb.json"
    pb_file.write_text(json.dumps(PLAYBOOK), "utf-8")
    import_playbook(store, pb_file)

    exercises.create_exercise(store, "model-drift", ex.parse_scenario(scenario("model-drift")))
    exercises.start(store, 1)
    clock.advance(240)
    exercises.log(store, 1, "aware", hostile("log "), inject="I1", step=1,
                  actor=hostile("actor "))
    clock.advance(120)
    exercises.log(store, 1, "decision", HOSTILE, inject="I2", containment=True, actor=HOSTILE)
    exercises.log(store, 1, "notification", HOSTILE, clock="ai-act-73", actor=HOSTILE)
    clock.advance(600)
    exercises.close(store, 1)
    rate_objective(store, 1, "O1", "S", strengths=hostile(), improvements=hostile())
    add_improvement(store, 1, hostile("item "), hostile(), "2027-01-31", objective="O1",
                    risk="RK-1")

    exercises.create_exercise(store, "hostile-pb", ex.parse_scenario(scenario("hostile-pb")))
    exercises.start(store, 2)
    clock.advance(60)
    exercises.log(store, 2, "action", hostile("run "), step=1, actor=HOSTILE)
    clock.advance(60)
    return store


# ------------------------------------------------------------------------ reading the UI
def plain(value: object, *, markup: bool = True) -> str:
    """What `value` shows on screen, as text."""
    if isinstance(value, Text):
        return value.plain
    if isinstance(value, Content):
        return value.plain
    if isinstance(value, str):
        return Content.from_markup(value).plain if markup else value
    return str(value)


def shown(root: Widget) -> list[str]:
    """The text of every widget under `root` (itself included) that shows text."""
    out: list[str] = []
    for w in [root, *root.query("*")]:
        if not w.display and not isinstance(w, OptionList):  # a Select's closed list counts
            continue
        for title in (w._border_title, w._border_subtitle):
            if title is not None:
                out.append(plain(title))
        if isinstance(w, Static):
            out.append(plain(w.render()))
        elif isinstance(w, Button):
            out.append(plain(w.label))
        elif isinstance(w, DataTable):
            for row in range(w.row_count):
                out.extend(plain(c, markup=not isinstance(w, PlainTable))
                           for c in w.get_row_at(row))
            out.extend(plain(c.label) for c in w.columns.values())
        elif isinstance(w, Tree):
            stack = [w.root]
            while stack:
                node = stack.pop()
                out.append(plain(node.label))
                stack.extend(node.children)
        elif isinstance(w, OptionList):
            for i in range(w.option_count):
                out.append(plain(w.get_option_at_index(i).prompt, markup=w._markup))
    return out


def broken(texts: list[str]) -> list[str]:
    """The texts where the hostile text starts but does not go on as written (allowing it to
    be cut short with an ellipsis, a line end or the end of the text)."""
    bad = []
    for text in texts:
        start = text.find(MARK)
        while start != -1:
            rest = text[start:]
            n = next((i for i, (a, b) in enumerate(zip(rest, HOSTILE, strict=False))
                      if a != b), min(len(rest), len(HOSTILE)))
            if n < len(HOSTILE) and n < len(rest) and rest[n] not in "…\n":
                bad.append(text)
                break
            start = text.find(MARK, start + 1)
    return bad


def check(app: Any, *, where: str, expect: bool = True) -> str:
    """The app is alive; every hostile text on its screen is intact (and there is one)."""
    assert app.is_running and app._exception is None, where
    texts = shown(app.screen)
    texts += [plain(n.message, markup=n.markup) for n in app._notifications]
    bad = broken(texts)
    assert not bad, f"{where}: hostile text mangled in {bad[:3]!r}"
    joined = "\n".join(texts)
    if expect:
        assert HOSTILE[:16] in joined, f"{where}: no hostile text shown"
    return joined


async def settle(pilot: Any) -> None:
    for _ in range(3):
        ours = [w for w in pilot.app.workers if w.name != "_loader"]
        if ours:
            await pilot.app.workers.wait_for_complete(ours)
        await pilot.pause()


async def rows(pilot: Any, where: str, steps: int = 4) -> None:
    """Move the cursor down the focused table or tree, checking after each row."""
    for i in range(steps):
        await pilot.press("down")
        await settle(pilot)
        check(pilot.app, where=f"{where} row {i + 1}", expect=False)


async def dialog(pilot: Any, key: str, where: str, *, expect: bool = True) -> None:
    """Open the dialog behind `key`, check it, close it with escape."""
    before = pilot.app.screen
    await pilot.press(key)
    await settle(pilot)
    assert pilot.app.screen is not before and isinstance(pilot.app.screen, ModalScreen), (
        f"{where}: {key} opened no dialog")
    check(pilot.app, where=where, expect=expect)
    await pilot.press("escape")
    await settle(pilot)
    if pilot.app.screen is not before:  # "discard changes?"
        await pilot.press("y")
        await settle(pilot)
    assert pilot.app.screen is before, f"{where}: escape left {pilot.app.screen}"


async def section(pilot: Any, key: str, name: str) -> None:
    await pilot.press(key)
    await settle(pilot)
    check(pilot.app, where=name)
    await rows(pilot, name)


# ------------------------------------------------------------------------------- tests
async def test_every_section_and_dialog_shows_hostile_text_as_written(tmp_path: Path) -> None:
    store = hostile_store(tmp_path)
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        check(app, where="dashboard")
        for key, name in (("1", "dashboard"), ("2", "controls"), ("3", "regulations"),
                          ("4", "audit log"), ("5", "mapping"), ("6", "evidence"),
                          ("7", "systems"), ("8", "risks"), ("9", "playbooks"),
                          ("0", "exercises")):
            await section(pilot, key, name)

        # controls: the edit form holds the owner and narrative
        await pilot.press("2")
        await settle(pilot)
        await dialog(pilot, "e", "control edit", expect=False)
        await dialog(pilot, "l", "control link evidence")

        # regulations: the clause tree from the imported catalogue
        await pilot.press("3")
        await settle(pilot)
        await rows(pilot, "regulation tree", steps=6)
        check(app, where="regulation clause")
        await dialog(pilot, "l", "clause link evidence")

        await dialog(pilot, "d", "version diff", expect=False)

        # the import dialogs, with what a hostile file would show
        from app.tui.screens.import_dialogs import ImportDetailsDialog, ImportPlanDialog

        plan = plan_import(store, read_document(catalog_version(tmp_path, "3.0")))
        await app.push_screen(ImportPlanDialog(plan))
        await settle(pilot)
        check(app, where="import preview")
        await rows(pilot, "import preview", steps=5)
        await pilot.press("escape")
        await settle(pilot)
        await app.push_screen(ImportDetailsDialog(hostile("file "), ("code", "title")))
        await settle(pilot)
        check(app, where="import details")
        await pilot.press("escape")
        await settle(pilot)

        # mapping: the matrix and a mapping's dialogs
        await pilot.press("5")
        await settle(pilot)
        for _ in range(3):
            await pilot.press("down")
            await settle(pilot)
            check(app, where="mapping cell", expect=False)
            for key, name in (("m", "mapping form"), ("enter", "clause"),
                              ("c", "control mappings")):
                await dialog(pilot, key, name, expect=False)
            await pilot.press("i")
            await settle(pilot)
            check(app, where="impact", expect=False)
            if isinstance(app.screen, ModalScreen):
                await pilot.press("escape")
                await settle(pilot)

        # evidence: link, version, edit, test, export pickers
        await pilot.press("6")
        await settle(pilot)
        for key, name in (("l", "evidence link"), ("n", "evidence new version"),
                          ("e", "evidence edit"), ("t", "evidence test"),
                          ("x", "evidence export")):
            await dialog(pilot, key, name, expect=False)

        # systems: edit and model version
        await pilot.press("7")
        await settle(pilot)
        await dialog(pilot, "e", "system edit", expect=False)
        await dialog(pilot, "m", "system model", expect=False)

        # risks: add (system select), edit, link, score, treat, accept, heat map
        await pilot.press("8")
        await settle(pilot)
        for key, name in (("a", "risk add"), ("e", "risk edit"), ("l", "risk link"),
                          ("s", "risk score"), ("t", "risk treat"), ("A", "risk accept")):
            await dialog(pilot, key, name, expect=False)
        await pilot.press("m")
        await settle(pilot)
        check(app, where="heat map")
        await pilot.press("m")
        await settle(pilot)

        # playbooks: the imported playbook, its step editor
        await pilot.press("9")
        await settle(pilot)
        await rows(pilot, "playbooks", steps=8)
        check(app, where="hostile playbook")
        await dialog(pilot, "e", "step editor", expect=False)
        await dialog(pilot, "a", "step add", expect=False)

        # exercises: a new one, on a hostile playbook
        await pilot.press("0")
        await settle(pilot)
        await dialog(pilot, "c", "new exercise")

        # exercises: run the closed one, its after-action; run the running one, log a line
        await pilot.press("0")
        await settle(pilot)
        for row in (0, 1):
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=row)
            await settle(pilot)
            check(app, where=f"exercise row {row}")
            await pilot.press("enter")
            await settle(pilot)
            check(app, where=f"exercise runner {row}")
            await pilot.press("r")
            await settle(pilot)
            check(app, where=f"after-action {row}")
            running = app.screen.has_class("-not-closed")
            if not running:
                for key, name in (("r", "rate"), ("i", "add item"), ("l", "link item")):
                    await dialog(pilot, key, f"after-action {name}", expect=False)
            await pilot.press("escape")
            await settle(pilot)
            if running:
                for key in ("d", "e", "n", "t", "o"):
                    await dialog(pilot, key, f"log line {key}", expect=False)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen.query(DataTable), "back on the exercises list"

        # the command palette, searched with hostile text
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"[/b] [legal] \\")
        await settle(pilot)
        check(app, where="command palette", expect=False)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_hostile_text_on_a_small_terminal(tmp_path: Path) -> None:
    store = hostile_store(tmp_path)
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        for key, name in (("1", "dashboard"), ("2", "controls"), ("3", "regulations"),
                          ("4", "audit log"), ("5", "mapping"), ("6", "evidence"),
                          ("7", "systems"), ("8", "risks"), ("9", "playbooks"),
                          ("0", "exercises")):
            await pilot.press(key)
            await settle(pilot)
            check(app, where=f"{name} at 80×24", expect=False)
            await rows(pilot, f"{name} at 80×24", steps=2)
        await pilot.press("enter")
        await settle(pilot)
        check(app, where="runner at 80×24", expect=False)
        assert app.is_running
