"""The reference evaluator: compiled patterns evaluated by plain, obviously correct Python.

It exists to be read and trusted. Every other evaluator (durable-rules, the batch path) is tested
differentially against it. It loops over every pattern for every fact, and over every pair of facts for a
join pattern; it is not meant to be fast.
"""

from __future__ import annotations

from collections.abc import Sequence

from sanctions.evaluate.compiled import FID, KIND, CompiledRulebook, Fact, JoinMatch, Match, holds, joined


class ReferenceEvaluator:
    """Evaluate a :class:`~sanctions.compiled.CompiledRulebook` with nested loops."""

    name = "reference"

    def __init__(self, compiled: CompiledRulebook) -> None:
        self.compiled = compiled

    def match(self, facts: Sequence[Fact]) -> set[Match]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.match`."""
        return {
            Match(p.id, int(f[FID]))
            for p in self.compiled.patterns
            for f in facts
            if f[KIND] == p.kind and holds(p.cond, f)
        }

    def join(self, facts: Sequence[Fact]) -> set[JoinMatch]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.join`."""
        out: set[JoinMatch] = set()
        for p in self.compiled.join_patterns:
            lefts = [f for f in facts if f[KIND] == p.left_kind and holds(p.left, f)]
            rights = [f for f in facts if f[KIND] == p.right_kind and holds(p.right, f)]
            for a in lefts:
                for b in rights:
                    if a[FID] != b[FID] and all(joined(j, a, b) for j in p.joins):
                        out.add(JoinMatch(p.id, int(a[FID]), int(b[FID])))
        return out
