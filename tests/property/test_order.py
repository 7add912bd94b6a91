"""Order independence: items, legs of a deal and rule files can come in any order."""

from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_support import copy_rules, risky_transfers, subjects, without_digest

from sanctions import strategies as S
from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import load_rulebook


def _reindexed(decision, order):
    """Decision JSON with every item index mapped back to the item's place before ``order`` shuffled it."""
    data = json.loads(to_json(decision))
    back = {new: old for new, old in enumerate(order)}
    for part in ("findings", "considered"):
        for x in data[part]:
            if x.get("item_index") is not None:
                x["item_index"] = back[x["item_index"]]
        data[part].sort(key=lambda x: json.dumps(x, sort_keys=True))
    data["notes"] = sorted(re.sub(r" item (\d+):", lambda m: f" item {back[int(m.group(1))]}:", n)
                           for n in data["notes"])
    return data


@given(risky_transfers().filter(lambda t: len(t.items) > 1), st.data())
def test_item_order_does_not_matter(engine, t, data):
    order = data.draw(st.permutations(range(len(t.items))))
    shuffled = Transfer.model_validate(t.model_dump() | {"items": [t.items[i].model_dump() for i in order]})
    assert _reindexed(engine.check(shuffled), order) == _reindexed(engine.check(t), range(len(t.items)))


@given(S.deals(legs=risky_transfers(), min_legs=2, max_legs=4), st.data())
def test_leg_order_does_not_matter(engine, deal, data):
    legs = data.draw(st.permutations(deal.transfers))
    shuffled = Deal.model_validate(deal.model_dump() | {"transfers": [t.model_dump() for t in legs]})
    assert to_json(engine.check(shuffled)) == to_json(engine.check(deal))


@pytest.fixture(scope="module")
def shuffled_engines(tmp_path_factory):
    """The built-in rules under random file names, split over two packs, loaded in both orders."""
    engines = []
    for seed in (1, 2):
        rng = random.Random(seed)
        root = tmp_path_factory.mktemp(f"shuffled{seed}")
        names = {}

        def rename(rel, rng=rng, names=names):
            pack = "a" if rng.random() < 0.5 else "b"
            name = f"{rng.getrandbits(40):010x}.yaml"
            names[rel] = pack
            return f"{pack}/{name}"

        copy_rules(root, rename=rename)
        for packs in ((root / "a", root / "b"), (root / "b", root / "a")):
            engines.append(Engine(load_rulebook(*packs, include_builtin=False), evaluator="reference"))
    return engines


@given(subjects())
def test_rule_file_order_does_not_matter(engine, shuffled_engines, subject):
    expected = without_digest(engine.check(subject))
    for other in shuffled_engines:
        assert without_digest(other.check(subject)) == expected
