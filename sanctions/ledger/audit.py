"""An append-only, hash-chained audit log of decisions (JSON Lines), with verify and replay.

Each line is the canonical JSON (``sort_keys``, no spaces, UTF-8) of one entry::

    seq            1, 2, 3, ... without gaps
    time           UTC ISO 8601, e.g. 2025-03-01T12:00:00.000000Z
    input          the transfer or deal as judged (so that it can be replayed)
    input_hash     SHA-256 of the canonical JSON of ``input``
    rulebook_hash  hash of the rulebook used (given by the engine)
    editions       list editions used (e.g. the UN consolidated list's date), as the engine gives them
    evaluator      which evaluator decided (e.g. "durable-rules" or "reference")
    result         the decision, as a JSON object
    prev_hash      entry_hash of the previous entry (64 zeros for the first)
    entry_hash     SHA-256 of the canonical JSON of the entry without entry_hash

When the log is *keyed* (a secret key from a file or the environment: :func:`load_key`), each entry also
carries::

    key_id         a short fingerprint of the key (HMAC of a constant), so a wrong key is named as such
    mac            HMAC-SHA256(key, "entry:" + entry_hash)

``entry_hash`` covers ``prev_hash``, so the MACs chain too: whoever lacks the key can neither change an entry
(and recompute the hashes), nor append one, nor write a head that verifies. The key is never stored beside
the log (:func:`check_key_location` refuses a key file in the log's folder).

Appends lock the log (an exclusive ``flock`` on a file; an advisory lock in a PostgreSQL log), check its last
line, write one line (``fsync``) and then the head: a side file ``<log>.head`` (replaced atomically), or a row
of ``audit_head`` in PostgreSQL. The head records the last seq and hash (and, keyed, a MAC of both), so that
cutting whole lines off the end is detected. Any number of processes may append to one log; the chain stays
linear.

A log is a file path, or a ``postgresql://`` URL (the ``audit_log`` table of the ledger schema).

:func:`verify` names the first bad seq and why (edited, deleted, reordered, truncated, forged); with ``key`` it
checks every MAC; with ``anchors`` (a ledger) it checks the heads anchored there with
:meth:`~sanctions.ledger.store.LedgerBackend.anchor_audit_head`, which catches a truncation after the head file
was deleted or replaced by an old copy. :func:`head` is the value to keep elsewhere (print it, commit it).
:func:`replay` re-runs a recorded input through a callable the engine provides and lists the JSON paths
where today's decision differs from the recorded one.

The threat model (who can forge what, with and without the key and an anchor) is in
docs/ledger-and-audit.md.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import fnmatch
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sanctions.exc import AuditError
from sanctions.ledger.store import LedgerBackend, canonical_json, is_postgres_url, is_url, redact

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "Problem",
    "ReplayReport",
    "VerifyReport",
    "anchor",
    "append",
    "check_key_location",
    "diff_paths",
    "entries",
    "get",
    "head",
    "import_lines",
    "key_id",
    "load_key",
    "log_id",
    "raw_lines",
    "replay",
    "verify",
]

GENESIS = "0" * 64
"""prev_hash of the first entry."""

_FIELDS = (
    "seq",
    "time",
    "input",
    "input_hash",
    "rulebook_hash",
    "editions",
    "evaluator",
    "result",
    "prev_hash",
    "entry_hash",
)
_KEYED_FIELDS = (*_FIELDS, "key_id", "mac")
KEY_ENV = "SANCTIONS_AUDIT_KEY"
KEY_FILE_ENV = "SANCTIONS_AUDIT_KEY_FILE"
_MIN_KEY = 16


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normal(value: Any) -> Any:
    """JSON-like data as it will read back from the log (dates as strings, tuples as lists, ...)."""
    return json.loads(canonical_json(value))


@dataclass(frozen=True)
class AuditEntry:
    """One decision in the log."""

    seq: int
    time: str
    input: Any
    input_hash: str
    rulebook_hash: str
    editions: list[Any]
    evaluator: str
    result: dict[str, Any]
    prev_hash: str
    entry_hash: str
    key_id: str | None = None
    mac: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry as written (all fields; ``key_id`` and ``mac`` only when keyed)."""
        data = asdict(self)
        if self.mac is None:
            del data["key_id"], data["mac"]
        return data

    def computed_hash(self) -> str:
        """SHA-256 of the canonical JSON of the entry without entry_hash and mac."""
        body = self.to_dict()
        del body["entry_hash"]
        body.pop("mac", None)
        return _sha(canonical_json(body))


def _entry(data: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{k: data[k] for k in _KEYED_FIELDS if k in data})


# ------------------------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------------------------


def load_key(key_file: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> bytes | None:
    """The audit key: from ``key_file``, else ``$SANCTIONS_AUDIT_KEY_FILE``, else ``$SANCTIONS_AUDIT_KEY``.

    A key file holds the key as text (e.g. 64 hex digits from ``check-transfer audit keygen``); surrounding
    white space is ignored. A key shorter than 16 bytes is refused.

    Returns:
        The key, or None when none is configured (the log is then not keyed).

    Raises:
        AuditError: when the key file cannot be read or the key is too short.
    """
    env = os.environ if env is None else env
    path = key_file or env.get(KEY_FILE_ENV) or None
    if path:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as err:
            raise AuditError(
                f"{path}: cannot read the audit key ({err.strerror or err}); give a readable key file "
                f"(--audit-key-file or ${KEY_FILE_ENV})"
            ) from None
        where = str(path)
    elif env.get(KEY_ENV):
        key, where = env[KEY_ENV].strip().encode("utf-8"), f"${KEY_ENV}"
    else:
        return None
    if len(key) < _MIN_KEY:
        raise AuditError(
            f"{where}: the audit key is {len(key)} bytes; use at least {_MIN_KEY} "
            "(check-transfer audit keygen --out FILE makes one)"
        )
    return key


def check_key_location(key_file: str | os.PathLike[str] | None, log: str | os.PathLike[str]) -> None:
    """Refuse a key file kept in the log's own folder (whoever copies the log must not get the key with it).

    Raises:
        AuditError: when the key file is in the log's folder (or below it).
    """
    if not key_file or is_url(log):
        return
    key_dir = Path(key_file).resolve().parent
    log_dir = Path(log).resolve().parent
    if key_dir == log_dir or log_dir in key_dir.parents:
        raise AuditError(
            f"{key_file}: the audit key must not be stored beside the log ({log_dir}); keep it in another "
            "folder (or a secret store) readable only by those who append"
        )


def key_id(key: bytes) -> str:
    """A short fingerprint of a key, stored in each keyed entry (it does not reveal the key)."""
    return hmac.new(key, b"sanctions-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _entry_mac(key: bytes, entry_hash: str) -> str:
    return _mac(key, "entry:" + entry_hash)


def _head_mac(key: bytes, seq: int, entry_hash: str) -> str:
    return _mac(key, f"head:{seq}:{entry_hash}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the log: the seq it concerns, the line number, and why."""

    seq: int
    line: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify`.

    Attributes:
        ok: True when the chain is intact.
        entries: Entries read.
        last_seq: seq of the last intact entry read (0 for an empty log).
        head_hash: entry_hash of the last entry (GENESIS for an empty log).
        first_bad_seq: seq of the first problem, or None.
        reason: Why, in a sentence, or "".
        problems: Every problem found (at most 100).
        warnings: Things worth knowing that do not break the chain (e.g. a head file one entry behind after a
            crash between the append and the head update).
    """

    ok: bool
    entries: int
    last_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    keyed: bool = False
    log_id: str | None = None

    def summary(self) -> str:
        """One line for the CLI."""
        if self.ok:
            how = "MACs checked" if self.keyed else "MACs not checked"
            return f"audit log intact: {self.entries} entries, head {self.head_hash[:16]} ({how})"
        return f"audit log damaged at seq {self.first_bad_seq}: {self.reason}"


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of :func:`replay`."""

    seq: int
    identical: bool
    differences: tuple[str, ...]
    recorded: dict[str, Any]
    today: dict[str, Any]
    input_hash: str
    rulebook_hash: str
    ignored: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line for the CLI (and one per note: what could not be replayed and was left out)."""
        if self.identical:
            text = f"entry {self.seq}: today's decision is identical"
        else:
            shown = ", ".join(self.differences[:5]) + (" ..." if len(self.differences) > 5 else "")
            text = f"entry {self.seq}: today's decision differs at {len(self.differences)} path(s): {shown}"
        return "\n".join([text, *(f"  note: {n}" for n in self.notes)])


# ------------------------------------------------------------------------------------------------------------
# Where a log lives: a file, or a PostgreSQL table
# ------------------------------------------------------------------------------------------------------------


def _head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def _read_tail(fd: int) -> bytes:
    """The last line of the file (without its newline), or b"" for an empty file."""
    size = os.fstat(fd).st_size
    if size == 0:
        return b""
    last = os.pread(fd, 1, size - 1)
    if last != b"\n":
        raise AuditError(
            "the audit log ends in a partial line (an interrupted or damaged write); "
            "run verify, and repair the log before appending"
        )
    pos, buf = size - 1, b""  # buf holds [pos, size - 1): the last line, growing left
    while pos > 0:
        start = max(0, pos - 4096)
        buf = os.pread(fd, pos - start, start) + buf
        pos = start
        cut = buf.rfind(b"\n")
        if cut >= 0:
            return buf[cut + 1 :]
    return buf


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _os_advice(file: Path, err: OSError, doing: str) -> AuditError:
    """An OSError on the log as an AuditError that says what to do."""
    code = err.errno
    if code in (errno.EISDIR,) or file.is_dir():
        return AuditError(f"{file} is a folder; give --audit the path of a log file, e.g. {file}/audit.jsonl")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return AuditError(f"{file}: the disk is full, so the audit log could not be {doing}; free space and run "
                          "again (the decision was not logged)")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return AuditError(f"{file}: the audit log could not be {doing} ({err.strerror}); make it and its folder "
                          "writable, or give another --audit")
    if code == errno.ENOTDIR:
        return AuditError(f"{file}: a part of this path is a file, not a folder; give another --audit")
    return AuditError(f"{file}: the audit log could not be {doing} ({err.strerror or err})")


class _FileStore:
    """A JSON Lines log and its ``.head`` side file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.file = Path(path)
        self.name = str(self.file)
        self.head_name = f"the head file {_head_path(self.file).name}"
        self._fd = -1

    def locked(self, fn: Callable[[], Any]) -> Any:
        if self.file.is_dir():
            raise _os_advice(self.file, IsADirectoryError(errno.EISDIR, "Is a directory"), "written")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as err:
            raise _os_advice(self.file, err, "opened for appending") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                return fn()
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        except OSError as err:
            raise _os_advice(self.file, err, "appended to") from None
        finally:
            os.close(self._fd)
            self._fd = -1

    def tail(self) -> bytes:
        return _read_tail(self._fd)

    def write_line(self, seq: int, text: str) -> None:
        data = (text + "\n").encode("utf-8")
        before = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, data)
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, before)  # a full disk must not leave half a line behind
            except OSError:  # not a regular file (a device): nothing to take back
                pass
            raise

    def write_head(self, text: str) -> None:
        head = _head_path(self.file)
        tmp = head.with_name(head.name + f".{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, head)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def lines(self) -> tuple[list[bytes], bool]:
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            raise AuditError(f"{self.file}: no audit log here") from None
        except OSError as err:
            raise _os_advice(self.file, err, "read") from None
        if not raw:
            return [], True
        complete = raw.endswith(b"\n")
        parts = raw.split(b"\n")
        if complete:
            parts.pop()
        return parts, complete

    def first_line(self) -> bytes:
        try:
            with open(self.file, "rb") as f:
                return f.readline().rstrip(b"\n")
        except FileNotFoundError:
            raise AuditError(f"{self.file}: no audit log here") from None
        except OSError as err:
            raise _os_advice(self.file, err, "read") from None

    def head(self) -> str | None:
        try:
            return _head_path(self.file).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            return ""

    def replace_all(self, lines: Sequence[str], head_text: str | None) -> None:
        """Write a whole log (import): the lines, then the head."""
        if self.file.exists() and self.file.stat().st_size:
            raise AuditError(f"{self.file}: audit import needs an empty or missing log; this one holds entries")

        def work() -> None:
            for n, line in enumerate(lines, 1):
                self.write_line(n, line)
            if head_text is not None:
                self.write_head(head_text)

        self.locked(work)


class _PgStore:
    """A log in the ``audit_log`` table (one row per entry) and its head in ``audit_head``."""

    def __init__(self, url: str) -> None:
        from sanctions.ledger.pg import PgLedger

        self.db = PgLedger(url)
        self.name = redact(url)
        self.head_name = "the audit_head row"

    def locked(self, fn: Callable[[], Any]) -> Any:
        def work() -> Any:
            self.db._lock("audit-log")
            return fn()

        return self.db.atomic(work)

    def tail(self) -> bytes:
        rows = self.db._read("SELECT line FROM audit_log ORDER BY seq DESC LIMIT 1")
        return rows[0][0].encode("utf-8") if rows else b""

    def write_line(self, seq: int, text: str) -> None:
        self.db._exec("INSERT INTO audit_log (seq, line) VALUES (?, ?)", (seq, text))

    def write_head(self, text: str) -> None:
        self.db._exec(
            "INSERT INTO audit_head (id, line) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET line = EXCLUDED.line",
            (text,),
        )

    def lines(self) -> tuple[list[bytes], bool]:
        return [r[0].encode("utf-8") for r in self.db._read("SELECT line FROM audit_log ORDER BY seq")], True

    def first_line(self) -> bytes:
        rows = self.db._read("SELECT line FROM audit_log ORDER BY seq LIMIT 1")
        return rows[0][0].encode("utf-8") if rows else b""

    def head(self) -> str | None:
        rows = self.db._read("SELECT line FROM audit_head WHERE id = 1")
        return rows[0][0] if rows else None

    def replace_all(self, lines: Sequence[str], head_text: str | None) -> None:
        def work() -> None:
            if self.db._read("SELECT 1 FROM audit_log LIMIT 1"):
                raise AuditError(f"{self.name}: audit import needs an empty log; this one holds entries")
            for n, line in enumerate(lines, 1):
                self.write_line(n, line)
            if head_text is not None:
                self.write_head(head_text)

        self.locked(work)


_PG_STORES: dict[tuple[int, str], _PgStore] = {}


def _store(path: str | os.PathLike[str]) -> _FileStore | _PgStore:
    """The store of a log given as a path or a URL; a URL never becomes a file."""
    if is_postgres_url(path):
        key = (os.getpid(), str(path))
        if key not in _PG_STORES:
            _PG_STORES[key] = _PgStore(str(path))
        return _PG_STORES[key]
    if is_url(path):
        raise AuditError(f"unsupported audit log URL {redact(str(path))!r}: use postgresql://... or a file path")
    return _FileStore(path)


# ------------------------------------------------------------------------------------------------------------
# Appending
# ------------------------------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _head_text(seq: int, entry_hash: str, key: bytes | None) -> str:
    data: dict[str, Any] = {"seq": seq, "entry_hash": entry_hash}
    if key is not None:
        data["mac"] = _head_mac(key, seq, entry_hash)
    return canonical_json(data)


def append(
    path: str | os.PathLike[str],
    *,
    input: Any,
    result: dict[str, Any],
    rulebook_hash: str,
    editions: Sequence[Any] = (),
    evaluator: str,
    now: dt.datetime | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """Append one decision to the log (created when missing), atomically and safely across processes.

    Args:
        path: The JSON Lines log, or a ``postgresql://`` URL.
        input: The transfer or deal judged, as JSON-like data or a pydantic model.
        result: The decision as a JSON object.
        rulebook_hash: Hash of the rulebook used.
        editions: List editions used (e.g. ``{"list": ..., "edition": date, "sha256": ...}``).
        evaluator: Evaluator name.
        now: The entry's time (default: now, UTC).
        key: The audit key (:func:`load_key`); the entry and the head then carry a MAC.

    Returns:
        The entry written.

    Raises:
        AuditError: when the log's last line is damaged, or the log cannot be written (a folder, a full or
            read-only disk: the message says what to do).
    """
    if not isinstance(_normal(result), dict):
        raise AuditError("an audit result must be a JSON object")
    store = _store(path)
    stamp = (
        now.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        if now is not None
        else _now()
    )
    data = _normal(input)
    fixed = {
        "time": stamp,
        "input": data,
        "input_hash": _sha(canonical_json(data)),
        "rulebook_hash": str(rulebook_hash),
        "editions": _normal(list(editions)),
        "evaluator": str(evaluator),
        "result": _normal(result),
    }

    def work() -> dict[str, Any]:
        tail = store.tail()
        if tail:
            try:
                last = json.loads(tail)
                seq, prev = int(last["seq"]) + 1, str(last["entry_hash"])
            except (ValueError, KeyError, TypeError):
                raise AuditError(f"{store.name}: the last line is not an audit entry; run verify") from None
        else:
            seq, prev = 1, GENESIS
        body: dict[str, Any] = {"seq": seq, **fixed, "prev_hash": prev}
        if key is not None:
            body["key_id"] = key_id(key)
        body["entry_hash"] = _sha(canonical_json(body))
        if key is not None:
            body["mac"] = _entry_mac(key, body["entry_hash"])
        store.write_line(seq, canonical_json(body))
        store.write_head(_head_text(seq, body["entry_hash"], key))
        return body

    return _entry(store.locked(work))


# ------------------------------------------------------------------------------------------------------------
# Reading and verifying
# ------------------------------------------------------------------------------------------------------------


def entries(path: str | os.PathLike[str]) -> Iterator[AuditEntry]:
    """Entries in log order, without checking the chain (use :func:`verify` for that).

    Raises:
        AuditError: at the first line that is not an entry.
    """
    lines, _ = _store(path).lines()
    for n, raw in enumerate(lines, 1):
        try:
            data = json.loads(raw)
            yield _entry(data)
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"{redact(str(path))}: line {n} is not an audit entry") from None


def raw_lines(path: str | os.PathLike[str]) -> list[str]:
    """The log's lines as stored (for export), without checking them."""
    lines, complete = _store(path).lines()
    if not complete:
        raise AuditError(f"{redact(str(path))}: the last line is cut short; run verify before moving the log")
    return [raw.decode("utf-8") for raw in lines]


def import_lines(path: str | os.PathLike[str], lines: Sequence[str], *, key: bytes | None = None) -> None:
    """Write exported lines into an empty log (file or PostgreSQL) with a head for its last entry.

    The lines are copied byte for byte, so the hash chain and the MACs move with them.

    Raises:
        AuditError: when the target log is not empty or cannot be written.
    """
    head_text = None
    if lines:
        last = json.loads(lines[-1])
        head_text = _head_text(int(last["seq"]), str(last["entry_hash"]), key)
    _store(path).replace_all(lines, head_text)


def log_id(path: str | os.PathLike[str]) -> str | None:
    """The log's identity: the entry_hash of its first entry (None for an empty log).

    It does not change when the log is moved (exported and imported), so heads anchored in a ledger follow
    the log.
    """
    first = _store(path).first_line()
    if not first:
        return None
    try:
        return str(json.loads(first)["entry_hash"])
    except (ValueError, KeyError, TypeError):
        raise AuditError(f"{redact(str(path))}: line 1 is not an audit entry; run verify") from None


def head(path: str | os.PathLike[str], *, key: bytes | None = None) -> dict[str, Any]:
    """The head to keep outside the log: log id, last seq and entry_hash (and its MAC when keyed).

    Raises:
        AuditError: when the log is damaged (verify it first) or missing.
    """
    report = verify(path, key=key)
    if not report.ok:
        raise AuditError(f"{redact(str(path))}: {report.summary()}; not taking a head from a damaged log")
    last = None
    for last in entries(path):
        pass
    out: dict[str, Any] = {"log_id": report.log_id, "seq": report.last_seq, "entry_hash": report.head_hash}
    if last is not None and last.mac is not None:
        out["mac"] = last.mac
    return out


def verify(
    path: str | os.PathLike[str],
    *,
    expect_head: str | None = None,
    key: bytes | None = None,
    anchors: LedgerBackend | Sequence[Mapping[str, Any]] | None = None,
) -> VerifyReport:
    """Check the whole chain: every seq in order, every hash, every link, the head, and (keyed) every MAC.

    Args:
        path: The log (file path or ``postgresql://`` URL).
        expect_head: An entry_hash kept elsewhere; the log must contain it.
        key: The audit key. With it every entry and the head must carry a MAC made with this key; without
            it MACs cannot be checked, and the report says so in its warnings.
        anchors: A ledger holding anchored heads (or their rows): the log must still hold each anchored entry
            of this log, and must not end before it.

    Returns:
        A report naming the first bad seq and why; it does not raise for a damaged log.

    Raises:
        AuditError: when there is no log at ``path`` or it cannot be read.
    """
    store = _store(path)
    lines, complete = store.lines()
    problems: list[Problem] = []
    warnings: list[str] = []
    expected, prev_hash, count = 1, GENESIS, 0
    hashes: dict[int, str] = {}
    first_hash: str | None = None
    macs_seen = unkeyed = 0
    my_key_id = key_id(key) if key is not None else None

    def bad(seq: int, line: int, reason: str) -> None:
        if len(problems) < 100:
            problems.append(Problem(seq, line, reason))

    for n, raw in enumerate(lines, 1):
        if n == len(lines) and not complete:
            bad(
                expected,
                n,
                f"line {n} is cut short (no newline at the end): the log was truncated "
                "or a write was interrupted",
            )
            break
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            bad(expected, n, f"line {n} is not valid JSON (truncated or edited)")
            expected += 1
            continue
        if set(data) != set(_FIELDS) and set(data) != set(_KEYED_FIELDS):
            missing, extra = set(_FIELDS) - set(data), set(data) - set(_KEYED_FIELDS)
            bad(
                data.get("seq", expected) if isinstance(data.get("seq"), int) else expected,
                n,
                f"line {n} has the wrong fields (missing {sorted(missing)}, unexpected {sorted(extra)})",
            )
            expected += 1
            continue
        entry = _entry(data)
        count += 1
        if not isinstance(entry.seq, int) or isinstance(entry.seq, bool):
            bad(expected, n, f"line {n}: seq is not an integer")
            continue
        if first_hash is None:
            first_hash = entry.entry_hash
        if entry.seq != expected:
            if entry.seq > expected:
                gone = (
                    f"entry {expected}"
                    if entry.seq == expected + 1
                    else f"entries {expected}-{entry.seq - 1}"
                )
                bad(
                    expected,
                    n,
                    f"expected entry {expected} at line {n} but found entry {entry.seq}: "
                    f"{gone} deleted or moved",
                )
            else:
                bad(
                    entry.seq,
                    n,
                    f"entry {entry.seq} at line {n} comes after entry {expected - 1}: "
                    "lines were reordered or duplicated",
                )
        if entry.prev_hash != prev_hash:
            bad(
                entry.seq,
                n,
                f"entry {entry.seq}'s prev_hash does not match the entry before it: "
                "an earlier line was changed, removed or moved",
            )
        if entry.computed_hash() != entry.entry_hash:
            bad(
                entry.seq,
                n,
                f"entry {entry.seq} was changed after it was written (entry_hash does not match its content)",
            )
        if _sha(canonical_json(entry.input)) != entry.input_hash:
            bad(entry.seq, n, f"entry {entry.seq}'s input does not match its input_hash")
        if raw.decode("utf-8", "replace") != canonical_json(data):
            bad(entry.seq, n, f"entry {entry.seq} is not in canonical form (the line was rewritten)")
        if entry.mac is None:
            unkeyed += 1
            if key is not None:
                bad(
                    entry.seq,
                    n,
                    f"entry {entry.seq} carries no MAC: it was written or rewritten by someone without the "
                    "audit key (a forged or appended entry), or before the log was keyed",
                )
        else:
            macs_seen += 1
            if key is not None:
                if entry.key_id != my_key_id:
                    bad(
                        entry.seq,
                        n,
                        f"entry {entry.seq} was keyed with another key (key id {entry.key_id}, this key is "
                        f"{my_key_id}): forged, or verify is given the wrong key",
                    )
                elif not hmac.compare_digest(str(entry.mac), _entry_mac(key, entry.entry_hash)):
                    bad(
                        entry.seq,
                        n,
                        f"entry {entry.seq}'s MAC does not match: the entry was forged or rewritten by someone "
                        "without the audit key",
                    )
        hashes[entry.seq] = entry.entry_hash
        prev_hash = entry.entry_hash
        expected = max(expected, entry.seq) + 1
    last_seq = expected - 1

    head_text = store.head()
    if head_text is not None:
        try:
            h = json.loads(head_text)
            hseq, hhash = int(h["seq"]), str(h["entry_hash"])
            hmac_text = h.get("mac")
        except (ValueError, KeyError, TypeError, AttributeError):
            bad(last_seq + 1, len(lines), f"{store.head_name} is damaged")
        else:
            if key is not None and (
                not isinstance(hmac_text, str) or not hmac.compare_digest(hmac_text, _head_mac(key, hseq, hhash))
            ):
                bad(
                    last_seq + 1,
                    len(lines) + 1,
                    f"{store.head_name}'s MAC does not match: it was written by someone without the audit key",
                )
            elif hseq > last_seq:
                bad(
                    last_seq + 1,
                    len(lines) + 1,
                    f"the log ends at entry {last_seq} but {store.head_name} records "
                    f"entry {hseq}: entries were cut off the end",
                )
            elif hashes.get(hseq, hhash) != hhash:
                bad(hseq, 0, f"entry {hseq} differs from the one {store.head_name} recorded")
            elif hseq < last_seq:
                warnings.append(
                    f"{store.head_name} records entry {hseq}, the log has {last_seq}; an append was "
                    "interrupted before the head was updated, or the head is an old copy"
                )
    elif lines:
        if key is not None:
            bad(
                last_seq + 1,
                len(lines) + 1,
                f"{store.head_name} is missing: it is written on every append, so entries may have been cut "
                "off the end (check an anchored head: audit verify --anchor LEDGER)",
            )
        else:
            warnings.append(f"{store.head_name} is missing: truncation at the end cannot be detected")
    if expect_head is not None and expect_head not in hashes.values():
        bad(last_seq + 1, len(lines) + 1, f"the expected head {expect_head[:16]}... is not in the log")
    if anchors is not None:
        _check_anchors(anchors, first_hash, hashes, last_seq, len(lines), bad, warnings)
    if key is None and macs_seen:
        warnings.append(
            f"{macs_seen} entries carry a keyed MAC that was not checked: give the audit key "
            f"(--audit-key-file, ${KEY_FILE_ENV} or ${KEY_ENV}) to detect forgery"
        )
    elif key is None and unkeyed and not macs_seen:
        warnings.append(
            "the log is not keyed: whoever can write it can rewrite it undetected; set an audit key "
            "(docs/ledger-and-audit.md)"
        )

    problems.sort(key=lambda p: (p.line if p.line else 10**12, p.seq))
    first = problems[0] if problems else None
    return VerifyReport(
        ok=not problems,
        entries=count,
        last_seq=last_seq,
        head_hash=prev_hash,
        first_bad_seq=first.seq if first else None,
        reason=first.reason if first else "",
        problems=tuple(problems),
        warnings=tuple(warnings),
        keyed=key is not None,
        log_id=first_hash,
    )


def _check_anchors(
    anchors: LedgerBackend | Sequence[Mapping[str, Any]],
    first_hash: str | None,
    hashes: dict[int, str],
    last_seq: int,
    n_lines: int,
    bad: Callable[[int, int, str], None],
    warnings: list[str],
) -> None:
    rows = anchors.audit_anchors() if isinstance(anchors, LedgerBackend) else list(anchors)
    mine = [r for r in rows if r["log_id"] == first_hash]
    if not mine:
        if rows:
            logs = len({r["log_id"] for r in rows})
            bad(
                last_seq + 1,
                n_lines + 1,
                f"none of the heads anchored in the ledger ({len(rows)}, of {logs} log(s)) belongs to this log: "
                "its first entry is not the one anchored (the log was replaced, emptied or rewritten from the "
                "start)",
            )
        else:
            warnings.append("the ledger holds no anchored head for this log")
        return
    top = max(mine, key=lambda r: int(r["seq"]))
    if int(top["seq"]) > last_seq:
        bad(
            last_seq + 1,
            n_lines + 1,
            f"the log ends at entry {last_seq} but the ledger anchored entry {top['seq']} "
            f"(at {top['anchored_at']}): entries were cut off the end",
        )
    for r in mine:
        seq = int(r["seq"])
        if seq <= last_seq and hashes.get(seq) != r["entry_hash"]:
            bad(seq, 0, f"entry {seq} differs from the head anchored in the ledger at {r['anchored_at']}")


def anchor(path: str | os.PathLike[str], ledger: LedgerBackend, *, key: bytes | None = None) -> dict[str, Any]:
    """Store the log's current head in the ledger (after verifying the log), and return it.

    Raises:
        AuditError: when the log is damaged or empty.
    """
    h = head(path, key=key)
    if h["log_id"] is None:
        raise AuditError(f"{redact(str(path))}: the log is empty; nothing to anchor")
    ledger.anchor_audit_head(h["log_id"], h["seq"], h["entry_hash"], h.get("mac"))
    return h


def get(path: str | os.PathLike[str], seq: int) -> AuditEntry:
    """The entry with this seq, checked against its own hashes.

    Raises:
        AuditError: when there is no such entry, or it does not match its hashes.
    """
    for entry in entries(path):
        if entry.seq == seq:
            if entry.computed_hash() != entry.entry_hash:
                raise AuditError(f"{path}: entry {seq} was changed after it was written; run verify")
            if _sha(canonical_json(entry.input)) != entry.input_hash:
                raise AuditError(f"{path}: entry {seq}'s input does not match its input_hash; run verify")
            return entry
    raise AuditError(f"{path}: no audit entry {seq}")


# ------------------------------------------------------------------------------------------------------------
# Replay
# ------------------------------------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENT.match(key) else f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def diff_paths(a: Any, b: Any, path: str = "$") -> list[str]:
    """JSON paths where two JSON values differ (``$.findings[0].outcome``); [] when equal.

    A key present on one side only is reported at the key; lists of different length at the first
    index past the shorter one (and every index where both have a differing item).
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(_key(path, k))
            else:
                out.extend(diff_paths(a[k], b[k], _key(path, k)))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(min(len(a), len(b))):
            out.extend(diff_paths(a[i], b[i], f"{path}[{i}]"))
        if len(a) != len(b):
            out.append(f"{path}[{min(len(a), len(b))}]")
        return out
    if type(a) is not type(b) and not (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return [path]
    return [] if a == b else [path]


def replay(
    path: str | os.PathLike[str],
    seq: int,
    check: Callable[[Any], dict[str, Any]],
    *,
    ignore: Sequence[str] = (),
    view: Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any], Sequence[str]]]
    | None = None,
) -> ReplayReport:
    """Re-run a recorded decision and compare it with today's.

    Args:
        path: The log.
        seq: Which entry.
        check: The engine's callable: recorded input (a fresh copy) -> decision as a JSON object.
        ignore: JSON paths (shell-style patterns, e.g. ``$.evaluated_at`` or ``$.timing*``) not to compare.
        view: Turns (recorded, today) into what is compared, with notes saying what was left out and why
            (e.g. findings that need a list edition that is no longer available).

    Returns:
        Whether today's decision is identical, and the JSON paths where it differs.

    Raises:
        AuditError: when the entry is missing or damaged.
    """
    entry = get(path, seq)
    today = _normal(check(json.loads(canonical_json(entry.input))))
    if not isinstance(today, dict):
        raise AuditError(
            f"replay of entry {seq}: the check returned {type(today).__name__}, not a JSON object"
        )
    recorded: dict[str, Any] = entry.result
    notes: Sequence[str] = ()
    if view is not None:
        recorded, today, notes = view(recorded, today)
    diffs = diff_paths(recorded, today)
    kept = [d for d in diffs if not any(fnmatch.fnmatchcase(d, pat) for pat in ignore)]
    return ReplayReport(
        seq=seq,
        identical=not kept,
        differences=tuple(kept),
        recorded=recorded,
        today=today,
        input_hash=entry.input_hash,
        rulebook_hash=entry.rulebook_hash,
        ignored=tuple(d for d in diffs if d not in kept),
        notes=tuple(notes),
    )


class AuditLog:
    """The functions of this module bound to one log (a file, or a ``postgresql://`` URL) and one key."""

    def __init__(self, path: str | os.PathLike[str], *, key: bytes | None = None) -> None:
        self.path: str | Path = str(path) if is_url(path) else Path(path)
        self.key = key

    def append(
        self,
        *,
        input: Any,
        result: dict[str, Any],
        rulebook_hash: str,
        editions: Sequence[Any] = (),
        evaluator: str,
        now: dt.datetime | None = None,
    ) -> AuditEntry:
        """See :func:`append`."""
        return append(
            self.path,
            input=input,
            result=result,
            rulebook_hash=rulebook_hash,
            editions=editions,
            evaluator=evaluator,
            now=now,
            key=self.key,
        )

    def verify(
        self, *, expect_head: str | None = None, anchors: LedgerBackend | Sequence[Mapping[str, Any]] | None = None
    ) -> VerifyReport:
        """See :func:`verify`."""
        return verify(self.path, expect_head=expect_head, key=self.key, anchors=anchors)

    def get(self, seq: int) -> AuditEntry:
        """See :func:`get`."""
        return get(self.path, seq)

    def replay(
        self, seq: int, check: Callable[[Any], dict[str, Any]], *, ignore: Sequence[str] = ()
    ) -> ReplayReport:
        """See :func:`replay`."""
        return replay(self.path, seq, check, ignore=ignore)

    def __iter__(self) -> Iterator[AuditEntry]:
        return entries(self.path)
