"""Issue 16 item 24: every example in the README runs as shown.

* ``$ check-transfer ...`` transcripts are run from the repository root; every line shown (``...`` elides) must
  appear, in order, in what the command prints. The one substitution: ``lists update`` installs the shared copy
  of the UN list (``--from``) instead of downloading it, because tests have no network.
* Python blocks are run; the Dask block needs a cluster and an object store, so only its imports are checked.
* Command listings (no ``$``): every option a line names must be one the command offers (``--help``).
* Anything else must be named in :data:`NOT_RUN` with the reason, so a new example cannot go unchecked.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
import sys
from functools import cache

import pytest

from support import ROOT, SHARED

README = ROOT / "README.md"
UN_LIST = SHARED / "data" / "un_sc_consolidated_2026-05-08.xml"
NOT_RUN = {
    "sh": "make demo / make test: the suite itself (make test runs this test)",
    "yaml": "an excerpt of a rule file with '...' (every rule file is loaded and its examples run by "
            "tests/rulebook/test_rule_examples.py)",
    "dask": "needs a Dask cluster and an object store; its imports are checked",
}


def _blocks() -> list[tuple[str, str, int]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        out.append((m.group(1), m.group(2), text[: m.start()].count("\n") + 1))
    return out


def _kind(lang: str, body: str) -> str:
    if lang == "python":
        return "dask" if "dask" in body else "python"
    if lang in ("sh", "yaml"):
        return lang
    if re.search(r"^\$ check-transfer ", body, re.M):
        return "transcript"
    if re.search(r"^check-transfer ", body, re.M):
        return "listing"
    return "output"  # an excerpt of output, shown without its command


def test_item_24_every_readme_block_is_checked_or_named():
    kinds = [_kind(lang, body) for lang, body, _ in _blocks()]
    assert "transcript" in kinds and "listing" in kinds and "python" in kinds
    for kind in kinds:
        assert kind in ("transcript", "listing", "python", "output") or kind in NOT_RUN, kind


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("data")
    return dict(os.environ, SANCTIONS_DATA_DIR=str(data))


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sanctions.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          timeout=300)


def _words(text: str) -> str:
    return " ".join(text.split())


def _transcripts() -> list[tuple[int, str, list[str]]]:
    """(README line, command, lines shown after it)."""
    out = []
    for lang, body, line in _blocks():
        if _kind(lang, body) != "transcript":
            continue
        current: tuple[int, str, list[str]] | None = None
        for i, ln in enumerate(body.splitlines()):
            if ln.startswith("$ "):
                current = (line + 1 + i, ln[2:].split("  #")[0].strip(), [])
                out.append(current)
            elif current is not None and ln.strip():
                current[2].append(ln)
    return out


@pytest.mark.skipif(not UN_LIST.exists(), reason="the shared UN list edition is not available")
@pytest.mark.parametrize("where,command,shown", _transcripts(), ids=lambda v: str(v)[:40])
def test_item_24_readme_transcripts_run_as_shown(where, command, shown, env):
    args = shlex.split(command)
    assert args[0] == "check-transfer"
    if args[1:3] == ["lists", "update"]:
        args += ["--from", str(UN_LIST)]
    # Each transcript may rely on the ones before it (a list installed first).
    for cmd, extra in _setup_for(command):
        assert _run(cmd, env).returncode == 0, extra
    p = _run(args[1:], env)
    assert p.returncode in (0, 1), f"README line {where}: {command}\n{p.stderr.decode()}"
    actual = _words(p.stdout.decode())
    pos = 0
    for ln in shown:
        for part in (x.strip() for x in ln.split("...")):
            if not part:
                continue
            found = actual.find(_words(part), pos)
            assert found >= 0, f"README line {where}: {command!r} no longer prints {part!r}"
            pos = found + len(_words(part))


def _setup_for(command: str) -> list[tuple[list[str], str]]:
    if "lists update" in command or "--list" in command or "--no-screening" in command:
        return []
    return [(["lists", "update", "--from", str(UN_LIST)], "installing the list")]


def test_item_24_readme_python_examples_run(monkeypatch):
    ran = 0
    for lang, body, line in _blocks():
        kind = _kind(lang, body)
        if kind == "python":
            monkeypatch.chdir(ROOT)
            path = ROOT / "build" / f"readme_example_{line}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_text(body, encoding="utf-8")
            runpy.run_path(str(path), run_name="__main__")
            path.unlink()
            ran += 1
        elif kind == "dask":
            pytest.importorskip("dask.distributed")
            for stmt in re.findall(r"^(from \S+ import .+|import .+)$", body, re.M):
                exec(stmt, {})  # noqa: S102 - the README's own import lines
    assert ran >= 1


@cache
def _help(*words: str) -> str:
    p = subprocess.run([sys.executable, "-m", "sanctions.cli", *words, "--help"], cwd=ROOT, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, (words, p.stderr)
    return p.stdout.decode()


_GROUPS = {"lists": ("update", "show", "diff"), "ledger": ("show", "export", "import", "check"),
           "audit": ("verify", "replay", "head", "anchor", "keygen")}
_COMMANDS = ("check", "batch", "lists", "screen", "ledger", "audit", "schema", "rules")


def _listing_lines() -> list[tuple[int, str]]:
    out = []
    for lang, body, line in _blocks():
        if _kind(lang, body) in ("listing", "transcript"):
            for i, ln in enumerate(body.splitlines()):
                text = ln[2:] if ln.startswith("$ ") else ln
                if text.startswith("check-transfer "):
                    out.append((line + 1 + i, text.split("  #")[0].split(" (see ")[0]))
    return out


@pytest.mark.parametrize("where,line", _listing_lines(), ids=lambda v: str(v)[:40])
def test_item_24_readme_commands_name_only_options_that_exist(where, line):
    words = line.split()[1:]
    if "·" in line:  # 'lists update|show|diff · screen NAME · ...': each part names commands
        for part in line.split("·"):
            first = part.replace("check-transfer", "").split()[0]
            assert first in _COMMANDS or first == "COMMAND" or (first.startswith("--") and first in _help()), \
                (where, first)
        return
    command = words[0] if words and words[0] in _COMMANDS else "check"
    help_words = [command]
    if command in _GROUPS and len(words) > 1 and words[1] in _GROUPS[command]:
        help_words.append(words[1])
    text = _help(*help_words)
    for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line):
        assert option in text, f"README line {where}: {option} is not an option of check-transfer {' '.join(help_words)}"
