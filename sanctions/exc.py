"""Exceptions raised by ``sanctions``.

Every error the library raises on purpose is a :class:`SanctionsError`, carries a stable kebab-case
``code`` and renders as one plain sentence naming what was wrong (file, record, field, value) so that the
CLI can print it without a traceback::

    SanctionsError                     code
    ├── InvalidInput                   invalid-input      bad data from a user (file, record, field, value)
    │   └── InvalidTransfer            invalid-transfer   a transfer or deal failed validation
    ├── InvalidRule                    invalid-rule       a rule file is broken (file and key path)
    ├── EngineError                    engine-error       an evaluator refused or failed
    ├── LedgerError                    ledger-error       the cap ledger refused a write or is damaged
    ├── AuditError                     audit-error        the audit log is damaged or an entry is missing
    └── ListError                      list-error         a sanctions list could not be loaded or installed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class SanctionsError(Exception):
    """Root of every error ``sanctions`` raises on purpose."""

    code = "sanctions-error"

    def __str__(self) -> str:
        return super().__str__()


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of one record.

    Attributes:
        path: Field path from the record's root, e.g. ``items[2].hs_code``; empty for the record itself.
        message: What is wrong, in a sentence fragment.
        value: The offending value, as given (shortened for display by :func:`show_value`).
        hint: A suggestion, e.g. ``did you mean 'KP'?``; empty when there is none.
    """

    path: str
    message: str
    value: Any = None
    hint: str = ""

    def render(self) -> str:
        where = self.path or "(record)"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (got {show_value(self.value)})"
        if self.hint:
            text += f"; {self.hint}"
        return text


def show_value(value: Any, limit: int = 80) -> str:
    """A short ``repr`` of a user's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InvalidInput(SanctionsError, ValueError):
    """Bad input from a user: where it is (file, record) and what is wrong with which fields."""

    code = "invalid-input"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: int | None = None,
        problems: Sequence[FieldProblem] = (),
    ) -> None:
        self.message = message
        self.source = source
        self.record = record
        self.problems = tuple(problems)
        super().__init__(self.render())

    def where(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.record is not None:
            parts.append(f"line {self.record}")
        return ":".join(parts)

    def render(self) -> str:
        head = f"{self.where()}: {self.message}" if self.where() else self.message
        if not self.problems:
            return head
        return head + "\n" + "\n".join("  - " + p.render() for p in self.problems)

    def located(self, *, source: str | None = None, record: int | None = None) -> InvalidInput:
        """The same error, with its file and record filled in where they were unknown."""
        return type(self)(
            self.message,
            source=self.source or source,
            record=self.record if self.record is not None else record,
            problems=self.problems,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "record": self.record,
            "problems": [
                {"path": p.path, "message": p.message, "value": show_value(p.value) if p.value is not None else None,
                 "hint": p.hint}
                for p in self.problems
            ],
        }


class InvalidTransfer(InvalidInput):
    """A transfer or deal failed validation."""

    code = "invalid-transfer"


class InvalidRule(SanctionsError, ValueError):
    """A rule file is broken. Names the file and the key path inside it."""

    code = "invalid-rule"

    def __init__(self, message: str, *, file: str, key: str = "", hint: str = "") -> None:
        self.message = message
        self.file = file
        self.key = key
        self.hint = hint
        where = f"{file}: {key}" if key else file
        text = f"{where}: {message}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)


class EngineError(SanctionsError, RuntimeError):
    """An evaluator refused its input or failed."""

    code = "engine-error"


class LedgerError(SanctionsError):
    """The cap ledger refused a write, or its file is damaged."""

    code = "ledger-error"


class AuditError(SanctionsError):
    """The audit log is damaged, or an entry asked for does not exist."""

    code = "audit-error"


class ListError(SanctionsError):
    """A sanctions list could not be downloaded, parsed, verified or installed."""

    code = "list-error"
