"""Cap arithmetic: how much of a cap a new transfer would use, given what the ledger already holds.

A :class:`CapSpec` is the declarative form a rule file embeds (frozen pydantic, ``extra="forbid"``)::

    cap:
      id: dprk.coal.2321.2017
      quantity: {unit: tonnes}
      limit: 7500000
      alt_limit: {value: 400870018, unit: usd}     # "whichever is lower"
      period: {kind: calendar_year, start: 2017-01-01, end: 2017-08-04}
      thresholds: [0.75, 0.9, 0.95]
      scope: DPRK-origin coal procured by all Member States

:func:`assess` turns a spec, a ledger (:class:`~sanctions.ledger.store.LedgerBackend`) and the new
transfer's quantities into a :class:`CapAssessment`: pure data (totals before and after, fraction used,
thresholds crossed, over the cap or not, and the ledger lines to record if the transfer goes ahead). It
writes nothing; :mod:`sanctions.ledger.capcheck` turns it into findings and records ``assessment.lines`` in
the same ledger transaction as the assessment.

A cap with an ``alt_limit`` is two measures judged together (tonnes and US dollars for the 2017 coal cap;
barrels and tonnes for 2397's crude cap). The alternative measure is kept in the ledger under
``"<id>:<unit>"``. The cap is reached when *either* measure is: the cap's fraction is the larger of the two,
and the measure with that fraction is the *binding* one whose figures the assessment shows at its top level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sanctions.exc import FieldProblem, InvalidInput
from sanctions.ledger.store import LedgerBackend, LedgerLine, PeriodSpec, period_for
from sanctions.model.records import Money, Quantity, Unit
from sanctions.model.units import convert, to_decimal

__all__ = [
    "AltLimit",
    "CapAssessment",
    "CapInput",
    "CapSpec",
    "MeasureAssessment",
    "PeriodSpec",
    "QuantitySpec",
    "assess",
]

PositiveAmount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuantitySpec(_Spec):
    """What a cap counts."""

    unit: Unit = Field(description="The cap's unit; ledger totals are kept in it.")
    product: str | None = Field(
        default=None,
        description="Product used to convert between mass and volume when "
        "the item does not name one, e.g. 'crude_oil'. See sanctions/data/unit_factors.yaml.",
    )


class AltLimit(_Spec):
    """A second limit in another unit; the cap is reached when either limit is ('whichever is lower')."""

    value: PositiveAmount = Field(description="The limit in `unit`.")
    unit: Unit = Field(description="Unit of the second limit, e.g. usd or tonnes.")


class CapSpec(_Spec):
    """A quantitative cap across shipments, as a rule file states it."""

    id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[a-z0-9][a-z0-9._\-]*$",
        description="Stable id; the ledger key. Lower case, dots and dashes.",
    )
    quantity: QuantitySpec = Field(description="What is counted and in which unit.")
    limit: PositiveAmount = Field(description="The limit per period, in quantity.unit.")
    alt_limit: AltLimit | None = Field(default=None, description="A second limit in another unit.")
    period: PeriodSpec = Field(description="How the cap's periods run.")
    thresholds: tuple[float, ...] = Field(
        default=(0.75, 0.9, 0.95),
        description="Fractions of the limit at which an alert is due, ascending, each in (0, 1].",
    )
    scope: str = Field(default="", max_length=2000, description="What the cap covers, in words.")

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < t <= 1 for t in v):
            raise ValueError("each threshold is a fraction of the limit, above 0 and at most 1")
        if list(v) != sorted(set(v)):
            raise ValueError("thresholds must be ascending and distinct")
        return v

    @model_validator(mode="after")
    def _alt_unit(self) -> CapSpec:
        if self.alt_limit is not None and self.alt_limit.unit == self.quantity.unit:
            raise ValueError("alt_limit must be in a different unit from the quantity")
        return self

    @property
    def alt_ledger_id(self) -> str | None:
        """Ledger key of the alternative measure, ``"<id>:<unit>"``; None without an alt_limit."""
        return None if self.alt_limit is None else f"{self.id}:{self.alt_limit.unit.value}"

    def measures(self) -> list[tuple[str, Unit, Decimal]]:
        """(ledger id, unit, limit) of each measure, the primary first."""
        out = [(self.id, self.quantity.unit, self.limit)]
        if self.alt_limit is not None:
            assert self.alt_ledger_id
            out.append((self.alt_ledger_id, self.alt_limit.unit, self.alt_limit.value))
        return out

    def period_of(self, date: dt.date) -> str:
        """The period key of a date (raises InvalidInput outside the cap's life)."""
        return period_for(self.period, date)


@dataclass(frozen=True)
class CapInput:
    """One item of the new transfer that counts towards the cap.

    Attributes:
        item_index: Index in the transfer's ``items`` (the ledger key).
        quantity: How much, in any unit convertible to the cap's.
        value: Declared value, needed when a measure is in ``usd``.
        product: Product key for mass/volume conversion (e.g. ``diesel``); default: the cap's.
    """

    item_index: int
    quantity: Quantity | None
    value: Money | None = None
    product: str | None = None


@dataclass(frozen=True)
class MeasureAssessment:
    """One measure (unit and limit) of a cap."""

    ledger_id: str
    unit: str
    limit: Decimal
    total_before: Decimal
    amount: Decimal
    total_after: Decimal
    fraction_before: float
    fraction: float
    over_cap: bool

    @property
    def remaining(self) -> Decimal:
        """Headroom after the new amount (negative when over)."""
        return self.limit - self.total_after


@dataclass(frozen=True)
class CapAssessment:
    """How a new transfer stands against one cap in one period. Pure data.

    The top-level figures are those of the binding measure (the one with the larger fraction after the
    transfer). ``crossed_thresholds`` are the thresholds the cap's fraction passes with this transfer;
    ``reached_thresholds`` all those at or below the fraction after it. ``over_cap`` is true when any measure
    exceeds its limit (reaching the limit exactly is allowed). ``unassessed`` says which measure could not be
    judged and why (e.g. no declared value for a USD limit).
    """

    cap_id: str
    period: str
    total_before: Decimal
    amount: Decimal
    total_after: Decimal
    limit: Decimal
    unit: str
    fraction: float
    crossed_thresholds: tuple[float, ...]
    reached_thresholds: tuple[float, ...]
    over_cap: bool
    binding: str
    measures: tuple[MeasureAssessment, ...]
    unassessed: tuple[str, ...]
    lines: tuple[LedgerLine, ...]

    @property
    def remaining(self) -> Decimal:
        """Headroom left under the binding limit after this transfer (negative when over)."""
        return self.limit - self.total_after

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (decimals as strings)."""

        def m(x: MeasureAssessment) -> dict[str, Any]:
            return {
                "ledger_id": x.ledger_id,
                "unit": x.unit,
                "limit": str(x.limit),
                "total_before": str(x.total_before),
                "amount": str(x.amount),
                "total_after": str(x.total_after),
                "fraction": x.fraction,
                "over_cap": x.over_cap,
            }

        return {
            "cap_id": self.cap_id,
            "period": self.period,
            "total_before": str(self.total_before),
            "amount": str(self.amount),
            "total_after": str(self.total_after),
            "limit": str(self.limit),
            "unit": self.unit,
            "fraction": self.fraction,
            "crossed_thresholds": list(self.crossed_thresholds),
            "reached_thresholds": list(self.reached_thresholds),
            "over_cap": self.over_cap,
            "binding": self.binding,
            "remaining": str(self.remaining),
            "measures": [m(x) for x in self.measures],
            "unassessed": list(self.unassessed),
        }


def _inputs(amounts: Any) -> list[CapInput]:
    if isinstance(amounts, CapInput):
        return [amounts]
    if isinstance(amounts, Quantity):
        return [CapInput(0, amounts)]
    if isinstance(amounts, Mapping):
        return [CapInput(0, Quantity.model_validate(amounts))]
    if isinstance(amounts, Sequence) and not isinstance(amounts, str):
        out = []
        for i, a in enumerate(amounts):
            if isinstance(a, CapInput):
                out.append(a)
            elif isinstance(a, Quantity | Mapping):
                out.append(CapInput(i, Quantity.model_validate(a)))
            else:
                raise InvalidInput(
                    "cap amounts must be quantities or CapInput items",
                    problems=[FieldProblem(f"[{i}]", "not a quantity", a)],
                )
        return out
    raise InvalidInput(
        "cap amount must be a quantity {value, unit}, a CapInput or a list of them",
        problems=[FieldProblem("", "not a quantity", amounts)],
    )


def _measure_amount(cap: CapSpec, unit: Unit, item: CapInput) -> tuple[Decimal, Decimal, str] | str:
    """(amount in unit, original value, original unit), or a reason it cannot be judged."""
    where = f"items[{item.item_index}]"
    if unit == Unit.usd and (item.quantity is None or item.quantity.unit != Unit.usd):
        if item.value is None:
            return f"{where}: no declared value, so the {cap.id} limit in USD was not judged"
        if item.value.currency != "USD":
            raise InvalidInput(
                f"cap {cap.id} counts US dollars but {where}.value is in {item.value.currency}; "
                "give it in USD",
                problems=[FieldProblem(f"{where}.value.currency", "the cap counts USD", item.value.currency)],
            )
        amount = to_decimal(item.value.amount)
        return amount, amount, "USD"
    if item.quantity is None:
        raise InvalidInput(
            f"cap {cap.id} counts {unit.value} but {where} has no quantity",
            problems=[FieldProblem(f"{where}.quantity", "required where a cap applies", None)],
        )
    q = item.quantity
    try:
        amount = convert(q.value, q.unit, unit, product=item.product or cap.quantity.product)
    except InvalidInput as err:
        raise InvalidInput(f"cap {cap.id}: {where}: {err.message}", problems=err.problems) from None
    return amount, to_decimal(q.value), q.unit.value


def assess(
    cap: CapSpec,
    ledger: LedgerBackend | None,
    amounts: Quantity | CapInput | Mapping[str, Any] | Sequence[Any],
    *,
    on: dt.date,
    exclude_transfer: str | None = None,
) -> CapAssessment:
    """Judge new amounts against a cap, given what the ledger holds for the period of ``on``.

    Args:
        cap: The cap.
        ledger: The ledger; None judges the new amounts alone (as if nothing had been recorded).
        amounts: A :class:`~sanctions.model.Quantity` (or ``{value, unit}``), a :class:`CapInput`, or a list:
            every item of the transfer that counts towards this cap (they are summed).
        on: The transfer's date (the start of a date range); picks the period.
        exclude_transfer: A transfer id whose recorded lines are left out of the total (re-judging it).

    Returns:
        The assessment; ``assessment.lines`` are what to record in the ledger if the transfer goes ahead.

    Raises:
        InvalidInput: when a quantity cannot be converted to the cap's unit (naming unit and product), an
            item lacks the quantity a measure needs, the date is outside the cap's life, or no measure at all
            could be judged.
    """
    items = _inputs(amounts)
    period = cap.period_of(on)
    measures: list[MeasureAssessment] = []
    unassessed: list[str] = []
    lines: list[LedgerLine] = []
    for ledger_id, unit, limit in cap.measures():
        got = [(it, _measure_amount(cap, unit, it)) for it in items]
        missing = [r for _, r in got if isinstance(r, str)]
        if missing:
            unassessed.extend(missing)
            continue
        amount = sum((r[0] for _, r in got if not isinstance(r, str)), Decimal(0))
        before = (
            ledger.total(ledger_id, period, exclude_transfer=exclude_transfer)
            if ledger is not None
            else Decimal(0)
        )
        after = before + amount
        measures.append(
            MeasureAssessment(
                ledger_id,
                unit.value,
                limit,
                before,
                amount,
                after,
                float(before / limit),
                float(after / limit),
                after > limit,
            )
        )
        for it, r in got:
            assert not isinstance(r, str)
            lines.append(LedgerLine(ledger_id, period, it.item_index, r[0], unit.value, r[1], r[2]))
    if not measures:
        raise InvalidInput(f"cap {cap.id}: nothing to judge: " + "; ".join(unassessed))
    binding = max(measures, key=lambda x: (x.total_after / x.limit, x.ledger_id == cap.id))
    f_before = max(x.total_before / x.limit for x in measures)
    f_after = max(x.total_after / x.limit for x in measures)
    crossed = tuple(t for t in cap.thresholds if f_before < Decimal(str(t)) <= f_after)
    reached = tuple(t for t in cap.thresholds if Decimal(str(t)) <= f_after)
    return CapAssessment(
        cap_id=cap.id,
        period=period,
        total_before=binding.total_before,
        amount=binding.amount,
        total_after=binding.total_after,
        limit=binding.limit,
        unit=binding.unit,
        fraction=float(f_after),
        crossed_thresholds=crossed,
        reached_thresholds=reached,
        over_cap=any(x.over_cap for x in measures),
        binding=binding.ledger_id,
        measures=tuple(measures),
        unassessed=tuple(unassessed),
        lines=tuple(lines),
    )
