"""Control tests: how a control was tested, on what population and sample, with what result,
and which evidence versions the tester used."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from app.domain import evidence as ev
from app.domain.text import clean_text
from app.errors import InvalidInput, NotFound
from app.store import Store
from app.store.models import ControlTest, EvidenceVersion


@dataclass(slots=True)
class TestView:
    """A control test with the evidence versions it used, as ``EV-3@2`` labels."""

    test: ControlTest
    evidence: list[str]

    __test__ = False  # not a pytest class

    @property
    def label(self) -> str:
        assert self.test.id is not None
        return ev.test_label(self.test.id)

    def as_dict(self) -> dict[str, Any]:
        t = self.test
        return {"id": self.label, "control_id": t.control_id, "procedure": t.procedure,
                "population": t.population, "sample_size": t.sample_size,
                "result": t.result, "exceptions": t.exceptions, "tester": t.tester,
                "tested_on": t.tested_on, "evidence": self.evidence,
                "created_at": t.created_at, "created_by": t.created_by}


def check_test(store: Store, *, procedure: str, result: str, tested_on: str | None = None,
               tester: str | None = None, population: str = "",
               sample_size: int | str | None = None, exceptions: str = "") -> dict[str, Any]:
    """A test's fields, checked: a known procedure and result, a real date not in the
    future, a sample that is a whole number, and exceptions described where the result
    says there were some."""
    from app.services.evidence import today

    try:
        fields: dict[str, Any] = {
            "procedure": ev.choose(procedure, ev.PROCEDURES, "procedure"),
            "result": ev.choose(result, ev.RESULTS, "result"),
            "population": clean_text(population, "the population", ev.MAX_SHORT),
            "exceptions": clean_text(exceptions, "the exceptions", ev.MAX_DESCRIPTION,
                                     multiline=True),
            "tester": clean_text(tester if tester is not None else store.actor,
                                 "the tester", ev.MAX_SHORT, required=True),
        }
        day = ev.parse_date(tested_on, "tested on") if tested_on else today(store)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if day > today(store):
        raise InvalidInput(f"tested on {day} is in the future (today is {today(store)})")
    fields["tested_on"] = day.isoformat()
    if sample_size not in (None, ""):
        text = str(sample_size).strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidInput(f"the sample size {sample_size!r} is not a whole number")
        fields["sample_size"] = int(text)
    if fields["result"] in ev.NEEDS_EXCEPTIONS and not fields["exceptions"]:
        raise InvalidInput(f"a result of {fields['result']} needs the exceptions described")
    return fields


def _versions(store: Store, refs: Iterable[str]) -> list[tuple[int, str]]:
    """``EV-3`` (latest) or ``EV-3@2`` → (version row id, label), each checked."""
    out: list[tuple[int, str]] = []
    with store.read() as s:
        for ref in refs:
            try:
                eid, number = ev.parse_version_ref(ref)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            q = select(EvidenceVersion).where(EvidenceVersion.evidence_id == eid)
            q = q.where(EvidenceVersion.version == number) if number else \
                q.order_by(col(EvidenceVersion.version).desc())
            row = s.exec(q).first()
            if row is None or row.id is None:
                what = f"version {number} of " if number else ""
                raise NotFound(f"no {what}evidence {ev.evidence_label(eid)} in the workspace")
            label = f"{ev.evidence_label(eid)}@{row.version}"
            if label not in (lbl for _, lbl in out):
                out.append((row.id, label))
    return out


def add_test(store: Store, control_id: str, *, evidence: Iterable[str] = (),
             **fields: Any) -> TestView:
    """Record a test of a control; all or nothing."""
    from app.services.mappings import _control

    cid = _control(control_id)
    checked = check_test(store, **fields)
    used = _versions(store, evidence)
    with store.write() as tx:
        row = ControlTest(control_id=cid, evidence_versions=json.dumps([i for i, _ in used]),
                          created_at=tx.now, created_by=store.actor, **checked)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        tx.record("control_test.create", "control_test", row.id,
                  {"control_id": cid, **checked, "evidence": [lbl for _, lbl in used]})
    return TestView(row, [lbl for _, lbl in used])


def _views(store: Store, rows: list[ControlTest]) -> list[TestView]:
    ids = {i for r in rows for i in _ids(r)}
    labels: dict[int, str] = {}
    if ids:
        with store.read() as s:
            for v in s.exec(select(EvidenceVersion).where(col(EvidenceVersion.id).in_(ids))):
                assert v.id is not None
                labels[v.id] = f"{ev.evidence_label(v.evidence_id)}@{v.version}"
    return [TestView(r, [labels.get(i, f"version #{i}") for i in _ids(r)]) for r in rows]


def _ids(row: ControlTest) -> list[int]:
    try:
        value = json.loads(row.evidence_versions)
    except ValueError:
        return []
    return [i for i in value if isinstance(i, int)] if isinstance(value, list) else []


def list_tests(store: Store, control_id: str | None = None) -> list[TestView]:
    """Tests, newest first (by date tested, then by when recorded)."""
    from app.services.mappings import _control

    with store.read() as s:
        q = select(ControlTest)
        if control_id:
            q = q.where(ControlTest.control_id == _control(control_id))
        rows = list(s.exec(q.order_by(col(ControlTest.tested_on).desc(),
                                      col(ControlTest.id).desc())).all())
    return _views(store, rows)


def tests_using(store: Store, version_ids: list[int]) -> list[ControlTest]:
    """The tests that used any of these evidence versions (tests are few: read them all)."""
    wanted = set(version_ids)
    with store.read() as s:
        rows = s.exec(select(ControlTest).order_by(col(ControlTest.tested_on).desc(),
                                                   col(ControlTest.id).desc())).all()
    return [r for r in rows if wanted & set(_ids(r))]


def latest_tests(store: Store) -> dict[str, TestView]:
    """Each control's most recent test."""
    out: dict[str, TestView] = {}
    for view in list_tests(store):
        out.setdefault(view.test.control_id, view)
    return out
