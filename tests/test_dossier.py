"""The audit dossier PDF, built from a real demo workspace and read back with pypdfium2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from app.exporters.dossier_pdf import write_dossier_pdf
from app.services.demo import create_demo
from app.services.dossier_data import Dossier, DossierOptions, gather_dossier
from app.services.evidence import blobs_of

OPTIONS = DossierOptions(organisation="Northwind Lending", scope="Consumer lending <AI> & co",
                         period_from="2026-01-01", period_to="2026-11-30",
                         classification="CONFIDENTIAL", preparer="A. Analyst",
                         reviewer="R. Reviewer", approver="C. Approver")
HEADINGS = ["1 Executive summary", "2 Controls", "3 Regulation mappings",
            "4 Traceability matrix", "5 Evidence index", "6 AI system inventory",
            "7 Risk register", "8 Incident playbooks", "9 Exercises and after-action reports",
            "10 Audit-trail statement", "A Appendix — Method"]


def flat(text: str) -> str:
    return " ".join(text.split())


def bare(text: str) -> str:
    return "".join(text.split())


@dataclass
class Built:
    dossier: Dossier
    path: Path
    pages: list[str]  # text per page, whitespace collapsed
    count: int


def read_pages(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        out = []
        for page in pdf:
            tp = page.get_textpage()
            out.append(flat(tp.get_text_range()))
            tp.close()
            page.close()
        return out
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("dossier")
    store = create_demo(folder / "demo.db", actor="tester")
    try:
        dossier = gather_dossier(store, OPTIONS)
    finally:
        store.close()
    path = folder / "dossier.pdf"
    count = write_dossier_pdf(dossier, path)
    return Built(dossier, path, read_pages(path), count)


def section_pages(b: Built) -> list[int]:
    """0-based index of the page each heading of HEADINGS starts (the first text of its page:
    the running header and footer are drawn last)."""
    found, start = [], 2
    for h in HEADINGS:
        i = next(i for i in range(start, len(b.pages)) if b.pages[i].startswith(h + " "))
        found.append(i)
        start = i
    return found


def section_text(b: Built, n: int) -> str:
    starts = section_pages(b)
    end = starts[n + 1] if n + 1 < len(starts) else len(b.pages)
    return " ".join(b.pages[starts[n]:end])


def test_page_count_and_atomic_write(built: Built) -> None:
    assert built.count == len(built.pages) > 20
    assert not [p for p in built.path.parent.iterdir() if p.name.endswith(".part")]


def test_cover(built: Built) -> None:
    cover = built.pages[0]
    d = built.dossier
    for text in ("Northwind Lending", "AI governance audit dossier", "Consumer lending <AI> & co",
                 "2026-01-01 to 2026-11-30", "CONFIDENTIAL", "Prepared by", "Reviewed by",
                 "Approved by", "A. Analyst", "C. Approver", "Signature", "Date",
                 f"#{d.audit_head_seq} {d.audit_head[:16]}", d.generated_at[:10]):
        assert text in cover, text


def test_headings_in_order_and_each_on_a_new_page(built: Built) -> None:
    starts = section_pages(built)
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)


def test_contents_lists_each_heading_with_its_page(built: Built) -> None:
    toc = built.pages[1]
    assert toc.startswith("Contents ")
    for h in HEADINGS:
        m = re.search(re.escape(h) + r"[ .]*?(\d+)(?!\d)", toc)
        assert m, f"{h} not in the contents"
        page = int(m.group(1))
        assert h in built.pages[page - 1], f"{h}: page {page} does not contain it"
    for c in built.dossier.controls:  # sub-sections too
        m = re.search(re.escape(f"{c.id} {c.name}") + r"[ .]*?(\d+)(?!\d)", toc)
        assert m and f"{c.id} {c.name}" in built.pages[int(m.group(1)) - 1]


def test_matrix_lists_mapping_rows(built: Built) -> None:
    text = bare(section_text(built, 3))
    mapped = [r for r in built.dossier.matrix.rows if r.control_id]
    assert mapped
    step = max(1, len(mapped) // 10)
    for r in mapped[::step][:10]:
        assert bare(r.clause_ref) in text, r.clause_ref
        assert bare(f"{r.control_id}{r.control_name}") in text
    gaps = [r for r in built.dossier.matrix.rows if r.gap]
    assert "Gaps per provision" in section_text(built, 3) and gaps
    assert bare(gaps[0].clause_ref) in text


def test_mapping_tables_list_every_regulation(built: Built) -> None:
    text = section_text(built, 2)
    for code, version, _ in built.dossier.matrix.regulations:
        assert f"{code} ({version})" in text


def test_evidence_index_lists_every_id_and_digest(built: Built) -> None:
    text = section_text(built, 4)
    squashed = bare(text)
    assert built.dossier.evidence
    for e in built.dossier.evidence:
        assert re.search(rf"\b{re.escape(e.id)}\b", text), e.id
        assert e.sha256 in squashed, e.sha256
    assert "INTEGRITY FAILURE (" not in text


def test_audit_statement(built: Built) -> None:
    text = section_text(built, 9)
    assert built.dossier.audit_head in bare(text)
    assert "crosswalk verify --expect-head" in text
    assert "Verified intact" in text


def test_every_section_has_its_content(built: Built) -> None:
    d = built.dossier
    assert all(c.id in section_text(built, 1) for c in d.controls)
    assert all(s["id"] in section_text(built, 5) for s in d.systems)
    risks = section_text(built, 6)
    assert all(r["id"] in risks for r in d.risks)
    assert "Inherent risk heat map" in risks and "Residual risk heat map" in risks
    assert all(p["title"] in section_text(built, 7) for p in d.playbooks)
    exercises = section_text(built, 8)
    assert d.exercises and "EXERCISE — EXERCISE — EXERCISE" in exercises
    assert "Improvement plan" in exercises
    assert "equal-to" in section_text(built, 10)


def test_classification_on_every_page(built: Built) -> None:
    for n, text in enumerate(built.pages, start=1):
        assert text.count("CONFIDENTIAL") >= 2, n  # header and footer
        assert f"Page {n} of {built.count}" in text


def test_no_page_is_blank(built: Built) -> None:
    pdf = pdfium.PdfDocument(str(built.path))
    try:
        for n, page in enumerate(pdf, start=1):
            image = page.render(scale=0.5, grayscale=True).to_pil()
            w, h = image.size
            band = int(h * 0.085)  # the running header and footer
            body = image.crop((0, band, w, h - band))
            dark = sum(body.histogram()[:200])  # grey levels below 200
            assert dark > 200, f"page {n} is blank"
            page.close()
    finally:
        pdf.close()


def test_same_dossier_gives_identical_bytes(built: Built, tmp_path: Path) -> None:
    store = create_demo(tmp_path / "demo.db", actor="tester")
    try:
        first = gather_dossier(store, OPTIONS)
        second = gather_dossier(store, OPTIONS)
    finally:
        store.close()
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_dossier_pdf(first, a)
    write_dossier_pdf(second, b)
    assert a.read_bytes() == b.read_bytes()
    assert b"/CreationDate (D:" in a.read_bytes()


def test_deleted_evidence_file_is_an_integrity_failure(tmp_path: Path) -> None:
    store = create_demo(tmp_path / "demo.db", actor="tester")
    try:
        before = gather_dossier(store, OPTIONS)
        assert before.integrity_failures == []
        victim = before.evidence[0]
        blobs_of(store).path(victim.sha256).unlink()
        dossier = gather_dossier(store, OPTIONS)
    finally:
        store.close()
    assert dossier.integrity_failures
    assert any(victim.id in f for f in dossier.integrity_failures)
    path = tmp_path / "dossier.pdf"
    write_dossier_pdf(dossier, path)
    text = " ".join(read_pages(path))
    assert "INTEGRITY FAILURE (missing)" in text
    assert "INTEGRITY FAILURE" in read_pages(path)[2]  # the executive summary says so too


def test_failed_write_leaves_nothing(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    broken = Dossier(**{**{f: getattr(built.dossier, f) for f in built.dossier.__slots__},
                        "controls": None})
    with pytest.raises(TypeError):
        write_dossier_pdf(broken, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]
