"""Rule examples: the transfers a rule file says must fire it, and the nearest ones that must not.

A rule file's ``examples`` give partial transfers; each is laid over :data:`BASE` (a CN company supplying a
DPRK company in January 2024, by sea) so that an example only says what matters to the rule. They are the
seeds of the per-rule tests and of the :func:`sanctions.strategies.violating` / ``clearing`` strategies.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from sanctions.model.records import Transfer, parse_transfer
from sanctions.rulebook import Rulebook

BASE: Mapping[str, Any] = {
    "id": "example",
    "date": "2024-01-15",
    "kind": "goods",
    "supplier": {"name": "Example Supplier Co", "country": "CN", "kind": "company"},
    "recipient": {"name": "Example Recipient Co", "country": "KP", "kind": "company"},
    "origin_country": "CN",
    "destination_country": "KP",
    "items": [],
}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Lay ``override`` over ``base``: mappings merge key by key, everything else is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def example_transfer(rule_id: str, kind: Literal["fires", "clears"], index: int, data: Mapping[str, Any]) -> Transfer:
    """One example as a validated transfer, with an id that names its rule."""
    merged = merge(BASE, data)
    merged.setdefault("id", "example")
    if merged["id"] == "example":
        merged["id"] = f"{rule_id}.{kind}.{index}"
    return parse_transfer(merged, source=f"examples of {rule_id}")


def examples(rulebook: Rulebook, kind: Literal["fires", "clears"]) -> Iterator[tuple[str, Transfer]]:
    """Every example of every rule, as (rule id, transfer)."""
    for rule in rulebook.rules.values():
        for i, data in enumerate(rule.spec.examples.get(kind, [])):
            yield rule.id, example_transfer(rule.id, kind, i, data)
