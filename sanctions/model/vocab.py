"""The controlled vocabularies of the records (kinds, purposes, categories, units) and HS-code spelling.

Kept apart from :mod:`sanctions.model.records` so that the HS classification table
(:mod:`sanctions.model.hs`) can name categories without importing the records: the records take
categories from the table, never the other way round.
"""

from __future__ import annotations

import re
from enum import StrEnum


class PartyKind(StrEnum):
    """What kind of party a supplier, recipient or intermediary is."""

    state = "state"
    government_body = "government_body"
    armed_forces = "armed_forces"
    company = "company"
    person = "person"
    vessel_operator = "vessel_operator"
    bank = "bank"
    international_organisation = "international_organisation"
    humanitarian_organisation = "humanitarian_organisation"
    other = "other"


class EndUserKind(StrEnum):
    """The class of end user an arms embargo may turn on (government forces, armed groups, a named mission)."""

    government_forces = "government_forces"
    """Armed, security, police or custodial forces of a State."""
    government_body = "government_body"
    """Another organ of a State (a ministry, an agency)."""
    armed_group = "armed_group"
    """A non-State armed group, militia or gang."""
    non_state_actor = "non_state_actor"
    """Any other non-governmental entity or individual not named below."""
    un_mission = "un_mission"
    """A United Nations peace operation or other UN entity; name it in ``organisation`` (UNIFIL, MONUSCO)."""
    authorised_mission = "authorised_mission"
    """A non-UN mission the Security Council authorised; name it in ``organisation`` (MSS)."""
    international_organisation = "international_organisation"
    humanitarian_organisation = "humanitarian_organisation"
    company = "company"
    person = "person"


class TransferKind(StrEnum):
    """What moves: goods, know-how, services, money or people's work."""

    goods = "goods"
    technology = "technology"
    technical_assistance = "technical_assistance"
    """Technical training, advice, services or assistance, including repair and servicing."""
    financial = "financial"
    labour = "labour"
    scientific_cooperation = "scientific_cooperation"
    specialised_teaching = "specialised_teaching"
    vessel_services = "vessel_services"
    """Leasing, chartering, crewing, flagging, classification or insurance of vessels or aircraft."""
    investment = "investment"
    """Joint ventures and cooperative entities, new or existing, and additional investment in them."""


class Purpose(StrEnum):
    """The declared purpose of a transfer, where the law makes it matter."""

    commercial = "commercial"
    humanitarian = "humanitarian"
    livelihood = "livelihood"
    military = "military"
    diplomatic = "diplomatic"
    civil_aviation = "civil_aviation"
    other = "other"


class EndUse(StrEnum):
    """The declared end use of an item; drives the operational-capabilities catch-all."""

    civilian = "civilian"
    military = "military"
    armed_forces = "armed_forces"
    """Could directly contribute to the operational capabilities of armed forces."""
    wmd_programme = "wmd_programme"
    civil_passenger_aircraft = "civil_passenger_aircraft"
    humanitarian = "humanitarian"
    livelihood = "livelihood"
    unknown = "unknown"


class Category(StrEnum):
    """Controlled vocabulary of goods categories the UN measures name.

    UNROCA categories I-VII follow the UN Register of Conventional Arms.
    """

    battle_tanks = "unroca_i_battle_tanks"
    armoured_combat_vehicles = "unroca_ii_armoured_combat_vehicles"
    large_calibre_artillery = "unroca_iii_large_calibre_artillery"
    combat_aircraft = "unroca_iv_combat_aircraft"
    attack_helicopters = "unroca_v_attack_helicopters"
    warships = "unroca_vi_warships"
    missiles = "unroca_vii_missiles"
    small_arms = "small_arms_light_weapons"
    ammunition = "ammunition_and_related_materiel"
    """Ammunition, and related materiel of arms including spare parts."""
    arms = "arms_and_related_materiel"
    """Arms and related materiel of a class the source does not give; refined by the UNROCA classes, small arms
    and ammunition (:data:`REFINEMENTS`)."""
    nuclear_items = "nuclear_items"
    ballistic_missile_items = "ballistic_missile_items"
    space_launch_items = "space_launch_items"
    chemical_biological_items = "chemical_biological_items"
    dual_use_conventional = "dual_use_conventional"
    refined_petroleum = "refined_petroleum"
    crude_oil = "crude_oil"
    aviation_fuel = "aviation_fuel"
    condensates = "condensates_ngl"
    natural_gas = "natural_gas"
    coal = "coal"
    iron = "iron_and_iron_ore"
    gold = "gold"
    titanium_ore = "titanium_ore"
    vanadium_ore = "vanadium_ore"
    rare_earths = "rare_earth_minerals"
    copper = "copper"
    nickel = "nickel"
    silver = "silver"
    zinc = "zinc"
    lead = "lead"
    metals = "metals"
    """Iron, steel and other metals not named above (HS 72-83)."""
    statues = "statues"
    seafood = "seafood"
    textiles = "textiles"
    food = "food"
    agricultural_products = "agricultural_products"
    medicine = "medicine"
    machinery = "machinery"
    electrical_equipment = "electrical_equipment"
    earth_and_stone = "earth_and_stone"
    wood = "wood"
    vehicles = "vehicles"
    vessels = "vessels"
    aircraft = "aircraft"
    aircraft_spare_parts = "aircraft_spare_parts"
    helicopters = "helicopters"
    luxury_goods = "luxury_goods"
    fishing_rights = "fishing_rights"
    cash = "cash"
    other = "other"


class Subject(StrEnum):
    """What a service, a technology transfer or the servicing of goods relates to (1718 OP8(c) and its extensions).

    The arms and WMD values are general (:data:`REFINEMENTS` lists their refinements); ``civilian`` says the
    service relates to none of them.
    """

    arms = "arms_and_related_materiel"
    battle_tanks = "unroca_i_battle_tanks"
    armoured_combat_vehicles = "unroca_ii_armoured_combat_vehicles"
    large_calibre_artillery = "unroca_iii_large_calibre_artillery"
    combat_aircraft = "unroca_iv_combat_aircraft"
    attack_helicopters = "unroca_v_attack_helicopters"
    warships = "unroca_vi_warships"
    missiles = "unroca_vii_missiles"
    small_arms = "small_arms_light_weapons"
    ammunition = "ammunition_and_related_materiel"
    wmd = "wmd_items"
    """Weapons of mass destruction of a kind the source does not give."""
    nuclear_items = "nuclear_items"
    ballistic_missile_items = "ballistic_missile_items"
    chemical_biological_items = "chemical_biological_items"
    space_launch_items = "space_launch_items"
    dual_use_conventional = "dual_use_conventional"
    civilian = "civilian"


class Servicing(StrEnum):
    """Goods sent to be worked on and returned (ownership does not pass)."""

    repair = "repair"
    maintenance = "maintenance"
    overhaul = "overhaul"
    servicing = "servicing"


UNKNOWN = "unknown"
"""How a record says "this has a value, and it is not known" (a party's country, a vessel's flag, whether a
notification was made, a purpose, an end use, a subject). Not the same as leaving a field out, which means
"none" or "not applicable". Rules whose outcome turns on an unknown fact give a ``review`` finding naming it."""

_ARMS_CLASSES = ("unroca_i_battle_tanks", "unroca_ii_armoured_combat_vehicles", "unroca_iii_large_calibre_artillery",
                 "unroca_iv_combat_aircraft", "unroca_v_attack_helicopters", "unroca_vi_warships",
                 "unroca_vii_missiles", "small_arms_light_weapons", "ammunition_and_related_materiel")

REFINEMENTS: dict[str, tuple[str, ...]] = {
    "arms_and_related_materiel": _ARMS_CLASSES,
    "wmd_items": ("nuclear_items", "ballistic_missile_items", "chemical_biological_items"),
}
"""General categories and subjects, and the values that refine them. A general value given alone leaves open
which refinement it is (a rule that needs the class gives ``review``); a refinement implies its general value
(a rule that tests the general value matches every refinement)."""


class TransportMode(StrEnum):
    """How a transfer moves."""

    sea = "sea"
    air = "air"
    rail = "rail"
    road = "road"
    pipeline = "pipeline"
    post = "post"
    electronic = "electronic"
    """Technology, services or money sent by wire or data."""
    in_person = "in_person"
    """Training, advice or work given in person."""


class Unit(StrEnum):
    """Units of quantity."""

    barrels = "barrels"
    tonnes = "tonnes"
    kilograms = "kilograms"
    litres = "litres"
    cubic_metres = "cubic_metres"
    rounds = "rounds"
    units = "units"
    containers = "containers"
    persons = "persons"
    hours = "hours"
    usd = "usd"


_HS_CLEAN = re.compile(r"[.\s]")


def normalise_hs(value: str) -> str:
    """Strip the dots and spaces people write inside HS codes (``2710.19`` -> ``271019``)."""
    return _HS_CLEAN.sub("", value)
