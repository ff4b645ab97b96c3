"""The traceability matrix as data: one row per (clause, control) mapping, plus one row per gap
(an obligation no mapping covers), with everything an auditor filters on.

`COLUMNS` is the order and the header of every format (CSV, XLSX, PDF); `MatrixRow.cells()`
gives a row's values in that order as text. Lists (the evidence of a control, the risks
linked to it) are joined with ``"; "`` in one cell, in the same order in every list cell, so
the n-th SHA-256 belongs to the n-th evidence id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (key, header, width in characters for XLSX and PDF)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("regulation", "Regulation", 10),
    ("version", "Version", 11),
    ("clause_ref", "Clause", 16),
    ("clause_title", "Clause title", 28),
    ("summary", "Our summary", 40),
    ("applicability", "Applicability", 12),
    ("applicability_justification", "Why not applicable", 28),
    ("control_id", "Control", 8),
    ("control_name", "Control name", 28),
    ("control_owner", "Control owner", 18),
    ("control_status", "Control status", 13),
    ("relationship", "Relationship", 16),
    ("strength", "Strength", 8),
    ("coverage", "Coverage", 9),
    ("rationale", "Mapping rationale", 40),
    ("review_status", "Review status", 10),
    ("evidence_ids", "Evidence", 10),
    ("evidence_titles", "Evidence titles", 30),
    ("evidence_sha256", "Evidence SHA-256", 66),
    ("evidence_collected_at", "Collected at", 12),
    ("evidence_valid_until", "Valid until", 12),
    ("evidence_status", "Evidence status", 12),
    ("test_procedure", "Latest test", 14),
    ("test_result", "Test result", 14),
    ("test_date", "Tested on", 11),
    ("tester", "Tester", 16),
    ("risk_ids", "Risks", 10),
    ("risk_residual", "Residual level", 14),
    ("gap", "Gap", 5),
)
KEYS = tuple(k for k, _, _ in COLUMNS)
_EVIDENCE_FIELDS = {"evidence_ids": "id", "evidence_titles": "title",
                    "evidence_sha256": "sha256", "evidence_collected_at": "collected_at",
                    "evidence_valid_until": "valid_until", "evidence_status": "status"}
HEADERS = tuple(h for _, h, _ in COLUMNS)
SEP = "; "


@dataclass(frozen=True, slots=True)
class EvidenceCell:
    id: str  # EV-3
    title: str
    sha256: str
    collected_at: str
    valid_until: str  # "" when open-ended
    status: str  # current, expiring, expired


@dataclass(frozen=True, slots=True)
class MatrixRow:
    regulation: str
    version: str
    clause_ref: str
    clause_title: str
    summary: str
    applicability: str = "applicable"  # or "not applicable"
    applicability_justification: str = ""
    control_id: str = ""
    control_name: str = ""
    control_owner: str = ""
    control_status: str = ""
    relationship: str = ""
    strength: int | None = None
    coverage: str = ""
    rationale: str = ""
    review_status: str = ""
    evidence: tuple[EvidenceCell, ...] = ()
    test_procedure: str = ""
    test_result: str = ""
    test_date: str = ""
    tester: str = ""
    risks: tuple[tuple[str, str], ...] = field(default=())  # (RK-1, residual level)
    gap: bool = False

    def value(self, key: str) -> str:
        """One cell as text."""
        if key in _EVIDENCE_FIELDS:
            field_name = _EVIDENCE_FIELDS[key]
            return SEP.join((getattr(e, field_name) or "—") if field_name == "valid_until"
                            else getattr(e, field_name) for e in self.evidence)
        if key == "risk_ids":
            return SEP.join(r for r, _ in self.risks)
        if key == "risk_residual":
            return SEP.join(level or "—" for _, level in self.risks)
        if key == "gap":
            return "yes" if self.gap else "no"
        if key == "strength":
            return "" if self.strength is None else str(self.strength)
        return str(getattr(self, key))

    def cells(self) -> list[str]:
        return [self.value(k) for k in KEYS]
