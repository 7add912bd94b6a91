"""Iran: a shipment is judged under the law of its own date, on every boundary of the timeline.

1737 (23 Dec 2006) nuclear and missile items; 1747 (24 Mar 2007) arms from Iran; 1929 (9 Jun 2010) heavy arms to
Iran; Implementation Day (16 Jan 2016) ends them and starts the 2231 Annex B approvals (arms until 18 Oct 2020,
read as ending with 17 Oct; missile items until 18 Oct 2023; nuclear items through the procurement channel until
the snapback); the snapback re-applies the old measures from 28 Sep 2025, with the dispute noted.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sanctions.engine import Engine
from sanctions.model.records import parse_transfer


@pytest.fixture(scope="module", params=["reference", "batch", "durable"])
def engine(request):
    return Engine(evaluator=request.param)


def to_iran(date, category="unroca_i_battle_tanks", **extra):
    return parse_transfer({
        "id": "ir", "date": date, "supplier": {"name": "Rosoboronexport", "country": "RU", "kind": "company"},
        "recipient": {"name": "Ministry of Defence of Iran", "country": "IR", "kind": "government_body"},
        "origin_country": "RU", "destination_country": "IR",
        "items": [{"description": "Item", "category": category}], **extra})


def from_iran(date, category="small_arms_light_weapons"):
    return parse_transfer({
        "id": "ir", "date": date, "supplier": {"name": "Iranian supplier", "country": "IR"},
        "recipient": {"name": "Buyer Co", "country": "VE"}, "origin_country": "IR", "destination_country": "VE",
        "items": [{"description": "Item", "category": category}]})


def iran_findings(decision):
    return sorted((f.rule_id, f.outcome) for f in decision.findings if f.regime == "Iran")


HEAVY = "iran.arms.supply.heavy"
PROC = "iran.arms.procurement"
MISS = "iran.missiles.supply"
NUC = "iran.nuclear.supply"

# (builder, date, expected Iran findings)
TIMELINE = [
    # heavy arms to Iran: vigilance only before 1929
    (to_iran, "2010-06-08", []),
    (to_iran, "2010-06-09", [(f"{HEAVY}.1929", "prohibited")]),
    (to_iran, "2010-06-10", [(f"{HEAVY}.1929", "prohibited")]),
    (to_iran, "2016-01-15", [(f"{HEAVY}.1929", "prohibited")]),
    (to_iran, "2016-01-16", [(f"{HEAVY}.2231", "authorisation_required")]),
    (to_iran, "2016-01-17", [(f"{HEAVY}.2231", "authorisation_required")]),
    (to_iran, "2020-10-17", [(f"{HEAVY}.2231", "authorisation_required")]),
    (to_iran, "2020-10-18", []),
    (to_iran, "2020-10-19", []),
    (to_iran, "2025-09-27", []),
    (to_iran, "2025-09-28", [(f"{HEAVY}.snapback", "prohibited")]),
    (to_iran, "2025-09-29", [(f"{HEAVY}.snapback", "prohibited")]),
    # arms from Iran
    (from_iran, "2007-03-23", []),
    (from_iran, "2007-03-24", [(f"{PROC}.1747", "prohibited")]),
    (from_iran, "2007-03-25", [(f"{PROC}.1747", "prohibited")]),
    (from_iran, "2016-01-15", [(f"{PROC}.1747", "prohibited")]),
    (from_iran, "2016-01-16", [(f"{PROC}.2231", "authorisation_required")]),
    (from_iran, "2020-10-17", [(f"{PROC}.2231", "authorisation_required")]),
    (from_iran, "2020-10-18", []),
    (from_iran, "2025-09-27", []),
    (from_iran, "2025-09-28", [(f"{PROC}.snapback", "prohibited")]),
    # missile items to Iran
    (lambda d: to_iran(d, "ballistic_missile_items"), "2006-12-22", []),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2006-12-23", [(f"{MISS}.1737", "prohibited")]),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2006-12-24", [(f"{MISS}.1737", "prohibited")]),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2016-01-15", [(f"{MISS}.1737", "prohibited")]),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2016-01-16", [(f"{MISS}.2231", "authorisation_required")]),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2023-10-17", [(f"{MISS}.2231", "authorisation_required")]),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2023-10-18", []),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2023-10-19", []),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2025-09-27", []),
    (lambda d: to_iran(d, "ballistic_missile_items"), "2025-09-28", [(f"{MISS}.snapback", "prohibited")]),
    # nuclear items to Iran
    (lambda d: to_iran(d, "nuclear_items"), "2006-12-22", []),
    (lambda d: to_iran(d, "nuclear_items"), "2006-12-23", [(f"{NUC}.1737", "prohibited")]),
    (lambda d: to_iran(d, "nuclear_items"), "2016-01-15", [(f"{NUC}.1737", "prohibited")]),
    (lambda d: to_iran(d, "nuclear_items"), "2016-01-16", [(f"{NUC}.2231", "authorisation_required")]),
    (lambda d: to_iran(d, "nuclear_items"), "2025-09-27", [(f"{NUC}.2231", "authorisation_required")]),
    (lambda d: to_iran(d, "nuclear_items"), "2025-09-28", [(f"{NUC}.snapback", "prohibited")]),
    (lambda d: to_iran(d, "nuclear_items"), "2025-09-29", [(f"{NUC}.snapback", "prohibited")]),
]


@pytest.mark.parametrize(("build", "date", "expected"), TIMELINE,
                         ids=[f"{i}-{d}" for i, (_, d, _) in enumerate(TIMELINE)])
def test_every_boundary_of_the_timeline(engine, build, date, expected):
    assert iran_findings(engine.check(build(date))) == expected


@pytest.mark.parametrize(("build", "date", "expected"), TIMELINE,
                         ids=[f"{i}-{d}" for i, (_, d, _) in enumerate(TIMELINE)])
def test_as_of_judges_under_the_law_of_that_day(engine, build, date, expected):
    # the same transfer dated elsewhere, judged as of the boundary day, gives the boundary day's answer
    assert iran_findings(engine.check(build("2000-01-01"), as_of=dt.date.fromisoformat(date))) == expected


def test_heavy_arms_2012_prohibited_citing_1929(engine):
    d = engine.check(to_iran("2012-05-01"))
    assert d.verdict == "prohibited"
    (f,) = [f for f in d.findings if f.regime == "Iran"]
    assert f.rule_id == f"{HEAVY}.1929" and f.citations[0].resolution == "1929 (2010)" and f.citations[0].paragraph == "OP8"


def test_heavy_arms_2018_needs_council_approval_under_2231_annex_b(engine):
    d = engine.check(to_iran("2018-05-01"))
    assert d.verdict == "authorisation_required"
    (f,) = d.findings
    assert (f.citations[0].resolution, f.citations[0].paragraph) == ("2231 (2015)", "Annex B para 5")
    assert f.duty is not None and "Security Council" in f.duty.to
    approved = engine.check(to_iran("2018-05-01", exemptions=[{"reference": "S/2018/1", "granted_by": "Security Council"}]))
    assert approved.verdict == "clear"


def test_heavy_arms_2022_nothing_applies_and_the_decision_says_why(engine):
    d = engine.check(to_iran("2022-05-01"))
    assert d.verdict == "clear" and d.findings == ()
    reasons = {c.rule_id: c.reason for c in d.considered}
    assert set(reasons) == {f"{HEAVY}.1929", f"{HEAVY}.2231", f"{HEAVY}.snapback"}
    assert "terminated on Implementation Day" in reasons[f"{HEAVY}.1929"]
    assert "until 2020-10-17" in reasons[f"{HEAVY}.2231"]
    assert "not yet in force" in reasons[f"{HEAVY}.snapback"] and "2025-09-28" in reasons[f"{HEAVY}.snapback"]
    assert any(n.startswith("Iran: no measure applies to ir on its dates: 3 rule(s) matched") for n in d.notes)


def test_heavy_arms_october_2025_prohibited_again_with_the_dispute(engine):
    d = engine.check(to_iran("2025-10-15"))
    assert d.verdict == "prohibited"
    (f,) = d.findings
    assert f.rule_id == f"{HEAVY}.snapback"
    assert {(c.resolution, c.paragraph) for c in f.citations} == {("1929 (2010)", "OP8"), ("2231 (2015)", "OP11-12")}
    assert "Disputed: Iran, Russia and China" in f.explanation and "UN Secretariat" in f.explanation
    assert any("Disputed" in n for n in d.notes)


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2016-01-10", "2016-01-20", [(f"{HEAVY}.1929", "prohibited"), (f"{HEAVY}.2231", "authorisation_required")]),
    ("2020-10-10", "2020-10-25", [(f"{HEAVY}.2231", "authorisation_required")]),
    ("2020-10-18", "2025-09-27", []),
    ("2025-09-20", "2025-10-05", [(f"{HEAVY}.snapback", "prohibited")]),
    ("2015-12-01", "2025-12-01", [(f"{HEAVY}.1929", "prohibited"), (f"{HEAVY}.2231", "authorisation_required"),
                                  (f"{HEAVY}.snapback", "prohibited")]),
])
def test_a_span_is_judged_under_every_law_in_force_during_it(engine, start, end, expected):
    d = engine.check(to_iran({"start": start, "end": end}))
    assert iran_findings(d) == expected
