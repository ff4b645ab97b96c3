"""Persistence: the workspace file, its versioned schema and audited write transactions."""

from app.store.store import Store, Tx

__all__ = ["Store", "Tx"]
