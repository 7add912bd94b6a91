"""Runtime objects of a loaded rulebook: checked rules with their compiled patterns, and the rulebook itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal


from sanctions.evaluate import compiled as C
from sanctions.rulebook.spec import ExemptionSpec, OUTCOME_RANK, RuleSpec, Outcome  # noqa: F401


# ----------------------------------------------------------------------------------------------------------------
# Runtime objects
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exemption:
    """A checked exemption, with its compiled pattern id."""

    spec: ExemptionSpec
    pattern_id: str
    could_pattern_id: str | None = None
    """Id of the pattern that matches when the exemption may apply given unknown facts (``None``: it tests no
    field that may be unknown, so it applies or not)."""


@dataclass(frozen=True)
class Rule:
    """A checked rule and where it came from."""

    spec: RuleSpec
    file: str
    scope: Literal["item", "transfer", "deal"]
    pattern_id: str
    exemptions: tuple[Exemption, ...]
    keys: frozenset[str] = field(default_factory=frozenset)
    caps: tuple[Any, ...] = ()
    """The parsed :class:`sanctions.ledger.caps.CapSpec` list when the rule carries caps."""
    could_pattern_id: str | None = None
    """Id of the pattern that matches when the rule may apply given unknown facts (see
    :mod:`sanctions.evaluate.compiled`, "Unknown values"); ``None`` when the rule tests no field that may be
    unknown. The *must* pattern is :attr:`pattern_id`."""

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Rulebook:
    """A loaded, checked and compiled set of rules.

    Attributes:
        rules: By id, sorted.
        compiled: The engine-neutral form.
        digest: SHA-256 over the rule files' paths and bytes: the rulebook's version.
        sources: The folders loaded, in order.
    """

    rules: Mapping[str, Rule]
    compiled: C.CompiledRulebook
    digest: str
    sources: tuple[str, ...]
    predicates: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rules)

    @cached_property
    def regimes(self) -> tuple[str, ...]:
        """The regimes the rules belong to (their ``regime`` field), sorted."""
        return tuple(sorted({r.spec.regime for r in self.rules.values()}))

    @cached_property
    def _patterns(self) -> Mapping[str, C.Pattern]:
        return {p.id: p for p in self.compiled.patterns}

    def compiled_pattern(self, pattern_id: str) -> C.Pattern:
        """The compiled single-fact pattern with this id."""
        return self._patterns[pattern_id]

    @cached_property
    def by_pattern(self) -> Mapping[str, tuple[Rule, Exemption | None]]:
        """Pattern id -> (rule, exemption or None)."""
        out: dict[str, tuple[Rule, Exemption | None]] = {}
        for rule in self.rules.values():
            out[rule.pattern_id] = (rule, None)
            if rule.could_pattern_id:
                out[rule.could_pattern_id] = (rule, None)
            for ex in rule.exemptions:
                out[ex.pattern_id] = (rule, ex)
                if ex.could_pattern_id:
                    out[ex.could_pattern_id] = (rule, ex)
        return out


def regime_key(name: str) -> str:
    """How a regime name is matched when selecting regimes: case and punctuation ignored.

    ``"ISIL/Al-Qaida"``, ``"isil_alqaida"`` and ``"ISIL al-Qaida"`` all give ``"isilalqaida"``.
    """
    return "".join(ch for ch in name.casefold() if ch.isalnum())
