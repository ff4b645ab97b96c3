"""Importing an OSCAL mapping collection: resolve its refs against the workspace, plan, and
commit the new mappings in one audited transaction.

- **Which regulation**: ``--code``/``--version`` when given; else the Crosswalk props of a file
  we exported; else the one workspace code named in the collection's title or source
  resource (title, href); else the user is asked for ``--code``. Latest version by default.
- **Sources** resolve to clauses of that version by, in order: the OSCAL id we export
  (``art_32.1.b``, or the id an imported OSCAL catalog gave the clause), the ref itself
  (``Art. 32(1)(b)``), the ref as a person types it (``article 32 (1)(b)``, `normalise_ref`),
  and the loose spelling (``ART-32-1-B``, ``art.32.1.b``; `loose_key`) when that names exactly
  one clause. Statement ids (``…_smt``) resolve to their clause. **Targets** resolve to the
  twelve controls (``gov-1``, ``GOV-1``, ``gov_1``, ``GOV1``). Anything but an exact id is
  reported as a normalisation. A ref that resolves to nothing (or to several clauses) fails
  the whole import, listing every such ref; nothing is written.
- **Duplicates**: a (clause, control) pair the workspace already maps is skipped and listed in
  a warning — re-importing a file, or one that overlaps the analyst's own work, then adds only
  what is new and never overwrites a reviewed mapping. Pairs listed twice in the file collapse
  when they agree and fail the import when they disagree.
- **Review**: imported mappings start as drafts (an approval given elsewhere is not one given
  here); the author is the file's (Crosswalk's ``author`` prop) or ``OSCAL import (FILE)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select

from app.domain.controls import normalise_control_id
from app.domain.oscal_ids import control_oscal_id, loose_key
from app.domain.refs import normalise_ref
from app.errors import DetailsNeeded, ImportFailed, InvalidInput
from app.exporters.oscal_regulation import regulation_ids
from app.importers.mapping_file import MappingSpec
from app.importers.oscal_mapping import MappingCollectionDoc, parse_mapping_collection
from app.importers.source import read_bytes, read_head, sniff_format
from app.services.oscal_export import regulation_view
from app.services.regulations import get_regulation, insert_mappings, list_regulations
from app.store import Store
from app.store.models import Clause, Mapping

FORMAT = "oscal-mapping"
MAX_MAPPING_BYTES = 50 * 1024 * 1024  # ~100,000 maps; refuse bigger files before reading


def is_mapping_collection(path: Path, fmt: str | None) -> bool:
    """Whether `crosswalk import` should treat `path` as a mapping collection."""
    if fmt is not None:
        return fmt == FORMAT
    return sniff_format(path, read_head(path)) == FORMAT


@dataclass(slots=True)
class MappingImportPlan:
    """What importing a mapping collection will do; `ImportPlan`'s reporting interface."""

    doc: MappingCollectionDoc
    code: str
    version_label: str
    regulation_id: int
    create: list[tuple[str, MappingSpec]]  # (author, spec)
    skipped: list[str] = field(default_factory=list)  # "Art. 5(1)(a) → GOV-3", already mapped
    warnings: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return (f"{self.doc.source_name} is an OSCAL mapping collection for {self.code} "
                f"{self.version_label}: {len(self.create)} new mappings")

    def details(self, shown: int = 20, listed: str = "see --json") -> list[str]:
        lines = [f"maps read: {len(self.doc.records)}; mappings to create: {len(self.create)} "
                 f"(as drafts); already in the workspace, skipped: {len(self.skipped)}"]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "source_name": self.doc.source_name, "sha256": self.doc.sha256,
            "title": self.doc.title, "code": self.code, "version_label": self.version_label,
            "maps": len(self.doc.records), "create": [
                {"ref": s.ref, "full_ref": f"{self.code} {s.ref}", "control_id": s.control_id,
                 "relationship": s.relationship, "matching": s.matching,
                 "strength": s.strength, "coverage": s.coverage, "rationale": s.rationale,
                 "author": author, "review_status": "draft"} for author, s in self.create],
            "skipped": self.skipped, "warnings": self.warnings,
        }


def read_mapping_collection(path: Path) -> MappingCollectionDoc:
    data = read_bytes(path, MAX_MAPPING_BYTES)
    return parse_mapping_collection(data, path, hashlib.sha256(data).hexdigest())


def plan_mapping_import(store: Store, doc: MappingCollectionDoc, *, code: str | None = None,
                        version: str | None = None) -> MappingImportPlan:
    """Resolve every ref and decide what to create; reads the workspace, writes nothing."""
    try:
        code, version, warnings = _which_regulation(store, doc, code, version)
    except DetailsNeeded:
        if doc.problems:  # the file is broken whichever regulation it maps
            raise ImportFailed(f"{doc.source_name}: nothing imported; "
                               f"{_problems(doc.problems)}") from None
        raise
    reg = get_regulation(store, code, version)
    assert reg.id is not None
    view = regulation_view(store, reg)
    resolver = _Resolver(regulation_ids(view))
    unresolved: dict[str, str] = {}
    unknown_controls: list[str] = []
    pairs: dict[tuple[str, str], tuple[str, MappingSpec, str]] = {}
    conflicts: list[str] = []
    for r in doc.records:
        ref = resolver.clause(r.source)
        if ref is None:
            unresolved.setdefault(r.source, resolver.why(r.source))
        control = _control(r.target, resolver)
        if control is None and r.target not in unknown_controls:
            unknown_controls.append(r.target)
        if ref is None or control is None:
            continue
        spec = MappingSpec(ref, control, r.relationship, r.matching, r.strength, r.coverage,
                           r.rationale)
        author = r.author or f"OSCAL import ({doc.source_name})"
        before = pairs.get((ref, control))
        if before is not None and before[1] != spec:
            conflicts.append(f"{ref} → {control} ({before[2]} and {r.where})")
        elif before is None:
            pairs[(ref, control)] = (author, spec, r.where)
    for side, text in doc.stray:  # refs of maps left out for a structural problem
        if side == "sources" and resolver.clause(text) is None:
            unresolved.setdefault(text, resolver.why(text))
        elif (side == "targets" and _control(text, resolver) is None
              and text not in unknown_controls):
            unknown_controls.append(text)
    if doc.problems or unresolved or unknown_controls:
        parts = [_problems(doc.problems)] if doc.problems else []
        if unresolved:
            parts.append(f"{len(unresolved)} source ref(s) name no clause of {reg.code} "
                         f"{reg.version_label}: " + ", ".join(
                             f"{k!r}{v}" for k, v in unresolved.items()))
        if unknown_controls:
            parts.append(f"{len(unknown_controls)} target ref(s) name none of the twelve "
                         "controls: " + ", ".join(repr(t) for t in unknown_controls))
        raise ImportFailed(f"{doc.source_name}: nothing imported; " + "; ".join(parts))
    if conflicts:
        raise ImportFailed(f"{doc.source_name}: nothing imported; {len(conflicts)} pair(s) are "
                           "mapped twice with different attributes: " + "; ".join(conflicts))
    with store.read() as s:
        existing = set(s.exec(select(Clause.ref, Mapping.control_id).join(
            Mapping, Mapping.clause_id == Clause.id).where(
            Clause.regulation_id == reg.id)).all())
    create: list[tuple[str, MappingSpec]] = []
    skipped: list[str] = []
    for (ref, control), (author, spec, _) in pairs.items():
        if (ref, control) in existing:
            skipped.append(f"{ref} → {control}")
        else:
            create.append((author, spec))
    warnings += doc.warnings + resolver.warnings()
    if len(pairs) < len(doc.records):
        warnings.append(f"{len(doc.records) - len(pairs)} map(s) repeat a pair already listed "
                        "with the same attributes: kept once")
    if skipped:
        warnings.append(f"{len(skipped)} mapping(s) already in the workspace, skipped (the "
                        f"workspace's are kept): {', '.join(skipped)}")
    if any(r.review_status in ("reviewed", "approved") for r in doc.records):
        warnings.append("the file marks some maps reviewed or approved; imported mappings "
                        "start as drafts to be reviewed in this workspace")
    return MappingImportPlan(doc, reg.code, reg.version_label, reg.id, create, skipped,
                             warnings)


def _problems(problems: list[str]) -> str:
    return f"{len(problems)} problem(s) in the file: " + "; ".join(problems)


def commit_mapping_import(store: Store, plan: MappingImportPlan) -> int:
    """Create the plan's mappings in one audited transaction; returns how many. The plan is
    made again first, so a workspace changed since (a mapping added meanwhile) is honoured."""
    fresh = plan_mapping_import(store, plan.doc, code=plan.code, version=plan.version_label)
    if fresh.regulation_id != plan.regulation_id:
        raise InvalidInput(f"the workspace changed since {plan.doc.source_name} was read; "
                           "review the import again")
    if not fresh.create:
        return 0
    groups: dict[str, list[MappingSpec]] = {}
    for author, spec in fresh.create:
        groups.setdefault(author, []).append(spec)
    with store.write() as tx:
        return sum(insert_mappings(tx, fresh.regulation_id, specs, author=author,
                                   review_status="draft") for author, specs in groups.items())


# ---------------------------------------------------------------- resolving refs

def _which_regulation(store: Store, doc: MappingCollectionDoc, code: str | None,
                      version: str | None) -> tuple[str, str | None, list[str]]:
    if code:
        return code.strip().upper(), version, []
    if doc.code:
        return doc.code, version or doc.version, []
    codes = sorted({r.code for r in list_regulations(store)}, key=len, reverse=True)
    named = set()
    for hint in doc.hints:
        words = loose_key(hint).split(".")
        text = "." + ".".join(words) + "."
        for c in codes:
            if f".{loose_key(c)}." in text:
                named.add(c)
                break
    if len(named) == 1:
        found = named.pop()
        return found, version, [f"the file does not say which regulation it maps; {found} "
                                "is the one its title or source resource names"]
    raise DetailsNeeded(f"{doc.source_name}: cannot tell which regulation of the workspace "
                        "the collection maps; give --code (and --version)", ("code",))


def _control(text: str, resolver: _Resolver) -> str | None:
    try:
        found = normalise_control_id(text)
    except ValueError:
        return None
    if text not in (found, control_oscal_id(found)):
        resolver.note("target", text, found)
    return found


class _Resolver:
    """Clause refs of one regulation version from the ids other tools write."""

    def __init__(self, ids: dict[str, str]) -> None:
        self.by_id = {oid: ref for ref, oid in ids.items()}
        self.by_id_ci: dict[str, set[str]] = {}
        self.refs = set(ids)
        self.loose: dict[str, set[str]] = {}
        for ref, oid in ids.items():
            self.by_id_ci.setdefault(oid.lower(), set()).add(ref)
            for key in {loose_key(ref), loose_key(oid)}:
                self.loose.setdefault(key, set()).add(ref)
        self.notes: dict[str, list[str]] = {}
        self.cache: dict[str, str | None] = {}

    def note(self, side: str, before: str, after: str) -> None:
        self.notes.setdefault(side, []).append(f"{before!r} → {after}")

    def warnings(self) -> list[str]:
        return [f"{side} refs normalised ({len(items)}): {'; '.join(items)}"
                for side, items in self.notes.items()]

    def clause(self, text: str) -> str | None:
        if text not in self.cache:
            found = self._find(text)
            if found is None and text.lower().endswith(("_smt", "_stmt")):
                found = self._find(text.rsplit("_", 1)[0])
            self.cache[text] = found
            if found is not None and text not in self.by_id:
                self.note("source", text, found)
        return self.cache[text]

    def _find(self, text: str) -> str | None:
        if text in self.by_id:
            return self.by_id[text]
        if text in self.refs:
            return text
        for candidates in (self.by_id_ci.get(text.lower()), self._typed(text),
                           self.loose.get(loose_key(text))):
            if candidates and len(candidates) == 1:
                return next(iter(candidates))
        return None

    def _typed(self, text: str) -> set[str] | None:
        try:
            ref = normalise_ref(text)
        except ValueError:
            return None
        return {ref} if ref in self.refs else None

    def why(self, text: str) -> str:
        candidates = self.loose.get(loose_key(text))
        if candidates and len(candidates) > 1:
            return f" (ambiguous: {' or '.join(sorted(candidates))})"
        return ""
