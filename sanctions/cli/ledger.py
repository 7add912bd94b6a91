"""``check-transfer ledger show|export|import|check`` and ``check-transfer audit verify|replay|head|anchor|keygen``.

Also what ``check-transfer --ledger ... --audit ...`` calls for each decision (:func:`open_judge`,
:func:`audit_append`), so that the ledger and audit code of the CLI lives here.

``--ledger`` and ``--audit`` take a file path or a ``postgresql://`` URL; the subcommands default to
``$SANCTIONS_LEDGER`` and ``$SANCTIONS_AUDIT``. The audit key comes from ``--audit-key-file``,
``$SANCTIONS_AUDIT_KEY_FILE`` or ``$SANCTIONS_AUDIT_KEY``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

from sanctions.exc import InvalidInput

EXPORT_FORMAT = "sanctions-ledger-export"


def _say(text: str) -> None:
    print(f"check-transfer: {text}", file=sys.stderr, flush=True)


def cli(argv: list[str], parser_cls: Any) -> int:
    """Dispatch ``ledger ...`` or ``audit ...`` by the first word (kept for callers that pass both here)."""
    if argv[:1] and argv[0] in _AUDIT_COMMANDS:
        return audit_cli(argv, parser_cls)
    return ledger_cli(argv, parser_cls)


# ------------------------------------------------------------------------------------------------------------
# What check-transfer --ledger/--audit calls
# ------------------------------------------------------------------------------------------------------------


def open_judge(target: str, rulebook: Any) -> Any:
    """The cap judge of a ``check-transfer --ledger`` run (judging and recording in one transaction).

    Lost connections and reconnects are reported on standard error as they happen.
    """
    from sanctions.ledger.capcheck import LedgerJudge

    return LedgerJudge(target, rulebook, notify=_say)


def audit_append(path: str, subject: Any, decision: Any, engine: Any, judge: Any = None) -> None:
    """Append a decision to the audit log, with the list edition used; anchor the head in the ledger if any.

    The key comes from ``$SANCTIONS_AUDIT_KEY_FILE`` or ``$SANCTIONS_AUDIT_KEY`` (never from beside the log).
    """
    from sanctions.ledger import audit

    key_file = os.environ.get(audit.KEY_FILE_ENV)
    audit.check_key_location(key_file, path)
    key = audit.load_key()
    scr = decision.screening or {}
    editions = (
        [{"list": "UN consolidated", "edition": scr.get("edition"), "sha256": scr.get("sha256"),
          "source": scr.get("source")}]
        if scr.get("performed") else []
    )
    entry = audit.append(path, input=subject.model_dump(mode="json"), result=decision.model_dump(mode="json"),
                         rulebook_hash=engine.rulebook.digest, editions=editions, evaluator=engine.evaluator_name,
                         key=key)
    if judge is not None:
        first = entry.entry_hash if entry.seq == 1 else audit.log_id(path)
        if first is not None:
            judge.ledger.anchor_audit_head(first, entry.seq, entry.entry_hash, entry.mac)


# ------------------------------------------------------------------------------------------------------------
# ledger
# ------------------------------------------------------------------------------------------------------------


def _ledger_arg(p: Any) -> None:
    p.add_argument("--ledger", default=os.environ.get("SANCTIONS_LEDGER"), metavar="PATH|URL",
                   help="the ledger: an SQLite file or postgresql://user@host/db (default: $SANCTIONS_LEDGER)")


def _audit_arg(p: Any) -> None:
    p.add_argument("--audit", default=os.environ.get("SANCTIONS_AUDIT"), metavar="PATH|URL",
                   help="the audit log: a file or postgresql://user@host/db (default: $SANCTIONS_AUDIT)")
    p.add_argument("--audit-key-file", metavar="FILE",
                   help="the audit key (default: $SANCTIONS_AUDIT_KEY_FILE or $SANCTIONS_AUDIT_KEY)")


def _open(target: str | None, prog: str, *, must_exist: bool = True) -> Any:
    from sanctions.ledger.backends import open_ledger
    from sanctions.ledger.store import is_url

    if not target:
        raise InvalidInput(f"{prog}: give --ledger PATH|URL (or set SANCTIONS_LEDGER)")
    if must_exist and not is_url(target) and not os.path.exists(target):
        raise InvalidInput(f"{prog}: {target}: no such ledger")
    return open_ledger(target, notify=_say)


def _key(args: Any) -> bytes | None:
    from sanctions.ledger import audit

    key_file = args.audit_key_file or os.environ.get(audit.KEY_FILE_ENV)
    if args.audit:
        audit.check_key_location(key_file, args.audit)
    return audit.load_key(args.audit_key_file)


def ledger_cli(argv: list[str], parser_cls: Any) -> int:
    """``check-transfer ledger show|export|import|check``."""
    p = parser_cls(prog="check-transfer ledger", description="The cap ledger: totals, export, import, check.")
    sub = p.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show", help="totals per cap and period, with the headroom left")
    _ledger_arg(show)
    show.add_argument("--year", type=int)
    show.add_argument("--format", choices=("text", "json", "html"), default="text",
                      help="html: a self-contained page charting each cap and period (sanctions.report)")
    show.add_argument("--rules", action="append", default=[], metavar="DIR")
    exp = sub.add_parser("export", help="write the ledger (and its audit log) to a JSON Lines file")
    _ledger_arg(exp)
    _audit_arg(exp)
    exp.add_argument("--out", required=True, metavar="FILE", help="the export file (- for standard output)")
    imp = sub.add_parser("import", help="load an export into an empty ledger (and audit log), then verify")
    _ledger_arg(imp)
    _audit_arg(imp)
    imp.add_argument("file", metavar="FILE", help="an export made by `ledger export`")
    chk = sub.add_parser("check", help="check the ledger's integrity and invariants")
    _ledger_arg(chk)
    args = p.parse_args(argv)
    if args.cmd == "export":
        return _export(args)
    if args.cmd == "import":
        return _import(args)
    if args.cmd == "check":
        with _open(args.ledger, "check-transfer ledger check") as ledger:
            ledger.check()
        print(f"ledger intact: {ledger.where}")
        return 0
    return _show(args)


def _show(args: Any) -> int:
    from sanctions.ledger.capcheck import cap_rules
    from sanctions.rulebook import load_rulebook

    limits: dict[str, Any] = {}
    rulebook = load_rulebook(*args.rules)
    if args.format == "html":
        from sanctions.report import render_ledger

        with _open(args.ledger, "check-transfer ledger show") as ledger:
            sys.stdout.write(render_ledger(ledger, rulebook, year=args.year))
        return 0
    for _rule, cap in cap_rules(rulebook):
        for ledger_id, _unit, limit in cap.measures():
            limits[ledger_id] = limit
    with _open(args.ledger, "check-transfer ledger show") as ledger:
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


def _export(args: Any) -> int:
    from sanctions.ledger import audit

    lines: list[str] = [json.dumps({"format": EXPORT_FORMAT, "version": 1}, sort_keys=True)]
    with _open(args.ledger, "check-transfer ledger export") as ledger:
        backend = ledger.backend
        rows = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in ledger.export_rows()]
    lines += rows
    n_audit = 0
    if args.audit:
        key = _key(args)
        report = audit.verify(args.audit, key=key)
        if not report.ok:
            _say(f"ledger export: the audit log is damaged, not exported: {report.summary()}")
            return 1
        for raw in audit.raw_lines(args.audit):
            lines.append(json.dumps({"kind": "audit", "line": raw}, sort_keys=True, ensure_ascii=False))
            n_audit += 1
    text = "\n".join(lines) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        from sanctions.atomic import atomic_write

        try:
            atomic_write(args.out, text)
        except OSError as err:
            raise InvalidInput(f"cannot write the export: {err.strerror}", source=args.out) from None
    _say(f"ledger export: {len(rows)} ledger rows from {backend}, {n_audit} audit entries")
    return 0


def _import(args: Any) -> int:
    from sanctions.ledger import audit

    try:
        with open(args.file, encoding="utf-8") as f:
            raw_lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read the export ({getattr(err, 'strerror', None) or err})",
                           source=args.file) from None
    rows, audit_lines = [], []
    for n, line in enumerate(raw_lines, 1):
        try:
            data = json.loads(line)
        except ValueError:
            raise InvalidInput(f"line {n} is not JSON", source=args.file) from None
        if n == 1:
            if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
                raise InvalidInput("not a ledger export (the first line names the format)", source=args.file)
            continue
        if isinstance(data, dict) and data.get("kind") == "audit":
            audit_lines.append(str(data["line"]))
        elif isinstance(data, dict):
            rows.append(data)
        else:
            raise InvalidInput(f"line {n} is not a ledger row", source=args.file)
    if audit_lines and not args.audit:
        raise InvalidInput("the export holds an audit log: give --audit PATH|URL for it (or set SANCTIONS_AUDIT)")
    key = _key(args) if args.audit else None
    if audit_lines:
        # check the chain as exported before anything is written
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            probe = os.path.join(tmp, "probe.jsonl")
            audit.import_lines(probe, audit_lines, key=key)
            report = audit.verify(probe, key=key)
        if not report.ok:
            _say(f"ledger import: the exported audit log is damaged, nothing imported: {report.summary()}")
            return 1
    with _open(args.ledger, "check-transfer ledger import", must_exist=False) as ledger:
        counts = ledger.import_rows(rows)
        if audit_lines:
            audit.import_lines(args.audit, audit_lines, key=key)
            report = audit.verify(args.audit, key=key, anchors=ledger)
            print(report.summary())
            if not report.ok:
                return 1
        backend = ledger.backend
    _say(f"ledger import: {counts['entries']} ledger rows and {counts['anchors']} anchors into {backend}, "
         f"{len(audit_lines)} audit entries")
    return 0


# ------------------------------------------------------------------------------------------------------------
# audit
# ------------------------------------------------------------------------------------------------------------

_AUDIT_COMMANDS = ("verify", "replay", "head", "anchor", "keygen")


def audit_cli(argv: list[str], parser_cls: Any) -> int:
    """``check-transfer audit verify|replay|head|anchor|keygen``."""
    p = parser_cls(prog="check-transfer audit", description="Verify, replay or anchor the hash-chained audit log.")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check every hash, link and (with the key) MAC")
    v.add_argument("--anchor", metavar="PATH|URL",
                   help="a ledger holding anchored heads: the log must still hold them")
    v.add_argument("--expect-head", metavar="HASH", help="an entry_hash kept elsewhere that the log must hold")
    r = sub.add_parser("replay", help="judge a recorded input again and compare")
    r.add_argument("id", type=int, help="the entry's seq number")
    r.add_argument("--rules", action="append", default=[], metavar="DIR")
    r.add_argument("--list", dest="list_path", metavar="PATH",
                   help="the UN list file the entry was judged with (found by its hash among installed "
                        "editions otherwise)")
    h = sub.add_parser("head", help="print the head to keep outside the log")
    a = sub.add_parser("anchor", help="store the head in a ledger database")
    _ledger_arg(a)
    k = sub.add_parser("keygen", help="write a new random audit key (keep it away from the log)")
    k.add_argument("--out", required=True, metavar="FILE")
    for s in (v, r, h, a):
        _audit_arg(s)
        s.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    if args.cmd == "keygen":
        return _keygen(args.out)
    if not args.audit:
        raise InvalidInput("check-transfer audit: give --audit PATH|URL (or set SANCTIONS_AUDIT)")
    from sanctions.ledger import audit

    key = _key(args)
    if args.cmd == "verify":
        anchors = _open(args.anchor, "check-transfer audit verify") if args.anchor else None
        try:
            report = audit.verify(args.audit, key=key, anchors=anchors, expect_head=args.expect_head)
        finally:
            if anchors is not None:
                anchors.close()
        if args.format == "json":
            print(json.dumps({"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq,
                              "reason": report.reason, "head_hash": report.head_hash, "keyed": report.keyed,
                              "problems": [p.reason for p in report.problems], "warnings": list(report.warnings),
                              "log_id": report.log_id}, indent=2, sort_keys=True))
        else:
            print(report.summary())
            for problem in report.problems[1:10]:
                print(f"  also at seq {problem.seq}: {problem.reason}")
            for w in report.warnings:
                print(f"  warning: {w}")
        return 0 if report.ok else 1
    if args.cmd == "head":
        data = audit.head(args.audit, key=key)
        print(json.dumps(data, sort_keys=True) if args.format == "json" else
              f"seq {data['seq']} entry_hash {data['entry_hash']}" + (f" mac {data['mac']}" if "mac" in data else ""))
        return 0
    if args.cmd == "anchor":
        with _open(args.ledger, "check-transfer audit anchor", must_exist=False) as ledger:
            data = audit.anchor(args.audit, ledger, key=key)
            where = ledger.where
        print(json.dumps(data, sort_keys=True) if args.format == "json" else
              f"anchored seq {data['seq']} ({data['entry_hash'][:16]}) in {where}")
        return 0
    return _replay(args)


def _keygen(out: str) -> int:
    import secrets

    if os.path.exists(out):
        raise InvalidInput(f"{out} exists; not overwriting an audit key")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise InvalidInput(f"cannot write the key: {err.strerror}", source=out) from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    _say(f"audit key written to {out} (mode 0600); set SANCTIONS_AUDIT_KEY_FILE={out} where decisions are "
         "logged and verified, and keep it away from the log")
    return 0


def _replay(args: Any) -> int:
    from sanctions.engine import Engine
    from sanctions.ledger import audit
    from sanctions.ledger.capcheck import with_recorded_caps
    from sanctions.model.records import parse_input

    entry = audit.get(args.audit, args.id)
    engine = Engine(rules=args.rules, evaluator="reference" if entry.evaluator == "reference" else "auto")
    recorded_scr = entry.result.get("screening") or {}
    index, missing = None, None
    if recorded_scr.get("performed"):
        index, missing = _edition_for(entry, recorded_scr, args.list_path)
    as_of_text = entry.result.get("as_of")
    as_of = dt.date.fromisoformat(as_of_text) if as_of_text else None

    def check(data: Any) -> dict[str, Any]:
        subject = parse_input(data)
        if index is not None:
            from sanctions.screening import screen as screening

            d = screening.check(engine, subject, index, as_of=as_of)
        else:
            d = engine.check(subject, as_of=as_of)
        return with_recorded_caps(d.model_dump(mode="json"), entry.result)

    view = None
    if missing is not None:
        listed = {r.id for r in engine.rulebook.rules.values() if "designated_party" in (r.spec.tags or ())}

        def view(recorded: dict[str, Any], today: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
            dropped = [f for f in recorded.get("findings", []) if f.get("rule_id") in listed]
            note = (f"screening not replayed: {missing}. Compared everything else; "
                    f"{len(dropped)} recorded finding(s) of rules that rest on the list were left out")
            return _without_list(recorded, listed), _without_list(today, listed), [note]

    report = audit.replay(args.audit, args.id, check, view=view,
                          ignore=["$.screening*", "$.evaluator", "$.rulebook.digest"])
    if args.format == "json":
        print(json.dumps({"identical": report.identical, "differences": list(report.differences),
                          "notes": list(report.notes)}, indent=2))
    else:
        print(report.summary())
    return 0 if report.identical else 1


def _edition_for(entry: Any, recorded: dict[str, Any], list_path: str | None) -> tuple[Any, str | None]:
    """The screening index of the list edition an entry was judged with, or (None, why it is not here)."""
    from sanctions.screening import lists, matching

    want = recorded.get("sha256")
    label = f"UN list edition {recorded.get('edition', '?')} (sha256 {str(want)[:12]}...)"
    if list_path:
        edition = lists.load(list_path)
        if edition.sha256 != want:
            raise InvalidInput(
                f"the list given is edition {edition.generated.date() if edition.generated else '?'} "
                f"(sha256 {edition.sha256[:12]}...), but entry {entry.seq} was judged with {label}; give that file",
                source=list_path)
        return matching.index_for(edition), None
    candidates: list[Any] = []
    source = recorded.get("source")
    for e in entry.editions:
        if isinstance(e, dict) and e.get("sha256") == want and e.get("source"):
            source = e["source"]
    if source and os.path.isfile(str(source)):
        candidates.append(lambda: lists.load(str(source)))
    candidates += [lists.current, lists.previous]
    for load in candidates:
        try:
            edition = load()
        except Exception:  # a damaged or missing candidate is simply not the edition we need
            continue
        if edition is not None and edition.sha256 == want:
            return matching.index_for(edition), None
    return None, f"{label} is not available here (give it with --list PATH)"


def _without_list(decision: dict[str, Any], rule_ids: set[str]) -> dict[str, Any]:
    """A decision (JSON) without what rests on a list edition: those rules' findings and mentions."""
    from sanctions.rulebook import OUTCOME_RANK

    out = dict(decision)
    out["findings"] = [f for f in decision.get("findings", []) if f.get("rule_id") not in rule_ids]
    out["considered"] = [c for c in decision.get("considered", []) if c.get("rule_id") not in rule_ids]
    out["not_matched"] = [r for r in decision.get("not_matched", []) if r not in rule_ids]
    out["notes"] = [n for n in decision.get("notes", []) if " resembles " not in n]
    out["verdict"] = max((f["outcome"] for f in out["findings"]), key=lambda o: OUTCOME_RANK[o], default="clear")
    return out



# ------------------------------------------------------------------------------------------------------------
# Wiring into the check-transfer command line
# ------------------------------------------------------------------------------------------------------------


def add_ledger_parsers(subparsers: Any) -> None:
    """Add ``ledger`` to the ``check-transfer`` subcommands; its arguments are parsed by :func:`ledger_cli`."""
    _passthrough(subparsers, "ledger", "the cap ledger: totals, export, import, check", ledger_cli)


def add_audit_parsers(subparsers: Any) -> None:
    """Add ``audit`` to the ``check-transfer`` subcommands; its arguments are parsed by :func:`audit_cli`."""
    _passthrough(subparsers, "audit", "verify, replay, anchor the hash-chained audit log", audit_cli)


def _passthrough(subparsers: Any, name: str, help_text: str, run: Any) -> None:
    p = subparsers.add_parser(name, help=help_text, add_help=False)
    parser_cls = type(p)
    p.set_defaults(passthrough=True, run=lambda _args, rest: run(list(rest), parser_cls))
