"""Round trip: every model survives JSON, and every drawn input validates against the published JSON Schema."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given

from sanctions import strategies as S
from sanctions.model.records import Deal, Item, Party, Transfer, Vessel, input_schema

try:
    import jsonschema
except ImportError:  # not in the dev extra yet; the small check below still runs
    jsonschema = None

SCHEMA = input_schema()


def mini_validate(instance: Any, schema: dict[str, Any], root: dict[str, Any] = SCHEMA, path: str = "") -> list[str]:
    """A small JSON Schema check: $ref, anyOf, types, required and unknown keys, enums, patterns, bounds."""
    if "$ref" in schema:
        return mini_validate(instance, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, path)
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf")
        errs = [mini_validate(instance, s, root, path) for s in options]
        return [] if any(not e for e in errs) else [f"{path}: matches none of {len(options)} options: {errs}"]
    out: list[str] = []
    kind = schema.get("type")
    checks = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if kind in checks and not isinstance(instance, checks[kind]):
        return [f"{path}: expected {kind}, got {instance!r}"]
    if kind in ("number", "integer") and (isinstance(instance, bool) or not isinstance(instance, int | float)):
        return [f"{path}: expected {kind}, got {instance!r}"]
    if "enum" in schema and instance not in schema["enum"]:
        out.append(f"{path}: {instance!r} not in enum")
    if "const" in schema and instance != schema["const"]:
        out.append(f"{path}: {instance!r} is not {schema['const']!r}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            out.append(f"{path}: {instance!r} does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0) or len(instance) > schema.get("maxLength", 10**9):
            out.append(f"{path}: length of {instance!r} out of bounds")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            out.append(f"{path}: {instance} below minimum")
        if "maximum" in schema and instance > schema["maximum"]:
            out.append(f"{path}: {instance} above maximum")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        out += [f"{path}.{k}: required key missing" for k in schema.get("required", []) if k not in instance]
        if schema.get("additionalProperties") is False:
            out += [f"{path}.{k}: unknown key" for k in instance if k not in props]
        for k, v in instance.items():
            sub = props.get(k, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                out += mini_validate(v, sub, root, f"{path}.{k}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0) or len(instance) > schema.get("maxItems", 10**9):
            out.append(f"{path}: list length out of bounds")
        if isinstance(schema.get("items"), dict):
            for i, v in enumerate(instance):
                out += mini_validate(v, schema["items"], root, f"{path}[{i}]")
    return out


@given(S.parties(), S.vessels(), S.items(), S.transfers(), S.deals())
def test_every_model_survives_json(party, vessel, item, transfer, deal):
    for model, cls in ((party, Party), (vessel, Vessel), (item, Item), (transfer, Transfer), (deal, Deal)):
        assert cls.model_validate_json(model.model_dump_json()) == model


@given(S.transfers(), S.deals())
def test_drawn_input_matches_the_json_schema(transfer, deal):
    for model in (transfer, deal):
        instance = json.loads(model.model_dump_json())
        assert mini_validate(instance, SCHEMA) == []
        if jsonschema is not None:
            jsonschema.validate(instance, SCHEMA)


def test_the_small_schema_check_catches_problems():
    good = json.loads(Transfer.model_validate({
        "id": "t1", "date": "2024-01-01", "supplier": {"name": "A", "country": "CN"},
        "recipient": {"name": "B", "country": "KP"}, "origin_country": "CN", "destination_country": "KP",
    }).model_dump_json())
    assert mini_validate(good, SCHEMA) == []
    assert mini_validate({k: v for k, v in good.items() if k != "supplier"}, SCHEMA)
    assert mini_validate(good | {"colour": "red"}, SCHEMA)
    assert mini_validate(good | {"items": [{"description": "x", "quantity": {"value": "lots", "unit": "tonnes"}}]},
                         SCHEMA)

