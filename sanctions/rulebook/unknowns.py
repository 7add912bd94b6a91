"""What an unknown fact leaves open, and what would settle it.

A rule whose *could* pattern matched a fact and whose *must* pattern did not turns on something the fact
does not know (:mod:`sanctions.evaluate.compiled`, "Unknown values"). This module finds, on that fact, the
unknown keys the condition tests and, for each, the values that would decide it (``sts_vessel.flag is KP``),
by substituting candidate values and evaluating the condition again with the shared leaf semantics: the
answer is the same whichever evaluator matched the patterns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sanctions.evaluate import compiled as C
from sanctions.rulebook.facts import FIELDS, UNKNOWN_PREFIX, field_of

_OTHER = "\x00other"
"""A string equal to no constant of any rule: stands for 'some other value'."""


@dataclass(frozen=True, slots=True)
class Setting:
    """Values of one unknown fact key that would make a condition hold (or fail)."""

    key: str
    values: tuple[C.Scalar, ...]
    named: tuple[C.Scalar, ...] = ()
    """The constants the condition compares the key with (what 'some other value' is other than)."""


def unknown_keys(cond: C.Cond, fact: C.Fact) -> list[str]:
    """The keys ``cond`` tests that are unknown in ``fact``, in the order the condition names them."""
    out: list[str] = []
    for t in C.leaves(cond):
        if C.is_unknown_key(t.key) or t.key in out:
            continue
        if fact.get(C.unknown_key(t.key)) is True:
            out.append(t.key)
    return out


def _candidates(cond: C.Cond, key: str) -> list[C.Scalar]:
    consts: list[C.Scalar] = []
    for t in C.leaves(cond):
        if t.key == key and t.value not in consts:
            consts.append(t.value)
    if any(isinstance(v, bool) for v in consts):
        return [True, False]
    if any(isinstance(v, str) for v in consts):
        return consts + [_OTHER]
    return consts


def settlings(cond: C.Cond, fact: C.Fact, *, want: bool = True) -> list[Setting]:
    """For each unknown key of ``cond`` in ``fact``: the values that alone make ``cond`` (a *must* or a
    *could* form) evaluate to ``want``, the other unknown keys staying unknown. Keys no single value decides
    are left out."""
    out: list[Setting] = []
    for key in unknown_keys(cond, fact):
        values = []
        for v in _candidates(cond, key):
            trial = dict(fact)
            trial[key] = v
            trial[C.unknown_key(key)] = False
            if C.holds(cond, trial) is want:
                values.append(v)
        if values:
            out.append(Setting(key, tuple(values), tuple(c for c in _candidates(cond, key) if c != _OTHER)))
    return out


def pair_settlings(cond: C.Cond, fact: C.Fact, raw: Mapping[str, Any], *, limit: int = 4) -> list[str]:
    """When no single unknown key decides ``cond``: pairs of values of two unknown keys that together make it
    hold, described (``items[0].end_use is military and supplier.country is KP``); at most ``limit``."""
    keys = unknown_keys(cond, fact)
    out: list[str] = []
    for i, k1 in enumerate(keys):
        for k2 in keys[i + 1:]:
            for v1 in _candidates(cond, k1):
                for v2 in _candidates(cond, k2):
                    trial = dict(fact)
                    trial.update({k1: v1, k2: v2, C.unknown_key(k1): False, C.unknown_key(k2): False})
                    if C.holds(cond, trial):
                        named1 = tuple(c for c in _candidates(cond, k1) if c != _OTHER)
                        named2 = tuple(c for c in _candidates(cond, k2) if c != _OTHER)
                        out.append(f"{describe(Setting(k1, (v1,), named1), raw)} and "
                                   f"{describe(Setting(k2, (v2,), named2), raw)}")
                        if len(out) >= limit:
                            return out
    return out


def because(raw: Mapping[str, Any], key: str) -> list[str]:
    """The input fields behind an unknown key, as the user wrote them (``sts_vessel.flag``)."""
    mark = raw.get(UNKNOWN_PREFIX + field_of(key))
    return list(mark.because) if mark is not None else [field_of(key)]


def describe(setting: Setting, raw: Mapping[str, Any]) -> str:
    """``sts_vessel.flag is KP`` / ``notified is false`` / ``items[0].category is one of ...``."""
    names = " or ".join(because(raw, setting.key))
    key = setting.key
    if "=" in key:
        member = key.partition("=")[2]
        return f"{names} is {member}" if setting.values == (True,) else f"{names} is not {member}"
    shown = [_value_text(key, v) for v in setting.values if v != _OTHER]
    if _OTHER in setting.values:
        excluded = [_value_text(key, v) for v in setting.named if v not in setting.values]
        if shown:
            return f"{names} is one of {', '.join(shown)} or another value than {', '.join(excluded)}" \
                if excluded else f"{names} is any value"
        return f"{names} is none of {', '.join(excluded)}" if excluded else f"{names} is any value"
    if key.endswith("]"):
        return f"{names} starts with " + " or ".join(shown)
    return f"{names} is " + (shown[0] if len(shown) == 1 else "one of " + ", ".join(shown))


def _value_text(key: str, v: C.Scalar) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    spec = FIELDS.get(field_of(key))
    if spec is not None and spec.type == "date" and isinstance(v, int | float):
        return dt.date.fromordinal(int(v)).isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def merge_members(settings: Sequence[Setting], raw: Mapping[str, Any]) -> list[str]:
    """Describe settings, folding member keys of one field (``item.categories=X`` for several X) into one
    phrase (``items[0].category is one of X, Y``)."""
    grouped: dict[str, list[str]] = {}
    plain: list[str] = []
    for s in settings:
        if "=" in s.key and s.values == (True,):
            grouped.setdefault(" or ".join(because(raw, s.key)), []).append(s.key.partition("=")[2])
        else:
            plain.append(describe(s, raw))
    for names, members in grouped.items():
        plain.append(f"{names} is {members[0]}" if len(members) == 1 else f"{names} is one of {', '.join(members)}")
    return plain


def unknown_fields(conds: Iterable[C.Cond], fact: C.Fact, raw: Mapping[str, Any]) -> list[str]:
    """Every input field behind an unknown key that one of ``conds`` tests, sorted."""
    out: set[str] = set()
    for cond in conds:
        for key in unknown_keys(cond, fact):
            out |= set(because(raw, key))
    return sorted(out)
