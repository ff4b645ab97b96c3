"""Where the workspace lives and who is acting: flags first, then environment, then defaults.

- workspace: ``--workspace PATH``, else ``CROSSWALK_WORKSPACE``, else
  ``<user data dir>/crosswalk/workspace.db`` (platformdirs: ``~/.local/share/crosswalk`` on Linux)
- actor: ``--actor NAME``, else ``CROSSWALK_ACTOR``, else the OS user name
- lock wait: ``CROSSWALK_BUSY_TIMEOUT`` seconds (default 5)
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from app.domain.text import clean_text
from app.errors import InvalidInput

APP_NAME = "crosswalk"


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def workspace_path(flag: str | os.PathLike[str] | None = None) -> Path:
    chosen = flag or os.environ.get("CROSSWALK_WORKSPACE")
    if chosen:
        return Path(chosen).expanduser()
    return data_dir() / "workspace.db"


def demo_path() -> Path:
    return data_dir() / "demo.db"


def actor(flag: str | None = None) -> str:
    name = flag if flag is not None else os.environ.get("CROSSWALK_ACTOR")
    if name is None:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    try:
        return clean_text(name, "the actor name", 120, required=True)
    except ValueError as exc:
        raise InvalidInput(f"invalid actor {name!r}: {exc}") from None


def busy_timeout() -> float:
    raw = os.environ.get("CROSSWALK_BUSY_TIMEOUT")
    if raw is None:
        return 5.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise InvalidInput(
            f"invalid CROSSWALK_BUSY_TIMEOUT {raw!r}: give a number of seconds from 0 to 3600"
        )
    return value
