"""``check-transfer``: judge transfers and deals from the command line.

Findings go to standard output, a one-line summary to standard error. Exit codes:

====  ==========================================================================================
0     nothing prohibited (clear, or only notification / review findings)
1     at least one prohibited finding
2     bad input or usage: a message names the file, line, field and value; no traceback, ever
====  ==========================================================================================

When some records of a run are bad and others are judged, every good record is still judged and printed,
every bad one is reported, and the exit code is 2: the run was incomplete.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from sanctions.cli.args import iso_date
from sanctions.cli.text import safe_text
from sanctions.exc import InvalidInput, SanctionsError

EXIT_CLEAR, EXIT_PROHIBITED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
SUBCOMMANDS = ("check", "schema", "rules", "lists", "screen", "ledger", "audit", "batch", "report")

# Which package to install for an optional dependency that is missing (import name -> pip requirement).
_OPTIONAL = {"pyarrow": "pyarrow (pip install 'sanctions[batch]')", "psycopg": "psycopg (pip install 'sanctions[postgres]')",
             "dask": "dask (pip install 'dask[distributed]')", "durable": "durable-rules (pip install durable-rules)",
             "rapidfuzz": "rapidfuzz (pip install rapidfuzz)", "defusedxml": "defusedxml (pip install defusedxml)",
             "platformdirs": "platformdirs (pip install platformdirs)"}


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share one exit path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(f"{self.prog}: {message}")


class _Usage(Exception):
    pass


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="add a rule pack (a folder of YAML rule files); repeatable")
    p.add_argument("--evaluator", choices=("auto", "durable", "reference", "batch"), default="auto",
                   help="which evaluator judges (default: durable-rules when available)")
    p.add_argument("--regime", type=_regimes, metavar="NAME[,NAME...]",
                   help="only these sanctions regimes, e.g. iran,libya (default: all; case and punctuation do not "
                        "matter: south_sudan, isil_alqaida)")


def _regimes(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no regime named in {text!r}; e.g. --regime iran,libya")
    return names


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON, JSON array or JSON Lines file; - for stdin")
    p.add_argument("--format", choices=("text", "json", "jsonl", "html"), default="text",
                   help="html: one self-contained page to open in a browser (with --out)")
    p.add_argument("--as-of", type=iso_date, metavar="DATE", help="judge under the law in force on this date")
    p.add_argument("--ledger", metavar="PATH|URL", help="judge caps against this ledger and record cap-counted "
                   "transfers in it, in one transaction: an SQLite file or postgresql://user@host/db")
    p.add_argument("--audit", metavar="PATH|URL", help="append each decision to this hash-chained audit log (a file "
                   "or postgresql://...; keyed by $SANCTIONS_AUDIT_KEY_FILE or $SANCTIONS_AUDIT_KEY)")
    p.add_argument("--list", dest="list_path", metavar="PATH", help="screen parties against this UN list file "
                   "(default: the installed edition)")
    p.add_argument("--no-screening", action="store_true", help="do not screen parties against the UN list")
    p.add_argument("--out", metavar="PATH", help="write the findings to this file instead of standard output, "
                   "atomically (a reader sees the old file or the whole new one, never half); the folder must exist")
    _common(p)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``check-transfer`` command line: one subparser per command.

    ``check-transfer FILE...`` is short for ``check-transfer check FILE...`` (see :func:`main`).
    """
    from sanctions import __version__
    from sanctions.cli import batch, ledger, lists, report

    p = _Parser(prog="check-transfer", description="Judge transfers and deals against UN sanctions. "
                "'check-transfer FILE...' is short for 'check-transfer check FILE...'; "
                "'check-transfer COMMAND --help' explains each command.")
    p.add_argument("--version", action="version", version=f"check-transfer (sanctions) {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser("check", help="judge transfers and deals (the default command)",
                           description="Judge transfers and deals against UN sanctions.")
    _check_args(check)
    check.set_defaults(run=_check)
    schema = sub.add_parser("schema", help="the JSON Schema of the input (or of rule files)",
                            description="Print the JSON Schema of the input.")
    schema.add_argument("--rules-format", action="store_true", help="print the JSON Schema of rule files instead")
    schema.set_defaults(run=_schema)
    rules = sub.add_parser("rules", help="the rulebook with its citations",
                           description="List the rulebook with its citations.")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    _common(rules)
    rules.set_defaults(run=_rules)
    lists.add_lists_parser(sub)
    lists.add_screen_parser(sub)
    ledger.add_ledger_parsers(sub)
    ledger.add_audit_parsers(sub)
    batch.add_parser(sub)
    report.add_parser(sub)
    return p


def _with_command(args: list[str]) -> list[str]:
    """``check-transfer FILE...`` means ``check-transfer check FILE...``: anything that does not start with a
    command name (or a top-level option) is a check."""
    if not args or args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version"):
        return args
    return ["check", *args]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``check-transfer`` console script."""
    args = _with_command(list(sys.argv[1:] if argv is None else argv))
    try:
        parser = build_parser()
        if not args:
            parser.print_usage(sys.stderr)
            raise _Usage("check-transfer: give a FILE to judge, or a COMMAND (check-transfer --help)")
        ns, extra = parser.parse_known_args(args)
        if extra and not getattr(ns, "passthrough", False):
            raise _Usage(f"check-transfer {ns.command}: unrecognized arguments: {' '.join(extra)}")
        return int(ns.run(ns, extra) if getattr(ns, "passthrough", False) else ns.run(ns))
    except _Usage as err:
        print(str(err), file=sys.stderr)
        return EXIT_INPUT
    except SanctionsError as err:
        print(f"check-transfer: {err}", file=sys.stderr)
        return EXIT_INPUT
    except ModuleNotFoundError as err:
        top = (err.name or "").split(".")[0]
        if top and top != "sanctions":
            need = _OPTIONAL.get(top, f"{top} (pip install {top})")
            print(f"check-transfer: this needs the optional package {need}, which is not installed", file=sys.stderr)
            return EXIT_INPUT
        print(f"check-transfer: internal error: {type(err).__name__}: {err}. Please report it.", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("check-transfer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_CLEAR
    except Exception as err:  # the promise is "never a traceback": say what broke, plainly
        print(f"check-transfer: internal error: {type(err).__name__}: {err}. Please report it.", file=sys.stderr)
        return EXIT_INTERNAL


# ----------------------------------------------------------------------------------------------------------------
# check
# ----------------------------------------------------------------------------------------------------------------


def _engine(args: argparse.Namespace) -> Any:
    from sanctions.engine import Engine

    return Engine(rules=args.rules, evaluator=args.evaluator, regimes=args.regime)


def _check(args: argparse.Namespace) -> int:
    from sanctions.explain import to_json
    from sanctions.model.reading import read_records

    if args.out:
        _check_out(args.out, args.files)
    engine = _engine(args)
    screener = _screener(args)
    ledger = _open_ledger(args.ledger, engine.rulebook) if args.ledger else None
    audit = args.audit
    import io

    out: IO[str] = io.StringIO() if args.out else sys.stdout
    decisions, errors = [], []
    subjects: list[Any] = []  # for --format html, which draws each deal
    internal = 0
    counts = {"read": 0, "judged": 0, "rejected": 0}
    for name in args.files:
        records = read_records(stream=sys.stdin.buffer, source="<stdin>") if name == "-" else read_records(name)
        for rec in records:
            counts["read"] += 1
            if rec.error is not None:
                counts["rejected"] += 1
                errors.append(rec.error)
                print(f"check-transfer: {rec.error}", file=sys.stderr)
                if args.format == "jsonl":
                    out.write(json.dumps({"error": rec.error.to_dict()}, sort_keys=True, ensure_ascii=False) + "\n")
                continue
            try:
                decision = _judge(engine, rec.value, screener, args.as_of)
            except (SanctionsError, KeyboardInterrupt, MemoryError):
                raise
            except Exception as err:  # one record that breaks the engine must not stop the others
                err_rec = InvalidInput(f"internal error judging this record: {type(err).__name__}: {err}; "
                                       "please report it", source=rec.source, record=rec.line)
                internal += 1
                counts["rejected"] += 1
                errors.append(err_rec)
                print(f"check-transfer: {err_rec}", file=sys.stderr)
                if args.format == "jsonl":
                    out.write(json.dumps({"error": {**err_rec.to_dict(), "code": "internal-error"}},
                                         sort_keys=True, ensure_ascii=False) + "\n")
                continue
            if ledger is not None:
                decision = ledger(decision, rec.value, args.as_of)
            else:
                from sanctions.ledger import capcheck

                decision = capcheck.judge(decision, rec.value, engine.rulebook, None, as_of=args.as_of)
            if audit:
                _audit_append(audit, rec.value, decision, engine, ledger)
            counts["judged"] += 1
            decisions.append(decision)
            subjects.append(rec.value)
            if args.format == "jsonl":
                out.write(to_json(decision, indent=None) + "\n")
            elif args.format == "text":
                out.write(safe_text(format_text(decision)) + "\n")
    if args.format == "json":
        if len(decisions) == 1 and not errors:
            out.write(to_json(decisions[0]) + "\n")
        else:
            items: list[Any] = [json.loads(to_json(d, indent=None)) for d in decisions]
            items += [{"error": e.to_dict()} for e in errors]
            out.write(json.dumps(items, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    if args.format == "html":
        from sanctions.cli.report import html_page

        out.write(html_page(decisions, subjects, errors, engine.rulebook))
    if args.out:
        from sanctions.atomic import atomic_write

        try:
            atomic_write(args.out, out.getvalue())  # type: ignore[attr-defined]
        except OSError as err:
            raise InvalidInput(f"cannot write the output: {err.strerror}", source=args.out) from None
    prohibited = sum(d.verdict == "prohibited" for d in decisions)
    verdicts: dict[str, int] = {}
    for d in decisions:
        verdicts[d.verdict] = verdicts.get(d.verdict, 0) + 1
    summary = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in sorted(verdicts.items())) or "none judged"
    print(f"check-transfer: {counts['read']} read, {counts['judged']} judged ({summary}), "
          f"{counts['rejected']} rejected; evaluator {engine.evaluator_name}", file=sys.stderr)
    if internal:
        return EXIT_INTERNAL
    if errors:
        return EXIT_INPUT
    return EXIT_PROHIBITED if prohibited else EXIT_CLEAR


def _check_out(out: str, inputs: Sequence[str]) -> None:
    """Refuse an ``--out`` that would destroy an input or that cannot be written, before judging anything."""
    import os

    if os.path.isdir(out):
        raise InvalidInput("--out is a folder; give a file name", source=out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise InvalidInput(f"--out: the folder {parent} does not exist; create it first", source=out)
    if not os.path.exists(out):
        return
    for name in inputs:
        if name != "-" and os.path.exists(name) and os.path.samefile(name, out):
            raise InvalidInput(f"--out is the input file {name}: writing the report would destroy it; choose "
                               "another --out", source=out)


def _screener(args: argparse.Namespace) -> Any:
    """The party screener for this run, or None with the reason (see sanctions.screening)."""
    if args.no_screening:
        return ("off", "party screening was switched off (--no-screening)")
    try:
        from sanctions.screening import screen as screening
    except ImportError:
        return ("off", "party screening is not available in this installation")
    return screening.screener_for(args.list_path)


def _judge(engine: Any, subject: Any, screener: Any, as_of: dt.date | None) -> Any:
    if isinstance(screener, tuple):
        decision = engine.check(subject, as_of=as_of)
        return decision.model_copy(update={"screening": {"performed": False, "reason": screener[1]}})
    from sanctions.screening import screen as screening

    return screening.check(engine, subject, screener, as_of=as_of)


def _open_ledger(path: str, rulebook: Any) -> Any:
    from sanctions.cli import ledger

    return ledger.open_judge(path, rulebook)


def _audit_append(path: str, subject: Any, decision: Any, engine: Any, judge: Any = None) -> None:
    from sanctions.cli import ledger

    ledger.audit_append(path, subject, decision, engine, judge)


# ----------------------------------------------------------------------------------------------------------------
# Text output
# ----------------------------------------------------------------------------------------------------------------

_VERDICT = {"prohibited": "PROHIBITED", "authorisation_required": "AUTHORISATION REQUIRED", "review": "REVIEW",
            "notification_required": "NOTIFICATION REQUIRED", "clear": "CLEAR"}


def _wrap(text: str, indent: str, width: int = 100) -> str:
    import textwrap

    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def format_text(decision: Any) -> str:
    """A decision as text a compliance officer reads at a glance: verdict first, then each finding."""
    d = decision
    lines = [f"{_VERDICT[d.verdict]}  {d.subject['type']} {d.subject['id']}"
             + (f"  (judged as of {d.as_of.isoformat()})" if d.as_of else "")]
    for f in d.findings:
        where = f.transfer_id + (f" item {f.item_index}" if f.item_index is not None else "")
        lines.append("")
        lines.append(f"  [{_VERDICT[f.outcome]}] {f.rule_id}  ({where})")
        lines.append(_wrap(f.title, "    "))
        lines.append(_wrap(f.explanation, "    "))
        for c in f.citations:
            lines.append(f"    Basis: {c.short()}, adopted {c.adopted.isoformat()}")
        ev = "; ".join(f"{e.field} {e.test}" + (f" ({_short(e.value)})" if _worth_showing(e) else "")
                       for e in f.evidence)
        if ev:
            lines.append(_wrap("Evidence: " + ev, "    "))
        for x in f.exemptions_not_applied:
            lines.append(_wrap(f"Exemption {x['id']} not applied: {x['reason']}", "    "))
        for h in f.related.get("listings", []):
            if h.get("in_force_on_date"):
                lines.append(_wrap(
                    f"Listing: {h['reference_number']} {h['primary_name']} ({h['regime']}, listed "
                    f"{h.get('listed_on') or '?'}); {h['role']} {h['party']!r} matched {h['matched_quality']} "
                    f"name {h['matched_name']!r}, score {h['score']:.1f}", "    "))
        for h in f.related.get("vessel_listings", []):
            if h.get("in_force_on_date"):
                lines.append(_wrap(f"Vessel: {h['designated_name']} (IMO {h['imo']}) designated "
                                   f"{h['designated_on']} under {h['basis']}; matched on {h['matched_on']}", "    "))
        if f.duty:
            due = f", due {f.duty.due.isoformat()}" if f.duty.due else ""
            lines.append(_wrap(f"Duty: {f.duty.who} to notify {f.duty.to} of {f.duty.what}{due}", "    "))
    exempted = [c for c in d.considered if c.status == "exempted"]
    not_in_force = [c for c in d.considered if c.status == "not_in_force"]
    if exempted or not_in_force:
        lines.append("")
        lines.append("  Considered, not applied:")
        for c in exempted:
            ex = c.exemption or {}
            cites = ", ".join(f"UNSCR {x['resolution']} {x['paragraph']}" for x in ex.get("citations", []))
            where = f"{c.transfer_id}" + (f" item {c.item_index}" if c.item_index is not None else "")
            lines.append(_wrap(f"- {c.rule_id} ({where}): exempted by '{ex.get('title')}' ({cites}). {c.reason}",
                               "    "))
        for c in not_in_force:
            where = f"{c.transfer_id}" + (f" item {c.item_index}" if c.item_index is not None else "")
            lines.append(_wrap(f"- {c.rule_id} ({where}): {c.reason}", "    "))
    lines.append(f"  {len(d.not_matched)} other rules did not match.")
    scr = d.screening or {}
    if scr:
        if scr.get("performed"):
            lines.append(f"  Party screening: UN list edition {scr.get('edition', '?')}.")
        else:
            lines.append(f"  Party screening NOT performed: {scr.get('reason', 'unknown reason')}.")
    for n in d.notes:
        lines.append(_wrap(f"Note: {n}", "  "))
    if any(f.unverified_citations for f in d.findings):
        lines.append("  [paragraph unverified] marks a paragraph number not yet checked against the resolution text.")
    if d.regimes:
        lines.append(_wrap(f"Regimes considered: {', '.join(d.regimes)}.", "  "))
    lines.append(f"  Evaluator: {d.evaluator}; rulebook {d.rulebook['digest'][:12]} ({d.rulebook['rules']} rules).")
    return "\n".join(lines)


def _worth_showing(e: Any) -> bool:
    """Show the transfer's value unless the test already says it."""
    if e.value in (None, True, False):
        return False
    value = list(e.value) if isinstance(e.value, (list, tuple)) else e.value
    return not (isinstance(value, str) and e.test.endswith(" " + value)) and value != [e.test.split(" ")[-1]]


def _short(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------------------------------------------
# Other commands
# ----------------------------------------------------------------------------------------------------------------


def _schema(args: argparse.Namespace) -> int:
    if args.rules_format:
        from sanctions.rulebook import RuleSpec

        schema = RuleSpec.model_json_schema()
    else:
        from sanctions.model.records import input_schema

        schema = input_schema()
    print(json.dumps(schema, indent=2, sort_keys=True))
    return EXIT_CLEAR


def _rules(args: argparse.Namespace) -> int:
    from sanctions.rulebook import load_rulebook

    rb = load_rulebook(*args.rules)
    if args.regime:
        from sanctions.rulebook import select_regimes

        rb = select_regimes(rb, args.regime)
    if args.format == "markdown":
        from sanctions.rulebook import catalogue

        sys.stdout.write(catalogue.markdown(rb))
        return EXIT_CLEAR
    if args.format == "json":
        from sanctions.rulebook import catalogue

        print(catalogue.catalogue_json(rb))
        return EXIT_CLEAR
    for r in rb.rules.values():
        s = r.spec
        until = s.in_force.until.isoformat() if s.in_force.until else "in force"
        print(f"{r.id}  [{s.outcome}]  {s.in_force.from_.isoformat()} .. {until}")
        print(f"    {s.title}")
        for c in s.legal_basis:
            mark = "" if c.verified else "  [paragraph unverified]"
            print(f"    UNSCR {c.resolution} {c.paragraph} (adopted {c.adopted.isoformat()}){mark}")
        if s.assumption:
            print(f"    assumption: {' '.join(s.assumption.split())}")
        for ex in s.exemptions:
            print(f"    exemption {ex.id}: {ex.title}")
    print(f"{len(rb)} rules; rulebook {rb.digest[:12]}", file=sys.stderr)
    return EXIT_CLEAR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
