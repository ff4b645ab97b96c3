"""The Export screen and applicability on the Regulations screen, driven by Pilot on real
temporary workspaces: the matrix as CSV and XLSX (read back with the csv module and
openpyxl), an existing file without Overwrite and a bad as-of date (a notification, nothing
written), the audit dossier (a PDF pypdfium2 opens, with an integrity failure shown in the
result panel), a cancel between two steps; and a HIPAA clause declared not applicable through
the scope dialog (the empty justification refused inside the form)."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from textual.widgets import RadioButton, Static, Switch, TextArea, Tree

from app.domain.traceability import HEADERS
from app.services.applicability import list_decisions
from app.services.audit import events
from app.services.traceability import build_matrix
from app.store import Store
from app.tui.app import make_app
from app.tui.screens.export import ExportScreen
from app.tui.screens.scope_dialogs import ScopeDialog
from tests.conftest import make_store
from tests.test_tui import open_regulations, settle
from tests.test_tui_evidence import evidence_store


async def open_export(pilot) -> ExportScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("E")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    return screen


def fill(screen, **values: str) -> None:  # type: ignore[no-untyped-def]
    for widget_id, value in values.items():
        screen.query_one("#exp-" + widget_id.replace("_", "-")).value = value


async def choose(pilot, screen: ExportScreen, kind: str) -> None:  # type: ignore[no-untyped-def]
    screen.query_one(f"#kind-{kind}", RadioButton).value = True
    await pilot.pause()


async def export(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+s")
    await settle(pilot)
    await settle(pilot)


def notes(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(n.message) for n in pilot.app._notifications]


def result_text(screen: ExportScreen) -> str:
    return str(screen.query_one("#exp-result", Static).render())


# --------------------------------------------------------------------------- matrix
async def test_export_the_matrix_as_csv_and_xlsx(tmp_path: Path) -> None:
    import openpyxl

    store = evidence_store(tmp_path / "ws")
    out = tmp_path / "out"
    out.mkdir()
    expected = build_matrix(store)
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        assert screen.query_one("#exp-path").value == "traceability-matrix.csv"
        fill(screen, path=str(out / "traceability-matrix.csv"), excel=True)
        await export(pilot)
        path = out / "traceability-matrix.csv"
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # CSV for Excel
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == list(HEADERS)
        assert len(rows) - 1 == len(expected.rows) > 0
        text = result_text(screen)
        assert "traceability-matrix.csv" in text and f"{len(expected.rows):,}" in text
        assert f"event {expected.audit_head_seq:,} · head {expected.audit_head[:12]}" in text

        await choose(pilot, screen, "matrix-xlsx")  # the default name follows the kind
        assert screen.query_one("#exp-path").value == str(out / "traceability-matrix.xlsx")
        fill(screen, regulation="POLICY", control="SEC-1")
        await export(pilot)
        book = openpyxl.load_workbook(out / "traceability-matrix.xlsx", read_only=True)
        assert book.sheetnames[:2] == ["Summary", "Matrix"]
        matrix = list(book["Matrix"].iter_rows(values_only=True))
        filtered = build_matrix(store, regulation="POLICY", control="SEC-1")
        assert len(matrix) - 1 == len(filtered.rows)
        assert "regulation POLICY · control SEC-1" in result_text(screen)
        assert any("traceability-matrix.xlsx" in n for n in notes(pilot))


async def test_an_existing_file_without_overwrite_is_left_alone(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    target = tmp_path / "matrix.csv"
    target.write_text("keep me\n", encoding="utf-8")
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        fill(screen, path=str(target))
        await export(pilot)
        assert "matrix.csv already exists; choose another name or tick Overwrite" in notes(
            pilot)[-1]
        assert target.read_text(encoding="utf-8") == "keep me\n"
        assert "Exported" not in result_text(screen)
        fill(screen, overwrite=True)
        await export(pilot)
        assert target.read_text(encoding="utf-8").startswith("Regulation,")


async def test_a_bad_as_of_date_writes_nothing(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    target = tmp_path / "matrix.csv"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        fill(screen, path=str(target), as_of="2026-13-45")
        await export(pilot)
        assert "as-of" in notes(pilot)[-1].lower() or "date" in notes(pilot)[-1].lower()
        assert not target.exists()
        assert list(tmp_path.glob(".matrix.csv.*")) == []
        assert isinstance(pilot.app.screen, ExportScreen)  # the form stays
        assert screen.query_one("#exp-as-of").value == "2026-13-45"


# --------------------------------------------------------------------------- dossier
def _break_a_file(store: Store) -> None:
    """Remove EV-1's stored file, so the dossier reports an integrity failure."""
    from app.services.evidence import blobs_of

    with store.raw() as run:
        sha = run("SELECT sha256 FROM evidence_version WHERE evidence_id = 1").fetchone()[0]
    blobs_of(store).path(sha).unlink()


async def test_export_the_dossier_with_an_integrity_failure(tmp_path: Path) -> None:
    pytest.importorskip("app.exporters.dossier_pdf")
    import pypdfium2

    store = evidence_store(tmp_path / "ws")
    _break_a_file(store)
    target = tmp_path / "dossier.pdf"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        await choose(pilot, screen, "dossier")
        assert screen.query_one("#exp-path").value == "audit-dossier.pdf"
        assert not screen.query_one("#exp-matrix").display
        fill(screen, path=str(target), organisation="Acme Lending", period_from="2026-01-01",
             period_to="2026-09-30", preparer="Dana Reyes")
        await export(pilot)
        pdf = pypdfium2.PdfDocument(target)
        pages = len(pdf)
        pdf.close()
        assert pages > 3
        text = result_text(screen)
        assert f"Pages    {pages:,}" in text
        assert "INTEGRITY FAILURE  EV-1 version 1: the file is missing" in text
        errors = [n for n in pilot.app._notifications if n.severity == "error"]
        assert errors and errors[-1].title == "INTEGRITY FAILURE"


async def test_export_the_bundle_signed(tmp_path: Path) -> None:
    pytest.importorskip("app.exporters.dossier_pdf")
    from app.exporters.bundle import generate_keypair
    from app.services.bundle_verify import verify_bundle
    from app.services.mappings import add_mapping

    store = evidence_store(tmp_path / "ws")
    add_mapping(store, "POLICY P-1", "GOV-1", relationship="subset-of", strength=8,
                rationale="The inventory is the first step of governance.")
    key, pub = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    generate_keypair(key, pub)
    target = tmp_path / "bundle.zip"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        await choose(pilot, screen, "bundle")
        assert screen.query_one("#exp-path").value == "dossier-bundle.zip"
        assert screen.query_one("#exp-bundle").display
        fill(screen, path=str(target), sign_key=str(key), all_versions=True)
        await export(pilot)
        assert target.is_file(), notes(pilot)
        report = verify_bundle(target, pub)
        assert report.ok, report
        text = result_text(screen)
        assert "manifest signed" in text and "INTEGRITY FAILURE" not in text


async def test_a_dossier_period_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    target = tmp_path / "dossier.pdf"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        await choose(pilot, screen, "dossier")
        fill(screen, path=str(target), period_from="2026-09-30", period_to="2026-01-01")
        await export(pilot)
        assert "ends" in notes(pilot)[-1] and not target.exists()
        fill(screen, period_to="")
        await export(pilot)
        assert "the period's start and its end" in notes(pilot)[-1] and not target.exists()


async def test_cancel_between_steps_writes_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import traceability

    store = evidence_store(tmp_path / "ws")
    target = tmp_path / "matrix.csv"
    started, go_on = threading.Event(), threading.Event()
    real = traceability.build_matrix

    def slow_matrix(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        go_on.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(traceability, "build_matrix", slow_matrix)
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        fill(screen, path=str(target))
        await pilot.press("ctrl+s")
        assert started.wait(10)
        await pilot.pause()
        assert screen.query_one("#exp-busy").display
        await pilot.press("ctrl+x")
        go_on.set()
        await settle(pilot)
        await settle(pilot)
        assert "export cancelled; nothing was written" in notes(pilot)
        assert not target.exists() and list(tmp_path.glob(".matrix.csv.*")) == []
        assert not screen.query_one("#exp-busy").display


# --------------------------------------------------------------------------- backup
async def test_back_up_then_restore_from_the_export_screen(tmp_path: Path) -> None:
    from app.services.audit import verify
    from app.services.bundle_verify import verify_bundle
    from app.tui.screens.backup_dialogs import RestoreDialog

    store = evidence_store(tmp_path / "ws")
    archive = tmp_path / "backup.zip"
    target = tmp_path / "restored.db"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_export(pilot)
        await choose(pilot, screen, "backup")
        assert screen.query_one("#exp-path").value == "workspace-backup.zip"
        assert not screen.query_one(".exp-class").display
        assert not screen.query_one("#exp-matrix").display
        fill(screen, path=str(archive))
        await export(pilot)
        assert verify_bundle(archive).ok
        text = result_text(screen)
        assert "Workspace backup" in text and "the database and 4 evidence files" in text
        assert "INTEGRITY FAILURE" not in text

        # the dialog refuses an existing target inside the form, then restores
        await pilot.press("ctrl+r")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, RestoreDialog)
        dialog.query_one("#restore-archive").value = str(archive)
        dialog.query_one("#restore-target").value = str(store.path)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is dialog
        error = dialog.query_one("#form-error", Static)
        assert "already exists" in str(error.render()) and error.has_class("-shown")
        dialog.query_one("#restore-target").value = str(target)
        await pilot.pause()
        assert not error.has_class("-shown")  # edited: the old error goes
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert pilot.app.screen is screen
        text = result_text(screen)
        assert "Restored a workspace backup" in text and "intact" in text
        assert f"crosswalk --workspace {target}" in text
        assert [n.title for n in pilot.app._notifications][-1] == "Restored"
    restored = Store.open(target)
    try:
        assert verify(restored).intact
        assert len(events(restored)) == len(events(store))
    finally:
        restored.close()


async def test_a_bad_backup_restores_nothing_and_says_why(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    archive = tmp_path / "backup.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    target = tmp_path / "restored.db"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        await open_export(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        pilot.app.screen.query_one("#restore-archive").value = str(archive)
        pilot.app.screen.query_one("#restore-target").value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        last = pilot.app._notifications
        assert [n.title for n in last][-1] == "Not restored"
        assert "does not check out, nothing was restored" in notes(pilot)[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.zip", "ws"]


# --------------------------------------------------------------------------- applicability
async def test_declare_a_hipaa_clause_not_applicable(lib_ws: Path) -> None:
    store = make_store(lib_ws, library=True)
    ref = "HIPAA § 164.318"
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        await open_regulations(pilot, "HIPAA")
        screen = pilot.app.screen
        clause_id = next(r.id for r in screen.index.rows if r.ref == "§ 164.318")
        screen.show_clause(clause_id)
        await pilot.press("n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, ScopeDialog) and dialog.full_ref == ref
        dialog.query_one("#scope-na", Switch).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is dialog  # refused inside the form
        assert "say why HIPAA § 164.318 does not apply" in str(
            dialog.query_one("#form-error", Static).render())
        assert list_decisions(store) == []

        dialog.query_one("#scope-why", TextArea).text = "We hold no health data of ours."
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        decisions = list_decisions(store)
        assert [(d.full_ref, d.justification) for d in decisions] == [
            (ref, "We hold no health data of ours.")]
        assert events(store, limit=1)[0].action == "clause_scope.create"
        detail = str(screen.query_one("#clause-text", Static).render())
        assert "not applicable" in detail and "We hold no health data of ours." in detail

        # the tree shows it (and what it contains) dimmed with n/a, once its branch is built
        tree = screen.query_one("#clause-tree", Tree)
        stack, labels = list(tree.root.children), {}
        while stack:
            node = stack.pop()
            if node.data == clause_id or node.data in screen.index.descendants(clause_id):
                labels[node.data] = str(node.label)
            if node.allow_expand and not node.is_expanded and screen.index.descendants(
                    node.data) and clause_id in [node.data,
                                                 *screen.index.descendants(node.data)]:
                node.expand()
                await pilot.pause()
            stack.extend(node.children)
        assert labels[clause_id].endswith("n/a")
