"""Throughput and latency of one shared Engine under many threads.

    python bench/load.py [--threads 1,4,16] [--seconds 10] [--evaluator durable,batch,reference]
                         [--input bench/data/transfers_1000_seed7.jsonl] [--json]

For each evaluator and thread count, every thread checks transfers from the input (each thread from its own
offset, round and round) against ONE shared :class:`~sanctions.Engine` for ``--seconds``; the script prints
checks per second and per-check latency percentiles (milliseconds), and whether every decision equalled the
single-threaded one for the same transfer (it must).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sanctions.engine import Engine  # noqa: E402
from sanctions.explain import to_json  # noqa: E402
from sanctions.model.reading import read_records  # noqa: E402


def engine_for(name: str) -> Engine:
    """One engine on the built-in rulebook with the named evaluator (``batch``: the batch evaluator)."""
    if name == "batch":
        from sanctions.evaluate.rowbatch import BatchEvaluator

        e = Engine(evaluator="reference")
        e.evaluator = BatchEvaluator(e.rulebook.compiled)
        return e
    return Engine(evaluator=name)  # type: ignore[arg-type]


def load_subjects(path: Path, limit: int) -> list[Any]:
    out = [r.value for r in read_records(path) if r.value is not None]
    return out[:limit]


def run(engine: Engine, subjects: list[Any], expected: list[str], threads: int, seconds: float) -> dict[str, Any]:
    """Hammer ``engine`` from ``threads`` threads for ``seconds``; return the figures."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    mismatches = [0]
    start = threading.Barrier(threads + 1)
    stop = time.monotonic() + seconds + 0.5

    def work(k: int) -> None:
        start.wait()
        i = k * 7919 % len(subjects)
        lat = latencies[k]
        while time.monotonic() < stop:
            s = subjects[i]
            t0 = time.perf_counter()
            try:
                d = engine.check(s)
            except Exception as err:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(err).__name__}: {err}")
                continue
            lat.append(time.perf_counter() - t0)
            if to_json(d, indent=None) != expected[i]:
                mismatches[0] += 1
            i = (i + 1) % len(subjects)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    t0 = time.monotonic()
    start.wait()
    for t in ts:
        t.join()
    wall = time.monotonic() - t0
    all_lat = sorted(x for lat in latencies for x in lat)
    n = len(all_lat)

    def pct(p: float) -> float:
        return all_lat[min(n - 1, int(p * n))] * 1000 if n else 0.0

    return {"threads": threads, "checks": n, "seconds": round(wall, 2), "checks_per_s": round(n / wall, 1),
            "p50_ms": round(pct(0.50), 2), "p95_ms": round(pct(0.95), 2), "p99_ms": round(pct(0.99), 2),
            "mean_ms": round(statistics.fmean(all_lat) * 1000, 2) if n else 0.0,
            "errors": len(errors), "first_error": errors[0] if errors else None, "mismatches": mismatches[0]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,4,16")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--evaluator", default="durable,batch,reference")
    p.add_argument("--input", type=Path, default=ROOT / "bench" / "data" / "transfers_1000_seed7.jsonl")
    p.add_argument("--limit", type=int, default=1000, help="transfers taken from the input")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    subjects = load_subjects(args.input, args.limit)
    results = []
    for name in args.evaluator.split(","):
        engine = engine_for(name)
        expected = [to_json(engine.check(s), indent=None) for s in subjects]
        for n in (int(x) for x in args.threads.split(",")):
            r = {"evaluator": engine.evaluator_name if name != "batch" else "batch", **run(
                engine, subjects, expected, n, args.seconds)}
            results.append(r)
            if not args.json:
                print(f"{r['evaluator']:>9} {n:>3} threads: {r['checks_per_s']:>8,.0f} checks/s  p50 {r['p50_ms']:.2f} ms"
                      f"  p95 {r['p95_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  errors {r['errors']}  "
                      f"mismatches {r['mismatches']}", flush=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
               "processor": platform.processor() or platform.machine(), "transfers": len(subjects)}
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
    else:
        print(f"machine: {machine}")
    return 1 if any(r["errors"] or r["mismatches"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
