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
