"""The evidence rules with no I/O: status and roll-up boundaries, parsing of ids, version refs,
dates and moments (with their one-sentence errors), escaping names for display and storing."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from app.domain import evidence as ev

TODAY = date(2026, 11, 26)


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


# ------------------------------------------------------------------ status of one piece


@pytest.mark.parametrize(("valid_until", "expected"), [
    (day(-1), ev.EXPIRED),
    (day(-400), ev.EXPIRED),
    (day(0), ev.EXPIRING),
    (day(1), ev.EXPIRING),
    (day(30), ev.EXPIRING),
    (day(31), ev.CURRENT),
    (None, ev.CURRENT),
    ("", ev.CURRENT),
    (day(0) + "T23:59:59.000Z", ev.EXPIRING),  # a moment counts by its day
    (day(-1) + "T23:59:59.000Z", ev.EXPIRED),
])
def test_status_boundaries_with_the_default_window(valid_until: str | None,
                                                   expected: str) -> None:
    assert ev.status_of(valid_until, TODAY) == expected
    assert ev.DEFAULT_EXPIRING_DAYS == 30


def test_status_with_a_zero_window_is_expiring_only_on_the_last_day() -> None:
    assert ev.status_of(day(0), TODAY, 0) == ev.EXPIRING
    assert ev.status_of(day(1), TODAY, 0) == ev.CURRENT
    assert ev.status_of(day(-1), TODAY, 0) == ev.EXPIRED


def test_status_follows_the_window_given() -> None:
    assert ev.status_of(day(90), TODAY, 90) == ev.EXPIRING
    assert ev.status_of(day(91), TODAY, 90) == ev.CURRENT
    assert ev.status_of(day(7), TODAY, 6) == ev.CURRENT


def test_expiring_window_is_checked() -> None:
    assert ev.check_expiring_days("0") == 0
    assert ev.check_expiring_days(ev.MAX_EXPIRING_DAYS) == ev.MAX_EXPIRING_DAYS
    for bad, fragment in ((-1, "must be 0 to 3650 days, not -1"),
                          (3651, "not 3651"),
                          ("a week", "'a week' is not a whole number of days"),
                          (None, "None is not a whole number")):
        with pytest.raises(ValueError, match=fragment):
            ev.check_expiring_days(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------ roll-up of a control


@pytest.mark.parametrize(("statuses", "implemented", "expected"), [
    ([ev.CURRENT, ev.EXPIRING, ev.EXPIRED], False, ev.EXPIRED),
    ([ev.EXPIRED, ev.CURRENT], True, ev.EXPIRED),
    ([ev.CURRENT, ev.EXPIRING, ev.CURRENT], True, ev.EXPIRING),
    ([ev.CURRENT], True, ev.CURRENT),
    ([ev.CURRENT, ev.CURRENT], False, ev.CURRENT),
    ([], True, ev.MISSING),
    ([], False, ev.NONE),
])
def test_rollup_worst_status_wins(statuses: list[str], implemented: bool,
                                  expected: str) -> None:
    assert ev.rollup(statuses, implemented) == expected
    assert ev.rollup(iter(statuses), implemented) == expected  # any iterable, read once


def test_rollup_vocabulary_is_worst_first() -> None:
    assert ev.ROLLUP == ("expired", "missing", "expiring", "current", "none")
    assert ev.STATUSES == ("current", "expiring", "expired")


# ------------------------------------------------------------------ choices and ids


@pytest.mark.parametrize(("given", "expected"), [
    ("Test result", "test-result"), ("test_result", "test-result"),
    ("  SCREENSHOT ", "screenshot"), ("link", "link")])
def test_choose_accepts_case_spaces_and_underscores(given: str, expected: str) -> None:
    assert ev.choose(given, ev.KINDS, "kind") == expected


def test_choose_refuses_in_one_sentence_naming_the_choices() -> None:
    with pytest.raises(ValueError) as info:
        ev.choose("pdf", ev.KINDS, "kind")
    assert str(info.value) == ("invalid kind 'pdf'; choose one of: document, configuration, "
                               "log, screenshot, report, test-result, link")
    with pytest.raises(ValueError, match="invalid result 'passed'; choose one of: effective,"):
        ev.choose("passed", ev.RESULTS, "result")


@pytest.mark.parametrize(("text", "prefix", "expected"), [
    ("EV-12", "EV", 12), ("ev12", "EV", 12), ("12", "EV", 12), (" EV-0012 ", "EV", 12),
    ("Ev 7", "EV", 7), ("CT-3", "CT", 3), ("ct3", "CT", 3), ("999999999", "EV", 999999999)])
def test_parse_id(text: str, prefix: str, expected: int) -> None:
    assert ev.parse_id(text, prefix) == expected


@pytest.mark.parametrize(("text", "prefix"), [
    ("CT-3", "EV"), ("EV-3", "CT"), ("EV-0", "EV"), ("0", "EV"), ("EV-", "EV"), ("", "EV"),
    ("EV-1.5", "EV"), ("EV--1", "EV"), ("1234567890", "EV"), ("RISK-1", "EV"),
    ("EV-1@2", "EV")])
def test_parse_id_refuses_what_is_not_an_id(text: str, prefix: str) -> None:
    with pytest.raises(ValueError) as info:
        ev.parse_id(text, prefix)
    what = "an evidence" if prefix == "EV" else "a control test"
    assert str(info.value) == f"{text!r} is not {what} id (like {prefix}-12)"


def test_labels() -> None:
    assert (ev.evidence_label(12), ev.test_label(3)) == ("EV-12", "CT-3")
    assert ev.parse_id(ev.evidence_label(41), "EV") == 41


@pytest.mark.parametrize(("text", "expected"), [
    ("EV-3", (3, None)), ("EV-3@2", (3, 2)), (" ev3 @ v2 ", (3, 2)), ("3@V10", (3, 10)),
    ("EV-3@01", (3, 1))])
def test_parse_version_ref(text: str, expected: tuple[int, int | None]) -> None:
    assert ev.parse_version_ref(text) == expected


@pytest.mark.parametrize("text", ["EV-3@0", "EV-3@", "EV-3@x", "EV-3@-1", "EV-3@1.5",
                                  "EV-3@²", "EV-3@٢"])  # digits, but not 0-9
def test_parse_version_ref_refuses_a_bad_version(text: str) -> None:
    with pytest.raises(ValueError) as info:
        ev.parse_version_ref(text)
    assert str(info.value) == f"{text!r}: the version after '@' must be a number ≥ 1"


def test_parse_version_ref_refuses_a_bad_id() -> None:
    with pytest.raises(ValueError, match=r"'CT-3' is not an evidence id"):
        ev.parse_version_ref("CT-3@1")


# ------------------------------------------------------------------ dates and moments


def test_parse_date() -> None:
    assert ev.parse_date(" 2026-02-28 ", "valid until") == date(2026, 2, 28)
    for bad in ("2026-02-30", "28/02/2026", "tomorrow", ""):
        with pytest.raises(ValueError) as info:
            ev.parse_date(bad, "valid until")
        assert str(info.value) == f"valid until {bad!r} is not a date; write it as YYYY-MM-DD"
    with pytest.raises(ValueError, match="period from None is not a date"):
        ev.parse_date(None, "period from")  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-02", "2026-11-02"),  # a date stays a date
    (" 2026-11-02 ", "2026-11-02"),
    ("2026-11-02T14:30", "2026-11-02T14:30:00.000Z"),  # no offset: UTC
    ("2026-11-02 14:30:05", "2026-11-02T14:30:05.000Z"),
    ("2026-11-02T14:30+02:00", "2026-11-02T12:30:00.000Z"),
    ("2026-11-02T23:30-05:00", "2026-11-03T04:30:00.000Z"),  # the day can change
    ("2026-11-02T14:30:00Z", "2026-11-02T14:30:00.000Z"),
    ("2026-11-02T14:30:00.123456+00:00", "2026-11-02T14:30:00.123Z"),
])
def test_parse_moment_normalises_to_utc(text: str, expected: str) -> None:
    assert ev.parse_moment(text, "collected at") == expected


def test_parse_moment_errors_are_one_sentence() -> None:
    with pytest.raises(ValueError) as info:
        ev.parse_moment("last Tuesday", "collected at")
    assert str(info.value) == ("collected at 'last Tuesday' is not a date; write it as "
                               "YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    with pytest.raises(ValueError) as info:
        ev.parse_moment("2026-13-01", "collected at")  # ten characters: read as a date
    assert str(info.value) == "collected at '2026-13-01' is not a date; write it as YYYY-MM-DD"
    with pytest.raises(ValueError, match="is not a date"):
        ev.parse_moment("2026-11-02T25:00", "collected at")


def test_day_of() -> None:
    assert ev.day_of("2026-11-03T04:30:00.000Z") == date(2026, 11, 3)
    assert ev.day_of("2026-11-02") == date(2026, 11, 2)


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", "report.pdf"),
    ("Résumé – Q3.pdf", "Résumé – Q3.pdf"),  # ordinary non-ASCII text is kept
    ("a\x1b[31mred.txt", "a\\x1b[31mred.txt"),
    ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),
    ("x\u200fy", "x\\u200fy"),
    ("x\u200by", "x\\u200by"),  # zero-width space (Cf)
    ("line\nbreak\r", "line\\x0abreak\\x0d"),
    ("para\u2029sep\u2028", "para\\u2029sep\\u2028"),
    ("tab\there\x7f", "tab\\x09here\\x7f"),
    ("back\\slash", "back\\\\slash"),
    (os.fsdecode(b"r\xe9sum\xff.pdf"), "r\\xe9sum\\xff.pdf"),  # bytes that were not UTF-8
])
def test_shown_escapes_what_could_fool_a_terminal(name: str, expected: str) -> None:
    out = ev.shown(name)
    assert out == expected
    assert out.isprintable()
    out.encode("utf-8")  # no lone surrogates left: printable anywhere


def test_shown_is_unambiguous_between_a_backslash_and_an_escape() -> None:
    assert ev.shown("\\x1b") != ev.shown("\x1b")


@pytest.mark.parametrize(("name", "expected"), [
    ("../../x", "x"),
    ("a/b\\c", "c"),
    ("C:\\Users\\me\\evidence.pdf", "evidence.pdf"),
    ("..", "file"),
    (".", "file"),
    ("", "file"),
    ("folder/", "file"),
    ("/etc/passwd", "passwd"),
    ("plain.txt", "plain.txt"),
    ("a\x1bb.txt", "a\x1bb.txt"),  # kept as given; `shown` escapes it for display
    (os.fsdecode(b"/tmp/r\xffport.pdf"), "r\\xffport.pdf"),  # storable as UTF-8
])
def test_stored_name_keeps_the_last_part_only(name: str, expected: str) -> None:
    assert ev.stored_name(name) == expected


def test_stored_name_of_a_long_name_keeps_its_end() -> None:
    name = "q" * 296 + ".pdf"
    stored = ev.stored_name(name)
    assert len(stored) == 255
    assert stored.startswith("…") and stored.endswith("q.pdf")
    assert stored == "…" + name[-254:]
    exact = "e" * 251 + ".txt"
    assert ev.stored_name(exact) == exact
    assert ev.stored_name("dir/" + "z" * 40 + ".log", limit=10) == "…" + "zzzzz.log"
