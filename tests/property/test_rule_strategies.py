"""Every rule with examples: ``violating(rule)`` fires it and ``clearing(rule)`` does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from property_support import RULES_WITH_CLEARS, RULES_WITH_FIRES, scaled

from sanctions import strategies as S


@pytest.mark.parametrize("rule_id", RULES_WITH_FIRES)
def test_violating_fires_the_rule(engine, rule_id):
    @settings(max_examples=scaled(2, minimum=5))
    @given(S.violating(rule_id))
    def check(t):
        decision = engine.check(t)
        assert rule_id in {f.rule_id for f in decision.findings}, [c for c in decision.considered
                                                                   if c.rule_id == rule_id]

    check()


@pytest.mark.parametrize("rule_id", RULES_WITH_CLEARS)
def test_clearing_does_not_fire_the_rule(engine, rule_id):
    @settings(max_examples=scaled(2, minimum=5))
    @given(S.clearing(rule_id))
    def check(t):
        assert rule_id not in {f.rule_id for f in engine.check(t).findings}

    check()
