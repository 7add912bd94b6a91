"""Transfers and deals: the typed records the engine judges.

Every model is a frozen pydantic v2 model that rejects unknown fields. Validation errors are raised as
:class:`sanctions.exc.InvalidTransfer` by :func:`parse_transfer`, :func:`parse_deal` and :func:`parse_input`,
naming the field path and the value, with a hint where one helps (``did you mean 'KP'?``).

The shape::

    Deal ── transfers: [Transfer, ...]  ── links: [DealLink]        (an exchange, legs in both directions)
    Transfer ── supplier, recipient, intermediaries: Party
             ── route: [RouteStop], vessel / sts_vessel: Vessel
             ── items: [Item] ── quantity: Quantity, value: Money
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sanctions.exc import FieldProblem, InvalidTransfer
from sanctions.model.vocab import (  # noqa: F401  (re-exported: the records' vocabulary)
    PartyKind,
    EndUserKind,
    TransferKind,
    Purpose,
    EndUse,
    Category,
    TransportMode,
    Unit,
    Subject,
    Servicing,
    UNKNOWN,
    REFINEMENTS,
    normalise_hs,
)

MAX_QUANTITY = 1e13
"""Largest quantity or amount accepted: ten trillion of any unit. Anything larger is a data error."""

# --------------------------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------------------------

_COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
_CURRENCY_CODES = frozenset(c.alpha_3 for c in pycountry.currencies)


@functools.cache
def _country_aliases() -> dict[str, str]:
    import yaml

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "country_aliases.yaml").read_text(encoding="utf-8"))
    return {_alias_key(k): v for k, v in (data.get("aliases") or {}).items()}


def _alias_key(text: str) -> str:
    return " ".join(text.casefold().replace(".", "").split())


def country_hint(value: str) -> str:
    """A ``did you mean ...?`` hint for something given where an ISO 3166-1 alpha-2 code was expected."""
    text = value.strip()
    if not text:
        return ""
    if text.upper() in _COUNTRY_CODES and text != text.upper():
        return f"did you mean {text.upper()!r}?"
    alias = _country_aliases().get(_alias_key(text))
    if alias is not None:
        return f"did you mean {alias!r} ({pycountry.countries.get(alpha_2=alias).name})?"
    found = None
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        try:
            hits = pycountry.countries.search_fuzzy(text)
            found = hits[0] if hits else None
        except LookupError:
            found = None
    if found is not None:
        return f"did you mean {found.alpha_2!r} ({found.name})?"
    return ""


def _check_country(value: str) -> str:
    if value in _COUNTRY_CODES:
        return value
    hint = country_hint(value)
    raise ValueError("not an ISO 3166-1 alpha-2 country code" + (f"; {hint}" if hint else ""))


Country = Annotated[
    str,
    Field(description="ISO 3166-1 alpha-2 country code, upper case (e.g. KP, RU, CN).", examples=["KP"]),
    AfterValidator(_check_country),
]


def _check_currency(value: str) -> str:
    if value in _CURRENCY_CODES:
        return value
    raise ValueError("not an ISO 4217 currency code" + (f"; did you mean {value.upper()!r}?" if value.upper() in _CURRENCY_CODES else ""))


Currency = Annotated[str, Field(description="ISO 4217 currency code (e.g. USD).", examples=["USD"]), AfterValidator(_check_currency)]



def _check_hs(value: str) -> str:
    code = normalise_hs(value)
    if not code.isascii() or not code.isdigit():
        raise ValueError("an HS code has digits only (dots and spaces are allowed between them)")
    if not 2 <= len(code) <= 10:
        raise ValueError(f"an HS code has 2 to 10 digits, this one has {len(code)}")
    return code


HsCode = Annotated[
    str,
    Field(description="Harmonized System code, 2 to 10 digits; dots and spaces are removed (2710.19 -> 271019).",
          examples=["271019"]),
    AfterValidator(_check_hs),
]


def imo_check_digit_ok(imo: str) -> bool:
    """True when a 7-digit IMO ship number has a correct check digit."""
    if len(imo) != 7 or not imo.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(imo[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(imo[6])


def _check_imo(value: str) -> str:
    text = value.strip().upper().removeprefix("IMO").strip()
    if len(text) != 7 or not text.isdigit():
        raise ValueError("an IMO number has 7 digits (optionally written 'IMO 1234567')")
    if not imo_check_digit_ok(text):
        raise ValueError("IMO check digit is wrong")
    return text


ImoNumber = Annotated[str, Field(description="IMO ship identification number: 7 digits, check digit validated."),
                      AfterValidator(_check_imo)]

Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/\-]*$")]
Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Amount = Annotated[float, Field(ge=0, le=MAX_QUANTITY), AfterValidator(_finite)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, use_enum_values=False,
                              allow_inf_nan=False)


# --------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------


Unknown = Annotated[Literal["unknown"], Field(description="The fact has a value that is not known (see "
                                                        "sanctions.model.vocab.UNKNOWN); rules that turn on it "
                                                        "give a review finding naming it.")]


class Party(_Model):
    """Someone who supplies, receives or brokers a transfer."""

    name: Name = Field(description="Name as written in the trade documents.")
    country: Country | Unknown = Field(description="Country of the party (registration, nationality or seat); "
                                       "\"unknown\" when the source does not say.", examples=["KP", "unknown"])
    kind: PartyKind = Field(default=PartyKind.company, description="What kind of party this is.")
    identifiers: dict[str, str] = Field(default_factory=dict, description="Registration numbers, IMO company numbers, "
                                        "passport numbers and the like, keyed by scheme.")
    aliases: list[Name] = Field(default_factory=list, description="Other names the party uses.")


def _check_subdivision(value: str) -> str:
    code = value.strip().upper()
    if pycountry.subdivisions.get(code=code) is None:
        raise ValueError("not an ISO 3166-2 subdivision code (e.g. SD-DN for North Darfur)")
    return code


Subdivision = Annotated[
    str,
    Field(description="ISO 3166-2 code of a region inside a country (e.g. SD-DN, North Darfur).", examples=["SD-DN"]),
    AfterValidator(_check_subdivision),
]


class EndUser(_Model):
    """Who finally uses what is transferred, where an embargo turns on it (armed groups, a named mission)."""

    kind: EndUserKind = Field(description="Class of end user.")
    name: Name | None = Field(default=None, description="Name of the end user.")
    country: Country | None = Field(default=None, description="Country whose forces or organs the end user belongs "
                                    "to, or where it operates; the destination country when omitted.")
    organisation: Name | None = Field(default=None, description="The named force, mission or group the end user "
                                      "belongs to (e.g. UNIFIL, MONUSCO, MSS, Houthis).")


class Vessel(_Model):
    """A ship carrying a transfer, or met in a ship-to-ship transfer."""

    name: Name = Field(description="Vessel name.")
    imo: ImoNumber | None = Field(default=None, description="IMO number (7 digits, check digit validated).")
    flag: Country | Unknown | None = Field(default=None, description="Flag state at the time of the transfer; "
                                           "\"unknown\" when the vessel has a flag the source does not give "
                                           "(omitted: no flag to consider).", examples=["KP", "unknown"])


class RouteStop(_Model):
    """A port or border crossing on the way."""

    port: Name = Field(description="Port or crossing name, e.g. 'Rajin'.")
    country: Country = Field(description="Country the port is in.")
    role: Literal["loading", "transshipment", "transit", "discharge"] = Field(
        default="transit", description="What happens there.")


MAX_HS_RANGE = 100
"""Most codes one HS range of an item's alternatives may span."""


def hs_range(value: str) -> list[str]:
    """The codes an HS alternative stands for: one code, or every code of a range ``"8701-8705"`` in order.

    Raises:
        ValueError: naming what is wrong with the code or range.
    """
    first, sep, last = value.partition("-")
    codes = [_check_hs(first.strip())] + ([_check_hs(last.strip())] if sep else [])
    if len(codes) == 1:
        return codes
    a, b = codes
    if len(a) != len(b):
        raise ValueError(f"the ends of an HS range have the same number of digits ({a} has {len(a)}, {b} {len(b)})")
    if int(b) < int(a):
        raise ValueError(f"HS range {a}-{b} ends before it starts")
    if int(b) - int(a) + 1 > MAX_HS_RANGE:
        raise ValueError(f"HS range {a}-{b} spans {int(b) - int(a) + 1} codes; at most {MAX_HS_RANGE}")
    return [str(n).zfill(len(a)) for n in range(int(a), int(b) + 1)]


def _check_hs_alternative(value: str) -> str:
    codes = hs_range(value)
    return codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}"


HsAlternative = Annotated[
    str,
    Field(description="An HS code, or a range of codes of the same length: '8704', '8701-8705'.",
          examples=["8704", "8701-8705"]),
    AfterValidator(_check_hs_alternative),
]


class Quantity(_Model):
    """How much."""

    value: Amount = Field(description="Non-negative, finite.")
    unit: Unit = Field(description="Unit of the value.")


class Money(_Model):
    """A declared value."""

    amount: Amount = Field(description="Non-negative, finite.")
    currency: Currency = Field(default="USD", description="ISO 4217 code.")


class Item(_Model):
    """One line of goods, technology or service in a transfer."""

    description: Text = Field(min_length=1, description="What it is, in words.")
    hs_code: HsCode | None = Field(default=None, description="Harmonized System code (2 to 10 digits).")
    category: Category | None = Field(default=None, description="Category from the controlled vocabulary. When "
                                      "omitted it is derived from the HS code; when both are given and disagree, "
                                      "the decision says so and rules see both.")
    quantity: Quantity | None = Field(default=None, description="How much; required where a cap applies.")
    value: Money | None = Field(default=None, description="Declared value.")
    origin_country: Country | None = Field(default=None, description="Country of origin of the goods, when it "
                                           "differs from the transfer's origin (e.g. Russian coal shipped via Rajin).")
    end_use: EndUse | None = Field(default=None, description="Declared end use; \"unknown\" when the end use is "
                                   "not known (omitted: none declared).")
    end_user: Name | None = Field(default=None, description="Declared end user.")
    condition: Literal["new", "used"] | None = Field(
        default=None, description="Whether the item is new or used, where the law turns on it (2321 OP30: new "
        "helicopters and vessels). Absent means not stated.")
    hs_alternatives: list[HsAlternative] = Field(
        default_factory=list, max_length=20, description="Other HS codes the item may have, when the source gives "
        "alternatives (\"8703 or 8704\") or a range (\"8701-8705\": every code of that length from the first to "
        "the last, at most 100). The item is judged under hs_code and each alternative; the strictest outcome "
        "wins and the decision says which alternative leads to which outcome.", examples=[["8704", "8701-8705"]])
    subject: Subject | Unknown | None = Field(
        default=None, description="For a service or technology transfer, or goods sent for servicing: what it "
        "relates to (arms_and_related_materiel, a UNROCA class, ballistic_missile_items, wmd_items, "
        "space_launch_items, civilian, ...); \"unknown\" when the source does not say.",
        examples=["unroca_iv_combat_aircraft", "unknown"])
    servicing: Servicing | None = Field(
        default=None, description="The goods are sent for repair, maintenance, overhaul or servicing and returned: "
        "a service related to the goods, judged under the services measures as well as the goods measures.")

    @model_validator(mode="after")
    def _unit_fits(self, info: ValidationInfo) -> Item:
        # Checked by parse_* when asked (check_units=True) or by default once UNITS_CHECKED_BY_DEFAULT is on.
        if self.quantity is None or not (info.context or {}).get("check_units"):
            return self
        category, how = (self.category.value, "declared") if self.category is not None else (None, "")
        if category is None and self.hs_code is not None:
            from sanctions.model import hs

            derived = hs.classify(self.hs_code)
            category, how = (derived.value, f"derived from HS code {self.hs_code}") if derived else (None, "")
        allowed = units_for(category) if category else None
        if allowed is not None and self.quantity.unit.value not in allowed:
            raise PydanticCustomError(
                "unit_mismatch", "unit {unit!r} does not fit category {category!r} ({how}); units that fit: {allowed}",
                {"unit": self.quantity.unit.value, "category": category, "how": how,
                 "allowed": ", ".join(sorted(allowed))})
        return self


UNITS_BY_CATEGORY_FILE = Path(__file__).resolve().parents[1] / "data" / "units_by_category.yaml"

UNITS_CHECKED_BY_DEFAULT = True
"""Whether parse_* (and so every file read by sanctions.io, sanctions.batch and check-transfer) refuses a unit
that does not fit the item's category (``barrels`` of artillery shells). ``parse_*(check_units=False)`` lets a
caller accept such data deliberately."""


@functools.cache
def _units_table() -> dict[str, frozenset[str]]:
    return load_units_table(UNITS_BY_CATEGORY_FILE)


def load_units_table(path: str | Path) -> dict[str, frozenset[str]]:
    """Read a units-by-category table (see ``sanctions/data/units_by_category.yaml``).

    Raises:
        ValueError: naming the file and key of an unknown category, unit or group.
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    units = {u.value for u in Unit}
    cats = {c.value for c in Category}
    groups: dict[str, frozenset[str]] = {}
    for name, members in (data.get("groups") or {}).items():
        bad = [m for m in members if m not in units]
        if bad:
            raise ValueError(f"{path}: groups.{name}: unknown units {bad}")
        groups[name] = frozenset(members)
    table: dict[str, frozenset[str]] = {}
    for cat, entries in (data.get("categories") or {}).items():
        if cat not in cats:
            raise ValueError(f"{path}: categories.{cat}: unknown category")
        out: set[str] = set()
        for e in entries:
            if e in groups:
                out |= groups[e]
            elif e in units:
                out.add(e)
            else:
                raise ValueError(f"{path}: categories.{cat}: {e!r} is neither a unit nor a group")
        table[cat] = frozenset(out)
    return table


def units_for(category: Category | str) -> frozenset[str] | None:
    """The units a quantity of this category may be given in; None when any unit fits."""
    return _units_table().get(category.value if isinstance(category, Category) else category)


class DateRange(_Model):
    """A period, both ends inclusive."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"end {self.end.isoformat()} is before start {self.start.isoformat()}")
        return self


class CoarseDate(DateRange):
    """A date known only to the year or the month: the transfer happened on one day of [start, end], and the
    source does not say which. Written ``"2017"`` or ``"2019-09"`` in the input (or in full, as here)."""

    precision: Literal["year", "month"] = Field(description="What the source gives: the year, or the year and month.")

    @model_validator(mode="after")
    def _whole_period(self) -> CoarseDate:
        want = _coarse_period(self.start.isoformat()[:4] if self.precision == "year" else self.start.isoformat()[:7])
        if (self.start, self.end) != want:
            raise ValueError(f"a {self.precision} runs from {want[0].isoformat()} to {want[1].isoformat()}")
        return self

    @property
    def text(self) -> str:
        """The date as the source gives it: ``2017`` or ``2019-09``."""
        return self.start.isoformat()[:4] if self.precision == "year" else self.start.isoformat()[:7]


def _coarse_period(text: str) -> tuple[dt.date, dt.date]:
    year = int(text[:4])
    if len(text) == 4:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = int(text[5:7])
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, 1), nxt - dt.timedelta(days=1)


def coarse_date(value: Any) -> Any:
    """``"2017"`` or ``"2019-09"`` as a :class:`CoarseDate` mapping; anything else unchanged."""
    import re

    if isinstance(value, str) and re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", value.strip()):
        text = value.strip()
        if not 1 <= int(text[:4]) <= 9998:
            return value
        start, end = _coarse_period(text)
        return {"start": start, "end": end, "precision": "year" if len(text) == 4 else "month"}
    return value


class Notification(_Model):
    """A notification made to a sanctions committee about this transfer."""

    to: Name = Field(default="1718 Committee", description="Committee notified.")
    date: dt.date = Field(description="Date of the notification.")
    reference: Name | None = Field(default=None, description="Reference of the notification, if any.")


class Contract(_Model):
    """The contract a transfer is made under, where a wind-down for prior contracts turns on it."""

    date: dt.date = Field(description="Date the contract was finalised (signed).")
    written: bool = Field(description="Whether it is a written contract (the wind-downs cover written contracts only).")


class ExemptionGrant(_Model):
    """An exemption granted by a sanctions committee for this transfer."""

    reference: Name = Field(description="The committee's reference for the exemption.")
    granted_by: Name = Field(default="1718 Committee", description=(
        "Who granted it (the 1718 Committee when not given). An exemption counts only for the measures its "
        "grantor administers: a 2127 Committee exemption does not clear a DPRK measure."))
    date: dt.date | None = Field(default=None, description="Date granted.")
    purpose: Purpose = Field(default=Purpose.humanitarian, description="Purpose of the exemption.")


class Transfer(_Model):
    """One movement of goods, technology, services, money or labour from a supplier to a recipient."""

    id: Identifier = Field(description="Your identifier for the transfer; unique within a deal or batch.")
    date: dt.date | CoarseDate | DateRange = Field(
        description="Date of the transfer (YYYY-MM-DD); a year (\"2017\") or a month (\"2019-09\") when the source "
        "gives no day (the transfer happened on one day of that period: a finding that turns on which part of it a "
        "measure covers is a review finding saying so); or a period {start, end} the transfer ran over.",
        examples=["2024-03-07", "2017", "2019-09", {"start": "2024-03-07", "end": "2024-11-30"}])
    kind: TransferKind = Field(default=TransferKind.goods, description="What moves.")
    purpose: Purpose | Unknown | None = Field(default=None, description="Declared purpose, where the law makes it "
                                              "matter; \"unknown\" when it is not known (omitted: none declared).")
    supplier: Party = Field(description="Who supplies, sells or transfers.")
    recipient: Party = Field(description="Who receives or procures.")
    intermediaries: list[Party] = Field(default_factory=list, description="Brokers, agents, owners, financiers.")
    origin_country: Country = Field(description="Where the transfer starts.")
    destination_country: Country = Field(description="Where it ends.")
    route: list[RouteStop] = Field(default_factory=list, description="Ports and crossings on the way, in order.")
    transport: list[TransportMode] = Field(default_factory=list, description="How it moves (sea, air, rail, ...); "
                                           "several for a multimodal route.")
    vessel: Vessel | None = Field(default=None, description="Vessel carrying it, if by sea.")
    ship_to_ship: bool = Field(default=False, description="True when cargo passes between vessels at sea.")
    sts_vessel: Vessel | None = Field(default=None, description="The other vessel in a ship-to-ship transfer.")
    destination_subdivision: Subdivision | None = Field(
        default=None, description="ISO 3166-2 region of the destination country the transfer goes to (e.g. SD-DN, "
        "North Darfur), where an embargo covers part of a country.")
    end_user: EndUser | None = Field(default=None, description="Who finally uses it. When omitted, the recipient "
                                     "is taken as the end user where its kind says who it is (armed forces, a "
                                     "government body, an international or humanitarian organisation).")

    @field_validator("destination_subdivision")
    @classmethod
    def _subdivision_in_destination(cls, sub: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("destination_country")
        if sub is not None and isinstance(country, str) and not sub.startswith(country + "-"):
            raise ValueError(f"{sub!r} is not a region of destination_country {country!r}")
        return sub

    items: list[Item] = Field(default_factory=list, max_length=10_000, description="What moves.")
    notifications: list[Notification] = Field(default_factory=list, description="Notifications made to a "
                                              "sanctions committee about this transfer.")
    notified: bool | Unknown | None = Field(
        default=None, description="Whether a committee was notified: true, false, or \"unknown\" when the source "
        "does not say. Omitted: true exactly when notifications are listed.", examples=[True, "unknown"])
    exemptions: list[ExemptionGrant] = Field(default_factory=list, description="Exemptions granted by a sanctions "
                                             "committee for this transfer.")
    contract: Contract | None = Field(default=None, description="The contract it is made under, when a "
                                      "wind-down for prior contracts may apply.")
    notes: Text | None = Field(default=None, description="Free text; never read by rules.")

    @property
    def start(self) -> dt.date:
        """First day of the transfer."""
        return self.date.start if isinstance(self.date, DateRange) else self.date

    @property
    def end(self) -> dt.date:
        """Last day of the transfer."""
        return self.date.end if isinstance(self.date, DateRange) else self.date

    @field_validator("date", mode="before")
    @classmethod
    def _date_shape(cls, v: Any) -> Any:
        return coarse_date(v)

    @property
    def precise(self) -> bool:
        """False when the date is a year or a month with the day unknown."""
        return not isinstance(self.date, CoarseDate)

    @property
    def notification_status(self) -> bool | str:
        """True, False or ``"unknown"``: ``notified`` when given, else whether notifications are listed."""
        return bool(self.notifications) if self.notified is None else self.notified

    @model_validator(mode="after")
    def _notified_agrees(self) -> Transfer:
        if self.notified is False and self.notifications:
            raise ValueError("notified is false but notifications are listed")
        for i, item in enumerate(self.items):
            if item.subject is not None and self.kind == TransferKind.goods and item.servicing is None:
                raise ValueError(f"items[{i}].subject is for services, technology and goods sent for servicing; "
                                 "this is a goods transfer and the item has no servicing")
        return self


class DealLink(_Model):
    """One leg of a deal given in return for another."""

    transfer: Identifier = Field(description="The leg given in return ...")
    consideration_for: Identifier = Field(description="... for this leg.")


class Deal(_Model):
    """Several transfers linked as one exchange (arms one way, oil and technology the other)."""

    id: Identifier = Field(description="Your identifier for the deal.")
    title: Text | None = Field(default=None, description="A short title.")
    transfers: list[Transfer] = Field(min_length=1, max_length=10_000, description="The legs of the deal.")
    links: list[DealLink] = Field(default_factory=list, description="Which leg pays for which; when absent, "
                                  "legs flowing back from the recipient of a leg to its supplier are taken as its "
                                  "consideration.")

    @model_validator(mode="after")
    def _consistent(self) -> Deal:
        seen: set[str] = set()
        for t in self.transfers:
            if t.id in seen:
                raise ValueError(f"two transfers share the id {t.id!r}")
            seen.add(t.id)
        for link in self.links:
            for ref in (link.transfer, link.consideration_for):
                if ref not in seen:
                    raise ValueError(f"link names transfer {ref!r}, which is not in the deal")
        return self


# --------------------------------------------------------------------------------------------------------------
# Parsing with errors a person can act on
# --------------------------------------------------------------------------------------------------------------

_TRANSFER = TypeAdapter(Transfer)


def _context(check_units: bool | None) -> dict[str, bool]:
    return {"check_units": UNITS_CHECKED_BY_DEFAULT if check_units is None else check_units}

_DEAL = TypeAdapter(Deal)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # pydantic puts union member names into loc ("date.DateRange.start"); keep them readable
            if part in {"date", "DateRange", "CoarseDate", "function-after[_ordered(), DateRange]"} \
                    and out.endswith("date"):
                continue
            if isinstance(part, str) and part.startswith(("function-", "json-or-python", "lax-or-strict")):
                continue
            out += ("." if out else "") + str(part)
    return out


_FIX_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
}


def problems_from(err: ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into field problems: path, message, value, hint."""
    out: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors(include_url=False):
        path = _path(tuple(e["loc"]))
        msg = _FIX_MESSAGES.get(e["type"], e["msg"])
        msg = msg.removeprefix("Value error, ")
        hint = ""
        if "; did you mean" in msg:
            msg, hint = msg.split("; ", 1)
        if e["type"] == "extra_forbidden":
            hint = _field_hint(path)
        if e["type"] == "enum" and isinstance(e.get("input"), str):  # name the nearest few, not all fifty
            from sanctions.model.hints import nearest, parse_expected

            allowed = parse_expected(str((e.get("ctx") or {}).get("expected", "")))
            hint = nearest(e["input"], allowed)
            if len(allowed) > 12:
                msg = f"not one of the {len(allowed)} known values ('check-transfer schema' lists them)"
        if e["type"].startswith(("date_", "datetime_")) and isinstance(e.get("input"), str):
            from sanctions.model.hints import date_hint

            hint = hint or date_hint(e["input"])
        if e["type"] == "unit_mismatch":
            ctx = e.get("ctx") or {}
            path = (path + "." if path else "") + "quantity.unit"
            msg = f"unit {ctx.get('unit')!r} does not fit category {ctx.get('category')!r} ({ctx.get('how')})"
            hint = f"units that fit: {ctx.get('allowed')}"
            e = {**e, "input": ctx.get("unit")}
        key = (path, msg)
        if key in seen:
            continue
        seen.add(key)
        value = e.get("input") if e["type"] != "missing" else None
        if isinstance(value, dict | list) and e["type"] not in ("extra_forbidden",):
            value = None if len(repr(value)) > 200 else value
        out.append(FieldProblem(path=path, message=msg, value=value, hint=hint))
    return _without_union_noise(out)


def _without_union_noise(problems: list[FieldProblem]) -> list[FieldProblem]:
    """Drop the complaints of the union members a value was plainly not meant for.

    ``date`` takes a date or a ``{start, end}`` object: a string should only hear about dates, an object
    only about the range.
    """
    def noise(p: FieldProblem) -> bool:
        others = [q for q in problems if q is not p and (q.path == p.path or q.path.startswith(p.path + "."))]
        if not others:
            return False
        if p.message.startswith("Input should be a valid dictionary or instance of"):
            return True
        return p.message.startswith("Input should be a valid date") and isinstance(p.value, dict)

    return [p for p in problems if not noise(p)]


def _field_hint(path: str) -> str:
    import difflib

    name = path.rsplit(".", 1)[-1]
    known: set[str] = set()
    for model in (Transfer, Party, Vessel, RouteStop, Item, Quantity, Money, Deal, DealLink, Notification,
                  ExemptionGrant, DateRange):
        known |= set(model.model_fields)
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else ""


def parse_transfer(data: Mapping[str, Any] | Any, *, source: str | None = None, record: int | None = None,
                   check_units: bool | None = None) -> Transfer:
    """Validate one transfer given as JSON-like data.

    Args:
        check_units: Also refuse a quantity whose unit does not fit the item's category (:func:`units_for`);
            ``None`` (default): :data:`UNITS_CHECKED_BY_DEFAULT`.

    Raises:
        InvalidTransfer: naming each field path, the value and a hint.
    """
    try:
        return _TRANSFER.validate_python(data, context=_context(check_units))
    except ValidationError as err:
        raise InvalidTransfer("invalid transfer", source=source, record=record, problems=problems_from(err)) from None


def parse_deal(data: Mapping[str, Any] | Any, *, source: str | None = None, record: int | None = None,
                   check_units: bool | None = None) -> Deal:
    """Validate one deal given as JSON-like data (``check_units`` as in :func:`parse_transfer`).

    Raises:
        InvalidTransfer: naming each field path, the value and a hint.
    """
    try:
        return _DEAL.validate_python(data, context=_context(check_units))
    except ValidationError as err:
        raise InvalidTransfer("invalid deal", source=source, record=record, problems=problems_from(err)) from None


def parse_input(data: Any, *, source: str | None = None, record: int | None = None,
                check_units: bool | None = None) -> Transfer | Deal:
    """Validate a transfer or a deal: a JSON object with a ``transfers`` list is a deal (``check_units`` as
    in :func:`parse_transfer`).

    Raises:
        InvalidTransfer: when it is neither, or fails validation.
    """
    if not isinstance(data, Mapping):
        raise InvalidTransfer(
            "expected a JSON object (a transfer or a deal)", source=source, record=record,
            problems=[FieldProblem("", f"got a JSON {type(data).__name__}", None)],
        )
    if "transfers" in data:
        return parse_deal(data, source=source, record=record, check_units=check_units)
    return parse_transfer(data, source=source, record=record, check_units=check_units)


UNKNOWN_AND_PRECISION_FORMS = """\
Facts as sources give them. Leaving a field out means "none" or "not applicable"; the string "unknown" means
"there is a value and the source does not give it". A rule whose outcome turns on an unknown fact gives a
review finding that names the unknown field and what would settle it ("if sts_vessel.flag is KP and on or
after 11 September 2017: prohibited under UNSCR 2375 (2017) OP11"); it never passes silently.

Unknown values:
  supplier.country, recipient.country, intermediaries[].country   "unknown"   (e.g. {"name": "X", "country": "unknown"})
  vessel.flag, sts_vessel.flag                                     "unknown"   (omitted: no flag to consider)
  notified                                                         true | false | "unknown"
                                                                   (omitted: true exactly when notifications are listed)
  purpose                                                          "unknown"   (omitted: none declared)
  items[].end_use                                                  "unknown"   (omitted: none declared)
  items[].subject                                                  "unknown"   (what a service, technology or servicing is for)
  items[].category                                                 "arms_and_related_materiel": arms of a class the
                                                                   source does not give; a measure that needs the UNROCA
                                                                   class gives review naming the classes that decide it

Precision:
  date        "2024-03-07" a day; "2017" a year or "2019-09" a month, the day not known (the transfer happened on
              one day of it: a finding that depends on the part of the period a measure covers says so, "prohibited
              if on or after 11 September 2017"); {"start": ..., "end": ...} a period the transfer ran over.
  items[].hs_alternatives   other HS codes the item may have: ["8704"] or a range of codes of one length
              ["8701-8705"] (at most 100 codes); the item is judged under each, the strictest outcome wins and the
              finding lists which alternative led to which outcome (related.hs_alternatives).

Review findings for unknowns carry related.undecided: outcome_if_applies, unknown (the input fields),
date_covered (the part of a coarse date's period the measure covers) and settled_by (what would settle it).
"""

UNCERTAIN_EXAMPLE: dict[str, Any] = {
    "id": "sts-2017-unnamed", "date": "2017", "kind": "goods", "ship_to_ship": True,
    "supplier": {"name": "Trading company", "country": "unknown"},
    "recipient": {"name": "Buyer", "country": "CN"}, "origin_country": "CN", "destination_country": "CN",
    "vessel": {"name": "Lighthouse Winmore", "flag": "HK"}, "sts_vessel": {"name": "Unnamed tanker", "flag": "unknown"},
    "notified": "unknown", "purpose": "unknown",
    "items": [{"description": "Diesel", "hs_code": "271019", "hs_alternatives": ["271012"], "end_use": "unknown"},
              {"description": "Arms of no stated class", "category": "arms_and_related_materiel"}],
}
"""An input with every unknown and precision form, shown by ``check-transfer schema``."""


def input_schema() -> dict[str, Any]:
    """JSON Schema of the input: one transfer or one deal."""
    schema = TypeAdapter(Transfer | Deal).json_schema()
    schema["title"] = "sanctions input: a Transfer or a Deal"
    schema["description"] = UNKNOWN_AND_PRECISION_FORMS
    schema["examples"] = [UNCERTAIN_EXAMPLE]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
