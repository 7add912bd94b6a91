"""check_dask on a real two-process LocalCluster gives check_file's decisions; cap_totals sums across partitions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("dask.distributed")
pa = pytest.importorskip("pyarrow")

import pyarrow.parquet as pq  # noqa: E402

from sanctions.batch.run import check_file, flatten  # noqa: E402
from sanctions.batch.distributed import cap_totals, check_dask, screen_partition  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402


def _petroleum(n: int, year: int, barrels: float, notified: bool) -> dict:
    t = {
        "id": f"P{year}-{n}", "date": f"{year}-06-0{1 + n % 9}", "kind": "goods",
        "supplier": {"name": "Oil Co", "country": "RU"}, "recipient": {"name": "Gov", "country": "KP", "kind": "state"},
        "origin_country": "RU", "destination_country": "KP", "purpose": "livelihood",
        "items": [{"description": "Diesel", "hs_code": "271019", "quantity": {"value": barrels, "unit": "barrels"}},
                  {"description": "Wheat", "hs_code": "100199", "quantity": {"value": 5.0, "unit": "tonnes"}},
                  {"description": "Gasoline", "hs_code": "271012", "quantity": {"value": 10.0, "unit": "tonnes"}}],
    }
    if notified:
        t["notifications"] = [{"date": f"{year}-05-01"}]
    return t


@pytest.mark.slow
def test_check_dask_on_a_two_process_local_cluster(tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    transfers = [json.loads(x) for x in generate.transfers(150, seed=12)]
    transfers += [_petroleum(i, 2018 + i % 2, 1000.0 * (i + 1), notified=i % 3 == 0) for i in range(6)]
    transfers += [_petroleum(9, 2016, 777.0, notified=False)]  # before the 2397 cap: not counted
    (tmp_path / "all.jsonl").write_text("".join(json.dumps(t) + "\n" for t in transfers))
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(3):  # whole transfers per file
        rows = [row for t in transfers[k::3] for row in flatten(t)]
        pq.write_table(pa.Table.from_pylist(rows), parts / f"part-{k}.parquet")

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        result = check_dask(str(parts / "*.parquet"))
        got = result.compute()
        totals = cap_totals(result).compute().sort_values(["cap", "year"], ignore_index=True)

    # same decisions as the single-process batch path
    check_file(tmp_path / "all.jsonl", out=tmp_path / "want.jsonl", workers=0, quiet=True)
    want = {json.loads(x)["subject"]["id"]: x for x in (tmp_path / "want.jsonl").read_text().splitlines()}
    decided = got[got.decision_json.notna()]
    assert len(decided) == len(transfers) == len(want)
    assert {r.transfer_id: r.decision_json for r in decided.itertuples()} == want
    assert len(got) == sum(len(t["items"]) for t in transfers)

    # refined petroleum to the DPRK, per calendar year: every diesel line (findings or notified allowance)
    expected = {}
    for i in range(6):
        expected[2018 + i % 2] = expected.get(2018 + i % 2, 0.0) + 1000.0 * (i + 1)
    refined = totals[totals.cap == "dprk.refined_petroleum"]
    by_year = {int(r.year): r for r in refined.itertuples()}
    assert {y: by_year[y].quantity for y in (2018, 2019)} == expected
    assert by_year[2018].items == 3 * 2 and by_year[2018].other_unit_items == 3  # gasoline given in tonnes
    assert 2016 not in by_year
    # the generator's refined-petroleum lines to the DPRK (2018 onwards) add to the totals, never subtract
    assert all(r.quantity >= 0 for r in refined.itertuples())


def test_screen_partition_and_cap_totals_in_pandas() -> None:
    pd = pytest.importorskip("pandas")
    rows = [row for i in range(3) for row in flatten(_petroleum(i, 2019, 100.0, notified=True))]
    df = pd.DataFrame(rows)
    out = screen_partition(df)
    assert list(out.item_index) == [0, 1, 2] * 3
    assert out.decision_json.notna().sum() == 3
    assert all("dprk.petroleum.refined/notified-allowance" in x.split() for x in out.item_exempted[out.item_index == 0])
    t = cap_totals(out)
    assert t.to_dict("records") == [{"cap": "dprk.refined_petroleum", "year": 2019, "unit": "barrels",
                                     "quantity": 300.0, "items": 6, "other_unit_items": 3}]


def test_a_partition_keeps_every_field_and_refuses_a_column_it_would_not_read() -> None:
    """The Dask path reads the whole flat layout (a Darfur region is not dropped) and, like the file readers,
    refuses a column outside it instead of ignoring it."""
    pd = pytest.importorskip("pandas")
    from sanctions.batch.distributed import check_dask
    from sanctions.batch.run import default_engine, judge_chunk
    from sanctions.exc import InvalidInput

    darfur = {"id": "darfur", "date": "2024-01-15", "supplier": {"name": "S", "country": "DE"},
              "recipient": {"name": "R", "country": "SD"}, "origin_country": "DE", "destination_country": "SD",
              "destination_subdivision": "SD-DN",
              "items": [{"description": "Assault rifles", "category": "small_arms_light_weapons"}]}
    out = screen_partition(pd.DataFrame(flatten(darfur)))
    want = judge_chunk([(1, json.dumps(darfur))], "t", default_engine())[0][4]
    assert list(out.decision_json) == [want]
    df = pd.DataFrame(flatten(darfur)).rename(columns={"destination_subdivision": "destination_subdivison"})
    import dask.dataframe as dd

    for run, frame in ((screen_partition, df), (check_dask, dd.from_pandas(df, npartitions=1))):
        with pytest.raises(InvalidInput, match="destination_subdivison") as err:
            run(frame)
        assert "destination_subdivision" in err.value.problems[0].hint
