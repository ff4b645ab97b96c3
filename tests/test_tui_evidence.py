"""The Evidence screen and the evidence flows of the Controls and Regulations screens, driven
by Pilot on real temporary workspaces: the table with its statuses and filters, attaching a
real file through the form (and a bad date that keeps the form open), a new version, links
from the control and clause screens, export, and errors that change nothing."""

from __future__ import annotations

from pathlib import Path

from app.services.controls import update_control
from app.services.evidence import Source, add_evidence, link_evidence
from app.store import Store
from tests.conftest import make_store

POLICY = """schema: crosswalk-catalog/1
regulation: {code: POLICY, title: Internal model risk policy, version_label: '2025'}
clauses:
- {ref: P-1, kind: section, title: Inventory, text: Every model is registered.}
- {ref: P-2, kind: section, title: Validation, text: Models are validated before use.}
"""
MODEL_CARD = """# Model card: credit scoring v3

**Owner:** Model Risk team · **Intended use:** consumer credit decisions in the EU.

## Performance

| metric | value |
|---|---|
| AUC | 0.81 |
| KS | 0.43 |

## Limitations

- Not validated for applicants under 21.
- Retrained quarterly; drift is watched daily (OPS-2).
"""
ACCESS_REVIEW = "user,role,decision\nalice,admin,kept\nbob,analyst,revoked\n"


def evidence_store(folder: Path) -> Store:
    """A workspace (clock fixed at 2026-11-26) with a policy regulation and evidence in
    every status: current (with and without an end date), expiring and expired."""
    from app.importers.catalog import parse_catalog
    from app.services.imports import commit_import, plan_import

    folder.mkdir(parents=True, exist_ok=True)
    store = make_store(folder / "ws.db")
    policy = folder / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    commit_import(store, plan_import(store, parse_catalog(policy.read_bytes(), policy)))
    update_control(store, "SEC-1", owner="CISO office", status="implemented")
    update_control(store, "GOV-1", status="implemented")
    files = folder / "files"
    files.mkdir(exist_ok=True)
    card = files / "model-card.md"
    card.write_text(MODEL_CARD, encoding="utf-8")
    review = files / "access-review-q3.csv"
    review.write_text(ACCESS_REVIEW, encoding="utf-8")
    dpia = files / "dpia.txt"
    dpia.write_text("Data protection impact assessment of the credit model.\n",
                    encoding="utf-8")
    add_evidence(store, Source(path=review), title="Q3 access review of the feature store",
                 kind="log", classification="confidential", source_system="IAM",
                 controls=["SEC-1"], collected_at="2026-07-01", valid_until="2026-10-31")
    add_evidence(store, Source(path=dpia), title="DPIA of the credit scoring model",
                 kind="report", controls=["GOV-3", "SEC-1"], clauses=["POLICY P-2"],
                 collected_at="2026-06-01", valid_until="2026-12-10")
    add_evidence(store, Source(url="https://grafana.example/d/drift"),
                 title="Drift dashboard of the credit model", kind="link",
                 controls=["OPS-2"])
    add_evidence(store, Source(path=card), title="Model card: credit scoring v3",
                 description="The model card as approved by the model risk committee.",
                 source_system="Confluence", controls=["GOV-1", "OPS-3"],
                 collected_at="2026-11-02", collected_by="Dana Reyes",
                 period_from="2026-07-01", period_to="2026-09-30", valid_until="2027-06-30")
    link_evidence(store, "EV-4", clauses=["POLICY P-1"])
    return store


# --------------------------------------------------------------------------- driving
from textual.widgets import Input, Select, Static, TextArea  # noqa: E402

from app.services.audit import event_count  # noqa: E402
from app.services.evidence import blob_file, get_evidence  # noqa: E402
from app.services.evidence_status import list_evidence  # noqa: E402
from app.tui.app import make_app  # noqa: E402
from app.tui.screens.controls import ControlsScreen  # noqa: E402
from app.tui.screens.evidence import EvidenceScreen  # noqa: E402
from app.tui.screens.evidence_dialogs import (  # noqa: E402
    AttachDialog,
    EvidencePickerDialog,
    ExportDialog,
    TestDialog,
    VersionDialog,
)
from app.tui.widgets.evidence_preview import EvidencePreview  # noqa: E402
from app.tui.widgets.evidence_table import EvidenceTable  # noqa: E402
from tests.test_tui import settle  # noqa: E402


async def open_evidence(pilot) -> EvidenceTable:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("6")
    for _ in range(3):  # the list, then the detail, then the preview: each in a worker
        await settle(pilot)
    assert isinstance(pilot.app.screen, EvidenceScreen)
    return pilot.app.screen.query_one(EvidenceTable)


def fill(screen, **values: str) -> None:  # type: ignore[no-untyped-def]
    for widget_id, value in values.items():
        widget = screen.query_one("#" + widget_id.replace("_", "-"))
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value


def evidence_count(store: Store) -> int:
    return len(list_evidence(store))


async def test_the_table_lists_every_status_and_filters(tmp_path: Path) -> None:
    store = evidence_store(tmp_path)
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_evidence(pilot)
        screen = pilot.app.screen
        assert [(r.label, r.status) for r in table.shown] == [
            ("EV-4", "current"), ("EV-3", "current"), ("EV-2", "expiring"),
            ("EV-1", "expired")]
        title = str(table.border_title)
        assert "Evidence 4" in title and "expiring" in title and "expired" in title
        assert table.current is not None and table.current.label == "EV-4"
        info = str(screen.query_one("#ev-info-text", Static).render())
        assert "Model card: credit scoring v3" in info and "Versions (1)" in info
        assert "GOV-1" in info and "POLICY P-1" in info and "Dana Reyes" in info
        preview = screen.query_one(EvidencePreview)
        assert preview.preview is not None and preview.preview.kind == "markdown"
        # by status (the select, and `s` cycles it)
        screen.query_one("#ev-status", Select).value = "expired"
        await settle(pilot)
        assert [r.label for r in table.shown] == ["EV-1"]
        await pilot.press("s")  # expired → all
        await settle(pilot)
        assert len(table.shown) == 4
        await pilot.press("s")  # all → current
        await settle(pilot)
        assert [r.label for r in table.shown] == ["EV-4", "EV-3"]
        await pilot.press("escape")
        await settle(pilot)
        # by control, then by words of the title
        screen.query_one("#ev-control", Select).value = "SEC-1"
        await settle(pilot)
        assert [r.label for r in table.shown] == ["EV-2", "EV-1"]
        await pilot.press("slash", *"dpia")
        await settle(pilot)
        assert [r.label for r in table.shown] == ["EV-2"]
        assert "Evidence 1 of 4" in str(table.border_title)
        await pilot.press("escape")
        await settle(pilot)
        assert len(table.shown) == 4


async def test_attach_a_file_through_the_form(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    report = tmp_path / "drift-report-oct.json"
    report.write_text('{"psi": 0.08, "features": 42}\n', encoding="utf-8")
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_evidence(pilot)
        before = event_count(store)
        await pilot.press("a")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, AttachDialog)
        fill(form, ev_path=str(report), ev_title="October drift report",
             ev_controls="OPS-2", ev_clauses="POLICY P-2", ev_collected_at="2026-11-01",
             ev_valid_until="2027-01-31", ev_description="PSI per feature, daily.")
        form.query_one("#ev-kind", Select).value = "report"
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(3):
            await settle(pilot)
        assert isinstance(pilot.app.screen, EvidenceScreen)
        detail = get_evidence(store, "EV-5")
        assert detail.evidence.title == "October drift report"
        assert detail.evidence.kind == "report"
        assert [ln.target for ln in detail.links] == ["OPS-2", "POLICY P-2"]
        assert detail.latest.valid_until == "2027-01-31"
        assert blob_file(store, detail.latest).read_bytes() == report.read_bytes()
        assert event_count(store) > before
        assert table.current is not None and table.current.label == "EV-5"
        assert len(table.rows) == 5
        assert not pilot.app.screen.query_one("#ev-busy").display


async def test_a_bad_date_keeps_the_form_open_and_writes_nothing(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    report = tmp_path / "r.txt"
    report.write_text("x\n", encoding="utf-8")
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await open_evidence(pilot)
        before = event_count(store)
        await pilot.press("a")
        await pilot.pause()
        form = pilot.app.screen
        fill(form, ev_path=str(report), ev_title="A report", ev_valid_until="2026-13-45")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form  # still open, with what was typed
        error = form.query_one("#form-error", Static)
        assert "valid until '2026-13-45' is not a date" in str(error.render())
        assert error.region.height > 0
        assert form.query_one("#ev-title", Input).value == "A report"
        fill(form, ev_valid_until="")
        fill(form, ev_title="   ")  # no title either
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "title" in str(
            form.query_one("#form-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert event_count(store) == before and evidence_count(store) == 4


async def test_a_directory_as_the_file_is_an_error_and_changes_nothing(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        await open_evidence(pilot)
        before = event_count(store)
        blobs = sorted((tmp_path / "ws").rglob("*"))
        await pilot.press("a")
        await pilot.pause()
        fill(pilot.app.screen, ev_path=str(folder), ev_title="Not a file")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await settle(pilot)
        errors = [n for n in pilot.app._notifications if n.severity == "error"]
        assert errors and "is a directory" in errors[-1].message
        assert errors[-1].title == "Not attached"
        # the form is back, with what was typed
        assert isinstance(pilot.app.screen, AttachDialog)
        assert pilot.app.screen.query_one("#ev-title", Input).value == "Not a file"
        assert event_count(store) == before and evidence_count(store) == 4
        assert sorted((tmp_path / "ws").rglob("*")) == blobs  # no blob left behind


async def test_a_new_version_of_the_highlighted_evidence(tmp_path: Path) -> None:
    store = evidence_store(tmp_path / "ws")
    card = tmp_path / "model-card-v2.md"
    card.write_text("# Model card v2\n\nRetrained in November.\n", encoding="utf-8")
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        table = await open_evidence(pilot)
        assert table.current is not None and table.current.label == "EV-4"
        await pilot.press("n")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, VersionDialog)
        fill(form, ev_path=str(card), ev_collected_at="2026-11-20",
             ev_valid_until="2027-11-20", ev_note="retrained")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        for _ in range(3):
            await settle(pilot)
        detail = get_evidence(store, "EV-4")
        assert [v.version for v in detail.versions] == [1, 2]
        assert detail.latest.original_name == "model-card-v2.md"
        assert table.current is not None and table.current.version == 2
        info = str(pilot.app.screen.query_one("#ev-info-text", Static).render())
        assert "Versions (2)" in info and "retrained" in info


async def test_export_and_record_a_test(tmp_path: Path) -> None:
    from app.services.control_tests import list_tests

    store = evidence_store(tmp_path / "ws")
    out = tmp_path / "out"
    out.mkdir()
    async with make_app(store).run_test(size=(120, 36), notifications=True) as pilot:
        await open_evidence(pilot)
        await pilot.press("x")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, ExportDialog)
        fill(form, ev_export_path=str(out))
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        exported = out / "model-card.md"
        assert exported.read_text(encoding="utf-8").startswith("# Model card")
        await pilot.press("x")  # again: the file exists, so an error and no change
        await pilot.pause()
        fill(pilot.app.screen, ev_export_path=str(out))
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert "already exists" in [n.message for n in pilot.app._notifications][-1]
        await pilot.press("t")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, TestDialog)
        assert form.query_one("#ct-evidence", Input).value == "EV-4@1"
        assert form.query_one("#ct-control", Select).value == "GOV-1"
        form.query_one("#ct-result", Select).value = "not-effective"
        await pilot.press("ctrl+s")  # not effective needs the exceptions described
        await settle(pilot)
        assert pilot.app.screen is form
        fill(form, ct_exceptions="Two models lacked a card.", ct_sample_size="25")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        for _ in range(2):
            await settle(pilot)
        [test] = list_tests(store)
        assert test.test.control_id == "GOV-1" and test.test.result == "not-effective"
        assert test.evidence == ["EV-4@1"] and test.test.sample_size == 25
        info = str(pilot.app.screen.query_one("#ev-info-text", Static).render())
        assert "CT-1" in info


async def test_link_evidence_from_the_control_screen(tmp_path: Path) -> None:
    from app.services.control_tests import list_tests

    store = evidence_store(tmp_path / "ws")
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ControlsScreen)
        screen.query_one("#controls-table").move_cursor(row=4)  # SEC-1
        await pilot.pause()
        text = str(screen.query_one("#control-text", Static).render())
        assert "Evidence expired" in text and "EV-1" in text and "EV-2" in text
        assert "Latest test none recorded" in text
        await pilot.press("l")
        await settle(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, EvidencePickerDialog)
        assert picker.rows is not None and {r.label for r in picker.rows} == {"EV-3", "EV-4"}
        await pilot.press(*"model card")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(pilot.app.screen, ControlsScreen)
        assert "SEC-1" in [ln.target for ln in get_evidence(store, "EV-4").links]
        text = str(screen.query_one("#control-text", Static).render())
        assert "EV-4" in text
        await pilot.press("t")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, TestDialog)
        fill(form, ct_evidence="EV-4, EV-1@1", ct_tester="Ana Ortiz",
             ct_tested_on="2026-11-20")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        [test] = list_tests(store, "SEC-1")
        assert test.evidence == ["EV-4@1", "EV-1@1"] and test.test.tester == "Ana Ortiz"
        text = str(screen.query_one("#control-text", Static).render())
        assert "Latest test CT-1 effective on 2026-11-20 by Ana Ortiz" in text


async def test_link_evidence_from_a_clause(tmp_path: Path) -> None:
    from app.tui.screens.regulations import RegulationsScreen

    store = evidence_store(tmp_path / "ws")
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        for _ in range(2):
            await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RegulationsScreen)
        text = str(screen.query_one("#clause-text", Static).render())
        assert "P-1" in text and "EV-4" in text  # the model card is linked to P-1
        await pilot.press("l")
        await settle(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, EvidencePickerDialog)
        await pilot.press(*"EV-1", "enter")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert "POLICY P-1" in [ln.target for ln in get_evidence(store, "EV-1").links]
        text = str(screen.query_one("#clause-text", Static).render())
        assert "EV-1" in text and "expired" in text


async def test_a_big_attach_shows_progress_and_ctrl_x_cancels_it(tmp_path: Path) -> None:
    """A slow copy runs in a worker with a progress bar; ctrl+x stops it and nothing is
    stored: no row, no audit event, no blob, no temporary file."""
    import asyncio

    from textual.widgets import ProgressBar

    from app.services.evidence import blobs_of

    store = evidence_store(tmp_path / "ws")
    big = tmp_path / "training-data-snapshot.bin"
    with big.open("wb") as fh:  # 4 GB, sparse: reading it takes seconds, storing it none
        fh.truncate(4 << 30)
    blobs_before = sorted(p.name for p in blobs_of(store).root.rglob("*") if p.is_file())
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await open_evidence(pilot)
        screen = pilot.app.screen
        before = (event_count(store), evidence_count(store))
        await pilot.press("a")
        await pilot.pause()
        fill(pilot.app.screen, ev_path=str(big), ev_title="Training data snapshot")
        await pilot.press("ctrl+s")
        bar = screen.query_one("#ev-busy-progress", ProgressBar)
        for _ in range(500):  # until the copy reports progress
            await asyncio.sleep(0.01)
            if bar.display and (bar.progress or 0) > 0:
                break
        assert bar.display and 0 < (bar.progress or 0) < (4 << 30)
        assert "ctrl+x cancels" in str(screen.query_one("#ev-busy-text", Static).render())
        await pilot.press("ctrl+x")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert not screen.query_one("#ev-busy").display
        assert (event_count(store), evidence_count(store)) == before
        notes = [str(n.message) for n in pilot.app._notifications]
        assert any("was cancelled; nothing was stored" in n for n in notes), notes
    after = sorted(p.name for p in blobs_of(store).root.rglob("*") if p.is_file())
    assert after == blobs_before  # no blob, no .tmp- file
