"""The Mapping screen, driven by Pilot on a real workspace with the bundled library: the
matrix, the mapping form (with its checks), review, the next gap, a clause and a control's
clauses. Every write lands in the workspace with its audit event."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static, TextArea

from app.services.audit import event_count
from app.services.mappings import get_mapping, list_mappings
from app.services.regulations import list_regulations
from app.tui.app import make_app
from app.tui.screens.mapping import MappingScreen
from app.tui.screens.mapping_dialogs import ClauseDialog, ControlMappingsDialog, MappingDialog
from app.tui.widgets.mapping_matrix import MappingMatrix
from tests.conftest import make_store
from tests.test_tui import settle


async def open_matrix(pilot, code: str) -> MappingMatrix:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MappingScreen)
    reg = next(r for r in list_regulations(pilot.app.store) if r.code == code and r.latest)
    screen.query_one("#matrix-select", Select).value = reg.id
    await settle(pilot)
    await settle(pilot)
    matrix = screen.query_one(MappingMatrix)
    assert matrix.matrix is not None and matrix.matrix.regulation_id == reg.id
    return matrix


async def test_the_matrix_shows_folded_recitals_articles_and_mapped_cells(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=True)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        matrix = await open_matrix(pilot, "GDPR")
        refs = [row.ref for _, row in matrix.shown]
        assert refs[0] == "Recitals 1–173" and refs[1] == "Chapter I"
        assert not any(r.startswith("Recital ") for r in refs)  # folded into one row
        summary = str(pilot.app.screen.query_one("#matrix-summary", Static).render())
        assert "gaps" in summary and "mappings" in summary
        for code in ("EU-AI-ACT", "GDPR"):  # with and without a scrollbar: heads over cells
            matrix = await open_matrix(pilot, code)
            await pilot.pause()
            head = str(pilot.app.screen.query_one("#matrix-header", Static).render())
            pad = "GOV1".center(matrix.cell_width).index("G")  # as the cells are centred
            assert head.index("GOV1") == matrix.ref_width + pad, code
            assert head.index("OPS4") == matrix.ref_width + 11 * matrix.cell_width + pad, code
        # open Chapter IV → Art. 24 …; Art. 32(1)(b) → SEC-1 is a bundled mapping
        matrix.go_to(next(r.id for r in matrix.matrix.rows if r.ref == "Art. 32(1)(b)"))
        await pilot.pause()
        assert matrix.current is not None and matrix.current.ref == "Art. 32(1)(b)"
        assert [row.ref for _, row in matrix.shown][matrix.row_index - 1] == "Art. 32(1)(a)"
        cell = matrix.matrix.cell(matrix.current.id, "SEC-1")
        assert cell is not None and cell.relationship == "intersects-with"
        text, _ = matrix._cell(matrix.current, "SEC-1")
        assert text == "∩P"


async def test_m_maps_a_cell_with_the_form_and_v_reviews_it(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=True)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        matrix = await open_matrix(pilot, "GDPR")
        target = next(r for r in matrix.matrix.rows if r.ref == "Art. 33(3)(d)")
        matrix.go_to(target.id)
        matrix.column = 1  # GOV-2
        await pilot.pause()
        before = event_count(store)
        await pilot.press("m")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, MappingDialog)
        await pilot.press("ctrl+s")  # no relationship yet: the form says so and stays
        await pilot.pause()
        assert isinstance(pilot.app.screen, MappingDialog)
        error = form.query_one("#form-error", Static)
        assert "choose a relationship" in str(error.render()) and error.display
        assert error.region.height > 0  # shown, not just set
        form.query_one("#relationship", Select).value = "intersects-with"
        form.query_one("#strength", Input).value = "12"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "strength 12 is out of range" in str(form.query_one("#form-error",
                                                                   Static).render())
        form.query_one("#strength", Input).value = "6"
        form.query_one("#rationale", TextArea).text = "The incident lead describes the " \
                                                       "measures taken."
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(pilot.app.screen, MappingScreen)
        made = get_mapping(store, "GDPR Art. 33(3)(d)", "GOV-2").mapping
        assert (made.relationship, made.strength, made.review_status) == (
            "intersects-with", 6, "draft")
        assert event_count(store) == before + 1
        assert matrix.current is not None and matrix.current.ref == "Art. 33(3)(d)"
        assert matrix._cell(matrix.current, "GOV-2")[0] == "∩P"
        await pilot.press("v")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert get_mapping(store, "GDPR Art. 33(3)(d)", "GOV-2").mapping.review_status == \
            "approved"
        assert event_count(store) == before + 3


async def test_g_walks_the_gaps_and_enter_and_c_open_their_views(tmp_path: Path) -> None:
    store = make_store(tmp_path / "ws.db", library=True)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        matrix = await open_matrix(pilot, "HIPAA")
        gaps = matrix.matrix.gaps()
        assert len(gaps) > 3  # the bundled HIPAA mappings leave some obligations open
        assert matrix.current == gaps[0]  # Part 160: only definitions under it, unmapped
        await pilot.press("g")
        await pilot.pause()
        assert matrix.current == gaps[1]  # opened where it is: § 164.302 under Subpart C
        await pilot.press("g")
        await pilot.pause()
        assert matrix.current == gaps[2]
        assert [r.ref for _, r in matrix.shown][matrix.row_index] == gaps[2].ref
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ClauseDialog)
        assert gaps[2].ref in pilot.app.screen.body and "none on this clause" in \
            pilot.app.screen.body
        await pilot.press("escape")
        await pilot.pause()
        matrix.column = 4  # SEC-1
        await pilot.press("c")
        await pilot.pause()
        view = pilot.app.screen
        assert isinstance(view, ControlMappingsDialog)
        rows = view.query_one(DataTable).row_count
        assert rows == len(list_mappings(store, control_id="SEC-1")) > 0
        codes = {r[0].split()[0] for r in view.rows}
        assert codes == {"GDPR", "EU-AI-ACT", "HIPAA"}  # test once, comply with many


async def test_the_dashboard_shows_coverage_gaps_and_unreviewed_mappings(
        tmp_path: Path) -> None:
    from app.services.analysis import coverage
    from app.services.snapshot import load_snapshot

    store = make_store(tmp_path / "ws.db", library=True)
    report = coverage(load_snapshot(store))
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await settle(pilot)
        text = str(pilot.app.screen.query_one("#dash-coverage", Static).render())
        for r in report.regulations:
            line = next(ln for ln in text.splitlines() if ln.startswith(r.code + " "))
            assert f"{r.none:,} gaps of {r.obligations:,}" in line
        gaps = sum(r.none for r in report.regulations)
        drafts = len(list_mappings(store, status="draft"))
        assert f"{gaps:,} gaps in all · {drafts:,} mappings not yet reviewed" in text


async def test_i_shows_what_a_change_of_the_clause_reaches(tmp_path: Path) -> None:
    from app.services.impact import impact_of_clause_ref

    store = make_store(tmp_path / "ws.db", library=True)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        matrix = await open_matrix(pilot, "GDPR")
        matrix.go_to(next(r.id for r in matrix.matrix.rows if r.ref == "Art. 32(1)(b)"))
        await pilot.press("i")
        await settle(pilot)
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, ClauseDialog)
        expected = impact_of_clause_ref(store, "GDPR Art. 32(1)(b)")
        assert "impact of GDPR Art. 32(1)(b)" in dialog.body
        assert f"mappings to re-review ({len(expected.mappings)})" in dialog.body
        assert "HIPAA § 164.308(a)(4)(ii)(A)" in dialog.body  # shares SEC-1 and SEC-3


async def test_a_mapping_collection_imports_from_the_tui_with_its_preview(
        tmp_path: Path) -> None:
    """Export GDPR's mapping collection, delete one mapping, and import the file again from
    the Regulations screen: the preview lists the one mapping to create and the ones it
    skips; committing writes it back, as a draft."""
    from app.exporters.oscal_common import dumps
    from app.services.mappings import remove_mapping
    from app.services.oscal_export import mappings_document
    from app.tui.screens.import_dialogs import MappingImportDialog
    from tests.test_tui_pdf import choose_file

    store = make_store(tmp_path / "ws.db", library=True)
    src = tmp_path / "gdpr.mapping.json"
    src.write_bytes(dumps(mappings_document(store, "GDPR")))
    remove_mapping(store, "GDPR Art. 32(1)(b)", "SEC-1")
    total = len(list_mappings(store, code="GDPR"))
    before = event_count(store)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose_file(pilot, src)
        await settle(pilot)
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, MappingImportDialog)
        assert [f"{s.ref} → {s.control_id}" for _, s in dialog.plan.create] == [
            "Art. 32(1)(b) → SEC-1"]
        assert len(dialog.plan.skipped) == total
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
    back = get_mapping(store, "GDPR Art. 32(1)(b)", "SEC-1").mapping
    assert back.review_status == "draft" and event_count(store) == before + 1
