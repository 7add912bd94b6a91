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
from sanctions.evaluate.compiled import ANY_UNKNOWN, FID, KIND, UNKNOWN_PREFIX, Scalar
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
from sanctions.model.vocab import REFINEMENTS, UNKNOWN, Servicing, Subject

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
    FieldSpec("transfer.route.stops", "num", "transfer", "Number of ports and crossings on the route."),
    FieldSpec("transfer.contract.date", "date", "transfer", "Date the transfer's contract was finalised."),
    FieldSpec("transfer.contract.written", "bool", "transfer", "The transfer's contract is a written contract."),
    FieldSpec("transfer.first_notification", "date", "transfer",
              "Date of the earliest notification to a committee about the transfer (absent when none)."),
    FieldSpec("transfer.hs_headings", "set", "transfer",
              "HS headings (first four digits) of the transfer's items, so that a transfer-scoped rule can "
              "ask what the transfer carries."),
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
    FieldSpec("transfer.vessel_owner_listed", "bool", "transfer",
              "The carrying or ship-to-ship vessel was owned or managed by a party on the UN list on the transfer's "
              "date (from the designated-vessels table's listing column)."),
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
    FieldSpec("transfer.exemption_grantors", "set", "transfer",
              "Who granted the transfer's exemptions or approvals, lower case (e.g. 'security council', "
              "'2127 committee'), so that an approval counts only for the measure its grantor administers."),
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
    FieldSpec("item.condition", "str", "item", "New or used, when stated.", ("new", "used")),
    FieldSpec("finding.rule", "str", "finding", "Id of the rule that made the finding."),
    FieldSpec("finding.regime", "str", "finding", "Regime of that rule."),
    FieldSpec("finding.outcome", "str", "finding", "Outcome of the finding."),
    FieldSpec("finding.tags", "set", "finding", "Tags of the rule that made the finding."),
]
_FIELDS += [
    FieldSpec("item.subjects", "set", "item",
              "What a service, technology or servicing item relates to: its declared subject, and for goods sent for "
              "servicing their categories.", tuple(sorted({s.value for s in Subject} | {c.value for c in Category}))),
    FieldSpec("item.servicing", "str", "item", "The goods are sent for repair, maintenance, overhaul or servicing "
              "(absent when not).", _enum(Servicing)),
]
FIELDS: Mapping[str, FieldSpec] = {f.path: f for f in _FIELDS}
MARK_KEYS: frozenset[str] = frozenset(UNKNOWN_PREFIX + f.path for f in _FIELDS)
"""The keys under which a raw record marks a field unknown (:func:`_mark`)."""



UNCERTAIN_FIELDS: frozenset[str] = frozenset({
    "transfer.purpose", "transfer.supplier.country", "transfer.recipient.country", "transfer.intermediary_countries",
    "transfer.countries", "transfer.vessel.flag", "transfer.sts_vessel.flag", "transfer.vessel_flags",
    "transfer.notified", "transfer.first_notification", "transfer.end_user.country", "transfer.hs_headings",
    "item.end_use", "item.category", "item.categories", "item.subjects",
})
"""Fields whose value may be unknown in a fact (given as ``"unknown"``, a general category, HS alternatives):
rules testing them are compiled twice (:func:`sanctions.evaluate.compiled.must` and ``could``)."""


def field_of(key: str) -> str:
    """The field path a fact key is about (``transfer.vessel_flags=KP`` -> ``transfer.vessel_flags``)."""
    if key == ANY_UNKNOWN:
        return key
    if key.startswith(UNKNOWN_PREFIX):
        key = key[len(UNKNOWN_PREFIX):]
    if key.startswith("has:"):
        return key[4:]
    if "=" in key:
        return key.partition("=")[0]
    if key.endswith("]"):
        return key.partition("[:")[0]
    return key


def may_be_unknown(key: str) -> bool:
    """Whether a fact key may be unknown (a ``has:`` key never is: an unknown value is a value)."""
    return not key.startswith("has:") and field_of(key) in UNCERTAIN_FIELDS


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
    """The value a fact carries under ``key`` when the source has none (or does not know it)."""
    if key.startswith(("has:", UNKNOWN_PREFIX)) or "=" in key:
        return False
    if key.endswith("]"):
        return ""
    spec = FIELDS[key]
    return {"str": "", "num": 0.0, "bool": False, "date": 0}[spec.type]  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------------------
# Raw records
# ----------------------------------------------------------------------------------------------------------------

Raw = dict[str, Any]


class _Unknown:
    """The raw value of a field whose value is not known (one instance: :data:`UNKNOWN_VALUE`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN_VALUE"

    def __str__(self) -> str:
        return UNKNOWN


UNKNOWN_VALUE = _Unknown()
"""Raw value of a scalar field that has a value nobody knows. Facts carry the field's default and the
``?`` flag instead (:func:`sanctions.evaluate.compiled.unknown_key`)."""


@dataclass(frozen=True, slots=True)
class Open:
    """What is not known about a field, stored in a raw record under ``UNKNOWN_PREFIX + path``.

    Attributes:
        because: The input fields that are unknown, as the user wrote them (``sts_vessel.flag``).
        members: For a set field, the values that may be members besides those known (``None``: any value);
            unused for a scalar field, whose raw value is :data:`UNKNOWN_VALUE`.
    """

    because: tuple[str, ...]
    members: frozenset[str] | None = None

    def may_hold(self, member: str) -> bool:
        """Whether ``member`` may be in the set (it is not known to be, and not known not to be)."""
        return self.members is None or member in self.members


def has_member(values: Any, member: str) -> bool:
    """Membership in a raw set, where a general value (:data:`REFINEMENTS`) is held by any of its refinements."""
    if not values:
        return False
    if member in values:
        return True
    refined = REFINEMENTS.get(member)
    return refined is not None and any(r in values for r in refined)


def _open_refinements(values: set[str]) -> frozenset[str] | None:
    """The refinements a set leaves open: those of each general value it holds without any refinement."""
    out: set[str] = set()
    for general, refined in REFINEMENTS.items():
        if general in values and not any(r in values for r in refined):
            out |= set(refined)
    return frozenset(out) if out else None


def _mark(raw: Raw, path: str, because: Iterable[str], members: frozenset[str] | None = None) -> None:
    key = UNKNOWN_PREFIX + path
    if key not in MARK_KEYS:  # the projector finds marks by these keys: an unregistered one would be missed
        raise ValueError(f"cannot mark {path!r} unknown: it is not a field in FIELDS")
    old = raw.get(key)
    names = tuple(sorted(set(because) | set(old.because if old else ())))
    if old is not None and old.members is None:
        members = None
    elif old is not None and members is not None:
        members = old.members | members
    raw[key] = Open(names, members)


def with_unknowns(t: Transfer, raw: Raw) -> Raw:
    """Mark what the transfer leaves unknown in its raw record (``"unknown"`` values, notification status).

    Scalar fields that are unknown get :data:`UNKNOWN_VALUE`; sets drop the ``"unknown"`` they were given
    and are marked open; every unknown field gets an :class:`Open` naming the input fields behind it.
    """
    def scalar(path: str, because: str) -> None:
        if raw.get(path) == UNKNOWN:
            raw[path] = UNKNOWN_VALUE
            _mark(raw, path, [because])

    def members(path: str, because: list[str]) -> None:
        values = raw.get(path)
        if because and isinstance(values, set):
            raw[path] = {v for v in values if v != UNKNOWN}
            _mark(raw, path, because)

    scalar("transfer.purpose", "purpose")
    scalar("transfer.supplier.country", "supplier.country")
    scalar("transfer.recipient.country", "recipient.country")
    if raw.get("transfer.end_user.country") == UNKNOWN:
        scalar("transfer.end_user.country", "end_user.country" if t.end_user and t.end_user.country
               else "recipient.country")
    scalar("transfer.vessel.flag", "vessel.flag")
    scalar("transfer.sts_vessel.flag", "sts_vessel.flag")
    parties = [("supplier.country", t.supplier.country), ("recipient.country", t.recipient.country)]
    inter = [f"intermediaries[{i}].country" for i, p in enumerate(t.intermediaries) if p.country == UNKNOWN]
    flags = [f"{role}.flag" for role, v in (("vessel", t.vessel), ("sts_vessel", t.sts_vessel))
             if v is not None and v.flag == UNKNOWN]
    members("transfer.intermediary_countries", inter)
    members("transfer.vessel_flags", flags)
    members("transfer.countries", [name for name, c in parties if c == UNKNOWN] + inter + flags)
    if t.notification_status == UNKNOWN:
        raw["transfer.notified"] = UNKNOWN_VALUE
        _mark(raw, "transfer.notified", ["notified"])
        if raw.get("transfer.first_notification") is None:
            raw["transfer.first_notification"] = UNKNOWN_VALUE
            _mark(raw, "transfer.first_notification", ["notified"])
    else:
        raw["transfer.notified"] = bool(t.notification_status)
    alternatives = {code[:4] for i in t.items for alt in i.hs_alternatives for code in _alt_codes(alt)
                    if len(code) >= 4}
    if alternatives and isinstance(raw.get("transfer.hs_headings"), set):
        _mark(raw, "transfer.hs_headings", [f"items[{n}].hs_alternatives" for n, i in enumerate(t.items)
                                            if i.hs_alternatives], frozenset(alternatives))
    return raw


def _alt_codes(alt: str) -> list[str]:
    from sanctions.model.records import hs_range

    return hs_range(alt)


def item_unknowns(raw: Raw, item: Any, index: int) -> Raw:
    """Mark what an item leaves unknown in its raw record (see :func:`with_unknowns`)."""
    where = f"items[{index}]"
    if raw.get("item.end_use") == UNKNOWN:
        raw["item.end_use"] = UNKNOWN_VALUE
        _mark(raw, "item.end_use", [f"{where}.end_use"])
    cats = raw.get("item.categories") or set()
    open_cats = _open_refinements(cats)
    if open_cats is not None:
        _mark(raw, "item.categories", [f"{where}.category"], open_cats)
        if raw.get("item.category") in REFINEMENTS:
            _mark(raw, "item.category", [f"{where}.category"])
    subjects = raw.get("item.subjects")
    if isinstance(subjects, set):
        if UNKNOWN in subjects:
            raw["item.subjects"] = subjects - {UNKNOWN}
            _mark(raw, "item.subjects", [f"{where}.subject"])
        else:
            open_subjects = _open_refinements(subjects)
            if open_subjects is not None:
                _mark(raw, "item.subjects", [f"{where}.subject"], open_subjects)
    return raw


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
    raw: Raw = {
        "transfer.id": t.id,
        "transfer.kind": t.kind.value,
        "transfer.purpose": str(t.purpose) if t.purpose else None,
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
        "transfer.first_notification": day(min(n.date for n in t.notifications)) if t.notifications else None,
        "transfer.contract.date": day(t.contract.date) if t.contract else None,
        "transfer.contract.written": t.contract.written if t.contract else None,
        "transfer.route.stops": float(len(t.route)),
        "transfer.hs_headings": {i.hs_code[:4] for i in t.items if i.hs_code and len(i.hs_code) >= 4},
        "transfer.committee_exemption": bool(t.exemptions),
        "transfer.in_deal": deal_id is not None,
        "transfer.deal_id": deal_id,
        "transfer.designated_regimes": screening.regimes(t.id) if screening is not None else set(),
        "transfer.designated_vessel": screening.vessel_designated(t.id) if screening is not None else False,
        "transfer.vessel_owner_listed": screening.vessel_owner_listed(t.id) if screening is not None else False,
        "transfer.screened": screening is not None,
        **end_user_raw(t),
    }
    return with_unknowns(t, raw)


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
    """The scope fields of the other regimes: the destination's region, the end user (declared, else the one the
    recipient implies) and who granted the transfer's exemptions."""
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
        "transfer.exemption_grantors": {organisation_key(e.granted_by) for e in t.exemptions},
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
        "item.condition": item.condition,
        "item.subjects": ({str(item.subject)} if item.subject else set())
        | ({c for c in (declared, derived) if c} if item.servicing else set()),
        "item.servicing": item.servicing.value if item.servicing else None,
    })
    return item_unknowns(raw, item, index)


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
    on every fact. Two things make it fast:

    * membership keys (``item.categories=coal``) are grouped by field: an empty set makes all of them false at
      once, and a non-empty one sets true only the keys its members (or their refinements) answer;
    * with ``shared`` (a field prefix, ``"transfer."``), the keys about those fields are computed by
      :meth:`shared_values` once and passed to every fact that repeats them (the items of one transfer carry
      its ``transfer.*`` fields), instead of once per fact.
    """

    def __init__(self, keys: Mapping[str, Scalar], *, shared: str | None = None) -> None:
        own = {k: v for k, v in keys.items() if not _about(k, shared)}
        self._shared = Projector({k: v for k, v in keys.items() if _about(k, shared)}) if shared else None
        plain: list[tuple[str, Scalar]] = []
        has: list[tuple[str, str]] = []
        member: dict[str, list[tuple[str, str]]] = {}
        prefix: list[tuple[str, str, int]] = []
        unknown: list[tuple[str, str, str]] = []
        for key, default in own.items():
            if key.startswith(UNKNOWN_PREFIX):
                inner = key[len(UNKNOWN_PREFIX):]
                unknown.append((key, inner, field_of(inner)))
            elif key.startswith("has:"):
                has.append((key, key[4:]))
            elif "=" in key:
                path, _, m = key.partition("=")
                member.setdefault(path, []).append((key, m))
            elif key.endswith("]"):
                path, _, rest = key.partition("[:")
                prefix.append((key, path, int(rest[:-1])))
            else:
                plain.append((key, default))
        self._plain, self._has, self._prefix, self._unknown = plain, has, prefix, unknown
        # per set field: its keys, all of them False, and which keys each member value makes True
        self._member: list[tuple[str, tuple[tuple[str, str], ...], dict[str, bool], dict[str, tuple[str, ...]]]] = []
        for path, pairs in member.items():
            answers: dict[str, list[str]] = {}
            for key, m in pairs:
                for value in (m, *REFINEMENTS.get(m, ())):
                    answers.setdefault(value, []).append(key)
            self._member.append((path, tuple(pairs), dict.fromkeys((k for k, _ in pairs), False),
                                 {v: tuple(ks) for v, ks in answers.items()}))

    def shared_values(self, raw: Raw) -> dict[str, Scalar]:
        """The values of the keys about the ``shared`` fields (``{}`` without ``shared``)."""
        return self._shared._values(raw) if self._shared is not None else {}

    def __call__(self, raw: Raw, kind: str, fid: int, shared: Mapping[str, Scalar] | None = None
                 ) -> dict[str, Scalar]:
        """The fact; ``shared`` is :meth:`shared_values` of a raw record with the same shared fields."""
        fact: dict[str, Scalar] = {FID: fid, KIND: kind}
        if self._shared is not None:
            fact.update(shared if shared is not None else self._shared._values(raw))
        fact.update(self._values(raw))
        return fact

    def _values(self, raw: Raw) -> dict[str, Scalar]:
        fact: dict[str, Scalar] = {}
        get = raw.get
        for key, default in self._plain:
            value = get(key)
            fact[key] = default if value is None or value is UNKNOWN_VALUE else value
        for key, path in self._has:
            fact[key] = get(path) is not None
        for path, pairs, false, answers in self._member:
            values = get(path)
            fact.update(false)
            if not values:
                continue
            if type(values) is set or type(values) is frozenset:
                for v in values:
                    for key in answers.get(v, ()):
                        fact[key] = True
            else:  # not a set of strings (never built so, but the plain definition decides)
                for key, m in pairs:
                    fact[key] = has_member(values, m)
        for key, path, n in self._prefix:
            value = get(path)
            fact[key] = value[:n] if isinstance(value, str) and len(value) >= n else ""
        if self._unknown:
            # most records leave nothing unknown: then every unknown flag is False (what _is_unknown gives)
            if not MARK_KEYS.isdisjoint(raw):  # _mark writes only these keys
                for key, inner, path in self._unknown:
                    fact[key] = _is_unknown(raw, inner, path)
            else:
                for key, _inner, _path in self._unknown:
                    fact[key] = False
        return fact


def _about(key: str, prefix: str | None) -> bool:
    """Whether a fact key is about a field under ``prefix`` (never :data:`ANY_UNKNOWN`: it is about them all)."""
    return prefix is not None and key != ANY_UNKNOWN and field_of(key).startswith(prefix)


def _is_unknown(raw: Raw, key: str, path: str) -> bool:
    """Whether the fact key ``key`` (about field ``path``) is unknown in a raw record."""
    if key == "*":
        return not MARK_KEYS.isdisjoint(raw)  # _mark writes only these keys (the projector's test too)
    mark = raw.get(UNKNOWN_PREFIX + path)
    if mark is None or key.startswith("has:"):
        return False
    if "=" in key:
        member = key.partition("=")[2]
        return not has_member(raw.get(path), member) and mark.may_hold(member)
    return True


def _value(raw: Raw, key: str, default: Scalar) -> Scalar:
    if key.startswith(UNKNOWN_PREFIX):
        inner = key[len(UNKNOWN_PREFIX):]
        return _is_unknown(raw, inner, field_of(inner))
    if key.startswith("has:"):
        return raw.get(key[4:]) is not None
    if "=" in key:
        path, _, member = key.partition("=")
        return has_member(raw.get(path), member)
    if key.endswith("]"):
        path, _, rest = key.partition("[:")
        value = raw.get(path)
        return value[: int(rest[:-1])] if isinstance(value, str) and len(value) >= int(rest[:-1]) else ""
    value = raw.get(key)
    return default if value is None or value is UNKNOWN_VALUE else value
