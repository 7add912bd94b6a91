"""``check-transfer batch IN --out OUT [--resume]``: judge a large file on every core, resumably.

One output line per input record, in input order (see :mod:`sanctions.batch.run`); the summary line
(read, judged, rejected) goes to standard error. With a JSON Lines input and output, a run that was
killed is continued with ``--resume``: no record is judged twice in the output, none is skipped.

Exit codes are those of ``check-transfer``: 0 nothing prohibited, 1 at least one prohibited decision,
2 bad input or usage (including any rejected record: the run judged every good record and reported every
bad one, with its line, in the output).
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from sanctions.cli.args import iso_date
from sanctions.exc import InvalidInput


def add_parser(subparsers: Any) -> None:
    """Add ``batch`` to the ``check-transfer`` subcommands."""
    p = subparsers.add_parser("batch", help="judge a large JSON Lines, CSV or Parquet file on every core, resumably",
                              description="Judge every record of a JSON Lines, CSV or Parquet file; one output "
                                          "line each.")
    p.add_argument("input", metavar="IN", help="input file (JSON Lines, or the flat CSV / Parquet layout)")
    p.add_argument("--out", required=True, metavar="OUT", help="output file (JSON Lines, or .parquet)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run that wrote OUT (its checkpoint OUT.checkpoint)")
    p.add_argument("--format-in", choices=("jsonl", "csv", "parquet"), default=None,
                   help="input format (default: from the file name)")
    p.add_argument("--format-out", choices=("jsonl", "parquet"), default=None,
                   help="output format (default: parquet for a .parquet OUT, else jsonl)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: one per core; 0 judges in this process)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="records per chunk")
    p.add_argument("--as-of", type=iso_date, metavar="DATE", help="judge under the law in force on this date")
    p.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a rule pack; repeatable")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--evaluator", choices=("columnar", "row"), default="columnar",
                   help="columnar (default): clear lines decided as columns, the rest on the row path, the same "
                        "output; row: every record through the one-off check (the oracle)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``check-transfer batch`` with its parsed arguments; see the module docstring."""
    from sanctions.batch import run as batch

    fmt_out = args.format_out or ("parquet" if args.out.lower().endswith((".parquet", ".pq")) else "jsonl")
    factory: Any = functools.partial(batch.engine_with_rules, tuple(args.rules)) if args.rules else None
    kwargs: dict[str, Any] = {}
    if args.chunk_size is not None:
        if args.chunk_size < 1:
            raise InvalidInput("check-transfer batch: --chunk-size must be at least 1")
        kwargs["chunk_size"] = args.chunk_size
    summary = batch.check_file(args.input, out=args.out, fmt_in=args.format_in, fmt_out=fmt_out,
                               engine_factory=factory, workers=args.workers, as_of=args.as_of,
                               progress=False if args.quiet else None, resume=args.resume,
                               evaluator=args.evaluator, **kwargs)
    if summary.read == 0:
        print(f"check-transfer batch: {args.input} has no records: nothing was judged (an empty file, or a CSV "
              "header alone?)", file=sys.stderr)
        return 2
    if summary.internal:
        return 3
    if summary.rejected:
        return 2
    return 1 if summary.verdicts.get("prohibited") else 0
