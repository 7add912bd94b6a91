"""Helpers shared by the property tests: subject mixes, decision keys, invariant checks."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from sanctions import strategies as S
from sanctions.explain import Decision, to_json
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import OUTCOME_RANK, Rulebook, builtin_rules_dir, load_rulebook

BUILTIN = load_rulebook()
RULES_WITH_FIRES = sorted(r for r, rule in BUILTIN.rules.items() if rule.spec.examples.get("fires"))
RULES_WITH_CLEARS = sorted(r for r, rule in BUILTIN.rules.items() if rule.spec.examples.get("clears"))
PROHIBITING_ITEMS = sorted(r for r in RULES_WITH_FIRES if BUILTIN.rules[r].spec.outcome == "prohibited"
                           and BUILTIN.rules[r].scope == "item")


def scaled(divisor: int, minimum: int = 3) -> int:
    """A fraction of the profile's max_examples, for properties that start a process per example."""
    return max(minimum, settings().max_examples // divisor)


def risky_transfers() -> st.SearchStrategy[Transfer]:
    """A mix that exercises the rules: anything, DPRK-bound, DPRK-sourced, and rule examples varied."""
    return st.one_of(
        S.transfers(),
        S.transfers(recipient_countries=["KP"], min_items=1),
        S.transfers(supplier_countries=["KP"], min_items=1),
        st.sampled_from(RULES_WITH_FIRES).flatmap(S.violating),
        st.sampled_from(RULES_WITH_CLEARS).flatmap(S.clearing),
    )


def subjects() -> st.SearchStrategy[Transfer | Deal]:
    """Transfers and deals, deals often with a DPRK arms leg and a leg flowing back."""
    return st.one_of(risky_transfers(), S.deals(legs=risky_transfers(), max_legs=3))


def without_digest(decision: Decision) -> dict[str, Any]:
    data = json.loads(to_json(decision))
    data["rulebook"].pop("digest")
    return data


def finding_keys(decision: Decision) -> set[tuple[Any, ...]]:
    return {(f.rule_id, f.transfer_id, f.item_index, f.scope, f.related.get("leg", "")) for f in decision.findings}


def rank(decision: Decision) -> int:
    return OUTCOME_RANK[decision.verdict]


def legs(subject: Transfer | Deal) -> dict[str, Transfer]:
    ts = subject.transfers if isinstance(subject, Deal) else [subject]
    return {t.id: t for t in ts}


def time_violations(decision: Decision, subject: Transfer | Deal, rulebook: Rulebook) -> list[str]:
    """Findings made on a transfer that lies wholly outside the rule's in-force period, or wholly before the
    adoption of every resolution the rule cites."""
    out = []
    by_id = legs(subject)
    for f in decision.findings:
        t = by_id[f.transfer_id]
        spec = rulebook.rules[f.rule_id].spec
        adopted = min(c.adopted for c in spec.legal_basis)
        if t.end < spec.in_force.from_:
            out.append(f"{f.rule_id} fired on {t.id} ending {t.end}, before in force from {spec.in_force.from_}")
        if spec.in_force.until and t.start > spec.in_force.until:
            out.append(f"{f.rule_id} fired on {t.id} starting {t.start}, after in force until {spec.in_force.until}")
        if t.end < adopted:
            out.append(f"{f.rule_id} fired on {t.id} ending {t.end}, before its resolutions were adopted ({adopted})")
    return out


def copy_rules(dest: Path, *, rename=None, edit=None) -> list[Path]:
    """Copy the built-in rule files to ``dest``; ``rename(rel) -> rel`` and ``edit(data) -> data`` change them."""
    import yaml

    src = builtin_rules_dir()
    out = []
    for path in sorted(p for p in src.rglob("*.yaml") if "data" not in p.relative_to(src).parts[:1]):
        rel = path.relative_to(src)
        target = dest / (rename(rel) if rename else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if edit is None:
            shutil.copyfile(path, target)
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            target.write_text(yaml.safe_dump(edit(data), sort_keys=False, allow_unicode=True), encoding="utf-8")
        out.append(target)
    return out


def with_date(t: Transfer, day: dt.date) -> Transfer:
    return Transfer.model_validate(t.model_dump() | {"date": day})
