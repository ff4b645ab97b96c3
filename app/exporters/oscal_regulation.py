"""One regulation version as an OSCAL catalog.

Layout (`layout`): the structural divisions at the top of the tree — chapters, parts,
subparts, titles and sections that are not CFR ``§`` sections — become OSCAL **groups**;
every other clause (article, paragraph, point, annex, CFR section…) becomes a **control**,
with the clauses inside it as nested controls, so that every ref can be the subject of a map.
A division that carries a mapping stays a control for the same reason. Top-level recitals go
into a group ``recitals``.

Each control: id from `app.domain.oscal_ids` (``art_32.1.b``), title = the clause's title
(else its ref), a ``label`` prop with the ref (our OSCAL importer reads it back as the ref),
Crosswalk props ``kind`` and, when false, ``assessable``; our summary as a part ``summary``
in the Crosswalk namespace (the catalog importer reads all of these back, so an unchanged
export re-imported as a new version diffs as unchanged; a title that is only the ref stands
for no title; the recitals group carries the Crosswalk prop ``container`` and is no clause);
and the legal text as the ``statement`` part **only when the workspace has it** (the analyst
imported the official document) — the bundled library holds no legal text. UUIDs are
stable; last-modified is when the version was imported or its text last filled in.
"""

from __future__ import annotations

import re
from typing import Any

from app.domain.oscal_ids import CROSSWALK_NS, clause_oscal_ids, stable_uuid
from app.exporters.oscal_common import ClauseView, RegulationView, metadata, one_line, prop

GROUP_KINDS = frozenset({"chapter", "part", "subpart", "title", "section"})


def catalog_href(code: str, version_label: str) -> str:
    """The file name a regulation catalog is exported under (mapping collections point to it)."""
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in version_label)
    return f"{code.lower()}-{safe}.catalog.json"


def layout(reg: RegulationView, mapped: set[str]) -> set[str]:
    """The refs that become groups (see the module doc)."""
    groups: set[str] = set()
    for c in reg.clauses:
        if (c.kind in GROUP_KINDS and not c.ref.startswith("§") and c.ref not in mapped
                and (c.parent is None or c.parent in groups)):
            groups.add(c.ref)
    return groups


def regulation_ids(reg: RegulationView) -> dict[str, str]:
    """ref → OSCAL id of every clause of the version."""
    return clause_oscal_ids((c.ref, c.oscal_id) for c in reg.clauses)


def regulation_catalog(reg: RegulationView, mapped: set[str] | None = None) -> dict[str, Any]:
    """The OSCAL document (``{"catalog": …}``); `mapped` are the refs that carry mappings."""
    ids = regulation_ids(reg)
    groups = layout(reg, mapped or set())
    nodes: dict[str, dict[str, Any]] = {}
    top_groups: list[dict[str, Any]] = []
    top_controls: list[dict[str, Any]] = []
    recitals: list[dict[str, Any]] = []
    recitals_at = 0  # where the recitals group goes among the top groups (document order)
    for c in reg.clauses:
        is_group = c.ref in groups
        node = _node(c, ids[c.ref])
        nodes[c.ref] = node
        if c.parent is not None:
            nodes[c.parent].setdefault("groups" if is_group else "controls", []).append(node)
        elif is_group:
            top_groups.append(node)
        elif c.kind == "recital":
            if not recitals:
                recitals_at = len(top_groups)
            recitals.append(node)
        else:
            top_controls.append(node)
    catalog: dict[str, Any] = {
        "uuid": stable_uuid("catalog", reg.code, reg.version_label, reg.imported_at),
        "metadata": _metadata(reg),
    }
    if recitals:
        gid = "recitals" if "recitals" not in set(ids.values()) else "recitals-group"
        top_groups.insert(recitals_at, {
            "id": gid, "title": "Recitals", "class": "recitals",
            "props": [prop("container", "true")],  # not a clause: our importer drops it
            "controls": recitals})
    if top_groups:
        catalog["groups"] = top_groups
    if top_controls:
        catalog["controls"] = top_controls
    return {"catalog": catalog}


def _metadata(reg: RegulationView) -> dict[str, Any]:
    meta = metadata(reg.title or reg.code, reg.imported_at, reg.version_label)
    if reg.effective_date:
        meta["published"] = f"{reg.effective_date[:10]}T00:00:00Z"
    meta["props"] = [prop("regulation-code", reg.code)]
    if reg.short_title:
        meta["props"].append(prop("short-title", reg.short_title))
    with_text = sum(1 for c in reg.clauses if c.text)
    remarks = (f"{reg.code} {reg.version_label} as held in a Crosswalk workspace: clause "
               "structure, official titles and Crosswalk's own summaries.")
    if with_text:
        remarks += (f" The legal text of {with_text} clauses is included because it was "
                    "imported into the workspace from the official document.")
    if reg.attribution:
        remarks += f"\n\nSource: {reg.attribution}"
    meta["remarks"] = remarks
    return meta


def _node(c: ClauseView, oid: str) -> dict[str, Any]:
    """A group or a control: the same fields (children are added by the caller)."""
    out: dict[str, Any] = {"id": oid, "class": c.kind, "title": one_line(c.title) or c.ref,
                           "props": _props(c)}
    parts = _parts(c, oid)
    if parts:
        out["parts"] = parts
    return out


def _props(c: ClauseView) -> list[dict[str, str]]:
    props = [prop("label", c.ref, ours=False), prop("kind", c.kind)]
    if not c.assessable:
        props.append(prop("assessable", "false"))
    props += [prop(f"{ATTRIBUTE}{key}", value) for key, value in c.attributes
              if _TOKEN.fullmatch(key) and value.strip()]
    return props


ATTRIBUTE = "attribute-"  # a clause attribute ("requirement": "addressable") as a prop
_TOKEN = re.compile(r"[A-Za-z_][\w.-]*")


def _parts(c: ClauseView, oid: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if c.text.strip():
        parts.append({"id": f"{oid}_smt", "name": "statement", "prose": c.text.strip()})
    if c.summary.strip():
        parts.append({"id": f"{oid}_sum", "name": "summary", "ns": CROSSWALK_NS,
                      "prose": c.summary.strip()})
    return parts
