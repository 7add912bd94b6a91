"""The cap ledger: records every transfer line counting towards a cap, and loses nothing.

Two backends share this module's SQL and its guarantees: :class:`Ledger`, an SQLite file (the embedded
default), and :class:`sanctions.ledger.pg.PgLedger`, a PostgreSQL database a team shares.
:func:`sanctions.ledger.backends.open_ledger` picks one from a path or a ``postgresql://`` URL (a URL never
becomes a file path).

A cap (the 500,000-barrel refined-petroleum allowance, the 2017 coal cap) is judged across shipments, so
each line that counts is written here: cap id, period key, transfer id, item index, the quantity in the
cap's unit, the original quantity and unit, the transfer date, the SHA-256 of the transfer's canonical JSON
and when it was recorded.

Guarantees:

* **Idempotent.** A line is keyed by (transfer id, cap id, item index). Recording the same transfer twice
  counts it once.
* **No silent overwrite.** A *changed* transfer under an id already recorded is refused with
  :class:`~sanctions.exc.LedgerError`, unless recorded with ``amend=True``: then the old lines are kept,
  marked superseded (they stop counting), and the new ones count. :meth:`Ledger.history` shows both.
* **Atomic.** Each call that writes is one transaction (SQLite ``BEGIN IMMEDIATE``): a crash or ``kill -9``
  in the middle leaves either all of its rows or none. :meth:`LedgerBackend.atomic` makes an assessment and
  its recording one transaction, so two deliveries that together cross a cap cannot both be judged under it.
* **Safe across processes.** SQLite: WAL journal, a busy timeout, and the write lock taken at ``BEGIN``.
  PostgreSQL: a transaction-scoped advisory lock per cap and period (and per transfer id), with retries on
  serialisation failures, deadlocks and lost connections.
* **Versioned schema.** Each backend applies numbered migrations in order and refuses a newer schema.

Quantities are stored as exact decimal text and as integer millionths of the cap unit, so sums are exact.

Periods: ``period_for(spec, date)`` names the period a date falls in, ``"2018"`` for a calendar year or
``"2017-12-22/2018-12-21"`` for a twelve-month period counted from a start date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sanctions.exc import FieldProblem, InvalidInput, LedgerError

__all__ = [
    "CapTotal",
    "Ledger",
    "LedgerBackend",
    "LedgerEntry",
    "LedgerLine",
    "PeriodSpec",
    "RecordResult",
    "canonical_json",
    "content_hash",
    "is_url",
    "parse_period",
    "period_bounds",
    "period_for",
]

MICRO = Decimal("0.000001")
_MICRO_FACTOR = 1_000_000

# ------------------------------------------------------------------------------------------------------------
# Canonical JSON and hashing
# ------------------------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def canonical_json(value: Any) -> str:
    """``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of JSON-like data.

    Pydantic models are dumped in JSON mode first; dates become ISO strings, Decimals strings.
    """
    return json.dumps(
        _jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def content_hash(value: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Periods
# ------------------------------------------------------------------------------------------------------------


class PeriodSpec(BaseModel):
    """How a cap's periods run.

    * ``calendar_year``: 1 January to 31 December; ``start`` (optional) is the first day the cap applies.
    * ``twelve_months``: consecutive twelve-month periods counted from ``start`` (required), e.g. 2397 OP4's
      crude cap from 22 December 2017: ``2017-12-22/2018-12-21``, ``2018-12-22/2019-12-21``, ...
    * ``fixed``: one period from ``start`` to ``end``, e.g. the 2016 pro-rata coal cap, 30 Nov-31 Dec 2016.

    ``end`` (optional for the first two kinds) is the last day the cap applies, e.g. when it was replaced.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["calendar_year", "twelve_months", "fixed"] = Field(description="How periods run.")
    start: dt.date | None = Field(
        default=None, description="First day the cap applies (first period's start for twelve_months)."
    )
    end: dt.date | None = Field(default=None, description="Last day the cap applies.")

    @model_validator(mode="after")
    def _check(self) -> PeriodSpec:
        if self.kind in ("twelve_months", "fixed") and self.start is None:
            raise ValueError(f"a {self.kind} period needs a start date")
        if self.kind == "fixed" and self.end is None:
            raise ValueError("a fixed period needs an end date")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end.isoformat()} is before start {self.start.isoformat()}")
        return self


_SPEC_TEXT = re.compile(r"^\s*(calendar_year|twelve_months_from)\s*(?:[:(]\s*(\d{4}-\d{2}-\d{2})\s*\)?)?\s*$")


def _spec(spec: PeriodSpec | Mapping[str, Any] | str) -> PeriodSpec:
    if isinstance(spec, PeriodSpec):
        return spec
    if isinstance(spec, str):
        m = _SPEC_TEXT.match(spec)
        if not m or (m.group(1) == "twelve_months_from" and not m.group(2)):
            raise InvalidInput(
                f"unknown period spec {spec!r}",
                problems=[
                    FieldProblem(
                        "period",
                        "unknown period spec",
                        spec,
                        "use 'calendar_year' or 'twelve_months_from(YYYY-MM-DD)'",
                    )
                ],
            )
        spec = {
            "kind": "calendar_year" if m.group(1) == "calendar_year" else "twelve_months",
            "start": m.group(2),
        }
    try:
        return PeriodSpec.model_validate(spec)
    except Exception as err:  # pydantic ValidationError: keep the message, our type
        raise InvalidInput(f"invalid period spec: {err}") from None


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February into a common year
        return d.replace(year=d.year + years, day=28)


def period_bounds(spec: PeriodSpec | Mapping[str, Any] | str, date: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the period of ``spec`` that contains ``date``.

    Raises:
        InvalidInput: when the date is before the cap applies or after it ended.
    """
    s = _spec(spec)
    if isinstance(date, dt.datetime):
        date = date.date()
    if s.start and date < s.start:
        raise InvalidInput(
            f"{date.isoformat()} is before the cap applies (from {s.start.isoformat()})",
            problems=[FieldProblem("date", "before the cap's first period", date.isoformat())],
        )
    if s.end and date > s.end:
        raise InvalidInput(
            f"{date.isoformat()} is after the cap ends ({s.end.isoformat()})",
            problems=[FieldProblem("date", "after the cap's last period", date.isoformat())],
        )
    if s.kind == "fixed":
        assert s.start and s.end
        return s.start, s.end
    if s.kind == "calendar_year":
        return dt.date(date.year, 1, 1), dt.date(date.year, 12, 31)
    assert s.start
    n = date.year - s.start.year
    if _add_years(s.start, n) > date:
        n -= 1
    first = _add_years(s.start, n)
    return first, _add_years(s.start, n + 1) - dt.timedelta(days=1)


def period_for(spec: PeriodSpec | Mapping[str, Any] | str, date: dt.date) -> str:
    """The period key of ``date``: ``"2024"`` for calendar years, ``"START/END"`` (ISO dates) otherwise.

    ``spec`` is a :class:`PeriodSpec`, its dict form, or text: ``"calendar_year"``,
    ``"twelve_months_from(2017-12-22)"`` (also ``twelve_months_from:2017-12-22``).

    >>> period_for("calendar_year", dt.date(2024, 3, 1))
    '2024'
    >>> period_for("twelve_months_from(2017-12-22)", dt.date(2018, 12, 22))
    '2018-12-22/2019-12-21'

    Raises:
        InvalidInput: for an unknown spec, or a date outside the cap's life.
    """
    first, last = period_bounds(spec, date)
    if _spec(spec).kind == "calendar_year" and first.month == 1 and first.day == 1:
        return str(first.year)
    return f"{first.isoformat()}/{last.isoformat()}"


def parse_period(key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period key made by :func:`period_for`.

    Raises:
        InvalidInput: for text that is not a period key.
    """
    try:
        if re.fullmatch(r"\d{4}", key):
            return dt.date(int(key), 1, 1), dt.date(int(key), 12, 31)
        a, b = key.split("/")
        return dt.date.fromisoformat(a), dt.date.fromisoformat(b)
    except ValueError:
        raise InvalidInput(
            f"not a period key: {key!r}",
            problems=[FieldProblem("period", "expected YYYY or YYYY-MM-DD/YYYY-MM-DD", key)],
        ) from None


# ------------------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------------------


def _dec(value: Any, what: str) -> Decimal:
    from sanctions.model.units import to_decimal

    return to_decimal(value, what=what)


@dataclass(frozen=True)
class LedgerLine:
    """One line of a transfer that counts towards one cap (what :meth:`Ledger.record` writes).

    Attributes:
        cap_id: The cap, e.g. ``dprk.refined_petroleum.2397``.
        period: Period key from :func:`period_for`.
        item_index: Index of the item in the transfer's ``items``.
        quantity: Amount in the cap's unit (non-negative).
        unit: The cap's unit.
        original_value: The amount as given in the transfer.
        original_unit: Its unit.
    """

    cap_id: str
    period: str
    item_index: int
    quantity: Decimal
    unit: str
    original_value: Decimal
    original_unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", _dec(self.quantity, "quantity"))
        object.__setattr__(self, "original_value", _dec(self.original_value, "original_value"))
        object.__setattr__(self, "unit", _text(self.unit))
        object.__setattr__(self, "original_unit", _text(self.original_unit))
        if self.quantity < 0:
            raise InvalidInput(
                "a ledger quantity cannot be negative",
                problems=[FieldProblem("quantity", "negative", str(self.quantity))],
            )
        if not self.cap_id or not isinstance(self.cap_id, str):
            raise InvalidInput(
                "a ledger line needs a cap id", problems=[FieldProblem("cap_id", "empty", self.cap_id)]
            )
        parse_period(self.period)
        if not isinstance(self.item_index, int) or isinstance(self.item_index, bool) or self.item_index < 0:
            raise InvalidInput(
                "item index must be a non-negative integer",
                problems=[FieldProblem("item_index", "not a non-negative integer", self.item_index)],
            )


def _text(v: Any) -> str:
    return v.value if isinstance(v, Enum) else str(v)


@dataclass(frozen=True)
class LedgerEntry:
    """One stored line, current or superseded (what :meth:`Ledger.history` returns)."""

    id: int
    cap_id: str
    period: str
    transfer_id: str
    item_index: int
    quantity: Decimal
    unit: str
    original_value: Decimal
    original_unit: str
    transfer_date: dt.date
    content_hash: str
    recorded_at: str
    version: int
    superseded_at: str | None
    write_id: str

    @property
    def counts(self) -> bool:
        """True while the line is current (not superseded by an amendment)."""
        return self.superseded_at is None


@dataclass(frozen=True)
class RecordResult:
    """What one :meth:`Ledger.record` did.

    ``status`` is ``recorded`` (new transfer), ``unchanged`` (same content, nothing new), ``extended`` (same
    content, lines for caps not recorded before were added) or ``amended`` (old version superseded).
    """

    transfer_id: str
    status: Literal["recorded", "unchanged", "extended", "amended"]
    version: int
    added: int
    superseded: int
    content_hash: str


@dataclass(frozen=True)
class CapTotal:
    """The running total of one cap in one period."""

    cap_id: str
    period: str
    unit: str
    total: Decimal
    count: int
    limit: Decimal | None = None

    @property
    def remaining(self) -> Decimal | None:
        """Headroom left under the limit (negative when over); None when no limit was given."""
        return None if self.limit is None else self.limit - self.total

    @property
    def fraction(self) -> float | None:
        """Share of the limit used; None when no limit was given."""
        return None if not self.limit else float(self.total / self.limit)


_COLUMNS = (
    "id, cap_id, period, transfer_id, item_index, quantity, unit, original_value, original_unit, "
    "transfer_date, content_hash, recorded_at, version, superseded_at, write_id"
)
_EXPORT_COLUMNS = (
    "id",
    "cap_id",
    "period",
    "transfer_id",
    "item_index",
    "quantity",
    "quantity_micro",
    "unit",
    "original_value",
    "original_unit",
    "transfer_date",
    "content_hash",
    "recorded_at",
    "version",
    "superseded_at",
    "write_id",
)
_ANCHOR_COLUMNS = ("log_id", "seq", "entry_hash", "mac", "anchored_at")

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(target: str | os.PathLike[str]) -> bool:
    """True when ``target`` looks like a URL (``scheme://...``); such a value is never taken for a file path."""
    return isinstance(target, str) and bool(_URL.match(target))


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    """True for ``postgresql://...`` and ``postgres://...``."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in ("postgresql", "postgres")


def redact(url: str) -> str:
    """A URL with its password replaced by ``***``, for messages."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _transfer_facts(transfer: Any) -> tuple[str, dt.date, str]:
    data = _jsonable(transfer)
    if not isinstance(data, Mapping):
        raise InvalidInput(
            "a transfer must be a JSON object", problems=[FieldProblem("", "not an object", None)]
        )
    tid = data.get("id")
    if not isinstance(tid, str) or not tid:
        raise InvalidInput(
            "the transfer has no id", problems=[FieldProblem("id", "required field is missing", tid)]
        )
    raw = data.get("date")
    if isinstance(raw, Mapping):
        raw = raw.get("start")
    try:
        date = dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(
            f"transfer {tid!r} has no usable date",
            problems=[FieldProblem("date", "expected an ISO date or {start, end}", raw)],
        ) from None
    return tid, date, content_hash(data)


class LedgerBackend:
    """What every ledger backend offers; the SQL is shared, connections and locking are the backend's.

    Subclasses: :class:`Ledger` (SQLite, one file, the default) and :class:`sanctions.ledger.pg.PgLedger`
    (PostgreSQL, for a team sharing one server). Both give the same answers to the same calls; the shared
    test suite runs against both.

    Concurrency contract: :meth:`atomic` runs a function in ONE write transaction in which every total read
    (:meth:`total`) is protected against concurrent writers of the same cap and period until the
    transaction ends, so an assessment and the recording that follows it cannot interleave with another
    recorder's. Transient failures (a serialisation failure, a deadlock, a lost connection) roll the
    transaction back and run the function again from the start.
    """

    #: A short name for messages ("sqlite", "postgresql").
    backend = ""
    #: Where the ledger is, for messages (never holds a password).
    where = ""

    def __init__(self) -> None:
        self._depth = 0

    # -- backend primitives (subclasses) ---------------------------------------------------------------------

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _begin(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _commit(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rollback(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _lock(self, key: str) -> None:
        """Hold a lock named ``key`` until the current transaction ends (no-op where the whole file is)."""

    def _retry(self, err: BaseException, attempt: int) -> bool:
        """Whether ``err`` is transient and the transaction should run again (after any reconnect)."""
        return False

    def _translate(self, err: BaseException) -> BaseException:
        """A driver error as a :class:`LedgerError` that says what to do; other errors unchanged."""
        return err

    def close(self) -> None:  # pragma: no cover - abstract
        """Close the connection."""
        raise NotImplementedError

    def __enter__(self) -> LedgerBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`atomic`."""
        return self._depth > 0

    def atomic(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` in one write transaction and return what it returns; nested calls join the outer one.

        On a transient failure the transaction is rolled back and ``fn`` runs again, so ``fn`` must not have
        effects outside the ledger that cannot be repeated.

        Raises:
            LedgerError: when the ledger cannot be written (after retries), or is damaged.
        """
        if self._depth:
            return fn()
        attempt = 0
        while True:
            try:
                self._begin()
            except Exception as err:
                if self._retry(err, attempt):
                    attempt += 1
                    continue
                raise self._translate(err) from None
            self._depth = 1
            try:
                result = fn()
            except BaseException as err:
                self._depth = 0
                self._rollback_quietly()
                if isinstance(err, Exception) and self._retry(err, attempt):
                    attempt += 1
                    continue
                translated = self._translate(err)
                if translated is err:
                    raise
                raise translated from None
            self._depth = 0
            try:
                self._commit()
            except Exception as err:
                self._rollback_quietly()
                if self._retry(err, attempt):
                    attempt += 1
                    continue
                raise self._translate(err) from None
            return result

    def _rollback_quietly(self) -> None:
        try:
            self._rollback()
        except Exception:  # the connection may be gone; the server rolls back on its own then
            pass

    def _plain(self, fn: Callable[[], Any]) -> Any:
        """Run a read outside any write transaction (PostgreSQL: as a transaction, for its retries)."""
        return self.atomic(fn)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query, in the current transaction or on their own."""
        if self._depth:
            return [tuple(r) for r in self._exec(sql, args).fetchall()]
        return self._plain(lambda: [tuple(r) for r in self._exec(sql, args).fetchall()])  # type: ignore[no-any-return]

    # -- writes ----------------------------------------------------------------------------------------------

    def record(self, transfer: Any, lines: Sequence[LedgerLine], *, amend: bool = False) -> RecordResult:
        """Record the lines of one transfer that count towards caps, in one transaction.

        Args:
            transfer: The transfer (a :class:`~sanctions.model.Transfer` or its JSON-like dict). Its id, date
                (the start of a date range) and content hash are taken from it.
            lines: Lines to count, one per (cap, item); may be empty (the transfer counts towards nothing).
            amend: Replace a previously recorded, different version of this transfer.

        Returns:
            What happened; recording the same content again is ``unchanged`` and counts nothing twice.

        Raises:
            LedgerError: when a different version of the transfer is already recorded and ``amend`` is false,
                or the ledger cannot be written.
            InvalidInput: for duplicate (cap, item) lines or a transfer without id or date.
        """
        return self.record_many([(transfer, lines)], amend=amend)[0]

    def record_many(
        self, batch: Iterable[tuple[Any, Sequence[LedgerLine]]], *, amend: bool = False
    ) -> list[RecordResult]:
        """Record several transfers in ONE transaction: all are recorded, or (on any error) none.

        Raises:
            LedgerError, InvalidInput: as :meth:`record`; nothing of the batch is written then.
        """
        prepared = []
        seen_ids: set[str] = set()
        for transfer, lines in batch:
            tid, date, digest = _transfer_facts(transfer)
            if tid in seen_ids:
                raise InvalidInput(f"transfer {tid!r} appears twice in one batch")
            seen_ids.add(tid)
            keys = [(ln.cap_id, ln.item_index) for ln in lines]
            if len(keys) != len(set(keys)):
                raise InvalidInput(
                    f"transfer {tid!r}: two lines for the same cap and item",
                    problems=[FieldProblem("lines", "duplicate (cap_id, item_index)", None)],
                )
            prepared.append((tid, date, digest, list(lines)))
        write_id = os.urandom(8).hex()

        def work() -> list[RecordResult]:
            # locks in one global order (caps and periods, then transfers) so that writers cannot deadlock
            for key in sorted({f"cap:{ln.cap_id}:{ln.period}" for p in prepared for ln in p[3]}):
                self._lock(key)
            for tid in sorted(seen_ids):
                self._lock(f"transfer:{tid}")
            now = _now()
            return [self._record_one(tid, date, digest, lines, amend, now, write_id)
                    for tid, date, digest, lines in prepared]

        return self.atomic(work)  # type: ignore[no-any-return]

    def _record_one(
        self,
        tid: str,
        date: dt.date,
        digest: str,
        lines: list[LedgerLine],
        amend: bool,
        now: str,
        write_id: str,
    ) -> RecordResult:
        current = [tuple(r) for r in self._exec(
            "SELECT cap_id, item_index, content_hash, version, recorded_at FROM entries "
            "WHERE transfer_id = ? AND superseded_at IS NULL",
            (tid,),
        ).fetchall()]
        # a transfer recorded with no counting lines leaves a marker row so that its version is known
        version = max((r[3] for r in current), default=0)
        hashes = {r[2] for r in current}
        superseded = 0
        if current and hashes != {digest}:
            if not amend:
                old = sorted(hashes)[0]
                raise LedgerError(
                    f"transfer {tid!r} is already in the ledger with different content (recorded "
                    f"{current[0][4]}, hash {old[:12]}..., now {digest[:12]}...); record it with amend=True "
                    f"to supersede the old version"
                )
            superseded = self._exec(
                "UPDATE entries SET superseded_at = ? WHERE transfer_id = ? AND superseded_at IS NULL",
                (now, tid),
            ).rowcount
            existing: set[tuple[str, int]] = set()
            status: Literal["recorded", "unchanged", "extended", "amended"] = "amended"
            version += 1
        else:
            existing = {(r[0], r[1]) for r in current}
            status = "recorded" if not current else "unchanged"
            version = version or 1
        rows = []
        for ln in lines:
            if (ln.cap_id, ln.item_index) in existing:
                continue
            micro = int((ln.quantity / MICRO).to_integral_value(ROUND_HALF_EVEN))
            rows.append(
                (
                    ln.cap_id,
                    ln.period,
                    tid,
                    ln.item_index,
                    str(ln.quantity),
                    micro,
                    ln.unit,
                    str(ln.original_value),
                    ln.original_unit,
                    date.isoformat(),
                    digest,
                    now,
                    version,
                    write_id,
                )
            )
        if not current and not rows:
            rows.append(
                ("", "0000", tid, 0, "0", 0, "", "0", "", date.isoformat(), digest, now, version, write_id)
            )
        if rows and status == "unchanged":
            status = "extended"
        if rows:
            self._executemany(
                "INSERT INTO entries (cap_id, period, transfer_id, item_index, quantity, quantity_micro, unit, "
                "original_value, original_unit, transfer_date, content_hash, recorded_at, version, write_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return RecordResult(tid, status, version, sum(1 for r in rows if r[0]), superseded, digest)

    # -- reads -----------------------------------------------------------------------------------------------

    def total(self, cap_id: str, period: str, *, exclude_transfer: str | None = None) -> Decimal:
        """Sum of current lines of one cap in one period, in the cap's unit (exact).

        Inside :meth:`atomic`, the cap and period stay locked against other writers until the transaction
        ends, so the total cannot change between this read and the recording that follows it.

        Args:
            exclude_transfer: Leave this transfer out (to re-judge a transfer already recorded).
        """
        return self._sum(cap_id, period, exclude_transfer)[0]

    def count(self, cap_id: str, period: str) -> int:
        """Number of current lines of one cap in one period."""
        return self._sum(cap_id, period, None)[1]

    def _sum(self, cap_id: str, period: str, exclude: str | None) -> tuple[Decimal, int]:
        sql = (
            "SELECT COALESCE(SUM(quantity_micro), 0), COUNT(*) FROM entries "
            "WHERE cap_id = ? AND period = ? AND superseded_at IS NULL"
        )
        args: tuple[Any, ...] = (cap_id, period)
        if exclude is not None:
            sql += " AND transfer_id != ?"
            args += (exclude,)

        if self._depth:  # an assessment: the cap and period stay locked until the transaction ends
            self._lock(f"cap:{cap_id}:{period}")
            micro, n = self._exec(sql, args).fetchone()
        else:
            micro, n = self._plain(lambda: tuple(self._exec(sql, args).fetchone()))
        return _from_micro(micro), int(n)

    def totals(
        self, year: int | None = None, *, limits: Mapping[str, Decimal | int | float | str] | None = None
    ) -> list[CapTotal]:
        """Every cap and period with current lines: total, count and (with ``limits``) remaining headroom.

        Args:
            year: Only periods that overlap this calendar year.
            limits: Cap limit by cap id, in the cap's unit.
        """
        rows = self._read(
            "SELECT cap_id, period, MIN(unit), SUM(quantity_micro), COUNT(*) FROM entries "
            "WHERE superseded_at IS NULL AND cap_id != '' GROUP BY cap_id, period ORDER BY cap_id, period"
        )
        out = []
        for cap_id, period, unit, micro, n in rows:
            if year is not None:
                first, last = parse_period(period)
                if not first.year <= year <= last.year:
                    continue
            limit = limits.get(cap_id) if limits else None
            out.append(
                CapTotal(
                    cap_id,
                    period,
                    unit,
                    _from_micro(micro),
                    int(n),
                    None if limit is None else _dec(limit, "limit"),
                )
            )
        return out

    def history(self, transfer_id: str) -> list[LedgerEntry]:
        """Every line ever recorded for a transfer, oldest first, superseded ones included."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM entries WHERE transfer_id = ? AND cap_id != '' ORDER BY id",
            (transfer_id,),
        )
        return [_entry(r) for r in rows]

    def entries(self, cap_id: str, period: str | None = None) -> list[LedgerEntry]:
        """Current lines of a cap (optionally one period), in the order they were recorded."""
        sql = f"SELECT {_COLUMNS} FROM entries WHERE cap_id = ? AND superseded_at IS NULL"
        args: tuple[Any, ...] = (cap_id,)
        if period is not None:
            sql += " AND period = ?"
            args += (period,)
        return [_entry(r) for r in self._read(sql + " ORDER BY id", args)]

    def is_recorded(self, transfer: Any) -> bool:
        """True when this exact transfer (same id and content) is in the ledger."""
        tid, _, digest = _transfer_facts(transfer)
        rows = self._read(
            "SELECT 1 FROM entries WHERE transfer_id = ? AND content_hash = ? "
            "AND superseded_at IS NULL LIMIT 1",
            (tid, digest),
        )
        return bool(rows)

    def _check_invariants(self) -> None:
        bad = self._read(
            "SELECT transfer_id FROM entries WHERE superseded_at IS NULL AND cap_id != '' "
            "GROUP BY transfer_id HAVING COUNT(DISTINCT content_hash) > 1 LIMIT 1"
        )
        if bad:
            raise LedgerError(f"{self.where}: transfer {bad[0][0]!r} has current lines from two versions")

    def check(self) -> None:
        """Check the ledger's own invariants (and, on SQLite, the file's integrity).

        Raises:
            LedgerError: naming what is wrong.
        """
        self._check_invariants()

    # -- audit anchors ---------------------------------------------------------------------------------------

    def anchor_audit_head(self, log_id: str, seq: int, entry_hash: str, mac: str | None = None) -> None:
        """Store an audit log's head here, outside the log: :func:`sanctions.ledger.audit.verify` with
        ``anchors`` then refuses a log that no longer holds it (truncated, or rewritten).

        Args:
            log_id: The log's identity (the entry_hash of its first entry).
            seq: The head's seq.
            entry_hash: The head's entry_hash.
            mac: The head entry's keyed MAC, when the log is keyed.
        """

        def work() -> None:
            self._lock(f"anchor:{log_id}")
            self._exec(
                "INSERT INTO audit_anchors (log_id, seq, entry_hash, mac, anchored_at) VALUES (?, ?, ?, ?, ?)",
                (log_id, int(seq), entry_hash, mac, _now()),
            )

        self.atomic(work)

    def audit_anchors(self, log_id: str | None = None) -> list[dict[str, Any]]:
        """Stored audit heads (all logs, or one), oldest first."""
        sql = f"SELECT {', '.join(_ANCHOR_COLUMNS)} FROM audit_anchors"
        args: tuple[Any, ...] = ()
        if log_id is not None:
            sql += " WHERE log_id = ?"
            args = (log_id,)
        rows = self._read(sql + " ORDER BY id", args)
        return [dict(zip(_ANCHOR_COLUMNS, r, strict=True)) for r in rows]

    # -- moving a ledger -------------------------------------------------------------------------------------

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """Every stored row (lines current and superseded, markers, audit anchors) as JSON-ready dicts."""
        for r in self._read(f"SELECT {', '.join(_EXPORT_COLUMNS)} FROM entries ORDER BY id"):
            yield {"kind": "entry", **dict(zip(_EXPORT_COLUMNS, r, strict=True))}
        for a in self.audit_anchors():
            yield {"kind": "anchor", **a}

    def is_empty(self) -> bool:
        """True when the ledger holds no rows at all."""
        return not self._read("SELECT 1 FROM entries LIMIT 1") and not self._read(
            "SELECT 1 FROM audit_anchors LIMIT 1"
        )

    def import_rows(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Load rows made by :meth:`export_rows` (of either backend) into this empty ledger, in one transaction.

        Returns:
            How many entries and anchors were loaded.

        Raises:
            LedgerError: when this ledger is not empty, or a row is malformed (nothing is loaded then).
        """
        entries, anchors = [], []
        for n, row in enumerate(rows, 1):
            kind = row.get("kind")
            try:
                if kind == "entry":
                    entries.append(tuple(row[c] for c in _EXPORT_COLUMNS))
                elif kind == "anchor":
                    anchors.append(tuple(row[c] for c in _ANCHOR_COLUMNS))
                else:
                    raise KeyError("kind")
            except KeyError as err:
                raise LedgerError(f"ledger import: row {n} is not a ledger row (missing {err})") from None

        def work() -> dict[str, int]:
            self._lock("import")
            if not self.is_empty():
                raise LedgerError(f"{self.where}: ledger import needs an empty ledger; this one holds rows")
            if entries:
                self._executemany(
                    f"INSERT INTO entries ({', '.join(_EXPORT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_EXPORT_COLUMNS))})",
                    entries,
                )
            if anchors:
                self._executemany(
                    f"INSERT INTO audit_anchors ({', '.join(_ANCHOR_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_ANCHOR_COLUMNS))})",
                    anchors,
                )
            self._after_import()
            return {"entries": len(entries), "anchors": len(anchors)}

        return self.atomic(work)  # type: ignore[no-any-return]

    def _after_import(self) -> None:
        """Backend clean-up after rows were loaded with explicit ids (PostgreSQL moves its sequence)."""


# ------------------------------------------------------------------------------------------------------------
# SQLite
# ------------------------------------------------------------------------------------------------------------

_SQLITE_MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE IF NOT EXISTS entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    cap_id         TEXT    NOT NULL,
    period         TEXT    NOT NULL,
    transfer_id    TEXT    NOT NULL,
    item_index     INTEGER NOT NULL CHECK (item_index >= 0),
    quantity       TEXT    NOT NULL,
    quantity_micro INTEGER NOT NULL CHECK (quantity_micro >= 0),
    unit           TEXT    NOT NULL,
    original_value TEXT    NOT NULL,
    original_unit  TEXT    NOT NULL,
    transfer_date  TEXT    NOT NULL,
    content_hash   TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    superseded_at  TEXT,
    write_id       TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_current
    ON entries (transfer_id, cap_id, item_index) WHERE superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS entries_cap_period
    ON entries (cap_id, period) WHERE superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS entries_transfer ON entries (transfer_id);
""",
    ),
    (
        2,
        """
CREATE TABLE IF NOT EXISTS audit_anchors (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    log_id      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    entry_hash  TEXT    NOT NULL,
    mac         TEXT,
    anchored_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_anchors_log ON audit_anchors (log_id, seq);
""",
    ),
)
SCHEMA_VERSION = _SQLITE_MIGRATIONS[-1][0]
"""The SQLite ledger's schema version (``PRAGMA user_version``); each migration step is applied in order."""

_SQLITE_DAMAGED = ("malformed", "not a database", "disk i/o error", "corrupt")


class Ledger(LedgerBackend):
    """An SQLite cap ledger in one file; open it once per process (or thread) and share nothing else.

    Write transactions are ``BEGIN IMMEDIATE``: the writer takes the file's write lock before its first read,
    so an assessment and its recording see no other writer in between.

    Args:
        path: The ledger file; created (with parents) when missing.
        busy_timeout: Seconds a writer waits for another process's transaction before giving up.
        synchronous: SQLite ``synchronous`` level: ``FULL`` (default; survives power loss) or ``NORMAL``
            (survives a killed process, faster).

    Raises:
        LedgerError: when the file is not a ledger, is damaged, or was written by a newer version.
    """

    backend = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        super().__init__()
        if is_url(path):
            raise InvalidInput(
                f"{redact(str(path))!r} is a URL, not an SQLite file; open URLs with "
                "sanctions.ledger.backends.open_ledger()",
                problems=[FieldProblem("ledger", "a URL is never a file path", redact(str(path)))],
            )
        self.path = Path(path)
        self.where = str(self.path)
        self.busy_timeout = busy_timeout
        if synchronous not in ("FULL", "NORMAL"):
            raise InvalidInput(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        if self.path.is_dir():
            raise LedgerError(f"{self.path} is a folder; give the path of a ledger file, e.g. {self.path}/ledger.db")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LedgerError(
                f"{self.path}: cannot create the ledger's folder ({err.strerror}); "
                "choose a writable location"
            ) from None
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._set_wal()
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise LedgerError(f"{self.path}: not a usable ledger file ({err}); {_SQLITE_ADVICE}") from None

    # -- primitives ------------------------------------------------------------------------------------------

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql, tuple(args))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _begin(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise LedgerError(
                    f"{self.path}: could not lock the ledger for writing within {self.busy_timeout:g} s ({err})"
                ) from None
            raise

    def _commit(self) -> None:
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _plain(self, fn: Callable[[], Any]) -> Any:
        # WAL readers need no lock: a read outside a write transaction must not take the write lock
        try:
            return fn()
        except sqlite3.DatabaseError as err:
            raise self._translate(err) from None

    def _translate(self, err: BaseException) -> BaseException:
        if isinstance(err, sqlite3.DatabaseError):
            text = str(err)
            if any(s in text.lower() for s in _SQLITE_DAMAGED):
                return LedgerError(f"{self.path}: the ledger file is damaged ({text}); {_SQLITE_ADVICE}")
            if "readonly" in text.lower() or "read-only" in text.lower():
                return LedgerError(
                    f"{self.path}: the ledger cannot be written ({text}); make the file and its folder "
                    "writable, or give another --ledger"
                )
            if "full" in text.lower():
                return LedgerError(f"{self.path}: the disk is full ({text}); free space and run again")
            return LedgerError(f"{self.path}: the ledger could not be read or written ({text})")
        return err

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    # -- setup -----------------------------------------------------------------------------------------------

    def _set_wal(self) -> None:
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as err:  # another process is creating the file right now
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if str(mode).lower() != "wal":
            raise LedgerError(f"{self.path}: could not switch the ledger to WAL mode (got {mode!r})")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path}: ledger schema version {version} is newer than this library "
                f"understands ({SCHEMA_VERSION}); upgrade sanctions"
            )

        def work() -> None:
            current = self._db.execute("PRAGMA user_version").fetchone()[0]
            if current == 0:
                tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if tables - {"entries", "sqlite_sequence", "audit_anchors"}:
                    raise LedgerError(f"{self.path}: this SQLite file holds other tables; it is not a ledger")
            for step, script in _SQLITE_MIGRATIONS:
                if step <= current:
                    continue
                for stmt in script.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute(f"PRAGMA user_version = {step}")

        self.atomic(work)

    def check(self) -> None:
        """Run ``PRAGMA integrity_check`` and the ledger's own invariants.

        Raises:
            LedgerError: naming what is wrong.
        """
        try:
            result = [r[0] for r in self._db.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as err:
            raise self._translate(err) from None
        if result != ["ok"]:
            raise LedgerError(
                f"{self.path}: SQLite integrity check failed: {'; '.join(result[:5])}; {_SQLITE_ADVICE}"
            )
        self._check_invariants()


_SQLITE_ADVICE = (
    "restore the ledger from a backup, or move it aside and start a new one "
    "(`check-transfer ledger export` copies what is still readable)"
)


def _from_micro(micro: int | Decimal | None) -> Decimal:
    d = Decimal(micro or 0).scaleb(-6)
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def _entry(r: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(
        id=r[0],
        cap_id=r[1],
        period=r[2],
        transfer_id=r[3],
        item_index=r[4],
        quantity=Decimal(r[5]),
        unit=r[6],
        original_value=Decimal(r[7]),
        original_unit=r[8],
        transfer_date=dt.date.fromisoformat(r[9]),
        content_hash=r[10],
        recorded_at=r[11],
        version=r[12],
        superseded_at=r[13],
        write_id=r[14],
    )
