"""Write (or refresh) a bundled catalogue's structure from an official document.

    python regulations/tools/make_skeleton.py FORMAT OFFICIAL_FILE regulations/<name>.yaml \\
        --code CODE [--title … --short-title … --source …]

FORMAT is `formex` or `eurlex-html`. The official document is read with Crosswalk's own
importer; only structure goes into the catalogue — refs, kinds, official titles, the
assessable flag — never the legal text. Summaries already in the target file are kept (matched
by ref), so the script can be re-run when a new version of the act is published. Run it by
hand; it is not part of the package.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from app.domain.clauses import ClauseNode
from app.importers.eurlex_html import parse_eurlex_html
from app.importers.formex import parse_formex

PARSERS = {"formex": parse_formex, "eurlex-html": parse_eurlex_html}


def node_dict(node: ClauseNode, summaries: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"ref": node.ref, "kind": node.kind}
    if node.title:
        out["title"] = node.title
    if summaries.get(node.ref):
        out["summary"] = summaries[node.ref]
    if not node.assessable:
        out["assessable"] = False
    if node.attributes:
        out["attributes"] = dict(node.attributes)
    if node.children:
        out["children"] = [node_dict(c, summaries) for c in node.children]
    return out


def existing_summaries(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    found: dict[str, str] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for n in nodes:
            if n.get("summary"):
                found[n["ref"]] = n["summary"]
            walk(n.get("children", []))

    walk(yaml.safe_load(path.read_text(encoding="utf-8")).get("clauses", []))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("format", choices=sorted(PARSERS))
    ap.add_argument("official", type=Path)
    ap.add_argument("target", type=Path)
    ap.add_argument("--code", required=True)
    ap.add_argument("--title")
    ap.add_argument("--short-title")
    ap.add_argument("--source", default="")
    ap.add_argument("--definitions", action="append", default=[], metavar="REF",
                    help="a definitions article (e.g. 'Art. 4'): it and its points are marked "
                         "not assessable; repeat for several")
    ap.add_argument("--summaries", type=Path,
                    help="a YAML map of ref → summary to add (overrides those in the target)")
    args = ap.parse_args()
    doc = PARSERS[args.format](args.official.read_bytes(), args.official, code=args.code)
    for _, node in doc.walk():
        if node.ref in args.definitions:
            for _, inner in node.walk():
                inner.assessable = False
    summaries = existing_summaries(args.target)
    if args.summaries:
        summaries |= yaml.safe_load(args.summaries.read_text(encoding="utf-8"))
    previous = (yaml.safe_load(args.target.read_text(encoding="utf-8"))["regulation"]
                if args.target.exists() else {})
    catalog = {
        "schema": "crosswalk-catalog/1",
        "regulation": previous or {
            "code": args.code,
            "title": args.title or doc.title,
            "short_title": args.short_title or doc.short_title,
            "jurisdiction": doc.jurisdiction,
            "version_label": doc.version_label,
            "version_date": doc.version_label,
            "identifiers": doc.identifiers,
            "source": args.source,
        },
        "clauses": [node_dict(n, summaries) for n in doc.clauses],
    }
    text = yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=None)
    args.target.write_text(f"# Structure generated from {args.official.name} by "
                           f"regulations/tools/make_skeleton.py; summaries are ours.\n{text}",
                           encoding="utf-8")
    print(f"wrote {args.target}: {doc.count_by_kind()}; kept {len(summaries)} summaries")


if __name__ == "__main__":
    main()
