"""CISO Assistant framework libraries (YAML) → clause tree.

The library format (``intuitem/ciso-assistant-community``, ``backend/library/libraries``)::

    urn, locale, ref_id, name, description, copyright, version, publication_date?, provider
    objects:
      framework:
        urn, ref_id, name, description
        requirement_nodes:
          - {urn, assessable, depth, parent_urn?, ref_id?, name?, description?, annotation?,
             implementation_groups?, typical_evidence?, translations?, …}

Mapping: the tree comes from ``parent_urn`` (nodes may come in any order); ``depth`` is only
checked, and a mismatch is a warning. Ref = the node's ``ref_id``, else its urn without the
prefix all node urns share (many real nodes, such as headings, have no ref_id:
``urn:intuitem:risk:req_node:ai-act:node2`` → ``node2``; a heading ``…:checklist_09-08:2:1``
→ ``2:1``, since bare last segments repeat across sections); title = ``name``; text =
``description``; ``assessable`` as given (absent → not assessable, CISO Assistant's default).
Kind: ``group`` for a non-assessable node with children, else ``requirement``. The urn,
annotation, implementation groups and typical evidence go into ``attributes``; translations are
not imported. Code = the caller's, else the library ``ref_id`` upper-cased with runs of other
characters turned into hyphens (``AI Act`` → ``AI-ACT``, ``NIST-CSF-2.0`` → ``NIST-CSF-2-0``);
version = ``str(version)``; effective date = ``publication_date``.

YAML aliases are refused (see `app.importers.yaml_safe`). Errors carry the YAML line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.refs import validate_code
from app.errors import ImportFailed
from app.importers.yaml_safe import load_yaml

_MAX_WARNINGS = 10
MAX_DEPTH = 50  # deeper trees are refused: no real library comes near, and trees are walked


def _scalar_text(value: Any) -> Any:
    """YAML reads ``ref_id: 1.1`` as a number and ``version: 2`` as an int; take them as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | date):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_text)]


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NodeIn(_M):
    urn: str = Field(min_length=1)
    assessable: bool = False
    depth: int | None = None
    parent_urn: str | None = None
    ref_id: Text | None = None
    name: Text | None = None
    description: Text | None = None
    annotation: Text | None = None
    implementation_groups: list[Text] | None = None
    typical_evidence: Text | None = None


class FrameworkIn(_M):
    urn: str = Field(min_length=1)
    ref_id: Text | None = None
    name: Text = Field(min_length=1)
    description: Text | None = None
    requirement_nodes: list[NodeIn] = Field(min_length=1)


class ObjectsIn(_M):
    framework: FrameworkIn


class LibraryIn(_M):
    urn: str = Field(min_length=1)
    locale: str | None = None
    ref_id: Text = Field(min_length=1)
    name: Text | None = None
    version: Text = Field(min_length=1)
    publication_date: Text | None = None
    copyright: Text | None = None
    provider: Text | None = None
    objects: ObjectsIn


def parse_ciso_library(data: bytes, path: Path, *, code: str | None = None) -> RegulationDoc:
    """Read a CISO Assistant framework library."""
    raw = load_yaml(data, path)
    _check_shape(raw, data, path)
    try:
        lib = LibraryIn.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ImportFailed(f"{path}: line {_line(data, loc)}: {_dotted(loc)}: "
                           f"{err['msg']}{more}") from None
    fw = lib.objects.framework
    warnings: list[str] = []
    clauses = _tree(fw.requirement_nodes, data, path, warnings)
    if code is None:
        code = _code(lib.ref_id) or _code(fw.ref_id or "") or _code(fw.urn.rsplit(":", 1)[-1])
        if not code:
            raise ImportFailed(f"{path}: line {_line(data, ('ref_id',))}: cannot make a "
                               f"regulation code from ref_id {lib.ref_id!r}; give one with "
                               "--code")
    else:
        try:
            code = validate_code(code.strip().upper())
        except ValueError as exc:
            raise ImportFailed(f"{path}: {exc}") from None
    attribution = "; ".join(filter(None, [lib.copyright, f"provider: {lib.provider}"
                                          if lib.provider else ""]))
    return RegulationDoc(
        code=code, title=fw.name.strip(), version_label=lib.version.strip(),
        effective_date=_date_part(lib.publication_date), short_title=lib.ref_id.strip(),
        identifiers={"urn": lib.urn, "framework-urn": fw.urn}, attribution=attribution,
        source_name=path.name, source_sha256=hashlib.sha256(data).hexdigest(),
        source_format="ciso-assistant", clauses=clauses, warnings=warnings,
    )


def _check_shape(raw: Any, data: bytes, path: Path) -> None:
    """Clear words for files that are not framework libraries at all."""
    if not isinstance(raw, dict):
        raise ImportFailed(f"{path}: line 1: the document is a YAML "
                           f"{type(raw).__name__}, not a CISO Assistant library mapping")
    objects = raw.get("objects")
    if not isinstance(objects, dict) or not isinstance(objects.get("framework"), dict):
        held = ", ".join(sorted(map(str, objects))) if isinstance(objects, dict) else ""
        where = _line(data, ("objects",)) if "objects" in raw else 1
        tail = f" (its objects are: {held})" if held else ""
        raise ImportFailed(f"{path}: line {where}: there is no objects.framework, so this is "
                           f"not a CISO Assistant framework library{tail}")


def _tree(nodes: list[NodeIn], data: bytes, path: Path,
          warnings: list[str]) -> list[ClauseNode]:
    def line(i: int, key: str = "") -> int:
        loc: tuple[Any, ...] = ("objects", "framework", "requirement_nodes", i)
        return _line(data, (*loc, key) if key else loc)

    by_urn: dict[str, int] = {}
    by_ref: dict[str, int] = {}
    prefix = _common_prefix([n.urn for n in nodes])
    built: list[ClauseNode] = []
    for i, n in enumerate(nodes):
        if n.urn in by_urn:
            raise ImportFailed(f"{path}: line {line(i, 'urn')}: urn {n.urn!r} is already used "
                               f"by the node on line {line(by_urn[n.urn])}")
        by_urn[n.urn] = i
        ref = " ".join((n.ref_id or "").split()) or n.urn[len(prefix):].strip()
        if not ref:
            raise ImportFailed(f"{path}: line {line(i)}: the node has neither a ref_id nor a "
                               "usable urn")
        if ref in by_ref:
            raise ImportFailed(f"{path}: line {line(i, 'ref_id')}: ref {ref!r} is already used "
                               f"by the node on line {line(by_ref[ref])}")
        by_ref[ref] = i
        attrs = {"urn": n.urn}
        if n.annotation:
            attrs["annotation"] = n.annotation.strip()
        if n.implementation_groups:
            attrs["implementation_groups"] = ", ".join(n.implementation_groups)
        if n.typical_evidence:
            attrs["typical_evidence"] = n.typical_evidence.strip()
        built.append(ClauseNode(ref=ref, kind="requirement", title=(n.name or "").strip(),
                                text=(n.description or "").strip(), assessable=n.assessable,
                                attributes=attrs))
    parent: list[int | None] = []
    for i, n in enumerate(nodes):
        if n.parent_urn and n.parent_urn not in by_urn:
            raise ImportFailed(f"{path}: line {line(i, 'parent_urn')}: parent_urn "
                               f"{n.parent_urn!r} is not "
                               "the urn of any node in this file")
        parent.append(by_urn[n.parent_urn] if n.parent_urn else None)
    depth = _depths(parent, built, path, line)
    top: list[ClauseNode] = []
    for i, node in enumerate(built):
        p = parent[i]
        (built[p].children if p is not None else top).append(node)
        declared = nodes[i].depth
        if declared is not None and declared != depth[i] and len(warnings) < _MAX_WARNINGS:
            warnings.append(f"{path.name}: node {node.ref!r} says depth {declared} but sits at "
                            f"depth {depth[i]} under its parent_urn; the parent_urn wins")
    for node in built:
        if node.children and not node.assessable:
            node.kind = "group"
    return top


def _depths(parent: list[int | None], built: list[ClauseNode], path: Path,
            line: Callable[[int, str], int]) -> list[int]:
    """Depth of each node (top level = 1); a parent_urn cycle is an error."""
    depth: list[int] = [0] * len(parent)
    for start in range(len(parent)):
        chain: list[int] = []
        on_chain: set[int] = set()
        cur: int | None = start
        while cur is not None and not depth[cur]:
            if cur in on_chain:
                loop = [*(built[j].ref for j in chain[chain.index(cur):]), built[cur].ref]
                raise ImportFailed(f"{path}: line {line(cur, 'parent_urn')}: parent_urn makes "
                                   f"a cycle ({' → '.join(loop)})")
            chain.append(cur)
            on_chain.add(cur)
            cur = parent[cur]
        base = depth[cur] if cur is not None else 0
        for offset, j in enumerate(reversed(chain), start=1):
            depth[j] = base + offset
            if base + offset > MAX_DEPTH:
                raise ImportFailed(f"{path}: line {line(j, 'parent_urn')}: node "
                                   f"{built[j].ref!r} is nested more than {MAX_DEPTH} levels "
                                   "deep")
    return depth


def _common_prefix(urns: list[str]) -> str:
    """The urn segments every node shares (``urn:intuitem:risk:req_node:ai-act:``)."""
    if not urns:
        return ""
    low, high = min(urns), max(urns)
    size = 0
    while size < min(len(low), len(high)) and low[size] == high[size]:
        size += 1
    return low[: low.rfind(":", 0, size) + 1]


def _code(ref_id: str) -> str:
    code = re.sub(r"[^A-Z0-9]+", "-", ref_id.upper()).strip("-")
    if code and code[0].isdigit():
        code = f"LIB-{code}"
    try:
        return validate_code(code)
    except ValueError:
        return ""


def _date_part(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _line(data: bytes, loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node on `loc` (only on the error path: parses again)."""
    try:
        node: Any = yaml.compose(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line + 1 if node is not None else 1
    for step in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(step)),
                       None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            nxt = node.value[step] if step < len(node.value) else None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line
