"""Screening chained into findings: a designated recipient makes a harmless cargo prohibited (1718 OP8(d))."""

from __future__ import annotations

import json

import pytest

from support import SHARED, run_cli
from sanctions.screening import lists
from sanctions.screening import matching
from sanctions.screening import screen as screening
from sanctions.model.records import parse_transfer

LIST_2026_05 = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
pytestmark = pytest.mark.skipif(not LIST_2026_05.exists(), reason="shared UN list edition missing")


@pytest.fixture(scope="module")
def index():
    return matching.index_for(lists.load(LIST_2026_05))


def rice_to(name: str, country: str = "KP", date: str = "2024-03-01", **extra) -> object:
    return parse_transfer({"id": "t", "date": date, "supplier": {"name": "Tianjin Trading Ltd", "country": "CN"},
                           "recipient": {"name": name, "country": country, "kind": "company"},
                           "origin_country": "CN", "destination_country": country,
                           "items": [{"description": "Rice", "hs_code": "100630"}], **extra})


def test_designated_entity_spelt_as_a_trader_would(reference_engine, index):
    d = screening.check(reference_engine, rice_to("Korea Mining Development Trading Corp."), index)
    assert d.verdict == "prohibited"
    f = next(f for f in d.findings if f.rule_id == "dprk.persons.asset_freeze")
    assert f.citations[0].resolution == "1718 (2006)" and f.citations[0].paragraph == "OP8(d)"
    hit = f.related["listings"][0]
    assert hit["reference_number"] == "KPe.001" and hit["listed_on"] == "2009-04-24"
    assert d.screening["performed"] and d.screening["edition"] == "2026-05-08"


def test_nearest_lawful_case_an_unlisted_recipient(reference_engine, index):
    d = screening.check(reference_engine, rice_to("Pyongyang Bakery Cooperative"), index)
    assert "dprk.persons.asset_freeze" not in {f.rule_id for f in d.findings}
    assert d.screening["performed"]


def test_listed_after_the_transfer_is_not_a_violation_on_that_date(reference_engine, index):
    d = screening.check(reference_engine, rice_to("Korea Mining Development Trading Corp.", date="2008-01-10"), index)
    assert "dprk.persons.asset_freeze" not in {f.rule_id for f in d.findings}
    assert any("listed on 2009-04-24, after 2008-01-10" in n for n in d.notes)


def test_humanitarian_carve_out_2664(reference_engine, index):
    t = parse_transfer({"id": "t", "date": "2024-03-01", "purpose": "humanitarian",
                        "supplier": {"name": "World Food Programme", "country": "IT",
                                     "kind": "international_organisation"},
                        "recipient": {"name": "Korea Mining Development Trading Corp.", "country": "KP"},
                        "origin_country": "CN", "destination_country": "KP",
                        "items": [{"description": "Rice", "hs_code": "100630"}]})
    d = screening.check(reference_engine, t, index)
    assert d.verdict != "prohibited"
    assert any(c.rule_id == "dprk.persons.asset_freeze" and c.status == "exempted" for c in d.considered)


def test_without_a_list_screening_is_not_performed(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"id": "t", "date": "2024-03-01", "supplier": {"name": "A", "country": "CN"},
                                "recipient": {"name": "Korea Mining Development Trading Corp.", "country": "KP"},
                                "origin_country": "CN", "destination_country": "KP"}))
    import os
    import subprocess
    import sys

    from support import ROOT

    env = dict(os.environ, SANCTIONS_DATA_DIR=str(tmp_path / "empty"))
    p = subprocess.run([sys.executable, "-m", "sanctions.cli", str(path), "--format", "json"], capture_output=True,
                       env=env, cwd=ROOT, timeout=120)
    d = json.loads(p.stdout)
    assert d["screening"]["performed"] is False and "no UN list is installed" in d["screening"]["reason"]
    p = run_cli(str(path), "--list", str(LIST_2026_05))
    assert p.returncode == 1 and b"KPe.001" in p.stdout


def test_cli_lists_and_screen(tmp_path):
    import os

    env = dict(os.environ, SANCTIONS_DATA_DIR=str(tmp_path / "data"))
    p = run_cli("lists", "show", env=env)
    assert p.returncode == 2 and b"no UN list is installed" in p.stderr
    p = run_cli("lists", "update", "--from", str(LIST_2026_05), env=env)
    assert p.returncode == 0, p.stderr
    p = run_cli("lists", "show", env=env)
    assert json.loads(p.stdout)["entries"] == 1009
    p = run_cli("lists", "diff", str(SHARED / "data" / "un_sc_consolidated_2026-01-28.xml"), str(LIST_2026_05))
    assert p.stdout.decode().startswith("11 added, 1 removed")
    p = run_cli("screen", "Ri Pyong Chol", "--list", str(LIST_2026_05), "--format", "json")
    assert p.returncode == 1 and json.loads(p.stdout)["Ri Pyong Chol"][0]["reference_number"] == "KPi.076"
