"""Issue 16 item 11: a JSON key given twice is refused, naming the key and the line, in every reader."""

from __future__ import annotations

import json

from support import run_cli

GOOD = {
    "id": "t-1", "date": "2024-01-15", "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    "items": [{"description": "Lathes", "hs_code": "845811"}],
}


def test_item_11_duplicate_json_keys_are_refused_naming_key_and_line(tmp_path):
    pretty = json.dumps(GOOD, indent=2).splitlines()
    at = next(i for i, ln in enumerate(pretty) if '"destination_country"' in ln)
    pretty.insert(at + 1, '  "destination_country": "CN",')  # the later value would have cleared the transfer
    doc = tmp_path / "one.json"
    doc.write_text("\n".join(pretty) + "\n")
    p = run_cli(str(doc), "--no-screening")
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert f"line {at + 2}: key 'destination_country' appears twice" in err

    lines = tmp_path / "in.jsonl"
    dup = json.dumps(GOOD).replace('"origin_country": "CN"', '"origin_country": "CN", "origin_country": "RU"')
    lines.write_text(json.dumps(GOOD) + "\n" + dup + "\n")
    p = run_cli(str(lines), "--no-screening", "--format", "jsonl")
    assert p.returncode == 2 and "line 2: key 'origin_country' appears twice" in p.stderr.decode()
    assert len(p.stdout.decode().splitlines()) == 2  # the good record is judged, the bad one reported

    out = tmp_path / "out.jsonl"
    p = run_cli("batch", str(lines), "--out", str(out), "--workers", "0", "--quiet")
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert p.returncode == 2 and got[1]["line"] == 2
    assert "'origin_country' appears twice" in got[1]["error"]["message"]


# -- item 7: a rule pack with a *.yaml that is a device or a FIFO ------------------------------------------------


def _pack_with(tmp_path, name, make):
    from support import TEST_RULE

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "ok.yaml").write_text(TEST_RULE)
    make(pack / name)
    return pack


def test_item_7_rule_pack_yaml_symlink_to_dev_zero_is_refused_without_reading_it(tmp_path):
    import subprocess
    import sys

    from support import ROOT

    pack = _pack_with(tmp_path, "zero.yaml", lambda p: p.symlink_to("/dev/zero"))
    # a child with 1 GiB of address space: reading /dev/zero as the old loader did fails with MemoryError
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
            "from sanctions.cli.main import main; sys.exit(main(sys.argv[1:]))")
    p = subprocess.run([sys.executable, "-c", code, "rules", "--rules", str(pack)], cwd=ROOT, capture_output=True,
                       timeout=120)
    assert p.returncode == 2, p.stderr.decode()[-500:]
    assert "zero.yaml: is a device, not a rule file" in p.stderr.decode()


def test_item_7_rule_pack_yaml_fifo_is_refused_without_hanging(tmp_path):
    import os

    from sanctions.exc import InvalidRule
    from sanctions.rulebook import load_rulebook

    pack = _pack_with(tmp_path, "pipe.yaml", os.mkfifo)
    try:
        load_rulebook(pack)
    except InvalidRule as err:
        assert "pipe.yaml: is a FIFO, not a rule file" in str(err)
    else:
        raise AssertionError("a FIFO was accepted as a rule file")
    p = run_cli("rules", "--rules", str(pack), timeout=60)
    assert p.returncode == 2 and "is a FIFO" in p.stderr.decode()


# -- item 25: durable-rules' DeprecationWarnings stopped at their source; missing durable shows as skipped ------


def test_item_25_durable_rules_raises_no_deprecation_warnings():
    import warnings

    from sanctions.engine import Engine
    from sanctions.evaluate import _durable
    from support import load_fixture

    ok, why = _durable.available()
    if not ok:
        import pytest

        pytest.skip(f"durable-rules is not available: {why}")
    engine = Engine(evaluator="durable")
    from durable import engine as durable_engine

    # durable-rules 2.0.28 calls datetime.utcfromtimestamp (deprecated in 3.12) once per fact
    assert "utcfromtimestamp" not in durable_engine._unix_now.__code__.co_names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine.check(load_fixture("dprk_russia_arms_for_oil.json"))
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)], [str(w.message) for w in caught]


def test_item_25_durable_parameters_are_collected_and_skipped_where_durable_is_missing(monkeypatch):
    from sanctions.evaluate import _durable
    from support import evaluator_params

    monkeypatch.setattr(_durable, "available", lambda: (False, "durable-rules does not import on Python 3.13"))
    params = evaluator_params("reference", "durable")
    assert params[0] == "reference"
    (mark,) = params[1].marks
    assert params[1].values == ("durable",) and mark.name == "skipif" and mark.args == (True,)
    assert "does not import on Python 3.13" in mark.kwargs["reason"]


# -- item 23: benchmarks write where they are told; committed figures change only on purpose -----------------


def test_item_23_screening_bench_writes_to_its_out_path_not_the_committed_doc(tmp_path, monkeypatch, capsys):
    import importlib.util
    import sys

    from support import ROOT

    spec = importlib.util.spec_from_file_location("screening_quality", ROOT / "bench" / "screening_quality.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "screening_quality", bench)  # its dataclasses look themselves up there
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    spec.loader.exec_module(bench)
    sample = ROOT / "fixtures" / "lists" / "un_list_sample.xml"
    # the measuring itself is the bench's business (minutes on the real list): here only where it writes
    monkeypatch.setattr(bench, "measure", lambda edition, thresholds: [])
    monkeypatch.setattr(bench, "timing", lambda edition: 0.5)
    monkeypatch.setattr(bench, "render", lambda *a: "# report\n")
    monkeypatch.setattr(bench, "measure_regimes", lambda edition, threshold: [])
    monkeypatch.setattr(bench, "render_regimes", lambda results, threshold: "regimes\n")
    doc = bench.DOC
    before = doc.read_bytes() if doc.exists() else None
    assert bench.main(["--list", str(sample)]) == 0
    assert "# report" in capsys.readouterr().out
    assert (doc.read_bytes() if doc.exists() else None) == before  # the committed doc is untouched
    out = tmp_path / "quality.md"
    assert bench.main(["--list", str(sample), "--out", str(out)]) == 0
    assert out.read_text() == "# report\nregimes\n"
