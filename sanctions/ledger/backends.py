"""Opening a ledger by what the user gave: a ``postgresql://`` URL or the path of an SQLite file.

Kept apart from :mod:`sanctions.ledger.store` (the shared SQL and the SQLite backend) and
:mod:`sanctions.ledger.pg` (PostgreSQL), which both import the store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sanctions.exc import FieldProblem, InvalidInput
from sanctions.ledger.store import Ledger, LedgerBackend, is_postgres_url, is_url, redact

__all__ = ["open_ledger"]


def open_ledger(target: str | os.PathLike[str], **options: Any) -> LedgerBackend:
    """Open the ledger named by ``target``: a ``postgresql://`` URL, or the path of an SQLite file.

    A value that looks like a URL never becomes a file: an unknown scheme is refused.

    Args:
        target: ``postgresql://user@host:port/db`` (libpq URL; the password may come from ``PGPASSWORD`` or
            ``~/.pgpass``), ``sqlite:///abs/path.db``, or a file path.
        options: Passed to the backend that takes them (SQLite: ``busy_timeout``, ``synchronous``;
            PostgreSQL: ``connect_timeout``, ``reconnect_timeout``, ``notify``); the other's are ignored.

    Raises:
        InvalidInput: for a URL of another scheme.
        LedgerError: when the ledger cannot be opened (naming what to do).
    """
    if is_postgres_url(target):
        from sanctions.ledger.pg import PgLedger

        return PgLedger(str(target), **{k: v for k, v in options.items() if k in _PG_OPTIONS})
    if is_url(target):
        text = str(target)
        if text.lower().startswith("sqlite:///"):
            return Ledger(text[len("sqlite://") :], **_sqlite_options(options))
        raise InvalidInput(
            f"unsupported ledger URL {redact(text)!r}",
            problems=[
                FieldProblem(
                    "ledger",
                    "unsupported URL scheme",
                    redact(text),
                    "use postgresql://user@host/db, sqlite:///path or a file path",
                )
            ],
        )
    return Ledger(target, **_sqlite_options(options))


_PG_OPTIONS = ("connect_timeout", "reconnect_timeout", "notify")


def _sqlite_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in ("busy_timeout", "synchronous")}
