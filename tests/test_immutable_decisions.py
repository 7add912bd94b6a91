"""Issue 16 item 4: decisions share no mutable state with the engine or with each other.

Before the fix, clearing ``decision.findings[0].citations`` removed that citation from every earlier and later
decision (the engine shares one citation list per rule), and appending ``None`` broke every later check.
"""

from __future__ import annotations

import copy
import pickle

import pytest

import sanctions
from sanctions.explain import Citation, Considered, Decision, Evidence, Finding, FrozenDict
from support import load_fixture

FOUNDING = "dprk_russia_arms_for_oil.json"


@pytest.fixture(scope="module", params=["reference", "batch"])
def engine(request):
    return sanctions.Engine(evaluator=request.param)


def _mutations(d: Decision):
    f = d.findings[0]
    yield "clear a finding's citations", lambda: f.citations.clear()
    yield "append None to the citations", lambda: f.citations.append(None)
    yield "append to the findings", lambda: d.findings.append(None)
    yield "clear the evidence", lambda: f.evidence.clear()
    yield "edit the in-force dates", lambda: f.in_force.__setitem__("from", None)
    yield "edit the subject", lambda: d.subject.update(id="other")
    yield "edit the rulebook record", lambda: d.rulebook.clear()
    yield "add a note", lambda: d.notes.append("x")
    yield "assign a field", lambda: setattr(d, "verdict", "clear")


def test_item_4_a_caller_cannot_change_a_decision_or_the_next_one(engine):
    before = sanctions.to_json(engine.check(load_fixture(FOUNDING)))
    d = engine.check(load_fixture(FOUNDING))
    for what, mutate in _mutations(d):
        with pytest.raises((AttributeError, TypeError, ValueError)):
            mutate()
        assert sanctions.to_json(d) == before, what
    assert sanctions.to_json(engine.check(load_fixture(FOUNDING))) == before


def test_item_4_every_sequence_or_mapping_in_a_decision_is_immutable(engine):
    d = engine.check(load_fixture(FOUNDING))

    def walk(v, path):
        assert not isinstance(v, (list, set)), path
        assert not isinstance(v, dict) or isinstance(v, FrozenDict), path
        if isinstance(v, sanctions.explain._Out):
            for k in type(v).model_fields:
                walk(getattr(v, k), f"{path}.{k}")
        elif isinstance(v, (tuple, FrozenDict)):
            for i, x in (v.items() if isinstance(v, dict) else enumerate(v)):
                walk(x, f"{path}[{i!r}]")

    walk(d, "decision")


def test_item_4_copies_made_with_model_copy_stay_frozen(engine):
    d = engine.check(load_fixture(FOUNDING))
    c = d.model_copy(update={"notes": ["a", "b"], "screening": {"performed": False}})
    assert c.notes == ("a", "b") and isinstance(c.screening, FrozenDict)
    with pytest.raises(TypeError):
        c.screening["performed"] = True


def test_item_4_frozen_decisions_still_pickle_copy_and_serialise_the_same(engine):
    d = engine.check(load_fixture(FOUNDING))
    for other in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert sanctions.to_json(other) == sanctions.to_json(d)
    assert Decision.model_validate_json(sanctions.to_json(d)) == d


def test_output_models_declare_tuples_not_lists():
    """A new field declared ``list[...]`` would be frozen into a tuple and warn at serialisation: declare tuples."""
    for model in (Citation, Evidence, Finding, Considered, Decision):
        for name, field in model.model_fields.items():
            assert "list[" not in str(field.annotation), f"{model.__name__}.{name}: {field.annotation}"
