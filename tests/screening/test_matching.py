"""Name screening: normalisation, romanisation table, scores and explanations."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest
import yaml

from sanctions.screening import lists
from sanctions.screening import matching
from sanctions.exc import InvalidInput, ListError
from sanctions.screening.matching import normalise, screen, screen_many
from sanctions.screening.unlist import ListEdition, read
from support import SHARED as SHARED_ROOT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "lists" / "un_list_sample.xml"
REAL = (SHARED_ROOT / "data/un_sc_consolidated_2026-05-08.xml")
needs_real = pytest.mark.skipif(not REAL.exists(), reason="real UN list file not available")


@pytest.fixture(scope="module")
def sample() -> ListEdition:
    return read(SAMPLE)


@pytest.fixture(scope="module")
def real() -> ListEdition:
    return read(REAL)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Pak Chol-Su", "PARK CHOLSU"),
        ("Pak Chol-Su", "Bak Chol Su"),
        ("Ri Su Yong", "Rhee Su-yong"),
        ("Ri Su Yong", "Lee Su Yong"),
        ("Ri Su Yong", "Yi Su Young"),
        ("Choe Sok Min", "Ch’oe So’k-min"),
        ("Choe Sok Min", "Choi Seok Min"),
        ("Jo Yong Chol", "Cho Yong Cheol"),
        ("Jong Song", "Jeong Seong"),
        ("Jang Song", "Chang Song"),
        ("Ryu Jin", "Yoo Jin"),
        ("Kang Ryong", "Gang Ryong"),
        ("O Kil", "Oh Kil"),
        ("Ko Chol", "Koh Chol"),
        ("Son Min", "Sohn Min"),
        ("Sin Song", "Shin Song"),
        ("Yun Ho Jin", "Yoon Ho-jin"),
        ("Im Chol", "Lim Chol"),
        ("Kim Tong Myong", "Gim Dong-Myeong"),
        ("Chŏng Ŭn", "Chong Un"),
    ],
)
def test_romanisation_variants_normalise_alike(a: str, b: str) -> None:
    assert normalise(a).tokens == normalise(b).tokens


def test_normalisation_steps_are_recorded() -> None:
    n = normalise("  Ch’oe   Chol-Su ", kind="individual")
    assert n.tokens == ("choe", "chol", "su")
    assert "removed quotes and apostrophes" in n.steps and "split hyphenated words" in n.steps
    park = normalise("Mr. Park Cholsu", kind="individual")
    assert park.tokens == ("pak", "chol", "su")
    assert any(s.original == "park" and s.canonical == "pak" and s.rule == "table" for s in park.substitutions)
    assert any(s.original == "cholsu" and s.canonical == "chol su" and "split" in s.rule for s in park.substitutions)
    assert park.removed_words == ("mr",)


def test_company_forms_removed_only_for_entities() -> None:
    n = normalise("KOREA DAESONG GENERAL TRADING CORPORATION", kind="entity")
    assert n.tokens == ("korea", "tae", "song")
    assert n.removed_words == ("general", "trading", "corporation")
    assert normalise("Korea Daesong Trading Co., Ltd.", kind="entity").tokens == n.tokens
    assert normalise("DCB Finance Limtied", kind="entity").removed_words == ("limtied",)  # one typo away
    assert "corporation" in normalise("KOREA DAESONG GENERAL TRADING CORPORATION").text
    # a name made only of form words is kept
    assert normalise("General Trading Company", kind="entity").tokens != ()


def test_ordinary_words_are_not_split() -> None:
    assert normalise("Korea Petrov Maria").tokens == ("korea", "petrov", "maria")


def test_romanisation_table_is_consistent() -> None:
    data = yaml.safe_load(resources.files("sanctions").joinpath("data", "romanisation.yaml").read_text("utf-8"))
    seen: dict[str, str] = {}
    for canonical, spellings in data["tokens"].items():
        # every canonical form is a fixed point of normalisation
        assert normalise(canonical).tokens == (canonical,), canonical
        for s in spellings:
            assert seen.setdefault(s, canonical) == canonical, f"{s} maps to two canonical forms"


def test_screen_sample_individual(sample: ListEdition) -> None:
    (m,) = screen("Park Chol-su", edition=sample)
    assert m.reference_number == "KPi.901" and m.regime == "DPRK" and m.listed_on == date(2017, 8, 5)
    assert m.primary_name == "PAK CHOL-SU" and m.score == 100.0 and m.matched_quality in ("primary", "Good")
    text = m.explain()
    assert "KPi.901" in text and "park -> pak" in text and "listed 2017-08-05" in text
    d = m.to_dict()
    assert d["reference_number"] == "KPi.901" and d["substitutions"]["query"] == ["park -> pak (table)"]


def test_screen_word_order_and_spacing(sample: ListEdition) -> None:
    for q in ("Cholsu Pak", "Chol Su Pak", "PAK CHOLSU", "pak chol su"):
        assert [m.reference_number for m in screen(q, edition=sample)] == ["KPi.901"], q


def test_screen_entity_with_company_forms_and_alias(sample: ListEdition) -> None:
    (m,) = screen("Korea Sample Trading Co., Ltd.", edition=sample)
    assert m.reference_number == "KPe.901" and m.score == 100.0
    assert any("company-form" in s for s in m.query_normalised.steps)
    (fka,) = screen("Choson Sample Corp", edition=sample)
    assert fka.reference_number == "KPe.901" and fka.matched_quality == "f.k.a."
    (orig,) = screen("부강견본은행", edition=sample)
    assert orig.reference_number == "KPe.903" and orig.matched_quality == "original script"


def test_evidence_moves_the_score(sample: ListEdition) -> None:
    base = screen("Pak Chol Su", edition=sample)[0]
    assert base.evidence == ()
    same = screen("Pak Chol Su", edition=sample, birth_date="1970-04-15", country="KP")[0]
    assert {e.feature: e.effect for e in same.evidence} == {"birth_date": 5.0, "country": 3.0}
    assert same.score == 100.0  # capped
    other = screen("Pak Chol Su", edition=sample, birth_date=1990, country="Russia", threshold=0)[0]
    assert {e.feature: e.effect for e in other.evidence} == {"birth_date": -15.0, "country": -10.0}
    assert other.score == 75.0 and other.name_score == 100.0
    assert screen("Pak Chol Su", edition=sample, birth_date=1990, country="Russia") == []
    kind = screen("Pak Chol Su", edition=sample, kind="entity", threshold=0)[0]
    assert kind.evidence[0].feature == "kind" and kind.score == 75.0
    year = screen("Ri Kyong Hun", edition=sample, birth_date=1962)[0]
    assert year.evidence[0].effect == 3.0 and "1961-1963" in year.evidence[0].list_value


def test_low_quality_alias_is_weakened(sample: ListEdition) -> None:
    m = screen("Mr Park", edition=sample, threshold=0)
    low = [x for x in m if x.matched_quality == "Low"]
    assert low and low[0].evidence[-1].feature == "alias_quality" and low[0].evidence[-1].effect == -5.0


def test_no_match_and_bad_input(sample: ListEdition) -> None:
    assert screen("Ivan Petrov", edition=sample) == []
    assert screen("", edition=sample) == [] and screen("!!!", edition=sample) == []
    with pytest.raises(InvalidInput):
        screen("x", edition=sample, threshold=101)
    with pytest.raises(InvalidInput):
        screen("x", edition=sample, kind="vessel")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        screen("x", edition=sample, birth_date="April 1970")


def test_screen_uses_installed_edition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lists.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(ListError, match="no UN list is installed"):
        screen("Pak Chol Su")
    lists.update(from_file=SAMPLE, min_entries=1)
    assert screen("Pak Chol Su")[0].reference_number == "KPi.901"


def test_screen_many_and_index_cache(sample: ListEdition) -> None:
    out = screen_many(["Pak Chol Su", "Nobody Here", "Pak Chol Su"], edition=sample)
    assert list(out) == ["Pak Chol Su", "Nobody Here"]
    assert out["Nobody Here"] == []
    assert matching.index_for(sample) is matching.index_for(sample)


@needs_real
@pytest.mark.parametrize(
    "query, ref",
    [
        ("Kim Young-Cheol", "KPi.024"),
        ("Choi Sok Min", "KPi.064"),
        ("Lee Su-yong", "KPi.052"),
        ("Korea Daesong Trading Co Ltd", "KPe.042"),
        ("Chong Chon Gang Shipping", "KPe.022"),
        ("KOMID", "KPe.001"),
        ("Amnokkang Development Bank", "KPe.009"),
        ("Chang-Su Han", "KPi.055"),
        ("Han Jang-Su", "KPi.055"),
    ],
)
def test_real_list_finds(real: ListEdition, query: str, ref: str) -> None:
    assert ref in [m.reference_number for m in screen(query, edition=real)]


@needs_real
def test_real_list_scores_each_name_against_a_block_not_the_whole_list(real: ListEdition) -> None:
    """What makes screening fast, without a clock (tests never assert on wall-clock time; the time per name is
    measured by ``bench/screening_quality.py``): each query is scored against the few names that share a
    canonical token or a 3-letter prefix with it, not against every name of the list."""
    index = matching.index_for(real)
    for n in ["Kim Young-Cheol", "Korea Daesong Trading Co Ltd", "Ivan Petrov", "Abdul Rahman Khalaf",
              "Pyongyang Shipping Co", "Pak Chol Su"]:
        norms = (normalise(n, kind="individual"), normalise(n, kind="entity"))
        assert len(index._candidates(norms)) < len(index) / 4, n
    assert any(m.entry.reference_number == "KPe.042" for m in index.screen("Korea Daesong Trading Co Ltd"))


def test_item_26_the_surname_ri_is_not_a_one_letter_token(real: ListEdition) -> None:
    """Issue 16 item 26: "Ri" was normalised to "i", which sits inside any name with an i: "Ri Pyong Chol"
    scored 92 against MIN BYONG CHOL (KPi.047). Canonical "ri" keeps Lee/Rhee/Yi together without that."""
    assert normalise("Ri Pyong Chol").tokens == normalise("Lee Pyong-chol").tokens == ("ri", "pyong", "chol")
    refs = {m.entry.reference_number for m in screen("Ri Pyong Chol", edition=real)}
    assert "KPi.076" in refs and "KPi.047" not in refs


def test_item_26_english_words_in_company_names_are_not_romanised() -> None:
    """Issue 16 item 26: "Mining" became "mi ning" and "Maritime" "ma i ti me" in the explanation."""
    for name in ("Korea Mining Development Trading Corporation", "Ocean Maritime Management", "Green Pine"):
        norm = normalise(name, kind="entity")
        assert not any("split" in s.rule for s in norm.substitutions), (name, norm.substitutions)
    korean = normalise("Daedong Credit Bank", kind="entity")  # Korean words are still split and romanised
    assert korean.tokens == normalise("Dae-dong Credit Bank", kind="entity").tokens
    assert any("split" in s.rule for s in korean.substitutions)
