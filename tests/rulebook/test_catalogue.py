"""docs/rulebook.md is generated from the rule files and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from sanctions.rulebook.catalogue import condition_text, markdown
from sanctions.rulebook import load_rulebook
from sanctions.rulebook.spec import AllSpec, AnySpec, CmpSpec, ContainsAnySpec, InSpec, NotSpec, RefSpec

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rulebook.md"
REGENERATE = "python -m sanctions.rulebook.catalogue > docs/rulebook.md"


def test_rulebook_doc_is_in_sync() -> None:
    want = markdown(load_rulebook())
    assert DOC.exists(), f"docs/rulebook.md is missing; generate it with: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == want, (
        f"docs/rulebook.md is out of sync with the rule files; regenerate it with: {REGENERATE}")


def test_markdown_is_deterministic_and_covers_every_rule() -> None:
    rb = load_rulebook()
    text = markdown(rb)
    assert text == markdown(rb)
    for rid in rb.rules:
        assert f"### `{rid}`" in text


def test_conditions_in_words() -> None:
    preds = {"to_dprk": AnySpec(op="any", of=[
        CmpSpec(op="eq", field="transfer.destination_country", value="KP"),
        CmpSpec(op="eq", field="transfer.recipient.country", value="KP")])}
    cond = AllSpec(op="all", of=[
        RefSpec(op="ref", name="to_dprk"),
        ContainsAnySpec(op="contains_any", field="item.categories", values=["coal", "iron_and_iron_ore"]),
        NotSpec(op="not", of=InSpec(op="in", field="transfer.purpose", values=["livelihood"])),
    ])
    assert condition_text(cond, preds) == (
        "`to_dprk` (destination country is KP, or recipient country is KP); and item categories include any of "
        "coal, iron_and_iron_ore; and not (purpose is livelihood)")


def test_unverified_citations_are_marked() -> None:
    text = markdown(load_rulebook())
    assert "**unverified**" in text
    assert "luxury annex (Annex IV or Annex V, disputed)" in text
