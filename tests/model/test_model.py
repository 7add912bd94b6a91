"""Transfer model: good records validate, bad ones fail naming the field, the value and a hint."""

from __future__ import annotations

import pytest

from sanctions.exc import InvalidTransfer
from sanctions.model.records import Deal, Transfer, imo_check_digit_ok, input_schema, parse_deal, parse_input, parse_transfer

GOOD = {
    "id": "t-1",
    "date": "2024-01-15",
    "supplier": {"name": "A", "country": "CN"},
    "recipient": {"name": "B", "country": "KP"},
    "origin_country": "CN",
    "destination_country": "KP",
    "items": [{"description": "Diesel", "hs_code": "2710.19", "quantity": {"value": 10, "unit": "barrels"}}],
}


def with_(**changes):
    data = {**GOOD, **changes}
    return data


def problems(data) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidTransfer) as info:
        parse_transfer(data)
    return [(p.path, p.message, p.hint) for p in info.value.problems]


def test_good_transfer_parses_and_is_frozen():
    t = parse_transfer(GOOD)
    assert isinstance(t, Transfer)
    assert t.items[0].hs_code == "271019"  # dots removed
    with pytest.raises(Exception):
        t.id = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"origin_country": "North Korea"}, "origin_country", "ISO 3166-1"),
        ({"origin_country": "XX"}, "origin_country", "ISO 3166-1"),
        ({"date": "2023-02-30"}, "date", "day value is outside"),
        ({"date": {"start": "2024-02-01", "end": "2024-01-01"}}, "date", "before start"),
        ({"items": [{"description": "x", "hs_code": "27AB"}]}, "items[0].hs_code", "digits only"),
        ({"items": [{"description": "x", "hs_code": "2"}]}, "items[0].hs_code", "2 to 10 digits"),
        ({"items": [{"description": "x", "quantity": {"value": -5, "unit": "tonnes"}}]}, "items[0].quantity.value",
         "greater than or equal to 0"),
        ({"items": [{"description": "x", "quantity": {"value": 1e30, "unit": "tonnes"}}]},
         "items[0].quantity.value", "less than or equal"),
        ({"items": [{"description": "x", "quantity": {"value": 5, "unit": "gallons"}}]}, "items[0].quantity.unit",
         "Input should be"),
        ({"items": [{"description": "x", "category": "guns"}]}, "items[0].category", "known values"),
        ({"vessel": {"name": "V", "imo": "9123456"}}, "vessel.imo", "check digit"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"kind": "barter"}, "kind", "Input should be"),
    ],
)
def test_bad_field_is_named(change, path, fragment):
    found = problems(with_(**change))
    assert any(p == path and fragment in m for p, m, _ in found), found


def test_country_name_gets_a_hint():
    found = problems(with_(destination_country="North Korea"))
    assert any("did you mean 'KP'" in h for _, _, h in found), found
    found = problems(with_(destination_country="kp"))
    assert any("did you mean 'KP'" in h for _, _, h in found), found


def test_missing_field_is_named():
    data = dict(GOOD)
    del data["supplier"]
    assert ("supplier", "required field is missing", "") in problems(data)


def test_nan_quantity_is_refused():
    found = problems(with_(items=[{"description": "x", "quantity": {"value": float("nan"), "unit": "tonnes"}}]))
    assert any(p == "items[0].quantity.value" for p, _, _ in found)


def test_error_message_names_source_and_line():
    with pytest.raises(InvalidTransfer) as info:
        parse_transfer(with_(origin_country="ZZ"), source="in.jsonl", record=7)
    assert str(info.value).startswith("in.jsonl:line 7: invalid transfer")
    assert "origin_country" in str(info.value)


def test_imo_check_digit():
    assert imo_check_digit_ok("9179842")  # ANGARA
    assert not imo_check_digit_ok("9179843")
    assert not imo_check_digit_ok("917984")


def test_deal_links_must_name_its_transfers():
    t = dict(GOOD)
    assert isinstance(parse_input({"id": "d", "transfers": [t]}), Deal)
    with pytest.raises(InvalidTransfer, match="not in the deal"):
        parse_deal({"id": "d", "transfers": [t], "links": [{"transfer": "t-1", "consideration_for": "t-9"}]})
    with pytest.raises(InvalidTransfer, match="share the id"):
        parse_deal({"id": "d", "transfers": [t, t]})


def test_not_an_object():
    with pytest.raises(InvalidTransfer, match="expected a JSON object"):
        parse_input([1, 2])


def test_schema_covers_transfer_and_deal():
    schema = input_schema()
    assert "Transfer" in schema["$defs"] and "Deal" in schema["$defs"]
    assert schema["$defs"]["Transfer"]["additionalProperties"] is False
    described = schema["$defs"]["Transfer"]["properties"]
    assert all("description" in v for v in described.values())
