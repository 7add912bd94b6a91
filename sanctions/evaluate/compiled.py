"""The engine-neutral form of a rulebook.

Rule files (YAML, see :mod:`sanctions.rulebook.loader`) compile to the small vocabulary in this module, and every
evaluator (the durable-rules adapter in :mod:`sanctions.evaluate._durable`, the plain evaluator in
:mod:`sanctions.evaluate.reference`, the batch path) works on this vocabulary only. Nothing here knows about
transfers, resolutions or YAML.

Facts
    A fact is a flat ``dict`` from key to a scalar (``str``, ``int``, ``float`` or ``bool``). Facts are
    *total*: every key that any pattern of the rulebook tests is present in every fact of the kind the
    pattern matches, with a type-consistent default, and absence is a separate boolean key
    ``"has:" + key``. There is no ``None`` in a fact. Every fact carries ``FID`` (an ``int`` unique within
    one check) and ``KIND`` (one of :data:`FACT_KINDS`).

Conditions
    A condition is a tree of :class:`And`, :class:`Or` and :class:`Test` leaves. Negation has already been
    pushed down to the leaves by the compiler, so an evaluator needs no ``not``. Equality is the only test
    on strings; ordering tests (``lt`` .. ``ge``) are only ever made on numbers.

Patterns
    A :class:`Pattern` matches single facts of one kind. A :class:`JoinPattern` matches a pair of facts
    (a *left* fact and a *right* fact) that each satisfy their own condition and, together, a list of
    :class:`Join` equalities or inequalities between a key of the left fact and a key of the right fact.

Unknown values (three-valued facts)
    A fact may say that the value under a key is *unknown* (a flag whose state is not known, a category of
    which only the general class is known): it then carries ``unknown_key(key)`` (``"?" + key``) set to
    ``True``, and the key itself holds its default. A condition is read in Kleene's three-valued logic: a
    leaf on an unknown key is neither true nor false, ``and``/``or`` combine as usual. Evaluators never see
    a third value: the compiler gives each rule two two-valued patterns, :func:`must` (true exactly when the
    condition is true whatever the unknown values are) and :func:`could` (true when it is true for some of
    them), by guarding each leaf on a key that may be unknown with its ``"?"`` flag. A rule whose *could*
    pattern matches and whose *must* pattern does not turns on an unknown fact. Because negation is pushed to
    the leaves before the guards are added, the two forms are exact, and an evaluator that gives the
    two-valued semantics below gives the three-valued semantics too.

An evaluator answers which patterns matched which facts: a set of :class:`Match` for single patterns, a
set of :class:`JoinMatch` for join patterns. Everything else (dates in force, exemptions, explanations) is
decided above the evaluator from those sets, by code shared between evaluators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

Scalar: TypeAlias = str | int | float | bool
Fact: TypeAlias = Mapping[str, Scalar]

FID = "fid"
"""Key of the fact id, unique within one check."""
KIND = "kind"
"""Key of the fact kind."""
FACT_KINDS = ("transfer", "item", "finding")

Op = Literal["eq", "ne", "lt", "le", "gt", "ge"]
ORDERING_OPS: frozenset[str] = frozenset({"lt", "le", "gt", "ge"})
NEGATION: Mapping[str, Op] = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt"}


@dataclass(frozen=True, slots=True)
class Test:
    """Compare the value under ``key`` with a constant: ``fact[key] <op> value``."""

    key: str
    op: Op
    value: Scalar


@dataclass(frozen=True, slots=True)
class And:
    """True when every part is true (and when there are no parts)."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """True when at least one part is true (false when there are no parts)."""

    parts: tuple[Cond, ...]


Cond: TypeAlias = Test | And | Or

TRUE: Cond = And(())
FALSE: Cond = Or(())


@dataclass(frozen=True, slots=True)
class Pattern:
    """A condition on single facts of one kind.

    Attributes:
        id: Unique within a compiled rulebook (a rule id, or ``rule_id + "/" + exemption_id``).
        kind: The fact kind it matches (``"transfer"`` or ``"item"``).
        cond: The condition.
    """

    id: str
    kind: str
    cond: Cond


@dataclass(frozen=True, slots=True)
class Join:
    """``left[left_key] <op> right[right_key]`` with ``op`` ``"eq"`` or ``"ne"``."""

    left_key: str
    op: Literal["eq", "ne"]
    right_key: str


@dataclass(frozen=True, slots=True)
class JoinPattern:
    """A condition on pairs of facts: the join a Rete network is built for.

    Attributes:
        id: Unique within a compiled rulebook.
        left_kind, right_kind: The fact kinds of the two sides.
        left, right: The condition each side must satisfy on its own.
        joins: Relations between the two sides, all of which must hold.
    """

    id: str
    left_kind: str
    left: Cond
    right_kind: str
    right: Cond
    joins: tuple[Join, ...]


@dataclass(frozen=True, slots=True, order=True)
class Match:
    """Pattern ``pattern_id`` matched the fact with id ``fid``."""

    pattern_id: str
    fid: int


@dataclass(frozen=True, slots=True, order=True)
class JoinMatch:
    """Join pattern ``pattern_id`` matched the pair (``left_fid``, ``right_fid``)."""

    pattern_id: str
    left_fid: int
    right_fid: int


class Evaluator(Protocol):
    """What every evaluator of compiled patterns provides.

    An evaluator is built once for a rulebook (the patterns do not change) and is then asked many times.
    It must be safe to call from several threads at once.
    """

    name: str

    def match(self, facts: Sequence[Fact]) -> set[Match]:
        """Every (pattern, fact) pair where the fact has the pattern's kind and satisfies its condition."""
        ...

    def join(self, facts: Sequence[Fact]) -> set[JoinMatch]:
        """Every (join pattern, left fact, right fact) triple that satisfies the join pattern.

        The left and right facts are always two different facts.
        """
        ...


def leaves(cond: Cond) -> Iterable[Test]:
    """Every test of a condition, depth first."""
    if isinstance(cond, Test):
        yield cond
    else:
        for part in cond.parts:
            yield from leaves(part)


def keys_of(cond: Cond) -> set[str]:
    """Every fact key a condition tests."""
    return {t.key for t in leaves(cond)}


def constants_of(cond: Cond) -> set[Scalar]:
    """Every constant a condition compares with."""
    return {t.value for t in leaves(cond)}


def negate(cond: Cond) -> Cond:
    """The negation of ``cond``, with ``not`` pushed down to the leaves (De Morgan).

    Negating an ordering test is exact because facts are total and numeric keys always hold numbers.
    """
    if isinstance(cond, Test):
        return Test(cond.key, NEGATION[cond.op], cond.value)
    if isinstance(cond, And):
        return Or(tuple(negate(p) for p in cond.parts))
    return And(tuple(negate(p) for p in cond.parts))


def test(fact: Fact, t: Test) -> bool:
    """Evaluate one leaf on one fact. The one definition of the leaf semantics, shared by evaluators."""
    v = fact[t.key]
    match t.op:
        case "eq":
            return v == t.value and type(v) is type(t.value)
        case "ne":
            return not (v == t.value and type(v) is type(t.value))
        case "lt":
            return v < t.value  # type: ignore[operator]
        case "le":
            return v <= t.value  # type: ignore[operator]
        case "gt":
            return v > t.value  # type: ignore[operator]
        case "ge":
            return v >= t.value  # type: ignore[operator]
    raise ValueError(f"unknown operator {t.op!r}")


UNKNOWN_PREFIX = "?"
ANY_UNKNOWN = UNKNOWN_PREFIX + "*"
"""Key of the boolean 'some key of this fact is unknown': every *could* pattern starts with it, so that facts
with nothing unknown (where *could* and *must* agree) are dismissed by its first test."""
COULD_SUFFIX = "~could"
"""Suffix of the id of a rule's (or an exemption's) *could* pattern; the *must* pattern keeps the plain id."""


def unknown_key(key: str) -> str:
    """Key of the boolean 'the value under ``key`` is not known'."""
    return UNKNOWN_PREFIX + key


def is_unknown_key(key: str) -> bool:
    """Whether ``key`` is an unknown flag made by :func:`unknown_key`."""
    return key.startswith(UNKNOWN_PREFIX)


def must(cond: Cond, may_be_unknown: Callable[[str], bool], default: Callable[[str], Scalar]) -> Cond:
    """The condition that holds when ``cond`` is true in Kleene logic: every leaf it relies on is known.

    Args:
        cond: A condition with negation at the leaves.
        may_be_unknown: Whether a key may be unknown in some fact; other leaves are left as they are.
        default: The value an unknown key holds in a fact (its default); a leaf that is false on it needs no
            guard, because an unknown key then cannot make it hold.
    """
    if isinstance(cond, Test):
        if not may_be_unknown(cond.key) or not test({cond.key: default(cond.key)}, cond):
            return cond
        return And((Test(unknown_key(cond.key), "eq", False), cond))
    parts = tuple(must(p, may_be_unknown, default) for p in cond.parts)
    return And(parts) if isinstance(cond, And) else Or(parts)


def could(cond: Cond, may_be_unknown: Callable[[str], bool], default: Callable[[str], Scalar]) -> Cond:
    """The condition that holds when ``cond`` is true or unknown in Kleene logic (not known to be false).

    Arguments as in :func:`must`; a leaf that is true on the default needs no guard.
    """
    if isinstance(cond, Test):
        if not may_be_unknown(cond.key) or test({cond.key: default(cond.key)}, cond):
            return cond
        return Or((Test(unknown_key(cond.key), "eq", True), cond))
    parts = tuple(could(p, may_be_unknown, default) for p in cond.parts)
    return And(parts) if isinstance(cond, And) else Or(parts)


def holds(cond: Cond, fact: Fact) -> bool:
    """Evaluate a condition on one fact."""
    if isinstance(cond, Test):
        return test(fact, cond)
    if isinstance(cond, And):
        return all(holds(p, fact) for p in cond.parts)
    return any(holds(p, fact) for p in cond.parts)


def joined(j: Join, left: Fact, right: Fact) -> bool:
    """Evaluate one join relation on a pair of facts."""
    a, b = left[j.left_key], right[j.right_key]
    same = a == b and type(a) is type(b)
    return same if j.op == "eq" else not same


@dataclass(frozen=True, slots=True)
class CompiledRulebook:
    """Everything an evaluator needs, and nothing more.

    Attributes:
        patterns: Single-fact patterns, sorted by id.
        join_patterns: Two-fact patterns, sorted by id.
        defaults: For every fact kind, every key its patterns test, with the default value a fact of that
            kind carries when the source has no value (so that facts are total).
    """

    patterns: tuple[Pattern, ...]
    join_patterns: tuple[JoinPattern, ...]
    defaults: Mapping[str, Mapping[str, Scalar]]

    def pattern_ids(self) -> list[str]:
        """Ids of all patterns, single and join."""
        return [p.id for p in self.patterns] + [p.id for p in self.join_patterns]


def all_conditions(patterns: Iterable[Pattern | JoinPattern]) -> Iterable[Cond]:
    """Every condition in a set of patterns."""
    for p in patterns:
        if isinstance(p, Pattern):
            yield p.cond
        else:
            yield p.left
            yield p.right
