"""Issue 16 items 8, 18, 13 and 19 for the audit log: forgery, replay with the list edition, the user's disk.

Item 8: without a key the hash chain could be recomputed by anyone. Each forgery below passed `audit verify`
before the log was keyed; now each is reported, by the key (MACs on every entry and on the head) or by a head
anchored outside the log (in the ledger database).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXTURES, ROOT, SHARED

from sanctions.exc import AuditError
from sanctions.ledger import audit
from sanctions.ledger.backends import open_ledger
from sanctions.ledger.store import canonical_json

KEY = b"0123456789abcdef0123456789abcdef"
UN_NEW = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
UN_OLD = SHARED / "data" / "un_sc_consolidated_2026-01-28.xml"


def _write(log: Path, n: int = 5, key: bytes | None = KEY) -> None:
    for i in range(n):
        audit.append(log, input={"id": f"t{i}"}, result={"verdict": "clear", "i": i}, rulebook_hash="rb",
                     evaluator="reference", key=key)


def _lines(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text().splitlines()]


def _forge(entries: list[dict]) -> list[str]:
    """What an attacker without the key can do: recompute every entry_hash and prev_hash (keeping key_id/mac)."""
    out, prev = [], audit.GENESIS
    for e in entries:
        e = dict(e)
        e["prev_hash"] = prev
        body = {k: v for k, v in e.items() if k not in ("entry_hash", "mac")}
        e["entry_hash"] = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        prev = e["entry_hash"]
        out.append(canonical_json(e))
    return out


def _forge_head(log: Path, entries: list[str]) -> None:
    last = json.loads(entries[-1])
    log.with_name(log.name + ".head").write_text(
        canonical_json({"seq": last["seq"], "entry_hash": last["entry_hash"], "mac": last.get("mac")}) + "\n")


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "logs" / "audit.jsonl"
    _write(path)
    return path


def test_keyed_log_verifies_with_its_key_and_says_when_macs_were_not_checked(log):
    assert all(e["mac"] and e["key_id"] == audit.key_id(KEY) for e in _lines(log))
    r = audit.verify(log, key=KEY)
    assert r.ok and r.keyed and not r.warnings, r
    r = audit.verify(log)
    assert r.ok and not r.keyed and any("MAC that was not checked" in w for w in r.warnings)
    r = audit.verify(log, key=b"another key, long enough to use")
    assert not r.ok and "another key" in r.reason


def test_item_8_recomputed_chain_with_its_head_file_is_detected(log):
    """Item 8: change entry 2, recompute every hash after it and the head file: the MACs no longer match."""
    entries = _lines(log)
    entries[1]["result"] = {"verdict": "prohibited", "i": 1}
    forged = _forge(entries)
    log.write_text("\n".join(forged) + "\n")
    _forge_head(log, forged)
    assert audit.verify(log).ok  # the unkeyed checks cannot see it: that was the defect
    r = audit.verify(log, key=KEY)
    assert not r.ok and r.first_bad_seq == 2 and "MAC does not match" in r.reason
    assert any("head" in p.reason and "MAC" in p.reason for p in r.problems)


def test_item_8_appended_entry_is_detected(log):
    """Item 8: append a well-formed entry (right seq, prev_hash, entry_hash) and update the head file."""
    entries = _lines(log)
    fake = dict(entries[-1], seq=6, input={"id": "t-forged"}, result={"verdict": "clear", "i": 99})
    fake["input_hash"] = hashlib.sha256(canonical_json(fake["input"]).encode()).hexdigest()
    forged = _forge([*entries, fake])
    log.write_text("\n".join(forged) + "\n")
    _forge_head(log, forged)
    r = audit.verify(log, key=KEY)
    assert not r.ok and r.first_bad_seq == 6 and "MAC does not match" in r.reason
    # and without key_id/mac at all
    bare = {k: v for k, v in fake.items() if k not in ("key_id", "mac")}
    forged = _forge([*entries, bare])
    log.write_text("\n".join(forged) + "\n")
    r = audit.verify(log, key=KEY)
    assert not r.ok and r.first_bad_seq == 6 and "carries no MAC" in r.reason


@pytest.mark.parametrize("ledger_backend", ["sqlite", "postgresql"])
def test_item_8_truncation_after_deleting_the_head_file_is_detected(log, tmp_path, ledger_backend, request):
    """Item 8: cut the last two entries and delete the head file. The keyed log misses its head; the head
    anchored in the ledger database (SQLite or PostgreSQL) shows what was cut, even with an old head file."""
    target = str(tmp_path / "l.db") if ledger_backend == "sqlite" else request.getfixturevalue("pg_server").fresh()
    with open_ledger(target) as ledger:
        anchored = audit.anchor(log, ledger, key=KEY)
        assert anchored["seq"] == 5
        old_head = log.with_name(log.name + ".head").read_text()
        text = log.read_text().splitlines()
        log.write_text("\n".join(text[:3]) + "\n")
        log.with_name(log.name + ".head").unlink()
        assert audit.verify(log).ok  # unkeyed, unanchored: only a warning, as before
        r = audit.verify(log, key=KEY)
        assert not r.ok and "is missing" in r.reason
        r = audit.verify(log, key=KEY, anchors=ledger)
        assert any("the ledger anchored entry 5" in p.reason and "cut off" in p.reason for p in r.problems)
        # an attacker who kept an old head file (seq 3) and puts it back: the anchor still catches it
        _write(tmp_path / "other.jsonl", 0)
        entries = [json.loads(x) for x in text[:3]]
        log.with_name(log.name + ".head").write_text(canonical_json(
            {"seq": 3, "entry_hash": entries[2]["entry_hash"],
             "mac": audit._head_mac(KEY, 3, entries[2]["entry_hash"])}) + "\n")
        assert audit.verify(log, key=KEY).ok  # a genuine old head: only the anchor can tell
        r = audit.verify(log, key=KEY, anchors=ledger)
        assert not r.ok and "cut off" in r.reason
        assert old_head  # (the real head was at seq 5)


def test_item_8_a_log_rewritten_from_its_first_entry_does_not_match_the_anchors(log, tmp_path):
    with open_ledger(tmp_path / "l.db") as ledger:
        audit.anchor(log, ledger, key=KEY)
        log.unlink()
        log.with_name(log.name + ".head").unlink()
        _write(log, 5, key=None)
        r = audit.verify(log, anchors=ledger)
        assert not r.ok and "none of the heads anchored in the ledger" in r.reason


def test_item_8_cli_reports_each_forgery_with_the_key_from_a_file(log, tmp_path):
    key_dir = tmp_path / "secrets"
    key_dir.mkdir()
    key_file = key_dir / "audit.key"
    key_file.write_bytes(KEY + b"\n")
    ledger = tmp_path / "l.db"
    env = dict(os.environ, SANCTIONS_AUDIT_KEY_FILE=str(key_file), SANCTIONS_DATA_DIR=str(tmp_path / "data"))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=60)

    assert cli("audit", "anchor", "--audit", str(log), "--ledger", str(ledger)).returncode == 0
    p = cli("audit", "verify", "--audit", str(log), "--anchor", str(ledger))
    assert p.returncode == 0 and "MACs checked" in p.stdout, p.stdout + p.stderr
    entries = _lines(log)
    entries[0]["result"] = {"verdict": "prohibited"}
    forged = _forge(entries)
    log.write_text("\n".join(forged) + "\n")
    _forge_head(log, forged)
    p = cli("audit", "verify", "--audit", str(log))
    assert p.returncode == 1 and "seq 1" in p.stdout and "MAC does not match" in p.stdout
    # a key kept beside the log is refused
    beside = log.with_name("audit.key")
    beside.write_bytes(KEY)
    p = cli("audit", "verify", "--audit", str(log), "--audit-key-file", str(beside))
    assert p.returncode == 2 and "must not be stored beside the log" in p.stderr


def test_item_8_check_transfer_keys_and_anchors_each_decision(tmp_path):
    key_file = tmp_path / "k" / "key"
    key_file.parent.mkdir()
    key_file.write_text("x" * 40)
    log, ledger = tmp_path / "a" / "audit.jsonl", tmp_path / "l.db"
    env = dict(os.environ, SANCTIONS_AUDIT_KEY_FILE=str(key_file), SANCTIONS_DATA_DIR=str(tmp_path / "data"))
    p = subprocess.run([sys.executable, "-m", "sanctions.cli", str(FIXTURES / "lawful_refined_petroleum_notified.json"),
                        "--ledger", str(ledger), "--audit", str(log), "--no-screening"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    key = b"x" * 40
    with open_ledger(ledger) as led:
        rows = led.audit_anchors()
        assert [(r["seq"], r["log_id"]) for r in rows] == [(1, audit.log_id(log))]
        assert audit.verify(log, key=key, anchors=led).ok


def test_keys_are_loaded_from_file_or_environment_and_checked():
    assert audit.load_key(env={}) is None
    assert audit.load_key(env={"SANCTIONS_AUDIT_KEY": "k" * 20}) == b"k" * 20
    with pytest.raises(AuditError, match="at least 16"):
        audit.load_key(env={"SANCTIONS_AUDIT_KEY": "short"})
    with pytest.raises(AuditError, match="cannot read the audit key"):
        audit.load_key("/nonexistent/key", env={})


# ------------------------------------------------------------------------------------------------------------
# item 18: replay with the list edition recorded in the entry
# ------------------------------------------------------------------------------------------------------------


def _cli(tmp_path, *args):
    env = dict(os.environ, SANCTIONS_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


@pytest.mark.slow
def test_item_18_audit_replay_uses_the_recorded_list_edition_or_says_it_cannot(tmp_path):
    """Item 18: a decision screened against a UN list edition replays identically with that edition (found by
    its hash), and without it replay says so plainly and compares the rest instead of hundreds of paths."""
    copy = tmp_path / "lists" / "un.xml"
    copy.parent.mkdir()
    shutil.copyfile(UN_NEW, copy)
    log = tmp_path / "audit.jsonl"
    p = _cli(tmp_path, str(FIXTURES / "dprk_russia_arms_for_oil.json"), "--list", str(copy), "--audit", str(log),
             "--evaluator", "reference")
    assert p.returncode == 1, p.stderr
    entry = audit.get(log, 1)
    assert entry.editions and entry.editions[0]["sha256"] == hashlib.sha256(UN_NEW.read_bytes()).hexdigest()
    assert entry.editions[0]["edition"] == "2026-05-08"
    assert any(f["rule_id"] == "dprk.persons.asset_freeze" for f in entry.result["findings"])
    # the edition is where it was: replayed with it
    p = _cli(tmp_path, "audit", "replay", "1", "--audit", str(log))
    assert p.returncode == 0 and "identical" in p.stdout and "note" not in p.stdout, p.stdout + p.stderr
    # the file is gone: said plainly, the rest compared
    copy.unlink()
    p = _cli(tmp_path, "audit", "replay", "1", "--audit", str(log))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "identical" in p.stdout and "screening not replayed" in p.stdout and "2026-05-08" in p.stdout
    assert "--list PATH" in p.stdout
    # given by the user: the same bytes elsewhere are the same edition
    p = _cli(tmp_path, "audit", "replay", "1", "--audit", str(log), "--list", str(UN_NEW))
    assert p.returncode == 0 and "note" not in p.stdout, p.stdout + p.stderr
    # another edition is refused, naming both
    p = _cli(tmp_path, "audit", "replay", "1", "--audit", str(log), "--list", str(UN_OLD))
    assert p.returncode == 2 and "2026-05-08" in p.stderr and "Traceback" not in p.stderr


# ------------------------------------------------------------------------------------------------------------
# items 13 and 19: the user's environment gets exit 2 and what to do, never exit 3
# ------------------------------------------------------------------------------------------------------------


def test_item_19_audit_pointing_at_a_folder_exits_2(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    fixture = str(FIXTURES / "lawful_refined_petroleum_notified.json")
    for args in ((fixture, "--audit", str(folder), "--no-screening"), ("audit", "verify", "--audit", str(folder)),
                 ("audit", "replay", "1", "--audit", str(folder)), (fixture, "--ledger", str(folder))):
        p = _cli(tmp_path, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert "is a folder" in p.stderr and "internal error" not in p.stderr, p.stderr


def test_item_13_full_disk_for_the_audit_log_exits_2(tmp_path):
    log = tmp_path / "audit.jsonl"
    os.symlink("/dev/full", log)  # every write fails with ENOSPC
    p = _cli(tmp_path, str(FIXTURES / "lawful_refined_petroleum_notified.json"), "--audit", str(log),
             "--no-screening")
    assert p.returncode == 2, p.stderr
    assert "disk is full" in p.stderr and "free space" in p.stderr and "internal error" not in p.stderr


def test_item_13_unwritable_audit_log_exits_2(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    p = _cli(tmp_path, str(FIXTURES / "lawful_refined_petroleum_notified.json"), "--audit",
             str(blocker / "audit.jsonl"), "--no-screening")
    assert p.returncode == 2 and "internal error" not in p.stderr, p.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes: a read-only audit log can only be "
                    "made for an ordinary user (the unwritable-path case above runs as root too)")
def test_item_13_read_only_audit_log_exits_2(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "audit.jsonl").write_text("")
    (ro / "audit.jsonl").chmod(0o444)
    ro.chmod(0o555)
    try:
        p = _cli(tmp_path, str(FIXTURES / "lawful_refined_petroleum_notified.json"), "--audit",
                 str(ro / "audit.jsonl"), "--no-screening")
    finally:
        ro.chmod(0o755)
    assert p.returncode == 2 and "writable" in p.stderr, p.stderr


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    for offset in range(2 * page, len(data) - page, page):
        data[offset:offset + 64] = b"\xff" * 64  # smash every b-tree page header after the schema
    path.write_bytes(bytes(data))


def test_item_13_damaged_sqlite_pages_exit_2_and_say_what_to_do(tmp_path):
    from decimal import Decimal

    from sanctions.ledger.store import Ledger, LedgerLine

    path = tmp_path / "l.db"
    with Ledger(path) as led:
        for i in range(300):
            led.record({"id": f"t{i}", "date": "2024-03-01"},
                       [LedgerLine("dprk.refined_petroleum.2397", "2024", 0, Decimal(1), "barrels", Decimal(1),
                                   "barrels")])
        led._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _damage(path)
    for args in (("ledger", "show", "--ledger", str(path)), ("ledger", "check", "--ledger", str(path)),
                 (str(FIXTURES / "lawful_refined_petroleum_notified.json"), "--ledger", str(path), "--no-screening")):
        p = _cli(tmp_path, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert "damaged" in p.stderr or "not a usable ledger" in p.stderr, p.stderr
        assert "backup" in p.stderr and "internal error" not in p.stderr, p.stderr


# ------------------------------------------------------------------------------------------------------------
# the same checks on a log kept in PostgreSQL
# ------------------------------------------------------------------------------------------------------------


def test_postgresql_log_detects_edits_forgeries_and_truncation(pg_server, tmp_path):
    url = pg_server.fresh()
    for i in range(5):
        audit.append(url, input={"id": i}, result={"verdict": "clear"}, rulebook_hash="r", evaluator="e", key=KEY)
    assert audit.verify(url, key=KEY).ok
    with open_ledger(url) as db:
        anchored = audit.anchor(url, db, key=KEY)
        assert anchored["seq"] == 5 and anchored["log_id"] == audit.log_id(url)
        # an edited row whose hashes are recomputed without the key
        rows = [json.loads(r[0]) for r in db._read("SELECT line FROM audit_log ORDER BY seq")]
        rows[2]["result"] = {"verdict": "prohibited"}
        forged = _forge(rows)
        db.atomic(lambda: [db._exec("UPDATE audit_log SET line = ? WHERE seq = ?", (line, n))
                           for n, line in enumerate(forged, 1)])
        r = audit.verify(url, key=KEY)
        assert not r.ok and r.first_bad_seq == 3 and "MAC does not match" in r.reason
        # the last two rows and the head row deleted
        db.atomic(lambda: (db._exec("DELETE FROM audit_log WHERE seq > 3"), db._exec("DELETE FROM audit_head")))
        r = audit.verify(url, key=KEY, anchors=db)
        reasons = " ".join(p.reason for p in r.problems)
        assert "audit_head row is missing" in reasons and "the ledger anchored entry 5" in reasons
