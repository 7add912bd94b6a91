"""Ledger benchmark, both backends in one run: recording latency, total-query latency, 8 concurrent recorders.

    python bench/ledger.py --out /tmp/ledger-bench.json          # starts a throw-away PostgreSQL server
    python bench/ledger.py --pg postgresql://me@host/db --out ...  # or measures a server you name

For each backend (SQLite with ``synchronous=FULL``, the default, and PostgreSQL): the ledger is filled with
``--lines`` lines; then ``record()`` of one transfer (one transaction: lock, read, insert, commit) and
``total()`` of one cap and period are timed ``--samples`` times each; then ``--recorders`` processes each
record ``--per-recorder`` transfers into the same cap and period at once (every record takes that cap's
lock), and the throughput is the lines recorded divided by the wall time. ``bench/run.py`` calls :func:`run`.
Results go to ``--out`` only; nothing tracked is rewritten.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sanctions.ledger.backends import open_ledger  # noqa: E402
from sanctions.ledger.store import LedgerLine  # noqa: E402

CAP = "dprk.refined_petroleum.2397"

_RECORDER = """
import sys, time
sys.path.insert(0, {root!r})
from decimal import Decimal
from sanctions.ledger.backends import open_ledger
from sanctions.ledger.store import LedgerLine
target, w, n, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
with open_ledger(target) as led:
    while time.time() < start:
        time.sleep(0.001)
    for i in range(n):
        led.record({{"id": f"c{{w}}-{{i}}", "date": "2024-03-01"}},
                   [LedgerLine({cap!r}, "2024", 0, Decimal(10), "barrels", Decimal(10), "barrels")])
"""


def _ms(samples: list[float]) -> dict[str, float]:
    xs = sorted(s * 1000 for s in samples)
    return {"median_ms": round(statistics.median(xs), 3), "p95_ms": round(xs[int(0.95 * (len(xs) - 1))], 3),
            "mean_ms": round(statistics.fmean(xs), 3)}


def _time(fn: Callable[[], Any], n: int) -> dict[str, float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return _ms(out)


def _line(q: int, period: str = "2024") -> LedgerLine:
    return LedgerLine(CAP, period, 0, Decimal(q), "barrels", Decimal(q), "barrels")


def measure(target: str, *, lines: int, samples: int, recorders: int, per_recorder: int) -> dict[str, Any]:
    """Figures for one backend (an empty ledger at ``target``)."""
    with open_ledger(target) as led:
        backend = led.backend
        done = 0
        while done < lines:
            batch = [({"id": f"f{k}", "date": f"20{10 + k % 10}-06-01"}, [_line(1, f"20{10 + k % 10}")])
                     for k in range(done, min(lines, done + 1000))]
            led.record_many(batch)
            done += len(batch)
        counter = iter(range(10**9))
        record = _time(lambda: led.record({"id": f"r{next(counter)}", "date": "2024-03-01"}, [_line(5)]), samples)
        total = _time(lambda: led.total(CAP, "2024"), samples)
        # an assessment and its recording in one transaction, as check-transfer --ledger does it
        judged = _time(lambda: led.atomic(lambda: (led.total(CAP, "2024"), led.record(
            {"id": f"j{next(counter)}", "date": "2024-03-01"}, [_line(5)]))), samples)
        before = led.count(CAP, "2024")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "recorder.py"
        script.write_text(_RECORDER.format(root=str(ROOT), cap=CAP))
        start = time.time() + 3.0  # every recorder has connected before the clock starts
        procs = [subprocess.Popen([sys.executable, str(script), target, str(w), str(per_recorder), str(start)])
                 for w in range(recorders)]
        codes = [p.wait() for p in procs]
        wall = time.time() - start
    with open_ledger(target) as led:
        added = led.count(CAP, "2024") - before
    return {
        "backend": backend,
        "lines_before": lines,
        "record_one": record,
        "total_query": total,
        "assess_and_record": judged,
        "concurrent": {"recorders": recorders, "records_each": per_recorder, "lines_recorded": added,
                       "expected": recorders * per_recorder, "exit_codes": sorted(set(codes)),
                       "seconds": round(wall, 2), "records_per_second": round(added / wall, 1) if wall else None},
    }


def _pg_server(folder: str) -> str:
    loader = importlib.machinery.SourceFileLoader("pg_test_server", str(ROOT / "scripts" / "pg-test-server"))
    spec = importlib.util.spec_from_loader("pg_test_server", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    url = mod.start(folder)
    mod.wait_ready(url)
    return str(url)


def _pg_stop(folder: str) -> None:
    loader = importlib.machinery.SourceFileLoader("pg_test_server", str(ROOT / "scripts" / "pg-test-server"))
    spec = importlib.util.spec_from_loader("pg_test_server", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    mod.stop(folder)


def run(*, pg_url: str | None = None, lines: int = 10_000, samples: int = 200, recorders: int = 8,
        per_recorder: int = 250) -> dict[str, Any]:
    """Both backends, same workload; a throw-away PostgreSQL server is started when ``pg_url`` is None."""
    out: dict[str, Any] = {"workload": {"lines": lines, "samples": samples, "recorders": recorders,
                                        "records_each": per_recorder}}
    with tempfile.TemporaryDirectory() as tmp:
        print("ledger: sqlite ...", file=sys.stderr)
        out["sqlite"] = measure(str(Path(tmp) / "bench.db"), lines=lines, samples=samples, recorders=recorders,
                                per_recorder=per_recorder)
    folder = None
    try:
        if pg_url is None:
            folder = tempfile.mkdtemp(prefix="sanctions-bench-pg-")
            pg_url = _pg_server(folder)
            out["postgresql_server"] = "throw-away local server (scripts/pg-test-server: fsync=off)"
        else:
            out["postgresql_server"] = "given with --pg"
        print("ledger: postgresql ...", file=sys.stderr)
        sep = "&" if "?" in pg_url else "?"
        out["postgresql"] = measure(f"{pg_url}{sep}schema=bench_{uuid.uuid4().hex[:8]}", lines=lines,
                                    samples=samples, recorders=recorders, per_recorder=per_recorder)
    except Exception as err:  # no server here: say so in the results rather than drop the SQLite figures
        out["postgresql"] = {"status": f"not measured ({type(err).__name__}: {err})"}
    finally:
        if folder is not None:
            try:
                _pg_stop(folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    return out


def print_table(res: dict[str, Any]) -> None:
    """The figures as a small table."""
    print(f"{'ledger':38s}{'sqlite':>14s}{'postgresql':>14s}")
    rows = [("record one transfer, median ms", "record_one", "median_ms"),
            ("record one transfer, p95 ms", "record_one", "p95_ms"),
            ("total() query, median ms", "total_query", "median_ms"),
            ("total() query, p95 ms", "total_query", "p95_ms"),
            ("assess + record (one txn), median ms", "assess_and_record", "median_ms")]
    for label, k, f in rows:
        cells = [res.get(b, {}).get(k, {}).get(f) for b in ("sqlite", "postgresql")]
        print(f"{label:38s}" + "".join(f"{c:>14}" if c is not None else f"{'-':>14s}" for c in cells))
    cells = [res.get(b, {}).get("concurrent", {}).get("records_per_second") for b in ("sqlite", "postgresql")]
    n = res["workload"]["recorders"]
    print(f"{f'{n} concurrent recorders, records/s':38s}"
          + "".join(f"{c:>14}" if c is not None else f"{'-':>14s}" for c in cells))
    if "status" in res.get("postgresql", {}):
        print("postgresql:", res["postgresql"]["status"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="where to write the JSON results")
    ap.add_argument("--pg", help="a PostgreSQL URL to measure (default: start a throw-away server)")
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--recorders", type=int, default=8)
    ap.add_argument("--per-recorder", type=int, default=250)
    a = ap.parse_args(argv)
    res = run(pg_url=a.pg, lines=a.lines, samples=a.samples, recorders=a.recorders, per_recorder=a.per_recorder)
    res["command"] = "python bench/ledger.py " + " ".join(sys.argv[1:] if argv is None else argv)
    Path(a.out).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
