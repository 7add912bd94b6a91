"""Time: no rule fires on a transfer that lies wholly before the rule is in force (or wholly after it ended)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from property_support import risky_transfers, time_violations

from sanctions import strategies as S
from sanctions.model.records import Deal, Transfer


def _redated(t: Transfer, start: dt.date, days: int) -> Transfer:
    date = start if days == 0 else {"start": start, "end": start + dt.timedelta(days=days)}
    return Transfer.model_validate(t.model_dump() | {"date": date})


@given(risky_transfers(), st.dates(dt.date(1995, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 400))
def test_no_rule_fires_outside_its_in_force_period(engine, t, start, days):
    t = _redated(t, start, days)
    assert time_violations(engine.check(t), t, engine.rulebook) == []


@given(S.deals(legs=risky_transfers(), min_legs=2, max_legs=3), st.dates(dt.date(1995, 1, 1), dt.date(2030, 1, 1)))
def test_no_deal_rule_fires_outside_its_in_force_period(engine, deal, start):
    deal = Deal.model_validate(deal.model_dump() | {"transfers": [_redated(t, start, 0).model_dump()
                                                                    for t in deal.transfers]})
    assert time_violations(engine.check(deal), deal, engine.rulebook) == []
