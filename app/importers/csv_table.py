"""CSV tables of clauses → clause tree.

One row per clause, a header row first. Columns (any order, names case-insensitive):

- ``ref`` (required) — unique, whitespace collapsed;
- ``title``, ``text``, ``summary`` — optional;
- ``parent_ref`` — the ref of the enclosing clause, empty for a top-level clause; a parent may
  come before or after its children in the file;
- ``kind`` — optional, default ``clause``; lower-cased, spaces become hyphens;
- ``assessable`` — optional: yes/no, true/false, 1/0, y/n, x/empty (empty → yes).

Other columns are ignored with a warning; empty trailing fields and blank lines are ignored.
The delimiter (``,``, ``;`` or tab) is taken from the header row. UTF-8 (with or without BOM)
is expected; Windows-1252 is accepted with a warning; UTF-16 is refused. Children keep the
order of the rows; trees deeper than `MAX_DEPTH` are refused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.source import decode_text

COLUMNS = ("ref", "title", "text", "summary", "parent_ref", "kind", "assessable")
_KIND_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_TRUE = {"", "1", "y", "yes", "true", "x"}
_FALSE = {"0", "n", "no", "false"}
MAX_DEPTH = 50  # deeper trees are refused: no real document comes near, and trees are walked


@dataclass(slots=True)
class _Row:
    line: int
    node: ClauseNode
    parent_ref: str


def parse_csv(data: bytes, path: Path, *, code: str, title: str, version: str) -> RegulationDoc:
    """Read a clause table; the regulation's identity comes from the caller."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ImportFailed(f"{path}: line 1 looks like UTF-16 text (or binary data); save the "
                           "table as CSV in UTF-8")
    text, warning = decode_text(data, path, allow_cp1252=True)
    warnings = [warning] if warning else []
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportFailed(f"{path}: line {line} contains a NUL character; this is not a "
                           "text table")
    rows = _read_rows(text, path, warnings)
    return RegulationDoc(code=code, title=title, version_label=version, source_name=path.name,
                         source_sha256=hashlib.sha256(data).hexdigest(), source_format="csv",
                         clauses=_tree(rows, path), warnings=warnings)


def _read_rows(text: str, path: Path, warnings: list[str]) -> list[_Row]:
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFailed(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = _header(cells, path, start, warnings)
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise ImportFailed(
                f"{path}: line {start} has {len(cells)} fields but the header has "
                f"{len(header)}; quote fields that contain {_name(delimiter)}")
        row = dict(zip(header, cells, strict=False))
        rows.append(_row(row, path, start, seen))
    if header is None:
        raise ImportFailed(f"{path}: line 1: the file is empty; expected a header row "
                           f"({','.join(COLUMNS[:6])})")
    if not rows:
        raise ImportFailed(f"{path}: the table has a header but no clauses")
    return rows


def _header(cells: list[str], path: Path, line: int, warnings: list[str]) -> list[str]:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    if "ref" not in names:
        raise ImportFailed(f"{path}: line {line}: the header row has no 'ref' column (found: "
                           f"{', '.join(c.strip() for c in cells[:8])}); the first row must "
                           f"name the columns, e.g. {','.join(COLUMNS[:6])}")
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ImportFailed(f"{path}: line {line}: the header names column {dupes[0]!r} twice")
    extra = [c.strip() for c, n in zip(cells, names, strict=True) if n and n not in COLUMNS]
    if extra:
        warnings.append(f"{path.name}: ignored column{'s' if len(extra) > 1 else ''} "
                        f"{', '.join(repr(e) for e in extra)}")
    return [n if n in COLUMNS else "" for n in names]


def _row(row: dict[str, str], path: Path, line: int, seen: dict[str, int]) -> _Row:
    ref = " ".join(row.get("ref", "").split())
    if not ref:
        raise ImportFailed(f"{path}: line {line}: the ref is empty")
    if ref in seen:
        raise ImportFailed(f"{path}: line {line}: ref {ref!r} already appears on line "
                           f"{seen[ref]}")
    seen[ref] = line
    kind = "-".join(row.get("kind", "").strip().lower().split()) or "clause"
    if not _KIND_RE.match(kind) or len(kind) > 40:
        raise ImportFailed(f"{path}: line {line}: kind {kind!r} is not valid; use lower-case "
                           "letters, digits and hyphens, e.g. article or control")
    flag = row.get("assessable", "").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise ImportFailed(f"{path}: line {line}: assessable {flag!r} is not yes or no")
    node = ClauseNode(ref=ref, kind=kind, title=row.get("title", "").strip(),
                      text=row.get("text", "").strip(), summary=row.get("summary", "").strip(),
                      assessable=flag in _TRUE)
    return _Row(line, node, " ".join(row.get("parent_ref", "").split()))


def _tree(rows: list[_Row], path: Path) -> list[ClauseNode]:
    by_ref = {r.node.ref: r for r in rows}
    for r in rows:
        if r.parent_ref and r.parent_ref not in by_ref:
            raise ImportFailed(f"{path}: line {r.line}: parent_ref {r.parent_ref!r} is not the "
                               "ref of any row")
    _check_cycles(rows, by_ref, path)
    top: list[ClauseNode] = []
    for r in rows:
        if r.parent_ref:
            by_ref[r.parent_ref].node.children.append(r.node)
        else:
            top.append(r.node)
    return top


def _check_cycles(rows: list[_Row], by_ref: dict[str, _Row], path: Path) -> None:
    """Every row must reach a top-level row through its parents, within MAX_DEPTH levels."""
    depth: dict[str, int] = {}  # ref → depth (top level = 1), once known
    for r in rows:
        chain: list[_Row] = []
        on_chain: set[str] = set()
        cur: _Row | None = r
        while cur is not None and cur.node.ref not in depth:
            if cur.node.ref in on_chain:
                loop = [*(c.node.ref for c in chain[chain.index(cur):]), cur.node.ref]
                raise ImportFailed(f"{path}: line {cur.line}: parent_ref makes a cycle "
                                   f"({' → '.join(loop)})")
            chain.append(cur)
            on_chain.add(cur.node.ref)
            cur = by_ref[cur.parent_ref] if cur.parent_ref else None
        base = depth[cur.node.ref] if cur is not None else 0
        for offset, row in enumerate(reversed(chain), start=1):
            depth[row.node.ref] = base + offset
            if base + offset > MAX_DEPTH:
                raise ImportFailed(f"{path}: line {row.line}: clause {row.node.ref!r} is nested "
                                   f"more than {MAX_DEPTH} levels deep")


def _name(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]
