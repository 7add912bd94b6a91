"""Load: 16 threads checking transfers against ONE Engine give the single-threaded decisions, with no errors.

For each evaluator (durable-rules when installed, the batch evaluator, the reference evaluator) one engine
is shared by 16 threads for a few seconds; every decision is compared with the one a single thread made
for the same transfer or deal. Throughput figures: ``bench/load.py``.
"""

from __future__ import annotations

import json

import pytest

from support import FIXTURES, ROOT

from sanctions.explain import to_json
from sanctions.model.reading import read_records

THREADS = 16
SECONDS = 5.0


@pytest.fixture(scope="module")
def subjects():
    out = [r.value for r in read_records(ROOT / "bench" / "data" / "transfers_500_seed7.jsonl") if r.value]
    out = out[:150]
    from sanctions.model.records import parse_input

    for f in sorted(FIXTURES.glob("*.json")):
        out.append(parse_input(json.loads(f.read_text()), source=f.name))
    return out


def _load_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("evaluator", ["durable", "batch", "reference"])
def test_sixteen_threads_one_engine_same_decisions_no_errors(subjects, evaluator):
    if evaluator == "durable":
        from sanctions.evaluate import _durable

        if not _durable.available()[0]:
            pytest.skip("durable-rules is not installed")
    load = _load_module()
    engine = load.engine_for(evaluator)
    expected = [to_json(engine.check(s), indent=None) for s in subjects]
    r = load.run(engine, subjects, expected, THREADS, SECONDS)
    assert r["errors"] == 0, r["first_error"]
    assert r["mismatches"] == 0
    assert r["checks"] >= len(subjects)  # every thread got work done; at least one full round in total
