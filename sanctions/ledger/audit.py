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

Appends take an exclusive ``flock`` on the log, check its last line, write one line and ``fsync``, so any
number of processes may append to one file. A small side file ``<log>.head`` (replaced atomically on every
append) remembers the last seq and hash, so that cutting whole lines off the end is detected too.

:func:`verify` names the first bad seq and why (edited, deleted, reordered, truncated).
:func:`replay` re-runs a recorded input through a callable the engine provides and lists the JSON paths
where today's decision differs from the recorded one.

The chain proves the log was not changed *after* the fact by someone who cannot also rewrite every later
entry and the head file; keep a copy of the head hash elsewhere (print it, commit it) for stronger evidence.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import fnmatch
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sanctions.exc import AuditError
from sanctions.ledger.store import canonical_json

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "Problem",
    "ReplayReport",
    "VerifyReport",
    "append",
    "diff_paths",
    "entries",
    "get",
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

    def to_dict(self) -> dict[str, Any]:
        """The entry as written (all fields)."""
        return asdict(self)

    def computed_hash(self) -> str:
        """SHA-256 of the canonical JSON of the entry without entry_hash."""
        body = self.to_dict()
        del body["entry_hash"]
        return _sha(canonical_json(body))


def _entry(data: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{k: data[k] for k in _FIELDS})


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

    def summary(self) -> str:
        """One line for the CLI."""
        if self.ok:
            return f"audit log intact: {self.entries} entries, head {self.head_hash[:16]}"
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

    def summary(self) -> str:
        """One line for the CLI."""
        if self.identical:
            return f"entry {self.seq}: today's decision is identical"
        shown = ", ".join(self.differences[:5]) + (" ..." if len(self.differences) > 5 else "")
        return f"entry {self.seq}: today's decision differs at {len(self.differences)} path(s): {shown}"


# ------------------------------------------------------------------------------------------------------------
# Appending
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append(
    path: str | os.PathLike[str],
    *,
    input: Any,
    result: dict[str, Any],
    rulebook_hash: str,
    editions: Sequence[Any] = (),
    evaluator: str,
    now: dt.datetime | None = None,
) -> AuditEntry:
    """Append one decision to the log (created when missing), atomically and safely across processes.

    Args:
        path: The JSON Lines log.
        input: The transfer or deal judged, as JSON-like data or a pydantic model.
        result: The decision as a JSON object.
        rulebook_hash: Hash of the rulebook used.
        editions: List editions used.
        evaluator: Evaluator name.
        now: The entry's time (default: now, UTC).

    Returns:
        The entry written.

    Raises:
        AuditError: when the log's last line is damaged, or the log cannot be written.
    """
    if not isinstance(_normal(result), dict):
        raise AuditError("an audit result must be a JSON object")
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    stamp = (
        now.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        if now is not None
        else _now()
    )
    fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            tail = _read_tail(fd)
            if tail:
                try:
                    last = json.loads(tail)
                    seq, prev = int(last["seq"]) + 1, str(last["entry_hash"])
                except (ValueError, KeyError, TypeError):
                    raise AuditError(f"{file}: the last line is not an audit entry; run verify") from None
            else:
                seq, prev = 1, GENESIS
            data = _normal(input)
            body = {
                "seq": seq,
                "time": stamp,
                "input": data,
                "input_hash": _sha(canonical_json(data)),
                "rulebook_hash": str(rulebook_hash),
                "editions": _normal(list(editions)),
                "evaluator": str(evaluator),
                "result": _normal(result),
                "prev_hash": prev,
            }
            body["entry_hash"] = _sha(canonical_json(body))
            _write_all(fd, (canonical_json(body) + "\n").encode("utf-8"))
            os.fsync(fd)
            _write_head(file, seq, body["entry_hash"])
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError as err:
        raise AuditError(f"{file}: could not append to the audit log ({err})") from None
    finally:
        os.close(fd)
    return _entry(body)


def _write_head(file: Path, seq: int, entry_hash: str) -> None:
    head = _head_path(file)
    tmp = head.with_name(head.name + f".{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(canonical_json({"seq": seq, "entry_hash": entry_hash}) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, head)


# ------------------------------------------------------------------------------------------------------------
# Reading and verifying
# ------------------------------------------------------------------------------------------------------------


def _lines(file: Path) -> tuple[list[bytes], bool]:
    """Lines of the log and whether it ends with a newline."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise AuditError(f"{file}: no audit log here") from None
    if not raw:
        return [], True
    complete = raw.endswith(b"\n")
    parts = raw.split(b"\n")
    if complete:
        parts.pop()
    return parts, complete


def entries(path: str | os.PathLike[str]) -> Iterator[AuditEntry]:
    """Entries in file order, without checking the chain (use :func:`verify` for that).

    Raises:
        AuditError: at the first line that is not an entry.
    """
    lines, _ = _lines(Path(path))
    for n, raw in enumerate(lines, 1):
        try:
            data = json.loads(raw)
            yield _entry(data)
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"{path}: line {n} is not an audit entry") from None


def verify(path: str | os.PathLike[str], *, expect_head: str | None = None) -> VerifyReport:
    """Check the whole chain: every seq in order, every hash, every link, the head file.

    Args:
        path: The log.
        expect_head: An entry_hash kept elsewhere; the log must contain it.

    Returns:
        A report naming the first bad seq and why; it does not raise for a damaged log.

    Raises:
        AuditError: when there is no log at ``path``.
    """
    file = Path(path)
    lines, complete = _lines(file)
    problems: list[Problem] = []
    warnings: list[str] = []
    expected, prev_hash, count = 1, GENESIS, 0
    hashes: dict[int, str] = {}

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
        if set(data) != set(_FIELDS):
            missing, extra = set(_FIELDS) - set(data), set(data) - set(_FIELDS)
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
        hashes[entry.seq] = entry.entry_hash
        prev_hash = entry.entry_hash
        expected = max(expected, entry.seq) + 1
    last_seq = expected - 1

    head = _head_path(file)
    if head.exists():
        try:
            h = json.loads(head.read_text(encoding="utf-8"))
            hseq, hhash = int(h["seq"]), str(h["entry_hash"])
        except (ValueError, KeyError, TypeError):
            bad(last_seq + 1, len(lines), f"the head file {head.name} is damaged")
        else:
            if hseq > last_seq:
                bad(
                    last_seq + 1,
                    len(lines) + 1,
                    f"the log ends at entry {last_seq} but its head file records "
                    f"entry {hseq}: entries were cut off the end",
                )
            elif hashes.get(hseq, hhash) != hhash:
                bad(hseq, 0, f"entry {hseq} differs from the one the head file recorded")
            elif hseq < last_seq:
                warnings.append(
                    f"the head file records entry {hseq}, the log has {last_seq}; an append was "
                    "interrupted before the head was updated, or the head file is an old copy"
                )
    elif lines:
        warnings.append(f"no head file {head.name}: truncation at the end cannot be detected")
    if expect_head is not None and expect_head not in hashes.values():
        bad(last_seq + 1, len(lines) + 1, f"the expected head {expect_head[:16]}... is not in the log")

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
    )


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
) -> ReplayReport:
    """Re-run a recorded decision and compare it with today's.

    Args:
        path: The log.
        seq: Which entry.
        check: The engine's callable: recorded input (a fresh copy) -> decision as a JSON object.
        ignore: JSON paths (shell-style patterns, e.g. ``$.evaluated_at`` or ``$.timing*``) not to compare.

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
    diffs = diff_paths(entry.result, today)
    kept = [d for d in diffs if not any(fnmatch.fnmatchcase(d, pat) for pat in ignore)]
    return ReplayReport(
        seq=seq,
        identical=not kept,
        differences=tuple(kept),
        recorded=entry.result,
        today=today,
        input_hash=entry.input_hash,
        rulebook_hash=entry.rulebook_hash,
        ignored=tuple(d for d in diffs if d not in kept),
    )


class AuditLog:
    """The functions of this module bound to one log file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

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
        )

    def verify(self, *, expect_head: str | None = None) -> VerifyReport:
        """See :func:`verify`."""
        return verify(self.path, expect_head=expect_head)

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
