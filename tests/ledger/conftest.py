"""A real PostgreSQL server for the ledger and audit suites, and a fixture that runs a test on both backends.

The server is started once per test session (per xdist worker) by scripts/pg-test-server: initdb into a
temporary folder, a free localhost port, stopped at the end. ``SANCTIONS_TEST_PG_URL`` points the suite at a
server you run yourself instead. When no server can be started, the PostgreSQL cases fail in CI (``CI`` set)
and are skipped with the reason elsewhere: they are never run against a mock.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _server_module():
    loader = importlib.machinery.SourceFileLoader("pg_test_server", str(ROOT / "scripts" / "pg-test-server"))
    spec = importlib.util.spec_from_loader("pg_test_server", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class PgServer:
    """The session's server: its URL, a fresh schema per test, and a restart for the tests that need one."""

    def __init__(self, url: str, folder: str | None, module) -> None:
        self.url = url
        self.folder = folder
        self._mod = module

    def fresh(self) -> str:
        """A URL whose ledger is empty: a schema of its own."""
        return f"{self.url}?schema=t_{uuid.uuid4().hex[:16]}"

    def restart(self) -> None:
        """Restart the server (fast shutdown cuts every open connection)."""
        self._own()
        self._mod.restart(self.folder)

    def stop(self) -> None:
        self._own()
        self._mod.stop(self.folder)

    def start_again(self) -> None:
        """Start the stopped server again on the same port."""
        self._own()
        self._mod._pg_ctl(Path(self.folder), "start")

    def _own(self) -> None:
        if self.folder is None:
            pytest.skip("this test stops or restarts the server: not done to one given by SANCTIONS_TEST_PG_URL")


@pytest.fixture(scope="session")
def pg_server():
    mod = _server_module()
    given = os.environ.get("SANCTIONS_TEST_PG_URL")
    if given:
        yield PgServer(given, None, mod)
        return
    folder = tempfile.mkdtemp(prefix="sanctions-pg-")
    try:
        url = mod.start(folder)
        mod.wait_ready(url)
    except BaseException as err:  # SystemExit from install, RuntimeError from initdb/pg_ctl, ImportError
        shutil.rmtree(folder, ignore_errors=True)
        reason = f"no PostgreSQL test server: {type(err).__name__}: {err}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL suite)", pytrace=False)
        pytest.skip(reason + " (run scripts/pg-test-server install)")
    try:
        yield PgServer(url, folder, mod)
    finally:
        try:
            mod.stop(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """A factory of empty ledger targets (a file path or a postgresql:// URL), once per backend."""
    if request.param == "sqlite":
        counter = iter(range(10**6))
        return lambda: str(tmp_path / f"ledger-{next(counter)}.db")
    server = request.getfixturevalue("pg_server")
    return server.fresh


@pytest.fixture
def ledger(backend):
    from sanctions.ledger.backends import open_ledger

    with open_ledger(backend()) as led:
        yield led

