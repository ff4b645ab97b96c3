"""The mapping graph (networkx, built from one store snapshot, never stored).

**Nodes** have an id ``"<kind>:<key>"`` and a ``kind`` attribute, so later node kinds
(evidence, tests, risks, playbooks) join without changing the traversals:

- ``regulation:GDPR@2016-04-27`` — code, version_label, title, latest;
- ``clause:123`` (the row id: refs repeat across versions) — code, version_label, ref,
  full_ref, clause_kind, title, assessable, position;
- ``control:SEC-1`` — control_id, name, evidence_status (the roll-up: current, expiring,
  expired, missing or none);
- ``evidence:7`` — evidence_id (``EV-7``), title, kind, status, valid_until, version;
- ``risk:3`` — risk_id (``RK-3``), title, system, treatment, level (the latest stage's),
  stage, high;
- ``playbook:model-drift`` — playbook_id, title, severity, scenario, origin, steps;
- ``exercise:2`` — exercise_id (``EX-2``), title, status, playbook;
- ``improvement:4`` — improvement_id (``IM-4``), action, owner, due, status.

**Edges** have a ``kind`` too: ``contains`` (regulation → top-level clause, clause → clause)
``maps-to`` (clause → control, one per mapping, carrying mapping_id, relationship,
coverage, strength, matching, review_status, author, flag, rationale and the timestamps) and
``supports`` (evidence → the control or clause it is linked to), ``concerns`` (risk → the
control, clause or evidence it is linked to), ``exercises`` (playbook → a control one of its
steps exercises), ``clock-basis`` (playbook → the clause a regulatory clock of it rests on),
``runs`` (exercise → its playbook), ``plans`` (exercise → an improvement item) and
``treats`` / ``improves`` (improvement item → the risk or control it became an action of).
Every node and edge has a ``label``. Attribute values are strings, numbers or booleans
(GraphML-safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import InvalidInput
from app.services.snapshot import Snapshot, load_snapshot
from app.store import Store

if TYPE_CHECKING:
    import networkx as nx

CONTAINS = "contains"
MAPS_TO = "maps-to"
SUPPORTS = "supports"
CONCERNS = "concerns"
EXERCISES = "exercises"
CLOCK_BASIS = "clock-basis"
RUNS = "runs"
PLANS = "plans"
TREATS = "treats"
IMPROVES = "improves"


def regulation_node(code: str, version_label: str) -> str:
    return f"regulation:{code}@{version_label}"


def clause_node(clause_id: int) -> str:
    return f"clause:{clause_id}"


def control_node(control_id: str) -> str:
    return f"control:{control_id}"


def build_graph(snap: Snapshot) -> nx.DiGraph:
    """The graph of a snapshot (see the module doc for nodes and edges)."""
    import networkx as nx

    g = nx.DiGraph()
    reg_node = {}
    for r in snap.regulations:
        reg_node[r.id] = n = regulation_node(r.code, r.version_label)
        g.add_node(n, kind="regulation", label=f"{r.code} {r.version_label}", code=r.code,
                   version_label=r.version_label, title=r.title, latest=r.latest)
    regs = snap.regulation
    g.add_nodes_from((clause_node(c.id), {
        "kind": "clause", "label": f"{regs[c.regulation_id].code} {c.ref}",
        "code": regs[c.regulation_id].code,
        "version_label": regs[c.regulation_id].version_label, "ref": c.ref,
        "full_ref": f"{regs[c.regulation_id].code} {c.ref}", "clause_kind": c.kind,
        "title": c.title, "assessable": c.assessable, "position": c.position,
    }) for c in snap.clauses.values())
    g.add_nodes_from((control_node(c.id), {"kind": "control", "label": c.id,
                                           "control_id": c.id, "name": c.name})
                     for c in snap.controls)
    g.add_edges_from(
        (clause_node(c.parent_id) if c.parent_id in snap.clauses else reg_node[c.regulation_id],
         clause_node(c.id), {"kind": CONTAINS, "label": CONTAINS})
        for c in snap.clauses.values())
    g.add_edges_from((clause_node(m.clause_id), control_node(m.control_id), {
        "kind": MAPS_TO, "label": m.relationship, "mapping_id": m.id,
        "relationship": m.relationship, "coverage": m.coverage, "strength": m.strength,
        "matching": m.matching, "review_status": m.review_status, "author": m.author,
        "flag": m.flag, "created_at": m.created_at, "updated_at": m.updated_at,
        "reviewed_by": m.reviewed_by or "", "reviewed_at": m.reviewed_at or "",
        "rationale": m.rationale,
    }) for m in snap.mappings)
    return g


def evidence_node(evidence_id: int) -> str:
    return f"evidence:{evidence_id}"


def add_evidence(g: nx.DiGraph, store: Store) -> None:
    """Add the evidence linked to the graph's controls and clauses, with today's statuses,
    and each control's evidence roll-up."""
    from app.domain.evidence import evidence_label
    from app.services.evidence_status import control_rollup, evidence_links, list_evidence

    for cid, roll in control_rollup(store).items():
        if g.has_node(control_node(cid)):
            g.nodes[control_node(cid)]["evidence_status"] = roll.status
    rows = {r.id: r for r in list_evidence(store)}
    for evidence_id, control_id, clause_id in evidence_links(store):
        target = control_node(control_id) if control_id else clause_node(clause_id)
        if not g.has_node(target) or evidence_id not in rows:
            continue
        r = rows[evidence_id]
        node = evidence_node(r.id)
        if not g.has_node(node):
            g.add_node(node, kind="evidence", label=evidence_label(r.id),
                       evidence_id=evidence_label(r.id), title=r.title, evidence_kind=r.kind,
                       status=r.status, valid_until=r.valid_until or "", version=r.version)
        g.add_edge(node, target, kind=SUPPORTS, label=SUPPORTS)


def risk_node(risk_id: int) -> str:
    return f"risk:{risk_id}"


def add_risks(g: nx.DiGraph, store: Store) -> None:
    """Add the risks linked to the graph's controls, clauses and evidence."""
    from app.domain.risk import risk_label
    from app.services.risks import list_risks
    from app.services.snapshot import _reading

    rows = {r.id: r for r in list_risks(store)}
    with _reading(store) as dbapi:
        links = dbapi.execute("SELECT risk_id, control_id, clause_id, evidence_id "
                              "FROM risk_link ORDER BY risk_id, id").fetchall()
    for risk_id, control_id, clause_id, evidence_id in links:
        target = (control_node(control_id) if control_id else clause_node(clause_id)
                  if clause_id else evidence_node(evidence_id))
        if not g.has_node(target) or risk_id not in rows:
            continue
        r = rows[risk_id]
        node = risk_node(r.id)
        if not g.has_node(node):
            latest = r.latest
            stage = ("residual" if r.residual else "current" if r.current else
                     "inherent" if r.inherent else "")
            g.add_node(node, kind="risk", label=risk_label(r.id), risk_id=risk_label(r.id),
                       title=r.title, system=r.system, treatment=r.treatment,
                       level=latest.level if latest else "", stage=stage,
                       high=bool(latest and latest.high))
        g.add_edge(node, target, kind=CONCERNS, label=CONCERNS)


def add_playbooks(g: nx.DiGraph, store: Store) -> None:
    """Add the playbooks (shipped and the workspace's), the exercises run from them and their
    improvement items, linked to the controls, clauses and risks already in the graph."""
    from app.domain.reg_clocks import clock_by_id
    from app.services.exercises import exercise_label, improvement_label
    from app.services.playbooks import list_playbooks
    from app.services.snapshot import _reading

    clauses = {a["full_ref"]: n for n, a in g.nodes(data=True) if a["kind"] == "clause" and
               g.nodes.get(regulation_node(a["code"], a["version_label"]), {}).get("latest")}
    for view in list_playbooks(store):
        pb = view.playbook
        node = f"playbook:{pb.id}"
        g.add_node(node, kind="playbook", label=pb.id, playbook_id=pb.id, title=pb.title,
                   severity=pb.severity, scenario=pb.scenario, origin=view.origin,
                   steps=len(pb.steps))
        for control in dict.fromkeys(c for s in pb.steps for c in s.controls):
            if g.has_node(control_node(control)):
                g.add_edge(node, control_node(control), kind=EXERCISES, label=EXERCISES)
        for cid in pb.clocks:
            basis = clauses.get(clock_by_id(cid).basis)
            if basis is not None:
                g.add_edge(node, basis, kind=CLOCK_BASIS, label=cid)
    with _reading(store) as dbapi:
        exercises = dbapi.execute(
            "SELECT e.id, e.title, e.status, p.slug FROM exercise e "
            "JOIN playbook p ON p.id = e.playbook_id ORDER BY e.id").fetchall()
        items = dbapi.execute("SELECT id, exercise_id, action, owner, due_on, status, "
                              "risk_id, control_id FROM improvement_item ORDER BY id").fetchall()
    for eid, title, status, slug in exercises:
        node = f"exercise:{eid}"
        g.add_node(node, kind="exercise", label=exercise_label(eid),
                   exercise_id=exercise_label(eid), title=title, status=status, playbook=slug)
        if g.has_node(f"playbook:{slug}"):
            g.add_edge(node, f"playbook:{slug}", kind=RUNS, label=RUNS)
    for iid, eid, action, owner, due, status, risk_id, control_id in items:
        node = f"improvement:{iid}"
        g.add_node(node, kind="improvement", label=improvement_label(iid),
                   improvement_id=improvement_label(iid), action=action, owner=owner, due=due,
                   status=status)
        g.add_edge(f"exercise:{eid}", node, kind=PLANS, label=PLANS)
        if risk_id is not None and g.has_node(risk_node(risk_id)):
            g.add_edge(node, risk_node(risk_id), kind=TREATS, label=TREATS)
        if control_id is not None and g.has_node(control_node(control_id)):
            g.add_edge(node, control_node(control_id), kind=IMPROVES, label=IMPROVES)


def load_graph(store: Store, regulation_ids: Iterable[int] | None = None, *,
               also: Iterable[int] = (), evidence: bool = True) -> nx.DiGraph:
    """Build the graph from one snapshot (default: the latest version of every regulation,
    plus the versions in `also`), with the evidence, risks, playbooks and exercises linked
    to it."""
    g = build_graph(load_snapshot(store, regulation_ids, also=also))
    if evidence:
        add_evidence(g, store)
        add_risks(g, store)
        add_playbooks(g, store)
    return g


def all_versions(store: Store) -> list[int]:
    """Ids of every version of every regulation."""
    from app.services.regulations import list_regulations

    return [r.id for r in list_regulations(store)]


def export_graph(store: Store, path: Path, fmt: str, *, every_version: bool = False
                 ) -> tuple[int, int]:
    """Build the graph and write it to `path` as GraphML or JSON; (nodes, edges)."""
    from app.exporters.graph import FORMATS, write_graph

    if fmt not in FORMATS:
        raise InvalidInput(f"unknown graph format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give a file name to write the graph to")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: folder {path.parent} does not exist")
    g = load_graph(store, all_versions(store) if every_version else None)
    try:
        write_graph(g, path, fmt)  # type: ignore[arg-type]
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    return g.number_of_nodes(), g.number_of_edges()
