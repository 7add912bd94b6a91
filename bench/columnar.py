"""Issue 13's comparisons, per core, on the same data in the same run: columnar path, row path, hand-written judge,
durable-rules.

    python bench/columnar.py [--transfers 20000] [--durable-transfers 1000]      # prints a JSON object

Every contender runs in this one process (one core), on the same generated transfers (``bench/generate.py``, seed
7), from JSON text to one output string per transfer:

``columnar``         :func:`sanctions.batch.columnar.judge_chunk_columnar`, chunks of 10,000 lines: Arrow frame,
                     columns, clear decisions from the template, the other lines on the row path; canonical JSON
``columnar_parquet`` the same from a flat Parquet file of the same transfers (:func:`flat_chunks`)
``row``              :func:`sanctions.batch.run.judge_chunk`: ``parse_input``, ``Engine.check`` (batch evaluator),
                     ``to_json``
``handwritten``      ``parse_input``, :func:`handwritten.judge`, ``json.dumps`` of the (rule, item) pairs
``durable``          ``judge_chunk`` on an engine with the durable-rules adapter (on fewer transfers: it is slow)
``durable_match``    durable-rules alone: the adapter's ``match`` on facts built beforehand, no parsing, no
                     explanation, no JSON (native durable-rules is used only behind ``sanctions.evaluate._durable``)

:func:`file_runs` measures ``check_file`` (``check-transfer batch``) on Parquet in a child process: wall clock,
peak memory of the parent and of the largest worker, for several sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
import handwritten  # noqa: E402

DATA = HERE / "data"


def _rate(n_transfers: int, n_items: int, seconds: float) -> dict[str, Any]:
    return {"transfers": n_transfers, "items": n_items, "seconds": round(seconds, 3),
            "transfers_per_second": round(n_transfers / seconds, 1), "items_per_second": round(n_items / seconds, 1)}


def _parquet_of(lines: list[str], path: Path, row_group: int = 100_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sanctions.batch.formats import FLAT_COLUMNS, flatten

    rows = [r for line in lines for r in flatten(json.loads(line))]
    schema = pa.schema([(c, pa.string()) for c in FLAT_COLUMNS])
    cols = {c: [None if r[c] is None else str(r[c]) for r in rows] for c in FLAT_COLUMNS}
    pq.write_table(pa.table(cols, schema=schema), path, row_group_size=row_group)


def per_core(n: int = 20_000, n_durable: int = 1_000) -> dict[str, Any]:
    """Every contender in this process on the same ``n`` generated transfers (durable on the first ``n_durable``)."""
    from sanctions.batch.columnar import flat_chunks, judge_chunk_columnar
    from sanctions.batch.run import default_engine, judge_chunk
    from sanctions.engine import Engine
    from sanctions.model.records import parse_input

    lines = list(generate.transfers(n, seed=7))
    items = [len(json.loads(x)["items"]) for x in lines]
    n_items = sum(items)
    records = list(enumerate(lines, 1))
    engine = default_engine()
    out: dict[str, Any] = {"transfers": n, "items": n_items}

    judge_chunk_columnar(records[:2_000], "bench", engine, None, judge_chunk)  # warm-up
    t = time.perf_counter()
    routed: dict[str, int] = {}
    decided = 0
    col_results = []
    for s in range(0, n, 10_000):
        res, rep = judge_chunk_columnar(records[s:s + 10_000], "bench", engine, None, judge_chunk)
        col_results += res
        decided += rep.columnar
        for k, v in rep.routed.items():
            routed[k] = routed.get(k, 0) + v
    out["columnar"] = _rate(n, n_items, time.perf_counter() - t)
    out["columnar"].update(decided_by_columns=decided, routed_to_row_path=routed)

    with tempfile.TemporaryDirectory() as tmp:
        pq_path = Path(tmp) / "flat.parquet"
        _parquet_of(lines, pq_path)
        t = time.perf_counter()
        for chunk in flat_chunks(str(pq_path), "parquet", rows=100_000):
            judge_chunk_columnar(chunk, "bench", engine, None, judge_chunk)
        out["columnar_parquet"] = _rate(n, n_items, time.perf_counter() - t)

    judge_chunk(records[:200], "bench", engine, None)
    t = time.perf_counter()
    row_results = judge_chunk(records, "bench", engine, None)
    out["row"] = _rate(n, n_items, time.perf_counter() - t)
    out["columnar_equals_row"] = col_results == row_results

    t = time.perf_counter()
    for line in lines:
        json.dumps(handwritten.judge(parse_input(json.loads(line))))
    out["handwritten"] = _rate(n, n_items, time.perf_counter() - t)

    nd = min(n_durable, n)
    try:
        from sanctions.evaluate import _durable

        ok, why = _durable.available()
    except ImportError as err:
        ok, why = False, str(err)
    if ok:
        durable = Engine(engine.rulebook, evaluator="durable")
        judge_chunk(records[:50], "bench", durable, None)
        t = time.perf_counter()
        judge_chunk(records[:nd], "bench", durable, None)
        out["durable"] = _rate(nd, sum(items[:nd]), time.perf_counter() - t)
        facts = [[f.fact for f in engine._facts([parse_input(json.loads(x))], None)] for x in lines[:nd]]
        for fs in facts[:50]:
            durable.evaluator.match(fs)
        t = time.perf_counter()
        for fs in facts:
            durable.evaluator.match(fs)
        out["durable_match"] = _rate(nd, sum(items[:nd]), time.perf_counter() - t)
        out["durable_match"]["note"] = "the adapter's match() on facts built beforehand: no parsing, no explanation"
    else:
        out["durable"] = {"not_measured": why}
    c, r, h = (out[k]["items_per_second"] for k in ("columnar", "row", "handwritten"))
    out["ratios"] = {"columnar/handwritten": round(c / h, 3), "columnar/row": round(c / r, 3),
                     "row/handwritten": round(r / h, 3)}
    if "items_per_second" in out.get("durable", {}):
        d = out["durable"]["items_per_second"]
        out["ratios"].update({"columnar/durable": round(c / d, 2), "row/durable": round(r / d, 2),
                              "columnar/durable_match": round(c / out["durable_match"]["items_per_second"], 2)})
    return out


# The parent's peak is VmHWM, this process's own high-water mark: ru_maxrss (RUSAGE_SELF) is kept across execve on
# Linux, so a child started from a large bench process reported the bench's peak (2,391.9 MB for 1 and for 10
# million items alike in the issue-13 run), not its own.
_CHILD = """
import json, resource, sys, time
from sanctions.batch.run import check_file

def hwm_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

path, out, workers, evaluator = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = time.perf_counter()
s = check_file(path, out=out, fmt_out="parquet" if out.endswith(".parquet") else "jsonl", workers=workers,
               quiet=True, progress=False, evaluator=evaluator)
print(json.dumps({"summary": s.to_dict(), "wall_seconds": round(time.perf_counter() - t, 2),
                  "maxrss_parent_mb": hwm_mb(),
                  "maxrss_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}))
"""


def parquet_file(n_items: int) -> tuple[Path, int, int]:
    """A flat Parquet file of about ``n_items`` items: the 100,000 generated transfers (seed 7) repeated."""
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    base = DATA / "flat_100000_seed7.parquet"
    if not base.exists():
        _parquet_of(list(generate.transfers(100_000, seed=7)), base)
    table = pq.read_table(base)
    reps = max(1, round(n_items / table.num_rows))
    path = DATA / f"flat_{reps}x100000_seed7.parquet"
    if not path.exists():
        with pq.ParquetWriter(path, table.schema) as w:
            for _ in range(reps):
                w.write_table(table, row_group_size=100_000)
    return path, reps * 100_000, reps * table.num_rows


def file_runs(item_counts: list[int], workers: int, evaluator: str = "columnar", out_ext: str = ".parquet"
              ) -> dict[str, Any]:
    """``check_file`` on Parquet files of about these many items, in a child process each."""
    out: dict[str, Any] = {"workers": workers, "evaluator": evaluator, "output": out_ext.lstrip(".")}
    for n in item_counts:
        path, transfers, items = parquet_file(n)
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            load = os.getloadavg()
            r = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(Path(tmp) / ("out" + out_ext)),
                                str(workers), evaluator], capture_output=True, text=True, cwd=ROOT)
        if r.returncode:
            out[str(items)] = {"error": r.stderr[-2000:]}
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        res.update(transfers=transfers, items=items, load_average_at_start=[round(x, 2) for x in load],
                   items_per_second_wall=round(items / res["wall_seconds"], 1))
        out[str(items)] = res
        print(f"  parquet {items:,} items, {workers} workers, {evaluator}: {res['wall_seconds']} s wall, "
              f"parent {res['maxrss_parent_mb']} MB, worker {res['maxrss_worker_mb']} MB", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transfers", type=int, default=20_000)
    ap.add_argument("--durable-transfers", type=int, default=1_000)
    ap.add_argument("--file-items", default="", help="comma-separated item counts for check_file runs on Parquet")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    res: dict[str, Any] = {"per_core": per_core(a.transfers, a.durable_transfers)}
    if a.file_items:
        res["parquet_files"] = file_runs([int(x) for x in a.file_items.split(",")], a.workers)
    res["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(res, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
