"""The twelve controls as an OSCAL catalog.

Groups ``gov``, ``sec``, ``ops`` (titled with the category); each control has id ``gov-1``, a
``label`` prop ``GOV-1``, our name as title, our objective as the ``statement`` part and our
guidance as the ``guidance`` part. UUID and ids are stable; last-modified is the latest
change to a control in the workspace, so re-exporting an unchanged workspace gives the same
bytes.
"""

from __future__ import annotations

from typing import Any

from app.domain.controls import CATEGORIES
from app.domain.oscal_ids import control_oscal_id, stable_uuid
from app.exporters.oscal_common import ControlView, metadata, one_line, prop

CATALOG_TITLE = "Crosswalk MLOps governance controls"
CATALOG_VERSION = "1"
CATALOG_HREF = "crosswalk-controls.catalog.json"


def controls_catalog(controls: list[ControlView]) -> dict[str, Any]:
    """The OSCAL document (``{"catalog": …}``)."""
    last = max((c.updated_at for c in controls), default="2026-01-01T00:00:00Z")
    groups = []
    for prefix, category in CATEGORIES.items():
        members = [c for c in controls if c.id.startswith(f"{prefix}-")]
        if not members:
            continue
        groups.append({"id": prefix.lower(), "title": category,
                       "controls": [_control(c) for c in members]})
    return {"catalog": {
        "uuid": stable_uuid("catalog", "crosswalk-controls", CATALOG_VERSION, last),
        "metadata": metadata(CATALOG_TITLE, last, CATALOG_VERSION)
        | {"remarks": "The twelve MLOps governance controls of Crosswalk; objectives and "
                      "guidance are written by the Crosswalk team."},
        "groups": groups,
    }}


def _control(c: ControlView) -> dict[str, Any]:
    oid = control_oscal_id(c.id)
    parts = [{"id": f"{oid}_smt", "name": "statement", "prose": c.objective.strip()}]
    if c.guidance.strip():
        parts.append({"id": f"{oid}_gdn", "name": "guidance", "prose": c.guidance.strip()})
    return {"id": oid, "title": one_line(c.name),
            "props": [prop("label", c.id, ours=False), prop("sort-id", oid, ours=False)],
            "parts": parts}
