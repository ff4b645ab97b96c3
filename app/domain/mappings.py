"""The vocabulary of clause → control mappings (OSCAL 1.2 mapping model and NIST OLIR)."""

from __future__ import annotations

RELATIONSHIPS: tuple[str, ...] = (
    "equivalent-to",
    "equal-to",
    "subset-of",
    "superset-of",
    "intersects-with",
    "no-relationship",
)
MATCHING: tuple[str, ...] = ("syntactic", "semantic", "functional")
COVERAGE: tuple[str, ...] = ("full", "partial")
REVIEW_STATUS: tuple[str, ...] = ("draft", "reviewed", "approved")
DEFAULT_AUTHOR = "crosswalk (default mapping)"
