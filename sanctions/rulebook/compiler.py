"""The compiler from checked spec models to the engine-neutral patterns of :mod:`sanctions.evaluate.compiled`.

Every error names the file and the key path inside it (:class:`sanctions.exc.InvalidRule`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from sanctions.evaluate import compiled as C
from sanctions.exc import InvalidRule
from sanctions.rulebook.facts import (
    FIELDS,
    HS_PREFIX_LENGTHS,
    default_for,
    has_key,
    kind_covers,
    may_be_unknown,
    member_key,
    prefix_key,
)
from sanctions.rulebook.spec import OPS, AllSpec, AnySpec, NotSpec, RefSpec, RuleSpec
from sanctions.rulebook.book import Exemption, Rule


def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (part in OPS and out.endswith(("when", "of", "]", "counter_leg"))
                                        or part.startswith(("function-", "tagged-union"))):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _spec_error(err: ValidationError, label: str) -> InvalidRule:
    first = err.errors(include_url=False)[0]
    key = _loc(first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif first["type"] == "union_tag_invalid":
        got = first.get("ctx", {}).get("tag")
        close = difflib.get_close_matches(str(got), OPS, n=1)
        return InvalidRule(f"unknown operator {got!r}", file=label, key=key + ".op" if key else "op",
                           hint=f"did you mean {close[0]!r}?" if close else f"operators: {', '.join(OPS)}")
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InvalidRule(msg, file=label, key=key)


def _must_could(pid: str, scope: str, cond: C.Cond, out: list[C.Pattern | C.JoinPattern]) -> str | None:
    """Append the *must* pattern of ``cond`` (id ``pid``) and, when it tests a field that may be unknown, its
    *could* pattern; return the could pattern's id or None (see :mod:`sanctions.evaluate.compiled`)."""
    must, could = C.must(cond, may_be_unknown, default_for), C.could(cond, may_be_unknown, default_for)
    out.append(C.Pattern(pid, scope, must))
    if could == must:
        return None
    out.append(C.Pattern(pid + C.COULD_SUFFIX, scope, C.And((C.Test(C.ANY_UNKNOWN, "eq", True), could))))
    return pid + C.COULD_SUFFIX


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


# ----------------------------------------------------------------------------------------------------------------
# Compiling
# ----------------------------------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


class _Compiler:
    """Turns checked specs into patterns; every error names file and key."""

    def __init__(self, predicates: Mapping[str, tuple[str, Any]]) -> None:
        self.predicates = predicates

    def rule(self, spec: RuleSpec, label: str) -> tuple[Rule, list[C.Pattern | C.JoinPattern]]:
        scope = spec.scope or self._infer_scope(spec.when, label)
        if scope == "deal":
            return self._deal_rule(spec, label)
        kinds = self._kinds(spec.when, label, "when", ())
        if "finding" in kinds:
            raise InvalidRule("finding.* fields are only for scope: deal", file=label, key="when")
        if scope == "transfer" and "item" in kinds:
            raise InvalidRule("a transfer-scoped rule cannot test item fields", file=label, key="scope")
        cond = self.cond(spec.when, label, "when", scope, ())
        out: list[C.Pattern | C.JoinPattern] = []
        rule_could = _must_could(spec.id, scope, cond, out)
        exemptions = []
        ex_ids: set[str] = set()
        for i, ex in enumerate(spec.exemptions):
            key = f"exemptions[{i}]"
            if ex.id in ex_ids:
                raise InvalidRule(f"duplicate exemption id {ex.id!r}", file=label, key=f"{key}.id")
            ex_ids.add(ex.id)
            if scope == "transfer" and "item" in self._kinds(ex.when, label, f"{key}.when", ()):
                raise InvalidRule("an exemption of a transfer-scoped rule cannot test item fields", file=label,
                                  key=f"{key}.when")
            pid = f"{spec.id}/{ex.id}"
            ex_could = _must_could(pid, scope, self.cond(ex.when, label, f"{key}.when", scope, ()), out)
            exemptions.append(Exemption(ex, pid, ex_could))
            self._template(ex.explanation, scope, label, f"{key}.explanation")
        self._template(spec.explanation, scope, label, "explanation")
        self._check_examples(spec, label)
        rule = Rule(spec=spec, file=label, scope=scope, pattern_id=spec.id, exemptions=tuple(exemptions),
                    keys=frozenset(C.keys_of(cond)), caps=self._caps(spec, scope, label), could_pattern_id=rule_could)
        return rule, out

    def _caps(self, spec: RuleSpec, scope: str, label: str) -> tuple[Any, ...]:
        if spec.cap is None:
            return ()
        from sanctions.ledger.caps import CapSpec

        if scope != "item":
            raise InvalidRule("a cap counts items: the rule must test item fields", file=label, key="cap")
        raw = spec.cap if isinstance(spec.cap, list) else [spec.cap]
        out = []
        for i, one in enumerate(raw):
            where = f"cap[{i}]" if isinstance(spec.cap, list) else "cap"
            try:
                out.append(CapSpec.model_validate(one))
            except ValidationError as err:
                bad = _spec_error(err, label)
                raise InvalidRule(bad.message, file=label, key=f"{where}.{bad.key}" if bad.key else where,
                                  hint=bad.hint) from None
        return tuple(out)

    def _deal_rule(self, spec: RuleSpec, label: str) -> tuple[Rule, list[C.Pattern | C.JoinPattern]]:
        if spec.counter_leg is None:
            raise InvalidRule("a deal rule needs 'counter_leg'", file=label, key="counter_leg")
        if spec.exemptions:
            raise InvalidRule("deal rules take no exemptions (exempt the legs instead)", file=label, key="exemptions")
        left = self.cond(spec.when, label, "when", "finding", ())
        right = self.cond(spec.counter_leg, label, "counter_leg", "transfer", ())
        joins = []
        for i, j in enumerate(spec.join):
            for side, path, kind in (("leg", j.leg, "finding"), ("counter", j.counter, "transfer")):
                f = self._field(path, label, f"join[{i}].{side}")
                if not kind_covers(kind, f.kind) or f.type == "set":
                    raise InvalidRule(f"field {path!r} cannot be joined on the {side} side", file=label,
                                      key=f"join[{i}].{side}")
            if FIELDS[j.leg].type != FIELDS[j.counter].type:
                raise InvalidRule("joined fields have different types", file=label, key=f"join[{i}]")
            joins.append(C.Join(j.leg, j.op, j.counter))
        self._template(spec.explanation, "deal", label, "explanation")
        jp = C.JoinPattern(spec.id, "finding", left, "transfer", right, tuple(joins))
        rule = Rule(spec=spec, file=label, scope="deal", pattern_id=spec.id, exemptions=(),
                    keys=frozenset(C.keys_of(left) | C.keys_of(right)))
        return rule, [jp]

    def _infer_scope(self, cond: Any, label: str) -> str:
        kinds = self._kinds(cond, label, "when", ())
        if "finding" in kinds:
            return "deal"
        return "item" if "item" in kinds else "transfer"

    def _kinds(self, cond: Any, label: str, key: str, stack: tuple[str, ...]) -> set[str]:
        if isinstance(cond, (AllSpec, AnySpec)):
            out: set[str] = set()
            for i, c in enumerate(cond.of):
                out |= self._kinds(c, label, f"{key}.of[{i}]", stack)
            return out
        if isinstance(cond, NotSpec):
            return self._kinds(cond.of, label, f"{key}.of", stack)
        if isinstance(cond, RefSpec):
            plabel, pcond = self._predicate(cond.name, label, key, stack)
            return self._kinds(pcond, plabel, f"predicates.{cond.name}", stack + (cond.name,))
        return {self._field(cond.field, label, f"{key}.field").kind}

    def _predicate(self, name: str, label: str, key: str, stack: tuple[str, ...]) -> tuple[str, Any]:
        if name in stack:
            cycle = " -> ".join(stack[stack.index(name):] + (name,))
            raise InvalidRule(f"predicate cycle: {cycle}", file=label, key=f"{key}.name")
        if name not in self.predicates:
            raise InvalidRule(f"unknown predicate {name!r}", file=label, key=f"{key}.name",
                              hint=_did_you_mean(name, self.predicates))
        return self.predicates[name]

    def _field(self, path: str, label: str, key: str):  # noqa: ANN202
        spec = FIELDS.get(path)
        if spec is None:
            raise InvalidRule(f"unknown field {path!r}", file=label, key=key, hint=_did_you_mean(path, FIELDS))
        return spec

    def _constant(self, value: Any, f: Any, label: str, key: str) -> C.Scalar:
        from sanctions.model.records import _COUNTRY_CODES  # one source of truth for country codes

        t = f.type
        if t == "date":
            if isinstance(value, dt.date):
                return value.toordinal()
            raise InvalidRule(f"{f.path} takes a date (YYYY-MM-DD), got {value!r}", file=label, key=key)
        if t == "num":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidRule(f"{f.path} takes a number, got {value!r}", file=label, key=key)
            return float(value)
        if t == "bool":
            if not isinstance(value, bool):
                raise InvalidRule(f"{f.path} takes true or false, got {value!r}", file=label, key=key)
            return value
        if not isinstance(value, str):
            raise InvalidRule(f"{f.path} takes text, got {value!r}", file=label, key=key)
        if f.values is not None and value not in f.values:
            raise InvalidRule(f"{value!r} is not a value of {f.path}", file=label, key=key,
                              hint=_did_you_mean(value, f.values) or f"values: {', '.join(f.values)}")
        if (f.path.endswith(("country", "flag", "countries", "flags"))) and value not in _COUNTRY_CODES:
            raise InvalidRule(f"{value!r} is not an ISO 3166-1 alpha-2 country code", file=label, key=key)
        if f.path == "transfer.route.ports":
            return value.strip().lower()
        if f.path.endswith("subdivision"):
            import pycountry

            if pycountry.subdivisions.get(code=value) is None:
                raise InvalidRule(f"{value!r} is not an ISO 3166-2 subdivision code", file=label, key=key)
        if f.path.endswith(".organisation") or f.path == "transfer.exemption_grantors":
            from sanctions.rulebook.facts import organisation_key

            return organisation_key(value)
        return value

    def cond(self, cond: Any, label: str, key: str, scope: str, stack: tuple[str, ...]) -> C.Cond:
        if isinstance(cond, AllSpec):
            return C.And(tuple(self.cond(c, label, f"{key}.of[{i}]", scope, stack) for i, c in enumerate(cond.of)))
        if isinstance(cond, AnySpec):
            return C.Or(tuple(self.cond(c, label, f"{key}.of[{i}]", scope, stack) for i, c in enumerate(cond.of)))
        if isinstance(cond, NotSpec):
            return C.negate(self.cond(cond.of, label, f"{key}.of", scope, stack))
        if isinstance(cond, RefSpec):
            plabel, pcond = self._predicate(cond.name, label, key, stack)
            return self.cond(pcond, plabel, f"predicates.{cond.name}", scope, stack + (cond.name,))
        f = self._field(cond.field, label, f"{key}.field")
        if not kind_covers(scope, f.kind):
            raise InvalidRule(f"field {f.path!r} is not available to a {scope}-scoped rule", file=label,
                              key=f"{key}.field")
        op = cond.op
        if op in ("exists", "missing"):
            if f.type == "set":
                raise InvalidRule("exists/missing do not apply to set fields", file=label, key=f"{key}.op")
            return C.Test(has_key(f.path), "eq", op == "exists")
        if op in ("contains", "contains_any"):
            if f.type != "set":
                raise InvalidRule(f"{op} applies to set fields; {f.path} is {f.type}", file=label, key=f"{key}.op")
            values = [cond.value] if op == "contains" else cond.values
            return C.Or(tuple(
                C.Test(member_key(f.path, str(self._constant(v, f, label, f"{key}.values[{i}]"))), "eq", True)
                for i, v in enumerate(values)))
        if f.type == "set":
            raise InvalidRule(f"{f.path} is a set; use contains or contains_any", file=label, key=f"{key}.op")
        if op == "hs_prefix":
            if f.type != "str":
                raise InvalidRule("hs_prefix applies to HS code fields", file=label, key=f"{key}.field")
            tests = []
            for i, v in enumerate(cond.values):
                v = str(v)
                if not v.isdigit() or len(v) not in HS_PREFIX_LENGTHS:
                    raise InvalidRule(f"HS prefix {v!r} must be 2 to 10 digits", file=label, key=f"{key}.values[{i}]")
                tests.append(C.Test(prefix_key(f.path, len(v)), "eq", v))
            return C.Or(tuple(tests))
        if op in ("in", "not_in"):
            consts = [self._constant(v, f, label, f"{key}.values[{i}]") for i, v in enumerate(cond.values)]
            anyof = C.Or(tuple(C.Test(f.path, "eq", c) for c in consts))
            return anyof if op == "in" else C.negate(anyof)
        value = self._constant(cond.value, f, label, f"{key}.value")
        if op in C.ORDERING_OPS and f.type not in ("num", "date"):
            raise InvalidRule(f"{op} applies to numbers and dates; {f.path} is {f.type}", file=label, key=f"{key}.op")
        if op in C.ORDERING_OPS:
            # absent numbers never satisfy a threshold: guard with the presence flag
            return C.And((C.Test(has_key(f.path), "eq", True), C.Test(f.path, op, value)))
        return C.Test(f.path, op, value)

    def _template(self, text: str, scope: str, label: str, key: str) -> None:
        from sanctions.explain import placeholders_for

        allowed = placeholders_for(scope)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as err:
            raise InvalidRule(f"bad template: {err}", file=label, key=key) from None
        for name in fields:
            if name not in allowed:
                raise InvalidRule(f"unknown placeholder {{{name}}}", file=label, key=key,
                                  hint=_did_you_mean(name, allowed))

    def _check_examples(self, spec: RuleSpec, label: str) -> None:
        for kind, cases in spec.examples.items():
            for i, case in enumerate(cases):
                if not isinstance(case, dict):
                    raise InvalidRule("an example is a mapping of transfer fields", file=label,
                                      key=f"examples.{kind}[{i}]")
