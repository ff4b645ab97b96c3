"""Everything the audit dossier shows, gathered from one workspace state into plain data.

`gather_dossier` reads the workspace once per section and returns a `Dossier`; the PDF writer
(`app.exporters.dossier_pdf`) only lays it out. Every list is in a stable order (document
order, control order, ids), so the same workspace state and options give the same document.
The dossier's moment is the time of the audit head, never the clock.

Evidence integrity is checked at export time: every stored file named by an evidence
version is re-hashed; a missing or altered file is marked ``missing`` / ``altered`` in the
evidence index and wherever the evidence is cited (`Dossier.integrity_failures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain import evidence as ev
from app.services.traceability import TraceMatrix, build_matrix
from app.store import Store


@dataclass(frozen=True, slots=True)
class DossierOptions:
    organisation: str = ""
    scope: str = ""
    period_from: str = ""  # YYYY-MM-DD
    period_to: str = ""
    version: str = "1.0"
    classification: str = "CONFIDENTIAL"
    preparer: str = ""
    reviewer: str = ""
    approver: str = ""


def check_options(*, organisation: str = "", scope: str = "", period_from: str = "",
                  period_to: str = "", version: str = "1.0",
                  classification: str = "CONFIDENTIAL", preparer: str = "",
                  reviewer: str = "", approver: str = "") -> DossierOptions:
    """The dossier's options, checked: one-line texts, the period as two dates in order
    (both or neither). The CLI and the TUI's Export screen both use it."""
    from app.domain.text import clean_text
    from app.errors import InvalidInput

    try:
        texts = {k: clean_text(v or "", f"the {k}", limit) for k, v, limit in (
            ("organisation", organisation, 200), ("scope", scope, 500),
            ("version", version, 40), ("classification", classification, 60),
            ("preparer", preparer, 80), ("reviewer", reviewer, 80),
            ("approver", approver, 80))}
        start = ev.parse_date(period_from, "the period's start").isoformat() \
            if period_from else ""
        end = ev.parse_date(period_to, "the period's end").isoformat() if period_to else ""
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if bool(start) != bool(end):
        raise InvalidInput("give the period's start and its end, or neither")
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    return DossierOptions(texts["organisation"], texts["scope"], start, end,
                          texts["version"] or "1.0",
                          texts["classification"] or "CONFIDENTIAL", texts["preparer"],
                          texts["reviewer"], texts["approver"])


@dataclass(slots=True)
class EvidenceEntry:
    id: str
    title: str
    kind: str
    sha256: str
    version: int
    collected_at: str
    collected_by: str
    valid_until: str
    status: str  # current, expiring, expired
    controls: list[str]
    clauses: list[str]
    integrity: str = "ok"  # ok, missing, altered


@dataclass(slots=True)
class ControlSection:
    id: str
    name: str
    category: str
    objective: str
    narrative: str
    owner: str
    status: str
    clauses: dict[str, list[str]]  # regulation code → refs mapped (document order)
    evidence: list[str]  # EV ids
    tests: list[dict[str, Any]]  # newest first
    actions: list[dict[str, Any]]  # improvement items that are actions of the control


@dataclass(slots=True)
class Dossier:
    options: DossierOptions
    workspace: str
    generated_at: str  # the audit head's time
    audit_head: str
    audit_head_seq: int
    crosswalk_version: str
    coverage: list[dict[str, Any]]  # per regulation
    gaps: dict[str, int]  # regulation code → uncovered obligations
    gap_provisions: list[dict[str, Any]]  # the provisions with the most gaps
    control_status: dict[str, int]
    controls: list[ControlSection]
    evidence: list[EvidenceEntry]
    evidence_status: dict[str, int]
    matrix: TraceMatrix
    systems: list[dict[str, Any]]
    risks: list[dict[str, Any]]  # the register, highest level first
    heatmaps: dict[str, dict[str, Any]]  # inherent / residual → Heatmap.as_dict()
    playbooks: list[dict[str, Any]]
    exercises: list[dict[str, Any]]  # after-action reports of the exercises that ran
    verify: dict[str, Any]
    method: dict[str, Any]
    not_applicable: list[dict[str, Any]]
    integrity_failures: list[str] = field(default_factory=list)
    # (evidence id, version) → ok, missing or altered, for every version
    blob_state: dict[tuple[int, int], str] = field(default_factory=dict)


def blob_integrity(store: Store) -> dict[tuple[int, int], str]:
    """(evidence id, version) → ok, missing or altered: every stored file re-hashed once."""
    from app.services.evidence import blobs_of

    with store.raw() as run:
        rows = run("SELECT evidence_id, version, sha256 FROM evidence_version").fetchall()
    blobs = blobs_of(store)
    state: dict[str, str] = {}
    for sha in sorted({r[2] for r in rows}):
        try:
            now = blobs.rehash(sha)
        except ValueError:
            now = "invalid"
        state[sha] = "missing" if now is None else "ok" if now == sha else "altered"
    return {(eid, version): state[sha] for eid, version, sha in rows}


def _evidence(store: Store, integrity: dict[tuple[int, int], str], day: date
              ) -> list[EvidenceEntry]:
    with store.raw() as run:
        window = run("SELECT expiring_days FROM workspace").fetchone()[0]
        rows = run(
            "SELECT e.id, e.title, e.kind, v.version, v.sha256, v.collected_at, "
            "v.collected_by, v.valid_until FROM evidence e JOIN evidence_version v ON "
            "v.evidence_id = e.id AND v.version = e.versions ORDER BY e.id").fetchall()
        links = run("SELECT l.evidence_id, l.control_id, r.code || ' ' || c.ref FROM "
                    "evidence_link l LEFT JOIN clause c ON c.id = l.clause_id LEFT JOIN "
                    "regulation r ON r.id = c.regulation_id ORDER BY l.evidence_id, "
                    "l.control_id, c.position").fetchall()
    controls: dict[int, list[str]] = {}
    clauses: dict[int, list[str]] = {}
    for eid, control, clause in links:
        if control:
            controls.setdefault(eid, []).append(control)
        elif clause:
            clauses.setdefault(eid, []).append(clause)
    return [EvidenceEntry(ev.evidence_label(eid), title, kind, sha, version, collected[:10],
                          by, (until or "")[:10], ev.status_of(until, day, window),
                          controls.get(eid, []), clauses.get(eid, []),
                          integrity.get((eid, version), "missing"))
            for eid, title, kind, version, sha, collected, by, until in rows]


def _controls(store: Store, matrix: TraceMatrix, evidence: list[EvidenceEntry]
              ) -> list[ControlSection]:
    from app.services.after_action import improvements_for
    from app.services.control_tests import list_tests
    from app.services.controls import list_controls

    clauses: dict[str, dict[str, list[str]]] = {}
    for row in matrix.rows:
        if row.control_id:
            refs = clauses.setdefault(row.control_id, {}).setdefault(row.regulation, [])
            if row.clause_ref not in refs:
                refs.append(row.clause_ref)
    tests: dict[str, list[dict[str, Any]]] = {}
    for t in list_tests(store):
        tests.setdefault(t.test.control_id, []).append(t.as_dict())
    actions: dict[str, list[dict[str, Any]]] = {}
    for item in improvements_for(store):
        if item.control_id:
            actions.setdefault(item.control_id, []).append(item.as_dict())
    out = []
    for c in list_controls(store):
        out.append(ControlSection(
            c.id, c.name, c.category, c.objective, c.narrative, c.owner, c.status,
            clauses.get(c.id, {}), [e.id for e in evidence if c.id in e.controls],
            tests.get(c.id, []), actions.get(c.id, [])))
    return out


def _risks(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                   dict[str, dict[str, Any]], dict[str, Any]]:
    from app.services.risk_checks import heatmap
    from app.services.risk_register import list_risks, matrices_by_id
    from app.services.systems import list_systems, system_dict

    risks = list_risks(store)
    matrices = matrices_by_id(store)
    register = [r.as_dict(matrices) for r in risks]
    systems = [system_dict(s) for s in list_systems(store)]
    maps: dict[str, dict[str, Any]] = {}
    if risks:
        for stage in ("inherent", "residual"):
            maps[stage] = heatmap(store, stage, rows=risks).as_dict()
    used = sorted({r.matrix_id for r in risks})
    method = {"matrices": [matrices[i].as_data() for i in used if i in matrices]}
    return systems, register, maps, method


def _exercises(store: Store) -> list[dict[str, Any]]:
    from app.services.after_action import report_of
    from app.services.exercises import get_exercise, list_exercises

    now = store.clock()
    return [report_of(get_exercise(store, s.id), now)
            for s in reversed(list_exercises(store)) if s.status != "planned"]


RELATIONSHIPS = (
    ("equal-to", "The control and the clause ask for the same thing."),
    ("subset-of", "Everything the control does serves the clause, which asks for more."),
    ("superset-of", "The control does everything the clause asks, and more."),
    ("intersects-with", "They overlap: part of the control meets part of the clause."),
    ("no-relationship", "Reviewed and found unrelated; recorded so nobody maps it again."),
)


def gather_dossier(store: Store, options: DossierOptions, *, as_of: date | None = None,
                   on_step: Any = None) -> Dossier:
    """Every section's data (see the module doc). `on_step(name)` is called as each section
    is read, for progress."""
    from app import __version__
    from app.services.analysis import coverage, gaps
    from app.services.applicability import list_decisions
    from app.services.audit import verify
    from app.services.playbooks import list_playbooks
    from app.services.snapshot import load_snapshot

    def step(name: str) -> None:
        if on_step is not None:
            on_step(name)

    step("matrix")
    matrix = build_matrix(store, as_of=as_of)
    day = as_of or store.clock().date()
    step("coverage")
    snap = load_snapshot(store)
    cov = [r.as_dict() for r in coverage(snap).regulations]
    groups = gaps(snap)
    by_code: dict[str, int] = {}
    for g in groups:
        by_code[g.provision["code"]] = by_code.get(g.provision["code"], 0) + len(g.gaps)
    order = {id(g): n for n, g in enumerate(groups)}  # document order breaks ties
    worst = sorted(groups, key=lambda g: (-len(g.gaps), order[id(g)]))[:15]
    step("evidence")
    integrity = blob_integrity(store)
    evidence = _evidence(store, integrity, day)
    failures = [f"{e.id} version {e.version}: the file is {e.integrity}" for e in evidence
                if e.integrity != "ok"]
    step("controls")
    controls = _controls(store, matrix, evidence)
    status_counts: dict[str, int] = {}
    for c in controls:
        status_counts[c.status] = status_counts.get(c.status, 0) + 1
    step("risks")
    systems, register, maps, method = _risks(store)
    step("playbooks")
    playbooks = [v.as_dict() for v in list_playbooks(store)]
    step("exercises")
    exercises = _exercises(store)
    step("audit trail")
    report = verify(store)
    ev_counts = {s: sum(1 for e in evidence if e.status == s) for s in ev.STATUSES}
    return Dossier(
        options, matrix.workspace, matrix.generated_at, matrix.audit_head,
        matrix.audit_head_seq, __version__, cov, by_code,
        [g.as_dict() for g in worst], status_counts, controls, evidence, ev_counts, matrix,
        systems, register, maps, playbooks, exercises,
        {"intact": report.intact, "events": report.events, "head": report.head,
         "head_seq": report.head_seq, "rows_checked": report.rows_checked,
         "files_checked": report.files_checked,
         "problems": [p.message for p in report.problems]},
        method | {"relationships": list(RELATIONSHIPS)},
        [d.as_dict() for d in list_decisions(store)], failures, integrity)
