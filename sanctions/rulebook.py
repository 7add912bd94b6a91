"""Rule files: their format, the loader, and the compiler to the engine-neutral form.

A rulebook is a folder of YAML files. Each file holds either one rule (a mapping with an ``id``) or named
predicates (a mapping with a ``predicates`` key) that rules reuse with ``{op: ref, name: ...}``. Files are
loaded with ``yaml.safe_load`` into frozen pydantic *spec* models (``extra="forbid"``); a second pass checks
what spans files (unique ids, known field paths and constants, predicate references without cycles,
explanation placeholders) and then compiles every rule to :mod:`sanctions.compiled` patterns.

Naming runs raw shape -> runtime object: :class:`RuleSpec` (what the YAML says) -> :class:`Rule` (checked,
with its compiled patterns) -> the ``Finding`` dicts of :mod:`sanctions.explain`.

Every error names the file and the key path inside it (:class:`sanctions.exc.InvalidRule`).

The condition language (``op`` discriminates)::

    {op: eq|ne, field: PATH, value: V}          equality
    {op: in|not_in, field: PATH, values: [V]}   membership in a list of constants
    {op: lt|le|gt|ge, field: PATH, value: N}    numeric or date threshold
    {op: hs_prefix, field: PATH, values: [P]}   the HS code starts with one of the prefixes (digits)
    {op: contains, field: SETPATH, value: V}    a set field holds V
    {op: contains_any, field: SETPATH, values: [V]}
    {op: exists|missing, field: PATH}           the field has (has no) value
    {op: all|any, of: [COND]}                   conjunction, disjunction
    {op: not, of: COND}                         negation
    {op: ref, name: NAME}                       a named predicate
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sanctions import compiled as C
from sanctions.exc import InvalidRule
from sanctions.facts import FIELDS, HS_PREFIX_LENGTHS, default_for, has_key, kind_covers, member_key, prefix_key

MAX_FILE_BYTES = 1_000_000
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_RULES = 2_000


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------------------------------------------
# Conditions
# ----------------------------------------------------------------------------------------------------------------

Constant = Union[str, int, float, bool, dt.date]


class CmpSpec(_Spec):
    """Compare a field with one constant."""

    op: Literal["eq", "ne", "lt", "le", "gt", "ge"]
    field: str
    value: Constant


class InSpec(_Spec):
    """Membership of a field's value in a list of constants."""

    op: Literal["in", "not_in"]
    field: str
    values: list[Constant] = Field(min_length=1)


class HsPrefixSpec(_Spec):
    """The HS code at ``field`` starts with one of ``values`` (each 2 to 10 digits)."""

    op: Literal["hs_prefix"]
    field: str
    values: list[str] = Field(min_length=1)


class ContainsSpec(_Spec):
    """A set field holds ``value``."""

    op: Literal["contains"]
    field: str
    value: str


class ContainsAnySpec(_Spec):
    """A set field holds at least one of ``values``."""

    op: Literal["contains_any"]
    field: str
    values: list[str] = Field(min_length=1)


class ExistsSpec(_Spec):
    """The field has (``exists``) or has no (``missing``) value."""

    op: Literal["exists", "missing"]
    field: str


class AllSpec(_Spec):
    """Every condition holds."""

    op: Literal["all"]
    of: list[CondSpec] = Field(min_length=1)


class AnySpec(_Spec):
    """At least one condition holds."""

    op: Literal["any"]
    of: list[CondSpec] = Field(min_length=1)


class NotSpec(_Spec):
    """The condition does not hold."""

    op: Literal["not"]
    of: CondSpec


class RefSpec(_Spec):
    """A named predicate, defined in a predicates file."""

    op: Literal["ref"]
    name: str


CondSpec = Annotated[
    Union[CmpSpec, InSpec, HsPrefixSpec, ContainsSpec, ContainsAnySpec, ExistsSpec, AllSpec, AnySpec, NotSpec,
          RefSpec],
    Field(discriminator="op"),
]
for _m in (AllSpec, AnySpec, NotSpec):
    _m.model_rebuild()

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "hs_prefix", "contains", "contains_any", "exists",
       "missing", "all", "any", "not", "ref")


# ----------------------------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------------------------

Outcome = Literal["prohibited", "authorisation_required", "notification_required", "review"]
OUTCOME_RANK: Mapping[str, int] = {"prohibited": 4, "authorisation_required": 3, "review": 2,
                                   "notification_required": 1, "clear": 0}


class CitationSpec(_Spec):
    """One legal basis: a paragraph of a resolution."""

    resolution: str = Field(description="Resolution number and year, e.g. '2397 (2017)'.", pattern=r"^\d{3,4} \(\d{4}\)$")
    paragraph: str = Field(description="Operative paragraph, e.g. 'OP7' or 'OP8(a)(i)' or 'Annex IV'.", min_length=1)
    adopted: dt.date = Field(description="Adoption date of the resolution.")
    source: str = Field(description="URL of the text or of the source that states the paragraph.", min_length=1)
    verified: bool = Field(description="True only when the paragraph number was checked against the text.")
    verified_against: str | None = Field(default=None, description="Where the number was checked.")
    note: str | None = None


class InForceSpec(_Spec):
    """When a measure (or exemption) applies; both ends inclusive."""

    from_: dt.date = Field(alias="from")
    until: dt.date | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self) -> InForceSpec:
        if self.until is not None and self.until < self.from_:
            raise ValueError("'until' is before 'from'")
        return self

    def covers(self, start: dt.date, end: dt.date) -> bool:
        """In force on every day of [start, end]."""
        return self.from_ <= start and (self.until is None or end <= self.until)

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        """In force on at least one day of [start, end]."""
        return self.from_ <= end and (self.until is None or start <= self.until)


class DutySpec(_Spec):
    """A duty to notify or report that a finding brings."""

    who: str = Field(description="Who must act, e.g. 'supplying State'.")
    to: str = Field(default="1718 Committee")
    within_days: int | None = Field(default=None, ge=0, description="Days after the transfer.")
    what: str = Field(description="What must be notified or reported.")


class ExemptionSpec(_Spec):
    """A carve-out: when its condition holds, the rule does not make a finding."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str = Field(min_length=1)
    legal_basis: list[CitationSpec] = Field(min_length=1)
    in_force: InForceSpec
    when: CondSpec
    explanation: str = Field(min_length=1)


class JoinSpec(_Spec):
    """A relation between a field of the leg and a field of the counter-leg of a deal."""

    leg: str
    op: Literal["eq", "ne"] = "eq"
    counter: str


class RuleSpec(_Spec):
    """One UN measure as a rule file says it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Stable id, e.g. 'dprk.arms.export'.")
    regime: str = Field(min_length=1, description="Sanctions regime, e.g. 'DPRK'.")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    direction: Literal["supply_to_target", "procurement_from_target", "services_financial", "vessel_transport",
                       "persons", "deal"]
    legal_basis: list[CitationSpec] = Field(min_length=1)
    in_force: InForceSpec
    outcome: Outcome
    binding: bool = True
    scope: Literal["item", "transfer", "deal"] | None = Field(
        default=None, description="Which facts the rule judges; inferred from the fields when omitted.")
    when: CondSpec
    counter_leg: CondSpec | None = Field(default=None, description="Deal rules: the condition on the other leg.")
    join: list[JoinSpec] = Field(default_factory=list, description="Deal rules: how leg and counter-leg relate.")
    exemptions: list[ExemptionSpec] = Field(default_factory=list)
    duty: DutySpec | None = None
    cap: dict[str, Any] | list[dict[str, Any]] | None = Field(
        default=None, description="Cap (or caps, one per period regime) judged with a ledger: see sanctions.caps.CapSpec.")
    replaces: list[str] = Field(default_factory=list, description="Ids of rules this one replaced.")
    replaced_by: list[str] = Field(default_factory=list, description="Ids of rules that replaced this one.")
    tags: list[str] = Field(default_factory=list)
    explanation: str = Field(min_length=1, description="Sentence template; {placeholders} name display fields.")
    examples: dict[Literal["fires", "clears"], list[dict[str, Any]]] = Field(
        default_factory=dict, description="Transfers (overrides on a neutral base) that must fire / must not fire.")

    @model_validator(mode="after")
    def _deal_shape(self) -> RuleSpec:
        if self.scope == "deal" and self.counter_leg is None:
            raise ValueError("a deal rule needs 'counter_leg'")
        if self.scope != "deal" and (self.counter_leg is not None or self.join):
            raise ValueError("'counter_leg' and 'join' are only for rules with scope: deal")
        return self


class PredicatesSpec(_Spec):
    """A file of named conditions."""

    predicates: dict[str, CondSpec]
    description: str | None = None


# ----------------------------------------------------------------------------------------------------------------
# Runtime objects
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exemption:
    """A checked exemption, with its compiled pattern id."""

    spec: ExemptionSpec
    pattern_id: str


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
    """The parsed :class:`sanctions.caps.CapSpec` list when the rule carries caps."""

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
            for ex in rule.exemptions:
                out[ex.pattern_id] = (rule, ex)
        return out


# ----------------------------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------------------------


def builtin_rules_dir() -> Path:
    """The rulebook that ships with the library (``rules/`` in a checkout, ``sanctions/_rules`` in a wheel)."""
    packaged = Path(str(resources.files("sanctions"))) / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.y*ml") if p.suffix in (".yaml", ".yml") and "data" not in
                  p.relative_to(folder).parts[:1])


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


def _read_yaml(path: Path, label: str) -> Any:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidRule(f"file is larger than {MAX_FILE_BYTES} bytes", file=label)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRule(f"not UTF-8 text ({err.reason} at byte {err.start})", file=label) from None
    except OSError as err:
        raise InvalidRule(f"cannot read: {err.strerror}", file=label) from None
    try:
        # CSafeLoader is libyaml's safe loader: same safety (no Python tags), ten times faster.
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InvalidRule(f"not valid YAML: {problem}", file=label, key=where) from None


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


def load_rulebook(*folders: str | Path, include_builtin: bool = True) -> Rulebook:
    """Load, check and compile rule files.

    Args:
        folders: Extra rule packs; a rule in a later pack with the same id as an earlier one is an error.
        include_builtin: Start from the rulebook shipped with the library.

    Raises:
        InvalidRule: naming the file and key of the first problem found.
    """
    dirs: list[Path] = [builtin_rules_dir()] if include_builtin else []
    dirs += [Path(f) for f in folders]
    specs: list[tuple[str, RuleSpec]] = []
    predicates: dict[str, tuple[str, Any]] = {}
    digest = hashlib.sha256()
    for folder in dirs:
        if not folder.is_dir():
            raise InvalidRule("not a folder of rule files", file=str(folder))
        for path in _yaml_files(folder):
            label = str(path) if folder not in dirs[:1] or not include_builtin else f"rules/{path.relative_to(folder)}"
            data = _read_yaml(path, label)
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
            if not isinstance(data, dict):
                raise InvalidRule("a rule file must hold a mapping (a rule, or 'predicates:')", file=label)
            try:
                if "predicates" in data and "id" not in data:
                    pspec = PredicatesSpec.model_validate(data)
                    for name, cond in pspec.predicates.items():
                        if name in predicates:
                            raise InvalidRule(f"predicate {name!r} is also defined in {predicates[name][0]}",
                                              file=label, key=f"predicates.{name}")
                        predicates[name] = (label, cond)
                else:
                    specs.append((label, RuleSpec.model_validate(data)))
            except ValidationError as err:
                raise _spec_error(err, label) from None
    if len(specs) > MAX_RULES:
        raise InvalidRule(f"{len(specs)} rules; at most {MAX_RULES} are supported", file=str(dirs[-1]))
    return _build(specs, predicates, digest.hexdigest(), tuple(str(d) for d in dirs))


def _build(specs: list[tuple[str, RuleSpec]], predicates: Mapping[str, tuple[str, Any]], digest: str,
           sources: tuple[str, ...]) -> Rulebook:
    seen: dict[str, str] = {}
    for label, spec in specs:
        if spec.id in seen:
            raise InvalidRule(f"duplicate rule id {spec.id!r} (also in {seen[spec.id]})", file=label, key="id")
        seen[spec.id] = label
    compiler = _Compiler(predicates)
    rules: dict[str, Rule] = {}
    patterns: list[C.Pattern] = []
    joins: list[C.JoinPattern] = []
    for label, spec in sorted(specs, key=lambda s: s[1].id):
        rule, made = compiler.rule(spec, label)
        rules[spec.id] = rule
        for p in made:
            (joins if isinstance(p, C.JoinPattern) else patterns).append(p)
    for label, spec in specs:
        for ref in spec.replaces + spec.replaced_by:
            if ref not in rules:
                raise InvalidRule(f"names rule {ref!r}, which is not in the rulebook", file=label,
                                  key="replaces" if ref in spec.replaces else "replaced_by",
                                  hint=_did_you_mean(ref, rules))
    defaults: dict[str, dict[str, C.Scalar]] = {k: {} for k in C.FACT_KINDS}
    for p in patterns:
        for key in C.keys_of(p.cond):
            defaults[p.kind][key] = default_for(key)
    for jp in joins:
        for key in C.keys_of(jp.left) | {j.left_key for j in jp.joins}:
            defaults[jp.left_kind][key] = default_for(key)
        for key in C.keys_of(jp.right) | {j.right_key for j in jp.joins}:
            defaults[jp.right_kind][key] = default_for(key)
    compiled = C.CompiledRulebook(
        patterns=tuple(sorted(patterns, key=lambda p: p.id)),
        join_patterns=tuple(sorted(joins, key=lambda p: p.id)),
        defaults={k: dict(sorted(v.items())) for k, v in defaults.items()},
    )
    return Rulebook(rules=dict(sorted(rules.items())), compiled=compiled, digest=digest, sources=sources,
                    predicates={k: v[1] for k, v in predicates.items()})


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
        out: list[C.Pattern | C.JoinPattern] = [C.Pattern(spec.id, scope, cond)]
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
            out.append(C.Pattern(pid, scope, self.cond(ex.when, label, f"{key}.when", scope, ())))
            exemptions.append(Exemption(ex, pid))
            self._template(ex.explanation, scope, label, f"{key}.explanation")
        self._template(spec.explanation, scope, label, "explanation")
        self._check_examples(spec, label)
        rule = Rule(spec=spec, file=label, scope=scope, pattern_id=spec.id, exemptions=tuple(exemptions),
                    keys=frozenset(C.keys_of(cond)), caps=self._caps(spec, scope, label))
        return rule, out

    def _caps(self, spec: RuleSpec, scope: str, label: str) -> tuple[Any, ...]:
        if spec.cap is None:
            return ()
        from sanctions.caps import CapSpec

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
        from sanctions.model import _COUNTRY_CODES  # one source of truth for country codes

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
