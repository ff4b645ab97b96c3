"""Clause refs: stable, human-readable ids of clauses within a regulation version.

A ref names a clause inside its regulation (`Art. 32(1)(b)`, `Annex IV(2)(b)`, `Recital 71`,
`§ 164.312(a)(2)(iv)`, `GOVERN 1.1`); a full ref prefixes the regulation code
(`GDPR Art. 32(1)(b)`). Mappings attach to refs, so refs must survive re-import: they are
built from the document's own numbering, never from row ids or positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*$")
_ROMAN_RE = re.compile(r"^[IVXLCDM]+$", re.IGNORECASE)
_LEADS = {
    "art": "Art.",
    "article": "Art.",
    "recital": "Recital",
    "rec": "Recital",
    "annex": "Annex",
    "chapter": "Chapter",
    "ch": "Chapter",
    "section": "Section",
    "title": "Title",
    "part": "Part",
    "subpart": "Subpart",
}
_LEAD_ALTERNATIVES = "|".join(sorted(_LEADS, key=len, reverse=True))
_LEAD_RE = re.compile(rf"^({_LEAD_ALTERNATIVES})(?:\.\s*|\s+|(?=\d))(\S.*)$", re.IGNORECASE)
_SUFFIX_RE = re.compile(r"\s*(\([^()\s]+\))")
# a CFR section however it is typed: "§164.312", "164.312", "45 CFR 164.312", "Sec. 164.312"
_CFR_RE = re.compile(r"^(?:\d+\s*C\.?F\.?R\.?\s*)?(?:§+|sec\.?|section)?\s*(\d{3}\.\d+.*)$",
                     re.IGNORECASE)
_ROMAN_LEADS = {"Annex", "Chapter", "Title"}


def validate_code(code: str) -> str:
    """A regulation code: upper-case letters, digits and single hyphens (`EU-AI-ACT`)."""
    if not CODE_RE.match(code):
        raise ValueError(
            f"invalid regulation code {code!r}: use upper-case letters, digits and hyphens, "
            "e.g. GDPR or EU-AI-ACT"
        )
    return code


def normalise_ref(text: str) -> str:
    """Bring a ref typed by a person to its canonical spelling.

    ``article 32 (1) (b)`` → ``Art. 32(1)(b)``; ``§164.312(a)``, ``164.312(a)``,
    ``45 CFR 164.312(a)`` and ``sec. 164.312(a)`` → ``§ 164.312(a)``; ``annex iv(2)`` and
    ``annex 4(2)`` → ``Annex IV(2)``; ``chapter iv section 2`` → ``Chapter IV Section 2``.
    Refs of other shapes (``GOVERN 1.1``) are only trimmed and have their inner whitespace
    collapsed.
    """
    s = " ".join(text.split())
    if not s:
        raise ValueError("empty clause ref")
    cfr = _CFR_RE.match(s)
    if cfr:
        return _SUFFIX_RE.sub(r"\1", f"§ {cfr.group(1)}")
    m = _LEAD_RE.match(s)
    if not m:
        return s
    lead = _LEADS[m.group(1).lower()]
    rest = _SUFFIX_RE.sub(r"\1", m.group(2))
    number_m = re.match(r"^([0-9A-Za-z.]+?)(?=\(|\s|$)(.*)$", rest)
    number, tail = (number_m.group(1), number_m.group(2)) if number_m else (rest, "")
    if lead in _ROMAN_LEADS:
        if _ROMAN_RE.match(number):
            number = number.upper()
        elif number.isdigit() and 0 < int(number) < 40:
            number = _roman(int(number))
    tail = tail.strip()
    if tail and not tail.startswith("("):  # "chapter iv section 2": normalise the next part
        return f"{lead} {number} {normalise_ref(tail)}"
    return f"{lead} {number}{tail}"


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + numeral, n - value
    return out


def ref_ancestors(ref: str) -> list[str]:
    """Refs of the enclosing clauses named by the bracketed suffixes, nearest first.

    ``Art. 32(1)(b)`` → ``["Art. 32(1)", "Art. 32"]``. Structural parents that the ref does
    not spell (the chapter of an article) come from the clause tree, not from here.
    """
    out: list[str] = []
    cur = ref
    while cur.endswith(")") and "(" in cur:
        cur = cur[: cur.rindex("(")]
        out.append(cur)
    return out


@dataclass(frozen=True, slots=True)
class FullRef:
    """A clause's id across the workspace: regulation code plus ref."""

    code: str
    ref: str

    def __str__(self) -> str:
        return f"{self.code} {self.ref}"


def parse_full_ref(text: str, known_codes: Iterable[str] = ()) -> FullRef:
    """Split `GDPR Art. 32(1)(b)` into code and normalised ref.

    With `known_codes`, the longest code the text starts with (any case) wins, so codes that
    contain spaces in the user's typing are still found; otherwise the first word is the code.
    """
    s = " ".join(text.split())
    for code in sorted(known_codes, key=len, reverse=True):
        if s.upper().startswith(code.upper() + " "):
            return FullRef(code, normalise_ref(s[len(code) + 1 :]))
    code, _, ref = s.partition(" ")
    if not ref:
        raise ValueError(f"{text!r} is not a full clause ref; write it as CODE REF, e.g. "
                         "'GDPR Art. 32(1)(b)'")
    return FullRef(validate_code(code.upper()), normalise_ref(ref))
