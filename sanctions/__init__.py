"""Check cross-border transfers against UN Security Council sanctions, with every finding explained and cited.

>>> import sanctions
>>> engine = sanctions.Engine()
>>> decision = engine.check(sanctions.parse_input(data))   # doctest: +SKIP
>>> print(sanctions.to_json(decision))                      # doctest: +SKIP
"""

from sanctions.engine import Engine
from sanctions.exc import (
    AuditError,
    EngineError,
    InvalidInput,
    InvalidRule,
    InvalidTransfer,
    LedgerError,
    ListError,
    SanctionsError,
)
from sanctions.explain import Citation, Considered, Decision, Evidence, Finding, to_json
from sanctions.model.records import (
    Category,
    Deal,
    DealLink,
    Item,
    Party,
    Transfer,
    TransferKind,
    Vessel,
    parse_deal,
    parse_input,
    parse_transfer,
)
from sanctions.rulebook import Rulebook, load_rulebook

__version__ = "0.1.0"

__all__ = [
    "AuditError",
    "Category",
    "Citation",
    "Considered",
    "Deal",
    "DealLink",
    "Decision",
    "Engine",
    "EngineError",
    "Evidence",
    "Finding",
    "InvalidInput",
    "InvalidRule",
    "InvalidTransfer",
    "Item",
    "LedgerError",
    "ListError",
    "Party",
    "Rulebook",
    "SanctionsError",
    "Transfer",
    "TransferKind",
    "Vessel",
    "__version__",
    "load_rulebook",
    "parse_deal",
    "parse_input",
    "parse_transfer",
    "to_json",
]
