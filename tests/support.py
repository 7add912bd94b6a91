"""Helpers shared by test modules (import as ``from support import ...``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
if not SHARED.is_dir():  # a checkout elsewhere: fall back to the workplace copy
    SHARED = Path("/work/shared")


# A minimal valid rule file, for tests that break it on purpose.
TEST_RULE = """\
id: test.rule
regime: TEST
title: A test rule
description: A test rule.
direction: supply_to_target
legal_basis:
  - {resolution: 1718 (2006), paragraph: OP8(a)(i), adopted: 2006-10-14, source: https://example.org, verified: false}
in_force: {from: 2006-10-14}
outcome: prohibited
when: {op: eq, field: transfer.destination_country, value: KP}
explanation: "{transfer.id} goes to the DPRK."
"""


def load_fixture(name: str):
    from sanctions.model.records import parse_input

    return parse_input(json.loads((FIXTURES / name).read_text()), source=name)


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
    """Run check-transfer in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], input=stdin, capture_output=True,
                          timeout=timeout, cwd=ROOT, env=env)


def evaluator_params(*names: str) -> list:
    """Evaluator names as pytest params; ``durable`` is always collected and, where durable-rules does not import
    (Python 3.13+, no C compiler), shown as skipped with the reason instead of silently left out."""
    import pytest

    from sanctions.evaluate import _durable

    ok, why = _durable.available()
    return [pytest.param(n, marks=pytest.mark.skipif(not ok, reason=f"durable-rules is not available: {why}"))
            if n == "durable" else n for n in names]
