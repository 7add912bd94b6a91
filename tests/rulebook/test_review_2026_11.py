"""The review of the DPRK rulebook (shared/legal/review_2026-11.md), finding by finding.

Each test is named after a finding (E1-E11) and fails on the rulebook as it was before the review: it pins
what a source settled (a paragraph, a date, a figure) and what is only a reading, made visible as a
``review`` outcome or a rule's ``assumption``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanctions.ledger.capcheck import judge
from sanctions.ledger.store import Ledger
from sanctions.model import hs
from sanctions.model.records import parse_transfer
from sanctions.model.vocab import Category


def transfer(**over: Any):
    data: dict[str, Any] = {
        "id": "t", "date": "2024-01-15",
        "supplier": {"name": "Supplier", "country": "CN"}, "recipient": {"name": "Recipient", "country": "KP"},
        "origin_country": "CN", "destination_country": "KP", "items": [],
    }
    data.update(over)
    return parse_transfer(data)


def from_dprk(date: str, item: dict[str, Any], **over: Any):
    return transfer(date=date, supplier={"name": "Korea Trading", "country": "KP"},
                    recipient={"name": "Importer", "country": "CN"}, origin_country="KP", destination_country="CN",
                    items=[item], **over)


def findings(engine, t, **kw) -> dict[str, Any]:
    return {f.rule_id: f for f in engine.check(t, **kw).findings}


def cites(f) -> set[str]:
    return {f"{c.resolution.split()[0]} {c.paragraph}" for c in f.citations}


FISHING = {"description": "Squid fishing licence in DPRK waters", "category": "fishing_rights"}


def test_E1_fishing_rights_cite_2397_op6_clarifying_2371_op9(reference_engine):
    after = findings(reference_engine, from_dprk("2018-03-01", FISHING, kind="financial"))
    f = after["dprk.exports.fishing_rights.2397"]
    assert f.outcome == "prohibited"
    assert cites(f) == {"2397 OP6", "2371 OP9"} and all(c.verified for c in f.citations)
    # the clarification reaches back to 2371 OP9: before 22 Dec 2017 it is flagged, as a reading, not cleared
    before = findings(reference_engine, from_dprk("2017-09-01", FISHING, kind="financial"))
    g = before["dprk.exports.fishing_rights.2371"]
    assert g.outcome == "review" and "Assumption:" in g.explanation
    assert "dprk.exports.fishing_rights.2397" not in before
    assert not {r for r in findings(reference_engine, from_dprk("2017-08-04", FISHING, kind="financial"))
                if "fishing_rights" in r}


SEAFOOD = {"description": "Frozen crab", "hs_code": "030614"}
EXEMPTED = [{"reference": "1718/EXEMPT/2017/042"}]


@pytest.mark.parametrize("rule_id, item, extra", [
    ("dprk.exports.seafood.2371", SEAFOOD, {}),
    ("dprk.exports.lead.2371", {"description": "Lead concentrate", "hs_code": "260700"}, {}),
])
def test_E2_committee_exemption_for_2371_measures_rests_on_2375_op26_or_2397_op25(reference_engine, rule_id, item,
                                                                                 extra):
    rule = reference_engine.rulebook.rules[rule_id]
    bases = {(c.resolution, c.paragraph) for ex in rule.spec.exemptions for c in ex.legal_basis}
    assert ("2321 (2016)", "OP46") not in bases  # 2321 OP46 reaches the resolutions up to 2321 only
    assert {("2375 (2017)", "OP26"), ("2397 (2017)", "OP25")} <= bases
    for date, basis in (("2017-10-02", "2375 (2017) OP26"), ("2018-03-01", "2397 (2017) OP25")):
        d = reference_engine.check(from_dprk(date, item, exemptions=EXEMPTED, **extra))
        (ex,) = [c for c in d.considered if c.rule_id == rule_id and c.status == "exempted"]
        assert f"{ex.exemption['citations'][0]['resolution']} {ex.exemption['citations'][0]['paragraph']}" == basis


def test_E2_charter_of_dprk_flag_vessels_exemption_basis(reference_engine):
    rule = reference_engine.rulebook.rules["dprk.maritime.charter_dprk_flag.2371"]
    bases = {(c.resolution, c.paragraph) for ex in rule.spec.exemptions for c in ex.legal_basis}
    assert ("2321 (2016)", "OP46") not in bases and ("2375 (2017)", "OP26") in bases


WOOD = {"description": "Pine logs", "hs_code": "440320"}
CONTRACT = {"date": "2017-12-01", "written": True}


def test_E3_2397_op6_hs_codes_verified_and_the_wood_contract_wind_down(reference_engine):
    rule = reference_engine.rulebook.rules["dprk.exports.2397_op6"]
    assert rule.spec.legal_basis[0].verified and "HS code 44" in (rule.spec.legal_basis[0].verified_against or "")
    # contracted before 22 Dec 2017, delivered on 10 Jan 2018 with notice: within the wind-down
    within = reference_engine.check(from_dprk("2018-01-10", WOOD, contract=CONTRACT,
                                              notifications=[{"date": "2018-01-30"}]))
    assert within.verdict == "clear"
    assert [c.exemption["id"] for c in within.considered if c.status == "exempted"] == ["wind-down"]
    # delivered on 25 Jan 2018: past the 30 days, prohibited
    late = findings(reference_engine, from_dprk("2018-01-25", WOOD, contract=CONTRACT,
                                                notifications=[{"date": "2018-01-30"}]))
    assert late["dprk.exports.2397_op6"].outcome == "prohibited"


@pytest.mark.parametrize("why, over", [
    ("no notification", {}),
    ("notified after 45 days", {"notifications": [{"date": "2018-02-06"}]}),
    ("contract after adoption", {"contract": {"date": "2017-12-22", "written": True},
                                 "notifications": [{"date": "2018-01-30"}]}),
    ("oral contract", {"contract": {"date": "2017-12-01", "written": False},
                       "notifications": [{"date": "2018-01-30"}]}),
])
def test_E3_wind_down_needs_every_condition(reference_engine, why, over):
    base = {"contract": CONTRACT}
    base.update(over)
    assert "dprk.exports.2397_op6" in findings(reference_engine, from_dprk("2018-01-10", WOOD, **base)), why


LABOUR = {"kind": "labour", "supplier": {"name": "Korea Construction Co", "country": "KP"}, "origin_country": "KP",
          "recipient": {"name": "Builder LLC", "country": "RU"}, "destination_country": "RU"}


def test_E4_repatriation_due_from_adoption_with_the_outer_deadline(reference_engine):
    during = findings(reference_engine, transfer(date="2018-06-01", **LABOUR))
    assert during["dprk.services.workers.2397_repatriation"].outcome == "review"
    assert cites(during["dprk.services.workers.2397_repatriation"]) == {"2397 OP8"}
    assert "dprk.services.workers.2397" not in during
    after = findings(reference_engine, transfer(date="2019-12-22", **LABOUR))
    assert after["dprk.services.workers.2397"].outcome == "prohibited"
    assert "dprk.services.workers.2397_repatriation" not in after


def test_E5_asset_freeze_has_the_1718_op9_exemption(rulebook):
    rule = rulebook.rules["dprk.persons.asset_freeze"]
    op9 = [ex for ex in rule.spec.exemptions if ex.id == "notified-1718-op9"]
    assert op9 and op9[0].legal_basis[0].paragraph == "OP9" and not op9[0].legal_basis[0].verified
    review = rulebook.rules["dprk.persons.asset_freeze.1718_op9"]
    assert review.spec.outcome == "review"


def test_E6_joint_ventures_closed_by_9_january_2018(reference_engine):
    rule = reference_engine.rulebook.rules["dprk.investment.joint_ventures.2375"]
    assert "9 January 2018" in rule.spec.description and "8 January" not in rule.spec.description
    assert dt.date(2017, 9, 11) + dt.timedelta(days=120) == dt.date(2018, 1, 9)
    jv = {"kind": "investment", "contract": {"date": "2016-05-01", "written": True},
          "supplier": {"name": "Dandong Trading", "country": "CN"},
          "recipient": {"name": "Korea Joint Venture Co", "country": "KP"}}
    assert "dprk.investment.joint_ventures.2375" not in findings(reference_engine, transfer(date="2018-01-09", **jv))
    assert "dprk.investment.joint_ventures.2375" in findings(reference_engine, transfer(date="2018-01-10", **jv))


DIESEL = {"description": "Diesel for hospital generators", "hs_code": "271019",
          "quantity": {"value": 5000, "unit": "barrels"}}


def test_E7_allowance_is_for_livelihood_humanitarian_asks_for_review(reference_engine):
    notified = [{"date": "2024-02-01", "reference": "CN-2024-01"}]
    humanitarian = findings(reference_engine, transfer(purpose="humanitarian", notifications=notified, items=[DIESEL]))
    assert humanitarian["dprk.petroleum.refined.humanitarian"].outcome == "review"
    assert "dprk.petroleum.refined" not in humanitarian
    livelihood = findings(reference_engine, transfer(purpose="livelihood", notifications=notified, items=[DIESEL]))
    assert not {"dprk.petroleum.refined", "dprk.petroleum.refined.humanitarian"} & set(livelihood)


def test_E8_2375_q4_2017_allowance_is_a_ledger_period(reference_engine, tmp_path):
    t = transfer(date="2017-12-27", purpose="livelihood", notifications=[{"date": "2017-12-28"}],
                 items=[{"description": "Diesel", "hs_code": "271019",
                         "quantity": {"value": 600_000, "unit": "barrels"}}])
    with Ledger(tmp_path / "l.db") as ledger:
        d = judge(reference_engine.check(t), t, reference_engine.rulebook, ledger)
    over = [f for f in d.findings if f.related.get("cap_id") == "dprk.refined_petroleum.2375.q4_2017"]
    assert over and over[0].outcome == "prohibited"


def test_E9_crude_freeze_end_is_not_assumed(reference_engine):
    rule = reference_engine.rulebook.rules["dprk.petroleum.crude.2375_freeze"]
    assert rule.spec.in_force.until is None and rule.spec.assumption
    crude = [{"description": "Crude oil by pipeline", "hs_code": "270900",
              "quantity": {"value": 40000, "unit": "tonnes"}}]
    got = findings(reference_engine, transfer(date="2018-03-01", items=crude))
    assert got["dprk.petroleum.crude.2375_freeze"].outcome == "review"
    assert "Assumption:" in got["dprk.petroleum.crude.2375_freeze"].explanation
    assert "dprk.petroleum.crude" in got


def test_E10_peat_is_not_coal(reference_engine):
    assert hs.classify("270300") is None
    assert hs.classify("270111") == Category.coal
    got = findings(reference_engine, from_dprk("2018-03-01", {"description": "Peat", "hs_code": "270300"}))
    assert not {"dprk.exports.coal.2371"} & set(got)


def test_E11_iron_in_the_export_bans_is_iron_steel_asks_for_review(reference_engine):
    assert hs.classify("720110") == Category.iron and hs.classify("720839") == Category.metals
    steel = findings(reference_engine, from_dprk("2018-03-01", {"description": "Hot-rolled coil", "hs_code": "720839"}))
    assert "dprk.exports.coal.2371" not in steel
    assert steel["dprk.exports.iron_steel.review"].outcome == "review"
    assert "Assumption:" in steel["dprk.exports.iron_steel.review"].explanation
    pig = findings(reference_engine, from_dprk("2018-03-01", {"description": "Pig iron", "hs_code": "720110"}))
    assert pig["dprk.exports.coal.2371"].outcome == "prohibited" and "dprk.exports.iron_steel.review" not in pig


# ------------------------------------------------------------------------------------------ the other wind-downs


def test_2371_iron_wind_down_is_encoded_coal_has_none(reference_engine):
    ore = {"description": "Iron ore fines", "hs_code": "260111", "quantity": {"value": 30000, "unit": "tonnes"}}
    contract = {"date": "2017-07-01", "written": True}
    within = reference_engine.check(from_dprk("2017-08-20", ore, contract=contract,
                                              notifications=[{"date": "2017-09-01"}]))
    assert "dprk.exports.coal.2371" not in {f.rule_id for f in within.findings}
    late = findings(reference_engine, from_dprk("2017-09-05", ore, contract=contract,
                                                notifications=[{"date": "2017-09-01"}]))
    assert "dprk.exports.coal.2371" in late
    coal = {"description": "Anthracite", "hs_code": "270111", "quantity": {"value": 30000, "unit": "tonnes"}}
    assert "dprk.exports.coal.2371" in findings(reference_engine, from_dprk(
        "2017-08-20", coal, contract=contract, notifications=[{"date": "2017-09-01"}]))


def test_unconfirmed_wind_downs_ask_for_review(reference_engine):
    contract = {"date": "2017-07-01", "written": True}
    seafood = findings(reference_engine, from_dprk("2017-08-20", SEAFOOD, contract=contract))
    assert "dprk.exports.seafood.2371" not in seafood
    assert seafood["dprk.exports.2371_wind_down.review"].outcome == "review"
    suits = {"description": "Men's wool suits", "hs_code": "620311"}
    textiles = findings(reference_engine, from_dprk("2017-11-01", suits, contract={"date": "2017-08-01",
                                                                                   "written": True}))
    assert "dprk.exports.textiles.2375" not in textiles
    assert textiles["dprk.exports.textiles.2375_wind_down.review"].outcome == "review"


def test_workers_under_a_prior_written_contract_are_excepted_by_2375_op17(reference_engine):
    prior = findings(reference_engine, transfer(date="2018-06-01", contract={"date": "2017-05-01", "written": True},
                                                **LABOUR))
    assert "dprk.services.workers.2375" not in prior
    assert "dprk.services.workers.2397_repatriation" in prior  # repatriation is due all the same
    new = findings(reference_engine, transfer(date="2018-06-01", contract={"date": "2017-10-01", "written": True},
                                              **LABOUR))
    assert "dprk.services.workers.2375" in new
