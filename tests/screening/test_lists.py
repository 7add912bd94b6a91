"""List management: update (download or file), install, current/previous, diff."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanctions.screening import lists
from sanctions.exc import ListError
from sanctions.screening.unlist import read
from support import SHARED as SHARED_ROOT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "lists" / "un_list_sample.xml"
SHARED = (SHARED_ROOT / "data")
REAL_NEW = SHARED / "un_sc_consolidated_2026-05-08.xml"
REAL_OLD = SHARED / "un_sc_consolidated_2026-01-28.xml"
needs_real = pytest.mark.skipif(not REAL_NEW.exists(), reason="real UN list files not available")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv(lists.DATA_DIR_ENV, str(d))
    return d


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving a directory; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "consolidated.xml").write_bytes(SAMPLE.read_bytes())
    (root / "broken.xml").write_bytes(SAMPLE.read_bytes()[:2000])
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_data_dir_env(data_dir: Path) -> None:
    assert lists.data_dir() == data_dir


def test_nothing_installed() -> None:
    assert lists.current() is None and lists.previous() is None
    assert lists.installed() == (None, None)


def test_update_from_local_server(server: str, data_dir: Path) -> None:
    ed = lists.update(f"{server}/consolidated.xml", min_entries=1)
    name = f"2026-03-01-{ed.sha256[:12]}.xml"
    assert ed.source == str(data_dir / "un" / name)
    assert (data_dir / "un" / name).read_bytes() == SAMPLE.read_bytes()
    manifest = json.loads((data_dir / "un" / "manifest.json").read_text())
    assert manifest["current"]["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert manifest["current"]["source"] == f"{server}/consolidated.xml"
    assert manifest["current"]["entries"] == 7 and manifest["previous"] is None
    cur = lists.current()
    assert cur is not None and cur.sha256 == ed.sha256 and len(cur) == 7
    assert not list((data_dir / "un").glob("*.tmp"))


def test_update_refuses_small_list_by_default(server: str) -> None:
    with pytest.raises(ListError, match="only 7 records, fewer than the 500"):
        lists.update(f"{server}/consolidated.xml")
    assert lists.current() is None


@pytest.mark.parametrize("path, message", [("/broken.xml", "not well-formed"), ("/missing.xml", "HTTP 404")])
def test_update_refuses_bad_downloads(server: str, path: str, message: str) -> None:
    with pytest.raises(ListError, match=message):
        lists.update(server + path, min_entries=1)
    assert lists.current() is None


def test_update_size_limit(server: str) -> None:
    with pytest.raises(ListError, match="byte limit"):
        lists.update(f"{server}/consolidated.xml", min_entries=1, max_bytes=1000)


def test_update_refuses_non_http_url() -> None:
    with pytest.raises(ListError, match="only http"):
        lists.update(SAMPLE.as_uri(), min_entries=1)


def test_unreachable_server() -> None:
    with pytest.raises(ListError, match="download failed"):
        lists.update("http://127.0.0.1:9/consolidated.xml", min_entries=1, timeout=2)


def test_failed_update_keeps_current(tmp_path: Path) -> None:
    first = lists.update(from_file=SAMPLE, min_entries=1)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<html>maintenance</html>")
    with pytest.raises(ListError):
        lists.update(from_file=bad, min_entries=1)
    cur = lists.current()
    assert cur is not None and cur.sha256 == first.sha256


def test_same_edition_twice_is_a_no_op(data_dir: Path) -> None:
    lists.update(from_file=SAMPLE, min_entries=1)
    before = (data_dir / "un" / "manifest.json").read_text()
    lists.update(from_file=SAMPLE, min_entries=1)
    assert (data_dir / "un" / "manifest.json").read_text() == before


def _edition_file(tmp_path: Path, generated: str, name: str) -> Path:
    data = SAMPLE.read_bytes().replace(b'dateGenerated="2026-03-01T12:00:00.000Z"', f'dateGenerated="{generated}"'.encode())
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_update_keeps_previous_and_prunes_older(tmp_path: Path, data_dir: Path) -> None:
    a = lists.update(from_file=_edition_file(tmp_path, "2026-01-01T00:00:00Z", "a.xml"), min_entries=1)
    b = lists.update(from_file=_edition_file(tmp_path, "2026-02-01T00:00:00Z", "b.xml"), min_entries=1)
    cur, prev = lists.installed()
    assert cur is not None and prev is not None
    assert (cur.sha256, prev.sha256) == (b.sha256, a.sha256)
    prev_ed = lists.previous()
    assert prev_ed is not None and prev_ed.sha256 == a.sha256
    c = lists.update(from_file=_edition_file(tmp_path, "2026-03-01T00:00:00Z", "c.xml"), min_entries=1)
    files = sorted(p.name for p in (data_dir / "un").glob("*.xml"))
    assert files == sorted([f"2026-02-01-{b.sha256[:12]}.xml", f"2026-03-01-{c.sha256[:12]}.xml"])


def test_update_refuses_older_edition(tmp_path: Path) -> None:
    lists.update(from_file=_edition_file(tmp_path, "2026-02-01T00:00:00Z", "new.xml"), min_entries=1)
    older = _edition_file(tmp_path, "2026-01-01T00:00:00Z", "old.xml")
    with pytest.raises(ListError, match="older than the installed one"):
        lists.update(from_file=older, min_entries=1)
    ed = lists.update(from_file=older, min_entries=1, allow_older=True)
    cur = lists.current()
    assert cur is not None and cur.sha256 == ed.sha256


def test_tampered_file_is_refused(data_dir: Path) -> None:
    ed = lists.update(from_file=SAMPLE, min_entries=1)
    Path(ed.source).write_bytes(SAMPLE.read_bytes().replace(b"PAK", b"PAQ"))
    with pytest.raises(ListError, match="does not match its manifest"):
        lists.current()


def test_damaged_manifest(data_dir: Path) -> None:
    lists.update(from_file=SAMPLE, min_entries=1)
    (data_dir / "un" / "manifest.json").write_text("{not json")
    with pytest.raises(ListError, match="not valid JSON"):
        lists.current()


def test_diff_on_sample_edits(tmp_path: Path) -> None:
    old = read(SAMPLE)
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("<ALIAS_NAME>Mr. Park</ALIAS_NAME>", "<ALIAS_NAME>Mr. Pak</ALIAS_NAME>")
    text = text.replace("<REFERENCE_NUMBER>KPe.903</REFERENCE_NUMBER>", "<REFERENCE_NUMBER>KPe.904</REFERENCE_NUMBER>")
    text = text.replace("<DATAID>9000902</DATAID>", "<DATAID>1</DATAID>")  # internal id: not a change
    p = tmp_path / "edited.xml"
    p.write_text(text, encoding="utf-8")
    d = lists.diff(old, read(p))
    assert d.to_dict() == {"added": ["KPe.904"], "removed": ["KPe.903"], "changed": {"KPi.901": ["aliases"]}}
    assert d.summary() == "1 added, 1 removed, 1 changed"
    assert not lists.diff(old, old)


@needs_real
def test_diff_of_the_two_real_editions() -> None:
    d = lists.diff(lists.load(REAL_OLD), lists.load(REAL_NEW))
    added = [e.reference_number for e in d.added]
    assert added == ["QDi.437", "QDi.438", "QDi.439"] + [f"SDi.{n:03d}" for n in range(7, 15)]
    assert [e.reference_number for e in d.removed] == ["QDe.137"]
    changed = {c.reference_number: c for c in d.changed}
    # The DPRK records did not change between these editions except where the list itself edited them.
    assert all(c.fields for c in d.changed)
    assert "comments" in changed["CDe.001"].fields


@needs_real
def test_update_with_the_real_list(data_dir: Path) -> None:
    old = lists.update(from_file=REAL_OLD)
    new = lists.update(from_file=REAL_NEW)
    assert (len(old), len(new)) == (999, 1009)
    cur, prev = lists.installed()
    assert cur is not None and prev is not None
    assert cur.file == "2026-05-08-" + new.sha256[:12] + ".xml"
    assert prev.file == "2026-01-28-" + old.sha256[:12] + ".xml"


@pytest.mark.parametrize("ahead, refused", [
    (dt.timedelta(days=2, hours=-1), False),
    (dt.timedelta(days=2, hours=12), True),   # "more than 2 days" once let nearly 3 days through
    (dt.timedelta(days=30), True),
])
def test_an_edition_more_than_two_days_ahead_is_in_the_future(ahead, refused) -> None:
    when = dt.datetime.now(dt.timezone.utc) + ahead
    assert lists._in_the_future(when) is refused
    assert lists._in_the_future(when.replace(tzinfo=None)) is refused  # a dateGenerated without a zone is UTC


def test_timestamps_with_and_without_a_zone_compare() -> None:
    naive = dt.datetime(2026, 5, 8, 12, 0)
    aware = dt.datetime(2026, 5, 8, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 11:00 UTC
    assert lists._utc(aware) < lists._utc(naive)
