"""Differential: the durable-rules evaluator and the reference evaluator give the same decisions."""

from __future__ import annotations

import importlib.util
import json

import pytest
from hypothesis import given
from property_support import subjects

from sanctions.explain import to_json

_DURABLE_MISSING = importlib.util.find_spec("sanctions.evaluate._durable") is None


def _without_evaluator(decision):
    data = json.loads(to_json(decision))
    data.pop("evaluator")
    return data


@pytest.fixture(scope="module")
def durable_engine(rulebook):
    from sanctions.evaluate import _durable
    from sanctions.engine import Engine

    ok, why = _durable.available()
    if not ok:
        pytest.skip(f"durable-rules is not available: {why}")
    return Engine(rulebook, evaluator="durable")


@pytest.mark.skipif(_DURABLE_MISSING, reason="sanctions.evaluate._durable (the durable-rules adapter) is not importable yet")
@given(subjects())
def test_durable_and_reference_agree(engine, durable_engine, subject):
    assert durable_engine.evaluator_name == "durable"
    assert _without_evaluator(durable_engine.check(subject)) == _without_evaluator(engine.check(subject))
