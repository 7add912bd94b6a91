"""The ``check-transfer`` command: argument parsing and output only; the work happens in the library."""

from sanctions.cli.main import main

__all__ = ["main"]
