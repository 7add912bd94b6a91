"""The columnar evaluator: a whole chunk of transfers judged as Arrow/NumPy columns, explained only where it matters.

An analyst's file is mostly clear lines. This module judges a chunk of transfers at once, column by column, and
sends to the row path (:meth:`sanctions.engine.Engine.check`, the same code as a one-off check) only the lines
that need it; every other line gets its decision from a template, so the output is byte for byte what the row
path would write.

How a chunk is judged
    1. **Frames.** A reader (:mod:`sanctions.batch.frames`) turns JSON Lines or the flat CSV/Parquet layout into
       a :class:`Frame`: one row per transfer and one row per item (with its transfer's row number), as Arrow
       arrays. No Python object is made per line.
    2. **What the columnar path can vouch for.** A transfer is *eligible* when every field it gives has the
       canonical shape that the model is certain to accept unchanged (ISO codes from the model's own tables,
       ``YYYY-MM-DD`` dates, enumerated values, HS codes of digits only, units that fit the category, ...) and it
       uses nothing this path does not build facts for (deals, ``unknown`` values, HS alternatives, end users,
       coarse dates, intermediaries, ...). Everything else is *routed*: judged by the row path, which also
       reports the errors of invalid lines exactly as it always has. Each routed line is counted with its reason.
    3. **Facts as columns.** For eligible transfers the fact keys of the compiled rulebook
       (:class:`~sanctions.evaluate.compiled.CompiledRulebook`) are built as columns with the semantics of
       :mod:`sanctions.rulebook.facts`: plain values with their defaults, ``has:`` keys, set membership (with
       general categories held by their refinements), HS prefixes, unknown flags.
    4. **Patterns as vectorised expressions.** Every rule pattern (the *must* and the *could* form of each rule)
       is evaluated over index sets, generated from the compiled condition trees: an ``and`` narrows the rows
       left to test part by part (the parts on transfer fields first, at transfer level, before any item is
       looked at), an ``or`` tests only the rows not yet true. Nothing in this module names a rule or a field
       value of a measure: a rule pack (``--rules``) and ``--as-of`` work unchanged.
    5. **Only the lines that need it are explained.** A transfer on which some rule pattern matches some fact
       (a finding, an exemption, a rule not in force: the decision lists it) or whose items carry a category note
       is routed to the row path, which builds the explained decision through the same code as ever. A transfer
       on which nothing matches gets the *clear* decision, which for such a transfer depends on nothing but its
       id: it is rendered once per rulebook and ``as_of`` with the row path's own :func:`~sanctions.explain.to_json`
       and filled in with the id.

Keys it cannot express
    A fact key whose field this module does not build (a rule-language operation added later, a new field) is
    treated as *maybe*: the pattern is evaluated with that leaf true (an upper bound, exact because negation sits
    at the leaves) and again with it false. A line the upper bound matches goes to the row path; those the lower
    bound does not match are counted under ``unsupported key`` with the key. Nothing is judged on a guess.

The decision names the row path's evaluator (``batch``): a columnar decision is the row path's decision.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanctions.evaluate.compiled import (
    ANY_UNKNOWN,
    UNKNOWN_PREFIX,
    And,
    Cond,
    Or,
    Test,
    keys_of,
)

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9._:/\-]*$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_HS_RE = r"^[0-9]{2,10}$"
PLACEHOLDER = "COLUMNAR-PLACEHOLDER-ID"


# ----------------------------------------------------------------------------------------------------------------
# Frames
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Frame:
    """A chunk of transfers as columns (see :mod:`sanctions.batch.frames` for the readers).

    Attributes:
        t: Transfer-level arrays, one element per transfer: ``id``, ``date_start``, ``date_end`` (``YYYY-MM-DD``
            strings), ``kind``, ``purpose``, ``supplier_name``, ``supplier_country``, ``supplier_kind``,
            ``recipient_*``, ``origin_country``, ``destination_country``, ``vessel_name``, ``vessel_flag``,
            ``ship_to_ship`` (bool), ``notes``; list arrays ``route`` (struct port, country, role),
            ``notifications`` (struct date, reference), ``exemptions`` (struct reference, purpose).
        items: Item-level arrays: ``description``, ``hs_code``, ``category``, ``quantity`` (float), ``unit``,
            ``value`` (float), ``currency``, ``origin_country``, ``end_use``, ``end_user``.
        parent: For each item, its transfer's row.
        routed: Per transfer, the reason the reader already knows it must go to the row path ('' when none).
    """

    t: dict[str, pa.Array]
    items: dict[str, pa.Array]
    parent: np.ndarray
    routed: np.ndarray

    @property
    def n(self) -> int:
        return len(self.routed)


def _s(arr: pa.Array) -> pa.Array:
    return arr if arr.type in (pa.string(), pa.large_string()) else arr.cast(pa.string())


def _np_bool(arr: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, null).to_numpy(zero_copy_only=False), dtype=bool)


def _ordinals(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(ordinal days, ok) of ``YYYY-MM-DD`` strings; ok is False for nulls and malformed dates."""
    arr = _s(arr)
    shaped = _np_bool(pc.match_substring_regex(arr, _DATE_RE))
    parsed = pc.strptime(pc.if_else(pc.match_substring_regex(arr, _DATE_RE), arr, pa.scalar(None, pa.string())),
                         format="%Y-%m-%d", unit="s", error_is_null=True)
    days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32())
    ok = shaped & ~_np_bool(pc.is_null(days), True)
    # strptime accepts one-digit fields inside a shape the regex already fixed; check the round trip
    back = pc.strftime(parsed, format="%Y-%m-%d")
    ok &= _np_bool(pc.equal(back, arr))
    return np.asarray(pc.fill_null(days, 0).to_numpy(zero_copy_only=False), dtype=np.int64) + _EPOCH_ORDINAL, ok


def _in(arr: pa.Array, values: Sequence[str]) -> np.ndarray:
    return _np_bool(pc.is_in(_s(arr), value_set=pa.array(sorted(values), pa.string())))


def _null(arr: pa.Array) -> np.ndarray:
    return _np_bool(pc.is_null(arr), True)


def _name_ok(arr: pa.Array, most: int) -> np.ndarray:
    n = pc.utf8_length(pc.utf8_trim_whitespace(_s(arr)))
    return _np_bool(pc.and_(pc.greater_equal(n, 1), pc.less_equal(n, most)))


def _list_parts(arr: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """(parent row of each element, the flattened elements, number of elements per row) of a list array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    lengths = np.asarray(pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    parent = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    return parent, pc.list_flatten(arr), lengths


def _any_by(parent: np.ndarray, flags: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if len(parent):
        out[parent[flags]] = True
    return out


# ----------------------------------------------------------------------------------------------------------------
# Columns of facts
# ----------------------------------------------------------------------------------------------------------------


class _Col:
    """A fact key as a column over the rows of one level; ``test`` gives :func:`compiled.test` on rows ``idx``."""

    typ: type

    def test(self, t: Test, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _StrCol(_Col):
    typ = str

    def __init__(self, arr: pa.Array, default: str = "") -> None:
        enc = pc.dictionary_encode(pc.fill_null(_s(arr), default))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        self.codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        self.values: list[str] = enc.dictionary.to_pylist()

    def test(self, t: Test, idx: np.ndarray) -> np.ndarray:
        if t.op not in ("eq", "ne"):
            raise _Unsupported(t.key)
        same = np.array([type(t.value) is str and v == t.value for v in self.values] or [False], dtype=bool)
        hit = same[self.codes[idx]] if len(self.values) else np.zeros(len(idx), dtype=bool)
        return hit if t.op == "eq" else ~hit


class _NumCol(_Col):
    def __init__(self, values: np.ndarray, typ: type) -> None:
        self.values = values
        self.typ = typ

    def test(self, t: Test, idx: np.ndarray) -> np.ndarray:
        v = self.values[idx]
        if t.op in ("eq", "ne"):
            hit = (v == t.value) if type(t.value) is self.typ else np.zeros(len(idx), dtype=bool)
            return hit if t.op == "eq" else ~hit
        c = t.value
        if type(c) is str:
            raise _Unsupported(t.key)
        return {"lt": v < c, "le": v <= c, "gt": v > c, "ge": v >= c}[t.op]


class _Unsupported(Exception):
    """A fact key (or a test on it) the columnar path does not build."""


# ----------------------------------------------------------------------------------------------------------------
# The evaluator
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class ChunkReport:
    """What the columnar path did with one chunk: how many lines it decided and why it routed the others."""

    columnar: int = 0
    routed: Counter[str] = field(default_factory=Counter)


class ColumnarEvaluator:
    """Judge frames of transfers against an engine's rulebook; see the module docstring.

    Args:
        engine: The row-path :class:`~sanctions.engine.Engine` (its rulebook, its evaluator's name in the
            decisions, and its ``check`` for the routed lines).
        as_of: Judge under the law in force on this date (as ``Engine.check(..., as_of=...)``).
    """

    def __init__(self, engine: Any, as_of: dt.date | None = None) -> None:
        from sanctions.model import hs, records, vocab
        from sanctions.rulebook import facts as F

        self.engine = engine
        self.as_of = as_of
        rb = engine.rulebook
        self._F, self._hs, self._records, self._vocab = F, hs, records, vocab
        rule_ids = {pid for pid, (_rule, ex) in rb.by_pattern.items() if ex is None}
        self.patterns = [(p.kind, _order(p.cond)) for p in rb.compiled.patterns if p.id in rule_ids
                         and p.kind in ("transfer", "item")]
        self._plan = [(kind, cond, None, None) if kind == "transfer" else (kind, cond, *_split(cond))
                      for kind, cond in self.patterns]
        self.unsupported_keys = sorted({k for _, c in self.patterns for k in keys_of(c) if not self._supported(k)})
        self.prefix, self.suffix = self._template()

    # -- the clear decision -----------------------------------------------------------------------------------

    def _template(self) -> tuple[str, str]:
        from sanctions.explain import to_json
        from sanctions.model.records import parse_transfer

        e = self.engine
        subject = parse_transfer({"id": PLACEHOLDER, "date": "2000-01-01", "origin_country": "FR",
                                  "destination_country": "DE", "supplier": {"name": "a", "country": "FR"},
                                  "recipient": {"name": "b", "country": "DE"}})
        decision = e._decision(subject, [], [], [], self.as_of, list(e.rulebook.rules), [])
        text = to_json(decision, indent=None)
        marker = f'"{PLACEHOLDER}"'
        if text.count(marker) != 1:
            raise RuntimeError("the clear decision does not name its subject exactly once")
        head, tail = text.split(marker)
        return head + '"', '"' + tail

    def clear_json(self, transfer_id: str) -> str:
        """The canonical JSON of the clear decision of an eligible transfer (ids need no JSON escaping)."""
        return self.prefix + transfer_id + self.suffix

    # -- which keys it builds ---------------------------------------------------------------------------------

    _T_STR = {
        "transfer.id": "id", "transfer.origin_country": "origin_country",
        "transfer.destination_country": "destination_country", "transfer.supplier.country": "supplier_country",
        "transfer.recipient.country": "recipient_country", "transfer.vessel.flag": "vessel_flag",
        "transfer.purpose": "purpose",
    }
    _T_NONE = {"transfer.vessel.imo": "str", "transfer.sts_vessel.flag": "str", "transfer.deal_id": "str",
               "transfer.destination_subdivision": "str", "transfer.end_user.organisation": "str",
               "transfer.contract.date": "date", "transfer.contract.written": "bool"}
    _T_FALSE = {"transfer.in_deal", "transfer.designated_vessel", "transfer.vessel_owner_listed", "transfer.screened"}
    _T_SETS = {"transfer.intermediary_countries", "transfer.countries", "transfer.route.ports",
               "transfer.route.countries", "transfer.transport", "transfer.vessel_flags", "transfer.hs_headings",
               "transfer.designated_regimes"}
    _I_STR = {"item.hs_code", "item.category", "item.quantity.unit", "item.value.currency", "item.origin_country",
              "item.end_use"}
    _I_NONE = {"item.condition": "str", "item.servicing": "str"}
    _I_SETS = {"item.categories", "item.subjects"}

    def _supported(self, key: str) -> bool:
        F = self._F
        if key == ANY_UNKNOWN or key.startswith(UNKNOWN_PREFIX):
            return True
        path = F.field_of(key)
        known = (set(self._T_STR) | set(self._T_NONE) | self._T_FALSE | self._T_SETS | self._I_STR
                 | set(self._I_NONE) | self._I_SETS | {
                     "transfer.kind", "transfer.supplier.kind", "transfer.recipient.kind", "transfer.start",
                     "transfer.end", "transfer.route.stops", "transfer.ship_to_ship", "transfer.notified",
                     "transfer.first_notification", "transfer.committee_exemption", "transfer.end_user.kind",
                     "transfer.end_user.country", "item.index", "item.quantity.value", "item.value.amount",
                     "item.value.usd"})
        if path not in known:
            return False
        sets = self._T_SETS | self._I_SETS
        if "=" in key and not key.startswith("has:"):
            return path in sets
        if key.endswith("]") and not key.startswith("has:"):
            return path not in sets and F.FIELDS[path].type == "str"
        return key.startswith("has:") or path not in sets

    # -- judging ----------------------------------------------------------------------------------------------

    def judge(self, frame: Frame) -> tuple[np.ndarray, list[str], ChunkReport]:
        """Decide which transfers of a frame are clear.

        Returns:
            (clear, reasons, report): ``clear[i]`` is True when transfer ``i`` gets the clear decision from
            :meth:`clear_json`; otherwise ``reasons[i]`` says why it goes to the row path.
        """
        n = frame.n
        reasons = list(frame.routed.tolist()) if n else []
        ok = frame.routed == ""
        b = _Builder(self, frame, ok)
        reasons_np = np.array(reasons, dtype=object)
        for why, bad in b.problems():
            hit = ok & bad
            reasons_np[hit] = why
            ok &= ~bad
        b.ok = ok
        upper = self._matches(b, True)
        route_match = ok & upper
        if self.unsupported_keys and route_match.any():
            lower = self._matches(b, False)
            unsure = route_match & ~lower
            reasons_np[unsure] = "unsupported key (" + ", ".join(self.unsupported_keys) + ")"
            reasons_np[route_match & lower] = "non-trivial decision"
        else:
            reasons_np[route_match] = "non-trivial decision"
        clear = ok & ~upper
        report = ChunkReport(columnar=int(clear.sum()))
        report.routed.update(r for r in reasons_np[~clear].tolist())
        return clear, reasons_np.tolist(), report

    def _matches(self, b: _Builder, upper: bool) -> np.ndarray:
        """Per transfer: some rule pattern matches one of its facts (``upper``: unsupported leaves true)."""
        out = np.zeros(b.frame.n, dtype=bool)
        live_t = np.nonzero(b.ok)[0]
        if not len(live_t):
            return out
        live_i = np.nonzero(b.ok[b.frame.parent])[0]
        ev = _Eval(b, upper)
        for kind, cond, tpart, rest in self._plan:
            if kind == "transfer":
                hit = ev.run(cond, "transfer", live_t)
                out[live_t[hit]] = True
                continue
            idx_t = live_t
            if tpart is not None:
                idx_t = live_t[ev.run(tpart, "transfer", live_t)]
                if not len(idx_t):
                    continue
                mask = np.zeros(b.frame.n, dtype=bool)
                mask[idx_t] = True
                idx_i = live_i[mask[b.frame.parent[live_i]]]
            else:
                idx_i = live_i
            if not len(idx_i):
                continue
            hit = ev.run(rest, "item", idx_i) if rest is not None else np.ones(len(idx_i), dtype=bool)
            out[b.frame.parent[idx_i[hit]]] = True
        return out


def _split(cond: Cond) -> tuple[Cond | None, Cond | None]:
    """An item pattern as (the ``and`` of its parts on transfer fields, the ``and`` of the rest); None for none."""
    parts = cond.parts if isinstance(cond, And) else (cond,)
    tparts = tuple(p for p in parts if _transfer_only(p))
    rest = tuple(p for p in parts if not _transfer_only(p))
    return (And(tparts) if tparts else None), (And(rest) if rest else None)


def _transfer_only(cond: Cond) -> bool:
    return all(k.startswith(("transfer.", "has:transfer.", "?transfer.")) for k in keys_of(cond)) and bool(keys_of(cond))


def _order(cond: Cond) -> Cond:
    """The same condition with each ``and``'s parts on transfer fields first (``and`` has no side effects)."""
    if isinstance(cond, Test):
        return cond
    parts = tuple(_order(p) for p in cond.parts)
    if isinstance(cond, And):
        parts = tuple(sorted(parts, key=lambda p: 0 if _transfer_only(p) else 1))
        return And(parts)
    return Or(parts)


class _Eval:
    """Conditions over index sets of one level, leaf results of transfer fields cached per chunk."""

    def __init__(self, b: _Builder, upper: bool) -> None:
        self.b = b
        self.upper = upper

    def run(self, cond: Cond, level: str, idx: np.ndarray) -> np.ndarray:
        if isinstance(cond, Test):
            return self.leaf(cond, level, idx)
        if isinstance(cond, And):
            live = np.arange(len(idx))
            for p in cond.parts:
                if not len(live):
                    break
                live = live[self.run(p, level, idx[live])]
            out = np.zeros(len(idx), dtype=bool)
            out[live] = True
            return out
        out = np.zeros(len(idx), dtype=bool)
        left = np.arange(len(idx))
        for p in cond.parts:
            if not len(left):
                break
            hit = self.run(p, level, idx[left])
            out[left[hit]] = True
            left = left[~hit]
        return out

    def leaf(self, t: Test, level: str, idx: np.ndarray) -> np.ndarray:
        b = self.b
        if level == "item" and t.key.startswith(("transfer.", "has:transfer.", "?transfer.")):
            return self.leaf(t, "transfer", b.frame.parent[idx])
        try:
            col = b.col(level, t.key)
            if col is None:
                raise _Unsupported(t.key)
            return col.test(t, idx)
        except _Unsupported:
            return np.full(len(idx), self.upper, dtype=bool)


# ----------------------------------------------------------------------------------------------------------------
# Facts and the eligibility check of one frame
# ----------------------------------------------------------------------------------------------------------------


class _Builder:
    """Builds, lazily and once per frame, the fact columns a rulebook tests, and says which rows are eligible."""

    def __init__(self, ev: ColumnarEvaluator, frame: Frame, ok: np.ndarray) -> None:
        self.ev = ev
        self.frame = frame
        self.ok = ok
        self.cache: dict[tuple[str, str], _Col | None] = {}
        self._enc: dict[int, tuple[pa.Array, _StrCol]] = {}
        self._ports: pa.Array | None = None
        self._heads: pa.Array | None = None
        self.n_t = frame.n
        self.n_i = len(frame.parent)
        it = frame.items
        self.hs = _s(it["hs_code"])
        self.declared = _s(it["category"])
        enc = pc.dictionary_encode(pc.fill_null(self.hs, ""))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        classify = ev._hs.classify
        derived = [(c.value if (c := classify(x)) else None) if x and x.isascii() and x.isdigit()
                   and 2 <= len(x) <= 10 else None for x in enc.dictionary.to_pylist()]
        self.derived = pc.take(pa.array(derived, pa.string()), enc.indices)
        self.category = pc.coalesce(self.declared, self.derived)

    # -- eligibility ------------------------------------------------------------------------------------------

    def problems(self) -> list[tuple[str, np.ndarray]]:
        """(reason, rows) for every way a transfer may be beyond what this path vouches for."""
        f, t, it, v = self.frame, self.frame.t, self.frame.items, self.ev._vocab
        rec = self.ev._records
        countries = rec._COUNTRY_CODES
        out: list[tuple[str, np.ndarray]] = []

        def by_item(bad: np.ndarray) -> np.ndarray:
            return _any_by(f.parent, bad, self.n_t)

        ids = _s(t["id"])
        out.append(("id not in canonical form", ~_np_bool(pc.match_substring_regex(ids, _ID_RE))
                    | ~_np_bool(pc.less_equal(pc.utf8_length(ids), 128))))
        self.start, start_ok = _ordinals(t["date_start"])
        end_given = ~_null(t["date_end"])
        end, end_ok = _ordinals(pc.coalesce(_s(t["date_end"]), _s(t["date_start"])))
        self.end = end
        out.append(("date not in canonical form", ~start_ok | ~end_ok | (end_given & (end < self.start))))
        out.append(("kind", ~(_null(t["kind"]) | _in(t["kind"], [k.value for k in v.TransferKind]))))
        out.append(("purpose", ~(_null(t["purpose"]) | _in(t["purpose"], [p.value for p in v.Purpose]))))
        kinds = [k.value for k in v.PartyKind]
        for p in ("supplier", "recipient"):
            out.append((f"{p} not in canonical form", ~_name_ok(t[p + "_name"], 300) | ~_in(t[p + "_country"], countries)
                        | ~(_null(t[p + "_kind"]) | _in(t[p + "_kind"], kinds))))
        out.append(("country not in canonical form", ~_in(t["origin_country"], countries)
                    | ~_in(t["destination_country"], countries)))
        vessel = ~_null(t["vessel_name"]) | ~_null(t["vessel_flag"])
        out.append(("vessel not in canonical form", vessel & (~_name_ok(t["vessel_name"], 300)
                                                              | ~(_null(t["vessel_flag"]) | _in(t["vessel_flag"], countries)))))
        out.append(("ship_to_ship", _np_bool(t["ship_to_ship"], False)))
        out.append(("notes too long", ~_null(t["notes"]) & ~_np_bool(pc.less_equal(
            pc.utf8_length(pc.utf8_trim_whitespace(_s(t["notes"]))), 2000), True)))
        # lists
        rp, rs, self.route_len = _list_parts(t["route"])
        self.route_parent, self.route = rp, rs
        self.route_countries = rs.field("country") if len(rp) else None
        if len(rp):
            bad = (~_name_ok(rs.field("port"), 300) | ~_in(rs.field("country"), countries)
                   | ~_in(rs.field("role"), ["loading", "transshipment", "transit", "discharge"]))
            out.append(("route not in canonical form", _any_by(rp, bad, self.n_t)))
        np_, ns, self.n_notif = _list_parts(t["notifications"])
        self.first_notification = np.zeros(self.n_t, dtype=np.int64)
        if len(np_):
            days, dok = _ordinals(ns.field("date"))
            ref = ns.field("reference")
            bad = ~dok | ~(_null(ref) | _name_ok(ref, 300))
            out.append(("notification not in canonical form", _any_by(np_, bad, self.n_t)))
            first = np.full(self.n_t, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, np_, days)
            self.first_notification = np.where(self.n_notif > 0, first, 0)
        ep, es, self.n_exempt = _list_parts(t["exemptions"])
        if len(ep):
            pur = es.field("purpose")
            bad = ~_name_ok(es.field("reference"), 300) | ~(_null(pur) | _in(pur, [p.value for p in v.Purpose
                                                                                     if p.value != v.UNKNOWN]))
            out.append(("exemption not in canonical form", _any_by(ep, bad, self.n_t)))
        # items
        if self.n_i:
            hs_bad = ~_null(self.hs) & ~_np_bool(pc.match_substring_regex(self.hs, _HS_RE))
            general = list(v.REFINEMENTS)
            cats = [c.value for c in v.Category]
            cat_bad = ~(_null(self.declared) | _in(self.declared, cats))
            general_bad = _in(pc.fill_null(self.category, ""), general) | _in(pc.fill_null(self.derived, ""), general)
            q, unit = it["quantity"], it["unit"]
            q_np = np.asarray(pc.fill_null(pc.cast(q, pa.float64()), 0.0).to_numpy(zero_copy_only=False), dtype=float)
            q_given = ~_null(q)
            units = [u.value for u in v.Unit]
            q_bad = (q_given != ~_null(unit)) | (q_given & (~np.isfinite(q_np) | (q_np < 0) | (q_np > rec.MAX_QUANTITY)
                                                             | ~_in(unit, units)))
            fits = self._units_bad(unit, q_given)
            val = it["value"]
            v_np = np.asarray(pc.fill_null(pc.cast(val, pa.float64()), 0.0).to_numpy(zero_copy_only=False), dtype=float)
            v_given = ~_null(val)
            cur = it["currency"]
            v_bad = (v_given & (~np.isfinite(v_np) | (v_np < 0) | (v_np > rec.MAX_QUANTITY)
                                | ~(_null(cur) | _in(cur, rec._CURRENCY_CODES)))) | (~v_given & ~_null(cur))
            end_use_bad = ~(_null(it["end_use"]) | _in(it["end_use"], [e.value for e in v.EndUse
                                                                         if e.value != v.UNKNOWN]))
            origin_bad = ~(_null(it["origin_country"]) | _in(it["origin_country"], countries))
            desc_bad = ~_name_ok(it["description"], 2000)
            eu_bad = ~(_null(it["end_user"]) | _name_ok(it["end_user"], 300))
            out.append(("item not in canonical form", by_item(hs_bad | cat_bad | q_bad | v_bad | end_use_bad
                                                              | origin_bad | desc_bad | eu_bad)))
            out.append(("unit does not fit the category", by_item(fits)))
            out.append(("general category", by_item(general_bad)))
            # the decision carries a note for these items: not a clear decision
            dec, der = _null(self.declared), _null(self.derived)
            disagree = ~dec & ~der & ~_np_bool(pc.equal(self.declared, self.derived), True)
            unmapped = ~_null(self.hs) & der & dec
            out.append(("non-trivial decision", by_item(disagree | unmapped)))
            self.quantity, self.value = q_np, v_np
            self.value_given = v_given
            counts = np.bincount(f.parent, minlength=self.n_t)
            out.append(("more than 10,000 items", counts > 10_000))
        return out

    def _units_bad(self, unit: pa.Array, given: np.ndarray) -> np.ndarray:
        rec = self.ev._records
        if not rec.UNITS_CHECKED_BY_DEFAULT or not given.any():
            return np.zeros(self.n_i, dtype=bool)
        cat = _StrCol(self.category)
        u = _StrCol(unit)
        bad = np.zeros(len(cat.values), dtype=object)
        for i, c in enumerate(cat.values):
            allowed = rec.units_for(c) if c else None
            bad[i] = allowed
        out = np.zeros(self.n_i, dtype=bool)
        for ci, allowed in enumerate(bad):
            if allowed is None:
                continue
            rows = (cat.codes == ci) & given
            if rows.any():
                ok_units = np.array([x in allowed for x in u.values], dtype=bool)
                out |= rows & ~ok_units[u.codes]
        return out

    # -- fact columns -----------------------------------------------------------------------------------------

    def _encoded(self, arr: pa.Array) -> _StrCol:
        """A string array dictionary-encoded once per frame (the arrays are the frame's own, kept alive by it)."""
        key = id(arr)
        hit = self._enc.get(key)
        if hit is None or hit[0] is not arr:
            hit = self._enc[key] = (arr, _StrCol(arr))
        return hit[1]

    def col(self, level: str, key: str) -> _Col | None:
        k = (level, key)
        if k not in self.cache:
            self.cache[k] = self._build(level, key)
        return self.cache[k]

    def _bool(self, values: np.ndarray) -> _Col:
        return _NumCol(np.asarray(values, dtype=bool), bool)

    def _build(self, level: str, key: str) -> _Col | None:
        F = self.ev._F
        n = self.n_t if level == "transfer" else self.n_i
        if key == ANY_UNKNOWN or key.startswith(UNKNOWN_PREFIX):
            return self._bool(np.zeros(n, dtype=bool))  # eligible rows have nothing unknown
        if not self.ev._supported(key):
            return None
        path = F.field_of(key)
        if key.startswith("has:"):
            return self._bool(self._present(level, path))
        if "=" in key:
            member = key.partition("=")[2]
            wanted = {member, *self.ev._vocab.REFINEMENTS.get(member, ())}
            return self._bool(self._member(level, path, wanted))
        if key.endswith("]"):
            length = int(key.partition("[:")[2][:-1])
            arr = self._str(level, path)
            if arr is None:
                return _StrCol(pa.nulls(n, pa.string()))
            arr = pc.fill_null(arr, "")
            cut = pc.if_else(pc.greater_equal(pc.utf8_length(arr), length), pc.utf8_slice_codeunits(arr, 0, length), "")
            return _StrCol(cut)
        spec = F.FIELDS[path]
        if spec.type == "str":
            arr = self._str(level, path)
            return _StrCol(arr if arr is not None else pa.nulls(n, pa.string()))
        if spec.type == "bool":
            return self._bool(self._flag(level, path))
        if spec.type == "date":
            return _NumCol(self._date(path), int)
        return _NumCol(self._num(path), float)

    # raw values (None: absent), per field path

    def _str(self, level: str, path: str) -> pa.Array | None:
        t, it = self.frame.t, self.frame.items
        if path in ColumnarEvaluator._T_STR:
            return _s(t[ColumnarEvaluator._T_STR[path]])
        if path in ColumnarEvaluator._T_NONE or path in ColumnarEvaluator._I_NONE:
            return None
        if path == "transfer.kind":
            return pc.fill_null(_s(t["kind"]), "goods")
        if path in ("transfer.supplier.kind", "transfer.recipient.kind"):
            return pc.fill_null(_s(t[path.split(".")[1] + "_kind"]), "company")
        if path == "transfer.end_user.kind":
            rk = pc.fill_null(_s(t["recipient_kind"]), "company")
            table = {k.value: e.value for k, e in self.ev._F._END_USER_FROM_RECIPIENT.items()}
            keys = pa.array(sorted(table), pa.string())
            pos = pc.index_in(rk, value_set=keys)
            return pc.take(pa.array([table[k] for k in sorted(table)], pa.string()), pos)
        if path == "transfer.end_user.country":
            kind = self._str("transfer", "transfer.end_user.kind")
            return pc.if_else(pc.is_null(kind), pa.scalar(None, pa.string()), _s(t["recipient_country"]))
        if path == "item.hs_code":
            return self.hs
        if path == "item.category":
            return self.category
        if path == "item.quantity.unit":
            return _s(it["unit"])
        if path == "item.value.currency":
            return pc.if_else(pa.array(self.value_given), pc.fill_null(_s(it["currency"]), "USD"),
                              pa.scalar(None, pa.string()))
        if path == "item.origin_country":
            return pc.coalesce(_s(it["origin_country"]), pc.take(_s(t["origin_country"]), pa.array(self.frame.parent)))
        if path == "item.end_use":
            return _s(it["end_use"])
        raise _Unsupported(path)

    def _present(self, level: str, path: str) -> np.ndarray:
        n = self.n_t if level == "transfer" else self.n_i
        if path in self.ev._T_SETS or path in self.ev._I_SETS or path in self.ev._T_FALSE:
            return np.ones(n, dtype=bool)  # a set (or a flag) is always there, maybe empty
        spec = self.ev._F.FIELDS[path]
        if spec.type == "str":
            arr = self._str(level, path)
            return np.zeros(n, dtype=bool) if arr is None else ~_null(arr)
        if path == "transfer.first_notification":
            return self.n_notif > 0
        if path in ("transfer.start", "transfer.end", "transfer.route.stops", "transfer.ship_to_ship",
                    "transfer.notified", "transfer.committee_exemption", "item.index"):
            return np.ones(n, dtype=bool)
        if path in ("transfer.contract.date", "transfer.contract.written"):
            return np.zeros(n, dtype=bool)
        if path in ("item.quantity.value",):
            return ~_null(self.frame.items["quantity"])
        if path == "item.value.amount":
            return self.value_given.copy()
        if path == "item.value.usd":
            cur = self._str("item", "item.value.currency")
            return self.value_given & _np_bool(pc.equal(cur, "USD"))
        raise _Unsupported(path)

    def _flag(self, level: str, path: str) -> np.ndarray:
        if path in self.ev._T_FALSE or path == "transfer.contract.written":
            return np.zeros(self.n_t, dtype=bool)
        if path == "transfer.ship_to_ship":
            return _np_bool(self.frame.t["ship_to_ship"], False)
        if path == "transfer.notified":
            return self.n_notif > 0
        if path == "transfer.committee_exemption":
            return self.n_exempt > 0
        raise _Unsupported(path)

    def _date(self, path: str) -> np.ndarray:
        if path == "transfer.start":
            return self.start
        if path == "transfer.end":
            return self.end
        if path == "transfer.first_notification":
            return self.first_notification
        if path == "transfer.contract.date":
            return np.zeros(self.n_t, dtype=np.int64)
        raise _Unsupported(path)

    def _num(self, path: str) -> np.ndarray:
        if path == "transfer.route.stops":
            return self.route_len.astype(float)
        if path == "item.index":
            starts = np.zeros(self.n_t, dtype=np.int64)
            counts = np.bincount(self.frame.parent, minlength=self.n_t)
            starts[1:] = np.cumsum(counts)[:-1]
            return (np.arange(self.n_i) - starts[self.frame.parent]).astype(float)
        if path == "item.quantity.value":
            return self.quantity
        if path == "item.value.amount":
            return self.value
        if path == "item.value.usd":
            return np.where(self._present("item", "item.value.usd"), self.value, 0.0)
        raise _Unsupported(path)

    def _member(self, level: str, path: str, wanted: set[str]) -> np.ndarray:
        """Per row of ``level``: some value of the set at ``path`` is one of ``wanted`` (a member or a
        refinement of it)."""
        t = self.frame.t
        n = self.n_t if level == "transfer" else self.n_i

        def scalar(arr: pa.Array) -> np.ndarray:
            col = self._encoded(arr)
            hit = np.array([v in wanted for v in col.values] or [False], dtype=bool)
            return hit[col.codes] if len(col.values) else np.zeros(len(col.codes), dtype=bool)

        if path in ("transfer.intermediary_countries", "transfer.transport", "transfer.designated_regimes"):
            return np.zeros(n, dtype=bool)
        if path == "transfer.vessel_flags":
            return scalar(t["vessel_flag"])
        if path == "transfer.route.countries":
            return _any_by(self.route_parent, scalar(self.route_countries), self.n_t) if len(
                self.route_parent) else np.zeros(n, dtype=bool)
        if path == "transfer.route.ports":
            if not len(self.route_parent):
                return np.zeros(n, dtype=bool)
            if self._ports is None:
                self._ports = pc.utf8_lower(pc.utf8_trim_whitespace(_s(self.route.field("port"))))
            return _any_by(self.route_parent, scalar(self._ports), self.n_t)
        if path == "transfer.countries":
            out = np.zeros(n, dtype=bool)
            for c in ("origin_country", "destination_country", "supplier_country", "recipient_country",
                      "vessel_flag"):
                out |= scalar(t[c])
            return out | self._member("transfer", "transfer.route.countries", wanted)
        if path == "transfer.hs_headings":
            if self._heads is None:
                hs = pc.fill_null(self.hs, "")
                self._heads = pc.if_else(pc.greater_equal(pc.utf8_length(hs), 4), pc.utf8_slice_codeunits(hs, 0, 4), "")
            return _any_by(self.frame.parent, scalar(self._heads), self.n_t)
        if path == "item.categories":
            return scalar(self.declared) | scalar(self.derived)
        if path == "item.subjects":
            return np.zeros(n, dtype=bool)
        raise _Unsupported(path)


Judge = Callable[[Frame], tuple[np.ndarray, list[str], ChunkReport]]
__all__ = ["ChunkReport", "ColumnarEvaluator", "Frame"]
