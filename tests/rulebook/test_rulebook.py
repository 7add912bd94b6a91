"""Rule files: the built-in rulebook loads; every kind of broken file is refused naming the file and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sanctions.exc import InvalidRule
from sanctions.rulebook import load_rulebook
from support import TEST_RULE

GOOD_RULE = TEST_RULE


def pack(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def refused(tmp_path: Path, **files: str) -> InvalidRule:
    with pytest.raises(InvalidRule) as info:
        load_rulebook(pack(tmp_path, **files), include_builtin=False)
    return info.value


def test_builtin_rulebook_loads(rulebook):
    assert len(rulebook) >= 19
    assert all(r.spec.legal_basis for r in rulebook.rules.values())
    assert len(rulebook.digest) == 64


def test_good_pack_loads(tmp_path):
    rb = load_rulebook(pack(tmp_path, **{"r.yaml": GOOD_RULE}), include_builtin=False)
    assert list(rb.rules) == ["test.rule"]


def test_bad_yaml(tmp_path):
    err = refused(tmp_path, **{"r.yaml": "id: [unclosed\n"})
    assert "not valid YAML" in str(err) and "r.yaml" in err.file and "line" in err.key


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    # YAML keeps the last value silently: the first outcome would be lost without a word
    twice = GOOD_RULE.replace("outcome: prohibited", "outcome: prohibited\noutcome: review", 1)
    assert twice != GOOD_RULE
    err = refused(tmp_path, **{"r.yaml": twice})
    assert "'outcome' appears twice" in str(err) and "r.yaml" in err.file and "line" in err.key


def test_a_key_given_twice_deeper_down_is_refused(tmp_path):
    twice = GOOD_RULE.replace("{op: eq, ", "{op: eq, op: ne, ", 1)  # in a flow mapping, on one line
    assert "appears twice" in str(refused(tmp_path, **{"r.yaml": twice}))


def test_unknown_operator_with_hint(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("op: eq", "op: equals")})
    assert "unknown operator 'equals'" in str(err)
    assert err.key.startswith("when")


def test_unknown_field_with_hint(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("transfer.destination_country", "transfer.destination")})
    assert "unknown field 'transfer.destination'" in str(err)
    assert "did you mean 'transfer.destination_country'" in str(err)
    assert err.key == "when.field"


def test_unknown_constant(tmp_path):
    text = GOOD_RULE.replace("{op: eq, field: transfer.destination_country, value: KP}",
                             "{op: contains, field: item.categories, value: guns}")
    err = refused(tmp_path, **{"r.yaml": text})
    assert "'guns' is not a value of item.categories" in str(err)


def test_bad_country_constant(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("value: KP", "value: NK")})
    assert "'NK' is not an ISO 3166-1" in str(err)


def test_duplicate_id(tmp_path):
    err = refused(tmp_path, **{"a.yaml": GOOD_RULE, "b.yaml": GOOD_RULE})
    assert "duplicate rule id 'test.rule'" in str(err)


def test_missing_citation(tmp_path):
    text = GOOD_RULE.split("legal_basis:")[0] + "in_force:" + GOOD_RULE.split("in_force:")[1]
    err = refused(tmp_path, **{"r.yaml": text})
    assert err.key == "legal_basis" and "missing" in str(err)


def test_empty_citation_list(tmp_path):
    text = GOOD_RULE.replace(GOOD_RULE[GOOD_RULE.index("legal_basis:"):GOOD_RULE.index("in_force:")],
                             "legal_basis: []\n")
    err = refused(tmp_path, **{"r.yaml": text})
    assert err.key == "legal_basis"


def test_unknown_key(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE + "colour: red\n"})
    assert err.key == "colour" and "unknown key" in str(err)


def test_cyclic_predicate(tmp_path):
    preds = """
    predicates:
      a: {op: ref, name: b}
      b: {op: ref, name: a}
    """
    err = refused(tmp_path, **{"p.yaml": preds, "r.yaml": GOOD_RULE.replace(
        "{op: eq, field: transfer.destination_country, value: KP}", "{op: ref, name: a}")})
    assert "predicate cycle: a -> b -> a" in str(err)


def test_unknown_predicate(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace(
        "{op: eq, field: transfer.destination_country, value: KP}", "{op: ref, name: to_dprk}")})
    assert "unknown predicate 'to_dprk'" in str(err)


def test_unknown_placeholder(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("{transfer.id}", "{transfer.price}")})
    assert "unknown placeholder {transfer.price}" in str(err) and err.key == "explanation"


def test_placeholder_cannot_reach_attributes(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("{transfer.id}", "{transfer.id.__class__}")})
    assert "unknown placeholder" in str(err)


def test_item_field_in_transfer_rule(tmp_path):
    text = GOOD_RULE.replace("outcome: prohibited", "outcome: prohibited\nscope: transfer").replace(
        "{op: eq, field: transfer.destination_country, value: KP}", "{op: eq, field: item.hs_code, value: '27'}")
    err = refused(tmp_path, **{"r.yaml": text})
    assert "cannot test item fields" in str(err)


def test_until_before_from(tmp_path):
    err = refused(tmp_path, **{"r.yaml": GOOD_RULE.replace("{from: 2006-10-14}", "{from: 2006-10-14, until: 2006-01-01}")})
    assert "'until' is before 'from'" in str(err)


def test_not_utf8(tmp_path):
    (tmp_path / "r.yaml").write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(InvalidRule, match="not UTF-8"):
        load_rulebook(tmp_path, include_builtin=False)


def test_yaml_cannot_construct_python_objects(tmp_path):
    err = refused(tmp_path, **{"r.yaml": "!!python/object/apply:os.system ['echo pwned']\n"})
    assert "not valid YAML" in str(err)


def test_pack_cannot_override_builtin_rule(tmp_path, rulebook):
    some_id = next(iter(rulebook.rules))
    with pytest.raises(InvalidRule, match="duplicate rule id"):
        load_rulebook(pack(tmp_path, **{"r.yaml": GOOD_RULE.replace("test.rule", some_id)}))


def test_missing_folder(tmp_path):
    with pytest.raises(InvalidRule, match="not a folder"):
        load_rulebook(tmp_path / "nope", include_builtin=False)


def test_hs_prefix_must_be_digits(tmp_path):
    text = GOOD_RULE.replace("{op: eq, field: transfer.destination_country, value: KP}",
                             "{op: hs_prefix, field: item.hs_code, values: ['27.10']}")
    err = refused(tmp_path, **{"r.yaml": text})
    assert "must be 2 to 10 digits" in str(err)
