"""The example of docs/property-testing.md, run as a test: compare a screening system with ours."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sanctions.engine import Engine
from sanctions.model.records import Transfer
from sanctions.strategies import transfers, violating

engine = Engine()


def my_screening(transfer: Transfer) -> bool:
    """Your system: True when it blocks the transfer. Here, a simple one: no arms and no fuel to the DPRK."""
    to_dprk = "KP" in (transfer.destination_country, transfer.recipient.country)
    risky = {"unroca_i_battle_tanks", "aviation_fuel", "refined_petroleum", "small_arms_light_weapons"}
    return to_dprk and any(i.category is not None and i.category.value in risky for i in transfer.items)


@settings(max_examples=25, deadline=None)
@given(st.one_of(violating("dprk.arms.supply.heavy"), violating("dprk.petroleum.aviation_fuel")))
def test_my_screening_blocks_what_the_law_prohibits(transfer):
    assert engine.check(transfer).verdict == "prohibited"
    assert my_screening(transfer)


@settings(max_examples=25, deadline=None)
@given(transfers(recipient_countries=["KP"], categories=["unroca_i_battle_tanks"], min_items=1))
def test_whenever_we_say_prohibited_so_does_my_screening(transfer):
    if engine.check(transfer).verdict == "prohibited":
        assert my_screening(transfer)
