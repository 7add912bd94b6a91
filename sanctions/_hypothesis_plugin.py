"""Hypothesis entry point: registers the model types so ``st.from_type(Transfer)`` works."""


def _hypothesis_setup_hook() -> None:
    try:
        from sanctions import strategies
    except ImportError:  # pragma: no cover - strategies need the model; never break hypothesis itself
        return
    strategies.register_types()
