"""The durable-rules adapter: compiled patterns evaluated by the durable-rules 2.0.28 Rete engine (private).

Use it through :func:`sanctions.evaluate.make_evaluator`. :class:`DurableEvaluator` implements
:class:`sanctions.evaluate.compiled.Evaluator` and gives exactly the answers of
:class:`sanctions.evaluate.reference.ReferenceEvaluator`; :func:`available` says whether durable-rules imports here.
Importing this module never needs durable-rules; only building a :class:`DurableEvaluator` does.

What the native engine sees
    Only what cannot crash it: small ASCII property names and small non-negative integers. Every fact key a
    pattern tests is renamed to a generated name (``k0``, ``k1``, ...; checked for 32-bit FNV hash
    collisions, because durable-rules tells properties apart by that hash alone) and every value is replaced
    by a *rank code* (:class:`_Codec`): the constants a key is compared with, sorted, cut the value line into
    slots (one per constant and type, one for "equal in value but of another type", one per gap), so that
    ``eq``/``ne`` keep their type-and-value meaning and ``lt``..``ge`` their order, and a string or number
    that equals no constant gets a code equal to none. Keys used by :class:`~sanctions.compiled.Join`
    relations get a second property holding a per-call id of the (type, value) pair. Strings never reach
    the engine, and a fact value that is not a finite float, an int within +-2**53, a bool or a str is
    refused with :class:`~sanctions.exc.EngineError` before any native call.

Rulesets
    Each ruleset is built with ``durable.engine.Ruleset(name, None, definition)``: the JSON-like dict form,
    without a ``durable.engine.Host``. A Host starts two timer threads that call into the engine for every
    ruleset every 0.2 s without any lock and run pending actions themselves, so a match could be taken by
    the timer thread and lost to the caller (seen by experiment). All native calls, ruleset creation and
    deletion included, happen under one module-level lock, and only this module should use durable-rules
    in a process (the engine's handle table is global and not thread-safe). Ruleset names carry a
    process-wide evaluator number, so evaluators of different rulebooks coexist. Definitions look like::

        {"r0": {"all": [{"m": {"$and": [{"k1": 4}, {"$or": [{"$neq": {"k2": 3}}, {"$lt": {"k3": 9}}]}]}}],
                "run": <callback>},
         "ca": {"all": [{"m": {"c": 1}}], "run": <no-op>}}

    ``eq`` is written ``{"k1": 4}``, the others ``$neq``, ``$lt``, ``$lte``, ``$gt``, ``$gte``. The regex
    operator ``$mt`` (broken) and existence tests (``$ex`` on ``sid`` hangs) are never used.

Unknown values
    Three-valued facts reach this adapter as ordinary patterns (a rule's *must* and *could* patterns, see
    :mod:`sanctions.evaluate.compiled`) over ordinary boolean keys (``"?" + key``, ``"?*"``): they are renamed
    and rank-coded like every other key, so no new native behaviour is used. They add patterns and properties,
    which the sharding below accounts for like any others.

Catch-all
    Every fact carries ``"c": 1`` and every ruleset has the rule ``ca`` (``{"m": {"c": 1}}``, a no-op
    callback) that every fact matches and fires, so no fact is ever unhandled: an unhandled fact makes
    ``assert_facts`` raise ``MessageNotHandledException`` part-way through a batch and makes ``delete_state``
    segfault. A cheaper catch-all that every fact enters but that never fires (a second frame no fact
    matches) is *not* enough: ``delete_state`` then segfaults on a session where nothing fired (seen by
    experiment).

Sessions
    Facts only (``assert_facts``), never events (an event is consumed by the first rule that matches it).
    Each call uses one fresh session id and deletes the session of every ruleset it touched before returning,
    so at most one session per ruleset is ever alive (durable-rules holds 1,024). If a native call fails
    part-way, deleting that session can segfault, so the whole ruleset is deleted instead (which frees its
    memory without walking its sessions) and rebuilt on the next call; the evaluator stays usable.

Joins
    A :class:`~sanctions.compiled.JoinPattern` runs in two passes. First the side conditions run as
    single-fact patterns and set flag properties (``k7: 1`` = "satisfies the left side of join 0"). Then a
    real two-frame rule pairs the flagged facts, with the relations as cross-fact references in the right
    frame::

        {"all": [{"l": {"k7": 1}},
                 {"r": {"$and": [{"k8": 1}, {"$neq": {"k0": {"l": "k0"}}}, {"k5": {"l": "k4"}},
                                 {"c": {"l": "c"}}]}}]}

    ``{"k5": {"l": "k4"}}`` means right.k5 == left.k4 (``$neq`` for ``ne``). ``k0`` holds a per-call id of the
    fact id, so a fact is never paired with itself (durable's default "distinct" agrees). The last
    reference is always true and must stay last: durable-rules 2.0.28 reads past the end of a frame's
    expression sequence when the last expression of an ``$and`` is false (found with valgrind; it
    segfaults under some heap layouts). The same code evaluates ``$and``/``$or`` groups without looking at
    the alpha tests inside them, which is why ``$or`` never shares a frame with references (the reference
    is then silently ignored) and why side conditions become flags. Facts are not consumed by firing: every
    qualifying pair fires once, whatever the order of assertion.

Sharding and the engine's fixed-size tables
    durable-rules 2.0.28 has fixed limits that it reports badly or not at all: 32 expression entries per
    frame (each ``$and``/``$or`` takes two, each reference one; error 113), 64 entries on the stack it walks
    the alpha network with (error 303, then ``delete_state`` segfaults), 512 hash buckets of children per
    alpha node (full means an endless loop: the 512-rule hang), 128 forward links and 256 rule links per
    node, 255 properties per fact. Patterns are therefore split and sharded: a pattern's top-level ``or``
    becomes several rules, and an ``or`` under its top-level ``and`` is distributed over several rules
    while the pattern would not fit alone; then rules are packed greedily into rulesets of at most 200
    rules, checked against a model of the alpha network durable-rules will build (:class:`_Model`,
    including a worst-case bound of that stack). Single-fact rulesets hold one fact kind each, so a fact is
    only sent to rulesets of its kind, with only the properties their rules use.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sanctions.evaluate.compiled import FID, KIND, And, CompiledRulebook, Cond, Fact, JoinMatch, Match, Test

try:
    from sanctions.exc import EngineError
except (
    ImportError
):  # pragma: no cover - sanctions.exc is part of the package; this keeps the adapter standalone

    class EngineError(RuntimeError):  # type: ignore[no-redef]
        """An evaluator refused its input or failed."""

        code = "engine-error"


__all__ = ["DurableEvaluator", "EngineError", "available"]

# -- the engine's limits (durable-rules 2.0.28, src/rules/*.h), with a margin --------------------------------

_MAX_RULES = 200  # per ruleset; 512 and more fail or hang
_MAX_STACK = 48  # events.c MAX_STACK_SIZE 64: alpha nodes pending while one fact is matched
_MAX_KIDS = 400  # rules.h NEXT_BUCKET_LENGTH 512: children of one alpha node (full table: endless loop)
_MAX_FORWARDS = 100  # rules.h NEXT_LIST_LENGTH 128: forward ($or) links of one alpha node
_MAX_BETAS = 200  # rules.h BETA_LIST_LENGTH 256: frames ending at one alpha node
_MAX_PROPS = 200  # state.h MAX_OBJECT_PROPERTIES 255 per fact, less sid, id and c
_MAX_EXPR = 30  # rete.h MAX_SEQUENCE_EXPRESSIONS 32 per frame: 2 per $and/$or, 1 per reference
_MAX_RULES_PER_PATTERN = 4096  # splitting a pattern into more rules than this is refused
_MAX_FACTS = 500_000  # message ids are told apart by a 32-bit FNV hash; decimal ids first collide at 797,186
_INT_LIMIT = 2**53

_CATCH_KEY = "c"
_RESERVED_NAMES = ("sid", "id", _CATCH_KEY, "$s", "$forward", "$sid", "$l", "$r")

# -- loading durable-rules lazily ----------------------------------------------------------------------------

_load_lock = threading.Lock()
_loaded: tuple[Any, Any] | None = None
_load_error: str | None = None


def _load() -> tuple[Any, Any] | None:
    """``(durable.engine, durable_rules_engine)``, or None (and ``_load_error`` set) if they do not import."""
    global _loaded, _load_error
    with _load_lock:
        if _loaded is None and _load_error is None:
            try:
                import durable_rules_engine as native
                from durable import engine
            except KeyboardInterrupt:
                raise
            # ImportError, or OSError from a broken build, or anything else: report it, never raise
            except BaseException as err:  # noqa: BLE001
                _load_error = _why_not(err)
            else:
                _quiet_clock(engine)
                _loaded = (engine, native)
        return _loaded


def _epoch_seconds_local() -> float:
    """durable-rules' own clock (local wall time counted from 1970-01-01), without ``utcfromtimestamp``."""
    return (datetime.datetime.now() - _EPOCH).total_seconds()


_EPOCH = datetime.datetime(1970, 1, 1)


def _quiet_clock(engine: Any) -> None:
    """Replace durable-rules 2.0.28's ``_unix_now``, which calls ``datetime.utcfromtimestamp`` (deprecated since
    Python 3.12) once per fact and so floods every run with DeprecationWarnings, by the same arithmetic without
    the deprecated call: the warnings are stopped where they come from, and real ones stay visible."""
    if hasattr(engine, "_unix_now"):
        engine._unix_now = _epoch_seconds_local


def _why_not(err: BaseException) -> str:
    text = (
        f"durable-rules does not import on Python {sys.version_info.major}.{sys.version_info.minor} "
        f"({type(err).__name__}: {err})"
    )
    if sys.version_info >= (3, 13):
        text += (
            "; durable-rules 2.0.28 is source-only and builds on Python 3.13+ only with an extra"
            " compiler flag"
        )
    return text


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("durable-rules")
    except Exception:  # noqa: BLE001 - metadata is only decoration here
        return "unknown version"


def available() -> tuple[bool, str]:
    """Whether durable-rules imports here, and why not if it does not. Never raises.

    Returns:
        ``(True, "durable-rules 2.0.28")`` or ``(False, reason)``, e.g. when the package is not installed, or
        its native part did not build (Python 3.13+ without the build flag, no C compiler).
    """
    try:
        if _load() is None:
            return False, _load_error or "durable-rules does not import"
        return True, f"durable-rules {_version()}"
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001  # pragma: no cover - available() must not raise
        return False, f"durable-rules could not be checked ({type(err).__name__}: {err})"


# -- one lock for every native call --------------------------------------------------------------------------

_LOCK = threading.Lock()
_EVALUATORS = itertools.count(1)
_SESSIONS = itertools.count(1)
_RETIRED: list[Any] = []  # rulesets of evaluators that were garbage-collected; deleted under the lock


def _delete_ruleset(ruleset: Any) -> None:
    """Free a ruleset. Call with ``_LOCK`` held. Deleting a ruleset does not walk its sessions, so it is safe
    even when a failed call left a session behind (deleting that session could segfault)."""
    loaded = _loaded
    if loaded is None:  # pragma: no cover - there is no ruleset without durable-rules
        return
    try:
        loaded[1].delete_ruleset(ruleset._handle)
    except Exception:  # noqa: BLE001, S110  # pragma: no cover - an invalid handle: nothing left to free
        pass


def _drain_retired() -> None:
    """Delete the rulesets of collected evaluators. Call with ``_LOCK`` held."""
    while _RETIRED:
        _delete_ruleset(_RETIRED.pop())


def _retire_later(shards: list[_Shard]) -> None:
    """Finalizer of a collected evaluator: queue its rulesets (no lock here: finalizers run anywhere)."""
    for s in shards:
        if s.ruleset is not None:
            _RETIRED.append(s.ruleset)
            s.ruleset = None


# -- names the engine sees -----------------------------------------------------------------------------------


def _fnv1_32(text: str) -> int:
    """durable-rules' property-name hash (FNV-1, 32 bits, over ASCII)."""
    h = 0x811C9DC5
    for byte in text.encode("ascii"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


class _Names:
    """Generated property names ``k0``, ``k1``, ...; their hashes differ from each other and reserved ones."""

    def __init__(self) -> None:
        self._taken = {_fnv1_32(n) for n in _RESERVED_NAMES} | {739185624}  # rete.c HASH_FORWARD
        self._counter = itertools.count()

    def new(self) -> str:
        while True:
            name = f"k{next(self._counter)}"
            h = _fnv1_32(name)
            if h not in self._taken:
                self._taken.add(h)
                return name


# -- values the engine sees ----------------------------------------------------------------------------------


def _domain(v: Any) -> str:
    return "str" if isinstance(v, str) else "num"


def _show(v: Any, limit: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(what: str | int, key: str) -> str:
    return f"fact {what}, key {key!r}" if isinstance(what, int) else f"{what}, key {key!r}"


def _check_scalar(v: Any, what: str | int, key: str) -> None:
    """Refuse what the engine must never see (every value that is read, before any native call)."""
    if isinstance(v, str):
        return
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        if -_INT_LIMIT <= v <= _INT_LIMIT:
            return
        raise EngineError(
            f"{_where(what, key)}: integer {_show(v)} is outside +-2**53; the durable adapter refuses it"
        )
    if isinstance(v, float):
        if math.isfinite(v):
            return
        raise EngineError(
            f"{_where(what, key)}: {v!r} is not a finite number; the durable adapter refuses it"
        )
    raise EngineError(
        f"{_where(what, key)}: {_show(v)} is a {type(v).__name__}, not a str, int, float or bool"
    )


class _Codec:
    """Rank codes of one key's values, exact for type-and-value ``eq``/``ne`` and for ``lt``..``ge``.

    The constants the key is compared with are grouped into classes of equal value (``1``, ``1.0`` and
    ``True`` are one class), sorted within their domain (numbers, strings). Each class gets a block of codes:
    one per type among its constants, then one for a value equal to the class but of another type; each gap
    between classes gets a code. Code 0 is a value of a domain the key has no constants of.
    """

    def __init__(self, key: str, tests: Iterable[Test]) -> None:
        self.key = key
        consts: list[Any] = []
        self.ordered_domains: set[str] = set()
        for t in tests:
            consts.append(t.value)
            if t.op in ("lt", "le", "gt", "ge"):
                self.ordered_domains.add(_domain(t.value))
        self._domains: dict[str, tuple[list[Any], list[tuple[dict[type, int], int, int]], list[int]]] = {}
        code = 1
        for dom in ("num", "str"):
            values = sorted(c for c in consts if _domain(c) == dom)
            if not values:
                continue
            classes: list[tuple[Any, set[type]]] = []
            for v in values:
                if classes and classes[-1][0] == v:
                    classes[-1][1].add(type(v))
                else:
                    classes.append((v, {type(v)}))
            blocks: list[tuple[dict[type, int], int, int]] = []
            gaps: list[int] = []
            for _, types in classes:
                gaps.append(code)
                code += 1
                start = code
                slots: dict[type, int] = {}
                for typ in sorted(types, key=lambda t: t.__name__):
                    slots[typ] = code
                    code += 1
                blocks.append((slots, code, start))  # (slots, other-type slot = end of block, start of block)
                code += 1
            gaps.append(code)
            code += 1
            self._domains[dom] = ([c[0] for c in classes], blocks, gaps)

    def encode(self, v: Any, pos: int) -> int:
        dom = _domain(v)
        if self.ordered_domains - {dom}:
            raise EngineError(
                f"{_where(pos, self.key)}: {_show(v)} cannot be ordered against the constants of key "
                f"{self.key!r} (the compiled form tests order on its other type)"
            )
        entry = self._domains.get(dom)
        if entry is None:
            return 0
        values, blocks, gaps = entry
        i = bisect.bisect_left(values, v)
        if i < len(values) and values[i] == v:
            slots, other, _ = blocks[i]
            return slots.get(type(v), other)
        return gaps[i]

    def leaf(self, name: str, t: Test) -> tuple[Any, ...]:
        """The engine test for ``t``: ``("t", name, op, code)``."""
        values, blocks, _ = self._domains[_domain(t.value)]
        i = bisect.bisect_left(values, t.value)
        slots, end, start = blocks[i]
        code = {
            "eq": slots[type(t.value)],
            "ne": slots[type(t.value)],
            "lt": start,
            "le": end,
            "gt": end,
            "ge": start,
        }[t.op]
        return ("t", name, t.op, code)


# -- engine expressions --------------------------------------------------------------------------------------
# Leaves: ("t", name, op, code) compares a property with a constant; ("ref", name, op, frame, other) compares
# it
# with property ``other`` of the fact bound to ``frame``. Inner nodes: ("and", parts), ("or", parts).

Expr = tuple[Any, ...]
_TRUE: Expr = ("and", ())
_FALSE: Expr = ("or", ())
_TRUE_LEAF: Expr = ("t", _CATCH_KEY, "eq", 1)  # every fact sent carries c = 1
_DOP = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
# Always true (both facts carry c = 1). It ends the reference list of every join frame: in durable-rules
# 2.0.28 a false expression that is the last of an $and makes reduceExpressionSequence (events.c) skip past
# the end of the sequence, reading out of bounds until it meets a byte that looks like OP_END (seen with
# valgrind; a segfault at times).
_LAST_REF: Expr = ("ref", _CATCH_KEY, "eq", "l", _CATCH_KEY)


def _norm(e: Expr) -> Expr:
    """Flatten nested and/or, drop duplicates and identities, fold constants, unwrap single parts."""
    tag = e[0]
    if tag not in ("and", "or"):
        return e
    absorbing = _FALSE if tag == "and" else _TRUE
    parts: list[Expr] = []
    seen: set[Expr] = set()
    for p in e[1]:
        p = _norm(p)
        if p == absorbing:
            return absorbing
        for q in p[1] if p[0] == tag else (p,):
            if q not in seen:
                seen.add(q)
                parts.append(q)
    if len(parts) == 1:
        return parts[0]
    return (tag, tuple(parts))


def _cost(e: Expr) -> int:
    """Entries ``e`` takes in its frame's expression sequence."""
    if e[0] in ("and", "or"):
        return 2 + sum(_cost(p) for p in e[1])
    return 1 if e[0] == "ref" else 0


def _names_of(e: Expr) -> set[str]:
    if e[0] in ("and", "or"):
        out: set[str] = set()
        for p in e[1]:
            out |= _names_of(p)
        return out
    return {e[1]} if e[0] == "t" else {e[1], e[4]}


def _json(e: Expr) -> Any:
    tag = e[0]
    if tag in ("and", "or"):
        return {"$" + tag: [_json(p) for p in e[1]]}
    inner = {e[1]: e[3]} if tag == "t" else {e[1]: {e[3]: e[4]}}
    return inner if e[2] == "eq" else {_DOP[e[2]]: inner}


def _most_true(tests: list[tuple[str, int]]) -> int:
    """Most of ``tests`` (``(op, code)`` on one property) that one value satisfies at once."""
    eq: dict[int, int] = {}
    ne: dict[int, int] = {}
    bounds: dict[str, list[int]] = {"lt": [], "le": [], "gt": [], "ge": []}
    for op, c in tests:
        if op == "eq":
            eq[c] = eq.get(c, 0) + 1
        elif op == "ne":
            ne[c] = ne.get(c, 0) + 1
        else:
            bounds[op].append(c)
    for b in bounds.values():
        b.sort()
    lt, le, gt, ge = bounds["lt"], bounds["le"], bounds["gt"], bounds["ge"]
    n_ne = sum(ne.values())
    best = 0
    for v in {c + d for _, c in tests for d in (-1, 0, 1)}:
        n = (
            eq.get(v, 0)
            + n_ne
            - ne.get(v, 0)
            + len(lt)
            - bisect.bisect_right(lt, v)  # v < c
            + len(le)
            - bisect.bisect_left(le, v)  # v <= c
            + bisect.bisect_left(gt, v)  # v > c
            + bisect.bisect_right(ge, v)
        )  # v >= c
        best = max(best, n)
    return best


# -- a model of durable's alpha network ----------------------------------------------------------------------


class _Alpha:
    __slots__ = ("_m", "betas", "fwd", "kids", "leaf")

    def __init__(self, leaf: Expr | None = None) -> None:
        self.kids: dict[tuple[Any, ...], _Alpha] = {}
        self.fwd: list[_Alpha] = []
        self.betas = 0
        self.leaf = leaf
        self._m: int | None = None

    def pushes(self) -> int:
        """Most children one fact can push on the engine's stack from this node (forward links always)."""
        if self._m is None:
            refs = 0
            by_name: dict[str, list[tuple[str, int]]] = {}
            for kid in self.kids.values():
                leaf = kid.leaf
                assert leaf is not None
                if leaf[0] == "ref":
                    refs += 1  # a reference node is pushed whenever the fact has the property
                else:
                    by_name.setdefault(leaf[1], []).append((leaf[2], leaf[3]))
            self._m = refs + sum(_most_true(tests) for tests in by_name.values())
        return self._m + len(self.fwd)


class _Model:
    """The alpha network durable-rules builds from a set of frame expressions (rete.c ``createAlpha``).

    A test becomes a child of the node before it (shared when equal), ``$and`` chains its parts, and ``$or``
    hangs each part off the parent and links each part's end to a fresh forward node.
    """

    def __init__(self) -> None:
        self.root = _Alpha()
        self.max_kids = 0
        self.max_fwd = 0
        self.max_betas = 0

    def _add(self, e: Expr, parent: _Alpha) -> _Alpha:
        tag = e[0]
        if tag == "and":
            for p in e[1]:
                parent = self._add(p, parent)
            return parent
        if tag == "or":
            forward = _Alpha()
            for p in e[1]:
                end = self._add(p, parent)
                end.fwd.append(forward)
                self.max_fwd = max(self.max_fwd, len(end.fwd))
            return forward
        key = e[1:]
        node = parent.kids.get(key)
        if node is None:
            node = parent.kids[key] = _Alpha(e)
            parent._m = None
            self.max_kids = max(self.max_kids, len(parent.kids))
        return node

    def add_frame(self, e: Expr) -> None:
        end = self._add(e, self.root)
        end.betas += 1
        self.max_betas = max(self.max_betas, end.betas)

    def peak(self) -> int:
        """A bound on the engine's stack while it matches one fact: pushing m children from a node peaks at
        m, or at m - 1 (siblings still waiting) plus the peak under the child being walked."""
        memo: dict[int, int] = {}
        todo: list[tuple[_Alpha, bool]] = [(self.root, False)]
        while todo:
            node, expanded = todo.pop()
            if id(node) in memo:
                continue
            children = list(node.kids.values()) + node.fwd
            if not expanded:
                todo.append((node, True))
                todo.extend((c, False) for c in children if id(c) not in memo)
                continue
            m = node.pushes()
            memo[id(node)] = 0 if m == 0 else max(m, m - 1 + max((memo[id(c)] for c in children), default=0))
        return memo[id(self.root)]

    def fits(self) -> bool:
        return (
            self.max_kids <= _MAX_KIDS
            and self.max_fwd <= _MAX_FORWARDS
            and self.max_betas <= _MAX_BETAS
            and self.peak() <= _MAX_STACK
        )


_CATCH_ALL: tuple[tuple[str, Expr], ...] = (("m", ("t", _CATCH_KEY, "eq", 1)),)


@dataclass(frozen=True)
class _Rule:
    tag: int
    frames: tuple[tuple[str, Expr], ...]
    names: frozenset[str]


def _rule(tag: int, frames: tuple[tuple[str, Expr], ...]) -> _Rule:
    names: set[str] = set()
    for _, e in frames:
        names |= _names_of(e)
    return _Rule(tag, frames, frozenset(names - {_CATCH_KEY}))


def _fits_alone(rule: _Rule) -> bool:
    return all(_cost(e) <= _MAX_EXPR for _, e in rule.frames) and _fits([rule])


def _split(tag: int, e: Expr, what: str) -> list[_Rule]:
    """Single-fact rules, each of which fits a ruleset alone, that together match what ``e`` matches."""
    todo = [_norm(e)]
    out: dict[Expr, _Rule] = {}
    while todo:
        e = todo.pop()
        if e == _FALSE:
            continue
        if e[0] == "or":  # a top-level or is several rules
            todo.extend(e[1])
            continue
        rule = _rule(tag, (("m", _TRUE_LEAF if e == _TRUE else e),))
        if _fits_alone(rule):
            out.setdefault(e, rule)
        else:
            ors = [p for p in e[1] if p[0] == "or"] if e[0] == "and" else []
            if not ors:
                raise EngineError(
                    f"{what} is too large for durable-rules ({len(rule.names)} keys in one "
                    f"conjunction; at most {_MAX_PROPS})"
                )
            pick = min(ors, key=lambda p: (len(p[1]), -_cost(p)))
            rest = tuple(p for p in e[1] if p is not pick)
            todo.extend(_norm(("and", rest + (alt,))) for alt in pick[1])
        if len(out) + len(todo) > _MAX_RULES_PER_PATTERN:
            raise EngineError(f"{what} would need more than {_MAX_RULES_PER_PATTERN} durable-rules rules")
    return list(out.values())


# -- rulesets ------------------------------------------------------------------------------------------------


class _Shard:
    """One durable-rules ruleset: some rules, the catch-all, and the properties its rules read."""

    def __init__(self, name: str, rules: list[_Rule], record: Callable[[int], Callable[[Any], None]]) -> None:
        self.name = name
        self.rules = rules
        self.names = frozenset().union(*(r.names for r in rules))
        self._record = record
        self.ruleset: Any = None
        self.fields: list[tuple[str, str, _Codec]] = []  # (property, fact key, codec) of single-fact rulesets

    def definition(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ca": {"all": [{f: _json(e)} for f, e in _CATCH_ALL], "run": _noop}}
        for i, r in enumerate(self.rules):
            d[f"r{i}"] = {"all": [{f: _json(e)} for f, e in r.frames], "run": self._record(r.tag)}
        return d

    def ensure(self) -> Any:
        """The ruleset, built if needed. Call with ``_LOCK`` held."""
        if self.ruleset is None:
            loaded = _loaded
            assert loaded is not None
            try:
                self.ruleset = loaded[0].Ruleset(self.name, None, self.definition())
            except Exception as err:
                raise EngineError(f"durable-rules refused ruleset {self.name}: {err}") from err
        return self.ruleset

    def run(self, messages: list[dict[str, Any]], sid: str) -> None:
        """Assert the facts in a fresh session, run the actions, delete the session. Hold ``_LOCK``."""
        global _LIVE
        rs = self.ensure()
        done = False
        errors: list[Any] = []
        _LIVE += 1  # the session exists from the first assert until it (or its ruleset) is deleted
        try:
            handle = rs.assert_facts(messages)
            rs.do_actions(handle, lambda e, _state: errors.append(e) if e else None)
            if errors:
                raise EngineError(f"durable-rules failed running the actions of {self.name}: {errors[0]}")
            rs.delete_state(sid)
            done = True
            _LIVE -= 1
        except EngineError:
            raise
        except Exception as err:
            raise EngineError(f"durable-rules failed on ruleset {self.name}: {err}") from err
        finally:
            if not done:  # the session may be half-built: never delete it, drop the whole ruleset
                self.ruleset = None
                _delete_ruleset(rs)
                _LIVE -= 1


_LIVE = 0


def live_sessions() -> int:
    """Sessions this process holds in durable-rules right now (0 between calls): a leak check."""
    with _LOCK:
        return _LIVE


def _noop(c: Any) -> None:
    return None


def _fits(rules: Sequence[_Rule]) -> bool:
    """Whether these rules, with the catch-all, stay within the engine's limits as one ruleset."""
    if len(rules) > _MAX_RULES or len(frozenset().union(*(r.names for r in rules))) > _MAX_PROPS:
        return False
    model = _Model()
    for r in rules:
        for _, e in r.frames:
            model.add_frame(e)
    for _, e in _CATCH_ALL:
        model.add_frame(e)
    return model.fits()


def _pack(rules: list[_Rule]) -> list[list[_Rule]]:
    """Rules packed, in order, into rulesets that stay within the engine's limits.

    Each ruleset takes the longest prefix that fits, found by bisection (a ruleset that fits still fits
    without its last rule).
    """
    shards: list[list[_Rule]] = []
    rest = rules
    while rest:
        hi = min(len(rest), _MAX_RULES)
        if not _fits(rest[:hi]):
            lo = 1  # rest[:lo] fits (every rule fits alone); rest[:hi] does not
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _fits(rest[:mid]):
                    lo = mid
                else:
                    hi = mid
            hi = lo
        shards.append(rest[:hi])
        rest = rest[hi:]
    return shards


class _Sink:
    """Where the callbacks of one evaluator put what fired, per session id."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[int, ...]]] = {}
        self.errors: list[BaseException] = []

    def single(self, tag: int) -> Callable[[Any], None]:
        calls, errors = self.calls, self.errors

        def record(c: Any) -> None:
            try:
                calls[c.s.sid].append((tag, c.m.id))
            except BaseException as err:  # noqa: BLE001 - durable would swallow it into the session state
                errors.append(err)

        return record

    def pair(self, tag: int) -> Callable[[Any], None]:
        calls, errors = self.calls, self.errors

        def record(c: Any) -> None:
            try:
                calls[c.s.sid].append((tag, c.l.id, c.r.id))
            except BaseException as err:  # noqa: BLE001 - as above
                errors.append(err)

        return record


class _Net:
    """Rulesets for one kind of work (single patterns, join sides, join pairs), grouped (by fact kind)."""

    def __init__(self, prefix: str, groups: Mapping[Any, list[_Rule]], pairs: bool) -> None:
        self.sink = _Sink()
        record = self.sink.pair if pairs else self.sink.single
        self.shards: dict[Any, list[_Shard]] = {}
        n = 0
        for group, rules in groups.items():
            for packed in _pack(rules):
                self.shards.setdefault(group, []).append(_Shard(f"{prefix}_{n}", packed, record))
                n += 1

    def all_shards(self) -> list[_Shard]:
        return [s for shards in self.shards.values() for s in shards]

    def run(self, work: list[tuple[_Shard, list[dict[str, Any]]]], sid: str) -> list[tuple[int, ...]]:
        out: list[tuple[int, ...]] = []
        if not work:
            return out
        self.sink.calls[sid] = out
        try:
            with _LOCK:
                _drain_retired()
                self.sink.errors.clear()
                for shard, messages in work:
                    shard.run(messages, sid)
                if self.sink.errors:
                    raise EngineError(f"recording a durable-rules match failed: {self.sink.errors[0]!r}")
        finally:
            del self.sink.calls[sid]
        return out


# -- the evaluator -------------------------------------------------------------------------------------------


def _tests(cond: Cond) -> Iterable[Test]:
    if isinstance(cond, Test):
        yield cond
    else:
        for p in cond.parts:
            yield from _tests(p)


def _require() -> tuple[Any, Any]:
    loaded = _load()
    if loaded is None:
        raise EngineError(f"durable-rules is not available: {_load_error}")
    return loaded


class DurableEvaluator:
    """Evaluate a :class:`~sanctions.compiled.CompiledRulebook` with durable-rules (see the module docstring).

    Safe to call from several threads at once (native calls are serialised). Raises
    :class:`~sanctions.exc.EngineError` when durable-rules is not available, when the rulebook has a constant
    the engine must not see, and, per call, when a fact has such a value or lacks a key its patterns test.

    Args:
        compiled: The engine-neutral rulebook.
    """

    name = "durable"

    def __init__(self, compiled: CompiledRulebook) -> None:
        _require()
        self.compiled = compiled
        prefix = f"sanctions{next(_EVALUATORS)}"
        names = _Names()

        # Every Test constant and the codec of every tested key.
        by_key: dict[str, list[Test]] = {}
        conds: list[tuple[str, Cond]] = [(f"pattern {p.id!r}", p.cond) for p in compiled.patterns]
        for jp in compiled.join_patterns:
            conds += [
                (f"join pattern {jp.id!r} (left)", jp.left),
                (f"join pattern {jp.id!r} (right)", jp.right),
            ]
        for what, cond in conds:
            for t in _tests(cond):
                if t.op not in ("eq", "ne", "lt", "le", "gt", "ge"):
                    raise EngineError(f"{what}: unknown operator {t.op!r}")
                _check_scalar(t.value, what, t.key)
                by_key.setdefault(t.key, []).append(t)
        self._codecs: dict[str, tuple[str, _Codec]] = {
            key: (names.new(), _Codec(key, tests)) for key, tests in by_key.items()
        }

        def expr(cond: Cond) -> Expr:
            if isinstance(cond, Test):
                name, codec = self._codecs[cond.key]
                return codec.leaf(name, cond)
            return ("and" if isinstance(cond, And) else "or", tuple(expr(p) for p in cond.parts))

        # Single patterns, one group of rulesets per fact kind.
        groups: dict[str, list[_Rule]] = {}
        for i, p in enumerate(compiled.patterns):
            groups.setdefault(p.kind, []).extend(_split(i, expr(p.cond), f"pattern {p.id!r}"))
        self._match = _Net(f"{prefix}_match", groups, pairs=False)

        # Join sides (shared when equal) as flags, then the pairs.
        self._sides_index: dict[tuple[str, Cond], int] = {}
        side_flag: list[str] = []
        side_groups: dict[str, list[_Rule]] = {}
        self._side_kind: list[str] = []
        self._side_keys: list[set[str]] = []  # join keys a fact with this flag must carry
        self._join_names: dict[str, str] = {}
        self._fid_name = names.new()
        join_rules: list[_Rule] = []
        for j, jp in enumerate(compiled.join_patterns):
            flags = []
            for kind, cond, side in ((jp.left_kind, jp.left, "left"), (jp.right_kind, jp.right, "right")):
                k = self._sides_index.get((kind, cond))
                if k is None:
                    k = self._sides_index[(kind, cond)] = len(side_flag)
                    side_flag.append(names.new())
                    self._side_kind.append(kind)
                    self._side_keys.append(set())
                    side_groups.setdefault(kind, []).extend(
                        _split(k, expr(cond), f"join pattern {jp.id!r} ({side})")
                    )
                flags.append(k)
            left, right = flags
            refs: list[Expr] = [("ref", self._fid_name, "ne", "l", self._fid_name)]
            for rel in jp.joins:
                if rel.op not in ("eq", "ne"):
                    raise EngineError(f"join pattern {jp.id!r}: unknown join operator {rel.op!r}")
                for key in (rel.left_key, rel.right_key):
                    if key not in self._join_names:
                        self._join_names[key] = names.new()
                self._side_keys[left].add(rel.left_key)
                self._side_keys[right].add(rel.right_key)
                refs.append(
                    ("ref", self._join_names[rel.right_key], rel.op, "l", self._join_names[rel.left_key])
                )
            refs.append(_LAST_REF)
            r_expr = ("and", (("t", side_flag[right], "eq", 1), *refs))
            rule = _rule(j, (("l", ("t", side_flag[left], "eq", 1)), ("r", r_expr)))
            if not _fits_alone(rule):
                raise EngineError(
                    f"join pattern {jp.id!r} has too many join relations for durable-rules "
                    f"({len(jp.joins)}; at most {_MAX_EXPR - 4})"
                )
            join_rules.append(rule)
        self._side_flag = side_flag
        self._sides = _Net(f"{prefix}_side", side_groups, pairs=False)
        self._joins = _Net(f"{prefix}_join", {None: join_rules} if join_rules else {}, pairs=True)

        self._shards = self._match.all_shards() + self._sides.all_shards() + self._joins.all_shards()
        for s in self._match.all_shards() + self._sides.all_shards():
            s.fields = [(name, key, codec) for key, (name, codec) in self._codecs.items() if name in s.names]
        with _LOCK:
            _drain_retired()
            try:
                for s in self._shards:
                    s.ensure()
            except BaseException:
                for s in self._shards:
                    if s.ruleset is not None:
                        _delete_ruleset(s.ruleset)
                        s.ruleset = None
                raise
        self._closed = False
        self._finalizer = weakref.finalize(self, _retire_later, self._shards)

    # -- public ----------------------------------------------------------------------------------------------

    def match(self, facts: Sequence[Fact]) -> set[Match]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.match`."""
        fids = self._check(facts)
        sid = str(next(_SESSIONS))
        fired = self._run_single(self._match, facts, sid)
        return {Match(self.compiled.patterns[tag].id, fids[pos]) for tag, pos in fired}

    def join(self, facts: Sequence[Fact]) -> set[JoinMatch]:
        """See :meth:`sanctions.evaluate.compiled.Evaluator.join`."""
        fids = self._check(facts)
        if not self.compiled.join_patterns:
            return set()
        sid = str(next(_SESSIONS))
        flags: dict[int, set[int]] = {}
        for k, pos in self._run_single(self._sides, facts, sid):
            flags.setdefault(pos, set()).add(k)
        if not flags:
            return set()

        # The join properties: a per-call id of each (type, value), and of each fact id.
        ids: dict[tuple[type, Any], int] = {}
        fid_ids: dict[int, int] = {}
        props: dict[int, dict[str, int]] = {}
        flag_names: dict[int, set[str]] = {}
        for pos, ks in flags.items():
            f = facts[pos]
            p = {self._fid_name: fid_ids.setdefault(fids[pos], len(fid_ids) + 1)}
            flag_names[pos] = {self._side_flag[k] for k in ks}
            for k in ks:
                p[self._side_flag[k]] = 1
                for key in self._side_keys[k]:
                    name = self._join_names[key]
                    if name in p:
                        continue
                    v = self._value(f, pos, key)
                    p[name] = ids.setdefault((type(v), v), len(ids) + 1)
            props[pos] = p

        work = []
        for shard in self._joins.shards.get(None, []):
            messages = []
            for pos, p in props.items():
                if flag_names[pos] & shard.names:  # only facts with a flag this ruleset reads can pair in it
                    messages.append(
                        {
                            "sid": sid,
                            "id": pos,
                            _CATCH_KEY: 1,
                            **{n: v for n, v in p.items() if n in shard.names},
                        }
                    )
            if messages:
                work.append((shard, messages))
        return {
            JoinMatch(self.compiled.join_patterns[tag].id, fids[left], fids[right])
            for tag, left, right in self._joins.run(work, sid)
        }

    def close(self) -> None:
        """Free the rulesets now (else when the evaluator is collected); the evaluator is unusable after."""
        self._closed = True
        self._finalizer.detach()
        with _LOCK:
            _drain_retired()
            for s in self._shards:
                if s.ruleset is not None:
                    _delete_ruleset(s.ruleset)
            self._shards.clear()
            for net in (self._match, self._sides, self._joins):
                net.shards.clear()

    # -- helpers ---------------------------------------------------------------------------------------------

    def _check(self, facts: Sequence[Fact]) -> list[int]:
        if self._closed:
            raise EngineError("this durable-rules evaluator was closed")
        if len(facts) > _MAX_FACTS:
            raise EngineError(
                f"{len(facts)} facts in one call; the durable-rules adapter takes at most {_MAX_FACTS}"
            )
        fids = []
        for pos, f in enumerate(facts):
            fid = self._value(f, pos, FID)
            if isinstance(fid, bool) or not isinstance(fid, int):
                raise EngineError(f"fact {pos}: its {FID!r} is {_show(fid)}, not an int")
            fids.append(fid)
            self._value(f, pos, KIND)
        return fids

    @staticmethod
    def _value(f: Fact, pos: int, key: str) -> Any:
        try:
            v = f[key]
        except KeyError:
            raise EngineError(
                f"fact {pos} ({f.get(KIND)!r} {f.get(FID)!r}) lacks key {key!r}; facts must be total"
            ) from None
        _check_scalar(v, pos, key)
        return v

    def _run_single(self, net: _Net, facts: Sequence[Fact], sid: str) -> list[tuple[int, ...]]:
        """Send every fact to the rulesets of its kind, with the properties their rules read."""
        codes: list[dict[str, int]] = [{} for _ in facts]
        work = []
        for kind, shards in net.shards.items():
            positions = [pos for pos, f in enumerate(facts) if f[KIND] == kind]
            if not positions:
                continue
            for shard in shards:
                messages = []
                for pos in positions:
                    f, c = facts[pos], codes[pos]
                    m: dict[str, Any] = {"sid": sid, "id": pos, _CATCH_KEY: 1}
                    for name, key, codec in shard.fields:
                        code = c.get(name)
                        if code is None:
                            code = c[name] = codec.encode(self._value(f, pos, key), pos)
                        m[name] = code
                    messages.append(m)
                work.append((shard, messages))
        return net.run(work, sid)
