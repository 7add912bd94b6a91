"""The wheel carries the rulebook, the data files and the strategies, and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from support import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    (whl,) = out.glob("sanctions-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    rules = {n for n in names if n.startswith("sanctions/_rules/") and n.endswith(".yaml")}
    assert "sanctions/_rules/_predicates.yaml" in names and len(rules) > 60
    assert "sanctions/_rules/data/dprk_designated_vessels.yaml" in names
    for data in ("hs_classification.csv", "unit_factors.yaml", "units_by_category.yaml", "romanisation.yaml",
                 "country_aliases.yaml"):
        assert f"sanctions/data/{data}" in names
    assert "sanctions/strategies.py" in names
    for template in ("base", "decision", "batch", "ledger"):  # the HTML reports' templates are package data
        assert f"sanctions/report/templates/{template}.html.j2" in names
    for asset in ("report.css", "print.js", "batch.js"):  # inlined under their CSP hashes
        assert f"sanctions/report/static/{asset}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "check-transfer = sanctions.cli:main" in text and "[hypothesis]" in text


def test_installed_wheel_finds_its_rules_and_strategies(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sanctions, json\n"
        "from sanctions.rulebook import builtin_rules_dir, load_rulebook\n"
        "rb = load_rulebook()\n"
        "assert '_rules' in str(builtin_rules_dir()), builtin_rules_dir()\n"
        "from hypothesis import strategies as st\n"
        "from sanctions.strategies import transfers, violating\n"
        "from sanctions.model import Transfer\n"
        "t = st.from_type(Transfer).example()\n"
        "assert isinstance(t, Transfer)\n"
        "from sanctions.report import render_batch\n"
        "assert render_batch([]).startswith('<!DOCTYPE html>')\n"
        "print(len(rb), rb.digest)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    from sanctions.rulebook import load_rulebook

    count, digest = p.stdout.split()
    assert int(count) == len(load_rulebook())
