"""One or more decisions as a self-contained HTML page (see :func:`render_decisions`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sanctions.explain import Decision, Finding, item_display, transfer_display
from sanctions.explain import render as render_template
from sanctions.model.records import Deal, Transfer
from sanctions.report._env import OUTCOMES, render, strictest
from sanctions.report.flow import Flow, layout


def safe_url(url: str) -> str | None:
    """``url`` when it is an http(s) address a reader may follow; None otherwise (a ``javascript:`` source in
    a rule pack must never become a link)."""
    text = str(url).strip()
    return text if text.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in text) else None


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _where(transfer_id: str | None, item_index: int | None) -> str:
    if transfer_id is None:
        return ""
    return f"transfer {transfer_id}" + (f", item {item_index}" if item_index is not None else "")


def _leg_summary(t: Transfer) -> str:
    items = "; ".join(i.description for i in t.items[:3]) + (f" (+{len(t.items) - 3} more)" if len(t.items) > 3 else "")
    kind = t.kind.value.replace("_", " ")
    return f"{kind}: {t.supplier.name} ({t.supplier.country}) to {t.recipient.name} ({t.recipient.country})" + (
        f" - {items}" if items else "")


def _implied_links(deal: Deal) -> list[tuple[str, str]]:
    """Consideration links as the engine reads a deal without declared links: a leg flowing back from the
    recipient's country to the supplier's pays for it."""
    out = []
    for a in deal.transfers:
        for b in deal.transfers:
            if a.id != b.id and a.origin_country == b.destination_country and a.destination_country == b.origin_country:
                out.append((a.id, b.id))
    return out


def flow_for(decision: Decision, subject: Transfer | Deal) -> Flow:
    """The diagram of ``subject``'s legs, each coloured by the strictest finding on it in ``decision``."""
    transfers = list(subject.transfers) if isinstance(subject, Deal) else [subject]
    by_leg: dict[str, list[str]] = {}
    for f in decision.findings:
        by_leg.setdefault(f.transfer_id, []).append(f.outcome)
    legs = [{"id": t.id, "origin": str(t.origin_country), "destination": str(t.destination_country),
             "outcome": strictest(by_leg.get(t.id, [])), "summary": _leg_summary(t),
             "route": [(s.port, str(s.country), s.role) for s in t.route]} for t in transfers]
    links: list[tuple[str, str]] = []
    if isinstance(subject, Deal):
        links = [(lk.transfer, lk.consideration_for) for lk in subject.links] or _implied_links(subject)
    return layout(legs, links)


def _display(subject: Transfer | Deal | None, transfer_id: str, item_index: int | None) -> dict[str, str]:
    """Placeholder values for an exemption's explanation, from the leg (and item) the finding is about."""
    transfers = list(subject.transfers) if isinstance(subject, Deal) else [subject] if subject is not None else []
    t = next((x for x in transfers if x.id == transfer_id), None)
    if t is None:
        return {}
    values = transfer_display(t)
    if item_index is not None and 0 <= item_index < len(t.items):
        item = t.items[item_index]
        values.update(item_display(item, item.category.value if item.category else None))
    return values


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _finding_view(n: int, f: Finding, decision: Decision, rulebook: Any,
                  subject: Transfer | Deal | None = None) -> dict[str, Any]:
    exemptions = []
    rule = rulebook.rules.get(f.rule_id) if rulebook is not None else None
    # why each exemption did not apply, as the engine recorded it (decisions from before it did: a general line)
    reasons = {x["id"]: x["reason"] for x in f.exemptions_not_applied}
    if rule is not None:
        values = _display(subject, f.transfer_id, f.item_index)
        for ex in rule.spec.exemptions:
            text = render_template(" ".join(ex.explanation.split()), values) if values else ""
            why = f"{_sentence(reasons[ex.id])}." if ex.id in reasons else "Its conditions are not met by the facts given."
            exemptions.append({
                "title": ex.title, "applied": False, "why": why + (f" What it asks: {text}" if text else ""),
                "citations": [f"UNSCR {c.resolution} {c.paragraph}" for c in ex.legal_basis]})
    for c in decision.considered:
        if c.rule_id == f.rule_id and c.status == "exempted":
            ex = c.exemption or {}
            exemptions.append({
                "title": str(ex.get("title", "exemption")), "applied": True,
                "why": f"Applied to {_where(c.transfer_id, c.item_index)}: {c.reason}",
                "citations": [f"UNSCR {x.get('resolution')} {x.get('paragraph')}" for x in ex.get("citations", [])]})
    related = dict(f.related)
    return {
        "n": n, "rule_id": f.rule_id, "title": f.title, "regime": f.regime, "outcome": f.outcome, "scope": f.scope,
        "where": _where(f.transfer_id, f.item_index), "transfer_id": f.transfer_id,
        "explanation": f.explanation,
        "evidence": [{"field": e.field, "test": e.test, "value": _value(e.value)} for e in f.evidence],
        "citations": [{"resolution": c.resolution, "paragraph": c.paragraph, "adopted": c.adopted.isoformat(),
                       "verified": c.verified, "source": str(c.source), "url": safe_url(c.source)}
                      for c in f.citations],
        "in_force": {k: (v.isoformat() if isinstance(v, dt.date) else None) for k, v in f.in_force.items()},
        "duty": None if f.duty is None else {"who": f.duty.who, "to": f.duty.to, "what": f.duty.what,
                                              "due": f.duty.due.isoformat() if f.duty.due else None},
        "legs": ({"leg": str(related.get("leg", "")), "counter_leg": str(related.get("counter_leg", "")),
                  "declared": bool(related.get("declared_link"))} if f.scope == "deal" else None),
        "exemptions": exemptions,
    }


def _hits(decision: Decision) -> list[dict[str, Any]]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for f in decision.findings:
        for h in f.related.get("listings", ()):
            key = ("party", str(h.get("reference_number")), str(h.get("party")), f.transfer_id)
            if key in seen:
                continue
            seen.add(key)
            score = h.get("score")
            out.append({"kind": "party", "transfer_id": f.transfer_id, "role": str(h.get("role", "")),
                        "name": str(h.get("party", "")), "reference": str(h.get("reference_number", "")),
                        "listed_name": str(h.get("primary_name", "")), "matched_name": str(h.get("matched_name", "")),
                        "quality": str(h.get("matched_quality", "")), "regime": str(h.get("regime", "")),
                        "listed_on": str(h.get("listed_on") or "date not given"),
                        "score": f"{score:.1f}" if isinstance(score, (int, float)) else "",
                        "in_force": bool(h.get("in_force_on_date"))})
        for h in f.related.get("vessel_listings", ()):
            key = ("vessel", str(h.get("imo")), str(h.get("vessel")), f.transfer_id)
            if key in seen:
                continue
            seen.add(key)
            score = h.get("score")
            out.append({"kind": "vessel", "transfer_id": f.transfer_id, "role": str(h.get("role", "")),
                        "name": str(h.get("vessel", "")), "reference": f"IMO {h.get('imo')}",
                        "listed_name": str(h.get("designated_name", "")), "matched_name": str(h.get("matched_on", "")),
                        "quality": "vessel", "regime": str(h.get("basis", "")),
                        "listed_on": str(h.get("designated_on") or "date not given"),
                        "score": f"{score:.1f}" if isinstance(score, (int, float)) else "",
                        "in_force": bool(h.get("in_force_on_date"))})
    return out


def decision_view(decision: Decision, subject: Transfer | Deal | None = None, rulebook: Any = None) -> dict[str, Any]:
    """Everything the template shows for one decision, as plain values (the template escapes every string)."""
    title = subject.title if isinstance(subject, Deal) and subject.title else None
    counts: dict[str, int] = {}
    for f in decision.findings:
        counts[f.outcome] = counts.get(f.outcome, 0) + 1
    titles = {} if rulebook is None else {rid: r.spec.title for rid, r in rulebook.rules.items()}
    return {
        "subject_type": decision.subject.get("type", ""), "subject_id": decision.subject.get("id", ""),
        "title": title, "verdict": decision.verdict,
        "as_of": decision.as_of.isoformat() if decision.as_of else None,
        "counts": [(o, counts[o]) for o in sorted(counts, key=_rank)],
        "flow": flow_for(decision, subject) if subject is not None else None,
        "findings": [_finding_view(i + 1, f, decision, rulebook, subject) for i, f in enumerate(decision.findings)],
        "hits": _hits(decision),
        "screening": dict(decision.screening),
        "not_in_force": [{"rule_id": c.rule_id, "where": _where(c.transfer_id, c.item_index), "reason": c.reason,
                          "title": titles.get(c.rule_id, "")}
                         for c in decision.considered if c.status == "not_in_force"],
        "exempted": [{"rule_id": c.rule_id, "where": _where(c.transfer_id, c.item_index), "reason": c.reason,
                      "exemption": str((c.exemption or {}).get("title", "")),
                      "citations": ", ".join(f"UNSCR {x.get('resolution')} {x.get('paragraph')}"
                                             for x in (c.exemption or {}).get("citations", []))}
                     for c in decision.considered if c.status == "exempted"],
        "not_matched": [{"rule_id": r, "title": titles.get(r, "")} for r in decision.not_matched],
        "notes": list(decision.notes),
        "unverified": any(f.unverified_citations for f in decision.findings),
        "regimes": list(decision.regimes),
        "evaluator": decision.evaluator,
        "rulebook_given": rulebook is not None,
        "rulebook": {"digest": str(decision.rulebook.get("digest", "")), "rules": decision.rulebook.get("rules")},
    }


def _rank(outcome: str) -> int:
    return OUTCOMES.index(outcome) if outcome in OUTCOMES else len(OUTCOMES)


def render_decisions(decisions: Decision | Sequence[Decision], subjects: Sequence[Transfer | Deal | None]
                     | Mapping[str, Transfer | Deal] | None = None, *, rulebook: Any = None,
                     title: str | None = None, errors: Sequence[str] = ()) -> str:
    """One self-contained HTML page for one or more decisions.

    Args:
        decisions: The decisions, as :meth:`sanctions.Engine.check` returns them (the same objects the text
            and JSON output are made from).
        subjects: The transfers or deals judged, in the same order (or by subject id): with them the page draws
            each deal's flow diagram; without them it says the diagram needs the input.
        rulebook: The rulebook that judged, to show each finding's exemptions and the titles of rules.
        title: The page title (default: from the first decision).
        errors: Records that could not be judged, each said in words; the page lists them.

    Returns:
        The page: no script, style sheet, font or image is fetched from anywhere.
    """
    if isinstance(decisions, Decision):
        decisions = [decisions]
    decisions = list(decisions)
    if subjects is None:
        subs: list[Any] = [None] * len(decisions)
    elif isinstance(subjects, Mapping):
        subs = [subjects.get(d.subject.get("id", "")) for d in decisions]
    else:
        subs = list(subjects) + [None] * (len(decisions) - len(subjects))
    views = [decision_view(d, s, rulebook) for d, s in zip(decisions, subs)]
    if title is None:
        first = views[0] if views else None
        title = ("Sanctions decision: " + (first["title"] or f"{first['subject_type']} {first['subject_id']}")
                 if first and len(views) == 1 else f"Sanctions decisions ({len(views)})")
    heading = "Sanctions decision" if len(views) == 1 else title
    return render("decision.html.j2", title=title, heading=heading, decisions=views, errors=list(errors),
                  verdict=strictest(d.verdict for d in decisions) if decisions else "clear")
