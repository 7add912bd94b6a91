"""Name screening against the UN Consolidated List, with an explanation for every match.

A compliance analyst has to be able to say *why* a name was flagged. Each :class:`NameMatch` carries
the listed entry (reference number, primary name, regime, listing date), which of its names matched and
that name's quality, every normalisation and romanisation substitution applied on both sides, the
fuzzy name score, and the evidence that raised or lowered it (date of birth, nationality or country,
kind of party, alias quality) with the number of points each moved.

How a name is compared:

1. **Normalise** and 2. **romanise** both names (:mod:`sanctions.screening.names`).
3. **Score** with rapidfuzz ``ratio`` (normalised Indel similarity): the best of the canonical tokens
   joined with spaces, joined without spaces (``Cholsu``), and the words joined before romanisation,
   over every rotation of the listed name's words (surname first or last). Entity names are also
   compared with their tokens sorted (word order ignored).
4. **Weigh evidence**: points added or removed for date of birth, country, kind and a ``Low`` quality
   alias (see :data:`EVIDENCE_POINTS`). The final score is capped to 0..100.

Speed: :class:`ScreeningIndex` is built once per edition. It keeps every listed name's canonical tokens
and blocks candidates by shared canonical token or shared 3-letter token prefix, so each query is scored
against a few dozen names rather than the whole list. ``python bench/screening_quality.py`` reports the
time per name.
"""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from importlib import resources

import yaml
from rapidfuzz import fuzz

from sanctions.exc import FieldProblem, InvalidInput, ListError
from sanctions.screening.unlist import EntryKind, ListedEntry, ListEdition
from sanctions.screening.names import NormalisedName, Substitution, _rotations, normalise

__all__ = [
    "DEFAULT_THRESHOLD",
    "EVIDENCE_POINTS",
    "Evidence",
    "NameMatch",
    "NormalisedName",
    "ScreeningIndex",
    "Substitution",
    "index_for",
    "normalise",
    "screen",
    "screen_many",
]

DEFAULT_THRESHOLD = 90.0
"""Default minimum final score (0-100) for a match to be reported. Chosen from the measurement in
``docs/screening-quality.md`` (regenerate with ``python bench/screening_quality.py``): 90 is the lowest
threshold at which fewer than 2 % of similar-looking non-listed Korean and Russian names are flagged
(1.4 %), while recall on generated spelling variants of the DPRK names stays at 0.97. At 88 recall is
0.98 but 2.2 % of non-listed names are flagged; at 92 recall drops to 0.94 (one-typo variants suffer)."""

EVIDENCE_POINTS: dict[str, float] = {
    "birth_date_exact": +5.0,      # the same full date of birth
    "birth_year": +3.0,            # the birth year falls in a listed range
    "birth_mismatch": -15.0,       # a listed date of birth exists and the given one is not near it
    "country_match": +3.0,         # nationality or address country agrees
    "country_mismatch": -10.0,     # the entry has countries and none agrees
    "kind_mismatch": -25.0,        # an individual's name matched against an entity, or vice versa
    "low_quality_alias": -5.0,     # the UN marks the alias "Low": possibly not enough on its own
    "common_names_only": -8.0,     # only very common given names agree; the rest of the name differs
}
"""Points each kind of evidence adds to or takes from the name score. Absence of information (no date
of birth given, or none on the list) moves nothing."""

_MAX_BONUS = EVIDENCE_POINTS["birth_date_exact"] + EVIDENCE_POINTS["country_match"]

@dataclass(frozen=True, slots=True)
class _Forms:
    """Strings compared for one name: each rotation of its words (spaced, run together, and run together
    before romanisation), plus sorted canonical tokens for entities."""

    spaced: tuple[str, ...]
    compact: tuple[str, ...]
    raw: tuple[str, ...]
    sorted_text: str

    @classmethod
    def of(cls, norm: NormalisedName, *, rotate: bool) -> _Forms:
        rots = _rotations(norm, rotate)
        return cls(
            spaced=tuple(" ".join(r) for r, _ in rots),
            compact=tuple("".join(r) for r, _ in rots),
            raw=tuple(raw for _, raw in rots),
            sorted_text=norm.sorted_text,
        )


def _name_score(query: _Forms, listed: _Forms, *, entity: bool, cutoff: float = 0.0) -> float:
    """Similarity 0-100 of two names.

    Personal names keep their word order except that the listed name's first word (the surname, on the
    UN list) may move to the end: "Chol Su Kang" agrees with KANG CHOL SU. Any other reordering is not
    forgiven, because freely reordered Korean syllables make different people look alike (in the
    measurement, "So Chang Myong" scored 93 against "Chang Myong Ho"). Entity names are also compared
    with their words sorted. Scores below ``cutoff`` may be returned as 0 (rapidfuzz stops early).
    """
    if not query.spaced[0] or not listed.spaced[0]:
        return 0.0
    q_sp, q_co, q_raw = query.spaced[0], query.compact[0], query.raw[0]
    # No alignment can score above 200 * shorter / (sum of lengths): skip hopeless pairs cheaply.
    lq, ll = len(q_co), len(listed.compact[0])
    if 200.0 * min(lq, ll) / (lq + ll) < cutoff and not entity:
        return 0.0
    ratio = fuzz.ratio
    best = 0.0
    for sp, co in zip(listed.spaced, listed.compact, strict=True):
        best = max(best, ratio(q_sp, sp, score_cutoff=cutoff), ratio(q_co, co, score_cutoff=cutoff))
    for raw in listed.raw:
        best = max(best, ratio(q_raw, raw, score_cutoff=cutoff))
    if best >= 100.0:
        return 100.0
    if entity:
        best = max(best, ratio(query.sorted_text, listed.sorted_text, score_cutoff=cutoff))
    return best


# -------------------------------------------------------------------------------------- matches


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence beyond the name, and what it did to the score.

    Attributes:
        feature: ``birth_date``, ``country``, ``kind``, ``alias_quality`` or ``common_names_only``.
        effect: Points added (positive) or removed (negative); 0 for information only.
        query_value: What the caller gave.
        list_value: What the list says.
        note: One sentence.
    """

    feature: str
    effect: float
    query_value: str
    list_value: str
    note: str


@dataclass(frozen=True)
class NameMatch:
    """A listed party whose name resembles the screened name, and why.

    Attributes:
        entry: The listed entry.
        query: The screened name as given.
        matched_name: The entry's name or alias that scored best.
        matched_quality: ``primary``, ``original script``, or the alias quality (``Good``, ``Low``,
            ``a.k.a.``, ``f.k.a.``, ``unspecified``).
        query_normalised: The screened name after normalisation.
        matched_normalised: The matched name after normalisation.
        name_score: Fuzzy similarity of the two normalised names, 0-100.
        evidence: Evidence beyond the name, each with its effect.
        score: ``name_score`` plus the evidence effects, capped to 0..100.
        threshold: The threshold the match was reported against.
    """

    entry: ListedEntry
    query: str
    matched_name: str
    matched_quality: str
    query_normalised: NormalisedName
    matched_normalised: NormalisedName
    name_score: float
    evidence: tuple[Evidence, ...]
    score: float
    threshold: float

    @property
    def reference_number(self) -> str:
        return self.entry.reference_number

    @property
    def primary_name(self) -> str:
        return self.entry.name

    @property
    def regime(self) -> str:
        return self.entry.regime

    @property
    def listed_on(self) -> date | None:
        return self.entry.listed_on

    def explain(self) -> str:
        """A few lines an analyst can read, naming every step and its effect on the score."""
        e = self.entry
        listed = e.listed_on.isoformat() if e.listed_on else e.listed_on_raw or "unknown date"
        lines = [
            f"{self.query!r} resembles {e.reference_number} {e.name} ({e.regime}, {e.kind}, listed {listed}): "
            f"score {self.score:.1f} (threshold {self.threshold:g})",
            f"  matched {self.matched_quality} name {self.matched_name!r}",
            f"  compared {self.query_normalised.text!r} with {self.matched_normalised.text!r}: "
            f"name score {self.name_score:.1f}",
        ]
        for side, norm in (("query", self.query_normalised), ("list", self.matched_normalised)):
            for step in norm.steps:
                lines.append(f"  {side}: {step}")
            for sub in norm.substitutions:
                lines.append(f"  {side}: romanised {sub.describe()}")
        for ev in self.evidence:
            lines.append(f"  {ev.feature} {ev.effect:+g}: {ev.note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        e = self.entry
        return {
            "reference_number": e.reference_number,
            "primary_name": e.name,
            "regime": e.regime,
            "kind": e.kind,
            "listed_on": e.listed_on.isoformat() if e.listed_on else None,
            "query": self.query,
            "matched_name": self.matched_name,
            "matched_quality": self.matched_quality,
            "query_normalised": self.query_normalised.text,
            "matched_normalised": self.matched_normalised.text,
            "normalisation": {
                "query": list(self.query_normalised.steps),
                "list": list(self.matched_normalised.steps),
            },
            "substitutions": {
                "query": [s.describe() for s in self.query_normalised.substitutions],
                "list": [s.describe() for s in self.matched_normalised.substitutions],
            },
            "name_score": round(self.name_score, 2),
            "evidence": [
                {"feature": ev.feature, "effect": ev.effect, "query_value": ev.query_value,
                 "list_value": ev.list_value, "note": ev.note}
                for ev in self.evidence
            ],
            "score": round(self.score, 2),
            "threshold": self.threshold,
        }


# ----------------------------------------------------------------------------------- evidence


_COUNTRY_ALIASES = {
    "north korea": "KP", "dprk": "KP", "democratic people's republic of korea": "KP",
    "south korea": "KR", "republic of korea": "KR", "korea": "KR",
    "russia": "RU", "russian federation": "RU", "iran": "IR", "iran (islamic republic of)": "IR",
    "syria": "SY", "syrian arab republic": "SY", "united kingdom": "GB", "united states": "US",
    "hong kong": "HK", "china, hong kong special administrative region": "HK", "taiwan": "TW",
    "viet nam": "VN", "vietnam": "VN", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ",
    "united republic of tanzania": "TZ", "democratic republic of the congo": "CD", "congo": "CG",
    "lao people's democratic republic": "LA", "laos": "LA", "moldova": "MD", "turkey": "TR", "türkiye": "TR",
}


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    text = value.strip().replace("’", "'")
    if not text:
        return None
    key = text.casefold()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    import pycountry

    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return None
    return str(found[0].alpha_2) if len(found) == 1 else None


def _birth(value: date | int | str) -> tuple[date | None, int]:
    if isinstance(value, date):
        return value, value.year
    if isinstance(value, int):
        return None, value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        return None, int(text)
    try:
        d = date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InvalidInput("birth_date must be a date, a year, or YYYY-MM-DD text", problems=[
            FieldProblem("birth_date", "not a date or year", value)]) from exc
    return d, d.year


def _evidence(
    entry: ListedEntry,
    quality: str,
    *,
    kind: EntryKind | None,
    country: str | None,
    birth_date: date | int | str | None,
) -> list[Evidence]:
    pts = EVIDENCE_POINTS
    out: list[Evidence] = []
    if kind is not None and kind != entry.kind:
        out.append(Evidence("kind", pts["kind_mismatch"], kind, entry.kind,
                            f"screened as {kind}, but {entry.reference_number} is an {entry.kind}"))
    if quality == "Low":
        out.append(Evidence("alias_quality", pts["low_quality_alias"], "", "Low",
                            "the UN marks this alias Low quality: it may not identify the party on its own"))
    if birth_date is not None and entry.kind == "individual" and entry.dates_of_birth:
        given_day, given_year = _birth(birth_date)
        listed = ", ".join(bd.describe() for bd in entry.dates_of_birth)
        shown = given_day.isoformat() if given_day else str(given_year)
        if given_day is not None and any(bd.date == given_day for bd in entry.dates_of_birth):
            out.append(Evidence("birth_date", pts["birth_date_exact"], shown, listed,
                                "same date of birth as listed"))
        elif any((r := bd.years()) is not None and r[0] <= given_year <= r[1] for bd in entry.dates_of_birth):
            out.append(Evidence("birth_date", pts["birth_year"], shown, listed,
                                "birth year within a listed date or range"))
        elif all((r := bd.years()) is None or given_year < r[0] - 1 or given_year > r[1] + 1
                 for bd in entry.dates_of_birth):
            out.append(Evidence("birth_date", pts["birth_mismatch"], shown, listed,
                                "date of birth differs from every listed one by more than a year"))
        else:
            out.append(Evidence("birth_date", 0.0, shown, listed, "birth year within a year of a listed one"))
    if country:
        code = _country_code(country)
        listed_countries = list(entry.nationalities) + [a.country for a in entry.addresses if a.country]
        codes = {c for c in (_country_code(x) for x in listed_countries) if c}
        if code is None:
            out.append(Evidence("country", 0.0, country, "; ".join(dict.fromkeys(listed_countries)),
                                "country not recognised; not used"))
        elif codes:
            shown = "; ".join(dict.fromkeys(listed_countries))
            if code in codes:
                out.append(Evidence("country", pts["country_match"], country, shown,
                                    "country agrees with a listed nationality or address"))
            else:
                out.append(Evidence("country", pts["country_mismatch"], country, shown,
                                    "country differs from every listed nationality and address"))
    return out


def _words(norm: NormalisedName) -> list[str]:
    """The canonical form of each written word (its canonical tokens joined)."""
    out, i = [], 0
    for n in norm.groups:
        out.append("".join(norm.tokens[i:i + n]))
        i += n
    return [w for w in out if w]


@lru_cache(maxsize=1)
def _common_given_names() -> frozenset[str]:
    data = yaml.safe_load(resources.files("sanctions").joinpath("data", "names_transliteration.yaml")
                          .read_text(encoding="utf-8"))
    return frozenset(data.get("common_given_names", ()))


def _common_names_only(query: NormalisedName, listed: NormalisedName) -> list[Evidence]:
    """Points off when the two names agree exactly only in very common given names (Muhammad, Ibrahim, ...)
    and the rest of each name differs clearly: "Ibrahim al-Ansari" is not "Ibrahim al-Asiri"."""
    q, lst = _words(query), _words(listed)
    shared = set(q) & set(lst)
    rest_q = " ".join(sorted(w for w in q if w not in shared))
    rest_l = " ".join(sorted(w for w in lst if w not in shared))
    if not shared or not shared <= _common_given_names() or not rest_q or not rest_l:
        return []
    if fuzz.ratio(rest_q, rest_l) >= 85:
        return []
    return [Evidence("common_names_only", EVIDENCE_POINTS["common_names_only"], rest_q, rest_l,
                     f"only common given names agree ({', '.join(sorted(shared))}); the rest differs")]


# -------------------------------------------------------------------------------------- index


@dataclass(frozen=True, slots=True)
class _IndexedName:
    entry: ListedEntry
    name: str
    quality: str
    norm: NormalisedName
    forms: _Forms


def _block_keys(tokens: Sequence[str]) -> set[str]:
    keys: set[str] = set()
    for tok in tokens:
        keys.add("t:" + tok)
        if len(tok) >= 3:
            keys.add("p:" + tok[:3])
    compact = "".join(tokens)
    if len(compact) >= 4:
        keys.add("c:" + compact[:4])
        keys.add("e:" + compact[-4:])
    return keys


@dataclass
class ScreeningIndex:
    """Every name of one edition, normalised once and blocked for fast candidate lookup.

    Build it with :func:`index_for` (cached per edition) or directly from an edition.
    """

    edition: ListEdition
    names: list[_IndexedName] = field(default_factory=list, init=False, repr=False)
    _blocks: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        blocks: dict[str, list[int]] = defaultdict(list)
        for entry in self.edition.entries:
            seen: set[tuple[str, ...]] = set()
            for name, quality in entry.all_names():
                norm = normalise(name, kind=entry.kind)
                if not norm.tokens or norm.tokens in seen:
                    continue
                seen.add(norm.tokens)
                idx = len(self.names)
                forms = _Forms.of(norm, rotate=True)
                self.names.append(_IndexedName(entry, name, quality, norm, forms))
                for key in _block_keys(norm.tokens):
                    blocks[key].append(idx)
        self._blocks = dict(blocks)

    def __len__(self) -> int:
        return len(self.names)

    def _candidates(self, norms: Iterable[NormalisedName]) -> set[int]:
        found: set[int] = set()
        for norm in norms:
            for key in _block_keys(norm.tokens):
                found.update(self._blocks.get(key, ()))
        return found

    def screen(
        self,
        name: str,
        *,
        kind: EntryKind | None = None,
        country: str | None = None,
        birth_date: date | int | str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int | None = 10,
    ) -> list[NameMatch]:
        """Screen one name; see :func:`screen`."""
        if not isinstance(name, str):
            raise InvalidInput("name must be a string", problems=())
        if kind is not None and kind not in ("individual", "entity"):
            raise InvalidInput(f"kind must be 'individual' or 'entity', got {kind!r}")
        if not 0 <= threshold <= 100:
            raise InvalidInput(f"threshold must be between 0 and 100, got {threshold!r}")
        if birth_date is not None:
            _birth(birth_date)  # validate early
        as_person = normalise(name, kind="individual")
        as_entity = normalise(name, kind="entity")
        if not as_person.tokens and not as_entity.tokens:
            return []
        person_forms = _Forms.of(as_person, rotate=False)
        entity_forms = _Forms.of(as_entity, rotate=False)
        best: dict[str, NameMatch] = {}
        for idx in self._candidates((as_person, as_entity)):
            cand = self.names[idx]
            entity = cand.entry.kind == "entity"
            query = as_entity if entity else as_person
            # evidence adds at most 8 points: what scores below threshold - 8 cannot be reported
            name_score = _name_score(entity_forms if entity else person_forms, cand.forms, entity=entity,
                                     cutoff=max(0.0, threshold - _MAX_BONUS))
            if name_score + _MAX_BONUS < threshold or name_score == 0.0:
                continue
            evidence = _evidence(cand.entry, cand.quality, kind=kind, country=country, birth_date=birth_date)
            if not entity:
                evidence += _common_names_only(query, cand.norm)
            score = max(0.0, min(100.0, name_score + sum(ev.effect for ev in evidence)))
            if score < threshold:
                continue
            ref = cand.entry.reference_number
            prior = best.get(ref)
            if prior is None or (score, name_score) > (prior.score, prior.name_score):
                best[ref] = NameMatch(cand.entry, name, cand.name, cand.quality, query, cand.norm,
                                      name_score, tuple(evidence), score, threshold)
        matches = sorted(best.values(), key=lambda m: (-m.score, -m.name_score, m.reference_number))
        return matches[:limit] if limit is not None else matches


_INDEX_CACHE: OrderedDict[tuple[str, int, str, str], ScreeningIndex] = OrderedDict()


def index_for(edition: ListEdition) -> ScreeningIndex:
    """The screening index of an edition, built on first use and cached (four most recent editions)."""
    entries = edition.entries
    key = (edition.sha256, len(entries), entries[0].reference_number if entries else "",
           entries[-1].reference_number if entries else "")
    index = _INDEX_CACHE.get(key)
    if index is None or index.edition.entries != edition.entries:
        index = ScreeningIndex(edition)
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > 4:
            _INDEX_CACHE.popitem(last=False)
    else:
        _INDEX_CACHE.move_to_end(key)
    return index


def _resolve(edition: ListEdition | ScreeningIndex | None) -> ScreeningIndex:
    if isinstance(edition, ScreeningIndex):
        return edition
    if edition is None:
        from sanctions.screening import lists

        edition = lists.current()
        if edition is None:
            raise ListError("no UN list is installed; install one with sanctions.lists.update() "
                            "(or pass edition=sanctions.lists.load(path))")
    return index_for(edition)


def screen(
    name: str,
    *,
    kind: EntryKind | None = None,
    country: str | None = None,
    birth_date: date | int | str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    edition: ListEdition | ScreeningIndex | None = None,
    limit: int | None = 10,
) -> list[NameMatch]:
    """Screen one name against the list; best matches first.

    Args:
        name: The name to screen, as written in the payment or document.
        kind: ``individual`` or ``entity`` if known. A match of the other kind is kept but loses
            :data:`EVIDENCE_POINTS` ``["kind_mismatch"]`` points.
        country: Nationality or country of the party (ISO code or name); agreement or disagreement
            with the entry's nationalities and address countries moves the score.
        birth_date: Date (``date`` or ``YYYY-MM-DD``) or year of birth, for individuals.
        threshold: Minimum final score (0-100) to report.
        edition: The edition (or a prebuilt index) to screen against; default: the installed current
            edition (:func:`sanctions.screening.lists.current`).
        limit: Most matches to return (``None`` for all).

    Returns:
        One :class:`NameMatch` per listed entry at or above the threshold, highest score first.

    Raises:
        InvalidInput: If an argument is malformed.
        ListError: If no edition is given and none is installed.
    """
    return _resolve(edition).screen(name, kind=kind, country=country, birth_date=birth_date,
                                    threshold=threshold, limit=limit)


def screen_many(
    names: Iterable[str],
    *,
    kind: EntryKind | None = None,
    country: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    edition: ListEdition | ScreeningIndex | None = None,
    limit: int | None = 10,
) -> dict[str, list[NameMatch]]:
    """Screen several names against one index (built once). Returns ``{name: matches}`` in input order;
    a name given twice is screened once."""
    index = _resolve(edition)
    out: dict[str, list[NameMatch]] = {}
    for n in names:
        if n not in out:
            out[n] = index.screen(n, kind=kind, country=country, threshold=threshold, limit=limit)
    return out

