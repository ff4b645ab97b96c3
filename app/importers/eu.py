"""What the EU importers share: identifiers, dates and titles of EU acts."""

from __future__ import annotations

import re

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_PROPER = {"ai": "AI", "eu": "EU", "union": "Union", "member": "Member", "states": "States",
           "commission": "Commission", "board": "Board", "office": "Office"}
_KINDS = {"regulation": ("R", "reg"), "directive": ("L", "dir"), "decision": ("D", "dec")}


def celex_eli(kind: str, year: str, number: str) -> dict[str, str]:
    """CELEX and ELI of an act: ("Regulation", "2016", "679") → 32016R0679 and its ELI."""
    codes = _KINDS.get(kind.lower())
    if codes is None or not (year.isdigit() and number.isdigit()):
        return {}
    letter, path = codes
    return {"celex": f"3{year}{letter}{int(number):04d}",
            "eli": f"http://data.europa.eu/eli/{path}/{year}/{int(number)}/oj"}


def act_date(title: str) -> str:
    """The adoption date in a title ("… of 27 April 2016 …") as 2016-04-27, or ""."""
    m = re.search(r"\bof (\d{1,2}) ([A-Za-z]+) (\d{4})\b", title)
    if not m or m.group(2).lower() not in _MONTHS:
        return ""
    return f"{m.group(3)}-{_MONTHS[m.group(2).lower()]:02d}-{int(m.group(1)):02d}"


def short_title(title: str) -> str:
    """"(General Data Protection Regulation)" or "(Artificial Intelligence Act)" in a title."""
    m = re.search(r"\(([^()]*(?:Regulation|Act|Directive))\)", title)
    return m.group(1) if m else ""


def sentence_case(text: str) -> str:
    """EU layouts print some headings in capitals; give them the case the act uses."""
    if not text.isupper():
        return text
    words = [_PROPER.get(w, w) for w in text.lower().split()]
    words = [re.sub(r"^ai-", "AI-", w) for w in words]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]]) if words else ""
