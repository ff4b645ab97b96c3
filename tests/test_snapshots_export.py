"""SVG snapshots of the Export screen (wide and 80×24, and its result panel after a matrix
export and after a backup; the restore dialog refusing an existing target) and of
applicability on the Regulations screen (the scope dialog refusing an empty justification;
the tree with a clause not applicable). Plain sync tests, as snap_compare requires; fixed
clocks and hidden paths. The export writes a relative file name into the test's own folder,
and the panel shows only the name, so no machine path is on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widgets import Switch, TextArea

from app.tui.app import make_app
from tests.test_snapshots import SIZES, app_for, choose, script
from tests.test_tui_evidence import evidence_store


def set_value(widget_id: str, value: object):  # type: ignore[no-untyped-def]
    def apply(screen: Screen[object]) -> None:
        widget = screen.query_one(f"#{widget_id}")
        if isinstance(widget, TextArea):
            widget.text = str(value)
        else:
            widget.value = value  # type: ignore[attr-defined]

    return apply


def _then_settle(_screen: Screen[object]) -> None:
    """A step that does nothing: `script` settles once more after it (the worker's
    messages are handled)."""


class TestExport:
    @SIZES
    def test_screen(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        assert snap_compare(app_for(tmp_path), run_before=script("E"), terminal_size=size)

    def test_dossier_options_80x24(self, snap_compare, tmp_path: Path) -> None:
        def dossier(screen: Screen[object]) -> None:
            screen.query_one("#kind-dossier").value = True  # type: ignore[attr-defined]

        assert snap_compare(app_for(tmp_path), run_before=script("E", dossier),
                            terminal_size=(80, 24))

    def test_result_after_a_matrix_export(self, snap_compare, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
        store = evidence_store(tmp_path / "ws")
        monkeypatch.chdir(tmp_path)
        assert snap_compare(make_app(store, show_paths=False),
                            run_before=script("E", set_value("exp-path", "matrix.csv"),
                                              "ctrl+s", _then_settle),
                            terminal_size=(120, 36))
        assert (tmp_path / "matrix.csv").is_file()


class TestBackup:
    def test_result_after_a_backup(self, snap_compare, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
        def backup(screen: Screen[object]) -> None:
            screen.query_one("#kind-backup").value = True  # type: ignore[attr-defined]

        store = evidence_store(tmp_path / "ws")
        monkeypatch.chdir(tmp_path)
        assert snap_compare(make_app(store, show_paths=False),
                            run_before=script("E", backup, set_value("exp-path", "ws.zip"),
                                              "ctrl+s", _then_settle),
                            terminal_size=(120, 36))
        assert (tmp_path / "ws.zip").is_file()

    def test_restore_dialog_refuses_an_existing_target_80x24(
            self, snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (tmp_path / "backup.zip").write_bytes(b"PK")
        (tmp_path / "taken.db").write_bytes(b"")
        monkeypatch.chdir(tmp_path)
        (tmp_path / "app").mkdir()
        assert snap_compare(app_for(tmp_path / "app"),
                            run_before=script("E", "ctrl+r",
                                              set_value("restore-archive", "backup.zip"),
                                              set_value("restore-target", "taken.db"),
                                              "ctrl+s"),
                            terminal_size=(80, 24))


class TestApplicability:
    def test_scope_dialog_refuses_an_empty_justification(self, snap_compare,
                                                          tmp_path: Path) -> None:
        def not_applicable(screen: Screen[object]) -> None:
            screen.query_one("#scope-na", Switch).value = True

        store = evidence_store(tmp_path / "ws")
        assert snap_compare(make_app(store, show_paths=False),
                            run_before=script("3", choose("POLICY"), "n", not_applicable,
                                              "ctrl+s"),
                            terminal_size=(100, 30))

    def test_tree_shows_a_clause_not_applicable(self, snap_compare, tmp_path: Path) -> None:
        from app.services.applicability import set_applicability

        store = evidence_store(tmp_path / "ws")
        set_applicability(store, "POLICY P-2", applicable=False,
                          justification="Validation is done by the parent company's model "
                                        "risk team, under its own policy.")
        assert snap_compare(make_app(store, show_paths=False),
                            run_before=script("3", choose("POLICY"), "down"),
                            terminal_size=(120, 36))
