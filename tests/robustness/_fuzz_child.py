"""Judge many mutated transfers with the durable adapter and the reference evaluator, in a child process.

Run by ``tests/robustness/test_fuzz_durable.py``: ``python _fuzz_child.py < request.json``. The request is
``{"subjects": [...], "seed": N, "count": M}``: base transfers and deals (model dumps) drawn by hypothesis;
the child derives ``count`` valid variants from them (seeded, so a failure reproduces), judges each with
both evaluators and prints one JSON line: how many it judged, the first differences, and the number of
live durable sessions when the adapter reports it. A crash shows as a negative return code, a hang as a
timeout in the parent.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from typing import Any

from sanctions.engine import Engine
from sanctions.explain import to_json
from sanctions.model.records import MAX_QUANTITY, Deal, Transfer, Unit

ODD_TEXT = [
    "\u202eevil\u202c", "Zalgo Z\u0351\u0354\u0360a\u0352lgo", "\U0001f4a3\U0001f680 rockets", "\x00nul\x00",
    "\ufeffBOM", "\u0000" * 3 + "x", "Ri \u30ea \ub9ac \u674e", "\u00a0\u2003spaced\u3000", "a" * 300, "\\\"'{}$(rm -rf)",
    "__import__('os').system('touch /tmp/pwned')", "\U000e0001tag", "\u0301combining",
]
COUNTRIES = ["KP", "RU", "CN", "IR", "SY", "US", "DE", "AQ", "BV", "UM"]
EXTREME = [0.0, MAX_QUANTITY, 5e-324, 1e-300, MAX_QUANTITY - 1, 0.5, 1.0, 499_999.999, 500_000, 500_000.0001,
           4_000_000, 525_000]


def _name(rng: random.Random) -> str:
    text = rng.choice(ODD_TEXT).strip()
    return (text or "x")[:300]


def _party(rng: random.Random) -> dict[str, Any]:
    return {"name": _name(rng), "country": rng.choice(COUNTRIES), "aliases": [_name(rng) for _ in range(rng.randint(0, 3))]}


def mutate(t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A valid variant of one transfer (as model-dump data): some mutations, chosen at random."""
    t = copy.deepcopy(t)
    for _ in range(rng.randint(1, 3)):
        m = rng.randrange(9)
        items = t.get("items") or []
        if m == 0:
            for it in items:
                if it.get("quantity") is not None:
                    it["quantity"]["value"] = rng.choice(EXTREME)
                if it.get("value") is not None:
                    it["value"]["amount"] = rng.choice(EXTREME)
        elif m == 1:
            t["supplier"]["name"] = _name(rng)
            t["recipient"]["name"] = _name(rng)
            for it in items:
                it["description"] = _name(rng)
        elif m == 2 and items:
            t["items"] = [copy.deepcopy(rng.choice(items)) for _ in range(rng.randint(10, 25))]
        elif m == 3:
            t["items"] = []
        elif m == 4:
            t["route"] = [{"port": _name(rng), "country": rng.choice(COUNTRIES),
                           "role": rng.choice(["loading", "transshipment", "transit", "discharge"])}
                          for _ in range(rng.randint(30, 60))]
        elif m == 5:
            t["intermediaries"] = [_party(rng) for _ in range(rng.randint(1, 30))]
        elif m == 6:
            for it in items:
                if it.get("quantity") is not None:
                    it["quantity"]["unit"] = rng.choice([u.value for u in Unit])
        elif m == 7:
            t["origin_country"], t["destination_country"] = rng.choice(COUNTRIES), rng.choice(COUNTRIES)
            sub = t.get("destination_subdivision")
            if sub and not str(sub).startswith(f"{t['destination_country']}-"):
                t["destination_subdivision"] = None  # a region belongs to its country: keep the variant valid
        else:
            t["notes"] = _name(rng)
            t["transport"] = rng.sample(["sea", "air", "rail", "road", "pipeline", "post", "electronic"], rng.randint(0, 7))
    return t


def variants(subjects: list[dict[str, Any]], seed: int, count: int) -> list[Transfer | Deal]:
    rng = random.Random(seed)
    out: list[Transfer | Deal] = []
    while len(out) < count:
        s = rng.choice(subjects)
        if "transfers" in s:
            d = copy.deepcopy(s)
            d["transfers"] = [mutate(t, rng) if rng.random() < 0.7 else t for t in d["transfers"]]
            out.append(Deal.model_validate(d))
        else:
            out.append(Transfer.model_validate(mutate(s, rng)))
    return out


def _canon(decision: Any) -> str:
    data = json.loads(to_json(decision, indent=None))
    data.pop("evaluator", None)
    return json.dumps(data, sort_keys=True)


def live_sessions() -> int | None:
    from sanctions.evaluate import _durable

    for name in ("live_sessions", "live_session_count", "session_count"):
        probe = getattr(_durable, name, None)
        if probe is not None:
            return int(probe() if callable(probe) else probe)
    return None


def main() -> int:
    import time

    req = json.load(sys.stdin)
    subjects = variants(req["subjects"], req["seed"], req["count"])
    durable, reference = Engine(evaluator="durable"), Engine(evaluator="reference")
    diffs = []
    spent = {"durable": 0.0, "reference": 0.0}
    for s in subjects:
        t0 = time.perf_counter()
        da = durable.check(s)
        t1 = time.perf_counter()
        db = reference.check(s)
        spent["durable"] += t1 - t0
        spent["reference"] += time.perf_counter() - t1
        a, b = _canon(da), _canon(db)
        if a != b and len(diffs) < 3:
            diffs.append({"subject": s.model_dump(mode="json"), "durable": a, "reference": b})
    result = {"judged": len(subjects), "diffs": diffs, "live_sessions": live_sessions(),
              "seconds": {k: round(v, 2) for k, v in spent.items()}}
    print(json.dumps(result, ensure_ascii=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
