"""Risks of AI systems: vocabularies, risk matrices as data, and reading a level off a grid.

A **risk matrix** is data (the shipped ones are `app/matrices/*.yaml`): likelihood and impact
scales (lowest first, each level with a name and a description), risk levels (lowest first,
with a name, a colour, a description, and `high: true` for those that need treatment now) and
an explicit **grid**: one row per likelihood, one level name per impact. A risk's level is read
from the grid, never computed. Matrices are versioned by `code` and `version`; a risk is
scored on one version, and moving it to another is an explicit re-assessment.

Likelihood and impact are stored as 1-based positions on the matrix's scales.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("bias-and-fairness", "data-drift", "concept-drift", "overfitting",
              "adversarial-or-poisoning", "privacy-leakage", "security",
              "model-theft-or-tampering", "availability", "compliance", "other")
TREATMENTS = ("open", "mitigate", "accept", "avoid", "transfer")
KNOWLEDGE = ("low", "medium", "high")  # strength of knowledge behind the scores
STAGES = ("inherent", "current", "residual")

TIERS = ("prohibited", "high", "limited", "minimal", "general-purpose", "out-of-scope")
ROLES = ("provider", "deployer", "importer", "distributor", "authorised-representative",
         "product-manufacturer")
LIFECYCLE = ("planned", "development", "validation", "production", "retired")
MODEL_STATUSES = ("pending", "approved", "restricted", "blocked", "retired")
# EU AI Act Annex III, points 1–8 (the areas where a system may be high-risk)
ANNEX_III = {
    "1": "Biometrics",
    "2": "Critical infrastructure",
    "3": "Education and vocational training",
    "4": "Employment, workers' management and access to self-employment",
    "5": "Access to essential private and public services and benefits",
    "6": "Law enforcement",
    "7": "Migration, asylum and border control management",
    "8": "Administration of justice and democratic processes",
}

MAX_SCALE = 10  # levels per scale: more is not a matrix anyone reads
_MATRIX_KEYS = {"code", "version", "name", "description", "likelihood", "impact", "levels",
                "grid"}
_LEVEL_KEYS = {"name", "description", "colour", "high"}
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def risk_label(risk_id: int) -> str:
    return f"RK-{risk_id}"


def system_label(system_id: int) -> str:
    return f"AI-{system_id}"


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    description: str = ""
    colour: str = ""
    high: bool = False


@dataclass(frozen=True, slots=True)
class Matrix:
    """One version of a risk matrix (see the module doc)."""

    code: str
    version: int
    name: str
    description: str
    likelihood: tuple[Level, ...]
    impact: tuple[Level, ...]
    levels: tuple[Level, ...]
    grid: tuple[tuple[int, ...], ...]  # [likelihood - 1][impact - 1] → index into levels

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.version}"

    def level(self, likelihood: int, impact: int) -> Level:
        """The risk level of 1-based positions on the scales (checked by `position`)."""
        return self.levels[self.grid[likelihood - 1][impact - 1]]

    def rank(self, likelihood: int, impact: int) -> int:
        """The level's position, 0 = lowest: levels compare by rank."""
        return self.grid[likelihood - 1][impact - 1]

    def position(self, value: str | int, scale: str) -> int:
        """A likelihood or impact given as a position (``3``) or a name (``likely``)."""
        levels = self.likelihood if scale == "likelihood" else self.impact
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            n = int(text)
            if 1 <= n <= len(levels):
                return n
        else:
            for i, lv in enumerate(levels, start=1):
                if lv.name.lower() == text.lower():
                    return i
        names = ", ".join(f"{i} {lv.name}" for i, lv in enumerate(levels, start=1))
        raise ValueError(f"{scale} {text!r} is not on matrix {self.ref} ({names})")

    def as_data(self) -> dict[str, Any]:
        """The matrix as the YAML/JSON shape it is read from."""
        def scale(levels: tuple[Level, ...]) -> list[dict[str, Any]]:
            return [{"name": lv.name, "description": lv.description} for lv in levels]

        return {
            "code": self.code, "version": self.version, "name": self.name,
            "description": self.description,
            "likelihood": scale(self.likelihood), "impact": scale(self.impact),
            "levels": [{"name": lv.name, "colour": lv.colour, "description": lv.description,
                        "high": lv.high} for lv in self.levels],
            "grid": [[self.levels[i].name for i in row] for row in self.grid],
        }


def parse_matrix(data: Any, where: str = "the matrix") -> Matrix:
    """Check a matrix given as data and build it; a ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not a mapping of code, version, likelihood, impact, "
                         "levels and grid")
    missing = [k for k in ("code", "likelihood", "impact", "levels", "grid") if k not in data]
    if missing:
        raise ValueError(f"{where} has no {', '.join(missing)}")
    unknown = sorted(set(data) - _MATRIX_KEYS)
    if unknown:
        raise ValueError(f"{where} has unknown keys: {', '.join(map(str, unknown))} (a matrix "
                         f"has {', '.join(sorted(_MATRIX_KEYS))})")
    code = str(data["code"]).strip()
    if not _CODE.fullmatch(code):
        raise ValueError(f"{where}: code {code!r} must be 1–40 letters, digits, '.', '_' or '-'")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where}: version must be a whole number ≥ 1, not {version!r}")
    likelihood = _scale(data["likelihood"], f"{where}: likelihood")
    impact = _scale(data["impact"], f"{where}: impact")
    levels = _scale(data["levels"], f"{where}: levels", coloured=True)
    index = {lv.name.lower(): i for i, lv in enumerate(levels)}
    grid_data = data["grid"]
    if not isinstance(grid_data, list) or len(grid_data) != len(likelihood):
        raise ValueError(f"{where}: the grid needs one row per likelihood ({len(likelihood)} "
                         f"rows), not {len(grid_data) if isinstance(grid_data, list) else 0}")
    grid = []
    for r, row in enumerate(grid_data, start=1):
        if not isinstance(row, list) or len(row) != len(impact):
            raise ValueError(f"{where}: grid row {r} ({likelihood[r - 1].name}) needs one level "
                             f"per impact ({len(impact)}), not "
                             f"{len(row) if isinstance(row, list) else 0}")
        cells = []
        for c, cell in enumerate(row, start=1):
            i = index.get(str(cell).strip().lower())
            if i is None:
                raise ValueError(f"{where}: grid row {r}, column {c} names {cell!r}, which is "
                                 f"not a level ({', '.join(lv.name for lv in levels)})")
            cells.append(i)
        grid.append(tuple(cells))
    return Matrix(code, version, _text(data.get("name") or code, f"{where}: name", 120),
                  _text(data.get("description") or "", f"{where}: description", 2000),
                  likelihood, impact, levels, tuple(grid))


def _text(value: Any, what: str, limit: int) -> str:
    from app.domain.text import clean_text

    if not isinstance(value, str | int | float):
        raise ValueError(f"{what} must be text")
    return clean_text(str(value), what, limit)


def _scale(items: Any, where: str, *, coloured: bool = False) -> tuple[Level, ...]:
    if not isinstance(items, list) or not 2 <= len(items) <= MAX_SCALE:
        raise ValueError(f"{where} must list 2 to {MAX_SCALE} levels, lowest first")
    out: list[Level] = []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError(f"{where}: level {n} has no name")
        unknown = sorted(set(item) - _LEVEL_KEYS)
        if unknown:
            raise ValueError(f"{where}: level {item['name']!r} has unknown keys: "
                             f"{', '.join(map(str, unknown))} (inside {{…}}, text with a "
                             "comma must be quoted)")
        name = _text(item["name"], f"{where}: level {n} name", 60)
        if name.lower() in seen:
            raise ValueError(f"{where}: level {name!r} appears twice")
        seen.add(name.lower())
        colour = str(item.get("colour", "")).strip()
        if coloured and not _COLOUR.fullmatch(colour):
            raise ValueError(f"{where}: level {name!r} needs a colour like #c62828, not "
                             f"{colour!r}")
        high = item.get("high", False)
        if not isinstance(high, bool):  # "false" (a string) must not read as true
            raise ValueError(f"{where}: level {name!r}: high must be true or false, not "
                             f"{high!r}")
        out.append(Level(name, _text(item.get("description") or "",
                                     f"{where}: level {name!r} description", 500),
                         colour, high))
    return tuple(out)


def matrix_from_json(text: str) -> Matrix:
    return parse_matrix(json.loads(text))


def choose(value: str, choices: tuple[str, ...], what: str) -> str:
    """`value` as one of `choices`, accepting case, spaces, '&' and underscores."""
    key = (value.strip().lower().replace("&", "and").replace("_", "-").replace(" ", "-"))
    key = re.sub(r"-+", "-", key)
    if key in choices:
        return key
    raise ValueError(f"invalid {what} {value!r}; choose one of: {', '.join(choices)}")


_ID_NAMES = {"RK": "a risk", "AI": "an AI system", "EX": "an exercise",
             "IM": "an improvement item"}


def parse_id(text: str | int, prefix: str) -> int:
    """``RK-3``, ``rk3`` or ``3`` → 3 (prefix ``RK`` for risks, ``AI`` for systems, ``EX``
    for exercises, ``IM`` for improvement items)."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(?:([A-Za-z]{2})-?)?0*(\d{1,9})\s*", str(text))
    if m is None or (m.group(1) and m.group(1).upper() != prefix) or int(m.group(2)) == 0:
        what = _ID_NAMES.get(prefix, "an id")
        raise ValueError(f"{text!r} is not {what} id (like {prefix}-3)")
    return int(m.group(2))


def parse_score(text: str) -> tuple[str, str]:
    """``3/4``, ``3,4`` or ``likely/major`` → (likelihood, impact) as given."""
    parts = re.split(r"\s*[/,]\s*", text.strip(), maxsplit=1)
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"score {text!r} must be LIKELIHOOD/IMPACT, e.g. 3/4 or "
                         "likely/major")
    return parts[0], parts[1]
