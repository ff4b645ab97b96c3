"""The register at a glance: the heat map of a stage, and the quality checks an auditor would
run (`risks check`, exit 1 when any fails)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from app.domain import risk as rk
from app.errors import InvalidInput
from app.services.risk_register import RiskRow, list_risks, matrices_by_id

if TYPE_CHECKING:
    from app.store import Store
    from app.store.reader import Reader


@dataclass(slots=True)
class Heatmap:
    """Risk ids per cell of one matrix for one stage: `cells[likelihood-1][impact-1]`."""

    matrix: rk.Matrix
    stage: str
    cells: list[list[list[int]]]
    unscored: int = 0  # risks on this matrix without a score at this stage
    elsewhere: int = 0  # risks scored on other matrices (a grid cannot mix them)

    @property
    def total(self) -> int:
        return sum(len(c) for row in self.cells for c in row)

    def as_dict(self) -> dict[str, Any]:
        m = self.matrix
        return {"matrix": m.ref, "stage": self.stage, "total": self.total,
                "unscored": self.unscored, "other_matrices": self.elsewhere,
                "likelihood": [lv.name for lv in m.likelihood],
                "impact": [lv.name for lv in m.impact],
                "cells": [{"likelihood": li + 1, "impact": ii + 1,
                           "level": m.levels[m.grid[li][ii]].name,
                           "colour": m.levels[m.grid[li][ii]].colour,
                           "count": len(ids), "risks": [rk.risk_label(i) for i in ids]}
                          for li, row in enumerate(self.cells)
                          for ii, ids in enumerate(row)]}


def heatmap(store: Store | Reader, stage: str = "residual", matrix: str | None = None,
            rows: list[RiskRow] | None = None) -> Heatmap:
    """Count risks per cell for `stage` on one matrix version (by default the one most risks
    are scored on)."""
    try:
        stage = rk.choose(stage, rk.STAGES, "stage")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    rows = list_risks(store) if rows is None else rows
    matrices = matrices_by_id(store)
    if matrix is not None:
        code, _, version = matrix.partition("@")
        ids = [i for i, m in matrices.items() if m.code == code and
               (not version or str(m.version) == version)]
        if not ids:
            from app.services.risk_matrices import defaults

            if code in defaults() and not rows:  # an empty register: the empty grid
                m = defaults()[code]
                return Heatmap(m, stage, [[[] for _ in m.impact] for _ in m.likelihood])
            raise InvalidInput(f"no risk in the register is scored on matrix {matrix!r}")
        chosen = max(ids, key=lambda i: matrices[i].version)
    elif rows:
        chosen = Counter(r.matrix_id for r in rows).most_common(1)[0][0]
    else:
        from app.services.risk_matrices import DEFAULT_MATRIX, defaults

        m = defaults()[DEFAULT_MATRIX]
        return Heatmap(m, stage, [[[] for _ in m.impact] for _ in m.likelihood])
    m = matrices[chosen]
    cells: list[list[list[int]]] = [[[] for _ in m.impact] for _ in m.likelihood]
    unscored = elsewhere = 0
    for r in rows:
        if r.matrix_id != chosen:
            elsewhere += 1
            continue
        s = getattr(r, stage)
        if s is None:
            unscored += 1
        else:
            cells[s.likelihood - 1][s.impact - 1].append(r.id)
    return Heatmap(m, stage, cells, unscored, elsewhere)


# ----------------------------------------------------------------------- checks
CHECKS = {
    "residual-above-current": "the residual level is above the current level",
    "accepted-without-approver": "accepted without an approver",
    "acceptance-expired": "the acceptance has expired",
    "review-overdue": "the review is overdue",
    "mitigate-without-control": "treated by mitigation, but no control is linked",
    "high-residual-without-current-evidence":
        "a high residual level, but its controls lack current evidence",
}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    risk: str  # RK-n
    title: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "risk": self.risk, "title": self.title,
                "message": f"{self.risk}: {CHECKS[self.check]} ({self.detail})"}


@dataclass(slots=True)
class CheckReport:
    risks: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        counts = Counter(f.check for f in self.findings)
        return {"passed": self.passed, "risks": self.risks,
                "counts": {c: counts.get(c, 0) for c in CHECKS},
                "findings": [f.as_dict() for f in self.findings]}


def check_risks(store: Store | Reader, today: date | None = None) -> CheckReport:
    """Run every check on every risk (see `CHECKS`)."""
    from app.services.evidence_status import control_rollup

    day = (today or store.clock().date()).isoformat()
    rows = list_risks(store)
    rollup = control_rollup(store, today)
    out: list[Finding] = []

    def flag(r: RiskRow, check: str, detail: str) -> None:
        out.append(Finding(check, r.label, r.title, detail))

    for r in sorted(rows, key=lambda x: x.id):
        if r.residual and r.current and r.residual.rank > r.current.rank:
            flag(r, "residual-above-current", f"residual {r.residual.level}, current "
                                              f"{r.current.level}")
        if r.treatment == "accept":
            if not r.accepted_by:
                flag(r, "accepted-without-approver", "no approver recorded")
            if r.acceptance_expires and r.acceptance_expires < day:
                flag(r, "acceptance-expired", f"expired {r.acceptance_expires}")
        if r.review_on and r.review_on < day:
            flag(r, "review-overdue", f"due {r.review_on}")
        if r.treatment == "mitigate" and not r.controls:
            flag(r, "mitigate-without-control", "link the controls that mitigate it")
        if r.residual and r.residual.high:
            lacking = [c for c in r.controls if rollup[c].status not in ("current", "expiring")]
            if not r.controls:
                flag(r, "high-residual-without-current-evidence",
                     f"residual {r.residual.level}; no control linked")
            elif lacking:
                flag(r, "high-residual-without-current-evidence",
                     f"residual {r.residual.level}; " + ", ".join(
                         f"{c} evidence {rollup[c].status}" for c in lacking))
    return CheckReport(len(rows), out)


def overdue_reviews(rows: list[RiskRow], today: date) -> list[RiskRow]:
    day = today.isoformat()
    return sorted((r for r in rows if r.review_on and r.review_on < day),
                  key=lambda r: r.review_on or "")
