"""File formats of the batch path: JSON Lines and the flat CSV/Parquet layout, read and written.

Inputs (``fmt_in``; guessed from the file name when ``None``)
    ``jsonl``
        JSON Lines: one transfer or one deal (an object with ``transfers``) per line; blank lines are skipped.
        ``line`` in an error is the physical line number, from 1.
    ``csv`` and ``parquet``: the *flat layout*
        One row per item, the transfer's columns repeated on each of its rows; the rows of one transfer are
        consecutive and share ``transfer_id``. A transfer without items is one row with empty item columns.
        Flat files hold transfers only (no deals). Every field of a transfer and of its items has a column
        (:data:`FIELD_COLUMNS`), so a flat file says all that the JSON says. All columns are optional except where
        the model requires the field; a column left out, an empty cell or a null is "absent" (the field's
        default), so a file of the first layout (the columns up to ``item_end_user``) reads as it always has.
        Columns, in the order :func:`flatten` writes them:

        ==============================  ===========================================================
        ``transfer_id``                 the transfer's id
        ``date_start, date_end``        ISO dates, ``date_end`` empty for a one-day transfer; a
                                        ``date_end`` given is a period ``{start, end}``; a year
                                        (``2017``) or a month (``2019-09``) in ``date_start`` is a
                                        date of that precision (the day not known)
        ``kind, purpose``               as in the model (``purpose`` may be ``unknown``)
        ``supplier_name, supplier_country, supplier_kind``
        ``recipient_name, recipient_country, recipient_kind``
                                        the parties (``*_country`` may be ``unknown``)
        ``origin_country, destination_country``
        ``vessel_name, vessel_imo, vessel_flag``
        ``ship_to_ship``                ``true``/``false`` (or a boolean column)
        ``sts_vessel_name, sts_vessel_imo, sts_vessel_flag``
        ``route_json, intermediaries_json, notifications_json, exemptions_json``
                                        the model's lists, as JSON text
        ``notes``
        ``item_description, item_hs_code, item_category, item_quantity, item_unit, item_value,
        item_currency, item_origin_country, item_end_use, item_end_user``
                                        the item of the row (``item_quantity`` with ``item_unit`` is
                                        its quantity, ``item_value`` with ``item_currency`` its value)
        ``destination_subdivision``     ISO 3166-2 region of the destination (``SD-DN``)
        ``notified``                    ``true``, ``false`` or ``unknown`` (empty: true exactly when
                                        notifications are listed)
        ``transport_json``              the transport modes, a JSON list (``["sea", "road"]``)
        ``end_user_json``               the transfer's end user, a JSON object (``kind``, ``name``,
                                        ``country``, ``organisation``)
        ``contract_json``               the contract, a JSON object (``date``, ``written``)
        ``supplier_identifiers_json, supplier_aliases_json, recipient_identifiers_json,
        recipient_aliases_json``        a party's identifiers (JSON object) and aliases (JSON list)
        ``item_condition``              ``new`` or ``used``
        ``item_subject``                what a service, technology or servicing relates to (may be
                                        ``unknown``)
        ``item_servicing``              ``repair``, ``maintenance``, ``overhaul`` or ``servicing``
        ``item_hs_alternatives_json``   the item's other HS codes, a JSON list (``["8704", "8701-8705"]``)
        ==============================  ===========================================================

        A ``*_json`` column holds JSON text (in Parquet, a native list or struct column is read as it is).
        :func:`flatten` writes these rows from a transfer's JSON and refuses, naming the field, anything it has
        no column for: a flat file never judges less than the JSON it was made from.

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

_TRANSFER_COLUMNS_V1 = (
    "transfer_id", "date_start", "date_end", "kind", "purpose",
    "supplier_name", "supplier_country", "supplier_kind",
    "recipient_name", "recipient_country", "recipient_kind",
    "origin_country", "destination_country",
    "vessel_name", "vessel_imo", "vessel_flag", "ship_to_ship",
    "sts_vessel_name", "sts_vessel_imo", "sts_vessel_flag",
    "route_json", "intermediaries_json", "notifications_json", "exemptions_json", "notes",
)
_ITEM_COLUMNS_V1 = (
    "item_description", "item_hs_code", "item_category", "item_quantity", "item_unit", "item_value",
    "item_currency", "item_origin_country", "item_end_use", "item_end_user",
)
# Columns added since the first layout: appended after it, so that a file of the first layout reads as before.
_TRANSFER_COLUMNS_V2 = (
    "destination_subdivision", "notified", "transport_json", "end_user_json", "contract_json",
    "supplier_identifiers_json", "supplier_aliases_json", "recipient_identifiers_json", "recipient_aliases_json",
)
_ITEM_COLUMNS_V2 = ("item_condition", "item_subject", "item_servicing", "item_hs_alternatives_json")

TRANSFER_COLUMNS = _TRANSFER_COLUMNS_V1 + _TRANSFER_COLUMNS_V2
"""The columns of the flat layout that belong to the transfer (the same on every row of one transfer)."""
ITEM_COLUMNS = _ITEM_COLUMNS_V1 + _ITEM_COLUMNS_V2
"""The columns of the flat layout that belong to one item (one row)."""
FLAT_COLUMNS = _TRANSFER_COLUMNS_V1 + _ITEM_COLUMNS_V1 + _TRANSFER_COLUMNS_V2 + _ITEM_COLUMNS_V2
"""Columns of the flat layout (CSV and Parquet), in this order when written by :func:`flatten`."""

FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "transfer.id": ("transfer_id",),
    "transfer.date": ("date_start", "date_end"),
    "transfer.kind": ("kind",),
    "transfer.purpose": ("purpose",),
    "transfer.supplier.name": ("supplier_name",),
    "transfer.supplier.country": ("supplier_country",),
    "transfer.supplier.kind": ("supplier_kind",),
    "transfer.supplier.identifiers": ("supplier_identifiers_json",),
    "transfer.supplier.aliases": ("supplier_aliases_json",),
    "transfer.recipient.name": ("recipient_name",),
    "transfer.recipient.country": ("recipient_country",),
    "transfer.recipient.kind": ("recipient_kind",),
    "transfer.recipient.identifiers": ("recipient_identifiers_json",),
    "transfer.recipient.aliases": ("recipient_aliases_json",),
    "transfer.intermediaries": ("intermediaries_json",),
    "transfer.origin_country": ("origin_country",),
    "transfer.destination_country": ("destination_country",),
    "transfer.route": ("route_json",),
    "transfer.transport": ("transport_json",),
    "transfer.vessel.name": ("vessel_name",),
    "transfer.vessel.imo": ("vessel_imo",),
    "transfer.vessel.flag": ("vessel_flag",),
    "transfer.ship_to_ship": ("ship_to_ship",),
    "transfer.sts_vessel.name": ("sts_vessel_name",),
    "transfer.sts_vessel.imo": ("sts_vessel_imo",),
    "transfer.sts_vessel.flag": ("sts_vessel_flag",),
    "transfer.destination_subdivision": ("destination_subdivision",),
    "transfer.end_user": ("end_user_json",),
    "transfer.notifications": ("notifications_json",),
    "transfer.notified": ("notified",),
    "transfer.exemptions": ("exemptions_json",),
    "transfer.contract": ("contract_json",),
    "transfer.notes": ("notes",),
    "item.description": ("item_description",),
    "item.hs_code": ("item_hs_code",),
    "item.category": ("item_category",),
    "item.quantity.value": ("item_quantity",),
    "item.quantity.unit": ("item_unit",),
    "item.value.amount": ("item_value",),
    "item.value.currency": ("item_currency",),
    "item.origin_country": ("item_origin_country",),
    "item.end_use": ("item_end_use",),
    "item.end_user": ("item_end_user",),
    "item.condition": ("item_condition",),
    "item.hs_alternatives": ("item_hs_alternatives_json",),
    "item.subject": ("item_subject",),
    "item.servicing": ("item_servicing",),
}
"""Where each field of a transfer and of its items is written in the flat layout (a field of a nested object
with columns of its own, such as ``supplier.name``, is named down to that field; an object or list written whole
as JSON text is named once). A field missing here has no column: :func:`flatten` refuses a transfer that gives it."""

_JSON_TRANSFER = {"route": "route_json", "intermediaries": "intermediaries_json",
                  "notifications": "notifications_json", "exemptions": "exemptions_json",
                  "transport": "transport_json", "end_user": "end_user_json", "contract": "contract_json"}
_PLAIN_TRANSFER = {"kind": "kind", "purpose": "purpose", "origin_country": "origin_country",
                   "destination_country": "destination_country", "destination_subdivision": "destination_subdivision",
                   "notes": "notes"}
_PLAIN_ITEM = {"description": "item_description", "hs_code": "item_hs_code", "category": "item_category",
               "origin_country": "item_origin_country", "end_use": "item_end_use", "end_user": "item_end_user",
               "condition": "item_condition", "subject": "item_subject", "servicing": "item_servicing"}
_JSON_ITEM = {"hs_alternatives": "item_hs_alternatives_json"}
_JSON_PARTY = ("identifiers", "aliases")


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


def _json_cell(row: dict[str, Any], col: str) -> Any:
    """The value of a ``*_json`` column: JSON text parsed, a native (Parquet list or struct) value as it is."""
    text = row.get(col)
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _FlatError(f"{col} is not valid JSON ({err})") from None


def _party(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    name, country, kind = row.get(prefix + "_name"), row.get(prefix + "_country"), row.get(prefix + "_kind")
    extra = {k: _json_cell(row, f"{prefix}_{k}_json") for k in _JSON_PARTY}
    extra = {k: v for k, v in extra.items() if v is not None}
    if name is None and country is None and kind is None and not extra:
        return None
    out = {"name": name, "country": country}
    if kind is not None:
        out["kind"] = kind
    out.update(extra)
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
    # a date_end given is a period, even of one day (flatten writes it only for a period)
    t["date"] = {"start": start, "end": end} if end is not None else start
    for key, col in _PLAIN_TRANSFER.items():
        if head.get(col) is not None:
            t[key] = head[col]
    t["supplier"] = _party(head, "supplier")
    t["recipient"] = _party(head, "recipient")
    for prefix in ("vessel", "sts_vessel"):
        v = _vessel(head, prefix)
        if v is not None:
            t[prefix] = v
    if head.get("ship_to_ship") is not None:
        t["ship_to_ship"] = _bool(head["ship_to_ship"])
    if head.get("notified") is not None:
        t["notified"] = _bool(head["notified"])  # true, false or "unknown"
    for key, col in _JSON_TRANSFER.items():
        value = _json_cell(head, col)
        if value is not None:
            t[key] = value
    items = []
    for r in rows:
        if r.get("item_description") is None and all(r.get(c) is None for c in ITEM_COLUMNS):
            continue
        item: dict[str, Any] = {"description": r.get("item_description")}
        for key, col in _PLAIN_ITEM.items():
            if key != "description" and r.get(col) is not None:
                item[key] = str(r[col]) if col == "item_hs_code" else r[col]
        if r.get("item_quantity") is not None or r.get("item_unit") is not None:
            item["quantity"] = {"value": _num(r.get("item_quantity")), "unit": r.get("item_unit")}
        if r.get("item_value") is not None:
            money: dict[str, Any] = {"amount": _num(r["item_value"])}
            if r.get("item_currency") is not None:
                money["currency"] = r["item_currency"]
            item["value"] = money
        for key, col in _JSON_ITEM.items():
            value = _json_cell(r, col)
            if value is not None:
                item[key] = value
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


_TRANSFER_KEYS = frozenset({"id", "date", "supplier", "recipient", "vessel", "sts_vessel", "ship_to_ship", "notified",
                            "items"} | set(_PLAIN_TRANSFER) | set(_JSON_TRANSFER))
_PARTY_KEYS = frozenset({"name", "country", "kind", *_JSON_PARTY})
_VESSEL_KEYS = frozenset({"name", "imo", "flag"})
_ITEM_KEYS = frozenset({"quantity", "value"} | set(_PLAIN_ITEM) | set(_JSON_ITEM))
_QUANTITY_KEYS = frozenset({"value", "unit"})
_MONEY_KEYS = frozenset({"amount", "currency"})
_DATE_KEYS = frozenset({"start", "end", "precision"})
FLATTENED_KEYS: dict[str, frozenset[str]] = {
    "Transfer": _TRANSFER_KEYS, "Party": _PARTY_KEYS, "Vessel": _VESSEL_KEYS, "Item": _ITEM_KEYS,
    "Quantity": _QUANTITY_KEYS, "Money": _MONEY_KEYS, "CoarseDate": _DATE_KEYS,
}
"""The keys :func:`flatten` writes to columns of their own, per object; any other key is refused (objects and lists
written whole as JSON text, such as ``route`` or ``end_user``, keep every key they have)."""


def _flat_refused(path: str, message: str, value: Any) -> InvalidTransfer:
    return InvalidTransfer(f"cannot write {path or 'the transfer'} in the flat layout: {message}",
                           problems=[FieldProblem(path, message, value)])


def _object(value: Any, path: str, keys: frozenset[str]) -> dict[str, Any]:
    """A JSON object of the transfer ({} for none), its keys checked against those the layout has columns for."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _flat_refused(path, f"expected an object, got {type(value).__name__}", value)
    extra = sorted(str(k) for k in value if k not in keys)
    if extra:
        where = ", ".join(f"{path}.{k}" if path else k for k in extra)
        raise _flat_refused(where, "no column of the flat layout holds this field", value[extra[0]])
    return value


def _scalar(value: Any, path: str) -> Any:
    """A value for a plain column: a string, number, boolean or date (an object or list there would be mangled)."""
    if value is None or isinstance(value, str | int | float | bool | dt.date):
        return value
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum member
        return value.value
    raise _flat_refused(path, f"expected a single value, got {type(value).__name__}", value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str | int | float | bool):  # an enum member
        return value.value
    if hasattr(value, "model_dump"):  # a model inside JSON-like data
        return value.model_dump(mode="json", exclude_none=True)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json_text(value: Any, path: str) -> str | None:
    """The JSON text of a ``*_json`` column; None for nothing given (None, or an empty list or object: the
    model's default)."""
    if value is None or (isinstance(value, list | dict) and not value):
        return None
    try:
        return json.dumps(value, sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as err:
        raise _flat_refused(path, f"cannot be written as JSON ({err})", None) from None


def flatten(subject: dict[str, Any]) -> list[dict[str, Any]]:
    """The flat-layout rows of one transfer given as JSON-like data (the inverse of the flat reader).

    Every field of the transfer is written: read back, the rows give the same transfer as the data (see
    :data:`FIELD_COLUMNS`). Each row has every column of :data:`FLAT_COLUMNS`, ``None`` for nothing given.

    Raises:
        InvalidTransfer: naming the field, for a field the layout has no column for (a key the model does not
            have either, or one added to the model after the layout) or a value of a shape a column cannot
            hold (an object where a single value belongs); nothing is dropped.
    """
    t = _object(subject, "", _TRANSFER_KEYS)
    date = t.get("date")
    if isinstance(date, dict):
        _object(date, "date", _DATE_KEYS)
        start, end = date.get("start"), date.get("end")
        if date.get("precision") in ("year", "month"):  # a coarse date keeps its precision: "2017", "2019-09"
            start, end = _date(start), None
            start = str(start)[:4 if date["precision"] == "year" else 7]
        elif date.get("precision") is not None:
            raise _flat_refused("date.precision", "expected 'year' or 'month'", date["precision"])
        elif end is None:  # read back it would be a one-day date, not the incomplete period given
            raise _flat_refused("date.end", "a period needs its end", date)
    else:
        start, end = date, None
    head: dict[str, Any] = {c: None for c in FLAT_COLUMNS}
    head.update({"transfer_id": _scalar(t.get("id"), "id"), "date_start": _scalar(start, "date.start"),
                 "date_end": _scalar(end, "date.end")})
    for key, col in _PLAIN_TRANSFER.items():
        head[col] = _scalar(t.get(key), key)
    for p in ("supplier", "recipient"):
        party = _object(t.get(p), p, _PARTY_KEYS)
        head.update({f"{p}_name": _scalar(party.get("name"), f"{p}.name"),
                     f"{p}_country": _scalar(party.get("country"), f"{p}.country"),
                     f"{p}_kind": _scalar(party.get("kind"), f"{p}.kind")})
        for k in _JSON_PARTY:
            head[f"{p}_{k}_json"] = _json_text(party.get(k), f"{p}.{k}")
    for p in ("vessel", "sts_vessel"):
        v = _object(t.get(p), p, _VESSEL_KEYS)
        head.update({f"{p}_name": _scalar(v.get("name"), f"{p}.name"), f"{p}_imo": _scalar(v.get("imo"), f"{p}.imo"),
                     f"{p}_flag": _scalar(v.get("flag"), f"{p}.flag")})
    for key in ("ship_to_ship", "notified"):
        value = _scalar(t.get(key), key)
        head[key] = ("true" if value else "false") if isinstance(value, bool) else value
    for key, col in _JSON_TRANSFER.items():
        head[col] = _json_text(t.get(key), key)
    items = t.get("items")
    if items is not None and not isinstance(items, list):
        raise _flat_refused("items", f"expected a list, got {type(items).__name__}", items)
    rows = []
    for i, raw in enumerate(items or [None]):
        row = dict(head)
        if raw is not None:
            path = f"items[{i}]"
            item = _object(raw, path, _ITEM_KEYS)
            q = _object(item.get("quantity"), path + ".quantity", _QUANTITY_KEYS)
            v = _object(item.get("value"), path + ".value", _MONEY_KEYS)
            if v.get("currency") is not None and v.get("amount") is None:
                raise _flat_refused(path + ".value.amount", "a currency is read only with an amount", None)
            for key, col in _PLAIN_ITEM.items():
                row[col] = _scalar(item.get(key), f"{path}.{key}")
            row.update({"item_quantity": _scalar(q.get("value"), path + ".quantity.value"),
                        "item_unit": _scalar(q.get("unit"), path + ".quantity.unit"),
                        "item_value": _scalar(v.get("amount"), path + ".value.amount"),
                        "item_currency": _scalar(v.get("currency"), path + ".value.currency")})
            for key, col in _JSON_ITEM.items():
                row[col] = _json_text(item.get(key), f"{path}.{key}")
            if all(row[c] is None for c in ITEM_COLUMNS):  # read back, a row of nothing is no item
                raise _flat_refused(path, "an item that gives nothing has no row in the flat layout", raw)
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
