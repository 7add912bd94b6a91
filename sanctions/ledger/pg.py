"""The PostgreSQL cap ledger: the same ledger as :class:`sanctions.ledger.store.Ledger`, on a server a team shares.

Open it with :func:`sanctions.ledger.backends.open_ledger` and a ``postgresql://user@host:port/db`` URL (the
password is best left to ``PGPASSWORD`` or ``~/.pgpass``, so it is not on a command line). The tables live in
their own schema, ``sanctions`` unless the URL says ``?schema=NAME``, created with the schema's versioned
migrations on first use (under an advisory lock, so several first users cannot race).

Isolation: transactions run at READ COMMITTED, and every total read inside :meth:`PgLedger.atomic` first takes a
transaction-scoped advisory lock for its cap and period (``pg_advisory_xact_lock``); a recording takes the locks
of its caps and periods, then of its transfer ids, in one sorted order. A second recorder of the same cap and
period therefore waits until the first commits, and its own read (a fresh snapshot per statement at READ
COMMITTED) sees the first one's lines: an assessment and its recording are one step. Serialisation failures and
deadlocks are retried; a lost connection (a server restart) is re-opened for up to ``reconnect_timeout``
seconds and the whole transaction runs again, which is safe because recording is idempotent by transfer id and
content hash.

Requires psycopg 3 (``pip install 'sanctions[postgres]'``).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sanctions.exc import FieldProblem, InvalidInput, LedgerError
from sanctions.ledger.store import LedgerBackend, redact

__all__ = ["PG_SCHEMA_VERSION", "PgLedger", "split_url"]

_MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE entries (
    id             BIGSERIAL PRIMARY KEY,
    cap_id         TEXT    NOT NULL,
    period         TEXT    NOT NULL,
    transfer_id    TEXT    NOT NULL,
    item_index     INTEGER NOT NULL CHECK (item_index >= 0),
    quantity       TEXT    NOT NULL,
    quantity_micro BIGINT  NOT NULL CHECK (quantity_micro >= 0),
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
CREATE UNIQUE INDEX entries_current ON entries (transfer_id, cap_id, item_index) WHERE superseded_at IS NULL;
CREATE INDEX entries_cap_period ON entries (cap_id, period) WHERE superseded_at IS NULL;
CREATE INDEX entries_transfer ON entries (transfer_id);
""",
    ),
    (
        2,
        """
CREATE TABLE audit_anchors (
    id          BIGSERIAL PRIMARY KEY,
    log_id      TEXT   NOT NULL,
    seq         BIGINT NOT NULL,
    entry_hash  TEXT   NOT NULL,
    mac         TEXT,
    anchored_at TEXT   NOT NULL
);
CREATE INDEX audit_anchors_log ON audit_anchors (log_id, seq);
""",
    ),
    (
        3,
        """
CREATE TABLE audit_log (
    seq  BIGINT PRIMARY KEY CHECK (seq > 0),
    line TEXT   NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    line TEXT    NOT NULL
);
""",
    ),
)
PG_SCHEMA_VERSION = _MIGRATIONS[-1][0]
"""The PostgreSQL schema's version (table ``schema_migrations``)."""

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def split_url(url: str) -> tuple[str, str]:
    """The libpq URL without our ``schema`` parameter, and the schema name (default ``sanctions``).

    Raises:
        InvalidInput: for a schema name that is not a plain lower-case identifier.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "sanctions"
    kept = []
    for k, v in query:
        if k == "schema":
            schema = v
        else:
            kept.append((k, v))
    if not _SCHEMA_NAME.match(schema):
        raise InvalidInput(
            f"not a schema name: {schema!r}",
            problems=[FieldProblem("schema", "expected a lower-case identifier", schema, "e.g. ?schema=sanctions")],
        )
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


def _describe(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{host}{port}{parts.path or '/'}"


class PgLedger(LedgerBackend):
    """A cap ledger in a PostgreSQL database; one connection, so open one per process or thread.

    Args:
        url: ``postgresql://user@host:port/db`` (``?schema=NAME`` picks the schema; default ``sanctions``).
        connect_timeout: Seconds to wait for the server when connecting.
        reconnect_timeout: Seconds to keep trying when the connection is lost mid-run (a server restart)
            before giving up with :class:`~sanctions.exc.LedgerError`.
        notify: Called with a sentence when the connection is lost and when it is back (the CLI prints it).

    Raises:
        LedgerError: when the server cannot be reached (saying what to check), or its schema is newer than
            this library.
    """

    backend = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 10.0,
        reconnect_timeout: float = 60.0,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                "a PostgreSQL ledger needs psycopg 3: pip install 'sanctions[postgres]'"
            ) from None
        self._pg = psycopg
        self.url, self.schema = split_url(url)
        self.where = _describe(self.url) + (f"?schema={self.schema}" if self.schema != "sanctions" else "")
        self.connect_timeout = connect_timeout
        self.reconnect_timeout = reconnect_timeout
        self.notify = notify
        self._conn: Any = None
        self._connect()
        self._migrate()

    # -- connection ------------------------------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self._conn = self._pg.connect(
                self.url,
                autocommit=True,
                connect_timeout=max(1, int(self.connect_timeout)),
                options=f"-c search_path={self.schema}",
            )
        except self._pg.Error as err:
            raise LedgerError(
                f"cannot connect to the PostgreSQL ledger at {self.where}: {_first_line(err)}. Check that the "
                "server is running and accepts connections, and the URL (--ledger, or $SANCTIONS_LEDGER; "
                "the password from PGPASSWORD or ~/.pgpass)"
            ) from None

    def _lost(self, err: BaseException) -> bool:
        conn = self._conn
        return isinstance(err, self._pg.OperationalError) and (conn is None or conn.closed or conn.broken)

    def _reconnect(self, err: BaseException) -> None:
        self._say(f"ledger: connection to {self.where} lost ({_first_line(err)}); reconnecting")
        try:
            if self._conn is not None:
                self._conn.close()
        except Exception:
            pass
        deadline = time.monotonic() + self.reconnect_timeout
        while True:
            try:
                self._connect()
            except LedgerError as failure:
                if time.monotonic() > deadline:
                    raise LedgerError(
                        f"{failure}; gave up after {self.reconnect_timeout:g} s. Nothing half-written was kept: "
                        "run the same command again once the server is back (recording is idempotent)"
                    ) from None
                time.sleep(0.2)
                continue
            self._say(f"ledger: reconnected to {self.where}; repeating the interrupted transaction")
            return

    def _say(self, text: str) -> None:
        if self.notify is not None:
            self.notify(text)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()

    def __enter__(self) -> PgLedger:
        return self

    # -- primitives ------------------------------------------------------------------------------------------

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), tuple(args))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def _begin(self) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            raise self._pg.OperationalError("the connection is closed")
        # READ COMMITTED on purpose: each statement's snapshot is taken after the advisory lock it waited for
        self._conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.execute("ROLLBACK")

    def _lock(self, key: str) -> None:
        self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.schema}:{key}",))

    def _retry(self, err: BaseException, attempt: int) -> bool:
        errors = self._pg.errors
        if isinstance(err, errors.SerializationFailure | errors.DeadlockDetected) and attempt < 50:
            time.sleep(random.uniform(0, min(0.2, 0.002 * 2**min(attempt, 7))))
            return True
        if self._lost(err) and attempt < 20:  # a server that drops every connection is not coming back
            self._reconnect(err)
            return True
        return False

    def _translate(self, err: BaseException) -> BaseException:
        if not isinstance(err, self._pg.Error):
            return err
        errors = self._pg.errors
        text = _first_line(err)
        if isinstance(err, errors.DiskFull):
            return LedgerError(f"{self.where}: the database server's disk is full ({text}); free space and run again")
        if isinstance(err, errors.ReadOnlySqlTransaction):
            return LedgerError(f"{self.where}: the database is read-only ({text}); connect to the primary server")
        if isinstance(err, errors.InsufficientPrivilege):
            return LedgerError(
                f"{self.where}: permission denied ({text}); the user needs CREATE on the database (first use) "
                f"and read/write on schema {self.schema}"
            )
        return LedgerError(f"{self.where}: the ledger could not be read or written ({type(err).__name__}: {text})")

    def _after_import(self) -> None:
        for table in ("entries", "audit_anchors"):
            self._exec(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1), "
                f"(SELECT COUNT(*) > 0 FROM {table}))"
            )

    # -- schema ----------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        def work() -> None:
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('sanctions-migrate', 0))")
            self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
            if current > PG_SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.where}: ledger schema version {current} is newer than this library understands "
                    f"({PG_SCHEMA_VERSION}); upgrade sanctions"
                )
            for step, script in _MIGRATIONS:
                if step <= current:
                    continue
                self._conn.execute(script)
                self._conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (step,))

        self.atomic(work)

    def schema_version(self) -> int:
        """The schema version applied in this database."""
        return int(self._read("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0])


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return redact(text.splitlines()[0])
