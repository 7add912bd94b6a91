"""Replay 2018's reported refined-petroleum deliveries to the DPRK through the ledger and the 2397 OP5 cap.

WHAT IS REAL AND WHAT IS NOT. The 1718 Committee publishes, on its page "Supply, sale or transfer of all
refined petroleum products" (https://www.un.org/securitycouncil/sanctions/1718/supply-sale-or-transfer-of-all-refined-petroleum),
the amounts Member States notify. That page could not be retrieved through our search tool, so the figures
below are the Committee's figures AS REPORTED BY THE PRESS, each cited. No per-delivery figures were
found; the series is monthly for January-April 2018 and period aggregates after that.

Figures (metric tonnes, China and Russia combined, as notified to the Committee):

* January 570 t, February 3,275 t, March 4,337 t, April 438 t; January-April 8,618 t (China 4,470 t,
  Russia 4,148 t). UPI, 28 June 2018, citing 1718 Committee data:
  https://www.upi.com/Top_News/World-News/2018/06/28/Russia-China-provided-nearly-9000-tons-of-fuel-assistance-to-North-Korea/3841530193301/
  (the four months add up to 8,620 t, 2 t more than the stated total: rounding in the report.)
* January-August 2018 "around 22,000 tons". Korea Herald, 3 October 2018, citing VOA and the Committee:
  https://m.koreaherald.com/view.php?ud=20181003000188
* Whole of 2018: 48,430 t. Korea Herald (Yonhap), 21 February 2020, citing the Committee's website:
  http://www.koreaherald.com/view.php?ud=20200221000428 . The same report gives 2019 as China 22,730 t and
  Russia 30,180 t, "combined 53,000 tons, or 418,000 barrels".
* Russia alone reported 241,114 barrels for 2018 (Yonhap via
  https://myanmarnewsgazette.com/russia-supplied-some-100000-barrels-of-refined-petroleum-to-n-korea-last-year-2
  ).

DERIVED, NOT REPORTED: May-August = 22,000 - 8,620 = 13,380 t (approximate, "around 22,000") and
September-December = 48,430 - 22,000 = 26,430 t. Each entry is dated on the last day of its period: the
real delivery dates are not in these sources, so "the date the cap was crossed" can only be the end of the
period in which it happened.

BARRELS ARE AN ASSUMPTION. The Committee converts each notification to barrels by product, but the product
mix is not in these sources. We therefore replay the same tonnes under three stated conversions:

* ``diesel``: every tonne is gas/diesel oil (UNSD, 1149 l/t, about 7.23 bbl/t): 350,003.25 bbl, 70.0 per
  cent of the cap. No threshold crossed.
* ``implied_2019``: 418,000 bbl / 52,910 t = 7.9002 bbl/t, the ratio in Yonhap's 2019 report:
  382,607.07 bbl, 76.5 per cent. The 75 per cent threshold is crossed in the September-December period; the
  cap is not.
* ``lpg``: every tonne is LPG at the Committee's 11.6 bbl/t (the upper bound): 561,788 bbl. The cap would
  have been crossed in the September-December period (entry dated 2018-12-31), when the running total went
  from 255,200 to 561,788 barrels.

Under every plausible mix the reported (legal) deliveries stayed under 500,000 barrels; only the
all-LPG upper bound crosses it. This matches the press record: the United States argued in 2018 that the
cap was breached through unreported ship-to-ship transfers, not through the notified figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sanctions.ledger.caps import CapInput, CapSpec, assess
from sanctions.ledger.store import Ledger
from sanctions.model.records import Quantity
from sanctions.model.units import convert

CAP = CapSpec.model_validate(
    {
        "id": "dprk.refined_petroleum.2397",
        "quantity": {"unit": "barrels"},
        "limit": 500_000,
        "period": {"kind": "calendar_year", "start": "2018-01-01"},
        "thresholds": [0.75, 0.9, 0.95],
        "scope": "All refined petroleum products supplied to the DPRK, 500,000 barrels per calendar year "
        "(2397 OP5).",
    }
)

# (transfer id, entry date = last day of the reporting period, tonnes, what it is)
SERIES_2018 = [
    ("1718-2018-01", "2018-01-31", 570, "reported: January (UPI 2018-06-28)"),
    ("1718-2018-02", "2018-02-28", 3_275, "reported: February (UPI 2018-06-28)"),
    ("1718-2018-03", "2018-03-31", 4_337, "reported: March (UPI 2018-06-28)"),
    ("1718-2018-04", "2018-04-30", 438, "reported: April (UPI 2018-06-28)"),
    (
        "1718-2018-05-08",
        "2018-08-31",
        13_380,
        "derived: ~22,000 t to August (Korea Herald 2018-10-03) - 8,620 t",
    ),
    (
        "1718-2018-09-12",
        "2018-12-31",
        26_430,
        "derived: 48,430 t for 2018 (Korea Herald 2020-02-21) - 22,000 t",
    ),
]
REPORTED_TOTAL_2018_T = Decimal(48_430)
REPORTED_JAN_APR_T = Decimal(8_618)
IMPLIED_2019_BBL_PER_T = Decimal(418_000) / Decimal(52_910)


def to_barrels(tonnes: Decimal, scenario: str) -> tuple[CapInput, Decimal]:
    if scenario == "implied_2019":  # not a product: record barrels directly, keep tonnes as the original
        bbl = tonnes * IMPLIED_2019_BBL_PER_T
        return CapInput(0, Quantity(value=float(bbl), unit="barrels")), bbl
    return CapInput(0, Quantity(value=float(tonnes), unit="tonnes"), product=scenario), convert(
        tonnes, "tonnes", "barrels", product=scenario
    )


def replay_year(ledger: Ledger, scenario: str):
    events = []
    for tid, date, tonnes, what in SERIES_2018:
        item, _ = to_barrels(Decimal(tonnes), scenario)
        day = dt.date.fromisoformat(date)
        a = assess(CAP, ledger, item, on=day)
        transfer = {
            "id": tid,
            "date": date,
            "supplier": "China and Russia (combined, as notified)",
            "recipient": "DPRK",
            "items": [
                {"description": "refined petroleum products", "quantity": {"value": tonnes, "unit": "tonnes"}}
            ],
            "notes": what,
        }
        ledger.record(transfer, list(a.lines))
        events.append((day, a))
    return events


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "dprk-2018.db") as led:
        yield led


def test_series_matches_the_reported_totals():
    tonnes = [Decimal(t) for _, _, t, _ in SERIES_2018]
    assert sum(tonnes) == REPORTED_TOTAL_2018_T
    assert abs(sum(tonnes[:4]) - REPORTED_JAN_APR_T) <= 2  # rounding in the UPI report


@pytest.mark.parametrize(
    ("scenario", "total_bbl", "crossed", "over_on"),
    [
        ("diesel", Decimal("350003.250418"), {}, None),
        ("implied_2019", Decimal("382607.068607"), {0.75: dt.date(2018, 12, 31)}, None),
        (
            "lpg",
            Decimal("561788"),
            {0.75: dt.date(2018, 12, 31), 0.9: dt.date(2018, 12, 31), 0.95: dt.date(2018, 12, 31)},
            dt.date(2018, 12, 31),
        ),
    ],
)
def test_replay_2018(ledger, scenario, total_bbl, crossed, over_on):
    events = replay_year(ledger, scenario)
    total = ledger.total(CAP.id, "2018")
    assert abs(total - total_bbl) <= Decimal("0.000006")
    assert ledger.count(CAP.id, "2018") == len(SERIES_2018)
    # the original tonnes are kept (converted scenarios record tonnes; the implied one records barrels)
    originals = sum(e.original_value for e in ledger.entries(CAP.id, "2018"))
    if scenario != "implied_2019":
        assert originals == REPORTED_TOTAL_2018_T
    seen = {t: day for day, a in events for t in a.crossed_thresholds}
    assert seen == crossed
    first_over = next((day for day, a in events if a.over_cap), None)
    assert first_over == over_on
    (row,) = ledger.totals(2018, limits={CAP.id: CAP.limit})
    assert row.remaining == CAP.limit - total
    if scenario == "lpg":
        last = events[-1][1]
        assert last.total_before == Decimal(22_000) * Decimal("11.6") == 255_200
        assert last.total_after == 561_788


def test_replaying_the_year_twice_counts_it_once(ledger):
    replay_year(ledger, "diesel")
    before = ledger.total(CAP.id, "2018")
    replay_year(ledger, "diesel")
    assert ledger.total(CAP.id, "2018") == before
    assert ledger.count(CAP.id, "2018") == len(SERIES_2018)


def test_russia_alone_reported_under_half_the_cap():
    """Russia's own 2018 figure, already in barrels (Yonhap): 241,114 bbl, 48.2 per cent of the cap."""
    a = assess(CAP, None, Quantity(value=241_114, unit="barrels"), on=dt.date(2018, 12, 31))
    assert not a.over_cap and a.crossed_thresholds == ()
    assert a.fraction == pytest.approx(0.482228)
