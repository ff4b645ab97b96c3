"""Write the mapping graph as GraphML or as node-link JSON (no database: a graph in, a file out).

JSON shape: ``{"directed": true, "multigraph": false, "graph": {}, "nodes": [{"id": …,
"kind": …, …}], "edges": [{"source": …, "target": …, "kind": …, …}]}`` — networkx's
node-link format with ``edges`` as the key, readable back with ``nx.node_link_graph(data,
edges="edges")``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import networkx as nx

GraphFormat = Literal["graphml", "json"]
FORMATS: tuple[GraphFormat, ...] = ("graphml", "json")


def graph_bytes(g: nx.DiGraph, fmt: GraphFormat) -> bytes:
    """The file's bytes in `fmt`."""
    import networkx as nx

    if fmt == "json":
        data = nx.node_link_data(g, edges="edges")
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "graphml":
        return ("\n".join(nx.generate_graphml(g, encoding="utf-8")) + "\n").encode("utf-8")
    raise ValueError(f"unknown graph format {fmt!r}")


def write_graph(g: nx.DiGraph, path: Path, fmt: GraphFormat) -> int:
    """Write `g` to `path` atomically (a temporary file beside it, then renamed); returns the
    number of bytes written. OSError propagates to the caller."""
    data = graph_bytes(g, fmt)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)
