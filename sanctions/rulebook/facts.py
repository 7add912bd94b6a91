"""The fields rules can test, and how a transfer becomes facts.

:data:`FIELDS` is the registry of every field path a rule condition may name (``transfer.origin_country``,
``item.categories``, ``finding.outcome``, ...), with its type and, for enumerated fields, its allowed
values, so that the rulebook loader can refuse a misspelt path or constant at load time.

Three kinds of fact are built for each check (see :mod:`sanctions.evaluate.compiled`):

* one ``transfer`` fact per transfer, with the ``transfer.*`` fields;
* one ``item`` fact per item, with the ``item.*`` fields *and* its transfer's ``transfer.*`` fields (this is
  the join of a transfer with its items, made when the facts are built);
* for deals, one ``finding`` fact per finding of the first pass, with the ``finding.*`` fields and the
  ``transfer.*`` fields of the leg it is about.

Field types: ``str``, ``num``, ``bool``, ``date`` (compared as day numbers) and ``set`` (a set of strings,
tested for membership only). A raw record maps each path to a value or ``None`` (absent); :func:`project`
turns a raw record into a total fact over exactly the keys a compiled rulebook tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sanctions.model import hs
from sanctions.evaluate.compiled import FID, KIND, Scalar
from sanctions.model.records import (
    Category,
    EndUse,
    EndUserKind,
    PartyKind,
    Purpose,
    Transfer,
    TransferKind,
    TransportMode,
    Unit,
)

FieldType = Literal["str", "num", "bool", "date", "set"]
HS_PREFIX_LENGTHS = tuple(range(2, 11))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field path rules can test.

    Attributes:
        path: Dotted path, e.g. ``transfer.supplier.country``.
        type: Value type.
        kind: The fact kind it belongs to; ``transfer`` fields are also on ``item`` and ``finding`` facts.
        doc: What it means.
        values: For enumerated fields, the allowed constants; ``None`` means any.
    """

    path: str
    type: FieldType
    kind: Literal["transfer", "item", "finding"]
    doc: str
    values: tuple[str, ...] | None = None


def _enum(e: Any) -> tuple[str, ...]:
    return tuple(m.value for m in e)


_FIELDS: list[FieldSpec] = [
    FieldSpec("transfer.id", "str", "transfer", "The transfer's id."),
    FieldSpec("transfer.kind", "str", "transfer", "What moves.", _enum(TransferKind)),
    FieldSpec("transfer.purpose", "str", "transfer", "Declared purpose.", _enum(Purpose)),
    FieldSpec("transfer.start", "date", "transfer", "First day of the transfer."),
    FieldSpec("transfer.end", "date", "transfer", "Last day of the transfer."),
    FieldSpec("transfer.origin_country", "str", "transfer", "Country where the transfer starts."),
    FieldSpec("transfer.destination_country", "str", "transfer", "Country where it ends."),
    FieldSpec("transfer.supplier.country", "str", "transfer", "Supplier's country."),
    FieldSpec("transfer.supplier.kind", "str", "transfer", "Supplier's kind.", _enum(PartyKind)),
    FieldSpec("transfer.recipient.country", "str", "transfer", "Recipient's country."),
    FieldSpec("transfer.recipient.kind", "str", "transfer", "Recipient's kind.", _enum(PartyKind)),
    FieldSpec("transfer.intermediary_countries", "set", "transfer", "Countries of the intermediaries."),
    FieldSpec("transfer.countries", "set", "transfer",
              "Every country the transfer touches: origin, destination, parties, route, vessel flags."),
    FieldSpec("transfer.route.ports", "set", "transfer", "Ports on the route, lower case."),
    FieldSpec("transfer.transport", "set", "transfer", "Modes of transport.", _enum(TransportMode)),
    FieldSpec("transfer.route.countries", "set", "transfer", "Countries of the ports on the route."),
    FieldSpec("transfer.vessel.flag", "str", "transfer", "Flag of the carrying vessel."),
    FieldSpec("transfer.vessel.imo", "str", "transfer", "IMO number of the carrying vessel."),
    FieldSpec("transfer.ship_to_ship", "bool", "transfer", "Cargo passed between vessels at sea."),
    FieldSpec("transfer.sts_vessel.flag", "str", "transfer", "Flag of the other vessel in a ship-to-ship transfer."),
    FieldSpec("transfer.vessel_flags", "set", "transfer", "Flags of the carrying and ship-to-ship vessels."),
    FieldSpec("transfer.notified", "bool", "transfer", "A notification to a committee was made."),
    FieldSpec("transfer.committee_exemption", "bool", "transfer", "A committee granted an exemption for it."),
    FieldSpec("transfer.in_deal", "bool", "transfer", "The transfer is a leg of a deal."),
    FieldSpec("transfer.deal_id", "str", "transfer", "Id of the deal it belongs to (empty when none)."),
    FieldSpec("transfer.designated_regimes", "set", "transfer",
              "Regimes under which a party of the transfer was listed on the transfer's date (from list screening)."),
    FieldSpec("transfer.designated_vessel", "bool", "transfer",
              "The carrying or ship-to-ship vessel was designated by the 1718 Committee on the transfer's date."),
    FieldSpec("transfer.screened", "bool", "transfer", "Parties were screened against a UN list edition."),
    FieldSpec("transfer.destination_subdivision", "str", "transfer",
              "ISO 3166-2 region of the destination country (e.g. SD-DN), when given."),
    FieldSpec("transfer.end_user.kind", "str", "transfer",
              "Class of the end user: declared, or derived from the recipient's kind (absent when neither says).",
              _enum(EndUserKind)),
    FieldSpec("transfer.end_user.country", "str", "transfer",
              "Country of the end user (its own, else the destination country's); absent when the kind is."),
    FieldSpec("transfer.end_user.organisation", "str", "transfer",
              "Named force, mission or group of the end user, lower case (e.g. 'unifil', 'houthis')."),
    FieldSpec("item.index", "num", "item", "Position of the item in the transfer, from 0."),
    FieldSpec("item.category", "str", "item", "Declared category, or the one derived from the HS code.",
              _enum(Category)),
    FieldSpec("item.categories", "set", "item",
              "Declared category and HS-derived category (both, when they disagree).", _enum(Category)),
    FieldSpec("item.hs_code", "str", "item", "HS code, digits only. Test it with hs_prefix."),
    FieldSpec("item.quantity.value", "num", "item", "Quantity."),
    FieldSpec("item.quantity.unit", "str", "item", "Unit of the quantity.", _enum(Unit)),
    FieldSpec("item.value.amount", "num", "item", "Declared value."),
    FieldSpec("item.value.currency", "str", "item", "Currency of the declared value."),
    FieldSpec("item.value.usd", "num", "item", "Declared value when it is given in USD."),
    FieldSpec("item.origin_country", "str", "item", "Origin of the goods (the transfer's origin by default)."),
    FieldSpec("item.end_use", "str", "item", "Declared end use.", _enum(EndUse)),
    FieldSpec("finding.rule", "str", "finding", "Id of the rule that made the finding."),
    FieldSpec("finding.regime", "str", "finding", "Regime of that rule."),
    FieldSpec("finding.outcome", "str", "finding", "Outcome of the finding."),
    FieldSpec("finding.tags", "set", "finding", "Tags of the rule that made the finding."),
]
FIELDS: Mapping[str, FieldSpec] = {f.path: f for f in _FIELDS}


def kind_covers(fact_kind: str, field_kind: str) -> bool:
    """Whether facts of ``fact_kind`` carry fields of ``field_kind``."""
    return field_kind == fact_kind or field_kind == "transfer"


# ----------------------------------------------------------------------------------------------------------------
# Keys: how field tests become flat fact keys
# ----------------------------------------------------------------------------------------------------------------


def member_key(path: str, value: str) -> str:
    """Key of the boolean 'value is in the set at path'."""
    return f"{path}={value}"


def has_key(path: str) -> str:
    """Key of the boolean 'path has a value'."""
    return f"has:{path}"


def prefix_key(path: str, length: int) -> str:
    """Key of the first ``length`` characters of the string at path ('' when shorter)."""
    return f"{path}[:{length}]"


def default_for(key: str) -> Scalar:
    """The value a fact carries under ``key`` when the source has none."""
    if key.startswith("has:") or "=" in key:
        return False
    if key.endswith("]"):
        return ""
    spec = FIELDS[key]
    return {"str": "", "num": 0.0, "bool": False, "date": 0}[spec.type]  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------------------
# Raw records
# ----------------------------------------------------------------------------------------------------------------

Raw = dict[str, Any]


def day(d: dt.date) -> int:
    """A date as the number facts carry."""
    return d.toordinal()


def transfer_raw(t: Transfer, deal_id: str | None = None, screening: Any = None) -> Raw:
    """The ``transfer.*`` fields of a transfer (with the screening hits for it, when screened)."""
    countries = {t.origin_country, t.destination_country, t.supplier.country, t.recipient.country}
    countries |= {p.country for p in t.intermediaries}
    countries |= {s.country for s in t.route}
    flags = {v.flag for v in (t.vessel, t.sts_vessel) if v is not None and v.flag}
    countries |= flags
    return {
        "transfer.id": t.id,
        "transfer.kind": t.kind.value,
        "transfer.purpose": t.purpose.value if t.purpose else None,
        "transfer.start": day(t.start),
        "transfer.end": day(t.end),
        "transfer.origin_country": t.origin_country,
        "transfer.destination_country": t.destination_country,
        "transfer.supplier.country": t.supplier.country,
        "transfer.supplier.kind": t.supplier.kind.value,
        "transfer.recipient.country": t.recipient.country,
        "transfer.recipient.kind": t.recipient.kind.value,
        "transfer.intermediary_countries": {p.country for p in t.intermediaries},
        "transfer.countries": countries,
        "transfer.route.ports": {s.port.strip().lower() for s in t.route},
        "transfer.route.countries": {s.country for s in t.route},
        "transfer.transport": {m.value for m in t.transport},
        "transfer.vessel.flag": t.vessel.flag if t.vessel else None,
        "transfer.vessel.imo": t.vessel.imo if t.vessel else None,
        "transfer.ship_to_ship": t.ship_to_ship,
        "transfer.sts_vessel.flag": t.sts_vessel.flag if t.sts_vessel else None,
        "transfer.vessel_flags": flags,
        "transfer.notified": bool(t.notifications),
        "transfer.committee_exemption": bool(t.exemptions),
        "transfer.in_deal": deal_id is not None,
        "transfer.deal_id": deal_id,
        "transfer.designated_regimes": screening.regimes(t.id) if screening is not None else set(),
        "transfer.designated_vessel": screening.vessel_designated(t.id) if screening is not None else False,
        "transfer.screened": screening is not None,
        **end_user_raw(t),
    }


# The recipient's kind says who the end user is only for these kinds; a company or a person may be a broker.
_END_USER_FROM_RECIPIENT = {
    PartyKind.armed_forces: EndUserKind.government_forces,
    PartyKind.state: EndUserKind.government_body,
    PartyKind.government_body: EndUserKind.government_body,
    PartyKind.international_organisation: EndUserKind.international_organisation,
    PartyKind.humanitarian_organisation: EndUserKind.humanitarian_organisation,
}


def organisation_key(name: str) -> str:
    """How a named force, mission or group is compared: case-folded, with single spaces."""
    return " ".join(name.casefold().split())


def end_user_raw(t: Transfer) -> Raw:
    """The ``transfer.end_user.*`` and region fields: the declared end user, else the one the recipient implies."""
    eu = t.end_user
    if eu is not None:
        kind, country = eu.kind.value, eu.country or t.destination_country
        org = organisation_key(eu.organisation) if eu.organisation else None
    else:
        derived = _END_USER_FROM_RECIPIENT.get(t.recipient.kind)
        kind = derived.value if derived is not None else None
        country = t.recipient.country if derived is not None else None
        org = None
    return {
        "transfer.destination_subdivision": t.destination_subdivision,
        "transfer.end_user.kind": kind,
        "transfer.end_user.country": country,
        "transfer.end_user.organisation": org,
    }


def item_categories(item: Any) -> tuple[str | None, str | None]:
    """(declared category, HS-derived category) of an item, as strings."""
    declared = item.category.value if item.category else None
    derived_cat = hs.classify(item.hs_code) if item.hs_code else None
    derived = derived_cat.value if derived_cat else None
    return declared, derived


def item_raw(t_raw: Raw, item: Any, index: int) -> Raw:
    """The ``item.*`` fields of one item, on top of its transfer's fields."""
    declared, derived = item_categories(item)
    raw = dict(t_raw)
    raw.update({
        "item.index": float(index),
        "item.category": declared or derived,
        "item.categories": {c for c in (declared, derived) if c},
        "item.hs_code": item.hs_code,
        "item.quantity.value": item.quantity.value if item.quantity else None,
        "item.quantity.unit": item.quantity.unit.value if item.quantity else None,
        "item.value.amount": item.value.amount if item.value else None,
        "item.value.currency": item.value.currency if item.value else None,
        "item.value.usd": item.value.amount if item.value and item.value.currency == "USD" else None,
        "item.origin_country": item.origin_country or t_raw["transfer.origin_country"],
        "item.end_use": item.end_use.value if item.end_use else None,
    })
    return raw


def finding_raw(t_raw: Raw, rule_id: str, regime: str, outcome: str, tags: Iterable[str]) -> Raw:
    """The ``finding.*`` fields of a first-pass finding, on top of its transfer's fields."""
    raw = dict(t_raw)
    raw.update({"finding.rule": rule_id, "finding.regime": regime, "finding.outcome": outcome,
                "finding.tags": set(tags)})
    return raw


def project(raw: Raw, kind: str, fid: int, keys: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """A total fact over exactly ``keys`` (key -> default) from a raw record."""
    fact: dict[str, Scalar] = {FID: fid, KIND: kind}
    for key, default in keys.items():
        fact[key] = _value(raw, key, default)
    return fact


class Projector:
    """:func:`project` for one fixed set of keys, with the key parsing done once.

    Gives exactly what :func:`project` gives (a test holds them equal); it only avoids re-reading every key
    on every fact.
    """

    def __init__(self, keys: Mapping[str, Scalar]) -> None:
        plain: list[tuple[str, Scalar]] = []
        has: list[tuple[str, str]] = []
        member: list[tuple[str, str, str]] = []
        prefix: list[tuple[str, str, int]] = []
        for key, default in keys.items():
            if key.startswith("has:"):
                has.append((key, key[4:]))
            elif "=" in key:
                path, _, m = key.partition("=")
                member.append((key, path, m))
            elif key.endswith("]"):
                path, _, rest = key.partition("[:")
                prefix.append((key, path, int(rest[:-1])))
            else:
                plain.append((key, default))
        self._plain, self._has, self._member, self._prefix = plain, has, member, prefix

    def __call__(self, raw: Raw, kind: str, fid: int) -> dict[str, Scalar]:
        fact: dict[str, Scalar] = {FID: fid, KIND: kind}
        get = raw.get
        for key, default in self._plain:
            value = get(key)
            fact[key] = default if value is None else value
        for key, path in self._has:
            fact[key] = get(path) is not None
        for key, path, m in self._member:
            values = get(path)
            fact[key] = bool(values) and m in values
        for key, path, n in self._prefix:
            value = get(path)
            fact[key] = value[:n] if isinstance(value, str) and len(value) >= n else ""
        return fact


def _value(raw: Raw, key: str, default: Scalar) -> Scalar:
    if key.startswith("has:"):
        return raw.get(key[4:]) is not None
    if "=" in key:
        path, _, member = key.partition("=")
        values = raw.get(path)
        return bool(values) and member in values
    if key.endswith("]"):
        path, _, rest = key.partition("[:")
        value = raw.get(path)
        return value[: int(rest[:-1])] if isinstance(value, str) and len(value) >= int(rest[:-1]) else ""
    value = raw.get(key)
    return default if value is None else value
