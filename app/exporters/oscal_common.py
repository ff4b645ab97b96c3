"""What the OSCAL exporters share: the plain view model they are given, metadata, props and the
JSON writer. Arrays are left out when empty (OSCAL arrays have at least one item)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.domain.oscal_ids import CROSSWALK_NS, OSCAL_VERSION


@dataclass(frozen=True, slots=True)
class ClauseView:
    """A clause as the exporters see it (document order; `parent` is the parent's ref)."""

    ref: str
    parent: str | None
    kind: str
    title: str
    text: str
    summary: str
    assessable: bool
    oscal_id: str | None = None  # the id an imported OSCAL catalog gave it
    attributes: tuple[tuple[str, str], ...] = ()  # e.g. ("requirement", "addressable")


@dataclass(frozen=True, slots=True)
class RegulationView:
    code: str
    version_label: str
    title: str
    short_title: str
    effective_date: str | None
    imported_at: str
    clauses: tuple[ClauseView, ...]
    attribution: str = ""


@dataclass(frozen=True, slots=True)
class ControlView:
    id: str
    name: str
    category: str
    objective: str
    guidance: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class MapView:
    """One mapping: clause ref → control, with everything the workspace knows of it."""

    ref: str
    control_id: str
    relationship: str
    matching: str
    strength: int
    coverage: str
    rationale: str
    author: str
    review_status: str
    reviewed_by: str | None
    reviewed_at: str | None
    updated_at: str


def metadata(title: str, last_modified: str, version: str) -> dict[str, Any]:
    return {"title": one_line(title), "last-modified": last_modified,
            "version": one_line(version) or "unversioned", "oscal-version": OSCAL_VERSION}


def prop(name: str, value: object, *, ours: bool = True) -> dict[str, str]:
    """A prop; ours carry the Crosswalk namespace, OSCAL's own (``label``) none."""
    out = {"name": name, "value": one_line(str(value))}
    if ours:
        out["ns"] = CROSSWALK_NS
    return out


def one_line(text: str) -> str:
    return " ".join(text.split())


def dumps(document: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON, indented, with a final newline."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
