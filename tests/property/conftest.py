"""Hypothesis profiles for the property suite, and shared fixtures.

Choose a profile with ``SANCTIONS_HYPOTHESIS_PROFILE``:

* ``ci`` (default): 25 examples per property, no deadline, derandomized so CI runs are reproducible.
* ``thorough``: 1000 examples per property, no deadline, random; for a night run or before a release.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("SANCTIONS_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def rulebook():
    from sanctions.rulebook import load_rulebook

    return load_rulebook()


@pytest.fixture(scope="session")
def engine(rulebook):
    from sanctions.engine import Engine

    return Engine(rulebook, evaluator="reference")
