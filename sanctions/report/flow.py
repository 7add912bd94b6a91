"""The deal at a glance: legs between countries as an SVG flow diagram (geometry only; the template draws it).

Countries are laid out left to right in the order the legs first name them. Each leg is one curved arrow from
its origin country to its destination country: legs running left to right arc above the line of countries,
legs running back arc below, and legs sharing a pair of countries arc at growing heights so none hides
another. A leg with a route shows its ports as small marks along its arrow. Each consideration link ("leg A
is given in return for leg B") is a dashed connector between the middles of the two arrows.

Nothing here escapes text: the template does, with autoescape on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SPACING = 260
MARGIN_X = 90
NODE_R = 30
ARC_STEP = 62


@dataclass(frozen=True)
class Node:
    """A country on the diagram."""

    code: str
    x: float
    y: float


@dataclass(frozen=True)
class Port:
    """A port or crossing on a leg's route, placed along the leg's arrow."""

    name: str
    country: str
    role: str
    x: float
    y: float


@dataclass(frozen=True)
class Leg:
    """One transfer drawn as an arrow."""

    id: str
    origin: str
    destination: str
    outcome: str
    path: str
    label_x: float
    label_y: float
    mid_x: float
    mid_y: float
    summary: str
    ports: tuple[Port, ...] = ()


@dataclass(frozen=True)
class Link:
    """A consideration link: ``transfer`` is given in return for ``consideration_for``."""

    transfer: str
    consideration_for: str
    path: str


@dataclass(frozen=True)
class Flow:
    """Everything the template needs to draw the diagram."""

    width: float
    height: float
    nodes: tuple[Node, ...]
    legs: tuple[Leg, ...]
    links: tuple[Link, ...] = field(default_factory=tuple)


def _quad(p0: tuple[float, float], c: tuple[float, float], p1: tuple[float, float], t: float) -> tuple[float, float]:
    u = 1 - t
    return (u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0], u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1])


def layout(legs: list[dict[str, Any]], links: list[tuple[str, str]]) -> Flow:
    """Place countries, legs and consideration links.

    Args:
        legs: One dict per leg, in order: ``id``, ``origin``, ``destination``, ``outcome``, ``summary`` and
            ``route`` (a list of ``(port, country, role)``).
        links: ``(transfer, consideration_for)`` pairs naming leg ids.

    Returns:
        The diagram's geometry, in SVG user units.
    """
    order: list[str] = []
    for leg in legs:
        for c in (leg["origin"], leg["destination"]):
            if c not in order:
                order.append(c)
    count: dict[tuple[str, str, int], int] = {}
    placed: list[tuple[dict[str, Any], int, int, int]] = []  # leg, direction (-1 above / +1 below / 0 loop), level
    for leg in legs:
        a, b = order.index(leg["origin"]), order.index(leg["destination"])
        direction = 0 if a == b else (-1 if a < b else 1)
        key = (min(leg["origin"], leg["destination"]), max(leg["origin"], leg["destination"]), direction)
        level = count.get(key, 0) + 1
        count[key] = level
        placed.append((leg, a, b, direction * level if direction else level))
    above = max([-lv for _, a, b, lv in placed if a != b and lv < 0] + [0])
    below = max([lv for _, a, b, lv in placed if lv > 0 and a != b] + [0])
    loops = max([lv for _, a, b, lv in placed if a == b] + [0])
    top = max(above * ARC_STEP, loops * ARC_STEP + NODE_R) + 60
    axis = top + NODE_R
    height = axis + NODE_R + below * ARC_STEP + 70
    spacing = max(SPACING, min(600, 900 / max(len(order) - 1, 1)))
    width = 2 * MARGIN_X + max(len(order) - 1, 1) * spacing
    nodes = tuple(Node(c, MARGIN_X + i * spacing if len(order) > 1 else width / 2, axis) for i, c in enumerate(order))
    xs = {n.code: n.x for n in nodes}
    drawn: list[Leg] = []
    geoms: list[Any] = []
    for leg, a, b, lv in placed:
        x0, x1 = xs[leg["origin"]], xs[leg["destination"]]
        if a == b:
            h = NODE_R + lv * ARC_STEP
            p0, p1 = (x0 - NODE_R * 0.6, axis - NODE_R * 0.8), (x0 + NODE_R * 0.6, axis - NODE_R * 0.8)
            c1, c2 = (x0 - 70 - 10 * lv, axis - h), (x0 + 70 + 10 * lv, axis - h)
            path = f"M {p0[0]:.1f} {p0[1]:.1f} C {c1[0]:.1f} {c1[1]:.1f} {c2[0]:.1f} {c2[1]:.1f} {p1[0]:.1f} {p1[1]:.1f}"
            mid = (x0, axis - 0.75 * h - 0.25 * NODE_R * 0.8)
            ctrl_pts = None
        else:
            sign = 1 if x1 > x0 else -1
            # arrows leave and reach a country at spread angles, so their heads do not pile up on one point
            angle = math.radians(min(18 * abs(lv), 75))
            dy = (-1 if lv < 0 else 1) * NODE_R * math.sin(angle)
            dx = NODE_R * math.cos(angle)
            p0 = (x0 + sign * dx, axis + dy)
            p1 = (x1 - sign * dx, axis + dy)
            ctrl = ((p0[0] + p1[0]) / 2, axis + 2 * lv * ARC_STEP)  # lv < 0: above the axis
            path = f"M {p0[0]:.1f} {p0[1]:.1f} Q {ctrl[0]:.1f} {ctrl[1]:.1f} {p1[0]:.1f} {p1[1]:.1f}"
            mid = _quad(p0, ctrl, p1, 0.5)
            ctrl_pts = (p0, ctrl, p1)
        geoms.append(ctrl_pts)
        route = list(leg.get("route") or [])
        ports = []
        for k, (name, country, role) in enumerate(route):
            t = (k + 1) / (len(route) + 1)
            if ctrl_pts is not None:
                px, py = _quad(*ctrl_pts, t)
            else:
                px, py = mid[0] - 40 + 80 * t, mid[1]
            ports.append(Port(name, country, role, px, py))
        label_dy = -10 if lv < 0 or a == b else 20
        drawn.append(Leg(leg["id"], leg["origin"], leg["destination"], leg["outcome"], path, mid[0],
                         mid[1] + label_dy, mid[0], mid[1], leg.get("summary", ""), tuple(ports)))
    by_id = {leg.id: leg for leg in drawn}
    geometry = {leg["id"]: g for leg, g in zip(legs, geoms)}
    ends: dict[str, list[int]] = {}
    usable = [(a, b) for a, b in links if a in by_id and b in by_id]
    for k, (a, b) in enumerate(usable):
        ends.setdefault(a, []).append(k)
        ends.setdefault(b, []).append(k)

    def anchor(leg_id: str, k: int) -> tuple[float, float]:
        # links meeting one leg attach at spread points along it, not all at its middle
        slots = ends[leg_id]
        t = 0.5 if len(slots) == 1 else 0.3 + 0.4 * slots.index(k) / (len(slots) - 1)
        g = geometry[leg_id]
        if g is None:
            return by_id[leg_id].mid_x, by_id[leg_id].mid_y
        return _quad(*g, t)

    drawn_links = []
    for k, (transfer, paid) in enumerate(usable):
        (ax, ay), (bx, by) = anchor(transfer, k), anchor(paid, k)
        cx, cy = (ax + bx) / 2 + 30 * (1 if k % 2 else -1), (ay + by) / 2
        drawn_links.append(Link(transfer, paid, f"M {ax:.1f} {ay:.1f} Q {cx:.1f} {cy:.1f} {bx:.1f} {by:.1f}"))
    return Flow(width, height, nodes, tuple(drawn), tuple(drawn_links))
