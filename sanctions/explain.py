"""Findings and decisions: what the engine says, and the evidence for it.

A :class:`Decision` is the answer for one transfer or deal: a verdict, the :class:`Finding` list (each with
its citations, a sentence built from the actual facts, and the evidence: which field held which value), the
rules considered but not applied and why (:class:`Considered`), and notes. Decisions are pydantic models at
the boundary; :func:`to_json` renders one as canonical JSON, byte-identical for the same input and rulebook.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sanctions.evaluate import compiled as C
from sanctions.model.records import DateRange, Item, Transfer

Verdict = Literal["prohibited", "authorisation_required", "review", "notification_required", "clear"]


class FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses to change: the mappings inside a decision are shared with nobody and edited by nobody."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a decision is immutable: copy it (dict(...)) to change it")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenDict:
        return self


def freeze(value: Any) -> Any:
    """``value`` with every list made a tuple and every dict a :class:`FrozenDict`, recursively."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict) and not isinstance(value, FrozenDict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    return value


class _Out(BaseModel):
    """Output records: frozen, and deeply so. Lists are tuples and dicts :class:`FrozenDict`, however the record
    was made (validated, ``model_construct`` or ``model_copy``), so a caller that edits a decision it was given
    gets an error instead of silently changing every other decision that shares a citation or an evidence list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        for name in type(self).model_fields:
            value = self.__dict__.get(name)
            if isinstance(value, (list, dict)) and not isinstance(value, FrozenDict):
                object.__setattr__(self, name, freeze(value))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        out = super().model_copy(update=update, deep=deep)
        out.model_post_init(None)
        return out


class Citation(_Out):
    """One legal basis of a finding."""

    resolution: str = Field(description="Resolution and year, e.g. '1718 (2006)'.")
    paragraph: str = Field(description="Operative paragraph, e.g. 'OP8(a)(i)'.")
    adopted: dt.date
    source: str
    verified: bool = Field(description="False when the paragraph number was not checked against the text.")

    def short(self) -> str:
        mark = "" if self.verified else " [paragraph unverified]"
        return f"UNSCR {self.resolution} {self.paragraph}{mark}"


class Evidence(_Out):
    """One fact that made a condition hold."""

    field: str = Field(description="Field path, e.g. 'item.categories'.")
    test: str = Field(description="The test that held, e.g. 'contains ammunition_and_related_materiel'.")
    value: Any = Field(description="The transfer's value.")


class Duty(_Out):
    """A duty to notify or report, with its due date when the law sets one."""

    who: str
    to: str
    what: str
    due: dt.date | None = None


class Finding(_Out):
    """A rule that applies to a transfer (or to a pair of legs of a deal)."""

    rule_id: str
    title: str
    regime: str
    outcome: str
    scope: Literal["item", "transfer", "deal"]
    transfer_id: str
    item_index: int | None = None
    citations: tuple[Citation, ...]
    in_force: dict[str, dt.date | None]
    explanation: str
    evidence: tuple[Evidence, ...]
    duty: Duty | None = None
    related: dict[str, Any] = Field(default_factory=dict, description="For deal findings: the legs involved.")
    unverified_citations: bool = Field(description="True when any citation's paragraph is unverified.")
    exemptions_not_applied: tuple[dict[str, str], ...] = Field(default_factory=tuple, description=(
        "Each exemption of the rule that did not clear this finding: {'id', 'title', 'reason'}, the reason naming "
        "the conditions not met with the transfer's own values, or the dates it is not in force on."))


class Considered(_Out):
    """A rule that was considered for this subject, and what came of it."""

    rule_id: str
    status: Literal["fired", "exempted", "not_in_force"]
    reason: str
    transfer_id: str | None = None
    item_index: int | None = None
    exemption: dict[str, Any] | None = None


class Decision(_Out):
    """The engine's answer for one transfer or deal."""

    subject: dict[str, str] = Field(description="{'type': 'transfer'|'deal', 'id': ...}")
    verdict: Verdict
    as_of: dt.date | None
    findings: tuple[Finding, ...]
    considered: tuple[Considered, ...]
    not_matched: tuple[str, ...] = Field(default_factory=tuple, description="Ids of the rules that were considered and "
                                   "did not apply because their conditions did not match this subject.")
    notes: tuple[str, ...]
    evaluator: str
    rulebook: dict[str, Any]
    screening: dict[str, Any] = Field(default_factory=dict, description="Party screening: performed or not, and "
                                      "the list edition used.")
    regimes: tuple[str, ...] = Field(default_factory=tuple, description="The sanctions regimes whose rules were "
                               "considered (all of the rulebook's unless a selection was made).")

    @property
    def prohibited(self) -> bool:
        return self.verdict == "prohibited"


def to_json(decision: Decision | Sequence[Decision], *, indent: int | None = 2) -> str:
    """Canonical JSON: sorted keys, fixed separators; byte-identical for equal decisions."""
    if isinstance(decision, Decision):
        data: Any = decision.model_dump(mode="json")
    else:
        data = [d.model_dump(mode="json") for d in decision]
    return json.dumps(data, sort_keys=True, indent=indent, ensure_ascii=False,
                      separators=(",", ": ") if indent else (",", ":"))


# ----------------------------------------------------------------------------------------------------------------
# Display values for explanation templates
# ----------------------------------------------------------------------------------------------------------------

TRANSFER_PLACEHOLDERS = (
    "transfer.id", "transfer.date", "transfer.kind", "transfer.purpose", "transfer.supplier", "transfer.recipient",
    "transfer.origin_country", "transfer.destination_country", "transfer.route", "transfer.vessel",
    "transfer.sts_vessel", "transfer.exemptions", "transfer.notifications", "transfer.intermediaries",
    "transfer.end_user", "transfer.destination_region",
)
ITEM_PLACEHOLDERS = (
    "item.description", "item.quantity", "item.hs_code", "item.category", "item.value", "item.origin_country",
    "item.end_use", "item.end_user",
)
DEAL_PLACEHOLDERS = (
    "deal.id", "leg.rule", "leg.title", "leg.rules", "leg.items", "counter.items", "counter.kind",
) + tuple("leg." + p for p in TRANSFER_PLACEHOLDERS) + tuple("counter." + p for p in TRANSFER_PLACEHOLDERS)


def placeholders_for(scope: str) -> frozenset[str]:
    """The ``{placeholders}`` an explanation template of a rule with this scope may use."""
    if scope == "deal":
        return frozenset(DEAL_PLACEHOLDERS)
    if scope == "item":
        return frozenset(TRANSFER_PLACEHOLDERS + ITEM_PLACEHOLDERS)
    return frozenset(TRANSFER_PLACEHOLDERS)


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"


def date_text(t: Transfer) -> str:
    """The transfer's date as the record gives it: a day, a year or month (``2017 (day not known)``), a period."""
    text = getattr(t.date, "text", None)
    if text is not None:
        return f"{text} (day not known)"
    if isinstance(t.date, DateRange):
        return f"{t.date.start.isoformat()} to {t.date.end.isoformat()}"
    return t.date.isoformat()


def transfer_display(t: Transfer) -> dict[str, str]:
    """Human text for each transfer placeholder."""

    def party(p: Any) -> str:
        return f"{p.name} ({p.country})"

    def vessel(v: Any) -> str:
        if v is None:
            return "no vessel given"
        bits = [b for b in (f"IMO {v.imo}" if v.imo else "", f"flag {v.flag}" if v.flag else "") if b]
        return v.name + (f" ({', '.join(bits)})" if bits else "")

    return {
        "transfer.id": t.id,
        "transfer.date": date_text(t),
        "transfer.kind": t.kind.value.replace("_", " "),
        "transfer.purpose": str(t.purpose) if t.purpose else "not declared",
        "transfer.supplier": party(t.supplier),
        "transfer.recipient": party(t.recipient),
        "transfer.origin_country": t.origin_country,
        "transfer.destination_country": t.destination_country,
        "transfer.route": " -> ".join(f"{s.port} ({s.country})" for s in t.route) or "no route given",
        "transfer.vessel": vessel(t.vessel),
        "transfer.sts_vessel": vessel(t.sts_vessel),
        "transfer.exemptions": ", ".join(f"{e.reference} ({e.granted_by})" for e in t.exemptions) or "none",
        "transfer.notifications": ", ".join(
            f"{n.to} on {n.date.isoformat()}" + (f" ({n.reference})" if n.reference else "") for n in t.notifications
        ) or "none",
        "transfer.intermediaries": ", ".join(party(p) for p in t.intermediaries) or "none",
        "transfer.end_user": end_user_text(t),
        "transfer.destination_region": region_text(t),
    }


def end_user_text(t: Transfer) -> str:
    """The end user in words: declared, or the recipient when its kind says who it is."""
    eu = t.end_user
    if eu is None:
        return f"not declared (recipient {t.recipient.name}, {t.recipient.kind.value.replace('_', ' ')})"
    bits = [eu.kind.value.replace("_", " ")]
    if eu.organisation:
        bits.append(eu.organisation)
    if eu.country:
        bits.append(eu.country)
    return (f"{eu.name} ({', '.join(bits)})" if eu.name else ", ".join(bits))


def region_text(t: Transfer) -> str:
    """The destination's region in words (ISO 3166-2 code and name), or that none was given."""
    code = t.destination_subdivision
    if code is None:
        return f"{t.destination_country} (no region given)"
    import pycountry

    sub = pycountry.subdivisions.get(code=code)
    return f"{sub.name} ({code})" if sub is not None else code


def item_display(item: Item, category: str | None) -> dict[str, str]:
    """Human text for each item placeholder."""
    q = item.quantity
    v = item.value
    return {
        "item.description": item.description,
        "item.quantity": f"{_num(q.value)} {q.unit.value}" if q else "quantity not given",
        "item.hs_code": item.hs_code or "no HS code",
        "item.category": (category or "uncategorised").replace("_", " "),
        "item.value": f"{_num(v.amount)} {v.currency}" if v else "value not given",
        "item.origin_country": item.origin_country or "",
        "item.end_use": item.end_use.value.replace("_", " ") if item.end_use else "not declared",
        "item.end_user": item.end_user or "not declared",
    }


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill a template whose placeholders were checked at load time. Never evaluates anything."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, "{" + name + "}"))
    return "".join(out).strip()


# ----------------------------------------------------------------------------------------------------------------
# Evidence: which leaves of a condition held on a fact
# ----------------------------------------------------------------------------------------------------------------


def evidence(cond: C.Cond, fact: C.Fact, raw: Mapping[str, Any]) -> list[Evidence]:
    """The tests that made ``cond`` hold on ``fact``, described with the transfer's own values."""
    out: list[Evidence] = []
    _collect(cond, fact, raw, out)
    seen: set[tuple[str, str]] = set()
    unique = []
    for e in out:
        if (e.field, e.test) not in seen:
            seen.add((e.field, e.test))
            unique.append(e)
    return unique


def _collect(cond: C.Cond, fact: C.Fact, raw: Mapping[str, Any], out: list[Evidence]) -> None:
    if isinstance(cond, C.Test):
        if cond.key != C.ANY_UNKNOWN and not (C.is_unknown_key(cond.key) and cond.value is False):
            # a must-guard, or the could pattern's opening test, says nothing by itself
            out.append(describe(cond, raw))
    elif isinstance(cond, C.And):
        for p in cond.parts:
            _collect(p, fact, raw, out)
    else:
        for p in cond.parts:
            if C.holds(p, fact):
                _collect(p, fact, raw, out)
                return


def unmet(cond: C.Cond, fact: C.Fact, raw: Mapping[str, Any]) -> list[str]:
    """What ``cond`` needs that ``fact`` does not have, in words with the transfer's values ([] when it holds).

    An ``all`` gives each of its parts that fails; an ``any`` gives its alternatives ("one of: ... or ...").
    """
    out: list[str] = []
    _unmet(cond, fact, raw, out)
    return list(dict.fromkeys(out))


def _unmet(cond: C.Cond, fact: C.Fact, raw: Mapping[str, Any], out: list[str]) -> None:
    if C.holds(cond, fact):
        return
    if isinstance(cond, C.Test):
        field, test, value = _words(cond, raw)
        if C.is_unknown_key(cond.key):  # a must-guard fails when the field is unknown
            out.append(f"{field} is not known")
        else:
            out.append(f"{field} {test} (it is {_value_text(value)})")
    elif isinstance(cond, C.And):
        for p in cond.parts:
            _unmet(p, fact, raw, out)
    elif len(cond.parts) == 1:
        _unmet(cond.parts[0], fact, raw, out)
    else:
        text = "one of: " + " or ".join(_wants(p, raw) for p in cond.parts)
        shown = [_words(p, raw) for p in cond.parts if isinstance(p, C.Test) and not C.is_unknown_key(p.key)]
        if len(shown) == len(cond.parts) and len({field for field, _, _ in shown}) == 1:  # one field: its value
            text += f" (it is {_value_text(shown[0][2])})"
        out.append(text)


def _wants(cond: C.Cond, raw: Mapping[str, Any]) -> str:
    """What a condition asks for, in words, without the values (an alternative of an ``any``)."""
    if isinstance(cond, C.Test):
        field, test, _ = _words(cond, raw)
        return f"{field} is known" if C.is_unknown_key(cond.key) else f"{field} {test}"
    parts = [_wants(p, raw) for p in cond.parts if not (isinstance(p, C.Test) and p.key == C.ANY_UNKNOWN)]
    return "(" + (" and " if isinstance(cond, C.And) else " or ").join(parts) + ")"


def _value_text(v: Any) -> str:
    if v is None or v == [] or v == ():
        return "not given"
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    return str(v)


def _show(v: Any) -> Any:
    if isinstance(v, set | frozenset):
        return sorted(v)
    if v is not None and type(v).__name__ == "_Unknown":
        return "unknown"
    return v


def describe(t: C.Test, raw: Mapping[str, Any]) -> Evidence:
    """One test, in words, with the value it saw."""
    field, test, value = _words(t, raw)
    return Evidence.model_construct(field=field, test=test, value=value)


def _words(t: C.Test, raw: Mapping[str, Any]) -> tuple[str, str, Any]:
    """(field, test in words, the value it saw) of one test: :func:`describe` without building the record."""
    key = t.key
    positive = (t.op == "eq") == (t.value is not False)
    if C.is_unknown_key(key):
        from sanctions.rulebook.unknowns import because
        from sanctions.rulebook.facts import field_of

        inner = key[len(C.UNKNOWN_PREFIX):]
        what = f"may contain {inner.partition('=')[2]}" if "=" in inner else "is not known"
        return (field_of(inner), f"{what} ({', '.join(because(raw, inner))} unknown)",
                _show(raw.get(field_of(inner))))
    if key.startswith("has:"):
        path = key[4:]
        return (path, "is given" if positive else "is not given", _show(raw.get(path)))
    if "=" in key:
        path, _, member = key.partition("=")
        word = "contains" if positive else "does not contain"
        return (path, f"{word} {member}", _show(raw.get(path)))
    if key.endswith("]"):
        path, _, _ = key.partition("[:")
        word = "starts with" if positive else "does not start with"
        return (path, f"{word} {t.value}", raw.get(path))
    value = _show(raw.get(key))
    shown: Any = value
    const: Any = t.value
    from sanctions.rulebook.facts import FIELDS

    if key in FIELDS and FIELDS[key].type == "date":
        shown = dt.date.fromordinal(value).isoformat() if isinstance(value, int) and value > 0 else value
        const = dt.date.fromordinal(int(t.value)).isoformat()
    elif isinstance(const, float) and const.is_integer():
        const = int(const)
    words = {"eq": "is", "ne": "is not", "lt": "is below", "le": "is at most", "gt": "is above", "ge": "is at least"}
    return (key, f"{words[t.op]} {const}", shown)
