"""HTML output of ``check-transfer``: ``check --format html`` and ``report DECISIONS.jsonl --out PAGE.html``.

The pages are made by :mod:`sanctions.report` from the same decisions as the text and JSON output; this module
only parses arguments and writes files (atomically: a reader sees the old page or the whole new one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from sanctions.exc import InvalidInput

DESCRIPTION = ("Write a batch output (the decisions file that 'check-transfer batch' wrote, JSON Lines) as one "
               "self-contained HTML page: the verdicts, the rules that fired most, and every decision in a table "
               "that sorts, filters and pages in the browser.")


def html_page(decisions: Sequence[Any], subjects: Sequence[Any], errors: Sequence[Any], rulebook: Any) -> str:
    """The page ``check --format html`` writes: every decision, with the records that could not be judged."""
    from sanctions.report import render_decisions

    return render_decisions(decisions, subjects, rulebook=rulebook, errors=[str(e) for e in errors])


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("decisions", metavar="DECISIONS", help="decisions as JSON Lines (check-transfer batch --out, or "
                   "check-transfer --format jsonl)")
    p.add_argument("--out", required=True, metavar="PAGE", help="the HTML file to write (its folder must exist)")
    p.add_argument("--title", help="the page's title (default: from the file name)")


def add_parser(subparsers: Any) -> None:
    """Add ``report`` to the ``check-transfer`` subcommands."""
    p = subparsers.add_parser("report", help="a batch's decisions as one HTML page", description=DESCRIPTION)
    _arguments(p)
    p.set_defaults(run=run)


def cli(argv: Sequence[str], parser_cls: type[argparse.ArgumentParser]) -> int:
    """``check-transfer report ...`` given its own arguments."""
    p = parser_cls(prog="check-transfer report", description=DESCRIPTION)
    _arguments(p)
    return run(p.parse_args(list(argv)))


def run(args: argparse.Namespace) -> int:
    """Write the page; exit 0, or 2 (with what to do) when the input or the output is not usable."""
    from sanctions.atomic import atomic_write
    from sanctions.report import render_batch

    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        raise InvalidInput("--out is a folder; give a file name", source=args.out)
    if not os.path.isdir(os.path.dirname(out)):
        raise InvalidInput(f"--out: the folder {os.path.dirname(out)} does not exist; create it first",
                           source=args.out)
    if os.path.exists(out) and os.path.exists(args.decisions) and os.path.samefile(out, args.decisions):
        raise InvalidInput("--out is the decisions file: writing the page would destroy it", source=args.out)
    page = render_batch(args.decisions, title=args.title)
    try:
        atomic_write(out, page)
    except OSError as err:
        raise InvalidInput(f"cannot write the page: {err.strerror}", source=args.out) from None
    print(f"check-transfer report: wrote {args.out}", file=sys.stderr)
    return 0
