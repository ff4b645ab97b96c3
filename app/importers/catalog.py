"""Crosswalk's own catalog format (YAML or JSON): the bundled regulations and any regulation an
analyst writes down in it.

Schema ``crosswalk-catalog/1`` (documented in ``regulations/README.md``; the JSON Schema is
``regulations/catalog.schema.json``, generated from the models below)::

    schema: crosswalk-catalog/1
    regulation: {code, title, short_title?, jurisdiction?, version_label, version_date?,
                 identifiers?: {celex?, eli?, cfr?…}, source?}
    clauses:    [{ref, kind, title?, summary?, text?, assessable?, attributes?, children?}]
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain.clauses import ClauseNode, RegulationDoc
from app.errors import ImportFailed
from app.importers.source import decode_text, load_json
from app.importers.yaml_safe import load_yaml

SCHEMA_ID = "crosswalk-catalog/1"


class ClauseIn(BaseModel):
    """One clause; children nest. Refs are unique within the catalog."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)
    title: str = Field(default="", max_length=1000)
    summary: str = Field(default="", max_length=1000, description="our own one-line summary")
    text: str = Field(default="", max_length=200_000)
    assessable: bool = True
    attributes: dict[str, str] = Field(default_factory=dict)
    children: list[ClauseIn] = Field(default_factory=list)

    def to_node(self) -> ClauseNode:
        return ClauseNode(ref=" ".join(self.ref.split()), kind=self.kind, title=self.title,
                          text=self.text, summary=self.summary, assessable=self.assessable,
                          attributes=dict(self.attributes),
                          children=[c.to_node() for c in self.children])


class RegulationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*$", max_length=40)
    title: str = Field(min_length=1, max_length=1000)
    short_title: str = Field(default="", max_length=200)
    jurisdiction: str = Field(default="", max_length=100)
    version_label: str = Field(min_length=1, max_length=100)
    version_date: date | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    source: str = Field(default="", max_length=2000, description="attribution of the source")


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["crosswalk-catalog/1"] = Field(alias="schema")
    regulation: RegulationIn
    clauses: list[ClauseIn]


def parse_catalog(data: bytes, path: Path, *, trusted: bool = False) -> RegulationDoc:
    """Parse a catalog file (YAML, or JSON, which is YAML too) into a clause tree.

    `trusted` (the bundled files) skips the alias scan that guards against YAML bombs."""
    raw = _load(data, path, trusted)
    if not isinstance(raw, dict) or "schema" not in raw:
        raise ImportFailed(f"{path} is not a Crosswalk catalog (it has no 'schema: "
                           f"{SCHEMA_ID}' line); see regulations/README.md for the format")
    try:
        cat = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise ImportFailed(f"{path}: {_first_error(exc)}") from None
    except RecursionError:
        raise ImportFailed(f"{path}: clauses are nested too deeply") from None
    reg = cat.regulation
    doc = RegulationDoc(
        code=reg.code, title=reg.title, version_label=reg.version_label,
        jurisdiction=reg.jurisdiction,
        effective_date=reg.version_date.isoformat() if reg.version_date else None,
        short_title=reg.short_title, identifiers=dict(reg.identifiers), attribution=reg.source,
        source_name=path.name, source_format="crosswalk-catalog",
        clauses=[c.to_node() for c in cat.clauses],
    )
    check_tree(doc, path)
    return doc


def _load(data: bytes, path: Path, trusted: bool) -> Any:
    if not trusted:
        decode_text(data, path)  # a file that is not UTF-8 is refused naming its line
    if path.suffix.lower() == ".json":
        return load_json(data, path)
    return load_yaml(data, path, allow_aliases=trusted)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    if len(where) > 160:  # a deeply nested place: its start and its end say enough
        where = f"{where[:60]}…{where[-90:]}"
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"{where or 'document'}: {err['msg']}{more}"


def check_tree(doc: RegulationDoc, path: Path) -> None:
    """Refs unique within the regulation; clause text never empty-but-whitespace."""
    seen: set[str] = set()
    for _, node in doc.walk():
        if node.ref in seen:
            raise ImportFailed(f"{path}: clause ref {node.ref!r} appears more than once")
        seen.add(node.ref)
    if not seen:
        raise ImportFailed(f"{path}: the catalog has no clauses")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog format (written to regulations/catalog.schema.json)."""
    schema = CatalogFile.model_json_schema(by_alias=True)
    schema["$id"] = "https://crosswalk.invalid/schemas/crosswalk-catalog-1.json"
    schema["title"] = "Crosswalk regulation catalog"
    return schema
