"""Reproducible synthetic transfers for the benchmarks and the batch tests, as JSON Lines.

    python bench/generate.py N OUT.jsonl [--seed 7] [--bad-every 0]

Each transfer has 1 to 20 items (goods by HS code, some with a declared category), a realistic mix of
countries (mostly pairs of non-sanctioned trading countries; a few percent touching the DPRK, more touching
Russia, China or Iran), dates from 2005 to 2025 (a fifth of them periods of up to 90 days), and now and then
a route through Rajin, a vessel, a notification, a declared purpose or a committee exemption. The same seed
gives the same file, byte for byte. ``--bad-every K`` makes every K-th line invalid (alternately broken JSON
and a transfer failing validation), to exercise error reporting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from typing import Any

COMMON = ["US", "DE", "FR", "JP", "GB", "BR", "IN", "ZA", "AU", "CA", "MX", "NL", "SG", "TR", "KR", "IT", "ES",
          "SE", "NO", "AE", "SA", "EG", "NG", "VN", "TH", "MY", "ID", "PL", "CH", "AR"]
WATCHED = ["RU", "CN", "IR"]

# (hs code, description, declared category or None, unit, typical quantity)
GOODS: list[tuple[str, str, str | None, str, float]] = [
    ("020130", "Boneless beef", None, "tonnes", 20),
    ("100199", "Wheat", None, "tonnes", 5000),
    ("030289", "Fresh fish", None, "tonnes", 40),
    ("300490", "Medicaments", None, "kilograms", 800),
    ("610910", "Cotton T-shirts", None, "units", 10000),
    ("440710", "Sawn coniferous wood", None, "cubic_metres", 300),
    ("847130", "Laptop computers", None, "units", 500),
    ("854231", "Integrated circuits", None, "units", 100000),
    ("870323", "Passenger cars", None, "units", 40),
    ("760110", "Unwrought aluminium", None, "tonnes", 200),
    ("720851", "Hot-rolled steel plate", None, "tonnes", 500),
    ("890110", "Cruise ship", None, "units", 1),
    ("880330", "Aircraft parts", None, "units", 50),
    ("271019", "Diesel fuel", None, "barrels", 50000),
    ("270900", "Crude petroleum", None, "tonnes", 40000),
    ("270112", "Bituminous coal", None, "tonnes", 30000),
    ("260111", "Iron ore", None, "tonnes", 20000),
    ("910211", "Wrist watches", None, "units", 200),
    ("710239", "Diamonds", None, "kilograms", 1),
    ("870310", "Snowmobiles", None, "units", 10),
    ("691110", "Porcelain tableware", None, "units", 300),
    ("570110", "Wool carpets", None, "units", 50),
    ("930690", "Artillery ammunition", "ammunition_and_related_materiel", "rounds", 10000),
    ("284410", "Natural uranium", None, "kilograms", 100),
    ("880240", "Transport aircraft", None, "units", 2),
]
DECLARED_ONLY: list[tuple[str, str, str]] = [
    ("Short-range ballistic missiles", "ballistic_missile_items", "units"),
    ("Jet fuel", "aviation_fuel", "tonnes"),
    ("Assault rifles", "small_arms_light_weapons", "units"),
    ("Main battle tanks", "unroca_i_battle_tanks", "units"),
    ("Machine tools with military applications", "dual_use_conventional", "units"),
    ("Satellite components", "space_launch_items", "units"),
    ("Natural gas condensate", "condensates_ngl", "tonnes"),
]
KINDS = ["goods"] * 90 + ["technology"] * 4 + ["technical_assistance"] * 3 + ["scientific_cooperation"] * 1 + \
    ["financial"] * 2
PARTY_KINDS = ["company"] * 8 + ["government_body", "state"]
END_USES = [None] * 12 + ["civilian", "military", "armed_forces", "wmd_programme", "civil_passenger_aircraft"]
PURPOSES = [None] * 10 + ["commercial", "humanitarian", "livelihood", "military"]
START = dt.date(2005, 1, 1).toordinal()
END = dt.date(2025, 12, 31).toordinal()


def _pair(r: random.Random) -> tuple[str, str]:
    x = r.random()
    if x < 0.03:  # DPRK involved
        other = r.choice(WATCHED + COMMON[:8])
        return ("KP", other) if r.random() < 0.5 else (other, "KP")
    if x < 0.15:  # Russia, China, Iran
        a = r.choice(WATCHED)
        b = r.choice(COMMON + WATCHED)
        return (a, b) if r.random() < 0.5 else (b, a)
    a, b = r.sample(COMMON, 2)
    return a, b


def _item(r: random.Random) -> dict[str, Any]:
    if r.random() < 0.06:
        desc, cat, unit = r.choice(DECLARED_ONLY)
        item: dict[str, Any] = {"description": desc, "category": cat,
                                "quantity": {"value": float(r.randint(1, 2000)), "unit": unit}}
    else:
        code, desc, cat, unit, typical = r.choice(GOODS)
        item = {"description": desc, "hs_code": code,
                "quantity": {"value": round(typical * r.uniform(0.1, 3.0), 2), "unit": unit}}
        if cat:
            item["category"] = cat
    if r.random() < 0.5:
        item["value"] = {"amount": round(r.uniform(50, 2_000_000), 2), "currency": "USD"}
    eu = r.choice(END_USES)
    if eu:
        item["end_use"] = eu
    return item


def transfer(r: random.Random, n: int) -> dict[str, Any]:
    """One random transfer (``n`` numbers its id)."""
    origin, dest = _pair(r)
    kind = r.choice(KINDS)
    start = r.randint(START, END)
    t: dict[str, Any] = {"id": f"T{n:08d}"}
    if r.random() < 0.2:
        t["date"] = {"start": dt.date.fromordinal(start).isoformat(),
                     "end": dt.date.fromordinal(min(END, start + r.randint(1, 90))).isoformat()}
    else:
        t["date"] = dt.date.fromordinal(start).isoformat()
    t["kind"] = kind
    t["supplier"] = {"name": f"Supplier {r.randint(1, 5000)}", "country": origin, "kind": r.choice(PARTY_KINDS)}
    t["recipient"] = {"name": f"Buyer {r.randint(1, 5000)}", "country": dest, "kind": r.choice(PARTY_KINDS)}
    t["origin_country"] = origin
    t["destination_country"] = dest
    purpose = r.choice(PURPOSES)
    if purpose:
        t["purpose"] = purpose
    if r.random() < 0.3:
        t["vessel"] = {"name": f"MV Carrier {r.randint(1, 900)}", "flag": r.choice(COMMON + WATCHED + ["PA", "LR"])}
        route = [{"port": "Port A", "country": origin, "role": "loading"}]
        if r.random() < 0.1:
            route.append({"port": "Rajin", "country": "KP", "role": "transshipment"})
        route.append({"port": "Port B", "country": dest, "role": "discharge"})
        t["route"] = route
    if r.random() < 0.05:
        t["notifications"] = [{"date": dt.date.fromordinal(start).isoformat(), "reference": f"N-{n}"}]
    if r.random() < 0.01:
        t["exemptions"] = [{"reference": f"1718/EX/{n}", "purpose": "humanitarian"}]
    t["items"] = [_item(r) for _ in range(r.randint(1, 20))]
    return t


def transfers(n: int, *, seed: int = 7, bad_every: int = 0) -> Iterator[str]:
    """``n`` JSON lines (compact, sorted keys); every ``bad_every``-th is invalid when ``bad_every`` > 0."""
    r = random.Random(seed)
    for i in range(1, n + 1):
        t = transfer(r, i)
        if bad_every and i % bad_every == 0:
            if (i // bad_every) % 2:
                yield json.dumps(t, sort_keys=True, separators=(",", ":"))[:-7]  # truncated JSON
                continue
            t["origin_country"] = "XX"
            t["items"][0]["hs_code"] = "12ab"
        yield json.dumps(t, sort_keys=True, separators=(",", ":"))


def transfer_with_items(n_items: int, *, seed: int = 11) -> dict[str, Any]:
    """A DPRK-bound goods transfer with ``n_items`` varied items (the single-check latency workload)."""
    r = random.Random(seed)
    t = transfer(r, 0)
    t.update({"id": "T-20", "kind": "goods", "origin_country": "RU", "destination_country": "KP",
              "date": "2024-05-01"})
    t["supplier"] = {"name": "Supplier", "country": "RU", "kind": "company"}
    t["recipient"] = {"name": "Buyer", "country": "KP", "kind": "state"}
    t["items"] = [_item(r) for _ in range(n_items)]
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad-every", type=int, default=0)
    a = ap.parse_args(argv)
    with (sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8")) as f:
        for line in transfers(a.n, seed=a.seed, bad_every=a.bad_every):
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
