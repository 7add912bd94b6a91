"""Issue 12: the measures the rulebook lacked, the citation chain, and Committee exemptions held against the
exemption paragraphs that reach each measure."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from support import SHARED
from sanctions.explain import to_json
from sanctions.model.records import parse_transfer
from sanctions.rulebook.examples import example_transfer
from sanctions.screening import lists, matching
from sanctions.screening import screen as screening

LIST_2026_05 = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
needs_list = pytest.mark.skipif(not LIST_2026_05.exists(), reason="shared UN list edition missing")


@pytest.fixture(scope="module")
def index():
    return matching.index_for(lists.load(LIST_2026_05))


def transfer(**over: Any):
    data: dict[str, Any] = {
        "id": "t", "date": "2024-01-15",
        "supplier": {"name": "Fishing Gear Co", "country": "JP"}, "recipient": {"name": "Port Agent", "country": "RU"},
        "origin_country": "JP", "destination_country": "RU", "items": [{"description": "Nets", "hs_code": "560811"}],
    }
    data.update(over)
    return parse_transfer(data)


VOSTOCHNY = [{"port": "Vostochny", "country": "RU", "role": "discharge"}]


# ------------------------------------------------------------------------------------------ vessels and ports


@needs_list
def test_port_call_at_vostochny_by_a_designated_vessel_fires_citing_the_listing(reference_engine, index):
    t = transfer(route=VOSTOCHNY, vessel={"name": "Rye Song Gang 1", "imo": "7389704", "flag": "KP"})
    d = screening.check(reference_engine, t, index)
    f = next(f for f in d.findings if f.rule_id == "dprk.maritime.port_entry.designated_vessel")
    assert f.outcome == "prohibited" and "Vostochny" in f.explanation
    assert {(c.resolution, c.paragraph) for c in f.citations} >= {("2371 (2017)", "OP6"), ("2321 (2016)", "OP12")}
    (hit,) = f.related["vessel_listings"]
    assert hit["designated_name"] == "RYE SONG GANG 1" and hit["matched_on"] == "imo"
    assert hit["designated_on"] == "2017-12-28" and hit["committee_designated"]
    # the listing is in the JSON next to the finding
    assert "RYE SONG GANG 1" in to_json(d)


@needs_list
def test_nearest_lawful_port_call_an_undesignated_vessel_or_before_designation(reference_engine, index):
    clean = screening.check(reference_engine, transfer(route=VOSTOCHNY, vessel={"name": "Ever Given", "imo": "9811000"}),
                            index)
    assert not [f for f in clean.findings if f.rule_id.startswith("dprk.maritime.port_entry")]
    early = screening.check(reference_engine, transfer(date="2017-12-01", route=VOSTOCHNY,
                                                       vessel={"name": "Rye Song Gang 1", "imo": "7389704"}), index)
    assert not [f for f in early.findings if f.rule_id.startswith("dprk.maritime.port_entry")]


@needs_list
def test_port_call_by_a_vessel_of_a_listed_owner(reference_engine, index):
    t = transfer(route=VOSTOCHNY, vessel={"name": "Sam Jong 2", "imo": "7408873", "flag": "KP"})
    d = screening.check(reference_engine, t, index)
    got = {f.rule_id: f for f in d.findings}
    f = got["dprk.maritime.port_entry.owner.designated_vessel"]
    assert f.citations[0].resolution == "2270 (2016)" and not f.citations[0].verified
    assert f.related["vessel_listings"][0]["listing"].startswith("KPe.064")
    # reached through its owner only: not itself a Committee designation
    assert "dprk.maritime.port_entry.designated_vessel" not in got


@needs_list
def test_insuring_a_designated_vessel_of_any_flag(reference_engine, index):
    t = transfer(kind="vessel_services", supplier={"name": "Marine Insurer", "country": "SG"},
                 recipient={"name": "Ship Manager", "country": "HK"}, origin_country="SG", destination_country="HK",
                 vessel={"name": "Koti", "imo": "9417115", "flag": "PA"}, items=[])
    d = screening.check(reference_engine, t, index)
    f = next(f for f in d.findings if f.rule_id == "dprk.maritime.insurance.2397")
    assert f.outcome == "prohibited" and "Assumption:" in f.explanation
    other = transfer(kind="vessel_services", supplier={"name": "Marine Insurer", "country": "SG"},
                     recipient={"name": "Ship Manager", "country": "HK"}, origin_country="SG",
                     destination_country="HK", vessel={"name": "Ever Given", "imo": "9811000", "flag": "PA"}, items=[])
    assert not [f for f in screening.check(reference_engine, other, index).findings
                if f.rule_id == "dprk.maritime.insurance.2397"]


@needs_list
def test_designated_vessel_under_a_flag_asks_for_deregistration(reference_engine, index):
    d = screening.check(reference_engine, transfer(vessel={"name": "New Regent", "imo": "8312497", "flag": "PA"}),
                        index)
    f = next(f for f in d.findings if f.rule_id == "dprk.maritime.deregistration.2397")
    assert f.outcome == "review"
    flagless = screening.check(reference_engine, transfer(vessel={"name": "New Regent", "imo": "8312497"}), index)
    assert "dprk.maritime.deregistration.2397" not in {f.rule_id for f in flagless.findings}


@needs_list
def test_expulsion_review_for_dprk_official_abroad_with_listed_party(reference_engine, index):
    t = parse_transfer({"id": "t", "date": "2024-03-01", "kind": "financial",
                        "supplier": {"name": "Korea Mining Development Trading Corp.", "country": "KP"},
                        "recipient": {"name": "Trade counsellor, DPRK embassy", "country": "KP", "kind": "person"},
                        "origin_country": "CN", "destination_country": "EG", "items": []})
    d = screening.check(reference_engine, t, index)
    assert next(f for f in d.findings if f.rule_id == "dprk.persons.expulsion.2270").outcome == "review"
    t2 = parse_transfer({"id": "t", "date": "2024-03-01", "kind": "financial",
                         "supplier": {"name": "Pyongyang Bakery Cooperative", "country": "KP"},
                         "recipient": {"name": "Trade counsellor, DPRK embassy", "country": "KP", "kind": "person"},
                         "origin_country": "CN", "destination_country": "EG", "items": []})
    assert "dprk.persons.expulsion.2270" not in {f.rule_id for f in screening.check(reference_engine, t2, index).findings}


@needs_list
def test_E5_asset_freeze_notified_payment_is_review_not_prohibited(reference_engine, index):
    def pay(**extra: Any):
        return parse_transfer({"id": "t", "date": "2024-03-01", "kind": "financial",
                               "supplier": {"name": "Landlord Ltd", "country": "CN"},
                               "recipient": {"name": "Korea Mining Development Trading Corp.", "country": "KP"},
                               "origin_country": "CN", "destination_country": "KP", "items": [], **extra})
    plain = {f.rule_id: f for f in screening.check(reference_engine, pay(), index).findings}
    assert plain["dprk.persons.asset_freeze"].outcome == "prohibited"
    assert "dprk.persons.asset_freeze.1718_op9" not in plain
    notified = screening.check(reference_engine, pay(notifications=[{"date": "2024-02-20"}]), index)
    got = {f.rule_id: f for f in notified.findings}
    assert "dprk.persons.asset_freeze" not in got
    assert got["dprk.persons.asset_freeze.1718_op9"].outcome == "review"
    assert any(c.exemption and c.exemption["id"] == "notified-1718-op9" for c in notified.considered)


# ------------------------------------------------------------------------------------------ other missing measures


def test_dprk_procuring_refined_petroleum_ship_to_ship_mirror_of_2397_op5(reference_engine):
    t = transfer(ship_to_ship=True, recipient={"name": "Trading Co", "country": "CN"}, destination_country="CN",
                 origin_country="CN", vessel={"name": "Tanker A", "flag": "PA"},
                 sts_vessel={"name": "Chon Ma San", "flag": "KP"},
                 items=[{"description": "Diesel", "hs_code": "271019", "quantity": {"value": 10000, "unit": "barrels"}}])
    got = {f.rule_id: f for f in reference_engine.check(t).findings}
    mirror = got["dprk.petroleum.refined.procurement_by_dprk"]
    # the same act breaches the petroleum measure and the ship-to-ship ban: both paragraphs are cited
    assert {(c.resolution, c.paragraph) for c in mirror.citations} == {("2397 (2017)", "OP5"), ("2375 (2017)", "OP11")}
    sts = got["dprk.maritime.ship_to_ship"]
    assert ("2397 (2017)", "OP5") in {(c.resolution, c.paragraph) for c in sts.citations}


def test_china_dprk_hydropower_carve_out(reference_engine):
    hydro = transfer(date="2018-06-01", kind="investment", supplier={"name": "Dandong Hydro Co", "country": "CN"},
                     recipient={"name": "Sup'ung Power Station", "country": "KP"}, origin_country="CN",
                     destination_country="KP",
                     items=[{"description": "Electricity from the jointly run hydro plant", "hs_code": "271600"}])
    d = reference_engine.check(hydro)
    assert "dprk.investment.joint_ventures.2375" not in {f.rule_id for f in d.findings}
    assert any(c.exemption and c.exemption["id"] == "china-dprk-hydropower" for c in d.considered)
    russian = transfer(date="2018-06-01", kind="investment", supplier={"name": "Hydro Co", "country": "RU"},
                       recipient={"name": "Power Station", "country": "KP"}, origin_country="RU",
                       destination_country="KP",
                       items=[{"description": "Electricity", "hs_code": "271600"}])
    assert "dprk.investment.joint_ventures.2375" in {f.rule_id for f in reference_engine.check(russian).findings}


def test_mission_account_and_property_rules(reference_engine):
    t = transfer(kind="financial", purpose="commercial", supplier={"name": "Berlin Hostel GmbH", "country": "DE"},
                 recipient={"name": "Embassy of the DPRK in Berlin", "country": "KP", "kind": "government_body"},
                 origin_country="DE", destination_country="DE", items=[])
    f = next(f for f in reference_engine.check(t).findings if f.rule_id == "dprk.finance.missions.2321")
    assert f.outcome == "review" and "Assumption:" in f.explanation


# ------------------------------------------------------------------------------------------ the citation chain


def test_ammunition_export_cites_1718_op8b_as_extended_by_1874_op9(reference_engine):
    def shells(date: str):
        return transfer(date=date, supplier={"name": "Ministry of National Defence", "country": "KP"},
                        recipient={"name": "Buyer", "country": "RU"}, origin_country="KP", destination_country="RU",
                        items=[{"description": "122 mm shells", "category": "ammunition_and_related_materiel"}])
    f = next(f for f in reference_engine.check(shells("2023-08-01")).findings
             if f.rule_id == "dprk.arms.procurement.heavy")
    assert [(c.resolution, c.paragraph) for c in f.citations] == [("1718 (2006)", "OP8(b)"), ("1874 (2009)", "OP9")]
    # before 1874 was adopted only 1718 OP8(b) bears on it
    g = next(f for f in reference_engine.check(shells("2008-05-01")).findings
             if f.rule_id == "dprk.arms.procurement.heavy")
    assert [(c.resolution, c.paragraph) for c in g.citations] == [("1718 (2006)", "OP8(b)")]


def test_small_arms_export_cites_the_paragraph_1874_extends(reference_engine):
    t = transfer(date="2020-01-01", supplier={"name": "Korea Arms", "country": "KP"},
                 recipient={"name": "Buyer", "country": "SY"}, origin_country="KP", destination_country="SY",
                 items=[{"description": "Rifles", "category": "small_arms_light_weapons"}])
    f = next(f for f in reference_engine.check(t).findings if f.rule_id == "dprk.arms.procurement.all")
    assert [(c.resolution, c.paragraph) for c in f.citations] == [("1718 (2006)", "OP8(b)"), ("1874 (2009)", "OP9")]


def test_deal_findings_keep_the_legs_citations(reference_engine):
    from support import load_fixture

    d = reference_engine.check(load_fixture("dprk_russia_arms_for_oil.json"))
    for f in (f for f in d.findings if f.scope == "deal"):
        legs = [x for x in d.findings if x.transfer_id == f.related["leg"] and x.rule_id in f.related["leg_rules"]]
        leg_cites = {(c.resolution, c.paragraph) for x in legs for c in x.citations}
        assert leg_cites <= {(c.resolution, c.paragraph) for c in f.citations}, f.transfer_id


# ------------------------------------------------------------------------------------------ Committee exemptions

# The case-by-case exemption paragraphs and the resolutions whose measures each reaches ("these resolutions").
EXEMPTION_PARAGRAPHS = {
    ("2321 (2016)", "OP46"): (dt.date(2016, 11, 30), dt.date(2016, 11, 30)),
    ("2375 (2017)", "OP26"): (dt.date(2017, 9, 11), dt.date(2017, 9, 11)),
    ("2397 (2017)", "OP25"): (dt.date(2017, 12, 22), dt.date(2017, 12, 22)),
}


def _primary_adopted(rule) -> dt.date:
    start = rule.spec.in_force.from_
    return max(c.adopted for c in rule.spec.legal_basis if c.adopted <= start)


def _pairs(rulebook) -> list[tuple[str, str, str]]:
    out = []
    for rid, rule in sorted(rulebook.rules.items()):
        if (rule.spec.regime != "DPRK" or rule.scope == "deal" or rule.spec.outcome == "notification_required"
                or not rule.spec.examples.get("fires")):
            continue
        for (res, para), (adopted, reach) in EXEMPTION_PARAGRAPHS.items():
            until = rule.spec.in_force.until
            if _primary_adopted(rule) <= reach and (until is None or until >= adopted):
                out.append((rid, res, para))
    return out


def _pair_ids() -> list[tuple[str, str, str]]:
    from sanctions.rulebook import load_rulebook

    return _pairs(load_rulebook())


@pytest.mark.parametrize(("rule_id", "resolution", "paragraph"), _pair_ids())
def test_committee_exemption_reaches_every_measure_its_basis_reaches(reference_engine, rule_id, resolution,
                                                                    paragraph):
    rule = reference_engine.rulebook.rules[rule_id]
    adopted, _ = EXEMPTION_PARAGRAPHS[(resolution, paragraph)]
    on = max(adopted, rule.spec.in_force.from_)
    holders = [ex for ex in rule.spec.exemptions
               if any((c.resolution, c.paragraph) == (resolution, paragraph) for c in ex.legal_basis)]
    assert holders, f"{rule_id} lacks a Committee exemption on {resolution} {paragraph}"
    assert any(ex.in_force.covers(on, on) and ex.when.model_dump() == {"op": "ref", "name": "committee_exempted"}
               for ex in holders), f"{rule_id}: the {resolution} {paragraph} exemption is not in force on {on}"
    data = dict(rule.spec.examples["fires"][0], date=on.isoformat(), exemptions=[{"reference": "1718/EXEMPT/TEST"}])
    d = reference_engine.check(example_transfer(rule_id, "fires", 0, data))
    assert rule_id not in {f.rule_id for f in d.findings}, f"{rule_id} not cleared by {resolution} {paragraph} on {on}"
    # without the Committee's exemption the same transfer is caught: the exemption is what cleared it
    del data["exemptions"]
    assert rule_id in {f.rule_id for f in reference_engine.check(example_transfer(rule_id, "fires", 0, data)).findings}


def test_fuel_for_an_exempted_project_is_exempted_too(reference_engine):
    """The issue's case: a 1718 Committee exemption cleared the 2397 industrial ban but not the fuel."""
    t = parse_transfer({"id": "t", "date": "2024-05-01", "exemptions": [{"reference": "1718/EXEMPT/2024/017"}],
                        "supplier": {"name": "Aid Contractor", "country": "CN"},
                        "recipient": {"name": "Water project", "country": "KP"},
                        "origin_country": "CN", "destination_country": "KP",
                        "items": [{"description": "Water pumps", "hs_code": "841370"},
                                  {"description": "Diesel for the pumps", "hs_code": "271019",
                                   "quantity": {"value": 200, "unit": "barrels"}}]})
    d = reference_engine.check(t)
    assert not [f for f in d.findings if f.outcome == "prohibited"], [f.rule_id for f in d.findings]


def test_2664_op1_reaches_the_asset_freeze_only(rulebook):
    holders = {rid for rid, r in rulebook.rules.items() if r.spec.regime == "DPRK"
               and any(c.resolution == "2664 (2022)" for ex in r.spec.exemptions for c in ex.legal_basis)}
    assert holders == {"dprk.persons.asset_freeze"}


# ------------------------------------------------------------------------------------------ readings made visible


def test_assumptions_show_in_json_and_catalogue(reference_engine, rulebook):
    from sanctions.rulebook.catalogue import catalogue_json

    with_assumption = sorted(rid for rid, r in rulebook.rules.items() if r.spec.assumption)
    assert len(with_assumption) >= 6
    data = json.loads(catalogue_json(rulebook))
    by_id = {r["id"]: r for r in data["rules"]}
    for rid in with_assumption:
        assert by_id[rid]["assumption"] == " ".join(rulebook.rules[rid].spec.assumption.split())
