"""Crash-prone durable-rules scenarios, run in a child process by ``tests/evaluate/test_durable_adapter.py``.

``python tests/_durable_child.py SCENARIO`` exits 0 when the scenario holds; a segfault, a hang or a
wrong answer gives another exit status instead of taking pytest down. Every scenario compares the durable
evaluator with the reference evaluator.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
from collections.abc import Callable
from typing import Any

from sanctions.evaluate import _durable
from sanctions.evaluate._durable import DurableEvaluator, EngineError
from sanctions.evaluate.reference import ReferenceEvaluator
from sanctions.evaluate.compiled import FALSE, TRUE, And, CompiledRulebook, Cond, Join, JoinPattern, Or, Pattern, Test

COUNTRIES = ["KP", "CN", "RU", "IR", 'a"b\\c', "\x00", "😀"]
KINDS = ["goods", "technology", "financial"]


def small_rulebook() -> CompiledRulebook:
    kp = Or((Test("origin", "eq", "KP"), Test("dest", "eq", "KP")))
    return CompiledRulebook(
        patterns=(
            Pattern("arms", "item", And((kp, Test("hs2", "eq", "93")))),
            Pattern(
                "coal",
                "item",
                And((Test("origin", "eq", "KP"), Test("hs2", "eq", "27"), Test("mass", "gt", 0.0))),
            ),
            Pattern("big", "transfer", And((kp, Test("amount", "ge", 10_000)))),
            Pattern("any-transfer", "transfer", TRUE),
            Pattern("never", "item", FALSE),
            Pattern("not-goods", "transfer", Test("tkind", "ne", "goods")),
        ),
        join_patterns=(
            JoinPattern(
                "pair",
                "transfer",
                Test("origin", "eq", "KP"),
                "transfer",
                Test("tkind", "eq", "financial"),
                (Join("deal", "eq", "deal"), Join("origin", "ne", "dest")),
            ),
            JoinPattern(
                "item-of", "item", Test("hs2", "eq", "93"), "transfer", TRUE, (Join("deal", "eq", "deal"),)
            ),
        ),
        defaults={
            "transfer": {"origin": "", "dest": "", "amount": 0, "tkind": "", "deal": ""},
            "item": {"origin": "", "dest": "", "hs2": "", "mass": 0.0, "deal": ""},
        },
    )


def random_facts(rng: random.Random, n: int) -> list[dict[str, Any]]:
    facts: list[dict[str, Any]] = []
    for fid in range(n):
        common = {
            "fid": fid,
            "origin": rng.choice(COUNTRIES),
            "dest": rng.choice(COUNTRIES),
            "deal": rng.choice(["d1", "d2", ""]),
        }
        if rng.random() < 0.4:
            facts.append(
                {
                    **common,
                    "kind": "transfer",
                    "amount": rng.choice([0, 5, 10_000, 2**53]),
                    "tkind": rng.choice(KINDS),
                }
            )
        else:
            facts.append(
                {
                    **common,
                    "kind": "item",
                    "hs2": rng.choice(["93", "27", "10"]),
                    "mass": rng.choice([0.0, -0.0, 1.5, 1e300]),
                }
            )
    return facts


def same(d: DurableEvaluator, r: ReferenceEvaluator, facts: list[dict[str, Any]]) -> None:
    got, want = d.match(facts), r.match(facts)
    assert got == want, (facts, got ^ want)
    got_j, want_j = d.join(facts), r.join(facts)
    assert got_j == want_j, (facts, got_j ^ want_j)


def many_calls() -> None:
    """Thousands of consecutive calls: sessions are deleted, never accumulate (the engine holds 1,024)."""
    c = small_rulebook()
    d, r = DurableEvaluator(c), ReferenceEvaluator(c)
    rng = random.Random(1)
    for i in range(3000):  # 6,000 calls: match and join
        same(d, r, random_facts(rng, rng.randint(0, 6)))


def no_match() -> None:
    """Facts no rule matches: unhandled facts would abort the batch and make delete_state segfault."""
    c = small_rulebook()
    d, r = DurableEvaluator(c), ReferenceEvaluator(c)
    nothing: list[dict[str, Any]] = [
        {"fid": 1, "kind": "item", "origin": "CN", "dest": "CN", "hs2": "10", "mass": 0.0, "deal": ""},
        {"fid": 2, "kind": "finding", "x": 1},  # a kind no pattern has
        {"fid": 3, "kind": "item", "origin": "RU", "dest": "FR", "hs2": "27", "mass": 1.0, "deal": "x"},
    ]
    for i in range(1100):  # more than the engine's 1,024 sessions
        assert d.match(nothing) == r.match(nothing) == set()
        assert d.join(nothing) == r.join(nothing) == set()
        assert d.match([]) == set() and d.join([]) == set()
    # A rulebook whose patterns are all FALSE, and an empty one.
    for cb in (CompiledRulebook((Pattern("f", "item", FALSE),), (), {}), CompiledRulebook((), (), {})):
        e = DurableEvaluator(cb)
        for i in range(500):
            assert e.match(nothing) == set() and e.join(nothing) == set()


def many_patterns_one_fact() -> None:
    """50, 100 and 300 patterns matching one fact: the engine's alpha stack (64) must not overflow."""
    keys = [f"key{i}" for i in range(300)]
    fact: dict[str, Any] = {"fid": 7, "kind": "item", **{k: 1 for k in keys}}
    for n in (50, 100, 300):
        shapes = [
            [Pattern(f"p{i}", "item", Test(keys[i], "ne", 5)) for i in range(n)],  # distinct keys, all true
            [Pattern(f"p{i}", "item", Test("key0", "lt", i + 2)) for i in range(n)],  # one key, all true
            [
                Pattern(f"p{i}", "item", And((Test("key1", "eq", 1), Test(keys[i], "ge", 0))))
                for i in range(n)
            ],
            [Pattern("wide", "item", Or(tuple(Test(keys[i], "ne", 5) for i in range(n))))],  # one wide or
        ]
        for patterns in shapes:
            c = CompiledRulebook(tuple(patterns), (), {})
            d, r = DurableEvaluator(c), ReferenceEvaluator(c)
            for _ in range(3):
                got = d.match([fact])
                assert got == r.match([fact]) and len(got) == len(patterns), len(got)
            d.close()


def sharding() -> None:
    """More than 512 patterns (one ruleset fails or hangs there), deep trees and wide ors."""
    rng = random.Random(2)
    keys = [f"f{i}" for i in range(40)]
    patterns = []
    for i in range(700):
        a, b = rng.sample(keys, 2)
        patterns.append(
            Pattern(
                f"p{i:03}",
                rng.choice(["item", "transfer"]),
                And(
                    (
                        Test(a, "eq", rng.randint(0, 3)),
                        Or((Test(b, "lt", rng.randint(0, 3)), Test(b, "eq", 9))),
                    )
                ),
            )
        )
    # 600 alternatives on one key (one alpha node with more than 512 children hangs the engine).
    patterns.append(Pattern("wide", "item", Or(tuple(Test("f0", "eq", v) for v in range(600)))))
    # And of 20 ors: 21 $and/$or nodes in one frame exceed the engine's 32 expression entries.
    patterns.append(
        Pattern(
            "deep",
            "item",
            And(tuple(Or((Test(keys[i], "eq", 1), Test(keys[i + 1], "ne", 2))) for i in range(20))),
        )
    )
    # Nested 16 levels deep.
    deep: Cond = Test("f1", "eq", 1)
    for i in range(16):
        deep = (And if i % 2 else Or)((deep, Test(keys[i + 2], "ne", i % 4)))
    patterns.append(Pattern("nested", "transfer", deep))
    c = CompiledRulebook(tuple(patterns), (), {})
    d, r = DurableEvaluator(c), ReferenceEvaluator(c)
    rulesets = len(d._match.all_shards())
    assert rulesets >= 4, rulesets
    for _ in range(60):
        facts: list[dict[str, Any]] = [
            {"fid": j, "kind": rng.choice(["item", "transfer"]), **{k: rng.randint(0, 9) for k in keys}}
            for j in range(rng.randint(1, 8))
        ]
        got, want = d.match(facts), r.match(facts)
        assert got == want, got ^ want


def threads() -> None:
    """8 threads calling one evaluator give the serial answers."""
    c = small_rulebook()
    d, r = DurableEvaluator(c), ReferenceEvaluator(c)
    rng = random.Random(3)
    cases = [random_facts(rng, rng.randint(0, 8)) for _ in range(200)]
    serial = [(d.match(f), d.join(f)) for f in cases]
    assert serial == [(r.match(f), r.join(f)) for f in cases]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for k in range(120):
                i = (offset * 37 + k) % len(cases)
                assert (d.match(cases[i]), d.join(cases[i])) == serial[i]
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors


def two_evaluators() -> None:
    """Evaluators of different rulebooks coexist; a collected one frees its rulesets."""
    c1 = small_rulebook()
    c2 = CompiledRulebook((Pattern("arms", "item", Test("hs2", "eq", "27")),), (), {})
    d1, d2 = DurableEvaluator(c1), DurableEvaluator(c2)
    r1, r2 = ReferenceEvaluator(c1), ReferenceEvaluator(c2)
    rng = random.Random(4)
    for i in range(200):
        facts = random_facts(rng, 5)
        same(d1, r1, facts)
        assert d2.match(facts) == r2.match(facts)
        if i % 25 == 0:
            tmp = DurableEvaluator(c2)
            assert tmp.match(facts) == r2.match(facts)
            del tmp
            gc.collect()
    assert not _durable._RETIRED or d1.match([]) == set()  # the next call deletes what was queued
    assert not _durable._RETIRED
    for _ in range(200):  # many short-lived evaluators do not run out of engine handles
        DurableEvaluator(c1).close()


def failure_recovers() -> None:
    """A call that raises leaves the evaluator usable and leaks no session."""
    c = small_rulebook()
    d, r = DurableEvaluator(c), ReferenceEvaluator(c)
    rng = random.Random(5)
    good = random_facts(rng, 4)
    item: dict[str, Any] = {
        "fid": 9,
        "kind": "item",
        "origin": "KP",
        "dest": "CN",
        "hs2": "27",
        "mass": 1.0,
        "deal": "d1",
    }
    bad: list[Callable[[], list[dict[str, Any]]]] = [
        lambda: [{**item, "mass": float("nan")}],
        lambda: [{**item, "mass": float("inf")}],
        lambda: [{**item, "mass": 2**60}],
        lambda: [{**item, "origin": None}],
        lambda: [{**item, "hs2": ["93"]}],
        lambda: [{k: v for k, v in item.items() if k != "hs2"}],
        lambda: [{**item, "fid": "9"}],
        lambda: [{k: v for k, v in item.items() if k != "kind"}],
    ]
    join_item = {**item, "hs2": "93"}  # its "deal" is read by the join pattern "item-of"
    bad_join: list[Callable[[], list[dict[str, Any]]]] = [
        lambda: [{**join_item, "deal": float("nan")}],
        lambda: [{**join_item, "deal": -(2**54)}],
        lambda: [{k: v for k, v in join_item.items() if k != "deal"}],
        lambda: [{**join_item, "fid": 1.5}],
    ]
    for call, cases in ((d.match, bad), (d.join, bad_join)):
        for make in cases:
            try:
                call(good + make())
            except EngineError:
                pass
            else:
                raise AssertionError(f"no EngineError from {call.__name__} for {make()}")
            same(d, r, good)

    # A native failure part-way through a call: the ruleset is dropped (never its half-built session) and
    # rebuilt on the next call. Simulate it by failing inside do_actions, after the facts were asserted.
    shard = d._match.all_shards()[0]
    for i in range(1100):
        rs = shard.ensure()
        original = rs.do_actions

        def broken(handle, complete, original=original):
            raise RuntimeError("simulated native failure")

        rs.do_actions = broken
        try:
            d.match(good + [item])
        except EngineError:
            pass
        else:
            raise AssertionError("the simulated failure did not surface")
        assert shard.ruleset is None
        same(d, r, good + [item])


SCENARIOS = {
    f.__name__: f
    for f in (
        many_calls,
        no_match,
        many_patterns_one_fact,
        sharding,
        threads,
        two_evaluators,
        failure_recovers,
    )
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
    print("ok")
