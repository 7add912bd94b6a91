"""The rule-file format: frozen pydantic *spec* models (``extra="forbid"``), one per shape a YAML file may take.

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
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator



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
    note: str | None = Field(default=None, description="Why the period starts or ends where it does (what "
                             "terminated or replaced the measure); shown when a rule matched out of force.")

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
    assumption: str | None = Field(
        default=None, description="A reading of the text that the rule relies on and no source settles (an "
        "interpretation, a date inferred, a condition read one way): every finding of the rule says it, and so do "
        "the catalogue and the JSON output, so a reader sees what is law and what is reading.")
    scope: Literal["item", "transfer", "deal"] | None = Field(
        default=None, description="Which facts the rule judges; inferred from the fields when omitted.")
    when: CondSpec
    counter_leg: CondSpec | None = Field(default=None, description="Deal rules: the condition on the other leg.")
    join: list[JoinSpec] = Field(default_factory=list, description="Deal rules: how leg and counter-leg relate.")
    exemptions: list[ExemptionSpec] = Field(default_factory=list)
    duty: DutySpec | None = None
    cap: dict[str, Any] | list[dict[str, Any]] | None = Field(
        default=None, description="Cap (or caps, one per period regime) judged with a ledger: see sanctions.caps.CapSpec.")
    cite_with: list[str] = Field(
        default_factory=list, description="Ids of rules whose paragraphs also bear on this rule's findings (a "
        "paragraph this one extends, or a measure the same act breaches): when one of them fires on the same "
        "transfer, its citations are added to this rule's finding.")
    replaces: list[str] = Field(default_factory=list, description="Ids of rules this one replaced.")
    replaced_by: list[str] = Field(default_factory=list, description="Ids of rules that replaced this one: the "
                                   "measure ended when they began, so this rule carries an 'until'.")
    supplements: list[str] = Field(default_factory=list, description="Ids of rules this one adds to; they stay in "
                                   "force alongside it.")
    supplemented_by: list[str] = Field(default_factory=list, description="Ids of later rules that add to this one "
                                       "without ending it (a measure that never lapsed is supplemented, not "
                                       "replaced).")
    tags: list[str] = Field(default_factory=list)
    caveat: str | None = Field(default=None, description="A standing qualification every finding of the rule "
                               "carries, e.g. that the measure's validity is disputed and whose position decides.")
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
