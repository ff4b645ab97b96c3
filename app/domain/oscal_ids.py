"""How Crosswalk names things in OSCAL: stable UUIDs and the ids of clauses and controls.

- UUIDs are version-5 UUIDs of a fixed namespace and a name built from our own ids
  (``map:GDPR:2016-04-27:Art. 32(1)(b):SEC-1``), so exporting twice gives identical files.
- A control's OSCAL id is its id in lower case (``GOV-1`` → ``gov-1``, the NIST style); its
  ``label`` prop keeps ``GOV-1``.
- A clause's OSCAL id is the ``oscal_id`` it was imported with (an OSCAL catalog), else its ref
  made into an OSCAL token: lower case, ``§`` → ``sec``, each bracketed part a dot-separated
  segment, spaces ``_`` (``Art. 32(1)(b)`` → ``art_32.1.b``, ``§ 164.312(a)(2)(iv)`` →
  ``sec_164.312.a.2.iv``, ``Chapter IV Section 2`` → ``chapter_iv_section_2``). Ids are unique
  within a regulation version: a later clause whose id is taken gets ``-2``, ``-3``….
- `loose_key` is the tolerant form used to read other tools' ids: case, ``_``/``-``/spaces,
  brackets and dots all fold to one spelling (``ART-32-1-B`` and ``Art. 32(1)(b)`` agree).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

NAMESPACE = uuid.UUID("6f1c3d0e-9a57-5b7e-8a51-6c2f0e3b7a10")
OSCAL_VERSION = "1.2.1"
CROSSWALK_NS = "https://crosswalk.invalid/ns/oscal"  # our props; .invalid never resolves
_TOKEN_RE = re.compile(r"^[^\W\d][\w.\-]*$")


def stable_uuid(*parts: str) -> str:
    """A UUID (v5) that depends only on `parts`."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def control_oscal_id(control_id: str) -> str:
    return control_id.lower()


def ref_token(ref: str) -> str:
    """A clause ref as an OSCAL token (see the module doc)."""
    s = ref.strip().lower().replace("§", " sec ")
    s = re.sub(r"\s*\(([^()]*)\)", r".\1", s)  # (1)(b) → .1.b
    s = re.sub(r"\b(art|sec|para|no)\.\s*", r"\1 ", s)  # "art. 32" → "art 32"
    s = re.sub(r"\s+", "_", s.strip())
    s = re.sub(r"[^\w.\-]+", "-", s).strip("-_.")
    if not s or not _TOKEN_RE.match(s):
        s = f"c_{s}"
    return s


def is_token(text: str) -> bool:
    return bool(_TOKEN_RE.match(text))


def clause_oscal_ids(clauses: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """OSCAL id of each clause from (ref, imported oscal_id or None), in document order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for ref, imported in clauses:
        base = imported if imported and is_token(imported) else ref_token(ref)
        oid, n = base, 1
        while oid.lower() in taken:
            n += 1
            oid = f"{base}-{n}"
        taken.add(oid.lower())
        out[ref] = oid
    return out


def loose_key(text: str) -> str:
    """The tolerant spelling of a ref or id: lower case, ``§`` and ``section`` → ``sec``,
    ``article`` → ``art``, every run of other characters one dot."""
    s = text.strip().lower().replace("§", " sec ")
    words = {"article": "art", "section": "sec"}
    return ".".join(words.get(w, w) for w in re.findall(r"[^\W_]+", s))
