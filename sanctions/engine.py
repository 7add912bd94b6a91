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
    FrozenDict,
    date_text,
    evidence,
    item_display,
    render,
    transfer_display,
    unmet,
)
from sanctions.rulebook import unknowns
from sanctions.rulebook.facts import Projector, finding_raw, item_categories, item_raw, transfer_raw
from sanctions.model.records import Deal, Transfer
from sanctions.rulebook import OUTCOME_RANK, Rule, Rulebook, load_rulebook, select_regimes

MAX_PAIR_FINDINGS = 1_000
"""Matching (leg, counter-leg) pairs in one deal up to which each pair gets its own consideration finding; past
it, findings are grouped (see :meth:`Engine._deal_findings`), so a deal's output grows with its legs, not with
their square."""


@dataclass
class _Fact:
    fid: int
    kind: str
    transfer: Transfer
    item_index: int | None
    raw: dict[str, Any]
    fact: dict[str, C.Scalar]
    variant: str | None = None
    """The HS code this fact judges the item under, when the item gives alternatives."""


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
        # an item fact repeats its transfer's fields: those keys are computed once per transfer
        self._project = {kind: Projector(keys, shared="transfer." if kind == "item" else None)
                         for kind, keys in self.rulebook.compiled.defaults.items()}
        # Built once: rule citations never change, and findings share them (they are frozen).
        self._cites = {r.id: _citations(r.spec.legal_basis) for r in self.rulebook.rules.values()}
        # The keys each fact kind is tested on by any join pattern: facts equal on these join alike.
        join_keys: dict[str, set[str]] = {}
        for jp in self.rulebook.compiled.join_patterns:
            join_keys.setdefault(jp.left_kind, set()).update(C.keys_of(jp.left), (j.left_key for j in jp.joins))
            join_keys.setdefault(jp.right_kind, set()).update(C.keys_of(jp.right), (j.right_key for j in jp.joins))
        self._join_keys = {k: tuple(sorted(v)) for k, v in join_keys.items()}


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
        notes: list[str] = []
        facts = self._facts(transfers, deal_id, screening)
        matches = self.evaluator.match([f.fact for f in facts])
        findings, considered, fired = self._judge(facts, matches, as_of)
        findings = self._cite_chain(findings, {t.id: as_of or t.end for t in transfers})
        findings, considered = _merge_alternatives(facts, findings, considered)
        if isinstance(subject, Deal) and self.rulebook.compiled.join_patterns and findings:
            findings += self._deal_findings(subject, facts, findings, as_of, considered, fired, notes)
        not_matched = [rid for rid in self.rulebook.rules if rid not in fired]
        decision = self._decision(subject, findings, considered, facts, as_of, not_matched, notes)
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
            shared = proj["item"].shared_values(t_raw) if t.items else None
            for i, item in enumerate(t.items):
                for code, variant in hs_variants(item):
                    i_raw = item_raw(t_raw, variant, i)
                    out.append(_Fact(len(out), "item", t, i, i_raw, proj["item"](i_raw, "item", len(out), shared),
                                     code))
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
            if f.variant is not None:
                mark = len(findings)
            for rule in sorted({by_pattern[pid][0].id: by_pattern[pid][0] for pid in ids
                                if by_pattern[pid][1] is None}.values(), key=lambda r: r.id):
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
                open_ = self._open(rule, f, ids, as_of, a, b)
                if open_ is not None:
                    misses = self._misses(rule, f, ids, a, b, skip={ex.spec.id for ex, _ in open_[1]})
                    findings.append(self._uncertain(rule, f, a, display(f), *open_, misses=misses))
                    continue
                findings.append(self._finding(rule, f, a, display(f), self._misses(rule, f, ids, a, b)))
            if f.variant is not None:  # which HS alternative each finding was made under, for merging
                findings[mark:] = [x.model_copy(update={"related": {**x.related, "hs_alternative": f.variant}})
                                   for x in findings[mark:]]
        return findings, considered, fired

    def _display(self, f: _Fact) -> dict[str, str]:
        d = transfer_display(f.transfer)
        if f.item_index is not None:
            item = f.transfer.items[f.item_index]
            if f.variant is not None:
                item = item.model_copy(update={"hs_code": f.variant})
            declared, derived = item_categories(item)
            d.update(item_display(item, declared or derived))
        return d

    # -- what is not known -------------------------------------------------------------------------------------

    def _open(self, rule: Rule, f: _Fact, ids: set[str], as_of: dt.date | None, a: dt.date, b: dt.date
              ) -> tuple[bool, list[Any], tuple[dt.date, dt.date] | None] | None:
        """What leaves the rule's outcome on this fact open, or None when nothing does.

        Returns (the rule's condition surely holds, the exemptions that may apply, the part of a coarse date's
        period the measure covers when it covers only part of it).
        """
        sure = rule.pattern_id in ids
        start, end = self._window(f.transfer, as_of)
        coarse = as_of is None and not f.transfer.precise
        part = (a, b) if coarse and (a, b) != (start, end) else None
        maybe = []
        for ex in rule.exemptions:
            if not ex.spec.in_force.overlaps(a, b):
                continue
            if ex.pattern_id in ids:
                if coarse:  # in force on part of the period only (it would have cleared the rule otherwise)
                    maybe.append((ex, True))
            elif ex.could_pattern_id is not None and ex.could_pattern_id in ids:
                maybe.append((ex, False))
        if sure and not maybe and part is None:
            return None
        return sure, maybe, part

    def _uncertain(self, rule: Rule, f: _Fact, applies_from: dt.date, shown: dict[str, str], sure: bool,
                   maybe: Sequence[tuple[Any, bool]], part: tuple[dt.date, dt.date] | None, *,
                   misses: tuple[FrozenDict, ...] = ()) -> Finding:
        """A finding whose outcome turns on unknown facts or on the day within a coarse date: ``review`` (or the
        rule's own outcome when that is milder), saying what is not known and what would settle it."""
        spec = rule.spec
        base = self._finding(rule, f, applies_from, shown, misses)
        cites = ", ".join(c.short() for c in base.citations)
        would = f"{spec.outcome.replace('_', ' ')} under {cites} ({rule.id})"
        settles: list[str] = []
        conds: list[C.Cond] = []
        must_cond = self.rulebook.compiled_pattern(rule.pattern_id).cond
        # the part of a coarse date's period the measure covers, as a condition ("on or after 11 September 2017")
        on = _period_phrase(part[0], part[1], (f.transfer.start, f.transfer.end))[3:] if part else ""
        also = f" and {on}" if on else ""
        if not sure:
            could_cond = self.rulebook.compiled_pattern(rule.could_pattern_id or rule.pattern_id).cond
            conds.append(could_cond)
            phrases = unknowns.merge_members(unknowns.settlings(must_cond, f.fact), f.raw)
            if not phrases:
                phrases = unknowns.pair_settlings(must_cond, f.fact, f.raw)
            settles += [f"if {p}{also}: {would}" for p in phrases] or [
                f"{' and '.join(unknowns.unknown_fields([could_cond], f.fact, f.raw))} together decide whether "
                f"it is {would}" + (f" ({on})" if on else "")]
        elif on:
            settles.append(f"if {on}: {would}")
        for ex, ex_sure in maybe:
            ex_must = self.rulebook.compiled_pattern(ex.pattern_id).cond
            ex_could = self.rulebook.compiled_pattern(ex.could_pattern_id or ex.pattern_id).cond
            conds.append(ex_could)
            title = f"exempted by '{ex.spec.title}' ({', '.join(c.short() for c in _citations(ex.spec.legal_basis))})"
            inf = ex.spec.in_force
            if ex_sure and part is not None:
                lo, hi = max(part[0], inf.from_), min(part[1], inf.until or part[1])
                settles.append(f"{_period_phrase(lo, hi, (f.transfer.start, f.transfer.end))}: {title}")
                continue
            yes = unknowns.merge_members(unknowns.settlings(ex_must, f.fact), f.raw)
            no = unknowns.merge_members(unknowns.settlings(ex_could, f.fact, want=False), f.raw)
            settles += [f"if {p}: {title}" for p in yes]
            if sure:
                settles += [f"if {p}{also}: {would}" for p in no]
        if part is not None:
            settles.append(f"the date gives only {date_text(f.transfer)}")
        unknown = unknowns.unknown_fields(conds, f.fact, f.raw)
        ev = list(base.evidence) if sure else evidence(
            self.rulebook.compiled_pattern(rule.could_pattern_id or rule.pattern_id).cond, f.fact, f.raw)
        outcome = "review" if OUTCOME_RANK[spec.outcome] >= OUTCOME_RANK["review"] else spec.outcome
        head = "Not decided: " + ("; ".join(f"{u} is unknown" for u in unknown) + ". " if unknown else "")
        related = dict(base.related)
        related["undecided"] = {
            "outcome_if_applies": spec.outcome,
            "unknown": unknown,
            "date_covered": {"from": part[0].isoformat(), "until": part[1].isoformat()} if part else None,
            "settled_by": settles,
        }
        return base.model_copy(update={
            "outcome": outcome, "evidence": ev, "related": related,
            "explanation": f"{base.explanation} {head}{_sentence('; '.join(settles))}."})

    def _misses(self, rule: Rule, f: _Fact, ids: set[str], a: dt.date, b: dt.date,
                skip: set[str] | frozenset[str] = frozenset()) -> tuple[FrozenDict, ...]:
        """Why each exemption of ``rule`` (but those in ``skip``) did not clear it on ``f`` over [a, b]."""
        out = []
        for ex in rule.exemptions:
            spec = ex.spec
            if spec.id in skip:
                continue
            inf = spec.in_force
            reasons = []
            if ex.pattern_id not in ids:
                reasons.append("not met: " + "; ".join(unmet(self.rulebook.compiled_pattern(ex.pattern_id).cond,
                                                             f.fact, f.raw)))
            if not inf.covers(a, b):
                when = a.isoformat() if a == b else f"{a.isoformat()} to {b.isoformat()}"
                until = f" until {inf.until.isoformat()}" if inf.until else ""
                reasons.append(f"in force from {inf.from_.isoformat()}{until}, which does not cover {when}")
            out.append(FrozenDict({"id": spec.id, "title": spec.title, "reason": "; ".join(reasons)}))
        return tuple(out)

    def _finding(self, rule: Rule, f: _Fact, applies_from: dt.date, shown: dict[str, str],
                 misses: tuple[FrozenDict, ...] = ()) -> Finding:
        spec = rule.spec
        cits = self._cites[rule.id]
        duty = None
        if spec.duty:
            due = _due(f.transfer.end, spec.duty.within_days) if spec.duty.within_days is not None else None
            duty = Duty(who=spec.duty.who, to=spec.duty.to, what=spec.duty.what, due=due)
        # model_construct: every value here is built by the engine from validated models (no user input
        # reaches it unvalidated), so pydantic's validation would only repeat work on the hot path.
        return Finding.model_construct(
            rule_id=rule.id, title=spec.title, regime=spec.regime, outcome=spec.outcome, scope=rule.scope,
            transfer_id=f.transfer.id, item_index=f.item_index, citations=cits,
            in_force={"from": spec.in_force.from_, "until": spec.in_force.until},
            # the assumption goes on every finding of the rule, the undecided ones (built on this one) too
            explanation=_with_assumption(_with_caveat(render(spec.explanation, shown), spec.caveat), spec.assumption),
            evidence=evidence(self.rulebook.compiled_pattern(rule.pattern_id).cond, f.fact, f.raw),
            duty=duty, related={}, unverified_citations=not all(c.verified for c in cits),
            exemptions_not_applied=misses,
        )

    # -- deal pass ---------------------------------------------------------------------------------------------

    def _deal_findings(self, deal: Deal, facts: Sequence[_Fact], findings: Sequence[Finding],
                       as_of: dt.date | None, considered: list[Considered], fired: set[str],
                       notes: list[str]) -> list[Finding]:
        """Join leg findings with counter-legs, in time and memory near-linear in the legs.

        Legs alike in every fact the join patterns test give the same join answers, so the evaluator sees one
        representative per group of alike facts and each answer stands for the whole of both groups. Up to
        :data:`MAX_PAIR_FINDINGS` matching (leg, counter-leg) pairs give one finding per pair, as the law is
        usually read; past that, one finding per pair of groups lists every leg and counter-leg it stands for
        (so output grows with the legs, not with their square), and the decision says so.
        """
        proj = self._project
        by_tid = {f.transfer.id: f for f in facts if f.kind == "transfer"}
        # One representative fact per group of facts equal on every key a join pattern tests.
        reps: list[_Fact] = []
        members: list[list[Any]] = []  # per representative fid: Findings (left) or Transfers (right)
        index: dict[tuple[str, tuple[Any, ...]], int] = {}

        def add(kind: str, transfer: Transfer, item_index: int | None, raw: dict[str, Any], member: Any) -> None:
            fact = proj[kind](raw, kind, len(reps))
            sig = (kind, tuple(fact.get(k) for k in self._join_keys.get(kind, ())))
            fid = index.get(sig)
            if fid is None:
                fid = index[sig] = len(reps)
                reps.append(_Fact(fid, kind, transfer, item_index, raw, fact))
                members.append([])
            members[fid].append(member)

        for f in by_tid.values():
            add("transfer", f.transfer, None, f.raw, f.transfer)
        for fnd in findings:
            t_raw = by_tid[fnd.transfer_id].raw
            raw = finding_raw(t_raw, fnd.rule_id, fnd.regime, fnd.outcome, self.rulebook.rules[fnd.rule_id].spec.tags)
            add("finding", by_tid[fnd.transfer_id].transfer, fnd.item_index, raw, fnd)
        joins = sorted(self.evaluator.join([f.fact for f in reps]))
        links = {(k.transfer, k.consideration_for) for k in deal.links}

        def pairs(jm: C.JoinMatch) -> Iterator[tuple[str, str]]:
            legs = sorted({x.transfer_id for x in members[jm.left_fid]})
            counters = sorted({x.id for x in members[jm.right_fid]})
            if links:  # the deal says which leg pays for which: only declared pairs count
                leg_set, counter_set = set(legs), set(counters)
                yield from sorted((lt, ct) for (ct, lt) in links if lt in leg_set and ct in counter_set and lt != ct)
                return
            for lt in legs:
                for ct in counters:
                    if ct != lt:
                        yield lt, ct

        def count(jm: C.JoinMatch) -> int:
            legs = {x.transfer_id for x in members[jm.left_fid]}
            counters = {x.id for x in members[jm.right_fid]}
            if links:
                return sum(1 for (ct, lt) in links if lt in legs and ct in counters and lt != ct)
            return len(legs) * len(counters) - len(legs & counters)

        total = sum(count(jm) for jm in joins)
        out: list[Finding] = []
        if total <= MAX_PAIR_FINDINGS:
            grouped: dict[tuple[str, str, str], list[Finding]] = {}
            for jm in joins:
                by_leg: dict[str, list[Finding]] = {}
                for x in members[jm.left_fid]:
                    by_leg.setdefault(x.transfer_id, []).append(x)
                for lt, ct in pairs(jm):
                    grouped.setdefault((jm.pattern_id, lt, ct), []).extend(by_leg[lt])
            for (rule_id, leg_tid, counter_tid), legs in sorted(grouped.items()):
                rule = self.rulebook.rules[rule_id]
                fired.add(rule_id)
                counter = by_tid[counter_tid].transfer
                if self._counter_in_force(rule, counter, as_of, considered):
                    out.append(self._deal_finding(rule, deal, by_tid[leg_tid].transfer, counter, legs))
            return out
        for jm in joins:  # grouped: sets of legs and counter-legs, never the pairs one by one
            rule = self.rulebook.rules[jm.pattern_id]
            fired.add(jm.pattern_id)
            if links:
                ps = list(pairs(jm))
                leg_set, counter_set = {lt for lt, _ in ps}, {ct for _, ct in ps}
            else:
                leg_set = {x.transfer_id for x in members[jm.left_fid]}
                counter_set = {x.id for x in members[jm.right_fid]}
            live = {ct for ct in counter_set if self._counter_in_force(rule, by_tid[ct].transfer, as_of, considered)}
            if links:
                ps = [(lt, ct) for lt, ct in ps if ct in live]
                leg_set, n_pairs = {lt for lt, _ in ps}, len(ps)
            else:
                n_pairs = len(leg_set) * len(live) - len(leg_set & live)
            if not n_pairs:
                continue
            leg_tids, counter_tids = sorted(leg_set), sorted(live)
            first = min(ps) if links else next((lt, ct) for lt in leg_tids for ct in counter_tids if lt != ct)
            legs = [x for x in members[jm.left_fid] if x.transfer_id in leg_set]
            out.append(self._deal_finding(rule, deal, by_tid[first[0]].transfer, by_tid[first[1]].transfer, legs,
                                          group=(leg_tids, counter_tids, n_pairs), linked_pairs=ps if links else None))
        notes.append(
            f"deal {deal.id}: {total:,} leg/counter-leg pairs match the deal rules, more than "
            f"{MAX_PAIR_FINDINGS:,}: findings are grouped, one per group of legs alike in every fact the rule "
            f"tests ({len(out):,} findings); each lists every leg and counter-leg it stands for")
        return out

    def _counter_in_force(self, rule: Rule, counter: Transfer, as_of: dt.date | None,
                          considered: list[Considered]) -> bool:
        start, end = self._window(counter, as_of)
        if rule.spec.in_force.overlaps(start, end):
            return True
        considered.append(Considered(rule_id=rule.id, status="not_in_force", transfer_id=counter.id,
                                     reason=_not_in_force_reason(rule, start, end)))
        return False

    def _deal_finding(self, rule: Rule, deal: Deal, leg: Transfer, counter: Transfer, legs: Sequence[Finding],
                      group: tuple[list[str], list[str], int] | None = None,
                      linked_pairs: Sequence[tuple[str, str]] | None = None) -> Finding:
        """One consideration finding: for the pair (leg, counter), or, with ``group``, for every pair of the group
        (``group`` = leg ids, counter-leg ids, number of pairs), told through its first pair. With declared links
        the group is not every leg with every counter-leg: ``linked_pairs`` lists the (leg, counter-leg) pairs."""
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
        # the deal finding keeps every paragraph the legs' findings cite: the consideration is prohibited because
        # the leg is, so the leg's basis is part of its basis
        cits = _merge_citations(self._cites[rule.id], *(x.citations for x in legs))
        related: dict[str, Any] = {"deal": deal.id, "leg": leg.id, "counter_leg": counter.id, "leg_rules": leg_rules,
                                   "declared_link": linked}
        explanation = render(spec.explanation, d)
        if group is not None:
            leg_ids, counter_ids, n_pairs = group
            related.update(legs=leg_ids, counter_legs=counter_ids, pairs=n_pairs)
            if linked_pairs is not None:
                related["linked_pairs"] = [list(pair) for pair in linked_pairs]
            ev.append(Evidence(field="deal.pairs", test="alike in every fact the rule tests", value=n_pairs))
            explanation += (f" This finding stands for {n_pairs:,} pairs: {len(counter_ids):,} counter-legs"
                            f" ({_ids(counter_ids)}) paid for {len(leg_ids):,} prohibited legs ({_ids(leg_ids)}),"
                            " alike in every fact the rule tests; related.legs and related.counter_legs list them all"
                            + (", related.linked_pairs the declared pairs." if linked_pairs is not None else "."))
        return Finding(
            rule_id=rule.id, title=spec.title, regime=spec.regime, outcome=spec.outcome, scope="deal",
            transfer_id=counter.id, item_index=None, citations=cits,
            in_force={"from": spec.in_force.from_, "until": spec.in_force.until},
            explanation=explanation, evidence=ev, related=related,
            unverified_citations=not all(c.verified for c in cits),
        )

    def _cite_chain(self, findings: list[Finding], judged_on: dict[str, dt.date]) -> list[Finding]:
        """Each finding's citations: the rule's paragraphs adopted by the day judged, plus those of the co-firing
        findings its rule names in ``cite_with``.

        A rule may list the paragraphs that extend its measure later (1718 OP8(b), then 1874 OP9 for all arms);
        a finding cites only those adopted on or before the transfer's last day (or ``as_of``). A second measure
        the same act breaches (a ship-to-ship transfer of petroleum: the petroleum measure and 2375 OP11) bears on
        the finding too; a co-firing finding counts when it is about the same transfer and the same item (or the
        whole transfer).
        """
        rules = self.rulebook.rules
        dated = []
        for x in findings:
            on = judged_on.get(x.transfer_id)
            keep = [c for c in x.citations if on is None or c.adopted <= on]
            if keep and len(keep) != len(x.citations):
                x = x.model_copy(update={"citations": keep, "unverified_citations": not all(c.verified for c in keep)})
            dated.append(x)
        findings = dated
        if not any(rules[x.rule_id].spec.cite_with for x in findings):
            return findings
        # indexed by transfer: a deal of thousands of legs must not compare every finding with every other
        cited = {r for x in findings for r in rules[x.rule_id].spec.cite_with}
        by_transfer: dict[str, list[Finding]] = {}
        for y in findings:
            if y.rule_id in cited:
                by_transfer.setdefault(y.transfer_id, []).append(y)
        out = []
        for x in findings:
            wanted = rules[x.rule_id].spec.cite_with
            extra = [y.citations for y in by_transfer.get(x.transfer_id, ()) if y.rule_id in wanted
                     and (y.item_index is None or x.item_index is None or y.item_index == x.item_index)] if wanted else []
            if extra:
                cits = _merge_citations(x.citations, *extra)
                if len(cits) != len(x.citations):
                    x = x.model_copy(update={"citations": cits,
                                             "unverified_citations": not all(c.verified for c in cits)})
            out.append(x)
        return out

    # -- the decision ------------------------------------------------------------------------------------------

    def _decision(self, subject: Transfer | Deal, findings: list[Finding], considered: list[Considered],
                  facts: Sequence[_Fact], as_of: dt.date | None, not_matched: list[str],
                  extra_notes: Sequence[str] = ()) -> Decision:
        notes = list(self._notes) + list(extra_notes)
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


def _merge_alternatives(facts: Sequence[_Fact], findings: list[Finding], considered: list[Considered]
                        ) -> tuple[list[Finding], list[Considered]]:
    """One finding per rule and item judged under several HS alternatives: the strictest, saying which
    alternative leads to which outcome."""
    codes: dict[tuple[str, int | None], list[str]] = {}
    for f in facts:
        if f.variant is not None:
            codes.setdefault((f.transfer.id, f.item_index), []).append(f.variant)
    if not codes:
        return findings, considered
    out: list[Finding] = []
    grouped: dict[tuple[str, str, int | None], list[Finding]] = {}
    for x in findings:
        if "hs_alternative" in x.related:
            grouped.setdefault((x.rule_id, x.transfer_id, x.item_index), []).append(x)
        else:
            out.append(x)
    for (_rid, tid, idx), group in grouped.items():
        by_code = {x.related["hs_alternative"]: x for x in group}
        alts = codes[(tid, idx)]
        table = {c: (by_code[c].outcome if c in by_code else "clear") for c in alts}
        best = max(group, key=lambda x: (OUTCOME_RANK[x.outcome], -alts.index(x.related["hs_alternative"])))
        related = {k: v for k, v in best.related.items() if k != "hs_alternative"}
        related["hs_alternatives"] = table
        shown = ", ".join(f"HS {c} {o.replace('_', ' ')}" for c, o in table.items())
        why = (f" The item is judged under each HS code it may have ({shown}); the strictest outcome stands, "
               f"under HS {best.related['hs_alternative']}." if len(set(table.values())) > 1 else
               f" The item is judged under each HS code it may have ({shown}): all give the same outcome.")
        out.append(best.model_copy(update={"related": related, "explanation": best.explanation + why}))
    seen: set[str] = set()
    unique: list[Considered] = []
    for c in considered:
        key = c.model_dump_json()
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return out, unique


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _period_phrase(lo: dt.date, hi: dt.date, part: tuple[dt.date, dt.date] | None) -> str:
    """``if on or after 11 September 2017`` and the like, for the part of a period something covers."""
    if part is None:
        return "in any case"
    start = lo if lo > part[0] else None
    end = hi if hi < part[1] else None
    def d(x: dt.date) -> str:
        return f"{x.day} {x.strftime('%B')} {x.year}"
    if start and end:
        return f"if between {d(start)} and {d(end)}"
    if start:
        return f"if on or after {d(start)}"
    if end:
        return f"if on or before {d(end)}"
    return "in any case"


def hs_variants(item: Any) -> list[tuple[str | None, Any]]:
    """The item under each HS code it may have: ``[(None, item)]`` without alternatives, else one
    ``(code, item with that code)`` per distinct code of ``hs_code`` and the alternatives (ranges expanded)."""
    if not item.hs_alternatives:
        return [(None, item)]
    from sanctions.model.records import hs_range

    codes = [item.hs_code] if item.hs_code else []
    for alt in item.hs_alternatives:
        codes += [c for c in hs_range(alt) if c not in codes]
    return [(c, item.model_copy(update={"hs_code": c})) for c in codes]


def _ids(ids: Sequence[str], shown: int = 3) -> str:
    """The first few ids and how many more: enough to recognise a group in a sentence."""
    head = ", ".join(ids[:shown])
    return head if len(ids) <= shown else f"{head} and {len(ids) - shown:,} more"


def _not_in_force_reason(rule: Rule, start: dt.date, end: dt.date) -> str:
    inf = rule.spec.in_force
    when = start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"
    why = f"; {' '.join(inf.note.split())}" if inf.note else ""
    if end < inf.from_:
        return f"matched, but not yet in force on {when} (in force from {inf.from_.isoformat()}{why})"
    return (f"matched, but no longer in force on {when} (in force until "
            f"{inf.until.isoformat() if inf.until else '-'}{why})")


def _merge_citations(first: Iterable[Citation], *more: Iterable[Citation]) -> list[Citation]:
    """``first`` then every citation of ``more`` not already there (same resolution and paragraph), in order."""
    out = list(first)
    seen = {(c.resolution, c.paragraph) for c in out}
    for group in more:
        for c in group:
            if (c.resolution, c.paragraph) not in seen:
                seen.add((c.resolution, c.paragraph))
                out.append(c)
    return out


def _with_caveat(text: str, caveat: str | None) -> str:
    return f"{text} {' '.join(caveat.split())}" if caveat else text


def _with_assumption(text: str, assumption: str | None) -> str:
    return f"{text} Assumption: {' '.join(assumption.split())}" if assumption else text


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


def _due(end: dt.date, within_days: int) -> dt.date:
    """The due date of a duty; a date the calendar cannot hold (past 9999-12-31) is clamped to its last day,
    which is earlier than the true due date and so never late."""
    try:
        return end + dt.timedelta(days=within_days)
    except OverflowError:
        return dt.date.max
