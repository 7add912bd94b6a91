"""Issue 15: the two backends side by side: versioned migrations, moving a ledger and its audit log between
them (audit chain verified after the move), and the same caps judged by both."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest
from support import ROOT

from sanctions.exc import InvalidInput, LedgerError
from sanctions.ledger import audit
from sanctions.ledger.backends import open_ledger
from sanctions.ledger.store import SCHEMA_VERSION, Ledger, LedgerLine, is_url

KEY = b"k" * 32


def line(q, cap="cap.a", period="2018", item=0):
    return LedgerLine(cap, period, item, Decimal(str(q)), "barrels", Decimal(str(q)), "barrels")


def test_urls_are_recognised_and_never_opened_as_files(tmp_path):
    assert is_url("postgresql://u@h/db") and is_url("sqlite:///x.db") and not is_url(str(tmp_path / "x.db"))
    with pytest.raises(InvalidInput, match="unsupported ledger URL"):
        open_ledger("mysql://u:secret@h/db")
    with pytest.raises(InvalidInput, match="is a URL"):
        Ledger("postgresql://u@h/db")
    with open_ledger(f"sqlite:///{tmp_path}/via-url.db") as led:
        assert led.backend == "sqlite"
    assert (tmp_path / "via-url.db").exists()


def test_password_never_appears_in_messages():
    with pytest.raises(LedgerError) as err:
        open_ledger("postgresql://user:hunter2@127.0.0.1:1/db", connect_timeout=1)
    assert "hunter2" not in str(err.value)


def test_sqlite_version_1_file_is_migrated_to_the_current_schema(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    from sanctions.ledger.store import _SQLITE_MIGRATIONS

    db.executescript(_SQLITE_MIGRATIONS[0][1])
    db.execute("INSERT INTO entries (cap_id, period, transfer_id, item_index, quantity, quantity_micro, unit, "
               "original_value, original_unit, transfer_date, content_hash, recorded_at, version, write_id) "
               "VALUES ('cap.a', '2018', 't', 0, '5', 5000000, 'barrels', '5', 'barrels', '2018-01-01', 'h', "
               "'now', 1, 'w')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Ledger(path) as led:
        assert led.total("cap.a", "2018") == 5
        led.anchor_audit_head("log", 1, "hash")
        assert led._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


def test_postgresql_schema_is_versioned_and_a_newer_one_is_refused(pg_server):
    from sanctions.ledger.pg import PG_SCHEMA_VERSION

    url = pg_server.fresh()
    with open_ledger(url) as led:
        assert led.schema_version() == PG_SCHEMA_VERSION
        led._exec("INSERT INTO schema_migrations (version) VALUES (?)", (PG_SCHEMA_VERSION + 1,))
    with pytest.raises(LedgerError, match="newer than this library"):
        open_ledger(url)


def test_concurrent_first_openers_migrate_once(pg_server):
    url = pg_server.fresh()
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from sanctions.ledger.backends import open_ledger; " \
           f"open_ledger({url!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    with open_ledger(url) as led:
        assert led._read("SELECT COUNT(*) FROM schema_migrations")[0][0] == 3


def _fill(target: str, log: str) -> None:
    with open_ledger(target) as led:
        led.record({"id": "a", "date": "2018-01-01"}, [line(5), line(2, cap="cap.b")])
        led.record({"id": "b", "date": "2018-02-01"}, [line(7)])
        led.record({"id": "a", "date": "2018-01-01", "x": 1}, [line(6)], amend=True)
        led.record({"id": "empty", "date": "2018-02-01"}, [])
        for i in range(3):
            audit.append(log, input={"id": i}, result={"verdict": "clear"}, rulebook_hash="r", evaluator="e",
                         key=KEY)
        audit.anchor(log, led, key=KEY)


def _snapshot(target: str) -> tuple:
    with open_ledger(target) as led:
        return (
            [(t.cap_id, t.period, t.total, t.count) for t in led.totals()],
            [(e.cap_id, e.version, e.quantity, e.superseded_at is None, e.content_hash) for e in led.history("a")],
            [(a["seq"], a["entry_hash"]) for a in led.audit_anchors()],
        )


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_ledger_export_and_import_between_backends(direction, tmp_path, pg_server):
    """`ledger export` then `ledger import` into the other backend: the same totals, history, anchors, and the
    audit log (file <-> PostgreSQL table) verified, MACs and anchors included, after the move."""
    sqlite_target, pg_target = str(tmp_path / "l.db"), pg_server.fresh()
    file_log, pg_log = str(tmp_path / "a" / "audit.jsonl"), pg_server.fresh()
    if direction == "sqlite-to-postgresql":
        src, dst, src_log, dst_log = sqlite_target, pg_target, file_log, pg_log
    else:
        src, dst, src_log, dst_log = pg_target, sqlite_target, pg_log, file_log
    _fill(src, src_log)
    key_file = tmp_path / "secret" / "key"
    key_file.parent.mkdir()
    key_file.write_bytes(KEY)
    env = dict(os.environ, SANCTIONS_AUDIT_KEY_FILE=str(key_file))
    dump = tmp_path / "dump.jsonl"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=60)

    p = cli("ledger", "export", "--ledger", src, "--audit", src_log, "--out", str(dump))
    assert p.returncode == 0, p.stderr
    p = cli("ledger", "import", "--ledger", dst, "--audit", dst_log, str(dump))
    assert p.returncode == 0, p.stderr
    assert "audit log intact: 3 entries" in p.stdout and "MACs checked" in p.stdout
    assert _snapshot(dst) == _snapshot(src)
    with open_ledger(dst) as led:
        assert audit.verify(dst_log, key=KEY, anchors=led).ok
        # recording continues where it was: the next line gets a fresh id, the chain goes on
        led.record({"id": "c", "date": "2018-03-01"}, [line(1)])
        assert led.total("cap.a", "2018") == 14
    audit.append(dst_log, input={"id": 9}, result={"verdict": "clear"}, rulebook_hash="r", evaluator="e", key=KEY)
    assert audit.verify(dst_log, key=KEY).entries == 4
    # importing again into a ledger that holds rows is refused, nothing written
    p = cli("ledger", "import", "--ledger", dst, "--audit", str(tmp_path / "x" / "fresh.jsonl"), str(dump))
    assert p.returncode == 2 and "needs an empty ledger" in p.stderr
    assert not (tmp_path / "x" / "fresh.jsonl").exists()


def test_import_refuses_a_damaged_audit_log(tmp_path):
    src, log = str(tmp_path / "l.db"), tmp_path / "audit.jsonl"
    _fill(src, str(log))
    dump = tmp_path / "dump.jsonl"
    cmd = [sys.executable, "-m", "sanctions.cli"]
    assert subprocess.run([*cmd, "ledger", "export", "--ledger", src, "--audit", str(log), "--out", str(dump)],
                          cwd=ROOT, capture_output=True).returncode == 0
    rows = [json.loads(x) for x in dump.read_text().splitlines()]
    for r in rows:
        if r.get("kind") == "audit":
            r["line"] = r["line"].replace('"verdict":"clear"', '"verdict":"prohibited"')
            break
    dump.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    p = subprocess.run([*cmd, "ledger", "import", "--ledger", str(tmp_path / "new.db"), "--audit",
                        str(tmp_path / "new.jsonl"), str(dump)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 1 and "damaged, nothing imported" in p.stderr
    assert not (tmp_path / "new.jsonl").exists()
