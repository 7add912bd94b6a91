"""The batch path on the columnar evaluator: chunks of records judged as columns, routed lines on the row path.

:func:`judge_chunk_columnar` takes the same chunks as :func:`sanctions.batch.run.judge_chunk` (records of
``(line, payload)``) and gives the same results, in the same order, byte for byte; it also says how many lines
the columnar path decided and why it routed the others (:class:`~sanctions.evaluate.columnar.ChunkReport`).
:func:`flat_chunks` reads a flat CSV or Parquet file as Arrow record batches, for the same judge without a
Python object per row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    """Whole transfers of a flat file as an Arrow table, with the file line (CSV) or row (Parquet) of each row.

    A chunk of a Parquet file is a range of its rows (``rows_of``): the table is read from the file where the chunk
    is judged, so the process that reads the file ahead and hands out chunks holds only their ``transfer_id``
    column, and a chunk sent to a worker process pickles to a few bytes. A chunk made from a table pickles as Arrow
    IPC, which writes only its own rows (pickling a sliced table would carry every buffer it slices).
    """

    def __init__(self, table: pa.Table | None, lines: np.ndarray | None, records: int | None = None,
                 rows_of: tuple[str, int, int] | None = None) -> None:
        if lines is None:
            if rows_of is None:
                raise ValueError("a FlatChunk of a table needs the line of each row")
            lines = np.arange(rows_of[1] + 1, rows_of[1] + 1 + rows_of[2])  # Parquet rows, from 1
        if table is None and rows_of is None:
            raise ValueError("a FlatChunk needs a table or rows of a file")
        self._table = table
        self.lines: np.ndarray = lines
        self.records = records
        """Transfers in the chunk, when the reader counted them (its length is its rows)."""
        self.rows_of = rows_of
        """(Parquet file, first row from 0, rows) when the table is read from the file on first use."""

    @property
    def table(self) -> pa.Table:
        if self._table is None:
            assert self.rows_of is not None
            self._table = _parquet_rows(*self.rows_of)
        return self._table

    def __len__(self) -> int:
        return self.rows_of[2] if self._table is None and self.rows_of else self.table.num_rows

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        if self._table is None:  # the lines are the rows from 1, made again where it is unpickled
            return FlatChunk, (None, None, self.records, self.rows_of)
        return _flat_chunk_from_ipc, (_ipc_bytes(self._table), np.ascontiguousarray(self.lines), self.records)


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _flat_chunk_from_ipc(data: bytes, lines: np.ndarray, records: int | None) -> FlatChunk:
    return FlatChunk(pa.ipc.open_stream(pa.py_buffer(data)).read_all(), lines, records)


def _parquet_rows(path: str, first: int, n: int) -> pa.Table:
    """Rows ``first`` to ``first + n`` of a Parquet file (only the row groups that hold them are read), compact."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    md = pf.metadata
    offsets = np.cumsum([0] + [md.row_group(g).num_rows for g in range(md.num_row_groups)])
    groups = [g for g in range(md.num_row_groups) if offsets[g] < first + n and offsets[g + 1] > first]
    if not groups:
        return pf.schema_arrow.empty_table()
    table = pf.read_row_groups(groups, use_threads=False).slice(int(first - offsets[groups[0]]), n)
    # a copy of just these rows: the slice would keep the whole row groups alive while the chunk is judged
    return table.take(pa.array(np.arange(n)))


def _starts(tid: pa.Array) -> np.ndarray:
    """Per row: it starts a transfer (its id is not the row before's, or it has none), as the row reader groups."""
    if pa.types.is_dictionary(tid.type):
        tid = tid.dictionary_decode()
    n = len(tid)
    new = np.ones(n, dtype=bool)
    if n > 1 and not pa.types.is_null(tid.type):
        try:
            same = pc.fill_null(pc.equal(tid.slice(1), tid.slice(0, n - 1)), False)
            new[1:] = ~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
        except pa.ArrowNotImplementedError:  # an id column of a type Arrow does not compare: as Python does
            ids = tid.to_pylist()
            new[1:] = [b is None or a != b for a, b in itertools.pairwise(ids)]
    return new


def _cut(tid: pa.Array, new: np.ndarray) -> int:
    """Rows before the last transfer, which may go on in the next batch (all rows if the last row has no id)."""
    if not len(tid) or not tid[len(tid) - 1].is_valid:
        return len(tid)
    return int(np.flatnonzero(new)[-1])


def _parquet_chunks(path: str, pf: Any, rows: int) -> Iterator[FlatChunk]:
    """Chunks of a Parquet file as row ranges, cut from its ``transfer_id`` column alone (as Arrow: converting
    ids to Python objects would import pandas into this process for nothing)."""
    path = os.path.abspath(path)  # opened again where the chunk is judged
    if "transfer_id" not in pf.schema_arrow.names:  # every row is a transfer of its own
        total = pf.metadata.num_rows
        for first in range(0, total, rows):
            n = min(rows, total - first)
            yield FlatChunk(None, None, n, (path, first, n))
        return
    carry: pa.Array | None = None
    first = 0
    for batch in pf.iter_batches(batch_size=rows, columns=["transfer_id"]):
        tid = batch.column(0)
        if carry is not None and len(carry):
            tid = pa.concat_arrays([carry, tid])
        if not len(tid):
            continue
        new = _starts(tid)
        cut = _cut(tid, new)
        if cut == 0:
            carry = tid
            continue
        yield FlatChunk(None, None, int(np.count_nonzero(new[:cut])), (path, first, cut))
        first += cut
        carry = tid.slice(cut)
    if carry is not None and len(carry):
        n = len(carry)
        yield FlatChunk(None, None, int(np.count_nonzero(_starts(carry))), (path, first, n))


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
    """Whole transfers of a flat CSV or Parquet file, about ``rows`` rows at a time (a transfer is never split).

    A Parquet file is cut from its ``transfer_id`` column alone; each chunk reads its rows when it is judged (see
    :class:`FlatChunk`). A CSV file is read here, a record batch at a time."""
    from sanctions.batch.formats import FLAT_COLUMNS
    from sanctions.exc import FieldProblem, InvalidInput

    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    else:
        import csv

        import pyarrow.csv as pcsv

        with open(path, encoding="utf-8", newline="") as f:
            header = f.readline()
        names = next(csv.reader([header])) if header else []
    unknown = [c for c in names if c not in FLAT_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown columns in {path}: {', '.join(unknown)}", source=path,
                           problems=[FieldProblem(c, "unknown column", None) for c in unknown])
    if fmt == "parquet":
        yield from _parquet_chunks(path, pf, rows)
        return
    # every column as text, as the row reader reads them; quoted newlines would shift line numbers, so a file with
    # any goes to the row path's reader (check_file decides before calling this)
    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                           convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                               strings_can_be_null=False,
                                                               quoted_strings_can_be_null=False))
    carry: pa.Table | None = None
    line = 2
    for batch in reader:
        table = pa.Table.from_batches([batch])
        if carry is not None and carry.num_rows:
            table = pa.concat_tables([carry, table])
        if not table.num_rows:
            continue
        tid = _ids(table)
        new = _starts(tid)
        cut = _cut(tid, new)
        if cut == 0:
            carry = table
            continue
        head, carry = table.slice(0, cut), table.slice(cut)
        yield FlatChunk(head, np.arange(line, line + cut), int(np.count_nonzero(new[:cut])))
        line += cut
    if carry is not None and carry.num_rows:
        yield FlatChunk(carry, np.arange(line, line + carry.num_rows), int(np.count_nonzero(_starts(_ids(carry)))))


def _ids(table: pa.Table) -> pa.Array:
    if "transfer_id" in table.column_names:
        return table.column("transfer_id").combine_chunks()
    return pa.nulls(table.num_rows)


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
