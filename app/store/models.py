"""SQLModel tables of a workspace (the latest schema; `schema.py` holds how each version is built).

Timestamps are ISO 8601 UTC strings (``2026-11-26T22:40:38.123Z``) so that what is hashed into
the audit chain is exactly what is stored. Every table named in :data:`AUDITED` has a text or
integer ``id`` primary key and is covered by `crosswalk verify`'s state check.
"""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Workspace(SQLModel, table=True):
    """The workspace itself: one row, written when the workspace is created."""

    __tablename__ = "workspace"

    id: str = Field(primary_key=True)
    name: str
    created_at: str
    created_by: str
    # evidence is "expiring" this many days before its valid-until date
    expiring_days: int = Field(default=30, sa_column_kwargs={"server_default": text("30")})


class Control(SQLModel, table=True):
    """One of the twelve controls, with the analyst's fields."""

    __tablename__ = "control"

    id: str = Field(primary_key=True)
    position: int
    name: str
    category: str
    objective: str
    guidance: str
    owner: str = ""
    status: str = "not-started"
    narrative: str = ""
    updated_at: str
    updated_by: str


class Regulation(SQLModel, table=True):
    """One version of a regulation, standard or framework; versions of one code coexist."""

    __tablename__ = "regulation"
    __table_args__ = (UniqueConstraint("code", "version_label", name="uq_regulation_version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str
    version_label: str
    title: str
    jurisdiction: str = ""
    effective_date: str | None = None
    source_name: str = ""
    source_sha256: str = ""
    source_format: str = ""
    imported_at: str
    short_title: str = Field(default="", sa_column_kwargs={"server_default": ""})
    identifiers: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})
    attribution: str = Field(default="", sa_column_kwargs={"server_default": ""})
    source_pages: int | None = None


class Clause(SQLModel, table=True):
    """A node of a regulation's clause tree (chapter, article, paragraph, point, recital…)."""

    __tablename__ = "clause"
    __table_args__ = (
        UniqueConstraint("regulation_id", "ref", name="uq_clause_ref"),
        Index("ix_clause_parent", "parent_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    regulation_id: int = Field(foreign_key="regulation.id")
    parent_id: int | None = Field(default=None, foreign_key="clause.id")
    ref: str
    position: int
    kind: str
    title: str = ""
    text: str = ""
    summary: str = ""
    assessable: bool = True
    text_hash: str = ""
    attributes: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})


class Mapping(SQLModel, table=True):
    """A clause → control edge with its OSCAL relationship, rationale and review trail."""

    __tablename__ = "mapping"
    __table_args__ = (
        UniqueConstraint("clause_id", "control_id", name="uq_mapping"),
        Index("ix_mapping_control", "control_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clause_id: int = Field(foreign_key="clause.id")
    control_id: str = Field(foreign_key="control.id")
    relationship: str
    matching: str
    strength: int
    coverage: str
    rationale: str
    author: str
    review_status: str = "draft"
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    flag: str = ""  # why it needs a look (e.g. its clause changed in a new version), else ""
    created_at: str
    updated_at: str


class Evidence(SQLModel, table=True):
    """A piece of evidence (shown as ``EV-<id>``); its files are its versions."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    kind: str
    description: str = ""
    classification: str = "internal"
    source_system: str = ""
    versions: int = 1  # the number of the latest version
    created_at: str
    created_by: str
    updated_at: str


class EvidenceVersion(SQLModel, table=True):
    """One file of a piece of evidence. Append-only: versions are never changed or removed;
    the file itself is in the blob store under `sha256`."""

    __tablename__ = "evidence_version"
    __table_args__ = (
        UniqueConstraint("evidence_id", "version", name="uq_evidence_version"),
        Index("ix_evidence_version_sha256", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id")
    version: int
    sha256: str
    size: int
    media_type: str
    original_name: str  # the file's own name, stored as given; shown escaped
    collected_at: str  # ISO date, or date and time (UTC)
    collected_by: str
    period_from: str | None = None
    period_to: str | None = None
    valid_until: str | None = None
    note: str = ""
    added_at: str
    added_by: str


class EvidenceLink(SQLModel, table=True):
    """Evidence → the control or the clause it supports (exactly one of the two is set)."""

    __tablename__ = "evidence_link"
    __table_args__ = (
        UniqueConstraint("evidence_id", "control_id", name="uq_evidence_link_control"),
        UniqueConstraint("evidence_id", "clause_id", name="uq_evidence_link_clause"),
        Index("ix_evidence_link_control", "control_id"),
        Index("ix_evidence_link_clause", "clause_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id")
    control_id: str | None = Field(default=None, foreign_key="control.id")
    clause_id: int | None = Field(default=None, foreign_key="clause.id")
    created_at: str
    created_by: str


class ControlTest(SQLModel, table=True):
    """A test of a control (shown as ``CT-<id>``): how it was tested and what was found."""

    __tablename__ = "control_test"
    __table_args__ = (Index("ix_control_test_control", "control_id"),)

    id: int | None = Field(default=None, primary_key=True)
    control_id: str = Field(foreign_key="control.id")
    procedure: str
    population: str = ""
    sample_size: int | None = None
    result: str
    exceptions: str = ""
    tester: str
    tested_on: str  # ISO date
    evidence_versions: str = "[]"  # JSON list of evidence_version ids used
    created_at: str
    created_by: str


class AiSystem(SQLModel, table=True):
    """An AI system in the inventory (shown as ``AI-<id>``); its history is its audit trail."""

    __tablename__ = "ai_system"
    __table_args__ = (UniqueConstraint("name", name="uq_ai_system_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    purpose: str = ""
    owner: str = ""
    lifecycle: str = "development"
    tier: str
    tier_justification: str
    operator_role: str
    annex_iii_area: str | None = None  # "1"…"8" where the tier is high
    created_at: str
    created_by: str
    updated_at: str


class ModelVersion(SQLModel, table=True):
    """A version of a system's model, with its approval status and known limitations."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("system_id", "version", name="uq_model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="ai_system.id")
    version: str
    approval_status: str = "pending"
    limitations: str = ""
    created_at: str
    updated_at: str


class RiskMatrix(SQLModel, table=True):
    """One version of a risk matrix; `definition` is its canonical JSON (never changed)."""

    __tablename__ = "risk_matrix"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_risk_matrix"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str
    version: int
    name: str
    definition: str
    created_at: str
    created_by: str


class StageScores(SQLModel):
    """Likelihood and impact (1-based positions on the matrix's scales) at the three stages;
    a stage not scored has both None."""

    inherent_likelihood: int | None = None
    inherent_impact: int | None = None
    current_likelihood: int | None = None
    current_impact: int | None = None
    residual_likelihood: int | None = None
    residual_impact: int | None = None


class Risk(StageScores, table=True):
    """A risk of an AI system (shown as ``RK-<id>``) with its latest scores; every score is
    also appended to `risk_score`, which is its history."""

    __tablename__ = "risk"
    __table_args__ = (Index("ix_risk_system", "system_id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str
    cause: str = ""
    event: str = ""
    consequence: str = ""
    category: str
    system_id: int = Field(foreign_key="ai_system.id")
    owner: str = ""
    matrix_id: int = Field(foreign_key="risk_matrix.id")
    knowledge: str = "medium"
    knowledge_justification: str = ""
    treatment: str = "open"
    review_on: str | None = None
    review_every_days: int | None = None
    accepted_by: str | None = None
    acceptance_justification: str = ""
    acceptance_expires: str | None = None
    created_at: str
    created_by: str
    updated_at: str


class RiskScore(StageScores, table=True):
    """One assessment of a risk on one matrix version. Append-only: the risk's trend."""

    __tablename__ = "risk_score"
    __table_args__ = (Index("ix_risk_score_risk", "risk_id"),)

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id")
    matrix_id: int = Field(foreign_key="risk_matrix.id")
    note: str = ""
    scored_at: str
    scored_by: str


class RiskLink(SQLModel, table=True):
    """Risk → a control, a clause or a piece of evidence (exactly one is set)."""

    __tablename__ = "risk_link"
    __table_args__ = (
        UniqueConstraint("risk_id", "control_id", name="uq_risk_link_control"),
        UniqueConstraint("risk_id", "clause_id", name="uq_risk_link_clause"),
        UniqueConstraint("risk_id", "evidence_id", name="uq_risk_link_evidence"),
        Index("ix_risk_link_control", "control_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id")
    control_id: str | None = Field(default=None, foreign_key="control.id")
    clause_id: int | None = Field(default=None, foreign_key="clause.id")
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")
    created_at: str
    created_by: str


class Playbook(SQLModel, table=True):
    """An incident playbook in the workspace: a shipped one brought in on first use, or the
    analyst's own (YAML or CACAO). `definition` is its JSON (`domain.playbooks.as_data`)."""

    __tablename__ = "playbook"
    __table_args__ = (UniqueConstraint("slug", name="uq_playbook_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str
    title: str
    scenario: str
    severity: str
    definition: str
    origin: str  # shipped, yaml, cacao
    source_name: str = ""
    notes: str = "[]"  # JSON list: what an import changed (flattened branches…)
    created_at: str
    created_by: str
    updated_at: str


class Exercise(SQLModel, table=True):
    """A tabletop exercise: the playbook (as it stood at creation), the scenario, and the
    exercise clock (`clock_ms` run before `running_since`; see `domain.exercise`)."""

    __tablename__ = "exercise"
    __table_args__ = (Index("ix_exercise_playbook", "playbook_id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str
    playbook_id: int = Field(foreign_key="playbook.id")
    playbook_definition: str
    scenario: str  # JSON (`Scenario.as_data`)
    scenario_name: str = ""
    starts_at: str  # the scenario moment at T+00:00
    speed: int = 1
    status: str = "planned"  # planned, running, paused, closed
    clock_ms: int = 0
    running_since: str | None = None
    started_at: str | None = None
    closed_at: str | None = None
    created_at: str
    created_by: str
    updated_at: str


class ExerciseEntry(SQLModel, table=True):
    """One line of an exercise's log. Append-only."""

    __tablename__ = "exercise_entry"
    __table_args__ = (Index("ix_exercise_entry_exercise", "exercise_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(foreign_key="exercise.id")
    at_ms: int
    kind: str
    text: str
    actor: str
    inject: str | None = None
    step: int | None = None
    clock: str | None = None
    containment: bool = False
    logged_at: str


class ExerciseRating(SQLModel, table=True):
    """An objective of an exercise rated P/S/M/U, with its strengths and areas for
    improvement (HSEEP)."""

    __tablename__ = "exercise_rating"
    __table_args__ = (UniqueConstraint("exercise_id", "objective", name="uq_exercise_rating"),)

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(foreign_key="exercise.id")
    objective: str
    rating: str
    strengths: str = ""
    improvements: str = ""
    rated_at: str
    rated_by: str


class ImprovementItem(SQLModel, table=True):
    """An improvement-plan item of an after-action report; it may become a risk's treatment
    action or a control's action (`risk_id`, `control_id`), seen from both sides."""

    __tablename__ = "improvement_item"
    __table_args__ = (Index("ix_improvement_exercise", "exercise_id"),
                      Index("ix_improvement_risk", "risk_id"),
                      Index("ix_improvement_control", "control_id"))

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(foreign_key="exercise.id")
    objective: str | None = None
    action: str
    owner: str
    due_on: str
    status: str = "open"  # open, done
    risk_id: int | None = Field(default=None, foreign_key="risk.id")
    control_id: str | None = Field(default=None, foreign_key="control.id")
    created_at: str
    created_by: str
    updated_at: str


class ClauseScope(SQLModel, table=True):
    """The analyst's decision that a clause applies, or does not (with why), to the
    organisation; a clause with no row applies. Not applicable covers the clauses inside it."""

    __tablename__ = "clause_scope"
    __table_args__ = (UniqueConstraint("clause_id", name="uq_clause_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    clause_id: int = Field(foreign_key="clause.id")
    applicable: bool
    justification: str = ""
    decided_at: str
    decided_by: str


class AuditEvent(SQLModel, table=True):
    """One link of the hash chain. Append-only: services never update or delete these rows."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    change: str
    state_digest: str | None = None
    prev_hash: str
    hash: str


# Tables whose rows `verify` compares with the chain's state digests; entity name = table name.
AUDITED: tuple[str, ...] = ("workspace", "control", "regulation", "clause", "mapping",
                             "evidence", "evidence_version", "evidence_link", "control_test",
                             "ai_system", "model_version", "risk_matrix", "risk", "risk_score",
                             "risk_link", "playbook", "exercise", "exercise_entry",
                             "exercise_rating", "improvement_item", "clause_scope")
