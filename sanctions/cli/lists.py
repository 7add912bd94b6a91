"""``check-transfer lists ...`` and ``check-transfer screen NAME``: UN list management and quick screening."""

from __future__ import annotations

import json
import sys
from typing import Any

from sanctions.screening import lists
from sanctions.screening import matching


def _edition_dict(ed: Any) -> dict[str, Any]:
    return {"generated": ed.generated.isoformat() if ed.generated else None, "sha256": ed.sha256,
            "source": ed.source, "entries": len(ed.entries)}


def cli(argv: list[str], parser_cls: Any) -> int:
    """Dispatch ``lists`` (update, show, diff) or ``screen`` (chosen by the program name)."""
    if argv[:1] and argv[0] in ("update", "show", "diff"):
        return _lists(argv, parser_cls)
    return _screen(argv, parser_cls)


def _lists(argv: list[str], parser_cls: Any) -> int:
    p = parser_cls(prog="check-transfer lists", description="Manage the installed UN Consolidated List.")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("update", help="download (or install --from FILE) and verify the current list")
    up.add_argument("--from", dest="from_file", metavar="FILE")
    up.add_argument("--url", default=lists.OFFICIAL_URL)
    sub.add_parser("show", help="the edition in use")
    d = sub.add_parser("diff", help="added, removed and changed entries between two list files")
    d.add_argument("old")
    d.add_argument("new")
    for s in (up, d):
        s.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    if args.cmd == "update":
        ed = lists.update(url=args.url, from_file=args.from_file)
        info = _edition_dict(ed)
        print(json.dumps(info, indent=2) if args.format == "json" else
              f"installed UN list generated {info['generated']} ({info['entries']} entries, sha256 {ed.sha256[:16]})")
        return 0
    if args.cmd == "show":
        ed = lists.current()
        if ed is None:
            print("no UN list is installed: run 'check-transfer lists update' (or 'lists update --from FILE')",
                  file=sys.stderr)
            return 2
        print(json.dumps(_edition_dict(ed), indent=2))
        return 0
    result = lists.diff(lists.load(args.old), lists.load(args.new))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print(result.summary())
        for e in result.added:
            print(f"+ {e.reference_number} {e.name}")
        for e in result.removed:
            print(f"- {e.reference_number} {e.name}")
        for c in result.changed:
            print(f"~ {c.reference_number} changed: {', '.join(c.fields)}")
    return 0


def _screen(argv: list[str], parser_cls: Any) -> int:
    p = parser_cls(prog="check-transfer screen", description="Screen names against the UN list.")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--file", help="a file of names, one per line")
    p.add_argument("--type", choices=("individual", "entity"), dest="kind")
    p.add_argument("--country")
    p.add_argument("--threshold", type=float, default=matching.DEFAULT_THRESHOLD)
    p.add_argument("--list", dest="list_path", metavar="PATH")
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    names = list(args.names)
    if args.file:
        with open(args.file, encoding="utf-8") as fh:
            names += [ln.strip() for ln in fh if ln.strip()]
    if not names:
        print("check-transfer screen: give a NAME or --file", file=sys.stderr)
        return 2
    ed = lists.load(args.list_path) if args.list_path else lists.current()
    if ed is None:
        print("check-transfer screen: no UN list is installed: run 'check-transfer lists update' or pass --list",
              file=sys.stderr)
        return 2
    index = matching.index_for(ed)
    out = {n: index.screen(n, kind=args.kind, country=args.country, threshold=args.threshold) for n in names}
    if args.format == "json":
        print(json.dumps({n: [m.to_dict() for m in ms] for n, ms in out.items()}, indent=2, sort_keys=True,
                         ensure_ascii=False, default=str))
    else:
        for n, ms in out.items():
            print(f"{n}: {len(ms)} match(es)" if ms else f"{n}: no match at threshold {args.threshold:g}")
            for m in ms:
                print("  " + m.explain().replace("\n", "\n  "))
    return 1 if any(out.values()) else 0
