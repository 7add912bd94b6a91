"""HTML from the command line: check --format html, report DECISIONS.jsonl, ledger show --format html."""

from __future__ import annotations

import json
import os
import re
import tempfile

import pytest
from support import ROOT, run_cli


@pytest.fixture(scope="module")
def env():
    return dict(os.environ, SANCTIONS_DATA_DIR=tempfile.mkdtemp())


def test_check_format_html_writes_one_page(tmp_path, env):
    out = tmp_path / "report.html"
    bad = tmp_path / "in.jsonl"
    deal = json.loads((ROOT / "fixtures" / "dprk_russia_arms_for_oil.json").read_text(encoding="utf-8"))
    bad.write_text(json.dumps(deal) + "\n" + '{"id": "x"}\n', encoding="utf-8")
    p = run_cli(str(bad), "--format", "html", "--out", str(out), env=env)
    assert p.returncode == 2, p.stderr  # a record was bad: the run is incomplete, and says so
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<article class="finding ') > 10
    assert page.count('class="leg-arrow') == 5
    assert "1 record not judged" in page and "line 2" in page
    p = run_cli(str(ROOT / "fixtures" / "lawful_food_aid.json"), "--format", "html", env=env)
    assert p.returncode == 0 and b"Clear" in p.stdout and b"No findings." in p.stdout


def test_report_subcommand(tmp_path, env):
    decisions = tmp_path / "d.jsonl"
    fixtures = ["lawful_food_aid.json", "dprk_russia_arms_for_oil.json"]
    p = run_cli(*(str(ROOT / "fixtures" / f) for f in fixtures), "--format", "jsonl", "--out", str(decisions),
                env=env)
    assert p.returncode == 1, p.stderr
    with decisions.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    out = tmp_path / "batch.html"
    p = run_cli("report", str(decisions), "--out", str(out), env=env)
    assert p.returncode == 0, p.stderr
    page = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="batch-data">(.*?)</script>', page, re.DOTALL)[1])
    assert [r[1] for r in data["rows"]] == ["food-aid-2024-05", "dprk-russia-2023-2024"] and data["errors"][0][0] == 3
    for args, words in ((["report", str(tmp_path / "none.jsonl"), "--out", str(out)], b"no such file"),
                        (["report", str(decisions), "--out", str(tmp_path / "no" / "x.html")], b"does not exist"),
                        (["report", str(decisions)], b"--out")):
        p = run_cli(*args, env=env)
        assert p.returncode == 2 and words in p.stderr and b"Traceback" not in p.stderr


def test_ledger_show_html(tmp_path, env):
    from report_samples import diesel_ledger

    diesel_ledger(tmp_path / "l.db").close()
    p = run_cli("ledger", "show", "--ledger", str(tmp_path / "l.db"), "--format", "html", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count(b'class="cap-chart"') == 1 and b"458,000 of 500,000 barrels" in p.stdout
