"""Streaming batch checks: many transfers from a file, one decision each, on every core, in input order.

>>> from sanctions.batch import check_file
>>> summary = check_file("transfers.jsonl", out="decisions.jsonl")   # doctest: +SKIP
>>> summary.read == summary.judged + summary.rejected                 # doctest: +SKIP
True

Inputs (``fmt_in``; guessed from the file name when ``None``)
    ``jsonl``
        JSON Lines: one transfer or one deal (an object with ``transfers``) per line; blank lines are skipped.
        ``line`` in an error is the physical line number, from 1.
    ``csv`` and ``parquet``: the *flat layout*
        One row per item, the transfer's columns repeated on each of its rows; the rows of one transfer are
        consecutive and share ``transfer_id``. A transfer without items is one row with an empty
        ``item_description``. Flat files hold transfers only (no deals). Columns (all optional except where
        the model requires the field; an empty cell or null is "absent"):

        =========================  ================================================================
        ``transfer_id``            the transfer's id
        ``date_start, date_end``   ISO dates; ``date_end`` empty for a one-day transfer
        ``kind, purpose``          as in the model
        ``supplier_name, supplier_country, supplier_kind``
        ``recipient_name, recipient_country, recipient_kind``
        ``origin_country, destination_country``
        ``vessel_name, vessel_imo, vessel_flag``
        ``ship_to_ship``           ``true``/``false`` (or a boolean column)
        ``sts_vessel_name, sts_vessel_imo, sts_vessel_flag``
        ``route_json, intermediaries_json, notifications_json, exemptions_json``
                                   the model's lists, as JSON text
        ``notes``
        ``item_description, item_hs_code, item_category, item_quantity, item_unit, item_value,
        item_currency, item_origin_country, item_end_use, item_end_user``
        =========================  ================================================================

        ``line`` in an error is the CSV file line (the header is line 1) or the Parquet row (from 1) of the
        transfer's first row. If the transfer columns disagree between rows of one transfer, that transfer is
        rejected. A ``transfer_id`` seen again after other transfers starts a new record (it is not merged).

Outputs (``fmt_out``)
    ``jsonl``
        One line per input record, in input order: the decision as canonical JSON
        (:func:`sanctions.explain.to_json` with ``indent=None``), or ``{"line": N, "error": {...}}`` for a
        record that could not be judged (``error`` is :meth:`sanctions.exc.InvalidInput.to_dict`).
    ``parquet``
        One row per input record: ``line`` (int64), ``transfer_id`` (the subject's id; a deal's id for a
        deal), ``verdict``, ``rule_ids`` (list of strings, one per finding, sorted), ``decision_json``
        (the canonical JSON) and ``error_json`` (null unless rejected; then ``verdict`` and
        ``decision_json`` are null). One row group per chunk.

Interruption and resuming
    With a JSON Lines output *file*, every chunk is written whole, flushed and fsynced, and only then is
    the checkpoint ``OUT.checkpoint`` (:func:`checkpoint_path`) replaced atomically. It records the input
    (path, size, byte length and SHA-256 of the consumed prefix, lines consumed) and the output (records
    and bytes committed, SHA-256 of those bytes) plus the counts so far. ``check_file(..., resume=True)``
    verifies both prefixes against it, cuts the output back to the committed bytes (a kill can leave a
    partial line, or whole lines of a chunk whose checkpoint was never written: they were never counted)
    and continues with the next input record: no record is judged twice in the output and none is
    skipped. A finished run leaves its checkpoint marked ``complete``; resuming it judges nothing. Resuming
    needs JSON Lines input and output; the input must be byte for byte the file the run started on.

Streaming and cores
    The reader hands out chunks of :data:`CHUNK` records; a process pool (one :class:`~sanctions.Engine`
    built once per worker by ``engine_factory``) judges them; at most ``2 * workers + 2`` chunks are in
    flight, and results are written strictly in input order. Memory therefore depends on the chunk size,
    never on the length of the input. ``workers=0`` or ``1`` judges in this process.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from sanctions.exc import FieldProblem, InvalidInput, InvalidTransfer

CHUNK = 1_000
"""Records per chunk handed to a worker."""

FmtIn = Literal["jsonl", "csv", "parquet"]
FmtOut = Literal["jsonl", "parquet"]

TRANSFER_COLUMNS = (
    "transfer_id", "date_start", "date_end", "kind", "purpose",
    "supplier_name", "supplier_country", "supplier_kind",
    "recipient_name", "recipient_country", "recipient_kind",
    "origin_country", "destination_country",
    "vessel_name", "vessel_imo", "vessel_flag", "ship_to_ship",
    "sts_vessel_name", "sts_vessel_imo", "sts_vessel_flag",
    "route_json", "intermediaries_json", "notifications_json", "exemptions_json", "notes",
)
ITEM_COLUMNS = (
    "item_description", "item_hs_code", "item_category", "item_quantity", "item_unit", "item_value",
    "item_currency", "item_origin_country", "item_end_use", "item_end_user",
)
FLAT_COLUMNS = TRANSFER_COLUMNS + ITEM_COLUMNS
"""Columns of the flat layout (CSV and Parquet), in this order when written by :func:`flatten`."""


@dataclass
class BatchSummary:
    """What a batch run did. ``read == judged + rejected`` always.

    Attributes:
        read: Input records (lines, or transfers of a flat file).
        judged: Records that got a decision.
        rejected: Records reported as errors.
        verdicts: Decisions per verdict.
        seconds: Wall time.
        workers: Worker processes used (0: judged in this process).
    """

    read: int = 0
    judged: int = 0
    rejected: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0
    resumed: int = 0
    """Records (included in the counts above) judged by the interrupted run this one resumed."""

    def to_dict(self) -> dict[str, Any]:
        d = {"read": self.read, "judged": self.judged, "rejected": self.rejected,
             "verdicts": dict(sorted(self.verdicts.items())), "seconds": round(self.seconds, 3),
             "workers": self.workers}
        if self.resumed:
            d["resumed"] = self.resumed
        return d

    def render(self) -> str:
        v = ", ".join(f"{k} {n}" for k, n in sorted(self.verdicts.items()))
        rate = self.read / self.seconds if self.seconds else 0.0
        return (f"read {self.read}, judged {self.judged} ({v or 'none'}), rejected {self.rejected} "
                f"in {self.seconds:.1f} s ({rate:,.0f} records/s, {self.workers or 1} process"
                f"{'es' if self.workers > 1 else ''})"
                + (f"; resumed after {self.resumed} records of an interrupted run" if self.resumed else ""))


# ----------------------------------------------------------------------------------------------------------------
# Records: (line, payload); payload is raw JSON text (parsed in the worker), a dict, or an error
# ----------------------------------------------------------------------------------------------------------------

Payload = str | dict[str, Any] | InvalidInput
Record = tuple[int, Payload]


def _json_error(line: int, source: str, err: Exception) -> InvalidTransfer:
    return InvalidTransfer("not valid JSON", source=source, record=line,
                           problems=[FieldProblem("", str(err), None)])


def read_jsonl(f: IO[bytes], source: str) -> Iterator[Record]:
    """Records of a JSON Lines file opened in binary mode; JSON is parsed later, by the worker."""
    for n, raw in enumerate(f, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            yield n, _json_error(n, source, err)
            continue
        if text.strip():
            yield n, text


class _Prefix:
    """Where a tracked JSON Lines reader stands: bytes and lines consumed up to the end of the last record
    read, and the SHA-256 of exactly those bytes (blank lines after it are hashed only once a record
    follows them)."""

    def __init__(self, offset: int = 0, line: int = 0, sha: Any = None) -> None:
        self.offset = offset
        self.line = line
        self.sha = sha if sha is not None else hashlib.sha256()

    def snapshot(self) -> tuple[int, int, Any]:
        return self.offset, self.line, self.sha.copy()


def _read_jsonl_tracked(f: IO[bytes], source: str, at: _Prefix) -> Iterator[Record]:
    """:func:`read_jsonl` from the current position of ``f``, keeping ``at`` up to date."""
    pending: list[bytes] = []
    pos, n = at.offset, at.line
    for raw in f:
        n += 1
        pos += len(raw)
        if not raw.strip():
            pending.append(raw)
            continue
        for b in pending:
            at.sha.update(b)
        pending.clear()
        at.sha.update(raw)
        at.offset, at.line = pos, n
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            yield n, _json_error(n, source, err)
            continue
        yield n, text


def checkpoint_path(out: str | os.PathLike[str]) -> Path:
    """The checkpoint file of a batch output file: ``OUT.checkpoint``, next to it."""
    return Path(os.fspath(out) + ".checkpoint")


def _sha_of_prefix(path: str, length: int) -> tuple[Any, bytes]:
    """SHA-256 object of the first ``length`` bytes of a file, and its last byte (b"" if none)."""
    h = hashlib.sha256()
    last = b""
    with open(path, "rb") as f:
        left = length
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            h.update(block)
            last = block[-1:]
            left -= len(block)
    if left:
        raise InvalidInput(f"{path} is shorter than its checkpoint says ({length} bytes)", source=path)
    return h, last


@dataclass
class _Resume:
    prefix: _Prefix
    out_bytes: int
    out_sha: Any
    summary: BatchSummary
    complete: bool


def _load_checkpoint(source: str, out: str) -> _Resume:
    """Read and verify the checkpoint of ``out`` against the input and the output; see the module docstring."""
    cp = checkpoint_path(out)
    try:
        data = json.loads(cp.read_text(encoding="utf-8"))
        if data.get("version") != 1:
            raise ValueError(f"unknown checkpoint version {data.get('version')!r}")
        inp, outp, counts = data["input"], data["output"], data["summary"]
    except FileNotFoundError:
        raise InvalidInput(f"nothing to resume: no checkpoint {cp} next to the output", source=str(out)) from None
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidInput(f"checkpoint {cp} is damaged: {err}", source=str(cp)) from None
    if os.path.abspath(source) != inp["path"]:
        raise InvalidInput(f"the checkpoint is of another input file ({inp['path']})", source=source)
    size = os.path.getsize(source)
    if size != inp["size"]:
        raise InvalidInput(f"the input changed since the interrupted run: {size} bytes, the checkpoint says "
                           f"{inp['size']}", source=source)
    in_sha, _ = _sha_of_prefix(source, inp["consumed_bytes"])
    if in_sha.hexdigest() != inp["consumed_sha256"]:
        raise InvalidInput("the input changed since the interrupted run: its first "
                           f"{inp['consumed_bytes']} bytes differ from the checkpoint's", source=source)
    if not os.path.exists(out) or os.path.getsize(out) < outp["bytes"]:
        raise InvalidInput(f"the output is shorter than its checkpoint ({outp['bytes']} bytes committed)",
                           source=str(out))
    out_sha, last = _sha_of_prefix(str(out), outp["bytes"])
    if out_sha.hexdigest() != outp["sha256"] or (outp["bytes"] and last != b"\n"):
        raise InvalidInput("the output's committed records differ from the checkpoint's", source=str(out))
    summary = BatchSummary(read=counts["read"], judged=counts["judged"], rejected=counts["rejected"],
                           verdicts=dict(counts["verdicts"]), resumed=counts["read"])
    if summary.read != outp["records"] or summary.read != summary.judged + summary.rejected:
        raise InvalidInput(f"checkpoint {cp} is damaged: its counts do not add up", source=str(cp))
    return _Resume(_Prefix(inp["consumed_bytes"], inp["consumed_lines"], in_sha), outp["bytes"], out_sha,
                   summary, bool(data.get("complete")))


def _write_checkpoint(source: str, out: str, at: tuple[int, int, Any], out_bytes: int, out_sha: Any,
                      summary: BatchSummary, complete: bool) -> None:
    from sanctions.io import atomic_write

    offset, line, sha = at
    data = {"version": 1, "complete": complete,
            "input": {"path": os.path.abspath(source), "size": os.path.getsize(source), "consumed_bytes": offset,
                      "consumed_lines": line, "consumed_sha256": sha.hexdigest()},
            "output": {"path": os.path.abspath(out), "records": summary.read, "bytes": out_bytes,
                       "sha256": out_sha.hexdigest()},
            "summary": {"read": summary.read, "judged": summary.judged, "rejected": summary.rejected,
                        "verdicts": dict(sorted(summary.verdicts.items()))}}
    atomic_write(checkpoint_path(out), json.dumps(data, indent=1, sort_keys=True) + "\n")


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and v != v:  # NaN from a Parquet/pandas float column: absent
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _bool(v: Any) -> Any:
    if isinstance(v, str):
        low = v.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
    return v


def _num(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v  # the model reports it, with the field path
    return v


def _date(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date | dt.datetime) else v


class _FlatError(Exception):
    pass


def _party(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    name, country, kind = row.get(prefix + "_name"), row.get(prefix + "_country"), row.get(prefix + "_kind")
    if name is None and country is None and kind is None:
        return None
    out = {"name": name, "country": country}
    if kind is not None:
        out["kind"] = kind
    return out


def _vessel(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    name, imo, flag = row.get(prefix + "_name"), row.get(prefix + "_imo"), row.get(prefix + "_flag")
    if name is None and imo is None and flag is None:
        return None
    out: dict[str, Any] = {"name": name}
    if imo is not None:
        out["imo"] = str(int(imo)) if isinstance(imo, int | float) and not isinstance(imo, bool) else imo
    if flag is not None:
        out["flag"] = flag
    return out


def _transfer_from_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON shape of one transfer from its flat rows (first row's transfer columns)."""
    head = rows[0]
    first = tuple(head.get(c) for c in TRANSFER_COLUMNS)
    for r in rows[1:]:
        if tuple(r.get(c) for c in TRANSFER_COLUMNS) != first:
            diff = [c for c in TRANSFER_COLUMNS if r.get(c) != head.get(c)]
            raise _FlatError(f"rows of transfer {head.get('transfer_id')!r} disagree on {', '.join(diff)}")
    t: dict[str, Any] = {"id": head.get("transfer_id")}
    start, end = _date(head.get("date_start")), _date(head.get("date_end"))
    t["date"] = {"start": start, "end": end} if end is not None and end != start else start
    for src, dst in (("kind", "kind"), ("purpose", "purpose"), ("origin_country", "origin_country"),
                     ("destination_country", "destination_country"), ("notes", "notes")):
        if head.get(src) is not None:
            t[dst] = head[src]
    t["supplier"] = _party(head, "supplier")
    t["recipient"] = _party(head, "recipient")
    for prefix in ("vessel", "sts_vessel"):
        v = _vessel(head, prefix)
        if v is not None:
            t[prefix] = v
    if head.get("ship_to_ship") is not None:
        t["ship_to_ship"] = _bool(head["ship_to_ship"])
    for col in ("route", "intermediaries", "notifications", "exemptions"):
        text = head.get(col + "_json")
        if text is not None:
            try:
                t[col] = json.loads(text) if isinstance(text, str) else text
            except json.JSONDecodeError as err:
                raise _FlatError(f"{col}_json is not valid JSON ({err})") from None
    items = []
    for r in rows:
        if r.get("item_description") is None and all(r.get(c) is None for c in ITEM_COLUMNS):
            continue
        item: dict[str, Any] = {"description": r.get("item_description")}
        for col, key in (("item_hs_code", "hs_code"), ("item_category", "category"),
                         ("item_origin_country", "origin_country"), ("item_end_use", "end_use"),
                         ("item_end_user", "end_user")):
            if r.get(col) is not None:
                item[key] = str(r[col]) if col == "item_hs_code" else r[col]
        if r.get("item_quantity") is not None or r.get("item_unit") is not None:
            item["quantity"] = {"value": _num(r.get("item_quantity")), "unit": r.get("item_unit")}
        if r.get("item_value") is not None:
            money: dict[str, Any] = {"amount": _num(r["item_value"])}
            if r.get("item_currency") is not None:
                money["currency"] = r["item_currency"]
            item["value"] = money
        items.append(item)
    t["items"] = items
    return t


def _group(rows: Iterable[tuple[int, dict[str, Any]]], source: str) -> Iterator[Record]:
    """Consecutive rows with the same transfer_id -> one record (line of its first row)."""
    current: list[dict[str, Any]] = []
    first_line = 0
    tid: Any = object()

    def flush() -> Record:
        try:
            return first_line, _transfer_from_rows(current)
        except _FlatError as err:
            return first_line, InvalidTransfer(str(err), source=source, record=first_line,
                                               problems=[FieldProblem("transfer_id", str(err), current[0].get(
                                                   "transfer_id"))])

    for line, row in rows:
        row = {k: _cell(v) for k, v in row.items() if k is not None}
        if current and row.get("transfer_id") == tid and tid is not None:
            current.append(row)
            continue
        if current:
            yield flush()
        current, first_line, tid = [row], line, row.get("transfer_id")
    if current:
        yield flush()


def read_csv(f: IO[str], source: str) -> Iterator[Record]:
    """Records of a flat-layout CSV file (text mode, ``newline=''``)."""
    reader = csv.DictReader(f)
    unknown = [c for c in (reader.fieldnames or []) if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in {source}: {', '.join(unknown)}", source=source, record=1,
                           problems=[FieldProblem(c, "unknown column", None) for c in unknown])

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = reader.line_num + 1
        for row in reader:
            yield line, row
            line = reader.line_num + 1

    yield from _group(rows(), source)


def read_parquet(path: str | Path, source: str, progress: _Progress | None = None) -> Iterator[Record]:
    """Records of a flat-layout Parquet file, read one row group at a time."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    unknown = [c for c in pf.schema_arrow.names if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in {source}: {', '.join(unknown)}", source=source,
                           problems=[FieldProblem(c, "unknown column", None) for c in unknown])

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        n = 0
        for g in range(pf.num_row_groups):
            if progress:
                progress.fraction = g / max(pf.num_row_groups, 1)
            for row in pf.read_row_group(g).to_pylist():
                n += 1
                yield n, row

    yield from _group(rows(), source)


def flatten(subject: dict[str, Any]) -> list[dict[str, Any]]:
    """The flat-layout rows of one transfer given as JSON-like data (the inverse of the flat reader)."""
    t = subject
    date = t.get("date")
    start, end = (date.get("start"), date.get("end")) if isinstance(date, dict) else (date, None)
    head: dict[str, Any] = {c: None for c in FLAT_COLUMNS}
    head.update({"transfer_id": t.get("id"), "date_start": start, "date_end": end, "kind": t.get("kind"),
                 "purpose": t.get("purpose"), "origin_country": t.get("origin_country"),
                 "destination_country": t.get("destination_country"), "notes": t.get("notes")})
    for p in ("supplier", "recipient"):
        party = t.get(p) or {}
        head.update({f"{p}_name": party.get("name"), f"{p}_country": party.get("country"),
                     f"{p}_kind": party.get("kind")})
    for p in ("vessel", "sts_vessel"):
        v = t.get(p) or {}
        head.update({f"{p}_name": v.get("name"), f"{p}_imo": v.get("imo"), f"{p}_flag": v.get("flag")})
    if "ship_to_ship" in t:
        head["ship_to_ship"] = "true" if t["ship_to_ship"] else "false"
    for col in ("route", "intermediaries", "notifications", "exemptions"):
        if t.get(col):
            head[col + "_json"] = json.dumps(t[col], sort_keys=True)
    rows = []
    for item in t.get("items") or [None]:
        row = dict(head)
        if item is not None:
            q, v = item.get("quantity") or {}, item.get("value") or {}
            row.update({"item_description": item.get("description"), "item_hs_code": item.get("hs_code"),
                        "item_category": item.get("category"), "item_quantity": q.get("value"),
                        "item_unit": q.get("unit"), "item_value": v.get("amount"),
                        "item_currency": v.get("currency"), "item_origin_country": item.get("origin_country"),
                        "item_end_use": item.get("end_use"), "item_end_user": item.get("end_user")})
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Judging a chunk (in a worker, or here)
# ----------------------------------------------------------------------------------------------------------------

Result = tuple[int, str | None, str | None, list[str] | None, str]
"""(line, subject id, verdict, rule ids, json text); verdict None means the json is an error line."""


def default_engine() -> Any:
    """The engine batch runs use by default: the built-in rulebook on the batch evaluator."""
    from sanctions._batch import BatchEvaluator
    from sanctions.engine import Engine

    engine = Engine(evaluator="reference")
    engine.evaluator = BatchEvaluator(engine.rulebook.compiled)
    return engine


def engine_with_rules(rules: tuple[str, ...] = ()) -> Any:
    """An engine on the built-in rules plus rule packs ``rules``, batch evaluator. Picklable through
    ``functools.partial(engine_with_rules, ("path/to/pack",))``: the ``engine_factory`` for ``--rules``."""
    from sanctions._batch import BatchEvaluator
    from sanctions.engine import Engine

    engine = Engine(rules=rules, evaluator="reference")
    engine.evaluator = BatchEvaluator(engine.rulebook.compiled)
    return engine


_ENGINE: Any = None
_AS_OF: dt.date | None = None


def _init_worker(factory: Callable[[], Any], as_of: dt.date | None) -> None:
    global _ENGINE, _AS_OF
    _ENGINE = factory()
    _AS_OF = as_of


def _error_line(line: int, err: InvalidInput) -> Result:
    return (line, None, None, None, json.dumps({"line": line, "error": err.to_dict()}, sort_keys=True,
                                               ensure_ascii=False, separators=(",", ":")))


def judge_chunk(chunk: list[Record], source: str, engine: Any = None, as_of: dt.date | None = None
                ) -> list[Result]:
    """Judge one chunk of records; never raises for a bad record (it becomes an error result)."""
    from sanctions.explain import to_json
    from sanctions.model import parse_input

    engine = engine if engine is not None else _ENGINE
    as_of = as_of if as_of is not None else _AS_OF
    out: list[Result] = []
    for line, payload in chunk:
        try:
            if isinstance(payload, InvalidInput):
                raise payload
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except json.JSONDecodeError as err:
                    raise _json_error(line, source, err) from None
            subject = parse_input(payload, source=source, record=line)
            d = engine.check(subject, as_of=as_of)
        except InvalidInput as err:
            out.append(_error_line(line, err.located(source=source, record=line)))
            continue
        out.append((line, d.subject["id"], d.verdict, sorted(f.rule_id for f in d.findings),
                    to_json(d, indent=None)))
    return out


def _judge_in_worker(chunk: list[Record], source: str) -> list[Result]:
    return judge_chunk(chunk, source)


# ----------------------------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------------------------


class _JsonlWriter:
    def __init__(self, out: str | Path | IO[str]) -> None:
        self._own = not hasattr(out, "write")
        self.f: IO[str] = open(out, "w", encoding="utf-8") if self._own else out  # type: ignore[arg-type]

    def write(self, results: list[Result]) -> None:
        self.f.write("".join(r[4] + "\n" for r in results))

    def close(self) -> None:
        if self._own:
            self.f.close()
        else:
            self.f.flush()


class _CommittedJsonlWriter:
    """JSON Lines to a file, a chunk at a time: write, flush, fsync, then the caller checkpoints."""

    def __init__(self, out: str, start: int, sha: Any) -> None:
        self.f = open(out, "r+b" if start else "wb")  # noqa: SIM115
        self.f.truncate(start)
        self.f.seek(start)
        self.bytes = start
        self.sha = sha

    def write(self, results: list[Result]) -> None:
        data = "".join(r[4] + "\n" for r in results).encode("utf-8")
        self.f.write(data)
        self.f.flush()
        os.fsync(self.f.fileno())
        self.sha.update(data)
        self.bytes += len(data)

    def close(self) -> None:
        self.f.close()


class _ParquetWriter:
    def __init__(self, out: str | Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema([("line", pa.int64()), ("transfer_id", pa.string()), ("verdict", pa.string()),
                                 ("rule_ids", pa.list_(pa.string())), ("decision_json", pa.string()),
                                 ("error_json", pa.string())])
        self.w = pq.ParquetWriter(str(out), self.schema)

    def write(self, results: list[Result]) -> None:
        ok = [r[2] is not None for r in results]
        cols = {
            "line": [r[0] for r in results],
            "transfer_id": [r[1] for r in results],
            "verdict": [r[2] for r in results],
            "rule_ids": [r[3] for r in results],
            "decision_json": [r[4] if k else None for r, k in zip(results, ok)],
            "error_json": [None if k else r[4] for r, k in zip(results, ok)],
        }
        self.w.write_table(self.pa.table(cols, schema=self.schema))

    def close(self) -> None:
        self.w.close()


# ----------------------------------------------------------------------------------------------------------------
# Progress bar (stderr, only on a terminal)
# ----------------------------------------------------------------------------------------------------------------


class _Progress:
    def __init__(self, stream: IO[str], size_of: Callable[[], float] | None) -> None:
        self.stream = stream
        self.size_of = size_of
        self.fraction: float | None = None
        self.t0 = time.monotonic()
        self.last = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < 0.2:
            return
        self.last = now
        frac = self.size_of() if self.size_of else self.fraction
        rate = done / (now - self.t0) if now > self.t0 else 0.0
        if frac is not None:
            frac = min(max(frac, 0.0), 1.0) if not final else 1.0
            filled = int(frac * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {frac * 100:5.1f}% "
        else:
            bar = ""
        self.stream.write(f"\r{bar}{done:,} records, {rate:,.0f}/s")
        if final:
            self.stream.write("\n")
        self.stream.flush()


# ----------------------------------------------------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------------------------------------------------


def _guess(path: str) -> FmtIn:
    low = path.lower()
    if low.endswith((".csv", ".csv.txt")):
        return "csv"
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    return "jsonl"


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_file(
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | IO[str],
    fmt_in: FmtIn | None = None,
    fmt_out: FmtOut = "jsonl",
    engine_factory: Callable[[], Any] | None = None,
    workers: int | None = None,
    as_of: dt.date | None = None,
    chunk_size: int = CHUNK,
    progress: bool | None = None,
    quiet: bool = False,
    resume: bool = False,
) -> BatchSummary:
    """Judge every transfer or deal in a file and write one output line (or row) per record, in input order.

    Args:
        path: Input file (``-`` is not supported: the pool needs a seekable source for progress; use a file).
        out: Output file path (or, for ``jsonl``, an open text stream).
        fmt_in: ``jsonl``, ``csv`` or ``parquet``; by default from the file name (``.csv``, ``.parquet``,
            otherwise JSON Lines).
        fmt_out: ``jsonl`` or ``parquet``.
        engine_factory: A picklable callable (a module-level function or :func:`functools.partial`) that
            builds the :class:`~sanctions.Engine`; called once per worker. Default: :func:`default_engine`.
        workers: Worker processes; ``None`` for one per core, ``0`` or ``1`` to judge in this process.
        as_of: Judge every record under the law in force on this date.
        chunk_size: Records per chunk.
        progress: Show a progress bar on stderr; default: only when stderr is a terminal.
        quiet: Do not print the summary to stderr.
        resume: Continue the interrupted run that wrote ``out`` (see "Interruption and resuming" above);
            its checkpoint must match the input and the output.

    Returns:
        The :class:`BatchSummary` (also printed to stderr as one line).

    Raises:
        InvalidInput: When the file as a whole cannot be read (unknown format, unknown flat columns), or
            ``resume`` finds no checkpoint or one that does not match the input and output.
            Bad *records* never raise: each becomes an error line and the run goes on.
    """
    t0 = time.monotonic()
    source = os.fspath(path)
    fmt = fmt_in or _guess(source)
    if fmt not in ("jsonl", "csv", "parquet"):
        raise InvalidInput(f"unknown input format {fmt!r}; use jsonl, csv or parquet")
    if fmt_out not in ("jsonl", "parquet"):
        raise InvalidInput(f"unknown output format {fmt_out!r}; use jsonl or parquet")
    committed = fmt == "jsonl" and fmt_out == "jsonl" and not hasattr(out, "write")
    if resume and not committed:
        raise InvalidInput("resuming needs JSON Lines input and a JSON Lines output file", source=source)
    factory = engine_factory or default_engine
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    summary = BatchSummary(workers=n_workers if n_workers > 1 else 0)
    show = sys.stderr.isatty() if progress is None else progress
    size = os.path.getsize(source) if fmt != "parquet" else 0
    out_path = os.fspath(out) if committed else ""  # type: ignore[arg-type]
    start = _Resume(_Prefix(), 0, hashlib.sha256(), BatchSummary(), False)
    if committed and not resume:
        checkpoint_path(out_path).unlink(missing_ok=True)  # a fresh run: an old checkpoint describes nothing now
    if resume:
        start = _load_checkpoint(source, out_path)
        summary.read, summary.judged, summary.rejected = start.summary.read, start.summary.judged, \
            start.summary.rejected
        summary.verdicts, summary.resumed = dict(start.summary.verdicts), start.summary.resumed

    stack: list[Any] = []
    bar: _Progress | None = None
    at: _Prefix | None = None
    try:
        chunks: Iterator[tuple[list[Record], Any]]
        if fmt == "jsonl":
            fb = open(source, "rb")
            stack.append(fb)
            bar = _Progress(sys.stderr, (lambda: fb.tell() / size) if size else None) if show else None
            if committed:
                at = start.prefix
                fb.seek(at.offset)
                chunks = _tracked_chunks(_read_jsonl_tracked(fb, source, at), chunk_size, at)
            else:
                chunks = ((c, None) for c in _chunks(read_jsonl(fb, source), chunk_size))
        elif fmt == "csv":
            ft = open(source, encoding="utf-8", newline="")
            stack.append(ft)
            bar = _Progress(sys.stderr, (lambda: ft.buffer.tell() / size) if size else None) if show else None
            chunks = ((c, None) for c in _chunks(read_csv(ft, source), chunk_size))
        else:
            bar = _Progress(sys.stderr, None) if show else None
            chunks = ((c, None) for c in _chunks(read_parquet(source, source, bar), chunk_size))
        writer: Any
        if committed:
            writer = _CommittedJsonlWriter(out_path, start.out_bytes, start.out_sha)
        else:
            writer = _JsonlWriter(out) if fmt_out == "jsonl" else _ParquetWriter(out)  # type: ignore[arg-type]
        last: list[Any] = [None]

        def consume(results: list[Result], snap: Any) -> None:
            writer.write(results)
            for r in results:
                summary.read += 1
                if r[2] is None:
                    summary.rejected += 1
                else:
                    summary.judged += 1
                    summary.verdicts[r[2]] = summary.verdicts.get(r[2], 0) + 1
            if committed:
                last[0] = snap
                _write_checkpoint(source, out_path, snap, writer.bytes, writer.sha, summary, False)
            if bar:
                bar.update(summary.read)

        try:
            if start.complete:
                pass
            elif n_workers <= 1:
                engine = factory()
                for chunk, snap in chunks:
                    consume(judge_chunk(chunk, source, engine, as_of), snap)
            else:
                with mp.get_context().Pool(n_workers, initializer=_init_worker, initargs=(factory, as_of)) as pool:
                    window: deque[Any] = deque()
                    limit = 2 * n_workers + 2
                    for chunk, snap in chunks:
                        window.append((pool.apply_async(_judge_in_worker, (chunk, source)), snap))
                        while len(window) >= limit:
                            job, sn = window.popleft()
                            consume(job.get(), sn)
                    while window:
                        job, sn = window.popleft()
                        consume(job.get(), sn)
            if committed:
                snap = last[0] if last[0] is not None else start.prefix.snapshot()
                _write_checkpoint(source, out_path, snap, writer.bytes, writer.sha, summary, True)
        finally:
            writer.close()
    finally:
        for f in stack:
            f.close()
    summary.seconds = time.monotonic() - t0
    if bar:
        bar.update(summary.read, final=True)
    if not quiet:
        print(summary.render(), file=sys.stderr)
    return summary


def _tracked_chunks(records: Iterator[Record], size: int, at: _Prefix) -> Iterator[tuple[list[Record], Any]]:
    """Chunks, each with the input prefix consumed up to its last record (taken before reading further)."""
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk, at.snapshot()
            chunk = []
    if chunk:
        yield chunk, at.snapshot()


def check_records(records: Iterable[dict[str, Any]], *, engine: Any = None, as_of: dt.date | None = None,
                  source: str = "<records>") -> Iterator[Result]:
    """Judge JSON-like records in this process, yielding results in order (the path Dask partitions use)."""
    engine = engine if engine is not None else default_engine()
    for chunk in _chunks(((n, r) for n, r in enumerate(records, 1)), CHUNK):
        yield from judge_chunk(chunk, source, engine, as_of)


__all__ = ["BatchSummary", "CHUNK", "FLAT_COLUMNS", "check_file", "checkpoint_path", "check_records", "default_engine", "engine_with_rules", "flatten",
           "judge_chunk", "read_csv", "read_jsonl", "read_parquet"]
