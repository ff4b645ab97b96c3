"""The demo workspace: a fictional lender's credit-scoring programme, built through the services
so that its audit log is as real as any other. It grows as features land."""

from __future__ import annotations

from pathlib import Path

from app.errors import WorkspaceError
from app.services.controls import update_control
from app.services.demo_evidence import create_demo_evidence
from app.services.demo_exercise import create_demo_exercise
from app.services.demo_risks import StoryClock, create_demo_systems_and_risks
from app.services.mappings import add_mapping, review_mapping, update_mapping
from app.services.risks import link_risk
from app.services.workspace import open_workspace, workspace_status
from app.store import Store, files

DEMO_NAME = "Northwind Lending (demo)"
DEMO_CONTROLS: dict[str, tuple[str, str, str]] = {
    "GOV-1": ("Head of Compliance", "implemented",
              "GDPR, the EU AI Act and our lending rules are mapped clause by clause. Each new "
              "model goes through the AI Act classification and a DPIA before approval."),
    "GOV-2": ("Model Risk Manager", "partial",
              "The credit-scoring model has a risk register and independent validation; the "
              "fraud model's validation is scheduled for Q1."),
    "GOV-3": ("Data Protection Officer", "implemented",
              "Lawful basis recorded per data set; applicants can request an explanation and "
              "human review of automated credit decisions."),
    "GOV-4": ("ML Platform Lead", "partial",
              "Training runs are logged with data snapshot and commit; inference logs are kept "
              "for 5 years but not yet hash-chained."),
    "SEC-1": ("CISO", "implemented",
              "Role-based access to the feature store; quarterly access reviews; restricted "
              "training data reads are logged."),
    "SEC-2": ("ML Platform Lead", "planned",
              "Model signing in the registry is planned for the next platform release; "
              "adversarial testing is done by hand before major releases."),
    "SEC-3": ("Cloud Infrastructure Lead", "implemented",
              "Training and serving run from reviewed Terraform; images are scanned before "
              "deployment."),
    "SEC-4": ("CISO", "partial",
              "Incident playbooks exist for data breaches; ML-specific playbooks (drift, "
              "poisoning) are being written."),
    "OPS-1": ("ML Platform Lead", "implemented",
              "All models are promoted through the pipeline with validation gates and a "
              "recorded approval."),
    "OPS-2": ("Model Monitoring Lead", "partial",
              "PSI on input features daily with alert thresholds; outcome-based concept drift "
              "checks start when 90-day default labels arrive."),
    "OPS-3": ("ML Platform Lead", "implemented",
              "Data snapshots and models are versioned in the registry with full lineage."),
    "OPS-4": ("Head of Credit Analytics", "not-started", ""),
}


# The analysts' mapping work so far: reviews along the trail, their own mappings, one edit.
DEMO_REVIEWED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("GDPR Art. 5(1)(f)", "SEC-1", ("reviewed", "approved")),
    ("GDPR Art. 5(1)(c)", "GOV-3", ("reviewed", "approved")),
    ("GDPR Art. 22(1)", "GOV-2", ("reviewed",)),
    ("EU-AI-ACT Art. 9(1)", "GOV-2", ("reviewed", "approved")),
    ("EU-AI-ACT Art. 15(1)", "OPS-2", ("reviewed",)),
)
DEMO_ADDED: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("GDPR Art. 35(7)(b)", "GOV-2", "intersects-with", "partial",
     "Model validation assesses whether the scoring is necessary and proportionate to its "
     "lending purpose.", 6),
    ("GDPR Art. 35(7)(b)", "GOV-3", "intersects-with", "partial",
     "The DPO records the lawful basis and minimisation review of each scoring feature.", 5),
)


def _demo_mappings(store: Store) -> None:
    for ref, control, relationship, coverage, rationale, strength in DEMO_ADDED:
        add_mapping(store, ref, control, relationship=relationship, coverage=coverage,
                    rationale=rationale, strength=strength)
    for ref, control, steps in DEMO_REVIEWED:
        for status in steps:
            review_mapping(store, ref, control, status)
    update_mapping(store, "GDPR Art. 22(1)", "GOV-2", strength=8,  # reopens its review
                   rationale="Applicants get an explanation and a human review of automated "
                             "credit refusals.")


def create_demo(path: Path, *, actor: str, reset: bool = False) -> Store:
    """Create the demo workspace at `path` (or open it if it is there and `reset` is off)."""
    state = files.inspect(path)  # refuses anything that is not a workspace: we never delete it
    if state.exists and not state.empty:
        store = open_workspace(path, actor=actor)
        if workspace_status(store).name != DEMO_NAME:
            store.close()
            raise WorkspaceError(f"{path} is a workspace but not a demo one; the demo neither "
                                 "opens nor replaces it — choose another path")
        if not reset:
            return store
        store.close()
        files.remove_with_side_files(path)
        _remove_blobs(path)
    elif state.exists:
        raise WorkspaceError(f"{path} exists and is empty; remove it or choose another path")
    clock = StoryClock()  # the demo's story starts a little over a year ago
    clock.set(400)
    store = open_workspace(path, create=True, actor=actor, name=DEMO_NAME, clock=clock)
    for control_id, (owner, status, narrative) in DEMO_CONTROLS.items():
        update_control(store, control_id, owner=owner, status=status, narrative=narrative)
    _demo_mappings(store)
    create_demo_systems_and_risks(store, clock)
    clock.set(30)  # the drift tabletop, a month ago
    create_demo_exercise(store, clock)
    clock.set(1 / 24)  # the evidence was gathered over the past year, attached an hour ago
    create_demo_evidence(store)
    link_risk(store, "RK-2", evidence=["EV-3"])
    clock.release()
    return store


def _remove_blobs(path: Path) -> None:
    """The old demo's evidence files go with it."""
    import shutil

    from app.store.blobs import BlobStore

    shutil.rmtree(BlobStore.beside(path).root, ignore_errors=True)
