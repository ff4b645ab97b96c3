"""YAML for untrusted files: `safe_load` semantics, errors with line and column, no aliases.

`yaml.safe_load` builds no objects but still honours anchors and aliases, so a few hundred
bytes can describe a structure with billions of references ("billion laughs"). Files from
outside are scanned for aliases first and refused if they use any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(data: bytes, path: Path, *, allow_aliases: bool = False) -> Any:
    from app.errors import ImportFailed

    try:
        if not allow_aliases:
            for event in yaml.parse(data, Loader=_Loader):
                if isinstance(event, yaml.AliasEvent):
                    mark = event.start_mark
                    raise ImportFailed(
                        f"{path}: line {mark.line + 1}, column {mark.column + 1}: YAML aliases "
                        f"(*{event.anchor}) are not accepted in imported files")
        return yaml.load(data, Loader=_Loader)  # a safe loader (CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ImportFailed(f"{path}: invalid YAML at {where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ImportFailed(f"{path}: invalid YAML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path}: not UTF-8 text ({exc.reason})") from None
