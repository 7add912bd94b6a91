"""The public engine: judge a transfer or a deal against a rulebook and explain the result.

>>> from sanctions import Engine, parse_input
>>> engine = Engine()                                  # the built-in rulebook, durable-rules if available
>>> decision = engine.check(parse_input(data))         # doctest: +SKIP
>>> decision.verdict, [f.rule_id for f in decision.findings]  # doctest: +SKIP

How a check runs:

1. The transfer (or each leg of a deal) becomes facts (:mod:`sanctions.rulebook.facts`): one per transfer, one per
   item carrying its transfer's fields.
2. An evaluator (durable-rules through :mod:`sanctions.evaluate._durable`, or :mod:`sanctions.evaluate.reference`) says which
   rule and exemption patterns matched which facts.
3. Shared code decides, for every match, whether the rule was in force on the transfer's dates (or on
   ``as_of``), and whether an exemption in force cleared it.
4. For a deal, every finding of step 3 becomes a ``finding`` fact, and the evaluator joins findings with the
   other legs (the deal rules: a leg paid for by a prohibited leg).
5. The decision lists findings, the rules considered and why they did not apply, and notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanctions.evaluate import compiled as C
from sanctions.evaluate import EVALUATORS, EvaluatorName, make_evaluator  # noqa: F401  (EVALUATORS re-exported)
from sanctions.explain import (
    Citation,
    Considered,
    Decision,
    Duty,
    Evidence,
    Finding,
    evidence,
    item_display,
    render,
    transfer_display,
)
from sanctions.rulebook.facts import Projector, finding_raw, item_categories, item_raw, transfer_raw
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import OUTCOME_RANK, Rule, Rulebook, load_rulebook, select_regimes



@dataclass
class _Fact:
    fid: int
    kind: str
    transfer: Transfer
    item_index: int | None
    raw: dict[str, Any]
    fact: dict[str, C.Scalar]


def _citations(rule_specs: Iterable[Any]) -> list[Citation]:
    return [Citation(resolution=c.resolution, paragraph=c.paragraph, adopted=c.adopted, source=c.source,
                     verified=c.verified) for c in rule_specs]


class Engine:
    """Judges transfers and deals against a rulebook.

    Args:
        rulebook: A loaded rulebook; by default the built-in one plus ``rules`` packs.
        rules: Extra rule-pack folders (``--rules DIR``).
        evaluator: ``auto`` (durable-rules when available), ``durable`` or ``reference``.

    An engine is safe to share between threads.
    """

    def __init__(self, rulebook: Rulebook | None = None, *, rules: Sequence[str | Path] = (),
                 evaluator: EvaluatorName = "auto", regimes: Iterable[str] | None = None) -> None:
        self.rulebook = rulebook if rulebook is not None else load_rulebook(*rules)
        if regimes is not None:
            self.rulebook = select_regimes(self.rulebook, regimes)
        self.evaluator, self._notes = make_evaluator(self.rulebook, evaluator)
        self._project = {kind: Projector(keys) for kind, keys in self.rulebook.compiled.defaults.items()}
        # Built once: rule citations never change, and findings share them (they are frozen).
        self._cites = {r.id: _citations(r.spec.legal_basis) for r in self.rulebook.rules.values()}


    @property
    def evaluator_name(self) -> str:
        return self.evaluator.name

    def check(self, subject: Transfer | Deal, *, as_of: dt.date | None = None, screening: Any = None) -> Decision:
        """Judge one transfer or one deal.

        Args:
            subject: The transfer or deal.
            as_of: Judge under the law in force on this date instead of the transfer's own dates.
            screening: Party and vessel screening hits (:class:`sanctions.screening.screen.Screening`); without
                it, designated-party rules cannot fire and the decision says screening was not performed.
        """
        transfers = list(subject.transfers) if isinstance(subject, Deal) else [subject]
        deal_id = subject.id if isinstance(subject, Deal) else None
        facts = self._facts(transfers, deal_id, screening)
        matches = self.evaluator.match([f.fact for f in facts])
        findings, considered, fired = self._judge(facts, matches, as_of)
        if isinstance(subject, Deal) and self.rulebook.compiled.join_patterns and findings:
            findings += self._deal_findings(subject, facts, findings, as_of, considered, fired)
        not_matched = [rid for rid in self.rulebook.rules if rid not in fired]
        decision = self._decision(subject, findings, considered, facts, as_of, not_matched)
        if screening is not None:
            decision = screening.annotate(decision)
        return decision

    def check_many(self, subjects: Iterable[Transfer | Deal], *, as_of: dt.date | None = None) -> Iterator[Decision]:
        """Judge many transfers or deals, one decision each, in order."""
        for s in subjects:
            yield self.check(s, as_of=as_of)

    # -- facts -------------------------------------------------------------------------------------------------

    def _facts(self, transfers: Sequence[Transfer], deal_id: str | None, screening: Any = None) -> list[_Fact]:
        proj = self._project
        out: list[_Fact] = []
        for t in transfers:
            t_raw = transfer_raw(t, deal_id, screening)
            out.append(_Fact(len(out), "transfer", t, None, t_raw, proj["transfer"](t_raw, "transfer", len(out))))
            for i, item in enumerate(t.items):
                i_raw = item_raw(t_raw, item, i)
                out.append(_Fact(len(out), "item", t, i, i_raw, proj["item"](i_raw, "item", len(out))))
        return out

    # -- first pass --------------------------------------------------------------------------------------------

    def _window(self, t: Transfer, as_of: dt.date | None) -> tuple[dt.date, dt.date]:
        return (as_of, as_of) if as_of else (t.start, t.end)

    def _judge(self, facts: Sequence[_Fact], matches: set[C.Match], as_of: dt.date | None
               ) -> tuple[list[Finding], list[Considered], set[str]]:
        by_pattern = self.rulebook.by_pattern
        matched: dict[int, set[str]] = {}
        for m in matches:
            matched.setdefault(m.fid, set()).add(m.pattern_id)
        findings: list[Finding] = []
        considered: list[Considered] = []
        fired: set[str] = set()
        shown: dict[int, dict[str, str]] = {}

        def display(f: _Fact) -> dict[str, str]:
            if f.fid not in shown:
                shown[f.fid] = self._display(f)
            return shown[f.fid]

        for f in facts:
            ids = matched.get(f.fid, set())
            for pid in sorted(ids):
                rule, exemption = by_pattern[pid]
                if exemption is not None:
                    continue
                fired.add(rule.id)
                start, end = self._window(f.transfer, as_of)
                inf = rule.spec.in_force
                if not inf.overlaps(start, end):
                    considered.append(Considered(
                        rule_id=rule.id, status="not_in_force", transfer_id=f.transfer.id, item_index=f.item_index,
                        reason=_not_in_force_reason(rule, start, end)))
                    continue
                a, b = max(start, inf.from_), min(end, inf.until) if inf.until else end
                cleared = [ex for ex in rule.exemptions if ex.pattern_id in ids and ex.spec.in_force.covers(a, b)]
                if cleared:
                    ex = cleared[0].spec
                    considered.append(Considered(
                        rule_id=rule.id, status="exempted", transfer_id=f.transfer.id, item_index=f.item_index,
                        reason=render(ex.explanation, display(f)),
                        exemption={"id": ex.id, "title": ex.title,
                                   "citations": [c.model_dump(mode="json") for c in _citations(ex.legal_basis)],
                                   "evidence": [e.model_dump(mode="json") for e in evidence(
                                       self.rulebook.compiled_pattern(cleared[0].pattern_id).cond, f.fact, f.raw)]}))
                    continue
                findings.append(self._finding(rule, f, a, display(f)))
        return findings, considered, fired

    def _display(self, f: _Fact) -> dict[str, str]:
        d = transfer_display(f.transfer)
        if f.item_index is not None:
            item = f.transfer.items[f.item_index]
            declared, derived = item_categories(item)
            d.update(item_display(item, declared or derived))
        return d

    def _finding(self, rule: Rule, f: _Fact, applies_from: dt.date, shown: dict[str, str]) -> Finding:
        spec = rule.spec
        cits = self._cites[rule.id]
        duty = None
        if spec.duty:
            due = f.transfer.end + dt.timedelta(days=spec.duty.within_days) if spec.duty.within_days is not None else None
            duty = Duty(who=spec.duty.who, to=spec.duty.to, what=spec.duty.what, due=due)
        # model_construct: every value here is built by the engine from validated models (no user input
        # reaches it unvalidated), so pydantic's validation would only repeat work on the hot path.
        return Finding.model_construct(
            rule_id=rule.id, title=spec.title, regime=spec.regime, outcome=spec.outcome, scope=rule.scope,
            transfer_id=f.transfer.id, item_index=f.item_index, citations=cits,
            in_force={"from": spec.in_force.from_, "until": spec.in_force.until},
            explanation=_with_caveat(render(spec.explanation, shown), spec.caveat),
            evidence=evidence(self.rulebook.compiled_pattern(rule.pattern_id).cond, f.fact, f.raw),
            duty=duty, related={}, unverified_citations=not all(c.verified for c in cits),
        )

    # -- deal pass ---------------------------------------------------------------------------------------------

    def _deal_findings(self, deal: Deal, facts: Sequence[_Fact], findings: Sequence[Finding],
                       as_of: dt.date | None, considered: list[Considered], fired: set[str]) -> list[Finding]:
        proj = self._project
        by_tid = {f.transfer.id: f for f in facts if f.kind == "transfer"}
        jfacts: list[_Fact] = []
        for f in by_tid.values():
            jfacts.append(_Fact(len(jfacts), "transfer", f.transfer, None, f.raw,
                                proj["transfer"](f.raw, "transfer", len(jfacts))))
        leg_of: dict[int, Finding] = {}
        for fnd in findings:
            t_raw = by_tid[fnd.transfer_id].raw
            raw = finding_raw(t_raw, fnd.rule_id, fnd.regime, fnd.outcome, self.rulebook.rules[fnd.rule_id].spec.tags)
            fid = len(jfacts)
            jfacts.append(_Fact(fid, "finding", by_tid[fnd.transfer_id].transfer, fnd.item_index, raw,
                                proj["finding"](raw, "finding", fid)))
            leg_of[fid] = fnd
        joins = self.evaluator.join([f.fact for f in jfacts])
        grouped: dict[tuple[str, str, str], list[Finding]] = {}
        for jm in sorted(joins):
            leg = leg_of[jm.left_fid]
            counter = jfacts[jm.right_fid].transfer
            if counter.id == leg.transfer_id:
                continue
            if deal.links and not any(k.transfer == counter.id and k.consideration_for == leg.transfer_id
                                      for k in deal.links):
                continue  # the deal says which leg pays for which: only declared pairs count
            grouped.setdefault((jm.pattern_id, leg.transfer_id, counter.id), []).append(leg)
        out = []
        for (rule_id, leg_tid, counter_tid), legs in sorted(grouped.items()):
            rule = self.rulebook.rules[rule_id]
            fired.add(rule_id)
            counter = by_tid[counter_tid].transfer
            start, end = self._window(counter, as_of)
            if not rule.spec.in_force.overlaps(start, end):
                considered.append(Considered(rule_id=rule_id, status="not_in_force", transfer_id=counter_tid,
                                             reason=_not_in_force_reason(rule, start, end)))
                continue
            out.append(self._deal_finding(rule, deal, by_tid[leg_tid].transfer, counter, legs))
        return out

    def _deal_finding(self, rule: Rule, deal: Deal, leg: Transfer, counter: Transfer, legs: Sequence[Finding]
                      ) -> Finding:
        spec = rule.spec
        d = {"leg." + k: v for k, v in transfer_display(leg).items()}
        d.update({"counter." + k: v for k, v in transfer_display(counter).items()})
        leg_rules = sorted({x.rule_id for x in legs})
        d.update({
            "deal.id": deal.id,
            "leg.rule": leg_rules[0],
            "leg.rules": ", ".join(leg_rules),
            "leg.title": self.rulebook.rules[leg_rules[0]].spec.title,
            "leg.items": ", ".join(sorted({leg.items[x.item_index].description for x in legs
                                           if x.item_index is not None})) or "the transfer",
            "counter.items": ", ".join(i.description for i in counter.items) or counter.kind.value.replace("_", " "),
            "counter.kind": counter.kind.value.replace("_", " "),
        })
        linked = any(link.transfer == counter.id and link.consideration_for == leg.id for link in deal.links)
        ev = [Evidence(field="deal.links", test="declares the counter-leg as consideration for the leg" if linked
                       else "counter-leg flows back from the leg's recipient to its supplier",
                       value=f"{counter.id} -> {leg.id}")]
        ev += [Evidence(field="leg.findings", test="prohibited", value=leg_rules)]
        cits = _citations(spec.legal_basis)
        return Finding(
            rule_id=rule.id, title=spec.title, regime=spec.regime, outcome=spec.outcome, scope="deal",
            transfer_id=counter.id, item_index=None, citations=cits,
            in_force={"from": spec.in_force.from_, "until": spec.in_force.until},
            explanation=render(spec.explanation, d), evidence=ev,
            related={"deal": deal.id, "leg": leg.id, "counter_leg": counter.id, "leg_rules": leg_rules,
                     "declared_link": linked},
            unverified_citations=not all(c.verified for c in cits),
        )

    # -- the decision ------------------------------------------------------------------------------------------

    def _decision(self, subject: Transfer | Deal, findings: list[Finding], considered: list[Considered],
                  facts: Sequence[_Fact], as_of: dt.date | None, not_matched: list[str]) -> Decision:
        notes = list(self._notes)
        for f in facts:
            if f.item_index is None:
                continue
            item = f.transfer.items[f.item_index]
            declared, derived = item_categories(item)
            if declared and derived and declared != derived:
                notes.append(f"transfer {f.transfer.id} item {f.item_index}: declared category {declared!r} "
                             f"disagrees with HS {item.hs_code} ({derived!r}); rules were tested against both")
            elif item.hs_code and not derived and not declared:
                notes.append(f"transfer {f.transfer.id} item {f.item_index}: HS {item.hs_code} maps to no "
                             "category and none was declared; only HS-code rules could apply")
        findings.sort(key=lambda x: (x.transfer_id, -1 if x.item_index is None else x.item_index, x.rule_id,
                                     x.scope, x.related.get("leg", "")))
        fired_ids = {(x.rule_id, x.transfer_id, x.item_index) for x in findings}
        considered = [c for c in considered if c.status != "fired"]
        considered += [Considered(rule_id=r, status="fired", transfer_id=t, item_index=i, reason="finding made")
                       for (r, t, i) in fired_ids]
        considered.sort(key=lambda c: (c.rule_id, c.status, c.transfer_id or "", -1 if c.item_index is None
                                       else c.item_index))
        notes += _regime_notes(self.rulebook, findings, considered)
        verdict = max((x.outcome for x in findings), key=lambda o: OUTCOME_RANK[o], default="clear")
        return Decision(
            subject={"type": "deal" if isinstance(subject, Deal) else "transfer", "id": subject.id},
            verdict=verdict, as_of=as_of, findings=findings, considered=considered, not_matched=not_matched,
            notes=sorted(set(notes)),
            evaluator=self.evaluator.name,
            rulebook={"digest": self.rulebook.digest, "rules": len(self.rulebook)},
            regimes=list(self.rulebook.regimes),
        )


def _not_in_force_reason(rule: Rule, start: dt.date, end: dt.date) -> str:
    inf = rule.spec.in_force
    when = start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"
    why = f"; {' '.join(inf.note.split())}" if inf.note else ""
    if end < inf.from_:
        return f"matched, but not yet in force on {when} (in force from {inf.from_.isoformat()}{why})"
    return (f"matched, but no longer in force on {when} (in force until "
            f"{inf.until.isoformat() if inf.until else '-'}{why})")


def _with_caveat(text: str, caveat: str | None) -> str:
    return f"{text} {' '.join(caveat.split())}" if caveat else text


def _regime_notes(rulebook: Rulebook, findings: Sequence[Finding], considered: Sequence[Considered]) -> list[str]:
    """Say so when a regime's rules matched a transfer but none was in force (and none exempted it), and repeat
    the caveats of the rules that made findings."""
    notes = []
    applied = {(f.regime, f.transfer_id) for f in findings}
    applied |= {(rulebook.rules[c.rule_id].spec.regime, c.transfer_id) for c in considered if c.status == "exempted"}
    out_of_force: dict[tuple[str, str], list[str]] = {}
    for c in considered:
        if c.status == "not_in_force" and c.transfer_id is not None:
            regime = rulebook.rules[c.rule_id].spec.regime
            if (regime, c.transfer_id) not in applied:
                out_of_force.setdefault((regime, c.transfer_id), []).append(c.rule_id)
    for (regime, tid), ids in sorted(out_of_force.items()):
        ids = sorted(set(ids))
        notes.append(f"{regime}: no measure applies to {tid} on its dates: {len(ids)} rule(s) matched it but none "
                     f"was in force then ({', '.join(ids)}; the reasons are under 'considered')")
    for rid in sorted({f.rule_id for f in findings}):
        caveat = rulebook.rules[rid].spec.caveat
        if caveat:
            notes.append(f"{rid}: {' '.join(caveat.split())}")
    return notes
