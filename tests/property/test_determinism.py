"""Determinism: the same input gives byte-identical decision JSON, in one process and across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from property_support import scaled, subjects

from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.model.records import parse_input

_LIBRARY = (
    "import json, sys\n"
    "from sanctions.engine import Engine\n"
    "from sanctions.explain import to_json\n"
    "from sanctions.model import parse_input\n"
    "engine = Engine(evaluator='reference')\n"
    "out = [to_json(engine.check(parse_input(x))) for x in json.load(sys.stdin)]\n"
    "sys.stdout.write(json.dumps(out))\n"
)


@given(subjects())
def test_same_input_same_bytes_within_a_process(engine, subject):
    first = to_json(engine.check(subject))
    again = to_json(engine.check(parse_input(json.loads(subject.model_dump_json()))))
    fresh = to_json(Engine(engine.rulebook, evaluator="reference").check(subject))
    assert first == again == fresh


@settings(max_examples=scaled(8))
@given(st.lists(subjects(), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_same_input_same_bytes_across_processes(engine, batch, hash_seed):
    expected = [to_json(engine.check(s)) for s in batch]
    payload = json.dumps([json.loads(s.model_dump_json()) for s in batch])
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))  # set iteration order must not leak into the output
    run = subprocess.run([sys.executable, "-c", _LIBRARY], input=payload, capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
