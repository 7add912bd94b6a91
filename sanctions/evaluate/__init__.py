"""Evaluators of the engine-neutral compiled rulebook.

:mod:`~sanctions.evaluate.compiled` is the contract: patterns over flat facts, with negation pushed to the
leaves, and the semantics every evaluator must give them. The evaluators are interchangeable behind it:

* :mod:`~sanctions.evaluate._durable`: the durable-rules (Rete) adapter, private; the only place the native
  engine is touched, guarding every known hazard of durable-rules 2.0.28;
* :mod:`~sanctions.evaluate.reference`: a small, obviously correct evaluator, the oracle of the others;
* :mod:`~sanctions.evaluate.rowbatch`: code generated from the patterns, with guard indexes, for speed.

Nothing outside this package imports ``_durable``; the engine picks an evaluator by name with
:func:`make_evaluator`.
"""

from __future__ import annotations

from typing import Any, Literal

from sanctions.evaluate import compiled as C
from sanctions.exc import EngineError

EvaluatorName = Literal["auto", "durable", "reference", "batch"]
EVALUATORS = ("auto", "durable", "reference", "batch")


def make_evaluator(rulebook: Any, name: EvaluatorName = "auto") -> tuple[C.Evaluator, list[str]]:
    """Build an evaluator for a rulebook (a :class:`sanctions.rulebook.Rulebook`); returns it with notes on any fallback.

    ``auto`` uses durable-rules when it imports and the reference evaluator otherwise (and says so);
    ``batch`` is the fast evaluator of the batch path (generated code, indexed patterns).

    Raises:
        EngineError: for an unknown name, or ``durable`` when durable-rules is not available.
    """
    notes: list[str] = []
    if name not in EVALUATORS:
        raise EngineError(f"unknown evaluator {name!r}; choose one of {', '.join(EVALUATORS)}")
    if name == "batch":
        from sanctions.evaluate.rowbatch import BatchEvaluator

        return BatchEvaluator(rulebook.compiled), notes
    if name in ("auto", "durable"):
        try:
            from sanctions.evaluate import _durable

            ok, why = _durable.available()
        except ImportError as err:  # the adapter itself is missing: a broken install
            ok, why = False, str(err)
        if ok:
            return _durable.DurableEvaluator(rulebook.compiled), notes
        if name == "durable":
            raise EngineError(f"durable-rules is not available: {why}")
        notes.append(f"durable-rules is not available ({why}); the reference evaluator judged this transfer")
    from sanctions.evaluate.reference import ReferenceEvaluator

    return ReferenceEvaluator(rulebook.compiled), notes
