"""The must/could forms of a condition (compiled.py, "Unknown values") against Kleene's three-valued logic,
and against every world the unknown values could be in."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sanctions.evaluate import compiled as C

KEYS = ("a", "b", "c")
VALUES = ("x", "y", "z")  # z: a value no condition names
DEFAULT = ""


def _leaves() -> st.SearchStrategy[C.Cond]:
    return st.builds(C.Test, st.sampled_from(KEYS), st.sampled_from(["eq", "ne"]), st.sampled_from(VALUES[:2]))


CONDS = st.recursive(_leaves(), lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda p: C.And(tuple(p))),
    st.lists(inner, max_size=3).map(lambda p: C.Or(tuple(p)))), max_leaves=8)


def _kleene(cond: C.Cond, values: dict[str, str | None]) -> bool | None:
    """True, False or None (unknown) in Kleene's strong three-valued logic; None value = unknown."""
    if isinstance(cond, C.Test):
        v = values[cond.key]
        if v is None:
            return None
        return (v == cond.value) if cond.op == "eq" else (v != cond.value)
    parts = [_kleene(p, values) for p in cond.parts]
    if isinstance(cond, C.And):
        return False if False in parts else (None if None in parts else True)
    return True if True in parts else (None if None in parts else False)


def _fact(values: dict[str, str | None]) -> dict[str, C.Scalar]:
    fact: dict[str, C.Scalar] = {}
    for k, v in values.items():
        fact[k] = DEFAULT if v is None else v
        fact[C.unknown_key(k)] = v is None
    return fact


@given(CONDS, st.fixed_dictionaries({k: st.one_of(st.none(), st.sampled_from(VALUES)) for k in KEYS}))
def test_must_and_could_are_kleene_true_and_not_false(cond, values):
    negated = C.negate(cond)  # the compiler pushes negation down before guarding: exercise both polarities
    for c in (cond, negated):
        must = C.must(c, lambda k: True, lambda k: DEFAULT)
        could = C.could(c, lambda k: True, lambda k: DEFAULT)
        k3 = _kleene(c, values)
        fact = _fact(values)
        assert C.holds(must, fact) == (k3 is True)
        assert C.holds(could, fact) == (k3 is not False)


@given(CONDS, st.fixed_dictionaries({k: st.one_of(st.none(), st.sampled_from(VALUES)) for k in KEYS}))
def test_must_holds_in_every_world_and_could_fails_in_none_that_it_excludes(cond, values):
    must = C.holds(C.must(cond, lambda k: True, lambda k: DEFAULT), _fact(values))
    could = C.holds(C.could(cond, lambda k: True, lambda k: DEFAULT), _fact(values))
    unknown = [k for k, v in values.items() if v is None]
    worlds = [dict(values, **dict(zip(unknown, choice, strict=True)))
              for choice in itertools.product(VALUES, repeat=len(unknown))]
    outcomes = {C.holds(cond, w) for w in worlds}
    if must:
        assert outcomes == {True}
    if not could:
        assert outcomes == {False}


def test_keys_that_are_never_unknown_are_left_alone():
    cond = C.And((C.Test("a", "eq", "x"), C.Test("b", "ne", "y")))
    assert C.must(cond, lambda k: False, lambda k: DEFAULT) == cond
    assert C.could(cond, lambda k: False, lambda k: DEFAULT) == cond
