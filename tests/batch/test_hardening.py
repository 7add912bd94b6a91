"""Issue 16: ``check-transfer batch`` on hostile and careless input (items 3, 6, 9, 13, 14, 16, 17, 19, 21).

Each test is named after the item it proves; each failed before the fix.
"""

from __future__ import annotations

import csv
import errno
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanctions.batch.run import FLAT_COLUMNS, check_file, checkpoint_path, default_engine, flatten
from sanctions.exc import InvalidInput
from support import FIXTURES, ROOT, run_cli

GOOD = {
    "id": "t-1", "date": "2024-01-15", "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    "items": [{"description": "Lathes", "hs_code": "845811"}],
}
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def _far_future() -> dict:
    t = json.loads((FIXTURES / "lawful_refined_petroleum_notified.json").read_text())
    del t["notifications"]  # an unnotified delivery: the rule sets a due date 30 days after the transfer
    return dict(t, id="far", date="9999-12-15")


def _jsonl(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


# -- item 3: a date the model accepts is judged; one record never stops the others --------------------------


def test_item_3_far_future_date_is_judged_in_batch_and_the_others_too(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", GOOD, _far_future(), dict(GOOD, id="t-3"))
    out = tmp_path / "out.jsonl"
    p = run_cli("batch", str(src), "--out", str(out), "--workers", "0", "--quiet")
    assert p.returncode in (0, 1), p.stderr.decode()
    got = _lines(out)
    assert [d["subject"]["id"] for d in got] == ["t-1", "far", "t-3"]
    duty = [f["duty"] for f in got[1]["findings"] if f.get("duty")]
    assert duty and duty[0]["due"] == "9999-12-31"  # clamped to the calendar's last day, never later
    assert "internal error" not in p.stderr.decode()


def test_item_3_far_future_date_in_check_transfer_exits_with_a_verdict(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", _far_future(), GOOD)
    p = run_cli(str(src), "--no-screening", "--format", "jsonl")
    assert p.returncode in (0, 1), p.stderr.decode()
    assert len(p.stdout.decode().splitlines()) == 2


class _BrokenOn:
    """An engine that fails (as a bug would) on one subject id."""

    def __init__(self, bad_id: str) -> None:
        self.engine, self.bad_id = default_engine(), bad_id

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def check(self, subject, as_of=None):
        if subject.id == self.bad_id:
            raise OverflowError("date value out of range")
        return self.engine.check(subject, as_of=as_of)


def test_item_3_a_record_that_breaks_the_engine_never_stops_the_others(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", GOOD, dict(GOOD, id="boom"), dict(GOOD, id="t-3"))
    out = tmp_path / "out.jsonl"
    summary = check_file(src, out=out, workers=0, quiet=True, engine_factory=lambda: _BrokenOn("boom"))
    assert (summary.read, summary.judged, summary.rejected, summary.internal) == (3, 2, 1, 1)
    got = _lines(out)
    assert got[1]["line"] == 2 and got[1]["error"]["code"] == "internal-error"
    assert "OverflowError" in got[1]["error"]["message"]
    assert got[2]["subject"]["id"] == "t-3"
    # and resuming the finished run judges nothing again and does not stop on it
    again = check_file(src, out=out, workers=0, quiet=True, resume=True, engine_factory=lambda: _BrokenOn("boom"))
    assert again.read == 3


# -- item 6: CSV fields and rows ------------------------------------------------------------------------------


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FLAT_COLUMNS)
    for r in rows:
        w.writerow(r)
    path.write_text(buf.getvalue())
    return path


def _row(**cells: str) -> list[str]:
    row = flatten(GOOD)[0]
    row.update(cells)
    return ["" if row[c] is None else str(row[c]) for c in FLAT_COLUMNS]


def test_item_6_csv_field_over_131072_characters_is_read(tmp_path):
    src = _csv(tmp_path / "in.csv", [_row(transfer_id="a"), _row(transfer_id="long", notes="x" * 200_000),
                                     _row(transfer_id="c")])
    out = tmp_path / "out.jsonl"
    p = run_cli("batch", str(src), "--out", str(out), "--workers", "0", "--quiet")
    assert p.returncode == 2, p.stderr.decode()  # the long row is read and rejected by the model, not the reader
    got = _lines(out)
    assert [g.get("subject", {}).get("id") for g in got] == ["a", None, "c"]
    assert got[1]["line"] == 3 and got[1]["error"]["problems"][0]["path"] == "notes"
    assert "internal error" not in p.stderr.decode()


def test_item_6_short_long_and_unterminated_csv_rows_are_reported_with_their_line(tmp_path):
    good = ",".join(_row(transfer_id="a"))
    short = ",".join(_row(transfer_id="short")[:-3])
    long_ = ",".join(_row(transfer_id="long") + ["extra"])
    after = ",".join(_row(transfer_id="after"))
    unterminated = ",".join(_row(transfer_id="open", notes='"never closed'))
    src = tmp_path / "in.csv"
    src.write_text("\n".join([",".join(FLAT_COLUMNS), good, short, long_, after, unterminated, good]) + "\n")
    out = tmp_path / "out.jsonl"
    summary = check_file(src, out=out, workers=0, quiet=True)
    got = _lines(out)
    assert summary.read == summary.judged + summary.rejected == len(got) == 5
    assert [d.get("line") for d in got] == [None, 3, 4, None, 6]
    assert "the row has" in got[1]["error"]["message"] and "the row has" in got[2]["error"]["message"]
    assert got[3]["subject"]["id"] == "after"
    assert "never closed" in got[4]["error"]["message"] and "lines 6 to 7" in got[4]["error"]["message"]


def test_item_6_empty_input_says_so(tmp_path):
    for name, text in (("empty.jsonl", ""), ("blank.jsonl", "\n\n"), ("header.csv", ",".join(FLAT_COLUMNS) + "\n")):
        src = tmp_path / name
        src.write_text(text)
        p = run_cli("batch", str(src), "--out", str(tmp_path / "out.jsonl"), "--workers", "0", "--quiet")
        assert p.returncode == 2 and "has no records" in p.stderr.decode(), (name, p.stderr)


# -- item 9: resume checks the rulebook and the options --------------------------------------------------------


class _Interrupting:
    def __init__(self, n: int, **kw) -> None:
        from sanctions.batch.run import engine_with_rules

        self.engine, self.n = engine_with_rules(**kw), n

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def check(self, subject, as_of=None):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return self.engine.check(subject, as_of=as_of)


@pytest.fixture
def interrupted(tmp_path) -> tuple[Path, Path]:
    src = _jsonl(tmp_path / "in.jsonl", *[dict(GOOD, id=f"t-{i}") for i in range(30)])
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        check_file(src, out=out, workers=0, chunk_size=5, quiet=True, engine_factory=lambda: _Interrupting(12))
    assert json.loads(checkpoint_path(out).read_text())["output"]["records"] == 10
    return src, out


def test_item_9_resume_refuses_another_as_of(interrupted):
    import datetime as dt

    src, out = interrupted
    with pytest.raises(InvalidInput, match="--as-of was None in the interrupted run and is '2020-01-01' now"):
        check_file(src, out=out, workers=0, quiet=True, resume=True, as_of=dt.date(2020, 1, 1))


def test_item_9_resume_refuses_another_rulebook(interrupted, tmp_path):
    from support import TEST_RULE

    src, out = interrupted
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "r.yaml").write_text(TEST_RULE)
    p = run_cli("batch", str(src), "--out", str(out), "--resume", "--rules", str(pack), "--workers", "0")
    assert p.returncode == 2 and "cannot resume with other options: the rulebook" in p.stderr.decode()
    ok = run_cli("batch", str(src), "--out", str(out), "--resume", "--workers", "0", "--quiet")
    assert ok.returncode == 1 and len(_lines(out)) == 30


# -- item 13: the machine's faults are exit 2 with what to do ------------------------------------------------


def test_item_13_malformed_checkpoint_exits_2(interrupted):
    src, out = interrupted
    for text in ("[]", "{not json", '{"version": 2, "input": 5, "output": {}, "summary": {}}', "\xff"):
        checkpoint_path(out).write_text(text, encoding="latin-1")
        p = run_cli("batch", str(src), "--out", str(out), "--resume", "--workers", "0")
        assert p.returncode == 2, p.stderr.decode()
        assert "is damaged" in p.stderr.decode() and "without --resume" in p.stderr.decode()


def test_item_13_full_disk_for_batch_exits_2(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    src = _jsonl(tmp_path / "in.jsonl", GOOD)
    p = run_cli("batch", str(src), "--out", "/dev/full", "--workers", "0", "--quiet")
    assert p.returncode == 2, p.stderr.decode()
    assert "No space left on device" in p.stderr.decode() and "free some space" in p.stderr.decode()


def test_item_13_read_only_output_for_batch_exits_2(tmp_path, monkeypatch):
    import sanctions.batch.formats as formats

    src = _jsonl(tmp_path / "in.jsonl", GOOD)

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out.jsonl"))

    monkeypatch.setattr(formats._CommittedJsonlWriter, "__init__", read_only)
    from sanctions.cli.main import main

    assert main(["batch", str(src), "--out", str(tmp_path / "out.jsonl"), "--workers", "0", "--quiet"]) == 2


def test_item_13_parquet_without_pyarrow_exits_2(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", GOOD)
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nclass _B:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pyarrow' or name.startswith('pyarrow.'):\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, _B())\n")
    env = dict(os.environ, PYTHONPATH=str(blocker))
    p = run_cli("batch", str(src), "--out", str(tmp_path / "out.parquet"), "--workers", "0", env=env)
    assert p.returncode == 2, p.stderr.decode()
    assert "needs pyarrow" in p.stderr.decode() and "pip install" in p.stderr.decode()


# -- item 14: orphaned workers exit quietly ------------------------------------------------------------------


def _group_members(pgid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")
def test_item_14_orphaned_workers_exit_quietly_when_the_batch_is_killed(tmp_path):
    src = tmp_path / "in.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "4000", str(src), "--seed", "3"],
                   check=True, capture_output=True)
    out, err = tmp_path / "out.jsonl", tmp_path / "err.txt"
    with err.open("wb") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "sanctions.cli", "batch", str(src), "--out", str(out),
                                 "--workers", "2", "--chunk-size", "50", "--quiet"], cwd=ROOT, stderr=fe,
                                stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_group_members(proc.pid)) >= 3  # the parent and its two workers are running
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while _group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    left = _group_members(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"
    assert "Traceback" not in err.read_text()


# -- item 16: Parquet with wrong columns or types -------------------------------------------------------------


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow (the batch extra) is not installed")
def test_item_16_parquet_with_unknown_columns_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"transfer_id": ["a"], "date_strat": ["2024-01-01"]}), src)
    p = run_cli("batch", str(src), "--out", str(tmp_path / "out.jsonl"), "--workers", "0")
    assert p.returncode == 2 and "unknown columns" in p.stderr.decode() and "date_strat" in p.stderr.decode()


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow (the batch extra) is not installed")
def test_item_16_parquet_with_wrong_types_rejects_those_rows_and_judges_the_rest(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [flatten(dict(GOOD, id=i))[0] for i in ("a", "b", "c", "d")]
    table = {c: [r[c] for r in rows] for c in FLAT_COLUMNS}
    table["date_start"] = [20240115, 20240115, 20240115, 20240115]  # an int where a date belongs
    table["item_quantity"] = [[1.0], [2.0], None, None]  # a list where a number belongs
    table["vessel_imo"] = [None, None, float("inf"), None]  # a float that is no IMO number
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table(table), src)
    out = tmp_path / "out.jsonl"
    summary = check_file(src, out=out, workers=0, quiet=True)
    assert summary.read == summary.judged + summary.rejected == 4
    got = _lines(out)
    assert all("error" in g for g in got)
    assert got[0]["error"]["problems"][0]["path"] == "date"
    assert "vessel" in json.dumps(got[2]) or "cannot be read" in got[2]["error"]["message"]


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow (the batch extra) is not installed")
def test_item_16_a_file_that_is_not_parquet_exits_2(tmp_path):
    src = tmp_path / "in.parquet"
    src.write_text("transfer_id\na\n")
    p = run_cli("batch", str(src), "--out", str(tmp_path / "out.jsonl"), "--workers", "0")
    assert p.returncode == 2 and "not a Parquet file" in p.stderr.decode()


# -- item 17: an output that is the input ----------------------------------------------------------------------


def test_item_17_batch_output_that_is_the_input_is_refused(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", GOOD)
    before = src.read_bytes()
    link = tmp_path / "link.jsonl"
    os.link(src, link)  # the same file by another name: the same device and inode
    for out in (src, link):
        p = run_cli("batch", str(src), "--out", str(out), "--workers", "0")
        assert p.returncode == 2 and "the output is the input file" in p.stderr.decode()
        assert src.read_bytes() == before


# -- item 19: ordinary mistakes are exit 2 -----------------------------------------------------------------------


def test_item_19_batch_missing_input_missing_output_folder_and_folder_input_exit_2(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", GOOD)
    cases = [
        ((str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")), "no such input file"),
        ((str(src), "--out", str(tmp_path / "missing" / "o.jsonl")), "does not exist; create it first"),
        ((str(tmp_path), "--out", str(tmp_path / "o.jsonl")), "the input is a folder"),
        ((str(src), "--out", str(tmp_path)), "the output is a folder"),
    ]
    for args, message in cases:
        p = run_cli("batch", *args, "--workers", "0")
        assert p.returncode == 2 and message in p.stderr.decode(), (args, p.stderr)
        assert "internal error" not in p.stderr.decode()


# -- item 21: one JSON document given to batch ----------------------------------------------------------------


def test_item_21_batch_given_one_json_document_says_so(tmp_path):
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps(GOOD, indent=2))
    array = tmp_path / "array.jsonl"
    array.write_text(json.dumps([GOOD, dict(GOOD, id="t-2")]) + "\n")
    for src, message in ((pretty, "one JSON document spread over several lines"), (array, "a JSON array")):
        p = run_cli("batch", str(src), "--out", str(tmp_path / "o.jsonl"), "--workers", "0")
        assert p.returncode == 2 and message in p.stderr.decode(), p.stderr
