"""The HTML reports as text: what each page holds, escaping, and bad batch lines (the browser tests are in
test_browser.py)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from markupsafe import escape
from report_samples import IMG, ROOT, SCRIPT, founding, hostile, shared_engine

from sanctions import parse_transfer
from sanctions.exc import InvalidInput
from sanctions.report import render_batch, render_decisions, render_ledger
from sanctions.report._env import json_script, strictest
from sanctions.report.batch import summarise
from sanctions.report.decision import safe_url
from sanctions.report.flow import layout


@pytest.fixture(scope="module")
def founding_page():
    engine, deal, decision = founding()
    return decision, deal, render_decisions(decision, [deal], rulebook=engine.rulebook)


def test_founding_page_has_a_card_per_finding_and_an_arrow_per_leg(founding_page):
    decision, deal, page = founding_page
    assert page.count("<article class=\"finding ") == len(decision.findings) > 10
    arrows = re.findall(r'<path class="leg-arrow outcome-(\w+)" data-leg="([^"]+)"', page)
    assert [leg for _, leg in arrows] == [t.id for t in deal.transfers]
    worst = {t.id: strictest(f.outcome for f in decision.findings if f.transfer_id == t.id) for t in deal.transfers}
    assert {leg: o for o, leg in arrows} == worst
    assert page.count('class="link-arrow"') == len(deal.links) == 4
    for f in decision.findings:
        assert str(escape(f.explanation)) in page
        for c in f.citations:
            assert f"UNSCR {escape(c.resolution)!s} {escape(c.paragraph)!s}, adopted {c.adopted.isoformat()}" in page
    assert page.count("paragraph not verified</span>") == sum(not c.verified for f in decision.findings
                                                              for c in f.citations)
    # the one rule that matched out of force is named with its reason
    nif = [c for c in decision.considered if c.status == "not_in_force"]
    assert nif and all(c.rule_id in page and str(escape(c.reason)) in page for c in nif)
    assert "<details" in page and "Considered, not applied" in page


def test_each_card_says_why_each_exemption_did_not_apply(founding_page):
    decision, _, page = founding_page
    reasons = {x["reason"] for f in decision.findings for x in f.exemptions_not_applied}
    assert "not met: transfer.notified is True (it is False)" in reasons
    for reason in reasons:  # as the engine recorded it, as a sentence
        assert str(escape(reason[:1].upper() + reason[1:])) in page
    assert "Its conditions are not met by the facts given." not in page  # only for decisions that predate it


def test_pages_load_nothing_from_outside(founding_page):
    _, _, page = founding_page
    assert "<link" not in page and "<img" not in page and "<iframe" not in page
    assert not [s for s in re.findall(r"<script[^>]*>", page) if "src=" in s]
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("#", "https://", "http://")) for h in hrefs), hrefs
    # the only absolute links are the citations' sources, which a reader follows, never fetched on load
    assert all(re.search(rf'<a class="src" href="{re.escape(h)}"', page) for h in hrefs if not h.startswith("#"))
    assert "default-src 'none'" in page


def test_hostile_text_is_escaped():
    engine = shared_engine()
    t = parse_transfer(hostile())
    d = engine.check(t)
    page = render_decisions(d, [t], rulebook=engine.rulebook)
    assert SCRIPT not in page and IMG not in page and "<img" not in page
    assert str(escape(SCRIPT)) in page and str(escape(IMG)) in page
    assert page.count("<script") == 1  # the page's own print helper, nothing from the input


def test_json_script_cannot_close_its_block():
    text = json_script({"id": "</script><script>alert(1)</script>", "x": "a&b\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(str(text)) == {"id": "</script><script>alert(1)</script>", "x": "a&b\u2028"}


@pytest.mark.parametrize(("url", "ok"), [("https://press.un.org/x", True), ("http://un.org", True),
                                         ("javascript:alert(1)", False), (" JAVASCRIPT:x", False),
                                         ("data:text/html,x", False), ("https://a b", False), ("un.org", False)])
def test_only_web_sources_become_links(url, ok):
    assert (safe_url(url) is not None) == ok


def test_layout_one_arrow_per_leg_and_links_between_legs():
    legs = [{"id": "a", "origin": "KP", "destination": "RU", "outcome": "prohibited", "route": [("Rajin", "KP", "loading")]},
            {"id": "b", "origin": "RU", "destination": "KP", "outcome": "clear"},
            {"id": "c", "origin": "CN", "destination": "CN", "outcome": "review"}]
    f = layout(legs, [("b", "a"), ("b", "zz")])
    assert [leg.id for leg in f.legs] == ["a", "b", "c"] and [n.code for n in f.nodes] == ["KP", "RU", "CN"]
    assert [(lk.transfer, lk.consideration_for) for lk in f.links] == [("b", "a")]  # an unknown leg draws nothing
    assert f.legs[0].label_y < f.nodes[0].y < f.legs[1].label_y  # out above the line, back below it
    assert len(f.legs[0].ports) == 1 and all(0 <= leg.mid_x <= f.width and 0 <= leg.mid_y <= f.height for leg in f.legs)


def test_decisions_without_their_input_say_the_diagram_needs_it():
    _, _, decision = founding()
    page = render_decisions([decision, decision])
    assert "render the report with the input" in page and page.count("<article class=\"finding ") == 2 * len(decision.findings)
    assert "not listed: the report was made without the rulebook" in page


def test_batch_summary_counts_and_keeps_bad_lines(tmp_path):
    _, _, decision = founding()
    good = json.loads(decision.model_dump_json())
    clear = dict(good, verdict="clear", findings=[], subject={"type": "transfer", "id": "c1"})
    path = tmp_path / "out.jsonl"
    path.write_text("\n".join([json.dumps(good), json.dumps(clear), "{oops",
                               json.dumps({"line": 4, "error": {"code": "invalid-transfer", "message": "bad date",
                                                                "problems": [{"path": "date", "message": "not a date"}]}}),
                               json.dumps({"something": "else"}), ""]) + "\n", encoding="utf-8")
    page = render_batch(path)
    data = json.loads(re.search(r'<script type="application/json" id="batch-data">(.*?)</script>', page, re.DOTALL)[1])
    assert len(data["rows"]) == 2 and [e[0] for e in data["errors"]] == [3, 4, 5]
    assert data["errors"][1][1] == "invalid-transfer" and "date: not a date" in data["errors"][1][2]
    assert {data["rules"][i] for i in data["rows"][0][5]} == {f.rule_id for f in decision.findings}
    s = summarise(enumerate([good, clear], 1))
    assert dict(s["verdicts"])["prohibited"] == 1 and dict(s["verdicts"])["clear"] == 1
    assert s["top_rules"][0]["count"] == 1 and len(s["top_rules"]) <= 15


@pytest.mark.parametrize("make", ["missing", "folder", "parquet"])
def test_batch_report_of_an_unreadable_file_is_a_clear_error(tmp_path, make):
    target = tmp_path / "x"
    if make == "folder":
        target.mkdir()
    elif make == "parquet":
        target.write_bytes(b"PAR1\x00\x00")
    with pytest.raises(InvalidInput, match={"missing": "no such file", "folder": "folder",
                                             "parquet": "Parquet"}[make]):
        render_batch(target)


def test_ledger_page_charts_each_cap_and_period(tmp_path):
    from report_samples import diesel_ledger

    with diesel_ledger(tmp_path / "l.db") as ledger:
        page = render_ledger(ledger)
        (total,) = ledger.totals()
    assert total.total == Decimal(458000) and page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1
    assert "458,000 of 500,000 barrels used (91.6%)" in page and "Past an alert threshold" in page
    assert page.count('class="threshold"') == 3 and page.count('class="limit"') == 1
    assert page.count('<circle class="point"') == 12
    # the running totals in the table end at the total
    assert re.findall(r"<td>([\d,]+)</td><td>[\d.]+%</td></tr>", page)[-1] == "458,000"


def test_empty_ledger_says_so(tmp_path):
    from sanctions.ledger.backends import open_ledger

    with open_ledger(tmp_path / "e.db") as ledger:
        assert "holds no cap-counted transfers" in render_ledger(ledger)


def _rice(tid: str, **extra):
    return parse_transfer({"id": tid, "date": "2024-03-01", "supplier": {"name": "Tianjin Trading Ltd", "country": "CN"},
                           "recipient": {"name": "Korea Sample Trading Corporation", "country": "KP"},
                           "origin_country": "CN", "destination_country": "KP",
                           "items": [{"description": "Rice", "hs_code": "100630"}], **extra})


def test_screening_hits_and_an_applied_exemption_are_shown():
    from sanctions.screening import lists, matching
    from sanctions.screening import screen as screening

    index = matching.index_for(lists.load(ROOT / "fixtures" / "lists" / "un_list_sample.xml"))
    engine = shared_engine()
    hit = screening.check(engine, _rice("rice-1"), index)
    (f,) = [f for f in hit.findings if f.related.get("listings")]
    listing = f.related["listings"][0]
    page = render_decisions(hit, [_rice("rice-1")], rulebook=engine.rulebook)
    row = re.search(r'<table class="hits">.*?</table>', page, re.DOTALL)[0]
    assert listing["reference_number"] in row and str(escape(listing["primary_name"])) in row
    assert f"{listing['score']:.1f}" in row and "UN list (edition 2026-03-01)" in page
    aid = _rice("rice-2", purpose="humanitarian", supplier={"name": "World Food Programme", "country": "IT",
                                                           "kind": "international_organisation"})
    cleared = screening.check(engine, aid, index)
    (ex,) = [c for c in cleared.considered if c.status == "exempted"]
    page = render_decisions(cleared, [aid], rulebook=engine.rulebook)
    assert "1 exempted" in page and str(escape(ex.exemption["title"])) in page and "No findings." in page


def test_same_decisions_same_page(founding_page):
    decision, deal, page = founding_page
    assert render_decisions(decision, [deal], rulebook=shared_engine().rulebook) == page


def _pages(tmp_path):
    """Every kind of page, hostile input included: (name, page)."""
    from report_samples import batch_decisions, diesel_ledger

    engine, deal, decision = founding()
    t = parse_transfer(hostile())
    yield "founding", render_decisions(decision, [deal], rulebook=engine.rulebook)
    yield "hostile", render_decisions(engine.check(t), [t], rulebook=engine.rulebook, errors=[f"line 2: {IMG}"])
    yield "without input", render_decisions([decision, decision])
    yield "no decisions", render_decisions([], errors=[SCRIPT])
    yield "batch", render_batch(batch_decisions(2000), title=f"Batch {SCRIPT}")
    with diesel_ledger(tmp_path / "l.db") as ledger:
        yield "ledger", render_ledger(ledger, title=IMG)
    yield "empty ledger", render_ledger(tmp_path / "empty.db")


def test_every_page_runs_and_styles_only_what_its_policy_hashes(tmp_path):
    """No 'unsafe-inline' (nor 'unsafe-eval', 'unsafe-hashes'): each inline script and style block is allowed by
    the SHA-256 of its exact text, and no element carries a style= or on...= attribute, hostile input included."""
    from report_csp import directives, policy_problems

    for name, page in _pages(tmp_path):
        assert policy_problems(page) == [], name
        (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
        assert "unsafe" not in policy and "'none'" in directives(policy)["default-src"], name
        assert len(directives(policy)["script-src"]) == (2 if name == "batch" else 1), name


@pytest.mark.parametrize(("change", "words"), [
    (lambda p: p.replace("<h4 id=", '<h4 style="color:red" id=', 1), "<h4> style="),
    (lambda p: p.replace("<summary>", '<summary onclick="x()">', 1), "<summary> onclick="),
    (lambda p: p.replace("</footer>", "</footer><script>alert(1)</script>", 1), "is not in script-src"),
    (lambda p: p.replace("opened = [];", "opened = [] ;", 1), "is not in script-src"),
    (lambda p: p.replace(":root {", ":root  {", 1), "is not in style-src"),
    (lambda p: p.replace("script-src ", "script-src 'unsafe-inline' ", 1), "script-src allows 'unsafe-inline'"),
    (lambda p: p.replace("style-src ", "style-src 'unsafe-hashes' ", 1), "style-src allows 'unsafe-hashes'"),
    (lambda p: p.replace("script-src ", "script-src 'sha256-AAAA' ", 1), "which is no block on the page"),
    (lambda p: p.replace("</title>", '</title><script src="https://x.example/a.js"></script>', 1), "loads from"),
])
def test_the_policy_check_finds_what_a_policy_would_refuse(founding_page, change, words):
    """The check above can fail: each change a browser would refuse (or a policy too wide) is named."""
    from report_csp import policy_problems

    _, _, page = founding_page
    assert policy_problems(page) == []
    assert any(words in p for p in policy_problems(change(page))), policy_problems(change(page))


def test_same_batch_same_page():
    from report_samples import batch_decisions

    first = render_batch(batch_decisions(500))
    assert render_batch(batch_decisions(500)) == first and "sha256-" in first
