"""Party and vessel screening, chained into findings.

Screening turns the parties and vessels of a transfer into list hits (:mod:`sanctions.screening.matching` against a
UN Consolidated List edition, :mod:`sanctions.screening.vessels` against the curated 1718 designated-vessels table).
The hits become facts (``transfer.designated_regimes``, ``transfer.designated_vessel``), so the asset-freeze
and designated-vessel measures are ordinary rule files judged by the engine, with their citations; the
decision then carries the match evidence (listed entry, reference number, listing date, which alias
matched, the score and why) next to the finding.

A party listed *after* the transfer's date is not a designated party on that date: the decision says so in
a note and no finding is made. With no list edition, screening is reported as not performed, never as
passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sanctions.model.records import Deal, Party, Transfer

THRESHOLD: float | None = None
"""Score (0-100) at which a name match counts as a hit; ``None`` uses sanctions.matching.DEFAULT_THRESHOLD,
chosen by measurement (docs/screening-quality.md)."""


@dataclass
class Screening:
    """Screening hits for the transfers of one subject, keyed by transfer id."""

    edition: dict[str, Any]
    hits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    vessel_hits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def regimes(self, transfer_id: str) -> set[str]:
        return {h["regime"] for h in self.hits.get(transfer_id, []) if h["in_force_on_date"]}

    def vessel_designated(self, transfer_id: str) -> bool:
        """A vessel of the transfer was designated by the 1718 Committee on the transfer's date."""
        return any(h["in_force_on_date"] and h.get("committee_designated", True)
                   for h in self.vessel_hits.get(transfer_id, []))

    def vessel_owner_listed(self, transfer_id: str) -> bool:
        """A vessel of the transfer was owned or managed by a party on the UN list on the transfer's date."""
        return any(h["in_force_on_date"] and h.get("owner_listed", False)
                   for h in self.vessel_hits.get(transfer_id, []))

    def annotate(self, decision: Any) -> Any:
        """The decision with the screening record and the match evidence attached to party findings."""
        findings = []
        for f in decision.findings:
            tested = listed_regimes_tested(f)
            vessel_fact = any(e.field in ("transfer.designated_vessel", "transfer.vessel_owner_listed")
                              for e in f.evidence)
            if tested or vessel_fact or "designated_party" in f.related.get("tags", []) or f.rule_id.endswith((
                    "asset_freeze", "designated_vessel")):
                related = dict(f.related)
                # a finding cites the measures of one regime: it shows the listings under that regime
                related["listings"] = [h for h in self.hits.get(f.transfer_id, []) if not tested
                                       or h["regime"] in tested]
                related["vessel_listings"] = self.vessel_hits.get(f.transfer_id, [])
                f = f.model_copy(update={"related": related})
            findings.append(f)
        record = {"performed": True, **self.edition,
                  "hits": sum(len(v) for v in self.hits.values()) + sum(len(v) for v in self.vessel_hits.values())}
        return decision.model_copy(update={"findings": findings, "screening": record,
                                           "notes": sorted(set(decision.notes) | set(self.notes))})


def listed_regimes_tested(finding: Any) -> set[str]:
    """The list regimes (``UN_LIST_TYPE``) a finding's rule found a party listed under, from its evidence."""
    return {e.test.split(" ", 1)[1] for e in finding.evidence
            if e.field == "transfer.designated_regimes" and e.test.startswith("contains ")}


def _known(value: str | None) -> str | None:
    """A country or flag as the matchers take it: an unknown one is no evidence either way."""
    return None if value == "unknown" else value


def _parties(t: Transfer) -> Iterable[tuple[str, Party]]:
    yield "supplier", t.supplier
    yield "recipient", t.recipient
    for i, p in enumerate(t.intermediaries):
        yield f"intermediaries[{i}]", p


def screen_subject(subject: Transfer | Deal, index: Any, *, as_of: dt.date | None = None,
                   threshold: float | None = THRESHOLD) -> Screening:
    """Screen every party and vessel of a transfer or deal against an edition's index."""
    from sanctions.screening import matching
    from sanctions.screening import vessels

    threshold = matching.DEFAULT_THRESHOLD if threshold is None else threshold
    ed = index.edition
    edition = {"edition": ed.generated.date().isoformat() if ed.generated else "unknown", "sha256": ed.sha256,
               "source": ed.source}
    out = Screening(edition=edition)
    transfers = subject.transfers if isinstance(subject, Deal) else [subject]
    for t in transfers:
        on = as_of or t.end
        for role, party in _parties(t):
            kind = "individual" if party.kind.value == "person" else "entity"
            names = [party.name, *party.aliases]
            seen: set[str] = set()
            for name in names:
                for m in matching.screen(name, kind=kind, country=_known(party.country), threshold=threshold,
                                         edition=index, limit=3):
                    if m.reference_number in seen:
                        continue
                    seen.add(m.reference_number)
                    listed = m.listed_on
                    in_force = listed is None or listed <= on
                    hit = {"role": role, "party": party.name, **m.to_dict(), "in_force_on_date": in_force,
                           "explanation": m.explain()}
                    out.hits.setdefault(t.id, []).append(hit)
                    if not in_force:
                        out.notes.append(
                            f"transfer {t.id}: {role} {party.name!r} resembles {m.reference_number} "
                            f"({m.primary_name}), listed on {listed.isoformat() if listed else '?'}, after "
                            f"{on.isoformat()}: not a designated party on that date")
        for role, v in (("vessel", t.vessel), ("sts_vessel", t.sts_vessel)):
            if v is None:
                continue
            for vm in vessels.match_vessel(name=v.name, imo=v.imo, flag=_known(v.flag)):
                in_force = vm.vessel.designated_on <= on
                out.vessel_hits.setdefault(t.id, []).append({
                    "role": role, "vessel": v.name, "designated_name": vm.vessel.name, "imo": vm.vessel.imo,
                    "designated_on": vm.vessel.designated_on.isoformat(), "basis": vm.vessel.basis,
                    "matched_on": vm.matched_on, "score": vm.score, "verified": vm.vessel.verified,
                    "committee_designated": vm.vessel.committee_designated, "owner_listed": vm.vessel.owner_listed,
                    "listing": vm.vessel.listing,
                    "in_force_on_date": in_force, "explanation": vm.explain()})
                if not in_force:
                    out.notes.append(f"transfer {t.id}: {role} {v.name!r} was designated on "
                                     f"{vm.vessel.designated_on.isoformat()}, after {on.isoformat()}")
    return out


def screener_for(list_path: str | None) -> Any:
    """The screening index for a run: the given list file, else the installed edition.

    Returns ``("off", reason)`` when there is no list to screen against.
    """
    from sanctions.screening import lists
    from sanctions.screening import matching

    edition = lists.load(list_path) if list_path else lists.current()
    if edition is None:
        return ("off", "no UN list is installed (run 'check-transfer lists update', or pass --list PATH); "
                       "designated-party checks were not performed")
    return matching.index_for(edition)


def check(engine: Any, subject: Transfer | Deal, index: Any, *, as_of: dt.date | None = None) -> Any:
    """Screen, then judge: the one call that chains list hits into findings."""
    scr = screen_subject(subject, index, as_of=as_of)
    return engine.check(subject, as_of=as_of, screening=scr)
