"""Tests for ``sanctions.model.hs``: the HS classification table and its lookup."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest

from sanctions.model import hs
from sanctions.exc import InvalidInput, InvalidRule
from sanctions.model.records import Category
from support import SHARED as SHARED_ROOT

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "hs-classification.md"
HS2022 = (SHARED_ROOT / "data/hs2022_harmonized-system.csv")
"""The HS 2022 nomenclature (UN Comtrade via github.com/datasets/harmonized-system). Read in place, never
copied into the repository; it is present in CI."""

needs_hs2022 = pytest.mark.skipif(not HS2022.is_file(), reason=f"HS 2022 nomenclature not found at {HS2022}")


@pytest.fixture(scope="module")
def nomenclature() -> dict[str, dict[str, str]]:
    """HS 2022 codes (chapters, headings, subheadings) -> their row."""
    with HS2022.open(encoding="utf-8", newline="") as f:
        return {r["hscode"]: r for r in csv.DictReader(f) if r["level"] in {"2", "4", "6"}}


def _codes_under(nomenclature: dict[str, dict[str, str]], prefix: str, level: str) -> list[str]:
    return sorted(c for c, r in nomenclature.items() if c.startswith(prefix) and r["level"] == level)


# --------------------------------------------------------------------------------------------------------------
# The shipped table
# --------------------------------------------------------------------------------------------------------------


def test_table_ships_inside_the_package() -> None:
    assert resources.files("sanctions").joinpath(hs.TABLE_FILE).is_file()


def test_table_loads_sorted_and_unique() -> None:
    rows = hs.rows()
    prefixes = [r.prefix for r in rows]
    assert len(rows) >= 100
    assert prefixes == sorted(prefixes)
    assert len(set(prefixes)) == len(prefixes)
    assert all(isinstance(r.category, Category) for r in rows)


def test_every_row_cites_a_source_and_says_which_kind() -> None:
    for row in hs.rows():
        assert row.source.startswith(("resolution text:", "engineering mapping:")), row
        assert row.note, row


@needs_hs2022
def test_every_prefix_exists_in_hs2022(nomenclature: dict[str, dict[str, str]]) -> None:
    missing = [(r.line, r.prefix) for r in hs.rows() if r.prefix not in nomenclature]
    assert not missing, f"prefixes not in the HS 2022 nomenclature (line, prefix): {missing}"


@needs_hs2022
def test_prefix_length_matches_hs2022_level(nomenclature: dict[str, dict[str, str]]) -> None:
    for row in hs.rows():
        assert nomenclature[row.prefix]["level"] == str(len(row.prefix)), row


# Chapters and headings the resolutions name, with the category a code there must get unless a more
# specific row overrides it.
NAMED_CHAPTERS = (
    ["03"]                                                   # 2371 seafood (by mapping)
    + ["07", "08", "12", "25", "44", "84", "85", "89"]     # 2397 OP6
    + [f"{n:02d}" for n in range(50, 64)]                    # 2375 textiles (by mapping)
    + [f"{n:02d}" for n in range(72, 90) if n != 77]         # 2397 OP7 (77 is reserved in the HS)
    + ["93"]                                                 # arms
)
NAMED_HEADINGS = ["2701", "2709", "2710", "2711", "9703"]


@needs_hs2022
@pytest.mark.parametrize("ch", NAMED_CHAPTERS)
def test_named_chapters_fully_covered(ch: str, nomenclature: dict[str, dict[str, str]]) -> None:
    uncovered = [c for c in _codes_under(nomenclature, ch, "6") if hs.classify(c) is None]
    assert not uncovered, f"HS 2022 subheadings of chapter {ch} with no row: {uncovered}"


@needs_hs2022
@pytest.mark.parametrize("hd", NAMED_HEADINGS)
def test_named_headings_fully_covered(hd: str, nomenclature: dict[str, dict[str, str]]) -> None:
    assert hd in nomenclature
    uncovered = [c for c in _codes_under(nomenclature, hd, "6") if hs.classify(c) is None]
    assert not uncovered, f"HS 2022 subheadings of heading {hd} with no row: {uncovered}"


@pytest.mark.parametrize(("ch", "category"), [
    ("07", Category.agricultural_products), ("08", Category.agricultural_products),
    ("12", Category.agricultural_products), ("25", Category.earth_and_stone), ("44", Category.wood),
    ("84", Category.machinery), ("85", Category.electrical_equipment), ("89", Category.vessels),
    ("86", Category.vehicles), ("87", Category.vehicles), ("88", Category.aircraft),
    ("72", Category.metals), ("7201", Category.iron), ("7206", Category.iron), ("73", Category.metals), ("76", Category.metals), ("83", Category.metals),
    ("03", Category.seafood), ("93", Category.small_arms),
])
def test_named_chapter_rows(ch: str, category: Category) -> None:
    row = hs.classification(ch)
    assert row is not None and row.prefix == ch and row.category is category


def test_every_row_in_2397_op6_chapters_lists_op6() -> None:
    for row in hs.rows():
        if row.prefix[:2] in {"07", "08", "12", "25", "44", "84", "85", "89"}:
            assert "2397 OP6" in row.measures, row


def test_every_row_in_2397_op7_chapters_lists_op7() -> None:
    for row in hs.rows():
        if 72 <= int(row.prefix[:2]) <= 89:
            assert "2397 OP7" in row.measures, row


def test_aviation_fuel_rows_are_marked() -> None:
    for code in ("271012", "271019"):
        row = hs.classification(code)
        assert row is not None and row.prefix == code
        assert "2270 OP31" in row.measures
        assert "aviation_fuel" in row.note


def test_no_row_points_at_hs2017_8803() -> None:
    # 8803 (aircraft parts) became 8807 in HS 2022; the note on 8807 says so.
    assert hs.classification("8803") is not None  # the chapter row still answers
    assert hs.classification("8803").prefix == "88"  # type: ignore[union-attr]
    assert "8803" in hs.classification("8807").note  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "category", "prefix"), [
    ("930690", Category.ammunition, "9306"),
    ("9306.90", Category.ammunition, "9306"),
    ("930110", Category.large_calibre_artillery, "930110"),
    ("930200", Category.small_arms, "9302"),
    ("930700", Category.small_arms, "93"),
    ("871000", Category.armoured_combat_vehicles, "8710"),
    ("890610", Category.warships, "890610"),
    ("890690", Category.vessels, "8906"),
    ("880212", Category.helicopters, "880212"),
    ("880240", Category.aircraft, "8802"),
    ("880730", Category.aircraft_spare_parts, "8807"),
    ("271019", Category.refined_petroleum, "271019"),
    ("2710 19 21 00", Category.refined_petroleum, "271019"),
    ("271020", Category.refined_petroleum, "2710"),
    ("270900", Category.crude_oil, "2709"),
    ("271112", Category.condensates, "271112"),
    ("271111", Category.natural_gas, "271111"),
    ("270112", Category.coal, "2701"),
    ("260111", Category.iron, "2601"),
    ("710813", Category.gold, "7108"),
    ("710691", Category.silver, "7106"),
    ("261590", Category.vanadium_ore, "261590"),
    ("280530", Category.rare_earths, "280530"),
    ("030617", Category.seafood, "03"),
    ("160420", Category.seafood, "1604"),
    ("160100", Category.food, "16"),
    ("610910", Category.textiles, "61"),
    ("570110", Category.luxury_goods, "5701"),
    ("847130", Category.machinery, "84"),
    ("840120", Category.nuclear_items, "8401"),
    ("870323", Category.vehicles, "8703"),
    ("870310", Category.luxury_goods, "870310"),
    ("890399", Category.luxury_goods, "8903"),
    ("711319", Category.luxury_goods, "7113"),
    ("970310", Category.statues, "9703"),
    ("300490", Category.medicine, "3004"),
    ("070200", Category.agricultural_products, "07"),
])
def test_classify_real_codes(code: str, category: Category, prefix: str) -> None:
    assert hs.classify(code) is category
    row = hs.classification(code)
    assert row is not None and row.prefix == prefix


@pytest.mark.parametrize("code", ["27", "2705", "390110", "999999", "6911", "691190", "261510"])
def test_unmapped_codes_give_none(code: str) -> None:
    assert hs.classify(code) is None
    assert hs.classification(code) is None


def test_longest_prefix_wins() -> None:
    # 6 beats 4 beats 2, and a code shorter than a row's prefix never matches that row.
    assert hs.classification("930110").prefix == "930110"  # type: ignore[union-attr]
    assert hs.classification("930630").prefix == "9306"  # type: ignore[union-attr]
    assert hs.classification("930700").prefix == "93"  # type: ignore[union-attr]
    assert hs.classification("9306").prefix == "9306"  # type: ignore[union-attr]
    assert hs.classification("93").prefix == "93"  # type: ignore[union-attr]
    assert hs.classification("2710").prefix == "2710"  # type: ignore[union-attr]


@needs_hs2022
def test_lookup_agrees_with_brute_force_longest_prefix(nomenclature: dict[str, dict[str, str]]) -> None:
    rows = hs.rows()
    for code in nomenclature:
        matches = [r for r in rows if code.startswith(r.prefix)]
        expected = max(matches, key=lambda r: len(r.prefix)) if matches else None
        assert hs.classification(code) == expected, code


# Full-width "27" on purpose: str.isdigit() accepts it, an HS code must not.
@pytest.mark.parametrize("bad", ["", "2", "27a", "ab", "\uff12\uff17", "27-10"])
def test_lookup_rejects_non_codes(bad: str) -> None:
    with pytest.raises(InvalidInput):
        hs.classify(bad)


def test_chapter_and_heading() -> None:
    assert hs.chapter("2710.19") == "27"
    assert hs.heading("2710.19") == "2710"
    assert hs.heading("27") is None
    assert hs.chapter("93") == "93"
    with pytest.raises(InvalidInput):
        hs.chapter("x")


def test_row_level_and_basis() -> None:
    assert hs.classification("89").level == "chapter"  # type: ignore[union-attr]
    assert hs.classification("8903").level == "heading"  # type: ignore[union-attr]
    assert hs.classification("890610").level == "subheading"  # type: ignore[union-attr]
    assert hs.classification("89").from_text  # type: ignore[union-attr]
    assert not hs.classification("9306").from_text  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------------------
# Validation of the CSV
# --------------------------------------------------------------------------------------------------------------

HEADER = "prefix,category,measures,note,source\n"
GOOD = "2701,coal,2371 OP8,Coal,engineering mapping: x\n"


def _error(text: str) -> InvalidRule:
    with pytest.raises(InvalidRule) as info:
        hs.parse_table(text, source="table.csv")
    return info.value


def test_parse_good_table() -> None:
    oil = "2710,refined_petroleum,2397 OP5; 2270 OP31,Oil,engineering mapping: y\n"
    rows = hs.parse_table(HEADER + GOOD + oil)
    assert [r.prefix for r in rows] == ["2701", "2710"]
    assert rows[1].measures == ("2397 OP5", "2270 OP31")
    assert rows[1].line == 3


@pytest.mark.parametrize(("line", "pattern"), [
    ("2701,coals,2371 OP8,Coal,engineering mapping: x",
     r"line 3: unknown category 'coals'; did you mean 'coal'\?"),
    ("2701,Category.coal,2371 OP8,Coal,engineering mapping: x", r"line 3: unknown category"),
    ("2710.19,refined_petroleum,2397 OP5,Oil,engineering mapping: x",
     r"line 3: prefix '2710.19' is not digits only"),
    ("27a1,coal,2371 OP8,Coal,engineering mapping: x", r"line 3: prefix '27a1' is not digits only"),
    ("271,coal,2371 OP8,Coal,engineering mapping: x", r"line 3: prefix '271' has 3 digits"),
    ("27101921,coal,2371 OP8,Coal,engineering mapping: x", r"line 3: prefix '27101921' has 8 digits"),
    ("2709,crude_oil,2397 paragraph 4,Crude,engineering mapping: x", r"line 3: measure '2397 paragraph 4'"),
    ("2709,crude_oil,2397 OP4; 2397 OP4,Crude,engineering mapping: x", r"line 3: a measure is listed twice"),
    ("2709,crude_oil,2397 OP4,,engineering mapping: x", r"line 3: note is empty"),
    ("2709,crude_oil,2397 OP4,Crude,", r"line 3: source is empty"),
    ("2709,crude_oil,2397 OP4,Crude", r"line 3: expected 5 columns"),
])
def test_bad_rows_are_rejected_naming_the_line(line: str, pattern: str) -> None:
    err = _error(HEADER + GOOD + line + "\n")
    assert re.search(pattern, str(err)), str(err)
    assert str(err).startswith("table.csv: line 3: ")


def test_duplicate_prefix_is_rejected() -> None:
    err = _error(HEADER + GOOD + GOOD)
    assert "table.csv: line 3: duplicate prefix '2701', first given on line 2" in str(err)


def test_unsorted_rows_are_rejected() -> None:
    crude = "2709,crude_oil,2397 OP4,Crude,engineering mapping: x\n"
    err = _error(HEADER + crude + GOOD.replace("2701", "2601"))
    assert "table.csv: line 3: rows are not sorted: prefix '2601' comes after '2709'" in str(err)


def test_bad_header_is_rejected() -> None:
    err = _error("prefix,category,note\n" + GOOD)
    assert "table.csv: line 1: header is" in str(err)
    assert "table.csv" in str(_error(""))


def test_blank_lines_are_skipped_and_lines_still_counted() -> None:
    rows = hs.parse_table(HEADER + "\n" + GOOD)
    assert rows[0].line == 3


def test_row_spanning_lines_is_rejected_naming_its_first_line() -> None:
    text = HEADER + GOOD + '2709,crude_oil,2397 OP4,"Crude,\nwith a second line",engineering mapping: x\n'
    err = _error(text)
    assert "table.csv: line 3: the row spans lines 3-4" in str(err)


# --------------------------------------------------------------------------------------------------------------
# The docs
# --------------------------------------------------------------------------------------------------------------

BEGIN = "<!-- BEGIN GENERATED: python -m sanctions.hs -->"
END = "<!-- END GENERATED -->"


def test_doc_summary_matches_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{DOC} lacks the generated-summary markers"
    embedded = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert embedded == hs.markdown_summary(), (
        f"{DOC} is out of date: regenerate the table between the markers with `python -m sanctions.hs`")


def test_summary_collapses_chapter_ranges() -> None:
    summary = hs.markdown_summary()
    assert "| 50-56 | chapter | `textiles` | 2375 OP16 |" in summary
    assert "| 80-83 | chapter | `metals` | 2397 OP7 |" in summary
    assert "| 89 | chapter | `vessels` |" in summary and "resolution text [C2]" in summary
