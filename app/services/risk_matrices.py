"""Risk matrices in a workspace: the shipped defaults (3×3, 4×4, 5×5), the analyst's own, and
their versions. A matrix version, once in a workspace, never changes: a different grid is a
new version, and risks move to it only through an explicit re-assessment.

A default enters the workspace (audited) the first time a risk uses it, so `matrix list`
shows both the workspace's matrices and the defaults still available.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from app.domain.risk import Matrix, parse_matrix
from app.errors import ImportFailed, InvalidInput, NotFound
from app.store import Store
from app.store.models import RiskMatrix
from app.store.store import Tx

if TYPE_CHECKING:
    from app.store.reader import Reader

DEFAULT_MATRIX = "5x5"


@cache
def defaults() -> dict[str, Matrix]:
    """The shipped matrices by code."""
    import yaml

    out = {}
    for entry in sorted(resources.files("app.matrices").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            m = parse_matrix(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
            out[m.code] = m
    return out


def definition_json(m: Matrix) -> str:
    return json.dumps(m.as_data(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def matrix_of(row: RiskMatrix) -> Matrix:
    return parse_matrix(json.loads(row.definition), f"matrix {row.code}@{row.version}")


@dataclass(frozen=True, slots=True)
class MatrixView:
    matrix: Matrix
    id: int | None  # None: a default not yet in the workspace
    risks: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.matrix.as_data() | {"in_workspace": self.id is not None,
                                        "risks": self.risks}


def _split_ref(ref: str) -> tuple[str, int | None]:
    code, _, version = ref.strip().partition("@")
    if version and not (version.isascii() and version.isdigit()):
        raise InvalidInput(f"matrix {ref!r}: the version after '@' must be a number")
    return code.strip(), int(version) if version else None


def ensure_matrix(tx: Tx, ref: str | None) -> tuple[RiskMatrix, Matrix]:
    """The matrix `ref` (``5x5``: its latest version; ``5x5@1``: that version) inside a write
    transaction, bringing a shipped default into the workspace if it is not there yet."""
    code, version = _split_ref(ref or DEFAULT_MATRIX)
    q = select(RiskMatrix).where(RiskMatrix.code == code)
    q = q.where(RiskMatrix.version == version) if version else \
        q.order_by(col(RiskMatrix.version).desc())
    row = tx.session.exec(q).first()
    if row is not None:
        return row, matrix_of(row)
    shipped = defaults().get(code)
    if shipped is None or (version is not None and version != shipped.version):
        have = sorted({r.code for r in tx.session.exec(select(RiskMatrix))} | set(defaults()))
        raise NotFound(f"no risk matrix {ref!r} (matrices: {', '.join(have)})")
    return _insert(tx, shipped), shipped


def _insert(tx: Tx, m: Matrix) -> RiskMatrix:
    row = RiskMatrix(code=m.code, version=m.version, name=m.name,
                     definition=definition_json(m), created_at=tx.now,
                     created_by=tx.store.actor)
    tx.session.add(row)
    tx.session.flush()
    assert row.id is not None
    tx.record("risk_matrix.create", "risk_matrix", row.id,
              {"code": m.code, "version": m.version, "name": m.name})
    return row


def add_matrix(store: Store, path: Path) -> Matrix:
    """Add the analyst's own matrix (YAML or JSON). A code already here becomes its next
    version (the file's `version` is ignored); the same grid as the latest is refused."""
    from app.importers.source import read_bytes
    from app.importers.yaml_safe import load_yaml

    data = load_yaml(read_bytes(path, limit=1 << 20), path)  # JSON is YAML too
    try:
        m = parse_matrix(data, str(path))
    except ValueError as exc:
        raise ImportFailed(str(exc)) from None
    with store.write() as tx:
        latest = tx.session.exec(select(RiskMatrix).where(RiskMatrix.code == m.code)
                                 .order_by(col(RiskMatrix.version).desc())).first()
        shipped = defaults().get(m.code)
        base = latest.version if latest else (shipped.version if shipped else 0)
        if latest is not None and matrix_of(latest).as_data() | {"version": 0} == \
                m.as_data() | {"version": 0}:
            raise InvalidInput(f"matrix {m.code}@{latest.version} is already this matrix")
        m = parse_matrix(m.as_data() | {"version": base + 1})
        _insert(tx, m)
    return m


def list_matrices(store: Store) -> list[MatrixView]:
    """The workspace's matrices (every version), then the defaults not yet used."""
    from sqlmodel import func

    from app.store.models import Risk

    with store.read() as s:
        rows = list(s.exec(select(RiskMatrix).order_by(RiskMatrix.code,
                                                       col(RiskMatrix.version))).all())
        counts = dict(s.exec(select(Risk.matrix_id, func.count())
                             .group_by(Risk.matrix_id)).all())
    out = [MatrixView(matrix_of(r), r.id, counts.get(r.id, 0)) for r in rows]
    here = {r.code for r in rows}
    out += [MatrixView(m, None) for code, m in defaults().items() if code not in here]
    return out


def get_matrix(store: Store, ref: str) -> MatrixView:
    """``5x5`` (its latest version) or ``5x5@1``."""
    code, version = _split_ref(ref)
    found = [v for v in list_matrices(store)
             if v.matrix.code == code and version in (None, v.matrix.version)]
    if not found:
        raise NotFound(f"no risk matrix {ref!r}")
    return max(found, key=lambda v: v.matrix.version)


def matrices_by_id(source: Store | Reader) -> dict[int, Matrix]:
    """Every matrix version in the workspace, by row id (see `risk_register`)."""
    from app.services.risk_register import matrices_by_id as read

    return read(source)
