"""Listed parties under every regime: a screening hit is the whole trigger, and the finding cites the measures of
the listing's own regime (the Consolidated List's UN_LIST_TYPE), with the listing attached."""

from __future__ import annotations

import pytest

from support import SHARED
from sanctions.model.records import parse_transfer
from sanctions.screening import lists, matching
from sanctions.screening import screen as screening

LIST_2026_05 = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
pytestmark = pytest.mark.skipif(not LIST_2026_05.exists(), reason="shared UN list edition missing")


@pytest.fixture(scope="module")
def index():
    return matching.index_for(lists.load(LIST_2026_05))


def payment(name: str, country: str, date: str, *, kind: str = "company", **extra) -> object:
    return parse_transfer({"id": "pay", "date": date, "kind": "financial", "purpose": "commercial",
                           "supplier": {"name": "Gulf Trading FZE", "country": "AE"},
                           "recipient": {"name": name, "country": country, "kind": kind},
                           "origin_country": "AE", "destination_country": country,
                           "items": [{"description": "Payment for services", "value": {"amount": 50000}}],
                           **extra})


def rifles(name: str, country: str, date: str) -> object:
    return parse_transfer({"id": "arms", "date": date, "supplier": {"name": "Arms Broker Ltd", "country": "BG"},
                           "recipient": {"name": name, "country": country}, "origin_country": "BG",
                           "destination_country": country,
                           "items": [{"description": "Assault rifles", "category": "small_arms_light_weapons"}]})


# (rule, transfer maker, listed name, country, date, reference number, first citation's resolution)
CASES = [
    # dated after 2734 (2024) was adopted (10 June 2024): a finding cites only paragraphs adopted by its date
    ("isil_alqaida.persons.asset_freeze", payment, "Abu Sayyaf Group", "PH", "2024-07-01", "QDe.001", "2734 (2024)"),
    ("isil_alqaida.arms.listed", rifles, "Abu Sayyaf Group", "PH", "2024-07-01", "QDe.001", "2734 (2024)"),
    ("taliban.persons.asset_freeze", payment, "Haji Khairullah Haji Sattar Money Exchange", "AF", "2024-06-01",
     "TAe.010", "2255 (2015)"),
    ("taliban.arms.listed", rifles, "Haji Khairullah Haji Sattar Money Exchange", "AF", "2024-06-01", "TAe.010",
     "2255 (2015)"),
    ("iran.persons.asset_freeze.1737", payment, "7th of Tir", "IR", "2012-06-01", "IRe.001", "1737 (2006)"),
    ("iran.persons.asset_freeze.2231", payment, "7th of Tir", "IR", "2018-06-01", "IRe.001", "2231 (2015)"),
    ("iran.persons.asset_freeze.snapback", payment, "7th of Tir", "IR", "2026-01-15", "IRe.001", "1737 (2006)"),
    ("libya.persons.asset_freeze", payment, "Libyan Investment Authority", "LY", "2020-06-01", "LYe.001", "1970 (2011)"),
    ("somalia.persons.asset_freeze", payment, "Al-Shabaab", "SO", "2024-06-01", "SOe.001", "2713 (2023)"),
    ("car.persons.asset_freeze", payment, "Lord's Resistance Army", "CF", "2025-03-01", "CFe.002", "2789 (2025)"),
    ("drc.persons.asset_freeze", payment, "ADF", "CD", "2025-03-01", "CDe.001", "2783 (2025)"),
    ("south_sudan.persons.asset_freeze", payment, "Gabriel Jok Riak Makol", "SS", "2025-03-01", "SSi.001",
     "2781 (2025)"),
    ("sudan.persons.asset_freeze", payment, "Abdel Rahman Juma Barkalla", "SD", "2025-06-01", "SDi.005",
     "1591 (2005)"),
    ("yemen.persons.asset_freeze", payment, "The Houthis", "YE", "2025-06-01", "YEe.001", "2140 (2014)"),
    ("yemen.arms.listed", rifles, "The Houthis", "YE", "2025-06-01", "YEe.001", "2216 (2015)"),
    ("yemen.persons.renewal_unconfirmed", payment, "The Houthis", "YE", "2026-11-20", "YEe.001", "2801 (2025)"),
    ("haiti.persons.asset_freeze", payment, "Viv Ansanm", "HT", "2025-09-01", "HTe.002", "2653 (2022)"),
    ("iraq.persons.former_regime_assets", payment, "Al Wasel and Babel General Trading LLC", "AE", "2020-06-01",
     "IQe.197", "1483 (2003)"),
    ("guinea_bissau.persons.travel_ban", payment, "Antonio Injai", "GW", "2024-06-01", "GBi.005", "2048 (2012)"),
]


@pytest.mark.parametrize(("rule_id", "make", "name", "country", "date", "ref", "resolution"), CASES,
                         ids=[c[0] for c in CASES])
def test_listed_party_fires_its_own_regimes_rule(reference_engine, index, rule_id, make, name, country, date, ref,
                                                 resolution):
    kind = "person" if ref[2] == "i" else "company"
    t = make(name, country, date) if make is rifles else make(name, country, date, kind=kind)
    d = screening.check(reference_engine, t, index)
    f = next((f for f in d.findings if f.rule_id == rule_id), None)
    assert f is not None, f"{rule_id} made no finding; findings: {[x.rule_id for x in d.findings]}"
    assert f.citations[0].resolution == resolution
    listings = f.related["listings"]
    assert listings and {h["reference_number"] for h in listings} == {ref}
    # the hit cites the measures of the listing's own regime only: no DPRK finding from a non-DPRK listing
    assert not any(x.rule_id.startswith("dprk.") for x in d.findings)


@pytest.mark.parametrize(("rule_id", "make", "name", "country", "date", "ref", "resolution"), CASES,
                         ids=[c[0] for c in CASES])
def test_nearest_lawful_case_an_unlisted_party(reference_engine, index, rule_id, make, name, country, date, ref,
                                               resolution):
    t = make("Harbour Logistics Cooperative", country, date)
    d = screening.check(reference_engine, t, index)
    assert rule_id not in {f.rule_id for f in d.findings}
    assert d.screening["performed"]


def test_a_payment_before_2734_cites_the_1390_freeze_not_only_the_1267_taliban_one(reference_engine, index):
    # 2013: the Al-Qaida list's freeze stood on 1390 (2002); 1267 (1999) OP4(b) froze the Taliban's funds
    d = screening.check(reference_engine, payment("Abdallah Azzam Brigades", "LB", "2015-02-01"), index)
    f = next(f for f in d.findings if f.rule_id == "isil_alqaida.persons.asset_freeze")
    assert [c.resolution for c in f.citations] == ["1390 (2002)", "1267 (1999)"]


def test_payment_to_a_1267_listed_person_is_prohibited_with_the_1267_citations_and_the_listing(reference_engine,
                                                                                                 index):
    d = screening.check(reference_engine, payment("Abdallah Azzam Brigades", "LB", "2025-02-01"), index)
    assert d.verdict == "prohibited"
    f = next(f for f in d.findings if f.rule_id == "isil_alqaida.persons.asset_freeze")
    assert f.regime == "ISIL/Al-Qaida"
    assert {c.resolution for c in f.citations} == {"2734 (2024)", "1390 (2002)", "1267 (1999)"}
    (hit,) = f.related["listings"]
    assert hit["reference_number"] == "QDe.144" and hit["regime"] == "Al-Qaida" and hit["listed_on"] == "2014-09-23"


def test_guinea_bissau_listing_is_a_travel_ban_not_an_asset_freeze(reference_engine, index):
    d = screening.check(reference_engine, payment("Antonio Injai", "GW", "2024-06-01", kind="person"), index)
    assert d.verdict == "review"
    (f,) = [f for f in d.findings if f.regime == "Guinea-Bissau"]
    assert "travel ban only" in f.explanation and "freezes no assets" in f.explanation
    assert not any("asset_freeze" in x.rule_id for x in d.findings)


def test_iran_list_between_the_2231_list_and_the_snapback_has_no_measure(reference_engine, index):
    d = screening.check(reference_engine, payment("7th of Tir", "IR", "2024-06-01"), index)
    assert not any(f.regime == "Iran" for f in d.findings)
    assert any(n.startswith("Iran: no measure applies to pay") for n in d.notes)


def test_snapback_asset_freeze_carries_the_dispute(reference_engine, index):
    d = screening.check(reference_engine, payment("7th of Tir", "IR", "2026-01-15"), index)
    f = next(f for f in d.findings if f.rule_id == "iran.persons.asset_freeze.snapback")
    assert "Disputed: Iran, Russia and China" in f.explanation
    assert any(n.startswith("iran.persons.asset_freeze.snapback: Re-applied by the snapback") for n in d.notes)


def test_humanitarian_carve_out_reaches_the_1267_regime(reference_engine, index):
    t = payment("Abu Sayyaf Group", "PH", "2024-06-01", purpose="humanitarian",
                supplier={"name": "World Food Programme", "country": "IT", "kind": "international_organisation"})
    d = screening.check(reference_engine, t, index)
    assert "isil_alqaida.persons.asset_freeze" not in {f.rule_id for f in d.findings}
    assert any(c.rule_id == "isil_alqaida.persons.asset_freeze" and c.status == "exempted" for c in d.considered)
