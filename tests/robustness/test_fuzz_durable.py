"""The engine never takes the process down: the durable adapter, fuzzed in a subprocess.

Hypothesis draws base transfers and deals (:func:`sanctions.strategies.transfers` / ``deals``) and a seed;
the child (``_fuzz_child.py``) derives thousands of valid variants from them (extreme quantities up to the
model's maximum, odd unicode in names and descriptions, many items, no items, long routes, many
intermediaries) and judges each with durable-rules and the reference evaluator. The test fails on a crash
(negative return code), a hang (timeout), any difference between the evaluators, or live durable sessions
left behind (when the adapter reports them).

Profiles (``SANCTIONS_HYPOTHESIS_PROFILE``): ``ci`` (default) 10 examples x 2,000 variants = 20,000
judged by each evaluator in two children
at a time (one per core), about a minute and a half on two idle cores; ``thorough`` 200 examples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanctions.evaluate import _durable
from sanctions.strategies import deals, transfers

CHILD = Path(__file__).with_name("_fuzz_child.py")
THOROUGH = os.environ.get("SANCTIONS_HYPOTHESIS_PROFILE") == "thorough"
EXAMPLES = 200 if THOROUGH else 10
VARIANTS = 2000
TIMEOUT = 300

pytestmark = pytest.mark.skipif(not _durable.available()[0], reason="durable-rules is not installed")


def run_children(subjects, seed: int, count: int, parallel: int = 2) -> list[dict]:
    """``parallel`` children judge ``count`` variants between them (seeds seed, seed+1, ...), one per core."""
    data = [s.model_dump(mode="json") for s in subjects]
    procs = []
    for k in range(parallel):
        req = json.dumps({"subjects": data, "seed": seed + k, "count": count // parallel})
        p = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        procs.append((p, req.encode(), seed + k))
    results = []
    for p, req, s in procs:
        try:
            out, err = p.communicate(req, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for q, _, _ in procs:
                q.kill()
            pytest.fail(f"the durable adapter hung (no answer in {TIMEOUT} s) on seed {s}")
        assert p.returncode >= 0, f"the child died of signal {-p.returncode} on seed {s}: {err.decode()[-2000:]}"
        assert p.returncode == 0, err.decode()[-4000:]
        results.append(json.loads(out.decode().splitlines()[-1]))
    return results


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not THOROUGH, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(subjects=st.lists(st.one_of(transfers(), deals(max_legs=3)), min_size=1, max_size=5),
       seed=st.integers(0, 2**32 - 1))
def test_durable_never_crashes_hangs_or_differs(subjects, seed):
    results = run_children(subjects, seed, VARIANTS)
    assert sum(r["judged"] for r in results) == VARIANTS
    for result in results:
        assert not result["diffs"], json.dumps(result["diffs"][0], indent=1)[:6000]
        if result["live_sessions"] is not None:
            assert result["live_sessions"] == 0


def test_child_mutations_stay_valid_and_are_judged():
    """The fuzz child's variants are valid models and reach the extremes they are meant to."""
    sys.path.insert(0, str(CHILD.parent))
    try:
        import _fuzz_child as child
    finally:
        sys.path.pop(0)
    from sanctions.model.records import MAX_QUANTITY, Transfer
    from support import load_fixture

    base = [load_fixture("dprk_russia_arms_for_oil.json").model_dump(mode="json"),
            load_fixture("lawful_refined_petroleum_notified.json").model_dump(mode="json")]
    vs = child.variants(base, 7, 400)
    legs = [t for v in vs for t in (v.transfers if hasattr(v, "transfers") else [v])]
    assert any(not t.items for t in legs) and any(len(t.items) >= 20 for t in legs)
    assert any(len(t.route) >= 30 for t in legs)
    assert any(i.quantity and i.quantity.value == MAX_QUANTITY for t in legs for i in t.items)
    assert all(isinstance(t, Transfer) for t in legs)
