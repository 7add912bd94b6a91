"""What bounds the batch parent's memory, asserted by its causes (never by a clock or by RSS):

* a chunk of a flat file sent to a worker pickles to its own rows, not to the record group or batch it was cut
  from (a pickled Arrow slice carries every buffer it slices);
* a chunk of a Parquet file is a range of rows that the worker reads, so it pickles to a few bytes and the
  parent holds only the ``transfer_id`` column;
* the records in flight (sent to workers, or judged and not yet written) stay within ``IN_FLIGHT_RECORDS``,
  never below ``workers + 1`` chunks and never above ``2 * workers + 2``;
and none of it changes what is written: Parquet output is byte for byte the same with two workers and none.
"""

from __future__ import annotations

import json
import sys
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")
import pyarrow.parquet as pq

from sanctions.batch import run
from sanctions.batch.columnar import FlatChunk, flat_chunks
from sanctions.batch.run import FLAT_COLUMNS, check_file, flatten

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import generate


def _rows(n: int, seed: int) -> list[dict]:
    return [row for line in generate.transfers(n, seed=seed) for row in flatten(json.loads(line))]


def _parquet(path: Path, rows: list[dict], row_group: int) -> None:
    schema = pa.schema([(c, pa.string()) for c in FLAT_COLUMNS])
    cols = {c: [None if r[c] is None else str(r[c]) for r in rows] for c in FLAT_COLUMNS}
    pq.write_table(pa.table(cols, schema=schema), path, row_group_size=row_group)


def _transfer_count(ids: list) -> int:
    return sum(1 for i, t in enumerate(ids) if i == 0 or t is None or t != ids[i - 1])


def test_parquet_chunks_are_row_ranges_that_cover_the_file_and_never_split_a_transfer(tmp_path):
    rows = _rows(400, 5)
    path = tmp_path / "flat.parquet"
    _parquet(path, rows, row_group=1_000)  # chunks of ~300 rows cut from row groups of 1,000
    whole = pq.read_table(path)
    chunks = list(flat_chunks(str(path), "parquet", rows=300))
    assert len(chunks) > 5
    assert pa.concat_tables([c.table for c in chunks]).equals(whole)
    lines = [int(x) for c in chunks for x in c.lines]
    assert lines == list(range(1, whole.num_rows + 1))  # Parquet rows, from 1
    ids = whole.column("transfer_id").to_pylist()
    assert sum(c.records for c in chunks) == _transfer_count(ids) == 400
    for c in chunks:
        assert c.records == _transfer_count(c.table.column("transfer_id").to_pylist())
        end = int(c.lines[-1])  # the next row (if any) starts another transfer
        assert end == len(ids) or ids[end] != ids[end - 1]


def test_a_parquet_chunk_pickles_to_a_few_bytes_and_reads_its_rows_where_it_is_unpickled(tmp_path):
    path = tmp_path / "flat.parquet"
    _parquet(path, _rows(300, 6), row_group=100_000)  # one record group holds the whole file
    for chunk in flat_chunks(str(path), "parquet", rows=200):
        data = bytes(ForkingPickler.dumps(chunk))
        assert len(data) < 1_000, "a Parquet chunk should travel as its row range, not as Arrow data"
        back = ForkingPickler.loads(data)
        assert back.table.equals(chunk.table)
        assert back.lines.tolist() == chunk.lines.tolist() and back.records == chunk.records


def test_a_table_chunk_pickles_to_its_own_rows_not_to_the_batch_it_was_cut_from(tmp_path):
    import numpy as np

    path = tmp_path / "flat.parquet"
    _parquet(path, _rows(300, 7), row_group=100_000)
    whole = pq.read_table(path)
    head = whole.slice(40, 200)
    carried = pa.concat_tables([whole.slice(whole.num_rows - 30), whole.slice(0, 170)])  # as a CSV chunk is made
    for table in (head, carried):
        chunk = FlatChunk(table, np.arange(1, table.num_rows + 1), 17)
        data = bytes(ForkingPickler.dumps(chunk))
        # proportional to the chunk's rows (IPC framing and the line numbers on top), not to the whole table
        assert len(data) <= 1.25 * table.nbytes + 8 * table.num_rows + 16_384 < whole.nbytes
        back = ForkingPickler.loads(data)
        assert back.table.equals(table) and back.lines.tolist() == chunk.lines.tolist() and back.records == 17


def test_a_chunk_needs_a_table_or_rows_of_a_file():
    with pytest.raises(ValueError):
        FlatChunk(None, None)
    with pytest.raises(ValueError):
        FlatChunk(pa.table({"transfer_id": ["a"]}), None)


class _Job:
    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


@pytest.mark.parametrize("sizes, workers, budget", [
    ([10_000] * 12, 2, 30_000),           # the columnar path's chunks: 3 in flight, not 6
    ([1_000] * 40, 2, 30_000),            # the row path's chunks: never more than 2 * workers + 2
    ([10_000] * 12, 2, 5_000),            # a budget below a chunk: still workers + 1 chunks
    ([5, 3000, 7, 12_000, 1, 400] * 3, 3, 9_000),
])
def test_in_flight_records_are_bounded_and_results_come_in_input_order(sizes, workers, budget):
    held: list[int] = []
    out: list[int] = []
    high = [0]

    def submit(chunk):
        held.append(len(chunk))
        high[0] = max(high[0], sum(held), 0)
        assert len(held) <= 2 * workers + 2
        return _Job(chunk)

    def consume(result, snap):
        assert len(result) == held.pop(0)
        out.append(snap)

    chunks = [(list(range(n)), k) for k, n in enumerate(sizes)]
    peak = run._pipeline(submit, chunks, consume, workers, budget)
    assert out == list(range(len(sizes)))
    assert peak == high[0]
    biggest = sorted(sizes)[-(workers + 1):]
    assert peak <= max(budget, sum(biggest))
    if max(sizes) * (workers + 1) <= budget:
        assert peak <= budget


def test_check_file_on_parquet_keeps_its_records_in_flight_within_the_budget(tmp_path, monkeypatch):
    rows = _rows(120, 8)
    src = tmp_path / "flat.parquet"
    _parquet(src, rows, row_group=500)
    peaks: list[int] = []
    pipeline = run._pipeline

    def spy(*args, **kwargs):
        peaks.append(pipeline(*args, **kwargs))
        return peaks[-1]

    monkeypatch.setattr(run, "_pipeline", spy)
    monkeypatch.setattr(run, "IN_FLIGHT_RECORDS", 40)  # about 4 chunks of about 10 transfers; 6 without it
    s = check_file(src, out=tmp_path / "two.parquet", fmt_out="parquet", workers=2, chunk_size=10, quiet=True)
    assert (s.read, s.judged + s.rejected) == (120, 120)
    assert peaks and peaks[0] <= 40
    check_file(src, out=tmp_path / "none.parquet", fmt_out="parquet", workers=0, chunk_size=10, quiet=True)
    assert (tmp_path / "two.parquet").read_bytes() == (tmp_path / "none.parquet").read_bytes()
    assert pq.ParquetFile(tmp_path / "two.parquet").metadata.num_row_groups > 3
