"""The cap ledger: periods, idempotency, amendments, totals, and nothing lost across processes or kills."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sanctions.exc import InvalidInput, LedgerError
from sanctions.ledger.store import (
    CapTotal,
    Ledger,
    LedgerLine,
    PeriodSpec,
    canonical_json,
    content_hash,
    parse_period,
    period_for,
)

D = dt.date


def transfer(tid: str, date: str = "2018-03-01", **extra):
    return {"id": tid, "date": date, "supplier": {"name": "S", "country": "CN"}, **extra}


def line(q, *, cap="dprk.rp", period="2018", item=0, unit="barrels", orig=None, orig_unit="barrels"):
    return LedgerLine(
        cap, period, item, Decimal(str(q)), unit, Decimal(str(orig if orig is not None else q)), orig_unit
    )


# ------------------------------------------------------------------------------------------------------------
# periods
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "date", "key"),
    [
        ("calendar_year", D(2024, 1, 1), "2024"),
        ("calendar_year", D(2024, 12, 31), "2024"),
        ({"kind": "calendar_year", "start": "2018-01-01"}, D(2019, 6, 1), "2019"),
        ("twelve_months_from(2017-12-22)", D(2017, 12, 22), "2017-12-22/2018-12-21"),
        ("twelve_months_from(2017-12-22)", D(2018, 12, 21), "2017-12-22/2018-12-21"),
        ("twelve_months_from(2017-12-22)", D(2018, 12, 22), "2018-12-22/2019-12-21"),
        ("twelve_months_from:2017-12-22", D(2024, 1, 5), "2023-12-22/2024-12-21"),
        (PeriodSpec(kind="twelve_months", start=D(2016, 2, 29)), D(2017, 2, 28), "2017-02-28/2018-02-27"),
        (PeriodSpec(kind="twelve_months", start=D(2016, 2, 29)), D(2017, 2, 27), "2016-02-29/2017-02-27"),
        (
            {"kind": "fixed", "start": "2016-11-30", "end": "2016-12-31"},
            D(2016, 12, 5),
            "2016-11-30/2016-12-31",
        ),
    ],
)
def test_period_for(spec, date, key):
    assert period_for(spec, date) == key
    first, last = parse_period(key)
    assert first <= date <= last


def test_period_outside_the_caps_life_is_refused():
    with pytest.raises(InvalidInput, match="before the cap applies"):
        period_for("twelve_months_from(2017-12-22)", D(2017, 12, 21))
    with pytest.raises(InvalidInput, match="after the cap ends"):
        period_for({"kind": "calendar_year", "start": "2017-01-01", "end": "2017-08-04"}, D(2017, 8, 5))


@pytest.mark.parametrize(
    "spec",
    [
        "monthly",
        "twelve_months_from",
        "twelve_months_from(2017-13-01)",
        {"kind": "fixed", "start": "2016-11-30"},
        {"kind": "weekly"},
    ],
)
def test_bad_period_specs(spec):
    with pytest.raises(InvalidInput):
        period_for(spec, D(2018, 1, 1))


def test_every_day_of_a_decade_falls_in_exactly_one_twelve_month_period():
    spec = "twelve_months_from(2017-12-22)"
    day, prev = D(2017, 12, 22), None
    while day < D(2028, 1, 1):
        first, last = parse_period(period_for(spec, day))
        assert first <= day <= last
        if prev is not None and prev != (first, last):
            assert first == prev[1] + dt.timedelta(days=1)
        prev = (first, last)
        day += dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------------------------
# hashing
# ------------------------------------------------------------------------------------------------------------


def test_canonical_json_and_hash_ignore_key_order():
    a = {"b": 1, "a": [1, {"y": "é", "x": 2}]}
    b = {"a": [1, {"x": 2, "y": "é"}], "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":[1,{"x":2,"y":"é"}],"b":1}'
    assert content_hash(a) == content_hash(b)
    assert len(content_hash(a)) == 64


def test_pydantic_transfer_and_its_dict_hash_alike():
    from sanctions.model.records import parse_transfer

    data = {
        "id": "T1",
        "date": "2018-01-02",
        "supplier": {"name": "A", "country": "CN"},
        "recipient": {"name": "B", "country": "KP"},
        "origin_country": "CN",
        "destination_country": "KP",
    }
    t = parse_transfer(data)
    assert content_hash(t) == content_hash(t.model_dump(mode="json"))


# ------------------------------------------------------------------------------------------------------------
# recording
# ------------------------------------------------------------------------------------------------------------


def test_same_transfer_twice_counts_once(ledger):
    t = transfer("T1")
    r1 = ledger.record(t, [line(100)])
    r2 = ledger.record(t, [line(100)])
    assert (r1.status, r1.added) == ("recorded", 1)
    assert (r2.status, r2.added) == ("unchanged", 0)
    assert ledger.total("dprk.rp", "2018") == Decimal(100)
    assert ledger.count("dprk.rp", "2018") == 1
    assert ledger.is_recorded(t)


def test_changed_transfer_is_refused_without_amend(ledger):
    ledger.record(transfer("T1"), [line(100)])
    with pytest.raises(LedgerError) as err:
        ledger.record(transfer("T1", notes="corrected"), [line(120)])
    assert "T1" in str(err.value) and "amend=True" in str(err.value)
    assert ledger.total("dprk.rp", "2018") == Decimal(100)


def test_amend_keeps_the_old_version_and_counts_the_new(ledger):
    ledger.record(transfer("T1"), [line(100)])
    r = ledger.record(transfer("T1", notes="corrected"), [line(120)], amend=True)
    assert (r.status, r.version, r.added, r.superseded) == ("amended", 2, 1, 1)
    assert ledger.total("dprk.rp", "2018") == Decimal(120)
    hist = ledger.history("T1")
    assert [(e.version, e.quantity, e.counts) for e in hist] == [(1, 100, False), (2, 120, True)]
    assert hist[0].content_hash != hist[1].content_hash
    # the old version cannot come back without an amendment either
    with pytest.raises(LedgerError):
        ledger.record(transfer("T1"), [line(100)])
    ledger.check()


def test_amendment_can_move_period_and_drop_caps(ledger):
    ledger.record(
        transfer("T1", "2018-12-30"), [line(10), line(5, cap="dprk.crude", period="2017-12-22/2018-12-21")]
    )
    ledger.record(transfer("T1", "2019-01-02"), [line(10, period="2019")], amend=True)
    assert ledger.total("dprk.rp", "2018") == 0
    assert ledger.total("dprk.rp", "2019") == 10
    assert ledger.total("dprk.crude", "2017-12-22/2018-12-21") == 0
    assert [e.counts for e in ledger.history("T1")] == [False, False, True]


def test_amend_with_identical_content_is_a_no_op(ledger):
    ledger.record(transfer("T1"), [line(100)])
    r = ledger.record(transfer("T1"), [line(100)], amend=True)
    assert r.status == "unchanged" and r.version == 1
    assert len(ledger.history("T1")) == 1


def test_same_content_new_cap_lines_are_added(ledger):
    ledger.record(transfer("T1"), [])
    r = ledger.record(transfer("T1"), [line(7)])
    assert (r.status, r.added) == ("extended", 1)
    assert ledger.total("dprk.rp", "2018") == 7
    assert ledger.history("T1")[0].quantity == 7
    # a transfer recorded with no lines still guards its id against a different version
    ledger.record(transfer("T2"), [])
    with pytest.raises(LedgerError):
        ledger.record(transfer("T2", notes="x"), [])


def test_items_are_keyed_separately(ledger):
    ledger.record(transfer("T1"), [line(1, item=0), line(2, item=1), line(4, item=0, cap="other")])
    assert ledger.total("dprk.rp", "2018") == 3
    assert ledger.total("other", "2018") == 4
    with pytest.raises(InvalidInput, match="same cap and item"):
        ledger.record(transfer("T3"), [line(1, item=0), line(2, item=0)])


def test_record_many_is_all_or_nothing(ledger):
    ledger.record(transfer("T1"), [line(1)])
    batch = [(transfer(f"B{i}"), [line(1)]) for i in range(10)] + [
        (transfer("T1", notes="changed"), [line(1)])
    ]
    with pytest.raises(LedgerError):
        ledger.record_many(batch)
    assert ledger.count("dprk.rp", "2018") == 1
    ledger.record_many(batch[:10])
    assert ledger.count("dprk.rp", "2018") == 11
    with pytest.raises(InvalidInput, match="twice"):
        ledger.record_many([(transfer("X"), []), (transfer("X"), [])])


def test_totals_with_limits_and_year_filter(ledger):
    ledger.record(
        transfer("A", "2018-02-01"), [line("250000.5"), line(10, cap="crude", period="2017-12-22/2018-12-21")]
    )
    ledger.record(
        transfer("B", "2019-02-01"),
        [line(1, period="2019"), line(3, cap="crude", period="2018-12-22/2019-12-21")],
    )
    all_ = ledger.totals(limits={"dprk.rp": 500_000})
    assert [(t.cap_id, t.period) for t in all_] == [
        ("crude", "2017-12-22/2018-12-21"),
        ("crude", "2018-12-22/2019-12-21"),
        ("dprk.rp", "2018"),
        ("dprk.rp", "2019"),
    ]
    rp2018 = next(t for t in all_ if t.cap_id == "dprk.rp" and t.period == "2018")
    assert rp2018 == CapTotal("dprk.rp", "2018", "barrels", Decimal("250000.5"), 1, Decimal(500000))
    assert rp2018.remaining == Decimal("249999.5")
    assert rp2018.fraction == pytest.approx(0.500001)
    assert next(t for t in all_ if t.cap_id == "crude").remaining is None
    y2019 = ledger.totals(2019)
    assert {(t.cap_id, t.period) for t in y2019} == {("crude", "2018-12-22/2019-12-21"), ("dprk.rp", "2019")}
    assert {(t.cap_id, t.period) for t in ledger.totals(2018)} == {
        ("crude", "2017-12-22/2018-12-21"),
        ("crude", "2018-12-22/2019-12-21"),
        ("dprk.rp", "2018"),
    }


def test_total_can_exclude_a_transfer(ledger):
    ledger.record(transfer("A"), [line(5)])
    ledger.record(transfer("B"), [line(7)])
    assert ledger.total("dprk.rp", "2018", exclude_transfer="A") == 7


def test_sums_are_exact_to_a_millionth(ledger):
    ledger.record_many([(transfer(f"T{i}"), [line("0.1")]) for i in range(1000)])
    assert ledger.total("dprk.rp", "2018") == Decimal("100")
    assert ledger.entries("dprk.rp", "2018")[0].quantity == Decimal("0.1")


def test_date_range_counts_from_its_start(ledger):
    ledger.record(transfer("R", date={"start": "2018-12-30", "end": "2019-01-03"}), [line(1)])
    assert ledger.history("R")[0].transfer_date == D(2018, 12, 30)


def test_bad_inputs(ledger):
    with pytest.raises(InvalidInput, match="no id"):
        ledger.record({"date": "2018-01-01"}, [])
    with pytest.raises(InvalidInput, match="date"):
        ledger.record({"id": "X", "date": "soon"}, [])
    with pytest.raises(InvalidInput, match="negative"):
        line(-1)
    with pytest.raises(InvalidInput):
        line(1, period="last year")


# ------------------------------------------------------------------------------------------------------------
# the file
# ------------------------------------------------------------------------------------------------------------


def test_file_is_wal_and_reopens(tmp_path):
    path = tmp_path / "sub" / "l.db"
    with Ledger(path) as led:
        led.record(transfer("T1"), [line(3)])
    with Ledger(path) as led:
        assert led.total("dprk.rp", "2018") == 3
        assert led._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert led._db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        led.check()


def test_not_a_ledger(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError, match="not a usable ledger"):
        Ledger(junk)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="not a ledger"):
        Ledger(other)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "l.db"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_busy_ledger_times_out_with_a_ledger_error(tmp_path):
    path = tmp_path / "l.db"
    holder = Ledger(path)
    holder._db.execute("BEGIN IMMEDIATE")
    try:
        with Ledger(path, busy_timeout=0.2) as other, pytest.raises(LedgerError, match="could not lock"):
            other.record(transfer("T"), [line(1)])
    finally:
        holder._db.execute("ROLLBACK")
        holder.close()


# ------------------------------------------------------------------------------------------------------------
# several processes, and kill -9
# ------------------------------------------------------------------------------------------------------------

_ROOT = Path(__file__).resolve().parents[2]

_WORKER = textwrap.dedent("""
    import sys
    from decimal import Decimal
    sys.path.insert(0, {root!r})
    from sanctions.ledger.store import Ledger, LedgerLine
    path, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with Ledger(path, busy_timeout=60) as led:
        print("ready", flush=True)
        sys.stdin.readline()                      # start together
        for i in range(n):
            t = {{"id": f"P{{worker}}-{{i}}", "date": "2018-03-01"}}
            ln = LedgerLine("dprk.rp", "2018", 0, Decimal("1.25"), "barrels", Decimal("0.1725"), "tonnes")
            led.record(t, [ln])
            if i % 50 == 0:                       # every process also records the same shared transfer
                led.record({{"id": "SHARED", "date": "2018-03-01"}},
                           [LedgerLine("dprk.rp", "2018", 0, Decimal(7), "barrels", Decimal(7), "barrels")])
    print("done", flush=True)
""")


@pytest.mark.slow
def test_concurrent_processes_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    Ledger(path).close()
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(root=str(_ROOT)))
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(w), "200"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    start = time.monotonic()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and "done" in out
    elapsed = time.monotonic() - start
    with Ledger(path) as led:
        led.check()
        assert led.count("dprk.rp", "2018") == 4 * 200 + 1
        assert led.total("dprk.rp", "2018") == Decimal("1.25") * 800 + 7
        assert len(led.history("SHARED")) == 1
    print(f"4 processes x 200 single-record transactions: {800 / elapsed:.0f} records/s")


_KILLED = textwrap.dedent("""
    import sys
    from decimal import Decimal
    sys.path.insert(0, {root!r})
    from sanctions.ledger.store import Ledger, LedgerLine
    path, n = sys.argv[1], int(sys.argv[2])
    with Ledger(path) as led:
        led._db.execute("PRAGMA cache_size = 50")   # spill to the WAL early, so the kill lands mid-write
        batch = [({{"id": f"K-{{i}}", "date": "2018-05-01", "pad": "x" * 200}},
                  [LedgerLine("dprk.rp", "2018", 0, Decimal(1), "barrels", Decimal(1), "barrels")])
                 for i in range(n)]
        print("start", flush=True)
        led.record_many(batch)
    print("done", flush=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("wal_bytes", [200_000, 1_000_000])
def test_kill_mid_transaction_leaves_all_or_nothing(tmp_path, wal_bytes):
    path = tmp_path / "killed.db"
    with Ledger(path) as led:
        led.record_many([(transfer(f"before-{i}"), [line(2)]) for i in range(100)])
    script = tmp_path / "killed.py"
    script.write_text(_KILLED.format(root=str(_ROOT)))
    n = 60_000
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(n)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "start"
    wal = Path(str(path) + "-wal")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > wal_bytes:
            break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = proc.returncode == 0
    assert not finished, "the writer finished before it could be killed; raise n"
    with Ledger(path) as led:
        assert led._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        led.check()
        killed_rows = led._db.execute("SELECT COUNT(*) FROM entries WHERE transfer_id LIKE 'K-%'").fetchone()[
            0
        ]
        assert killed_rows in (0, n)
        assert killed_rows == 0  # it was killed before COMMIT
        assert led.count("dprk.rp", "2018") == 100
        assert led.total("dprk.rp", "2018") == 200
        # and the ledger still takes writes
        led.record(transfer("after"), [line(1)])
        assert led.total("dprk.rp", "2018") == 201
