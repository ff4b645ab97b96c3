"""The twelve controls: reading them and editing the analyst's fields."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.domain.controls import ControlStatus, normalise_control_id
from app.domain.text import clean_text
from app.errors import InvalidInput, NotFound
from app.store import Store
from app.store.models import Control

MAX_OWNER = 200
MAX_NARRATIVE = 20_000


def list_controls(store: Store) -> list[Control]:
    with store.read() as s:
        return list(s.exec(select(Control).order_by(Control.position)).all())


def _control_id(text: str) -> str:
    try:
        return normalise_control_id(text)
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def get_control(store: Store, control_id: str) -> Control:
    cid = _control_id(control_id)
    with store.read() as s:
        row = s.get(Control, cid)
    if row is None:  # the twelve are seeded in every workspace; absent means tampering
        raise NotFound(f"control {cid} is missing from workspace {store.path}")
    return row


def validate_fields(owner: str | None = None, status: str | ControlStatus | None = None,
                    narrative: str | None = None) -> dict[str, str]:
    """Check and normalise the analyst's fields; the TUI form calls this before closing."""
    try:
        wanted: dict[str, str] = {}
        if owner is not None:
            wanted["owner"] = clean_text(owner, "owner", MAX_OWNER)
        if status is not None:
            wanted["status"] = ControlStatus.parse(str(status)).value
        if narrative is not None:
            wanted["narrative"] = clean_text(narrative, "narrative", MAX_NARRATIVE,
                                             multiline=True)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return wanted


def update_control(
    store: Store,
    control_id: str,
    *,
    owner: str | None = None,
    status: str | ControlStatus | None = None,
    narrative: str | None = None,
) -> tuple[Control, dict[str, Any]]:
    """Change the analyst's fields of one control; return it and the change (empty: no-op).

    The change records each field as ``{"from": old, "to": new}``; an unchanged call writes
    nothing and appends no event.
    """
    cid = _control_id(control_id)
    wanted = validate_fields(owner, status, narrative)
    if not wanted:
        raise InvalidInput("nothing to change: give an owner, a status or a narrative")
    with store.write() as tx:
        row = tx.session.get(Control, cid)
        if row is None:
            raise NotFound(f"control {cid} is missing from workspace {store.path}")
        change = tx.update(row, wanted, "control.update", "control", cid)
    return row, change


def control_dict(c: Control, *, detail: bool = False) -> dict[str, Any]:
    """The stable JSON shape of a control (`controls --json`, `control show --json`)."""
    out: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "category": c.category,
        "status": c.status,
        "owner": c.owner,
    }
    if detail:
        out |= {
            "objective": c.objective,
            "guidance": c.guidance,
            "narrative": c.narrative,
            "updated_at": c.updated_at,
            "updated_by": c.updated_by,
        }
    return out
