"""Conversion between units of quantity, per product, with cited factors.

Mass units (tonnes, kilograms) convert among themselves exactly, and so do volume units (barrels,
litres, cubic metres; 1 barrel = 42 US gallons = 158.987294928 litres, exact). Between mass and volume
the answer depends on the product's density, so a *product* is needed: a product key from
``sanctions/data/unit_factors.yaml`` (``"diesel"``, ``"lpg"``, ``"crude_oil"`` ...) or a
:class:`~sanctions.model.Category` whose meaning is unambiguous (``crude_oil``). Every factor carries its
source URL and whether it was verified at that source; see :func:`factor`.

Anything that cannot be converted raises :class:`~sanctions.exc.InvalidInput` naming the unit and the
product. Nothing is ever converted to a silent zero or a guessed density::

    >>> convert(1000, "tonnes", "barrels", product="lpg")
    Decimal('11600')
    >>> convert(2, "cubic_metres", "litres", product=None)
    Decimal('2000')

When only the category is known (``refined_petroleum`` covers LPG at 11.6 and bitumen at 6.05 barrels per
tonne), :func:`convert_range` gives the lowest and highest answer over candidate products, e.g. those of
an HS code from :func:`products_for_hs`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from sanctions.exc import FieldProblem, InvalidInput
from sanctions.model.vocab import Unit

__all__ = [
    "BARREL_LITRES",
    "Factor",
    "FactorTable",
    "convert",
    "convert_range",
    "dimension",
    "factor",
    "factors",
    "load_factors",
    "products",
    "products_for_hs",
    "to_decimal",
]

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "unit_factors.yaml"

BARREL_LITRES = Decimal("158.987294928")
"""Litres in one US oil barrel (42 US gallons of 3.785411784 litres), exact by definition."""

_MASS_IN_KG = {Unit.tonnes: Decimal(1000), Unit.kilograms: Decimal(1)}
_VOLUME_IN_LITRES = {Unit.litres: Decimal(1), Unit.cubic_metres: Decimal(1000), Unit.barrels: BARREL_LITRES}


def dimension(unit: Unit | str) -> str:
    """``"mass"``, ``"volume"``, or the unit's own name for units that convert to nothing else."""
    u = _unit(unit)
    if u in _MASS_IN_KG:
        return "mass"
    if u in _VOLUME_IN_LITRES:
        return "volume"
    return u.value


@dataclass(frozen=True)
class Alternative:
    """A cross-check figure from another source; never used to convert."""

    barrels_per_tonne: Decimal | None
    litres_per_tonne: Decimal | None
    source: str
    url: str
    verified: bool


@dataclass(frozen=True)
class Factor:
    """The density factor of one product, with its provenance.

    Attributes:
        product: Product key, e.g. ``"diesel"``.
        label: Human name.
        litres_per_tonne: Litres in one metric tonne (derived from barrels where that is the primary figure).
        barrels_per_tonne: Barrels in one metric tonne (derived from litres where that is the primary figure).
        primary: Which of the two the source states: ``"barrels_per_tonne"`` or ``"litres_per_tonne"``.
        source: Source key in the data file, e.g. ``"unsd_yearbook"``.
        url: Where the figure was published.
        verified: True when it was read at that source; False when taken from notes or derived.
        note: Why this figure, and its caveats.
        categories: Categories the product belongs to.
        hs: HS code prefixes that may denote the product (an engineering mapping, not legal text).
        alternatives: Cross-check figures from other sources.
    """

    product: str
    label: str
    litres_per_tonne: Decimal
    barrels_per_tonne: Decimal
    primary: str
    source: str
    url: str
    verified: bool
    note: str = ""
    categories: tuple[str, ...] = ()
    hs: tuple[str, ...] = ()
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)

    def citation(self) -> str:
        """One line: the figure, its source URL and whether it was verified."""
        figure = self.barrels_per_tonne if self.primary == "barrels_per_tonne" else self.litres_per_tonne
        what = "barrels" if self.primary == "barrels_per_tonne" else "litres"
        flag = "verified" if self.verified else "UNVERIFIED"
        return f"{self.label}: {_plain(figure)} {what} per tonne ({self.source}, {flag}) {self.url}"


@dataclass(frozen=True)
class FactorTable:
    """All factors from one data file."""

    products: Mapping[str, Factor]
    categories: Mapping[str, str | None]
    sources: Mapping[str, Mapping[str, str]]
    path: str


def to_decimal(value: Any, *, what: str = "value") -> Decimal:
    """A finite Decimal from an int, float, Decimal or numeric string (floats via their shortest repr).

    Raises:
        InvalidInput: for anything else, NaN or infinity.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number", problems=[FieldProblem(what, "not a number", value)])
    try:
        if isinstance(value, Decimal):
            d = value
        elif isinstance(value, float):
            d = Decimal(repr(value))
        elif isinstance(value, int | str):
            d = Decimal(str(value).strip())
        else:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            f"{what} must be a number", problems=[FieldProblem(what, "not a number", value)]
        ) from None
    if not d.is_finite():
        raise InvalidInput(f"{what} must be finite", problems=[FieldProblem(what, "not finite", value)])
    return d


def _ratio(text: Any, where: str) -> Decimal:
    raw = str(text).strip()
    try:
        if "/" in raw:
            a, b = raw.split("/", 1)
            return Decimal(a.strip()) / Decimal(b.strip())
        return Decimal(raw)
    except (InvalidOperation, ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: not a number or ratio: {raw!r}") from None


def _plain(d: Decimal) -> str:
    return (
        format(d.normalize(), "f")
        if d == d.to_integral_value()
        else format(d.quantize(Decimal("0.0001")).normalize(), "f")
    )


def load_factors(path: str | Path | None = None) -> FactorTable:
    """Read and check a factor file (default: the packaged ``unit_factors.yaml``).

    Raises:
        ValueError: when the file breaks its own rules (one primary factor per product, known sources).
    """
    file = Path(path) if path is not None else DATA_FILE
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("version") != 1:
        raise ValueError(f"{file}: expected a mapping with version: 1")
    barrel = _ratio(raw.get("barrel_litres", "158.987294928"), "barrel_litres")
    if barrel != BARREL_LITRES:
        raise ValueError(f"{file}: barrel_litres must be {BARREL_LITRES}")
    sources: dict[str, dict[str, str]] = raw.get("sources") or {}
    out: dict[str, Factor] = {}
    for key, spec in (raw.get("products") or {}).items():
        where = f"{file}: products.{key}"
        has_b, has_l = "barrels_per_tonne" in spec, "litres_per_tonne" in spec
        if has_b == has_l:
            raise ValueError(f"{where}: give exactly one of barrels_per_tonne or litres_per_tonne")
        src = spec.get("source")
        if src not in sources:
            raise ValueError(f"{where}: unknown source {src!r}")
        if not isinstance(spec.get("verified"), bool):
            raise ValueError(f"{where}: verified must be true or false")
        if has_b:
            bpt = _ratio(spec["barrels_per_tonne"], where)
            lpt, primary = bpt * BARREL_LITRES, "barrels_per_tonne"
        else:
            lpt = _ratio(spec["litres_per_tonne"], where)
            bpt, primary = lpt / BARREL_LITRES, "litres_per_tonne"
        if lpt <= 0:
            raise ValueError(f"{where}: factor must be positive")
        alts = []
        for alt in spec.get("alternatives") or []:
            if alt.get("source") not in sources:
                raise ValueError(f"{where}: alternative with unknown source {alt.get('source')!r}")
            alts.append(
                Alternative(
                    barrels_per_tonne=_ratio(alt["barrels_per_tonne"], where)
                    if "barrels_per_tonne" in alt
                    else None,
                    litres_per_tonne=_ratio(alt["litres_per_tonne"], where)
                    if "litres_per_tonne" in alt
                    else None,
                    source=alt["source"],
                    url=sources[alt["source"]]["url"],
                    verified=bool(alt.get("verified")),
                )
            )
        out[key] = Factor(
            product=key,
            label=spec.get("label", key),
            litres_per_tonne=lpt,
            barrels_per_tonne=bpt,
            primary=primary,
            source=src,
            url=sources[src]["url"],
            verified=spec["verified"],
            note=" ".join(str(spec.get("note", "")).split()),
            categories=tuple(spec.get("categories") or ()),
            hs=tuple(str(h) for h in spec.get("hs") or ()),
            alternatives=tuple(alts),
        )
    cats: dict[str, str | None] = dict(raw.get("categories") or {})
    for cat, prod in cats.items():
        if prod is not None and prod not in out:
            raise ValueError(f"{file}: categories.{cat} names unknown product {prod!r}")
    return FactorTable(products=out, categories=cats, sources=sources, path=str(file))


@functools.cache
def _table() -> FactorTable:
    return load_factors()


def factors() -> FactorTable:
    """The packaged factor table (loaded once)."""
    return _table()


def products() -> tuple[str, ...]:
    """Product keys that have a mass/volume factor, sorted."""
    return tuple(sorted(_table().products))


def factor(product: str | Enum) -> Factor:
    """The factor of a product key or a category that stands for one product.

    Raises:
        InvalidInput: for an unknown product or an ambiguous category, with the choices.
    """
    return _resolve(product, None, None)


def products_for_hs(hs_code: str) -> tuple[str, ...]:
    """Candidate products for an HS code, by longest matching prefix (empty when none).

    ``271019`` (medium and heavy oils) gives kerosene, jet fuel, diesel, fuel oils and lubricants: the code
    alone does not fix the density, so pass the candidates to :func:`convert_range`.
    """
    code = "".join(ch for ch in str(hs_code) if ch.isdigit())
    best, hits = 0, []
    for key, f in _table().products.items():
        for prefix in f.hs:
            if code.startswith(prefix) and len(prefix) >= best:
                if len(prefix) > best:
                    best, hits = len(prefix), []
                hits.append(key)
    return tuple(sorted(set(hits)))


def _unit(unit: Unit | str) -> Unit:
    if isinstance(unit, Unit):
        return unit
    try:
        return Unit(str(unit).strip().lower())
    except ValueError:
        close = difflib.get_close_matches(str(unit).strip().lower(), [u.value for u in Unit], n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "units are " + ", ".join(u.value for u in Unit)
        raise InvalidInput(
            f"unknown unit {unit!r}", problems=[FieldProblem("unit", "unknown unit", unit, hint)]
        ) from None


def _resolve(product: str | Enum | None, src: Unit | None, dst: Unit | None) -> Factor:
    table = _table()
    key = product.value if isinstance(product, Enum) else product
    between = f" from {src.value} to {dst.value}" if src and dst else ""
    if key is None:
        raise InvalidInput(
            f"cannot convert{between} without a product: tonnes and barrels depend on the product's density",
            problems=[
                FieldProblem(
                    "product",
                    "required for a mass/volume conversion",
                    None,
                    "give one of " + ", ".join(sorted(table.products)),
                )
            ],
        )
    key = str(key).strip()
    if key in table.products:
        return table.products[key]
    if key in table.categories:
        mapped = table.categories[key]
        if mapped is not None:
            return table.products[mapped]
        choices = sorted(k for k, f in table.products.items() if key in f.categories)
        raise InvalidInput(
            f"cannot convert{between} for category {key!r}: its products differ in density; name the product",
            problems=[
                FieldProblem("product", "ambiguous category", key, "give one of " + ", ".join(choices))
            ],
        )
    close = difflib.get_close_matches(key, list(table.products) + list(table.categories), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "known products: " + ", ".join(sorted(table.products))
    raise InvalidInput(
        f"cannot convert{between}: no conversion factor for product {key!r}",
        problems=[FieldProblem("product", "no conversion factor", key, hint)],
    )


def convert(
    value: Any, from_unit: Unit | str, to_unit: Unit | str, *, product: str | Enum | None = None
) -> Decimal:
    """Convert a quantity between units, exactly, using the product's cited factor where mass meets volume.

    Args:
        value: The amount (int, float, Decimal or numeric string); floats are read by their shortest repr.
        from_unit: Unit of ``value``.
        to_unit: Unit wanted.
        product: Product key or category; needed only between mass and volume.

    Returns:
        The amount in ``to_unit`` as a Decimal (not rounded).

    Raises:
        InvalidInput: for an unknown unit, units of different kinds (``usd`` to ``barrels``), a missing or
            ambiguous product, or a product without a factor; the message names the units and the product.
    """
    amount = to_decimal(value)
    src, dst = _unit(from_unit), _unit(to_unit)
    if src == dst:
        return amount
    return _tidy(_convert(amount, src, dst, product))


def _tidy(d: Decimal) -> Decimal:
    """Whole numbers without trailing zeros or exponents (``5.25E+5`` -> ``525000``)."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def _convert(amount: Decimal, src: Unit, dst: Unit, product: str | Enum | None) -> Decimal:
    ds, dd = dimension(src), dimension(dst)
    if ds == dd == "mass":
        return amount * _MASS_IN_KG[src] / _MASS_IN_KG[dst]
    if ds == dd == "volume":
        return amount * _VOLUME_IN_LITRES[src] / _VOLUME_IN_LITRES[dst]
    what = product.value if isinstance(product, Enum) else product
    if {ds, dd} != {"mass", "volume"}:
        raise InvalidInput(
            f"cannot convert {src.value} to {dst.value}"
            + (f" for product {what!r}" if what else "")
            + ": they measure different things",
            problems=[FieldProblem("unit", f"{src.value} does not convert to {dst.value}", src.value)],
        )
    f = _resolve(product, src, dst)
    if ds == "mass":
        tonnes = amount * _MASS_IN_KG[src] / _MASS_IN_KG[Unit.tonnes]
        return tonnes * f.litres_per_tonne / _VOLUME_IN_LITRES[dst]
    litres = amount * _VOLUME_IN_LITRES[src]
    return litres / f.litres_per_tonne * _MASS_IN_KG[Unit.tonnes] / _MASS_IN_KG[dst]


def convert_range(
    value: Any, from_unit: Unit | str, to_unit: Unit | str, *, products: Iterable[str | Enum]
) -> tuple[Decimal, Decimal]:
    """Lowest and highest :func:`convert` result over candidate products (e.g. from :func:`products_for_hs`).

    A cap check that does not know the exact product should judge against the high end.

    Raises:
        InvalidInput: when there are no candidates, or any candidate cannot be converted.
    """
    results = [convert(value, from_unit, to_unit, product=p) for p in products]
    if not results:
        raise InvalidInput(
            f"cannot convert {_unit(from_unit).value} to {_unit(to_unit).value}: no candidate products",
            problems=[FieldProblem("product", "no candidates", None)],
        )
    return min(results), max(results)
