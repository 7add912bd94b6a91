"""The flat layout (CSV and Parquet) holds every field of a transfer: nothing a user gave is dropped.

* Every field of the models has a column (``FIELD_COLUMNS``), enumerated from the pydantic models themselves, so a
  field added later without a column fails here; :func:`flatten` refuses a field it has no column for.
* Round trip: ``flatten`` -> CSV or Parquet -> the flat reader gives the same :class:`Transfer` as the JSON, and
  ``check_file`` gives the same decisions from the flat file as from JSON Lines, on the row and the columnar path
  (hypothesis, with :func:`sanctions.strategies.transfers` and :func:`~sanctions.strategies.unknown_variants`).
* The columnar path never judges a transfer as if a field it does not read were absent: such a transfer goes to
  the row path, counted as ``<column> given``.

Sizes: 12 hypothesis examples (``ci``); 300 with ``SANCTIONS_HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import csv
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

pytest.importorskip("pyarrow")

import pyarrow as pa
import pyarrow.parquet as pq

from sanctions.batch import formats
from sanctions.batch.columnar import flat_chunks, judge_chunk_columnar
from sanctions.batch.formats import FIELD_COLUMNS, FLAT_COLUMNS, ITEM_COLUMNS, TRANSFER_COLUMNS, flatten
from sanctions.batch.run import check_file, default_engine, judge_chunk
from sanctions.exc import InvalidInput, InvalidTransfer
from sanctions.model.records import (
    CoarseDate,
    DateRange,
    Item,
    Money,
    Party,
    Quantity,
    Transfer,
    Vessel,
    parse_transfer,
)

ROOT = Path(__file__).resolve().parents[2]
THOROUGH = os.environ.get("SANCTIONS_HYPOTHESIS_PROFILE") == "thorough"

FIRST_LAYOUT = (
    "transfer_id", "date_start", "date_end", "kind", "purpose", "supplier_name", "supplier_country", "supplier_kind",
    "recipient_name", "recipient_country", "recipient_kind", "origin_country", "destination_country", "vessel_name",
    "vessel_imo", "vessel_flag", "ship_to_ship", "sts_vessel_name", "sts_vessel_imo", "sts_vessel_flag", "route_json",
    "intermediaries_json", "notifications_json", "exemptions_json", "notes", "item_description", "item_hs_code",
    "item_category", "item_quantity", "item_unit", "item_value", "item_currency", "item_origin_country",
    "item_end_use", "item_end_user",
)

# Every field of a transfer set, none at its default: the example the round trip must keep whole.
FULL: dict[str, Any] = {
    "id": "full-1", "date": {"start": "2024-03-07", "end": "2024-03-07"}, "kind": "technical_assistance", "purpose": "unknown",
    "supplier": {"name": "Supplier Co", "country": "CN", "kind": "government_body",
                 "identifiers": {"registration": "91210200"}, "aliases": ["Supplier Company"]},
    "recipient": {"name": "Rapid Support Forces", "country": "unknown", "kind": "other",
                  "identifiers": {"tax": "A-1"}, "aliases": ["RSF"]},
    "intermediaries": [{"name": "Broker Ltd", "country": "AE"}],
    "origin_country": "CN", "destination_country": "SD", "destination_subdivision": "SD-DN",
    "route": [{"port": "Port Sudan", "country": "SD", "role": "discharge"}], "transport": ["sea", "road"],
    "vessel": {"name": "Sea Glory", "imo": "9321483", "flag": "unknown"}, "ship_to_ship": True,
    "sts_vessel": {"name": "Amber", "imo": "9166778", "flag": "PA"},
    "end_user": {"kind": "armed_group", "name": "RSF", "country": "SD", "organisation": "Rapid Support Forces"},
    "notifications": [{"to": "1591 Committee", "date": "2024-02-01", "reference": "N-1"}], "notified": "unknown",
    "exemptions": [{"reference": "E-1", "granted_by": "1591 Committee", "date": "2024-02-02",
                    "purpose": "livelihood"}],
    "contract": {"date": "2023-12-01", "written": False}, "notes": "every field",
    "items": [
        {"description": "Helicopter overhaul", "hs_code": "8802.11", "category": "unroca_v_attack_helicopters",
         "quantity": {"value": 2, "unit": "units"}, "value": {"amount": 1500000.5, "currency": "EUR"},
         "origin_country": "RU", "end_use": "unknown", "end_user": "RSF air wing", "condition": "used",
         "hs_alternatives": ["8802.12", "8701-8705"], "subject": "unknown", "servicing": "overhaul"},
        {"description": "Spare parts, \"mixed\"\nsecond line", "hs_code": "880730"},
    ],
}


def _nested(annotation: Any) -> list[type[BaseModel]]:
    """The models inside an annotation (``Party | None``, ``list[Item]``, ``Annotated[...]``)."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin is typing.Annotated:
        return _nested(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        return [m for a in typing.get_args(annotation) for m in _nested(a)]
    return []


def uncovered(model: type[BaseModel], path: str, columns: dict[str, tuple[str, ...]]) -> list[str]:
    """Field paths of ``model`` (and the models inside it, where they are split into columns) with no column."""
    out = []
    for name, info in model.model_fields.items():
        here = "item" if f"{path}.{name}" == "transfer.items" else f"{path}.{name}"  # an item is a row
        if here in columns:
            continue
        inner = _nested(info.annotation)
        if inner and any(k.startswith(here + ".") for k in columns):
            for m in inner:
                out += uncovered(m, here, columns)
        else:
            out.append(here)
    return out


def test_every_field_of_the_models_has_a_column():
    assert uncovered(Transfer, "transfer", FIELD_COLUMNS) == []
    # the check sees a field added later (it can fail) ...
    future_item = type("FutureItem", (Item,), {"__annotations__": {"pallets": int | None}, "pallets": None})
    assert uncovered(future_item, "item", FIELD_COLUMNS) == ["item.pallets"]
    future_party = type("FutureParty", (Party,), {"__annotations__": {"email": str | None}, "email": None})
    future = type("FutureTransfer", (Transfer,), {"__annotations__": {"supplier": future_party}})
    assert uncovered(future, "transfer", FIELD_COLUMNS) == ["transfer.supplier.email"]
    # ... and every column named there is a column of the layout, and every column holds a field
    named = [c for cols in FIELD_COLUMNS.values() for c in cols]
    assert sorted(named) == sorted(FLAT_COLUMNS)
    assert len(set(FLAT_COLUMNS)) == len(FLAT_COLUMNS)
    assert set(TRANSFER_COLUMNS) | set(ITEM_COLUMNS) == set(FLAT_COLUMNS)
    assert all(c.startswith("item_") for c in ITEM_COLUMNS) and not any(c.startswith("item_") for c in TRANSFER_COLUMNS)


def test_flatten_writes_to_columns_exactly_the_fields_of_the_models():
    # the keys flatten splits into columns are the models' fields: one the model gains is refused, not dropped
    models = {"Transfer": Transfer, "Party": Party, "Vessel": Vessel, "Item": Item, "Quantity": Quantity,
              "Money": Money, "CoarseDate": CoarseDate}
    for name, model in models.items():
        assert formats.FLATTENED_KEYS[name] == frozenset(model.model_fields), name
    assert set(DateRange.model_fields) <= formats.FLATTENED_KEYS["CoarseDate"]


def test_the_first_layout_is_kept_and_new_columns_are_appended():
    assert FLAT_COLUMNS[:len(FIRST_LAYOUT)] == FIRST_LAYOUT


def test_every_column_is_documented():
    import re

    doc = formats.__doc__ or ""
    table = doc.split("=====")[1:-1]  # the column table of the flat layout
    words = set(re.findall(r"[a-z_]+", "".join(table)))
    missing = [c for c in FLAT_COLUMNS if c not in words]
    assert missing == []


@pytest.mark.parametrize("data, path", [
    ({"pallets": 3}, "pallets"),
    ({"supplier": {"name": "S", "country": "CN", "email": "s@x"}}, "supplier.email"),
    ({"vessel": {"name": "V", "mmsi": "1"}}, "vessel.mmsi"),
    ({"items": [{"description": "d", "colour": "red"}]}, "items[0].colour"),
    ({"items": [{"description": "d", "quantity": {"value": 1, "unit": "kg", "approx": True}}]},
     "items[0].quantity.approx"),
    ({"items": [{"description": "d", "value": {"currency": "EUR"}}]}, "items[0].value.amount"),
    ({"items": [{}]}, "items[0]"),
    ({"date": {"start": "2024-01-01"}}, "date.end"),
    ({"kind": ["goods"]}, "kind"),
    ({"items": [{"description": {"text": "d"}}]}, "items[0].description"),
])
def test_flatten_refuses_what_it_cannot_write_naming_the_field(data, path):
    base = {"id": "t", "date": "2024-01-01", "supplier": {"name": "S", "country": "CN"},
            "recipient": {"name": "R", "country": "KP"}, "origin_country": "CN", "destination_country": "KP"}
    with pytest.raises(InvalidTransfer) as err:
        flatten({**base, **data})
    assert err.value.problems[0].path == path
    assert path in str(err.value)


# ----------------------------------------------------------------------------------------------------------------
# Writing and reading flat files
# ----------------------------------------------------------------------------------------------------------------


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def write_csv(path: Path, transfers: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(FLAT_COLUMNS)
        for t in transfers:
            for row in flatten(t):
                w.writerow([_cell(row[c]) for c in FLAT_COLUMNS])


def write_parquet(path: Path, transfers: list[dict[str, Any]]) -> None:
    rows = [r for t in transfers for r in flatten(t)]
    schema = pa.schema([(c, pa.string()) for c in FLAT_COLUMNS])
    pq.write_table(pa.table({c: [None if r[c] is None else str(r[c]) for r in rows] for c in FLAT_COLUMNS},
                            schema=schema), path, row_group_size=3)


def read_back(path: Path) -> list[Any]:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            return list(formats.read_csv(f, str(path)))
    return list(formats.read_parquet(path, str(path)))


def _parsed(data: Any) -> Any:
    """The transfer, or the problems (path, message) of an invalid one."""
    try:
        return parse_transfer(data)
    except InvalidTransfer as err:
        return sorted((p.path, p.message) for p in err.problems)


def _decisions(path: Path, out: Path, evaluator: str) -> list[str]:
    summary = check_file(path, out=out, workers=0, quiet=True, progress=False, evaluator=evaluator)
    assert summary.read == summary.judged + summary.rejected
    return out.read_text(encoding="utf-8").splitlines()


def _same_everywhere(tmp: Path, transfers: list[dict[str, Any]]) -> None:
    """The flat files read back as the JSON and decide as the JSON Lines, on the row and the columnar path."""
    jsonl = tmp / "in.jsonl"
    jsonl.write_text("".join(json.dumps(t) + "\n" for t in transfers), encoding="utf-8")
    want = _decisions(jsonl, tmp / "want.jsonl", "row")
    assert not any('"error"' in line[:12] for line in want)  # valid transfers: decisions line for line
    for kind, write in (("csv", write_csv), ("parquet", write_parquet)):
        path = tmp / f"in.{kind}"
        write(path, transfers)
        records = read_back(path)
        assert len(records) == len(transfers)
        for t, (_line, back) in zip(transfers, records):
            assert _parsed(back) == _parsed(t), t["id"]
        for evaluator in ("row", "columnar"):
            assert _decisions(path, tmp / f"out-{kind}-{evaluator}.jsonl", evaluator) == want, (kind, evaluator)


def test_a_transfer_with_every_field_round_trips(tmp_path):
    full = parse_transfer(FULL)
    # the example gives every field a value other than its default (so the round trip tests them all)
    for model, obj in ((Transfer, full), (Party, full.supplier), (Vessel, full.vessel), (Item, full.items[0])):
        for name, info in model.model_fields.items():
            if not info.is_required():
                assert getattr(obj, name) != info.get_default(call_default_factory=True), f"{model.__name__}.{name}"
    rows = flatten(FULL)
    assert len(rows) == 2 and all(list(r) == list(FLAT_COLUMNS) for r in rows)
    assert rows[0]["destination_subdivision"] == "SD-DN" and rows[0]["notified"] == "unknown"
    assert json.loads(rows[0]["end_user_json"])["organisation"] == "Rapid Support Forces"
    assert json.loads(rows[0]["contract_json"]) == {"date": "2023-12-01", "written": False}
    assert rows[0]["item_condition"] == "used" and rows[1]["item_condition"] is None
    # the same from the parsed model's JSON (defaults included) and from a coarse date
    dumped = full.model_dump(mode="json")
    coarse = {**FULL, "id": "full-2", "date": "2019-09", "notified": False, "notifications": []}
    assert flatten(coarse)[0]["date_start"] == "2019-09" and flatten(coarse)[0]["notified"] == "false"
    _same_everywhere(tmp_path, [FULL, {**dumped, "id": "full-json"}, coarse])


def test_a_file_of_the_first_layout_reads_as_before(tmp_path):
    """Missing columns are absent fields: an old file (its columns only) reads and decides as before."""
    t = {"id": "old-1", "date": "2024-01-15", "supplier": {"name": "S", "country": "CN"},
         "recipient": {"name": "R", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
         "items": [{"description": "Diesel", "hs_code": "271019", "quantity": {"value": 10, "unit": "barrels"}}]}
    path = tmp_path / "old.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIRST_LAYOUT)
        for row in flatten(t):
            w.writerow([_cell(row[c]) for c in FIRST_LAYOUT])
    [(_, back)] = read_back(path)
    assert parse_transfer(back) == parse_transfer(t)


def _rule_examples() -> list[dict[str, Any]]:
    from sanctions.rulebook.examples import BASE, merge

    out = []
    for rule in default_engine().rulebook.rules.values():
        for kind in ("fires", "clears"):
            for n, ex in enumerate(rule.spec.examples.get(kind) or []):
                data = merge(BASE, ex)
                if "transfers" not in data:
                    out.append({**json.loads(json.dumps(data, default=str)), "id": f"{rule.id}.{kind}.{n}"})
    for p in sorted(ROOT.glob("fixtures/*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        if "transfers" in data:
            out += [{**t, "id": f"{data['id']}.{t['id']}"} for t in data["transfers"]]
        else:
            out.append(data)
    return out


def test_every_rule_example_and_fixture_decides_the_same_from_a_flat_file(tmp_path):
    """The examples use the fields the regimes turn on (Darfur, end users, contracts, services)."""
    examples = _rule_examples()
    used = {k for t in examples for k in t} | {k for t in examples for i in t.get("items") or [] for k in i}
    assert {"destination_subdivision", "end_user", "contract", "subject", "servicing"} <= used
    _same_everywhere(tmp_path, examples)


# ----------------------------------------------------------------------------------------------------------------
# Property: any transfer round trips
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def _with_every_kind_of_field(draw: st.DrawFn) -> dict[str, Any]:
    """A drawn transfer, sometimes with unknowns, and with the fields the strategies do not draw (transport,
    contract, notified, an item's condition, HS alternatives, a service's subject and servicing)."""
    from sanctions import strategies
    from sanctions.model.vocab import Servicing, Subject, TransportMode

    t = draw(strategies.transfers(max_items=3))
    if draw(st.booleans()):
        t = draw(strategies.unknown_variants(t))
    data = t.model_dump(mode="json", exclude_none=draw(st.booleans()))
    if draw(st.integers(0, 2)) == 0:
        data["transport"] = draw(st.lists(st.sampled_from([m.value for m in TransportMode]), min_size=1, max_size=2))
    if draw(st.integers(0, 2)) == 0:
        data["contract"] = {"date": draw(st.dates()).isoformat(), "written": draw(st.booleans())}
    if draw(st.integers(0, 2)) == 0 and not data.get("notifications"):
        data["notified"] = draw(st.sampled_from([True, False, "unknown"]))
    for item in data.get("items") or []:
        if draw(st.integers(0, 2)) == 0:
            item["condition"] = draw(st.sampled_from(["new", "used"]))
        if draw(st.integers(0, 3)) == 0:
            item["hs_alternatives"] = draw(st.sampled_from([["8704"], ["8701-8705"], ["930190", "9302"]]))
        if draw(st.integers(0, 3)) == 0:
            item["servicing"] = draw(st.sampled_from([s.value for s in Servicing]))
            item["subject"] = draw(st.sampled_from([s.value for s in Subject] + ["unknown"]))
    return data


@settings(max_examples=300 if THOROUGH else 12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_flat_files_round_trip_any_transfer(tmp_path_factory, data):
    ts = data.draw(st.lists(_with_every_kind_of_field(), min_size=1, max_size=4))
    ts = [{**t, "id": f"{t['id']}-{i}"} for i, t in enumerate(ts)]
    ts = [t for t in ts if isinstance(_parsed(t), Transfer)]  # an unknown variant may fail the unit check
    if ts:
        _same_everywhere(tmp_path_factory.mktemp("flat"), ts)


# ----------------------------------------------------------------------------------------------------------------
# The columnar path routes what it does not read
# ----------------------------------------------------------------------------------------------------------------

CLEAR = {"id": "c-1", "date": "2024-01-15", "supplier": {"name": "Supplier Co", "country": "DE"},
         "recipient": {"name": "Recipient Co", "country": "FR"}, "origin_country": "DE", "destination_country": "FR",
         "items": [{"description": "Assault rifles", "category": "small_arms_light_weapons", "hs_code": "930190"}]}
"""Arms from Germany to France: clear, and decided by the columnar path itself."""

DARFUR = {"recipient": {"name": "Recipient Co", "country": "SD"}, "destination_country": "SD",
          "destination_subdivision": "SD-DN"}

ADDED = {
    "destination_subdivision": DARFUR,
    "notified": {"notified": "unknown"},
    "transport_json": {"transport": ["air"]},
    "end_user_json": {"end_user": {"kind": "armed_group", "organisation": "Rapid Support Forces"}},
    "contract_json": {"contract": {"date": "2003-01-01", "written": True}},
    "supplier_identifiers_json": {"supplier": {**CLEAR["supplier"], "identifiers": {"reg": "1"}}},
    "supplier_aliases_json": {"supplier": {**CLEAR["supplier"], "aliases": ["S Co"]}},
    "recipient_identifiers_json": {"recipient": {**CLEAR["recipient"], "identifiers": {"reg": "2"}}},
    "recipient_aliases_json": {"recipient": {**CLEAR["recipient"], "aliases": ["R Co"]}},
    "item_condition": {"items": [{**CLEAR["items"][0], "condition": "used"}]},
    "item_subject": {"kind": "technical_assistance", "items": [{"description": "Training", "subject": "small_arms_light_weapons"}]},
    "item_servicing": {"items": [{**CLEAR["items"][0], "servicing": "repair"}]},
    "item_hs_alternatives_json": {"items": [{**CLEAR["items"][0], "hs_alternatives": ["9302"]}]},
}


def test_every_added_column_is_exercised():
    assert set(ADDED) == set(FLAT_COLUMNS[len(FIRST_LAYOUT):])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_columnar_path_routes_a_transfer_giving_a_column_it_does_not_read(tmp_path, fmt):
    engine = default_engine()
    # the clear transfer between the others, and each added field given on the second item only where it is an
    # item's (a later row of the transfer must count as much as the first)
    second = {"description": "Ammunition", "category": "ammunition_and_related_materiel"}
    ts = [CLEAR]
    for n, (col, extra) in enumerate(ADDED.items()):
        t = {**CLEAR, **extra, "id": f"r-{n}"}
        if col.startswith("item_"):
            t["items"] = [second, *t["items"]]
        ts.append(t)
    path = tmp_path / f"in.{fmt}"
    (write_csv if fmt == "csv" else write_parquet)(path, ts)
    records = read_back(path)
    row = judge_chunk(records, str(path), engine)
    col, routed, columnar = [], {}, 0
    for chunk in flat_chunks(str(path), fmt, rows=1_000):
        results, report = judge_chunk_columnar(chunk, str(path), engine, None, judge_chunk)
        col += results
        columnar += report.columnar
        for k, v in report.routed.items():
            routed[k] = routed.get(k, 0) + v
    assert col == row
    assert columnar == 1 and col[0][2] == "clear"  # the plain transfer: decided by the columns
    assert routed == {f"{c} given": 1 for c in ADDED}


def test_a_darfur_shipment_stays_a_darfur_shipment(tmp_path):
    """The brief's case: without its column, arms to North Darfur would be judged as arms to Sudan at large."""
    engine = default_engine()
    darfur = {**CLEAR, **DARFUR, "id": "darfur"}
    sudan = {k: v for k, v in darfur.items() if k != "destination_subdivision"}
    write_csv(tmp_path / "d.csv", [darfur])
    [(_, back)] = read_back(tmp_path / "d.csv")
    assert parse_transfer(back).destination_subdivision == "SD-DN"
    want = judge_chunk([(1, json.dumps(darfur))], "d", engine)
    assert want[0][2] != judge_chunk([(1, json.dumps(sudan))], "d", engine)[0][2]  # the region decides
    for evaluator in ("row", "columnar"):
        assert _decisions(tmp_path / "d.csv", tmp_path / f"{evaluator}.jsonl", evaluator) == [want[0][4]]


def test_a_bad_json_column_names_the_column(tmp_path):
    path = tmp_path / "bad.csv"
    write_csv(path, [{**CLEAR, "contract": {"date": "2003-01-01", "written": True}}])
    text = path.read_text(encoding="utf-8").replace('"{""date"": ""2003-01-01"", ""written"": true}"', "{oops")
    path.write_text(text, encoding="utf-8")
    [(_, err)] = read_back(path)
    assert isinstance(err, InvalidInput) and "contract_json is not valid JSON" in str(err)
