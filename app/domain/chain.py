"""The audit hash chain: canonical JSON, event hashes, state digests and chain verification.

An event's canonical form is the canonical JSON object of its fields (sorted keys, no spaces,
UTF-8) with the change embedded as the canonical JSON text stored with the event. Its hash is
``SHA-256(prev_hash ‖ canonical event)`` over the UTF-8 bytes, hex encoded. The first event's
``prev_hash`` is :data:`GENESIS`. An entity's state digest is the SHA-256 of the canonical JSON of
its row (column name → stored value), so any edit made outside Crosswalk shows up in `verify`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

def _blob(value: object) -> object:
    """Binary values (only ever put there by hand) get a distinct, lossless JSON form."""
    if isinstance(value, bytes):
        return {"$blob": value.hex()}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_blob
).encode
_dumps_str = json.JSONEncoder(ensure_ascii=False, default=_blob).encode


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 characters kept, NaN refused."""
    return _dumps(value)


def _utf8(text: str) -> bytes:
    # surrogateescape: text read back from bytes that were not UTF-8 hashes to those bytes
    return text.encode("utf-8", "surrogateescape")


def digest(text: str) -> str:
    return hashlib.sha256(_utf8(text)).hexdigest()


def state_digest(row: Mapping[str, Any]) -> str:
    """Digest of an entity's stored state: its columns and their values as stored."""
    return digest(canonical_json(dict(row)))


@dataclass(frozen=True, slots=True)
class EventFields:
    """The hashed fields of an audit event (everything but ``prev_hash`` and ``hash``)."""

    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    change: str  # canonical JSON text
    state_digest: str | None


def canonical_event(e: EventFields) -> str:
    """The event's canonical JSON; `change` is spliced in as the canonical text it is stored as."""
    sd = "null" if e.state_digest is None else _dumps_str(e.state_digest)
    return (
        f'{{"action":{_dumps_str(e.action)},"actor":{_dumps_str(e.actor)},'
        f'"at":{_dumps_str(e.at)},"change":{e.change},"entity":{_dumps_str(e.entity)},'
        f'"entity_id":{_dumps_str(e.entity_id)},"seq":{int(e.seq)},"state_digest":{sd}}}'
    )


def event_hash(prev_hash: str, e: EventFields) -> str:
    return hashlib.sha256(_utf8(prev_hash + canonical_event(e))).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of `verify`: where (a seq, or an entity) and a plain sentence."""

    message: str
    seq: int | None = None
    entity: str | None = None
    entity_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ChainResult:
    """What walking the chain found: the count, the head and the chain's own problems."""

    events: int
    head_seq: int
    head_hash: str
    problems: list[Problem]
    last_state: dict[tuple[str, str], tuple[int, str | None]]  # (entity, id) → (seq, digest)


def walk_chain(rows: Iterable[tuple[Any, ...]]) -> ChainResult:
    """Check rows ``(seq, at, actor, action, entity, entity_id, change, state_digest, prev_hash,
    hash)`` in seq order: numbering, links and hashes. Also collects each entity's last digest.

    An altered event breaks its own hash; a deleted one leaves a gap in the numbering; an
    inserted or reordered one breaks the link (``prev_hash``) of the event after it.
    """
    problems: list[Problem] = []
    last_state: dict[tuple[str, str], tuple[int, str | None]] = {}
    prev = GENESIS
    expected = 1
    count = 0
    head_seq = 0
    for seq, at, actor, action, entity, entity_id, change, sd, prev_hash, stored in rows:
        count += 1
        if seq != expected:
            if seq > expected:
                gap = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}–{seq - 1}"
                msg = f"audit event {gap} missing before seq {seq} (deleted from the log)"
            else:
                msg = f"audit event seq {seq} is out of order after seq {expected - 1}"
            problems.append(Problem(msg, seq=seq))
        try:
            computed = event_hash(str(prev_hash), EventFields(
                seq, at, actor, action, entity, entity_id, change, sd))
        except (TypeError, ValueError):  # a field of the wrong type: edited by hand
            computed = None
        if computed != stored:
            problems.append(Problem(
                f"audit event seq {seq} was altered (its hash does not match its content)",
                seq=seq))
        elif prev_hash != prev and seq == expected:
            problems.append(Problem(
                f"audit event seq {seq} does not link to seq {seq - 1} "
                "(an event was inserted, replaced or reordered)", seq=seq))
        last_state[(str(entity), str(entity_id))] = (seq, sd)
        prev = stored
        expected = seq + 1
        head_seq = seq
    return ChainResult(count, head_seq, prev, problems, last_state)


def compare_states(
    last_state: Mapping[tuple[str, str], tuple[int, str | None]],
    current: Mapping[tuple[str, str], str],
    audited_entities: Iterable[str],
) -> list[Problem]:
    """Compare the rows as they are now with the digests their last events recorded."""
    problems: list[Problem] = []
    for key, now in current.items():
        entity, entity_id = key
        recorded = last_state.get(key)
        if recorded is None:
            problems.append(Problem(
                f"{entity} {entity_id} has no audit event (written outside Crosswalk)",
                entity=entity, entity_id=entity_id))
        elif recorded[1] != now:
            what = (
                "exists although audit event seq {} recorded its deletion"
                if recorded[1] is None
                else "differs from the state recorded by audit event seq {}"
            ).format(recorded[0])
            problems.append(Problem(
                f"{entity} {entity_id} {what} (edited outside Crosswalk)",
                seq=recorded[0], entity=entity, entity_id=entity_id))
    audited = set(audited_entities)
    for key, (seq, sd) in last_state.items():
        if key[0] in audited and sd is not None and key not in current:
            problems.append(Problem(
                f"{key[0]} {key[1]} recorded by audit event seq {seq} is missing "
                "(deleted outside Crosswalk)", seq=seq, entity=key[0], entity_id=key[1]))
    return problems

