"""Unknown is not absent: making a fact unknown never turns a prohibition into a pass, and the evaluators agree.

For each rule that prohibits, transfers drawn to fire it (:func:`sanctions.strategies.violating`) have some of
their facts made unknown (:func:`sanctions.strategies.unknown_variants`: a party's country, a vessel's flag,
the notification status, a purpose, an end use, a subject, an item's class widened to the general arms
category, a day widened to its year or month). The rule must still prohibit, or ask for review; never clear.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanctions import strategies as S
from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.rulebook import load_rulebook

_RB = load_rulebook()
PROHIBITING = sorted(r.id for r in _RB.rules.values()
                     if r.spec.outcome == "prohibited" and r.scope != "deal" and r.spec.examples.get("fires"))


@pytest.fixture(scope="module")
def fast(rulebook):
    return Engine(rulebook, evaluator="batch")  # agrees with the reference evaluator (test below)


@pytest.mark.parametrize("rule_id", PROHIBITING)
@settings(max_examples=max(3, settings().max_examples // 5))  # per rule: about 130 rules
@given(data=st.data())
def test_an_unknown_fact_never_turns_prohibited_into_clear(fast, rule_id, data):
    engine = fast
    t = data.draw(S.violating(rule_id))
    before = {(f.item_index, f.outcome) for f in engine.check(t).findings if f.rule_id == rule_id}
    prohibited_at = {i for i, o in before if o == "prohibited"}
    if not prohibited_at:
        return  # the drawn transfer is only under review already (its example leaves something open)
    u = data.draw(S.unknown_variants(t))
    after = engine.check(u)
    assert after.verdict != "clear", f"{rule_id}: clear once {u.model_dump(mode='json', exclude_none=True)}"
    kept = {f.item_index: f.outcome for f in after.findings if f.rule_id == rule_id}
    for i in prohibited_at:
        assert kept.get(i) in ("prohibited", "review"), (
            f"{rule_id} item {i}: {kept.get(i)!r} after {u.model_dump(mode='json', exclude_none=True)}")
        if kept[i] == "review":
            f = next(f for f in after.findings if f.rule_id == rule_id and f.item_index == i)
            undecided = f.related["undecided"]
            assert undecided["settled_by"], "a review for an unknown fact says what would settle it"
            assert undecided["unknown"] or undecided["date_covered"]


def _evaluators() -> list[str]:
    from support import evaluator_params

    return evaluator_params("batch", "durable")


@pytest.fixture(scope="module", params=_evaluators())
def other(request, rulebook):
    return Engine(rulebook, evaluator=request.param)


def _same(decision) -> str:
    data = json.loads(to_json(decision))
    data["evaluator"] = "-"
    data["notes"] = [n for n in data["notes"] if not n.startswith("durable-rules is not available")]
    return json.dumps(data, sort_keys=True)


@given(data=st.data())
def test_evaluators_agree_on_unknowns(engine, other, data):
    rule_id = data.draw(st.sampled_from(PROHIBITING))
    t = data.draw(S.violating(rule_id))
    u = data.draw(S.unknown_variants(t))
    assert _same(engine.check(u)) == _same(other.check(u))
