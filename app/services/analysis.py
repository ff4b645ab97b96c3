"""Mapping analyses over one snapshot: coverage, gaps, overlap, and the mapping checks.

They read the latest version of each regulation (or the version asked for) and never write.

**Obligations** (the denominator). An obligation is an *assessable* clause with no assessable
clause inside it: the paragraphs, points and implementation specifications an auditor tests,
not the articles, chapters and sections that group them. An article with three paragraphs
counts three, not four; an article with no paragraphs counts one. Recitals, definitions and
every other non-assessable clause never count, nor does a clause under them unless it is
itself assessable.

**Reaching mappings.** A mapping *reaches* an obligation when it sits on the obligation itself
or on a clause enclosing it (its paragraph, article, section, chapter…). A mapping on a part
of a clause does not reach the whole: mapping `Art. 32(1)(a)` does not cover `Art. 32(1)`.
`no-relationship` mappings never cover anything.

**Not applicable.** A clause the analyst declared not applicable (with a justification,
`services.applicability`) leaves the obligations, with every clause inside it: it is neither
covered nor a gap, and it does not count in the denominator.

**Coverage.** An obligation is *fully covered* when a reaching mapping has coverage `full`;
*partially covered* when mappings reach it but none is `full`; otherwise *not covered*. Per
control, the same rule with only that control's mappings: the control covers an obligation
fully, partially, or not at all. Percentages are of the obligations, to one decimal.

**Gaps.** The obligations not covered at all, grouped by their provision: the nearest
enclosing-or-self clause whose kind is article, section (a CFR `§`) or annex; a clause
outside any such provision is grouped under its top-level clause.

**Overlap.** For each control, the clauses of every regulation mapped to it directly (not the
clauses they enclose), `no-relationship` excepted: what one test of the control serves.

**Checks.** *Orphan controls* have no mapping other than `no-relationship`. A *conflict* is a
clause that says `no-relationship` to a control which also relates to it through an enclosing
clause or to a part of it (a clause carries at most one mapping per control, so "mapped both
ways" can only happen across the tree). *Stale drafts* are mappings still in review status
`draft` created more than N days before now (the workspace clock).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.services.snapshot import MappingRow, Snapshot

PROVISION_KINDS = frozenset({"article", "section", "annex"})
DEFAULT_STALE_DAYS = 30
_RANK = {"partial": 1, "full": 2}


def _pct(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def clause_ref(snap: Snapshot, clause_id: int) -> dict[str, Any]:
    """The short JSON shape of a clause in analysis results."""
    c = snap.clauses[clause_id]
    reg = snap.regulation[c.regulation_id]
    return {"id": c.id, "code": reg.code, "version_label": reg.version_label, "ref": c.ref,
            "full_ref": f"{reg.code} {c.ref}", "kind": c.kind, "title": c.title}


# ------------------------------------------------------------------------- the tree walk
@dataclass(slots=True)
class Reach:
    """For each obligation (document order), the best coverage per control reaching it, and
    each obligation's provision."""

    obligations: list[int]
    by_control: dict[int, dict[str, str]]  # obligation → control → "full" | "partial"
    provision: dict[int, int]  # obligation → its provision's clause id

    def state(self, clause_id: int) -> str | None:
        """"full", "partial" or None (not covered)."""
        levels = self.by_control[clause_id].values()
        return max(levels, key=_RANK.__getitem__) if levels else None


def reach(snap: Snapshot) -> Reach:
    """Walk every clause tree once, parents before children, carrying down what reaches."""
    own: dict[int, dict[str, str]] = {}
    for m in snap.mappings:
        if m.relates:
            d = own.setdefault(m.clause_id, {})
            if _RANK.get(m.coverage, 1) > _RANK.get(d.get(m.control_id, ""), 0):
                d[m.control_id] = "full" if m.coverage == "full" else "partial"
    has_assessable_child = {c.parent_id for c in snap.clauses.values() if c.assessable}
    inherited: dict[int, dict[str, str]] = {}
    provision: dict[int, int] = {}
    out_of_scope: set[int] = set()
    out = Reach([], {}, {})
    for c in snap.preorder():
        parent = c.parent_id if c.parent_id in snap.clauses else None
        if c.id in snap.not_applicable or parent in out_of_scope:
            out_of_scope.add(c.id)
        here = inherited[parent] if parent is not None else {}
        mine = own.get(c.id)
        if mine:
            here = dict(here)
            for control, level in mine.items():
                if _RANK[level] > _RANK.get(here.get(control, ""), 0):
                    here[control] = level
        inherited[c.id] = here
        provision[c.id] = (c.id if parent is None or c.kind in PROVISION_KINDS
                           else provision[parent])
        if c.assessable and c.id not in has_assessable_child and c.id not in out_of_scope:
            out.obligations.append(c.id)
            out.by_control[c.id] = here
            out.provision[c.id] = provision[c.id]
    return out


# ------------------------------------------------------------------------------ coverage
@dataclass(slots=True)
class ControlShare:
    control_id: str
    full: int = 0
    partial: int = 0


@dataclass(slots=True)
class RegulationCoverage:
    """Coverage of one regulation version's obligations, overall and per control."""

    code: str
    version_label: str
    title: str
    obligations: int = 0
    full: int = 0
    partial: int = 0
    none: int = 0
    controls: list[ControlShare] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        n = self.obligations
        d |= {"full_pct": _pct(self.full, n), "partial_pct": _pct(self.partial, n),
              "none_pct": _pct(self.none, n), "covered_pct": _pct(self.full + self.partial, n)}
        d["controls"] = [asdict(s) | {"full_pct": _pct(s.full, n),
                                      "partial_pct": _pct(s.partial, n)}
                         for s in self.controls]
        return d


@dataclass(slots=True)
class ControlCoverage:
    """What one control covers across the regulations read."""

    control_id: str
    name: str
    mappings: int = 0  # mappings other than no-relationship
    full: int = 0
    partial: int = 0
    obligations: int = 0  # of all regulations read: the denominator
    regulations: list[str] = field(default_factory=list)  # codes it has mappings in

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"full_pct": _pct(self.full, self.obligations),
                               "partial_pct": _pct(self.partial, self.obligations)}


@dataclass(slots=True)
class CoverageReport:
    regulations: list[RegulationCoverage]
    controls: list[ControlCoverage]

    def as_dict(self) -> dict[str, Any]:
        return {"regulations": [r.as_dict() for r in self.regulations],
                "controls": [c.as_dict() for c in self.controls]}


def coverage(snap: Snapshot) -> CoverageReport:
    """Coverage per regulation version in the snapshot and per control (see the module doc)."""
    r = reach(snap)
    regs = {g.id: RegulationCoverage(g.code, g.version_label, g.title,
                                     controls=[ControlShare(c.id) for c in snap.controls])
            for g in snap.regulations}
    share = {rid: {s.control_id: s for s in rc.controls} for rid, rc in regs.items()}
    ctl = {c.id: ControlCoverage(c.id, c.name) for c in snap.controls}
    for cid in r.obligations:
        rid = snap.clauses[cid].regulation_id
        rc = regs[rid]
        rc.obligations += 1
        state = r.state(cid)
        if state == "full":
            rc.full += 1
        elif state == "partial":
            rc.partial += 1
        else:
            rc.none += 1
        for control, level in r.by_control[cid].items():
            s = share[rid].get(control)
            if s is None:  # a control missing from the workspace: ignore, `verify` says so
                continue
            if level == "full":
                s.full += 1
                ctl[control].full += 1
            else:
                s.partial += 1
                ctl[control].partial += 1
    total = sum(rc.obligations for rc in regs.values())
    for m in snap.mappings:
        if m.relates and m.control_id in ctl:
            c = ctl[m.control_id]
            c.mappings += 1
            code = snap.regulation[snap.clauses[m.clause_id].regulation_id].code
            if code not in c.regulations:
                c.regulations.append(code)
    for c in ctl.values():
        c.obligations = total
        c.regulations.sort()
    return CoverageReport(list(regs.values()), list(ctl.values()))


# ---------------------------------------------------------------------------------- gaps
@dataclass(slots=True)
class GapGroup:
    """The uncovered obligations of one provision (article, section, annex…)."""

    provision: dict[str, Any]  # clause_ref() of the provision
    obligations: int  # all obligations of the provision
    gaps: list[dict[str, Any]]  # clause_ref() of each uncovered one

    def as_dict(self) -> dict[str, Any]:
        return self.provision | {"obligations": self.obligations, "count": len(self.gaps),
                                 "gaps": self.gaps}


def gaps(snap: Snapshot) -> list[GapGroup]:
    """Uncovered obligations grouped by provision, in document order."""
    r = reach(snap)
    groups: dict[int, GapGroup] = {}
    counts: dict[int, int] = {}
    for cid in r.obligations:
        p = r.provision[cid]
        counts[p] = counts.get(p, 0) + 1
        if not r.by_control[cid]:
            if p not in groups:
                groups[p] = GapGroup(clause_ref(snap, p), 0, [])
            groups[p].gaps.append(clause_ref(snap, cid))
    for p, g in groups.items():
        g.obligations = counts[p]
    return list(groups.values())


# ------------------------------------------------------------------------------- overlap
@dataclass(slots=True)
class ControlOverlap:
    """The clauses of each regulation one control is mapped to."""

    control_id: str
    name: str
    regulations: list[dict[str, Any]]  # {code, version_label, clauses: [...]}

    @property
    def clause_count(self) -> int:
        return sum(len(r["clauses"]) for r in self.regulations)

    def as_dict(self) -> dict[str, Any]:
        return {"control_id": self.control_id, "name": self.name,
                "regulation_count": len(self.regulations), "clause_count": self.clause_count,
                "regulations": self.regulations}


def overlap(snap: Snapshot, control_id: str | None = None) -> list[ControlOverlap]:
    """For each control (or the one given), its directly mapped clauses by regulation."""
    out = {c.id: ControlOverlap(c.id, c.name, []) for c in snap.controls
           if control_id is None or c.id == control_id}
    per: dict[tuple[str, int], dict[str, Any]] = {}
    for m in snap.mappings:
        if not m.relates or m.control_id not in out:
            continue
        rid = snap.clauses[m.clause_id].regulation_id
        key = (m.control_id, rid)
        if key not in per:
            reg = snap.regulation[rid]
            per[key] = {"code": reg.code, "version_label": reg.version_label, "clauses": []}
            out[m.control_id].regulations.append(per[key])
        per[key]["clauses"].append(clause_ref(snap, m.clause_id) | {
            "mapping_id": m.id, "relationship": m.relationship, "coverage": m.coverage,
            "strength": m.strength, "review_status": m.review_status})
    return list(out.values())


# -------------------------------------------------------------------------------- checks
@dataclass(slots=True)
class MappingChecks:
    """Orphan controls, no-relationship conflicts and stale drafts (see the module doc)."""

    now: str
    days: int
    orphan_controls: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    stale_drafts: list[dict[str, Any]]

    @property
    def found(self) -> bool:
        return bool(self.orphan_controls or self.conflicts or self.stale_drafts)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def mapping_dict(snap: Snapshot, m: MappingRow) -> dict[str, Any]:
    """A mapping in analysis results: its clause, control and review state."""
    return clause_ref(snap, m.clause_id) | {
        "mapping_id": m.id, "control_id": m.control_id, "relationship": m.relationship,
        "coverage": m.coverage, "strength": m.strength, "review_status": m.review_status,
        "author": m.author, "created_at": m.created_at, "updated_at": m.updated_at}


def checks(snap: Snapshot, days: int = DEFAULT_STALE_DAYS) -> MappingChecks:
    """Run the three mapping checks over the snapshot."""
    relating: dict[tuple[int, str], MappingRow] = {}
    used: set[str] = set()
    for m in snap.mappings:
        if m.relates:
            relating[(m.clause_id, m.control_id)] = m
            used.add(m.control_id)
    orphans = [{"control_id": c.id, "name": c.name} for c in snap.controls if c.id not in used]

    conflicts: list[dict[str, Any]] = []
    for m in snap.mappings:
        if m.relates:
            continue
        others = ([("enclosing", a) for a in snap.ancestors(m.clause_id)]
                  + [("inside", d) for d in snap.descendants(m.clause_id)])
        for where, other_id in others:
            other = relating.get((other_id, m.control_id))
            if other is not None:
                conflicts.append(mapping_dict(snap, m) | {"where": where, "other": {
                    "mapping_id": other.id, "full_ref": snap.full_ref(other_id),
                    "relationship": other.relationship, "coverage": other.coverage}})

    now = _parse_utc(snap.now)
    cutoff = now - timedelta(days=days)
    stale = []
    for m in snap.mappings:
        if m.review_status == "draft":
            created = _parse_utc(m.created_at)
            if created < cutoff:
                stale.append(mapping_dict(snap, m) | {"age_days": (now - created).days})
    return MappingChecks(snap.now, days, orphans, conflicts, stale)
