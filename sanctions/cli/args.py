"""Argument types shared by the ``check-transfer`` subcommands."""

from __future__ import annotations

import argparse
import datetime as dt


def iso_date(text: str) -> dt.date:
    """An ``--as-of`` style date: ``YYYY-MM-DD``, or a usage error with a hint for the usual mistakes."""
    from sanctions.model.hints import date_hint

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        hint = date_hint(text)
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}" + (f"; {hint}" if hint else "")) \
            from None
