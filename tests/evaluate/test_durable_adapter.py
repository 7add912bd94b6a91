"""The durable-rules adapter gives the reference evaluator's answers and survives durable-rules' hazards.

The property test runs in this process; the crash-prone scenarios (``tests/_durable_child.py``) run in child
processes, started together, so that a segfault or a hang fails a test instead of ending pytest.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanctions.evaluate import _durable
from sanctions.evaluate.reference import ReferenceEvaluator
from sanctions.evaluate.compiled import (
    FALSE,
    TRUE,
    And,
    CompiledRulebook,
    Cond,
    Join,
    JoinPattern,
    Match,
    Or,
    Pattern,
)
from sanctions.evaluate.compiled import Test as Leaf  # not "Test": pytest would try to collect it

durable_ok, durable_why = _durable.available()
needs_durable = pytest.mark.skipif(not durable_ok, reason=durable_why)

CHILD = Path(__file__).with_name("_durable_child.py")
SCENARIOS = [
    "many_calls",
    "no_match",
    "many_patterns_one_fact",
    "sharding",
    "threads",
    "two_evaluators",
    "failure_recovers",
]


# -- availability --------------------------------------------------------------------------------------------


def test_available_here() -> None:
    ok, why = _durable.available()
    assert ok, why
    assert "durable-rules" in why


def test_engine_error_is_the_package_one() -> None:
    from sanctions.exc import EngineError

    assert _durable.EngineError is EngineError


# -- random rulebooks and facts ------------------------------------------------------------------------------

NASTY = [
    "",
    "\x00",
    "a\x00b",
    '"',
    "'",
    '\\"',
    "\\",
    "\\u0000",
    "😀",
    "e\u0301",
    "\u202e",
    "\n\t",
    "{}",
    "[1]",
    "$neq",
    "sid",
    "id",
    "c",
    "k0",
    "KP",
    "x" * 3000,
]
KINDS = ("transfer", "item")
TYPES = (str, int, float, bool)

strings = st.one_of(st.sampled_from(NASTY), st.text(max_size=6))
ints = st.one_of(st.integers(-4, 4), st.sampled_from([2**53, -(2**53), 2**31, -(2**31) - 1]))
floats = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -2.5, 1e300, -1e300, 5e-324, 0.1 + 0.2, 0.3]),
    st.floats(-5, 5, allow_nan=False, allow_infinity=False),
)
VALUES = {str: strings, int: ints, float: floats, bool: st.booleans()}


@st.composite
def cases(draw: st.DrawFn) -> tuple[CompiledRulebook, list[dict]]:
    """A random compiled rulebook and random total facts for it."""
    n = draw(st.integers(1, 6))
    keys = draw(
        st.lists(strings.filter(lambda s: s not in ("fid", "kind")), min_size=n, max_size=n, unique=True)
    )
    types = {k: draw(st.sampled_from(TYPES)) for k in keys}
    # A few values per key, shared by constants and facts so that tests hit, plus fresh ones now and then.
    pools = {k: draw(st.lists(VALUES[types[k]], min_size=1, max_size=4)) for k in keys}

    def value(k: str) -> st.SearchStrategy:
        return st.one_of(st.sampled_from(pools[k]), st.sampled_from(pools[k]), VALUES[types[k]])

    @st.composite
    def tests(draw: st.DrawFn) -> Leaf:
        k = draw(st.sampled_from(keys))
        ordered = types[k] in (int, float)
        op = draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"] if ordered else ["eq", "ne"]))
        return Leaf(k, op, draw(value(k)))

    conds: st.SearchStrategy[Cond] = st.recursive(
        st.one_of(tests(), st.just(TRUE), st.just(FALSE)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda ps: And(tuple(ps))),
            st.lists(inner, max_size=4).map(lambda ps: Or(tuple(ps))),
        ),
        max_leaves=14,
    )
    patterns = tuple(
        Pattern(f"p{i}", draw(st.sampled_from(KINDS)), draw(conds)) for i in range(draw(st.integers(0, 8)))
    )
    joins = tuple(
        JoinPattern(
            f"j{i}",
            draw(st.sampled_from(KINDS)),
            draw(conds),
            draw(st.sampled_from(KINDS)),
            draw(conds),
            tuple(
                Join(
                    draw(st.sampled_from(keys)),
                    draw(st.sampled_from(["eq", "ne"])),
                    draw(st.sampled_from(keys)),
                )
                for _ in range(draw(st.integers(0, 3)))
            ),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    defaults = {kind: {k: draw(VALUES[types[k]]) for k in keys} for kind in KINDS}
    compiled = CompiledRulebook(patterns, joins, defaults)

    n_facts = draw(st.integers(0, 7))
    fids = draw(
        st.one_of(
            st.lists(st.integers(0, 50), min_size=n_facts, max_size=n_facts, unique=True),
            st.lists(st.integers(0, 3), min_size=n_facts, max_size=n_facts),
        )
    )  # repeats too
    facts = [
        {"fid": fid, "kind": draw(st.sampled_from(KINDS)), **{k: draw(value(k)) for k in keys}}
        for fid in fids
    ]
    return compiled, facts


@needs_durable
@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(cases())
def test_same_answers_as_reference(case: tuple[CompiledRulebook, list[dict]]) -> None:
    compiled, facts = case
    durable, reference = _durable.DurableEvaluator(compiled), ReferenceEvaluator(compiled)
    try:
        for _ in range(2):  # a second call sees fresh sessions, not the first call's facts
            assert durable.match(facts) == reference.match(facts)
            assert durable.join(facts) == reference.join(facts)
        assert durable.match(facts[::-1]) == reference.match(facts[::-1])
        assert durable.join(facts[::-1]) == reference.join(facts[::-1])
    finally:
        durable.close()


# -- hand-picked cases ---------------------------------------------------------------------------------------


def _pair(patterns=(), joins=(), defaults=None):
    c = CompiledRulebook(tuple(patterns), tuple(joins), defaults or {})
    return _durable.DurableEvaluator(c), ReferenceEvaluator(c)


@needs_durable
def test_type_and_value_equality() -> None:
    """``1``, ``1.0`` and ``True`` are equal in value but not for ``eq``; order still compares values."""
    d, r = _pair(
        [
            Pattern("int1", "item", Leaf("v", "eq", 1)),
            Pattern("float1", "item", Leaf("v", "eq", 1.0)),
            Pattern("le1", "item", Leaf("v", "le", 1)),
            Pattern("lt1", "item", Leaf("v", "lt", 1.0)),
            Pattern("ne-true", "item", Leaf("v", "ne", True)),
            Pattern("zero", "item", Leaf("v", "eq", 0.0)),
        ]
    )
    facts = [{"fid": i, "kind": "item", "v": v} for i, v in enumerate([1, 1.0, True, 0, -0.0, 0.5, 2, False])]
    assert d.match(facts) == r.match(facts)


@needs_durable
def test_strings_never_reach_the_engine() -> None:
    """Constants and values that would upset a C JSON parser are compared exactly, as codes."""
    nasty = ["a\x00b", "a", 'q"uote', "back\\slash", "😀", "x" * 100_000, "", "\ud800"]
    d, r = _pair(
        [Pattern(f"p{i}", "item", Leaf("s", "eq", s)) for i, s in enumerate(nasty)]
        + [Pattern("ne", "item", Leaf("s", "ne", "a"))]
    )
    facts = [{"fid": i, "kind": "item", "s": s} for i, s in enumerate(nasty + ["a\x00", "😀😀", "b"])]
    assert d.match(facts) == r.match(facts)
    assert len(d.match(facts)) > len(nasty)


@needs_durable
def test_join_pairs_fire_once_and_never_with_themselves() -> None:
    jp = JoinPattern("j", "item", TRUE, "item", TRUE, (Join("deal", "eq", "deal"),))
    d, r = _pair(joins=[jp])
    fired: list[tuple[int, ...]] = []
    run = d._joins.run

    def counting(work, sid):  # every firing, before the set removes repeats
        out = run(work, sid)
        fired.extend(out)
        return out

    d._joins.run = counting  # type: ignore[method-assign]
    facts = [{"fid": i, "kind": "item", "deal": "d" if i < 30 else "e"} for i in range(40)]
    got = d.join(facts)
    assert got == r.join(facts)
    assert len(got) == len(fired) == 30 * 29 + 10 * 9  # every pair fired exactly once
    assert all(m.left_fid != m.right_fid for m in got)
    assert d.join(facts) == got  # facts were not consumed, nor kept: the same again


@needs_durable
def test_join_ignores_or_next_to_references() -> None:
    """durable-rules drops a reference that shares a frame with ``$or``; the adapter keeps them apart."""
    jp = JoinPattern(
        "j",
        "transfer",
        Leaf("y", "eq", 1),
        "transfer",
        Or((Leaf("z", "eq", 0), Leaf("z", "eq", 3))),
        (Join("x", "eq", "x"),),
    )
    d, r = _pair(joins=[jp])
    facts = [{"fid": i, "kind": "transfer", "x": i % 3, "y": i % 2, "z": i % 4} for i in range(12)]
    assert d.join(facts) == r.join(facts)


@needs_durable
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 2**53 + 1, -(2**60), None, [1], {"a": 1}])
def test_refuses_what_the_engine_must_not_see(value) -> None:
    d, _ = _pair([Pattern("p", "item", Leaf("v", "gt", 0.5))])
    with pytest.raises(_durable.EngineError):
        d.match([{"fid": 1, "kind": "item", "v": value}])
    assert d.match([{"fid": 1, "kind": "item", "v": 1.0}]) == {Match("p", 1)}
    with pytest.raises(_durable.EngineError):
        _pair([Pattern("p", "item", Leaf("v", "gt", value))])


@needs_durable
def test_lacking_a_key_is_an_engine_error() -> None:
    d, _ = _pair([Pattern("p", "item", Leaf("v", "eq", "x"))])
    with pytest.raises(_durable.EngineError, match="lacks key 'v'"):
        d.match([{"fid": 1, "kind": "item"}])


@needs_durable
def test_an_evaluator_is_closed_and_collected() -> None:
    d, _ = _pair([Pattern("p", "item", TRUE)])
    assert d.match([{"fid": 1, "kind": "item"}]) == {Match("p", 1)}
    d.close()
    with pytest.raises(_durable.EngineError, match="closed"):
        d.match([{"fid": 1, "kind": "item"}])
    d2, _ = _pair([Pattern("p", "item", TRUE)])
    del d2
    import gc

    gc.collect()
    _pair([Pattern("q", "item", TRUE)])  # drains what the collected one queued
    assert not _durable._RETIRED


# -- crash-prone scenarios, in child processes ---------------------------------------------------------------


@pytest.fixture(scope="module")
def children():
    """Start every scenario at once (they take a few seconds each); each test waits for its own."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-X", "faulthandler", str(CHILD), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=CHILD.parent.parent,
        )
        for name in SCENARIOS
    }
    yield procs
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()


@needs_durable
@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_hazard_scenario(children, scenario: str) -> None:
    proc = children[scenario]
    try:
        out, err = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{scenario} hung\n{err[-3000:]}")
    assert proc.returncode == 0, f"{scenario} exited {proc.returncode}\n{out[-2000:]}\n{err[-3000:]}"
    assert out.strip().endswith("ok")


def test_no_session_outlives_a_call(rulebook):
    """Sessions are deleted after every call, including one that fails part-way (leak check)."""
    from sanctions.evaluate import _durable
    from sanctions.engine import Engine
    from sanctions.rulebook.examples import examples

    engine = Engine(rulebook, evaluator="durable")
    for _, t in list(examples(rulebook, "fires"))[:40]:
        engine.check(t)
    assert _durable.live_sessions() == 0
