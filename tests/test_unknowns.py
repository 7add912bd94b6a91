"""Facts as investigators have them (issue 18): unknown is not absent, coarse dates, what a service is for,
arms without a class, HS alternatives, and the two rule defects the same cases exposed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from sanctions import InvalidTransfer
from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.model.records import CoarseDate, parse_input, parse_transfer


def _evaluators() -> list[str]:
    from support import evaluator_params

    return evaluator_params("reference", "batch", "durable")


@pytest.fixture(scope="module", params=_evaluators())
def engine(request, rulebook):
    return Engine(rulebook, evaluator=request.param)


BASE = {"id": "t", "date": "2024-03-01", "supplier": {"name": "Rosneft Trading", "country": "RU"},
        "recipient": {"name": "Korea Oil", "country": "KP"}, "origin_country": "RU", "destination_country": "KP"}
DIESEL = {**BASE, "purpose": "livelihood",
          "items": [{"description": "Diesel", "hs_code": "271019", "quantity": {"value": 1000, "unit": "barrels"}}]}


def _by_rule(decision, rule_id):
    return [f for f in decision.findings if f.rule_id == rule_id]


# -- unknown is not absent -------------------------------------------------------------------------------------


def test_refined_petroleum_with_notification_unknown_is_review_naming_notification(engine):
    d = engine.check(parse_input({**DIESEL, "notified": "unknown"}))
    assert d.verdict == "review"
    (f,) = _by_rule(d, "dprk.petroleum.refined")
    assert f.outcome == "review"
    assert list(f.related["undecided"]["unknown"]) == ["notified"]
    assert f.related["undecided"]["outcome_if_applies"] == "prohibited"
    settled = " ".join(f.related["undecided"]["settled_by"])
    assert "if notified is false: prohibited under UNSCR 2397 (2017) OP5" in settled
    assert "if notified is true: exempted" in settled
    assert "notified is unknown" in f.explanation


def test_refined_petroleum_notified_is_clear_and_not_notified_is_prohibited(engine):
    assert engine.check(parse_input({**DIESEL, "notifications": [{"date": "2024-02-01"}]})).verdict == "clear"
    assert engine.check(parse_input({**DIESEL, "notified": True})).verdict == "clear"
    for none in ({}, {"notified": False}):
        d = engine.check(parse_input({**DIESEL, **none}))
        assert d.verdict == "prohibited"
        assert [f.outcome for f in _by_rule(d, "dprk.petroleum.refined")] == ["prohibited"]


def test_notified_false_with_notifications_listed_is_refused():
    with pytest.raises(InvalidTransfer, match="notified is false but notifications are listed"):
        parse_input({**DIESEL, "notified": False, "notifications": [{"date": "2024-02-01"}]})


STS = {"id": "sts-2017", "date": "2017", "supplier": {"name": "Trader", "country": "CN"},
       "recipient": {"name": "Buyer", "country": "CN"}, "origin_country": "CN", "destination_country": "CN",
       "ship_to_ship": True, "vessel": {"name": "Lighthouse Winmore", "flag": "HK"},
       "sts_vessel": {"name": "Unnamed tanker", "flag": "unknown"},
       "items": [{"description": "Diesel", "hs_code": "271019"}]}


def test_ship_to_ship_diesel_in_2017_with_flag_unknown_is_review_naming_flag_and_date(engine):
    d = engine.check(parse_input(STS))
    assert d.verdict == "review"
    (f,) = _by_rule(d, "dprk.maritime.ship_to_ship")
    assert f.outcome == "review"
    undecided = f.related["undecided"]
    assert list(undecided["unknown"]) == ["sts_vessel.flag"]
    assert undecided["date_covered"] == {"from": "2017-09-11", "until": "2017-12-31"}
    assert undecided["settled_by"][0] == ("if sts_vessel.flag is KP and on or after 11 September 2017: prohibited "
                                          "under UNSCR 2375 (2017) OP11 [paragraph unverified] "
                                          "(dprk.maritime.ship_to_ship)")
    assert "the date gives only 2017 (day not known)" in undecided["settled_by"]
    assert any(e.field == "transfer.vessel_flags" and "may contain KP" in e.test for e in f.evidence)


def test_the_same_transfer_with_the_flag_known(engine):
    kp = engine.check(parse_input({**STS, "date": "2017-10-02", "sts_vessel": {"name": "Rye Song Gang 1",
                                                                                "flag": "KP"}}))
    assert [f.outcome for f in _by_rule(kp, "dprk.maritime.ship_to_ship")] == ["prohibited"]
    pa = engine.check(parse_input({**STS, "sts_vessel": {"name": "Ocean Star", "flag": "PA"}}))
    assert not _by_rule(pa, "dprk.maritime.ship_to_ship")


def test_a_party_of_unknown_country_can_be_entered_and_is_judged():
    t = parse_transfer({**BASE, "supplier": {"name": "Unnamed donor", "country": "unknown"}, "purpose": "humanitarian",
                        "items": [{"description": "Rice", "hs_code": "100630"}]})
    assert t.supplier.country == "unknown"
    assert Engine(evaluator="reference").check(t).verdict == "clear"


def test_unknown_recipient_country_asks_what_would_decide(engine):
    d = engine.check(parse_input({**DIESEL, "recipient": {"name": "Buyer", "country": "unknown"},
                                  "destination_country": "CN"}))
    (f,) = _by_rule(d, "dprk.petroleum.refined")
    assert f.outcome == "review"
    assert "if recipient.country is KP: prohibited under UNSCR 2397 (2017) OP5 (dprk.petroleum.refined)" in \
        f.related["undecided"]["settled_by"]


def test_omitted_is_not_unknown(engine):
    """A vessel with no flag given is not a vessel of unknown flag: omitting stays as it was."""
    d = engine.check(parse_input({**STS, "date": "2018-01-01", "sts_vessel": {"name": "Unnamed tanker"}}))
    assert not _by_rule(d, "dprk.maritime.ship_to_ship")


# -- coarse dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "start", "end", "precision"), [
    ("2017", dt.date(2017, 1, 1), dt.date(2017, 12, 31), "year"),
    ("2019-09", dt.date(2019, 9, 1), dt.date(2019, 9, 30), "month"),
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "month"),
])
def test_coarse_dates_are_periods_with_their_precision(text, start, end, precision):
    t = parse_transfer({**BASE, "date": text})
    assert isinstance(t.date, CoarseDate)
    assert (t.start, t.end, t.date.precision, t.date.text, t.precise) == (start, end, precision, text, False)
    again = parse_transfer(json.loads(t.model_dump_json()))
    assert again.date == t.date


@pytest.mark.parametrize("bad", ["2019-13", "2017-1", {"start": "2017-01-02", "end": "2017-12-31",
                                                       "precision": "year"}])
def test_bad_coarse_dates_are_refused_naming_the_date(bad):
    with pytest.raises(InvalidTransfer) as err:
        parse_transfer({**BASE, "date": bad})
    assert err.value.problems[0].path == "date"


def test_a_coarse_date_wholly_inside_a_measure_is_decided(engine):
    d = engine.check(parse_input({**DIESEL, "date": "2019-09"}))
    assert [f.outcome for f in _by_rule(d, "dprk.petroleum.refined")] == ["prohibited"]


def test_a_coarse_date_wholly_before_a_measure_is_not_in_force(engine):
    d = engine.check(parse_input({**STS, "date": "2016", "sts_vessel": {"name": "Sam Jong 2", "flag": "KP"}}))
    assert not _by_rule(d, "dprk.maritime.ship_to_ship")
    assert any(c.rule_id == "dprk.maritime.ship_to_ship" and c.status == "not_in_force" for c in d.considered)


def test_a_coarse_date_across_the_start_of_a_measure_says_which_part(engine):
    d = engine.check(parse_input({**STS, "sts_vessel": {"name": "Sam Jong 2", "flag": "KP"}}))
    (f,) = _by_rule(d, "dprk.maritime.ship_to_ship")
    assert f.outcome == "review"
    assert list(f.related["undecided"]["unknown"]) == []
    assert f.related["undecided"]["settled_by"][0].startswith("if on or after 11 September 2017: prohibited")


# -- what a service is for; repair and return; arms of no class ------------------------------------------------


@pytest.mark.parametrize("direction", ["from", "to"])
def test_military_equipment_for_repair_and_return_is_prohibited_under_arms_and_services(engine, direction):
    dprk = {"name": "Korea Ryonbong General Corp", "country": "KP"}
    other = {"name": "Tank Repair Plant 103", "country": "RU"}
    t = {**BASE, "supplier": dprk if direction == "from" else other,
         "recipient": other if direction == "from" else dprk,
         "origin_country": "KP" if direction == "from" else "RU",
         "destination_country": "RU" if direction == "from" else "KP",
         "items": [{"description": "T-72 tanks for overhaul and return", "category": "unroca_i_battle_tanks",
                    "servicing": "repair"}]}
    d = engine.check(parse_input(t))
    assert d.verdict == "prohibited"
    arms = "dprk.arms.procurement.heavy" if direction == "from" else "dprk.arms.supply.heavy"
    assert [f.outcome for f in _by_rule(d, arms)] == ["prohibited"]
    (svc,) = _by_rule(d, "dprk.arms.services")
    assert svc.outcome == "prohibited"
    cited = {(c.resolution, c.paragraph) for c in svc.citations}
    assert {("1718 (2006)", "OP8(c)"), ("1874 (2009)", "OP10")} <= cited
    assert any(e.field == "item.subjects" for e in svc.evidence)


def test_a_service_is_judged_on_its_subject(engine):
    training = {**BASE, "kind": "technical_assistance",
                "items": [{"description": "Training of missile engineers", "subject": "ballistic_missile_items"}]}
    d = engine.check(parse_input(training))
    assert [f.outcome for f in _by_rule(d, "dprk.wmd.services")] == ["prohibited"]
    civilian = engine.check(parse_input({**training, "items": [{"description": "Training of nurses",
                                                                 "subject": "civilian"}]}))
    assert not _by_rule(civilian, "dprk.wmd.services") and not _by_rule(civilian, "dprk.arms.services")
    unknown = engine.check(parse_input({**training, "items": [{"description": "Training", "subject": "unknown"}]}))
    assert unknown.verdict == "review"
    assert {f.rule_id for f in unknown.findings} >= {"dprk.arms.services", "dprk.wmd.services"}


def test_a_subject_on_plain_goods_is_refused():
    with pytest.raises(InvalidTransfer, match="subject is for services"):
        parse_input({**BASE, "items": [{"description": "Rice", "subject": "civilian"}]})


def test_arms_without_a_class(engine):
    d = engine.check(parse_input({**BASE, "items": [{"description": "Arms and related materiel",
                                                     "category": "arms_and_related_materiel"}]}))
    assert d.verdict == "prohibited"
    assert [f.outcome for f in _by_rule(d, "dprk.arms.supply.all")] == ["prohibited"]
    (heavy,) = _by_rule(d, "dprk.arms.supply.heavy")
    assert heavy.outcome == "review"
    assert list(heavy.related["undecided"]["unknown"]) == ["items[0].category"]
    assert "items[0].category is one of unroca_i_battle_tanks" in heavy.related["undecided"]["settled_by"][0]


def test_a_class_implies_the_general_category(engine):
    d = engine.check(parse_input({**BASE, "items": [{"description": "Tanks", "category": "unroca_i_battle_tanks"}]}))
    assert [f.outcome for f in _by_rule(d, "dprk.arms.supply.heavy")] == ["prohibited"]
    assert not _by_rule(d, "dprk.arms.supply.all")


# -- HS alternatives -------------------------------------------------------------------------------------------


def test_hs_alternatives_are_each_judged_and_the_strictest_wins(engine):
    d = engine.check(parse_input({**BASE, "items": [{"description": "Cars or lorries", "hs_code": "0101",
                                                     "hs_alternatives": ["8703", "8704-8705"]}]}))
    (f,) = _by_rule(d, "dprk.imports.2397_industrial")
    assert f.outcome == "prohibited"
    assert f.related["hs_alternatives"] == {"0101": "clear", "8703": "prohibited", "8704": "prohibited",
                                            "8705": "prohibited"}
    assert "the strictest outcome stands, under HS 8703" in f.explanation


@pytest.mark.parametrize("bad", ["8705-8701", "87-8705", "0101-0300", "87x3"])
def test_bad_hs_alternatives_are_refused(bad):
    with pytest.raises(InvalidTransfer) as err:
        parse_input({**BASE, "items": [{"description": "x", "hs_alternatives": [bad]}]})
    assert err.value.problems[0].path == "items[0].hs_alternatives[0]"


# -- the two rule defects --------------------------------------------------------------------------------------


def test_a_supplemented_measure_does_not_end(engine):
    labour = {**BASE, "date": "2020-03-01", "kind": "labour", "supplier": {"name": "Korea Construction", "country": "KP"},
              "recipient": {"name": "Builder LLC", "country": "RU"}, "origin_country": "KP", "destination_country": "RU"}
    d = engine.check(parse_input(labour))
    assert _by_rule(d, "dprk.services.workers.2375"), "2397 supplements 2375 OP17; it does not end it"
    assert [f.outcome for f in _by_rule(d, "dprk.services.workers.2397")] == ["prohibited"]
    spec = engine.rulebook.rules["dprk.services.workers.2375"].spec
    assert spec.in_force.until is None and "dprk.services.workers.2397" in spec.supplemented_by


def test_a_rule_cannot_be_both_replaced_and_supplemented(tmp_path):
    from support import TEST_RULE

    from sanctions.exc import InvalidRule
    from sanctions.rulebook import load_rulebook

    (tmp_path / "a.yaml").write_text(TEST_RULE + "replaced_by: [test.other]\nsupplemented_by: [test.other]\n")
    (tmp_path / "b.yaml").write_text(TEST_RULE.replace("id: test.rule", "id: test.other"))
    with pytest.raises(InvalidRule, match="both in replaced_by and supplemented_by"):
        load_rulebook(tmp_path, include_builtin=False)


VESSEL_RULE = """\
id: test.designated_vessel.services
regime: TEST
title: Services to a designated vessel
description: A measure on designated vessels.
direction: vessel_transport
legal_basis:
  - {resolution: 2321 (2016), paragraph: OP9, adopted: 2016-11-30, source: https://example.org, verified: false}
in_force: {from: 2016-11-30}
outcome: prohibited
when: {op: eq, field: transfer.designated_vessel, value: true}
explanation: "{transfer.vessel} is a designated vessel."
"""

HIT = {"role": "vessel", "vessel": "Chon Ma San", "designated_name": "CHON MA SAN", "imo": "8660313",
       "designated_on": "2018-03-30", "basis": "1718 Committee", "matched_on": "imo", "score": 100.0,
       "verified": True, "in_force_on_date": True, "committee_designated": True, "owner_listed": False,
       "explanation": "IMO 8660313 matches"}


def test_a_designated_vessel_hit_becomes_a_finding_citing_the_listing(tmp_path):
    from sanctions.rulebook import load_rulebook
    from sanctions.screening.screen import Screening

    (tmp_path / "vessel.yaml").write_text(VESSEL_RULE)
    engine = Engine(load_rulebook(tmp_path, include_builtin=False), evaluator="reference")
    t = parse_input({**BASE, "kind": "vessel_services",
                     "vessel": {"name": "Chon Ma San", "imo": "8660313", "flag": "KP"}})
    scr = Screening(edition={"edition": "test"}, vessel_hits={"t": [HIT]})
    d = scr.annotate(engine.check(t, screening=scr))
    (f,) = d.findings
    assert f.rule_id == "test.designated_vessel.services" and f.outcome == "prohibited"
    assert f.related["vessel_listings"][0]["imo"] == "8660313"
    assert any(e.field == "transfer.designated_vessel" for e in f.evidence)
    assert not engine.check(t).findings, "without screening the vessel is not known to be designated"


# Transfers that make each built-in rule on designated vessels apply once a vessel hit is known. These rules have
# no ``fires`` examples (a plain example transfer carries no screening facts), so without these cases the test
# below would loop over nothing.
VESSEL_CASES = {
    "dprk.maritime.port_entry.designated_vessel": {
        "vessel": {"name": "Chon Ma San", "imo": "8660313", "flag": "KP"},
        "route": [{"port": "Vostochny", "country": "RU", "role": "discharge"}]},
    "dprk.maritime.insurance.2397": {
        "kind": "vessel_services", "vessel": {"name": "Chon Ma San", "imo": "8660313", "flag": "KP"}},
    "dprk.maritime.deregistration.2397": {"vessel": {"name": "Chon Ma San", "imo": "8660313", "flag": "PA"}},
}


def test_every_builtin_measure_on_designated_vessels_fires_on_a_hit(engine):
    """Whatever measures on designated vessels the rulebook has, a hit fires each that applies, with the listing."""
    from sanctions.rulebook.examples import BASE as EXAMPLE_BASE, merge
    from sanctions.screening.screen import Screening

    on_vessels = {r.id for r in engine.rulebook.rules.values() if "transfer.designated_vessel" in r.keys}
    assert on_vessels, "no built-in rule on designated vessels was tried"
    scr = Screening(edition={"edition": "test"}, vessel_hits={"t": [HIT]})
    for rule_id in sorted(on_vessels):
        cases = [merge(EXAMPLE_BASE, case) for case in engine.rulebook.rules[rule_id].spec.examples.get("fires", [])]
        if rule_id in VESSEL_CASES:
            cases.append({**BASE, **VESSEL_CASES[rule_id]})
        assert cases, f"{rule_id} tests transfer.designated_vessel: give it a case in VESSEL_CASES"
        for i, case in enumerate(cases):
            t = parse_input({**case, "id": "t"})
            d = scr.annotate(engine.check(t, screening=scr))
            fired = [f for f in d.findings if f.rule_id == rule_id]
            assert fired, f"{rule_id} case {i} made no finding on a designated-vessel hit"
            assert all(f.related["vessel_listings"][0]["imo"] == "8660313" for f in fired)
            assert not [f for f in scr.annotate(engine.check(t)).findings if f.rule_id == rule_id], \
                f"{rule_id} case {i} fires without the hit"


def test_unknowns_give_byte_identical_decisions(engine):
    t = parse_input(STS)
    assert to_json(engine.check(t)) == to_json(engine.check(t))


def test_schema_documents_every_unknown_and_precision_form_with_an_example(tmp_path):
    import subprocess
    import sys

    from sanctions.model.records import UNCERTAIN_EXAMPLE

    out = subprocess.run([sys.executable, "-m", "sanctions", "schema"], capture_output=True, text=True,
                         env={"SANCTIONS_DATA_DIR": str(tmp_path), "PATH": ""}, check=True).stdout
    schema = json.loads(out)
    text = schema["description"]
    for form in ("supplier.country", "recipient.country", "intermediaries[].country", "vessel.flag",
                 "sts_vessel.flag", "notified", "purpose", "items[].end_use", "items[].subject",
                 "arms_and_related_materiel", '"2017"', '"2019-09"', "hs_alternatives", '"8701-8705"',
                 "related.undecided"):
        assert form in text, form
    assert schema["examples"] == [UNCERTAIN_EXAMPLE]
    parse_input(UNCERTAIN_EXAMPLE)  # the example is valid input
    defs = schema["$defs"]
    assert "unknown" in defs["Party"]["properties"]["country"]["examples"]
    assert "2017" in defs["Transfer"]["properties"]["date"]["examples"]
    assert "precision" in defs["CoarseDate"]["properties"]


def test_the_flat_batch_layout_keeps_coarse_dates_and_unknowns():
    from sanctions.batch.formats import _transfer_from_rows, flatten

    t = parse_transfer({**BASE, "date": "2019-09", "supplier": {"name": "X", "country": "unknown"},
                        "vessel": {"name": "V", "flag": "unknown"}, "items": [{"description": "d"}]})
    rows = flatten(t.model_dump(mode="json"))
    assert (rows[0]["date_start"], rows[0]["date_end"]) == ("2019-09", None)
    back = parse_transfer(_transfer_from_rows(rows))
    assert back.date == t.date and back.supplier.country == "unknown" and back.vessel.flag == "unknown"


def test_an_undecided_finding_keeps_its_rules_assumption(engine):
    """A rule whose finding rests on a stated assumption says it on every finding, the undecided ones too: its
    fires example dated only by the year its measure began is a review finding turning on the day."""
    from sanctions.rulebook.examples import BASE as EXAMPLE_BASE, merge

    undecided = 0
    for rule in engine.rulebook.rules.values():
        if not rule.spec.assumption or not rule.spec.examples.get("fires"):
            continue
        data = {**merge(EXAMPLE_BASE, rule.spec.examples["fires"][0]), "id": "t",
                "date": str(rule.spec.in_force.from_.year)}
        for f in engine.check(parse_input(data)).findings:
            if f.rule_id == rule.id:
                undecided += "undecided" in f.related
                assert f"Assumption: {' '.join(rule.spec.assumption.split())}" in f.explanation, (rule.id, f.outcome)
    assert undecided >= 5
