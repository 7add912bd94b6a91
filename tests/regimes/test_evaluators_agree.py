"""The durable, reference and batch evaluators give the same decision on every example of every rule of the
other regimes (the property suites compare them on drawn transfers; this pins the rule files' own examples)."""

from __future__ import annotations

import json

import pytest

from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.rulebook import load_rulebook
from sanctions.rulebook.examples import example_transfer

RULEBOOK = load_rulebook()
ENGINES = {name: Engine(RULEBOOK, evaluator=name) for name in ("reference", "batch", "durable")}
CASES = [(rid, kind, i) for rid, rule in RULEBOOK.rules.items() if rule.spec.regime != "DPRK"
         for kind in ("fires", "clears") for i in range(len(rule.spec.examples.get(kind, [])))]


def _decision(engine, t) -> dict:
    d = json.loads(to_json(engine.check(t)))
    d.pop("evaluator")
    d["notes"] = [n for n in d["notes"] if not n.startswith("durable-rules is not available")]
    return d


def test_there_are_examples_of_the_other_regimes():
    assert len({rid.split(".")[0] for rid, _, _ in CASES}) >= 11  # the listed-persons-only regimes have none


@pytest.mark.parametrize(("rule_id", "kind", "index"), CASES)
def test_three_evaluators_agree(rule_id, kind, index):
    t = example_transfer(rule_id, kind, index, RULEBOOK.rules[rule_id].spec.examples[kind][index])
    ref, batch, durable = (_decision(ENGINES[n], t) for n in ("reference", "batch", "durable"))
    assert ref == batch == durable
