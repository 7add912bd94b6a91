"""Screening on a Dask cluster: flat-layout partitions judged where they live, caps summed across them.

>>> from dask.distributed import Client
>>> from sanctions.distributed import check_dask, cap_totals
>>> client = Client("tcp://scheduler:8786")                     # doctest: +SKIP
>>> result = check_dask("s3://bucket/transfers/*.parquet")       # doctest: +SKIP
>>> result.verdict.value_counts().compute()                      # doctest: +SKIP
>>> cap_totals(result).compute()                                 # doctest: +SKIP

Input is the *flat layout* of :mod:`sanctions.batch.run` (one row per item, a transfer's columns repeated on its
rows). **The rows of one transfer must be consecutive and inside one partition**: write one transfer's rows
to the same Parquet file, or, for a Dask DataFrame built from pandas, index the rows by transfer (``set_index``
on a transfer number) so that partition boundaries fall between transfers.

Each partition runs the same code as ``check_file`` (:func:`sanctions.batch.run.judge_chunk`) with an engine
built once per worker process and kept for later partitions (:func:`worker_engine`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sanctions.batch.formats import _group
from sanctions.batch.run import judge_chunk

RESULT_COLUMNS: dict[str, str] = {
    "transfer_id": "object",
    "item_index": "int64",
    "year": "int64",
    "verdict": "object",
    "item_rule_ids": "object",
    "item_exempted": "object",
    "item_quantity": "float64",
    "item_unit": "object",
    "decision_json": "object",
    "error_json": "object",
}
"""Columns of :func:`check_dask`'s result, one row per input row (item):

* ``transfer_id``; ``item_index`` (position of the item in its transfer, -1 for a transfer without items);
  ``year`` (calendar year of the transfer's first day, 0 when unknown);
* ``verdict`` of the transfer (null when the transfer was rejected);
* ``item_rule_ids``: rule ids of the findings about this item, space-separated, sorted;
* ``item_exempted``: ``rule_id/exemption_id`` of the exemptions that cleared this item, space-separated;
* ``item_quantity``, ``item_unit``: as in the input;
* ``decision_json``: the canonical decision, on the first row of each transfer only (null on the others);
* ``error_json``: the error line, on the first row of a rejected transfer.
"""

CAPS: Mapping[str, Mapping[str, Any]] = {
    "dprk.refined_petroleum": {
        "rules": ("dprk.petroleum.refined", "dprk.petroleum.refined.notification"),
        "exemptions": ("dprk.petroleum.refined/notified-allowance",),
        "unit": "barrels",
    },
}
"""Caps :func:`cap_totals` sums by default. An item counts towards a cap when a finding of one of ``rules`` is
about it, or one of ``exemptions`` cleared it (the notified allowance still counts towards the cap). Only items
whose quantity is given in ``unit`` are summed; the others are counted in ``other_unit_items``, not converted
(see :mod:`sanctions.model.units` for conversions a report may apply)."""

_ENGINES: dict[tuple[str, ...], Any] = {}


def worker_engine(rulebook_dirs: Sequence[str | Path] = ()) -> Any:
    """The engine of this process for these rule packs, built on first use (built-in rules + ``rulebook_dirs``,
    batch evaluator)."""
    key = tuple(str(p) for p in rulebook_dirs)
    engine = _ENGINES.get(key)
    if engine is None:
        from sanctions.evaluate.rowbatch import BatchEvaluator
        from sanctions.engine import Engine
        from sanctions.rulebook import load_rulebook

        engine = Engine(load_rulebook(*rulebook_dirs), evaluator="reference")
        engine.evaluator = BatchEvaluator(engine.rulebook.compiled)
        _ENGINES[key] = engine
    return engine


def _year(value: Any) -> int:
    if isinstance(value, dt.date | dt.datetime):
        return value.year
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
        return int(value[:4])
    return 0


def screen_partition(df: Any, rulebook_dirs: Sequence[str | Path] = (), as_of: dt.date | None = None) -> Any:
    """Judge one pandas partition in the flat layout; returns the :data:`RESULT_COLUMNS` frame, row for row."""
    import pandas as pd

    _check_columns(df.columns)
    engine = worker_engine(rulebook_dirs)
    cols = list(df.columns)
    rows = df[cols].astype(object).where(df[cols].notna(), None).to_dict("records")
    records = list(_group(enumerate(rows, 1), "<partition>"))
    results = judge_chunk(records, "<partition>", engine, as_of)
    out: dict[str, list[Any]] = {c: [] for c in RESULT_COLUMNS}
    bounds = [r[0] for r in records] + [len(rows) + 1]
    for n, (first, _), result in zip(range(len(records)), records, results):
        span = rows[first - 1: bounds[n + 1] - 1]
        _, subject_id, verdict, _, text = result
        per_item: dict[int, set[str]] = {}
        exempted: dict[int, set[str]] = {}
        if verdict is not None:
            d = json.loads(text)
            for f in d["findings"]:
                if f.get("item_index") is not None:
                    per_item.setdefault(f["item_index"], set()).add(f["rule_id"])
            for c in d["considered"]:
                if c["status"] == "exempted" and c.get("item_index") is not None and c.get("exemption"):
                    exempted.setdefault(c["item_index"], set()).add(f"{c['rule_id']}/{c['exemption']['id']}")
        item = 0
        for k, row in enumerate(span):
            has_item = row.get("item_description") is not None
            idx = item if has_item else -1
            item += has_item
            out["transfer_id"].append(row.get("transfer_id"))
            out["item_index"].append(idx)
            out["year"].append(_year(row.get("date_start")))
            out["verdict"].append(verdict)
            out["item_rule_ids"].append(" ".join(sorted(per_item.get(idx, ()))))
            out["item_exempted"].append(" ".join(sorted(exempted.get(idx, ()))))
            q = row.get("item_quantity")
            out["item_quantity"].append(float(q) if q not in (None, "") else float("nan"))
            out["item_unit"].append(row.get("item_unit"))
            out["decision_json"].append(text if k == 0 and verdict is not None else None)
            out["error_json"].append(text if k == 0 and verdict is None else None)
    frame = pd.DataFrame(out, index=df.index)
    return frame.astype(RESULT_COLUMNS)


def _check_columns(columns: Any) -> None:
    """Refuse a column outside the flat layout, as the file readers do: its field would be dropped unread."""
    from sanctions.batch.formats import FLAT_COLUMNS, _nearest_column
    from sanctions.exc import FieldProblem, InvalidInput

    unknown = [str(c) for c in columns if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in the flat layout: {', '.join(unknown)}",
                           problems=[FieldProblem(c, "unknown column", None, _nearest_column(c)) for c in unknown])


def _meta() -> Any:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RESULT_COLUMNS.items()})


def check_dask(ddf_or_parquet_glob: Any, *, rulebook_dirs: Sequence[str | Path] = (),
               as_of: dt.date | None = None) -> Any:
    """Screen a Dask DataFrame (flat layout), or the Parquet files a glob names, partition by partition.

    Args:
        ddf_or_parquet_glob: A ``dask.dataframe.DataFrame`` in the flat layout, or a path or glob (local or any
            fsspec URL) of flat-layout Parquet files.

    Raises:
        InvalidInput: naming every column that is not one of the flat layout (its field would not be read).
        rulebook_dirs: Extra rule packs, loaded on top of the built-in rules in each worker (the folders must be
            readable from the workers).
        as_of: Judge under the law in force on this date.

    Returns:
        A lazy ``dask.dataframe.DataFrame`` with the :data:`RESULT_COLUMNS`, one row per input row, same
        partitions. Nothing runs until it is computed (on the current ``dask.distributed`` client, if any).
    """
    import dask.dataframe as dd

    ddf = ddf_or_parquet_glob
    if isinstance(ddf, str | Path):
        ddf = dd.read_parquet(str(ddf))
    _check_columns(ddf.columns)
    dirs = tuple(str(p) for p in rulebook_dirs)
    return ddf.map_partitions(screen_partition, dirs, as_of, meta=_meta())


def _cap_partition(df: Any, caps: Mapping[str, Mapping[str, Any]]) -> Any:
    import pandas as pd

    out = []
    rules = df["item_rule_ids"].fillna("").str.split()
    exempted = df["item_exempted"].fillna("").str.split()
    for cap_id, spec in caps.items():
        want_rules, want_ex = set(spec.get("rules", ())), set(spec.get("exemptions", ()))
        counts = [bool(want_rules.intersection(r)) or bool(want_ex.intersection(e)) for r, e in zip(rules, exempted)]
        hit = df[pd.Series(counts, index=df.index, dtype=bool)]
        in_unit = hit["item_unit"] == spec["unit"]
        part = pd.DataFrame({
            "cap": cap_id,
            "year": hit["year"],
            "unit": spec["unit"],
            "quantity": hit["item_quantity"].where(in_unit, 0.0).fillna(0.0),
            "items": 1,
            "other_unit_items": (~in_unit).astype("int64"),
        })
        out.append(part)
    if not out:
        return _cap_meta()
    return pd.concat(out).groupby(["cap", "year", "unit"], as_index=False).sum()


def _cap_meta() -> Any:
    import pandas as pd

    return pd.DataFrame({"cap": pd.Series(dtype=object), "year": pd.Series(dtype="int64"),
                         "unit": pd.Series(dtype=object), "quantity": pd.Series(dtype="float64"),
                         "items": pd.Series(dtype="int64"), "other_unit_items": pd.Series(dtype="int64")})


def cap_totals(result_ddf: Any, *, caps: Mapping[str, Mapping[str, Any]] = CAPS) -> Any:
    """Sum, per cap and calendar year, the quantities of the items that count towards it, across partitions.

    Args:
        result_ddf: The result of :func:`check_dask` (or a pandas frame of the same columns).
        caps: Which caps to sum; see :data:`CAPS` (refined petroleum to the DPRK, in barrels).

    Returns:
        A lazy Dask DataFrame (pandas, for a pandas input) with columns ``cap``, ``year``, ``unit``,
        ``quantity`` (sum in ``unit``), ``items`` (items counted) and ``other_unit_items`` (counted items whose
        quantity is in another unit, or missing, and so not summed), one row per (cap, year) that has any.
    """
    if not hasattr(result_ddf, "map_partitions"):
        return _cap_partition(result_ddf, caps).sort_values(["cap", "year"], ignore_index=True)
    per_part = result_ddf.map_partitions(_cap_partition, caps, meta=_cap_meta())
    return per_part.groupby(["cap", "year", "unit"]).sum().reset_index()


__all__ = ["CAPS", "RESULT_COLUMNS", "cap_totals", "check_dask", "screen_partition", "worker_engine"]
