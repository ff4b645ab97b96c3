"""Playbooks in the workspace: the shipped ones (brought in, audited, the first time something
uses or edits them) and the analyst's own, imported from our YAML shape or from CACAO 2.0.

Reading never writes: `list_playbooks` shows the workspace's playbooks and the shipped ones
not brought in yet. An exercise keeps a copy of its playbook as it stood when the exercise
was created, so editing a playbook later never rewrites an exercise's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from app.domain.playbooks import Playbook, bundled_playbooks, parse_playbook
from app.errors import ImportFailed, InvalidInput, NotFound
from app.store import Store
from app.store.models import Exercise
from app.store.models import Playbook as PlaybookRow
from app.store.store import Tx

MAX_FILE = 20 << 20


@dataclass(frozen=True, slots=True)
class PlaybookView:
    playbook: Playbook
    origin: str  # shipped, yaml, cacao
    in_workspace: bool
    source_name: str = ""
    notes: tuple[str, ...] = ()
    exercises: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.playbook.as_data() | {
            "origin": self.origin, "in_workspace": self.in_workspace,
            "source_name": self.source_name, "notes": list(self.notes),
            "exercises": self.exercises}


def definition_json(pb: Playbook) -> str:
    return json.dumps(pb.as_data(), sort_keys=True, ensure_ascii=False)


def playbook_of(definition: str) -> Playbook:
    return parse_playbook(json.loads(definition))


def _view(row: PlaybookRow, exercises: int = 0) -> PlaybookView:
    return PlaybookView(playbook_of(row.definition), row.origin, True, row.source_name,
                        tuple(json.loads(row.notes)), exercises)


def list_playbooks(store: Store) -> list[PlaybookView]:
    """Every playbook: the workspace's, then the shipped ones not brought in, by title."""
    with store.read() as session:
        counts = dict(session.exec(select(Exercise.playbook_id, func.count())
                                   .group_by(Exercise.playbook_id)).all())
        rows = {r.slug: _view(r, counts.get(r.id, 0)) for r in session.exec(select(PlaybookRow))}
    for pb in bundled_playbooks():
        rows.setdefault(pb.id, PlaybookView(pb, "shipped", False))
    return sorted(rows.values(), key=lambda v: (v.playbook.title.casefold(), v.playbook.id))


def get_playbook(store: Store, slug: str) -> PlaybookView:
    key = str(slug).strip().lower()
    for view in list_playbooks(store):
        if view.playbook.id == key:
            return view
    raise NotFound(f"no playbook {slug!r} (playbooks: "
                   f"{', '.join(v.playbook.id for v in list_playbooks(store))})")


def ensure_playbook(tx: Tx, slug: str) -> PlaybookRow:
    """The workspace row of playbook `slug`, bringing a shipped one in (audited)."""
    key = str(slug).strip().lower()
    row = tx.session.exec(select(PlaybookRow).where(PlaybookRow.slug == key)).first()
    if row is not None:
        return row
    shipped = {pb.id: pb for pb in bundled_playbooks()}
    if key not in shipped:
        have = sorted({r.slug for r in tx.session.exec(select(PlaybookRow))} | set(shipped))
        raise NotFound(f"no playbook {slug!r} (playbooks: {', '.join(have)})")
    return _insert(tx, shipped[key], "shipped", "", ())


def _insert(tx: Tx, pb: Playbook, origin: str, source: str, notes: tuple[str, ...]
            ) -> PlaybookRow:
    row = PlaybookRow(slug=pb.id, title=pb.title, scenario=pb.scenario, severity=pb.severity,
                      definition=definition_json(pb), origin=origin, source_name=source,
                      notes=json.dumps(list(notes), ensure_ascii=False), created_at=tx.now,
                      created_by=tx.store.actor, updated_at=tx.now)
    tx.session.add(row)
    tx.session.flush()
    assert row.id is not None
    tx.record("playbook.add", "playbook", row.id,
              {"slug": pb.id, "title": pb.title, "origin": origin, "source": source,
               "steps": len(pb.steps), "notes": list(notes)})
    return row


def read_playbook_file(path: Path) -> tuple[Playbook, str, tuple[str, ...]]:
    """(playbook, origin, notes) from a file: CACAO 2.0 JSON, or our own YAML/JSON shape."""
    import codecs

    from app.importers.source import read_bytes
    from app.importers.yaml_safe import load_yaml

    data = read_bytes(path, limit=MAX_FILE)
    if data.removeprefix(codecs.BOM_UTF8).lstrip()[:1] == b"{":
        try:
            probe = json.loads(data.removeprefix(codecs.BOM_UTF8))
        except (ValueError, UnicodeDecodeError, RecursionError):
            probe = None  # the readers below say what is wrong with it
        if isinstance(probe, dict) and ("spec_version" in probe or
                                         probe.get("type") == "playbook"):
            from app.importers.cacao import read_cacao

            imported = read_cacao(data.removeprefix(codecs.BOM_UTF8), path.name)
            return imported.playbook, "cacao", imported.notes
    parsed = load_yaml(data, path)
    try:
        return parse_playbook(parsed, str(path)), "yaml", ()
    except ValueError as exc:  # name the file once, whether or not the sentence does
        message = str(exc)
        raise ImportFailed(message if message.startswith(str(path))
                           else f"{path}: {message}") from None


def import_playbook(store: Store, path: Path, *, replace: bool = False) -> PlaybookView:
    """Add the playbook in `path`; one whose id is taken is refused unless `replace` (the
    exercises already made keep the version they were created with)."""
    pb, origin, notes = read_playbook_file(path)
    with store.write() as tx:
        row = tx.session.exec(select(PlaybookRow).where(PlaybookRow.slug == pb.id)).first()
        taken = row is not None or pb.id in {b.id for b in bundled_playbooks()}
        if taken and not replace:
            raise InvalidInput(f"playbook {pb.id} already exists; give --replace to replace "
                               "it (exercises keep the version they were made with)")
        if row is None:
            row = _insert(tx, pb, origin, path.name, notes)
        else:
            _replace(tx, row, pb, "playbook.replace",
                     {"origin": origin, "source_name": path.name,
                      "notes": json.dumps(list(notes), ensure_ascii=False)})
    return PlaybookView(pb, origin, True, path.name, notes)


def save_playbook(store: Store, pb: Playbook) -> dict[str, Any]:
    """Store an edited playbook (the step editor): checked again, audited with what changed."""
    try:
        pb = parse_playbook(pb.as_data())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with store.write() as tx:
        row = ensure_playbook(tx, pb.id)
        return _replace(tx, row, pb, "playbook.edit", {})


def _replace(tx: Tx, row: PlaybookRow, pb: Playbook, action: str,
             extra: dict[str, Any]) -> dict[str, Any]:
    old = playbook_of(row.definition)
    wanted = {"title": pb.title, "scenario": pb.scenario, "severity": pb.severity,
              "definition": definition_json(pb)} | extra
    change = {f: {"from": getattr(row, f), "to": v} for f, v in wanted.items()
              if getattr(row, f) != v and f != "definition"}
    for part in ("description", "detection", "escalation", "clocks"):
        if getattr(old, part) != getattr(pb, part):
            change[part] = "changed"
    if row.definition != wanted["definition"]:
        change |= {k: v for k, v in (("steps", _step_change(old, pb)),) if v}
    if not change:
        return {}
    for f, v in wanted.items():
        setattr(row, f, v)
    row.updated_at = tx.now
    tx.session.add(row)
    tx.record(action, "playbook", row.id or 0, change)
    return change


def _step_change(old: Playbook, new: Playbook) -> dict[str, Any]:
    """What an edit did to the steps, in words an auditor reads: added, removed, changed,
    and whether the order moved."""
    before = {s.name: s for s in old.steps}
    after = {s.name: s for s in new.steps}
    out: dict[str, Any] = {
        "added": [n for n in after if n not in before],
        "removed": [n for n in before if n not in after],
        "changed": [n for n in after if n in before and after[n] != before[n]]}
    common_old = [n for n in before if n in after]
    common_new = [n for n in after if n in before]
    if common_old != common_new:
        out["order"] = list(after)
    return {k: v for k, v in out.items() if v}
