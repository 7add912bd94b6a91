"""``check-transfer ledger show`` and ``check-transfer audit verify|replay``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def cli(argv: list[str], parser_cls: Any) -> int:
    """Dispatch ``ledger ...`` or ``audit ...`` by the first word."""
    if argv[:1] == ["show"] or (argv and argv[0] not in ("verify", "replay")):
        return _ledger(argv, parser_cls)
    return _audit(argv, parser_cls)


def _ledger(argv: list[str], parser_cls: Any) -> int:
    p = parser_cls(prog="check-transfer ledger", description="Totals per cap and period, with the headroom left.")
    sub = p.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show")
    show.add_argument("--ledger", default=os.environ.get("SANCTIONS_LEDGER"), metavar="PATH",
                      help="the SQLite ledger (default: $SANCTIONS_LEDGER)")
    show.add_argument("--year", type=int)
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.add_argument("--rules", action="append", default=[], metavar="DIR")
    args = p.parse_args(argv)
    if not args.ledger:
        print("check-transfer ledger show: give --ledger PATH (or set SANCTIONS_LEDGER)", file=sys.stderr)
        return 2
    if not os.path.exists(args.ledger):
        print(f"check-transfer ledger show: {args.ledger}: no such ledger", file=sys.stderr)
        return 2
    from sanctions.ledger.capcheck import cap_rules
    from sanctions.ledger.store import Ledger
    from sanctions.rulebook import load_rulebook

    limits: dict[str, Any] = {}
    for _rule, cap in cap_rules(load_rulebook(*args.rules)):
        for ledger_id, _unit, limit in cap.measures():
            limits[ledger_id] = limit
    with Ledger(args.ledger) as ledger:
        totals = ledger.totals(args.year, limits=limits)
    rows = [{"cap": t.cap_id, "period": t.period, "total": str(t.total), "count": t.count,
             "limit": str(t.limit) if t.limit is not None else None,
             "remaining": str(t.remaining) if t.remaining is not None else None,
             "fraction": t.fraction} for t in totals]
    if args.format == "json":
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    if not rows:
        print("the ledger holds no cap-counted transfers" + (f" for {args.year}" if args.year else ""))
    for r in rows:
        frac = f" ({r['fraction']:.1%} used, {r['remaining']} left)" if r["fraction"] is not None else ""
        print(f"{r['cap']}  {r['period']}: {r['total']} of {r['limit'] or '?'} in {r['count']} lines{frac}")
    return 0


def _audit(argv: list[str], parser_cls: Any) -> int:
    p = parser_cls(prog="check-transfer audit", description="Verify or replay the hash-chained audit log.")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    r = sub.add_parser("replay")
    r.add_argument("id", type=int, help="the entry's seq number")
    r.add_argument("--rules", action="append", default=[], metavar="DIR")
    for s in (v, r):
        s.add_argument("--audit", default=os.environ.get("SANCTIONS_AUDIT"), metavar="PATH",
                       help="the audit log (default: $SANCTIONS_AUDIT)")
        s.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    if not args.audit:
        print("check-transfer audit: give --audit PATH (or set SANCTIONS_AUDIT)", file=sys.stderr)
        return 2
    from sanctions.ledger import audit

    if args.cmd == "verify":
        report = audit.verify(args.audit)
        if args.format == "json":
            print(json.dumps({"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq,
                              "reason": report.reason, "head_hash": report.head_hash}, indent=2, sort_keys=True))
        else:
            print(report.summary())
        return 0 if report.ok else 1
    from sanctions.ledger.capcheck import with_recorded_caps
    from sanctions.engine import Engine
    from sanctions.model.records import parse_input

    entry = audit.get(args.audit, args.id)
    engine = Engine(rules=args.rules, evaluator="reference" if entry.evaluator == "reference" else "auto")

    def check(data: Any) -> dict[str, Any]:
        as_of = entry.result.get("as_of")
        import datetime as dt

        d = engine.check(parse_input(data), as_of=dt.date.fromisoformat(as_of) if as_of else None)
        return with_recorded_caps(d.model_dump(mode="json"), entry.result)

    report = audit.replay(args.audit, args.id, check, ignore=["$.screening*", "$.evaluator", "$.rulebook.digest"])
    if args.format == "json":
        print(json.dumps({"identical": report.identical, "differences": list(report.differences)}, indent=2))
    else:
        print(report.summary())
    return 0 if report.identical else 1
