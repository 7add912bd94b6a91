"""Caps judged across shipments: a rule's ``cap`` block, a ledger, and findings that show the arithmetic.

A rule file may carry a ``cap`` (a :class:`sanctions.ledger.caps.CapSpec`): refined petroleum to the DPRK, crude
oil, the 2016-17 coal caps. Every item the rule's conditions match while it is in force counts towards the
cap, whether or not an exemption cleared the rule's own finding (notified, livelihood deliveries are
exactly what the allowance counts). :func:`judge` then adds to the decision:

* a **prohibited** finding when the transfer would take the period's total over the cap, with the total
  before, the amount, the total after and the cap;
* a **review** finding when the total passes an alert threshold of the cap (75, 90, 95 per cent);
* a **review** finding when a matched item has no quantity (or no value for a USD limit): a cap that cannot
  be judged is never a pass;
* a note when no ledger was given, saying the caps were not judged.

With ``record=True`` the transfer's lines go into the ledger after it is judged, unless the decision is
prohibited (a banned delivery does not use up the allowance of lawful ones). The judging and the recording
are ONE ledger transaction (:meth:`~sanctions.ledger.store.LedgerBackend.atomic`): the totals read for the
assessment cannot change before the lines are written, so of several deliveries that together cross a cap,
only those that fit are judged within it, whatever the interleaving of processes or machines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sanctions.exc import InvalidInput
from sanctions.explain import Citation, Decision, Evidence, Finding
from sanctions.ledger import caps
from sanctions.ledger.backends import open_ledger
from sanctions.ledger.store import LedgerBackend
from sanctions.model import units
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import OUTCOME_RANK, Rule, Rulebook


def cap_rules(rulebook: Rulebook) -> list[tuple[Rule, caps.CapSpec]]:
    """Every (rule, cap) pair of the rulebook."""
    return [(r, c) for r in rulebook.rules.values() for c in r.caps]


def _covers(cap: caps.CapSpec, on: dt.date) -> bool:
    try:
        cap.period_of(on)
    except InvalidInput:
        return False
    return True


def _matched_items(decision: Decision, rule_id: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for f in decision.findings:
        if f.rule_id == rule_id and f.item_index is not None and f.scope == "item":
            out.setdefault(f.transfer_id, set()).add(f.item_index)
    for c in decision.considered:
        if c.rule_id == rule_id and c.status == "exempted" and c.item_index is not None and c.transfer_id:
            out.setdefault(c.transfer_id, set()).add(c.item_index)
    return out


def _product(item: Any, cap: caps.CapSpec) -> tuple[str | None, str | None]:
    """The product used to convert an item's quantity, and a note when it was a conservative choice.

    When the HS code admits several products (271019: kerosene, diesel, fuel oils ...) and the quantity is
    not already in the cap's unit, the product that counts the most against the cap is used.
    """
    if not item.hs_code or item.quantity is None or item.quantity.unit == cap.quantity.unit:
        return None, None
    candidates = units.products_for_hs(item.hs_code)
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), None
    scored = []
    for p in candidates:
        try:
            scored.append((units.convert(1, item.quantity.unit, cap.quantity.unit, product=p), p))
        except InvalidInput:
            continue
    if not scored:
        return None, None
    best = max(scored)[1]
    return best, (f"HS {item.hs_code} admits {', '.join(candidates)}; {item.quantity.unit.value} were converted "
                  f"as {best}, the product that counts most against cap {cap.id}")


def _citations(rule: Rule) -> list[Citation]:
    return [Citation(resolution=c.resolution, paragraph=c.paragraph, adopted=c.adopted, source=c.source,
                     verified=c.verified) for c in rule.spec.legal_basis]


def _finding(rule: Rule, transfer: Transfer, outcome: str, title: str, text: str, evidence: list[Evidence],
             assessment: dict[str, Any] | None, cap_id: str = "") -> Finding:
    cits = _citations(rule)
    return Finding(rule_id=rule.id, title=title, regime=rule.spec.regime, outcome=outcome, scope="transfer",
                   transfer_id=transfer.id, item_index=None, citations=cits,
                   in_force={"from": rule.spec.in_force.from_, "until": rule.spec.in_force.until},
                   explanation=text, evidence=evidence, related={"cap_id": cap_id, "cap": assessment},
                   unverified_citations=not all(c.verified for c in cits))


def _num(text: str) -> str:
    value = float(text)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def judge(decision: Decision, subject: Transfer | Deal, rulebook: Rulebook, ledger: LedgerBackend | None, *,
          as_of: dt.date | None = None, record: bool = False) -> Decision:
    """Add cap findings to a decision, and record the transfer's cap lines when asked.

    With ``record=True`` the assessment and the recording run in one ledger transaction (retried as a whole
    on a transient failure), so the totals the findings show are those the lines were added to.

    Raises:
        InvalidInput: when a quantity's unit cannot be converted to a cap's unit (never a silent zero).
        LedgerError: when recording a changed transfer under an existing id, or the ledger cannot be written.
    """
    if record and ledger is not None:
        return ledger.atomic(  # type: ignore[no-any-return]
            lambda: _judge(decision, subject, rulebook, ledger, as_of=as_of, record=True))
    return _judge(decision, subject, rulebook, ledger, as_of=as_of, record=False)


def _judge(decision: Decision, subject: Transfer | Deal, rulebook: Rulebook, ledger: LedgerBackend | None, *,
           as_of: dt.date | None, record: bool) -> Decision:
    transfers = {t.id: t for t in (subject.transfers if isinstance(subject, Deal) else [subject])}
    findings = list(decision.findings)
    notes = list(decision.notes)
    to_record: list[tuple[Transfer, list[Any]]] = []
    for rule, cap in cap_rules(rulebook):
        for tid, indexes in sorted(_matched_items(decision, rule.id).items()):
            t = transfers[tid]
            on = as_of or t.start
            if not _covers(cap, on):
                continue
            if ledger is None:
                notes.append(f"transfer {tid}: counts towards cap {cap.id}, which was not judged: no ledger "
                             "(check-transfer --ledger PATH)")
                continue
            inputs = []
            for i in sorted(indexes):
                product, why = _product(t.items[i], cap)
                if why:
                    notes.append(f"transfer {tid} item {i}: {why}")
                inputs.append(caps.CapInput(item_index=i, quantity=t.items[i].quantity, value=t.items[i].value,
                                            product=product))
            missing = [i for i in inputs if i.quantity is None]
            if missing:
                findings.append(_finding(
                    rule, t, "review", f"Cap {cap.id} cannot be judged: quantity missing",
                    f"Items {', '.join(str(i.item_index) for i in missing)} of {tid} count towards cap {cap.id} "
                    "but give no quantity; the cap cannot be judged, so the transfer needs review.",
                    [Evidence(field="item.quantity", test="is not given", value=None)], None, cap.id))
                inputs = [i for i in inputs if i.quantity is not None]
                if not inputs:
                    continue
            try:
                a = caps.assess(cap, ledger, inputs, on=on, exclude_transfer=tid)
            except InvalidInput as err:
                raise err.located(source=f"transfer {tid}") from None
            data = a.to_dict()
            ev = [Evidence(field=f"cap.{k}", test=f"is {data[k]}", value=data[k])
                  for k in ("period", "total_before", "amount", "total_after", "limit", "unit")]
            arithmetic = (f"{_num(data['total_before'])} + {_num(data['amount'])} = {_num(data['total_after'])} "
                          f"{a.unit} against a cap of {_num(data['limit'])} {a.unit} for {a.period}")
            if a.over_cap:
                findings.append(_finding(
                    rule, t, "prohibited", f"Over the cap {cap.id}",
                    f"{tid} would take the total for {a.period} over the cap: {arithmetic}.", ev, data, cap.id))
            elif a.crossed_thresholds:
                pct = ", ".join(f"{int(x * 100)}%" for x in a.crossed_thresholds)
                findings.append(_finding(
                    rule, t, "review", f"Cap {cap.id} passes {pct}",
                    f"{tid} takes the total for {a.period} past {pct} of the cap: {arithmetic}.", ev, data, cap.id))
            else:
                notes.append(f"transfer {tid}: cap {cap.id}: {arithmetic} ({a.fraction:.1%})")
            for why in a.unassessed:
                findings.append(_finding(rule, t, "review", f"Cap {cap.id}: a measure cannot be judged",
                                         f"{tid}: {why}", [], data, cap.id))
            to_record.append((t, list(a.lines)))
    findings.sort(key=lambda x: (x.transfer_id, -1 if x.item_index is None else x.item_index, x.rule_id, x.scope,
                                 x.title))
    verdict = max((f.outcome for f in findings), key=lambda o: OUTCOME_RANK[o], default="clear")
    out = decision.model_copy(update={"findings": findings, "notes": sorted(set(notes)), "verdict": verdict})
    if record and ledger is not None and verdict != "prohibited":
        _record(ledger, to_record)
    return out


def _record(ledger: LedgerBackend, items: Iterable[tuple[Transfer, list[Any]]]) -> None:
    by_transfer: dict[str, tuple[Transfer, list[Any]]] = {}
    for t, lines in items:
        by_transfer.setdefault(t.id, (t, []))[1].extend(lines)
    for t, lines in by_transfer.values():
        if lines:
            ledger.record(t, lines)


class LedgerJudge:
    """What ``check-transfer --ledger PATH|URL`` calls for each decision: judge caps and record, atomically."""

    def __init__(self, target: str, rulebook: Rulebook, *, notify: Any = None) -> None:
        self.ledger = open_ledger(target, notify=notify)
        self.rulebook = rulebook

    def __call__(self, decision: Decision, subject: Transfer | Deal, as_of: dt.date | None) -> Decision:
        return judge(decision, subject, self.rulebook, self.ledger, as_of=as_of, record=True)


def _is_cap_note(note: str) -> bool:
    return ": cap " in note or "counts towards cap" in note or "against cap " in note


def with_recorded_caps(today: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """Today's decision (as JSON) with the cap judgements of a recorded one put back in.

    Cap findings depend on the ledger as it stood when the decision was made; a replay re-judges the rules
    and keeps the recorded cap arithmetic, so that a difference means the rules now decide otherwise.
    """
    def cap_finding(f: dict[str, Any]) -> bool:
        return "cap_id" in (f.get("related") or {})

    findings = [f for f in today["findings"] if not cap_finding(f)]
    findings += [f for f in recorded.get("findings", []) if cap_finding(f)]
    findings.sort(key=lambda x: (x["transfer_id"], -1 if x["item_index"] is None else x["item_index"], x["rule_id"],
                                 x["scope"], x["title"]))
    out = dict(today)
    out["findings"] = findings
    out["notes"] = sorted({n for n in today["notes"] if not _is_cap_note(n)}
                          | {n for n in recorded.get("notes", []) if _is_cap_note(n)})
    out["verdict"] = max((f["outcome"] for f in findings), key=lambda o: OUTCOME_RANK[o], default="clear")
    return out
