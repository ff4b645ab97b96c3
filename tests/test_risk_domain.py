"""The risk domain without I/O: the shipped matrices, reading levels off a grid, positions by
number or name, every refusal of `parse_matrix` with its sentence, and the small parsers
(`parse_score`, `parse_id`, `choose`)."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest
import yaml

from app.domain import risk as rk
from app.domain.risk import Level, Matrix, parse_matrix
from app.services.risk_matrices import defaults


def shipped_data(code: str) -> dict[str, Any]:
    text = resources.files("app.matrices").joinpath(f"{code}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def small() -> dict[str, Any]:
    """A valid 2 × 3 matrix as data (two likelihoods, three impacts, two levels)."""
    return {
        "code": "team-2x3", "version": 1, "name": "Team matrix",
        "likelihood": [{"name": "Low"}, {"name": "High"}],
        "impact": [{"name": "Small"}, {"name": "Medium"}, {"name": "Large"}],
        "levels": [{"name": "Green", "colour": "#00aa00"},
                   {"name": "Red", "colour": "#aa0000", "high": True}],
        "grid": [["Green", "Green", "Red"], ["Green", "Red", "Red"]],
    }


def refused(data: Any, *fragments: str, where: str = "m.yaml") -> str:
    with pytest.raises(ValueError) as info:
        parse_matrix(data, where)
    message = str(info.value)
    assert message.startswith(where), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# ------------------------------------------------------------------ the shipped matrices


@pytest.mark.parametrize(("code", "size", "levels", "high"), [
    ("3x3", 3, ["Low", "Medium", "High"], [False, False, True]),
    ("4x4", 4, ["Low", "Medium", "High", "Critical"], [False, False, True, True]),
    ("5x5", 5, ["Low", "Medium", "High", "Very high"], [False, False, True, True]),
])
def test_shipped_matrices_parse_with_explicit_grids(code: str, size: int, levels: list[str],
                                                    high: list[bool]) -> None:
    data = shipped_data(code)
    # the grid is written out in the file: one row per likelihood, one name per impact
    assert len(data["grid"]) == size and all(len(row) == size for row in data["grid"])
    m = defaults()[code]
    assert (m.code, m.version, m.ref) == (code, 1, f"{code}@1")
    assert len(m.likelihood) == len(m.impact) == size
    assert len(m.grid) == size and all(len(row) == size for row in m.grid)
    assert [lv.name for lv in m.levels] == levels
    assert [lv.high for lv in m.levels] == high
    assert all(re.fullmatch(r"#[0-9a-f]{6}", lv.colour) for lv in m.levels)
    assert all(lv.description for lv in (*m.likelihood, *m.impact, *m.levels))
    # the grid is the file's grid, cell by cell
    assert [[m.levels[i].name for i in row] for row in m.grid] == data["grid"]
    # lowest corner lowest level, highest corner highest level
    assert m.level(1, 1).name == levels[0] and m.rank(1, 1) == 0
    assert m.level(size, size).name == levels[-1] and m.rank(size, size) == len(levels) - 1
    assert m == parse_matrix(data, f"{code}.yaml")


def test_defaults_are_exactly_the_three_shipped() -> None:
    assert sorted(defaults()) == ["3x3", "4x4", "5x5"]


def test_level_and_rank_read_the_grid_not_a_formula() -> None:
    m = defaults()["5x5"]
    # likelihood 4 (Likely) × impact 5 (Severe) is Very high; 5 × 1 is only Medium
    assert m.level(4, 5) == Level("Very high", "Unacceptable; treat now.", "#c62828", True)
    assert m.rank(4, 5) == 3
    assert (m.level(5, 1).name, m.rank(5, 1)) == ("Medium", 1)
    assert (m.level(2, 5).name, m.level(5, 2).name) == ("High", "High")
    assert (m.level(3, 3).name, m.level(1, 5).name) == ("Medium", "Medium")
    three = defaults()["3x3"]
    assert [[three.level(li, ii).name for ii in (1, 2, 3)] for li in (1, 2, 3)] == [
        ["Low", "Low", "Medium"], ["Low", "Medium", "High"], ["Medium", "High", "High"]]


def test_position_by_number_and_by_name() -> None:
    m = defaults()["5x5"]
    assert m.position(3, "likelihood") == 3
    assert m.position(" 5 ", "impact") == 5
    assert m.position("likely", "likelihood") == 4
    assert m.position("ALMOST CERTAIN", "likelihood") == 5
    assert m.position("  Major ", "impact") == 4
    # a likelihood name is not an impact name
    with pytest.raises(ValueError, match="impact 'Likely' is not on matrix 5x5@1"):
        m.position("Likely", "impact")


@pytest.mark.parametrize("value", ["0", "6", 6, "-1", "3.0", "", "certain", "３"])
def test_position_outside_the_scale_lists_it(value: Any) -> None:
    m = defaults()["5x5"]
    with pytest.raises(ValueError) as info:
        m.position(value, "likelihood")
    assert str(info.value) == (
        f"likelihood {str(value).strip()!r} is not on matrix 5x5@1 (1 Rare, 2 Unlikely, "
        "3 Possible, 4 Likely, 5 Almost certain)")


def test_position_on_a_small_scale_lists_that_scale() -> None:
    m = defaults()["3x3"]
    with pytest.raises(ValueError, match=re.escape(
            "impact '4' is not on matrix 3x3@1 (1 Minor, 2 Moderate, 3 Severe)")):
        m.position(4, "impact")


# ------------------------------------------------------------------ parse_matrix


def test_a_small_matrix_parses() -> None:
    m = parse_matrix(small())
    assert (m.code, m.version, m.name, m.description) == ("team-2x3", 1, "Team matrix", "")
    assert m.grid == ((0, 0, 1), (0, 1, 1))
    assert m.level(2, 2) == Level("Red", "", "#aa0000", True)
    assert m.level(1, 1).high is False


def test_version_defaults_to_1_and_name_to_the_code() -> None:
    data = small()
    del data["version"], data["name"]
    m = parse_matrix(data)
    assert (m.version, m.name) == (1, "team-2x3")


def test_grid_cells_are_level_names_in_any_case() -> None:
    data = small()
    data["grid"] = [[" green", "GREEN", "red "], ["Green", "Red", "rEd"]]
    assert parse_matrix(data).grid == ((0, 0, 1), (0, 1, 1))


@pytest.mark.parametrize("data", [None, [], "code: x", 5])
def test_not_a_mapping(data: Any) -> None:
    assert refused(data) == ("m.yaml is not a mapping of code, version, likelihood, impact, "
                             "levels and grid")


def test_missing_keys_are_all_named() -> None:
    data = small()
    del data["impact"], data["grid"]
    assert refused(data) == "m.yaml has no impact, grid"
    assert refused({}) == "m.yaml has no code, likelihood, impact, levels, grid"


@pytest.mark.parametrize("code", ["", "-x", "a b", "x/y", "a" * 41, "ü"])
def test_bad_code(code: str) -> None:
    data = small() | {"code": code}
    refused(data, f"code {code!r} must be 1–40 letters, digits, '.', '_' or '-'")


@pytest.mark.parametrize("version", [0, -1, "x", "2", True, False, 1.5, None])
def test_bad_version(version: Any) -> None:
    data = small() | {"version": version}
    assert refused(data) == (f"m.yaml: version must be a whole number ≥ 1, not {version!r}")


@pytest.mark.parametrize("scale", ["likelihood", "impact", "levels"])
def test_fewer_than_two_levels(scale: str) -> None:
    data = small()
    data[scale] = data[scale][:1]
    assert refused(data) == f"m.yaml: {scale} must list 2 to 10 levels, lowest first"
    data[scale] = "Low, High"
    assert refused(data) == f"m.yaml: {scale} must list 2 to 10 levels, lowest first"


def test_more_than_ten_levels() -> None:
    data = small()
    data["impact"] = [{"name": f"I{n}"} for n in range(11)]
    assert refused(data) == "m.yaml: impact must list 2 to 10 levels, lowest first"
    data["impact"] = [{"name": f"I{n}"} for n in range(10)]
    data["grid"] = [["Green"] * 10, ["Red"] * 10]
    assert len(parse_matrix(data).impact) == 10  # ten is still a matrix


@pytest.mark.parametrize("scale", ["likelihood", "impact", "levels"])
def test_duplicate_level_names_ignoring_case(scale: str) -> None:
    data = small()
    first = data[scale][0]
    data[scale] = [*data[scale], {**first, "name": first["name"].upper()}]
    refused(data, f"m.yaml: {scale}: level {first['name'].upper()!r} appears twice")


def test_a_level_without_a_name() -> None:
    data = small()
    data["likelihood"][1] = {"description": "no name"}
    assert refused(data) == "m.yaml: likelihood: level 2 has no name"
    data["likelihood"][1] = "High"
    assert refused(data) == "m.yaml: likelihood: level 2 has no name"


@pytest.mark.parametrize("colour", [None, "", "red", "#abc", "#12345g", "c62828", "#c628281"])
def test_risk_levels_need_a_colour(colour: str | None) -> None:
    data = small()
    if colour is None:
        del data["levels"][1]["colour"]
    else:
        data["levels"][1]["colour"] = colour
    refused(data, "m.yaml: levels: level 'Red' needs a colour like #c62828, not "
                  f"{(colour or '')!r}")


def test_scales_need_no_colour() -> None:
    data = small()
    assert "colour" not in data["likelihood"][0]
    assert parse_matrix(data).likelihood[0].colour == ""


@pytest.mark.parametrize("high", ["false", "yes", 1, 0, None])
def test_high_must_be_a_boolean(high: Any) -> None:
    # a JSON file saying "high": "false" must not make the level high
    data = small()
    data["levels"][0]["high"] = high
    refused(data, "level 'Green': high must be true or false")


def test_grid_with_the_wrong_number_of_rows() -> None:
    data = small()
    data["grid"] = data["grid"][:1]
    assert refused(data) == ("m.yaml: the grid needs one row per likelihood (2 rows), not 1")
    data["grid"] = [*small()["grid"], ["Red", "Red", "Red"]]
    assert refused(data) == ("m.yaml: the grid needs one row per likelihood (2 rows), not 3")
    data["grid"] = "Green"
    assert refused(data) == ("m.yaml: the grid needs one row per likelihood (2 rows), not 0")


def test_a_short_row() -> None:
    data = small()
    data["grid"][1] = ["Green", "Red"]
    assert refused(data) == ("m.yaml: grid row 2 (High) needs one level per impact (3), "
                             "not 2")
    data["grid"][1] = "Green"
    assert refused(data) == ("m.yaml: grid row 2 (High) needs one level per impact (3), "
                             "not 0")


def test_a_long_row() -> None:
    data = small()
    data["grid"][0] = ["Green", "Green", "Red", "Red"]
    refused(data, "grid row 1 (Low) needs one level per impact (3), not 4")


@pytest.mark.parametrize("cell", ["Amber", None, 1, ""])
def test_a_cell_naming_an_unknown_level(cell: Any) -> None:
    data = small()
    data["grid"][1][2] = cell
    assert refused(data) == (f"m.yaml: grid row 2, column 3 names {cell!r}, which is not a "
                             "level (Green, Red)")


def test_the_where_defaults_to_the_matrix() -> None:
    with pytest.raises(ValueError, match=r"^the matrix is not a mapping"):
        parse_matrix([])


def test_texts_are_checked() -> None:
    data = small()
    data["levels"][0]["description"] = "x" * 501
    refused(data, "m.yaml: levels: level 'Green' description is too long")
    data = small() | {"name": "two\nlines"}
    refused(data, "m.yaml: name must be a single line")
    data = small() | {"name": ["a list"]}
    refused(data, "m.yaml: name must be text")


def test_parse_matrix_does_not_change_its_input() -> None:
    data = small()
    before = copy.deepcopy(data)
    parse_matrix(data)
    assert data == before


@pytest.mark.parametrize("m", [*defaults().values(), parse_matrix(small())],
                         ids=lambda m: m.ref)
def test_as_data_round_trips(m: Matrix) -> None:
    data = m.as_data()
    assert parse_matrix(data) == m
    # and through JSON, as the workspace stores it
    assert rk.matrix_from_json(json.dumps(data)) == m
    assert data["grid"][0][0] == m.levels[m.grid[0][0]].name
    assert [lv["high"] for lv in data["levels"]] == [lv.high for lv in m.levels]


# ------------------------------------------------------------------ parse_score


@pytest.mark.parametrize(("text", "expected"), [
    ("3/4", ("3", "4")),
    ("3,4", ("3", "4")),
    (" 3 / 4 ", ("3", "4")),
    ("3 ,4", ("3", "4")),
    ("likely / major", ("likely", "major")),
    ("Almost certain/Severe", ("Almost certain", "Severe")),
    ("almost certain , very severe", ("almost certain", "very severe")),
])
def test_parse_score(text: str, expected: tuple[str, str]) -> None:
    assert rk.parse_score(text) == expected


def test_parsed_names_with_spaces_find_their_positions() -> None:
    m = defaults()["5x5"]
    lk, im = rk.parse_score("Almost certain/Severe")
    assert (m.position(lk, "likelihood"), m.position(im, "impact")) == (5, 5)


@pytest.mark.parametrize("text", ["", "3", "3 4", "/4", "3/", " / ", "likely", ","])
def test_parse_score_refusals(text: str) -> None:
    with pytest.raises(ValueError) as info:
        rk.parse_score(text)
    assert str(info.value) == (f"score {text!r} must be LIKELIHOOD/IMPACT, e.g. 3/4 or "
                               "likely/major")


# ------------------------------------------------------------------ ids and choices


@pytest.mark.parametrize(("text", "prefix", "expected"), [
    ("RK-3", "RK", 3), ("rk3", "RK", 3), ("3", "RK", 3), (" RK-003 ", "RK", 3), (7, "RK", 7),
    ("AI-2", "AI", 2), ("ai-12", "AI", 12), ("12", "AI", 12), ("Ai5", "AI", 5),
])
def test_parse_id(text: str | int, prefix: str, expected: int) -> None:
    assert rk.parse_id(text, prefix) == expected


@pytest.mark.parametrize(("text", "prefix", "what"), [
    ("AI-3", "RK", "a risk"), ("RK-0", "RK", "a risk"), ("0", "RK", "a risk"),
    ("RK-", "RK", "a risk"), ("RK-x", "RK", "a risk"), ("", "RK", "a risk"),
    ("RK-1234567890", "RK", "a risk"), ("RK--3", "RK", "a risk"), ("RK 3", "RK", "a risk"),
    ("RK-3", "AI", "an AI system"), ("AI-0", "AI", "an AI system"),
    ("Assistant", "AI", "an AI system"),
])
def test_parse_id_refusals(text: str, prefix: str, what: str) -> None:
    with pytest.raises(ValueError) as info:
        rk.parse_id(text, prefix)
    assert str(info.value) == f"{text!r} is not {what} id (like {prefix}-3)"


def test_labels() -> None:
    assert (rk.risk_label(3), rk.system_label(12)) == ("RK-3", "AI-12")


@pytest.mark.parametrize(("value", "expected"), [
    ("Bias & fairness", "bias-and-fairness"),
    ("bias and fairness", "bias-and-fairness"),
    ("BIAS_AND_FAIRNESS", "bias-and-fairness"),
    ("  Data drift ", "data-drift"),
    ("Model theft or tampering", "model-theft-or-tampering"),
    ("adversarial  or   poisoning", "adversarial-or-poisoning"),
    ("other", "other"),
])
def test_choose_a_category(value: str, expected: str) -> None:
    assert rk.choose(value, rk.CATEGORIES, "category") == expected


def test_choose_other_vocabularies() -> None:
    assert rk.choose("General purpose", rk.TIERS, "tier") == "general-purpose"
    assert rk.choose("Authorised representative", rk.ROLES, "role") == \
        "authorised-representative"
    assert rk.choose("MITIGATE", rk.TREATMENTS, "treatment") == "mitigate"


def test_choose_refuses_with_the_choices() -> None:
    with pytest.raises(ValueError) as info:
        rk.choose("drift", rk.CATEGORIES, "category")
    assert str(info.value) == ("invalid category 'drift'; choose one of: "
                               + ", ".join(rk.CATEGORIES))


def test_vocabularies() -> None:
    assert len(rk.CATEGORIES) == 11 and rk.STAGES == ("inherent", "current", "residual")
    assert sorted(rk.ANNEX_III) == [str(n) for n in range(1, 9)]
    assert "accept" in rk.TREATMENTS and "open" in rk.TREATMENTS
