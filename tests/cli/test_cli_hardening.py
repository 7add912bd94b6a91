"""Issue 16: ``check-transfer`` as a careless user or an attacker would run it (items 5, 10, 12, 13, 15, 17, 19,
20, 21, 22). Each test is named after its item and failed before the fix."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from support import FIXTURES, ROOT, run_cli

FOUNDING = str(FIXTURES / "dprk_russia_arms_for_oil.json")
SAMPLE_LIST = ROOT / "fixtures" / "lists" / "un_list_sample.xml"
GOOD = {
    "id": "t-1", "date": "2024-01-15", "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    "items": [{"description": "Lathes", "hs_code": "845811"}],
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("SANCTIONS_DATA_DIR", str(d))
    return d


def _err(p: subprocess.CompletedProcess) -> str:
    return p.stderr.decode()


# -- item 5: --out to a device node or /dev/null ----------------------------------------------------------------


def test_item_5_out_to_dev_null_leaves_the_device_alone():
    before = os.stat("/dev/null")
    p = run_cli(FOUNDING, "--no-screening", "--out", "/dev/null")
    assert p.returncode == 1, _err(p)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_item_5_out_to_a_device_node_writes_to_it_never_renames_over_it(tmp_path):
    node = tmp_path / "full"
    full = os.stat("/dev/full")
    os.mknod(node, 0o666 | stat.S_IFCHR, full.st_rdev)  # a copy of /dev/full
    p = run_cli(FOUNDING, "--no-screening", "--out", str(node))
    assert p.returncode == 2 and "No space left on device" in _err(p)
    assert stat.S_ISCHR(os.stat(node).st_mode), "the device was replaced by a regular file"
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    assert run_cli(FOUNDING, "--no-screening", "--out", str(null)).returncode == 1
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["full", "null"]  # no temporary file left behind


def test_item_5_out_to_a_fifo_writes_into_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        p = run_cli(FOUNDING, "--no-screening", "--format", "json", "--out", str(fifo))
        if reader.poll() is None and p.returncode != 1:
            with open(fifo, "wb"):  # the run failed before writing: let the reader finish
                pass
        data, _ = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert p.returncode == 1 and json.loads(data)["verdict"] == "prohibited"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# -- item 10: lists from the future, a misleading message, a damaged manifest ----------------------------------


def _list_with_date(tmp_path: Path, date: str) -> Path:
    text = SAMPLE_LIST.read_text(encoding="utf-8").replace('dateGenerated="2026-03-01T12:00:00.000Z"',
                                                           f'dateGenerated="{date}"')
    path = tmp_path / f"list-{date[:10]}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_item_10_a_list_generated_9999_12_31_is_refused_and_blocks_nothing(tmp_path, data_dir):
    from sanctions.exc import ListError
    from sanctions.screening import lists

    with pytest.raises(ListError, match="is in the future"):
        lists.update(from_file=_list_with_date(tmp_path, "9999-12-31T00:00:00Z"), min_entries=1)
    assert lists.current() is None
    lists.update(from_file=_list_with_date(tmp_path, "2026-03-01T12:00:00Z"), min_entries=1)
    # a future edition installed by an older version must not block the real ones either
    manifest = data_dir / "un" / "manifest.json"
    m = json.loads(manifest.read_text())
    m["current"]["generated"] = "9999-12-31T00:00:00+00:00"
    manifest.write_text(json.dumps(m))
    ed = lists.update(from_file=_list_with_date(tmp_path, "2026-04-01T12:00:00Z"), min_entries=1)
    assert ed.generated.date().isoformat() == "2026-04-01"


def test_item_10_older_edition_message_names_an_option_that_exists(tmp_path):
    from sanctions.exc import ListError
    from sanctions.screening import lists

    lists.update(from_file=_list_with_date(tmp_path, "2026-04-01T12:00:00Z"), min_entries=1)
    with pytest.raises(ListError, match="--allow-older") as err:
        lists.update(from_file=_list_with_date(tmp_path, "2026-03-01T12:00:00Z"), min_entries=1)
    assert "lists update --allow-older" in str(err.value)
    help_text = run_cli("lists", "update", "--help").stdout.decode()
    assert "--allow-older" in help_text


def test_item_10_a_damaged_manifest_does_not_block_updates(tmp_path, data_dir):
    from sanctions.screening import lists

    lists.update(from_file=_list_with_date(tmp_path, "2026-03-01T12:00:00Z"), min_entries=1)
    for damage in ("{not json", "[]", '{"current": {"file": 5}}'):
        (data_dir / "un" / "manifest.json").write_text(damage)
        ed = lists.update(from_file=_list_with_date(tmp_path, "2026-04-01T12:00:00Z"), min_entries=1)
        assert lists.current().sha256 == ed.sha256


# -- item 12: terminal escape sequences ---------------------------------------------------------------------


def test_item_12_escape_sequences_in_names_and_descriptions_are_neutralised(tmp_path):
    evil = json.loads(json.dumps(GOOD))
    evil["supplier"]["name"] = "A\x1b]0;owned\x07 Corp\x1b[2J"
    evil["items"][0]["description"] = "Lathes\x1b[31m red \u202eevil\x9b"
    src = tmp_path / "evil.json"
    src.write_text(json.dumps(evil))
    p = run_cli(str(src), "--no-screening")
    out = p.stdout.decode()
    assert p.returncode == 1, _err(p)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\x9b" not in out
    assert "\\x1b[31m" in out and "\\u202e" in out  # shown, not obeyed
    assert "\x1b" in json.loads(run_cli(str(src), "--no-screening", "--format", "json").stdout)["findings"][0][
        "explanation"]  # JSON keeps the data as given (it is escaped by JSON itself)


# -- item 13 and 19: screen --file --------------------------------------------------------------------------


def test_item_13_and_19_screen_file_missing_folder_or_not_utf8_exits_2(tmp_path):
    latin = tmp_path / "names.txt"
    latin.write_bytes("Kim Jong Un\nM\xfcller\n".encode("latin-1"))
    cases = [(str(tmp_path / "nope.txt"), "no such file"), (str(tmp_path), "is a folder"),
             (str(latin), "not UTF-8 text")]
    for path, message in cases:
        p = run_cli("screen", "--file", path, "--list", str(SAMPLE_LIST))
        assert p.returncode == 2 and message in _err(p), (path, _err(p))
        assert "internal error" not in _err(p)


# -- items 15 and 20: real subparsers ------------------------------------------------------------------------


def test_item_15_each_command_shows_its_own_help():
    for cmd, own, other in (("lists", "check-transfer lists", "NAME"), ("audit", "check-transfer audit", "show"),
                            ("ledger", "check-transfer ledger", "replay"), ("screen", "check-transfer screen",
                                                                            "update|show|diff"),
                            ("batch", "check-transfer batch", "--ledger")):
        p = run_cli(cmd, "--help")
        out = p.stdout.decode()
        assert p.returncode == 0 and out.startswith(f"usage: {own}"), (cmd, out)
        assert other not in out.split("\n")[0], (cmd, out)
    top = run_cli("--help").stdout.decode()
    for cmd in ("check", "batch", "lists", "screen", "ledger", "audit", "schema", "rules"):
        assert cmd in top


def test_item_20_screen_update_screens_the_name_update(tmp_path):
    p = run_cli("screen", "update", "--list", str(SAMPLE_LIST), "--format", "json")
    assert p.returncode in (0, 1), _err(p)
    assert list(json.loads(p.stdout)) == ["update"]


def test_item_20_version_answers_with_the_version():
    from sanctions import __version__

    p = run_cli("--version")
    assert p.returncode == 0 and p.stdout.decode().strip() == f"check-transfer (sanctions) {__version__}"


def test_item_20_a_missing_optional_dependency_is_named(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nclass _B:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'rapidfuzz' or name.startswith('rapidfuzz.'):\n"
        "            raise ModuleNotFoundError('blocked', name=name)\n"
        "sys.meta_path.insert(0, _B())\n")
    p = run_cli("screen", "Kim", "--list", str(SAMPLE_LIST), env=dict(os.environ, PYTHONPATH=str(blocker)))
    assert p.returncode == 2, _err(p)
    assert "optional package rapidfuzz" in _err(p) and "not available in this version" not in _err(p)


# -- item 17: an output that is one of the inputs -----------------------------------------------------------


def test_item_17_output_that_is_an_input_is_refused(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(GOOD))
    before = src.read_bytes()
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(GOOD, id="t-2")))
    for args in ((str(src), "--out", str(src)), (str(other), str(src), "--out", str(src)),
                 (str(src), "--out", str(tmp_path / "." / "in.json"))):
        p = run_cli(*args, "--no-screening")
        assert p.returncode == 2 and "would destroy it" in _err(p), _err(p)
        assert src.read_bytes() == before


# -- item 21: hints where a user is most likely wrong ---------------------------------------------------------


def test_item_21_hints_for_dates_units_categories_and_screen(tmp_path):
    t = json.loads(json.dumps(GOOD))
    cases = [
        (dict(t, date="01/02/2024"), "use YYYY-MM-DD: '01/02/2024' is '2024-02-01' or '2024-01-02'"),
        ({**t, "items": [{"description": "Diesel", "hs_code": "271019",
                          "quantity": {"value": 10, "unit": "tons"}}]}, "did you mean 'tonnes'?"),
        ({**t, "items": [{"description": "Diesel", "category": "refined_petrolium"}]},
         "did you mean 'refined_petroleum'?"),
    ]
    for record, hint in cases:
        src = tmp_path / "in.json"
        src.write_text(json.dumps(record))
        p = run_cli(str(src), "--no-screening")
        assert p.returncode == 2 and hint in _err(p), _err(p)
        assert "unroca_i_battle_tanks" not in _err(p)  # the nearest names, not all fifty
    p = run_cli(FOUNDING, "--as-of", "15.03.2024")
    assert p.returncode == 2 and "use YYYY-MM-DD, e.g. '2024-03-15'" in _err(p)
    p = run_cli("screen", "", "--list", str(SAMPLE_LIST))
    assert p.returncode == 2 and "empty NAME" in _err(p)
    p = run_cli("screen", "Kim", "--country", "Korea", "--list", str(SAMPLE_LIST))
    assert p.returncode == 2 and "not an ISO 3166-1 alpha-2 country code: 'Korea'" in _err(p)


# -- item 22: --out refuses a missing folder and follows the umask --------------------------------------------


def test_item_22_out_refuses_a_missing_folder(tmp_path):
    p = run_cli(FOUNDING, "--no-screening", "--out", str(tmp_path / "no" / "such" / "report.txt"))
    assert p.returncode == 2 and "does not exist; create it first" in _err(p)
    assert not (tmp_path / "no").exists()


def test_item_22_out_follows_the_umask(tmp_path):
    out = tmp_path / "report.txt"
    code = ("import os, sys; os.umask(0o027); from sanctions.cli.main import main; "
            f"sys.exit(main([{FOUNDING!r}, '--no-screening', '--out', {str(out)!r}]))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert p.returncode == 1, p.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    os.chmod(out, 0o604)  # a report that exists keeps its mode when replaced
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o604
