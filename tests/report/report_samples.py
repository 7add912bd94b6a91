"""Inputs the report tests and scripts/report-screenshots share: the founding deal, a hostile transfer, a
many-decision batch built cheaply from a few real decisions, and a ledger filled through the cap judge."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FOUNDING = ROOT / "fixtures" / "dprk_russia_arms_for_oil.json"
DIESEL = ROOT / "fixtures" / "lawful_refined_petroleum_notified.json"

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '"><img src=x onerror="window.__pwned = 2">'


@functools.lru_cache(maxsize=1)
def shared_engine() -> Any:
    """One engine for the report tests (loading the rulebook is the slow part)."""
    from sanctions import Engine

    return Engine()


def founding() -> tuple[Any, Any, Any]:
    """(engine, deal, decision) for the founding deal, without screening (no list is installed in tests)."""
    from sanctions import parse_deal

    engine = shared_engine()
    deal = parse_deal(json.loads(FOUNDING.read_text(encoding="utf-8")))
    return engine, deal, engine.check(deal)


def hostile() -> dict[str, Any]:
    """The founding deal's shell leg as one transfer whose free text tries to become markup."""
    deal = json.loads(FOUNDING.read_text(encoding="utf-8"))
    t = copy.deepcopy(deal["transfers"][0])
    t["id"] = "hostile-1"
    t["items"][0]["description"] = f"Artillery shells {SCRIPT} {IMG}"
    t["supplier"]["name"] = f"Ministry {IMG}"
    t["route"][0]["port"] = f"Rajin {SCRIPT}"
    return t


def batch_decisions(n: int) -> Iterator[dict[str, Any]]:
    """``n`` decisions in their JSON form, four kinds (prohibited transfer, notification required, clear,
    prohibited deal) in turn, reused with varied subject ids, so a 100,000-decision batch costs two judgements.
    Every 1000th id is hostile."""
    from sanctions import parse_deal, parse_transfer

    engine = shared_engine()
    deal = json.loads(FOUNDING.read_text(encoding="utf-8"))
    shells = json.loads(engine.check(parse_transfer(deal["transfers"][0])).model_dump_json())
    whole = json.loads(engine.check(parse_deal(deal)).model_dump_json())
    # a notification-only decision and a clear one, made from the deal's by keeping one finding or none
    notify = dict(whole, verdict="notification_required",
                  findings=[f for f in whole["findings"] if f["outcome"] == "notification_required"])
    clear = dict(shells, verdict="clear", findings=[])
    bases = [shells, notify, clear, whole]
    for i in range(n):
        base = bases[i % len(bases)]
        sid = f"T{i:06d}" if i % 1000 != 999 else f"T{i:06d}</script>{SCRIPT}"
        yield {**base, "subject": {"type": base["subject"]["type"], "id": sid}}


def diesel_ledger(path: Path) -> Any:
    """An SQLite ledger holding a year of notified diesel shipments to the DPRK under the 2018 refined petroleum
    cap (500,000 barrels), recorded by the cap judge as ``check-transfer --ledger`` does: the total crosses the
    75% and 90% alert thresholds in the autumn."""
    from sanctions import parse_transfer
    from sanctions.ledger import capcheck
    from sanctions.ledger.backends import open_ledger

    engine = shared_engine()
    base = json.loads(DIESEL.read_text(encoding="utf-8"))
    ledger = open_ledger(path)
    sizes = [28000, 41000, 35000, 52000, 30000, 47000, 39000, 44000, 51000, 36000, 33000, 22000]
    for month, barrels in enumerate(sizes, 1):
        day = dt.date(2018, month, 8 + (month * 5) % 17)
        t = dict(base, id=f"diesel-2018-{month:02d}", date=day.isoformat(),
                 items=[dict(base["items"][0], quantity={"value": barrels, "unit": "barrels"})],
                 notifications=[{"to": "1718 Committee", "date": (day + dt.timedelta(days=20)).isoformat(),
                                 "reference": f"CN/RP/2018/{month:02d}"}])
        transfer = parse_transfer(t)
        capcheck.judge(engine.check(transfer), transfer, engine.rulebook, ledger, record=True)
    return ledger
