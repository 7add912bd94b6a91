"""The regime fixtures: documented real cases, each with its sources in the notes; a violation is prohibited
and a lawful case is not, under every evaluator (the goldens pin the whole decision)."""

from __future__ import annotations

import json
import re

import pytest

from support import FIXTURES, SHARED
from sanctions.engine import Engine
from sanctions.model.records import parse_input

REGIME_FIXTURES = {
    "iran_francop_arms_2009.json": ("prohibited", "iran.arms.procurement.1747"),
    "lawful_iran_s300_2016.json": ("clear", None),
    "haiti_container_2025.json": ("prohibited", "haiti.arms.territorial"),
    "lawful_haiti_mss_vehicles_2024.json": ("clear", None),
    "sudan_rsf_darfur_2023.json": ("prohibited", "sudan.arms.darfur"),
    "lawful_sudan_saf_khartoum_2023.json": ("clear", None),
    "lawful_car_russian_arms_2017.json": ("clear", None),
    "south_sudan_police_apcs_2022.json": ("prohibited", "south_sudan.arms.supply"),
    "yemen_dhow_houthis_2024.json": ("prohibited", "yemen.arms.houthis"),
    "libya_lna_armoured_vehicles_2016.json": ("prohibited", "libya.arms.supply"),
    "lawful_libya_committee_approved_2016.json": ("clear", None),
    "lebanon_lutfallah_ii_2012.json": ("prohibited", "lebanon.arms.non_state"),
    "lawful_lebanon_laf_super_tucano_2017.json": ("clear", None),
    "drc_rwanda_m23_2012.json": ("prohibited", "drc.arms.non_governmental"),
    "lawful_drc_fardc_drones_2023.json": ("clear", None),
    "somalia_charcoal_kismayo_dubai_2017.json": ("prohibited", "somalia.charcoal"),
    "lawful_somalia_egypt_sna_2024.json": ("clear", None),
    "lawful_iraq_f16_2015.json": ("clear", None),
}

# The rule each prohibited fixture must fire, and the rules its nearest lawful counterpart must consider and
# clear by an exemption (not merely fail to match), so the pair tests the exemption, not the data.
EXEMPTED = {
    "lawful_libya_committee_approved_2016.json": ("libya.arms.supply", "committee-approved"),
    "lawful_lebanon_laf_super_tucano_2017.json": ("lebanon.arms.non_state", "lebanese-state"),
    "lawful_somalia_egypt_sna_2024.json": ("somalia.arms.supply", "somali-government-forces"),
}

# Fixtures whose finding turns on a screening hit: judged against the shared UN list edition. Without a list
# (the goldens are made without screening) they are clear, and the decision says screening was not performed.
LIST_2026_05 = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
SCREENED_FIXTURES = {
    "isil_lafarge_payments_2013.json": ("prohibited", "isil_alqaida.persons.asset_freeze", "QDe.115"),
}


@pytest.mark.parametrize("name", sorted(REGIME_FIXTURES))
@pytest.mark.parametrize("evaluator", ["reference", "batch", "durable"])
def test_regime_fixture_verdict_and_sources(name, evaluator):
    data = json.loads((FIXTURES / name).read_text())
    notes = " ".join(t.get("notes", "") for t in data.get("transfers", [data]))
    assert re.search(r"[a-z0-9-]+\.(org|com|net|in|aero|aspx)\b", notes), f"{name}: no source in the notes"
    assert ("Documented" in notes) or ("Lawful" in notes), name
    verdict, rule = REGIME_FIXTURES[name]
    d = Engine(evaluator=evaluator).check(parse_input(data, source=name))
    assert d.verdict == verdict
    if rule:
        assert rule in {f.rule_id for f in d.findings}


@pytest.mark.parametrize("name", sorted(EXEMPTED))
def test_lawful_counterpart_is_cleared_by_the_exemption(reference_engine, name):
    rule_id, exemption = EXEMPTED[name]
    d = reference_engine.check(parse_input(json.loads((FIXTURES / name).read_text()), source=name))
    assert d.verdict == "clear"
    considered = [c for c in d.considered if c.rule_id == rule_id]
    assert considered and all(c.status == "exempted" for c in considered), considered
    assert all(exemption in str(c.exemption) for c in considered), [c.exemption for c in considered]


@pytest.mark.skipif(not LIST_2026_05.exists(), reason="shared UN list edition missing")
@pytest.mark.parametrize("name", sorted(SCREENED_FIXTURES))
@pytest.mark.parametrize("evaluator", ["reference", "batch", "durable"])
def test_screened_regime_fixture(name, evaluator):
    from sanctions.screening import lists, matching
    from sanctions.screening import screen as screening

    data = json.loads((FIXTURES / name).read_text())
    assert "Documented" in data["notes"] and re.search(r"[a-z0-9-]+\.(org|com|net|gov)\b", data["notes"])
    verdict, rule, ref = SCREENED_FIXTURES[name]
    engine = Engine(evaluator=evaluator)
    unscreened = engine.check(parse_input(data, source=name))
    assert unscreened.verdict == "clear" and rule not in {f.rule_id for f in unscreened.findings}
    d = screening.check(engine, parse_input(data, source=name), matching.index_for(lists.load(LIST_2026_05)))
    assert d.verdict == verdict
    (f,) = [f for f in d.findings if f.rule_id == rule]
    # entries listed after the transfer's dates are carried with in_force_on_date false, never as the basis
    assert {h["reference_number"] for h in f.related["listings"] if h["in_force_on_date"]} == {ref}
