"""Applicability: a clause declared not applicable (with why) leaves coverage and gaps with
every clause inside it; the decision is audited, listed, and can be taken back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import assert_error, unchanged


def run_json(cli: Any, ws: Path, *args: str) -> Any:
    r = cli("--workspace", str(ws), *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def hipaa(cov: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in cov["regulations"] if r["code"] == "HIPAA")


def test_not_applicable_leaves_coverage_and_gaps(lib_ws: Path, cli: Any) -> None:
    before = hipaa(run_json(cli, lib_ws, "coverage"))
    gaps_before = {g["full_ref"] for grp in run_json(cli, lib_ws, "gaps", "HIPAA")
                   for g in grp["gaps"]}
    assert any(r.startswith("HIPAA § 164.318") for r in gaps_before)
    r = cli("--workspace", str(lib_ws), "applicability", "set", "HIPAA § 164.318",
            "--not-applicable", "--justification",
            "Not a health plan: § 164.318 does not concern us.")
    assert (r.code, r.out) == (0, "HIPAA § 164.318: not applicable\n")
    after = hipaa(run_json(cli, lib_ws, "coverage"))
    assert after["obligations"] < before["obligations"]
    gaps_after = {g["full_ref"] for grp in run_json(cli, lib_ws, "gaps", "HIPAA")
                  for g in grp["gaps"]}
    assert not any(r.startswith("HIPAA § 164.318") for r in gaps_after)
    listed = run_json(cli, lib_ws, "applicability", "list")
    assert [(d["full_ref"], d["applicable"], d["justification"]) for d in listed] == [
        ("HIPAA § 164.318", False, "Not a health plan: § 164.318 does not concern us.")]
    log = run_json(cli, lib_ws, "log", "--limit", "1")
    assert (log[0]["action"], log[0]["entity"]) == ("clause_scope.create", "clause_scope")

    r = cli("--workspace", str(lib_ws), "applicability", "set", "HIPAA § 164.318",
            "--applicable")
    assert r.code == 0
    assert hipaa(run_json(cli, lib_ws, "coverage"))["obligations"] == before["obligations"]
    assert run_json(cli, lib_ws, "applicability", "list") == []
    assert len(run_json(cli, lib_ws, "applicability", "list", "--all")) == 1
    assert cli("--workspace", str(lib_ws), "verify").code == 0


def test_refusals_write_nothing(lib_ws: Path, cli: Any) -> None:
    for args, message in (
        (["HIPAA § 164.318", "--not-applicable"],
         "error: the justification is empty: say why HIPAA § 164.318 does not apply"),
        (["HIPAA § 164.318"], "error: give exactly one of --not-applicable and --applicable"),
        (["HIPAA § 999.1", "--not-applicable", "--justification", "x"], None),
    ):
        with unchanged(lib_ws):
            r = cli("--workspace", str(lib_ws), "applicability", "set", *args)
        line = assert_error(r)
        if message is not None:
            assert line == message
