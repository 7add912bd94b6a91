"""Every DPRK measure block of the legal catalogue maps to rules, through the table in docs/measure-map.md."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from sanctions.rulebook import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT.parent / "shared" / "legal" / "un_measures.md"  # shared/ sits beside the checkout
MAP = ROOT / "docs" / "measure-map.md"
SCREENING = "screening (issue 5)"
SCREENING_BLOCKS = {"dprk.asset_freeze", "dprk.travel_ban"}
HEADING = re.compile(r"^### (dprk\.[A-Za-z0-9_.]+)", re.MULTILINE)
ROW = re.compile(r"^\|\s*`(dprk\.[^`]+)`\s*\|([^|]*)\|", re.MULTILINE)


@cache
def rule_ids() -> frozenset[str]:
    return frozenset(load_rulebook().rules)


def measure_blocks() -> list[str]:
    return sorted(set(HEADING.findall(CATALOGUE.read_text(encoding="utf-8"))))


def mapping() -> dict[str, str]:
    out: dict[str, str] = {}
    for block, cell in ROW.findall(MAP.read_text(encoding="utf-8")):
        assert block not in out, f"{block} has two rows in {MAP.name}"
        out[block] = cell.strip()
    return out


pytestmark = pytest.mark.skipif(not CATALOGUE.exists(), reason="the legal catalogue is not available")


def test_catalogue_has_measure_blocks() -> None:
    assert len(measure_blocks()) >= 30


@pytest.mark.parametrize("block", measure_blocks() if CATALOGUE.exists() else [])
def test_every_measure_block_maps_to_rules(block: str) -> None:
    table = mapping()
    assert block in table, f"{block} has no row in docs/measure-map.md"
    cell = table[block]
    if cell == SCREENING:
        assert block in SCREENING_BLOCKS, f"only {sorted(SCREENING_BLOCKS)} may be left to screening"
        return
    ids = re.findall(r"`([^`]+)`", cell)
    assert ids, f"{block}: no rule ids in {cell!r}"
    missing = [i for i in ids if i not in rule_ids()]
    assert not missing, f"{block} maps to rules not in the rulebook: {missing}"


def test_map_has_no_stale_blocks() -> None:
    stale = sorted(set(mapping()) - set(measure_blocks()))
    assert not stale, f"docs/measure-map.md has rows for blocks the catalogue no longer has: {stale}"
