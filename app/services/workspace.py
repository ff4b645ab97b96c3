"""Opening, creating and describing a workspace."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from app import __version__
from app.domain.clock import Clock, system_clock
from app.domain.controls import CONTROLS
from app.domain.text import clean_text
from app.errors import InvalidInput, WorkspaceError
from app.store import Store, Tx
from app.store.models import (
    AuditEvent,
    Clause,
    Control,
    ControlTest,
    Evidence,
    Mapping,
    Regulation,
    Workspace,
)
from app.store.store import DEFAULT_BUSY_TIMEOUT, Mode


def open_workspace(
    path: Path | str,
    *,
    create: bool = False,
    mode: Mode = "rw",
    actor: str = "unknown",
    clock: Clock = system_clock,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    name: str | None = None,
    workspace_id: str | None = None,
    library: bool = True,
) -> Store:
    """Open the workspace at `path`; with `create`, a missing one is created and seeded with
    the twelve controls and (unless `library` is off) the bundled regulations with their
    default mappings, in a single audited transaction. `workspace_id` (default: a random
    UUID) and `clock` make reproducible workspaces for tests and snapshots."""
    label = name or Path(path).stem

    def seed(tx: Tx) -> None:
        seed_workspace(tx, label, workspace_id or uuid.uuid4().hex)
        if library:
            from app.services.library import load_library

            load_library(tx)

    return Store.open(path, create=create, mode=mode, actor=actor, clock=clock,
                      busy_timeout=busy_timeout, seed=seed)


def clean_name(name: str) -> str:
    """A workspace name: one line of 1–200 printable characters."""
    try:
        return clean_text(name, "the workspace name", 200, required=True)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def seed_workspace(tx: Tx, name: str, workspace_id: str) -> None:
    """The content of every new workspace: its identity and the twelve controls."""
    now = tx.now
    ws = Workspace(id=workspace_id, name=name, created_at=now, created_by=tx.store.actor)
    tx.session.add(ws)
    tx.record("workspace.create", "workspace", ws.id,
              {"name": name, "crosswalk_version": __version__})
    for position, c in enumerate(CONTROLS, start=1):
        tx.session.add(Control(
            id=c.id, position=position, name=c.name, category=c.category,
            objective=c.objective, guidance=c.guidance, updated_at=now,
            updated_by=tx.store.actor,
        ))
    tx.record_many("control.create", "control",
                   [(c.id, {"name": c.name, "category": c.category}) for c in CONTROLS])


@dataclass(frozen=True, slots=True)
class WorkspaceStatus:
    """What `crosswalk status` reports."""

    workspace: str
    name: str
    workspace_id: str
    created_at: str
    schema_version: int
    crosswalk_version: str
    counts: dict[str, int]
    control_status: dict[str, int]
    audit_head_seq: int
    audit_head: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def workspace_status(store: Store) -> WorkspaceStatus:
    with store.read() as s:
        ws = s.exec(select(Workspace)).first()
        if ws is None:
            raise WorkspaceError(f"workspace {store.path} is damaged: its workspace record is "
                                 "missing (run `crosswalk verify`)")
        counts = {
            "controls": s.exec(select(func.count()).select_from(Control)).one(),
            "regulations": s.exec(select(func.count()).select_from(Regulation)).one(),
            "clauses": s.exec(select(func.count()).select_from(Clause)).one(),
            "mappings": s.exec(select(func.count()).select_from(Mapping)).one(),
            "evidence": s.exec(select(func.count()).select_from(Evidence)).one(),
            "control_tests": s.exec(select(func.count()).select_from(ControlTest)).one(),
            "audit_events": s.exec(select(func.count()).select_from(AuditEvent)).one(),
        }
        by_status = dict(
            s.exec(select(Control.status, func.count()).group_by(Control.status)).all()
        )
        head = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return WorkspaceStatus(
        workspace=str(store.path),
        name=ws.name,
        workspace_id=ws.id,
        created_at=ws.created_at,
        schema_version=store.schema_version,
        crosswalk_version=__version__,
        counts=counts,
        control_status=by_status,
        audit_head_seq=head.seq if head else 0,
        audit_head=head.hash if head else None,
    )
