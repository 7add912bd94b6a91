"""Every rule's own examples: each ``fires`` example makes a finding of that rule, each ``clears`` does not.

A rule needs at least one of each, except deal rules (judged by the deal fixtures) and rules that test
screening facts (``transfer.designated_*``), which a plain transfer cannot carry: those are judged by the
screening fixtures. The full list of rule ids is pinned, so a rule dropped or renamed fails here.
"""

from __future__ import annotations

import pytest

from sanctions.engine import Engine
from sanctions.rulebook.examples import example_transfer
from sanctions.rulebook import Rule, load_rulebook

RULEBOOK = load_rulebook()
ENGINE = Engine(RULEBOOK, evaluator="reference")
SCREENING_FIELDS = ("transfer.designated_regimes", "transfer.designated_vessel", "transfer.vessel_owner_listed",
                    "transfer.screened")

RULE_IDS = [
    "dprk.arms.dual_use_conventional",
    "dprk.arms.procurement.all",
    "dprk.arms.procurement.heavy",
    "dprk.arms.services",
    "dprk.arms.supply.all",
    "dprk.arms.supply.heavy",
    "dprk.arms.supply.salw_notice",
    "dprk.aviation.overflight",
    "dprk.deal.consideration",
    "dprk.exports.2371_wind_down.review",
    "dprk.exports.2397_op6",
    "dprk.exports.coal.2270",
    "dprk.exports.coal.2321_cap",
    "dprk.exports.coal.2371",
    "dprk.exports.fishing_rights.2371",
    "dprk.exports.fishing_rights.2397",
    "dprk.exports.iron.2321",
    "dprk.exports.iron_steel.review",
    "dprk.exports.lead.2371",
    "dprk.exports.metals.2321",
    "dprk.exports.minerals.2270",
    "dprk.exports.seafood.2371",
    "dprk.exports.statues.2321",
    "dprk.exports.textiles.2375",
    "dprk.exports.textiles.2375_wind_down.review",
    "dprk.finance.banks",
    "dprk.finance.bulk_cash",
    "dprk.finance.grants.1874",
    "dprk.finance.missions.2321",
    "dprk.finance.services.1874",
    "dprk.finance.services.2094",
    "dprk.finance.trade_support.1874",
    "dprk.finance.trade_support.2321",
    "dprk.imports.2397_industrial",
    "dprk.imports.helicopters_vessels.2321",
    "dprk.imports.vessels.2397",
    "dprk.investment.joint_ventures.2371",
    "dprk.investment.joint_ventures.2375",
    "dprk.luxury.1718",
    "dprk.luxury.2094_annex_iv",
    "dprk.luxury.2270_annex",
    "dprk.luxury.2270_snowmobiles",
    "dprk.luxury.2321_rugs_tapestries",
    "dprk.luxury.2321_tableware",
    "dprk.maritime.bunkering",
    "dprk.maritime.charter_dprk_flag.2371",
    "dprk.maritime.crew_from_dprk",
    "dprk.maritime.deregistration.2397",
    "dprk.maritime.flag_services.2270",
    "dprk.maritime.flag_services.2321",
    "dprk.maritime.insurance.2397",
    "dprk.maritime.leasing_crew.2270",
    "dprk.maritime.leasing_crew.2321",
    "dprk.maritime.port_entry.designated_vessel",
    "dprk.maritime.port_entry.owner.designated_vessel",
    "dprk.maritime.ship_to_ship",
    "dprk.military.catchall",
    "dprk.persons.asset_freeze",
    "dprk.persons.asset_freeze.1718_op9",
    "dprk.persons.expulsion.2270",
    "dprk.petroleum.aviation_fuel",
    "dprk.petroleum.condensates_ngl",
    "dprk.petroleum.crude",
    "dprk.petroleum.crude.2375_freeze",
    "dprk.petroleum.refined",
    "dprk.petroleum.refined.2375",
    "dprk.petroleum.refined.humanitarian",
    "dprk.petroleum.refined.notification",
    "dprk.petroleum.refined.procurement_by_dprk",
    "dprk.services.hosting_trainers",
    "dprk.services.scitech_cooperation",
    "dprk.services.specialised_teaching",
    "dprk.services.workers.2371_freeze",
    "dprk.services.workers.2375",
    "dprk.services.workers.2397",
    "dprk.services.workers.2397_repatriation",
    "dprk.wmd.catchall",
    "dprk.wmd.procurement",
    "dprk.wmd.services",
    "dprk.wmd.supply",
]


# The other UN regimes (issue 11): Iran and the arms embargoes, one folder each under rules/.
REGIME_RULE_IDS = [
    "car.arms.armed_groups",
    "car.arms.end_user_not_stated",
    "car.arms.renewal_unconfirmed",
    "car.arms.territorial",
    "car.persons.asset_freeze",
    "drc.arms.end_user_not_stated",
    "drc.arms.non_governmental",
    "drc.arms.renewal_unconfirmed",
    "drc.persons.asset_freeze",
    "guinea_bissau.persons.travel_ban",
    "haiti.arms.renewal_unconfirmed",
    "haiti.arms.territorial",
    "haiti.arms.territorial.2699",
    "haiti.persons.asset_freeze",
    "iran.arms.procurement.1747",
    "iran.arms.procurement.2231",
    "iran.arms.procurement.snapback",
    "iran.arms.supply.heavy.1929",
    "iran.arms.supply.heavy.2231",
    "iran.arms.supply.heavy.snapback",
    "iran.missiles.supply.1737",
    "iran.missiles.supply.2231",
    "iran.missiles.supply.snapback",
    "iran.nuclear.supply.1737",
    "iran.nuclear.supply.2231",
    "iran.nuclear.supply.snapback",
    "iran.persons.asset_freeze.1737",
    "iran.persons.asset_freeze.2231",
    "iran.persons.asset_freeze.snapback",
    "iran.wmd.procurement.1737",
    "iran.wmd.procurement.snapback",
    "iraq.arms.end_user_not_stated",
    "iraq.arms.non_government",
    "iraq.persons.former_regime_assets",
    "isil_alqaida.arms.listed",
    "isil_alqaida.persons.asset_freeze",
    "lebanon.arms.non_state",
    "libya.arms.procurement",
    "libya.arms.supply",
    "libya.persons.asset_freeze",
    "libya.petroleum.illicit_exports",
    "somalia.arms.government_notification",
    "somalia.arms.renewal_unconfirmed",
    "somalia.arms.supply",
    "somalia.arms.supply.733",
    "somalia.charcoal",
    "somalia.persons.asset_freeze",
    "south_sudan.arms.renewal_unconfirmed",
    "south_sudan.arms.supply",
    "south_sudan.persons.asset_freeze",
    "sudan.arms.darfur",
    "sudan.arms.region_not_stated",
    "sudan.arms.renewal_unconfirmed",
    "sudan.persons.asset_freeze",
    "taliban.arms.listed",
    "taliban.persons.asset_freeze",
    "yemen.arms.houthis",
    "yemen.arms.listed",
    "yemen.persons.asset_freeze",
    "yemen.persons.renewal_unconfirmed",
]
RULE_IDS = sorted(RULE_IDS + REGIME_RULE_IDS)


def _needs_examples(rule: Rule) -> bool:
    return rule.scope != "deal" and not any(k.removeprefix("has:").startswith(SCREENING_FIELDS) for k in rule.keys)


def _cases(kind: str) -> list[tuple[str, int]]:
    return [(rid, i) for rid, rule in RULEBOOK.rules.items() for i in range(len(rule.spec.examples.get(kind, [])))]


def test_rule_ids_are_pinned() -> None:
    assert sorted(RULEBOOK.rules) == RULE_IDS, (
        "the rulebook's ids changed; if on purpose, update RULE_IDS in this test")


# Deal and screening rules cannot be written as a single example transfer; each is named here with the
# tests that make it fire and that hold its nearest lawful case clear, and this list is checked.
JUDGED_ELSEWHERE = {
    "dprk.deal.consideration": "tests/test_engine.py::test_founding_deal_judged_leg_by_leg, "
                               "tests/test_engine.py::test_deal_without_links_joins_by_direction",
    "dprk.persons.asset_freeze": "tests/screening/test_screening_chain.py::test_designated_entity_spelt_as_a_trader_would, "
                                 "tests/screening/test_screening_chain.py::test_nearest_lawful_case_an_unlisted_recipient",
    "dprk.persons.asset_freeze.1718_op9": "tests/rulebook/test_missing_measures.py::test_E5_asset_freeze_notified_payment_is_review_not_prohibited",
    "dprk.persons.expulsion.2270": "tests/rulebook/test_missing_measures.py::test_expulsion_review_for_dprk_official_abroad_with_listed_party",
    "dprk.maritime.port_entry.designated_vessel": "tests/rulebook/test_missing_measures.py::test_port_call_at_vostochny_by_a_designated_vessel_fires_citing_the_listing",
    "dprk.maritime.port_entry.owner.designated_vessel": "tests/rulebook/test_missing_measures.py::test_port_call_by_a_vessel_of_a_listed_owner",
    "dprk.maritime.insurance.2397": "tests/rulebook/test_missing_measures.py::test_insuring_a_designated_vessel_of_any_flag",
    "dprk.maritime.deregistration.2397": "tests/rulebook/test_missing_measures.py::test_designated_vessel_under_a_flag_asks_for_deregistration",
}


# Listed-party rules of the other regimes: a screening hit against the list is their whole trigger.
JUDGED_ELSEWHERE.update({
    "car.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[car.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[car.persons.asset_freeze]",
    "drc.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[drc.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[drc.persons.asset_freeze]",
    "guinea_bissau.persons.travel_ban": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[guinea_bissau.persons.travel_ban], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[guinea_bissau.persons.travel_ban]",
    "haiti.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[haiti.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[haiti.persons.asset_freeze]",
    "iran.persons.asset_freeze.1737": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[iran.persons.asset_freeze.1737], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[iran.persons.asset_freeze.1737]",
    "iran.persons.asset_freeze.2231": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[iran.persons.asset_freeze.2231], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[iran.persons.asset_freeze.2231]",
    "iran.persons.asset_freeze.snapback": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[iran.persons.asset_freeze.snapback], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[iran.persons.asset_freeze.snapback]",
    "iraq.persons.former_regime_assets": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[iraq.persons.former_regime_assets], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[iraq.persons.former_regime_assets]",
    "isil_alqaida.arms.listed": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[isil_alqaida.arms.listed], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[isil_alqaida.arms.listed]",
    "isil_alqaida.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[isil_alqaida.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[isil_alqaida.persons.asset_freeze]",
    "libya.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[libya.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[libya.persons.asset_freeze]",
    "somalia.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[somalia.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[somalia.persons.asset_freeze]",
    "south_sudan.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[south_sudan.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[south_sudan.persons.asset_freeze]",
    "sudan.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[sudan.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[sudan.persons.asset_freeze]",
    "taliban.arms.listed": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[taliban.arms.listed], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[taliban.arms.listed]",
    "taliban.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[taliban.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[taliban.persons.asset_freeze]",
    "yemen.arms.listed": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[yemen.arms.listed], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[yemen.arms.listed]",
    "yemen.persons.asset_freeze": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[yemen.persons.asset_freeze], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[yemen.persons.asset_freeze]",
    "yemen.persons.renewal_unconfirmed": "tests/screening/test_regimes_screening.py::test_listed_party_fires_its_own_regimes_rule[yemen.persons.renewal_unconfirmed], "
        "tests/screening/test_regimes_screening.py::test_nearest_lawful_case_an_unlisted_party[yemen.persons.renewal_unconfirmed]",
})


def test_rules_without_examples_are_judged_elsewhere() -> None:
    assert sorted(rid for rid, r in RULEBOOK.rules.items() if not _needs_examples(r)) == sorted(JUDGED_ELSEWHERE)


def test_the_tests_named_for_rules_without_examples_exist() -> None:
    """Each test JUDGED_ELSEWHERE names is a test function in the file it gives (a wrong name covers nothing)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    defined: dict[str, set[str]] = {}
    missing = []
    for rule_id, nodes in sorted(JUDGED_ELSEWHERE.items()):
        for node in (n.strip() for n in nodes.split(", ")):
            path, _, name = node.partition("::")
            if path not in defined:
                file = root / path
                defined[path] = ({f.name for f in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
                                  if isinstance(f, ast.FunctionDef)} if file.is_file() else set())
            if name.partition("[")[0] not in defined[path]:
                missing.append(f"{rule_id}: {node}")
    assert not missing, missing


@pytest.mark.parametrize("rule_id", sorted(rid for rid, r in RULEBOOK.rules.items() if _needs_examples(r)))
def test_rule_has_fires_and_clears_examples(rule_id: str) -> None:
    rule = RULEBOOK.rules[rule_id]
    assert rule.spec.examples.get("fires"), f"{rule_id} ({rule.file}) has no 'fires' example"
    assert rule.spec.examples.get("clears"), f"{rule_id} ({rule.file}) has no 'clears' example"


@pytest.mark.parametrize(("rule_id", "index"), _cases("fires"))
def test_fires_example_fires(rule_id: str, index: int) -> None:
    t = example_transfer(rule_id, "fires", index, RULEBOOK.rules[rule_id].spec.examples["fires"][index])
    decision = ENGINE.check(t)
    ids = {f.rule_id for f in decision.findings}
    assert rule_id in ids, f"fires[{index}] of {rule_id} made findings {sorted(ids)}; considered: {decision.considered}"


@pytest.mark.parametrize(("rule_id", "index"), _cases("clears"))
def test_clears_example_clears(rule_id: str, index: int) -> None:
    t = example_transfer(rule_id, "clears", index, RULEBOOK.rules[rule_id].spec.examples["clears"][index])
    ids = {f.rule_id for f in ENGINE.check(t).findings}
    assert rule_id not in ids, f"clears[{index}] of {rule_id} still makes a finding of it"


@pytest.mark.parametrize("rule_id", sorted(RULEBOOK.rules))
def test_replacements_are_symmetric(rule_id: str) -> None:
    spec = RULEBOOK.rules[rule_id].spec
    for other in spec.replaces:
        assert rule_id in RULEBOOK.rules[other].spec.replaced_by, f"{rule_id} replaces {other}, which does not say so"
    for other in spec.replaced_by:
        assert rule_id in RULEBOOK.rules[other].spec.replaces, f"{rule_id} is replaced by {other}, which does not say so"
