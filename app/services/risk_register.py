"""The risk register as it is read: every risk with its levels read off its matrix, in one
SELECT of plain columns. No SQLAlchemy here, so `risks check`, `risks heatmap` and the Risks
screen can read through a `Reader` and start fast."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from app.domain import risk as rk
from app.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from app.store import Store
    from app.store.reader import Reader


def matrices_by_id(source: Store | Reader) -> dict[int, rk.Matrix]:
    """Every matrix version in the workspace, by row id."""
    from app.services.snapshot import _reading

    with _reading(source) as dbapi:
        rows = dbapi.execute("SELECT id, code, version, definition FROM risk_matrix").fetchall()
    return {r[0]: rk.parse_matrix(json.loads(r[3]), f"matrix {r[1]}@{r[2]}") for r in rows}


class StageScore(NamedTuple):
    likelihood: int
    impact: int
    level: str
    rank: int  # 0 = the lowest level
    colour: str
    high: bool

    def as_dict(self, m: rk.Matrix) -> dict[str, Any]:
        return {"likelihood": self.likelihood,
                "likelihood_name": m.likelihood[self.likelihood - 1].name,
                "impact": self.impact, "impact_name": m.impact[self.impact - 1].name,
                "level": self.level, "colour": self.colour, "high": self.high}


class RiskRow(NamedTuple):
    """A risk as the register lists it, with its levels read off its matrix."""

    id: int
    title: str
    category: str
    system_id: int
    system: str
    owner: str
    treatment: str
    matrix_id: int
    inherent: StageScore | None
    current: StageScore | None
    residual: StageScore | None
    review_on: str | None
    accepted_by: str | None
    acceptance_expires: str | None
    controls: tuple[str, ...]

    @property
    def label(self) -> str:
        return rk.risk_label(self.id)

    @property
    def latest(self) -> StageScore | None:
        """The most advanced stage scored: residual, else current, else inherent."""
        return self.residual or self.current or self.inherent

    def as_dict(self, matrices: dict[int, rk.Matrix]) -> dict[str, Any]:
        m = matrices[self.matrix_id]
        return {"id": self.label, "title": self.title, "category": self.category,
                "system_id": rk.system_label(self.system_id), "system": self.system,
                "owner": self.owner, "treatment": self.treatment, "matrix": m.ref,
                **{s: (getattr(self, s).as_dict(m) if getattr(self, s) else None)
                   for s in rk.STAGES},
                "review_on": self.review_on, "accepted_by": self.accepted_by,
                "acceptance_expires": self.acceptance_expires,
                "controls": list(self.controls)}


_LIST_SQL = """
SELECT r.id, r.title, r.category, r.system_id, s.name, r.owner, r.treatment, r.matrix_id,
       r.inherent_likelihood, r.inherent_impact, r.current_likelihood, r.current_impact,
       r.residual_likelihood, r.residual_impact, r.review_on, r.accepted_by,
       r.acceptance_expires,
       (SELECT group_concat(l.control_id, ' ') FROM risk_link l
         WHERE l.risk_id = r.id AND l.control_id IS NOT NULL)
FROM risk r JOIN ai_system s ON s.id = r.system_id
"""


def stage(m: rk.Matrix, lk: int | None, im: int | None) -> StageScore | None:
    if lk is None or im is None:
        return None
    level = m.level(lk, im)
    return StageScore(lk, im, level.name, m.rank(lk, im), level.colour, level.high)


def list_risks(source: Store | Reader, *, system: str | None = None,
               treatment: str | None = None, category: str | None = None) -> list[RiskRow]:
    """The register, highest latest level first (then newest). Plain SQL, so a `Reader`
    (no SQLAlchemy) will do as well as a store."""
    from app.services.snapshot import _fetch, _reading

    where, params = [], []
    try:
        if treatment is not None:
            where.append("r.treatment = ?")
            params.append(rk.choose(treatment, rk.TREATMENTS, "treatment"))
        if category is not None:
            where.append("r.category = ?")
            params.append(rk.choose(category, rk.CATEGORIES, "category"))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    matrices = matrices_by_id(source)
    with _reading(source) as dbapi:
        if system is not None:
            where.append("r.system_id = ?")
            params.append(_system_row_id(dbapi, system))
        sql = _LIST_SQL + (" WHERE " + " AND ".join(where) if where else "")
        rows = _fetch(dbapi, sql, params)
    out = []
    for r in rows:
        m = matrices[r[7]]
        out.append(RiskRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                           stage(m, r[8], r[9]), stage(m, r[10], r[11]), stage(m, r[12], r[13]),
                           r[14], r[15], r[16], tuple((r[17] or "").split())))
    def height(x: RiskRow) -> float:  # the level's height on its own matrix, 0–1
        top = len(matrices[x.matrix_id].levels) - 1
        return x.latest.rank / top if x.latest else -1.0

    out.sort(key=lambda x: (-height(x), -x.id))
    return out


def _system_row_id(dbapi: Any, ref: str | int) -> int:
    """A system's id from ``AI-3``, ``3`` or its name (as `systems.find_system`)."""
    text = str(ref).strip()
    row = None
    if isinstance(ref, int) or text.upper().startswith("AI-") or text.isdigit():
        try:
            row = dbapi.execute("SELECT id FROM ai_system WHERE id = ?",
                                (rk.parse_id(ref, "AI"),)).fetchone()
        except ValueError:
            row = None
    if row is None:  # by name, ignoring case (any script, not only ASCII)
        row = next((r for r in dbapi.execute("SELECT id, name FROM ai_system")
                    if r[1].casefold() == text.casefold()), None)
    if row is None:
        raise NotFound(f"no AI system {text!r} in the inventory (see `crosswalk system list`)")
    return int(row[0])
