"""check-transfer through a subprocess: exit codes, output formats, and errors without tracebacks."""

from __future__ import annotations

import json

import pytest

from support import FIXTURES, run_cli

FOUNDING = str(FIXTURES / "dprk_russia_arms_for_oil.json")
GOOD = {
    "id": "t-1", "date": "2024-01-15", "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    "items": [{"description": "Lathes", "hs_code": "845811"}],
}


def test_founding_deal_text():
    p = run_cli(FOUNDING, "--no-screening")
    out = p.stdout.decode()
    assert p.returncode == 1, p.stderr
    assert out.startswith("PROHIBITED  deal dprk-russia-2023-2024")
    assert "UNSCR 1718 (2006) OP8(b)" in out and "dprk.deal.consideration" in out
    assert "1 prohibited" in p.stderr.decode()


def test_founding_deal_json_has_separate_citation_fields():
    p = run_cli(FOUNDING, "--format", "json", "--no-screening")
    assert p.returncode == 1
    d = json.loads(p.stdout)
    assert d["verdict"] == "prohibited"
    cit = d["findings"][0]["citations"][0]
    assert set(cit) >= {"resolution", "paragraph", "adopted", "verified", "source"}
    assert all("rule_id" in f for f in d["findings"])


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("lawful_*.json")))
def test_lawful_fixture_exits_0(fixture):
    p = run_cli(str(FIXTURES / fixture), "--no-screening")
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def test_stdin_and_jsonl_with_a_bad_line(tmp_path):
    bad = dict(GOOD, id="t-2", origin_country="North Korea")
    lines = [json.dumps(GOOD), "{not json", json.dumps(bad), json.dumps(dict(GOOD, id="t-3"))]
    p = run_cli("-", "--format", "jsonl", "--no-screening", stdin=("\n".join(lines) + "\n").encode())
    assert p.returncode == 2
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(out) == 4  # two decisions and two errors: nothing dropped
    assert [o.get("error", {}).get("record") for o in out] == [None, 2, 3, None]
    err = p.stderr.decode()
    assert "<stdin>:line 2: not valid JSON" in err
    assert "origin_country" in err and "did you mean 'KP'" in err
    assert "4 read, 2 judged" in err and "2 rejected" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("payload", "expect"),
    [
        (b"", "file is empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested"),
        (b'{"id": "x"}', "required field is missing"),
        (json.dumps(dict(GOOD, date="2024-13-01")).encode(), "date"),
        (json.dumps(dict(GOOD, items=[{"description": "x", "quantity": {"value": -1, "unit": "tonnes"}}])).encode(),
         "items[0].quantity.value"),
        (b'{"id": "x", "date": NaN}', "not valid JSON"),
    ],
)
def test_bad_input_exits_2_without_traceback(payload, expect):
    p = run_cli("-", "--no-screening", stdin=payload)
    err = p.stderr.decode()
    assert p.returncode == 2, (p.stdout, err)
    assert expect in err
    assert "Traceback" not in err


def test_missing_file_and_bad_usage():
    p = run_cli("/nonexistent.json", "--no-screening")
    assert p.returncode == 2 and "cannot read" in p.stderr.decode()
    p = run_cli(FOUNDING, "--as-of", "2024-02-30")
    assert p.returncode == 2 and "not a date" in p.stderr.decode()
    p = run_cli()
    assert p.returncode == 2


def test_as_of_overrides_the_date():
    p = run_cli(str(FIXTURES / "lawful_dprk_coal_before_ban.json"), "--as-of", "2020-01-01", "--no-screening")
    assert p.returncode == 1


def test_broken_rule_pack_is_refused(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: x\nregime: [\n")
    p = run_cli(FOUNDING, "--rules", str(tmp_path))
    assert p.returncode == 2
    assert "bad.yaml" in p.stderr.decode() and "Traceback" not in p.stderr.decode()


def test_schema_and_rules_commands():
    p = run_cli("schema")
    assert p.returncode == 0 and "Transfer" in json.loads(p.stdout)["$defs"]
    p = run_cli("rules")
    assert p.returncode == 0 and "dprk.arms.procurement.heavy" in p.stdout.decode()
    assert "UNSCR 1718 (2006) OP8(b)" in p.stdout.decode()
    p = run_cli("rules", "--format", "json")
    rules = json.loads(p.stdout)["rules"]
    assert all(r["legal_basis"] for r in rules)


def test_screening_status_is_reported_not_passed():
    p = run_cli(FOUNDING, "--format", "json", "--no-screening")
    assert json.loads(p.stdout)["screening"]["performed"] is False


def test_deterministic_bytes_across_processes():
    a = run_cli(FOUNDING, "--format", "json", "--no-screening").stdout
    b = run_cli(FOUNDING, "--format", "json", "--no-screening").stdout
    assert a == b


def test_text_evidence_shows_values_not_python_tuples():
    """Decisions hold tuples (they are immutable); the text report shows their values, as it did lists."""
    p = run_cli("fixtures/dprk_russia_arms_for_oil.json", "--no-screening")
    out = p.stdout.decode()
    assert p.returncode == 1, p.stderr
    assert "(('" not in out and "',)" not in out
    assert "leg.findings prohibited (dprk.arms.procurement.heavy, dprk.military.catchall)" in " ".join(out.split())
