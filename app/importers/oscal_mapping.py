"""OSCAL ``mapping-collection`` files written by other tools (JSON or YAML) → plain map records.

Real files deviate from the schema, so reading is tolerant, and every normalisation is
reported in `MappingCollectionDoc.warnings` (each distinct change listed, with its count):

- keys: ``id_ref``, ``idRef``, ``ID-Ref`` … are read as ``id-ref`` (any key in snake or camel
  case as its kebab-case form); a single object where OSCAL wants an array is read as one item;
- ``relationship``: case, ``_`` and spaces are folded, and synonyms mapped — ``equivalent`` →
  equivalent-to, ``equal``/``equals``/``identical`` → equal-to, ``subset`` → subset-of,
  ``superset`` → superset-of, ``intersects``/``overlaps``/``related-to``… → intersects-with,
  ``not-related``/``none``… → no-relationship. A value none of these explains is an **error**
  (listing every such map): guessing a relationship would put words in the author's mouth;
- ``matching-rationale`` (of the map, else the mapping, else the provenance; default
  semantic), and Crosswalk's ``coverage`` and ``review-status`` props, likewise;
- a map with several sources or targets becomes one record per (source, target) pair; when
  the relationship does not hold pair by pair it is weakened (see `_pair_relationship`).

What Crosswalk itself wrote comes back exactly: strength, coverage and author from our props,
the rationale from the remarks. From other tools: strength from ``confidence-score``
(percentage × 10, or high/medium/low → 8/5/2), else 5; coverage from a source
``has-requirement`` qualifier (partial), else from the relationship (subset-of, equal-to and
equivalent-to: full; the rest: partial); a map without remarks gets a placeholder rationale.
Those defaults are reported too, and so are trimmed id-refs and prop values, numeric id-refs,
a rounded strength and the coverage of a ``no-relationship`` map forced to partial. Refs are
resolved against the workspace by the service (`app.services.mapping_import`), not here;
structural problems (no id-ref, an unknown relationship…) are returned in
`MappingCollectionDoc.problems`, with the refs of the maps they leave out, so that the service
fails with one error listing them and every dangling ref together.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.domain.mappings import MATCHING, RELATIONSHIPS
from app.errors import ImportFailed
from app.importers.source import decode_text, load_json

ROOT = "mapping-collection"
_RELATIONSHIP_SYNONYMS = {
    "equivalent": "equivalent-to", "equivalence": "equivalent-to",
    "equivalent-with": "equivalent-to",
    "equal": "equal-to", "equals": "equal-to", "identical": "equal-to", "same": "equal-to",
    "identical-to": "equal-to", "same-as": "equal-to",
    "subset": "subset-of", "is-subset-of": "subset-of", "contained-in": "subset-of",
    "part-of": "subset-of",
    "superset": "superset-of", "is-superset-of": "superset-of", "contains": "superset-of",
    "intersects": "intersects-with", "intersect": "intersects-with",
    "intersection": "intersects-with", "intersects-to": "intersects-with",
    "overlaps": "intersects-with", "overlaps-with": "intersects-with",
    "related": "intersects-with", "related-to": "intersects-with",
    "partial": "intersects-with", "partially-related": "intersects-with",
    "not-related": "no-relationship", "not-related-to": "no-relationship",
    "unrelated": "no-relationship", "none": "no-relationship", "no-relation": "no-relationship",
    "no-relationships": "no-relationship", "not-applicable": "no-relationship",
}
_MATCHING_SYNONYMS = {"syntax": "syntactic", "syntactical": "syntactic",
                      "semantics": "semantic", "semantical": "semantic",
                      "function": "functional", "functionality": "functional"}
_COVERAGE_SYNONYMS = {"complete": "full", "total": "full", "fully": "full", "all": "full",
                      "some": "partial", "limited": "partial", "partly": "partial",
                      "partially": "partial", "incomplete": "partial"}
_REVIEW = {"draft": "draft", "reviewed": "reviewed", "approved": "approved"}
_CONFIDENCE_WORDS = {"high": 8, "medium": 5, "moderate": 5, "low": 2}
FULL_BY_RELATIONSHIP = frozenset({"subset-of", "equal-to", "equivalent-to"})
DEFAULT_STRENGTH = 5


@dataclass(slots=True)
class MapRecord:
    """One (source, target) pair read from a map, its enums already normalised."""

    where: str  # "maps[3]" (and the map's uuid when it has one), for messages
    source: str  # the id-ref as written
    target: str
    relationship: str
    matching: str
    strength: int
    coverage: str
    rationale: str
    author: str | None
    review_status: str | None  # what the file says (imported mappings start as drafts)


@dataclass(slots=True)
class MappingCollectionDoc:
    """What a mapping collection says, before its refs are resolved."""

    source_name: str
    sha256: str
    title: str
    code: str | None  # from Crosswalk's props, when we wrote the file
    version: str | None
    hints: list[str]  # titles and hrefs of the source resource, to guess the regulation
    records: list[MapRecord]
    warnings: list[str] = field(default_factory=list)
    # structural problems (a map with no id-ref, an unknown relationship…): the import fails,
    # but only once the refs are resolved too, so that one error lists everything
    problems: list[str] = field(default_factory=list)
    # refs of the maps those problems leave out: checked against the workspace all the same
    stray: list[tuple[str, str]] = field(default_factory=list)  # ("sources"|"targets", ref)


class _Notes:
    """Normalisations, counted by (what, from, to), turned into one warning per kind."""

    def __init__(self) -> None:
        self.seen: dict[str, Counter[tuple[str, str]]] = {}
        self.order: list[str] = []

    def add(self, what: str, before: str, after: str) -> None:
        if what not in self.seen:
            self.seen[what] = Counter()
            self.order.append(what)
        self.seen[what][(before, after)] += 1

    def warnings(self) -> list[str]:
        out = []
        for what in self.order:
            items = self.seen[what]
            listed = "; ".join(f"{b!r} → {a}" + (f" (×{n})" if n > 1 else "")
                               for (b, a), n in items.items())
            out.append(f"{what} normalised ({sum(items.values())}): {listed}")
        return out


def parse_mapping_collection(data: bytes, path: Path, sha256: str) -> MappingCollectionDoc:
    """Read a mapping collection (JSON, or YAML by extension); ImportFailed names the problem."""
    raw = _load(data, path)
    notes = _Notes()
    try:
        raw = _kebab_keys(raw, notes)
    except RecursionError:
        raise ImportFailed(f"{path}: the document is nested too deeply") from None
    body = _root(raw, path, notes)
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    title = str(meta.get("title") or path.name)
    code, version = _crosswalk_ids(meta.get("props"))
    provenance = body.get("provenance") if isinstance(body.get("provenance"), dict) else {}
    if "method" in provenance:
        _enum(provenance["method"], ("human", "automation", "hybrid"),
              {"manual": "human", "person": "human", "automated": "automation",
               "auto": "automation", "tool": "automation", "mixed": "hybrid"},
              "provenance method", notes)
    default_matching = _matching(provenance.get("matching-rationale"), "semantic", notes)
    mappings = _items(body.get("mappings"))
    if not mappings:
        raise ImportFailed(f"{path}: {ROOT}.mappings is missing or empty: the file maps "
                           "nothing")
    hints = [title]
    for resource in _items((body.get("back-matter") or {}).get("resources")
                           if isinstance(body.get("back-matter"), dict) else None):
        if isinstance(resource, dict):
            hints.append(str(resource.get("title") or ""))
            hints += [str(r.get("href") or "") for r in _items(resource.get("rlinks"))
                      if isinstance(r, dict)]
            rc, rv = _crosswalk_ids(resource.get("props"))
            if rc and code is None:
                code, version = rc, rv
    records: list[MapRecord] = []
    problems: list[str] = []
    stray: list[tuple[str, str]] = []
    defaults: Counter[str] = Counter()
    for i, mapping in enumerate(mappings):
        if not isinstance(mapping, dict):
            problems.append(f"mappings[{i}] is not an object")
            continue
        src = mapping.get("source-resource")
        if isinstance(src, dict):
            hints.append(str(src.get("href") or ""))
        matching = _matching(mapping.get("matching-rationale"), default_matching, notes)
        maps = _items(mapping.get("maps"))
        if not maps:
            problems.append(f"mappings[{i}] has no maps")
        for j, m in enumerate(maps):
            where = f"mappings[{i}].maps[{j}]" if len(mappings) > 1 else f"maps[{j}]"
            if not isinstance(m, dict):
                problems.append(f"{where} is not an object")
                continue
            before = len(problems)
            found = _records(m, where, matching, notes, problems, defaults)
            if len(problems) > before and not found:  # keep its refs for the dangling check
                for side in ("sources", "targets"):
                    stray += [(side, r) for r in _refs(m.get(side), where, side, [], _Notes())]
            records += found
    warnings = notes.warnings()
    if defaults["strength"]:
        warnings.append(f"{defaults['strength']} map(s) give no Crosswalk strength: taken from "
                        f"their confidence-score, else {DEFAULT_STRENGTH}")
    if defaults["coverage"]:
        warnings.append(f"{defaults['coverage']} map(s) give no Crosswalk coverage: partial "
                        "where a qualifier says the source has unmet requirements, else from "
                        "the relationship (subset-of, equal-to, equivalent-to: full)")
    if defaults["rationale"]:
        warnings.append(f"{defaults['rationale']} map(s) have no remarks: they get a "
                        "placeholder rationale to replace when reviewing")
    return MappingCollectionDoc(path.name, sha256, title, code, version,
                                [h for h in hints if h], records, warnings, problems, stray)


# ---------------------------------------------------------------- reading the document

def _load(data: bytes, path: Path) -> Any:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:200]:
        raise ImportFailed(f"{path}: line 1 looks like UTF-16 text; save the file as UTF-8")
    text, _ = decode_text(data, path)
    if path.suffix.lower() in (".yaml", ".yml"):
        from app.importers.yaml_safe import load_yaml

        return load_yaml(data, path)
    return load_json(text, path)


def _kebab(key: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", key.strip())
    return s.replace("_", "-").replace(" ", "-").lower()


def _kebab_keys(value: Any, notes: _Notes) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = str(k)
            new = key if key.startswith("$") else _kebab(key)
            if new != key:
                notes.add("keys", key, new)
            out[new] = _kebab_keys(v, notes)
        return out
    if isinstance(value, list):
        return [_kebab_keys(v, notes) for v in value]
    return value


_OTHER_ROOTS = {"catalog": "an OSCAL catalog", "profile": "an OSCAL profile",
                "system-security-plan": "an OSCAL SSP",
                "component-definition": "an OSCAL component definition",
                "assessment-results": "OSCAL assessment results",
                "plan-of-action-and-milestones": "an OSCAL POA&M"}


def _root(raw: Any, path: Path, notes: _Notes) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportFailed(f"{path}: the document is a {type(raw).__name__}, not an object "
                           f"with a '{ROOT}' key")
    body = raw.get(ROOT)
    if isinstance(body, dict):
        return body
    if body is not None:
        raise ImportFailed(f"{path}: '{ROOT}' is a {type(body).__name__}, not an object")
    for key, what in _OTHER_ROOTS.items():
        if key in raw:
            hint = (" (a catalog is imported as a regulation: leave out --format or give "
                    "--format oscal-json)" if key == "catalog" else "")
            raise ImportFailed(f"{path}: this is {what}, not an OSCAL {ROOT}{hint}")
    if "mappings" in raw and "provenance" in raw:  # the body without its root key
        notes.add("root", "(no root key)", ROOT)
        return raw
    keys = ", ".join(sorted(map(str, raw))[:5]) or "nothing"
    raise ImportFailed(f"{path}: this is neither an OSCAL {ROOT} nor an OSCAL catalog: the "
                       f"top-level object has no '{ROOT}' key (found: {keys}), nor a "
                       "'catalog' one")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fold(value: object) -> str:
    return re.sub(r"[\s_]+", "-", str(value).strip().lower())


def _enum(value: object, allowed: tuple[str, ...], synonyms: dict[str, str], what: str,
          notes: _Notes) -> str | None:
    """The allowed value `value` stands for (a normalisation noted), or None."""
    if isinstance(value, str) and value in allowed:
        return value
    key = _fold(value)
    found = key if key in allowed else synonyms.get(key)
    if found is not None:
        notes.add(what, str(value), found)
    return found


def _matching(value: object, default: str, notes: _Notes) -> str:
    if value is None or value == "":
        return default
    found = _enum(value, MATCHING, _MATCHING_SYNONYMS, "matching-rationale", notes)
    if found is None:
        notes.add("matching-rationale", str(value), f"{default} (unknown value)")
        return default
    return found


def _props(value: Any, notes: _Notes | None = None) -> dict[str, str]:
    """Props by name (ours or anyone's: a tolerant reader does not insist on the ns); values
    trimmed of white space (noted when `notes` is given)."""
    out: dict[str, str] = {}
    for p in _items(value):
        if isinstance(p, dict) and "name" in p and "value" in p:
            name, raw = _kebab(str(p["name"])), str(p["value"])
            if name in out:
                continue
            out[name] = raw.strip()
            if notes is not None and out[name] != raw:
                notes.add("prop values trimmed of white space", f"{name}={raw}",
                          repr(out[name]))
    return out


def _crosswalk_ids(value: Any) -> tuple[str | None, str | None]:
    props = _props(value)
    code = props.get("regulation-code")
    return (code.strip().upper() if code else None), props.get("regulation-version")


def _refs(value: Any, where: str, side: str, problems: list[str], notes: _Notes) -> list[str]:
    items = _items(value)
    if not items:
        problems.append(f"{where} has no {side}")
    out = []
    for k, item in enumerate(items):
        if isinstance(item, str) and item.strip():  # a bare id: tolerated
            notes.add(f"{side} written as bare strings", item, "{type: control, id-ref}")
            out.append(_trimmed(item, side, notes))
            continue
        ref = item.get("id-ref") if isinstance(item, dict) else None
        if isinstance(ref, bool) or not isinstance(ref, str | int) or not str(ref).strip():
            problems.append(f"{where}.{side}[{k}] has no id-ref")
            continue
        kind = str(item.get("type") or "control")
        if kind not in ("control", "statement"):
            notes.add(f"{side} type", kind, "control")
        if isinstance(ref, int):
            notes.add(f"{side} id-refs written as numbers", str(ref), repr(str(ref)))
        out.append(_trimmed(str(ref), side, notes))
    return out


def _trimmed(ref: str, side: str, notes: _Notes) -> str:
    """`ref` without surrounding white space (a normalisation noted)."""
    out = ref.strip()
    if out != ref:
        notes.add(f"{side} id-refs trimmed of white space", ref, repr(out))
    return out


def _records(m: dict[str, Any], where: str, matching: str, notes: _Notes,
             problems: list[str], defaults: Counter[str]) -> list[MapRecord]:
    if m.get("uuid"):
        where = f"{where} ({m['uuid']})"
    raw_rel = m.get("relationship")
    rel = _enum(raw_rel, RELATIONSHIPS, _RELATIONSHIP_SYNONYMS, "relationship", notes) \
        if raw_rel not in (None, "") else None
    if rel is None:
        problems.append(f"{where}: relationship {raw_rel!r} is not one of "
                        f"{', '.join(RELATIONSHIPS)} nor a known synonym" if raw_rel
                        else f"{where} has no relationship")
    sources = _refs(m.get("sources"), where, "sources", problems, notes)
    targets = _refs(m.get("targets"), where, "targets", problems, notes)
    if rel is None or not sources or not targets:
        return []
    matching = _matching(m.get("matching-rationale"), matching, notes)
    props = _props(m.get("props"), notes)
    strength = _strength(props.get("strength"), m.get("confidence-score"), where, problems,
                         notes)
    if "strength" not in props:
        defaults["strength"] += 1
    coverage = None
    if "coverage" in props:
        coverage = _enum(props["coverage"], ("full", "partial"), _COVERAGE_SYNONYMS,
                         "coverage", notes)
        if coverage is None:
            problems.append(f"{where}: coverage {props['coverage']!r} is not full or partial")
            return []
    else:
        defaults["coverage"] += 1
    review = None
    if "review-status" in props:
        review = _enum(props["review-status"], tuple(_REVIEW), {}, "review-status", notes)
    rationale = " ".join(str(m.get("remarks") or "").split())
    if not rationale:
        defaults["rationale"] += 1
        rationale = (f"Imported from an OSCAL mapping collection ({where}) without a "
                     "rationale: state why the control meets the clause.")
    author = props.get("author") or None
    out = []
    for s in sources:
        for t in targets:
            pair_rel = _pair_relationship(rel, len(sources), len(targets))
            if pair_rel != rel:
                notes.add("relationship of a many-to-many map, pair by pair",
                          f"{rel} ({where})", pair_rel)
            cov = coverage or _coverage(pair_rel, m.get("qualifiers"))
            if pair_rel == "no-relationship" and cov != "partial":
                notes.add("coverage of a no-relationship map (it covers nothing)",
                          f"{props.get('coverage', cov)} ({where})", "partial")
                cov = "partial"
            out.append(MapRecord(where, s, t, pair_rel, matching, strength, cov, rationale,
                                 author, review))
    return out


def _strength(value: str | None, confidence: Any, where: str, problems: list[str],
              notes: _Notes) -> int:
    if value is not None:
        try:
            number = round(float(value))
        except (ValueError, OverflowError):
            number = -1
        if not 0 <= number <= 10:
            problems.append(f"{where}: strength {value!r} is not a number from 0 to 10")
            return DEFAULT_STRENGTH
        if value != str(number):
            notes.add("strength", value, str(number))
        return number
    if isinstance(confidence, dict):
        pct = confidence.get("percentage")
        if isinstance(pct, int | float) and 0 <= pct <= 1:
            return round(pct * 10)
        word = _fold(confidence.get("category", ""))
        if word in _CONFIDENCE_WORDS:
            return _CONFIDENCE_WORDS[word]
    return DEFAULT_STRENGTH


def _coverage(relationship: str, qualifiers: Any) -> str:
    for q in _items(qualifiers):
        if isinstance(q, dict) and q.get("subject") in ("source", "both") \
                and q.get("predicate") == "has-requirement":
            return "partial"
    return "full" if relationship in FULL_BY_RELATIONSHIP else "partial"


def _pair_relationship(rel: str, sources: int, targets: int) -> str:
    """What a map's relationship says of one (source, target) pair. ``A ∪ B ⊆ X`` gives
    ``A ⊆ X``, so subset-of holds pair by pair with one target, superset-of with one source,
    and equal/equivalent become subset-of (several sources) or superset-of (several
    targets); anything else among several members only says the pair intersects."""
    if (sources == 1 and targets == 1) or rel in ("no-relationship", "intersects-with"):
        return rel
    if rel == "subset-of" and targets == 1:
        return rel
    if rel == "superset-of" and sources == 1:
        return rel
    if rel in ("equal-to", "equivalent-to"):
        if targets == 1:
            return "subset-of"
        if sources == 1:
            return "superset-of"
    return "intersects-with"
