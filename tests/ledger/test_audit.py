"""The audit log: a hash chain that shows any edit, deletion, reordering or truncation; get and replay."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sanctions.ledger.audit import GENESIS, AuditLog, append, diff_paths, entries, get, replay, verify
from sanctions.exc import AuditError
from sanctions.ledger.store import canonical_json


def decision(outcome="clear", n=0):
    return {
        "outcome": outcome,
        "findings": [
            {"rule": "dprk.refined_petroleum.import", "outcome": outcome, "evidence": {"total": 1000 + n}}
        ],
        "considered": ["a", "b"],
    }


def transfer(i):
    return {
        "id": f"T{i}",
        "date": "2018-03-01",
        "items": [{"description": "diesel", "quantity": {"value": i, "unit": "tonnes"}}],
    }


def write(log: Path, n: int = 5) -> None:
    for i in range(1, n + 1):
        append(
            log,
            input=transfer(i),
            result=decision(n=i),
            rulebook_hash="rb-" + "a" * 10,
            editions=[{"list": "un-consolidated", "edition": "2025-01-01"}],
            evaluator="reference",
            now=dt.datetime(2025, 1, 1, 12, 0, i, tzinfo=dt.UTC),
        )


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "audit" / "audit.jsonl"
    write(path)
    return path


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rehash(entry: dict) -> dict:
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    return body | {"entry_hash": hashlib.sha256(canonical_json(body).encode()).hexdigest()}


# ------------------------------------------------------------------------------------------------------------


def test_entries_form_a_chain(log):
    es = list(entries(log))
    assert [e.seq for e in es] == [1, 2, 3, 4, 5]
    assert es[0].prev_hash == GENESIS
    for a, b in zip(es, es[1:], strict=False):
        assert b.prev_hash == a.entry_hash
    e = es[2]
    assert e.time == "2025-01-01T12:00:03.000000Z"
    assert e.input == transfer(3)
    assert e.input_hash == hashlib.sha256(canonical_json(transfer(3)).encode()).hexdigest()
    assert e.editions == [{"list": "un-consolidated", "edition": "2025-01-01"}]
    assert e.evaluator == "reference" and e.rulebook_hash.startswith("rb-")
    assert e.computed_hash() == e.entry_hash


def test_each_line_is_canonical_json(log):
    for raw in lines(log):
        data = json.loads(raw)
        assert raw == canonical_json(data) + "\n"


def test_verify_intact(log):
    r = verify(log)
    assert r.ok and r.entries == 5 and r.last_seq == 5 and r.first_bad_seq is None
    assert r.head_hash == list(entries(log))[-1].entry_hash
    assert "intact" in r.summary()
    assert verify(log, expect_head=r.head_hash).ok


def test_empty_and_missing_logs(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    assert verify(empty).ok and verify(empty).head_hash == GENESIS
    with pytest.raises(AuditError, match="no audit log"):
        verify(tmp_path / "missing.jsonl")


def test_edited_result_is_detected(log):
    ls = lines(log)
    data = json.loads(ls[2])
    data["result"]["outcome"] = "prohibited"
    ls[2] = canonical_json(data) + "\n"
    log.write_text("".join(ls))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 3
    assert "changed after it was written" in r.reason


def test_edited_and_rehashed_entry_breaks_the_next_link(log):
    ls = lines(log)
    data = json.loads(ls[2])
    data["result"]["outcome"] = "prohibited"
    ls[2] = canonical_json(rehash(data)) + "\n"
    log.write_text("".join(ls))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 4
    assert "prev_hash" in r.reason
    # and the head file no longer matches if the edit reached the last entry
    ls = lines(log)
    last = json.loads(ls[-1])
    last["result"]["outcome"] = "prohibited"
    ls[-1] = canonical_json(rehash(last)) + "\n"
    log.write_text("".join(ls))
    assert any("head file" in p.reason for p in verify(log).problems)


def test_edited_input_is_detected(log):
    ls = lines(log)
    data = json.loads(ls[1])
    data["input"]["items"][0]["quantity"]["value"] = 1
    ls[1] = canonical_json(rehash(data)) + "\n"  # even with the entry hash recomputed
    log.write_text("".join(ls))
    r = verify(log)
    assert r.first_bad_seq == 2 and "input_hash" in r.reason


def test_deleted_line_is_detected(log):
    ls = lines(log)
    del ls[1]
    log.write_text("".join(ls))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 2
    assert "entry 2 deleted or moved" in r.reason


def test_swapped_lines_are_detected(log):
    ls = lines(log)
    ls[2], ls[3] = ls[3], ls[2]
    log.write_text("".join(ls))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 3
    reasons = " ".join(p.reason for p in r.problems)
    assert "reordered" in reasons


def test_truncation_in_the_middle_of_a_line_is_detected(log):
    ls = lines(log)
    ls[2] = ls[2][: len(ls[2]) // 2] + "\n"
    log.write_text("".join(ls))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 3 and "not valid JSON" in r.reason


def test_cut_off_last_line_is_detected(log):
    raw = log.read_bytes()
    log.write_bytes(raw[:-40])
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 5 and "cut short" in r.reason
    with pytest.raises(AuditError, match="partial line"):
        append(log, input={}, result={}, rulebook_hash="x", evaluator="x")


def test_whole_lines_cut_off_the_end_are_detected_by_the_head_file(log):
    ls = lines(log)
    log.write_text("".join(ls[:3]))
    r = verify(log)
    assert not r.ok and r.first_bad_seq == 4 and "cut off the end" in r.reason


def test_without_head_file_tail_truncation_is_a_warning_and_expect_head_catches_it(log):
    head = verify(log).head_hash
    log.with_name(log.name + ".head").unlink()
    log.write_text("".join(lines(log)[:3]))
    r = verify(log)
    assert r.ok and any("head file audit.jsonl.head is missing" in w for w in r.warnings)
    r = verify(log, expect_head=head)
    assert not r.ok and "expected head" in r.reason


def test_reformatted_line_is_detected(log):
    ls = lines(log)
    ls[0] = json.dumps(json.loads(ls[0]), indent=None) + "\n"  # spaces after separators
    log.write_text("".join(ls))
    r = verify(log)
    assert r.first_bad_seq == 1 and "canonical" in r.reason


def test_appending_continues_the_chain(log):
    e = append(log, input=transfer(6), result=decision(), rulebook_hash="rb", evaluator="reference")
    assert e.seq == 6 and e.prev_hash == get(log, 5).entry_hash
    assert e.time.endswith("Z")
    assert verify(log).ok


def test_large_entries(tmp_path):
    path = tmp_path / "big.jsonl"
    big = {"id": "T", "notes": "é" * 20_000}
    for _ in range(3):
        append(path, input=big, result={"x": "y" * 9000}, rulebook_hash="r", evaluator="e")
    assert verify(path).ok and get(path, 3).input == big


def test_result_must_be_an_object(tmp_path):
    with pytest.raises(AuditError):
        append(tmp_path / "a.jsonl", input={}, result=[1, 2], rulebook_hash="r", evaluator="e")  # type: ignore[arg-type]


def test_get(log):
    assert get(log, 4).input == transfer(4)
    with pytest.raises(AuditError, match="no audit entry 9"):
        get(log, 9)
    ls = lines(log)
    data = json.loads(ls[3])
    data["result"]["outcome"] = "x"
    ls[3] = canonical_json(data) + "\n"
    log.write_text("".join(ls))
    with pytest.raises(AuditError, match="changed"):
        get(log, 4)


def test_replay_same(log):
    def engine(inp):
        return decision(n=inp["items"][0]["quantity"]["value"])

    r = replay(log, 3, engine)
    assert r.identical and r.differences == ()
    assert "identical" in r.summary()


def test_replay_different_lists_json_paths(log):
    def engine(inp):
        d = decision(outcome="prohibited", n=inp["items"][0]["quantity"]["value"])
        d["findings"].append({"rule": "new"})
        d["considered"] = ["a", "b"]
        d["evaluated_at"] = "today"
        return d

    r = replay(log, 2, engine)
    assert not r.identical
    assert r.differences == ("$.evaluated_at", "$.findings[0].outcome", "$.findings[1]", "$.outcome")
    r = replay(log, 2, engine, ignore=["$.evaluated_at", "$.findings[[]1]"])
    assert r.differences == ("$.findings[0].outcome", "$.outcome")
    assert "$.evaluated_at" in r.ignored


def test_replay_gets_a_copy_of_the_input(log):
    def meddling(inp):
        inp["id"] = "changed"
        return decision(n=2)

    replay(log, 2, meddling)
    assert get(log, 2).input["id"] == "T2"


def test_audit_log_object(log):
    al = AuditLog(log)
    assert [e.seq for e in al] == [1, 2, 3, 4, 5]
    assert al.verify().ok and al.get(1).seq == 1
    assert al.append(input={}, result={}, rulebook_hash="r", evaluator="e").seq == 6
    assert al.replay(6, lambda _: {}).identical


@pytest.mark.parametrize(
    ("a", "b", "paths"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 1.0}, []),
        ({"a": 1}, {"a": True}, ["$.a"]),
        ({"a": [1, 2]}, {"a": [1, 3, 4]}, ["$.a[1]", "$.a[2]"]),
        ({"odd key": 1}, {}, ['$["odd key"]']),
        ([1], {"x": 1}, ["$"]),
        ({"a": {"b": None}}, {"a": {"b": 0}}, ["$.a.b"]),
    ],
)
def test_diff_paths(a, b, paths):
    assert diff_paths(a, b) == paths


_APPENDER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from sanctions.ledger.audit import append
    path, w, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    key = b"k" * 32
    for i in range(n):
        append(path, input={{"w": w, "i": i}}, result={{"ok": True}}, rulebook_hash="r", evaluator="e", key=key)
""")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["file", "postgresql"])
def test_concurrent_appenders_keep_one_chain(tmp_path, where, request):
    """4 processes x 100 appends to one log (a file, or a PostgreSQL table): one linear, keyed chain."""
    path = str(tmp_path / "shared.jsonl") if where == "file" else request.getfixturevalue("pg_server").fresh()
    script = tmp_path / "appender.py"
    script.write_text(_APPENDER.format(root=str(Path(__file__).resolve().parents[2])))
    procs = [subprocess.Popen([sys.executable, str(script), path, str(w), "100"]) for w in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    r = verify(path, key=b"k" * 32)
    assert r.ok, r.reason
    assert r.entries == 400 and not r.warnings
    got = {(e.input["w"], e.input["i"]) for e in entries(path)}
    assert got == {(w, i) for w in range(4) for i in range(100)}
