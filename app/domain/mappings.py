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

# Defaults of a new mapping: a moderate strength, and partial coverage until the analyst says
# the control meets the whole clause (auditors prefer an understatement to an overstatement).
DEFAULT_MATCHING = "semantic"
DEFAULT_STRENGTH = 5
DEFAULT_COVERAGE = "partial"
MAX_RATIONALE = 4_000
SUBSTANCE: tuple[str, ...] = ("relationship", "matching", "strength", "coverage", "rationale")


def check_fields(*, relationship: str | None = None, matching: str | None = None,
                 strength: int | str | None = None, coverage: str | None = None,
                 rationale: str | None = None) -> dict[str, str | int]:
    """The given fields of a mapping, checked and normalised; ValueError names what is wrong.
    A `no-relationship` mapping records that a control does not meet a clause, so it cannot
    claim full coverage."""
    from app.domain.text import clean_text

    out: dict[str, str | int] = {}
    for name, value, allowed in (("relationship", relationship, RELATIONSHIPS),
                                 ("matching", matching, MATCHING),
                                 ("coverage", coverage, COVERAGE)):
        if value is not None:
            word = value.strip().lower()
            if word not in allowed:
                raise ValueError(f"{name} {value!r} is not one of: {', '.join(allowed)}")
            out[name] = word
    if strength is not None:
        try:
            number = int(strength)
        except ValueError:
            raise ValueError(f"strength {strength!r} is not a whole number from 0 to 10") from None
        if not 0 <= number <= 10:
            raise ValueError(f"strength {number} is out of range: give 0 to 10")
        out["strength"] = number
    if rationale is not None:
        out["rationale"] = clean_text(rationale, "rationale", MAX_RATIONALE, multiline=True,
                                      required=True)
    if out.get("relationship") == "no-relationship" and out.get("coverage") == "full":
        raise ValueError("a no-relationship mapping covers nothing: it cannot have full "
                         "coverage")
    return out


def review_step(current: str, wanted: str) -> str:
    """The review status after asking for `wanted`: draft → reviewed → approved, or back to
    draft to reopen. ValueError for a step the trail does not allow."""
    wanted = wanted.strip().lower()
    if wanted not in REVIEW_STATUS:
        raise ValueError(f"review status {wanted!r} is not one of: {', '.join(REVIEW_STATUS)}")
    if wanted == current:
        raise ValueError(f"the mapping is already {current}")
    if wanted == "approved" and current != "reviewed":
        raise ValueError("only a reviewed mapping can be approved: review it first")
    return wanted
