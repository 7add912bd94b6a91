"""Measure name-screening quality and speed, and write the figures to docs/screening-quality.md.

    python bench/screening_quality.py [--list PATH] [--threshold N] [--no-write]

Recall: for every Latin-script name or alias of every DPRK entry of the list, variants are generated
the way a payment message might spell it (romanisation swaps, word order, spacing and hyphenation of
given names, dropped company-form words, one random typo), and each variant is screened against the
*whole* list. A variant is found when its own entry is among the matches at the threshold.

False-positive rate: Korean personal names built from the same surnames and syllables as the listed
names (so they look alike), Russian personal names, and Korean- and Russian-style company names, none
of which is on the list (each is checked: no listed name or alias has the same canonical form). A
negative is a false positive when anything on the list matches at the threshold.

Everything is generated with a fixed seed, so the figures are reproducible for a given list file.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sanctions.screening import lists
from sanctions.screening import matching  # noqa: E402
from sanctions.screening.unlist import ListEdition, ListedEntry  # noqa: E402

DEFAULT_LIST = next((p for p in (Path(__file__).resolve().parents[2] / "shared/data/un_sc_consolidated_2026-05-08.xml",
                     Path("/work/shared/data/un_sc_consolidated_2026-05-08.xml")) if p.exists()),
                    Path("/work/shared/data/un_sc_consolidated_2026-05-08.xml"))
DOC = ROOT / "docs" / "screening-quality.md"
SEED = 20260508
THRESHOLDS = (80, 82, 84, 86, 88, 90, 92, 95)

# Spellings a non-DPRK system may use for the list's syllables (inverse of the romanisation table,
# plus Revised Romanization rewrites). Used only to *generate* test variants.
_SWAP_TOKENS = {
    "ri": ["Lee", "Rhee", "Yi", "Li"], "pak": ["Park", "Bak"], "choe": ["Choi", "Chwe"], "jo": ["Cho"],
    "cho": ["Jo"], "kim": ["Gim"], "jong": ["Jeong", "Chong"], "chong": ["Jeong", "Jong"], "jang": ["Chang"],
    "chang": ["Jang"], "ryu": ["Yu", "Yoo"], "kang": ["Gang"], "o": ["Oh"], "ko": ["Koh", "Go"],
    "son": ["Sohn"], "sin": ["Shin"], "yun": ["Yoon"], "chol": ["Cheol", "Chul"], "yong": ["Young", "Yeong"],
    "kyong": ["Kyung", "Gyeong"], "myong": ["Myung", "Myeong"], "hyok": ["Hyuk", "Hyeok"],
    "sok": ["Seok"], "pyong": ["Byung", "Pyung"], "song": ["Seong", "Sung"], "ho": ["Ho"],
    "mun": ["Moon"], "paek": ["Baek"], "han": ["Hahn"], "hyon": ["Hyun"], "chun": ["Jun"],
    "kwang": ["Gwang"], "tong": ["Dong"], "taesong": ["Daesong"], "daesong": ["Taesong"],
    "kumsan": ["Geumsan"], "pugang": ["Bugang"], "kumryong": ["Geumryong"], "tanchon": ["Danchon"],
}
_RR_RULES = [("ch", "j"), ("k", "g"), ("t", "d"), ("p", "b")]

_FORMS = {"corporation": ["Corp.", "Co.", ""], "company": ["Co.", "Co., Ltd.", ""], "co": ["Company", ""],
          "ltd": ["Limited", ""], "limited": ["Ltd", ""], "trading": [""], "general": [""], "corp": ["Corporation", ""]}


@dataclass
class Result:
    threshold: float
    recall: float
    fpr: float
    positives: int
    negatives: int
    by_variant: dict[str, tuple[int, int]]
    misses: list[tuple[str, str, str]]
    false_positives: list[tuple[str, str, float]]


def _latin(name: str) -> bool:
    return all(ord(c) < 0x2E80 for c in name)


def _typo(rng: random.Random, name: str) -> str:
    positions = [i for i, c in enumerate(name) if c.isalpha()]
    i = rng.choice(positions)
    op = rng.choice(["sub", "del", "ins", "swap"])
    letters = "aeiouknmsrtlgh"
    if op == "sub":
        return name[:i] + rng.choice([c for c in letters if c != name[i].lower()]) + name[i + 1:]
    if op == "del":
        return name[:i] + name[i + 1:]
    if op == "ins":
        return name[:i] + rng.choice(letters) + name[i:]
    j = i + 1 if i + 1 < len(name) and name[i + 1].isalpha() else i - 1
    a, b = sorted((i, j))
    return name[:a] + name[b] + name[a] + name[b + 1:]


def _swap_token(rng: random.Random, tok: str) -> str:
    low = tok.lower().replace("'", "").replace("’", "")
    if low in _SWAP_TOKENS:
        return rng.choice(_SWAP_TOKENS[low])
    for a, b in _RR_RULES:
        if low.startswith(a) and len(low) > 2:
            return (b + low[len(a):]).capitalize()
    return tok


def variants_for(rng: random.Random, entry: ListedEntry, name: str) -> list[tuple[str, str]]:
    """``(variant kind, text)`` pairs for one listed name."""
    out: list[tuple[str, str]] = []
    words = name.replace("-", " ").split()
    if entry.kind == "individual" and len(words) >= 2:
        surname, given = words[0], words[1:]
        out.append(("romanisation", " ".join(_swap_token(rng, w) for w in words)))
        out.append(("word order", " ".join([*given, surname]).title()))
        if len(given) >= 2:
            out.append(("hyphenation", f"{surname} {'-'.join(given)}".title()))
            out.append(("spacing", f"{surname} {''.join(given)}".title()))
        out.append(("typo", _typo(rng, name)))
    elif entry.kind == "entity":
        low = [w.lower().strip(".,") for w in words]
        if any(w in _FORMS for w in low):
            new = []
            for w, lw in zip(words, low, strict=True):
                new.append(rng.choice(_FORMS[lw]) if lw in _FORMS else w)
            out.append(("company form", " ".join(x for x in new if x)))
        swapped = " ".join(_swap_token(rng, w) if w.lower() in _SWAP_TOKENS else w for w in words)
        if swapped != name:
            out.append(("romanisation", swapped))
        out.append(("typo", _typo(rng, name)))
        out.append(("case and punctuation", name.lower().replace(",", "").replace(".", "")))
    return out


def positives(edition: ListEdition) -> list[tuple[str, str, str]]:
    """``(variant kind, text, reference number)`` for the DPRK entries."""
    rng = random.Random(SEED)
    out = []
    for entry in edition.filter(regime="DPRK"):
        for name, _quality in entry.all_names():
            if not _latin(name) or len(name.replace(" ", "")) < 4:
                continue
            for kind, text in variants_for(rng, entry, name):
                out.append((kind, text, entry.reference_number))
    return out


_SURNAMES = ["Kim", "Ri", "Pak", "Choe", "Jong", "Kang", "Jo", "Yun", "Jang", "Han", "O", "So", "Sin", "Kwon",
             "Hwang", "An", "Song", "Ryu", "Hong", "Jon", "Ko", "Mun", "Yang", "Son", "Pae", "Paek", "Ho",
             "Nam", "Sim", "No", "Ha", "Kwak", "Chae", "Yu", "Ju", "Min", "Ku", "Jin", "Om", "Won"]
_GIVEN = ["Chol", "Yong", "Song", "Myong", "Kwang", "Il", "Su", "Nam", "Ho", "Hyok", "Jin", "Kyong", "Ok",
          "Sun", "Hui", "Chun", "Gil", "Ung", "Man", "Sik", "Hak", "Guk", "Min", "Hyon", "Dok", "Bok",
          "Chang", "Hwa", "Ryong", "Mi", "Hye", "Jong", "Un", "Sok", "Gyu", "Tae", "Hun", "Bom", "Se", "Won"]
_RU_FIRST = ["Ivan", "Sergei", "Dmitry", "Alexei", "Nikolai", "Mikhail", "Andrei", "Pavel", "Oleg", "Yuri",
             "Vladimir", "Igor", "Anna", "Olga", "Tatiana", "Elena", "Natalia", "Irina", "Svetlana", "Maria"]
_RU_LAST = ["Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Popov", "Sokolov", "Lebedev", "Kozlov", "Novikov",
            "Morozov", "Volkov", "Solovyov", "Vasiliev", "Zaitsev", "Pavlov", "Semenov", "Golubev",
            "Vinogradov", "Bogdanov", "Vorobyov", "Fedorov", "Mikhailov", "Belyaev", "Tarasov", "Belov"]
_KO_CO = ["Pyongyang", "Sonbong", "Haegumgang", "Ryugyong", "Chollima", "Taedonggang", "Kumgang", "Manpo",
          "Sinuiju", "Rason", "Wonsan", "Hamhung", "Chongjin", "Nampo", "Kaesong", "Paektusan", "Unha",
          "Samil", "Osong", "Mirae", "Saebyol", "Haebit", "Ryongnamsan", "Songchon", "Kwangmyong"]
_KO_KIND = ["Trading Corporation", "Shipping Co Ltd", "General Trading Company", "Bank", "Import Export Co",
            "Fisheries Company", "Textile Factory", "Technology Trading Corp", "Credit Bank", "Marine Co"]
_RU_CO = ["Vostok", "Sibir", "Baltika", "Severstal", "Dalnevostochny", "Primorye", "Amur", "Uralmash",
          "Volga", "Sever", "Yug", "Zapad", "Kamchatka", "Sakhalin", "Neva", "Arktika", "Tayga", "Khabarovsk"]
_RU_KIND = ["OOO Trading", "Shipping LLC", "JSC Logistics", "Fishing Company", "Bank JSC", "Import LLC",
            "Marine Services LLC", "Timber Export OOO"]


def negatives(edition: ListEdition) -> list[tuple[str, str]]:
    """``(group, name)`` non-listed names shaped like the listed ones (each checked not to be listed)."""
    rng = random.Random(SEED + 1)
    listed_person: set[tuple[str, ...]] = set()
    listed_entity: set[tuple[str, ...]] = set()
    for entry in edition:
        for name, _q in entry.all_names():
            listed_person.add(tuple(sorted(matching.normalise(name, kind="individual").tokens)))
            listed_entity.add(tuple(sorted(matching.normalise(name, kind="entity").tokens)))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(group: str, name: str, kind: str) -> None:
        key = tuple(sorted(matching.normalise(name, kind=kind).tokens))  # type: ignore[arg-type]
        if name in seen or key in (listed_person if kind == "individual" else listed_entity):
            return
        seen.add(name)
        out.append((group, name))

    while sum(1 for g, _ in out if g == "Korean person") < 600:
        add("Korean person", f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)} {rng.choice(_GIVEN)}", "individual")
    while sum(1 for g, _ in out if g == "Russian person") < 150:
        add("Russian person", f"{rng.choice(_RU_FIRST)} {rng.choice(_RU_LAST)}", "individual")
    while sum(1 for g, _ in out if g == "Korean company") < 150:
        add("Korean company", f"{rng.choice(_KO_CO)} {rng.choice(_KO_KIND)}", "entity")
    while sum(1 for g, _ in out if g == "Russian company") < 100:
        add("Russian company", f"{rng.choice(_RU_CO)} {rng.choice(_RU_KIND)}", "entity")
    return out


def measure(edition: ListEdition, thresholds: tuple[float, ...] = THRESHOLDS) -> list[Result]:
    """Recall and false-positive rate at each threshold (one screening pass at the lowest)."""
    index = matching.index_for(edition)
    low = min(thresholds)
    pos = positives(edition)
    neg = negatives(edition)
    pos_scores = []
    for kind, text, ref in pos:
        ms = index.screen(text, threshold=low, limit=None)
        pos_scores.append(next((m.score for m in ms if m.reference_number == ref), -1.0))
    neg_best = []
    for group, text in neg:
        ms = index.screen(text, threshold=low, limit=1)
        neg_best.append((ms[0].score, ms[0].reference_number, ms[0].matched_name) if ms else (-1.0, "", ""))
    results = []
    for t in thresholds:
        by_variant: dict[str, tuple[int, int]] = {}
        for (kind, _text, _ref), s in zip(pos, pos_scores, strict=True):
            hit, total = by_variant.get(kind, (0, 0))
            by_variant[kind] = (hit + (s >= t), total + 1)
        found = sum(1 for s in pos_scores if s >= t)
        fps = [(name, f"{ref} {mname}", s) for (group, name), (s, ref, mname) in zip(neg, neg_best, strict=True)
               if s >= t]
        misses = [(kind, text, ref) for (kind, text, ref), s in zip(pos, pos_scores, strict=True) if s < t]
        results.append(Result(t, found / len(pos), len(fps) / len(neg), len(pos), len(neg), by_variant, misses, fps))
    return results


def timing(edition: ListEdition, repeat: int = 3) -> float:
    """Median CPU milliseconds per name over a mixed batch (index already built)."""
    index = matching.index_for(edition)
    names = [t for _k, t, _r in positives(edition)] + [n for _g, n in negatives(edition)]
    runs = []
    for _ in range(repeat):
        start = time.process_time()  # CPU time: stable when other processes share the machine
        for n in names:
            index.screen(n)
        runs.append((time.process_time() - start) / len(names) * 1000)
    return statistics.median(runs)


def render(edition: ListEdition, results: list[Result], chosen: float, ms: float, build_s: float) -> str:
    r = next(x for x in results if x.threshold == chosen)
    neg_groups = Counter(g for g, _ in negatives(edition))
    lines = [
        "# Name-screening quality",
        "",
        "Generated by `python bench/screening_quality.py`; do not edit by hand.",
        "",
        f"- List: `{Path(edition.source).name}` (generated {edition.generated_date}, sha256 "
        f"`{edition.sha256[:16]}`), {len(edition)} entries; screening always runs against the whole list.",
        f"- Positives: {r.positives} generated variants of the Latin-script names and aliases of the "
        f"{len(edition.filter(regime='DPRK'))} DPRK entries.",
        f"- Negatives: {r.negatives} non-listed names ("
        + ", ".join(f"{n} {g}" for g, n in sorted(neg_groups.items())) + "), each checked not to be listed.",
        "- Name only: no date of birth, country or kind was given, so no evidence points moved the scores.",
        "",
        f"## Chosen threshold: {chosen:g}",
        "",
        f"Recall **{r.recall:.3f}**, false-positive rate **{r.fpr:.3f}**.",
        "",
        "| threshold | recall | false-positive rate |",
        "|---:|---:|---:|",
    ]
    for x in results:
        mark = " (default)" if x.threshold == chosen else ""
        lines.append(f"| {x.threshold:g}{mark} | {x.recall:.3f} | {x.fpr:.3f} |")
    lines += ["", f"### Recall by kind of variant at {chosen:g}", "", "| variant | found | total | recall |",
              "|---|---:|---:|---:|"]
    for kind, (hit, total) in sorted(r.by_variant.items()):
        lines.append(f"| {kind} | {hit} | {total} | {hit / total:.3f} |")
    lines += ["", f"### Missed variants at {chosen:g} (first 25)", ""]
    lines += [f"- {kind}: `{text}` (for {ref})" for kind, text, ref in r.misses[:25]] or ["- none"]
    lines += ["", f"### False positives at {chosen:g} (first 25)", ""]
    lines += [f"- `{name}` matched {what} at {s:.1f}" for name, what, s in r.false_positives[:25]] or ["- none"]
    lines += [
        "",
        "## Speed",
        "",
        f"- Index build for the whole list: {build_s * 1000:.0f} ms (once per edition).",
        f"- Screening: **{ms:.3f} ms CPU time per name** (median of 3 passes over all positives and "
        "negatives, one thread, default threshold).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST)
    parser.add_argument("--threshold", type=float, default=matching.DEFAULT_THRESHOLD)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    edition = lists.load(args.list)
    start = time.perf_counter()
    matching.ScreeningIndex(edition)
    build_s = time.perf_counter() - start
    thresholds = tuple(sorted(set(THRESHOLDS) | {args.threshold}))
    results = measure(edition, thresholds)
    ms = timing(edition)
    text = render(edition, results, args.threshold, ms, build_s)
    if not args.no_write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
