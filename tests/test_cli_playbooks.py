"""`crosswalk playbooks` (= `playbook list`), `playbook show`, `playbook import` and `playbook
export` through the real CLI: the five shipped playbooks list and show (with no workspace too);
our own YAML and CACAO 2.0 files import into the workspace, a flattened CACAO workflow's notes
are printed; an export is CACAO 2.0 that the official schemas accept, byte-identical for the
same --created; bad input is one `error:` line (invalid CACAO: then each problem on a line of
its own) and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain.playbooks import bundled_playbooks
from tests.conftest import make_store
from tests.helpers import assert_error, unchanged
from tests.test_cacao_export import schema_errors, strict_errors

IDS = ["ai-act-serious-incident", "data-leakage-through-a-model", "model-drift",
       "model-tampering-or-theft", "training-data-poisoning"]
CREATED = "2026-11-27T00:00:00.000Z"
SCENARIO = """\
title: Drill
playbook: my-drift
objectives: [{id: O1, text: Evaluate the triage}]
modules: [{id: M1, title: Detection}]
injects: [{id: I1, module: M1, at: "T+00:00", content: The alert fires., audience: On call}]
"""


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


# ------------------------------------------------------------------------------ workspace
@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws.db"
    make_store(path).close()
    return path


def ok(cli: Any, ws: Path, *args: str) -> Any:
    r = cli("-w", str(ws), *args)
    assert r.code == 0, (args, r.out, r.err)
    return r


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    return json.loads(ok(cli, ws, *args, "--json").out)


def own_playbook(**changes: Any) -> dict[str, Any]:
    data = bundled_playbooks()[2].as_data()  # model-drift
    return data | {"id": "my-drift", "title": "Our own drift playbook"} | changes


@contextmanager
def nothing_written(cli: Any, ws: Path) -> Iterator[None]:
    """The workspace byte-identical, with the same audit log as `crosswalk log --json`."""
    before = run_json(cli, ws, "log", "-n", "1000")
    with unchanged(ws):
        yield
    assert run_json(cli, ws, "log", "-n", "1000") == before


def test_playbook_list_is_playbooks_and_shows_the_origin(cli: Any, ws: Path) -> None:
    books = run_json(cli, ws, "playbook", "list")
    assert [b["id"] for b in books] == IDS
    assert run_json(cli, ws, "playbooks") == books
    assert {(b["origin"], b["in_workspace"], b["exercises"]) for b in books} == {
        ("shipped", False, 0)}
    text = ok(cli, ws, "playbook", "list").out.splitlines()
    assert text[0].split() == ["ID", "SEVERITY", "SCENARIO", "STEPS", "CLOCKS", "ORIGIN",
                               "EXERCISES", "TITLE"]
    assert ok(cli, ws, "playbooks").out.splitlines() == text
    show = ok(cli, ws, "playbook", "show", "model-drift").out.splitlines()
    assert show[2] == "origin shipped, not in workspace yet · 0 exercises"


def test_import_our_yaml_then_show_list_export_and_exercise(cli: Any, ws: Path,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(own_playbook(), sort_keys=False), encoding="utf-8")
    r = ok(cli, ws, "playbook", "import", str(path))
    roles = len(own_playbook()["escalation"])
    assert r.out == ('imported playbook my-drift "Our own drift playbook" from mine.yaml '
                     f"(yaml, 9 steps, {roles} escalation roles, clocks: ai-act-73)\n")
    d = run_json(cli, ws, "playbook", "show", "my-drift")
    assert (d["origin"], d["in_workspace"], d["source_name"], d["notes"]) == (
        "yaml", True, "mine.yaml", [])
    assert d["clocks"][0]["id"] == "ai-act-73"
    show = ok(cli, ws, "playbook", "show", "MY-DRIFT").out.splitlines()
    assert show[:3] == ["my-drift  Our own drift playbook", "scenario drift · severity high",
                        "origin yaml from mine.yaml, in workspace · 0 exercises"]
    assert "my-drift" in [b["id"] for b in run_json(cli, ws, "playbooks")]
    scenario = tmp_path / "drill.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    r = ok(cli, ws, "exercise", "create", "my-drift", "--scenario", str(scenario))
    assert r.out.splitlines()[1].startswith('created EX-1 "Drill" of playbook my-drift')
    books = {b["id"]: b for b in run_json(cli, ws, "playbook", "list")}
    assert books["my-drift"]["exercises"] == 1
    r = cli("-w", str(ws), "exercise", "create", "my-drift")
    assert assert_error(r) == ("error: playbook my-drift has no shipped scenario; give one "
                               "with --scenario FILE")
    out = tmp_path / "out"
    out.mkdir()
    r = ok(cli, ws, "playbook", "export", "my-drift", "-o", str(out), "--created", CREATED)
    doc = json.loads((out / "my-drift.json").read_text(encoding="utf-8"))
    assert doc["name"] == "Our own drift playbook"
    assert schema_errors(doc) == [] and strict_errors(doc) == []
    # the same file again: refused without --replace, accepted with it
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "playbook", "import", str(path))
    assert assert_error(r) == ("error: playbook my-drift already exists; give --replace to "
                               "replace it (exercises keep the version they were made with)")
    path.write_text(yaml.safe_dump(own_playbook(title="Renamed"), sort_keys=False),
                    encoding="utf-8")
    ok(cli, ws, "playbook", "import", str(path), "--replace")
    assert run_json(cli, ws, "playbook", "show", "my-drift")["title"] == "Renamed"


def test_import_cacao_prints_the_flattening_notes(cli: Any, ws: Path, tmp_path: Path) -> None:
    from tests.test_cacao_import import branching

    path = tmp_path / "triage.json"
    path.write_text(json.dumps(branching()), encoding="utf-8")
    r = ok(cli, ws, "playbook", "import", str(path))
    lines = r.out.splitlines()
    assert lines[0].startswith('imported playbook triage "Model incident triage" from '
                               "triage.json (cacao, 9 steps")
    notes = [line.removeprefix("note: ") for line in lines[1:]]
    assert notes and all(line.startswith("note: ") for line in lines[1:])
    d = run_json(cli, ws, "playbook", "show", "triage")
    assert (d["origin"], d["source_name"]) == ("cacao", "triage.json")
    assert d["notes"] == notes
    assert any("ran in parallel" in n for n in notes)
    show = ok(cli, ws, "playbook", "show", "triage").out.splitlines()
    assert [s.removeprefix("note: ") for s in show if s.startswith("note: ")] == notes


def test_a_crosswalk_export_comes_back_with_replace(cli: Any, ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "drift.json"
    ok(cli, ws, "playbook", "export", "model-drift", "-o", str(path), "--created", CREATED)
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "playbook", "import", str(path))
    assert assert_error(r) == ("error: playbook model-drift already exists; give --replace to "
                               "replace it (exercises keep the version they were made with)")
    d = run_json(cli, ws, "playbook", "import", str(path), "--replace")
    assert (d["id"], d["origin"], d["notes"]) == ("model-drift", "cacao", [])
    assert ok(cli, ws, "verify").code == 0


def _cacao_cycle() -> dict[str, Any]:
    from tests.test_cacao_import import _chain, exported

    doc = exported()
    _start, a, b, *_ = _chain(doc)
    doc["workflow"][b]["on_completion"] = a
    return doc


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.yaml", "id: x\nsteps: [\n", "{path}: invalid YAML at line 3, column 1: did not find "
                                      "expected node content"),
    ("dup.yaml", "DUP", "{path}: playbook my-drift: step 2 (Triage the drift alert) has the "
                        "same name as an earlier step"),
])
def test_a_bad_playbook_file_is_one_line(cli: Any, ws: Path, tmp_path: Path, name: str,
                                         content: str, message: str) -> None:
    if content == "DUP":
        data = own_playbook()
        data["steps"][1] = dict(data["steps"][1], name=data["steps"][0]["name"])
        content = yaml.safe_dump(data, sort_keys=False)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "playbook", "import", str(path))
    assert assert_error(r) == f"error: {message.format(path=path)}"


def test_invalid_cacao_lists_every_problem_on_stderr(cli: Any, ws: Path,
                                                    tmp_path: Path) -> None:
    from tests.test_cacao_import import _chain, exported

    old = tmp_path / "old.json"
    doc = exported()
    doc["spec_version"] = "cacao-1.0"
    old.write_text(json.dumps(doc), encoding="utf-8")
    loop = tmp_path / "loop.json"
    cyc = _cacao_cycle()
    loop.write_text(json.dumps(cyc), encoding="utf-8")
    _start, a, b, *_ = _chain(exported())
    names = [cyc["workflow"][s]["name"] for s in (a, b)]
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "playbook", "import", str(old))
        assert (r.code, r.out) == (2, "")
        assert r.err.splitlines() == [
            "error: old.json is a CACAO playbook of spec_version 'cacao-1.0', not cacao-2.0, "
            "so it cannot be imported (1 problem)",
            "  /spec_version: must be 'cacao-2.0', not 'cacao-1.0'"]
        r = cli("-w", str(ws), "playbook", "import", str(loop))
        assert (r.code, r.out) == (2, "")
        assert r.err.splitlines() == [
            "error: loop.json is not a valid CACAO 2.0 playbook (1 problem)",
            f"  /workflow/{a}: a step cycle: '{names[0]}' ({a}) → '{names[1]}' ({b}) → "
            f"'{names[0]}' ({a})"]
    assert "Traceback" not in r.err


def test_a_cacao_file_with_a_byte_order_mark_is_read_as_cacao(cli: Any, ws: Path,
                                                              tmp_path: Path) -> None:
    from tests.test_cacao_import import exported

    path = tmp_path / "bom.json"
    doc = exported()
    doc["labels"] = ["crosswalk", "drift", "crosswalk-id:bom-drift"]
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode("utf-8"))
    d = run_json(cli, ws, "playbook", "import", str(path))
    assert (d["id"], d["origin"]) == ("bom-drift", "cacao")


def test_deeply_nested_json_is_a_plain_error(cli: Any, ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"type": "playbook", "x": ' + "[" * 200_000 + "]" * 200_000 + "}",
                    encoding="utf-8")
    with nothing_written(cli, ws):
        r = cli("-w", str(ws), "playbook", "import", str(path))
    line = assert_error(r)
    assert line.startswith("error: ") and "unexpected" not in line and "bug" not in line
