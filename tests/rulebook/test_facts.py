"""Facts: the projector gives exactly what the plain projection gives, for every fixture and rule example."""

from __future__ import annotations

import pytest

from support import FIXTURES, load_fixture
from sanctions.rulebook.examples import examples
from sanctions.rulebook.facts import Projector, item_raw, project, transfer_raw
from sanctions.model.records import Deal


def raws(subject):
    transfers = subject.transfers if isinstance(subject, Deal) else [subject]
    for t in transfers:
        t_raw = transfer_raw(t, "d")
        yield "transfer", t_raw
        for i, item in enumerate(t.items):
            yield "item", item_raw(t_raw, item, i)


def subjects(rulebook):
    out = [load_fixture(p.name) for p in sorted(FIXTURES.glob("*.json"))]
    out += [t for kind in ("fires", "clears") for _, t in examples(rulebook, kind)]
    return out


def test_projector_equals_project(rulebook):
    defaults = rulebook.compiled.defaults
    projectors = {k: Projector(v) for k, v in defaults.items()}
    n = 0
    for s in subjects(rulebook):
        for kind, raw in raws(s):
            assert projectors[kind](raw, kind, 7) == project(raw, kind, 7, defaults[kind])
            n += 1
    assert n > 100


@pytest.mark.parametrize("key", ["item.hs_code[:4]", "has:item.quantity.value", "transfer.countries=KP"])
def test_derived_keys(key):
    p = Projector({key: False if key.startswith("has:") or "=" in key else ""})
    raw = {"item.hs_code": "930690", "item.quantity.value": None, "transfer.countries": {"KP", "RU"}}
    expected = {"item.hs_code[:4]": "9306", "has:item.quantity.value": False, "transfer.countries=KP": True}[key]
    assert p(raw, "item", 0)[key] == expected
