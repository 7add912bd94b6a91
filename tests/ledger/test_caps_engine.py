"""Caps judged across shipments through the engine and the CLI: arithmetic shown, nothing lost, audit trail."""

from __future__ import annotations

import json

import pytest

from support import FIXTURES, run_cli
from sanctions.ledger.capcheck import judge
from sanctions.exc import InvalidInput
from sanctions.ledger.store import Ledger
from sanctions.model.records import parse_transfer


def diesel(tid: str, barrels: float | None, *, date: str = "2024-04-10", unit: str = "barrels"):
    item = {"description": "Diesel fuel", "hs_code": "271019"}
    if barrels is not None:
        item["quantity"] = {"value": barrels, "unit": unit}
    return parse_transfer({
        "id": tid, "date": date, "purpose": "livelihood",
        "supplier": {"name": "Dandong fuel trader", "country": "CN"},
        "recipient": {"name": "Sinuiju fuel distribution", "country": "KP"},
        "origin_country": "CN", "destination_country": "KP", "items": [item],
        "notifications": [{"date": date}]})


def run(engine, ledger, t, record=True):
    return judge(engine.check(t), t, engine.rulebook, ledger, record=record)


def test_cap_across_shipments_with_arithmetic(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        assert run(reference_engine, ledger, diesel("a", 200_000)).verdict == "clear"
        d = run(reference_engine, ledger, diesel("b", 200_000))
        assert d.verdict == "review"  # passes 75%
        f = next(f for f in d.findings if f.related.get("cap_id") == "dprk.refined_petroleum.2397")
        assert "200,000 + 200,000 = 400,000 barrels against a cap of 500,000" in f.explanation
        d = run(reference_engine, ledger, diesel("c", 150_000))
        over = next(f for f in d.findings if f.outcome == "prohibited")
        assert over.related["cap"]["total_before"] == "400000" and over.related["cap"]["total_after"] == "550000.0"
        assert over.citations[0].resolution == "2397 (2017)"
        # the prohibited delivery does not use up the allowance
        assert ledger.total("dprk.refined_petroleum.2397", "2024") == 400_000
        # the same transfer twice counts once
        run(reference_engine, ledger, diesel("a", 200_000))
        assert ledger.total("dprk.refined_petroleum.2397", "2024") == 400_000


def test_nearest_lawful_case_under_the_cap(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        d = run(reference_engine, ledger, diesel("a", 370_000))
        assert d.verdict == "clear" and any("74.0%" in n for n in d.notes)


def test_periods_are_calendar_years(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        run(reference_engine, ledger, diesel("a", 300_000, date="2023-12-31"))
        assert run(reference_engine, ledger, diesel("b", 300_000, date="2024-01-01")).verdict == "clear"


def test_missing_quantity_is_review_never_a_pass(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        d = run(reference_engine, ledger, diesel("a", None))
        assert d.verdict == "review"
        assert any("quantity missing" in f.title for f in d.findings)


def test_unconvertible_unit_is_an_error(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger, pytest.raises(InvalidInput) as info:
        run(reference_engine, ledger, diesel("a", 100, unit="rounds"))
    assert "rounds" in str(info.value)


def test_tonnes_are_converted_conservatively(reference_engine, tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        d = run(reference_engine, ledger, diesel("a", 10_000, unit="tonnes"))
        assert any("counts most against cap" in n for n in d.notes)
        assert ledger.total("dprk.refined_petroleum.2397", "2024") > 70_000


def test_without_a_ledger_caps_are_said_not_judged(reference_engine):
    t = diesel("a", 1000)
    d = judge(reference_engine.check(t), t, reference_engine.rulebook, None)
    assert any("was not judged: no ledger" in n for n in d.notes)


def test_crude_cap_whichever_is_lower(reference_engine, tmp_path):
    crude = parse_transfer({
        "id": "crude-1", "date": "2018-03-01", "supplier": {"name": "CNPC", "country": "CN"},
        "recipient": {"name": "Ponghwa refinery", "country": "KP"}, "origin_country": "CN",
        "destination_country": "KP",
        "items": [{"description": "Crude oil by pipeline", "hs_code": "270900",
                   "quantity": {"value": 530_000, "unit": "tonnes"}}]})
    with Ledger(tmp_path / "l.db") as ledger:
        d = run(reference_engine, ledger, crude)
        over = [f for f in d.findings if f.outcome == "prohibited"]
        assert over and over[0].related["cap"]["period"] == "2017-12-22/2018-12-21"


def test_cli_ledger_audit_round_trip(tmp_path):
    files = []
    for i, barrels in enumerate((200_000, 200_000, 150_000)):
        data = json.loads((FIXTURES / "lawful_refined_petroleum_notified.json").read_text())
        data["id"] = f"diesel-{i}"
        data["items"][0]["quantity"]["value"] = barrels
        path = tmp_path / f"d{i}.json"
        path.write_text(json.dumps(data))
        files.append(str(path))
    ledger, log = str(tmp_path / "l.db"), str(tmp_path / "audit.jsonl")
    p = run_cli(*files, "--ledger", ledger, "--audit", log, "--no-screening", "--format", "json")
    assert p.returncode == 1, p.stderr  # the third delivery goes over the cap
    assert [d["verdict"] for d in json.loads(p.stdout)] == ["clear", "review", "prohibited"]
    p = run_cli("ledger", "show", "--ledger", ledger, "--format", "json")
    rows = json.loads(p.stdout)
    assert rows == [{"cap": "dprk.refined_petroleum.2397", "period": "2024", "total": "400000", "count": 2,
                     "limit": "500000", "remaining": "100000", "fraction": 0.8}]
    assert run_cli("audit", "verify", "--audit", log).returncode == 0
    for seq in (1, 2, 3):
        p = run_cli("audit", "replay", str(seq), "--audit", log)
        assert p.returncode == 0, p.stdout
    text = open(log).read().replace('"verdict":"prohibited"', '"verdict":"clear"')
    open(log, "w").write(text)
    p = run_cli("audit", "verify", "--audit", log)
    assert p.returncode == 1 and b"seq 3" in p.stdout
