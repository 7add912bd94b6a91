"""A deliberately broken rule pack: the invariants above must catch it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import find, settings
from hypothesis.errors import NoSuchExample
from property_support import copy_rules, time_violations

from sanctions import strategies as S
from sanctions.engine import Engine
from sanctions.rulebook import load_rulebook

RULE = "dprk.arms.supply.heavy"  # adopted in 1718 (2006), in force from 2006-10-14


def _broken_pack(tmp_path, breaker):
    def edit(data):
        return breaker(data) if data.get("id") == target else data

    target = breaker.rule
    copy_rules(tmp_path, edit=edit)
    return Engine(load_rulebook(tmp_path, include_builtin=False), evaluator="reference")


def _backdated(data):
    """The in-force date moved to 1990, before the resolution was adopted. Its exemptions go too: the Committee
    exemptions are dated from 2016, and violating() keeps a drawn date on the example's side of every date an
    exemption depends on, which would keep it after 2016."""
    return data | {"in_force": {"from": dt.date(1990, 1, 1)}, "exemptions": []}


_backdated.rule = RULE


def _inverted(data):
    """The return-flight exemption of the aviation-fuel ban inverted: it now clears every other end use."""
    ex = [e | {"when": {"op": "not", "of": e["when"]}} if e["id"] == "return-flight" else e
          for e in data["exemptions"]]
    return data | {"exemptions": ex}


_inverted.rule = "dprk.petroleum.aviation_fuel"


def test_the_time_invariant_catches_a_rule_in_force_before_its_resolution(tmp_path):
    broken = _broken_pack(tmp_path, _backdated)
    # violating() keeps dates inside the (broken) in-force period, so it reaches back before 2006
    bad = find(S.violating(RULE, rulebook=broken.rulebook),
               lambda t: bool(time_violations(broken.check(t), t, broken.rulebook)),
               settings=settings(max_examples=500, database=None))
    assert bad.end < dt.date(2006, 10, 14)
    assert any("before its resolutions were adopted" in v
               for v in time_violations(broken.check(bad), bad, broken.rulebook))


def test_violating_catches_an_inverted_exemption(tmp_path):
    broken = _broken_pack(tmp_path, _inverted)
    rule = _inverted.rule
    bad = find(S.violating(rule, rulebook=broken.rulebook),
               lambda t: rule not in {f.rule_id for f in broken.check(t).findings},
               settings=settings(max_examples=100, database=None))
    assert rule not in {f.rule_id for f in broken.check(bad).findings}


def test_the_unbroken_pack_passes_the_same_checks(engine):
    with pytest.raises(NoSuchExample):
        find(S.violating(RULE), lambda t: bool(time_violations(engine.check(t), t, engine.rulebook)),
             settings=settings(max_examples=50, database=None))
