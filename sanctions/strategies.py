"""Hypothesis strategies for transfers, deals and the rules that judge them.

Install with ``pip install 'sanctions[testing]'``. Every strategy here is public API: plural names,
keyword-only arguments, and arguments checked when the strategy function is *called* (a bad argument raises
:class:`hypothesis.errors.InvalidArgument` naming the argument and the value, before any example is drawn).
Every value drawn is a valid, frozen model: ISO country codes, IMO numbers with correct check digits, HS codes
that exist in the Harmonized System.

Two strategies are built from the rulebook itself: :func:`violating` draws transfers that must fire a rule and
:func:`clearing` the nearest transfers that must not; both start from the rule file's ``examples`` and vary
only what the rule does not test.

Example::

    from hypothesis import given
    from sanctions import Engine
    from sanctions.strategies import transfers, violating

    engine = Engine()

    @given(violating("dprk.arms.supply.heavy"))
    def test_my_screening_blocks_tanks(transfer):
        assert my_screening(transfer).blocked

The library registers :class:`~sanctions.model.Transfer`, :class:`~sanctions.model.Deal`,
:class:`~sanctions.model.Item`, :class:`~sanctions.model.Party` and :class:`~sanctions.model.Vessel` with
hypothesis through its entry point, so ``st.from_type(Transfer)`` works too.
"""

from __future__ import annotations

# Defined before hypothesis is imported: importing hypothesis runs its entry points, ours among them, which
# calls register_types() on this half-imported module. It returns early then, and the module registers the
# types itself when it has finished loading (the last lines).
_ready = False


def register_types() -> None:
    """Register the models with hypothesis, so ``st.from_type(Transfer)`` (and ``@given(t=...)`` inference) works.

    Called by the library's hypothesis entry point; calling it again is harmless.

    Example::

        >>> from hypothesis import strategies as st
        >>> from sanctions.model import Transfer
        >>> from sanctions.strategies import register_types
        >>> register_types()
        >>> st.from_type(Transfer).example().id  # doctest: +SKIP
        'T-4123'
    """
    if not _ready:  # the entry point ran while this module was importing hypothesis; see the end of the module
        return
    st.register_type_strategy(Party, parties())
    st.register_type_strategy(Vessel, vessels())
    st.register_type_strategy(Item, items())
    st.register_type_strategy(Transfer, transfers())
    st.register_type_strategy(Deal, deals())


import datetime as dt
import json
import difflib
from collections.abc import Collection, Iterable, Mapping
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from sanctions.evaluate import compiled as C
from sanctions.model import hs
from sanctions.rulebook.examples import BASE, merge
from sanctions.model.records import (
    _COUNTRY_CODES,
    Category,
    Deal,
    EndUse,
    EndUserKind,
    Item,
    Party,
    PartyKind,
    Purpose,
    Transfer,
    TransferKind,
    Unit,
    Vessel,
    parse_transfer,
    units_for,
)

__all__ = [
    "clearing",
    "deals",
    "items",
    "parties",
    "register_types",
    "transfers",
    "unknown_variants",
    "vessels",
    "violating",
]

MIN_DATE = dt.date(2000, 1, 1)
"""Earliest date drawn when ``min_date`` is not given."""
MAX_DATE = dt.date(2030, 12, 31)
"""Latest date drawn when ``max_date`` is not given."""

#: Countries drawn most often: the DPRK, its neighbours and trading partners, and flag states of convenience.
COMMON_COUNTRIES = ("KP", "RU", "CN", "IR", "SY", "KR", "JP", "US", "GB", "FR", "DE", "IN", "BR", "VN", "TH",
                    "SG", "AE", "TR", "BY", "MN", "PA", "SL", "TG", "MY", "ID", "HK", "TW", "UA", "EG", "NG")
_ALL_COUNTRIES = tuple(sorted(_COUNTRY_CODES))

# Real HS subheadings (HS 2017/2022), one or more per chapter we care about. Codes a rule tests are here
# (2701 coal, 2709 crude, 2710 refined, 93 arms, 84/85/87 industrial) next to harmless trade.
_HS_CODES = (
    "020130", "030389", "040221", "071310", "080810", "090111", "100630", "110100", "120190", "150420",
    "160414", "170199", "180690", "190531", "200990", "210690", "230120", "251990", "252329", "260111",
    "260300", "260400", "260700", "260800", "261210", "261400", "261590", "261610", "261690", "270111",
    "270112", "270400", "270900", "271012", "271019", "271111", "271112", "271113", "271121", "280530",
    "284410", "284610", "300490", "392690", "401110", "440710", "480256", "490199", "520100", "570110",
    "610910", "620342", "630790", "640399", "691110", "701322", "710231", "710691", "710812", "711319",
    "720839", "730890", "740311", "750210", "760110", "780110", "790111", "800110", "810890", "820730",
    "830140", "840120", "840721", "840991", "841191", "845811", "847130", "850440", "851712", "860110",
    "870310", "870322", "870422", "871000", "880230", "880730", "890110", "890310", "890610", "900640",
    "910111", "910211", "930190", "930200", "930320", "930510", "930621", "930690", "940360", "950691",
    "970300",
)

_DESCRIPTIONS: Mapping[str, tuple[str, ...]] = {
    Category.battle_tanks: ("T-72 tank spare parts", "Main battle tanks", "Tank track links"),
    Category.armoured_combat_vehicles: ("Armoured personnel carriers", "Infantry fighting vehicle hulls"),
    Category.large_calibre_artillery: ("122 mm howitzers", "Multiple rocket launchers"),
    Category.combat_aircraft: ("MiG-29 fighter spare parts", "Combat aircraft avionics"),
    Category.attack_helicopters: ("Attack helicopter rotor blades",),
    Category.warships: ("Patrol boat", "Corvette hull sections"),
    Category.missiles: ("Anti-ship missiles", "Surface-to-air missiles"),
    Category.small_arms: ("Assault rifles", "Pistols", "Light machine guns"),
    Category.ammunition: ("152 mm artillery shells", "7.62 mm cartridges", "Mortar bombs"),
    Category.nuclear_items: ("Uranium ore concentrate", "Centrifuge rotors"),
    Category.ballistic_missile_items: ("Missile guidance sets", "Solid rocket motor casings"),
    Category.space_launch_items: ("Satellite launch vehicle guidance technology",),
    Category.chemical_biological_items: ("Fermenters", "Nerve agent precursors"),
    Category.refined_petroleum: ("Diesel", "Gasoline", "Fuel oil"),
    Category.crude_oil: ("Crude oil", "Crude oil by pipeline"),
    Category.aviation_fuel: ("Jet fuel", "Kerosene-type jet fuel"),
    Category.coal: ("Anthracite", "Thermal coal", "Coking coal"),
    Category.iron: ("Iron ore", "Hot-rolled steel coils"),
    Category.textiles: ("Cotton T-shirts", "Men's trousers", "Woven fabric"),
    Category.seafood: ("Frozen pollock", "Canned tuna", "Fish meal"),
    Category.food: ("Rice", "Wheat flour", "Milk powder", "Biscuits"),
    Category.medicine: ("Antibiotics", "Insulin", "Vaccines"),
    Category.machinery: ("Lathes", "Water pumps", "Laptops"),
    Category.electrical_equipment: ("Mobile phones", "Transformers"),
    Category.vehicles: ("Trucks", "Passenger cars", "Locomotives"),
    Category.luxury_goods: ("Wrist watches", "Diamonds", "Lead crystal glasses", "Yachts"),
}
_GENERIC_DESCRIPTIONS = ("Spare parts", "Mixed cargo", "Equipment", "Samples", "Consumables", "Books",
                         "Furniture", "Tyres", "Plastic parts", "Paper")

_COMPANY_WORDS = ("Korea", "Pyongyang", "Amur", "Baikal", "Dalian", "Liaoning", "Ocean", "Golden", "Star",
                  "United", "Eastern", "Pacific", "Northern", "Silk Road", "Harbour", "Mountain", "Unity")
_COMPANY_TRADES = ("Trading", "Shipping", "Energy", "Machinery", "Mining", "Logistics", "Import Export",
                   "Industrial", "General", "Petroleum", "Textile", "Fisheries")
_COMPANY_FORMS = ("Co", "Co Ltd", "LLC", "JSC", "Corporation", "Ltd", "GmbH", "Pte Ltd", "FZE")
_PERSON_NAMES = ("Kim Chol", "Ri Song Hyok", "Pak Yong Il", "Ivan Petrov", "Li Wei", "Chen Jing", "Ali Reza",
                 "Maria Santos", "John Smith", "Nguyen Van An")
_VESSEL_NAMES = ("Wan Heng 11", "Chon Ma San", "Yuk Tung", "Sea Glory", "New Konk", "Ever Star", "Amber",
                 "Nam San 8", "Koti", "Ocean Pride", "Jin Hye", "Sky Dragon")
_PORTS = {"KP": ("Rajin", "Nampo", "Chongjin", "Hungnam"), "RU": ("Vladivostok", "Nakhodka", "Vostochny"),
          "CN": ("Dalian", "Dandong", "Longkou", "Qingdao"), "KR": ("Busan",), "JP": ("Niigata",),
          "SG": ("Singapore",), "AE": ("Jebel Ali",), "TW": ("Kaohsiung",)}


# ----------------------------------------------------------------------------------------------------------------
# Argument checking
# ----------------------------------------------------------------------------------------------------------------


def _hint(value: str, options: Iterable[str]) -> str:
    options = tuple(options)
    if value.upper() in options and value != value.upper():
        return f"; did you mean {value.upper()!r}?"
    close = difflib.get_close_matches(value, sorted(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_members(name: str, values: Collection[Any] | None, options: Iterable[str], what: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name}={values!r} must be a list of {what}, not a single value")
    options = tuple(options)
    out = []
    for v in values:
        text = v.value if hasattr(v, "value") else v
        if not isinstance(text, str) or text not in options:
            raise InvalidArgument(f"{name}: {v!r} is not a known {what}"
                                  + (_hint(text, options) if isinstance(text, str) else ""))
        out.append(text)
    if not out:
        raise InvalidArgument(f"{name}={values!r} is empty: give at least one {what}, or None for any")
    return tuple(dict.fromkeys(out))


def _countries(name: str, values: Collection[str] | None) -> tuple[str, ...] | None:
    out = _check_members(name, values, _ALL_COUNTRIES, "ISO 3166-1 alpha-2 country code")
    return out


def _check_bool(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True, False or None")


def _check_size(min_name: str, min_value: Any, max_name: str, max_value: Any, *, limit: int = 1000) -> None:
    for n, v in ((min_name, min_value), (max_name, max_value)):
        if v is None and n == max_name:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidArgument(f"{n}={v!r} must be a non-negative integer")
        if v > limit:
            raise InvalidArgument(f"{n}={v!r} is larger than {limit}")
    if max_value is not None and min_value > max_value:
        raise InvalidArgument(f"{min_name}={min_value!r} is greater than {max_name}={max_value!r}")


def _check_dates(min_date: Any, max_date: Any) -> tuple[dt.date, dt.date]:
    for n, v in (("min_date", min_date), ("max_date", max_date)):
        if v is not None and (not isinstance(v, dt.date) or isinstance(v, dt.datetime)):
            raise InvalidArgument(f"{n}={v!r} must be a datetime.date")
    lo = min_date if min_date is not None else min(MIN_DATE, max_date or MIN_DATE)
    hi = max_date if max_date is not None else max(MAX_DATE, lo)
    if lo > hi:
        raise InvalidArgument(f"min_date={lo.isoformat()} is after max_date={hi.isoformat()}")
    return lo, hi


def _valid_chapters() -> tuple[str, ...]:
    return tuple(f"{n:02d}" for n in range(1, 98) if n != 77)


def _check_chapters(values: Collection[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str | int):
        raise InvalidArgument(f"hs_chapters={values!r} must be a list of two-digit chapters, e.g. ['27', '93']")
    out = []
    for v in values:
        text = f"{v:02d}" if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(text, str) or text not in _valid_chapters():
            raise InvalidArgument(f"hs_chapters: {v!r} is not an HS chapter (two digits, 01 to 97, no 77)")
        out.append(text)
    if not out:
        raise InvalidArgument("hs_chapters=[] is empty: give at least one chapter, or None for any")
    return tuple(dict.fromkeys(out))


# ----------------------------------------------------------------------------------------------------------------
# HS codes
# ----------------------------------------------------------------------------------------------------------------


@cache
def _hs_pool() -> tuple[tuple[str, str | None], ...]:
    """(code, derived category or None) for every code we draw: our subheadings plus the table's prefixes."""
    from sanctions.model import hs

    codes = set(_HS_CODES)
    try:
        codes |= {r.prefix for r in hs.rows() if len(r.prefix) >= 4}
    except Exception:  # pragma: no cover - a broken table is the table's tests' business
        pass
    out = []
    for code in sorted(codes):
        cat = hs.classify(code)
        out.append((code, cat.value if cat is not None else None))
    return tuple(out)


def _hs_codes(chapters: tuple[str, ...] | None, category: str | None) -> list[str]:
    pool = _hs_pool()
    return [c for c, cat in pool
            if (chapters is None or c[:2] in chapters) and (category is None or cat == category)]


# ----------------------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------------------


def _country_strategy(allowed: tuple[str, ...] | None) -> st.SearchStrategy[str]:
    if allowed is not None:
        return st.sampled_from(allowed)
    # about one in five each DPRK, Russia and China; the rest common partners or anyone at all
    return st.one_of(st.just("KP"), st.just("RU"), st.just("CN"), st.sampled_from(COMMON_COUNTRIES),
                     st.sampled_from(_ALL_COUNTRIES))


def _names(kind: str | None = None) -> st.SearchStrategy[str]:
    company = st.builds(lambda a, b, c: f"{a} {b} {c}", st.sampled_from(_COMPANY_WORDS),
                        st.sampled_from(_COMPANY_TRADES), st.sampled_from(_COMPANY_FORMS))
    if kind == "person":
        return st.sampled_from(_PERSON_NAMES)
    return st.one_of(company, company.map(lambda s: s.upper()), st.sampled_from(_PERSON_NAMES))


def _identifiers() -> st.SearchStrategy[str]:
    return st.builds(lambda p, n: f"{p}-{n}", st.sampled_from(("T", "TR", "SHIP", "INV", "BL", "tx")),
                     st.integers(0, 10**9))


def _imo_numbers() -> st.SearchStrategy[str]:
    def with_check(six: int) -> str:
        digits = f"{six:06d}"
        total = sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True))
        return digits + str(total % 10)

    return st.integers(100000, 999999).map(with_check)


def _dates(lo: dt.date, hi: dt.date) -> st.SearchStrategy[Any]:
    single = st.dates(lo, hi)
    ranged = st.tuples(st.dates(lo, hi), st.integers(0, 365)).map(
        lambda p: {"start": p[0], "end": min(hi, p[0] + dt.timedelta(days=p[1]))})
    return st.one_of(single, single, ranged)


# ----------------------------------------------------------------------------------------------------------------
# Public strategies
# ----------------------------------------------------------------------------------------------------------------


def parties(*, countries: Collection[str] | None = None,
            kinds: Collection[PartyKind | str] | None = None) -> st.SearchStrategy[Party]:
    """Parties (suppliers, recipients, intermediaries) with realistic names.

    Args:
        countries: ISO 3166-1 alpha-2 codes to draw from; by default a realistic mix where the DPRK,
            Russia and China each come up about one time in five and any country can appear.
        kinds: :class:`~sanctions.model.PartyKind` values to draw from; by default any.

    Raises:
        hypothesis.errors.InvalidArgument: on an unknown country code or party kind, or an empty list.

    Example::

        >>> from sanctions.strategies import parties
        >>> parties(countries=["KP"], kinds=["company"]).example().country  # doctest: +SKIP
        'KP'
    """
    allowed = _countries("countries", countries)
    kind_values = _check_members("kinds", kinds, [k.value for k in PartyKind], "party kind")
    kind_st = st.sampled_from(kind_values) if kind_values else st.one_of(
        st.just("company"), st.sampled_from([k.value for k in PartyKind]))

    @st.composite
    def build(draw: st.DrawFn) -> Party:
        kind = draw(kind_st)
        data: dict[str, Any] = {"name": draw(_names(kind)), "country": draw(_country_strategy(allowed)),
                                "kind": kind}
        if draw(st.integers(0, 4)) == 0:
            data["identifiers"] = {"registration": str(draw(st.integers(10**5, 10**9)))}
        if draw(st.integers(0, 5)) == 0:
            data["aliases"] = [draw(_names())]
        return Party.model_validate(data)

    return build()


def vessels(*, flags: Collection[str] | None = None, with_imo: bool | None = None) -> st.SearchStrategy[Vessel]:
    """Vessels with valid IMO numbers (the check digit is computed, never guessed).

    Args:
        flags: Flag states to draw from; by default a realistic mix. A vessel may have no flag given unless
            ``flags`` is set.
        with_imo: ``True`` always gives an IMO number, ``False`` never, ``None`` (default) mostly.

    Raises:
        hypothesis.errors.InvalidArgument: on an unknown flag or a non-boolean ``with_imo``.

    Example::

        >>> from sanctions.strategies import vessels
        >>> vessels(flags=["PA"], with_imo=True).example().imo  # doctest: +SKIP
        '9354521'
    """
    allowed = _countries("flags", flags)
    _check_bool("with_imo", with_imo)

    @st.composite
    def build(draw: st.DrawFn) -> Vessel:
        data: dict[str, Any] = {"name": draw(st.sampled_from(_VESSEL_NAMES))}
        if with_imo or (with_imo is None and draw(st.integers(0, 4)) > 0):
            data["imo"] = draw(_imo_numbers())
        if allowed is not None or draw(st.booleans()):
            data["flag"] = draw(_country_strategy(allowed))
        return Vessel.model_validate(data)

    return build()


def items(*, categories: Collection[Category | str] | None = None, hs_chapters: Collection[str] | None = None,
          end_uses: Collection[EndUse | str] | None = None, origin_countries: Collection[str] | None = None,
          with_quantity: bool | None = None) -> st.SearchStrategy[Item]:
    """Items: one line of goods with a description, an HS code that exists and/or a declared category.

    When an item has both an HS code and a declared category they agree (the HS code's derived category is
    the declared one), so that drawn items are realistic declarations.

    Args:
        categories: :class:`~sanctions.model.Category` values; every item then declares one of them.
        hs_chapters: Two-digit HS chapters (``"27"``, ``"93"``); every item then has an HS code in one of them.
        end_uses: :class:`~sanctions.model.EndUse` values; every item then declares one of them.
        origin_countries: Countries of origin; every item then names one. By default mostly none.
        with_quantity: ``True`` always gives a quantity, ``False`` never, ``None`` (default) mostly.

    Raises:
        hypothesis.errors.InvalidArgument: on an unknown category, chapter, end use or country, or when
            ``categories`` and ``hs_chapters`` together leave nothing to draw.

    Example::

        >>> from sanctions.strategies import items
        >>> items(categories=["coal"], with_quantity=True).example().category  # doctest: +SKIP
        <Category.coal: 'coal'>
    """
    cats = _check_members("categories", categories, [c.value for c in Category], "category")
    chapters = _check_chapters(hs_chapters)
    uses = _check_members("end_uses", end_uses, [e.value for e in EndUse], "end use")
    origins = _countries("origin_countries", origin_countries)
    _check_bool("with_quantity", with_quantity)
    if cats is not None and chapters is not None and not any(_hs_codes(chapters, c) for c in cats):
        raise InvalidArgument(f"categories={list(cats)!r} and hs_chapters={list(chapters)!r} leave no HS code "
                              "to draw: no code in those chapters falls in those categories")

    @st.composite
    def build(draw: st.DrawFn) -> Item:
        data: dict[str, Any] = {}
        cat: str | None = None
        code: str | None = None
        if cats is not None:
            choices = [c for c in cats if chapters is None or _hs_codes(chapters, c)]
            cat = draw(st.sampled_from(choices))
            codes = _hs_codes(chapters, cat)
            if codes and (chapters is not None or draw(st.booleans())):
                code = draw(st.sampled_from(codes))
        else:
            codes = _hs_codes(chapters, None)
            if chapters is not None or draw(st.integers(0, 3)) > 0:
                code = draw(st.sampled_from(codes)) if codes else draw(st.sampled_from(chapters))
                if draw(st.booleans()):
                    cat = dict(_hs_pool()).get(code)
            else:
                cat = draw(st.sampled_from([c.value for c in Category]))
        if code is not None:
            data["hs_code"] = draw(st.sampled_from((code, f"{code[:4]}.{code[4:]}"))) if len(code) == 6 else code
        if cat is not None:
            data["category"] = cat
        derived = cat or (dict(_hs_pool()).get(code) if code else None)
        data["description"] = draw(st.sampled_from(_DESCRIPTIONS.get(derived, _GENERIC_DESCRIPTIONS)))
        if with_quantity or (with_quantity is None and draw(st.integers(0, 3)) > 0):
            # a unit that fits the category the model checks (declared, else derived from the HS code)
            checked = cat or (hs.classify(code).value if code and hs.classify(code) else None)
            fitting = units_for(checked) if checked else None
            data["quantity"] = {"value": draw(st.one_of(st.integers(0, 10**6), st.floats(0, 1e7, allow_nan=False))),
                                "unit": draw(st.sampled_from(sorted(fitting or {u.value for u in Unit})))}
        if draw(st.booleans()):
            data["value"] = {"amount": draw(st.integers(0, 10**8)),
                             "currency": draw(st.sampled_from(("USD", "USD", "EUR", "CNY", "RUB")))}
        if origins is not None or draw(st.integers(0, 4)) == 0:
            data["origin_country"] = draw(_country_strategy(origins))
        if uses is not None or draw(st.integers(0, 3)) == 0:
            data["end_use"] = draw(st.sampled_from(uses or [e.value for e in EndUse]))
        if draw(st.integers(0, 5)) == 0:
            data["end_user"] = draw(_names())
        return Item.model_validate(data)

    return build()


def transfers(*, countries: Collection[str] | None = None, supplier_countries: Collection[str] | None = None,
              recipient_countries: Collection[str] | None = None, party_kinds: Collection[PartyKind | str] | None = None,
              kinds: Collection[TransferKind | str] | None = None, purposes: Collection[Purpose | str] | None = None,
              categories: Collection[Category | str] | None = None, hs_chapters: Collection[str] | None = None,
              min_date: dt.date | None = None, max_date: dt.date | None = None, min_items: int = 0,
              max_items: int | None = 4, with_vessel: bool | None = None, with_notifications: bool | None = None,
              with_exemptions: bool | None = None) -> st.SearchStrategy[Transfer]:
    """Transfers: a supplier, a recipient, dates, items and sometimes a route, vessel, notifications, exemptions.

    Origin and destination follow the supplier's and recipient's countries most of the time, so that many
    drawn transfers really do go to or come from the DPRK.

    Args:
        countries: Countries for both parties (and origin and destination); default a realistic mix.
        supplier_countries: Countries for the supplier (and the origin); overrides ``countries`` for it.
        recipient_countries: Countries for the recipient (and the destination); overrides ``countries``.
        party_kinds: :class:`~sanctions.model.PartyKind` values for supplier and recipient.
        kinds: :class:`~sanctions.model.TransferKind` values; default mostly ``goods``.
        purposes: :class:`~sanctions.model.Purpose` values; every transfer then declares one.
        categories: Item categories (see :func:`items`).
        hs_chapters: Item HS chapters (see :func:`items`).
        min_date: Earliest first day (default 2000-01-01).
        max_date: Latest last day (default 2030-12-31).
        min_items: Fewest items (default 0).
        max_items: Most items (default 4).
        with_vessel: ``True`` always carries by sea, ``False`` never, ``None`` (default) sometimes.
        with_notifications: ``True`` always, ``False`` never, ``None`` sometimes notified to a committee.
        with_exemptions: ``True`` always, ``False`` never, ``None`` sometimes with a committee exemption.

    Raises:
        hypothesis.errors.InvalidArgument: naming the argument and value, e.g. an unknown country code,
            ``min_items`` greater than ``max_items``, ``min_date`` after ``max_date``.

    Example::

        >>> import datetime as dt
        >>> from sanctions.strategies import transfers
        >>> transfers(recipient_countries=["KP"], categories=["refined_petroleum"], min_items=1,
        ...           min_date=dt.date(2018, 1, 1)).example().destination_country  # doctest: +SKIP
        'KP'
    """
    both = _countries("countries", countries)
    sup = _countries("supplier_countries", supplier_countries) or both
    rec = _countries("recipient_countries", recipient_countries) or both
    pkinds = _check_members("party_kinds", party_kinds, [k.value for k in PartyKind], "party kind")
    tkinds = _check_members("kinds", kinds, [k.value for k in TransferKind], "transfer kind")
    purp = _check_members("purposes", purposes, [p.value for p in Purpose], "purpose")
    lo, hi = _check_dates(min_date, max_date)
    _check_size("min_items", min_items, "max_items", max_items)
    for n, v in (("with_vessel", with_vessel), ("with_notifications", with_notifications),
                 ("with_exemptions", with_exemptions)):
        _check_bool(n, v)
    item_st = items(categories=categories, hs_chapters=hs_chapters)
    sup_st = parties(countries=sup, kinds=pkinds)
    rec_st = parties(countries=rec, kinds=pkinds)
    kind_st = st.sampled_from(tkinds) if tkinds else st.one_of(
        st.just("goods"), st.just("goods"), st.sampled_from([k.value for k in TransferKind]))

    @st.composite
    def build(draw: st.DrawFn) -> Transfer:
        supplier = draw(sup_st)
        recipient = draw(rec_st)
        data: dict[str, Any] = {
            "id": draw(_identifiers()),
            "date": draw(_dates(lo, hi)),
            "kind": draw(kind_st),
            "supplier": supplier.model_dump(mode="json"),
            "recipient": recipient.model_dump(mode="json"),
            "origin_country": supplier.country if draw(st.integers(0, 4)) else draw(_country_strategy(sup)),
            "destination_country": recipient.country if draw(st.integers(0, 4)) else draw(_country_strategy(rec)),
            "items": [i.model_dump(mode="json", exclude_defaults=True)
                      for i in draw(st.lists(item_st, min_size=min_items, max_size=max_items))],
        }
        if purp is not None or draw(st.booleans()):
            data["purpose"] = draw(st.sampled_from(purp or [p.value for p in Purpose]))
        if draw(st.integers(0, 4)) == 0:
            data["intermediaries"] = [p.model_dump(mode="json") for p in draw(st.lists(parties(), max_size=2))]
        by_sea = with_vessel if with_vessel is not None else draw(st.booleans())
        if by_sea:
            data["vessel"] = draw(vessels()).model_dump(mode="json", exclude_none=True)
            stops = []
            for c in (data["origin_country"], data["destination_country"]):
                if c in _PORTS and draw(st.booleans()):
                    stops.append({"port": draw(st.sampled_from(_PORTS[c])), "country": c,
                                  "role": "loading" if not stops else "discharge"})
            if draw(st.integers(0, 3)) == 0:
                stops.insert(min(1, len(stops)), {"port": "Rajin", "country": "KP", "role": "transshipment"})
            data["route"] = stops
            if draw(st.integers(0, 4)) == 0:
                data["ship_to_ship"] = True
                data["sts_vessel"] = draw(vessels()).model_dump(mode="json", exclude_none=True)
        start = data["date"]["start"] if isinstance(data["date"], dict) else data["date"]
        if with_notifications or (with_notifications is None and draw(st.integers(0, 3)) == 0):
            data["notifications"] = [{"date": dt.date.fromordinal(max(1, start.toordinal() - draw(st.integers(0, 60)))),
                                      "reference": f"N-{draw(st.integers(1, 9999))}"}]
        if with_exemptions or (with_exemptions is None and draw(st.integers(0, 5)) == 0):
            data["exemptions"] = [{"reference": f"1718/EXEMPT/{start.year}/{draw(st.integers(1, 999)):03d}",
                                   "purpose": draw(st.sampled_from(("humanitarian", "livelihood")))}]
        # the scope facts of the regimes whose embargoes turn on a region or on the end user
        if draw(st.integers(0, 3)) == 0:
            regions = _subdivisions(data["destination_country"])
            if regions:
                data["destination_subdivision"] = draw(st.sampled_from(regions))
        if draw(st.integers(0, 3)) == 0:
            end_user: dict[str, Any] = {"kind": draw(st.sampled_from([k.value for k in EndUserKind]))}
            if draw(st.booleans()):
                end_user["organisation"] = draw(st.sampled_from(_ORGANISATIONS))
            data["end_user"] = end_user
        if draw(st.integers(0, 5)) == 0:
            data["notes"] = draw(st.sampled_from(("urgent", "per contract 12/A", "second shipment")))
        return Transfer.model_validate(data)

    return build()


_ORGANISATIONS = ("UNIFIL", "MONUSCO", "UNMISS", "MINUSCA", "MSS", "Houthis", "Ansar Allah", "Al-Shabaab",
                  "Rapid Support Forces", "M23", "Viv Ansanm")
"""Named forces, missions and groups the rules of the other regimes test (drawn for ``end_user.organisation``)."""


@cache
def _subdivisions(country: str) -> tuple[str, ...]:
    import pycountry

    subs = pycountry.subdivisions.get(country_code=country) if country in _COUNTRY_CODES else None
    return tuple(sorted(s.code for s in subs or ()))


def deals(*, legs: st.SearchStrategy[Transfer] | None = None, min_legs: int = 1, max_legs: int = 3,
          with_links: bool | None = None) -> st.SearchStrategy[Deal]:
    """Deals: several transfers linked as one exchange, often with a leg flowing back (arms for oil).

    Leg ids are made unique within the deal. About half the deals have a counter-leg that goes from the
    first leg's recipient back to its supplier, the shape the deal rules look for.

    Args:
        legs: Strategy for the legs; default :func:`transfers`.
        min_legs: Fewest legs (at least 1).
        max_legs: Most legs.
        with_links: ``True`` always declares which leg pays for which, ``False`` never, ``None`` sometimes.

    Raises:
        hypothesis.errors.InvalidArgument: when ``legs`` is not a strategy, ``min_legs`` is below 1 or greater
            than ``max_legs``.

    Example::

        >>> from sanctions.strategies import deals, transfers
        >>> d = deals(legs=transfers(countries=["KP", "RU"]), min_legs=2).example()  # doctest: +SKIP
        >>> len(d.transfers) >= 2  # doctest: +SKIP
        True
    """
    if legs is not None and not isinstance(legs, st.SearchStrategy):
        raise InvalidArgument(f"legs={legs!r} must be a hypothesis strategy of Transfer")
    _check_size("min_legs", min_legs, "max_legs", max_legs)
    if min_legs < 1:
        raise InvalidArgument(f"min_legs={min_legs!r} must be at least 1: a deal has a transfer")
    _check_bool("with_links", with_links)
    leg_st = legs if legs is not None else transfers()

    @st.composite
    def build(draw: st.DrawFn) -> Deal:
        deal_id = draw(_identifiers()).replace("-", "-D", 1)
        n = draw(st.integers(min_legs, max_legs))
        out: list[Transfer] = []
        for i in range(n):
            t = draw(leg_st)
            if i == 1 and draw(st.booleans()):
                first = out[0]
                t = t.model_copy(update={"supplier": first.recipient, "recipient": first.supplier,
                                         "origin_country": first.destination_country,
                                         "destination_country": first.origin_country,
                                         "destination_subdivision": None})
            out.append(t.model_copy(update={"id": f"{deal_id}.leg{i}"}))
        data: dict[str, Any] = {"id": deal_id, "transfers": [t.model_dump(mode="json") for t in out]}
        if draw(st.booleans()):
            data["title"] = draw(st.sampled_from(("Arms for oil", "Barter", "Coal for machinery", "Exchange")))
        if len(out) > 1 and (with_links or (with_links is None and draw(st.booleans()))):
            data["links"] = [{"transfer": out[1].id, "consideration_for": out[0].id}]
        return Deal.model_validate(data)

    return build()


# ----------------------------------------------------------------------------------------------------------------
# From the rulebook: violating / clearing
# ----------------------------------------------------------------------------------------------------------------


@cache
def _builtin_rulebook() -> Any:
    from sanctions.rulebook import load_rulebook

    return load_rulebook()


def _rule(rule_id: Any, rulebook: Any, kind: str) -> Any:
    from sanctions.rulebook import Rulebook

    if rulebook is not None and not isinstance(rulebook, Rulebook):
        raise InvalidArgument(f"rulebook={rulebook!r} must be a sanctions.rulebook.Rulebook (from load_rulebook)")
    rb = rulebook if rulebook is not None else _builtin_rulebook()
    if not isinstance(rule_id, str) or rule_id not in rb.rules:
        with_examples = [r for r in rb.rules if rb.rules[r].spec.examples.get(kind)]
        hint = _hint(rule_id, rb.rules) if isinstance(rule_id, str) else ""
        raise InvalidArgument(f"rule_id={rule_id!r} is not a rule of the rulebook{hint} "
                              f"(rules with examples: {', '.join(with_examples)})")
    rule = rb.rules[rule_id]
    if not rule.spec.examples.get(kind):
        raise InvalidArgument(f"rule_id={rule_id!r} has no {kind!r} examples in {rule.file}: nothing to build from")
    return rb, rule


def _tested_keys(rb: Any, rule: Any) -> set[str]:
    keys = set(C.keys_of(rb.compiled_pattern(rule.pattern_id).cond))
    for ex in rule.exemptions:
        keys |= set(C.keys_of(rb.compiled_pattern(ex.pattern_id).cond))
    return keys


def _date_constants(cond: Any) -> set[int]:
    out: set[int] = set()
    if isinstance(cond, C.Test):
        if cond.key in ("transfer.start", "transfer.end") and isinstance(cond.value, int | float):
            out.add(int(cond.value))
    else:
        for p in getattr(cond, "parts", ()):
            out |= _date_constants(p)
    return out


def _same_side_window(rb: Any, rule: Any, day: dt.date) -> tuple[dt.date, dt.date]:
    """The widest period around ``day`` in which no date the rule depends on falls: its in-force period, its
    exemptions' in-force periods and any date its conditions compare with."""
    edges: set[int] = set()
    for inf in [rule.spec.in_force] + [ex.spec.in_force for ex in rule.exemptions]:
        edges.add(inf.from_.toordinal())
        if inf.until is not None:
            edges.add(inf.until.toordinal() + 1)
    conds = [rb.compiled_pattern(rule.pattern_id).cond] + [rb.compiled_pattern(e.pattern_id).cond
                                                            for e in rule.exemptions]
    for c in conds:
        for v in _date_constants(c):
            edges |= {v, v + 1}
    d = day.toordinal()
    lo = max([e for e in edges if e <= d], default=dt.date(1990, 1, 1).toordinal())
    hi = min([e - 1 for e in edges if e > d], default=dt.date(2035, 12, 31).toordinal())
    lo = max(lo, dt.date(1946, 1, 1).toordinal())
    hi = min(hi, dt.date(2035, 12, 31).toordinal())
    return dt.date.fromordinal(lo), dt.date.fromordinal(hi)


def _varied(rb: Any, rule: Any, kind: str, extra_items: bool) -> st.SearchStrategy[Transfer]:
    keys = _tested_keys(rb, rule)
    tests_quantity = any(k.startswith(("item.quantity", "has:item.quantity")) for k in keys)
    base = [merge(BASE, e) for e in rule.spec.examples[kind]]

    @st.composite
    def build(draw: st.DrawFn) -> Transfer:
        i = draw(st.integers(0, len(base) - 1))
        data = merge(base[i], {})
        data["id"] = f"{rule.id}.{kind}.{i}.{draw(st.integers(0, 10**6))}"
        for side in ("supplier", "recipient"):
            if draw(st.booleans()):
                data[side] = dict(data[side], name=draw(_names(data[side].get("kind"))))
        day = data["date"]
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if isinstance(day, dt.date):
            lo, hi = _same_side_window(rb, rule, day)
            data["date"] = draw(st.one_of(st.just(day), st.dates(lo, hi)))
        new_items = []
        for it in data.get("items", []):
            it = dict(it)
            if draw(st.booleans()):
                it["description"] = f"{it['description']} ({draw(st.sampled_from(('lot', 'batch', 'order')))} " \
                                    f"{draw(st.integers(1, 999))})"
            if not tests_quantity and "quantity" in it and draw(st.booleans()):
                it["quantity"] = dict(it["quantity"], value=draw(st.integers(1, 10**6)))
            new_items.append(it)
        if extra_items:
            extra = draw(st.lists(items(), max_size=2))
            new_items += [x.model_dump(mode="json", exclude_defaults=True) for x in extra]
            new_items = draw(st.permutations(new_items))
        data["items"] = new_items
        if draw(st.integers(0, 3)) == 0:
            data["notes"] = draw(st.sampled_from(("generated", "varied from a rule example", "see contract")))
        return parse_transfer(data, source=f"{kind} examples of {rule.id}")

    return build()


def violating(rule_id: str, *, rulebook: Any = None) -> st.SearchStrategy[Transfer]:
    """Transfers that must fire ``rule_id``: its ``fires`` examples, varied where the rule does not look.

    Each value starts from one of the rule file's ``fires`` examples laid over
    :data:`sanctions.rulebook.examples.BASE` and varies only what the rule does not test: the transfer id, party
    names, item descriptions, quantities (unless the rule or an exemption tests them), notes, the date (kept
    inside the rule's in-force period and on the same side of every date the rule or its exemptions depend
    on), and up to two unrelated extra items, in any order. Extra items may fire other rules; they never
    stop this one from firing, because every item is judged on its own.

    Args:
        rule_id: A rule id, e.g. ``"dprk.arms.supply.heavy"``.
        rulebook: A :class:`~sanctions.rulebook.Rulebook`; by default the built-in one.

    Raises:
        hypothesis.errors.InvalidArgument: for an unknown rule (with a "did you mean"), or a rule with no
            ``fires`` examples.

    Example::

        >>> from hypothesis import given
        >>> from sanctions import Engine
        >>> from sanctions.strategies import violating
        >>> @given(violating("dprk.petroleum.aviation_fuel"))
        ... def test_jet_fuel_is_caught(transfer):
        ...     rules = {f.rule_id for f in Engine().check(transfer).findings}
        ...     assert "dprk.petroleum.aviation_fuel" in rules
    """
    rb, rule = _rule(rule_id, rulebook, "fires")
    return _varied(rb, rule, "fires", extra_items=True)


def clearing(rule_id: str, *, rulebook: Any = None) -> st.SearchStrategy[Transfer]:
    """The nearest transfers that must not fire ``rule_id``: its ``clears`` examples, varied like :func:`violating`.

    No items are added (an added item could be one the rule catches). Other rules may still fire.

    Args:
        rule_id: A rule id, e.g. ``"dprk.petroleum.refined"``.
        rulebook: A :class:`~sanctions.rulebook.Rulebook`; by default the built-in one.

    Raises:
        hypothesis.errors.InvalidArgument: for an unknown rule (with a "did you mean"), or a rule with no
            ``clears`` examples.

    Example::

        >>> from hypothesis import given
        >>> from sanctions import Engine
        >>> from sanctions.strategies import clearing
        >>> @given(clearing("dprk.petroleum.refined"))
        ... def test_notified_livelihood_diesel_is_allowed(transfer):
        ...     rules = {f.rule_id for f in Engine().check(transfer).findings}
        ...     assert "dprk.petroleum.refined" not in rules
    """
    rb, rule = _rule(rule_id, rulebook, "clears")
    return _varied(rb, rule, "clears", extra_items=False)


UNKNOWN_FIELDS = ("supplier.country", "recipient.country", "intermediaries.country", "vessel.flag",
                  "sts_vessel.flag", "purpose", "notified", "items.end_use", "items.subject", "items.category", "date")
"""What :func:`unknown_variants` may make unknown: ``"unknown"`` for the first nine (every intermediary or item
for the plural ones), the general class for an item's UNROCA class (``arms_and_related_materiel``), and for
``date`` the year or the month that holds a one-day date."""


def _make_unknown(data: dict[str, Any], field: str, coarse: str) -> bool:
    """Make ``field`` of a transfer's JSON data unknown in place; False when there is nothing to make unknown."""
    from sanctions.model.vocab import REFINEMENTS

    changed = False
    if field == "date":
        if isinstance(data.get("date"), str) and len(data["date"]) == 10:
            data["date"] = data["date"][:4] if coarse == "year" else data["date"][:7]
            return True
        return False
    if field == "notified":
        data["notifications"] = []
        data["notified"] = "unknown"
        return True
    if field == "purpose":
        data["purpose"] = "unknown"
        return True
    head, _, leaf = field.partition(".")
    if head in ("supplier", "recipient", "vessel", "sts_vessel"):
        if data.get(head) is None:
            return False
        data[head] = {**data[head], leaf: "unknown"}
        return True
    for i, row in enumerate(data.get(head) or []):
        if leaf == "category":
            general = next((g for g, refined in REFINEMENTS.items() if row.get("category") in refined), None)
            if general is None or general not in {c.value for c in Category}:
                continue
            data[head][i] = {**row, "category": general, "hs_code": None}
        elif leaf == "subject" and row.get("subject") is None:
            continue
        else:
            data[head][i] = {**row, leaf: "unknown"}
        changed = True
    return changed


def unknown_variants(transfer: Transfer, *, fields: Collection[str] | None = None) -> st.SearchStrategy[Transfer]:
    """The transfer with some of its facts made unknown, as an investigator's source would leave them.

    Each value makes at least one of ``fields`` unknown (a party's country or a vessel's flag ``"unknown"``, the
    notification status ``"unknown"``, an item's UNROCA class widened to ``arms_and_related_materiel``, a day
    widened to its year or month, ...; see :data:`UNKNOWN_FIELDS`); fields the transfer does not have are left
    alone. A rule that prohibited the transfer must still prohibit it or ask for review.

    Args:
        transfer: The transfer to vary.
        fields: Which of :data:`UNKNOWN_FIELDS` may be made unknown; default all.

    Raises:
        hypothesis.errors.InvalidArgument: for a transfer that is not a Transfer, or an unknown field name.

    Example::

        >>> from hypothesis import given, strategies as st
        >>> from sanctions.strategies import unknown_variants, violating
        >>> @given(st.data())
        ... def test_unknown_never_clears(data):
        ...     t = data.draw(violating("dprk.maritime.ship_to_ship"))
        ...     u = data.draw(unknown_variants(t, fields=["sts_vessel.flag", "date"]))
    """
    if not isinstance(transfer, Transfer):
        raise InvalidArgument(f"transfer={transfer!r} must be a sanctions.model.Transfer")
    chosen = _check_members("fields", fields, UNKNOWN_FIELDS, "field") or UNKNOWN_FIELDS
    base = transfer.model_dump(mode="json", exclude_none=True)

    @st.composite
    def build(draw: st.DrawFn) -> Transfer:
        order = draw(st.permutations(chosen))
        many = draw(st.integers(1, len(order)))
        coarse = draw(st.sampled_from(["year", "month"]))
        data = json.loads(json.dumps(base))
        done = 0
        for field in order:
            if done >= many:
                break
            done += _make_unknown(data, field, coarse)
        return parse_transfer(data, check_units=False)

    return build()


_ready = True
register_types()
