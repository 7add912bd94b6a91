"""The cap ledger as one HTML page: per cap and period, the cumulative total against the limit and the alert
thresholds over time, as inline SVG charts with the same figures in tables (see :func:`render_ledger`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sanctions.report._env import render

W, H = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 140, 20, 40


def _fmt(q: Decimal | float) -> str:
    d = Decimal(str(q))
    return f"{int(d):,}" if d == d.to_integral_value() else f"{d:,.2f}"


def _ticks(top: float, n: int = 5) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / n
    mag = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    out, v = [], 0.0
    while v <= top + 1e-9:
        out.append(v)
        v += step
    return out


def chart(cap_id: str, period: str, unit: str, entries: list[Any], limit: Decimal | None,
          thresholds: tuple[float, ...]) -> dict[str, Any]:
    """Geometry and table rows of one chart: the cumulative total, step by step, over the period's days."""
    from sanctions.ledger.store import parse_period

    first, last = parse_period(period)
    points = []
    total = Decimal(0)
    for e in sorted(entries, key=lambda e: (e.transfer_date, e.id)):
        total += e.quantity
        points.append({"date": e.transfer_date, "transfer": e.transfer_id, "item": e.item_index,
                       "quantity": e.quantity, "total": total})
    top = float(max([total, limit or 0, Decimal(1)])) * 1.12
    span = max((last - first).days, 1)

    def x(d: dt.date) -> float:
        return LEFT + (W - LEFT - RIGHT) * min(max((d - first).days, 0), span) / span

    def y(v: Decimal | float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - float(v) / top)

    path = f"M {x(first):.1f} {y(0):.1f}"
    for p in points:
        path += f" H {x(p['date']):.1f} V {y(p['total']):.1f}"
    path += f" H {x(last):.1f}"
    lines = []
    if limit is not None:
        lines.append({"kind": "limit", "y": y(limit), "label": f"limit {_fmt(limit)}"})
        for t in thresholds:
            if t < 1:
                lines.append({"kind": "threshold", "y": y(limit * Decimal(str(t))), "label": f"{t:.0%} alert"})
    months = []
    d = dt.date(first.year, first.month, 1)
    while d <= last:
        if d >= first:
            months.append({"x": x(d), "label": d.strftime("%b %Y") if d.month == 1 or not months else d.strftime("%b")})
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    if len(months) > 13:
        months = months[::3]
    return {
        "cap_id": cap_id, "period": period, "unit": unit, "first": first.isoformat(), "last": last.isoformat(),
        "total": _fmt(total), "limit": _fmt(limit) if limit is not None else None,
        "fraction": float(total / limit) if limit else None,
        "over": limit is not None and total > limit,
        "path": path, "lines": lines, "months": months,
        "yticks": [{"y": y(v), "label": _fmt(Decimal(str(round(v, 2))))} for v in _ticks(top / 1.12 * 1.1)],
        "dots": [{"x": x(p["date"]), "y": y(p["total"])} for p in points],
        "rows": [{"date": p["date"].isoformat(), "transfer": p["transfer"], "item": p["item"],
                  "quantity": _fmt(p["quantity"]), "total": _fmt(p["total"]),
                  "share": f"{float(p['total'] / limit):.1%}" if limit else ""} for p in points],
        "x0": LEFT, "x1": W - RIGHT, "y0": TOP, "y1": H - BOTTOM, "w": W, "h": H,
    }


def render_ledger(ledger: Any, rulebook: Any = None, *, year: int | None = None, title: str | None = None) -> str:
    """One self-contained HTML page charting every cap and period in a ledger.

    Args:
        ledger: An open ledger (:func:`sanctions.ledger.backends.open_ledger`), or its path or URL.
        rulebook: The rulebook whose caps give the limits and thresholds (default: the built-in rulebook).
        year: Only the periods that overlap this calendar year.
        title: The page title.

    Returns:
        The page: one chart per cap and period, each with its figures as a table.
    """
    from sanctions.ledger.capcheck import cap_rules

    if rulebook is None:
        from sanctions.rulebook import load_rulebook

        rulebook = load_rulebook()
    caps: dict[str, dict[str, Any]] = {}
    for rule, cap in cap_rules(rulebook):
        for ledger_id, unit, limit in cap.measures():
            caps[ledger_id] = {"limit": limit, "thresholds": cap.thresholds, "unit": unit.value,
                               "rule_id": rule.id, "rule_title": rule.spec.title, "scope": " ".join(cap.scope.split()),
                               "citations": [f"UNSCR {c.resolution} {c.paragraph}" + ("" if c.verified else
                                             " (paragraph not verified)") for c in rule.spec.legal_basis]}
    if isinstance(ledger, (str, bytes)) or hasattr(ledger, "__fspath__"):
        from sanctions.ledger.backends import open_ledger

        with open_ledger(ledger) as opened:
            return render_ledger(opened, rulebook, year=year, title=title)
    charts = []
    for t in ledger.totals(year):
        spec = caps.get(t.cap_id)
        c = chart(t.cap_id, t.period, spec["unit"] if spec else t.unit, ledger.entries(t.cap_id, t.period),
                  spec["limit"] if spec else None, spec["thresholds"] if spec else ())
        c["spec"] = spec
        c["count"] = t.count
        charts.append(c)
    where = getattr(ledger, "where", "")
    return render("ledger.html.j2", title=title or "Cap ledger" + (f" ({year})" if year else ""),
                  charts=charts, where=str(where), year=year)
