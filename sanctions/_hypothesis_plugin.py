"""Hypothesis entry point: registers the model types so ``st.from_type(Transfer)`` works."""


def _hypothesis_setup_hook() -> None:
    try:
        from sanctions import strategies

        strategies.register_types()
    except (ImportError, AttributeError):  # pragma: no cover - never break hypothesis itself
        # AttributeError: hypothesis was imported by sanctions.strategies itself, which registers its
        # types when it finishes loading.
        return
