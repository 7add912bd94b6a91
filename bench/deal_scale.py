"""The largest deal the model accepts: time, peak memory and output size, per evaluator (issue 16 item 2).

A deal of ``--legs`` legs (default 10,000, the model's maximum) made of copies of the founding legs with no
declared links, so every counter-leg is inferred. Each evaluator runs in its own child process, so peak
memory (``VmHWM``, which an ``execve`` resets, unlike ``ru_maxrss``) is that evaluator's alone.

    python bench/deal_scale.py                        # prints JSON, writes nothing
    python bench/deal_scale.py --out /tmp/deal.json   # also writes it there
    python bench/deal_scale.py --update-results       # and into the committed bench/results.json, on purpose
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
sys.path.insert(0, {tests!r})
from test_deal_scale import copies
import sanctions
deal = sanctions.parse_input(copies({legs}))
engine = sanctions.Engine(evaluator={evaluator!r})
t0 = time.perf_counter()
d = engine.check(deal)
t1 = time.perf_counter()
out = sanctions.to_json(d)
t2 = time.perf_counter()
print(json.dumps({{"check_s": round(t1 - t0, 2), "to_json_s": round(t2 - t1, 2),
                  "peak_rss_mb": round(next(int(x.split()[1]) for x in open("/proc/self/status")
                                            if x.startswith("VmHWM:")) / 1024),
                  "json_mb": round(len(out) / 1e6, 1), "findings": len(d.findings),
                  "deal_findings": sum(f.scope == "deal" for f in d.findings), "verdict": d.verdict}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--legs", type=int, default=10_000)
    ap.add_argument("--evaluators", default="durable,reference,batch")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--update-results", action="store_true")
    a = ap.parse_args()
    runs = {}
    for ev in a.evaluators.split(","):
        code = CHILD.format(tests=str(ROOT / "tests"), legs=a.legs, evaluator=ev)
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        runs[ev] = json.loads(p.stdout.strip().splitlines()[-1])
    result = {"legs": a.legs, "command": "python bench/deal_scale.py " + " ".join(sys.argv[1:]),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
              "evaluators": runs}
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
    if a.update_results:
        path = ROOT / "bench" / "results.json"
        data = json.loads(path.read_text())
        data["deal_10000_legs"] = result
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
