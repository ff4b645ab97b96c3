"""Impact: from a clause, a control or a version diff, everything the change reaches in the
mapping graph (:mod:`app.services.graph`), generically over node kinds.

**Impact** of a set of starting clauses (a clause; a version diff's added, changed and
removed clauses) or of a control:

- *mappings to re-review*: those on a starting clause, on a clause inside it, or on a clause
  enclosing it (their claim covers the clause), whatever their relationship; from a control,
  every mapping to it;
- *controls*: the controls those mappings relate to (``no-relationship`` edges are not
  followed);
- *related clauses*: the clauses of **other** regulations mapped to those controls ("test
  once, comply with many"; from a control: every clause mapped to it);
- *evidence to re-check*: the evidence supporting those controls or linked to the starting
  clauses (and those inside or enclosing them), each with its status today, so the analyst
  sees at once which proof a change puts in question and which is already stale;
- *risks to re-assess*: the risks linked to those controls, to the starting clauses (and those
  inside or enclosing them) or to that evidence, each with its latest level and treatment;
- *reachable*: any other node kind connected to those controls, transitively through nodes
  that are neither clauses, regulations, controls, evidence nor risks, grouped by kind: the
  playbooks exercising those controls or whose regulatory clock rests on a starting clause,
  their exercises and the exercises' improvement items.

From a diff, changed clauses are taken in the new version (their mappings were carried over
and flagged there), removed ones in the old version, added ones in the new version (they have
no mappings yet: new obligations to map).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from app.services.graph import (
    CONCERNS,
    CONTAINS,
    MAPS_TO,
    SUPPORTS,
    add_evidence,
    add_playbooks,
    add_risks,
    build_graph,
    clause_node,
    control_node,
    load_graph,
)
from app.services.snapshot import NO_RELATIONSHIP, load_snapshot
from app.store import Store

if TYPE_CHECKING:
    import networkx as nx

_NOT_THROUGH = frozenset({"clause", "regulation", "control", "evidence", "risk"})


@dataclass(slots=True)
class Impact:
    """What a change reaches (see the module doc); lists of plain dicts, JSON-ready."""

    source: dict[str, Any]
    clauses: list[dict[str, Any]] = field(default_factory=list)  # the starting clauses
    mappings: list[dict[str, Any]] = field(default_factory=list)  # to re-review
    controls: list[dict[str, Any]] = field(default_factory=list)
    related_clauses: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)  # to re-check
    risks: list[dict[str, Any]] = field(default_factory=list)  # to re-assess
    reachable: dict[str, list[str]] = field(default_factory=dict)  # node kind → node ids

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def report(self) -> str:
        """The impact as plain text, for people (the CLI prints it, the TUI shows it)."""
        from app.domain.text import text_table

        src, out = self.source, []
        if src["kind"] == "clause":
            out.append(f"impact of {src['full_ref']} ({src['code']} version "
                       f"{src['version_label']})")
        elif src["kind"] == "control":
            out.append(f"impact of control {src['control_id']}")
        else:
            # the header counts the list below; `crosswalk diff` counts fewer mappings (those
            # of the old version on its changed and removed clauses), so that count is named
            # as the diff's when it differs
            out.append(f"impact of {src['code']} {src['old_version']} → {src['new_version']}: "
                       f"{src['summary']}; {len(self.mappings)} mappings to re-review")
            n = src.get("diff_mappings")
            if n is not None and n != len(self.mappings):
                out.append(f"(`crosswalk diff` counts {n}: the mappings of "
                           f"{src['old_version']} on its changed and removed clauses; the list "
                           f"below takes the added and changed clauses in {src['new_version']}"
                           f", the removed ones in {src['old_version']}, and the clauses "
                           "inside or enclosing each one)")
        if src["kind"] == "diff":
            out.append(f"\nclauses ({len(self.clauses)})")
            if self.clauses:
                out.append(text_table([(f"  {x['full_ref']}", x["why"]) for x in self.clauses],
                                      ("  CLAUSE", "WHY")))
        out.append(f"\nmappings to re-review ({len(self.mappings)})")
        if self.mappings:
            out.append(text_table(
                [(f"  {m['full_ref']}", m["control_id"], m["relationship"], m["coverage"],
                  m["review_status"], m["because"]) for m in self.mappings],
                ("  CLAUSE", "CONTROL", "RELATIONSHIP", "COVERAGE", "STATUS", "WHY")))
        names = ", ".join(f"{x['control_id']} (evidence {x['evidence_status']})"
                          if x.get("evidence_status") else x["control_id"]
                          for x in self.controls) or "none"
        out.append(f"\ncontrols ({len(self.controls)}): {names}")
        label = ("clauses mapped to it" if src["kind"] == "control"
                 else "clauses of other regulations sharing these controls")
        out.append(f"\n{label} ({len(self.related_clauses)})")
        if self.related_clauses:
            out.append(text_table([(f"  {x['full_ref']}", ", ".join(x["control_ids"]))
                                   for x in self.related_clauses], ("  CLAUSE", "CONTROLS")))
        out.append(f"\nevidence to re-check ({len(self.evidence)})")
        if self.evidence:
            from app.domain.evidence import shown

            out.append(text_table([(f"  {x['id']}", x["status"], x["valid_until"] or "—",
                                    ", ".join(x["via"]), shown(x["title"]))
                                   for x in self.evidence],
                                  ("  EVIDENCE", "STATUS", "VALID UNTIL", "VIA", "TITLE")))
        out.append(f"\nrisks to re-assess ({len(self.risks)})")
        if self.risks:
            from app.domain.evidence import shown

            out.append(text_table([(f"  {x['id']}", x["level"] or "not scored", x["treatment"],
                                    ", ".join(x["via"]), shown(x["title"]))
                                   for x in self.risks],
                                  ("  RISK", "LEVEL", "TREATMENT", "VIA", "TITLE")))
        for kind, nodes in self.reachable.items():
            out.append(f"\n{kind} ({len(nodes)}): {', '.join(nodes)}")
        return "\n".join(out)


def _clause_dict(g: nx.DiGraph, node: str) -> dict[str, Any]:
    a = g.nodes[node]
    return {"id": int(node.split(":", 1)[1]), "code": a["code"],
            "version_label": a["version_label"], "ref": a["ref"], "full_ref": a["full_ref"],
            "kind": a["clause_kind"], "title": a["title"]}


def _walk_contains(g: nx.DiGraph, node: str, *, up: bool) -> list[str]:
    """Clauses inside `node` (down) or enclosing it (up, nearest first)."""
    out: list[str] = []
    if up:
        cur = node
        while True:
            parents = [p for p in g.predecessors(cur)
                       if g.edges[p, cur]["kind"] == CONTAINS and g.nodes[p]["kind"] == "clause"]
            if not parents:
                return out
            cur = parents[0]
            out.append(cur)
    stack = [node]
    while stack:
        cur = stack.pop()
        for child, e in g.adj[cur].items():
            if e["kind"] == CONTAINS:
                out.append(child)
                stack.append(child)
    return out


def _mapping_dict(g: nx.DiGraph, clause: str, control: str, because: str) -> dict[str, Any]:
    e = g.edges[clause, control]
    return _clause_dict(g, clause) | {
        "mapping_id": e["mapping_id"], "control_id": g.nodes[control]["control_id"],
        "relationship": e["relationship"], "coverage": e["coverage"],
        "strength": e["strength"], "review_status": e["review_status"], "flag": e["flag"],
        "because": because}


def _spread(g: nx.DiGraph, impact: Impact, controls: list[str], exclude: set[str],
            other_than_code: str | None) -> None:
    """Fill controls, related clauses and other reachable nodes from the affected controls."""
    impact.controls = [{"control_id": g.nodes[c]["control_id"], "name": g.nodes[c]["name"],
                        "evidence_status": g.nodes[c].get("evidence_status", "")}
                       for c in controls]
    impact.evidence = _evidence(g, [*controls, *sorted(exclude)])
    evidence_nodes = [f"evidence:{x['id'].removeprefix('EV-')}" for x in impact.evidence]
    impact.risks = _risks(g, [*controls, *sorted(exclude), *evidence_nodes])
    related: dict[str, list[str]] = {}
    reachable: dict[str, set[str]] = {}
    seen = set(controls)
    queue = deque(controls)
    for clause in sorted(exclude):  # what names a starting clause itself (a playbook's clock)
        for other in [*g.predecessors(clause), *g.successors(clause)]:
            kind = g.nodes[other]["kind"]
            if kind not in _NOT_THROUGH and other not in seen:
                seen.add(other)
                reachable.setdefault(kind, set()).add(other)
                queue.append(other)
    while queue:
        node = queue.popleft()
        neighbours = [(n, g.edges[node, n]) for n in g.successors(node)]
        neighbours += [(n, g.edges[n, node]) for n in g.predecessors(node)]
        for other, e in neighbours:
            if other in seen or e.get("relationship") == NO_RELATIONSHIP:
                continue
            kind = g.nodes[other]["kind"]
            if kind == "clause":
                if (other not in exclude and g.nodes[node]["kind"] == "control"
                        and g.nodes[other]["code"] != other_than_code):
                    related.setdefault(other, []).append(g.nodes[node]["control_id"])
                continue  # clauses are reported, never walked through
            if kind in _NOT_THROUGH:
                continue
            seen.add(other)
            reachable.setdefault(kind, set()).add(other)
            queue.append(other)
    order = sorted(related, key=lambda n: (g.nodes[n]["code"], g.nodes[n]["position"]))
    impact.related_clauses = [_clause_dict(g, n) | {"control_ids": sorted(related[n])}
                              for n in order]
    impact.reachable = {k: sorted(v) for k, v in sorted(reachable.items())}


def _evidence(g: nx.DiGraph, targets: list[str]) -> list[dict[str, Any]]:
    """The evidence supporting `targets` (controls and clauses), each with what it supports."""
    via: dict[str, list[str]] = {}
    for target in targets:
        for n in g.predecessors(target):
            if g.edges[n, target]["kind"] == SUPPORTS:
                via.setdefault(n, []).append(g.nodes[target]["label"])
    out = []
    for n in sorted(via, key=lambda n: int(n.partition(":")[2])):
        a = g.nodes[n]
        out.append({"id": a["evidence_id"], "title": a["title"], "status": a["status"],
                    "valid_until": a["valid_until"] or None, "via": via[n]})
    return out


def _risks(g: nx.DiGraph, targets: list[str]) -> list[dict[str, Any]]:
    """The risks linked to `targets` (controls, clauses, evidence), each with what links it."""
    via: dict[str, list[str]] = {}
    for target in targets:
        if not g.has_node(target):
            continue
        for n in g.predecessors(target):
            if g.edges[n, target]["kind"] == CONCERNS:
                via.setdefault(n, []).append(g.nodes[target]["label"])
    out = []
    for n in sorted(via, key=lambda n: int(n.partition(":")[2])):
        a = g.nodes[n]
        out.append({"id": a["risk_id"], "title": a["title"], "level": a["level"] or None,
                    "stage": a["stage"] or None, "treatment": a["treatment"],
                    "system": a["system"], "via": via[n]})
    return out


def impact_of_clauses(g: nx.DiGraph, start: dict[str, str], source: dict[str, Any],
                      other_than_code: str | None = None) -> Impact:
    """Impact of the clause nodes in `start` (node → why it starts: "changed", …)."""
    impact = Impact(source)
    because: dict[tuple[str, str], str] = {}
    touched: set[str] = set(start)
    for node, why in start.items():
        impact.clauses.append(_clause_dict(g, node) | {"why": why})
        groups = (([node], f"on the {why} clause" if why != "chosen" else "on the clause"),
                  (_walk_contains(g, node, up=False), "on a clause inside it"),
                  (_walk_contains(g, node, up=True), "on a clause enclosing it"))
        for nodes, reason in groups:
            touched.update(nodes)
            for n in nodes:
                for ctl, e in g.adj[n].items():
                    if e["kind"] == MAPS_TO:
                        because.setdefault((n, ctl), reason)
    keys = sorted(because, key=lambda k: (g.nodes[k[0]]["code"], g.nodes[k[0]]["position"],
                                          k[1]))
    impact.mappings = [_mapping_dict(g, n, ctl, because[n, ctl]) for n, ctl in keys]
    controls = sorted({ctl for (n, ctl) in keys
                       if g.edges[n, ctl]["relationship"] != NO_RELATIONSHIP},
                      key=_control_order(g))
    _spread(g, impact, controls, touched, other_than_code)
    return impact


def impact_of_control(g: nx.DiGraph, control_id: str) -> Impact:
    """Impact of a change to a control: every mapping to it and every clause it serves."""
    node = control_node(control_id)
    impact = Impact({"kind": "control", "control_id": control_id})
    rows = sorted((n for n in g.predecessors(node) if g.edges[n, node]["kind"] == MAPS_TO),
                  key=lambda n: (g.nodes[n]["code"], g.nodes[n]["position"]))
    impact.mappings = [_mapping_dict(g, n, node, "on the control") for n in rows]
    _spread(g, impact, [node], set(), None)
    return impact


def _control_order(g: nx.DiGraph) -> Any:
    position = {n: i for i, n in enumerate(n for n, k in g.nodes(data="kind")
                                           if k == "control")}
    return lambda n: position.get(n, len(position))


# ------------------------------------------------------------------ from the workspace
def impact_of_clause_ref(store: Store, full_ref: str) -> Impact:
    """`impact --clause 'GDPR Art. 32(1)(b)'` (or `GDPR@2016-04-27 Art. 32(1)(b)`)."""
    from app.services.regulations import find_clause

    reg, row = find_clause(store, full_ref)
    assert reg.id is not None and row.id is not None
    g = load_graph(store, also=[reg.id])
    return impact_of_clauses(
        g, {clause_node(row.id): "chosen"},
        {"kind": "clause", "full_ref": f"{reg.code} {row.ref}", "code": reg.code,
         "version_label": reg.version_label, "ref": row.ref}, other_than_code=reg.code)


def impact_of_control_id(store: Store, control_id: str) -> Impact:
    """`impact --control SEC-1`."""
    from app.services.controls import get_control

    control = get_control(store, control_id)
    return impact_of_control(load_graph(store), control.id)


def impact_of_diff(store: Store, code: str, old_version: str, new_version: str) -> Impact:
    """`impact --diff CODE V1 V2`: the added, changed and removed clauses of the diff."""
    from app.services.regulations import get_regulation
    from app.services.versions import diff_versions

    d = diff_versions(store, code, old_version, new_version)
    old = get_regulation(store, code, old_version)
    new = get_regulation(store, code, new_version)
    assert old.id is not None and new.id is not None
    snap = load_snapshot(store, also=[old.id, new.id])
    g = build_graph(snap)
    add_evidence(g, store)
    add_risks(g, store)
    add_playbooks(g, store)
    ids = {(c.regulation_id, c.ref): clause_node(c.id) for c in snap.clauses.values()}
    start: dict[str, str] = {}
    for ref in d.added:
        start[ids[new.id, ref]] = "added"
    for ch in d.changed:
        start[ids[new.id, ch.ref]] = "changed"
    for ref in d.uncompared:
        start[ids[new.id, ref]] = "uncompared"
    for ref in d.removed:
        start[ids[old.id, ref]] = "removed"
    return impact_of_clauses(g, start, {
        "kind": "diff", "code": old.code, "old_version": old.version_label,
        "new_version": new.version_label, "summary": d.summary.rpartition("; ")[0],
        "diff_mappings": len(d.mappings)}, other_than_code=old.code)
