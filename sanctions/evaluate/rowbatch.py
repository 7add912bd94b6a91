"""The batch evaluator: compiled patterns turned into Python functions, indexed, short-circuited.

It implements :class:`sanctions.evaluate.compiled.Evaluator` (``name = "batch"``) and gives exactly the answers of
:class:`sanctions.evaluate.reference.ReferenceEvaluator`; ``tests/batch/test_batch.py`` checks that differentially.

How it is fast
    1. **Generated code.** Each condition tree becomes the source of one Python expression
       (``(type(f['transfer.destination_country']) is str and f['transfer.destination_country'] == 'KP')
       or ...``), compiled once per rulebook. ``and``/``or`` short-circuit in the same left-to-right order
       the reference's ``all``/``any`` do.
    2. **Indexing.** For every pattern the evaluator derives a *guard*: a set of ``(key, value)`` equalities
       at least one of which must hold for the condition to be true (``to_dprk`` gives
       ``{(transfer.destination_country, 'KP'), (transfer.recipient.country, 'KP')}``). Facts are looked up
       by the guard keys, and a pattern is tried only on facts whose value hits its guard; a pattern without
       a guard is tried on every fact of its kind. Which guard a pattern gets (an ``And`` offers one per
       part) is chosen by observed value frequencies: after a warm-up of :data:`CALIBRATE_AFTER` facts of a
       kind the evaluator picks, per pattern, the guard those facts hit least often, and swaps in the new
       index. A guard only ever skips patterns that cannot match, so the choice changes speed, never answers.
    3. **Hash joins.** A join pattern's ``eq`` relations are answered with a dictionary from the left keys'
       values to the left facts, instead of the reference's nested loop.

Why generating source is safe here
    The source is generated **only from the typed compiled objects** (:class:`~sanctions.compiled.Test`,
    :class:`~sanctions.compiled.And`, :class:`~sanctions.compiled.Or`), never from rule text. Keys are
    embedded with ``repr`` of a ``str`` (checked with ``type(key) is str``), which is always a plain string
    literal that evaluates back to the same string; constants likewise with ``repr`` of an exact ``str``,
    ``int``, ``bool`` or finite ``float`` (anything else is refused; non-finite floats are bound as names, not
    written as literals); operators come from a fixed table. The code runs with an empty ``__builtins__``
    and only ``type``, ``str``, ``int``, ``float`` and ``bool`` in scope. A rule author therefore cannot
    get anything but comparisons into the generated code, whatever the YAML says. Trees too deep for the
    Python parser fall back to plain closures.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sanctions.evaluate.compiled import (
    FID,
    KIND,
    And,
    CompiledRulebook,
    Cond,
    Fact,
    JoinMatch,
    Match,
    Or,
    Scalar,
    Test,
    holds,
)

CALIBRATE_AFTER = 2_000
"""Facts of one kind seen before the index is re-chosen from observed value frequencies."""
MAX_DEPTH = 60
"""Condition trees deeper than this are evaluated by closures instead of generated code."""
MAX_GUARD = 64
"""A guard with more equalities than this is not worth a lookup; the pattern is then unguarded."""

Check = Callable[[Fact], bool]
GuardPair = tuple[str, type, Scalar]  # (key, exact type, value)
Guard = frozenset[GuardPair]

_ORDER_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SCALARS = (str, int, float, bool)


# ----------------------------------------------------------------------------------------------------------------
# Compiling conditions
# ----------------------------------------------------------------------------------------------------------------


class _Source:
    """Builds the source of one expression from a typed condition tree."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.names = names  # constants that cannot be literals (nan, inf), bound by name

    def const(self, v: Scalar) -> str:
        if type(v) not in _SCALARS:
            raise TypeError(f"a condition constant must be str, int, float or bool, not {type(v).__name__}")
        if type(v) is float and not math.isfinite(v):
            name = f"_k{len(self.names)}"
            self.names[name] = v
            return name
        return repr(v)

    def key(self, k: str) -> str:
        if type(k) is not str:
            raise TypeError(f"a fact key must be a str, not {type(k).__name__}")
        return f"f[{k!r}]"

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, Test):
            return self.test(cond)
        if isinstance(cond, And | Or):
            if not cond.parts:
                return "True" if isinstance(cond, And) else "False"
            joiner = " and " if isinstance(cond, And) else " or "
            return "(" + joiner.join(self.expr(p) for p in cond.parts) + ")"
        raise TypeError(f"not a condition: {type(cond).__name__}")

    def test(self, t: Test) -> str:
        v, c = self.key(t.key), self.const(t.value)
        if t.op in ("eq", "ne"):
            # v == c and type(v) is type(c); for bools 'is' says both at once (True/False are singletons)
            if type(t.value) is bool:
                same = f"({v} is {c})"
            else:
                same = f"(type({v}) is {type(t.value).__name__} and {v} == {c})"
            return same if t.op == "eq" else f"(not {same})"
        if t.op in _ORDER_OPS:
            return f"({v} {_ORDER_OPS[t.op]} {c})"
        raise ValueError(f"unknown operator {t.op!r}")


_SAFE_GLOBALS = {"__builtins__": {}, "type": type, "str": str, "int": int, "float": float, "bool": bool}


def _depth(cond: Cond) -> int:
    if isinstance(cond, Test):
        return 1
    return 1 + max((_depth(p) for p in cond.parts), default=0)


def _flatten(cond: Cond) -> Cond:
    """And(And(a, b), c) -> And(a, b, c): same truth value, same evaluation order, shallower code."""
    if isinstance(cond, Test):
        return cond
    typ = type(cond)
    parts: list[Cond] = []
    for p in cond.parts:
        p = _flatten(p)
        if type(p) is typ:
            parts.extend(p.parts)  # type: ignore[union-attr]
        else:
            parts.append(p)
    if len(parts) == 1:
        return parts[0]
    return typ(tuple(parts))


def compile_conditions(conds: Sequence[Cond]) -> list[Check]:
    """One fast predicate per condition; each gives exactly :func:`sanctions.evaluate.compiled.holds`."""
    names: dict[str, Any] = {}
    src = _Source(names)
    lines: list[str] = []
    fallback: dict[int, Check] = {}
    for i, cond in enumerate(conds):
        flat = _flatten(cond)
        if _depth(flat) > MAX_DEPTH:
            fallback[i] = _closure(flat)
            continue
        lines.append(f"def _c{i}(f):\n    return {src.expr(flat)}\n")
    namespace: dict[str, Any] = dict(_SAFE_GLOBALS)
    namespace.update(names)
    if lines:
        exec(compile("\n".join(lines), "<sanctions._batch generated>", "exec"), namespace)  # noqa: S102
    return [fallback[i] if i in fallback else namespace[f"_c{i}"] for i in range(len(conds))]


def _closure(cond: Cond) -> Check:
    """Closures for trees too deep to generate as one expression (iterative enough for any depth we see)."""
    if isinstance(cond, Test):
        return lambda f, t=cond: holds(t, f)
    parts = [_closure(p) for p in cond.parts]
    if isinstance(cond, And):
        return lambda f: all(p(f) for p in parts)
    return lambda f: any(p(f) for p in parts)


# ----------------------------------------------------------------------------------------------------------------
# Guards: equalities one of which must hold
# ----------------------------------------------------------------------------------------------------------------


def _usable(v: Scalar) -> bool:
    return type(v) in _SCALARS and not (type(v) is float and not math.isfinite(v))


def guards(cond: Cond) -> list[Guard]:
    """Alternative guards of a condition, each a set of (key, type, value) one of which holds when it does.

    ``[]`` means no guard could be derived. A ``Test`` ``eq`` gives one singleton guard; an ``Or`` gives the
    union of one guard per part (only if every part has one); an ``And`` offers each of its parts' guards.
    """
    if isinstance(cond, Test):
        if cond.op == "eq" and _usable(cond.value):
            return [frozenset({(cond.key, type(cond.value), cond.value)})]
        return []
    if isinstance(cond, And):
        out: list[Guard] = []
        for p in cond.parts:
            for g in guards(p):
                if g not in out:
                    out.append(g)
        return out
    # Or: every part must be guarded; take each part's smallest guard
    acc: set[GuardPair] = set()
    if not cond.parts:
        return []  # FALSE never holds; it needs no guard, but an empty guard would be confusing
    for p in cond.parts:
        gs = guards(p)
        if not gs:
            return []
        acc |= min(gs, key=len)
        if len(acc) > MAX_GUARD:
            return []
    return [frozenset(acc)]


@dataclass
class _KindIndex:
    """Patterns of one fact kind, with the index chosen for them."""

    always: tuple[int, ...]                                 # unguarded patterns
    by_key: tuple[tuple[str, dict[tuple[type, Scalar], tuple[int, ...]]], ...]


KEY_COST = 0.5
"""What looking one more key up on every fact costs, in pattern checks: a guard on a key no other pattern's guard
uses is chosen only when it saves more than that."""


def _choose_guards(candidates: Sequence[list[Guard]], cost: Callable[[Guard], float]) -> dict[int, Guard]:
    """One guard per guarded pattern, keeping the fact keys looked up few: every fact pays one lookup per key
    the index holds, and a pattern's guard is worth a key of its own only if it saves more checks than that.

    Starts from each pattern's cheapest guard and re-chooses, pattern by pattern, with the keys the others use
    counted as free, until no choice changes (at most a few rounds). Deterministic for the same inputs.
    """
    order = {g: (cost(g), len(g), sorted((k, repr(v)) for k, _, v in g)) for gs in candidates for g in gs}
    keys = {g: frozenset(k for k, _, _ in g) for g in order}
    chosen = {i: min(gs, key=order.__getitem__) for i, gs in enumerate(candidates) if gs}
    used: dict[str, int] = {}
    for g in chosen.values():
        for k in keys[g]:
            used[k] = used.get(k, 0) + 1
    for _ in range(8):
        changed = False
        for i, gs in enumerate(candidates):
            if len(gs) < 2:
                continue
            mine = chosen[i]
            for k in keys[mine]:  # the keys the other patterns use
                used[k] -= 1

            def total(g: Guard) -> tuple[Any, ...]:
                new = sum(1 for k in keys[g] if not used.get(k))
                return (order[g][0] + KEY_COST * new, *order[g])

            best = min(gs, key=total)
            for k in keys[best]:
                used[k] = used.get(k, 0) + 1
            if best != mine:
                chosen[i], changed = best, True
        if not changed:
            break
    return chosen


def _build_index(candidates: Sequence[list[Guard]], cost: Callable[[Guard], float]) -> _KindIndex:
    always: list[int] = []
    table: dict[str, dict[tuple[type, Scalar], list[int]]] = {}
    chosen = _choose_guards(candidates, cost)
    for i, gs in enumerate(candidates):
        if not gs:
            always.append(i)
            continue
        g = chosen[i]
        for key, typ, value in g:
            table.setdefault(key, {}).setdefault((typ, value), []).append(i)
    by_key = tuple((k, {tv: tuple(sorted(set(ix))) for tv, ix in d.items()}) for k, d in sorted(table.items()))
    return _KindIndex(tuple(always), by_key)


def _has_nan(key: tuple[tuple[type, Any], ...]) -> bool:
    return any(t is float and v != v for t, v in key)


def _static_cost(g: Guard) -> float:
    # before any facts are seen: a value that is a type's zero ('' / False / 0) is probably common
    return sum(1.0 if not v else 0.1 for _, _, v in g)


# ----------------------------------------------------------------------------------------------------------------
# The evaluator
# ----------------------------------------------------------------------------------------------------------------


class BatchEvaluator:
    """Evaluate a :class:`~sanctions.compiled.CompiledRulebook` with generated code and guard indexes.

    Args:
        compiled: The compiled rulebook.
        calibrate: Re-choose guards from the value frequencies of the first :data:`CALIBRATE_AFTER` facts of
            each kind (default). With ``False`` the static choice stays; answers are the same either way.

    Safe to call from several threads at once: the index is replaced by a single attribute assignment.
    """

    name = "batch"

    def __init__(self, compiled: CompiledRulebook, *, calibrate: bool = True) -> None:
        self.compiled = compiled
        pats = compiled.patterns
        checks = compile_conditions([p.cond for p in pats])
        self._kinds: dict[str, list[int]] = {}
        for i, p in enumerate(pats):
            self._kinds.setdefault(p.kind, []).append(i)
        # per kind: local pattern number -> (pattern id, check)
        self._ids = {k: tuple(pats[i].id for i in ix) for k, ix in self._kinds.items()}
        self._checks = {k: tuple(checks[i] for i in ix) for k, ix in self._kinds.items()}
        self._guards = {k: [guards(pats[i].cond) for i in ix] for k, ix in self._kinds.items()}
        self._index = {k: _build_index(g, _static_cost) for k, g in self._guards.items()}
        self._pending: dict[str, list[Fact]] = {k: [] for k in self._kinds} if calibrate else {}
        self._lock = threading.Lock()
        jp = compiled.join_patterns
        jchecks = compile_conditions([c for p in jp for c in (p.left, p.right)])
        self._joins = [(p, jchecks[2 * n], jchecks[2 * n + 1],
                        tuple(j for j in p.joins if j.op == "eq"), tuple(j for j in p.joins if j.op == "ne"))
                       for n, p in enumerate(jp)]

    # -- calibration -------------------------------------------------------------------------------------------

    def _observe(self, kind: str, facts: Sequence[Fact]) -> None:
        with self._lock:
            pending = self._pending.get(kind)
            if pending is None:
                return
            pending.extend(facts[: CALIBRATE_AFTER - len(pending)])
            if len(pending) < CALIBRATE_AFTER:
                return
            del self._pending[kind]
        counts: dict[GuardPair, int] = {}
        pairs = {pair for gs in self._guards[kind] for g in gs for pair in g}
        for f in pending:
            for key, typ, value in pairs:
                v = f.get(key)
                if type(v) is typ and v == value:
                    counts[(key, typ, value)] = counts.get((key, typ, value), 0) + 1
        n = len(pending)
        index = _build_index(self._guards[kind], lambda g: sum(counts.get(p, 0) for p in g) / n)
        self._index = {**self._index, kind: index}

    # -- Evaluator ---------------------------------------------------------------------------------------------

    def match(self, facts: Sequence[Fact]) -> set[Match]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.match`."""
        if self._pending:
            by_kind: dict[str, list[Fact]] = {}
            for f in facts:
                by_kind.setdefault(f[KIND], []).append(f)  # type: ignore[arg-type]
            for kind, fs in by_kind.items():
                if kind in self._pending:
                    self._observe(kind, fs)
        index = self._index
        out: set[Match] = set()
        for f in facts:
            kind = f[KIND]
            ix = index.get(kind)  # type: ignore[call-overload]
            if ix is None:
                continue
            checks = self._checks[kind]  # type: ignore[index]
            ids = self._ids[kind]  # type: ignore[index]
            hits: set[int] | None = None
            for key, table in ix.by_key:
                v = f[key]
                hit = table.get((type(v), v))
                if hit:
                    if hits is None:
                        hits = set(ix.always)
                    hits.update(hit)
            todo = ix.always if hits is None else hits
            fid = None
            for i in todo:
                if checks[i](f):
                    if fid is None:
                        fid = int(f[FID])
                    out.add(Match(ids[i], fid))
        return out

    def join(self, facts: Sequence[Fact]) -> set[JoinMatch]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.join`."""
        out: set[JoinMatch] = set()
        for p, left_ok, right_ok, eqs, nes in self._joins:
            lefts = [f for f in facts if f[KIND] == p.left_kind and left_ok(f)]
            if not lefts:
                continue
            rights = [f for f in facts if f[KIND] == p.right_kind and right_ok(f)]
            if not rights:
                continue
            if eqs:
                # (type, value) tuples compare exactly like the eq relation, except NaN (a tuple compares
                # items by identity first), and NaN equals nothing: facts with a NaN join value are left out
                table: dict[tuple[Any, ...], list[Fact]] = {}
                for a in lefts:
                    k = tuple((type(a[j.left_key]), a[j.left_key]) for j in eqs)
                    if not _has_nan(k):
                        table.setdefault(k, []).append(a)
                pairs = ((a, b) for b in rights
                         for a in table.get(tuple((type(b[j.right_key]), b[j.right_key]) for j in eqs), ()))
            else:
                pairs = ((a, b) for a in lefts for b in rights)
            for a, b in pairs:
                if a[FID] == b[FID]:
                    continue
                if all(not (a[j.left_key] == b[j.right_key] and type(a[j.left_key]) is type(b[j.right_key]))
                       for j in nes):
                    out.add(JoinMatch(p.id, int(a[FID]), int(b[FID])))
        return out
