"""Cap arithmetic: totals before and after, thresholds, whichever-is-lower caps, and conversions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from sanctions.ledger.caps import CapInput, CapSpec, assess
from sanctions.exc import InvalidInput
from sanctions.model.records import Money, Quantity

D = dt.date

REFINED = CapSpec.model_validate(
    {
        "id": "dprk.refined_petroleum.2397",
        "quantity": {"unit": "barrels"},
        "limit": 500_000,
        "period": {"kind": "calendar_year", "start": "2018-01-01"},
        "thresholds": [0.75, 0.9, 0.95],
        "scope": "All refined petroleum products supplied to the DPRK (2397 OP5).",
    }
)

CRUDE = CapSpec.model_validate(
    {
        "id": "dprk.crude_oil.2397",
        "quantity": {"unit": "barrels", "product": "crude_oil"},
        "limit": 4_000_000,
        "alt_limit": {"value": 525_000, "unit": "tonnes"},
        "period": {"kind": "twelve_months", "start": "2017-12-22"},
    }
)

COAL_2017 = CapSpec.model_validate(
    {
        "id": "dprk.coal.2321.2017",
        "quantity": {"unit": "tonnes"},
        "limit": 7_500_000,
        "alt_limit": {"value": 400_870_018, "unit": "usd"},
        "period": {"kind": "calendar_year", "start": "2017-01-01", "end": "2017-08-04"},
    }
)

COAL_2016 = CapSpec.model_validate(
    {
        "id": "dprk.coal.2321.2016",
        "quantity": {"unit": "tonnes"},
        "limit": 1_000_866,
        "alt_limit": {"value": 53_495_894, "unit": "usd"},
        "period": {"kind": "fixed", "start": "2016-11-30", "end": "2016-12-31"},
    }
)


def q(value, unit="barrels"):
    return Quantity(value=value, unit=unit)


def tr(tid, date):
    return {"id": tid, "date": date}


def record(ledger, tid, date, cap, amounts):
    a = assess(cap, ledger, amounts, on=D.fromisoformat(date))
    ledger.record(tr(tid, date), list(a.lines))
    return a


def test_first_shipment_against_an_empty_ledger(ledger):
    a = assess(REFINED, ledger, q(100_000), on=D(2018, 3, 1))
    assert (a.cap_id, a.period, a.unit) == ("dprk.refined_petroleum.2397", "2018", "barrels")
    assert (a.total_before, a.amount, a.total_after, a.limit) == (0, 100_000, 100_000, 500_000)
    assert a.fraction == pytest.approx(0.2)
    assert a.crossed_thresholds == () and not a.over_cap
    assert a.remaining == 400_000
    assert [(ln.cap_id, ln.period, ln.item_index, ln.quantity) for ln in a.lines] == [
        ("dprk.refined_petroleum.2397", "2018", 0, 100_000)
    ]


def test_thresholds_are_crossed_once_each(ledger):
    record(ledger, "A", "2018-02-01", REFINED, q(370_000))
    a = assess(REFINED, ledger, q(10_000), on=D(2018, 4, 1))
    assert a.total_before == 370_000 and a.crossed_thresholds == (0.75,)
    record(ledger, "B", "2018-04-01", REFINED, q(10_000))
    a = assess(REFINED, ledger, q(100_000), on=D(2018, 5, 1))
    assert a.crossed_thresholds == (0.9, 0.95) and a.reached_thresholds == (0.75, 0.9, 0.95)
    assert not a.over_cap
    assert a.total_after == 480_000


def test_exactly_at_the_limit_is_allowed_one_more_barrel_is_not(ledger):
    record(ledger, "A", "2018-02-01", REFINED, q(499_999))
    at = assess(REFINED, ledger, q(1), on=D(2018, 12, 31))
    assert at.fraction == 1.0 and not at.over_cap and at.remaining == 0
    over = assess(REFINED, ledger, q(2), on=D(2018, 12, 31))
    assert over.over_cap and over.remaining == -1


def test_threshold_exactly_reached_counts(ledger):
    a = assess(REFINED, ledger, q(375_000), on=D(2018, 1, 1))
    assert a.crossed_thresholds == (0.75,)


def test_a_new_year_starts_from_zero(ledger):
    record(ledger, "A", "2018-12-31", REFINED, q(499_000))
    a = assess(REFINED, ledger, q(10_000), on=D(2019, 1, 1))
    assert (a.period, a.total_before, a.over_cap) == ("2019", 0, False)


def test_tonnes_are_converted_with_the_items_product(ledger):
    a = assess(REFINED, ledger, CapInput(3, q(1000, "tonnes"), product="lpg"), on=D(2018, 1, 5))
    assert a.amount == 11_600
    assert (
        a.lines[0].original_value == 1000
        and a.lines[0].original_unit == "tonnes"
        and a.lines[0].item_index == 3
    )


def test_unconvertible_quantity_raises_invalid_input(ledger):
    with pytest.raises(InvalidInput) as err:
        assess(REFINED, ledger, q(1000, "tonnes"), on=D(2018, 1, 5))  # refined products differ in density
    assert "dprk.refined_petroleum.2397" in str(err.value) and "tonnes" in str(err.value)
    with pytest.raises(InvalidInput, match="units"):
        assess(REFINED, ledger, q(10, "units"), on=D(2018, 1, 5))
    with pytest.raises(InvalidInput, match="no quantity"):
        assess(REFINED, ledger, CapInput(0, None), on=D(2018, 1, 5))


def test_several_items_are_summed(ledger):
    a = assess(
        REFINED,
        ledger,
        [q(10), q(1, "cubic_metres"), CapInput(2, q(1, "tonnes"), product="diesel")],
        on=D(2018, 1, 5),
    )
    expected = (
        Decimal(10) + Decimal(1000) / Decimal("158.987294928") + Decimal(1149) / Decimal("158.987294928")
    )
    assert abs(a.amount - expected) < Decimal("1e-20")
    assert [ln.item_index for ln in a.lines] == [0, 1, 2]


def test_crude_cap_counts_barrels_and_tonnes_in_twelve_month_periods(ledger):
    a = record(ledger, "C1", "2018-12-21", CRUDE, q(100_000, "tonnes"))
    assert a.period == "2017-12-22/2018-12-21"
    assert {m.ledger_id for m in a.measures} == {"dprk.crude_oil.2397", "dprk.crude_oil.2397:tonnes"}
    by = {m.ledger_id: m for m in a.measures}
    assert by["dprk.crude_oil.2397:tonnes"].amount == 100_000
    assert by["dprk.crude_oil.2397"].amount.quantize(Decimal(1)) == Decimal(761_905)
    assert by["dprk.crude_oil.2397"].fraction == pytest.approx(by["dprk.crude_oil.2397:tonnes"].fraction)
    assert a.binding == "dprk.crude_oil.2397"  # ties go to the primary measure
    assert ledger.total("dprk.crude_oil.2397:tonnes", "2017-12-22/2018-12-21") == 100_000
    nxt = assess(CRUDE, ledger, q(1), on=D(2018, 12, 22))
    assert nxt.period == "2018-12-22/2019-12-21" and nxt.total_before == 0


def test_coal_2017_whichever_is_lower_value_binds(ledger):
    item = CapInput(0, q(1_000_000, "tonnes"), value=Money(amount=60_000_000))
    a = record(ledger, "K1", "2017-02-01", COAL_2017, item)
    assert a.binding == "dprk.coal.2321.2017:usd" and a.unit == "usd"
    assert a.fraction == pytest.approx(60_000_000 / 400_870_018)
    # the tonnes are far from their limit, but the dollars pass 95 per cent
    b = assess(
        COAL_2017,
        ledger,
        CapInput(0, q(1_000_000, "tonnes"), value=Money(amount=322_000_000)),
        on=D(2017, 6, 1),
    )
    by = {m.ledger_id: m for m in b.measures}
    assert by["dprk.coal.2321.2017"].fraction < 0.3
    assert b.crossed_thresholds == (0.75, 0.9, 0.95)
    assert not b.over_cap
    c = assess(
        COAL_2017, ledger, CapInput(0, q(1, "tonnes"), value=Money(amount=341_000_000)), on=D(2017, 6, 1)
    )
    assert c.over_cap and c.binding.endswith(":usd")


def test_coal_2017_tonnes_bind_when_coal_is_cheap(ledger):
    a = assess(
        COAL_2017,
        ledger,
        CapInput(0, q(7_000_000, "tonnes"), value=Money(amount=100_000_000)),
        on=D(2017, 3, 1),
    )
    assert a.binding == "dprk.coal.2321.2017" and a.crossed_thresholds == (0.75, 0.9)


def test_coal_without_value_is_judged_on_tonnes_and_says_so(ledger):
    a = assess(COAL_2017, ledger, q(100, "tonnes"), on=D(2017, 3, 1))
    assert [m.ledger_id for m in a.measures] == ["dprk.coal.2321.2017"]
    assert a.unassessed and "USD" in a.unassessed[0]


def test_coal_value_in_another_currency_is_refused(ledger):
    with pytest.raises(InvalidInput, match="EUR"):
        assess(
            COAL_2017,
            ledger,
            CapInput(0, q(100, "tonnes"), value=Money(amount=5, currency="EUR")),
            on=D(2017, 3, 1),
        )


def test_coal_2016_pro_rata_period_and_the_caps_end(ledger):
    a = assess(
        COAL_2016, ledger, CapInput(0, q(1_000_866, "tonnes"), value=Money(amount=1)), on=D(2016, 12, 31)
    )
    assert a.period == "2016-11-30/2016-12-31" and a.fraction == 1.0 and not a.over_cap
    with pytest.raises(InvalidInput, match="after the cap ends"):
        assess(COAL_2016, ledger, q(1, "tonnes"), on=D(2017, 1, 1))
    with pytest.raises(InvalidInput, match="after the cap ends"):
        assess(COAL_2017, ledger, q(1, "tonnes"), on=D(2017, 8, 5))  # 2371 replaced the cap with a ban


def test_reassessing_a_recorded_transfer_does_not_count_it_twice(ledger):
    record(ledger, "A", "2018-02-01", REFINED, q(400_000))
    a = assess(REFINED, ledger, q(400_000), on=D(2018, 2, 1), exclude_transfer="A")
    assert a.total_before == 0 and not a.over_cap


def test_without_a_ledger_the_shipment_is_judged_alone():
    a = assess(REFINED, None, q(600_000), on=D(2018, 2, 1))
    assert a.over_cap and a.total_before == 0


def test_assessment_to_dict_is_json_ready(ledger):
    import json

    a = assess(COAL_2017, ledger, CapInput(0, q(10, "tonnes"), value=Money(amount=900)), on=D(2017, 3, 1))
    d = json.loads(json.dumps(a.to_dict()))
    assert d["cap_id"] == "dprk.coal.2321.2017" and len(d["measures"]) == 2


@pytest.mark.parametrize(
    "patch",
    [
        {"extra": 1},
        {"limit": 0},
        {"limit": -5},
        {"thresholds": [0.9, 0.75]},
        {"thresholds": [0, 0.5]},
        {"thresholds": [1.5]},
        {"period": {"kind": "twelve_months"}},
        {"period": {"kind": "monthly"}},
        {"alt_limit": {"value": 1, "unit": "barrels"}},
        {"id": "Has Spaces"},
        {"quantity": {"unit": "gallons"}},
    ],
)
def test_cap_spec_is_strict(patch):
    data = REFINED.model_dump(mode="json") | patch
    with pytest.raises(ValidationError):
        CapSpec.model_validate(data)


def test_cap_spec_is_frozen_and_round_trips():
    with pytest.raises(ValidationError):
        REFINED.limit = Decimal(1)  # type: ignore[misc]
    assert CapSpec.model_validate(COAL_2017.model_dump(mode="json")) == COAL_2017
    assert "properties" in CapSpec.model_json_schema()
