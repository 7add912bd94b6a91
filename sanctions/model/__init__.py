"""The records the engine judges, and what they are made of.

:mod:`~sanctions.model.vocab` holds the vocabularies (kinds, purposes, categories, units);
:mod:`~sanctions.model.hs` the HS classification table (HS code -> category, with sources);
:mod:`~sanctions.model.records` the typed pydantic records (Party, Vessel, Item, Transfer, Deal) and the
parsers that name every bad field; :mod:`~sanctions.model.units` unit conversion with cited factors;
:mod:`~sanctions.model.reading` reading records from JSON, JSON arrays and JSON Lines files.
Imports run one way: vocab <- hs <- records <- units, reading.
"""

from sanctions.model.records import (
    Deal,
    DealLink,
    Item,
    Party,
    Transfer,
    Vessel,
    parse_deal,
    parse_input,
    parse_transfer,
)
from sanctions.model.vocab import Category, EndUse, PartyKind, Purpose, TransferKind, TransportMode, Unit

__all__ = [
    "Category", "Deal", "DealLink", "EndUse", "Item", "Party", "PartyKind", "Purpose", "Transfer", "TransferKind",
    "TransportMode", "Unit", "Vessel", "parse_deal", "parse_input", "parse_transfer",
]
