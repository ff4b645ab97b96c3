"""OSCAL catalogs (JSON and XML, OSCAL 1.x) → clause tree.

Mapping (both syntaxes go through the same models, so they give the same tree):

- **groups** → kind ``group``, not assessable; ref = the group's ``label`` prop, else its id
  upper-cased (``ac`` → ``AC``), else its title. Groups nest.
- **controls** → kind ``control``; controls inside controls (enhancements) → kind
  ``control-enhancement``. Ref = the ``label`` prop without a ``class`` (800-53 also carries
  ``zero-padded`` and ``sp800-53a`` labels: ``AC-02``), else the first ``label`` prop, else the
  id upper-cased. So ``ac-2`` is ``AC-2`` and ``ac-2.1`` is ``AC-2(1)``.
- **text** = the ``statement`` part: its own prose, then each nested ``item`` part on its own
  line as ``label prose`` (``a. …``, ``  1. …``), indented two spaces per level. A control
  with no statement takes the prose of its other non-guidance, non-assessment parts.
- ``{{ insert: param, ID }}`` is replaced from the catalog's ``params`` (looked up document
  wide): set ``values`` joined with ", "; a ``select`` as ``[Selection: a; b]`` (or
  ``[Selection (one or more): a; b]``, NIST's wording, for ``how-many="one-or-more"``); else
  ``[Assignment: label]`` (or the first guideline). Unknown ids become ``[Assignment: ID]``
  with a warning. Choices may insert other parameters; cycles stop at ``[Assignment: ID]``, one
  parameter's text is cut at 2,000 characters, and a document whose insertions add more than
  20 million characters is refused (an expansion bomb).
- **guidance** part prose → ``attributes["guidance"]``, whole (it is the official text, and the
  file size limit bounds it). ``summary`` stays empty: it is for our own one-line summaries.
  Assessment objectives and methods are not imported.
- ``attributes["oscal_id"]`` keeps the OSCAL id (mapping collections refer to it).
- Withdrawn controls (prop ``status=withdrawn``) are kept, not assessable, with
  ``attributes["status"] = "withdrawn"`` and, where the catalog says so,
  ``attributes["incorporated-into"]`` / ``["moved-to"]`` as comma-separated refs.

**Crosswalk's own exports** (`app.exporters.oscal_regulation`) come back as they left: props
and parts in the Crosswalk namespace give the clause kind, ``assessable`` and our summary (never
clause text); a title that only repeats the ref is no title; the OSCAL id is kept only when
the ref would not give it anyway; a group without our ``kind`` prop (the recitals group, prop
``container``) is no clause, its members take its place; and the metadata prop
``regulation-code`` (``short-title``) names the regulation unless the caller gives a code.
An unchanged export re-imported as a new version therefore diffs as unchanged.

Regulation identity: title = ``metadata.title``; version = ``metadata.version``; effective
date = the date part of ``metadata.published``, else of ``metadata.last-modified``; code =
the caller's, else derived from the title (`code_from_title`). XML is parsed with defusedxml
(entity declarations and external references refused). Groups, controls and parts nested more
than `MAX_DEPTH` levels are refused; assessment parts are emptied before validation (they are
most of an 800-53 catalog and are not imported), which keeps the 800-53 LOW catalog at ~30 ms.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain.clauses import ClauseNode, RegulationDoc
from app.domain.oscal_ids import CROSSWALK_NS, ref_token
from app.domain.refs import validate_code
from app.errors import ImportFailed
from app.importers.source import decode_text, load_json

OSCAL_NS = "http://csrc.nist.gov/ns/oscal/1.0"
_INSERT_RE = re.compile(r"\{\{\s*insert:\s*param\s*,\s*([^\s}]+)\s*\}\}")
_MAX_WARNINGS = 10
_MAX_PARAM_TEXT = 2000  # a parameter's rendered text is cut here (nested selections can explode)
_MAX_INSERTED = 20_000_000  # characters all insertions may add to a document (expansion bombs)
MAX_DEPTH = 50  # groups, controls and parts nested deeper than this are refused


# ---------------------------------------------------------------- models (the parts we use)

class _M(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Prop(_M):
    name: str
    value: str
    class_: str | None = Field(default=None, alias="class")
    ns: str | None = None


class Link(_M):
    href: str
    rel: str | None = None


class Guideline(_M):
    prose: str = ""


class Select(_M):
    how_many: str | None = Field(default=None, alias="how-many")
    choice: list[str] = Field(default_factory=list)


class Param(_M):
    id: str
    label: str | None = None
    values: list[str] = Field(default_factory=list)
    select: Select | None = None
    guidelines: list[Guideline] = Field(default_factory=list)


class Part(_M):
    name: str
    id: str | None = None
    ns: str | None = None
    title: str | None = None
    props: list[Prop] = Field(default_factory=list)
    prose: str | None = None
    parts: list[Part] = Field(default_factory=list)


class Control(_M):
    id: str = Field(min_length=1)
    title: str
    params: list[Param] = Field(default_factory=list)
    props: list[Prop] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    parts: list[Part] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)


class Group(_M):
    id: str | None = None
    title: str
    params: list[Param] = Field(default_factory=list)
    props: list[Prop] = Field(default_factory=list)
    parts: list[Part] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)


class Metadata(_M):
    title: str = Field(min_length=1)
    version: str | None = None
    published: str | None = None
    last_modified: str | None = Field(default=None, alias="last-modified")
    oscal_version: str | None = Field(default=None, alias="oscal-version")
    props: list[Prop] = Field(default_factory=list)


class Catalog(_M):
    uuid: str = Field(min_length=1)
    metadata: Metadata
    params: list[Param] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)


# ---------------------------------------------------------------- entry points

def parse_oscal_json(data: bytes, path: Path, *, code: str | None = None) -> RegulationDoc:
    """Read an OSCAL catalog in JSON (a catalog or a resolved profile catalog)."""
    _refuse_utf16(data, path)
    text, _ = decode_text(data, path)
    raw = load_json(text, path)
    if not isinstance(raw, dict) or "catalog" not in raw:
        raise ImportFailed(f"{path}: {_not_a_catalog(raw)}")
    return _build(raw["catalog"], data, path, code=code, xml=False)


def parse_oscal_xml(data: bytes, path: Path, *, code: str | None = None) -> RegulationDoc:
    """Read an OSCAL catalog in XML (namespace http://csrc.nist.gov/ns/oscal/1.0)."""
    import defusedxml
    import defusedxml.ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    except ParseError as exc:
        line, col = exc.position
        reason = str(exc).split(":")[0]
        raise ImportFailed(f"{path}: invalid XML at line {line}, column {col + 1}: "
                           f"{reason}") from None
    except defusedxml.EntitiesForbidden as exc:
        raise ImportFailed(f"{path}: line {_line_of(data, b'<!ENTITY')}: the file declares XML "
                           f"entities (<!ENTITY {exc.name}>), which are refused because they "
                           "can expand into a huge document") from None
    except defusedxml.DefusedXmlException as exc:
        raise ImportFailed(f"{path}: line {_line_of(data, b'<!')}: the file uses an XML "
                           f"feature that is refused for safety ({type(exc).__name__})") from None
    except (LookupError, UnicodeError) as exc:  # an unknown or lying encoding declaration
        raise ImportFailed(f"{path}: line 1: the XML cannot be decoded ({exc})") from None
    except RecursionError:
        raise ImportFailed(f"{path}: the XML is nested too deeply to be a catalog") from None
    ns, local = _split(root.tag)
    if local != "catalog":
        raise ImportFailed(f"{path}: the root element is <{local}>, not an OSCAL <catalog>")
    if ns != OSCAL_NS:
        raise ImportFailed(f"{path}: the root <catalog> is in namespace {ns or '(none)'!r}, "
                           f"not OSCAL's {OSCAL_NS!r}")
    try:
        raw = _XmlReader(ns).catalog(root)
    except RecursionError:
        raise ImportFailed(f"{path}: the XML is nested too deeply to be a catalog") from None
    return _build(raw, data, path, code=code, xml=True)


def code_from_title(title: str) -> str:
    """A default regulation code from a title: words in capitals and numbers kept, other words
    reduced to initials (``NIST Special Publication 800-53 Revision 5 LOW`` →
    ``NIST-SP-800-53-R5-LOW``), at most 40 characters; ``OSCAL-CATALOG`` if nothing is left."""
    small = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"}
    pieces: list[str] = []
    initials = ""
    for token in re.findall(r"[A-Za-z]+|\d+(?:\.\d+)*", title):
        if token[0].isdigit():
            number = token.split(".")[0]
            if len(initials) == 1:
                pieces.append(initials + number)  # "Revision 5.1.1" → R5
            else:
                pieces.extend([initials, number] if initials else [number])
            initials = ""
        elif token.isupper() and len(token) > 1:
            if initials:
                pieces.append(initials)
                initials = ""
            pieces.append(token)
        elif token.lower() not in small:
            initials += token[0].upper()
    if initials:
        pieces.append(initials)
    code = ""
    for piece in pieces:
        candidate = f"{code}-{piece}" if code else piece
        if len(candidate) > 40:
            break
        code = candidate
    if not code or not code[0].isalpha():
        code = f"OSCAL-{code}" if code else "OSCAL-CATALOG"
    try:
        return validate_code(code)
    except ValueError:
        return "OSCAL-CATALOG"


# ---------------------------------------------------------------- building the tree

class _Builder:
    def __init__(self, path: Path, xml: bool, params: dict[str, Param],
                 ours: bool = False) -> None:
        self.path = path
        self.ours = ours  # a catalog Crosswalk exported (metadata prop regulation-code)
        self.xml = xml
        self.params = params
        self.warnings: list[str] = []
        self.seen: dict[str, tuple[Any, ...]] = {}  # ref → loc of its element
        self.refs_by_id: dict[str, str] = {}
        self.pending_links: list[tuple[ClauseNode, str, str]] = []
        self.unknown_params: set[str] = set()
        self.param_cache: dict[str, str] = {}
        self.resolving: set[str] = set()  # parameters being rendered, to stop cycles
        self.inserted = 0  # characters added by parameter insertions so far
        self.loc: tuple[Any, ...] = ()  # the group or control being built, for messages

    def where(self, loc: tuple[Any, ...]) -> str:
        return _where(loc, self.xml)

    def claim(self, ref: str, loc: tuple[Any, ...]) -> None:
        if not ref:
            raise ImportFailed(f"{self.path}: {self.where(loc)}: there is no label, id or title "
                               "to use as its ref")
        if ref in self.seen:
            raise ImportFailed(f"{self.path}: {self.where(loc)}: ref {ref!r} is already used by "
                               f"{self.where(self.seen[ref])}")
        self.seen[ref] = loc

    def groups(self, groups: list[Group], loc: tuple[Any, ...]) -> list[ClauseNode]:
        """The clauses of `groups`; a container group of ours (the recitals) is not a clause:
        its members take its place."""
        out: list[ClauseNode] = []
        for i, g in enumerate(groups):
            here = (*loc, "groups", i)
            if _ours(g.props, "container") == "true" or (self.ours
                                                          and _ours(g.props, "kind") is None):
                out += self.groups(g.groups, here)
                out += [self.control(c, (*here, "controls", j), enhancement=False)
                        for j, c in enumerate(g.controls)]
            else:
                out.append(self.group(g, here))
        return out

    def group(self, g: Group, loc: tuple[Any, ...]) -> ClauseNode:
        self.loc = loc
        ref = _label(g.props) or _clean((g.id or "").upper()) or _clean(g.title)
        self.claim(ref, loc)
        node = ClauseNode(ref=ref, kind="group", title=_clean(self.resolve(g.title)),
                          text=self.text_of(g.parts), assessable=False)
        self.apply_ours(node, g.props, g.parts, g.id)
        if g.id:
            self.refs_by_id[g.id] = ref
        node.children = self.groups(g.groups, loc)
        node.children += [self.control(c, (*loc, "controls", i), enhancement=False)
                          for i, c in enumerate(g.controls)]
        return node

    def apply_ours(self, node: ClauseNode, props: list[Prop], parts: list[Part],
                   oid: str | None) -> None:
        """What a Crosswalk export says of a clause (props and parts in our namespace): its
        kind, whether it is assessable, our summary; a title that only repeats the ref (the
        exporter's stand-in for no title) is no title. The OSCAL id is kept as an attribute
        unless it is the one the ref gives anyway."""
        kind = _ours(props, "kind")
        if kind:
            node.kind = kind
            node.assessable = _ours(props, "assessable") != "false"
            if node.title == node.ref:
                node.title = ""
        for p in props:  # clause attributes ("requirement": "addressable")
            if p.ns == CROSSWALK_NS and p.name.startswith("attribute-") and p.value.strip():
                node.attributes[p.name.removeprefix("attribute-")] = p.value.strip()
        summary = "\n\n".join(p.prose.strip() for p in parts
                               if p.ns == CROSSWALK_NS and p.name == "summary" and p.prose)
        if summary:
            node.summary = summary
        if oid and not (kind and oid == ref_token(node.ref)):
            node.attributes["oscal_id"] = oid

    def control(self, c: Control, loc: tuple[Any, ...], *, enhancement: bool) -> ClauseNode:
        self.loc = loc
        ref = _label(c.props) or _clean(c.id.upper())
        self.claim(ref, loc)
        node = ClauseNode(ref=ref, kind="control-enhancement" if enhancement else "control",
                          title=_clean(self.resolve(c.title)), text=self.text_of(c.parts))
        self.apply_ours(node, c.props, c.parts, c.id)
        self.refs_by_id[c.id] = ref
        guidance = "\n\n".join(filter(None, (self.prose_of(p) for p in c.parts
                                             if p.name == "guidance")))
        if guidance:
            node.attributes["guidance"] = guidance
        if any(p.name == "status" and p.value.lower() == "withdrawn" for p in c.props):
            node.attributes["status"] = "withdrawn"
            node.assessable = False
            for link in c.links:
                if link.rel in ("incorporated-into", "moved-to") and link.href.startswith("#"):
                    self.pending_links.append((node, link.rel, link.href[1:]))
        node.children = [self.control(sub, (*loc, "controls", i), enhancement=True)
                         for i, sub in enumerate(c.controls)]
        return node

    def text_of(self, parts: list[Part]) -> str:
        parts = [p for p in parts if p.ns != CROSSWALK_NS]  # our summary is not clause text
        statements = [p for p in parts if p.name == "statement"]
        if not statements:
            statements = [p for p in parts if p.name != "guidance" and p.name != "objective"
                          and not p.name.startswith("assessment")]
        lines: list[str] = []
        for part in statements:
            self.statement_lines(part, 0, lines)
        return "\n".join(lines)

    def statement_lines(self, part: Part, depth: int, out: list[str]) -> None:
        prose = self.resolve(part.prose or "")
        head = "" if depth == 0 else (_label(part.props) or "")
        if depth and not prose and part.title:
            prose = self.resolve(part.title)
        paragraphs = [_clean(p) for p in prose.split("\n") if p.strip()]
        indent = "  " * max(depth - 1, 0)
        if head or paragraphs:
            first = " ".join(filter(None, [head, paragraphs[0] if paragraphs else ""]))
            out.append(indent + first)
            out.extend(indent + p for p in paragraphs[1:])
        for sub in part.parts:
            if (sub.name == "guidance" or sub.name.startswith("assessment")
                    or sub.ns == CROSSWALK_NS):
                continue
            self.statement_lines(sub, depth + 1, out)

    def prose_of(self, part: Part) -> str:
        chunks = [self.resolve(part.prose or "").strip()]
        chunks += [self.prose_of(sub) for sub in part.parts]
        return "\n\n".join(c for c in chunks if c)

    def resolve(self, text: str) -> str:
        if "{{" not in text:
            return text
        return _INSERT_RE.sub(lambda m: self.insert(m.group(1)), text)

    def insert(self, pid: str) -> str:
        text = self.param_text(pid)
        self.inserted += len(text)
        if self.inserted > _MAX_INSERTED:
            raise ImportFailed(f"{self.path}: {self.where(self.loc)}: parameter insertions "
                               f"expand the catalog past {_MAX_INSERTED:,} characters; refused")
        return text

    def param_text(self, pid: str) -> str:
        """A parameter as text, rendered once (cached) and cut at _MAX_PARAM_TEXT."""
        if pid in self.param_cache:
            return self.param_cache[pid]
        param = self.params.get(pid)
        if param is None or pid in self.resolving:
            if param is None and pid not in self.unknown_params:
                self.unknown_params.add(pid)
                self.warn(f"parameter {pid!r} is used but not defined; shown as its id")
            return f"[Assignment: {pid}]"
        self.resolving.add(pid)
        try:
            text = self.render_param(param)
        finally:
            self.resolving.discard(pid)
        if len(text) > _MAX_PARAM_TEXT:
            text = text[: _MAX_PARAM_TEXT - 2] + "…]"
        self.param_cache[pid] = text
        return text

    def render_param(self, param: Param) -> str:
        if param.values:
            return ", ".join(_clean(self.resolve(v)) for v in param.values)  # set by a profile
        if param.select is not None and param.select.choice:
            choices = "; ".join(_clean(self.resolve(c)) for c in param.select.choice)
            many = " (one or more)" if param.select.how_many == "one-or-more" else ""
            return f"[Selection{many}: {choices}]"
        if param.label:
            return f"[Assignment: {_clean(self.resolve(param.label))}]"
        if param.guidelines and param.guidelines[0].prose.strip():
            return f"[Assignment: {_clean(self.resolve(param.guidelines[0].prose))}]"
        return f"[Assignment: {param.id}]"

    def warn(self, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(f"{self.path.name}: {message}")

    def finish_links(self) -> None:
        targets: dict[tuple[int, str], list[str]] = {}
        nodes: dict[int, ClauseNode] = {}
        for node, rel, target in self.pending_links:
            targets.setdefault((id(node), rel), []).append(self.refs_by_id.get(target, target))
            nodes[id(node)] = node
        for (key, rel), refs in targets.items():
            nodes[key].attributes[rel] = ", ".join(refs)


def _build(raw: Any, data: bytes, path: Path, *, code: str | None, xml: bool) -> RegulationDoc:
    _prepare(raw, path, xml)
    try:
        cat = Catalog.model_validate(raw)
    except ValidationError as exc:
        raise ImportFailed(f"{path}: {_first_error(exc, xml)}") from None
    params: dict[str, Param] = {}
    _collect_params(cat.params, cat.groups, cat.controls, params)
    meta = cat.metadata
    our_code = _ours(meta.props, "regulation-code")
    b = _Builder(path, xml, params, ours=our_code is not None)
    clauses = b.groups(cat.groups, ())
    clauses += [b.control(c, ("controls", i), enhancement=False)
                for i, c in enumerate(cat.controls)]
    b.finish_links()
    if not b.seen:
        raise ImportFailed(f"{path}: the catalog has no groups or controls")
    title = _clean(b.resolve(meta.title))
    version = (meta.version or "").strip()
    if not version:
        version = (meta.last_modified or "")[:10] or "unversioned"
        b.warn(f"metadata has no version; using {version!r}")
    code = code or our_code  # a Crosswalk export names its regulation
    if code is None:
        code = code_from_title(title)
    else:
        try:
            code = validate_code(code.strip().upper())
        except ValueError as exc:
            raise ImportFailed(f"{path}: {exc}") from None
    identifiers = {"oscal-uuid": cat.uuid}
    if meta.oscal_version:
        identifiers["oscal-version"] = meta.oscal_version
    return RegulationDoc(
        code=code, title=title, version_label=version,
        effective_date=_date_part(meta.published) or _date_part(meta.last_modified),
        source_name=path.name, source_sha256=hashlib.sha256(data).hexdigest(),
        source_format="oscal-xml" if xml else "oscal-json", identifiers=identifiers,
        clauses=clauses, warnings=b.warnings,
        short_title=_ours(meta.props, "short-title") or "",
    )


def _prepare(raw: Any, path: Path, xml: bool) -> None:
    """Refuse absurd nesting before the recursive validation and tree building, and empty the
    assessment parts (most of an 800-53 catalog, never imported) so they are not validated."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(raw, ())]
    while stack:
        obj, loc = stack.pop()
        if not isinstance(obj, dict):
            continue
        parts = obj.get("parts")
        if isinstance(parts, list) and any(isinstance(p, dict) and _skipped(p) for p in parts):
            # a stub keeps the positions, so element paths in error messages stay true
            obj["parts"] = [{"name": p["name"]} if isinstance(p, dict) and _skipped(p) else p
                            for p in parts]
        if len(loc) > 2 * MAX_DEPTH:
            tail = _where(loc[-2:], xml).removeprefix("/catalog" if xml else "catalog")
            raise ImportFailed(f"{path}: {_where(loc[:4], xml)}…{tail.lstrip('.')}: groups, "
                               f"controls and parts are nested more than {MAX_DEPTH} levels deep")
        for key in ("groups", "controls", "parts"):
            children = obj.get(key)
            if isinstance(children, list):
                stack.extend((c, (*loc, key, i)) for i, c in enumerate(children))


def _skipped(part: dict[str, Any]) -> bool:
    name = part.get("name")
    return isinstance(name, str) and (name.startswith("assessment") or name == "objective")


def _collect_params(params: list[Param], groups: list[Group], controls: list[Control],
                    out: dict[str, Param]) -> None:
    for p in params:
        out.setdefault(p.id, p)
    for g in groups:
        _collect_params(g.params, g.groups, g.controls, out)
    for c in controls:
        _collect_params(c.params, [], c.controls, out)


def _ours(props: list[Prop], name: str) -> str | None:
    """The value of the Crosswalk-namespace prop `name`, if there is one."""
    for p in props:
        if p.ns == CROSSWALK_NS and p.name == name and p.value.strip():
            return " ".join(p.value.split())
    return None


def _label(props: list[Prop]) -> str | None:
    labels = [p for p in props if p.name == "label" and p.value.strip()]
    plain = [p for p in labels if p.class_ is None]
    chosen = (plain or labels)[:1]
    return " ".join(chosen[0].value.split()) if chosen else None


def _clean(text: str) -> str:
    return " ".join(text.split())


def _date_part(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def _not_a_catalog(raw: Any) -> str:
    if isinstance(raw, dict):
        others = {"profile": "an OSCAL profile (resolve it to a catalog first)",
                  "mapping-collection": "an OSCAL mapping collection",
                  "system-security-plan": "an OSCAL system security plan",
                  "component-definition": "an OSCAL component definition"}
        for key, what in others.items():
            if key in raw:
                return f"this is {what}, not a catalog"
        keys = ", ".join(sorted(map(str, raw))[:5]) or "nothing"
        return ("this is neither an OSCAL catalog nor an OSCAL mapping-collection: the "
                f"top-level object has no 'catalog' key (found: {keys}), nor a "
                "'mapping-collection' one")
    return f"the document is a JSON {type(raw).__name__}, not an object with a 'catalog' key"


_XML_NAMES = {"groups": "group", "controls": "control", "parts": "part", "params": "param",
              "props": "prop", "links": "link", "choice": "choice", "guidelines": "guideline",
              "values": "value"}


def _where(loc: tuple[Any, ...], xml: bool) -> str:
    """An element path: ``catalog.groups[0].controls[3]`` in JSON, ``/catalog/group[1]/control[4]``
    in XML."""
    if not xml:
        return "catalog" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    out = "/catalog"
    for p in loc:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        elif p in ("uuid", "id", "class", "name", "how-many", "value", "href", "rel", "ns"):
            out += f"/@{p}"
        else:
            out += f"/{_XML_NAMES.get(str(p), p)}"
    return out


def _first_error(exc: ValidationError, xml: bool) -> str:
    err = exc.errors()[0]
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"{_where(tuple(err['loc']), xml)}: {err['msg']}{more}"


def _line_of(data: bytes, needle: bytes) -> int:
    at = data.find(needle)
    return data[: max(at, 0)].count(b"\n") + 1


def _refuse_utf16(data: bytes, path: Path) -> None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:200]:
        raise ImportFailed(f"{path}: line 1 looks like UTF-16 text; save the file as UTF-8")


# ---------------------------------------------------------------- XML → the JSON shape

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "ol", "ul", "table"}


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _XmlReader:
    """Turns OSCAL XML elements into the dicts of the OSCAL JSON syntax (the fields we use)."""

    def __init__(self, ns: str) -> None:
        self.q = f"{{{ns}}}" if ns else ""

    def kids(self, el: Element, name: str) -> list[Element]:
        return el.findall(self.q + name)

    def one(self, el: Element, name: str) -> Element | None:
        return el.find(self.q + name)

    def catalog(self, root: Element) -> dict[str, Any]:
        out: dict[str, Any] = {"uuid": root.get("uuid"), "params": self.params(root),
                               "groups": [self.group(g) for g in self.kids(root, "group")],
                               "controls": [self.control(c) for c in self.kids(root, "control")]}
        meta = self.one(root, "metadata")
        if meta is not None:
            out["metadata"] = {k: self.line(e) for k in ("title", "version", "published",
                                                          "last-modified", "oscal-version")
                               if (e := self.one(meta, k)) is not None}
            out["metadata"]["props"] = self.props(meta)
        return out

    def group(self, el: Element) -> dict[str, Any]:
        out = self.common(el)
        out["groups"] = [self.group(g) for g in self.kids(el, "group")]
        out["controls"] = [self.control(c) for c in self.kids(el, "control")]
        return out

    def control(self, el: Element) -> dict[str, Any]:
        out = self.common(el)
        out["links"] = [dict(e.attrib) for e in self.kids(el, "link")]
        out["controls"] = [self.control(c) for c in self.kids(el, "control")]
        return out

    def common(self, el: Element) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in el.attrib.items() if k in ("id", "class")}
        title = self.one(el, "title")
        if title is not None:
            out["title"] = self.line(title)
        out["params"] = self.params(el)
        out["props"] = self.props(el)
        out["parts"] = [self.part(p) for p in self.kids(el, "part")]
        return out

    def part(self, el: Element) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in el.attrib.items()
                               if k in ("id", "name", "class", "ns")}
        title = self.one(el, "title")
        if title is not None:
            out["title"] = self.line(title)
        out["props"] = self.props(el)
        out["prose"] = self.blocks(el)
        out["parts"] = [self.part(p) for p in self.kids(el, "part")]
        return out

    def props(self, el: Element) -> list[dict[str, str]]:
        return [dict(p.attrib) for p in self.kids(el, "prop")]

    def params(self, el: Element) -> list[dict[str, Any]]:
        out = []
        for p in self.kids(el, "param"):
            d: dict[str, Any] = dict(p.attrib)
            label = self.one(p, "label")
            if label is not None:
                d["label"] = self.line(label)
            d["values"] = [self.line(v) for v in self.kids(p, "value")]
            d["guidelines"] = [{"prose": self.blocks(g)} for g in self.kids(p, "guideline")]
            select = self.one(p, "select")
            if select is not None:
                d["select"] = {"how-many": select.get("how-many"),
                               "choice": [self.line(c) for c in self.kids(select, "choice")]}
            out.append(d)
        return out

    def blocks(self, el: Element) -> str:
        """Prose (markup-multiline) of an element: its block children, one per line."""
        lines = []
        for child in el:
            local = _split(child.tag)[1] if isinstance(child.tag, str) else ""
            if local in ("ol", "ul"):
                lines += [f"- {self.line(li)}" for li in child if _split(li.tag)[1] == "li"]
            elif local == "table":
                lines += [" | ".join(self.line(c) for c in row) for row in child.iter()
                          if _split(row.tag)[1] == "tr"]
            elif local in _BLOCKS:
                lines.append(self.line(child))
        return "\n".join(line for line in lines if line)

    def line(self, el: Element) -> str:
        """Inline text (markup-line); <insert type="param" id-ref="x"/> becomes the JSON
        placeholder so that parameters resolve the same way in both syntaxes."""
        chunks = [el.text or ""]
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                chunks.append(child.tail or "")
                continue
            if _split(child.tag)[1] == "insert":
                chunks.append(f"{{{{ insert: {child.get('type', 'param')}, "
                              f"{child.get('id-ref', '')} }}}}")
            else:
                chunks.append(self.line(child))
            chunks.append(child.tail or "")
        return " ".join("".join(chunks).split())
