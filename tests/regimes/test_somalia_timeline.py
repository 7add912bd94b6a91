"""Somalia's arms embargo over its whole life: 733 (1992) on everyone, the Government's forces let in from 2013
with advance notification, and the 2713/2714 regime from 1 December 2023 (Government outside the embargo)."""

from __future__ import annotations

import pytest

from sanctions.engine import Engine
from sanctions.model.records import parse_transfer


@pytest.fixture(scope="module", params=["reference", "batch", "durable"])
def engine(request):
    return Engine(evaluator=request.param)


def rifles(date, *, government, notified=False):
    recipient = ({"name": "Somali National Army", "country": "SO", "kind": "armed_forces"} if government
                 else {"name": "Kismayo trading house", "country": "SO"})
    return parse_transfer({
        "id": "rifles", "date": date, "supplier": {"name": "Arms dealer", "country": "YE"}, "recipient": recipient,
        "origin_country": "YE", "destination_country": "SO",
        **({} if government else {"end_user": {"kind": "armed_group", "organisation": "Al-Shabaab"}}),
        **({"notifications": [{"date": "2000-01-01" if date < "2013" else "2013-03-01"}]} if notified else {}),
        "items": [{"description": "AK-pattern rifles", "category": "small_arms_light_weapons"}]})


def rules(d):
    return sorted((f.rule_id, f.outcome) for f in d.findings)


@pytest.mark.parametrize("date", ["1992-01-23", "2005-05-01", "2019-06-01", "2023-11-30"])
def test_arms_to_al_shabaab_before_the_2713_regime_breach_733(engine, date):
    d = engine.check(rifles(date, government=False))
    assert rules(d) == [("somalia.arms.supply.733", "prohibited")]
    assert [(c.resolution, c.paragraph, c.verified) for c in d.findings[0].citations] == [("733 (1992)", "OP5", True)]


def test_the_day_before_733_is_clear(engine):
    assert engine.check(rifles("1992-01-22", government=False)).verdict == "clear"


def test_from_1_december_2023_the_2713_regime_applies(engine):
    assert rules(engine.check(rifles("2023-12-01", government=False))) == [("somalia.arms.supply", "prohibited")]


@pytest.mark.parametrize("date", ["2010-06-01", "2013-03-05"])
def test_the_government_was_under_the_embargo_until_the_2013_suspension(engine, date):
    assert rules(engine.check(rifles(date, government=True, notified=True))) == [("somalia.arms.supply.733",
                                                                                  "prohibited")]


@pytest.mark.parametrize("date", ["2013-03-06", "2019-06-01", "2023-11-30"])
def test_from_2013_the_governments_forces_need_a_notification_only(engine, date):
    notified = engine.check(rifles(date, government=True, notified=True))
    assert notified.verdict == "clear"
    assert [c.status for c in notified.considered if c.rule_id == "somalia.arms.supply.733"] == ["exempted"]
    silent = engine.check(rifles(date, government=True))
    assert rules(silent) == [("somalia.arms.government_notification", "notification_required")]
    assert silent.findings[0].duty is not None


def test_after_2714_the_government_needs_no_notification_here(engine):
    assert engine.check(rifles("2024-06-01", government=True)).verdict == "clear"
