"""Importing a regulation from a file: detect the format, parse it (pure importers), plan what
it will do to the workspace, and commit the plan in one audited transaction.

What an import does depends on what the workspace already has:

- **new** — no regulation with this code: it is added;
- **version** — the code exists with other versions: it is added beside them, diffed against
  the latest, and the latest's mappings are carried over by ref (those on changed clauses are
  flagged for review);
- **fill** — the same code and version exists (e.g. the bundled GDPR, then its official Formex
  XML): the text of the existing clauses is filled in by ref, and every ref the document has
  but the workspace lacks is reported as unplaced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlmodel import col, select

from app.domain.clauses import ClauseNode, RegulationDoc, text_hash
from app.errors import DetailsNeeded, ImportFailed, InvalidInput, NotFound
from app.importers.catalog import check_tree
from app.importers.source import read_bytes, read_head, sniff_format
from app.services.regulations import get_regulation, insert_mappings, insert_regulation
from app.services.versions import VersionDiff, diff_against
from app.store import Store, Tx
from app.store.models import Clause, Mapping, Regulation

FORMATS = ("catalog", "csv", "formex", "eurlex-html", "oscal-json", "oscal-xml",
           "ciso-assistant")
Mode = Literal["new", "version", "fill"]


def read_document(path: Path, *, fmt: str | None = None, code: str | None = None,
                  title: str | None = None, version: str | None = None,
                  layout: str | None = None,
                  on_page: Callable[[int, int], None] | None = None) -> RegulationDoc:
    """Parse `path` into a clause tree, detecting its format unless `fmt` is given. PDFs are
    read page by page (`on_page(done, pages)`; raise from it to stop) with their `layout`
    detected unless given."""
    fmt = fmt or sniff_format(path, read_head(path))
    if fmt == "pdf" or layout is not None:
        return _finish(_read_pdf(path, layout, on_page), path, _sha256(path), code, title,
                       version)
    if fmt == "oscal-mapping":
        raise ImportFailed(f"{path} is an OSCAL mapping collection, not a regulation: import "
                           "it with `crosswalk import FILE` on the command line")
    data = read_bytes(path)
    if fmt not in FORMATS:
        raise ImportFailed(
            f"cannot tell what kind of document {path} is; give --format (one of: "
            f"{', '.join(FORMATS)})" if fmt is None or fmt == "xml" else
            f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    doc = _parse(fmt, data, path, code=code, title=title, version=version)
    return _finish(doc, path, hashlib.sha256(data).hexdigest(), code, title, version)


def _finish(doc: RegulationDoc, path: Path, sha256: str, code: str | None, title: str | None,
            version: str | None) -> RegulationDoc:
    doc.source_name = path.name
    doc.source_sha256 = sha256
    check_tree(doc, path)  # every format: refs unique, so plan, dry run and commit agree
    return complete_document(doc, code=code, title=title, version=version)


def complete_document(doc: RegulationDoc, *, code: str | None = None, title: str | None = None,
                      version: str | None = None) -> RegulationDoc:
    """Give a document read from a file what the user said about it: its code, title or
    version. Raises `DetailsNeeded` (with the document) while it has no version."""
    doc.code = (code or doc.code or "").strip().upper()
    if title:
        doc.title = title.strip()
    if version:
        doc.version_label = version.strip()
    if not doc.version_label:
        raise DetailsNeeded(f"{doc.source_name}: the document does not say which version it "
                            "is; give --version", ("version",) if doc.code else ("code", "version"),
                            doc)
    return doc


MAX_PDF_BYTES = 1024 * 1024 * 1024  # PDFs are read page by page, never whole


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _read_pdf(path: Path, layout: str | None,
              on_page: Callable[[int, int], None] | None) -> RegulationDoc:
    from app.importers.pdf import parse_pdf

    size = path.stat().st_size
    if size > MAX_PDF_BYTES:
        raise ImportFailed(f"{path} is too large to import ({size / 1_048_576:,.0f} MB; the "
                           f"limit for PDFs is {MAX_PDF_BYTES / 1_048_576:,.0f} MB)")
    return parse_pdf(path, layout=layout, on_page=on_page)


def _parse(fmt: str, data: bytes, path: Path, *, code: str | None, title: str | None,
           version: str | None) -> RegulationDoc:
    if fmt == "catalog":
        from app.importers.catalog import parse_catalog

        return parse_catalog(data, path)
    if fmt == "formex":
        from app.importers.formex import parse_formex

        return parse_formex(data, path, code=code)
    if fmt == "eurlex-html":
        from app.importers.eurlex_html import parse_eurlex_html

        return parse_eurlex_html(data, path, code=code)
    if fmt == "csv":
        from app.importers.csv_table import parse_csv

        if not code or not version:
            raise DetailsNeeded(f"{path}: a CSV file does not say which regulation or version "
                                "it is; give --code and --version (and --title)",
                                ("code", "version"))
        return parse_csv(data, path, code=code, title=title or code, version=version)
    if fmt == "oscal-json":
        from app.importers.oscal_catalog import parse_oscal_json

        return parse_oscal_json(data, path, code=code)
    if fmt == "oscal-xml":
        from app.importers.oscal_catalog import parse_oscal_xml

        return parse_oscal_xml(data, path, code=code)
    from app.importers.ciso_assistant import parse_ciso_library

    return parse_ciso_library(data, path, code=code)


@dataclass(slots=True)
class FillReport:
    """What filling in the official text will do."""

    placed: int = 0  # clauses of the workspace that get text
    changed: int = 0  # of those, clauses whose text was already there and differs
    unplaced: list[str] = field(default_factory=list)  # refs in the document, not in the workspace
    folded: int = 0  # sub-clauses the workspace lacks, folded into the clause above them
    without_text: int = 0  # clauses of the workspace the document gives no text for
    missing: list[str] = field(default_factory=list)  # their refs


@dataclass(slots=True)
class ImportPlan:
    doc: RegulationDoc
    mode: Mode
    target_id: int | None = None  # fill: the version filled; version: the latest, diffed
    diff: VersionDiff | None = None
    fill: FillReport | None = None

    @property
    def headline(self) -> str:
        doc = self.doc
        verb = {"new": "a new regulation", "version": "a new version of",
                "fill": "the text of"}[self.mode]
        return (f"{doc.source_name} is {verb} {doc.code} {doc.version_label} "
                f"({doc.source_format})")

    def details(self, shown: int = 20, listed: str = "see --json") -> list[str]:
        """What the plan will do, a line each, for people: the CLI lists `shown` of the
        document's refs the workspace lacks; the TUI (shown=0) lists them all below, and says
        where with `listed`."""
        kinds = ", ".join(f"{n:,} {k}" for k, n in self.doc.count_by_kind().items())
        lines = [f"clauses: {kinds}"]
        lines += [f"warning: {w}" for w in self.doc.warnings]
        if self.diff is not None:
            lines.append(f"against {self.diff.old_version}: {self.diff.summary}")
        if self.doc.pages:
            lines.append(f"pages: {self.doc.pages}; text no clause took: "
                         f"{len(self.doc.unplaced)} lines ({listed})")
        if self.fill is not None:
            f = self.fill
            lines.append(f"text for {f.placed:,} clauses ({f.changed} replacing different "
                         f"text); {f.without_text:,} clauses of the workspace get no text")
            lines.append(f"{len(f.unplaced):,} refs of the document are not in the workspace "
                         "(reported, not imported)")
            if f.folded:
                lines.append(f"{f.folded:,} sub-clauses the workspace does not list are kept "
                             "in the text of the clause above them")
            lines += [f"  not in the workspace: {ref}" for ref in f.unplaced[:shown]]
            if len(f.unplaced) > shown > 0:
                lines.append(f"  … and {len(f.unplaced) - shown} more ({listed})")
        return lines

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.doc.code, "version_label": self.doc.version_label,
            "title": self.doc.title, "mode": self.mode, "source_name": self.doc.source_name,
            "sha256": self.doc.source_sha256, "format": self.doc.source_format,
            "clauses_by_kind": self.doc.count_by_kind(), "warnings": list(self.doc.warnings),
            "pages": self.doc.pages,
            "unplaced_text": [{"page": page, "text": text} for page, text in self.doc.unplaced],
        }
        if self.diff is not None:
            out["diff"] = self.diff.as_dict()
        if self.fill is not None:
            out["fill"] = {"placed": self.fill.placed, "changed": self.fill.changed,
                           "unplaced": self.fill.unplaced, "folded": self.fill.folded,
                           "without_text": self.fill.without_text,
                           "missing": self.fill.missing}
        return out


def _identify(store: Store, doc: RegulationDoc) -> str:
    """The code: given, or that of an existing regulation with the same CELEX/ELI/CFR id."""
    if doc.code:
        return doc.code
    ids = set(doc.identifiers.items())
    with store.read() as s:
        for reg in s.exec(select(Regulation)).all():
            if ids & set(json.loads(reg.identifiers or "{}").items()):
                return reg.code
    raise DetailsNeeded(f"{doc.source_name}: the workspace has no regulation with this "
                        "document's identifiers; give --code to import it as a new one",
                        ("code",), doc)


def plan_import(store: Store, doc: RegulationDoc) -> ImportPlan:
    """Decide what importing `doc` will do; reads the workspace, writes nothing."""
    doc.code = _identify(store, doc)
    try:
        latest = get_regulation(store, doc.code)
    except NotFound:
        return ImportPlan(doc, "new")
    assert latest.id is not None
    try:
        same = get_regulation(store, doc.code, doc.version_label)
    except NotFound:
        return ImportPlan(doc, "version", latest.id, diff=diff_against(store, latest, doc))
    assert same.id is not None
    return ImportPlan(doc, "fill", same.id, fill=_plan_fill(store, same.id, doc))


def fill_texts(doc: RegulationDoc, refs: set[str]) -> tuple[dict[str, str], list[str],
                                                              list[str]]:
    """The text each workspace clause (`refs`) gets from `doc`, by ref. A sub-clause the
    workspace lacks ("§ 164.306(a)" under the bundled "§ 164.306") is folded into the text of
    the nearest clause above it of the same provision, with its label, so a catalogue that
    stops at sections still gets all their text. Returns (texts, folded refs, unplaced refs):
    unplaced are the document's clauses that found no place at all."""
    texts: dict[str, list[str]] = {}
    folded: list[str] = []
    unplaced: list[str] = []

    def visit(node: ClauseNode, target: str | None) -> None:
        if node.ref in refs:
            texts[node.ref] = [node.text] if node.text else []
            target = node.ref
        elif target is not None and node.ref[len(target):len(target) + 1] in ("(", " ") \
                and node.ref.startswith(target):
            label = node.ref[len(target):].strip()
            title = f"{node.title}." if node.title and node.title[-1] not in ".:;" \
                else node.title
            if title or node.text:  # a bare "(a)" that only holds sub-clauses adds nothing
                texts[target].append(" ".join(p for p in (label, title, node.text) if p))
            folded.append(node.ref)
        else:
            if node.text or node.kind not in ("chapter", "section"):
                unplaced.append(node.ref)
            target = None
        for child in node.children:
            visit(child, target)

    for top in doc.clauses:
        visit(top, None)
    return {ref: "\n".join(parts) for ref, parts in texts.items() if parts}, folded, unplaced


def _plan_fill(store: Store, regulation_id: int, doc: RegulationDoc) -> FillReport:
    with store.read() as s:
        existing = {c.ref: c.text for c in s.exec(
            select(Clause).where(Clause.regulation_id == regulation_id)).all()}
    texts, folded, unplaced = fill_texts(doc, set(existing))
    missing = [ref for ref, text in existing.items() if ref not in texts and not text]
    return FillReport(
        placed=len(texts),
        changed=sum(1 for ref, text in texts.items() if existing[ref] and existing[ref] != text),
        unplaced=unplaced, folded=len(folded), without_text=len(missing), missing=missing)


def commit_import(store: Store, plan: ImportPlan,
                  on_progress: Callable[[str], None] | None = None) -> int:
    """Carry out the plan in one audited transaction; returns the regulation version's id.
    The plan is checked again first: if the workspace changed since (another import), the
    user is asked to look at the new plan rather than commit a stale one."""
    fresh = plan_import(store, plan.doc)
    if (fresh.mode, fresh.target_id) != (plan.mode, plan.target_id):
        raise InvalidInput(f"the workspace changed since {plan.doc.source_name} was read "
                           f"(it would now be a {fresh.mode}); review the import again")
    if plan.mode == "version" and plan.target_id is not None:
        inherit_catalogue_fields(store, plan.target_id, plan.doc)
    with store.write() as tx:
        if plan.mode == "fill":
            assert plan.target_id is not None
            _fill(tx, plan.target_id, plan.doc)
            return plan.target_id
        reg = insert_regulation(tx, plan.doc)
        assert reg.id is not None
        if plan.mode == "version" and plan.target_id is not None and plan.diff is not None:
            if on_progress:
                on_progress("carrying mappings over")
            carry_mappings(tx, plan.target_id, reg.id, plan.diff)
        return reg.id


def inherit_catalogue_fields(store: Store, regulation_id: int, doc: RegulationDoc) -> None:
    """A new version keeps, by ref, what the previous one knew and the document does not say:
    our summaries, HIPAA-style attributes, and a clause marked not assessable."""
    with store.read() as s:
        old = {c.ref: c for c in s.exec(
            select(Clause).where(Clause.regulation_id == regulation_id)).all()}
    for _, node in doc.walk():
        prev = old.get(node.ref)
        if prev is None:
            continue
        node.summary = node.summary or prev.summary
        node.attributes = json.loads(prev.attributes or "{}") | node.attributes
        if not prev.assessable:
            node.assessable = False


def _fill(tx: Tx, regulation_id: int, doc: RegulationDoc) -> None:
    rows = {c.ref: c for c in tx.session.exec(
        select(Clause).where(Clause.regulation_id == regulation_id)).all()}
    texts, _, _ = fill_texts(doc, set(rows))
    titles = {node.ref: node.title for _, node in doc.walk() if node.ref in texts}
    updated: list[tuple[int, dict[str, Any]]] = []
    for ref, text in texts.items():
        row = rows[ref]
        if row.text == text:
            continue
        change = {"text": {"from": row.text_hash or None, "to": text_hash(text)},
                  "source_sha256": doc.source_sha256}
        row.text, row.text_hash = text, text_hash(text)
        if titles[ref] and not row.title:
            row.title = titles[ref]
        tx.session.add(row)
        assert row.id is not None
        updated.append((row.id, change))
    tx.record_many("clause.update", "clause", updated)
    _flag_mappings(tx, [cid for cid, change in updated if change["text"]["from"]],
                   f"clause text changed when {doc.source_name} was imported: review this "
                   "mapping")
    reg = tx.session.get(Regulation, regulation_id)
    assert reg is not None
    attribution = f"{reg.attribution.split(_TEXT_FROM)[0]}{_TEXT_FROM}{doc.source_name}".lstrip(
        "; ")
    change = {"source_name": doc.source_name, "source_sha256": doc.source_sha256,
              "source_format": doc.source_format, "source_pages": doc.pages,
              "imported_at": tx.now, "attribution": attribution}
    for field_name, value in change.items():
        setattr(reg, field_name, value)
    tx.session.add(reg)
    tx.record("regulation.update", "regulation", regulation_id,
              change | {"texts_filled": len(updated)})


_TEXT_FROM = "; text from the official document "


def _flag_mappings(tx: Tx, clause_ids: list[int], reason: str) -> None:
    """Put the mappings of clauses whose text changed back to draft, with a flag (audited)."""
    if not clause_ids:
        return
    rows = tx.session.exec(select(Mapping).where(col(Mapping.clause_id).in_(clause_ids))).all()
    for m in rows:
        m.flag, m.review_status, m.updated_at = reason, "draft", tx.now
        tx.session.add(m)
    tx.record_many("mapping.update", "mapping",
                   [(m.id, {"flag": reason, "review_status": "draft"})  # type: ignore[misc]
                    for m in rows])


def carry_mappings(tx: Tx, from_id: int, to_id: int, diff: VersionDiff) -> int:
    """Copy the mappings of version `from_id` to `to_id` by ref. Those on changed clauses are
    flagged for review; those on removed clauses stay with the old version only."""
    from app.importers.mapping_file import MappingSpec

    changed = {c.ref: f"{c.what} changed" for c in diff.changed}
    changed |= dict.fromkeys(diff.uncompared,
                             "text could not be compared (the earlier version has none)")
    rows = tx.session.exec(select(Clause.ref, Mapping).join(
        Mapping, Mapping.clause_id == Clause.id).where(Clause.regulation_id == from_id)).all()
    removed = set(diff.removed)
    groups: dict[tuple[str, str], list[MappingSpec]] = {}
    flags: dict[str, str] = {}
    for ref, m in rows:
        if ref in removed:
            continue
        spec = MappingSpec(ref, m.control_id, m.relationship, m.matching, m.strength,
                           m.coverage, m.rationale)
        status = m.review_status
        if ref in changed:  # a changed clause puts its mappings back to draft, flagged
            flags[ref] = f"version {diff.new_version}: {changed[ref]}; review this mapping"
            status = "draft"
        groups.setdefault((m.author, status), []).append(spec)
    return sum(insert_mappings(tx, to_id, specs, author=author, review_status=status,
                               flags=flags) for (author, status), specs in groups.items())


def check_code(code: str) -> str:
    from app.domain.refs import validate_code

    try:
        return validate_code(code.strip().upper())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
