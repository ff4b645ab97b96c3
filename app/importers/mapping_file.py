"""Default-mapping files (``mappings/<code>.yaml``), schema ``crosswalk-mappings/1``::

    schema: crosswalk-mappings/1
    regulation: GDPR            # the catalog's code
    mappings:
      - ref: Art. 32(1)(b)      # a clause ref of that catalog
        control: SEC-1          # one of the twelve
        relationship: intersects-with   # OSCAL 1.2: equivalent-to, equal-to, subset-of,
                                        # superset-of, intersects-with, no-relationship
        matching: functional    # syntactic | semantic | functional (default semantic)
        strength: 8             # 0–10
        coverage: partial       # full | partial
        rationale: One line of our own on why the control meets the obligation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain.controls import CONTROL_IDS
from app.errors import ImportFailed
from app.importers.catalog import _first_error
from app.importers.yaml_safe import load_yaml


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=200)
    control: Literal[CONTROL_IDS]  # type: ignore[valid-type]
    relationship: Literal["equivalent-to", "equal-to", "subset-of", "superset-of",
                          "intersects-with", "no-relationship"]
    matching: Literal["syntactic", "semantic", "functional"] = "semantic"
    strength: int = Field(ge=0, le=10)
    coverage: Literal["full", "partial"]
    rationale: str = Field(min_length=10, max_length=500)


class MappingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["crosswalk-mappings/1"] = Field(alias="schema")
    regulation: str
    mappings: list[MappingIn]


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """A mapping to create: clause ref → control, with its OSCAL/OLIR attributes."""

    ref: str
    control_id: str
    relationship: str
    matching: str
    strength: int
    coverage: str
    rationale: str


def parse_mappings(data: bytes, path: Path, *, trusted: bool = False) -> tuple[str,
                                                                            list[MappingSpec]]:
    raw: Any = load_yaml(data, path, allow_aliases=trusted)
    try:
        f = MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise ImportFailed(f"{path}: {_first_error(exc)}") from None
    seen: set[tuple[str, str]] = set()
    specs = []
    for m in f.mappings:
        ref = " ".join(m.ref.split())
        if (ref, m.control) in seen:
            raise ImportFailed(f"{path}: {ref} → {m.control} is listed twice")
        seen.add((ref, m.control))
        specs.append(MappingSpec(ref, m.control, m.relationship, m.matching, m.strength,
                                 m.coverage, " ".join(m.rationale.split())))
    return f.regulation, specs
