"""Files: ``check-transfer --out PATH`` replaces the report atomically; a killed run leaves the old one whole.

List downloads are verified before they replace the previous edition: ``tests/screening/test_lists.py``
(``test_update_refuses_bad_downloads``, ``test_failed_update_keeps_current``, ``test_tampered_file_is_refused``).
Batch outputs commit whole chunks under a checkpoint: ``tests/robustness/test_batch_resume.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from support import FIXTURES, ROOT, run_cli

FOUNDING = str(FIXTURES / "dprk_russia_arms_for_oil.json")


def test_out_writes_what_stdout_would_show(tmp_path):
    out = tmp_path / "report.txt"
    p = run_cli(FOUNDING, "--no-screening", "--format", "json", "--out", str(out))
    assert p.returncode == 1 and p.stdout == b""
    q = run_cli(FOUNDING, "--no-screening", "--format", "json")
    assert out.read_bytes() == q.stdout
    assert [f.name for f in tmp_path.iterdir()] == ["report.txt"]  # no temporary file left behind


def test_out_to_an_unwritable_place_is_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = run_cli(FOUNDING, "--no-screening", "--out", str(blocker / "report.txt"))
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert b"report.txt" in p.stderr or b"file" in p.stderr


def test_killed_run_leaves_the_previous_report_whole(tmp_path):
    src = tmp_path / "in.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "3000", str(src), "--seed", "3"],
                   check=True, capture_output=True)
    out = tmp_path / "report.jsonl"
    out.write_text("the previous report\n")
    proc = subprocess.Popen([sys.executable, "-m", "sanctions.cli", str(src), "--format", "jsonl", "--no-screening",
                             "--evaluator", "reference", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.5)  # well into judging: the report is only written at the end
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert out.read_text() == "the previous report\n"
