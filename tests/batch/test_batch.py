"""The batch evaluator gives the reference evaluator's answers; batch files stream, in order, with errors reported.

Three layers:

* random compiled rulebooks and facts (hypothesis): ``BatchEvaluator`` == ``ReferenceEvaluator`` on
  ``match`` and ``join``, including NaN, int/float/bool look-alikes and guards that calibrate mid-stream;
* the real rulebook on the fixtures and on generated transfers: identical decisions (JSON apart from the
  ``evaluator`` field) from the batch, reference and (when importable) durable-rules evaluators;
* :func:`sanctions.batch.run.check_file`: a bad line in the middle, CSV and Parquet round trips, input order
  with two workers.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanctions.evaluate import compiled as C
from sanctions.evaluate.rowbatch import BatchEvaluator, compile_conditions, guards
from sanctions.evaluate.reference import ReferenceEvaluator
from sanctions.batch.run import FLAT_COLUMNS, check_file, flatten
from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.model.records import parse_input

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402  (bench/generate.py: the seeded transfer generator)

# ----------------------------------------------------------------------------------------------------------------
# Random compiled rulebooks
# ----------------------------------------------------------------------------------------------------------------

STR_KEYS = ("s1", "s2", "s3")
NUM_KEYS = ("n1", "n2")
BOOL_KEYS = ("b1", "b2", "b3")
ALL_KEYS = STR_KEYS + NUM_KEYS + BOOL_KEYS
KINDS = C.FACT_KINDS

strs = st.sampled_from(["", "KP", "RU", "goods", "x"])
nums = st.one_of(st.sampled_from([0, 1, 2, -1]), st.sampled_from([0.0, 1.0, 2.5, -0.0, float("nan"),
                                                                 float("inf")]))
bools = st.booleans()
scalars = st.one_of(strs, nums, bools)


@st.composite
def leaf_tests(draw: st.DrawFn) -> C.Test:
    key = draw(st.sampled_from(ALL_KEYS))
    if key in NUM_KEYS and draw(st.booleans()):
        return C.Test(key, draw(st.sampled_from(["lt", "le", "gt", "ge"])), draw(nums))
    # equality on any key, with a constant of any type (a wrong type simply never equals)
    value = draw(st.one_of(strs if key in STR_KEYS else nums if key in NUM_KEYS else bools, scalars))
    return C.Test(key, draw(st.sampled_from(["eq", "ne"])), value)


conds = st.recursive(
    leaf_tests(),
    lambda inner: st.one_of(st.builds(C.And, st.lists(inner, max_size=4).map(tuple)),
                            st.builds(C.Or, st.lists(inner, max_size=4).map(tuple))),
    max_leaves=12,
)


@st.composite
def rulebooks(draw: st.DrawFn) -> C.CompiledRulebook:
    n = draw(st.integers(0, 8))
    patterns = tuple(C.Pattern(f"p{i}", draw(st.sampled_from(KINDS)), draw(conds)) for i in range(n))
    m = draw(st.integers(0, 3))
    joins = tuple(
        C.JoinPattern(f"j{i}", draw(st.sampled_from(KINDS)), draw(conds), draw(st.sampled_from(KINDS)), draw(conds),
                      tuple(draw(st.lists(st.builds(C.Join, st.sampled_from(ALL_KEYS), st.sampled_from(["eq", "ne"]),
                                                    st.sampled_from(ALL_KEYS)), max_size=3))))
        for i in range(m))
    return C.CompiledRulebook(patterns, joins, {k: {} for k in KINDS})


@st.composite
def fact_lists(draw: st.DrawFn) -> list[dict[str, C.Scalar]]:
    n = draw(st.integers(0, 12))
    out = []
    for fid in range(n):
        f: dict[str, C.Scalar] = {C.FID: fid, C.KIND: draw(st.sampled_from(KINDS))}
        for k in STR_KEYS:
            f[k] = draw(strs)
        for k in NUM_KEYS:
            f[k] = draw(nums)
        for k in BOOL_KEYS:
            f[k] = draw(bools)
        out.append(f)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulebooks(), st.lists(fact_lists(), min_size=1, max_size=4))
def test_batch_equals_reference_on_random_rulebooks(rb: C.CompiledRulebook, batches: list[list[dict]]) -> None:
    ref = ReferenceEvaluator(rb)
    fast = BatchEvaluator(rb)
    for facts in batches:
        assert fast.match(facts) == ref.match(facts)
        assert fast.join(facts) == ref.join(facts)


@settings(max_examples=200, deadline=None)
@given(conds, fact_lists())
def test_compiled_condition_is_holds(cond: C.Cond, facts: list[dict]) -> None:
    check = compile_conditions([cond])[0]
    for f in facts:
        assert check(f) == C.holds(cond, f)


@settings(max_examples=200, deadline=None)
@given(conds, fact_lists())
def test_a_guard_never_hides_a_match(cond: C.Cond, facts: list[dict]) -> None:
    for g in guards(cond):
        for f in facts:
            if C.holds(cond, f):
                assert any(f[k] == v and type(f[k]) is t for k, t, v in g)


def test_calibration_swaps_the_index_but_not_the_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import sanctions.evaluate.rowbatch as B

    monkeypatch.setattr(B, "CALIBRATE_AFTER", 5)
    dprk = C.Or((C.Test("s1", "eq", "KP"), C.Test("s2", "eq", "KP")))
    rb = C.CompiledRulebook((C.Pattern("p", "item", C.And((C.Test("s3", "eq", "goods"), dprk))),), (),
                            {k: {} for k in KINDS})
    fast, ref = BatchEvaluator(rb), ReferenceEvaluator(rb)
    before = fast._index["item"]
    facts = [{C.FID: i, C.KIND: "item", "s1": "KP" if i % 7 == 0 else "RU", "s2": "x", "s3": "goods"}
             for i in range(30)]
    for i in range(0, 30, 3):
        assert fast.match(facts[i:i + 3]) == ref.match(facts[i:i + 3])
    after = fast._index["item"]
    assert after is not before
    assert [k for k, _ in after.by_key] == ["s1", "s2"]  # the rare KP equalities, not the common 'goods'


def test_guards_share_keys_when_a_key_of_its_own_saves_little() -> None:
    from sanctions.evaluate.rowbatch import KEY_COST, _choose_guards

    a = frozenset({("a", str, "x")})
    b = frozenset({("b", str, "y")})
    rare = frozenset({("c", str, "z")})
    freq = {a: 0.10, b: 0.05, rare: 0.0}
    # the first pattern may use a or b; the second only a: b would add a key to save 0.05 of a check
    chosen = _choose_guards([[a, b], [a]], freq.__getitem__)
    assert chosen == {0: a, 1: a}
    # a key of its own is worth it when it saves more than a lookup costs
    freq[a] = KEY_COST + 0.2
    assert _choose_guards([[a, rare], [a]], freq.__getitem__) == {0: rare, 1: a}
    assert _choose_guards([[], [b]], freq.__getitem__) == {1: b}  # an unguarded pattern gets none


def test_generated_code_embeds_only_literals() -> None:
    nasty = "x'] or __import__('os').system('echo pwned') or f['"
    cond = C.And((C.Test(nasty, "eq", nasty), C.Test("n", "lt", float("nan"))))
    check = compile_conditions([cond])[0]
    assert check({nasty: nasty, "n": 1.0}) is False
    assert check({nasty: "y", "n": 1.0}) is False
    with pytest.raises(TypeError):
        compile_conditions([C.Test("k", "eq", [1])])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------
# The real rulebook: identical decisions
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    ref = Engine(evaluator="reference")
    fast = Engine(ref.rulebook, evaluator="reference")
    fast.evaluator = BatchEvaluator(ref.rulebook.compiled)
    out = {"reference": ref, "batch": fast}
    if importlib.util.find_spec("sanctions.evaluate._durable") is not None:
        from sanctions.evaluate import _durable

        if _durable.available()[0]:
            out["durable"] = Engine(ref.rulebook, evaluator="durable")
    return out


def _canon(engine: Engine, subject) -> dict:
    d = json.loads(to_json(engine.check(subject)))
    d.pop("evaluator")
    return d


def _subjects() -> list:
    out = [parse_input(json.loads(p.read_text())) for p in sorted((ROOT / "fixtures").glob("*.json"))]
    out += [parse_input(json.loads(line)) for line in generate.transfers(400, seed=3)]
    out += [parse_input(generate.transfer_with_items(20, seed=s)) for s in range(20)]
    return out


def test_batch_engine_decides_like_reference_and_durable(engines: dict[str, Engine]) -> None:
    names = sorted(engines)
    for subject in _subjects():
        want = _canon(engines["reference"], subject)
        for name in names:
            assert _canon(engines[name], subject) == want, (name, subject.id)
    assert engines["batch"].check(_subjects()[0]).evaluator == "batch"


# ----------------------------------------------------------------------------------------------------------------
# check_file
# ----------------------------------------------------------------------------------------------------------------


def _write_jsonl(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_jsonl_bad_line_in_the_middle_is_reported_and_the_run_goes_on(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    lines = list(generate.transfers(9, seed=5))
    lines.insert(4, '{"id": "broken", ')                         # line 5: not JSON
    lines.insert(7, json.dumps({"id": "T-bad", "date": "2020-01-01"}))  # line 8: fails validation
    lines.insert(2, "")                                           # a blank line is skipped
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_jsonl(src, lines)
    summary = check_file(src, out=out, workers=0)
    assert (summary.read, summary.judged, summary.rejected) == (11, 9, 2)
    assert summary.read == summary.judged + summary.rejected == sum(summary.verdicts.values()) + summary.rejected
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 11
    errors = [r for r in rows if "error" in r]
    assert [e["line"] for e in errors] == [6, 9]  # physical lines, counting the blank one
    assert errors[0]["error"]["code"] == "invalid-transfer" and errors[0]["error"]["record"] == 6
    assert {p["path"] for p in errors[1]["error"]["problems"]} >= {"supplier", "recipient"}
    assert "read 11, judged 9" in capsys.readouterr().err


def test_output_order_is_input_order_with_two_workers(tmp_path: Path) -> None:
    lines = list(generate.transfers(120, seed=9, bad_every=17))
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_jsonl(src, lines)
    s2 = check_file(src, out=out, workers=2, chunk_size=7, quiet=True)
    one = tmp_path / "one.jsonl"
    s0 = check_file(src, out=one, workers=0, quiet=True)
    assert out.read_bytes() == one.read_bytes()
    assert (s2.read, s2.judged, s2.rejected) == (s0.read, s0.judged, s0.rejected) == (120, 113, 7)
    ids = []
    for n, line in enumerate(out.read_text().splitlines(), 1):
        row = json.loads(line)
        ids.append(row["line"] if "error" in row else row["subject"]["id"])
    assert ids == [n if n % 17 == 0 else f"T{n:08d}" for n in range(1, 121)]


def _flat_rows(n: int, seed: int) -> tuple[list[str], list[dict]]:
    lines = list(generate.transfers(n, seed=seed))
    return lines, [row for line in lines for row in flatten(json.loads(line))]


def test_csv_round_trip_gives_the_jsonl_decisions(tmp_path: Path) -> None:
    lines, rows = _flat_rows(60, 21)
    _write_jsonl(tmp_path / "in.jsonl", lines)
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FLAT_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    check_file(tmp_path / "in.jsonl", out=tmp_path / "a.jsonl", workers=0, quiet=True)
    s = check_file(tmp_path / "in.csv", out=tmp_path / "b.jsonl", workers=0, quiet=True)
    assert (s.read, s.rejected) == (60, 0)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_csv_rows_that_disagree_reject_their_transfer(tmp_path: Path) -> None:
    lines, rows = _flat_rows(3, 2)
    multi = [i for i, r in enumerate(rows) if i and rows[i - 1]["transfer_id"] == r["transfer_id"]][0]
    rows[multi]["destination_country"] = "KP" if rows[multi]["destination_country"] != "KP" else "JP"
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FLAT_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    s = check_file(tmp_path / "in.csv", out=tmp_path / "o.jsonl", workers=0, quiet=True)
    assert (s.read, s.judged, s.rejected) == (3, 2, 1)
    err = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines() if '"error"' in x][0]
    first_row = [i for i, r in enumerate(rows) if r["transfer_id"] == rows[multi]["transfer_id"]][0]
    assert err["line"] == first_row + 2  # header is line 1
    assert "destination_country" in err["error"]["message"]


def test_parquet_in_and_out(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    lines, rows = _flat_rows(50, 33)
    _write_jsonl(tmp_path / "in.jsonl", lines + ["not json"])
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=64)
    check_file(tmp_path / "in.jsonl", out=tmp_path / "a.jsonl", workers=0, quiet=True)
    s = check_file(tmp_path / "in.parquet", out=tmp_path / "b.jsonl", workers=2, chunk_size=8, quiet=True)
    assert (s.read, s.rejected) == (50, 0)
    want = (tmp_path / "a.jsonl").read_text().splitlines()
    assert (tmp_path / "b.jsonl").read_text().splitlines() == want[:50]

    s = check_file(tmp_path / "in.jsonl", out=tmp_path / "o.parquet", fmt_out="parquet", workers=0, quiet=True)
    t = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert len(t) == 51 == s.read
    assert [r["decision_json"] for r in t[:50]] == want[:50]
    assert t[3]["transfer_id"] == "T00000004" and t[3]["verdict"] == json.loads(want[3])["verdict"]
    assert t[3]["rule_ids"] == sorted(f["rule_id"] for f in json.loads(want[3])["findings"])
    assert t[50]["verdict"] is None and json.loads(t[50]["error_json"])["line"] == 51
