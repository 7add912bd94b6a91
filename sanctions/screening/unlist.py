"""Reader for the UN Security Council Consolidated List (the official English XML).

The list is published at https://scsanctions.un.org/resources/xml/en/consolidated.xml as one
``CONSOLIDATED_LIST`` document with a ``dateGenerated`` attribute, an ``INDIVIDUALS`` section of
``INDIVIDUAL`` records and an ``ENTITIES`` section of ``ENTITY`` records. Each record carries a
``REFERENCE_NUMBER`` (``KPi.001`` for a DPRK individual, ``KPe.001`` for a DPRK entity), the regime it
belongs to (``UN_LIST_TYPE``, e.g. ``DPRK``), the date it was listed, its names and aliases, and, for
individuals, dates of birth, nationalities, addresses and identity documents.

The reader turns that document into frozen dataclasses (:class:`ListEdition` of :class:`ListedEntry`).
It is deliberately tolerant of what the real file does, because the file changes without notice:

* values have leading/trailing spaces (``<FIRST_NAME> GEDO </FIRST_NAME>``, ``KPe.051 ``);
* empty elements are everywhere (``<INDIVIDUAL_DOCUMENT/>``, ``<QUALITY/>``) and are skipped;
* new elements appear (``HAS_INTERPOL_LINK`` and ``STREET`` in 2026) and are ignored, never rejected;
* dates come as ``2014-09-23`` or ``2014-09-23-05:00``; a date that does not parse is kept as ``None``
  and its raw text is kept next to it.

It is strict about safety: the bytes are parsed with :mod:`defusedxml`, which refuses document type
declarations, entity declarations (billion laughs) and external entities. Anything that is not a
well-formed, safe ``CONSOLIDATED_LIST`` raises :class:`~sanctions.exc.ListError`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from sanctions.exc import ListError

__all__ = [
    "Address",
    "Alias",
    "BirthDate",
    "Document",
    "EntryKind",
    "ListEdition",
    "ListedEntry",
    "parse",
    "read",
]

EntryKind = Literal["individual", "entity"]

_SPACE = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    """Collapse runs of whitespace and strip; ``None`` becomes ``""``."""
    if text is None:
        return ""
    return _SPACE.sub(" ", text).strip()


def _text(elem: Element, tag: str) -> str:
    child = elem.find(tag)
    return _clean(child.text) if child is not None else ""


def _values(elem: Element, tag: str) -> tuple[str, ...]:
    """Non-empty ``<TAG><VALUE>..</VALUE>...</TAG>`` values, in order, without duplicates."""
    out: list[str] = []
    for holder in elem.findall(tag):
        for value in holder.findall("VALUE"):
            text = _clean(value.text)
            if text and text not in out:
                out.append(text)
    return tuple(out)


def _parse_date(text: str) -> date | None:
    """``2014-09-23`` or ``2014-09-23-05:00`` (the list adds a UTC offset on some records)."""
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_year(text: str) -> int | None:
    match = re.match(r"^\s*(\d{4})\b", text)
    return int(match[1]) if match else None


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name a listed party is known by.

    Attributes:
        name: The alias as written on the list (whitespace collapsed).
        quality: ``Good``, ``Low``, ``a.k.a.``, ``f.k.a.``, or ``""`` when the list gives none. The UN
            marks a ``Low`` quality alias as one that may not be enough to identify the party alone.
        note: Free-text note attached to the alias, if any.
    """

    name: str
    quality: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class BirthDate:
    """One ``INDIVIDUAL_DATE_OF_BIRTH`` record.

    Attributes:
        type: ``EXACT``, ``APPROXIMATELY``, ``BETWEEN`` or ``""``, as the list gives it.
        date: The full date when the list gives one.
        year: The year when the list gives only a year (or the year of ``date``).
        from_year: First year of a ``BETWEEN`` range.
        to_year: Last year of a ``BETWEEN`` range.
        note: Free-text note, if any.
    """

    type: str = ""
    date: date | None = None
    year: int | None = None
    from_year: int | None = None
    to_year: int | None = None
    note: str = ""

    def years(self) -> tuple[int, int] | None:
        """The inclusive range of birth years this record allows, or ``None`` if it gives none.

        ``APPROXIMATELY`` widens a single year by one either side.
        """
        if self.from_year is not None or self.to_year is not None:
            lo = self.from_year if self.from_year is not None else self.to_year
            hi = self.to_year if self.to_year is not None else self.from_year
            assert lo is not None and hi is not None
            return (min(lo, hi), max(lo, hi))
        year = self.date.year if self.date is not None else self.year
        if year is None:
            return None
        if self.type.upper() == "APPROXIMATELY":
            return (year - 1, year + 1)
        return (year, year)

    def describe(self) -> str:
        """The date as a short human string (``1969-02-13``, ``1954``, ``1966-1967``, ``c. 1955``)."""
        if self.date is not None:
            return self.date.isoformat()
        if self.from_year is not None or self.to_year is not None:
            return f"{self.from_year or '?'}-{self.to_year or '?'}"
        if self.year is not None:
            return f"c. {self.year}" if self.type.upper() == "APPROXIMATELY" else str(self.year)
        return self.note


@dataclass(frozen=True, slots=True)
class Address:
    """One address (any part may be empty)."""

    street: str = ""
    city: str = ""
    state_province: str = ""
    zip_code: str = ""
    country: str = ""
    note: str = ""

    def describe(self) -> str:
        parts = [self.street, self.city, self.state_province, self.zip_code, self.country]
        text = ", ".join(p for p in parts if p)
        return f"{text} ({self.note})" if self.note and text else (text or self.note)


@dataclass(frozen=True, slots=True)
class Document:
    """One identity document (passport, national identification number, ...)."""

    type: str = ""
    number: str = ""
    issuing_country: str = ""
    date_of_issue: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ListedEntry:
    """One listed individual or entity.

    Attributes:
        reference_number: The UN reference number, e.g. ``KPi.033``; stable across editions.
        regime: The list type (``UN_LIST_TYPE``), e.g. ``DPRK``, ``Al-Qaida``.
        kind: ``individual`` or ``entity``.
        name: Primary name; for individuals FIRST..FOURTH_NAME joined with single spaces.
        name_parts: The name parts as listed (individuals), or the single name (entities).
        original_script: ``NAME_ORIGINAL_SCRIPT``, if given.
        aliases: Aliases of every quality, in list order.
        listed_on: Date the entry was listed; ``None`` if the list's value did not parse.
        listed_on_raw: The ``LISTED_ON`` text as given.
        dates_of_birth: Individuals only.
        nationalities: Country names as the list writes them.
        addresses: Addresses, empty ones dropped.
        documents: Identity documents, empty ones dropped.
        designations: ``DESIGNATION`` values (role or title of an individual).
        comments: ``COMMENTS1``, whitespace collapsed.
        last_updated: ``LAST_DAY_UPDATED`` dates.
        dataid: The list's internal record id.
    """

    reference_number: str
    regime: str
    kind: EntryKind
    name: str
    name_parts: tuple[str, ...] = ()
    original_script: str = ""
    aliases: tuple[Alias, ...] = ()
    listed_on: date | None = None
    listed_on_raw: str = ""
    dates_of_birth: tuple[BirthDate, ...] = ()
    nationalities: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    documents: tuple[Document, ...] = ()
    designations: tuple[str, ...] = ()
    comments: str = ""
    last_updated: tuple[date, ...] = ()
    dataid: str = ""

    def all_names(self) -> Iterator[tuple[str, str]]:
        """``(name, quality)`` for the primary name (quality ``primary``), the original-script name
        (``original script``) and every non-empty alias."""
        yield self.name, "primary"
        if self.original_script:
            yield self.original_script, "original script"
        for alias in self.aliases:
            if alias.name:
                yield alias.name, alias.quality or "unspecified"


@dataclass(frozen=True)
class ListEdition:
    """One edition of the consolidated list, as read from one file.

    Attributes:
        generated: The ``dateGenerated`` timestamp (UTC); ``None`` if missing or unparseable.
        sha256: SHA-256 of the exact bytes read, hex.
        source: Path or URL the bytes came from.
        entries: Every record, individuals first, in file order.
    """

    generated: datetime | None
    sha256: str
    source: str
    entries: tuple[ListedEntry, ...]
    _by_ref: dict[str, ListedEntry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_ref.update({e.reference_number: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[ListedEntry]:
        return iter(self.entries)

    def __contains__(self, reference_number: object) -> bool:
        return reference_number in self._by_ref

    def get(self, reference_number: str) -> ListedEntry | None:
        """The entry with this reference number (surrounding spaces ignored), or ``None``."""
        return self._by_ref.get(reference_number.strip())

    @property
    def generated_date(self) -> date | None:
        """The day the edition was generated (UTC)."""
        return self.generated.date() if self.generated else None

    def regimes(self) -> tuple[str, ...]:
        """Distinct regimes in this edition, sorted."""
        return tuple(sorted({e.regime for e in self.entries}))

    def filter(self, *, regime: str | Iterable[str] | None = None, kind: EntryKind | None = None) -> ListEdition:
        """A new edition holding only the entries of the given regime(s) and/or kind.

        Regimes compare case-insensitively (``"dprk"`` finds ``DPRK``). The result keeps this edition's
        date, hash and source: it is a view of the same file, not a new file.

        Raises:
            ListError: If ``kind`` is not ``individual`` or ``entity``.
        """
        if kind is not None and kind not in ("individual", "entity"):
            raise ListError(f"kind must be 'individual' or 'entity', got {kind!r}")
        wanted: set[str] | None = None
        if regime is not None:
            wanted = {regime.casefold()} if isinstance(regime, str) else {r.casefold() for r in regime}
        entries = tuple(
            e
            for e in self.entries
            if (wanted is None or e.regime.casefold() in wanted) and (kind is None or e.kind == kind)
        )
        return ListEdition(self.generated, self.sha256, self.source, entries)


def _parse_generated(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        day = _parse_date(text.strip())
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _aliases(elem: Element, tag: str) -> tuple[Alias, ...]:
    out: list[Alias] = []
    for a in elem.findall(tag):
        name = _text(a, "ALIAS_NAME")
        if not name:
            continue
        alias = Alias(name=name, quality=_text(a, "QUALITY"), note=_text(a, "NOTE"))
        if alias not in out:
            out.append(alias)
    return tuple(out)


def _birth_dates(elem: Element) -> tuple[BirthDate, ...]:
    out: list[BirthDate] = []
    for d in elem.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        date_text = _text(d, "DATE")
        day = _parse_date(date_text)
        note = _text(d, "NOTE")
        if date_text and day is None:  # e.g. 1975-02-30: keep what the list says, and its year
            note = "; ".join(x for x in (note, f"date as listed: {date_text}") if x)
        bd = BirthDate(
            type=_text(d, "TYPE_OF_DATE"),
            date=day,
            year=day.year if day else _parse_year(_text(d, "YEAR") or date_text),
            from_year=_parse_year(_text(d, "FROM_YEAR")),
            to_year=_parse_year(_text(d, "TO_YEAR")),
            note=note,
        )
        if bd.years() is None and not bd.note:
            continue
        out.append(bd)
    return tuple(out)


def _addresses(elem: Element, tag: str) -> tuple[Address, ...]:
    out: list[Address] = []
    for a in elem.findall(tag):
        addr = Address(
            street=_text(a, "STREET"),
            city=_text(a, "CITY"),
            state_province=_text(a, "STATE_PROVINCE"),
            zip_code=_text(a, "ZIP_CODE"),
            country=_text(a, "COUNTRY"),
            note=_text(a, "NOTE"),
        )
        if addr != Address():
            out.append(addr)
    return tuple(out)


def _documents(elem: Element) -> tuple[Document, ...]:
    out: list[Document] = []
    for d in elem.findall("INDIVIDUAL_DOCUMENT"):
        doc = Document(
            type=_text(d, "TYPE_OF_DOCUMENT") or _text(d, "TYPE_OF_DOCUMENT2"),
            number=_text(d, "NUMBER"),
            issuing_country=_text(d, "ISSUING_COUNTRY") or _text(d, "COUNTRY_OF_ISSUE"),
            date_of_issue=_text(d, "DATE_OF_ISSUE"),
            note=_text(d, "NOTE"),
        )
        if doc != Document():
            out.append(doc)
    return tuple(out)


def _entry(elem: Element, kind: EntryKind, source: str) -> ListedEntry:
    ref = _text(elem, "REFERENCE_NUMBER")
    if not ref:
        raise ListError(f"{source}: an {elem.tag} record has no REFERENCE_NUMBER (DATAID {_text(elem, 'DATAID')!r})")
    if kind == "individual":
        parts = tuple(p for p in (_text(elem, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")) if p)
        alias_tag, address_tag = "INDIVIDUAL_ALIAS", "INDIVIDUAL_ADDRESS"
    else:
        parts = tuple(p for p in (_text(elem, "FIRST_NAME"),) if p)
        alias_tag, address_tag = "ENTITY_ALIAS", "ENTITY_ADDRESS"
    listed_raw = _text(elem, "LISTED_ON")
    updated = tuple(d for d in (_parse_date(v) for v in _values(elem, "LAST_DAY_UPDATED")) if d is not None)
    return ListedEntry(
        reference_number=ref,
        regime=_text(elem, "UN_LIST_TYPE"),
        kind=kind,
        name=" ".join(parts),
        name_parts=parts,
        original_script=_text(elem, "NAME_ORIGINAL_SCRIPT"),
        aliases=_aliases(elem, alias_tag),
        listed_on=_parse_date(listed_raw),
        listed_on_raw=listed_raw,
        dates_of_birth=_birth_dates(elem) if kind == "individual" else (),
        nationalities=_values(elem, "NATIONALITY"),
        addresses=_addresses(elem, address_tag),
        documents=_documents(elem) if kind == "individual" else (),
        designations=_values(elem, "DESIGNATION"),
        comments=_clean(elem.findtext("COMMENTS1")),
        last_updated=updated,
        dataid=_text(elem, "DATAID"),
    )


def parse(data: bytes, *, source: str = "<bytes>") -> ListEdition:
    """Parse the bytes of a consolidated-list XML file.

    Args:
        data: The file's exact bytes (hashed as given).
        source: Where the bytes came from, for messages and for :attr:`ListEdition.source`.

    Returns:
        The edition, with every record.

    Raises:
        ListError: If the bytes are not well-formed XML, declare a DTD or entities (refused for
            safety), are not a ``CONSOLIDATED_LIST``, or a record lacks a reference number.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise ListError(f"{source}: refused unsafe XML ({type(exc).__name__}); a sanctions list never "
                        "needs a DTD or entities") from exc
    except ParseError as exc:
        raise ListError(f"{source}: not well-formed XML ({exc})") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise ListError(f"{source}: root element is <{root.tag}>, expected <CONSOLIDATED_LIST>")
    entries: list[ListedEntry] = []
    for elem in root.iterfind("INDIVIDUALS/INDIVIDUAL"):
        entries.append(_entry(elem, "individual", source))
    for elem in root.iterfind("ENTITIES/ENTITY"):
        entries.append(_entry(elem, "entity", source))
    seen: set[str] = set()
    for e in entries:
        if e.reference_number in seen:
            raise ListError(f"{source}: reference number {e.reference_number} appears twice")
        seen.add(e.reference_number)
    return ListEdition(
        generated=_parse_generated(root.get("dateGenerated")),
        sha256=hashlib.sha256(data).hexdigest(),
        source=source,
        entries=tuple(entries),
    )


def read(path: str | Path) -> ListEdition:
    """Read and parse a consolidated-list XML file.

    Raises:
        ListError: If the file cannot be read or does not parse (see :func:`parse`).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ListError(f"{p}: cannot read list file ({exc.strerror or exc})") from exc
    return parse(data, source=str(p))
