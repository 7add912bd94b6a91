"""Names of every regime: Arabic, Persian, Somali and Russian spellings as data, the Arabic article, company
forms such as Joint Venture, country qualifiers such as "of the DPRK", and the common-given-names evidence."""

from __future__ import annotations

import pytest

from sanctions.screening import matching
from sanctions.screening.names import normalise


@pytest.mark.parametrize(("a", "b"), [
    ("Mohammed Abdullahi Hassan", "Maxamed Cabdullahi Xasan"),          # Somali orthography
    ("Muhammad Abdullah Hasan", "Mohamed Abdallah Hassan"),
    ("Abdul Rahman al-Husseini", "Abd al-Rahman el Husseini"),          # abdul / abd al, al- / el-
    ("Abdelrahman Hussein", "Abdurrahman Husayn"),
    ("Yousef ibn Omar", "Yusuf bin Umar"),
    ("Abou Bakr", "Abu Bakr"),
    ("Hossein Mousavi", "Husayn Mousavi"),                               # Persian / Arabic
    ("Sergey Yevgenyevich Ivanov", "Sergei Yevgenyevich Ivanov"),      # Russian romanisations
])
def test_spellings_of_one_name_normalise_alike(a, b):
    assert normalise(a, kind="individual").tokens == normalise(b, kind="individual").tokens


def test_the_article_is_dropped_but_a_name_is_never_emptied():
    assert normalise("AL-SHABAAB", kind="entity").text == normalise("Shabaab", kind="entity").text
    assert "dropped the article: al" in normalise("Al Qaida", kind="entity").steps
    assert normalise("Al", kind="individual").tokens == ("al",)


def test_joint_venture_and_country_qualifiers_are_removed_from_company_names():
    jv = normalise("Korea Daesong Joint Venture Company", kind="entity")
    assert jv.tokens == normalise("KOREA DAESONG JV CO", kind="entity").tokens
    assert any("joint venture" in s for s in jv.steps)
    q = normalise("Korea Mining Development Trading Corp. of the DPRK", kind="entity")
    assert q.tokens == normalise("KOREA MINING DEVELOPMENT TRADING CORPORATION", kind="entity").tokens
    assert any("country qualifier: of the dprk" in s for s in q.steps)
    # "of Iran" is part of official names and stays
    assert "iran" in normalise("Central Bank of Iran", kind="entity").raw_tokens


def test_common_given_names_alone_are_not_a_match():
    norm_q = normalise("Ibrahim al-Ansari", kind="individual")
    norm_l = normalise("Ibrahim al-'Asiri", kind="individual")
    (ev,) = matching._common_names_only(norm_q, norm_l)
    assert ev.feature == "common_names_only" and ev.effect < 0 and "ibrahim" in ev.note
    same = normalise("Ibrahim al-Asiiri", kind="individual")  # a typo of the same name keeps its score
    assert matching._common_names_only(same, norm_l) == []
