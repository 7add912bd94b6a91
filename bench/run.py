"""The benchmarks of issue 7: latency, throughput, memory, rulebook size, ledger, name screening.

    python bench/run.py            # full: batch files of 100,000 and 1,000,000 transfers (takes long)
    python bench/run.py --quick    # under a minute: small sizes, same workloads
    python bench/run.py --batch-sizes 100000,300000 --parquet-items 1000000,10000000
    python bench/run.py ... --update-results     # also rewrite the committed bench/results.json, on purpose

Prints a table and writes ``bench/data/results.json`` (git-ignored; ``--out`` elsewhere). Contenders, all on the
same data in the same run:

``batch``       the engine with :class:`sanctions.evaluate.rowbatch.BatchEvaluator`
``durable``     the engine with the durable-rules adapter (``sanctions.evaluate._durable``), when it imports
``reference``   the engine with :class:`sanctions.evaluate.reference.ReferenceEvaluator`
``handwritten`` :func:`bench/handwritten.judge`: the same rules as plain if-statements, findings only

Issue 13's comparisons (``per_core``, from ``bench/columnar.py``) run every contender in one process, so each is
per core: the columnar batch path, the row path, the hand-written judge, durable-rules (whole check, and its
``match`` alone); ``parquet_files`` runs ``check_file`` (the columnar path, all workers) on flat Parquet files of
1 and 10 million items, wall clock and peak memory.

Engine contenders produce full explained decisions serialised with ``to_json``; the hand-written baseline
produces ``(rule, item)`` pairs serialised with ``json.dumps``. All parse the same JSON lines with
``parse_input``. Generated data (``bench/data/``, git-ignored) comes from ``bench/generate.py`` with seed 7.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import columnar as columnar_bench  # noqa: E402
import generate  # noqa: E402
import handwritten  # noqa: E402

from sanctions.evaluate.rowbatch import BatchEvaluator  # noqa: E402
from sanctions.engine import Engine  # noqa: E402
from sanctions.explain import to_json  # noqa: E402
from sanctions.model.records import parse_input  # noqa: E402
from sanctions.rulebook import Rulebook, load_rulebook  # noqa: E402

DATA = HERE / "data"
UN_LIST = Path("/work/shared/data/un_sc_consolidated_2026-05-08.xml")


# ----------------------------------------------------------------------------------------------------------------
# Machine and contenders
# ----------------------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "git_commit": commit.strip(), "load_average_at_start": [round(x, 2) for x in load],
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def engines(rulebook: Rulebook) -> tuple[dict[str, Engine], dict[str, str]]:
    out: dict[str, Engine] = {}
    missing: dict[str, str] = {}
    fast = Engine(rulebook, evaluator="reference")
    fast.evaluator = BatchEvaluator(rulebook.compiled)
    out["batch"] = fast
    try:
        from sanctions.evaluate import _durable

        ok, why = _durable.available()
        if ok:
            out["durable"] = Engine(rulebook, evaluator="durable")
        else:
            missing["durable"] = f"not measured: durable-rules not available ({why})"
    except ImportError as err:
        missing["durable"] = f"not measured: sanctions._durable does not import ({err})"
    out["reference"] = Engine(rulebook, evaluator="reference")
    return out, missing


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latency(fn: Callable[[], Any], n: int) -> dict[str, float]:
    for _ in range(min(50, n)):
        fn()
    times = []
    gc.disable()
    try:
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return {"median_ms": round(statistics.median(times) * 1e3, 4), "p99_ms": round(_pct(times, 99) * 1e3, 4),
            "runs": n}


# ----------------------------------------------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------------------------------------------


def w_latency(eng: dict[str, Engine], n: int) -> dict[str, Any]:
    deal = parse_input(json.loads((ROOT / "fixtures" / "dprk_russia_arms_for_oil.json").read_text()))
    t20 = parse_input(generate.transfer_with_items(20))
    out: dict[str, Any] = {}
    for label, subject in (("founding_deal", deal), ("transfer_20_items", t20)):
        row: dict[str, Any] = {}
        for name, e in eng.items():
            row[name] = latency(lambda e=e, s=subject: e.check(s), n)
        if label == "founding_deal":
            row["handwritten"] = latency(lambda: [handwritten.judge(t) for t in deal.transfers], n)
            row["handwritten"]["note"] = "legs judged one by one; the deal rule (consideration) is not hand-written"
        else:
            row["handwritten"] = latency(lambda: handwritten.judge(t20), n)
        out[label] = row
    return out


def w_throughput(eng: dict[str, Engine], lines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"transfers": len(lines), "items": sum(json.loads(x)["items"].__len__() for x in lines)}
    for name, e in eng.items():
        t = time.perf_counter()
        for line in lines:
            to_json(e.check(parse_input(json.loads(line))), indent=None)
        s = time.perf_counter() - t
        out[name] = {"seconds": round(s, 3), "per_second": round(len(lines) / s, 1)}
    t = time.perf_counter()
    for line in lines:
        json.dumps(handwritten.judge(parse_input(json.loads(line))))
    s = time.perf_counter() - t
    out["handwritten"] = {"seconds": round(s, 3), "per_second": round(len(lines) / s, 1)}
    # where the engine's time goes (batch): parsing alone
    t = time.perf_counter()
    for line in lines:
        parse_input(json.loads(line))
    out["parse_only_per_second"] = round(len(lines) / (time.perf_counter() - t), 1)
    return out


def w_match_only(eng: dict[str, Engine], lines: list[str]) -> dict[str, Any]:
    """The evaluators alone: ``match`` on the facts of each transfer (facts built beforehand, not timed)."""
    e0 = eng["batch"]
    facts = [[f.fact for f in e0._facts([parse_input(json.loads(x))], None)] for x in lines]
    out: dict[str, Any] = {"transfers": len(lines), "facts": sum(len(f) for f in facts)}
    for name, e in eng.items():
        ev = e.evaluator
        for fs in facts[:200]:
            ev.match(fs)  # warm-up (the batch evaluator calibrates its index here)
        t = time.perf_counter()
        for fs in facts:
            ev.match(fs)
        s = time.perf_counter() - t
        out[name] = {"per_second": round(len(lines) / s, 1), "us_per_fact": round(s / out["facts"] * 1e6, 3)}
    t = time.perf_counter()
    for x in lines:
        e0._facts([parse_input(json.loads(x))], None)
    out["parse_and_build_facts_per_second"] = round(len(lines) / (time.perf_counter() - t), 1)
    return out


def agreement(e: Engine, lines: list[str]) -> dict[str, Any]:
    agree = 0
    uncovered = sorted(set(e.rulebook.rules) - handwritten.COVERED)
    fired = set()
    for line in lines:
        t = parse_input(json.loads(line))
        a = sorted((f.rule_id, f.item_index) for f in e.check(t).findings if f.rule_id in handwritten.COVERED)
        fired |= {r for r, _ in a}
        agree += a == sorted(handwritten.judge(t))
    return {"transfers": len(lines), "agreeing": agree, "rate": round(agree / len(lines), 6),
            "rules_fired": len(fired), "engine_rules_not_hand_written": uncovered}


def _gen_file(n: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"transfers_{n}_seed7.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for line in generate.transfers(n, seed=7):
                f.write(line + "\n")
        tmp.rename(path)
    return path


# VmHWM, not ru_maxrss: ru_maxrss is kept across execve on Linux, so this child would report the bench's own peak
# (see bench/columnar.py's _CHILD).
_BATCH_CHILD = """
import json, resource, sys, time
from sanctions.batch.run import check_file
path, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = check_file(path, out=out, workers=workers, quiet=True, progress=False)
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")]
print(json.dumps({"summary": s.to_dict(),
                  "maxrss_parent_mb": round((hwm[0] if hwm else
                                             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1),
                  "maxrss_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}))
"""


def w_batch_files(sizes: list[int], workers: int) -> dict[str, Any]:
    out: dict[str, Any] = {"workers": workers}
    for n in sizes:
        src = _gen_file(n)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", _BATCH_CHILD, str(src), str(Path(tmp) / "out.jsonl"),
                                str(workers)], capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - t
        if r.returncode:
            out[str(n)] = {"error": r.stderr[-2000:]}
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        res["wall_seconds"] = round(wall, 2)
        res["per_second"] = round(n / res["summary"]["seconds"], 1)
        out[str(n)] = res
        print(f"  batch file {n:,}: {res['per_second']:,.0f}/s, parent RSS {res['maxrss_parent_mb']} MB, "
              f"worker RSS {res['maxrss_worker_mb']} MB", file=sys.stderr)
    return out


COUNTRIES = generate.COMMON + generate.WATCHED + ["KP"]
CATS = ["food", "machinery", "vehicles", "refined_petroleum", "crude_oil", "coal", "textiles", "seafood", "medicine",
        "luxury_goods", "electrical_equipment", "wood", "metals", "vessels", "aircraft", "iron_and_iron_ore"]


def synthetic_pack(folder: Path, n: int) -> None:
    """``n`` valid rule files: destination country + item category (+ a value threshold on every third)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        country, cat = COUNTRIES[i % len(COUNTRIES)], CATS[(i // len(COUNTRIES) + i) % len(CATS)]
        cond = [f"    - {{op: eq, field: transfer.destination_country, value: '{country}'}}",
                f"    - {{op: contains, field: item.categories, value: '{cat}'}}"]
        if i % 3 == 0:
            cond.append(f"    - {{op: gt, field: item.value.usd, value: {1000 * (i % 50)}}}")
        (folder / f"r{i:04d}.yaml").write_text("\n".join([
            f"id: syn.r{i:04d}",
            "regime: SYN",
            f"title: Synthetic rule {i}",
            "description: A synthetic rule for the rulebook-size benchmark.",
            "direction: supply_to_target",
            "legal_basis:",
            "  - {resolution: 9999 (2099), paragraph: OP1, adopted: 2017-01-01, source: https://example.org, "
            "verified: false}",
            "in_force: {from: 2010-01-01}",
            "outcome: " + ("prohibited" if i % 2 else "review"),
            "when:",
            "  op: all",
            "  of:",
            *cond,
            "tags: [synthetic]",
            "explanation: '{item.description} goes to {transfer.destination_country}.'",
            "",
        ]))


def w_rulebook_size(lines: list[str], sizes: list[int]) -> dict[str, Any]:
    subjects = [parse_input(json.loads(x)) for x in lines]
    out: dict[str, Any] = {"transfers": len(subjects)}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic_pack(Path(tmp) / "pack", n)
            t = time.perf_counter()
            rb = load_rulebook(Path(tmp) / "pack", include_builtin=False)
            load_s = time.perf_counter() - t
        eng, missing = engines(rb)
        row: dict[str, Any] = {"load_seconds": round(load_s, 3), "patterns": len(rb.compiled.patterns)}
        for name, e in eng.items():
            t = time.perf_counter()
            findings = sum(len(e.check(s).findings) for s in subjects)
            s = time.perf_counter() - t
            row[name] = {"per_second": round(len(subjects) / s, 1), "findings": findings}
        row.update(missing)
        out[str(n)] = row
    return out


def w_ledger(quick: bool) -> dict[str, Any]:
    """Both ledger backends (bench/ledger.py): recording and total-query latency, 8 concurrent recorders."""
    import ledger as ledger_bench

    if quick:
        return ledger_bench.run(lines=1_000, samples=50, recorders=8, per_recorder=50)
    return ledger_bench.run(lines=10_000, samples=200, recorders=8, per_recorder=250)


def w_screening(n_names: int) -> dict[str, Any]:
    try:
        from sanctions.screening import matching
        from sanctions.screening.lists import load
    except ImportError as err:
        return {"status": f"not measured ({err})"}
    if not hasattr(matching, "screen") or not UN_LIST.exists():
        return {"status": "not measured (no screen function or no list file)"}
    t = time.perf_counter()
    edition = load(UN_LIST)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    index = matching.index_for(edition)
    index_s = time.perf_counter() - t
    import random

    r = random.Random(5)
    listed = [n for e in edition.entries for n, _ in e.all_names()]
    names = []
    for i in range(n_names):
        if i % 2:
            nm = r.choice(listed)
            if i % 4 == 1 and len(nm) > 4:  # a typo
                j = r.randrange(len(nm))
                nm = nm[:j] + nm[j + 1:]
            names.append(nm)
        else:
            names.append(f"{r.choice(['Global', 'Pacific', 'Ocean', 'Golden', 'Star'])} "
                         f"{r.choice(['Trading', 'Shipping', 'Logistics', 'Metals'])} "
                         f"{r.choice(['Co', 'Ltd', 'LLC', 'GmbH'])} {r.randint(1, 999)}")
    times = []
    hits = 0
    for nm in names:
        t = time.perf_counter()
        hits += bool(matching.screen(nm, edition=index))
        times.append(time.perf_counter() - t)
    return {"names": n_names, "list_entries": len(edition.entries), "indexed_names": len(index),
            "load_seconds": round(load_s, 2), "index_seconds": round(index_s, 2),
            "median_ms": round(statistics.median(times) * 1e3, 3), "mean_ms": round(statistics.mean(times) * 1e3, 3),
            "p99_ms": round(_pct(times, 99) * 1e3, 3), "names_with_a_match": hits}


# ----------------------------------------------------------------------------------------------------------------


def ratios(tp: dict[str, Any]) -> dict[str, Any]:
    b = tp["batch"]["per_second"]
    out = {}
    for other in ("durable", "handwritten", "reference"):
        if other in tp:
            out[f"batch/{other}"] = round(b / tp[other]["per_second"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="sanctions benchmarks (issue 7)")
    ap.add_argument("--quick", action="store_true", help="small sizes; finishes in under a minute")
    ap.add_argument("--batch-sizes", default=None, help="comma-separated transfer counts for the file runs")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=str(DATA / "results.json"), help="where to write the results (git-ignored)")
    ap.add_argument("--update-results", action="store_true",
                    help="also write the committed bench/results.json (only when the figures are meant to change)")
    ap.add_argument("--per-core-transfers", type=int, default=None,
                    help="transfers for the per-core comparisons (default 20,000; 2,000 with --quick)")
    ap.add_argument("--parquet-items", default=None,
                    help="comma-separated item counts for the columnar Parquet file runs (default 1,000,000 and "
                         "10,000,000; 100,000 with --quick; 0 to skip)")
    ap.add_argument("--only-columnar", action="store_true", help="only the issue-13 comparisons and Parquet runs")
    a = ap.parse_args(argv)
    quick = a.quick
    sizes = [int(x) for x in a.batch_sizes.split(",")] if a.batch_sizes else ([500, 2_000] if quick
                                                                               else [100_000, 1_000_000])
    t0 = time.perf_counter()
    res: dict[str, Any] = {"command": "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
                           "machine": machine(), "quick": quick}
    rb = load_rulebook()
    res["rulebook"] = {"rules": len(rb), "digest": rb.digest, "patterns": len(rb.compiled.patterns)}
    print("per core: columnar, row, hand-written, durable ...", file=sys.stderr)
    n_pc = a.per_core_transfers or (2_000 if quick else 20_000)
    res["per_core"] = columnar_bench.per_core(n_pc, min(n_pc, 300 if quick else 1_000))
    pq_items = [int(x) for x in a.parquet_items.split(",")] if a.parquet_items else (
        [100_000] if quick else [1_000_000, 10_000_000])
    pq_items = [x for x in pq_items if x > 0]
    if pq_items:
        print("parquet files (columnar) ...", file=sys.stderr)
        res["parquet_files"] = columnar_bench.file_runs(pq_items, a.workers)
    if a.only_columnar:
        res["seconds"] = round(time.perf_counter() - t0, 1)
        _write(res, a)
        print_columnar(res)
        return 0
    eng, missing = engines(rb)
    res["not_measured"] = missing
    print("latency ...", file=sys.stderr)
    res["latency"] = w_latency(eng, 50 if quick else 500)
    n_tp = 200 if quick else 3_000
    lines = list(generate.transfers(n_tp, seed=7))
    print("throughput ...", file=sys.stderr)
    tp = w_throughput(eng, lines)
    tp["ratios"] = ratios(tp)
    res["throughput_single_process"] = tp
    mo = w_match_only(eng, lines)
    mo["ratios"] = ratios(mo)
    res["evaluator_only"] = mo
    res["handwritten_agreement"] = agreement(eng["batch"], lines if quick else list(generate.transfers(10_000, seed=7)))
    print("batch files ...", file=sys.stderr)
    res["batch_files"] = w_batch_files(sizes, a.workers)
    print("rulebook size ...", file=sys.stderr)
    res["rulebook_size"] = w_rulebook_size(lines[: 100 if quick else 500], [10, 100, 400])
    print("ledger ...", file=sys.stderr)
    res["ledger"] = w_ledger(quick)
    print("screening ...", file=sys.stderr)
    res["screening"] = w_screening(300 if quick else 10_000)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    _write(res, a)
    print_table(res)
    print_columnar(res)
    return 0


def _write(res: dict[str, Any], a: argparse.Namespace) -> None:
    text = json.dumps(res, indent=2, sort_keys=True) + "\n"
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    if a.update_results:
        (HERE / "results.json").write_text(text)


def print_columnar(res: dict[str, Any]) -> None:
    pc = res.get("per_core")
    if not pc:
        return
    print(f"\nper core, one process, {pc['transfers']:,} transfers ({pc['items']:,} items), same data, same run:")
    for name in ("columnar", "columnar_parquet", "row", "handwritten", "durable", "durable_match"):
        r = pc.get(name, {})
        if "items_per_second" in r:
            print(f"  {name:18s} {r['items_per_second']:>14,.0f} items/s {r['transfers_per_second']:>12,.0f} transfers/s")
    print("  ratios:", pc["ratios"], " columnar output equals row output:", pc["columnar_equals_row"])
    print("  routed to the row path:", pc["columnar"]["routed_to_row_path"])
    for n, r in res.get("parquet_files", {}).items():
        if n.isdigit():
            if "error" in r:
                print(f"  parquet {n}: error")
                continue
            print(f"  parquet {int(n):,} items, {res['parquet_files']['workers']} workers: {r['wall_seconds']} s wall "
                  f"({r['items_per_second_wall']:,.0f} items/s), parent {r['maxrss_parent_mb']} MB, "
                  f"largest worker {r['maxrss_worker_mb']} MB, load at start {r['load_average_at_start']}")


def print_table(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(f"\n{m['cpu']}, {m['cores']} cores, Python {m['python']}, commit {m['git_commit']}, "
          f"rulebook {res['rulebook']['rules']} rules\n")
    names = ["batch", "durable", "reference", "handwritten"]
    print(f"{'workload':34s}" + "".join(f"{n:>14s}" for n in names))

    def cell(d: dict[str, Any] | None, key: str, fmt: str) -> str:
        return f"{format(d[key], fmt):>14s}" if d and key in d else f"{'-':>14s}"

    for label, row in res["latency"].items():
        print(f"{label + ' median ms':34s}" + "".join(cell(row.get(n), "median_ms", ".3f") for n in names))
        print(f"{label + ' p99 ms':34s}" + "".join(cell(row.get(n), "p99_ms", ".3f") for n in names))
    tp = res["throughput_single_process"]
    print(f"{'transfers/s (1 process)':34s}" + "".join(cell(tp.get(n), "per_second", ",.0f") for n in names))
    for n, row in res["rulebook_size"].items():
        if n.isdigit():
            print(f"{'transfers/s, ' + n + ' synthetic rules':34s}" + "".join(
                cell(row.get(k), "per_second", ",.0f") for k in names))
    mo = res["evaluator_only"]
    print(f"{'evaluator match() only, transfers/s':34s}" + "".join(cell(mo.get(n), "per_second", ",.0f") for n in names))
    print("\nratios (whole check):", tp["ratios"], " ratios (evaluator only):", mo["ratios"])
    ag = res["handwritten_agreement"]
    print(f"hand-written agreement: {ag['agreeing']}/{ag['transfers']} ({ag['rate']:.4%})")
    for n, r in res["batch_files"].items():
        if n.isdigit():
            if "error" in r:
                print(f"batch file {n}: error")
                continue
            print(f"batch file {int(n):,} transfers, {res['batch_files']['workers']} workers: {r['per_second']:,.0f}/s, "
                  f"peak RSS parent {r['maxrss_parent_mb']} MB, largest worker {r['maxrss_worker_mb']} MB")
    sc = res["screening"]
    if "median_ms" in sc:
        print(f"screening {sc['names']:,} names against {sc['list_entries']} entries: median {sc['median_ms']} ms, "
              f"mean {sc['mean_ms']} ms, p99 {sc['p99_ms']} ms")
    else:
        print("screening:", sc.get("status"))
    import ledger as ledger_bench

    print()
    ledger_bench.print_table(res["ledger"])
    for k, v in res["not_measured"].items():
        print(f"{k}: {v}")
    print(f"\nwrote results in {res['seconds']} s")


if __name__ == "__main__":
    raise SystemExit(main())
