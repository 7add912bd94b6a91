"""The strategies themselves: valid models, constraints honoured, bad arguments refused eagerly."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from sanctions.model import hs
from sanctions import strategies as S
from sanctions.model.records import Deal, Item, Party, Transfer, Vessel, imo_check_digit_ok


@pytest.mark.parametrize("call, words", [
    (lambda: S.parties(countries=["XX"]), "countries: 'XX'"),
    (lambda: S.parties(countries=["kp"]), "did you mean 'KP'"),
    (lambda: S.parties(countries="KP"), "countries='KP'"),
    (lambda: S.parties(kinds=["firm"]), "kinds: 'firm'"),
    (lambda: S.items(categories=["petrol"]), "categories: 'petrol'"),
    (lambda: S.items(hs_chapters=["77"]), "hs_chapters: '77'"),
    (lambda: S.items(hs_chapters=["2710"]), "hs_chapters: '2710'"),
    (lambda: S.items(categories=["coal"], hs_chapters=["93"]), "leave no HS code"),
    (lambda: S.vessels(flags=["ZZ"]), "flags: 'ZZ'"),
    (lambda: S.vessels(with_imo="yes"), "with_imo='yes'"),
    (lambda: S.transfers(min_items=3, max_items=1), "min_items=3 is greater than max_items=1"),
    (lambda: S.transfers(min_items=-1), "min_items=-1"),
    (lambda: S.transfers(min_date=dt.date(2020, 1, 1), max_date=dt.date(2019, 1, 1)), "min_date=2020-01-01"),
    (lambda: S.transfers(min_date="2020-01-01"), "min_date='2020-01-01'"),
    (lambda: S.transfers(kinds=["weapons"]), "kinds: 'weapons'"),
    (lambda: S.transfers(purposes=[]), "purposes=[] is empty"),
    (lambda: S.deals(min_legs=0), "min_legs=0"),
    (lambda: S.deals(min_legs=3, max_legs=2), "min_legs=3 is greater than max_legs=2"),
    (lambda: S.deals(legs=[1, 2]), "legs=[1, 2]"),
    (lambda: S.violating("dprk.arms.supply.hevy"), "did you mean 'dprk.arms.supply.heavy'"),
    (lambda: S.clearing("no.such.rule"), "rule_id='no.such.rule'"),
    (lambda: S.violating("dprk.deal.consideration"), "no 'fires' examples"),
])
def test_bad_arguments_are_refused_when_the_strategy_is_made(call, words):
    with pytest.raises(InvalidArgument) as err:
        call()  # eager: no example is drawn
    assert words in str(err.value)


@given(st.from_type(Transfer), st.from_type(Deal), st.from_type(Item), st.from_type(Party), st.from_type(Vessel))
def test_registered_types_draw_valid_models(t, d, i, p, v):
    for model in (t, d, i, p, v):
        assert type(model).model_validate(model.model_dump()) == model


@given(S.vessels(with_imo=True))
def test_imo_numbers_have_correct_check_digits(vessel):
    assert imo_check_digit_ok(vessel.imo)


@given(S.items(hs_chapters=["27", "93"]))
def test_hs_codes_exist_and_stay_in_the_chapters(item):
    assert item.hs_code[:2] in ("27", "93")
    assert hs.classify(item.hs_code) is not None


@given(S.items(categories=["coal", "refined_petroleum"]))
def test_declared_category_agrees_with_the_hs_code(item):
    assert item.category.value in ("coal", "refined_petroleum")
    if item.hs_code:
        assert hs.classify(item.hs_code) == item.category


@given(S.transfers(supplier_countries=["RU"], recipient_countries=["KP"], kinds=["goods"], min_items=2, max_items=3,
                   min_date=dt.date(2018, 1, 1), max_date=dt.date(2018, 12, 31), with_vessel=True))
def test_transfer_constraints_are_honoured(t):
    assert t.supplier.country == "RU" and t.recipient.country == "KP"
    assert t.kind.value == "goods" and 2 <= len(t.items) <= 3 and t.vessel is not None
    assert dt.date(2018, 1, 1) <= t.start <= t.end <= dt.date(2018, 12, 31)


@given(S.deals(min_legs=2, max_legs=3))
def test_deal_leg_ids_are_unique(d):
    assert len({t.id for t in d.transfers}) == len(d.transfers) >= 2
