"""Reading the audit log and verifying the hash chain against the workspace as it is now."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import func, select

from app.domain.chain import Problem, compare_states, walk_chain
from app.domain.text import ellipsis
from app.store import Store
from app.store.models import AUDITED, AuditEvent
from app.store.schema import expected_objects

Progress = Callable[[int, int], None]
_EVENT_COLUMNS = ("seq, at, actor, action, entity, entity_id, change, state_digest, "
                  "prev_hash, hash")


@dataclass(slots=True)
class VerifyReport:
    """Outcome of `verify`: intact when no problem was found."""

    events: int
    head_seq: int
    head: str
    rows_checked: int
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0  # evidence files re-hashed
    file_problems: int = 0  # how many of the problems (the last ones) are about those files

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "events": self.events,
            "head_seq": self.head_seq,
            "head": self.head,
            "rows_checked": self.rows_checked,
            "files_checked": self.files_checked,
            "problems": [p.as_dict() for p in self.problems],
        }


def verify(store: Store, *, expect_head: str | None = None,
           on_progress: Progress | None = None) -> VerifyReport:
    """Recompute the chain and compare every audited row with its last recorded digest.

    Finds events altered, deleted, inserted or reordered, rows edited, added or removed
    outside Crosswalk, and SQLite-level damage. `expect_head` (a head hash recorded earlier,
    e.g. in an exported dossier) must still be in the chain: that catches a log cut short or
    rebuilt from scratch, which a chain on its own cannot show. Then every evidence file is
    re-hashed, and each one missing or altered is named by its evidence and version.
    `on_progress(done, total)` is called every few thousand events (then once per file);
    raising from it cancels.
    """
    from app.services.evidence_status import check_blobs

    problems: list[Problem] = []
    with store.raw() as run:  # one snapshot: a write landing meanwhile is not "tampering"
        check = run("PRAGMA quick_check").scalars().all()
        if check != ["ok"]:
            problems.append(Problem(f"SQLite integrity check failed: {'; '.join(check[:3])}"))
        problems += _foreign_objects(run)
        total = run("SELECT count(*) FROM audit_event").scalar_one()
        rows = run(f"SELECT {_EVENT_COLUMNS} FROM audit_event ORDER BY seq")
        chain = walk_chain(_counting(rows, total, on_progress))
        problems += chain.problems
        if expect_head and run("SELECT 1 FROM audit_event WHERE hash = ?",
                               (expect_head.lower(),)).first() is None:
            problems.append(Problem(
                f"the expected head {expect_head} is not in the audit chain "
                "(the log was cut short or rebuilt)"))
        current = store.current_digests(run)
    # the log's own damage first (it explains row mismatches that follow from it)
    problems += compare_states(chain.last_state, current, AUDITED)
    files, blob_problems = check_blobs(store, on_progress)
    return VerifyReport(chain.events, chain.head_seq, chain.head_hash, len(current),
                        problems + blob_problems, files, len(blob_problems))


def _foreign_objects(run: Callable[..., Any]) -> list[Problem]:
    """Triggers, views, tables or indexes that Crosswalk's schema does not have: a trigger
    could make Crosswalk's own writes change rows without a trace."""
    found = set(run("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    return [Problem(f"{kind} {name!r} is not part of Crosswalk's schema (added outside "
                    "Crosswalk)") for kind, name in sorted(found - expected_objects())]


def _counting(rows: Any, total: int, on_progress: Progress | None) -> Iterator[tuple[Any, ...]]:
    if on_progress is None:
        yield from rows
        return
    for done, row in enumerate(rows, start=1):
        if done % 5000 == 0:
            on_progress(done, total)
        yield row
    on_progress(total, total)


def head_seq(store: Store) -> int:
    """The sequence number of the newest audit event (0 for none): it changes with every
    write, so a view can tell whether what it shows is still current."""
    with store.read() as s:
        return s.exec(select(func.max(AuditEvent.seq))).one() or 0


def event_count(store: Store) -> int:
    with store.read() as s:
        return s.exec(select(func.count()).select_from(AuditEvent)).one()


def events(store: Store, *, limit: int = 50, before_seq: int | None = None,
           entity: str | None = None, entity_id: str | None = None) -> list[AuditEvent]:
    """Newest first, a page at a time: `before_seq` continues from the last page's oldest."""
    with store.read() as s:
        q = select(AuditEvent)
        if before_seq is not None:
            q = q.where(AuditEvent.seq < before_seq)
        if entity is not None:
            q = q.where(AuditEvent.entity == entity)
        if entity_id is not None:
            q = q.where(AuditEvent.entity_id == entity_id)
        return list(s.exec(q.order_by(AuditEvent.seq.desc()).limit(limit)).all())


def event_dict(e: AuditEvent) -> dict[str, Any]:
    """The stable JSON shape of an audit event (`log --json`)."""
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "change": parse_change(e.change),
        "state_digest": e.state_digest,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def parse_change(change_json: str) -> Any:
    """The change of an event; text that is not JSON (edited by hand) is returned as is, and
    `verify` reports the event as altered."""
    try:
        return json.loads(change_json)
    except (TypeError, ValueError):
        return change_json


def change_summary(change_json: str, width: int = 60) -> str:
    """One line for a change: ``owner: — → Dana; status: planned → implemented``."""
    change = parse_change(change_json)
    if not isinstance(change, dict):
        return _short(change, width)
    parts = []
    for key, value in change.items():
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            value = f"{_short(value['from']) or '—'} → {_short(value['to']) or '—'}"
        else:
            value = _short(value)
        parts.append(f"{key}: {value}")
    return ellipsis("; ".join(parts), width)


def _short(value: Any, width: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return ellipsis(" ".join(text.split()), width)
