"""Unit conversion: exact within a dimension, cited factors between mass and volume, loud failures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from sanctions.exc import InvalidInput
from sanctions.model.records import Category, Unit
from sanctions.model.units import (
    BARREL_LITRES,
    convert,
    convert_range,
    dimension,
    factor,
    factors,
    load_factors,
    products,
    products_for_hs,
)


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1, "tonnes", "kilograms", "1000"),
        (2500, "kilograms", "tonnes", "2.5"),
        (1, "barrels", "litres", "158.987294928"),
        (2, "cubic_metres", "litres", "2000"),
        (1000, "litres", "cubic_metres", "1"),
        (7, "usd", "usd", "7"),
        (3, Unit.rounds, Unit.rounds, "3"),
    ],
)
def test_same_dimension_needs_no_product(value, src, dst, expected):
    assert convert(value, src, dst, product=None) == Decimal(expected)


def test_lpg_uses_the_committee_figure_and_says_it_is_unverified():
    assert convert(1000, "tonnes", "barrels", product="lpg") == Decimal("11600")
    f = factor("lpg")
    assert f.barrels_per_tonne == Decimal("11.6")
    assert f.verified is False
    assert "1718" in f.url and "refined-petroleum" in f.url
    assert any(a.barrels_per_tonne == Decimal("11.65") and a.verified for a in f.alternatives)


def test_crude_factor_is_the_ratio_of_the_two_forms_of_the_2397_cap():
    assert convert(525_000, "tonnes", "barrels", product="crude_oil") == Decimal("4000000")
    assert convert(4_000_000, "barrels", "tonnes", product=Category.crude_oil) == Decimal("525000")
    f = factor(Category.crude_oil)
    assert f.barrels_per_tonne.quantize(Decimal("0.01")) == Decimal("7.62")
    assert "7.62" in f.note and "4,000,000" in f.note


def test_diesel_uses_unsd_litres_per_tonne():
    f = factor("diesel")
    assert f.litres_per_tonne == Decimal("1149")
    assert f.barrels_per_tonne.quantize(Decimal("0.01")) == Decimal("7.23")
    assert f.url == "https://unstats.un.org/unsd/energy/yearbook/conversion.htm"
    assert convert(1, "tonnes", "litres", product="diesel") == Decimal("1149")
    assert convert(1149, "litres", "kilograms", product="diesel") == Decimal("1000")


@pytest.mark.parametrize("product", products())
def test_round_trip_and_consistency_for_every_product(product):
    bbl = convert(Decimal("1234.5"), "tonnes", "barrels", product=product)
    assert abs(convert(bbl, "barrels", "tonnes", product=product) - Decimal("1234.5")) < Decimal("1e-18")
    # tonnes -> barrels -> litres equals tonnes -> litres
    via = convert(bbl, "barrels", "litres", product=product)
    direct = convert(Decimal("1234.5"), "tonnes", "litres", product=product)
    assert abs(via - direct) < Decimal("1e-15")


@pytest.mark.parametrize("product", products())
def test_every_factor_is_cited(product):
    f = factor(product)
    assert f.url.startswith("https://")
    assert isinstance(f.verified, bool)
    assert f.note
    assert Decimal(5) < f.barrels_per_tonne < Decimal(12)
    assert f.product in f.citation() or f.label in f.citation()


def test_float_input_is_read_by_its_repr_not_its_binary_value():
    assert convert(0.1, "tonnes", "kilograms") == Decimal("100.0")


@pytest.mark.parametrize(
    ("src", "dst", "product", "words"),
    [
        ("usd", "barrels", "lpg", ["usd", "barrels", "lpg"]),
        ("tonnes", "barrels", None, ["tonnes", "barrels", "product"]),
        ("tonnes", "barrels", "refined_petroleum", ["tonnes", "barrels", "refined_petroleum"]),
        ("tonnes", "barrels", "coal", ["tonnes", "barrels", "coal"]),
        ("tonnes", "barrels", "disel", ["tonnes", "barrels", "disel"]),
        ("persons", "tonnes", None, ["persons", "tonnes"]),
        ("tonnes", "usd", "crude_oil", ["tonnes", "usd", "crude_oil"]),
    ],
)
def test_unconvertible_raises_naming_unit_and_product(src, dst, product, words):
    with pytest.raises(InvalidInput) as err:
        convert(10, src, dst, product=product)
    text = str(err.value)
    for w in words:
        assert w in text


def test_misspelt_product_gets_a_hint():
    with pytest.raises(InvalidInput) as err:
        convert(1, "tonnes", "barrels", product="disel")
    assert "did you mean 'diesel'?" in str(err.value)


def test_ambiguous_category_lists_its_products():
    with pytest.raises(InvalidInput) as err:
        convert(1, "tonnes", "barrels", product=Category.refined_petroleum)
    assert "diesel" in str(err.value) and "lpg" in str(err.value)


def test_unknown_unit_gets_a_hint():
    with pytest.raises(InvalidInput) as err:
        convert(1, "tonnes", "barels", product="lpg")
    assert "did you mean 'barrels'?" in str(err.value)


@pytest.mark.parametrize("bad", ["abc", float("nan"), float("inf"), None, True, [1]])
def test_non_numbers_are_refused(bad):
    with pytest.raises(InvalidInput):
        convert(bad, "tonnes", "kilograms")


def test_dimension():
    assert dimension("tonnes") == dimension(Unit.kilograms) == "mass"
    assert dimension("barrels") == dimension("cubic_metres") == "volume"
    assert dimension("usd") == "usd"


def test_products_for_hs_uses_longest_prefix():
    assert products_for_hs("2709.00") == ("crude_oil",)
    assert products_for_hs("271112") == ("lpg",)
    assert set(products_for_hs("2710.19.43")) >= {"diesel", "kerosene", "fuel_oil"}
    assert products_for_hs("0101") == ()


def test_convert_range_brackets_an_unknown_product():
    low, high = convert_range(100, "tonnes", "barrels", products=products_for_hs("271019"))
    assert low == convert(100, "tonnes", "barrels", product="residual_fuel_oil")
    assert high == convert(100, "tonnes", "barrels", product="kerosene")
    with pytest.raises(InvalidInput):
        convert_range(100, "tonnes", "barrels", products=[])


def test_packaged_table_is_consistent():
    table = factors()
    assert Decimal("158.987294928") == BARREL_LITRES
    for cat, prod in table.categories.items():
        assert prod is None or prod in table.products
        assert cat in {c.value for c in Category}
    for f in table.products.values():
        for c in f.categories:
            assert c in {c.value for c in Category}


def test_loader_refuses_two_primary_factors(tmp_path):
    raw = yaml.safe_load(Path(factors().path).read_text(encoding="utf-8"))
    raw["products"]["diesel"]["barrels_per_tonne"] = "7.2"
    bad = tmp_path / "f.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="exactly one"):
        load_factors(bad)


def test_loader_refuses_unknown_source(tmp_path):
    raw = yaml.safe_load(Path(factors().path).read_text(encoding="utf-8"))
    raw["products"]["diesel"]["source"] = "wikipedia"
    bad = tmp_path / "f.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown source"):
        load_factors(bad)
