"""The columnar path gives the row path's output byte for byte (issue 13): a differential test.

Every comparison judges the same records twice, with :func:`sanctions.batch.run.judge_chunk` (the row path,
``Engine.check`` + ``to_json``) and :func:`sanctions.batch.columnar.judge_chunk_columnar`, and asserts the
results are equal, line for line. Each test also asserts that the columnar path decided some lines itself and
that its counts add up, so that routing everything to the row path could not pass.

Sizes: 2,000 generated transfers (``ci``); 100,000 with ``SANCTIONS_HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow")

from sanctions.batch.columnar import ColumnarEngine, flat_chunks, judge_chunk_columnar  # noqa: E402
from sanctions.batch.formats import flatten, read_parquet  # noqa: E402
from sanctions.batch.run import default_engine, engine_with_rules, judge_chunk  # noqa: E402
from sanctions.evaluate import columnar as columnar_mod  # noqa: E402
from sanctions.rulebook.examples import BASE, merge  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402

THOROUGH = os.environ.get("SANCTIONS_HYPOTHESIS_PROFILE") == "thorough"
N_GENERATED = 100_000 if THOROUGH else 2_000


@pytest.fixture(scope="module")
def engine():
    return default_engine()


def _compare(records, engine, as_of=None, *, min_columnar=1):
    row = judge_chunk(records, "test", engine, as_of)
    col, report = judge_chunk_columnar(records, "test", engine, as_of, judge_chunk)
    assert len(col) == len(row)
    for a, b in zip(row, col):
        assert b == a, f"line {a[0]}: columnar differs from the row path"
    assert report.columnar + sum(report.routed.values()) == len(records)
    assert report.columnar >= min_columnar
    return report


def _json(data) -> str:
    return json.dumps(data, sort_keys=True, default=lambda d: d.isoformat())


def test_generated_transfers_agree(engine):
    lines = list(generate.transfers(N_GENERATED, seed=13, bad_every=53))
    records = list(enumerate(lines, 1))
    for start in range(0, len(records), 5_000):
        report = _compare(records[start:start + 5_000], engine, min_columnar=len(records[start:start + 5_000]) // 2)
        assert report.routed["non-trivial decision"] > 0  # findings are explained on the row path


def test_generated_transfers_agree_as_of(engine):
    lines = list(generate.transfers(1_000, seed=5))
    for as_of in (dt.date(2016, 3, 2), dt.date(2024, 6, 1)):
        _compare(list(enumerate(lines, 1)), engine, as_of, min_columnar=500)


def _examples(engine):
    out = []
    for rule in engine.rulebook.rules.values():
        for kind in ("fires", "clears"):
            for i, data in enumerate(rule.spec.examples.get(kind, [])):
                merged = merge(BASE, data)
                if merged.get("id", "example") == "example":
                    merged["id"] = f"{rule.id}.{kind}.{i}"
                out.append(_json(merged))
    return out


def test_every_rule_example_agrees(engine):
    lines = _examples(engine)
    assert len(lines) > 100
    records = list(enumerate(lines, 1))
    report = _compare(records, engine)
    # an example that fires its rule is never decided from the clear template
    assert report.routed["non-trivial decision"] >= len(engine.rulebook.rules) // 2
    for as_of in (dt.date(2010, 1, 1), dt.date(2025, 10, 1)):
        _compare(records, engine, as_of)


def test_a_rule_pack_agrees(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import run as bench_run

    pack = tmp_path / "pack"
    bench_run.synthetic_pack(pack, 40)
    engine = engine_with_rules((str(pack),))
    assert any(r.startswith("syn.") for r in engine.rulebook.rules)
    lines = list(generate.transfers(1_500, seed=21))
    report = _compare(list(enumerate(lines, 1)), engine, min_columnar=200)
    row = judge_chunk(list(enumerate(lines, 1)), "test", engine)
    assert any(any(r.startswith("syn.") for r in res[3] or []) for res in row)  # the pack's rules fired
    assert report.routed["non-trivial decision"] > 0


def test_unsupported_keys_are_routed_not_guessed(engine, monkeypatch):
    """A key the columnar path cannot build (a rule-language op added later) sends the lines it might decide to
    the row path, counted under its own reason."""
    real = columnar_mod.ColumnarEvaluator._supported

    def without(self, key):
        return False if key.startswith("item.categories=") else real(self, key)

    monkeypatch.setattr(columnar_mod.ColumnarEvaluator, "_supported", without)
    fresh = default_engine()  # a new engine: a new columnar evaluator
    lines = list(generate.transfers(600, seed=3))
    report = _compare(list(enumerate(lines, 1)), fresh, min_columnar=100)
    assert any(k.startswith("unsupported key") for k in report.routed)


@settings(max_examples=300 if THOROUGH else 40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_strategy_transfers_agree(engine, data):
    from sanctions import strategies

    ts = data.draw(st.lists(strategies.transfers(max_items=6), min_size=1, max_size=8))
    lines = [_json(t.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
        "id": f"{t.id}-{i}"}) for i, t in enumerate(ts)]
    _compare(list(enumerate(lines, 1)), engine, min_columnar=0)


def test_parquet_frames_agree(engine, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = list(generate.transfers(1_500, seed=17))
    rows = [r for line in lines for r in flatten(json.loads(line))]
    path = tmp_path / "flat.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=700)  # transfers cross row groups
    row = judge_chunk(list(read_parquet(path, str(path))), str(path), engine)
    col, columnar = [], 0
    for chunk in flat_chunks(str(path), "parquet", rows=2_000):
        results, report = judge_chunk_columnar(chunk, str(path), engine, None, judge_chunk)
        col += results
        columnar += report.columnar
    assert col == row
    assert columnar > 1_000


def test_columnar_engine_is_the_row_engine_elsewhere(engine):
    wrapped = ColumnarEngine(engine)
    assert wrapped.rulebook is engine.rulebook and wrapped.evaluator is engine.evaluator
    lines = list(generate.transfers(50, seed=1))
    out = wrapped.judge(list(enumerate(lines, 1)), "test", None, judge_chunk)
    assert list(out) == judge_chunk(list(enumerate(lines, 1)), "test", engine)
    assert out.report.columnar + sum(out.report.routed.values()) == 50
