"""An approval counts only for the measure its grantor administers: a committee exemption from one regime does
not clear another regime's rule (transfer.exemption_grantors)."""

from __future__ import annotations

import pytest

from sanctions.engine import Engine
from sanctions.model.records import parse_transfer


@pytest.fixture(scope="module", params=["reference", "batch", "durable"])
def engine(request):
    return Engine(evaluator=request.param)


def tanks_to_iran(granted_by):
    return parse_transfer({
        "id": "t", "date": "2018-05-01", "supplier": {"name": "Supplier", "country": "RU"},
        "recipient": {"name": "Ministry of Defence of Iran", "country": "IR", "kind": "government_body"},
        "origin_country": "RU", "destination_country": "IR",
        "exemptions": [{"reference": "X-1", "granted_by": granted_by}],
        "items": [{"description": "Tank spare parts", "category": "unroca_i_battle_tanks"}]})


def test_a_council_approval_clears_the_2231_requirement(engine):
    d = engine.check(tanks_to_iran("Security  council"))
    assert d.verdict == "clear"
    assert [c.status for c in d.considered if c.rule_id == "iran.arms.supply.heavy.2231"] == ["exempted"]


def test_another_committees_exemption_does_not(engine):
    d = engine.check(tanks_to_iran("1718 Committee"))
    assert d.verdict == "authorisation_required"
    assert [f.rule_id for f in d.findings] == ["iran.arms.supply.heavy.2231"]


def coal_from_dprk(granted_by):
    exemption = {"reference": "1718/EX/1"} | ({"granted_by": granted_by} if granted_by else {})
    return parse_transfer({
        "id": "c", "date": "2024-03-01", "supplier": {"name": "Korea Coal", "country": "KP"},
        "recipient": {"name": "Buyer", "country": "CN"}, "origin_country": "KP", "destination_country": "CN",
        "exemptions": [exemption],
        "items": [{"description": "Anthracite", "hs_code": "270111", "quantity": {"value": 500, "unit": "tonnes"}}]})


@pytest.mark.parametrize("granted_by", [None, "1718 Committee", "1718  committee"])
def test_a_1718_committee_exemption_clears_a_dprk_measure(engine, granted_by):
    d = engine.check(coal_from_dprk(granted_by))  # granted_by defaults to the 1718 Committee
    assert d.verdict == "clear"
    assert [c.status for c in d.considered if c.rule_id == "dprk.exports.coal.2371"] == ["exempted"]


@pytest.mark.parametrize("granted_by", ["2127 Committee", "Security Council", "1737 Committee"])
def test_another_bodys_exemption_does_not_clear_a_dprk_measure(engine, granted_by):
    d = engine.check(coal_from_dprk(granted_by))
    assert d.verdict == "prohibited"
    assert "dprk.exports.coal.2371" in [f.rule_id for f in d.findings]
