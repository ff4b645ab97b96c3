"""Messages posted by thread workers; only their handlers touch widgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from app.domain.clauses import RegulationDoc
from app.services.analysis import CoverageReport
from app.services.audit import VerifyReport
from app.services.clause_index import ClauseIndex
from app.services.evidence import EvidenceDetail
from app.services.evidence_status import EvidenceRow
from app.services.imports import ImportPlan
from app.services.mapping_import import MappingImportPlan
from app.services.matrix import Matrix
from app.services.risk_checks import Heatmap
from app.services.risk_matrices import MatrixView
from app.services.risks import RiskDetail, RiskRow
from app.services.systems import SystemDetail
from app.services.versions import VersionDiff
from app.store.models import AiSystem


@dataclass
class VerifyProgress(Message):
    """`done` of `total` events walked so far."""

    done: int
    total: int


@dataclass
class VerifyFinished(Message):
    report: VerifyReport


@dataclass
class VerifyFailed(Message):
    """Verification stopped on an error (the app shows it in an error dialog)."""

    error: str


@dataclass
class ControlSaved(Message):
    """A control edit was written; `changed` names the fields that changed (empty: no-op)."""

    control_id: str
    changed: list[str]


@dataclass
class ControlSaveFailed(Message):
    """A control edit could not be written; `changes` lets the form reopen with them."""

    control_id: str
    changes: dict[str, str]
    error: str


@dataclass
class ClauseIndexLoaded(Message):
    regulation_id: int
    index: ClauseIndex


@dataclass
class ImportProgress(Message):
    """A phase of an import ("reading", "planning", "writing") and how far along (0–1)."""

    phase: str
    progress: float


@dataclass
class ImportPlanned(Message):
    plan: ImportPlan


@dataclass
class ImportDone(Message):
    regulation_id: int
    summary: str


@dataclass
class ImportStopped(Message):
    """The import failed (bad file, locked workspace) or was cancelled; nothing was written."""

    reason: str
    failed: bool = True


@dataclass
class ImportDetailsWanted(Message):
    """The document does not say its code or version: ask, then go on (with `doc` when it
    was read already, else read `path` again with the answers)."""

    path: Path
    missing: tuple[str, ...]
    doc: RegulationDoc | None


@dataclass
class DiffReady(Message):
    diff: VersionDiff


@dataclass
class MatrixLoaded(Message):
    """The clause × control matrix of a regulation version, read in a worker."""

    matrix: Matrix


@dataclass
class CoverageLoaded(Message):
    """Coverage of the latest regulation versions and the unreviewed mappings, for the
    Dashboard (read in a worker)."""

    report: CoverageReport
    drafts: int


@dataclass
class ImpactReady(Message):
    """What a change of a clause reaches, as text (worked out in a worker)."""

    text: str


@dataclass
class MappingImportPlanned(Message):
    """An OSCAL mapping collection read and planned against the workspace."""

    plan: MappingImportPlan


# ---------------------------------------------------------------- evidence (issue 6)
@dataclass
class EvidenceLoaded(Message):
    """Every piece of evidence as listed (read in a worker), newest first; `head` is the
    audit sequence it was read at."""


    rows: list[EvidenceRow]
    head: int | None = None
    complete: bool = True  # False: the first page; the rest follows

@dataclass
class EvidenceDetailLoaded(Message):
    """One piece of evidence with its versions, links and tests (read in a worker)."""

    detail: EvidenceDetail


@dataclass
class EvidenceWorking(Message):
    """A write or a file copy started (`what` says which); the screen shows it is busy."""

    what: str


@dataclass
class EvidenceProgress(Message):
    """A file copy went on: `done` of `total` bytes (`total` 0: unknown)."""

    done: int
    total: int


@dataclass
class EvidenceChanged(Message):
    """A write finished: say `summary`, then show evidence `evidence_id` (if any)."""

    summary: str
    evidence_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    title: str = "Evidence"


@dataclass
class EvidenceFailed(Message):
    """A write failed and nothing was written; `draft` (a form) lets it reopen with the
    user's input."""

    title: str
    error: str
    draft: object | None = None


# ---------------------------------------------------------------- risk register (issue 7)
@dataclass
class RisksLoaded(Message):
    """The register (read in a worker); `head` is the audit sequence it was read at."""

    rows: list[RiskRow]
    today: str
    head: int | None = None


@dataclass
class RiskMapsLoaded(Message):
    """What the Risks screen shows once its rows are up: the heat maps of the three stages,
    and the systems and matrices its filters and forms offer (read in the same worker)."""

    maps: dict[str, Heatmap]  # by stage
    systems: list[AiSystem]
    matrices: list[MatrixView]


@dataclass
class RiskDetailLoaded(Message):
    detail: RiskDetail


@dataclass
class SystemsLoaded(Message):
    """The inventory with each system's number of risks (read in a worker)."""

    systems: list[AiSystem]
    risks: dict[int, int]
    head: int | None = None


@dataclass
class SystemDetailLoaded(Message):
    detail: SystemDetail


@dataclass
class RegisterChanged(Message):
    """A write to the register or the inventory finished: say `summary`, show `target`
    (a risk or system id)."""

    summary: str
    target: int | None = None
    title: str = "Risks"


@dataclass
class RegisterFailed(Message):
    """A write failed and nothing was written; `reopen` gives the user their form back."""

    title: str
    error: str
    reopen: Callable[[], object] | None = None


@dataclass
class RisksSummaryLoaded(Message):
    """The Dashboard's risk box: the highest risks, the overdue reviews, the count."""

    top: list[RiskRow]
    overdue: list[RiskRow]
    total: int
