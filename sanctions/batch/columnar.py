"""The batch path on the columnar evaluator: chunks of records judged as columns, routed lines on the row path.

:func:`judge_chunk_columnar` takes the same chunks as :func:`sanctions.batch.run.judge_chunk` (records of
``(line, payload)``) and gives the same results, in the same order, byte for byte; it also says how many lines
the columnar path decided and why it routed the others (:class:`~sanctions.evaluate.columnar.ChunkReport`).
:func:`flat_chunks` reads a flat CSV or Parquet file as Arrow record batches, for the same judge without a
Python object per row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from sanctions.evaluate.columnar import ChunkReport, ColumnarEvaluator, Frame

_CACHE: dict[tuple[int, dt.date | None], ColumnarEvaluator] = {}
RowJudge = Callable[[list[Any], str, Any, "dt.date | None"], list[Any]]


def evaluator_for(engine: Any, as_of: dt.date | None) -> ColumnarEvaluator:
    """The columnar evaluator of an engine and ``as_of``, built once per process."""
    key = (id(engine), as_of)
    ev = _CACHE.get(key)
    if ev is None or ev.engine is not engine:
        ev = _CACHE[key] = ColumnarEvaluator(engine, as_of)
    return ev


class FlatChunk:
    """Whole transfers of a flat file as an Arrow table, with the file line (CSV) or row (Parquet) of each row."""

    def __init__(self, table: pa.Table, lines: np.ndarray) -> None:
        self.table = table
        self.lines = lines

    def __len__(self) -> int:
        return self.table.num_rows


def judge_chunk_columnar(chunk: list[Any] | FlatChunk, source: str, engine: Any, as_of: dt.date | None,
                         judge_chunk: RowJudge) -> tuple[list[Any], ChunkReport]:
    """Judge one chunk on the columnar path; the routed records go through ``judge_chunk`` (the row path,
    :func:`sanctions.batch.run.judge_chunk`, passed in so that this module does not import the runner)."""
    from sanctions.batch.frames import frame_from_jsonl

    ev = evaluator_for(engine, as_of)
    if isinstance(chunk, FlatChunk):
        return _judge_flat(chunk, source, engine, as_of, ev, judge_chunk)
    texts: list[str] = []
    where: list[int] = []
    report = ChunkReport()
    slots: list[Any] = [None] * len(chunk)
    routed: list[int] = []
    for k, (_line, payload) in enumerate(chunk):
        if isinstance(payload, str | dict):
            where.append(k)
            texts.append(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False))
        else:
            routed.append(k)
            report.routed["not JSON text"] += 1
    frame, positions, left = frame_from_jsonl(texts)
    for pos, why in left.items():
        routed.append(where[pos])
        report.routed[why] += 1
    clear, reasons, rep = ev.judge(frame)
    report.columnar += rep.columnar
    report.routed.update(rep.routed)
    ids = frame.t["id"].to_pylist() if frame.n else []
    for r, pos in enumerate(positions):
        k = where[pos]
        if clear[r]:
            tid = ids[r]
            slots[k] = (chunk[k][0], tid, "clear", [], ev.clear_json(tid))
        else:
            routed.append(k)
    if routed:
        routed.sort()
        for k, res in zip(routed, judge_chunk([chunk[k] for k in routed], source, engine, as_of)):
            slots[k] = res
    return slots, report


def _judge_flat(chunk: FlatChunk, source: str, engine: Any, as_of: dt.date | None, ev: ColumnarEvaluator,
                judge_chunk: RowJudge) -> tuple[list[Any], ChunkReport]:
    from sanctions.batch.formats import _group
    from sanctions.batch.frames import frame_from_flat

    frame, starts, _ = frame_from_flat(chunk.table)
    clear, reasons, report = ev.judge(frame)
    ids = frame.t["id"].to_pylist()
    lines = chunk.lines
    out: list[Any] = [None] * frame.n
    todo = np.nonzero(~clear)[0]
    for r in np.nonzero(clear)[0].tolist():
        out[r] = (int(lines[starts[r]]), ids[r], "clear", [], ev.clear_json(ids[r]))
    if len(todo):
        ends = np.append(starts[1:], len(lines))
        take = np.concatenate([np.arange(starts[r], ends[r]) for r in todo])
        rows = chunk.table.take(pa.array(take)).to_pylist()
        records = list(_group(zip(lines[take].tolist(), rows), source))
        for r, res in zip(todo.tolist(), judge_chunk(records, source, engine, as_of)):
            out[r] = res
    return out, report


def flat_chunks(path: str, fmt: str, rows: int = 65_536) -> Iterator[FlatChunk]:
    """Whole transfers of a flat CSV or Parquet file, about ``rows`` rows at a time (a transfer is never split)."""
    from sanctions.batch.formats import FLAT_COLUMNS
    from sanctions.exc import FieldProblem, InvalidInput

    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        batches: Iterator[pa.RecordBatch] = pf.iter_batches(batch_size=rows)
        first_line = 1
    else:
        import pyarrow.csv as pcsv

        with open(path, encoding="utf-8", newline="") as f:
            header = f.readline()
        import csv

        names = next(csv.reader([header])) if header else []
        # every column as text, as the row reader reads them; quoted newlines would shift line numbers, so a
        # file with any goes to the row path's reader (check_file decides before calling this)
        reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                               convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                   strings_can_be_null=False,
                                                                   quoted_strings_can_be_null=False))
        batches = iter(reader)
        first_line = 2
    unknown = [c for c in names if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in {path}: {', '.join(unknown)}", source=path,
                           problems=[FieldProblem(c, "unknown column", None) for c in unknown])
    carry: pa.Table | None = None
    line = first_line
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if carry is not None and carry.num_rows:
            table = pa.concat_tables([carry, table])
        if not table.num_rows:
            continue
        tid = table.column("transfer_id").to_numpy(zero_copy_only=False) if "transfer_id" in table.column_names \
            else np.full(table.num_rows, None, dtype=object)
        last = tid[-1]
        cut = table.num_rows
        if last is not None:
            while cut > 0 and tid[cut - 1] == last:
                cut -= 1
        if cut == 0:
            carry = table
            continue
        head, carry = table.slice(0, cut), table.slice(cut)
        yield FlatChunk(head, np.arange(line, line + cut))
        line += cut
    if carry is not None and carry.num_rows:
        yield FlatChunk(carry, np.arange(line, line + carry.num_rows))





class ResultList(list):  # type: ignore[type-arg]
    """The results of a chunk, with the columnar path's :class:`ChunkReport` (``report``; None on the row path)."""

    report: ChunkReport | None = None


class ColumnarEngine:
    """An :class:`~sanctions.engine.Engine` whose batch chunks are judged on the columnar path.

    Everything else (``check``, ``rulebook``, ``evaluator``) is the wrapped engine's: the columnar path is a way
    of running the batch, and the row engine stays the oracle and judges every routed line.
    """

    columnar = True

    def __init__(self, engine: Any) -> None:
        self.row = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)

    def judge(self, chunk: Any, source: str, as_of: dt.date | None, judge_chunk: RowJudge) -> ResultList:
        results, report = judge_chunk_columnar(chunk, source, self.row, as_of, judge_chunk)
        out = ResultList(results)
        out.report = report
        return out


COLUMNAR_CHUNK = 10_000
"""Records per chunk on the columnar path (column work has a fixed cost per chunk; memory stays bounded)."""


class ColumnarFactory:
    """An engine factory for the columnar path: ``factory()`` wrapped in a :class:`ColumnarEngine` when it is a plain
    :class:`~sanctions.engine.Engine` (picklable when ``factory`` is)."""

    columnar = True

    def __init__(self, factory: Any) -> None:
        self.factory = factory

    def __call__(self) -> Any:
        from sanctions.engine import Engine

        engine = self.factory()
        # Only a plain Engine: the clear template stands for what Engine.check says, so an object that judges
        # otherwise (a subclass, a test double, a wrapper) keeps the row path for every record.
        return ColumnarEngine(engine) if type(engine) is Engine else engine


__all__ = ["COLUMNAR_CHUNK", "ColumnarEngine", "FlatChunk", "Frame", "ColumnarFactory", "ResultList", "evaluator_for",
           "flat_chunks", "judge_chunk_columnar"]
