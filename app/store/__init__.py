"""Persistence: the workspace file, its versioned schema and audited write transactions.

`Store` and `Tx` load SQLAlchemy when first used, so that a command that only reads
(`app.store.reader`) starts without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.store.store import Store, Tx

__all__ = ["Store", "Tx"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.store import store

        return getattr(store, name)
    raise AttributeError(f"module 'app.store' has no attribute {name!r}")
