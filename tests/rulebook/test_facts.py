"""Facts: the projector gives exactly what the plain projection gives, for every fixture and rule example."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from support import FIXTURES, load_fixture
from sanctions import strategies as S
from sanctions.model import hs
from sanctions.rulebook.examples import examples
from sanctions.rulebook.facts import MARK_KEYS, Projector, _mark, item_raw, project, transfer_raw
from sanctions.model.records import Deal


def subjects(rulebook):
    out = [load_fixture(p.name) for p in sorted(FIXTURES.glob("*.json"))]
    out += [t for kind in ("fires", "clears") for _, t in examples(rulebook, kind)]
    return out


def assert_projections_agree(defaults, subject):
    """Every projector form gives the plain projection: eager, and with the transfer's keys shared by its items."""
    plain = {k: Projector(v) for k, v in defaults.items()}
    shared = {k: Projector(v, shared="transfer.") for k, v in defaults.items()}
    n = 0
    transfers = subject.transfers if isinstance(subject, Deal) else [subject]
    for t in transfers:
        t_raw = transfer_raw(t, "d")
        once = shared["item"].shared_values(t_raw)
        assert project(t_raw, "transfer", 7, defaults["transfer"]) == plain["transfer"](t_raw, "transfer", 7)
        for i, item in enumerate(t.items):
            i_raw = item_raw(t_raw, item, i)
            expected = project(i_raw, "item", 7, defaults["item"])
            assert plain["item"](i_raw, "item", 7) == expected
            assert shared["item"](i_raw, "item", 7) == expected
            assert shared["item"](i_raw, "item", 7, once) == expected
            n += 1
    return n


def test_projector_equals_project(rulebook):
    n = sum(assert_projections_agree(rulebook.compiled.defaults, s) for s in subjects(rulebook))
    assert n > 100


THOROUGH = os.environ.get("SANCTIONS_HYPOTHESIS_PROFILE") == "thorough"


@settings(max_examples=1000 if THOROUGH else 100, deadline=None, derandomize=not THOROUGH)
@given(st.data())
def test_projector_equals_project_with_unknowns(rulebook, data):
    # unknown countries, flags, categories and notification statuses exercise the marks and the refinements
    t = data.draw(S.transfers())
    u = data.draw(S.unknown_variants(t))
    assert_projections_agree(rulebook.compiled.defaults, u)


def test_shared_keys_are_the_transfer_fields_only(rulebook):
    keys = rulebook.compiled.defaults["item"]
    p = Projector(keys, shared="transfer.")
    shared = set(p.shared_values({}))
    assert shared and all(k.lstrip("?").removeprefix("has:").startswith("transfer.") for k in shared)
    assert "?*" not in shared  # "anything unknown" depends on the item too


def test_a_mark_outside_the_registered_fields_is_refused():
    # the projector looks marks up by MARK_KEYS; a mark it could not see would make an unknown look known
    raw = {}
    _mark(raw, "item.end_use", ["items[0].end_use"])
    assert set(raw) <= MARK_KEYS
    with pytest.raises(ValueError, match="item.colour"):
        _mark(raw, "item.colour", ["items[0].colour"])


def test_hs_lookups_are_remembered_but_a_bad_code_still_fails_every_time():
    assert hs.classification("930690") is hs.classification("930690")
    for _ in range(2):
        with pytest.raises(hs.InvalidInput):
            hs.classification("93x")


@pytest.mark.parametrize("key", ["item.hs_code[:4]", "has:item.quantity.value", "transfer.countries=KP"])
def test_derived_keys(key):
    p = Projector({key: False if key.startswith("has:") or "=" in key else ""})
    raw = {"item.hs_code": "930690", "item.quantity.value": None, "transfer.countries": {"KP", "RU"}}
    expected = {"item.hs_code[:4]": "9306", "has:item.quantity.value": False, "transfer.countries=KP": True}[key]
    assert p(raw, "item", 0)[key] == expected
