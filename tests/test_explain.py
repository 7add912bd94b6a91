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
