"""Reading the UN Security Council Consolidated List XML."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from sanctions.exc import ListError
from sanctions.screening.unlist import Alias, BirthDate, ListEdition, parse, read
from support import SHARED as SHARED_ROOT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "lists" / "un_list_sample.xml"
SHARED = (SHARED_ROOT / "data")
REAL_NEW = SHARED / "un_sc_consolidated_2026-05-08.xml"
REAL_OLD = SHARED / "un_sc_consolidated_2026-01-28.xml"
needs_real = pytest.mark.skipif(not REAL_NEW.exists(), reason="real UN list files not available")


@pytest.fixture(scope="module")
def sample() -> ListEdition:
    return read(SAMPLE)


def test_sample_header(sample: ListEdition) -> None:
    assert sample.generated == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert len(sample.sha256) == 64
    assert sample.source == str(SAMPLE)
    assert len(sample) == 7
    assert sample.regimes() == ("Al-Qaida", "DPRK")


def test_sample_individual_fields_are_trimmed(sample: ListEdition) -> None:
    e = sample.get("KPi.901")
    assert e is not None
    assert e.reference_number == "KPi.901"  # the file has a trailing space
    assert e.kind == "individual" and e.regime == "DPRK"
    assert e.name == "PAK CHOL-SU" and e.name_parts == ("PAK", "CHOL-SU")
    assert e.listed_on == date(2017, 8, 5)
    assert e.aliases == (Alias("Pak Ch’o’l-su", "Good"), Alias("Mr. Park", "Low"))
    assert e.nationalities == ("Democratic People's Republic of Korea",)
    assert e.documents[0].number == "900000001"
    assert e.addresses == ()  # <COUNTRY/> only
    assert e.dates_of_birth == (BirthDate("EXACT", date(1970, 4, 15), 1970),)


def test_sample_quirks(sample: ListEdition) -> None:
    e = sample.get("KPi.902")
    assert e is not None
    assert e.listed_on == date(2016, 3, 2)  # "2016-03-02-05:00"
    assert e.aliases == ()  # empty alias element dropped
    assert e.comments == "FICTITIOUS TEST RECORD. Comment text that spans several lines."
    assert e.last_updated == (date(2018, 1, 10), date(2020, 6, 30))
    assert e.addresses[0].street == "Test Street 1" and e.addresses[0].city == "Pyongyang"
    between, approx = e.dates_of_birth
    assert between.years() == (1961, 1963) and between.describe() == "1961-1963"
    assert approx.years() == (1964, 1966) and approx.describe() == "c. 1965"
    odd = sample.get("QDi.901")
    assert odd is not None
    (bd,) = odd.dates_of_birth  # 1975-02-30 is not a date; keep year and raw text
    assert bd.date is None and bd.year == 1975 and "1975-02-30" in bd.note


def test_entities(sample: ListEdition) -> None:
    e = sample.get("KPe.901")
    assert e is not None and e.kind == "entity"
    assert [a.quality for a in e.aliases] == ["a.k.a.", "f.k.a."]
    assert e.dates_of_birth == () and e.documents == ()
    bank = sample.get("KPe.903")
    assert bank is not None
    assert ("부강견본은행", "original script") in list(bank.all_names())


def test_filter(sample: ListEdition) -> None:
    dprk = sample.filter(regime="dprk")
    assert len(dprk) == 6 and dprk.sha256 == sample.sha256
    assert {e.kind for e in sample.filter(regime="DPRK", kind="entity")} == {"entity"}
    assert len(sample.filter(regime=["DPRK", "Al-Qaida"])) == 7
    assert len(sample.filter(regime="nope")) == 0
    with pytest.raises(ListError):
        sample.filter(kind="vessel")  # type: ignore[arg-type]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>
<FIRST_NAME>&lol9;</FIRST_NAME><REFERENCE_NUMBER>KPi.999</REFERENCE_NUMBER>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>
<FIRST_NAME>&xxe;</FIRST_NAME><REFERENCE_NUMBER>KPi.999</REFERENCE_NUMBER>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE CONSOLIDATED_LIST SYSTEM "http://127.0.0.1:9/evil.dtd">
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"/>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"])
def test_unsafe_xml_is_refused(data: bytes) -> None:
    with pytest.raises(ListError, match="unsafe XML"):
        parse(data, source="evil.xml")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<CONSOLIDATED_LIST><INDIVIDUALS>", "not well-formed"),
        (b"", "not well-formed"),
        (b"<html><body>Service unavailable</body></html>", "expected <CONSOLIDATED_LIST>"),
        (b"<CONSOLIDATED_LIST><ENTITIES><ENTITY><FIRST_NAME>X</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
         "no REFERENCE_NUMBER"),
        (b"<CONSOLIDATED_LIST><ENTITIES><ENTITY><REFERENCE_NUMBER>KPe.1</REFERENCE_NUMBER></ENTITY>"
         b"<ENTITY><REFERENCE_NUMBER>KPe.1 </REFERENCE_NUMBER></ENTITY></ENTITIES></CONSOLIDATED_LIST>", "twice"),
    ],
)
def test_malformed_lists(data: bytes, message: str) -> None:
    with pytest.raises(ListError, match=message) as info:
        parse(data, source="bad.xml")
    assert info.value.code == "list-error"
    assert str(info.value).startswith("bad.xml: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="cannot read"):
        read(tmp_path / "nope.xml")


@needs_real
def test_real_edition_2026_05_08() -> None:
    ed = read(REAL_NEW)
    assert ed.generated == datetime(2026, 5, 8, 23, 0, 6, 922000, tzinfo=timezone.utc)
    assert ed.sha256.startswith("1f1b3bfe29a53e7a")
    assert len(ed.filter(kind="individual")) == 737 and len(ed.filter(kind="entity")) == 272
    dprk = ed.filter(regime="DPRK")
    assert len(dprk.filter(kind="individual")) == 80 and len(dprk.filter(kind="entity")) == 75
    assert all(e.reference_number == e.reference_number.strip() for e in ed)
    assert all(e.listed_on is not None for e in ed)
    kpe = ed.get("KPe.001")
    assert kpe is not None and kpe.name == "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    assert any(a.name == "CHANGGWANG SINYONG CORPORATION" and a.quality == "a.k.a." for a in kpe.aliases)
    between = ed.get("KPi.066")
    assert between is not None and between.dates_of_birth[0].years() == (1967, 1969)


@needs_real
def test_real_edition_2026_01_28() -> None:
    ed = read(REAL_OLD)
    assert ed.sha256.startswith("c6a354e9d798d5ef")
    assert len(ed.filter(kind="individual")) == 726 and len(ed.filter(kind="entity")) == 273
