"""A batch output as one HTML page: the verdicts, the rules that fired most, and every decision in a table that
sorts, filters and pages in the browser (see :func:`render_batch`).

The page holds one compact row per decision (line, subject, verdict, number of findings, the rules that fired,
as indices into one table of rule ids) in a ``<script type="application/json">`` block; the page's script
filters and sorts those arrays and draws one page of rows at a time, so 100,000 decisions stay fast. Every cell
is set with ``textContent``, never as markup.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sanctions.exc import InvalidInput
from sanctions.explain import Decision
from sanctions.report._env import OUTCOMES, render

TOP_RULES = 15
PAGE_SIZE = 50


def _lines(path: str | os.PathLike[str]) -> Iterable[tuple[int, Any]]:
    """(line number, parsed JSON or the parse error's message) for each non-blank line of a decisions file."""
    if os.path.isdir(path):
        raise InvalidInput("this is a folder; give the decisions file (JSON Lines) that batch wrote", source=str(path))
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below, after the generator is drained
    except FileNotFoundError:
        raise InvalidInput("no such file", source=str(path)) from None
    except OSError as err:
        raise InvalidInput(f"cannot read it: {err.strerror}", source=str(path)) from None
    with fh:
        head = fh.read(4)
        if head.startswith("PAR1"):
            raise InvalidInput("this is a Parquet file; the report reads JSON Lines: run the batch with a .jsonl "
                               "--out", source=str(path))
        fh.seek(0)
        try:
            for n, text in enumerate(fh, 1):
                if not text.strip():
                    continue
                try:
                    yield n, json.loads(text)
                except json.JSONDecodeError as err:
                    yield n, f"not valid JSON: {err.msg} (column {err.colno})"
        except UnicodeDecodeError:
            raise InvalidInput(f"not UTF-8 text after line {n}; is this a decisions file?", source=str(path)) from None


def _is_map(value: Any) -> bool:
    # ``type(...) is dict`` first: an ABC isinstance check per finding is most of the time at 100,000 lines
    return type(value) is dict or isinstance(value, Mapping)


def summarise(records: Iterable[tuple[int, Any]]) -> dict[str, Any]:
    """Rows, errors and counts for the page, from ``(line, record)`` pairs.

    A record is a decision (a :class:`~sanctions.explain.Decision` or its JSON form), an error line as batch
    writes it (``{"line": ..., "error": {...}}``), or a string saying why the line could not be read. Nothing
    is dropped: a line that is neither a decision nor an error line is listed among the errors.
    """
    rule_index: dict[str, int] = {}
    rows: list[list[Any]] = []
    errors: list[list[Any]] = []
    verdicts: Counter[str] = Counter()
    fired: Counter[str] = Counter()
    verdict_code = {v: i for i, v in enumerate(OUTCOMES)}
    for line, rec in records:
        if isinstance(rec, Decision):
            subject, verdict = rec.subject, rec.verdict
            rules = sorted({f.rule_id for f in rec.findings})
            n_findings = len(rec.findings)
            as_of = rec.as_of.isoformat() if rec.as_of else ""
        elif _is_map(rec) and "verdict" in rec and isinstance(rec.get("findings"), list):
            subject, verdict = rec.get("subject") or {}, str(rec["verdict"])
            rules = sorted({str(f.get("rule_id", "?")) for f in rec["findings"] if _is_map(f)})
            n_findings = len(rec["findings"])
            as_of = str(rec.get("as_of") or "")
        elif _is_map(rec) and _is_map(rec.get("error")):
            err = rec["error"]
            problems = "; ".join(f"{p.get('path') or 'record'}: {p.get('message')}" for p in err.get("problems", ())
                                 if isinstance(p, Mapping))
            errors.append([int(rec.get("line", line)), str(err.get("code", "error")),
                           str(err.get("message", "")) + (f" ({problems})" if problems else "")])
            continue
        else:
            errors.append([line, "unreadable-line", rec if isinstance(rec, str) else
                           "neither a decision nor an error line"])
            continue
        if verdict not in verdict_code:
            errors.append([line, "unknown-verdict", f"unknown verdict {verdict!r}"])
            continue
        verdicts[verdict] += 1
        fired.update(rules)
        idx = []
        for r in rules:
            if r not in rule_index:
                rule_index[r] = len(rule_index)
            idx.append(rule_index[r])
        rows.append([line, str(subject.get("id", "")), str(subject.get("type", "")), verdict_code[verdict],
                     n_findings, idx, as_of])
    total = sum(verdicts.values())
    top = fired.most_common(TOP_RULES)
    return {
        "rows": rows, "errors": errors, "rules": list(rule_index), "total": total,
        "verdicts": [(v, verdicts.get(v, 0)) for v in OUTCOMES],
        "top_rules": [{"rule_id": r, "count": n, "share": n / total if total else 0.0} for r, n in top],
    }


def render_batch(source: str | os.PathLike[str] | Iterable[Decision | Mapping[str, Any]], *,
                 title: str | None = None) -> str:
    """One self-contained HTML page for a batch of decisions.

    Args:
        source: A decisions file as ``check-transfer batch`` writes it (JSON Lines: one decision or error line
            per record), or the decisions themselves (:class:`~sanctions.explain.Decision` objects or their
            JSON form).
        title: The page title (default: from the file name).

    Returns:
        The page. Bad lines are listed on it with their line number, never dropped.

    Raises:
        InvalidInput: The file cannot be read (missing, a folder, Parquet, not text).
    """
    if isinstance(source, (str, os.PathLike)):
        data = summarise(_lines(source))
        name = os.path.basename(os.fspath(source))
    else:
        data = summarise(enumerate(source, 1))
        name = "decisions"
    payload = {"rows": data["rows"], "errors": data["errors"], "rules": data["rules"], "outcomes": list(OUTCOMES),
               "page_size": PAGE_SIZE}
    return render("batch.html.j2", scripts=("batch.js",), title=title or f"Batch report: {name}", data=data,
                  payload=payload)
