"""`crosswalk playbooks`, `playbook show` and `playbook export` through the real CLI: the five
shipped playbooks list and show; an export is CACAO 2.0 that the official schemas accept,
byte-identical for the same --created; bad input is one `error:` line and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_cacao_export import schema_errors, strict_errors

IDS = ["ai-act-serious-incident", "data-leakage-through-a-model", "model-drift",
       "model-tampering-or-theft", "training-data-poisoning"]
CREATED = "2026-11-27T00:00:00.000Z"


def test_playbooks_lists_the_five(cli: Any) -> None:
    r = cli("playbooks")
    assert r.code == 0
    assert [line.split()[0] for line in r.out.splitlines()[1:]] == IDS
    books = json.loads(cli("playbooks", "--json").out)
    assert [b["id"] for b in books] == IDS
    assert all(len(b["steps"]) >= 6 for b in books)


def test_show_gives_steps_escalation_and_clocks(cli: Any) -> None:
    r = cli("playbook", "show", "DATA-LEAKAGE-THROUGH-A-MODEL")
    assert r.code == 0
    assert "steps" in r.out and "escalation" in r.out
    assert "  gdpr-33        72 hours" in r.out
    d = json.loads(cli("playbook", "show", "model-drift", "--json").out)
    assert d["id"] == "model-drift" and d["clocks"][0]["basis"] == "EU-AI-ACT Art. 73(2)"
    assert d["steps"][0]["function"] == "detect"


@pytest.mark.parametrize("playbook_id", IDS)
def test_export_is_valid_cacao(cli: Any, tmp_path: Path, playbook_id: str) -> None:
    r = cli("playbook", "export", playbook_id, "-o", str(tmp_path), "--created", CREATED)
    assert r.code == 0, r.err
    path = tmp_path / f"{playbook_id}.json"
    assert r.out.startswith(f"wrote {path}: CACAO 2.0 playbook playbook--")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["spec_version"] == "cacao-2.0" and doc["created"] == CREATED
    assert schema_errors(doc) == [] and strict_errors(doc) == []


def test_export_is_byte_identical_and_refuses_to_overwrite(cli: Any, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert cli("playbook", "export", "model-drift", "-o", str(path),
                   "--created", CREATED).code == 0
    assert a.read_bytes() == b.read_bytes()
    before = a.read_bytes()
    r = cli("playbook", "export", "model-drift", "-o", str(a), "--created", CREATED)
    assert (r.code, r.err) == (2, f"error: {a} already exists; choose another name or pass "
                                  "--force\n")
    assert a.read_bytes() == before
    assert cli("playbook", "export", "model-drift", "-o", str(a), "--force").code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["playbook", "show", "nope"], "error: no playbook 'nope' (playbooks: "),
    (["playbook", "export", "nope", "-o", "x.json"], "error: no playbook 'nope'"),
    (["playbook", "export", "model-drift", "-o", "{tmp}/x.json", "--created", "yesterday"],
     "error: "),
    (["playbook", "export", "model-drift", "-o", "{tmp}/missing/x.json"],
     "error: cannot write {tmp}/missing/x.json: folder {tmp}/missing does not exist"),
])
def test_bad_input(cli: Any, tmp_path: Path, args: list[str], message: str) -> None:
    r = cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.code == 2
    assert r.err.startswith(message.format(tmp=tmp_path))
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err
    assert list(tmp_path.iterdir()) == []
