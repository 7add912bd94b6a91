"""Batches never lose a record: counts add up, and a killed run resumes without judging a record twice or
skipping one (``check-transfer batch IN --out OUT --resume`` and ``check_file(..., resume=True)``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanctions.batch.run import check_file, checkpoint_path, default_engine
from sanctions.exc import InvalidInput
from support import ROOT, run_cli

N = 3000


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """N generated transfers, every 97th line bad (broken JSON or a failing transfer)."""
    path = tmp_path_factory.mktemp("gen") / "in.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(N), str(path), "--seed", "11",
                    "--bad-every", "97"], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def reference_output(generated, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("ref") / "out.jsonl"
    p = run_cli("batch", str(generated), "--out", str(out), "--workers", "2", "--chunk-size", "100", "--quiet")
    assert p.returncode == 2, p.stderr  # some records are bad by design
    assert f"read {N}," in p.stderr.decode()
    return out.read_bytes()


def _lines(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.decode().splitlines()]


def test_uninterrupted_counts_add_up(generated, reference_output):
    rows = _lines(reference_output)
    assert len(rows) == N
    errors = [r for r in rows if "error" in r]
    assert len(errors) == N // 97
    assert all(r["line"] % 97 == 0 for r in errors)  # each bad record reported with its own line
    assert [r.get("line") for r in errors] == list(range(97, N + 1, 97))


def _start(generated: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sanctions.cli", "batch", str(generated), "--out", str(out),
                             "--workers", "2", "--chunk-size", "100", "--quiet", *extra], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, out: Path, records: int, timeout: float = 120) -> int:
    """SIGKILL the run once its checkpoint has committed at least ``records``; returns what was committed."""
    cp = checkpoint_path(out)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done = json.loads(cp.read_text())["output"]["records"]
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= records:
            time.sleep(0.05)  # land the kill somewhere inside the next chunk
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            assert proc.returncode == -signal.SIGKILL
            return json.loads(cp.read_text())["output"]["records"]
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the run made no progress")


def test_killed_twice_then_resumed_equals_uninterrupted(generated, reference_output, tmp_path):
    out = tmp_path / "out.jsonl"
    first = _kill_when(_start(generated, out), out, 500)
    assert 500 <= first < N
    assert out.read_bytes().count(b"\n") >= first  # lines past the checkpoint may exist; never counted
    second = _kill_when(_start(generated, out, "--resume"), out, first + 700)
    assert first < second < N
    p = run_cli("batch", str(generated), "--out", str(out), "--resume", "--workers", "2", "--chunk-size", "100",
                "--quiet")
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert f"read {N}," in err and f"resumed after {second} records" in err
    data = out.read_bytes()
    assert data == reference_output  # identical records, in order: none twice, none missing
    cp = json.loads(checkpoint_path(out).read_text())
    assert cp["complete"] and cp["output"]["records"] == N
    assert cp["summary"]["read"] == cp["summary"]["judged"] + cp["summary"]["rejected"] == N


def test_partial_line_after_a_kill_is_cut_off_on_resume(generated, reference_output, tmp_path):
    out = tmp_path / "out.jsonl"
    _kill_when(_start(generated, out), out, 300)
    with out.open("ab") as f:  # what a kill in the middle of a write leaves
        f.write(b'{"subject": {"id": "half-writ')
    p = run_cli("batch", str(generated), "--out", str(out), "--resume", "--workers", "2", "--quiet")
    assert p.returncode == 2 and out.read_bytes() == reference_output


class _Interrupting:
    """An engine that raises KeyboardInterrupt at its n-th check (an interrupted in-process run)."""

    def __init__(self, n: int) -> None:
        self.engine, self.n = default_engine(), n

    def __getattr__(self, name):  # rulebook, evaluator_name: what the checkpoint records
        return getattr(self.engine, name)

    def check(self, subject, as_of=None):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return self.engine.check(subject, as_of=as_of)


def test_check_file_resume_in_process(generated, reference_output, tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        check_file(generated, out=out, workers=0, chunk_size=100, quiet=True,
                   engine_factory=lambda: _Interrupting(1234))
    assert json.loads(checkpoint_path(out).read_text())["output"]["records"] == 1200
    summary = check_file(generated, out=out, workers=0, chunk_size=100, quiet=True, resume=True)
    assert (summary.read, summary.resumed) == (N, 1200)
    assert summary.read == summary.judged + summary.rejected
    assert out.read_bytes() == reference_output
    again = check_file(generated, out=out, workers=0, quiet=True, resume=True)  # complete: judges nothing
    assert again.read == N and out.read_bytes() == reference_output


def test_resume_refuses_a_changed_input_or_output(generated, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(generated.read_bytes())
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        check_file(src, out=out, workers=0, chunk_size=100, quiet=True, engine_factory=lambda: _Interrupting(250))
    good_out = out.read_bytes()
    data = bytearray(src.read_bytes())
    data[10] ^= 1
    src.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="the input changed"):
        check_file(src, out=out, workers=0, quiet=True, resume=True)
    data[10] ^= 1
    src.write_bytes(bytes(data))
    out.write_bytes(good_out[:-5] + b"XXXXX")
    with pytest.raises(InvalidInput, match="committed records differ"):
        check_file(src, out=out, workers=0, quiet=True, resume=True)
    with pytest.raises(InvalidInput, match="nothing to resume"):
        check_file(src, out=tmp_path / "other.jsonl", workers=0, quiet=True, resume=True)
    p = run_cli("batch", str(src), "--out", str(tmp_path / "other.jsonl"), "--resume")
    assert p.returncode == 2 and "nothing to resume" in p.stderr.decode()
