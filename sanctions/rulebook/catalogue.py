"""The rulebook as a human-readable catalogue, generated from the rule files.

:func:`markdown` renders one entry per rule, grouped by the rule file's folder (``rules/dprk/arms/``,
``rules/dprk/luxury/`` ...) so the catalogue reads like the law: id, title, regime, direction, outcome, dates
in force, citations (with an *unverified* mark where the paragraph number was not checked), the conditions in
words, the exemptions with their own citations, dates and conditions, and what the rule replaced or was
replaced by. The output is deterministic: ``docs/rulebook.md`` is generated from it and a test fails when the
two drift apart.

Regenerate with::

    python -m sanctions.rulebook.catalogue > docs/rulebook.md

Conditions are rendered from the rule specs (not the compiled form), so a named predicate keeps its name:
``{op: ref, name: to_dprk}`` renders as ``to_dprk (destination country is KP, or recipient country is KP)``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from sanctions.rulebook.book import Rule, Rulebook
from sanctions.rulebook.spec import (
    AllSpec,
    AnySpec,
    CitationSpec,
    CmpSpec,
    ContainsAnySpec,
    ContainsSpec,
    ExistsSpec,
    HsPrefixSpec,
    InForceSpec,
    InSpec,
    NotSpec,
    RefSpec,
)

__all__ = ["catalogue_json", "citation_summary", "condition_text", "field_label", "markdown"]

_CMP_WORDS = {"eq": "is", "ne": "is not", "lt": "is less than", "le": "is at most", "gt": "is more than",
              "ge": "is at least"}
_DATE_WORDS = {"lt": "is before", "le": "is on or before", "gt": "is after", "ge": "is on or after"}


def field_label(path: str) -> str:
    """A field path in words: ``transfer.supplier.country`` -> ``supplier country``."""
    head, _, rest = path.partition(".")
    words = rest.replace(".", " ").replace("_", " ")
    return words if head == "transfer" else f"{head} {words}"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _values(vs: Sequence[Any]) -> str:
    return ", ".join(_value(v) for v in vs)


def condition_text(cond: Any, predicates: Mapping[str, Any], *, _depth: int = 0) -> str:
    """A condition spec in words.

    Args:
        cond: A condition spec (``CmpSpec``, ``AllSpec``, ...), as a rule file gives it.
        predicates: Named predicates of the rulebook, expanded where a condition refers to one.
    """
    if isinstance(cond, AllSpec):
        parts = [condition_text(c, predicates, _depth=_depth + 1) for c in cond.of]
        return _group(parts, "; and " if _depth == 0 else " and ", _depth)
    if isinstance(cond, AnySpec):
        parts = [condition_text(c, predicates, _depth=_depth + 1) for c in cond.of]
        return _group(parts, ", or ", _depth)
    if isinstance(cond, NotSpec):
        return f"not ({condition_text(cond.of, predicates, _depth=1)})"
    if isinstance(cond, RefSpec):
        inner = predicates.get(cond.name)
        if inner is None:
            return f"`{cond.name}`"
        return f"`{cond.name}` ({condition_text(inner, predicates, _depth=1)})"
    if isinstance(cond, CmpSpec):
        words = _DATE_WORDS.get(cond.op) if isinstance(cond.value, dt.date) else None
        return f"{field_label(cond.field)} {words or _CMP_WORDS[cond.op]} {_value(cond.value)}"
    if isinstance(cond, InSpec):
        verb = "is one of" if cond.op == "in" else "is none of"
        if len(cond.values) == 1:
            verb = "is" if cond.op == "in" else "is not"
        return f"{field_label(cond.field)} {verb} {_values(cond.values)}"
    if isinstance(cond, HsPrefixSpec):
        return f"{field_label(cond.field)} starts with {_values(cond.values)}"
    if isinstance(cond, ContainsSpec):
        return f"{field_label(cond.field)} include {_value(cond.value)}"
    if isinstance(cond, ContainsAnySpec):
        if len(cond.values) == 1:
            return f"{field_label(cond.field)} include {_value(cond.values[0])}"
        return f"{field_label(cond.field)} include any of {_values(cond.values)}"
    if isinstance(cond, ExistsSpec):
        return f"{field_label(cond.field)} is {'given' if cond.op == 'exists' else 'not given'}"
    raise TypeError(f"not a condition spec: {cond!r}")


def _group(parts: list[str], sep: str, depth: int) -> str:
    text = sep.join(parts)
    return f"({text})" if depth > 1 and len(parts) > 1 else text


def _dates(inf: InForceSpec) -> str:
    return f"from {inf.from_.isoformat()}" + (f" until {inf.until.isoformat()} (inclusive)" if inf.until else "")


def _citation(c: CitationSpec) -> str:
    mark = "" if c.verified else " — **unverified**"
    note = f" ({c.note.strip()})" if c.note and not c.verified else ""
    return f"{c.resolution} {c.paragraph}, adopted {c.adopted.isoformat()}{mark}{note} — <{c.source}>"


def _folder(rule: Rule) -> str:
    parts = PurePosixPath(rule.file.replace("\\", "/")).parts
    if parts and parts[0] == "rules":
        parts = parts[1:]
    return "/".join(parts[:-1]) or "."


def _entry(rule: Rule, predicates: Mapping[str, Any]) -> list[str]:
    s = rule.spec
    out = [f"### `{s.id}` — {s.title}", ""]
    out.append(f"- Regime: {s.regime}; direction: {s.direction}; outcome: **{s.outcome}**"
               + ("" if s.binding else " (not binding: hortatory text)") + f"; scope: {rule.scope}")
    out.append(f"- In force: {_dates(s.in_force)}")
    if s.in_force.note:
        out.append(f"- Why these dates: {' '.join(s.in_force.note.split())}")
    if s.caveat:
        out.append(f"- Caveat on every finding: {' '.join(s.caveat.split())}")
    out.append(f"- File: `{rule.file}`")
    out.append("- Legal basis:")
    out += [f"  - {_citation(c)}" for c in s.legal_basis]
    out.append(f"- Applies when: {condition_text(s.when, predicates)}")
    if s.assumption:
        out.append(f"- Assumption (a reading, not settled by the text): {' '.join(s.assumption.split())}")
    if s.cite_with:
        out.append("- Also cites the paragraphs of, when they fire on the same transfer: "
                   + ", ".join(f"`{r}`" for r in s.cite_with))
    if s.counter_leg is not None:
        out.append(f"- Counter-leg: {condition_text(s.counter_leg, predicates)}")
        out += [f"  - joined on: leg {field_label(j.leg)} {'equals' if j.op == 'eq' else 'differs from'} "
                f"counter-leg {field_label(j.counter)}" for j in s.join]
    if s.exemptions:
        out.append("- Exemptions:")
        for ex in s.exemptions:
            out.append(f"  - `{ex.id}` — {ex.title}; in force {_dates(ex.in_force)}; applies when: "
                       f"{condition_text(ex.when, predicates)}")
            out += [f"    - {_citation(c)}" for c in ex.legal_basis]
    if s.duty is not None:
        within = f" within {s.duty.within_days} days" if s.duty.within_days is not None else ""
        out.append(f"- Duty: the {s.duty.who} tells the {s.duty.to}{within}: {s.duty.what}")
    if s.replaces:
        out.append("- Replaces: " + ", ".join(f"`{r}`" for r in s.replaces))
    if s.replaced_by:
        out.append("- Replaced by: " + ", ".join(f"`{r}`" for r in s.replaced_by))
    if s.supplements:
        out.append("- Supplements (both stay in force): " + ", ".join(f"`{r}`" for r in s.supplements))
    if s.supplemented_by:
        out.append("- Supplemented by (still in force): " + ", ".join(f"`{r}`" for r in s.supplemented_by))
    out += ["", " ".join(s.description.split()), ""]
    return out


def markdown(rulebook: Rulebook) -> str:
    """The rulebook as a markdown catalogue: a section per regime, then per folder, one entry per rule;
    deterministic."""
    regimes: dict[str, dict[str, list[Rule]]] = {}
    for rule in rulebook.rules.values():
        regimes.setdefault(rule.spec.regime, {}).setdefault(_folder(rule), []).append(rule)
    predicates = rulebook.predicates
    n_unverified = sum(1 for r in rulebook.rules.values() if not all(c.verified for c in r.spec.legal_basis))
    n_folders = sum(len(folders) for folders in regimes.values())
    out = [
        "# Rulebook catalogue",
        "",
        "Generated from the rule files by `python -m sanctions.rulebook.catalogue > docs/rulebook.md`; do not edit by hand.",
        "",
        f"{len(rulebook.rules)} rules of {len(regimes)} regimes in {n_folders} folders; {n_unverified} rules cite at "
        "least one paragraph",
        "number that is not verified (see docs/citations.md). Dates are inclusive.",
        "",
        "## Contents",
        "",
    ]
    for regime in sorted(regimes):
        out.append(f"- {regime}: {_regime_summary(regimes[regime])}")
        for folder in sorted(regimes[regime]):
            out.append(f"  - `{folder}/`: " + ", ".join(f"`{r.id}`" for r in sorted(regimes[regime][folder],
                                                                                     key=lambda r: r.id)))
    out.append("")
    for regime in sorted(regimes):
        out += [f"## {regime}", "", _regime_summary(regimes[regime]).capitalize() + ".", ""]
        for folder in sorted(regimes[regime]):
            out += [f"### `{folder}/`", ""]
            for rule in sorted(regimes[regime][folder], key=lambda r: r.id):
                entry = _entry(rule, predicates)
                out += ["#" + entry[0], *entry[1:]]
    return "\n".join(out).rstrip() + "\n"


def _regime_summary(folders: Mapping[str, list[Rule]]) -> str:
    rules = [r for rs in folders.values() for r in rs]
    cites = {(c.resolution, c.paragraph): c.verified for r in rules for c in r.spec.legal_basis}
    first = min(r.spec.in_force.from_ for r in rules)
    return (f"{len(rules)} rule{'s' if len(rules) != 1 else ''}, the earliest in force from {first.isoformat()}; "
            f"{sum(cites.values())} of {len(cites)} cited paragraphs verified")


def citation_summary(rulebook: Rulebook) -> dict[str, Any]:
    """Every distinct paragraph the rulebook cites (rules and exemptions), with its verification status and
    source, and the counts per resolution: what ``check-transfer rules --format json`` reports.

    A paragraph counts as verified when any rule cites it as verified (the same paragraph is sometimes cited
    for content only, unverified, next to a verified citation of it elsewhere).
    """
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in sorted(rulebook.rules.values(), key=lambda r: r.id):
        cites = [(c, rule.id) for c in rule.spec.legal_basis]
        cites += [(c, f"{rule.id}/{ex.id}") for ex in rule.spec.exemptions for c in ex.legal_basis]
        for c, where in cites:
            entry = seen.setdefault((c.resolution, c.paragraph), {
                "resolution": c.resolution, "paragraph": c.paragraph, "adopted": c.adopted.isoformat(),
                "verified": False, "verified_against": None, "source": c.source, "cited_by": []})
            if c.verified and (not entry["verified"] or (c.verified_against and not entry["verified_against"])):
                entry.update(verified=True, verified_against=c.verified_against or entry["verified_against"],
                             source=c.source)
            if where not in entry["cited_by"]:
                entry["cited_by"].append(where)
    paragraphs = sorted(seen.values(), key=lambda e: (e["adopted"], e["resolution"], e["paragraph"]))
    by_resolution: dict[str, dict[str, int]] = {}
    for e in paragraphs:
        counts = by_resolution.setdefault(e["resolution"], {"paragraphs": 0, "verified": 0, "unverified": 0})
        counts["paragraphs"] += 1
        counts["verified" if e["verified"] else "unverified"] += 1
    total = {"paragraphs": len(paragraphs), "verified": sum(e["verified"] for e in paragraphs)}
    total["unverified"] = total["paragraphs"] - total["verified"]
    return {"paragraphs": paragraphs, "by_resolution": by_resolution, "total": total}


def catalogue_json(rulebook: Rulebook) -> str:
    """The rulebook as JSON: every rule's spec (without its examples) and the citation summary."""
    import json

    rules = [{"id": r.id, "file": r.file, "scope": r.scope,
              **r.spec.model_dump(mode="json", by_alias=True, exclude={"examples"})}
             for r in rulebook.rules.values()]
    for r in rules:
        if r.get("assumption"):
            r["assumption"] = " ".join(r["assumption"].split())
    return json.dumps({"digest": rulebook.digest, "rules": rules, "citations": citation_summary(rulebook)},
                      indent=2, sort_keys=True, ensure_ascii=False)


def main() -> None:
    """Print the catalogue of the built-in rulebook."""
    from sanctions.rulebook import load_rulebook

    sys.stdout.write(markdown(load_rulebook()))


if __name__ == "__main__":
    main()
