"""The regime fixtures: documented real cases, each with its sources in the notes; a violation is prohibited
and a lawful case is not, under every evaluator (the goldens pin the whole decision)."""

from __future__ import annotations

import json
import re

import pytest

from support import FIXTURES
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
