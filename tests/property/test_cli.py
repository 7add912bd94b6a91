"""The CLI never crashes: valid input exits 0 or 1, mutated input exits 2 naming the field; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from property_support import scaled, subjects




def run_cli(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sanctions.cli", "-"], input=stdin, capture_output=True,
                          timeout=120)


def _no_crash(run: subprocess.CompletedProcess[bytes]) -> str:
    err = run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    return err


@settings(max_examples=scaled(8))
@given(st.lists(subjects(), min_size=1, max_size=8))
def test_valid_input_exits_0_or_1(batch):
    lines = "".join(s.model_dump_json() + "\n" for s in batch).encode()
    run = run_cli(lines)
    _no_crash(run)
    assert run.returncode in (0, 1), run.stderr.decode()


# ------------------------------------------------------------------------------------------------------------
# Mutations: each returns (bytes for stdin, text the error message must contain)
# ------------------------------------------------------------------------------------------------------------

REQUIRED = ("id", "date", "supplier", "recipient", "origin_country", "destination_country")


def _target(data: dict[str, Any], draw) -> tuple[dict[str, Any], str]:
    """The transfer to mutate (a deal's leg when it is a deal) and its path prefix."""
    if "transfers" in data:
        i = draw(st.integers(0, len(data["transfers"]) - 1))
        return data["transfers"][i], f"transfers[{i}]."
    return data, ""


def _item(t: dict[str, Any], draw) -> tuple[dict[str, Any], int]:
    if not t.get("items"):
        t["items"] = [{"description": "Added item"}]
    i = draw(st.integers(0, len(t["items"]) - 1))
    return t["items"][i], i


@st.composite
def mutated(draw) -> tuple[bytes, str]:
    data = json.loads(draw(subjects()).model_dump_json())
    kind = draw(st.sampled_from(["drop", "drop_nested", "wrong_type", "country", "negative", "date", "hs",
                                 "bytes"]))
    t, pre = _target(data, draw)
    if kind == "drop":
        key = draw(st.sampled_from(REQUIRED))
        del t[key]
        field = pre + key
    elif kind == "drop_nested":
        side = draw(st.sampled_from(("supplier", "recipient")))
        key = draw(st.sampled_from(("name", "country")))
        del t[side][key]
        field = f"{pre}{side}.{key}"
    elif kind == "wrong_type":
        key, bad = draw(st.sampled_from([("supplier", "ACME"), ("items", "lots"), ("kind", 7),
                                         ("ship_to_ship", "maybe"), ("route", {"port": "Rajin"})]))
        t[key] = bad
        field = pre + key
    elif kind == "country":
        key = draw(st.sampled_from(("origin_country", "destination_country")))
        t[key] = draw(st.sampled_from(("XX", "Korea", "North Korea", "kpr", "")))
        field = pre + key
    elif kind == "negative":
        item, i = _item(t, draw)
        item["quantity"] = {"value": -draw(st.integers(1, 10**6)), "unit": "tonnes"}
        field = f"{pre}items[{i}].quantity.value"
    elif kind == "date":
        t["date"] = draw(st.sampled_from(("2024-02-30", "2023-13-01", "yesterday", "15/01/2024")))
        field = pre + "date"
    elif kind == "hs":
        item, i = _item(t, draw)
        item["hs_code"] = draw(st.sampled_from(("27AB", "1", "12345678901", "2710-19")))
        field = f"{pre}items[{i}].hs_code"
    else:
        raw = json.dumps(data).encode()
        cut = draw(st.integers(1, max(1, len(raw) - 1)))
        return draw(st.sampled_from([raw[:cut], b"\xff\xfe" + raw, raw + b"}", b"{\"id\": 'single'}"])), ""
    return json.dumps(data).encode(), field


@settings(max_examples=scaled(3))
@given(mutated())
def test_mutated_input_exits_2_naming_the_field(case):
    stdin, field = case
    run = run_cli(stdin)
    err = _no_crash(run)
    assert run.returncode == 2, (run.returncode, err)
    assert err.strip()
    assert field in err, err
