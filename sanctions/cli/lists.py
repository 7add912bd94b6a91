"""``check-transfer lists ...`` and ``check-transfer screen NAME``: UN list management and quick screening.

Each is its own subparser of ``check-transfer`` (:func:`add_lists_parser`, :func:`add_screen_parser`):
``check-transfer screen update`` screens the name "update"; it never runs ``lists update``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sanctions.exc import InvalidInput


def _edition_dict(ed: Any) -> dict[str, Any]:
    return {"generated": ed.generated.isoformat() if ed.generated else None, "sha256": ed.sha256,
            "source": ed.source, "entries": len(ed.entries)}


def add_lists_parser(subparsers: Any) -> None:
    """Add ``lists update|show|diff`` to the ``check-transfer`` subcommands."""
    p = subparsers.add_parser("lists", help="install, show and compare UN Consolidated List editions",
                              description="Manage the installed UN Consolidated List.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="update|show|diff")
    up = sub.add_parser("update", help="download (or install --from FILE) and verify the current list",
                        description="Download the UN Consolidated List (or install a local copy), verify it, and "
                                    "make it the edition in use.")
    up.add_argument("--from", dest="from_file", metavar="FILE", help="install this list file instead of downloading")
    up.add_argument("--url", default=None, help="download from this URL (default: the UN's official address)")
    up.add_argument("--allow-older", action="store_true",
                    help="install an edition generated before the installed one (e.g. to go back)")
    show = sub.add_parser("show", help="the edition in use", description="Show the installed edition.")
    d = sub.add_parser("diff", help="added, removed and changed entries between two list files",
                       description="Compare two list files.")
    d.add_argument("old")
    d.add_argument("new")
    for s in (up, show, d):
        s.add_argument("--format", choices=("text", "json"), default="text" if s is not show else "json")
    p.set_defaults(run=_lists)


def add_screen_parser(subparsers: Any) -> None:
    """Add ``screen NAME...`` to the ``check-transfer`` subcommands."""
    p = subparsers.add_parser("screen", help="screen names against the UN list",
                              description="Screen names against the UN list. Every word is a name: "
                                          "'check-transfer screen update' screens the name 'update'.")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--file", help="a UTF-8 file of names, one per line")
    p.add_argument("--type", choices=("individual", "entity"), dest="kind")
    p.add_argument("--country", type=_country, metavar="CC",
                   help="the party's country, an ISO 3166-1 alpha-2 code (KP, RU ...)")
    p.add_argument("--threshold", type=_threshold, default=None, metavar="SCORE",
                   help="the lowest score reported, 0 to 100 (default: the matcher's)")
    p.add_argument("--list", dest="list_path", metavar="PATH")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=_screen)


def _country(text: str) -> str:
    from sanctions.model.records import _check_country, country_hint

    try:
        return _check_country(text.strip().upper() if len(text.strip()) == 2 else text.strip())
    except ValueError:
        pass
    hint = country_hint(text)
    raise argparse.ArgumentTypeError(f"not an ISO 3166-1 alpha-2 country code: {text!r}"
                                     + (f"; {hint}" if hint else ""))


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a score is 0 to 100 (got {text})")
    return value


def _lists(args: argparse.Namespace) -> int:
    from sanctions.screening import lists

    if args.cmd == "update":
        ed = lists.update(url=args.url or lists.OFFICIAL_URL, from_file=args.from_file,
                          allow_older=args.allow_older)
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
        info = _edition_dict(ed)
        print(json.dumps(info, indent=2) if args.format == "json" else
              f"UN list generated {info['generated']}, {info['entries']} entries, sha256 {ed.sha256[:16]}, "
              f"from {info['source']}")
        return 0
    result = lists.diff(lists.load(args.old), lists.load(args.new))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        from sanctions.cli.text import safe_text

        lines = [result.summary()]
        lines += [f"+ {e.reference_number} {e.name}" for e in result.added]
        lines += [f"- {e.reference_number} {e.name}" for e in result.removed]
        lines += [f"~ {c.reference_number} changed: {', '.join(c.fields)}" for c in result.changed]
        print(safe_text("\n".join(lines)))
    return 0


def _names_from(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [ln.strip() for ln in fh if ln.strip()]
    except FileNotFoundError:
        raise InvalidInput("screen --file: no such file", source=path) from None
    except IsADirectoryError:
        raise InvalidInput("screen --file: is a folder; give a file of names, one per line", source=path) from None
    except UnicodeDecodeError as err:
        raise InvalidInput(f"screen --file: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
                           f"{err.start}); save the file as UTF-8", source=path) from None
    except OSError as err:
        raise InvalidInput(f"screen --file: cannot read: {err.strerror or err}", source=path) from None


def _screen(args: argparse.Namespace) -> int:
    from sanctions.cli.text import safe_text
    from sanctions.screening import lists, matching

    names = list(args.names)
    blank = [n for n in names if not n.strip()]
    if blank:
        raise InvalidInput("screen: an empty NAME screens nothing; give a name (quote it if it has spaces)")
    if args.file:
        names += _names_from(args.file)
    if not names:
        print("check-transfer screen: give a NAME or --file", file=sys.stderr)
        return 2
    ed = lists.load(args.list_path) if args.list_path else lists.current()
    if ed is None:
        print("check-transfer screen: no UN list is installed: run 'check-transfer lists update' or pass --list",
              file=sys.stderr)
        return 2
    threshold = matching.DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    index = matching.index_for(ed)
    out = {n: index.screen(n, kind=args.kind, country=args.country, threshold=threshold) for n in names}
    if args.format == "json":
        print(json.dumps({n: [m.to_dict() for m in ms] for n, ms in out.items()}, indent=2, sort_keys=True,
                         ensure_ascii=False, default=str))
    else:
        lines = []
        for n, ms in out.items():
            lines.append(f"{n}: {len(ms)} match(es)" if ms else f"{n}: no match at threshold {threshold:g}")
            lines += ["  " + m.explain().replace("\n", "\n  ") for m in ms]
        print(safe_text("\n".join(lines)))
    return 1 if any(out.values()) else 0
