"""Scope kinds beyond the country: a region inside a country, the class of end user, a named mission or group,
and selecting regimes. Rules use them through ordinary fields; no regime is named in the engine."""

from __future__ import annotations

import datetime as dt

import pytest

from sanctions.engine import Engine
from sanctions.exc import InvalidInput, InvalidRule, InvalidTransfer
from sanctions.model.records import parse_transfer
from sanctions.rulebook import load_rulebook, select_regimes
from sanctions.rulebook.facts import end_user_raw

BASE = {
    "id": "t1", "date": "2024-08-01", "kind": "goods",
    "supplier": {"name": "Supplier Co", "country": "CN"},
    "recipient": {"name": "Recipient Co", "country": "SD"},
    "origin_country": "CN", "destination_country": "SD",
    "items": [{"description": "Rifles", "category": "small_arms_light_weapons"}],
}

REGION_RULE = """\
id: t.region
regime: Test Region
title: Arms into a region
description: Arms into North or West Darfur.
direction: supply_to_target
legal_basis:
  - {resolution: 1556 (2004), paragraph: OP7, adopted: 2004-07-30, source: https://example.org, verified: false}
in_force: {from: 2004-07-30, until: 2020-12-31, note: ended by a test resolution}
outcome: prohibited
when:
  op: all
  of:
    - {op: in, field: transfer.destination_subdivision, values: [SD-DN, SD-DW]}
    - {op: contains, field: item.categories, value: small_arms_light_weapons}
exemptions:
  - id: mission
    title: A named mission
    legal_basis:
      - {resolution: 1556 (2004), paragraph: OP9, adopted: 2004-07-30, source: https://example.org, verified: false}
    in_force: {from: 2004-07-30}
    when: {op: eq, field: transfer.end_user.organisation, value: "  UNAMID "}
    explanation: "for {transfer.end_user}"
caveat: A standing   qualification.
explanation: "{item.description} to {transfer.destination_region} for {transfer.end_user}."
"""

END_USER_RULE = """\
id: t.end_user
regime: Test End User
title: Arms to armed groups
description: Arms to armed groups.
direction: supply_to_target
legal_basis:
  - {resolution: 2745 (2024), paragraph: OP1, adopted: 2024-07-30, source: https://example.org, verified: false}
in_force: {from: 2024-07-30}
outcome: prohibited
when:
  op: all
  of:
    - {op: in, field: transfer.end_user.kind, values: [armed_group]}
    - {op: contains, field: item.categories, value: small_arms_light_weapons}
explanation: "{item.description} for {transfer.end_user}."
"""


@pytest.fixture(scope="module")
def rulebook(tmp_path_factory):
    d = tmp_path_factory.mktemp("rules")
    (d / "region.yaml").write_text(REGION_RULE)
    (d / "end_user.yaml").write_text(END_USER_RULE)
    return load_rulebook(d, include_builtin=False)


def _t(**over):
    data = dict(BASE)
    data.update(over)
    return parse_transfer(data)


def test_subdivision_is_an_iso_3166_2_code_of_the_destination():
    assert _t(destination_subdivision="sd-dn").destination_subdivision == "SD-DN"
    with pytest.raises(InvalidTransfer, match="destination_subdivision.*ISO 3166-2"):
        _t(destination_subdivision="SD-XX")
    with pytest.raises(InvalidTransfer, match="not a region of destination_country 'SD'"):
        _t(destination_subdivision="KP-01")


def test_end_user_is_declared_or_derived_from_the_recipient():
    declared = end_user_raw(_t(end_user={"kind": "armed_group", "organisation": "Rapid  Support Forces"}))
    assert declared == {"transfer.destination_subdivision": None, "transfer.end_user.kind": "armed_group",
                        "transfer.end_user.country": "SD", "transfer.end_user.organisation": "rapid support forces",
                        "transfer.exemption_grantors": set()}
    army = end_user_raw(_t(recipient={"name": "Army", "country": "SD", "kind": "armed_forces"}))
    assert army["transfer.end_user.kind"] == "government_forces" and army["transfer.end_user.country"] == "SD"
    broker = end_user_raw(_t())  # a company recipient says nothing about who uses the goods
    assert broker["transfer.end_user.kind"] is None and broker["transfer.end_user.country"] is None


def test_region_rule_fires_only_inside_the_region(rulebook):
    engine = Engine(rulebook, evaluator="reference")
    inside = engine.check(_t(date="2019-05-01", destination_subdivision="SD-DW"))
    assert [f.rule_id for f in inside.findings] == ["t.region"]
    assert "West Darfur (SD-DW)" in inside.findings[0].explanation
    assert inside.findings[0].explanation.endswith("A standing qualification.")
    assert any(n.startswith("t.region: A standing qualification") for n in inside.notes)
    outside = engine.check(_t(date="2019-05-01", destination_subdivision="SD-KH"))
    assert "t.region" in outside.not_matched and outside.verdict == "clear"


def test_named_mission_exemption_compares_names_loosely(rulebook):
    engine = Engine(rulebook, evaluator="reference")
    d = engine.check(_t(date="2019-05-01", destination_subdivision="SD-DN",
                         end_user={"kind": "un_mission", "organisation": "unamid"}))
    assert d.verdict == "clear"
    assert [c.status for c in d.considered if c.rule_id == "t.region"] == ["exempted"]


def test_out_of_force_reason_gives_the_note_and_the_decision_says_nothing_applies(rulebook):
    engine = Engine(rulebook, evaluator="reference")
    d = engine.check(_t(date="2022-05-01", destination_subdivision="SD-DN"))
    assert d.verdict == "clear"
    (c,) = [c for c in d.considered if c.rule_id == "t.region"]
    assert c.status == "not_in_force" and "ended by a test resolution" in c.reason
    assert any(n.startswith("Test Region: no measure applies to t1") for n in d.notes)


@pytest.mark.parametrize("evaluator", ["reference", "batch", "durable"])
def test_end_user_class_rule_in_every_evaluator(rulebook, evaluator):
    engine = Engine(rulebook, evaluator=evaluator)
    group = engine.check(_t(end_user={"kind": "armed_group"}))
    army = engine.check(_t(recipient={"name": "Army", "country": "SD", "kind": "armed_forces"}))
    assert "t.end_user" in {f.rule_id for f in group.findings}
    assert "t.end_user" not in {f.rule_id for f in army.findings}


def test_select_regimes_matches_names_loosely_and_says_which_were_considered(rulebook):
    part = select_regimes(rulebook, ["test_end-user"])
    assert part.regimes == ("Test End User",) and list(part.rules) == ["t.end_user"]
    assert part.digest == rulebook.digest
    d = Engine(part, evaluator="reference").check(_t(destination_subdivision="SD-DN"))
    assert d.regimes == ("Test End User",) and d.findings == ()
    assert Engine(rulebook, evaluator="reference", regimes=["TEST REGION"]).rulebook.regimes == ("Test Region",)


def test_unknown_regime_is_a_clear_error(rulebook):
    with pytest.raises(InvalidInput) as err:
        select_regimes(rulebook, ["test regoin"])
    text = str(err.value)
    assert "unknown regime 'test regoin'" in text and "did you mean 'Test Region'" in text


def test_rule_constants_for_regions_are_checked(tmp_path):
    (tmp_path / "r.yaml").write_text(REGION_RULE.replace("SD-DW", "SD-ZZ"))
    with pytest.raises(InvalidRule, match="'SD-ZZ' is not an ISO 3166-2 subdivision code"):
        load_rulebook(tmp_path, include_builtin=False)


def test_as_of_moves_the_region_rule_out_of_force(rulebook):
    engine = Engine(rulebook, evaluator="reference")
    d = engine.check(_t(date="2019-05-01", destination_subdivision="SD-DN"), as_of=dt.date(2021, 1, 1))
    assert d.findings == () and Engine(rulebook, evaluator="reference").check(
        _t(date="2019-05-01", destination_subdivision="SD-DN")).verdict == "prohibited"
    assert d.verdict == "clear"
