"""The hand-written baseline: the built-in DPRK rules as plain if-statements over the model objects.

This is what a programmer would write without a rule engine: no explanations, no citations, no "considered"
list, just which rule fires on which item. It is the speed the engine is compared with (``handwritten`` in
``bench/run.py``), and the bench checks that it agrees with the engine's findings on the generated data.

It covers the rules in :data:`COVERED` as they stood when it was written (the rule files of 2026-11-25);
the bench reports any engine rule it does not cover, and compares findings on covered rules only. Deal
rules (``dprk.deal.consideration``) and party screening (``dprk.persons.asset_freeze``) are not covered:
the generated workload has neither deals nor designated parties.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sanctions.model import hs
from sanctions.model.records import Transfer

D = dt.date


@lru_cache(maxsize=4096)
def _derived(code: str) -> str | None:
    c = hs.classify(code)
    return c.value if c else None


HEAVY = {"unroca_i_battle_tanks", "unroca_ii_armoured_combat_vehicles", "unroca_iii_large_calibre_artillery",
         "unroca_iv_combat_aircraft", "unroca_v_attack_helicopters", "unroca_vi_warships", "unroca_vii_missiles",
         "ammunition_and_related_materiel"}
WMD = {"nuclear_items", "ballistic_missile_items", "space_launch_items", "chemical_biological_items"}
KNOW_HOW = {"technology", "technical_assistance", "specialised_teaching", "scientific_cooperation"}
RAJIN = {"rajin", "rason", "najin", "rajin port", "rason port"}
INDUSTRIAL_HS = ("72", "73", "74", "75", "76", "78", "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89")
INDUSTRIAL_CATS = {"machinery", "electrical_equipment", "vehicles", "vessels", "aircraft", "helicopters", "metals",
                   "iron_and_iron_ore", "copper", "nickel", "zinc", "lead", "aircraft_spare_parts"}
TEXTILE_HS = tuple(str(n) for n in range(50, 64))
OP6_HS = ("07", "08", "12", "84", "85", "25", "44", "89")
IRON_HS = ("2601", "7201", "7202", "7203", "7204", "7205", "7206")  # iron and iron ore; other steel asks for review
OP6_CATS = {"agricultural_products", "machinery", "electrical_equipment", "earth_and_stone", "wood", "vessels"}
LUX_THRESHOLD_HS = ("5701", "5702", "5703", "5704", "5705", "5805", "691110", "870310")

COVERED = frozenset({
    "dprk.military.catchall", "dprk.arms.dual_use_conventional", "dprk.arms.procurement.all",
    "dprk.arms.procurement.heavy", "dprk.arms.supply.salw_notice", "dprk.arms.services", "dprk.arms.supply.all",
    "dprk.arms.supply.heavy", "dprk.aviation.overflight", "dprk.finance.banks", "dprk.finance.bulk_cash",
    "dprk.finance.grants.1874", "dprk.finance.services.1874", "dprk.finance.services.2094",
    "dprk.finance.trade_support.1874", "dprk.finance.trade_support.2321", "dprk.luxury.2094_annex_iv",
    "dprk.luxury.2270_annex", "dprk.luxury.1718", "dprk.luxury.2321_rugs_tapestries", "dprk.luxury.2270_snowmobiles",
    "dprk.luxury.2321_tableware", "dprk.maritime.bunkering", "dprk.maritime.charter_dprk_flag.2371",
    "dprk.maritime.crew_from_dprk", "dprk.maritime.flag_services.2270", "dprk.maritime.flag_services.2321",
    "dprk.maritime.leasing_crew.2270", "dprk.maritime.leasing_crew.2321", "dprk.maritime.ship_to_ship",
    "dprk.petroleum.aviation_fuel", "dprk.petroleum.condensates_ngl", "dprk.petroleum.crude",
    "dprk.petroleum.crude.2375_freeze", "dprk.petroleum.refined", "dprk.petroleum.refined.2375",
    "dprk.petroleum.refined.notification", "dprk.exports.2397_op6", "dprk.exports.coal.2270",
    "dprk.exports.coal.2321_cap", "dprk.exports.coal.2371", "dprk.exports.fishing_rights.2397",
    "dprk.exports.iron.2321", "dprk.exports.lead.2371", "dprk.exports.metals.2321", "dprk.exports.minerals.2270",
    "dprk.exports.seafood.2371", "dprk.exports.statues.2321", "dprk.exports.textiles.2375",
    "dprk.imports.2397_industrial", "dprk.imports.helicopters_vessels.2321", "dprk.imports.vessels.2397",
    "dprk.services.hosting_trainers", "dprk.investment.joint_ventures.2371", "dprk.investment.joint_ventures.2375",
    "dprk.services.scitech_cooperation", "dprk.services.specialised_teaching", "dprk.wmd.services",
    "dprk.services.workers.2371_freeze", "dprk.services.workers.2375", "dprk.services.workers.2397",
    "dprk.wmd.catchall", "dprk.wmd.procurement", "dprk.wmd.supply",
})


def judge(t: Transfer) -> list[tuple[str, int | None]]:
    """(rule id, item index or None) of every finding on one transfer, judged on its own dates."""
    start, end = t.start, t.end
    out: list[tuple[str, int | None]] = []

    def fire(rule: str, frm: D, until: D | None, item: int | None, *exemptions: tuple[D, D | None, bool]) -> None:
        if frm > end or (until is not None and start > until):
            return  # not in force on any day of the transfer
        a, b = max(start, frm), min(end, until) if until else end
        for ex_from, ex_until, applies in exemptions:
            if applies and ex_from <= a and (ex_until is None or b <= ex_until):
                return  # an exemption in force for the whole span clears it
        out.append((rule, item))

    sup, rec = t.supplier.country, t.recipient.country
    to_dprk = t.destination_country == "KP" or rec == "KP"
    from_dprk = t.origin_country == "KP" or sup == "KP"
    involves = to_dprk or from_dprk
    ports = {s.port.strip().lower() for s in t.route}
    leaves = from_dprk or any(s.country == "KP" for s in t.route)
    kind = t.kind.value
    goods = kind == "goods"
    purpose = t.purpose.value if t.purpose else None
    notified = bool(t.notifications)
    committee = bool(t.exemptions)
    liv_hum = purpose in ("livelihood", "humanitarian")
    rajin = bool(ports & RAJIN)
    sup_kind, rec_kind = t.supplier.kind.value, t.recipient.kind.value

    # ---- transfer-level rules ------------------------------------------------------------------------------
    if kind == "financial" and involves:
        fire("dprk.finance.services.1874", D(2009, 6, 12), D(2013, 3, 6), None)
        fire("dprk.finance.services.2094", D(2013, 3, 7), None, None, (D(2016, 11, 30), None, committee))
        if sup_kind == "bank" or rec_kind == "bank":
            fire("dprk.finance.banks", D(2016, 3, 2), None, None)
        if purpose == "commercial" and sup_kind in ("bank", "state", "government_body"):
            fire("dprk.finance.trade_support.1874", D(2009, 6, 12), D(2016, 11, 29), None)
            fire("dprk.finance.trade_support.2321", D(2016, 11, 30), None, None, (D(2016, 11, 30), None, committee))
    if kind == "financial" and to_dprk and sup_kind in ("state", "government_body", "international_organisation",
                                                         "bank"):
        fire("dprk.finance.grants.1874", D(2009, 6, 12), None, None, (D(2009, 6, 12), None, liv_hum))
    vflag = t.vessel.flag if t.vessel else None
    if kind == "vessel_services":
        if vflag == "KP":
            fire("dprk.maritime.bunkering", D(2009, 6, 12), None, None, (D(2009, 6, 12), None, purpose == "humanitarian"))
            if rec != "KP":
                fire("dprk.maritime.charter_dprk_flag.2371", D(2017, 8, 5), None, None,
                     (D(2017, 8, 5), None, committee))
            fire("dprk.maritime.flag_services.2270", D(2016, 3, 2), D(2016, 11, 29), None,
                 (D(2016, 3, 2), D(2016, 11, 29), purpose == "livelihood" and notified))
            fire("dprk.maritime.flag_services.2321", D(2016, 11, 30), None, None, (D(2016, 11, 30), None, committee))
        if sup == "KP" and rec != "KP":
            fire("dprk.maritime.crew_from_dprk", D(2016, 11, 30), None, None, (D(2016, 11, 30), None, committee))
        if to_dprk:
            fire("dprk.maritime.leasing_crew.2270", D(2016, 3, 2), D(2016, 11, 29), None,
                 (D(2016, 3, 2), D(2016, 11, 29), purpose == "livelihood" and notified))
            fire("dprk.maritime.leasing_crew.2321", D(2016, 11, 30), None, None, (D(2016, 11, 30), None, committee))
    flags = {v.flag for v in (t.vessel, t.sts_vessel) if v is not None and v.flag}
    if t.ship_to_ship and "KP" in flags:
        fire("dprk.maritime.ship_to_ship", D(2017, 9, 11), None, None)
    if kind in ("technical_assistance", "specialised_teaching", "labour") and sup == "KP" and rec != "KP" \
            and purpose == "military":
        fire("dprk.services.hosting_trainers", D(2016, 3, 2), None, None)
    if kind == "investment" and involves:
        fire("dprk.investment.joint_ventures.2371", D(2017, 8, 5), D(2017, 9, 10), None,
             (D(2017, 8, 5), D(2017, 9, 10), committee))
        fire("dprk.investment.joint_ventures.2375", D(2017, 9, 11), None, None, (D(2017, 9, 11), None, committee),
             (D(2017, 9, 11), None, rajin and (sup == "RU" or rec == "RU")))
    if kind == "specialised_teaching" and to_dprk:
        fire("dprk.services.specialised_teaching", D(2016, 3, 2), None, None, (D(2016, 11, 30), None, committee))
    if kind == "labour" and sup == "KP" and rec != "KP":
        fire("dprk.services.workers.2371_freeze", D(2017, 8, 5), D(2017, 9, 10), None,
             (D(2017, 8, 5), D(2017, 9, 10), committee))
        fire("dprk.services.workers.2375", D(2017, 9, 11), D(2019, 12, 21), None,
             (D(2017, 9, 11), D(2019, 12, 21), committee))
        fire("dprk.services.workers.2397", D(2019, 12, 22), None, None)

    if not (involves or leaves):
        return out  # every item rule below needs a DPRK party, origin, destination or port

    # ---- item-level rules ----------------------------------------------------------------------------------
    by_air = any(m.value == "air" for m in t.transport)
    for i, item in enumerate(t.items):
        declared = item.category.value if item.category else None
        hs_code = item.hs_code or ""
        derived = _derived(hs_code) if hs_code else None
        cats = {c for c in (declared, derived) if c}
        end_use = item.end_use.value if item.end_use else None
        usd = item.value.amount if item.value and item.value.currency == "USD" else 0.0
        origin = item.origin_country or t.origin_country
        heavy = bool(cats & HEAVY)
        salw = "small_arms_light_weapons" in cats
        arms = heavy or salw or hs_code.startswith("93")
        wmd = bool(cats & WMD)

        if involves and goods and end_use in ("military", "armed_forces"):
            food_med = bool(cats & {"food", "medicine", "agricultural_products"})
            fire("dprk.military.catchall", D(2016, 3, 2), None, i, (D(2016, 3, 2), None, food_med),
                 (D(2016, 3, 2), None, liv_hum and notified), (D(2016, 3, 2), None, committee))
        if involves and "dual_use_conventional" in cats:
            fire("dprk.arms.dual_use_conventional", D(2016, 11, 30), None, i, (D(2016, 11, 30), None, committee))
        if from_dprk and goods and arms and not heavy:
            fire("dprk.arms.procurement.all", D(2009, 6, 12), None, i)
        if from_dprk and goods and heavy:
            fire("dprk.arms.procurement.heavy", D(2006, 10, 14), None, i, (D(2016, 11, 30), None, committee))
        if to_dprk and goods and salw:
            fire("dprk.arms.supply.salw_notice", D(2009, 6, 12), D(2016, 3, 1), i,
                 (D(2009, 6, 12), D(2016, 3, 1), notified))
        if kind in KNOW_HOW and involves and arms:
            fire("dprk.arms.services", D(2006, 10, 14), None, i)
        if to_dprk and goods and arms and not heavy:
            fire("dprk.arms.supply.all", D(2016, 3, 2), None, i)
        if to_dprk and goods and heavy:
            fire("dprk.arms.supply.heavy", D(2006, 10, 14), None, i)
        if involves and (arms or wmd) and by_air:
            fire("dprk.aviation.overflight", D(2016, 3, 2), None, i)
        if involves and "cash" in cats:
            fire("dprk.finance.bulk_cash", D(2013, 3, 7), None, i, (D(2016, 11, 30), None, committee))
        if to_dprk and goods:
            lux = (D(2016, 11, 30), None, committee)
            if hs_code.startswith(("7101", "7102", "7103", "7104", "7113", "8903")) or \
                    (hs_code.startswith("8703") and "luxury_goods" in cats):
                fire("dprk.luxury.2094_annex_iv", D(2013, 3, 7), None, i, lux)
            if hs_code.startswith(("9101", "9102", "701322", "701333", "701341", "701391", "9506", "8903")):
                fire("dprk.luxury.2270_annex", D(2016, 3, 2), None, i, lux)
            if "luxury_goods" in cats and not hs_code.startswith(LUX_THRESHOLD_HS):
                fire("dprk.luxury.1718", D(2006, 10, 14), None, i, lux)
            if hs_code.startswith(("5701", "5702", "5703", "5704", "5705", "5805")) and usd > 500:
                fire("dprk.luxury.2321_rugs_tapestries", D(2016, 11, 30), None, i, lux)
            if hs_code.startswith("870310") and usd > 2000:
                fire("dprk.luxury.2270_snowmobiles", D(2016, 3, 2), None, i, lux)
            if hs_code.startswith("691110") and usd > 100:
                fire("dprk.luxury.2321_tableware", D(2016, 11, 30), None, i, lux)
            if hs_code.startswith(INDUSTRIAL_HS) or cats & INDUSTRIAL_CATS:
                fire("dprk.imports.2397_industrial", D(2017, 12, 22), None, i,
                     (D(2017, 12, 22), None, end_use == "civil_passenger_aircraft" and (
                         "aircraft_spare_parts" in cats or hs_code.startswith(("8803", "8807", "8409", "8411")))))
            if cats & {"helicopters", "vessels", "unroca_vi_warships"} or hs_code.startswith(("880211", "880212", "89")):
                fire("dprk.imports.helicopters_vessels.2321", D(2016, 11, 30), None, i,
                     (D(2016, 11, 30), None, committee))
            if cats & {"vessels", "unroca_vi_warships"} or hs_code.startswith("89"):
                fire("dprk.imports.vessels.2397", D(2017, 12, 22), None, i, (D(2017, 12, 22), None, committee))
        if to_dprk:
            if "aviation_fuel" in cats:
                fire("dprk.petroleum.aviation_fuel", D(2016, 3, 2), None, i,
                     (D(2016, 3, 2), None, end_use == "civil_passenger_aircraft"), (D(2016, 3, 2), None, committee))
            if "condensates_ngl" in cats:
                fire("dprk.petroleum.condensates_ngl", D(2017, 9, 11), None, i, (D(2017, 9, 11), None, committee))
            if ("crude_oil" in cats or hs_code.startswith("2709")) and "condensates_ngl" not in cats:
                fire("dprk.petroleum.crude", D(2017, 12, 22), None, i)
                # read as still running beside the 2397 cap (the rule's assumption), with the Committee exemption
                fire("dprk.petroleum.crude.2375_freeze", D(2017, 9, 11), None, i, (D(2017, 9, 11), None, committee))
            refined = "refined_petroleum" in cats or hs_code.startswith("2710")
            if refined and "aviation_fuel" not in cats:
                fire("dprk.petroleum.refined", D(2017, 12, 22), None, i, (D(2017, 12, 22), None, notified and liv_hum))
                fire("dprk.petroleum.refined.2375", D(2017, 9, 11), D(2017, 12, 21), i,
                     (D(2017, 9, 11), D(2017, 12, 21), notified and liv_hum))
            if refined:
                fire("dprk.petroleum.refined.notification", D(2017, 9, 11), None, i, (D(2017, 9, 11), None, notified))
        if leaves:
            ex_committee = committee
            if hs_code.startswith(OP6_HS) or cats & OP6_CATS:
                fire("dprk.exports.2397_op6", D(2017, 12, 22), None, i, (D(2017, 12, 22), None, ex_committee))
            coal = "coal" in cats or hs_code.startswith("2701")
            transit = origin != "KP" and rajin and notified
            if cats & {"coal", "iron_and_iron_ore"} or hs_code.startswith(("2701", "2601")):
                fire("dprk.exports.coal.2270", D(2016, 3, 2), D(2016, 11, 29), i,
                     (D(2016, 3, 2), D(2016, 11, 29), transit), (D(2016, 3, 2), D(2016, 11, 29), purpose == "livelihood"))
            if coal:
                fire("dprk.exports.coal.2321_cap", D(2016, 11, 30), D(2017, 8, 4), i,
                     (D(2016, 11, 30), D(2017, 8, 4), transit))
            if cats & {"coal", "iron_and_iron_ore"} or hs_code.startswith(("2701", *IRON_HS)):
                fire("dprk.exports.coal.2371", D(2017, 8, 5), None, i, (D(2017, 8, 5), None, coal and transit),
                     (D(2017, 8, 5), None, committee))
            if "iron_and_iron_ore" in cats or hs_code.startswith(IRON_HS):
                fire("dprk.exports.iron.2321", D(2016, 11, 30), D(2017, 8, 4), i,
                     (D(2016, 11, 30), D(2017, 8, 4), purpose == "livelihood"))
            if "lead" in cats:
                fire("dprk.exports.lead.2371", D(2017, 8, 5), None, i, (D(2017, 8, 5), None, ex_committee))
            if cats & {"copper", "nickel", "silver", "zinc"}:
                fire("dprk.exports.metals.2321", D(2016, 11, 30), None, i, (D(2016, 11, 30), None, ex_committee))
            if cats & {"gold", "titanium_ore", "vanadium_ore", "rare_earth_minerals"}:
                fire("dprk.exports.minerals.2270", D(2016, 3, 2), None, i, (D(2016, 11, 30), None, ex_committee))
            if "seafood" in cats:
                fire("dprk.exports.seafood.2371", D(2017, 8, 5), None, i, (D(2017, 8, 5), None, ex_committee))
            if "statues" in cats:
                fire("dprk.exports.statues.2321", D(2016, 11, 30), None, i, (D(2016, 11, 30), None, ex_committee))
            if "textiles" in cats or hs_code.startswith(TEXTILE_HS):
                fire("dprk.exports.textiles.2375", D(2017, 9, 11), None, i, (D(2017, 9, 11), None, ex_committee))
        if from_dprk and "fishing_rights" in cats:
            fire("dprk.exports.fishing_rights.2397", D(2017, 12, 22), None, i)
        if involves and (kind == "scientific_cooperation" or (kind in ("technology", "technical_assistance") and cats & {
                "space_launch_items", "aircraft", "unroca_iv_combat_aircraft", "nuclear_items"})):
            fire("dprk.services.scitech_cooperation", D(2016, 11, 30), None, i, (D(2016, 11, 30), None, committee),
                 (D(2016, 11, 30), None, "medicine" in cats))
        if kind in KNOW_HOW and involves and wmd:
            fire("dprk.wmd.services", D(2006, 10, 14), None, i)
        if involves and end_use == "wmd_programme":
            fire("dprk.wmd.catchall", D(2016, 3, 2), None, i, (D(2016, 11, 30), None, committee))
        if from_dprk and (wmd or "unroca_vii_missiles" in cats):
            fire("dprk.wmd.procurement", D(2006, 10, 14), None, i, (D(2016, 11, 30), None, committee))
        if to_dprk and wmd:
            fire("dprk.wmd.supply", D(2006, 10, 14), None, i)
    return out
