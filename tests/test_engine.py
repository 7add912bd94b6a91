"""The engine on the founding deal, the lawful fixtures and the golden decisions."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from support import FIXTURES, load_fixture
from regen_golden import fixtures, golden_path, normalised
from sanctions.engine import Engine
from sanctions.explain import to_json

LAWFUL = sorted(p.name for p in FIXTURES.glob("lawful_*.json"))


def evaluators():
    from support import evaluator_params

    return evaluator_params("reference", "durable")


@pytest.fixture(scope="module", params=evaluators())
def engine(request, rulebook):
    return Engine(rulebook, evaluator=request.param)


def test_at_least_six_lawful_fixtures():
    assert len(LAWFUL) >= 6


@pytest.mark.parametrize("fixture", [p.name for p in fixtures()])
def test_golden_decision(engine, fixture):
    decision = engine.check(load_fixture(fixture))
    golden = golden_path(FIXTURES / fixture).read_text()
    assert normalised(to_json(decision)) == golden, "regenerate with python tests/regen_golden.py and review"


def test_founding_deal_judged_leg_by_leg(engine):
    d = engine.check(load_fixture("dprk_russia_arms_for_oil.json"))
    assert d.verdict == "prohibited"
    by_leg: dict[str, set[str]] = {}
    for f in d.findings:
        by_leg.setdefault(f.transfer_id, set()).add(f.rule_id)
    assert "dprk.arms.procurement.heavy" in by_leg["L1-shells"]
    assert "dprk.wmd.procurement" in by_leg["L2-missiles"]
    assert {"dprk.petroleum.refined", "dprk.deal.consideration"} <= by_leg["L3-oil"]
    assert {"dprk.wmd.supply", "dprk.wmd.services", "dprk.deal.consideration"} <= by_leg["L4-satellite"]
    assert {"dprk.arms.services", "dprk.deal.consideration"} <= by_leg["L5-military-assistance"]
    resolutions = {c.resolution for f in d.findings for c in f.citations}
    assert "1718 (2006)" in resolutions and {"1874 (2009)", "2397 (2017)"} <= resolutions
    shells = next(f for f in d.findings if f.rule_id == "dprk.arms.procurement.heavy")
    assert "4,800,000 rounds" in shells.explanation and "Rajin (KP)" in shells.explanation
    assert {e.field for e in shells.evidence} >= {"transfer.origin_country", "item.categories"}
    deal = [f for f in d.findings if f.rule_id == "dprk.deal.consideration"]
    assert {(f.related["counter_leg"], f.related["leg"]) for f in deal} == {
        ("L3-oil", "L1-shells"), ("L3-oil", "L2-missiles"), ("L4-satellite", "L1-shells"),
        ("L5-military-assistance", "L1-shells")}


@pytest.mark.parametrize("fixture", LAWFUL)
def test_lawful_fixture_is_not_prohibited(engine, fixture):
    d = engine.check(load_fixture(fixture))
    assert d.verdict != "prohibited", [f.rule_id for f in d.findings]


def test_rajin_coal_says_which_exemption_cleared_it(engine):
    d = engine.check(load_fixture("lawful_russian_coal_via_rajin.json"))
    exempted = [c for c in d.considered if c.status == "exempted"]
    assert [(c.rule_id, c.exemption["id"]) for c in exempted] == [("dprk.exports.coal.2371", "rajin-transit")]
    assert exempted[0].exemption["citations"][0]["resolution"] == "2371 (2017)"


def test_coal_before_ban_is_reported_not_in_force(engine):
    d = engine.check(load_fixture("lawful_dprk_coal_before_ban.json"))
    nif = {c.rule_id for c in d.considered if c.status == "not_in_force"}
    assert "dprk.exports.coal.2371" in nif
    # judged as of today the same shipment is banned
    d2 = engine.check(load_fixture("lawful_dprk_coal_before_ban.json"), as_of=dt.date(2024, 1, 1))
    assert d2.verdict == "prohibited"


def test_deal_without_links_joins_by_direction(engine):
    from sanctions.model.records import parse_input

    data = json.loads((FIXTURES / "dprk_russia_arms_for_oil.json").read_text())
    data["links"] = []
    d = engine.check(parse_input(data))
    pairs = {(f.related["counter_leg"], f.related["leg"]) for f in d.findings if f.scope == "deal"}
    assert ("L3-oil", "L1-shells") in pairs and ("L1-shells", "L4-satellite") in pairs
    assert all(not f.related["declared_link"] for f in d.findings if f.scope == "deal")


def test_every_rule_is_accounted_for(engine, rulebook):
    d = engine.check(load_fixture("lawful_untouched_trade.json"))
    assert d.considered == () and list(d.not_matched) == sorted(rulebook.rules)
    d = engine.check(load_fixture("dprk_russia_arms_for_oil.json"))
    accounted = {c.rule_id for c in d.considered} | set(d.not_matched)
    assert accounted == set(rulebook.rules) and not set(d.not_matched) & {f.rule_id for f in d.findings}


def test_deterministic_json(engine):
    a = to_json(engine.check(load_fixture("dprk_russia_arms_for_oil.json")))
    b = to_json(engine.check(load_fixture("dprk_russia_arms_for_oil.json")))
    assert a == b


def test_category_disagreement_is_noted_and_both_tested(engine):
    from sanctions.model.records import parse_transfer

    t = parse_transfer({"id": "t", "date": "2024-01-01", "supplier": {"name": "A", "country": "KP"},
                        "recipient": {"name": "B", "country": "RU"}, "origin_country": "KP",
                        "destination_country": "RU",
                        "items": [{"description": "Shells declared as machinery", "hs_code": "930690",
                                   "category": "machinery"}]})
    d = engine.check(t)
    assert any("disagrees with HS 930690" in n for n in d.notes)
    assert "dprk.arms.procurement.heavy" in {f.rule_id for f in d.findings}


def test_threads_get_the_same_decisions(engine):
    subjects = [load_fixture(p.name) for p in fixtures()]
    expected = [to_json(engine.check(s)) for s in subjects]
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work():
        try:
            results.append([to_json(engine.check(s)) for s in subjects for _ in range(5)][::5])
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == expected for r in results)


def test_reference_fallback_is_said(rulebook):
    e = Engine(rulebook, evaluator="reference")
    d = e.check(load_fixture("lawful_food_aid.json"))
    assert d.evaluator == "reference"
