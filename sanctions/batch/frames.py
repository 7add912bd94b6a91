"""Readers of the columnar path: JSON Lines and the flat CSV/Parquet layout into :class:`~sanctions.evaluate.columnar.Frame`.

Both readers build Arrow arrays for a whole chunk at once; a line they cannot put in a frame (a deal, an
explicit ``null``, a field or a shape the frame has no column for, JSON that does not parse) is not guessed at:
it is left out of the frame with a reason, and the row path judges it (and reports its error, if it has one).

JSON Lines
    Lines are parsed by Arrow's JSON reader against an explicit schema of the fields the columnar path builds
    facts from, in two groups (a ``date`` given as a string, or as ``{"start", "end"}``). Fields outside the
    schema are read too, and every line that gives one goes to the row path. When a group does not parse as a
    whole (a line that is not JSON, a number where a string belongs), it is halved until the lines at fault are
    found, and those go to the row path.

The flat layout
    Rows of one transfer are consecutive and share ``transfer_id`` (see :mod:`sanctions.batch.formats`); cells
    are stripped and an empty cell is absent, as the row reader does. ``route_json``, ``notifications_json`` and
    ``exemptions_json`` are parsed by Arrow's JSON reader. A transfer that gives, on any of its rows, a column the
    frame does not hold (``intermediaries_json``, ``vessel_imo``, the columns added to the layout for
    ``destination_subdivision``, ``end_user``, ``contract``, ``notified``, ``transport``, item ``condition``,
    ``subject``, ``servicing``, ``hs_alternatives``, ...: every column not in ``_READ``) goes to the row path, counted
    as ``<column> given``. A transfer whose rows disagree on a transfer column goes to the row path, which reports it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from sanctions.evaluate.columnar import Frame

_S = pa.string()
_PARTY = pa.struct([("name", _S), ("country", _S), ("kind", _S)])
_ROUTE = pa.list_(pa.struct([("port", _S), ("country", _S), ("role", _S)]))
_NOTIF = pa.list_(pa.struct([("date", _S), ("reference", _S)]))
_EXEMPT = pa.list_(pa.struct([("reference", _S), ("purpose", _S)]))
_ITEM = pa.struct([("description", _S), ("hs_code", _S), ("category", _S),
                   ("quantity", pa.struct([("value", pa.float64()), ("unit", _S)])),
                   ("value", pa.struct([("amount", pa.float64()), ("currency", _S)])),
                   ("origin_country", _S), ("end_use", _S), ("end_user", _S)])


def _schema(date: pa.DataType) -> pa.Schema:
    return pa.schema([("id", _S), ("date", date), ("kind", _S), ("purpose", _S), ("supplier", _PARTY),
                      ("recipient", _PARTY), ("origin_country", _S), ("destination_country", _S),
                      ("vessel", pa.struct([("name", _S), ("flag", _S)])), ("ship_to_ship", pa.bool_()),
                      ("route", _ROUTE), ("notifications", _NOTIF), ("exemptions", _EXEMPT), ("notes", _S),
                      ("items", pa.list_(_ITEM))])


SCHEMA_DAY = _schema(_S)
SCHEMA_RANGE = _schema(pa.struct([("start", _S), ("end", _S)]))
T_COLUMNS = ("id", "date_start", "date_end", "kind", "purpose", "supplier_name", "supplier_country", "supplier_kind",
             "recipient_name", "recipient_country", "recipient_kind", "origin_country", "destination_country",
             "vessel_name", "vessel_flag", "ship_to_ship", "route", "notifications", "exemptions", "notes")
I_COLUMNS = ("description", "hs_code", "category", "quantity", "unit", "value", "currency", "origin_country",
             "end_use", "end_user")


def _nonnull(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), dtype=bool)


def _extra(arr: pa.Array, want: pa.DataType | None) -> np.ndarray:
    """Per element: it gives something the expected type has no place for (a field, or a shape)."""
    n = len(arr)
    if want is None:
        return _nonnull(arr)
    if pa.types.is_struct(want):
        if not pa.types.is_struct(arr.type):
            return _nonnull(arr)
        out = np.zeros(n, dtype=bool)
        names = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        valid = _nonnull(arr)
        for i in range(arr.type.num_fields):
            f = arr.type.field(i)
            out |= _extra(arr.field(i), names.get(f.name)) & valid
        return out
    if pa.types.is_list(want):
        if not pa.types.is_list(arr.type):
            return _nonnull(arr)
        flat = pc.list_flatten(arr)
        if not len(flat):
            return np.zeros(n, dtype=bool)
        parent = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
        bad = _extra(flat, want.value_type)
        out = np.zeros(n, dtype=bool)
        out[parent[bad]] = True
        return out
    return np.zeros(n, dtype=bool) if arr.type == want else _nonnull(arr)


def _read(texts: Sequence[str], schema: pa.Schema) -> pa.Table:
    data = ("\n".join(texts) + "\n").encode("utf-8")
    return pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
                        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer"))


def _read_split(texts: Sequence[str], pos: list[int], schema: pa.Schema, tables: list[tuple[pa.Table, list[int]]],
                bad: list[int]) -> None:
    """Read ``texts``; on failure halve until the lines that fail are single (those go to ``bad``)."""
    if not texts:
        return
    try:
        table = _read(texts, schema)
        if table.num_rows != len(texts):
            raise pa.ArrowInvalid("row count")
        tables.append((table, pos))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeEncodeError):
        if len(texts) == 1:
            bad.append(pos[0])
            return
        h = len(texts) // 2
        _read_split(texts[:h], pos[:h], schema, tables, bad)
        _read_split(texts[h:], pos[h:], schema, tables, bad)


def _frame_of(table: pa.Table, ranged: bool) -> tuple[dict[str, pa.Array], dict[str, pa.Array], np.ndarray, np.ndarray]:
    tb = table.combine_chunks()
    col = {name: tb.column(name).combine_chunks() if tb.column(name).num_chunks else pa.array([], tb.column(name).type)
           for name in tb.column_names}
    n = tb.num_rows
    schema = SCHEMA_RANGE if ranged else SCHEMA_DAY
    extra = np.zeros(n, dtype=bool)
    for name, arr in col.items():
        want = schema.field(name).type if name in schema.names else None
        extra |= _extra(arr, want)
    date = col["date"]
    if ranged:
        start, end = date.field("start"), date.field("end")
        extra |= ~_nonnull(end)  # a range without its end: the row path says what is wrong
    else:
        start, end = date, pa.nulls(n, _S)
    sup, rec, ves = col["supplier"], col["recipient"], col["vessel"]
    t = {"id": col["id"], "date_start": start, "date_end": end, "kind": col["kind"], "purpose": col["purpose"],
         "supplier_name": sup.field("name"), "supplier_country": sup.field("country"), "supplier_kind": sup.field("kind"),
         "recipient_name": rec.field("name"), "recipient_country": rec.field("country"),
         "recipient_kind": rec.field("kind"), "origin_country": col["origin_country"],
         "destination_country": col["destination_country"], "vessel_name": ves.field("name"),
         "vessel_flag": ves.field("flag"), "ship_to_ship": col["ship_to_ship"], "route": col["route"],
         "notifications": col["notifications"], "exemptions": col["exemptions"], "notes": col["notes"]}
    items = col["items"]
    parent = np.asarray(pc.list_parent_indices(items).to_numpy(zero_copy_only=False), dtype=np.int64)
    flat = pc.list_flatten(items)
    q, v = flat.field("quantity"), flat.field("value")
    # a quantity or value object present but empty of its fields is the row path's to judge
    qv, qu, va = q.field("value"), q.field("unit"), v.field("amount")
    it = {"description": flat.field("description"), "hs_code": flat.field("hs_code"), "category": flat.field("category"),
          "quantity": qv, "unit": qu, "value": va, "currency": v.field("currency"),
          "origin_country": flat.field("origin_country"), "end_use": flat.field("end_use"),
          "end_user": flat.field("end_user")}
    half = (_nonnull(q) & ~(_nonnull(qv) & _nonnull(qu))) | (_nonnull(v) & ~_nonnull(va))
    if len(parent):
        extra[parent[half]] = True
    return t, it, parent, extra


def _concat(parts: list[tuple[dict[str, pa.Array], dict[str, pa.Array], np.ndarray, np.ndarray]]
            ) -> tuple[dict[str, pa.Array], dict[str, pa.Array], np.ndarray, np.ndarray]:
    t = {k: pa.concat_arrays([p[0][k].cast(parts[0][0][k].type) if p[0][k].type != parts[0][0][k].type else p[0][k]
                              for p in parts]) for k in T_COLUMNS}
    it = {k: pa.concat_arrays([p[1][k] for p in parts]) for k in I_COLUMNS}
    offs = np.cumsum([0] + [len(p[3]) for p in parts])
    parent = np.concatenate([p[2] + offs[i] for i, p in enumerate(parts)]) if parts else np.zeros(0, np.int64)
    extra = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, bool)
    return t, it, parent.astype(np.int64), extra


def _empty_frame() -> Frame:
    t = {k: pa.array([], pa.bool_() if k == "ship_to_ship" else (_ROUTE if k == "route" else _NOTIF if k ==
                                                                  "notifications" else _EXEMPT if k == "exemptions"
                                                                  else _S)) for k in T_COLUMNS}
    it = {k: pa.array([], pa.float64() if k in ("quantity", "value") else _S) for k in I_COLUMNS}
    return Frame(t, it, np.zeros(0, np.int64), np.zeros(0, dtype=object))


def frame_from_jsonl(texts: Sequence[str]) -> tuple[Frame, list[int], dict[int, str]]:
    """A frame of JSON Lines records.

    Returns:
        (frame, positions, left_out): frame row ``r`` is ``texts[positions[r]]``; ``left_out`` maps the position
        of every text not in the frame to the reason.
    """
    left: dict[int, str] = {}
    arr = pa.array(texts, pa.large_string())
    deal = np.asarray(pc.match_substring_regex(arr, r'"transfers"\s*:').to_numpy(zero_copy_only=False), dtype=bool)
    null = np.asarray(pc.match_substring_regex(arr, r':\s*null\b').to_numpy(zero_copy_only=False), dtype=bool)
    ranged = np.asarray(pc.match_substring_regex(arr, r'"date"\s*:\s*\{').to_numpy(zero_copy_only=False), dtype=bool)
    groups: dict[bool, list[int]] = {False: [], True: []}
    for i in range(len(texts)):
        if deal[i]:
            left[i] = "deal"
        elif null[i]:
            left[i] = "explicit null"
        else:
            groups[bool(ranged[i])].append(i)
    parts = []
    positions: list[int] = []
    for is_range, pos in groups.items():
        tables: list[tuple[pa.Table, list[int]]] = []
        bad: list[int] = []
        _read_split([texts[i] for i in pos], pos, SCHEMA_RANGE if is_range else SCHEMA_DAY, tables, bad)
        for i in bad:
            left[i] = "not in the JSON shape the columnar path reads"
        for table, tpos in tables:
            parts.append(_frame_of(table, is_range))
            positions.extend(tpos)
    if not parts:
        return _empty_frame(), [], left
    t, it, parent, extra = _concat(parts)
    routed = np.where(extra, "field or shape the columnar path does not read", "").astype(object)
    return Frame(t, it, parent, routed), positions, left


# ----------------------------------------------------------------------------------------------------------------
# The flat layout
# ----------------------------------------------------------------------------------------------------------------


_FLAT_T = {"id": "transfer_id", "date_start": "date_start", "date_end": "date_end", "kind": "kind",
           "purpose": "purpose", "supplier_name": "supplier_name", "supplier_country": "supplier_country",
           "supplier_kind": "supplier_kind", "recipient_name": "recipient_name",
           "recipient_country": "recipient_country", "recipient_kind": "recipient_kind",
           "origin_country": "origin_country", "destination_country": "destination_country",
           "vessel_name": "vessel_name", "vessel_flag": "vessel_flag", "notes": "notes"}
_FLAT_I = {"description": "item_description", "hs_code": "item_hs_code", "category": "item_category",
           "quantity": "item_quantity", "unit": "item_unit", "value": "item_value", "currency": "item_currency",
           "origin_country": "item_origin_country", "end_use": "item_end_use", "end_user": "item_end_user"}
_READ = frozenset(_FLAT_T.values()) | frozenset(_FLAT_I.values()) | {"ship_to_ship", "route_json",
                                                                     "notifications_json", "exemptions_json"}
"""The flat columns a frame holds. A transfer giving any other column on any of its rows (``vessel_imo``,
``intermediaries_json``, ``end_user_json``, ``notified``, ``item_subject``, a column added to the layout later, ...)
goes to the row path: the columns would otherwise judge it as if that field were absent."""


def _cells(arr: pa.Array) -> pa.Array:
    """A flat column as the row reader sees it: strings stripped, empty strings and NaN absent."""
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        s = pc.utf8_trim_whitespace(arr.cast(_S))
        return pc.if_else(pc.equal(s, ""), pa.scalar(None, _S), s)
    if pa.types.is_floating(arr.type):
        return pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    if pa.types.is_null(arr.type):
        return arr.cast(_S)
    return arr


def _json_list(arr: pa.Array, typ: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """A column of JSON texts (lists) parsed by Arrow, and per row whether it could not be."""
    n = len(arr)
    bad = np.zeros(n, dtype=bool)
    given = _nonnull(arr)
    if not given.any():
        return pa.nulls(n, typ), bad
    idx = np.nonzero(given)[0]
    texts = pc.take(arr.cast(_S), pa.array(idx)).to_pylist()
    wrapped = ['{"v":' + x + "}" for x in texts]
    tables: list[tuple[pa.Table, list[int]]] = []
    failed: list[int] = []
    _read_split(wrapped, list(range(len(wrapped))), pa.schema([("v", typ)]), tables, failed)
    parsed: list[tuple[pa.Array, list[int]]] = []
    for table, pos in tables:
        v = table.column("v").combine_chunks()
        extra = _extra(v, typ) | ~_nonnull(v)
        for j, p in enumerate(pos):
            if extra[j]:
                bad[idx[p]] = True
        if v.type != typ:
            # a field outside the schema (a notification's ``to``) gave the whole group another type: its rows
            # go to the row path, the others are read again alone, which gives them the schema's type
            keep = [p for j, p in enumerate(pos) if not extra[j]]
            again: list[tuple[pa.Table, list[int]]] = []
            failed_again: list[int] = []
            _read_split([wrapped[p] for p in keep], keep, pa.schema([("v", typ)]), again, failed_again)
            failed += failed_again
            for t2, pos2 in again:
                v2 = t2.column("v").combine_chunks()
                if v2.type == typ:
                    parsed.append((v2, pos2))
                else:
                    failed += pos2
        else:
            parsed.append((v, pos))
    bad[idx[failed]] = True
    # assemble in row order: take from the concatenation of the parsed arrays
    if parsed:
        allv = pa.concat_arrays([v for v, _ in parsed])
        order = np.full(n, -1, dtype=np.int64)
        base = 0
        for _v, pos in parsed:
            order[idx[pos]] = base + np.arange(len(pos))
            base += len(pos)
        take = pa.array(np.where(order >= 0, order, 0))
        out = pc.if_else(pa.array(order >= 0), pc.take(allv, take), pa.scalar(None, typ))
    else:
        out = pa.nulls(n, typ)
    return out, bad


def frame_from_flat(table: pa.Table) -> tuple[Frame, np.ndarray, dict[int, str]]:
    """A frame of a slice of flat-layout rows (whole transfers: a transfer's rows are all in the slice).

    Returns:
        (frame, first_rows, left_out): transfer ``r`` of the frame starts at row ``first_rows[r]`` of the slice;
        ``left_out`` is always empty (a transfer the frame cannot hold is in it, with its reason).
    """
    n_rows = table.num_rows
    cols = {name: _cells(table.column(name).combine_chunks()) for name in table.column_names}

    def c(name: str, typ: pa.DataType = _S) -> pa.Array:
        if name in cols:
            return cols[name]
        return pa.nulls(n_rows, typ)

    tid = c("transfer_id")
    tid_s = tid.cast(_S)
    if n_rows:
        same = np.zeros(n_rows, dtype=bool)
        a, b = tid_s.slice(1), tid_s.slice(0, n_rows - 1)
        same[1:] = np.asarray(pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False), dtype=bool)
        starts = np.nonzero(~same)[0]
    else:
        starts = np.zeros(0, dtype=np.int64)
    n_t = len(starts)
    group = np.cumsum(~same) - 1 if n_rows else np.zeros(0, dtype=np.int64)
    take_first = pa.array(starts)
    routed = np.zeros(n_t, dtype=object)
    routed[:] = ""
    # rows of one transfer must agree on every transfer column (the row reader rejects the transfer otherwise)
    disagree = np.zeros(n_t, dtype=bool)
    from sanctions.batch.formats import TRANSFER_COLUMNS

    first_of_row = pa.array(starts[group]) if n_rows else pa.array([], pa.int64())
    for name in TRANSFER_COLUMNS:
        if name not in cols:
            continue
        col = cols[name]
        ref = pc.take(col, first_of_row)
        eq = pc.or_kleene(pc.equal(col, ref), pc.and_(pc.is_null(col), pc.is_null(ref)))
        diff = ~np.asarray(pc.fill_null(eq, False).to_numpy(zero_copy_only=False), dtype=bool)
        if diff.any():
            disagree[group[diff]] = True
    routed[disagree] = "rows of the transfer disagree"
    for name in cols:
        if name in _READ or not n_rows:
            continue
        given = np.zeros(n_t, dtype=bool)
        given[group[_nonnull(cols[name])]] = True
        routed[given & (routed == "")] = f"{name} given"
    t: dict[str, pa.Array] = {}
    for k, name in _FLAT_T.items():
        arr = pc.take(c(name), take_first)
        if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
            routed[_nonnull(arr) & (routed == "")] = "date column not text"
            arr = pa.nulls(n_t, _S)
        elif not (pa.types.is_string(arr.type) or pa.types.is_null(arr.type)):
            routed[_nonnull(arr) & (routed == "")] = f"{name} not text"
            arr = pa.nulls(n_t, _S)
        t[k] = arr.cast(_S)
    sts = pc.take(c("ship_to_ship"), take_first)
    if pa.types.is_boolean(sts.type):
        t["ship_to_ship"] = sts
    else:
        low = pc.utf8_lower(sts.cast(_S))
        known = pc.is_in(low, value_set=pa.array(["true", "1", "yes", "false", "0", "no"]))
        unk = _nonnull(sts) & ~np.asarray(pc.fill_null(known, False).to_numpy(zero_copy_only=False), dtype=bool)
        routed[unk & (routed == "")] = "ship_to_ship not true or false"
        t["ship_to_ship"] = pc.is_in(low, value_set=pa.array(["true", "1", "yes"]))
        t["ship_to_ship"] = pc.if_else(pc.is_null(sts), pa.scalar(None, pa.bool_()), t["ship_to_ship"])
    for k, name, typ in (("route", "route_json", _ROUTE), ("notifications", "notifications_json", _NOTIF),
                         ("exemptions", "exemptions_json", _EXEMPT)):
        arr, bad = _json_list(pc.take(c(name), take_first), typ)
        routed[bad & (routed == "")] = f"{name} not in the shape the columnar path reads"
        t[k] = arr
    # items: every row with some item column given is an item (a transfer without items is one empty row)
    item_cols = {k: c(name) for k, name in _FLAT_I.items()}
    has_item = np.zeros(n_rows, dtype=bool)
    for arr in item_cols.values():
        has_item |= _nonnull(arr)
    rows = np.nonzero(has_item)[0]
    it: dict[str, pa.Array] = {}
    take_rows = pa.array(rows)
    for k, arr in item_cols.items():
        arr = pc.take(arr, take_rows)
        if k in ("quantity", "value"):
            if pa.types.is_string(arr.type):
                num = pc.cast(arr, pa.float64(), safe=False) if False else None
                try:
                    num = pc.cast(arr, pa.float64())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    # some cell is not a number: the row path reports it with the field
                    ok = pc.match_substring_regex(arr, r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
                    badrows = ~np.asarray(pc.fill_null(ok, True).to_numpy(zero_copy_only=False), dtype=bool)
                    routed[group[rows[badrows]]] = f"{_FLAT_I[k]} not a number"
                    num = pc.cast(pc.if_else(ok, arr, pa.scalar(None, _S)), pa.float64())
                arr = num
            elif pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
                arr = arr.cast(pa.float64())
            elif not pa.types.is_floating(arr.type):
                routed[group[rows[_nonnull(arr)]]] = f"{_FLAT_I[k]} not a number"
                arr = pa.nulls(len(rows), pa.float64())
            it[k] = arr.cast(pa.float64())
        elif k == "hs_code" and not pa.types.is_string(arr.type):
            routed[group[rows[_nonnull(arr)]]] = "item_hs_code not text"
            it[k] = pa.nulls(len(rows), _S)
        else:
            it[k] = arr.cast(_S)
    parent = group[rows].astype(np.int64) if len(rows) else np.zeros(0, np.int64)
    return Frame(t, it, parent, routed), starts, {}
