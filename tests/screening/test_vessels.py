"""IMO numbers and the curated 1718 designated-vessels table."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest

from sanctions.exc import InvalidInput, ListError
from sanctions.screening.vessels import designated_vessels, imo_check_digit, is_valid_imo, match_vessel, parse_imo
from support import SHARED as SHARED_ROOT

OFAC = (SHARED_ROOT / "data/ofac_sdn_2024-05-03.csv")


@pytest.mark.parametrize("value", ["9074729", "IMO 9074729", "imo: 9074729", "IMO No. 9074729", 9074729, " 8705539 "])
def test_valid_imo(value: str | int) -> None:
    assert is_valid_imo(value)
    assert parse_imo(value) in ("9074729", "8705539")


@pytest.mark.parametrize("value", ["9074728", "907472", "90747290", "IMO", "", "ABC1234", True])
def test_invalid_imo(value: object) -> None:
    assert not is_valid_imo(value)  # type: ignore[arg-type]


def test_check_digit_message_suggests_fix() -> None:
    assert imo_check_digit("907472") == 9
    with pytest.raises(InvalidInput, match="check digit") as info:
        parse_imo("IMO 9074728")
    assert "did you mean 9074729?" in str(info.value)


@pytest.mark.skipif(not OFAC.exists(), reason="OFAC snapshot not available")
def test_every_dprk_vessel_imo_in_the_ofac_snapshot_passes_the_check_digit() -> None:
    """The US list is used here ONLY as a corpus of real IMO numbers, never as a designation."""
    text = OFAC.read_bytes().rstrip(b"\x1a").decode("ascii")
    imos = []
    for row in csv.reader(io.StringIO(text)):
        cols = [c.strip() for c in row]
        if len(cols) != 12 or cols[2] != "vessel" or not cols[3].startswith("DPRK"):
            continue
        imos += re.findall(r"IMO (\d{7})", cols[11])
    assert len(imos) >= 100
    assert [i for i in imos if not is_valid_imo(i)] == []


def _is_us_source(source: str) -> bool:
    return "treasury.gov" in source or "OFAC" in source or "SDN" in source


def test_table_loads_and_every_row_is_sourced() -> None:
    rows = designated_vessels()
    assert len(rows) == 38
    for v in rows:
        assert v.sources and all(s.strip() for s in v.sources), v.name
        assert v.imo is None or is_valid_imo(v.imo)
        assert v.designated_on >= date(2016, 3, 2)
        # the US list only ever cross-checks an IMO number: never the sole source, never called a designation
        assert any(not _is_us_source(s) for s in v.sources), v.name
        assert all(s.startswith("IMO cross-check only") for s in v.sources if _is_us_source(s)), v.name
    verified = [v for v in rows if v.verified]
    assert len(verified) == 29
    assert {"KUM UN SAN 3", "SHANG YUAN BAO", "NEW REGENT", "UL JI BONG 6", "SAM JONG 2", "HUA FU"} <= {
        v.name for v in verified}
    assert all(v.imo for v in verified)
    # a verified row rests on an official text besides any US cross-check
    assert all(any(("press.un.org" in s or "Consolidated List" in s or "Ministry of Foreign Affairs" in s)
                   for s in v.sources) for v in verified)


UN_XML = SHARED_ROOT / "data/un_sc_consolidated_2026-05-08.xml"


@pytest.mark.skipif(not (UN_XML.exists() and OFAC.exists()), reason="shared list snapshots not available")
def test_rows_reached_through_a_listed_owner_match_the_un_list_and_the_us_imo() -> None:
    """Every row that cites a UN entry (KPe.nnn): the entry's comment names the vessel, the listing date is
    the row's date (or 2 March 2016, when the port-entry ban for vessels of designated persons began), and
    the US SDN list gives the same IMO number for the same name."""
    import xml.etree.ElementTree as ET

    entities = {e.findtext("REFERENCE_NUMBER", "").strip(): e for e in ET.parse(UN_XML).getroot().iter("ENTITY")}
    text = OFAC.read_bytes().rstrip(b"\x1a").decode("ascii")
    us_imo = {}
    for row in csv.reader(io.StringIO(text)):
        cols = [c.strip() for c in row]
        if len(cols) == 12 and cols[2] == "vessel" and "DPRK" in cols[3]:
            found = re.findall(r"IMO (\d{7})", cols[11])
            if found:
                us_imo[cols[1]] = found[0]
    checked = 0
    for v in designated_vessels():
        refs = sorted({r for s in v.sources for r in re.findall(r"entry (KPe\.\d{3})", s)})
        if not refs:
            continue
        listed = []
        for ref in refs:
            entity = entities[ref]
            comment = " ".join((entity.findtext("COMMENTS1") or "").split()).casefold()
            assert v.name.casefold() in comment, (v.name, ref)
            listed.append(date.fromisoformat(entity.findtext("LISTED_ON", "")[:10]))
        assert v.designated_on in (max(max(listed), date(2016, 3, 2)), date(2017, 10, 3)), v.name
        assert us_imo[v.name] == v.imo, v.name
        checked += 1
    assert checked == 24


def test_imo_match_is_decisive() -> None:
    (m,) = match_vessel(imo="IMO 8705539", name="Some Renamed Tanker")
    assert m.vessel.name == "KUM UN SAN 3" and m.matched_on == "imo" and m.score == 100.0
    assert "2321 OP12 / 2371 OP6" in m.explain() and "SC/13542" in m.explain()


def test_name_match_and_evidence() -> None:
    (m,) = match_vessel(name="M/V Billions No 18")
    assert m.vessel.imo == "9191773" and m.matched_on == "name" and m.score == 100.0
    assert "not verified" in m.explain()
    (weak,) = match_vessel(name="Rye Song Gang 1", imo="9074729", threshold=0)[:1]
    assert weak.vessel.name == "RYE SONG GANG 1" and weak.score == 60.0
    assert any(e.feature == "imo" and e.effect == -40 for e in weak.evidence)
    (flagged,) = match_vessel(name="TONG SAN 2", flag="KP")
    assert flagged.score == 100.0 and flagged.evidence[-1].effect == 2.0
    (reflagged,) = match_vessel(name="TONG SAN 2", flag="SL")
    assert reflagged.score == 95.0


def test_imo_match_sorts_before_name_match() -> None:
    ms = match_vessel(name="Rung Ra 2", imo="8705539")
    assert [m.matched_on for m in ms] == ["imo", "name"]


def test_no_match_and_bad_input() -> None:
    assert match_vessel(name="Ever Given") == []
    assert match_vessel(imo="9074729") == []
    with pytest.raises(InvalidInput):
        match_vessel()
    with pytest.raises(InvalidInput, match="check digit"):
        match_vessel(imo="8705538")


def test_table_errors(tmp_path: Path) -> None:
    bad = tmp_path / "v.yaml"
    bad.write_text("vessels:\n  - {name: X, imo: '8705538', flag: null, designated_on: 2018-01-01, basis: b,"
                   " measures: [], verified: false, sources: [s]}\n")
    with pytest.raises(ListError, match="check digit"):
        designated_vessels(bad)
    bad.write_text("vessels:\n  - {name: X, imo: null, flag: null, designated_on: 2018-01-01, basis: b,"
                   " measures: [], verified: false, sources: []}\n")
    with pytest.raises(ListError, match="no source"):
        designated_vessels(bad)
