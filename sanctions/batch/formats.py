"""File formats of the batch path: JSON Lines and the flat CSV/Parquet layout, read and written.

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
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from sanctions.exc import FieldProblem, InvalidInput, InvalidTransfer


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


def _group(rows: Iterable[tuple[int, Any]], source: str) -> Iterator[Record]:
    """Consecutive rows with the same transfer_id -> one record (line of its first row); an error passes
    through as its own record."""
    current: list[dict[str, Any]] = []
    first_line = 0
    tid: Any = object()

    def flush() -> Record:
        try:
            return first_line, _transfer_from_rows(current)
        except (ValueError, TypeError, OverflowError) as err:  # a cell of a type the layout does not take
            return first_line, InvalidTransfer(f"the row cannot be read: {err}", source=source, record=first_line)
        except _FlatError as err:
            return first_line, InvalidTransfer(str(err), source=source, record=first_line,
                                               problems=[FieldProblem("transfer_id", str(err), current[0].get(
                                                   "transfer_id"))])

    for line, row in rows:
        if isinstance(row, InvalidInput):
            if current:
                yield flush()
            current, tid = [], object()
            yield line, row
            continue
        row = {k: _cell(v) for k, v in row.items() if k is not None}
        if current and row.get("transfer_id") == tid and tid is not None:
            current.append(row)
            continue
        if current:
            yield flush()
        current, first_line, tid = [row], line, row.get("transfer_id")
    if current:
        yield flush()


CSV_FIELD_LIMIT = 64 * 1024 * 1024
"""The longest CSV field read (64 MiB, the size limit of a record); a longer one is reported, not read."""


def read_csv(f: IO[str], source: str) -> Iterator[Record]:
    """Records of a flat-layout CSV file (text mode, ``newline=''``).

    A row with fewer or more fields than the header, a quoted field that is never closed, a field longer
    than :data:`CSV_FIELD_LIMIT` or a malformed quote is reported as an error record naming its line; the
    rows after it are still read.
    """
    # The csv module's default limit (131,072 characters) is process-wide; raise it to the record limit so
    # that a long notes cell is judged, and a field past even that becomes a per-row error.
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(f, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as err:
        raise InvalidInput(f"the CSV header cannot be read: {err}", source=source, record=1) from None
    header = [h.strip() for h in header]
    unknown = [c for c in header if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in {source}: {', '.join(unknown)}", source=source, record=1,
                           problems=[FieldProblem(c, "unknown column", None, _nearest_column(c))
                                     for c in unknown])
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise InvalidInput(f"columns named twice in {source}: {', '.join(dupes)}", source=source, record=1)

    def rows() -> Iterator[tuple[int, Any]]:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                msg = str(err)
                if "unexpected end of data" in msg:
                    msg = (f"a quoted field opened on line {line} is never closed (lines {line} to "
                           f"{reader.line_num}, the end of the file, are inside it)")
                elif "field larger than field limit" in msg:
                    msg = f"a field is longer than {CSV_FIELD_LIMIT // (1024 * 1024)} MiB"
                else:
                    msg = f"malformed CSV: {msg}"
                yield line, InvalidTransfer(msg, source=source, record=line)
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip() and len(header) > 1):
                continue  # a blank line
            if len(cells) != len(header):
                yield line, InvalidTransfer(
                    f"the row has {len(cells)} field{'s' if len(cells) != 1 else ''}, the header "
                    f"{len(header)}", source=source, record=line,
                    problems=[FieldProblem("", "a field is missing, or an unquoted comma adds one", None)])
                continue
            yield line, dict(zip(header, cells))

    yield from _group(rows(), source)


def _nearest_column(name: str) -> str:
    import difflib

    near = difflib.get_close_matches(name.strip().lower(), FLAT_COLUMNS, n=2, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in near)}?" if near else ""


def open_parquet(path: str | Path, source: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``, or an :class:`InvalidInput` when pyarrow is missing (with how to install
    it) or the file is not Parquet."""
    pq = _pyarrow_parquet("reading Parquet input")
    try:
        return pq.ParquetFile(path)
    except OSError as err:
        if err.errno is not None:
            raise InvalidInput(f"cannot read: {err.strerror or err}", source=source) from None
        raise InvalidInput(f"not a Parquet file ({err})", source=source) from None
    except Exception as err:  # pyarrow's ArrowInvalid and kin: not a Parquet file
        raise InvalidInput(f"not a Parquet file ({err})", source=source) from None


def read_parquet(path: str | Path, source: str, progress: Any = None) -> Iterator[Record]:
    """Records of a flat-layout Parquet file, read one row group at a time."""
    pf = open_parquet(path, source)
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
    if isinstance(date, dict) and date.get("precision") in ("year", "month"):  # a coarse date keeps its precision
        start, end = str(start)[:4 if date["precision"] == "year" else 7], None
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


def _pyarrow_parquet(what: str) -> Any:
    """``pyarrow.parquet``, or an :class:`InvalidInput` saying how to install it (it is an optional extra)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidInput(f"{what} needs pyarrow, which is not installed: pip install 'sanctions[batch]' "
                           "(or pip install pyarrow), or use JSON Lines or CSV") from None
    return pq


class _ParquetWriter:
    def __init__(self, out: str | Path) -> None:
        pq = _pyarrow_parquet("writing Parquet output")
        import pyarrow as pa

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


def _guess(path: str) -> FmtIn:
    low = path.lower()
    if low.endswith((".csv", ".csv.txt")):
        return "csv"
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    return "jsonl"
