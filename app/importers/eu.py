"""What the EU importers share: identifiers, dates and titles of EU acts."""

from __future__ import annotations

import re
from collections.abc import Iterable

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_PROPER = {"ai": "AI", "eu": "EU", "union": "Union", "member": "Member", "states": "States",
           "commission": "Commission", "board": "Board", "office": "Office"}
_KINDS = {"regulation": ("R", "reg"), "directive": ("L", "dir"), "decision": ("D", "dec")}
_VARIANTS = {"implementing": "_impl", "delegated": "_del"}
# "COMMISSION IMPLEMENTING REGULATION (EU) 2023/1234", "Regulation (EC) No 1907/2006",
# "COUNCIL DIRECTIVE 93/42/EEC", "Directive 95/46/EC", "DECISION No 768/2008/EC"
_ACT = re.compile(
    r"^(?:(?:commission|council|european|parliament|central|bank|and|of|the)\s+)*"
    r"(?:(?P<variant>implementing|delegated)\s+)?(?P<kind>regulation|directive|decision)\s+"
    r"(?:\((?P<domain>[a-z, ]+)\)\s+)?(?P<no>no\.?\s+)?(?P<a>\d{1,4})/(?P<b>\d{1,4})"
    r"(?:/(?:eu|ec|eec|euratom|cfsp|jha|ecsc)\b)?", re.IGNORECASE)


def celex_eli(kind: str, year: str, number: str, variant: str = "") -> dict[str, str]:
    """CELEX and ELI of an act: ("Regulation", "2016", "679") → 32016R0679 and its ELI;
    `variant` "implementing" or "delegated" gives the ELI of such an act (reg_impl/…)."""
    codes = _KINDS.get(kind.lower())
    if codes is None or not (year.isdigit() and number.isdigit()):
        return {}
    letter, path = codes
    path += _VARIANTS.get(variant.lower(), "")
    return {"celex": f"3{year}{letter}{int(number):04d}",
            "eli": f"http://data.europa.eu/eli/{path}/{year}/{int(number)}/oj"}


def act_identifiers(heading: str) -> dict[str, str]:
    """CELEX and ELI from the heading of an act ("REGULATION (EU) 2016/679 OF …"), or {}.

    Numbers are year/number ("(EU) 2016/679", "Directive 95/46/EC") except after "No",
    where they are number/year ("Regulation (EC) No 1907/2006"); two-digit years are 19xx."""
    m = _ACT.match(" ".join(heading.split()))
    if not m:
        return {}
    year, number = (m["b"], m["a"]) if m["no"] else (m["a"], m["b"])
    if not _plausible_year(year) and _plausible_year(number):
        year, number = number, year
    if len(year) == 2:
        year = f"19{year}"
    if not _plausible_year(year):
        return {}
    return celex_eli(m["kind"], year, number, m["variant"] or "")


def _plausible_year(text: str) -> bool:
    return len(text) == 2 or (len(text) == 4 and 1950 <= int(text) <= 2099)


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


# capitals an act keeps in a heading set in capitals ("ICT RISK MANAGEMENT")
ACRONYMS = frozenset({
    "AI", "EU", "ICT", "IT", "UAS", "CSIRT", "ENISA", "NIS", "GDPR", "ECB", "ESA", "EBA",
    "ESMA", "EIOPA", "EEA", "EDPB", "EDPS", "SME", "TEU", "TFEU", "CE", "GPAI", "DLT", "CCP",
    "CSD", "UN", "EASA", "ATM"})
# words of 2–5 capitals that are words, not acronyms, when an act writes them in capitals
_WORDS = frozenset({
    "A", "AN", "AND", "ANY", "ARE", "AS", "AT", "BE", "BY", "FOR", "FROM", "HAS", "HAVE", "IN",
    "INTO", "IS", "ITS", "MAY", "NO", "NOT", "OF", "ON", "OR", "OTHER", "SHALL", "THAT", "THE",
    "THEIR", "THIS", "TO", "UNDER", "UPON", "WHERE", "WITH", "WHICH", "WHO"})
_LABEL_WORDS = frozenset({"part", "section", "annex", "chapter", "title", "article",
                          "appendix", "category", "subcategory", "point", "table"})
_NUMBER = re.compile(r"^(?:[A-Z]|[IVX]{1,5}|\d+[A-Za-z]?)[.,:;)]*$")  # "A", "III", "1", "2a"
_CAPITALS = re.compile(r"(?<![\w.\-])([A-Z]{2,5})s?(?!\w|[.\-]\w)")


def acronyms_in(texts: Iterable[str]) -> frozenset[str]:
    """Tokens of 2–5 capitals an act writes in its running (not all-capital) text: "ICT",
    "UAS" from "(‘UAS’)", "ESA" from "ESAs"; not the parts of codes ("UAS.OPEN.010")."""
    found = {m.group(1) for t in texts if not t.isupper() for m in _CAPITALS.finditer(t)}
    return frozenset(found - _WORDS)


def sentence_case(text: str, acronyms: Iterable[str] = ()) -> str:
    """EU layouts print some headings in capitals; give them the case the act uses. Known
    acronyms (and `acronyms`, those of the act) keep their capitals, and so does what a
    label word numbers ("PART A", "ANNEX III"), with the label capitalised."""
    if not text.isupper():
        return text
    keep = ACRONYMS | set(acronyms)
    words = text.split()
    out: list[str] = []
    for i, w in enumerate(words):
        after_label = i > 0 and words[i - 1].lower() in _LABEL_WORDS and bool(_NUMBER.match(w))
        if after_label and out:
            out[-1] = out[-1].capitalize()
        out.append(w if after_label else _word_case(w, keep))
    if out:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def _word_case(word: str, keep: frozenset[str] | set[str]) -> str:
    """One word of a heading in capitals: acronyms ("ICT-RELATED" → "ICT-related", "CSIRTS"
    → "CSIRTs") and words with digits ("A1") as printed, proper nouns capitalised."""
    if any(c.isdigit() for c in word):
        return word
    parts = re.split(r"([\-/])", word)
    return "".join(_part_case(p, keep) for p in parts)


def _part_case(part: str, keep: frozenset[str] | set[str]) -> str:
    core = part.strip("‘’'\"()[],.;:")
    if core and core in keep:
        return part
    if core.endswith("S") and core[:-1] in keep and core not in _WORDS:
        return part.replace(core, core[:-1] + "s")
    low = part.lower()
    proper = _PROPER.get(low.strip("‘’'\"()[],.;:"))
    return low.replace(low.strip("‘’'\"()[],.;:"), proper) if proper else low


def heading_case(text: str) -> str:
    """An act's heading as titles write it: "COMMISSION IMPLEMENTING REGULATION (EU) 2023/1234
    OF THE EUROPEAN CENTRAL BANK" → "Commission Implementing Regulation (EU) 2023/1234 of the
    European Central Bank"; words in brackets and words that are not all capitals stay."""
    def word(w: str) -> str:
        if not (w.isalpha() and w.isupper() and len(w) > 1):
            return w
        return w.lower() if w in ("OF", "THE", "AND", "ON", "FOR") else w.capitalize()
    return " ".join(word(w) for w in text.split())
