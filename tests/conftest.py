"""Shared fixtures for the test suite (plain helpers live in tests/support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def rulebook():
    from sanctions.rulebook import load_rulebook

    return load_rulebook()


@pytest.fixture(scope="session")
def reference_engine(rulebook):
    from sanctions.engine import Engine

    return Engine(rulebook, evaluator="reference")
