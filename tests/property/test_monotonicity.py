"""Monotonicity: more prohibited goods never clear a transfer; exemptions only ever take findings away."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_support import PROHIBITING_ITEMS, copy_rules, finding_keys, rank, risky_transfers, subjects

from sanctions import strategies as S
from sanctions.engine import Engine
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import load_rulebook


@st.composite
def prohibited_items(draw, engine):
    """An item that fires a prohibiting item rule in a transfer varied from that rule's example."""
    rule_id = draw(st.sampled_from(PROHIBITING_ITEMS))
    v = draw(S.violating(rule_id))
    hits = [f.item_index for f in engine.check(v).findings if f.rule_id == rule_id and f.item_index is not None]
    return v, v.items[draw(st.sampled_from(hits))]


@given(st.data())
def test_adding_a_prohibited_item_never_clears(engine, data):
    t = data.draw(risky_transfers())
    v, item = data.draw(prohibited_items(engine))
    before = engine.check(t)
    after = engine.check(Transfer.model_validate(t.model_dump() | {"items": [*t.model_dump()["items"],
                                                                              item.model_dump()]}))
    assert rank(after) >= rank(before)
    assert finding_keys(before) <= finding_keys(after)
    # the same parties with the prohibited item: still prohibited, whatever else is added alongside
    padded = Transfer.model_validate(v.model_dump() | {"items": [*t.model_dump()["items"], item.model_dump()]})
    assert engine.check(padded).verdict == "prohibited"


def _stripped(t: Transfer) -> Transfer:
    return Transfer.model_validate(t.model_dump() | {"notifications": [], "exemptions": []})


@given(st.one_of(subjects(), S.transfers(with_notifications=True, with_exemptions=True, recipient_countries=["KP"])))
def test_dropping_notifications_and_committee_exemptions_only_adds_findings(engine, subject):
    if isinstance(subject, Deal):
        bare = Deal.model_validate(subject.model_dump() | {"transfers": [_stripped(t).model_dump()
                                                                           for t in subject.transfers]})
    else:
        bare = _stripped(subject)
    with_them, without = engine.check(subject), engine.check(bare)
    assert finding_keys(with_them) <= finding_keys(without)
    assert rank(with_them) <= rank(without)


@pytest.fixture(scope="module")
def no_exemptions(tmp_path_factory):
    """The built-in rulebook with every exemption deleted."""
    root = tmp_path_factory.mktemp("no-exemptions")
    copy_rules(root, edit=lambda d: {k: v for k, v in d.items() if k != "exemptions"})
    return Engine(load_rulebook(root, include_builtin=False), evaluator="reference")


@given(subjects())
def test_exemptions_only_remove_findings(engine, no_exemptions, subject):
    with_ex, without = engine.check(subject), no_exemptions.check(subject)
    assert finding_keys(with_ex) <= finding_keys(without)
    exempted = {(c.rule_id, c.transfer_id, c.item_index) for c in with_ex.considered if c.status == "exempted"}
    assert exempted <= {k[:3] for k in finding_keys(without)}
