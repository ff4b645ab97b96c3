"""Evidence and control tests: their vocabularies, dates and status rules (no I/O).

**Status of a piece of evidence** comes from its latest version's *valid until* date and
today's date (UTC): *expired* once the date has passed, *expiring* within the workspace's
window (30 days unless changed) and *current* otherwise, or when it has no end date.

**Status of a control's evidence** (the roll-up): *expired* if any linked evidence has
expired, else *expiring* if any is expiring, else *current* if it has evidence; with no
evidence at all, *missing* for a control marked implemented (an auditor will ask) and
*none* otherwise. The worst status wins, because that is the one that needs work.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from app.domain.clock import iso_utc

KINDS = ("document", "configuration", "log", "screenshot", "report", "test-result", "link")
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
PROCEDURES = ("inquiry", "observation", "inspection", "re-performance")
RESULTS = ("effective", "effective-with-exceptions", "not-effective", "not-tested")
NEEDS_EXCEPTIONS = frozenset({"effective-with-exceptions", "not-effective"})

CURRENT, EXPIRING, EXPIRED = "current", "expiring", "expired"
MISSING, NONE = "missing", "none"
STATUSES = (CURRENT, EXPIRING, EXPIRED)  # of a piece of evidence
ROLLUP = (EXPIRED, MISSING, EXPIRING, CURRENT, NONE)  # of a control, worst first
DEFAULT_EXPIRING_DAYS = 30
MAX_EXPIRING_DAYS = 3650

MAX_TITLE = 300
MAX_DESCRIPTION = 20_000
MAX_SHORT = 200  # collected by, source system, tester, population
LINK_MEDIA_TYPE = "text/uri-list"

_ID = re.compile(r"\s*(?:(ev|ct)-?)?\s*0*(\d{1,9})\s*", re.IGNORECASE)


def choose(value: str, choices: tuple[str, ...], what: str) -> str:
    """`value` as one of `choices`, accepting case, spaces and underscores ("Test result")."""
    key = value.strip().lower().replace("_", "-").replace(" ", "-")
    if key in choices:
        return key
    raise ValueError(f"invalid {what} {value!r}; choose one of: {', '.join(choices)}")


def evidence_label(evidence_id: int) -> str:
    return f"EV-{evidence_id}"


def test_label(test_id: int) -> str:
    return f"CT-{test_id}"


def parse_id(text: str, prefix: str) -> int:
    """``EV-12``, ``ev12`` or ``12`` → 12 (prefix ``EV`` or ``CT``)."""
    m = _ID.fullmatch(str(text))
    if m is None or (m.group(1) and m.group(1).upper() != prefix) or int(m.group(2)) == 0:
        what = "an evidence" if prefix == "EV" else "a control test"
        raise ValueError(f"{text!r} is not {what} id (like {prefix}-12)")
    return int(m.group(2))


def parse_version_ref(text: str) -> tuple[int, int | None]:
    """``EV-3`` (the latest version) or ``EV-3@2`` → (3, 2)."""
    head, sep, tail = text.strip().partition("@")
    evidence_id = parse_id(head, "EV")
    if not sep:
        return evidence_id, None
    version = tail.strip().lstrip("vV")
    if not (version.isascii() and version.isdigit()) or int(version) < 1:
        raise ValueError(f"{text!r}: the version after '@' must be a number ≥ 1")
    return evidence_id, int(version)


def parse_date(text: str, what: str) -> date:
    """A calendar date written ``YYYY-MM-DD``; anything else is refused in one sentence."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValueError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD") from None


def parse_moment(text: str, what: str) -> str:
    """A date (``2026-11-02``) or a date and time (``2026-11-02T14:30``, UTC unless an offset is
    given), normalised: a date stays a date; a moment becomes ISO UTC with a ``Z``."""
    value = text.strip()
    if len(value) == 10:
        return parse_date(value, what).isoformat()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM") from None
    return iso_utc(moment)


def day_of(moment: str) -> date:
    return date.fromisoformat(moment[:10])


def status_of(valid_until: str | None, today: date,
              expiring_days: int = DEFAULT_EXPIRING_DAYS) -> str:
    """current, expiring or expired (see the module doc)."""
    if not valid_until:
        return CURRENT
    end = date.fromisoformat(valid_until[:10])
    if end < today:
        return EXPIRED
    if end <= today + timedelta(days=expiring_days):
        return EXPIRING
    return CURRENT


def rollup(statuses: Iterable[str], implemented: bool) -> str:
    """A control's evidence status from its linked evidence's statuses."""
    seen = set(statuses)
    for status in (EXPIRED, EXPIRING, CURRENT):
        if status in seen:
            return status
    return MISSING if implemented else NONE


def check_expiring_days(value: int | str) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"the expiring window {value!r} is not a whole number of days") \
            from None
    if not 0 <= days <= MAX_EXPIRING_DAYS:
        raise ValueError(f"the expiring window must be 0 to {MAX_EXPIRING_DAYS} days, "
                         f"not {days}")
    return days


_INVISIBLE = set("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(name: str, *, backslash: bool = True) -> str:
    """A stored name made safe to print: control characters, bidirectional marks and bytes
    that were not UTF-8 appear as escapes (``\\u202e``, ``\\x1b``), never as themselves;
    backslashes are doubled (so an escape cannot be faked) unless `backslash` is off."""
    out = []
    for c in name:
        if 0xDC80 <= ord(c) <= 0xDCFF:  # an undecodable byte kept by os.fsdecode
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c in _INVISIBLE or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(c):04x}" if ord(c) > 0xFF else f"\\x{ord(c):02x}")
        elif c == "\\" and backslash:
            out.append("\\\\")
        else:
            out.append(c)
    return "".join(out)


def stored_name(name: str, limit: int = 255) -> str:
    """The original file name as stored: its last path part only (never ``..`` or a folder),
    undecodable bytes kept as escapes, at most `limit` characters (the end is kept: it holds
    the extension)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base in ("", ".", ".."):
        base = "file"
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in base):
        base = shown(base)
    return base if len(base) <= limit else "…" + base[-(limit - 1):]
