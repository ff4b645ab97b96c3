"""`crosswalk export matrix`, read back as a reader would: the CSV with the csv module, the
XLSX with openpyxl, the PDF's text with pypdfium2; and the refusals (an existing or
unwritable target, bad filters), each leaving the workspace and the folder as they were."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.domain.traceability import HEADERS
from tests.helpers import assert_error, unchanged


def export(cli: Any, ws: Path, *args: str) -> Any:
    r = cli("--workspace", str(ws), "export", "matrix", *args)
    assert r.code == 0, r.err
    return r


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_csv_rows_match_the_mappings(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    r = export(cli, lib_ws, "--format", "csv", "-o", str(out))
    rows = read_csv(out)
    assert tuple(rows[0]) == HEADERS
    mappings = json.loads(cli("--workspace", str(lib_ws), "mappings", "--json").out)
    mapped = [row for row in rows[1:] if row[HEADERS.index("Control")]]
    assert len(mapped) == len(mappings)
    gaps = [row for row in rows[1:] if row[HEADERS.index("Gap")] == "yes"]
    assert gaps and all(not row[HEADERS.index("Control")] for row in gaps)
    assert f"{len(rows) - 1:,} rows" in r.out
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_excel_csv_has_a_bom(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    export(cli, lib_ws, "--format", "csv", "--excel", "--regulation", "hipaa", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert {row[0] for row in read_csv(out)[1:]} == {"HIPAA"}


def test_xlsx_opens_with_a_sheet_per_regulation(lib_ws: Path, cli: Any,
                                                tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "m.xlsx"
    export(cli, lib_ws, "--format", "xlsx", "--control", "SEC-1", "-o", str(out))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "EU-AI-ACT", "GDPR", "HIPAA"]
    matrix = wb["GDPR"]
    assert matrix.freeze_panes == "A2" and matrix.auto_filter.ref
    header = [c.value for c in matrix[1]]
    assert tuple(header) == HEADERS
    controls = {row[HEADERS.index("Control")] for row in
                matrix.iter_rows(min_row=2, values_only=True)}
    assert controls == {"SEC-1"}


def test_pdf_repeats_its_header(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    out = tmp_path / "m.pdf"
    export(cli, lib_ws, "--format", "pdf", "--regulation", "GDPR", "--status", "gap",
           "-o", str(out))
    pdf = pdfium.PdfDocument(str(out))
    try:
        assert len(pdf) > 1
        first = pdf[0].get_textpage().get_text_range()
        last = pdf[len(pdf) - 1].get_textpage().get_text_range()
        assert "Clause" in first and "Clause" in last  # the header row on every page
        assert f"of {len(pdf)}" in last
    finally:
        pdf.close()


def test_as_of_and_a_future_date(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "old.csv"
    export(cli, lib_ws, "--format", "csv", "--as-of", "2026-11-26", "-o", str(out))
    assert len(read_csv(out)) > 1
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "export", "matrix", "--format", "csv",
                "--as-of", "2999-01-01", "-o", str(tmp_path / "future.csv"))
    assert "is in the future" in assert_error(r)
    assert not (tmp_path / "future.csv").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--regulation", "SOX"], "error: no regulation 'SOX' in the matrix (regulations: "
                              "EU-AI-ACT, GDPR, HIPAA)"),
    (["--control", "GOV-9"], "error: unknown control 'GOV-9'"),
    (["--status", "done"], "error: status 'done' is not a control status"),
    (["--as-of", "yesterday"], "error: --as-of 'yesterday' is not a date; write it as "
                               "YYYY-MM-DD"),
])
def test_bad_filters(lib_ws: Path, cli: Any, tmp_path: Path, args: list[str],
                     message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with unchanged(lib_ws):
        r = cli("--workspace", str(lib_ws), "export", "matrix", "--format", "csv",
                "-o", str(out / "m.csv"), *args)
    assert assert_error(r).startswith(message)
    assert list(out.iterdir()) == []


def test_an_existing_or_unwritable_target(lib_ws: Path, cli: Any, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    out = tmp_path / "m.csv"
    out.write_text("keep me", encoding="utf-8")
    r = cli("--workspace", str(lib_ws), "export", "matrix", "--format", "csv", "-o", str(out))
    assert assert_error(r) == (f"error: {out} already exists; choose another name or pass "
                               "--force")
    assert out.read_text(encoding="utf-8") == "keep me"
    export(cli, lib_ws, "--format", "csv", "-o", str(out), "--force")
    assert out.read_text(encoding="utf-8").startswith("Regulation,")
    missing = tmp_path / "nope" / "m.csv"
    r = cli("--workspace", str(lib_ws), "export", "matrix", "--format", "csv",
            "-o", str(missing))
    assert assert_error(r) == (f"error: cannot write {missing}: folder {missing.parent} "
                               "does not exist")
    r = cli("--workspace", str(lib_ws), "export", "matrix", "--format", "csv",
            "-o", str(tmp_path))
    assert assert_error(r) == f"error: {tmp_path} is a folder; give a file name to write to"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]  # nothing half-written


def test_the_format_comes_from_the_suffix_unless_given(lib_ws: Path, cli: Any,
                                                        tmp_path: Path) -> None:
    export(cli, lib_ws, "-o", str(tmp_path / "m.XLSX"))
    assert (tmp_path / "m.XLSX").read_bytes().startswith(b"PK")
    export(cli, lib_ws, "-o", str(tmp_path / "m.csv"))
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").startswith("Regulation,")
    export(cli, lib_ws, "--format", "csv", "-o", str(tmp_path / "m.txt"))
    assert (tmp_path / "m.txt").read_text(encoding="utf-8").startswith("Regulation,")
    r = cli("--workspace", str(lib_ws), "export", "matrix", "-o", str(tmp_path / "m.dat"))
    assert assert_error(r) == ("error: cannot tell the format from 'm.dat': give --format "
                               "csv, xlsx or pdf, or an output ending in .csv, .xlsx or .pdf")
    assert not (tmp_path / "m.dat").exists()
