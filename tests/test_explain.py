"""Evidence speaks of the transfer's fields, in words: never of the fact keys the engine compiles them to."""

from __future__ import annotations

from support import FIXTURES, load_fixture
from sanctions.rulebook.examples import examples
from sanctions.rulebook.facts import FIELDS


def all_evidence(decision):
    for f in decision.findings:
        yield from f.evidence
    for c in decision.considered:
        if c.exemption:
            yield from c.exemption["evidence"]


def test_evidence_names_fields_and_tests_in_words(rulebook, reference_engine):
    subjects = [t for kind in ("fires", "clears") for _, t in examples(rulebook, kind)]
    subjects += [load_fixture(p.name) for p in sorted(FIXTURES.glob("*.json"))]
    seen = 0
    for s in subjects:
        for e in all_evidence(reference_engine.check(s)):
            field, test = (e["field"], e["test"]) if isinstance(e, dict) else (e.field, e.test)
            # "has:transfer.destination_subdivision is True" once reached a golden file
            if field.startswith(("deal.", "leg.")):  # a deal finding's own evidence (links, leg findings, pairs)
                continue
            assert field in FIELDS, (field, test)
            if FIELDS[field].type != "bool":  # a yes/no field is "is True"; nothing else is
                assert not test.startswith(("is True", "is False")), (field, test)
            seen += 1
    assert seen > 500


def test_a_field_that_must_be_given_shows_its_value(reference_engine):
    d = reference_engine.check(load_fixture("sudan_rsf_darfur_2023.json"))
    given = [e for f in d.findings for e in f.evidence if e.field == "transfer.destination_subdivision"]
    assert given and {(e.test, e.value) for e in given} == {("is given", "SD-DN")}


def test_every_finding_says_why_each_exemption_of_its_rule_did_not_apply(rulebook, reference_engine):
    seen = 0
    for rule_id, t in examples(rulebook, "fires"):
        for f in reference_engine.check(t).findings:
            rule = rulebook.rules.get(f.rule_id)
            if rule is None or f.outcome == "review":  # review findings list the ones that may apply apart
                continue
            assert [x["id"] for x in f.exemptions_not_applied] == [ex.spec.id for ex in rule.exemptions]
            assert all(x["reason"].startswith(("not met: ", "in force from ")) for x in f.exemptions_not_applied)
            seen += len(f.exemptions_not_applied)
    assert seen > 100


def coal_via_rajin(**extra):
    from sanctions.model.records import parse_transfer

    return parse_transfer({
        "id": "rajin", "date": "2024-03-01", "supplier": {"name": "Coal Trader", "country": "RU"},
        "recipient": {"name": "Buyer", "country": "CN"}, "origin_country": "RU", "destination_country": "CN",
        "route": [{"port": "Rajin", "country": "KP", "role": "transshipment"}],
        "items": [{"description": "Thermal coal", "hs_code": "270112", "origin_country": "RU",
                   "quantity": {"value": 50000, "unit": "tonnes"}}], **extra})


def test_the_rajin_carve_out_says_what_was_missing(reference_engine):
    d = reference_engine.check(coal_via_rajin())
    f = next(f for f in d.findings if f.rule_id == "dprk.exports.coal.2371")
    why = {x["id"]: x["reason"] for x in f.exemptions_not_applied}
    assert why["rajin-transit"] == "not met: transfer.notified is True (it is False)"
    assert why["wind-down-iron"].startswith("not met: ")
    assert "which does not cover 2024-03-01" in why["wind-down-iron"]  # and its 30 days ended in 2017
    # with the notification the carve-out applies, and nothing is left to explain
    cleared = reference_engine.check(coal_via_rajin(notifications=[{"date": "2024-02-20"}]))
    assert cleared.verdict == "clear"


def test_an_exemption_whose_conditions_hold_out_of_its_dates_says_so(reference_engine):
    from sanctions.model.records import parse_transfer

    iron = parse_transfer({
        "id": "iron", "date": "2017-09-20", "supplier": {"name": "Korea Iron", "country": "KP"},
        "recipient": {"name": "Buyer", "country": "CN"}, "origin_country": "KP", "destination_country": "CN",
        "contract": {"date": "2017-07-01", "written": True}, "notifications": [{"date": "2017-09-10"}],
        "items": [{"description": "Iron ore", "hs_code": "260111", "quantity": {"value": 1000, "unit": "tonnes"}}]})
    f = next(f for f in reference_engine.check(iron).findings if f.rule_id == "dprk.exports.coal.2371")
    why = {x["id"]: x["reason"] for x in f.exemptions_not_applied}
    assert why["wind-down-iron"] == "in force from 2017-08-05 until 2017-09-04, which does not cover 2017-09-20"
