"""The evidence preview: `app.domain.preview.preview()` on real files of every kind (and on
hostile ones), the official GDPR PDF from the corpus, and the `EvidencePreview` widget driven
by Pilot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Markdown, Static

from app.domain.preview import MAX_COLUMNS, MAX_ROWS, Preview, preview, terminal_safe
from app.tui.widgets.evidence_preview import EvidencePreview
from tests import pdfgen

# --- kinds ---------------------------------------------------------------------------------


def test_markdown_by_media_type_and_by_suffix(tmp_path: Path) -> None:
    f = tmp_path / "policy.md"
    f.write_text("# Access policy\n\nSee *annex*.\n", encoding="utf-8")
    for media in ("text/markdown", "text/plain", "application/octet-stream", ""):
        p = preview(f, media, "policy.md")
        assert p.kind == "markdown", media
        assert p.text.startswith("# Access policy")
        assert not p.truncated
    # a specific media type wins over the suffix
    assert preview(f, "text/csv", "policy.md").kind == "csv"


def test_csv_with_header_and_ragged_rows(tmp_path: Path) -> None:
    f = tmp_path / "access-review.csv"
    f.write_text('user,role,approved\nana,admin,yes\nbo,"reader, ops"\ncy,auditor,no,late\n',
                 encoding="utf-8")
    p = preview(f, "text/csv", "access-review.csv")
    assert p.kind == "csv"
    assert p.rows[0] == ["user", "role", "approved", ""]  # padded to the widest row
    assert p.rows[2] == ["bo", "reader, ops", "", ""]
    assert p.rows[3] == ["cy", "auditor", "no", "late"]
    assert {len(r) for r in p.rows} == {4}
    assert p.note == "3 rows"  # below the header
    assert "reader, ops" in p.text


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    f = tmp_path / "models.tsv"
    f.write_text("model\tversion\tnote\nscorer\t2.1\ta, b\n", encoding="utf-8")
    for media in ("text/tab-separated-values", "text/plain", ""):
        p = preview(f, media, "models.tsv")
        assert p.kind == "csv"
        assert p.rows == [["model", "version", "note"], ["scorer", "2.1", "a, b"]]


def test_csv_is_capped_at_200_rows_and_20_columns(tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    f.write_text("\n".join(",".join(f"r{r}c{c}" for c in range(30)) for r in range(250)),
                 encoding="utf-8")
    p = preview(f, "text/csv", "big.csv")
    assert len(p.rows) == MAX_ROWS
    assert {len(r) for r in p.rows} == {MAX_COLUMNS}
    assert p.rows[-1][-1] == "r199c19"
    assert p.truncated
    assert p.note == "first 199 of 249 rows shown; first 20 of 30 columns shown"


def test_valid_json_is_pretty_printed(tmp_path: Path) -> None:
    f = tmp_path / "card.json"
    f.write_text('{"model":"scorer","metrics":{"auc":0.91},"tags":["a","é"]}', encoding="utf-8")
    p = preview(f, "application/json", "card.json")
    assert p.kind == "json"
    assert p.text == json.dumps(
        {"model": "scorer", "metrics": {"auc": 0.91}, "tags": ["a", "é"]},
        indent=2, ensure_ascii=False)
    assert p.note == ""
    assert preview(f, "application/vnd.oscal+json", "card").kind == "json"


def test_invalid_json_shows_the_raw_text_and_where_it_fails(tmp_path: Path) -> None:
    f = tmp_path / "broken.json"
    raw = '{\n  "model": "scorer",\n  "auc": 0.91,,\n}\n'
    f.write_text(raw, encoding="utf-8")
    p = preview(f, "", "broken.json")
    assert p.kind == "json"
    assert p.text == raw
    assert p.note.startswith("not valid JSON: ")
    assert p.note.endswith("line 3")


def test_text_kinds(tmp_path: Path) -> None:
    f = tmp_path / "settings.yaml"
    f.write_text("a: 1\r\nb: 2\r\n", encoding="utf-8")
    assert preview(f, "", "settings.yaml") == Preview("text", text="a: 1\nb: 2\n")
    g = tmp_path / "links"
    g.write_text("https://example.org/a\nhttps://example.org/b\n", encoding="utf-8")
    assert preview(g, "text/uri-list", "links").kind == "text"
    assert preview(g, "text/html", "links").kind == "text"
    assert preview(g, "application/octet-stream", "run.log").kind == "text"


def test_control_and_bidi_characters_are_escaped(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("ok\tfine\nRED \x1b[31malert\x1b[0m\ninvoice_\u202egnp.exe\u200f\x07\n",
                 encoding="utf-8")
    p = preview(f, "text/plain", "notes.txt")
    assert p.kind == "text"
    assert p.text == "ok\tfine\nRED \\x1b[31malert\\x1b[0m\ninvoice_\\u202egnp.exe\\u200f\\x07\n"
    assert "\x1b" not in p.text and "\u202e" not in p.text
    # the same in csv cells and in pretty-printed JSON
    c = tmp_path / "x.csv"
    c.write_text("name\n\u2066evil\u2069\n", encoding="utf-8")
    assert preview(c, "text/csv", "x.csv").rows[1] == ["\\u2066evil\\u2069"]
    j = tmp_path / "x.json"
    j.write_text(json.dumps({"k": "\u202e\u061c"}), encoding="utf-8")
    assert "\\u202e\\u061c" in preview(j, "application/json", "x.json").text
    assert terminal_safe("a\u00a0b é") == "a\u00a0b é"  # ordinary characters are kept


def test_binary_file_has_no_preview(tmp_path: Path) -> None:
    f = tmp_path / "dump.txt"
    f.write_bytes(b"looks like text\x00\x01\x02\xff" * 10)
    p = preview(f, "text/plain", "dump.txt")
    assert p.kind == "none"
    assert "binary" in p.note
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    p = preview(png, "image/png", "chart.png")
    assert p == Preview("none", note="no preview for image/png; export it to open it")


def test_a_file_larger_than_the_limit_is_truncated(tmp_path: Path) -> None:
    f = tmp_path / "big.log"
    f.write_text("é" * 3_000_000, encoding="utf-8")  # 6 MB of two-byte characters
    p = preview(f, "text/plain", "big.log", limit=64_001)
    assert p.truncated
    assert p.note == "first 64 KB of 6 MB shown"
    assert p.text == "é" * 32_000  # the character cut in half at the limit is left out
    j = tmp_path / "big.json"
    j.write_text(json.dumps(list(range(100_000))), encoding="utf-8")
    p = preview(j, "application/json", "big.json")
    assert p.kind == "json" and p.truncated
    assert p.note.startswith("first 64 KB of ")
    assert len(p.text) == 64_000


def test_a_missing_file(tmp_path: Path) -> None:
    p = preview(tmp_path / "gone.csv", "text/csv", "gone.csv")
    assert p == Preview("none", note="the stored file is missing; run `crosswalk verify`")


def test_an_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_bytes(b"")
    p = preview(f, "text/csv", "empty.csv")
    assert (p.kind, p.rows, p.note) == ("csv", [], "the file is empty")


# --- PDF -----------------------------------------------------------------------------------


def test_page_one_of_the_official_gdpr_pdf(corpus: Path) -> None:
    p = preview(corpus / "CELEX_32016R0679_EN_TXT.pdf", "application/pdf", "gdpr.pdf")
    assert p.kind == "pdf"
    assert p.note == "page 1 of 88"
    assert p.truncated
    assert "REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL" in p.text
    assert "of 27 April 2016" in p.text
    assert "Article 99" not in p.text  # the last article is on page 88, not shown


def test_a_pdf_is_found_by_its_magic(tmp_path: Path) -> None:
    f = pdfgen.write_pdf(tmp_path / "policy", [pdfgen.POLICY_PAGE])
    p = preview(f, "application/octet-stream", "policy")
    assert p.kind == "pdf"
    assert p.note == "page 1 of 1"
    assert not p.truncated
    assert "Acme Access Control Policy" in p.text


def test_garbage_and_encrypted_pdfs_have_no_preview(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.4 garbage")
    locked = pdfgen.write_encrypted_pdf(tmp_path / "locked.pdf", [pdfgen.POLICY_PAGE])
    for f in (garbage, locked):
        p = preview(f, "application/pdf", f.name)
        assert p.kind == "none", f
        assert p.note == "this PDF cannot be read (it is encrypted or damaged)"


def test_a_generated_pdf_shows_page_one_of_two(tmp_path: Path) -> None:
    f = pdfgen.write_pdf(tmp_path / "policy.pdf", [pdfgen.POLICY_PAGE, pdfgen.POLICY_PAGE])
    p = preview(f, "application/pdf", "policy.pdf")
    assert (p.kind, p.note, p.truncated) == ("pdf", "page 1 of 2", True)
    assert "Acme Access Control Policy" in p.text


def test_the_domain_module_does_not_import_textual() -> None:
    code = "import sys, app.domain.preview; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "False"


# --- the widget ----------------------------------------------------------------------------


class PreviewApp(App[None]):
    """Just the widget."""

    def compose(self) -> ComposeResult:
        yield EvidencePreview(id="preview")


async def test_the_widget_shows_markdown_then_a_table_then_nothing(tmp_path: Path) -> None:
    md = tmp_path / "policy.md"
    md.write_text("# Access policy\n\n[bold red]not markup[/] and a [link](https://x.test)\n",
                  encoding="utf-8")
    csv_file = tmp_path / "review.csv"
    csv_file.write_text("user,role\nana,admin\nbo\ncy,[b]x[/b],extra\n", encoding="utf-8")
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(EvidencePreview)
        assert str(widget.query_one(Static).render()) == "no file"

        widget.show(md, "text/markdown", "policy.md")
        await app.workers.wait_for_complete()
        await pilot.pause()
        markdown = widget.query_one(Markdown)
        assert markdown.source.startswith("# Access policy")
        assert widget.border_title == "policy.md"
        paragraph = markdown.query_one("MarkdownParagraph")
        assert str(paragraph.render()) == "[bold red]not markup[/] and a link"  # not markup

        widget.show(csv_file, "text/csv", "review.csv")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not widget.query(Markdown)
        table = widget.query_one(DataTable)
        assert table.row_count == 3
        assert [str(c.label) for c in table.columns.values()] == ["user", "role", "column 3"]
        assert str(table.get_row_at(2)[1]) == "[b]x[/b]"  # a cell is text, not markup
        assert widget.border_subtitle == "3 rows"  # 4 rows in the file, one is the header

        widget.show(None, "", "")
        await pilot.pause()
        assert not widget.query(DataTable)
        assert str(widget.query_one(Static).render()) == "no file"
        assert widget.border_subtitle is None


async def test_the_widget_keeps_only_the_latest_file(tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_text("first [red]file[/red]\n", encoding="utf-8")
    second = tmp_path / "b.json"
    second.write_text('{"b": [1, 2]}', encoding="utf-8")
    app = PreviewApp()
    async with app.run_test() as pilot:
        widget = app.query_one(EvidencePreview)
        widget.show(first, "text/plain", "a.txt")
        widget.show(second, "application/json", "b.json")
        widget.show(tmp_path / "gone.pdf", "application/pdf", "gone.pdf")
        # the first two were cancelled (wait_for_complete would raise WorkerCancelled)
        assert sum(not w.is_cancelled for w in app.workers) <= 1
        await app.workers.wait_for_complete([w for w in app.workers if not w.is_cancelled])
        await pilot.pause()
        assert widget.preview is not None and widget.preview.kind == "none"
        assert widget.border_subtitle == "the stored file is missing; run `crosswalk verify`"
        assert widget.border_title == "gone.pdf"

        widget.show(first, "text/plain", "a.txt")
        await app.workers.wait_for_complete()
        await pilot.pause()
        static = widget.query_one(".preview-text", Static)
        assert str(static.render()).rstrip() == "first [red]file[/red]"  # as it is, no markup
