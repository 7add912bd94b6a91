"""Names as the list and trade documents write them, brought to one canonical form, with every step recorded.

1. **Normalise** (:func:`normalise`): Unicode NFKC; curly quotes and apostrophes removed (the list
   writes McCune-Reischauer ``CH'OE``, ``SO’K``); diacritics removed (``ŏ`` -> ``o``); case folded;
   parenthesised parts dropped (``DAEDONG CREDIT BANK (DCB)``); hyphens and other punctuation become
   spaces (``Chol-Su`` -> ``chol su``); honorifics dropped; for entities, company-form words dropped
   (``corporation``, ``co``, ``ltd``, ``trading`` ... from ``sanctions/data/names_company_forms.yaml``).
2. **Romanise** each token with the data table ``sanctions/data/romanisation.yaml``: a whole-token
   variant (``Park`` -> ``pak``, ``Rhee``/``Lee`` -> ``i``, ``Choi`` -> ``choe``); otherwise a token
   that splits completely into Korean syllables is split (``Cholsu`` -> ``chol su``) and each syllable
   is mapped by the table or rewritten by its rules (``jong`` -> ``chong``, ``cheol`` -> ``chol``).
   Tokens that are not Korean-shaped are left as they are.

Scoring and evidence are in :mod:`sanctions.screening.matching`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from rapidfuzz.distance import OSA

from sanctions.screening.unlist import EntryKind

_QUOTES = dict.fromkeys(map(ord, "'’‘`´ʼʻ′‛"), None)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_HYPHEN = re.compile(r"(?<=\w)[-‐‑‒–—](?=\w)")


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class _Tables:
    variants: dict[str, str]            # spelling -> canonical
    initial: tuple[tuple[str, str], ...]
    vowel: tuple[tuple[str, str], ...]
    final: tuple[tuple[str, str], ...]
    syllable: re.Pattern[str]
    company_forms: frozenset[str]
    titles: frozenset[str]
    not_romanised: frozenset[str] = frozenset()  # words that look Korean-shaped but are not
    dropped: frozenset[str] = frozenset()  # canonical tokens removed after transliteration (the article "al")
    form_phrases: tuple[tuple[str, ...], ...] = ()  # multi-word company forms ("joint venture"), longest first
    country_qualifiers: tuple[tuple[str, ...], ...] = ()  # trailing "of (the) ..." country phrases, longest first


def _load_yaml(name: str) -> Any:
    text = resources.files("sanctions").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    rom = _load_yaml("romanisation.yaml")
    forms = _load_yaml("names_company_forms.yaml")
    variants: dict[str, str] = {}
    for canonical, spellings in rom["tokens"].items():
        # YAML 1.1 reads unquoted no/yes/on/off as booleans: the table must quote them
        if not isinstance(canonical, str) or not all(isinstance(s, str) for s in spellings):
            raise ValueError(f"romanisation.yaml: quote {canonical!r} / {spellings!r} (YAML read a non-string)")
        variants[canonical] = canonical
        for s in spellings:
            variants[s] = canonical
    translit = _load_yaml("names_transliteration.yaml")
    _merge_transliteration(variants, translit)
    rules = rom["rules"]
    shape = rom["syllable_shape"]

    def alt(items: Iterable[str]) -> str:
        return "|".join(sorted((re.escape(i) for i in items), key=len, reverse=True))

    syllable = re.compile(f"(?:{alt(shape['initials'])})?(?:{alt(shape['vowels'])})(?:{alt(shape['finals'])})?")
    return _Tables(
        variants=variants,
        initial=tuple((a, b) for a, b in rules["initial"]),
        vowel=tuple((a, b) for a, b in rules["vowel"]),
        final=tuple((a, b) for a, b in rules["final"]),
        syllable=syllable,
        company_forms=frozenset(f for f in forms["company_forms"] if " " not in f),
        not_romanised=frozenset(rom.get("not_romanised", ())),
        titles=frozenset(forms["titles"]),
        form_phrases=_phrases(f for f in forms["company_forms"] if " " in f),
        country_qualifiers=_phrases(forms.get("country_qualifiers", ())),
        dropped=frozenset(translit.get("dropped", ())),
    )


def _phrases(items: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(i.split()) for i in items), key=len, reverse=True))


def _merge_transliteration(variants: dict[str, str], data: Any) -> None:
    """Add the Arabic, Persian, Somali and Russian spellings (names_transliteration.yaml) to ``variants``.

    Raises:
        ValueError: when a spelling already stands for another canonical form (here or in the Korean table).
    """
    for section in ("particles", "tokens"):
        for canonical, spellings in (data.get(section) or {}).items():
            for s in [canonical, *spellings]:
                if not isinstance(s, str):
                    raise ValueError(f"names_transliteration.yaml: {section}.{canonical}: quote {s!r}")
                if variants.get(s, canonical) != canonical:
                    raise ValueError(f"names_transliteration.yaml: {s!r} is a spelling of {variants[s]!r} and of "
                                     f"{canonical!r}")
                variants[s] = canonical


# ---------------------------------------------------------------------------------- normalisation


@dataclass(frozen=True, slots=True)
class Substitution:
    """One token rewritten by the romanisation table.

    Attributes:
        original: The token (after case folding and punctuation removal), e.g. ``park``.
        canonical: What it became; several syllables are joined by spaces, e.g. ``chol su``.
        rule: Why: ``table`` (a listed variant), ``split`` (run-together syllables) and/or the rules that
            fired, e.g. ``split; j->ch; eo->o``.
    """

    original: str
    canonical: str
    rule: str

    def describe(self) -> str:
        return f"{self.original} -> {self.canonical} ({self.rule})"


@dataclass(frozen=True, slots=True)
class NormalisedName:
    """A name ready for comparison.

    Attributes:
        original: The name as given.
        tokens: Canonical tokens (Korean tokens split into syllables), in the original order.
        raw_tokens: The words before romanisation (cleaned, company forms or honorifics removed; the
            parts of a hyphenated word run together).
        groups: How many of ``tokens`` each word produced.
        steps: The normalisation steps that changed something, in words.
        substitutions: The romanisation substitutions made.
        removed_words: Company-form words or honorifics removed.
    """

    original: str
    tokens: tuple[str, ...]
    steps: tuple[str, ...] = ()
    substitutions: tuple[Substitution, ...] = ()
    removed_words: tuple[str, ...] = ()
    raw_tokens: tuple[str, ...] = ()
    groups: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        """Canonical tokens joined by spaces."""
        return " ".join(self.tokens)

    @property
    def sorted_text(self) -> str:
        return " ".join(sorted(self.tokens))

    @property
    def compact(self) -> str:
        return "".join(self.tokens)


def _split_syllables(token: str) -> list[str] | None:
    """Split a token into Korean syllables, preferring longer syllables first; ``None`` if impossible."""
    pattern = _tables().syllable
    n = len(token)
    memo: dict[int, list[str] | None] = {}

    def go(i: int) -> list[str] | None:
        if i == n:
            return []
        if i in memo:
            return memo[i]
        result = None
        # A syllable inside a token may start with a vowel only after -ng ("songil" -> song il); this
        # keeps ordinary words such as "korea" whole.
        vowel_ok = i == 0 or token.endswith("ng", 0, i)
        # candidate syllable ends, longest first
        for j in range(min(n, i + 6), i, -1):
            if not vowel_ok and token[i] in "aeiouwy" and not token.startswith(("ya", "yo", "yu", "ye", "wa", "wo", "wi", "we"), i):
                break
            if pattern.fullmatch(token, i, j):
                rest = go(j)
                if rest is not None:
                    result = [token[i:j], *rest]
                    break
        memo[i] = result
        return result

    return go(0)


def _rewrite_syllable(syl: str) -> tuple[str, list[str]]:
    t = _tables()
    if syl in t.variants:
        canon = t.variants[syl]
        return canon, ([] if canon == syl else ["table"])
    fired: list[str] = []
    for a, b in t.initial:
        if syl.startswith(a) and a != b:
            syl = b + syl[len(a):]
            fired.append(f"{a}->{b}")
    for a, b in t.vowel:
        if a in syl and a != b:
            syl = syl.replace(a, b)
            fired.append(f"{a}->{b}")
    for a, b in t.final:  # first matching final only (so -ng is not read as -g)
        if syl.endswith(a) and len(syl) > len(a):
            if a != b:
                syl = syl[: -len(a)] + b
                fired.append(f"{a}->{b}")
            break
    if syl in t.variants and t.variants[syl] != syl:
        fired.append("table")
        syl = t.variants[syl]
    return syl, fired


@lru_cache(maxsize=65536)
def _romanise_token(token: str) -> tuple[tuple[str, ...], str]:
    """Canonical syllables of one token and the rule description ('' if unchanged)."""
    t = _tables()
    if token in t.variants:
        canon = t.variants[token]
        return tuple(canon.split()), ("" if canon == token else "table")
    if not token.isascii() or not token.isalpha() or token in t.not_romanised:
        return (token,), ""
    syllables = _split_syllables(token)
    if syllables is None:
        return (token,), ""
    out: list[str] = []
    fired: list[str] = ["split"] if len(syllables) > 1 else []
    for syl in syllables:
        canon, rules = _rewrite_syllable(syl)
        out.append(canon)
        fired.extend(r for r in rules if r not in fired)
    return tuple(out), ("; ".join(fired) if tuple(out) != (token,) else "")


def normalise(name: str, *, kind: EntryKind | None = None) -> NormalisedName:
    """Normalise a name for screening (see the module docstring for the steps).

    Args:
        name: The name as written.
        kind: ``entity`` removes company-form words; ``individual`` removes honorifics; ``None`` does
            neither.

    Returns:
        The canonical tokens with a record of what was done.
    """
    t = _tables()
    steps: list[str] = []
    text = unicodedata.normalize("NFKC", name)
    stripped = text.translate(_QUOTES).replace('"', " ").replace("“", " ").replace("”", " ")
    if stripped != text:
        steps.append("removed quotes and apostrophes")
    text = stripped
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    if no_marks != decomposed and unicodedata.normalize("NFC", no_marks) != text:
        steps.append("removed diacritics")
    text = unicodedata.normalize("NFC", no_marks).casefold()
    without_parens = _PARENS.sub(" ", text)
    if without_parens != text and without_parens.strip():
        steps.append("dropped parenthesised part")
        text = without_parens
    if _HYPHEN.search(text):
        steps.append("split hyphenated words")
    # words (whitespace/punctuation separated); a hyphenated word keeps its parts together as one word
    words: list[list[str]] = []
    for chunk in re.split(r"[^\w\-‐‑‒–—]+|_", text):
        parts = [p for p in re.split(r"[\-‐‑‒–—]+", chunk) if p]
        if parts:
            words.append(parts)
    removed: list[str] = []
    if kind == "entity":
        words, dropped = _drop_phrases(words, t)
        if dropped:
            steps.append("removed " + "; ".join(dropped))
    drop = t.company_forms if kind == "entity" else t.titles if kind == "individual" else frozenset()
    if drop:
        kept = [w for w in words if not (len(w) == 1 and _droppable(w[0], drop, fuzzy=kind == "entity"))]
        if kept and len(kept) != len(words):
            removed = [w[0] for w in words if w not in kept]
            steps.append(("removed company-form words: " if kind == "entity" else "removed honorifics: ")
                         + ", ".join(removed))
            words = kept
    tokens: list[str] = []
    groups: list[int] = []
    subs: list[Substitution] = []
    # the article: a word of its own ("al Qaida") or a part of a hyphenated word ("al-Qaida"), dropped from the
    # words too, so that the compact spelling compared later does not keep it either
    def article(tok: str) -> bool:
        canon = _romanise_token(tok)[0]
        return bool(canon) and set(canon) <= t.dropped

    arts = [p for w in words for p in w if article(p)]
    if arts and any(not article(p) for w in words for p in w):
        steps.append("dropped the article: " + ", ".join(arts))
        words = [kept for w in words if (kept := [p for p in w if not article(p)])]
    for word in words:
        count = 0
        for tok in word:
            canon, rule = _romanise_token(tok)
            kept = tuple(c for c in canon if c not in t.dropped)
            if kept != canon and (kept or len(word) > 1):
                subs.append(Substitution(tok, " ".join(kept), "dropped the article"))
                canon, rule = kept, ""
            tokens.extend(canon)
            count += len(canon)
            if rule:
                subs.append(Substitution(tok, " ".join(canon), rule))
        groups.append(count)
    return NormalisedName(name, tuple(tokens), tuple(steps), tuple(subs), tuple(removed),
                          tuple("".join(w) for w in words), tuple(groups))


def _drop_phrases(words: list[list[str]], t: _Tables) -> tuple[list[list[str]], list[str]]:
    """Remove multi-word company forms anywhere, and a trailing country qualifier ("of the DPRK") when two or
    more words remain; returns the words left and what was removed, for the explanation."""
    flat = [" ".join(w) for w in words]
    dropped: list[str] = []
    for phrase in t.form_phrases:
        n = len(phrase)
        i = 0
        while i + n <= len(flat):
            if tuple(flat[i:i + n]) == phrase and len(flat) - n >= 1:
                dropped.append("company form: " + " ".join(phrase))
                del flat[i:i + n]
                del words[i:i + n]
            else:
                i += 1
    for phrase in t.country_qualifiers:
        n = len(phrase)
        for lead in (("of", "the"), ("of",)):
            k = len(lead) + n
            if len(flat) - k >= 2 and tuple(flat[-k:]) == lead + phrase:
                dropped.append("country qualifier: " + " ".join(lead + phrase))
                del flat[-k:]
                del words[-k:]
                break
        else:
            continue
        break
    return words, dropped


def _droppable(token: str, drop: frozenset[str], *, fuzzy: bool) -> bool:
    """A company-form word or honorific; for entities also one typo away from a form word of 5+ letters
    ("limtied", "comany")."""
    if token in drop:
        return True
    if not fuzzy or len(token) < 5:
        return False
    # one insertion, deletion, substitution or transposition of adjacent letters
    return any(len(f) >= 5 and OSA.distance(token, f, score_cutoff=1) <= 1 for f in drop)


def _rotations(norm: NormalisedName, rotate: bool) -> list[tuple[tuple[str, ...], str]]:
    """``(canonical tokens, raw compact)`` for the name as written and, if ``rotate``, with its first
    word moved to the end (surname-first list names against surname-last queries)."""
    out = [(norm.tokens, "".join(norm.raw_tokens))]
    if rotate and len(norm.groups) >= 2:
        first = norm.groups[0]
        out.append((norm.tokens[first:] + norm.tokens[:first], "".join(norm.raw_tokens[1:] + norm.raw_tokens[:1])))
    return out
