"""The curated public API: what ``import sanctions`` offers is pinned, so changes are deliberate."""

import sanctions


def test_all_is_pinned():
    assert sorted(sanctions.__all__) == [
        "AuditError", "Category", "Citation", "Considered", "Deal", "DealLink", "Decision", "Engine", "EngineError",
        "Evidence", "Finding", "InvalidInput", "InvalidRule", "InvalidTransfer", "Item", "LedgerError", "ListError",
        "Party", "Rulebook", "SanctionsError", "Transfer", "TransferKind", "Vessel", "__version__", "load_rulebook",
        "parse_deal", "parse_input", "parse_transfer", "to_json",
    ]
    for name in sanctions.__all__:
        assert hasattr(sanctions, name)


def test_every_error_is_a_sanctions_error_with_a_code():
    for cls in (sanctions.InvalidInput, sanctions.InvalidTransfer, sanctions.InvalidRule, sanctions.EngineError,
                sanctions.LedgerError, sanctions.AuditError, sanctions.ListError):
        assert issubclass(cls, sanctions.SanctionsError)
        assert cls.code and cls.code == cls.code.lower() and " " not in cls.code
