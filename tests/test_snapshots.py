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
from textual.widgets import DataTable, Input, Select, Tree

from app.services.controls import update_control
from app.store import Store
from app.tui.app import CrosswalkApp, make_app
from app.tui.screens.import_dialogs import FilePickerDialog
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
    """Wait for our workers (not DirectoryTree's never-ending loader), then for the UI."""
    ours = [w for w in pilot.app.workers if w.name != "_loader"]
    if ours:  # wait_for_complete([]) would wait for every worker, the loader included
        await pilot.app.workers.wait_for_complete(ours)
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
        assert snap_compare(app_for(tmp_path), run_before=script("4"), terminal_size=size)

    def test_help(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("4", "question_mark"),
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


def library_app(path: Path) -> CrosswalkApp:
    return make_app(make_store(path, library=True), show_paths=False)


def choose(code: str) -> Callable[[Screen[object]], object]:
    def pick(screen: Screen[object]) -> None:
        select = screen.query_one("#reg-select", Select)
        select.value = next(v for label, v in select._options if str(label).startswith(code))

    return pick


def expand_chapter(number: int) -> Callable[[Screen[object]], object]:
    def expand(screen: Screen[object]) -> None:
        tree = screen.query_one("#clause-tree", Tree)
        node = tree.root.children[number]
        node.expand()
        tree.move_cursor(node)

    return expand


def fixed_folder(name: str) -> Path:
    """Dialogs show paths, so these snapshots use a folder whose path never changes."""
    folder = Path(tempfile.gettempdir()) / f"crosswalk-snapshot-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


POLICY_V1 = """schema: crosswalk-catalog/1
regulation: {code: POLICY, title: Internal model risk policy, version_label: '2025'}
clauses:
- {ref: P-1, kind: section, title: Inventory, text: Every model is registered.}
- {ref: P-2, kind: section, title: Validation, text: Models are validated before use.}
"""
POLICY_V2 = """schema: crosswalk-catalog/1
regulation: {code: POLICY, title: Internal model risk policy, version_label: '2026'}
clauses:
- {ref: P-1, kind: section, title: Inventory, text: Every model and data set is registered.}
- {ref: P-3, kind: section, title: Monitoring, text: Models in production are monitored.}
"""


class TestRegulations:
    @SIZES
    def test_tree(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        assert snap_compare(library_app(tmp_path / "ws.db"),
                            run_before=script("3", choose("GDPR"), expand_chapter(2), "down",
                                              "down"),
                            terminal_size=size)

    def test_filter(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(library_app(tmp_path / "ws.db"),
                            run_before=script("3", choose("GDPR"), "slash", *"breach",
                                              "wait:400"),  # the detail follows the typing
                            terminal_size=(120, 36))

    def test_hipaa_requirement_attributes(self, snap_compare, tmp_path: Path) -> None:
        assert snap_compare(library_app(tmp_path / "ws.db"),
                            run_before=script("3", choose("HIPAA"), "slash",
                                              *"164.308(a)(1)(ii)", "wait:400"),
                            terminal_size=(120, 36))

    def test_import_plan(self, snap_compare) -> None:
        folder = fixed_folder("import")
        (folder / "policy.yaml").write_text(POLICY_V1, encoding="utf-8")

        def path(screen: Screen[object]) -> None:
            box = screen.query_one("#file-path", Input)
            box.value = str(folder / "policy.yaml")
            box.focus()

        assert snap_compare(make_app(make_store(folder / "ws.db"), show_paths=False),
                            run_before=script("3", "i", path, "enter"),
                            terminal_size=(100, 30))

    @pytest.mark.parametrize(("keys", "size"), [(("down", "down"), (120, 36)),
                                                (("u",), (120, 36)),
                                                (("down",), (80, 24))],
                             ids=["tree", "unplaced", "80x24"])
    def test_pdf_preview(self, snap_compare, corpus: Path, keys: tuple[str, ...],
                         size: tuple[int, int]) -> None:
        """The preview of an official PDF: the plan, the clause tree with each clause's text
        and page, and the text no clause took."""
        folder = fixed_folder("pdf")
        pdf = corpus / "CELEX_32016R0679_EN_TXT.pdf"

        def path(screen: Screen[object]) -> None:
            box = screen.query_one("#file-path", Input)
            box.value = str(pdf)
            box.focus()

        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("3", "i", path, "enter", *keys),
                            terminal_size=size)  # at 80×24 the buttons and keys still show

    def test_import_details(self, snap_compare) -> None:
        """A PDF of no known regulation: Crosswalk asks for its code, with what it found."""
        from tests import pdfgen

        folder = fixed_folder("details")
        pdf = pdfgen.write_pdf(folder / "acme-policy.pdf", [pdfgen.POLICY_PAGE])

        def path(screen: Screen[object]) -> None:
            box = screen.query_one("#file-path", Input)
            box.value = str(pdf)
            box.focus()

        assert snap_compare(make_app(make_store(folder / "ws.db"), show_paths=False),
                            run_before=script("3", "i", path, "enter", *"acme-pol"),
                            terminal_size=(100, 30))

    def test_file_picker(self, snap_compare) -> None:
        folder = fixed_folder("picker")
        for name in ("gdpr.xml", "policy.csv", "catalog.json"):
            (folder / name).write_text("x", encoding="utf-8")
        app = make_app(make_store(folder / "ws.db"), show_paths=False)

        def open_picker(screen: Screen[object]) -> None:
            screen.app.push_screen(FilePickerDialog(folder))

        assert snap_compare(app, run_before=script("3", open_picker), terminal_size=(100, 30))

    def test_diff(self, snap_compare, tmp_path: Path) -> None:
        from app.importers.catalog import parse_catalog
        from app.services.imports import commit_import, plan_import

        store = make_store(tmp_path / "ws.db")
        for text in (POLICY_V1, POLICY_V2):
            f = tmp_path / "p.yaml"
            f.write_text(text, encoding="utf-8")
            commit_import(store, plan_import(store, parse_catalog(f.read_bytes(), f)))
        assert snap_compare(make_app(store, show_paths=False),
                            run_before=script("3", choose("POLICY"), "d"),
                            terminal_size=(100, 30))


def matrix_on(code: str, ref: str | None = None,
              column: int = 0) -> Callable[[Screen[object]], object]:
    """Choose `code` in the Mapping screen (the matrix loads in a worker: the next step
    waits for it); then, with `ref`, open its ancestors and put the cursor on it."""
    def pick(screen: Screen[object]) -> None:
        from app.tui.widgets.mapping_matrix import MappingMatrix

        select = screen.query_one("#matrix-select", Select)
        wanted = next(v for label, v in select._options if str(label).startswith(code))
        if select.value != wanted:
            select.value = wanted
            return
        if ref is not None:
            matrix = screen.query_one(MappingMatrix)
            assert matrix.matrix is not None
            matrix.go_to(next(r.id for r in matrix.matrix.rows if r.ref == ref))
            matrix.column = column

    return pick


class TestMapping:
    @SIZES
    def test_matrix(self, snap_compare, size: tuple[int, int]) -> None:
        """GDPR opened at Art. 32(1)(b) → SEC-1: the mapped cells by relationship and
        coverage, the folded recitals, the cell's mapping below, the legend."""
        folder = fixed_folder("matrix")
        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("5", matrix_on("GDPR"),
                                              matrix_on("GDPR", "Art. 32(1)(b)", 4)),
                            terminal_size=size)

    def test_mapping_form(self, snap_compare) -> None:
        folder = fixed_folder("matrix-form")
        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("5", matrix_on("GDPR"),
                                              matrix_on("GDPR", "Art. 32(1)(b)", 4), "m"),
                            terminal_size=(120, 36))

    def test_control_view(self, snap_compare) -> None:
        folder = fixed_folder("matrix-control")
        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("5", matrix_on("GDPR"),
                                              matrix_on("GDPR", "Art. 32(1)(b)", 4), "c"),
                            terminal_size=(120, 36))

    def test_mapping_import(self, snap_compare) -> None:
        """An OSCAL mapping collection's preview: what it creates, what it skips."""
        from app.exporters.oscal_common import dumps
        from app.services.mappings import remove_mapping
        from app.services.oscal_export import mappings_document

        folder = fixed_folder("mapping-import")
        app = library_app(folder / "ws.db")
        src = folder / "gdpr.mapping.json"
        src.write_bytes(dumps(mappings_document(app.store, "GDPR")))
        remove_mapping(app.store, "GDPR Art. 32(1)(b)", "SEC-1")

        def path(screen: Screen[object]) -> None:
            box = screen.query_one("#file-path", Input)
            box.value = str(src)
            box.focus()

        assert snap_compare(app, run_before=script("3", "i", path, "enter"),
                            terminal_size=(120, 36))

    def test_impact_dialog(self, snap_compare) -> None:
        """`i` on GDPR Art. 32(1)(b): what a change of it reaches."""
        folder = fixed_folder("matrix-impact")
        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("5", matrix_on("GDPR"),
                                              matrix_on("GDPR", "Art. 32(1)(b)", 4), "i"),
                            terminal_size=(120, 36))

    def test_clause_dialog(self, snap_compare) -> None:
        folder = fixed_folder("matrix-clause")
        assert snap_compare(library_app(folder / "ws.db"),
                            run_before=script("5", matrix_on("GDPR"),
                                              matrix_on("GDPR", "Art. 32(1)(b)", 4), "enter"),
                            terminal_size=(120, 36))


def evidence_app(name: str) -> CrosswalkApp:
    """A workspace with evidence in every status (see tests/test_tui_evidence.py)."""
    from tests.test_tui_evidence import evidence_store

    return make_app(evidence_store(fixed_folder(name)), show_paths=False)


def fill_attach_form(screen: Screen[object]) -> None:
    values = {"#ev-path": "/srv/reports/drift-report-2026-10.json",
              "#ev-title": "October drift report of the credit model",
              "#ev-controls": "OPS-2", "#ev-clauses": "POLICY P-2",
              "#ev-collected-at": "2026-11-01", "#ev-valid-until": "2027-01-31"}
    for selector, value in values.items():
        screen.query_one(selector, Input).value = value
    screen.query_one("#ev-kind", Select).value = "report"


def select_sec1(screen: Screen[object]) -> None:
    screen.query_one("#controls-table", DataTable).move_cursor(row=4)


class TestEvidence:
    @SIZES
    def test_screen(self, snap_compare, size: tuple[int, int]) -> None:
        """Evidence in every status (current, expiring, expired), the highlighted one's
        record, versions and links, and (wide) the Markdown preview of its file."""
        assert snap_compare(evidence_app("evidence"), run_before=script("6"),
                            terminal_size=size)

    def test_detail_with_markdown_preview(self, snap_compare) -> None:
        assert snap_compare(evidence_app("evidence-detail"), run_before=script("6"),
                            terminal_size=(150, 48))

    def test_attach_form(self, snap_compare) -> None:
        assert snap_compare(evidence_app("evidence-attach"),
                            run_before=script("6", "a", fill_attach_form),
                            terminal_size=(120, 36))

    def test_control_detail_with_evidence(self, snap_compare) -> None:
        """SEC-1: implemented, its evidence expired (worst first), the linked evidence."""
        assert snap_compare(evidence_app("evidence-control"),
                            run_before=script("2", select_sec1), terminal_size=(120, 36))

    def test_link_picker(self, snap_compare) -> None:
        assert snap_compare(evidence_app("evidence-picker"),
                            run_before=script("2", select_sec1, "l"),
                            terminal_size=(120, 36))

    @SIZES
    def test_dashboard(self, snap_compare, size: tuple[int, int]) -> None:
        """The Dashboard's evidence box and each control's evidence status."""
        assert snap_compare(evidence_app("evidence-dashboard"), run_before=script(),
                            terminal_size=size)


def risk_app(name: str) -> CrosswalkApp:
    """Two AI systems and five risks in every state (see tests/test_tui_risks.py)."""
    from tests.test_tui_risks import risk_store

    return make_app(risk_store(fixed_folder(name)), show_paths=False)


def heat_cursor(screen: Screen[object]) -> None:
    from app.tui.widgets.heatmap import HeatMap

    heat = screen.query_one(HeatMap)
    heat.focus()
    heat.cursor = (3, 4)  # Possible × Major: High, where RK-2's residual sits


def fill_risk_form(screen: Screen[object]) -> None:
    values = {"#rk-title": "Ranking favours one university", "#rk-owner": "HR analytics",
              "#rk-cause": "Historic hiring data", "#rk-event": "the model learns the bias",
              "#rk-consequence": "qualified people are screened out",
              "#rk-review-on": "2027-01-31", "#rk-review-every": "90",
              "#rk-controls": "GOV-3, OPS-2"}
    for selector, value in values.items():
        screen.query_one(selector, Input).value = value
    screen.query_one("#rk-category", Select).value = "bias-and-fairness"
    for selector, value in (("#rk-inherent-l", 4), ("#rk-inherent-i", 4),
                            ("#rk-current-l", 3), ("#rk-current-i", 4)):
        screen.query_one(selector, Select).value = value


def on_risk(risk_id: int) -> Callable[[Screen[object]], object]:
    def go(screen: Screen[object]) -> None:
        from app.tui.widgets.risk_table import RiskTable

        screen.query_one(RiskTable).go_to(risk_id)

    return go


class TestRisks:
    def test_systems(self, snap_compare) -> None:
        """The inventory, and the high-risk system's models, risks and history."""
        assert snap_compare(risk_app("systems"), run_before=script("7"),
                            terminal_size=(120, 36))

    @SIZES
    def test_register(self, snap_compare, size: tuple[int, int]) -> None:
        """Levels in the matrix colours with their stage, an overdue review, the detail and
        the heat map of the residual scores."""
        assert snap_compare(risk_app("risks"), run_before=script("8"), terminal_size=size)

    def test_heat_map_cursor(self, snap_compare) -> None:
        assert snap_compare(risk_app("risks-heat"), run_before=script("8", heat_cursor),
                            terminal_size=(120, 36))

    def test_add_risk_form(self, snap_compare) -> None:
        assert snap_compare(risk_app("risks-add"), run_before=script("8", "a", fill_risk_form),
                            terminal_size=(120, 40))

    def test_detail_with_trend(self, snap_compare) -> None:
        """RK-1: re-scored twice (High → Medium → Low), its review overdue."""
        assert snap_compare(risk_app("risks-trend"), run_before=script("8", on_risk(1)),
                            terminal_size=(120, 36))

    def test_dashboard(self, snap_compare) -> None:
        """The Dashboard's risk box: the five highest risks and the overdue review."""
        assert snap_compare(risk_app("risks-dashboard"), run_before=script(),
                            terminal_size=(120, 36))


class TestPlaybooks:
    @SIZES
    def test_screen(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        """The playbooks with their origin, the highlighted one's steps, and the highlighted
        step and the playbook in the detail."""
        assert snap_compare(app_for(tmp_path), run_before=script("9"), terminal_size=size)

    def test_data_leakage_clocks(self, snap_compare, tmp_path: Path) -> None:
        """Down to the data-leakage playbook, its detail scrolled to the end: GDPR and HIPAA
        clocks with their bases."""
        assert snap_compare(app_for(tmp_path), run_before=script("9", "down", "down",
                                                                 self.scroll_detail_end),
                            terminal_size=(120, 48))

    def test_step_dialog_80x24(self, snap_compare, tmp_path: Path) -> None:
        """`e` on step 2: the step form (name, owner, CSF function, minutes, controls,
        description)."""
        assert snap_compare(app_for(tmp_path), run_before=script("9", "enter", "down", "e"),
                            terminal_size=(80, 24))

    def test_step_refused_80x24(self, snap_compare, tmp_path: Path) -> None:
        """A duplicate step name: the form stays open with the error and what was typed."""
        assert snap_compare(app_for(tmp_path),
                            run_before=script("9", "enter", "down", "e", self.duplicate_step_name,
                                              "ctrl+s"),
                            terminal_size=(80, 24))

    def test_remove_step_asks_80x24(self, snap_compare, tmp_path: Path) -> None:
        """`delete` on a step: the question before it is removed."""
        assert snap_compare(app_for(tmp_path), run_before=script("9", "delete"),
                            terminal_size=(80, 24))

    @staticmethod
    def scroll_detail_end(screen: Screen[object]) -> None:
        screen.query_one("#pb-detail").scroll_end(animate=False, immediate=True)

    @staticmethod
    def duplicate_step_name(screen: Screen[object]) -> None:
        screen.query_one("#st-name", Input).value = "Triage the drift alert"
