"""Nothing executes from data: rule files, rule packs, transfers and lists are read, never run.

XML without external entities or entity expansion is tested in ``tests/screening/test_unlist.py``
(``test_unsafe_xml_is_refused``: billion laughs, external entity, external DTD).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sanctions.engine import Engine
from sanctions.exc import InvalidRule
from sanctions.model.records import parse_input
from sanctions.rulebook import load_rulebook
from support import run_cli

MARKER = "pwned_marker"
CODE = f"__import__('os').system('touch {MARKER}')"

RULE = f"""\
id: test.code_in_text
regime: TEST
title: "Title {CODE}"
description: "Description {CODE}; exec(open('x').read())"
direction: supply_to_target
legal_basis:
  - {{resolution: 1718 (2006), paragraph: OP8(a)(i), adopted: 2006-10-14, source: "https://example.org/{CODE}", verified: false}}
in_force: {{from: 2006-10-14}}
outcome: prohibited
when: {{op: contains, field: transfer.route.ports, value: "{CODE}"}}
explanation: "{{transfer.id}} went via {CODE} and eval('1+1') and {{{{7*7}}}}"
"""

TRANSFER = {
    "id": "t-code", "date": "2024-01-15", "supplier": {"name": CODE, "country": "CN"},
    "recipient": {"name": "eval('2+2')", "country": "RU"}, "origin_country": "CN", "destination_country": "RU",
    "route": [{"port": CODE, "country": "CN"}], "notes": CODE,
    "items": [{"description": CODE, "hs_code": "845811"}],
}


@pytest.fixture
def pack(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a "touch" that ran would land here
    d = tmp_path / "pack"
    d.mkdir()
    (d / "rule.yaml").write_text(RULE)
    return d


@pytest.mark.parametrize("evaluator", ["reference", "durable", "batch"])
def test_code_in_rule_text_and_constants_is_never_run(pack, tmp_path, evaluator):
    if evaluator == "durable":
        from sanctions.evaluate import _durable

        if not _durable.available()[0]:
            pytest.skip("durable-rules is not installed")
    rb = load_rulebook(pack, include_builtin=False)
    engine = Engine(rb, evaluator="reference" if evaluator == "batch" else evaluator)
    if evaluator == "batch":
        from sanctions.evaluate.rowbatch import BatchEvaluator

        engine.evaluator = BatchEvaluator(rb.compiled)
    d = engine.check(parse_input(TRANSFER))
    (f,) = d.findings
    assert f.rule_id == "test.code_in_text" and CODE in f.explanation and "eval('1+1')" in f.explanation
    assert CODE in f.title and "49" not in f.explanation
    assert not (tmp_path / MARKER).exists()


def test_python_tags_in_a_rule_file_are_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "pack"
    d.mkdir()
    (d / "r.yaml").write_text(f"!!python/object/apply:os.system ['touch {MARKER}']\n")
    with pytest.raises(InvalidRule) as info:
        load_rulebook(d, include_builtin=False)
    assert "r.yaml" in str(info.value)
    (d / "r.yaml").write_text(RULE.replace('title: "Title', "x: !!python/name:os.system\ntitle: \"Title"))
    with pytest.raises(InvalidRule):
        load_rulebook(d, include_builtin=False)
    assert not (tmp_path / MARKER).exists()


def _booby_trapped(pack: Path, marker: Path) -> None:
    trap = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"
    for name in ("__init__.py", "evil_rules.py", "conftest.py", "rule.py", "sitecustomize.py"):
        (pack / name).write_text(trap)
    sub = pack / "sub"
    sub.mkdir()
    (sub / "__init__.py").write_text(trap)
    (sub / "plugin.py").write_text(trap)
    (pack / "rule.yaml.py").write_text(trap)


def test_python_files_in_a_rule_pack_are_never_imported(pack, tmp_path):
    marker = tmp_path / "imported_marker"
    _booby_trapped(pack, marker)
    before = set(sys.modules)
    rb = load_rulebook(pack)
    assert "test.code_in_text" in rb.rules
    Engine(rb, evaluator="reference").check(parse_input(TRANSFER))
    assert not marker.exists()
    assert not {m for m in set(sys.modules) - before if "evil" in m or "plugin" in m or m == "pack"}
    p = run_cli("rules", "--rules", str(pack))  # the command line too, in a fresh process
    assert p.returncode == 0, p.stderr
    assert b"test.code_in_text" in p.stdout
    p = run_cli("--rules", str(pack), "--no-screening", "--evaluator", "reference", "-", stdin=b'{"id": 1}')
    assert p.returncode == 2
    assert not marker.exists()
