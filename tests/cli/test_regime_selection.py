"""check-transfer --regime: judge under chosen regimes only, list them, and refuse an unknown one plainly."""

from __future__ import annotations

import json

from support import run_cli

SHELLS_TO_IRAN = {
    "id": "ir-2012", "date": "2012-05-01",
    "supplier": {"name": "Arms Broker Ltd", "country": "BY"},
    "recipient": {"name": "Ministry of Defence of Iran", "country": "IR", "kind": "government_body"},
    "origin_country": "BY", "destination_country": "IR",
    "items": [{"description": "152 mm artillery shells", "category": "ammunition_and_related_materiel"}],
}


def test_regime_selection_changes_what_is_judged_and_the_decision_says_which(tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(SHELLS_TO_IRAN))
    iran = run_cli(str(f), "--no-screening", "--regime", "iran,libya", "--format", "json")
    assert iran.returncode == 1, iran.stderr
    d = json.loads(iran.stdout)
    assert d["regimes"] == ["Iran", "Libya"] and d["findings"][0]["rule_id"] == "iran.arms.supply.heavy.1929"
    dprk = run_cli(str(f), "--no-screening", "--regime", "DPRK")
    assert dprk.returncode == 0 and "Regimes considered: DPRK." in dprk.stdout.decode()


def test_unknown_regime_is_a_usage_error_naming_it(tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(SHELLS_TO_IRAN))
    p = run_cli(str(f), "--no-screening", "--regime", "iarn")
    err = p.stderr.decode()
    assert p.returncode == 2 and "unknown regime 'iarn'" in err and "did you mean 'Iran'" in err
    assert "Traceback" not in err


def test_rules_listing_for_one_regime():
    p = run_cli("rules", "--regime", "iran", "--format", "json")
    assert p.returncode == 0, p.stderr
    ids = [r["id"] for r in json.loads(p.stdout)["rules"]]
    assert ids and all(i.startswith("iran.") for i in ids)
    md = run_cli("rules", "--regime", "sudan", "--format", "markdown").stdout.decode()
    assert "## Sudan" in md and "## DPRK" not in md
