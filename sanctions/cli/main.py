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

from sanctions.exc import InvalidInput, SanctionsError

EXIT_CLEAR, EXIT_PROHIBITED, EXIT_INPUT = 0, 1, 2
SUBCOMMANDS = ("check", "schema", "rules", "lists", "screen", "ledger", "audit", "batch", "report")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share one exit path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(f"{self.prog}: {message}")


class _Usage(Exception):
    pass


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


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


def _check_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="check-transfer", description="Judge transfers and deals against UN sanctions. "
                "Other commands: " + ", ".join(SUBCOMMANDS[1:]) + " (check-transfer COMMAND --help).")
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON, JSON array or JSON Lines file; - for stdin")
    p.add_argument("--format", choices=("text", "json", "jsonl", "html"), default="text",
                   help="html: one self-contained page to open in a browser (with --out)")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="judge under the law in force on this date")
    p.add_argument("--ledger", metavar="PATH|URL", help="judge caps against this ledger and record cap-counted "
                   "transfers in it, in one transaction: an SQLite file or postgresql://user@host/db")
    p.add_argument("--audit", metavar="PATH|URL", help="append each decision to this hash-chained audit log (a file "
                   "or postgresql://...; keyed by $SANCTIONS_AUDIT_KEY_FILE or $SANCTIONS_AUDIT_KEY)")
    p.add_argument("--list", dest="list_path", metavar="PATH", help="screen parties against this UN list file "
                   "(default: the installed edition)")
    p.add_argument("--no-screening", action="store_true", help="do not screen parties against the UN list")
    p.add_argument("--out", metavar="PATH", help="write the findings to this file instead of standard output, "
                   "atomically (a reader sees the old file or the whole new one, never half)")
    _common(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``check-transfer`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in SUBCOMMANDS and args[0] != "check":
            return _SUB[args[0]](args[1:])
        if args and args[0] == "check":
            args = args[1:]
        return _check(args)
    except _Usage as err:
        print(str(err), file=sys.stderr)
        return EXIT_INPUT
    except SanctionsError as err:
        print(f"check-transfer: {err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("check-transfer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_CLEAR
    except Exception as err:  # the promise is "never a traceback": say what broke, plainly
        print(f"check-transfer: internal error: {type(err).__name__}: {err}. Please report it.", file=sys.stderr)
        return 3


# ----------------------------------------------------------------------------------------------------------------
# check
# ----------------------------------------------------------------------------------------------------------------


def _engine(args: argparse.Namespace) -> Any:
    from sanctions.engine import Engine

    return Engine(rules=args.rules, evaluator=args.evaluator, regimes=args.regime)


def _check(argv: list[str]) -> int:
    args = _check_parser().parse_args(argv)
    from sanctions.explain import to_json
    from sanctions.model.reading import read_records

    engine = _engine(args)
    screener = _screener(args)
    ledger = _open_ledger(args.ledger, engine.rulebook) if args.ledger else None
    audit = args.audit
    import io

    out: IO[str] = io.StringIO() if args.out else sys.stdout
    decisions, errors = [], []
    subjects: list[Any] = []  # for --format html, which draws each deal
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
            decision = _judge(engine, rec.value, screener, args.as_of)
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
                out.write(format_text(decision) + "\n")
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
    if errors:
        return EXIT_INPUT
    return EXIT_PROHIBITED if prohibited else EXIT_CLEAR


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
    return not (isinstance(e.value, str) and e.test.endswith(" " + e.value)) and e.value != [e.test.split(" ")[-1]]


def _short(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------------------------------------------
# Other commands
# ----------------------------------------------------------------------------------------------------------------


def _schema(argv: list[str]) -> int:
    p = _Parser(prog="check-transfer schema", description="Print the JSON Schema of the input.")
    p.add_argument("--rules-format", action="store_true", help="print the JSON Schema of rule files instead")
    args = p.parse_args(argv)
    if args.rules_format:
        from sanctions.rulebook import RuleSpec

        schema = RuleSpec.model_json_schema()
    else:
        from sanctions.model.records import input_schema

        schema = input_schema()
    print(json.dumps(schema, indent=2, sort_keys=True))
    return EXIT_CLEAR


def _rules(argv: list[str]) -> int:
    p = _Parser(prog="check-transfer rules", description="List the rulebook with its citations.")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    _common(p)
    args = p.parse_args(argv)
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


def _missing(name: str) -> Any:
    def run(argv: list[str]) -> int:
        print(f"check-transfer {name}: not available in this version", file=sys.stderr)
        return EXIT_INPUT

    return run


def _lazy(module: str, name: str) -> Any:
    def run(argv: list[str]) -> int:
        import importlib

        try:
            mod = importlib.import_module(f"sanctions.{module}")
        except ImportError:
            return _missing(name)(argv)
        return mod.cli(argv, _Parser)  # type: ignore[no-any-return]

    return run


_SUB = {
    "schema": _schema,
    "rules": _rules,
    "lists": _lazy("cli.lists", "lists"),
    "screen": _lazy("cli.lists", "screen"),
    "ledger": _lazy("cli.ledger", "ledger"),
    "audit": _lazy("cli.ledger", "audit"),
    "batch": _lazy("cli.batch", "batch"),
    "report": _lazy("cli.report", "report"),
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
