"""Every way input can be wrong gets a clear error naming the file, the record, the field and the value.

One table per kind of input: transfer records (read through :func:`sanctions.model.reading.read_records` from a JSON
Lines file whose bad record is on line 2, so the line is checked too), whole files (empty, huge, deep,
not UTF-8), flat CSV records (through the batch path), and rule files. A representative subset runs the
``check-transfer`` command in a subprocess: exit code 2, the place named, never a traceback.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from sanctions.exc import InvalidInput, InvalidRule, InvalidTransfer, SanctionsError
from sanctions.model.reading import MAX_RECORD_BYTES, read_records
from sanctions.model.records import UNITS_CHECKED_BY_DEFAULT, parse_input
from sanctions.rulebook import load_rulebook
from support import TEST_RULE, run_cli

GOOD: dict[str, Any] = {
    "id": "t-1", "date": "2024-01-15", "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    "items": [{"description": "Lathes", "hs_code": "845811", "quantity": {"value": 3, "unit": "units"}}],
}


def with_(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at a dotted path (``items.0.quantity.unit``) replaced; ``...`` deletes it."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node: Any = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def item(**fields: Any) -> dict[str, Any]:
    return with_("items", [fields])


def units_case(*values: Any) -> Any:
    return pytest.param(*values, id=values[0])


def test_units_are_checked_by_default():
    assert UNITS_CHECKED_BY_DEFAULT


# (id, record as JSON text or data, field path, value shown, hint or message fragment)
RECORDS: list[tuple[str, Any, str, str | None, str]] = [
    ("wrong-type-quantity", with_("items.0.quantity.value", "lots"), "items[0].quantity.value", "'lots'",
     "valid number"),
    ("wrong-type-items", with_("items", "Lathes"), "items", "'Lathes'", "valid list"),
    ("wrong-type-party", with_("supplier", "A"), "supplier", "'A'", "dictionary"),
    ("unknown-field", with_("colour", "red"), "colour", "'red'", "unknown field"),
    ("unknown-field-typo", with_("orgin_country", "CN"), "orgin_country", "'CN'", "did you mean 'origin_country'?"),
    ("missing-field", with_("supplier", ...), "supplier", None, "required field is missing"),
    ("unknown-country-code", with_("origin_country", "XX"), "origin_country", "'XX'", "ISO 3166-1"),
    ("country-name", with_("origin_country", "North Korea"), "origin_country", "'North Korea'",
     "did you mean 'KP'"),
    ("country-name-party", with_("recipient.country", "Russia"), "recipient.country", "'Russia'",
     "did you mean 'RU'"),
    ("country-lower-case", with_("destination_country", "kp"), "destination_country", "'kp'", "did you mean 'KP'?"),
    ("hs-letters", item(description="Shells", hs_code="93O6"), "items[0].hs_code", "'93O6'", "digits only"),
    ("hs-too-short", item(description="Shells", hs_code="9"), "items[0].hs_code", "'9'", "2 to 10 digits"),
    ("hs-too-long", item(description="Shells", hs_code="93060000001"), "items[0].hs_code", "'93060000001'",
     "2 to 10 digits"),
    ("negative-quantity", with_("items.0.quantity.value", -5), "items[0].quantity.value", "-5",
     "greater than or equal to 0"),
    ("absurd-quantity", with_("items.0.quantity.value", 1e20), "items[0].quantity.value", "1e+20",
     "less than or equal to"),
    ("negative-amount", item(description="Lathes", value={"amount": -1}), "items[0].value.amount", "-1",
     "greater than or equal to 0"),
    ("unknown-unit", with_("items.0.quantity.unit", "gallons"), "items[0].quantity.unit", "'gallons'",
     "Input should be"),
    units_case("barrels-of-shells", item(description="152 mm shells", category="ammunition_and_related_materiel",
                               quantity={"value": 10, "unit": "barrels"}),
     "items[0].quantity.unit", "'barrels'", "units that fit: containers, kilograms, rounds"),
    units_case("rounds-of-diesel", item(description="Diesel", hs_code="271019", quantity={"value": 10, "unit": "rounds"}),
     "items[0].quantity.unit", "'rounds'", "units that fit: barrels"),
    units_case("litres-of-tanks", item(description="Tanks", category="unroca_i_battle_tanks",
                                    quantity={"value": 2, "unit": "litres"}),
     "items[0].quantity.unit", "'litres'", "units that fit: containers"),
    ("date-does-not-exist", with_("date", "2024-02-30"), "date", "'2024-02-30'", "valid date"),
    ("date-not-a-date", with_("date", "yesterday"), "date", "'yesterday'", "valid date"),
    ("dates-run-backwards", with_("date", {"start": "2024-05-01", "end": "2024-04-01"}), "date", None,
     "end 2024-04-01 is before start 2024-05-01"),
    ("deal-leg", {"id": "d", "transfers": [GOOD, with_("origin_country", "DPRK")]},
     "transfers[1].origin_country", "'DPRK'", "did you mean 'KP'"),
    ("too-many-items", with_("items", [{"description": "x"}] * 10_001), "items", None, "at most 10000"),
]


def write_jsonl(tmp_path: Path, record: Any, name: str = "in.jsonl") -> Path:
    text = record if isinstance(record, str) else json.dumps(record)
    path = tmp_path / name
    path.write_text(json.dumps(GOOD) + "\n" + text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case, record, path, value, hint", RECORDS,
                         ids=[r[0] if isinstance(r, tuple) else r.id for r in RECORDS])
def test_bad_record_names_file_line_field_value_and_hint(tmp_path, case, record, path, value, hint):
    f = write_jsonl(tmp_path, record)
    recs = list(read_records(f))
    assert [r.line for r in recs] == [1, 2]
    assert recs[0].error is None and recs[1].value is None
    err = recs[1].error
    assert isinstance(err, InvalidTransfer) and isinstance(err, SanctionsError)
    assert (err.source, err.record) == (str(f), 2)
    text = str(err)
    assert text.startswith(f"{f}:line 2: ")
    problem = next(p for p in err.problems if p.path == path)
    rendered = problem.render()
    if value is not None:
        assert f"(got {value}" in rendered, rendered
    assert hint in rendered, rendered


# (id, file bytes, message fragment, line named or None)
FILES: list[tuple[str, bytes, str, int | None]] = [
    ("not-json", json.dumps(GOOD).encode() + b'\n{"id": "t-2", "date": \n', "not valid JSON", 2),
    ("not-json-single", b"{'id': 't-1'}", "not valid JSON", 1),
    ("nan-literal", json.dumps(GOOD).encode() + b"\n" + json.dumps(GOOD).replace("\"value\": 3", "\"value\": NaN").encode() + b"\n",
     "NaN is not a number JSON allows", 2),
    ("infinity-literal", json.dumps(GOOD).replace("\"value\": 3", "\"value\": Infinity").encode(), "Infinity is not a number", None),
    ("not-an-object", json.dumps(GOOD).encode() + b"\n[1, 2]\n", "expected a JSON object", 2),
    ("empty-file", b"", "file is empty", None),
    ("blank-file", b"\n  \n\t\n", "file is empty", None),
    ("empty-array", b"[]", "the array is empty", None),
    ("invalid-utf8", json.dumps(GOOD).encode() + b'\n{"id": "t-\xff"}\n', "not UTF-8 text: byte 0xff", 2),
    ("deeply-nested", json.dumps(GOOD).encode() + b"\n" + b'{"notes": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
     "nested more than 64 levels", 2),
]


@pytest.mark.parametrize("case, data, message, line", FILES, ids=[f[0] for f in FILES])
def test_bad_file_is_named_with_its_line(tmp_path, case, data, message, line):
    f = tmp_path / "in.jsonl" if b"\n" in data.strip() else tmp_path / "in.json"
    f.write_bytes(data)
    errors = [r.error for r in read_records(f) if r.error is not None]
    assert len(errors) == 1
    err = errors[0]
    assert isinstance(err, InvalidInput) and message in str(err), str(err)
    assert err.source == str(f) and str(err).startswith(str(f))
    if line is not None:
        assert err.record == line


@pytest.mark.parametrize("name, code", [("Korea, North", "KP"), ("Burma", "MM"), ("Turkey", "TR"), ("DPRK", "KP"),
                                        ("U.S.A.", "US")])
def test_country_name_hint_for_common_alternative_names(name, code):
    err = _parse_error(with_("origin_country", name))
    assert f"did you mean {code!r}" in err.problems[0].hint


def test_huge_single_record_is_refused_not_loaded(tmp_path):
    f = tmp_path / "huge.json"
    with f.open("w") as fh:
        fh.write('{"id": "t-1", "notes": "')
        fh.write("x" * (MAX_RECORD_BYTES + 1))
        fh.write('"}')
    (rec,) = read_records(f)
    assert rec.error is not None and "record is larger than 64 MiB" in str(rec.error)
    assert rec.error.source == str(f)


def test_huge_field_is_refused_with_its_path():
    err = _parse_error(with_("notes", "x" * 5000))
    assert any(p.path == "notes" and "at most 2000 characters" in p.message for p in err.problems)


def _parse_error(data: Any) -> InvalidTransfer:
    with pytest.raises(InvalidTransfer) as info:
        parse_input(data, source="api", record=7)
    return info.value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_quantities_from_python(bad):
    err = _parse_error(with_("items.0.quantity.value", bad))
    assert err.where() == "api:line 7"
    assert [p.path for p in err.problems] == ["items[0].quantity.value"]


def test_every_existing_fixture_fits_the_unit_table():
    """The unit table refuses nothing that the fixtures, rule examples or benchmark generator produce."""
    from support import FIXTURES

    for f in FIXTURES.glob("*.json"):
        parse_input(json.loads(f.read_text()), source=f.name, check_units=True)


def test_unit_check_when_asked():
    rounds = item(description="Diesel", hs_code="271019", quantity={"value": 1, "unit": "rounds"})
    err = _parse_error_units(rounds)
    assert err.problems[0].path == "items[0].quantity.unit" and "units that fit: barrels" in err.problems[0].hint
    parse_input(rounds, check_units=False)


def test_unit_check_in_the_batch_path():
    rounds = item(description="Diesel", hs_code="271019", quantity={"value": 1, "unit": "rounds"})
    from sanctions.batch.run import default_engine, judge_chunk

    (res,) = judge_chunk([(5, json.dumps(rounds))], "in.jsonl", default_engine())
    assert res[2] is None and "items[0].quantity.unit" in res[4] and '"line":5' in res[4]


def _parse_error_units(data: Any) -> InvalidTransfer:
    with pytest.raises(InvalidTransfer) as info:
        parse_input(data, source="api", record=1, check_units=True)
    return info.value


def test_unit_table_names_only_known_categories_and_units(tmp_path):
    from sanctions.model.records import UNITS_BY_CATEGORY_FILE, load_units_table, units_for

    table = load_units_table(UNITS_BY_CATEGORY_FILE)
    assert "rounds" in table["ammunition_and_related_materiel"] and "barrels" not in table[
        "ammunition_and_related_materiel"]
    assert units_for("other") is None  # not listed: any unit
    bad = tmp_path / "u.yaml"
    bad.write_text("categories:\n  coal: [tonnes, bushels]\n")
    with pytest.raises(ValueError, match=r"categories.coal: 'bushels' is neither a unit nor a group"):
        load_units_table(bad)


# -- flat CSV records: the line is the CSV file line ----------------------------------------------------------


def test_csv_record_errors_name_the_csv_line(tmp_path):
    from sanctions.batch.run import FLAT_COLUMNS, check_file

    rows = [",".join(FLAT_COLUMNS)]
    base = {c: "" for c in FLAT_COLUMNS}
    base.update(transfer_id="t1", date_start="2024-01-15", supplier_name="A", supplier_country="CN",
                recipient_name="B", recipient_country="KP", origin_country="CN", destination_country="KP",
                item_description="Lathes", item_hs_code="845811", item_quantity="3", item_unit="units")
    bad = dict(base, transfer_id="t2", item_description="Diesel", item_hs_code="271019", item_quantity="-3",
               item_unit="barrels")
    country = dict(base, transfer_id="t3", origin_country="North Korea")
    for r in (base, bad, country):
        rows.append(",".join(r[c] for c in FLAT_COLUMNS))
    src = tmp_path / "in.csv"
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.jsonl"
    summary = check_file(src, out=out, workers=0, quiet=True)
    assert (summary.read, summary.judged, summary.rejected) == (3, 1, 2)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x.get("line") for x in lines[1:]] == [3, 4]
    assert lines[1]["error"]["problems"][0]["path"] == "items[0].quantity.value"
    assert lines[2]["error"]["problems"][0]["hint"] == "did you mean 'KP' (Korea, Democratic People's Republic of)?"


# -- the command line: exit 2, the place named, never a traceback ---------------------------------------------

CLI_CASES = [
    ("not-json", b'{"id": "t-1", \n', ["not valid JSON"]),
    ("country-name", json.dumps(with_("origin_country", "North Korea")).encode(),
     ["origin_country", "'North Korea'", "did you mean 'KP'"]),
    units_case("rounds-of-diesel", json.dumps(item(description="Diesel", hs_code="271019",
                                         quantity={"value": 1, "unit": "rounds"})).encode(),
     ["items[0].quantity.unit", "'rounds'", "units that fit: barrels"]),
    ("hs-letters", json.dumps(item(description="x", hs_code="27A0")).encode(), ["items[0].hs_code", "'27A0'"]),
    ("dates-backwards", json.dumps(with_("date", {"start": "2024-05-01", "end": "2024-04-01"})).encode(),
     ["date", "before start"]),
    ("invalid-utf8", b'{"id": "\xfe"}', ["not UTF-8 text"]),
    ("empty", b"", ["file is empty"]),
    ("deep", b"[" * 100_000 + b"]" * 100_000, ["nested more than 64 levels"]),
]


@pytest.mark.parametrize("case, data, fragments", CLI_CASES,
                         ids=[c[0] if isinstance(c, tuple) else c.id for c in CLI_CASES])
def test_cli_bad_input_exits_2_naming_the_place(tmp_path, case, data, fragments):
    f = tmp_path / f"{case}.json"
    f.write_bytes(data)
    p = run_cli(str(f), "--no-screening", "--evaluator", "reference")
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert str(f) in err and "Traceback" not in err
    for frag in fragments:
        assert frag in err, err
    assert "1 read, 0 judged" in err and "1 rejected" in err


def test_cli_bad_line_in_json_lines_is_named_and_the_rest_judged(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join([json.dumps(GOOD), json.dumps(with_("items.0.quantity.value", -1)), json.dumps(GOOD)]))
    p = run_cli(str(f), "--no-screening", "--evaluator", "reference", "--format", "jsonl")
    err = p.stderr.decode()
    assert p.returncode == 2
    assert f"{f}:line 2:" in err and "items[0].quantity.value" in err and "(got -1)" in err
    assert "3 read, 2 judged" in err and "1 rejected" in err
    assert len(p.stdout.decode().splitlines()) == 3  # two decisions and the error, in order


# -- broken rule files: refused at load, file and key named ---------------------------------------------------

RULE = TEST_RULE
EXEMPTION = """\
exemptions:
  - id: ex
    title: An exemption
    legal_basis:
      - {resolution: 2397 (2017), paragraph: OP5, adopted: 2017-12-22, source: https://example.org, verified: false}
    in_force: {from: 2017-12-22}
    when: WHEN
    explanation: "exempt"
"""
CYCLE = "predicates:\n  a: {op: ref, name: b}\n  b: {op: ref, name: a}\n"

RULE_CASES = [
    ("bad-yaml", {"r.yaml": RULE + "when: [unclosed\n"}, "r.yaml", ""),
    ("unknown-operator", {"r.yaml": RULE.replace("op: eq", "op: equals")}, "r.yaml", "equals"),
    ("unknown-field-path", {"r.yaml": RULE.replace("transfer.destination_country", "transfer.destination")},
     "r.yaml", "transfer.destination"),
    ("duplicate-id", {"a.yaml": RULE, "b.yaml": RULE}, ".yaml", "test.rule"),
    ("missing-citation", {"r.yaml": RULE.replace("legal_basis:\n  - {resolution: 1718 (2006), paragraph: "
                                                 "OP8(a)(i), adopted: 2006-10-14, source: https://example.org, "
                                                 "verified: false}\n", "")}, "r.yaml", "legal_basis"),
    ("cyclic-predicate", {"p.yaml": CYCLE, "r.yaml": RULE.replace(
        "{op: eq, field: transfer.destination_country, value: KP}", "{op: ref, name: a}")}, ".yaml", "cycle"),
    ("self-referencing-predicate", {"p.yaml": "predicates:\n  a: {op: ref, name: a}\n", "r.yaml": RULE.replace(
        "{op: eq, field: transfer.destination_country, value: KP}", "{op: ref, name: a}")}, ".yaml", "cycle"),
    ("exemption-with-cyclic-predicate", {"p.yaml": CYCLE, "r.yaml": RULE + EXEMPTION.replace(
        "WHEN", "{op: ref, name: a}")}, ".yaml", "cycle"),
    ("exemption-unknown-operator", {"r.yaml": RULE + EXEMPTION.replace(
        "WHEN", "{op: equals, field: transfer.purpose, value: humanitarian}")}, "r.yaml", "equals"),
    ("exemption-unknown-field", {"r.yaml": RULE + EXEMPTION.replace(
        "WHEN", "{op: eq, field: transfer.porpose, value: humanitarian}")}, "r.yaml", "transfer.porpose"),
    ("exemption-missing-citation", {"r.yaml": RULE + EXEMPTION.replace(
        "    legal_basis:\n      - {resolution: 2397 (2017), paragraph: OP5, adopted: 2017-12-22, source: "
        "https://example.org, verified: false}\n", "").replace("WHEN", "{op: eq, field: transfer.purpose, "
                                                                        "value: humanitarian}")},
     "r.yaml", "legal_basis"),
    ("python-tag", {"r.yaml": "!!python/object/apply:os.system ['echo pwned']\n"}, "r.yaml", ""),
]


@pytest.mark.parametrize("case, files, file_part, key_part", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_broken_rule_file_is_refused_naming_file_and_key(tmp_path, case, files, file_part, key_part):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(InvalidRule) as info:
        load_rulebook(tmp_path, include_builtin=False)
    err = info.value
    assert file_part in err.file, str(err)
    assert key_part in str(err), str(err)


def test_strategy_items_have_units_that_fit():
    from hypothesis import given, settings

    from sanctions.model.records import Item
    from sanctions.strategies import items

    @settings(max_examples=200, database=None, derandomize=True, deadline=None)
    @given(items(with_quantity=True))
    def check(it):
        Item.model_validate(it.model_dump(mode="json"), context={"check_units": True})

    check()
