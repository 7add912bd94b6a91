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


def load_fixture(name: str):
    from sanctions.model import parse_input

    return parse_input(json.loads((FIXTURES / name).read_text()), source=name)


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
    """Run check-transfer in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], input=stdin, capture_output=True,
                          timeout=timeout, cwd=ROOT, env=env)
