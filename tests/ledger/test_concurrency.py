"""Caps and ledgers under concurrency, on both backends (SQLite and a real PostgreSQL server).

Sizes are chosen for a 2-core CI budget: the whole module runs in well under a minute per backend.
Issue 16 item 1 (caps not enforced under concurrency) and issue 15 (8 processes x 500 records, kill -9 of a
recorder mid-transaction, the server restarted during a batch, connection refused).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
from support import FIXTURES, ROOT, run_cli

from sanctions.ledger.backends import open_ledger
from sanctions.ledger.store import LedgerLine

CAP = "dprk.refined_petroleum.2397"

_DIESEL = '''
def diesel(tid, barrels, date):
    from sanctions.model.records import parse_transfer

    return parse_transfer({
        "id": tid, "date": date, "purpose": "livelihood",
        "supplier": {"name": "Dandong fuel trader", "country": "CN"},
        "recipient": {"name": "Sinuiju fuel distribution", "country": "KP"},
        "origin_country": "CN", "destination_country": "KP",
        "items": [{"description": "Diesel fuel", "hs_code": "271019",
                   "quantity": {"value": barrels, "unit": "barrels"}}],
        "notifications": [{"date": date}]})
'''

_ROUNDS_WORKER = textwrap.dedent('''
    import os, sys, time
    sys.path.insert(0, {root!r})
    from sanctions.engine import Engine
    from sanctions.ledger.capcheck import judge
    from sanctions.ledger.backends import open_ledger
    {diesel}
    target, sync, w, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    engine = Engine(evaluator="reference")
    ledger = open_ledger(target)
    for r in range(rounds):
        open(os.path.join(sync, f"ready-{{r}}-{{w}}"), "w").close()
        while not os.path.exists(os.path.join(sync, f"go-{{r}}")):
            time.sleep(0.002)
        t = diesel(f"w{{w}}-r{{r}}", 70000, f"{{2020 + r}}-03-01")
        d = judge(engine.check(t), t, engine.rulebook, ledger, record=True)
        print(r, d.verdict, flush=True)
''')


def _start_rounds(target: str, tmp_path: Path, workers: int, rounds: int) -> list[subprocess.Popen]:
    script = tmp_path / "rounds.py"
    script.write_text(_ROUNDS_WORKER.format(root=str(ROOT), diesel=_DIESEL))
    sync = tmp_path / "sync"
    sync.mkdir()
    procs = [subprocess.Popen([sys.executable, str(script), target, str(sync), str(w), str(rounds)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(workers)]
    for r in range(rounds):
        deadline = time.monotonic() + 120
        while len(list(sync.glob(f"ready-{r}-*"))) < workers:
            if any(p.poll() not in (None, 0) for p in procs) or time.monotonic() > deadline:
                errs = [p.communicate()[1] for p in procs if p.poll() not in (None, 0)]
                pytest.fail(f"a worker died before round {r}: {errs[:1]}")
            time.sleep(0.005)
        (sync / f"go-{r}").touch()  # all eight start the round together
    return procs


@pytest.mark.slow
def test_item_1_caps_hold_under_concurrency_8_processes_x_5_rounds(backend, tmp_path):
    """Issue 16 item 1: 8 processes each record a 70,000-barrel delivery against the 500,000 cap at once.

    Seven fit (490,000); the eighth would take the total to 560,000. Whatever the interleaving, in every round
    exactly seven are judged within the cap, one is prohibited, and the ledger never holds more than the cap.
    """
    target, workers, rounds = backend(), 8, 5
    open_ledger(target).close()
    procs = _start_rounds(target, tmp_path, workers, rounds)
    verdicts: dict[int, list[str]] = {r: [] for r in range(rounds)}
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        for line in out.split("\n"):
            if line:
                r, verdict = line.split()
                verdicts[int(r)].append(verdict)
    with open_ledger(target) as ledger:
        for r in range(rounds):
            assert len(verdicts[r]) == workers
            assert verdicts[r].count("prohibited") == 1, (r, verdicts[r])
            total = ledger.total(CAP, str(2020 + r))
            assert total == 490_000, (r, total)  # never over the 500,000 cap
            assert ledger.count(CAP, str(2020 + r)) == 7


def _diesel_file(tmp_path: Path, tid: str, barrels: int) -> str:
    data = json.loads((FIXTURES / "lawful_refined_petroleum_notified.json").read_text())
    data["id"] = tid
    data["items"][0]["quantity"]["value"] = barrels
    path = tmp_path / f"{tid}.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.slow
def test_cap_race_two_cli_processes(backend, tmp_path):
    """Issue 15: two check-transfer processes each record a delivery that alone fits the remaining allowance
    (100,000 barrels left; 60,000 each) but together exceed it: exactly one is judged within the cap."""
    target = backend()
    base = _diesel_file(tmp_path, "base", 400_000)
    assert run_cli(base, "--ledger", target, "--no-screening", "--evaluator", "reference").returncode == 0
    files = [_diesel_file(tmp_path, f"race-{i}", 60_000) for i in range(2)]
    cmd = [sys.executable, "-m", "sanctions.cli"]
    procs = [subprocess.Popen([*cmd, f, "--ledger", target, "--no-screening", "--evaluator", "reference",
                               "--format", "json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f in files]
    results = [(p.wait(timeout=120), json.loads(p.stdout.read())["verdict"]) for p in procs]
    assert sorted(code for code, _ in results) == [0, 1], results
    assert sorted(v for _, v in results) == ["prohibited", "review"], results
    with open_ledger(target) as ledger:
        assert ledger.total(CAP, "2024") == 460_000


_RECORDER = textwrap.dedent('''
    import sys
    sys.path.insert(0, {root!r})
    from decimal import Decimal
    from sanctions.ledger.backends import open_ledger
    from sanctions.ledger.store import LedgerLine
    target, w, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # NORMAL: survives a killed process (tested below), fsyncs less; the CI budget is 2 cores
    with open_ledger(target, synchronous="NORMAL") as ledger:
        for i in range(n):
            t = {{"id": f"w{{w}}-{{i}}", "date": "2018-03-01"}}
            ledger.record(t, [LedgerLine("cap.a", "2018", 0, Decimal("1.5"), "barrels", Decimal("1.5"), "barrels")])
''')


@pytest.mark.slow
def test_8_processes_x_500_records_lose_nothing_and_count_nothing_twice(backend, tmp_path):
    """Issue 15: 8 recorders x 500 transfers into one ledger at once: 4,000 lines, an exact total."""
    target = backend()
    open_ledger(target).close()
    script = tmp_path / "recorder.py"
    script.write_text(_RECORDER.format(root=str(ROOT)))
    procs = [subprocess.Popen([sys.executable, str(script), target, str(w), "500"], stderr=subprocess.PIPE)
             for w in range(8)]
    for p in procs:
        assert p.wait(timeout=170) == 0, p.stderr.read()
    with open_ledger(target) as ledger:
        assert ledger.count("cap.a", "2018") == 4000
        assert ledger.total("cap.a", "2018") == Decimal("6000")
        ledger.check()
        again = ledger.record({"id": "w3-17", "date": "2018-03-01"},
                              [LedgerLine("cap.a", "2018", 0, Decimal("1.5"), "barrels", Decimal("1.5"), "barrels")])
        assert again.status == "unchanged" and ledger.count("cap.a", "2018") == 4000


_KILLED = textwrap.dedent('''
    import sys, time
    sys.path.insert(0, {root!r})
    from decimal import Decimal
    from sanctions.ledger.backends import open_ledger
    from sanctions.ledger.store import LedgerLine
    ledger = open_ledger(sys.argv[1])
    def work():
        ledger.total("cap.a", "2018")  # takes the cap's lock
        ledger.record({{"id": "doomed", "date": "2018-03-01"}},
                      [LedgerLine("cap.a", "2018", 0, Decimal(7), "barrels", Decimal(7), "barrels")])
        print("inside", flush=True)
        time.sleep(120)
    ledger.atomic(work)
''')


@pytest.mark.slow
def test_kill_9_of_a_recorder_mid_transaction(backend, tmp_path):
    """Issue 15: a recorder killed with SIGKILL inside its transaction (holding the cap's lock) leaves nothing
    behind, and the next recorder of the same cap goes ahead."""
    target = backend()
    with open_ledger(target) as ledger:
        ledger.record({"id": "kept", "date": "2018-01-01"},
                      [LedgerLine("cap.a", "2018", 0, Decimal(5), "barrels", Decimal(5), "barrels")])
    script = tmp_path / "killed.py"
    script.write_text(_KILLED.format(root=str(ROOT)))
    p = subprocess.Popen([sys.executable, str(script), target], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "inside"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    after = subprocess.run([sys.executable, "-c", textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from decimal import Decimal
        from sanctions.ledger.backends import open_ledger
        from sanctions.ledger.store import LedgerLine
        with open_ledger({target!r}) as ledger:
            assert ledger.history("doomed") == []
            assert ledger.total("cap.a", "2018") == 5
            ledger.record({{"id": "next", "date": "2018-03-01"}},
                          [LedgerLine("cap.a", "2018", 0, Decimal(2), "barrels", Decimal(2), "barrels")])
            print(ledger.total("cap.a", "2018"))
        ''')], capture_output=True, text=True, timeout=60)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "7"


_BATCH = textwrap.dedent('''
    import os, sys, time
    sys.path.insert(0, {root!r})
    from sanctions.cli.ledger import open_judge
    from sanctions.engine import Engine
    from sanctions.exc import LedgerError
    {diesel}
    target, sync, n, pause_at, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    engine = Engine(evaluator="reference")
    judge = open_judge(target, engine.rulebook)  # what check-transfer --ledger uses
    judge.ledger.reconnect_timeout = timeout
    try:
        for i in range(n):
            if i == pause_at:
                open(os.path.join(sync, "paused"), "w").close()
                while not os.path.exists(os.path.join(sync, "go")):
                    time.sleep(0.01)
            t = diesel(f"t{{i}}", 1000, "2024-05-01")
            judge(engine.check(t), t, None)
    except LedgerError as err:
        print(f"failed at record {{i}}: {{err}}", file=sys.stderr)
        sys.exit(2)
''')


def _batch(tmp_path: Path, target: str, n: int, pause_at: int, timeout: float) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "batch.py"
    script.write_text(_BATCH.format(root=str(ROOT), diesel=_DIESEL))
    sync = tmp_path / f"sync-{pause_at}-{timeout}"
    sync.mkdir()
    p = subprocess.Popen([sys.executable, str(script), target, str(sync), str(n), str(pause_at), str(timeout)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, sync


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.slow
def test_server_restarted_during_a_batch_reconnects_and_loses_nothing(pg_server, tmp_path):
    """Issue 15: the server restarts between two records of a run: the run says so, reconnects, repeats the
    interrupted transaction and finishes; every record is in the ledger once."""
    target = pg_server.fresh()
    p, sync = _batch(tmp_path, target, 60, 30, 60.0)
    _wait_for(sync / "paused", p)
    pg_server.restart()
    (sync / "go").touch()
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "connection to postgresql://" in err and "lost" in err and "reconnected" in err
    assert "Traceback" not in err
    with open_ledger(target) as ledger:
        assert ledger.count(CAP, "2024") == 60 and ledger.total(CAP, "2024") == 60_000


@pytest.mark.slow
def test_server_down_during_a_batch_reports_the_failure_and_the_rerun_resumes(pg_server, tmp_path):
    """Issue 15: the server stays down longer than the run waits: the run stops with a clear message and no
    traceback, keeps what it recorded, and running it again records the rest (nothing twice)."""
    target = pg_server.fresh()
    p, sync = _batch(tmp_path, target, 40, 20, 1.0)
    _wait_for(sync / "paused", p)
    pg_server.stop()
    try:
        (sync / "go").touch()
        _, err = p.communicate(timeout=120)
    finally:
        pg_server.start_again()
    assert p.returncode == 2
    assert "failed at record 20" in err and "run the same command again" in err and "Traceback" not in err
    with open_ledger(target) as ledger:
        assert ledger.count(CAP, "2024") == 20
    p, sync = _batch(tmp_path, target, 40, -1, 30.0)
    assert p.wait(timeout=120) == 0, p.stderr.read()
    with open_ledger(target) as ledger:
        assert ledger.count(CAP, "2024") == 40 and ledger.total(CAP, "2024") == 40_000


def test_connection_refused_exits_2_with_a_clear_message(tmp_path):
    """Issue 15: a server that is not there: exit 2, what to check, no traceback; and no file is made."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql://nobody@127.0.0.1:{port}/ledger"
    env = dict(os.environ, SANCTIONS_DATA_DIR=str(tmp_path / "data"))
    fixture = str(FIXTURES / "lawful_refined_petroleum_notified.json")
    for args in ((fixture, "--ledger", url, "--no-screening"), ("ledger", "show", "--ledger", url),
                 (fixture, "--audit", url, "--no-screening"), ("audit", "verify", "--audit", url)):
        p = subprocess.run([sys.executable, "-m", "sanctions.cli", *args], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=60)
        assert p.returncode == 2, (args, p.stderr)
        assert "cannot connect to the PostgreSQL ledger at postgresql://127.0.0.1" in p.stderr
        assert "Check that the server is running" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "postgresql:").exists()


def test_a_url_never_becomes_a_file(tmp_path):
    """Issue 15: `--ledger postgresql://...` used to create a folder `postgresql:`; other schemes are refused."""
    env = dict(os.environ, SANCTIONS_DATA_DIR=str(tmp_path / "data"))
    fixture = str(FIXTURES / "lawful_refined_petroleum_notified.json")
    for value in ("mysql://host/db", "https://example.org/ledger"):
        p = subprocess.run([sys.executable, "-m", "sanctions.cli", fixture, "--ledger", value, "--no-screening"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
        assert p.returncode == 2 and "unsupported ledger URL" in p.stderr, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["data"] or not any(
        x.name.endswith(":") for x in tmp_path.iterdir())
