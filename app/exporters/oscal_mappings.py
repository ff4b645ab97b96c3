"""A regulation version's mappings as one OSCAL 1.2 ``mapping-collection``.

- One ``mapping``: source-resource = the regulation catalog, target-resource = the control
  catalog, each ``{"type": "catalog", "href": "#<uuid>"}`` pointing to a back-matter resource
  whose rlink names the exported file (`catalog_href`, `CATALOG_HREF`).
- ``provenance``: method ``human`` (every mapping is an analyst's or our team's judgement),
  the most common matching rationale, and a status from the review trail: ``complete`` when
  every mapping is approved, ``draft`` while any is a draft, else ``not-complete``.
- One ``map`` per mapping (stable UUID from regulation, version, ref and control):
  relationship, matching-rationale, source ``{"type": "control", "id-ref": <clause id>}``,
  target ``{"type": "control", "id-ref": "gov-1"}``, remarks = our rationale. OSCAL has no
  field for the rest, so Crosswalk props (namespace `CROSSWALK_NS`) carry it exactly:
  ``strength`` (0–10), ``coverage`` (full|partial: how far the control meets the clause),
  ``review-status``, ``reviewed-by``, ``reviewed-at``, ``author``. A partial mapping also
  gets a standard qualifier (subject source, has-requirement, addressable) so that other
  tools see that part of the clause is not met. We do not write ``coverage`` or
  ``confidence-score``: OSCAL's coverage is of the *target* by the source, and strength is not
  a confidence.
- ``source-gap-summary``: the gaps, as `crosswalk gaps` counts them — obligations (assessable
  clauses holding no assessable clause) that no mapping on them or on a clause enclosing them
  covers — by id, leaving out any that are catalog groups (a part with only definitions).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.domain.mappings import RELATIONSHIPS
from app.domain.oscal_ids import control_oscal_id, stable_uuid
from app.exporters.oscal_common import MapView, RegulationView, metadata, prop
from app.exporters.oscal_controls import CATALOG_HREF, CATALOG_TITLE
from app.exporters.oscal_regulation import catalog_href, layout, regulation_ids


def mapping_collection(reg: RegulationView, maps: list[MapView],
                       gaps: list[str] | None = None) -> dict[str, Any]:
    """The OSCAL document (``{"mapping-collection": …}``); ValueError without maps (OSCAL
    needs at least one). `gaps`: the refs of the obligations no mapping covers, as
    `crosswalk gaps` finds them (without: the assessable clauses with no mapping of their
    own)."""
    if not maps:
        raise ValueError(f"{reg.code} {reg.version_label} has no mappings to export")
    ids = regulation_ids(reg)
    key = (reg.code, reg.version_label)
    last = max([reg.imported_at, *(m.updated_at for m in maps)])
    source_uuid = stable_uuid("resource", *key)
    target_uuid = stable_uuid("resource", "crosswalk-controls")
    matching = Counter(m.matching for m in maps).most_common(1)
    statuses = {m.review_status for m in maps}
    status = ("complete" if statuses == {"approved"} else
              "draft" if "draft" in statuses else "not-complete")
    mapping: dict[str, Any] = {
        "uuid": stable_uuid("mapping", *key),
        "source-resource": {"type": "catalog", "href": f"#{source_uuid}"},
        "target-resource": {"type": "catalog", "href": f"#{target_uuid}"},
        "maps": [_map(reg, ids, m) for m in maps],
    }
    mapped = {m.ref for m in maps}
    groups = layout(reg, mapped)  # divisions are groups of the catalog, not gaps
    unmapped = [ids[ref] for ref in gaps if ref in ids and ref not in groups] \
        if gaps is not None else [ids[c.ref] for c in reg.clauses
                                  if c.assessable and c.ref not in mapped and c.ref not in groups]
    if unmapped:
        mapping["source-gap-summary"] = {
            "uuid": stable_uuid("gap", *key),
            "unmapped-controls": [{"with-ids": unmapped}],
        }
    return {"mapping-collection": {
        "uuid": stable_uuid("mapping-collection", *key, last),
        "metadata": metadata(f"{reg.code} {reg.version_label} mapped to the Crosswalk MLOps "
                             "controls", last, reg.version_label)
        | {"props": [prop("regulation-code", reg.code),
                     prop("regulation-version", reg.version_label)]},
        "provenance": {
            "method": "human",
            "matching-rationale": matching[0][0] if matching else "semantic",
            "status": status,
            "mapping-description": (
                f"Which of the twelve Crosswalk MLOps governance controls meet each clause of "
                f"{reg.code} {reg.version_label}. A relationship reads 'the clause is "
                "<relationship> the control'. Strength, coverage and review status are "
                "Crosswalk props of each map; the rationale is in its remarks."),
        },
        "mappings": [mapping],
        "back-matter": {"resources": [
            {"uuid": source_uuid, "title": f"{reg.code} {reg.version_label}",
             "props": [prop("regulation-code", reg.code),
                       prop("regulation-version", reg.version_label)],
             "rlinks": [{"href": catalog_href(*key), "media-type": "application/json"}]},
            {"uuid": target_uuid, "title": CATALOG_TITLE,
             "rlinks": [{"href": CATALOG_HREF, "media-type": "application/json"}]},
        ]},
    }}


def _map(reg: RegulationView, ids: dict[str, str], m: MapView) -> dict[str, Any]:
    props = [prop("strength", m.strength), prop("coverage", m.coverage),
             prop("review-status", m.review_status), prop("author", m.author)]
    if m.reviewed_by:
        props.append(prop("reviewed-by", m.reviewed_by))
    if m.reviewed_at:
        props.append(prop("reviewed-at", m.reviewed_at))
    out: dict[str, Any] = {
        "uuid": stable_uuid("map", reg.code, reg.version_label, m.ref, m.control_id),
        "matching-rationale": m.matching,
        "relationship": m.relationship,
        "sources": [{"type": "control", "id-ref": ids[m.ref]}],
        "targets": [{"type": "control", "id-ref": control_oscal_id(m.control_id)}],
        "props": props,
        "remarks": m.rationale,
    }
    if m.coverage == "partial" and m.relationship != "no-relationship":
        out["qualifiers"] = [{
            "subject": "source", "predicate": "has-requirement", "category": "addressable",
            "description": f"{m.control_id} meets {reg.code} {m.ref} only in part."}]
    return out


def check_relationships(document: dict[str, Any]) -> list[str]:
    """Problems with the maps' relationships (the schema does not enumerate them): one
    message per map whose relationship is outside the OSCAL 1.2 vocabulary."""
    problems = []
    for i, mapping in enumerate(document.get("mapping-collection", {}).get("mappings", [])):
        for j, m in enumerate(mapping.get("maps", [])):
            if m.get("relationship") not in RELATIONSHIPS:
                problems.append(f"mappings[{i}].maps[{j}]: relationship "
                                f"{m.get('relationship')!r} is not one of "
                                f"{', '.join(RELATIONSHIPS)}")
    return problems
