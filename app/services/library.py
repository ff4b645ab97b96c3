"""The bundled library: GDPR, the EU AI Act and HIPAA with our default mappings.

The YAML files live in the top-level ``regulations/`` and ``mappings/`` folders of a checkout
and ship inside the package as ``app/bundled/…``; both locations are found here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from app.domain.clauses import RegulationDoc
from app.importers.catalog import parse_catalog
from app.importers.mapping_file import MappingSpec, parse_mappings
from app.store import Tx

BUNDLED = ("gdpr", "eu-ai-act", "hipaa")


def bundled_folder(name: str) -> Traversable:
    """`regulations` or `mappings`: inside the installed package, else in the checkout."""
    packaged = files("app").joinpath("bundled", name)
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


@dataclass(frozen=True, slots=True)
class BundledRegulation:
    doc: RegulationDoc
    mappings: tuple[MappingSpec, ...]


@cache
def bundled() -> tuple[BundledRegulation, ...]:
    """Parse (once per process) and validate every bundled catalogue and mapping file."""
    out = []
    regs, maps = bundled_folder("regulations"), bundled_folder("mappings")
    for name in BUNDLED:
        cat = regs.joinpath(f"{name}.yaml")
        if not cat.is_file():  # a test checks that all of BUNDLED ship
            continue
        doc = parse_catalog(cat.read_bytes(), Path(f"regulations/{name}.yaml"), trusted=True)
        doc.source_format = "crosswalk-bundled"
        specs: tuple[MappingSpec, ...] = ()
        mfile = maps.joinpath(f"{name}.yaml")
        if mfile.is_file():
            code, parsed = parse_mappings(mfile.read_bytes(), Path(f"mappings/{name}.yaml"),
                                          trusted=True)
            if code != doc.code:
                raise ValueError(f"mappings/{name}.yaml is for {code}, not {doc.code}")
            specs = tuple(parsed)
        out.append(BundledRegulation(doc, specs))
    return tuple(out)


def load_library(tx: Tx) -> None:
    """Add the bundled regulations and their default mappings to the workspace (audited)."""
    from app.services.regulations import insert_mappings, insert_regulation

    for item in bundled():
        reg = insert_regulation(tx, item.doc)
        assert reg.id is not None
        insert_mappings(tx, reg.id, item.mappings)
