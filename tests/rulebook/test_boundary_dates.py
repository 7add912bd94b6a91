"""In-force boundaries: every dated rule fires from its first day (and until its last), not a day outside.

For every rule whose ``in_force.from`` is later than 1718's adoption (14 Oct 2006), its first ``fires``
example is dated the day before, the day of and the day after the start: no finding / finding / finding.
For every rule with an ``until``: finding / finding / no finding around the last day. ``as_of`` judges under
the law of another day than the transfer's own, so it moves the boundary the same way.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sanctions.engine import Engine
from sanctions.rulebook.examples import example_transfer
from sanctions.rulebook import load_rulebook

RULEBOOK = load_rulebook()
ENGINE = Engine(RULEBOOK, evaluator="reference")
FIRST_DAY = dt.date(2006, 10, 14)
DAY = dt.timedelta(days=1)

# Rules whose condition itself holds a date, so their practical start differs from in_force.from.
# None today: a date inside a condition would ignore ``as_of``, so rules say their dates in ``in_force``.
EFFECTIVE_FROM: dict[str, dt.date] = {}


def _fires(rule_id: str, date: dt.date, *, as_of: dt.date | None = None) -> bool:
    data = dict(RULEBOOK.rules[rule_id].spec.examples["fires"][0], date=date.isoformat())
    t = example_transfer(rule_id, "fires", 0, data)
    return rule_id in {f.rule_id for f in ENGINE.check(t, as_of=as_of).findings}


def _dated(attr: str) -> list[str]:
    out = []
    for rid, rule in RULEBOOK.rules.items():
        if not rule.spec.examples.get("fires"):
            continue
        inf = rule.spec.in_force
        if (attr == "from" and EFFECTIVE_FROM.get(rid, inf.from_) > FIRST_DAY) or (attr == "until" and inf.until):
            out.append(rid)
    return sorted(out)


@pytest.mark.parametrize("rule_id", _dated("from"))
def test_starts_on_its_first_day(rule_id: str) -> None:
    start = EFFECTIVE_FROM.get(rule_id, RULEBOOK.rules[rule_id].spec.in_force.from_)
    got = [_fires(rule_id, d) for d in (start - DAY, start, start + DAY)]
    assert got == [False, True, True], f"{rule_id} around {start}: day before/of/after fired {got}"


@pytest.mark.parametrize("rule_id", _dated("until"))
def test_ends_after_its_last_day(rule_id: str) -> None:
    end = RULEBOOK.rules[rule_id].spec.in_force.until
    assert end is not None
    got = [_fires(rule_id, d) for d in (end - DAY, end, end + DAY)]
    assert got == [True, True, False], f"{rule_id} around {end}: day before/of/after fired {got}"


@pytest.mark.parametrize("rule_id", _dated("from"))
def test_as_of_overrides_the_transfer_date_at_the_start(rule_id: str) -> None:
    start = EFFECTIVE_FROM.get(rule_id, RULEBOOK.rules[rule_id].spec.in_force.from_)
    assert not _fires(rule_id, start, as_of=start - DAY), "as_of the day before: the law was not yet in force"
    assert _fires(rule_id, start - DAY, as_of=start), "as_of the first day: the law applies to an earlier transfer"


@pytest.mark.parametrize("rule_id", _dated("until"))
def test_as_of_overrides_the_transfer_date_at_the_end(rule_id: str) -> None:
    end = RULEBOOK.rules[rule_id].spec.in_force.until
    assert end is not None
    assert not _fires(rule_id, end, as_of=end + DAY), "as_of the day after: the measure had ended"
    assert _fires(rule_id, end + DAY, as_of=end), "as_of the last day: the measure still applies"
