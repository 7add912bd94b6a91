"""The arms embargoes' true scope: a region inside a country, classes of end user, named missions, government
exemptions; and regime selection."""

from __future__ import annotations

import pytest

from sanctions.engine import Engine
from sanctions.exc import InvalidInput
from sanctions.model.records import parse_transfer


@pytest.fixture(scope="module", params=["reference", "batch", "durable"])
def engine(request):
    return Engine(evaluator=request.param)


def rifles(country, date="2024-05-01", recipient=None, **extra):
    return parse_transfer({
        "id": "r", "date": date, "supplier": {"name": "Arms Broker Ltd", "country": "BG"},
        "recipient": recipient or {"name": "Consignee Co", "country": country}, "origin_country": "BG",
        "destination_country": country,
        "items": [{"description": "Assault rifles", "category": "small_arms_light_weapons"}], **extra})


def test_rifles_to_a_darfur_armed_group_are_prohibited(engine):
    d = engine.check(rifles("SD", destination_subdivision="SD-DN",
                            end_user={"kind": "armed_group", "organisation": "Rapid Support Forces"}))
    assert d.verdict == "prohibited"
    (f,) = d.findings
    assert f.rule_id == "sudan.arms.darfur" and "North Darfur (SD-DN)" in f.explanation


def test_rifles_to_khartoums_government_outside_darfur_are_not_caught_and_the_decision_says_why(engine):
    gov = {"name": "Ministry of Defence of Sudan", "country": "SD", "kind": "government_body"}
    d = engine.check(rifles("SD", recipient=gov, destination_subdivision="SD-KH"))
    assert d.verdict == "clear"
    (c,) = [c for c in d.considered if c.rule_id == "sudan.arms.darfur"]
    assert c.status == "exempted" and c.exemption["id"] == "outside-darfur"
    assert "Khartoum (SD-KH), outside the five Darfur states" in c.reason and "covers Darfur only" in c.reason


def test_rifles_to_sudan_with_no_region_are_a_review_question(engine):
    d = engine.check(rifles("SD"))
    assert d.verdict == "review" and [f.rule_id for f in d.findings] == ["sudan.arms.region_not_stated"]


@pytest.mark.parametrize(("country", "extra", "rule"), [
    ("SO", {"end_user": {"kind": "armed_group", "organisation": "Al-Shabaab"}}, "somalia.arms.supply"),
    ("CF", {"end_user": {"kind": "armed_group"}}, "car.arms.armed_groups"),
    ("CD", {"end_user": {"kind": "armed_group", "organisation": "M23"}}, "drc.arms.non_governmental"),
    ("SS", {}, "south_sudan.arms.supply"),
    ("LY", {}, "libya.arms.supply"),
    ("HT", {"end_user": {"kind": "armed_group", "organisation": "Viv Ansanm"}}, "haiti.arms.territorial"),
    ("LB", {"end_user": {"kind": "armed_group"}}, "lebanon.arms.non_state"),
    ("IQ", {"end_user": {"kind": "armed_group"}}, "iraq.arms.non_government"),
    ("YE", {"end_user": {"kind": "armed_group", "organisation": "Ansar Allah"}}, "yemen.arms.houthis"),
])
def test_each_embargo_catches_its_target(engine, country, extra, rule):
    d = engine.check(rifles(country, date="2025-03-01", **extra))
    assert rule in {f.rule_id for f in d.findings if f.outcome == "prohibited"}


@pytest.mark.parametrize(("country", "recipient", "extra", "rule"), [
    ("SO", {"name": "Somali National Army", "country": "SO", "kind": "armed_forces"}, {}, "somalia.arms.supply"),
    ("CF", {"name": "FACA", "country": "CF", "kind": "armed_forces"}, {}, "car.arms.armed_groups"),
    ("CD", {"name": "FARDC", "country": "CD", "kind": "armed_forces"}, {}, "drc.arms.non_governmental"),
    ("LB", {"name": "Lebanese Armed Forces", "country": "LB", "kind": "armed_forces"}, {}, "lebanon.arms.non_state"),
    ("LB", {"name": "UNIFIL", "country": "LB", "kind": "international_organisation"},
     {"end_user": {"kind": "un_mission", "organisation": "UNIFIL"}}, "lebanon.arms.non_state"),
    ("IQ", {"name": "Iraqi Army", "country": "IQ", "kind": "armed_forces"}, {}, "iraq.arms.non_government"),
    ("HT", {"name": "MSS", "country": "HT", "kind": "international_organisation"},
     {"end_user": {"kind": "authorised_mission", "organisation": "MSS"}}, "haiti.arms.territorial"),
    ("SS", {"name": "UNMISS", "country": "SS", "kind": "international_organisation"},
     {"end_user": {"kind": "un_mission", "organisation": "UNMISS"}}, "south_sudan.arms.supply"),
])
def test_government_and_mission_end_users_are_outside_or_exempt(engine, country, recipient, extra, rule):
    d = engine.check(rifles(country, date="2025-03-01", recipient=recipient, **extra))
    assert rule not in {f.rule_id for f in d.findings}


def test_south_sudan_embargo_reaches_the_government(engine):
    gov = {"name": "SSPDF", "country": "SS", "kind": "armed_forces"}
    assert engine.check(rifles("SS", date="2025-03-01", recipient=gov)).verdict == "prohibited"


@pytest.mark.parametrize(("country", "date", "lapsed", "review"), [
    ("SS", "2026-08-01", "south_sudan.arms.supply", "south_sudan.arms.renewal_unconfirmed"),
    ("CF", "2026-08-01", "car.arms.armed_groups", "car.arms.renewal_unconfirmed"),
    ("CD", "2026-08-01", "drc.arms.non_governmental", "drc.arms.renewal_unconfirmed"),
    ("HT", "2026-11-01", "haiti.arms.territorial", "haiti.arms.renewal_unconfirmed"),
])
def test_a_lapsed_mandate_is_not_in_force_but_its_renewal_is_a_review_question(engine, country, date, lapsed,
                                                                                review):
    d = engine.check(rifles(country, date=date, end_user={"kind": "armed_group"}))
    ids = {f.rule_id: f.outcome for f in d.findings}
    assert lapsed not in ids and ids.get(review) == "review"
    (c,) = [c for c in d.considered if c.rule_id == lapsed]
    assert c.status == "not_in_force" and "no longer in force" in c.reason


def test_darfur_lapse_after_12_september_2026(engine):
    d = engine.check(rifles("SD", date="2026-10-01", destination_subdivision="SD-DS"))
    assert {f.rule_id for f in d.findings} == {"sudan.arms.renewal_unconfirmed"} and d.verdict == "review"


def test_somali_charcoal_leaving_somalia_is_prohibited_whatever_its_origin(engine):
    t = parse_transfer({"id": "c", "date": "2019-03-01", "supplier": {"name": "Trader", "country": "KE"},
                        "recipient": {"name": "Importer", "country": "AE"}, "origin_country": "KE",
                        "destination_country": "AE", "route": [{"port": "Kismayo", "country": "SO", "role": "loading"}],
                        "items": [{"description": "Charcoal", "hs_code": "440290"}]})
    assert "somalia.charcoal" in {f.rule_id for f in engine.check(t).findings}


def test_selection_judges_only_the_chosen_regimes_and_says_so():
    t = rifles("LY", date="2025-03-01")
    iran_only = Engine(evaluator="reference", regimes=["iran"]).check(t)
    assert iran_only.verdict == "clear" and iran_only.regimes == ("Iran",)
    both = Engine(evaluator="reference", regimes=["iran", "libya"]).check(t)
    assert both.verdict == "prohibited" and both.regimes == ("Iran", "Libya")
    with pytest.raises(InvalidInput, match="unknown regime 'lybia'"):
        Engine(evaluator="reference", regimes=["lybia"])
