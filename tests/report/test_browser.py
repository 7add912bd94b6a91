"""The HTML reports in a real browser: headless Chromium (Debian's package) driven by Selenium.

Each page is opened from a file, as a mail attachment would be; the DevTools network log must show no request
but the page itself, and the console no error. Skipped, saying why, only where no browser can be installed and
CI is not set (report_browser.start)."""

from __future__ import annotations

import pytest
from report_browser import console_problems, csp_violations, open_file, requests, start
from report_samples import IMG, SCRIPT, batch_decisions, diesel_ledger, founding, hostile, shared_engine

from sanctions import parse_transfer
from sanctions.report import render_batch, render_decisions, render_ledger
from sanctions.report._env import strictest

BATCH = 100_000


@pytest.fixture(scope="module")
def driver():
    d = start()
    yield d
    d.quit()


def _open(driver, path):
    url = open_file(driver, path)
    return url


def _clean(driver, url):
    """No request but the page itself, no console error or warning, no Content-Security-Policy violation (the
    page's own script and style run under a policy without 'unsafe-inline')."""
    assert [u for u in requests(driver) if u != url] == []
    assert console_problems(driver) == []
    assert csp_violations(driver) == []


def test_founding_report_renders(driver, tmp_path):
    from selenium.webdriver.common.by import By

    engine, deal, decision = founding()
    page = tmp_path / "founding.html"
    page.write_text(render_decisions(decision, [deal], rulebook=engine.rulebook), encoding="utf-8")
    url = _open(driver, page)
    assert driver.find_element(By.CSS_SELECTOR, ".verdict .badge").text.strip().endswith("Prohibited")
    cards = driver.find_elements(By.CSS_SELECTOR, "article.finding")
    assert len(cards) == len(decision.findings)
    assert [c.get_attribute("data-rule") for c in cards] == [f.rule_id for f in decision.findings]
    assert all(c.is_displayed() and c.size["height"] > 50 for c in cards)
    arrows = driver.find_elements(By.CSS_SELECTOR, "svg.flow-diagram path.leg-arrow")
    assert [a.get_attribute("data-leg") for a in arrows] == [t.id for t in deal.transfers]
    colours = driver.execute_script(
        "var s = getComputedStyle(document.documentElement);"
        "return Object.fromEntries(['prohibited','authorisation_required','review','notification_required','clear']"
        ".map(function (o) { var el = document.createElement('span'); el.className = 'outcome-' + o;"
        "document.body.appendChild(el); var c = getComputedStyle(el).color; el.remove(); return [o, c]; }));")
    for arrow, t in zip(arrows, deal.transfers):
        outcome = strictest(f.outcome for f in decision.findings if f.transfer_id == t.id)
        assert f"outcome-{outcome}" in arrow.get_attribute("class").split()
        assert arrow.value_of_css_property("stroke") == colours[outcome]  # the class really colours it
        assert arrow.size["width"] > 0  # drawn, not merely present
    assert len(driver.find_elements(By.CSS_SELECTOR, "path.link-arrow")) == len(deal.links)
    # what were style= attributes are classes in the hashed style sheet, and still apply
    heading = driver.find_element(By.CSS_SELECTOR, "article.finding .head h4")
    assert heading.value_of_css_property("margin-top") == "0px"
    assert heading.value_of_css_property("font-size") == "16.8px"  # 1.05rem
    assert driver.find_element(By.CSS_SELECTOR, "table.legs caption").value_of_css_property("text-align") == "left"
    assert driver.find_element(By.CSS_SELECTOR, ".legend .link-key").value_of_css_property("color") in (
        "rgba(107, 79, 160, 1)", "rgb(107, 79, 160)")
    # the collapsed section opens from the keyboard: its summary takes focus and Enter opens it
    details = driver.find_element(By.CSS_SELECTOR, "details[id$='-considered']")
    assert details.get_attribute("open") is None
    summary = details.find_element(By.TAG_NAME, "summary")
    driver.execute_script("arguments[0].focus()", summary)
    assert driver.switch_to.active_element == summary
    from selenium.webdriver.common.keys import Keys

    summary.send_keys(Keys.ENTER)
    assert details.get_attribute("open") is not None
    assert len(details.find_elements(By.CSS_SELECTOR, "ul.not-matched li")) == len(decision.not_matched)
    # legs are links a keyboard reaches
    assert driver.execute_script("var a = document.querySelector('a.leg'); a.focus(); return document.activeElement === a")
    _printable(driver)
    _clean(driver, url)


def _printable(driver):
    """Printing opens every collapsed section (and closes them after), the print style sheet applies, and the
    browser makes a PDF of more than one page."""
    import base64

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.print_page_options import PrintOptions

    driver.execute_script("document.querySelectorAll('details').forEach(function (d) { d.open = false; })")
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert all(d.get_attribute("open") is not None for d in driver.find_elements(By.TAG_NAME, "details"))
    driver.execute_script("window.dispatchEvent(new Event('afterprint'))")
    assert all(d.get_attribute("open") is None for d in driver.find_elements(By.TAG_NAME, "details"))
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert driver.execute_script("return getComputedStyle(document.querySelector('.skip')).display") == "none"
        src = driver.execute_script("var a = document.querySelector('a.src');"
                                    "return a && getComputedStyle(a, '::after').content")
        assert src is None or "http" in src  # a printed source link shows its address
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(driver.print_page(PrintOptions()))
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_hostile_text_renders_as_text(driver, tmp_path):
    from selenium.webdriver.common.by import By

    engine = shared_engine()
    t = parse_transfer(hostile())
    page = tmp_path / "hostile.html"
    page.write_text(render_decisions(engine.check(t), [t], rulebook=engine.rulebook), encoding="utf-8")
    url = _open(driver, page)
    assert driver.execute_script("return window.__pwned") is None
    assert driver.find_elements(By.TAG_NAME, "img") == []
    body = driver.find_element(By.TAG_NAME, "body").text
    assert SCRIPT in body and IMG in body
    assert len(driver.find_elements(By.TAG_NAME, "script")) == 1  # the page's own
    _clean(driver, url)


@pytest.fixture(scope="module")
def batch_page(tmp_path_factory):
    page = tmp_path_factory.mktemp("batch") / "batch.html"
    page.write_text(render_batch(batch_decisions(BATCH)), encoding="utf-8")
    return page


def _rows(driver):

    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr')).map(function (tr) {"
        "return Array.from(tr.cells).map(function (td) { return td.textContent; }); });")


def test_batch_report_opens_sorts_and_filters(driver, batch_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url = _open(driver, batch_page)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-ready') === 'true'"))
    status = driver.find_element(By.ID, "status")
    assert status.text == f"{BATCH} of {BATCH} decisions match."
    rows = _rows(driver)
    assert len(rows) == 50 and rows[0][1] == "T000000" and rows[1][1] == "T000001"
    tiles = {t.get_attribute("data-verdict"): int(t.find_element(By.CLASS_NAME, "n").text.replace(",", ""))
             for t in driver.find_elements(By.CSS_SELECTOR, ".tile[data-verdict]")}
    assert sum(tiles.values()) == BATCH and tiles["clear"] == BATCH // 4 and tiles["prohibited"] == BATCH // 2
    # a hostile subject id is data, shown as text, and runs nothing
    assert driver.execute_script("return window.__pwned") is None
    # filter by text
    box = driver.find_element(By.ID, "q")
    box.send_keys("T012345")
    WebDriverWait(driver, 10).until(lambda d: status.text.startswith("1 of"))
    assert [r[1] for r in _rows(driver)] == ["T012345"]
    box.clear()
    box.send_keys("T001999")
    WebDriverWait(driver, 10).until(lambda d: _rows(d)[0][1].startswith("T001999"))
    assert [r[1] for r in _rows(driver)] == [f"T001999</script>{SCRIPT}"] and status.text.startswith("1 of")
    box.clear()
    box.send_keys(" ")  # clear() sends no input event; a space is trimmed away, so this shows every row again
    WebDriverWait(driver, 10).until(lambda d: status.text.startswith(f"{BATCH} of"))
    # filter by verdict, then page
    Select(driver.find_element(By.ID, "verdict")).select_by_value("4")  # clear
    WebDriverWait(driver, 10).until(lambda d: status.text == f"{BATCH // 4} of {BATCH} decisions match.")
    assert {r[3] for r in _rows(driver)} == {"\u2714 Clear"}
    driver.find_element(By.ID, "next").click()
    assert driver.find_element(By.ID, "pageinfo").text == f"Page 2 of {BATCH // 4 // 50}"
    assert _rows(driver)[0][0] == str(4 * 50 + 3)  # line numbers of the 51st clear decision (every 4th from 3)
    # filter by rule, sort by subject, descending, from the keyboard
    Select(driver.find_element(By.ID, "verdict")).select_by_value("")
    Select(driver.find_element(By.ID, "rule")).select_by_value("dprk.petroleum.refined.notification")
    WebDriverWait(driver, 10).until(lambda d: status.text.startswith(f"{BATCH // 2} of"))
    sort = driver.find_element(By.CSS_SELECTOR, "th[data-col='1'] button")
    from selenium.webdriver.common.keys import Keys

    sort.send_keys(Keys.ENTER)
    sort.send_keys(Keys.ENTER)
    assert driver.find_element(By.CSS_SELECTOR, "th[data-col='1']").get_attribute("aria-sort") == "descending"
    first = _rows(driver)[0]
    assert first[1] == "T099999</script>" + SCRIPT and "dprk.petroleum.refined.notification" in first[5]
    _clean(driver, url)


def test_cap_chart_renders(driver, tmp_path):
    from selenium.webdriver.common.by import By

    with diesel_ledger(tmp_path / "l.db") as ledger:
        page = tmp_path / "ledger.html"
        page.write_text(render_ledger(ledger, shared_engine().rulebook), encoding="utf-8")
    url = _open(driver, page)
    (chart,) = driver.find_elements(By.CSS_SELECTOR, "svg.cap-chart")
    assert chart.size["width"] > 500
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.point")) == 12
    assert len(chart.find_elements(By.CSS_SELECTOR, "line.threshold")) == 3
    limit = chart.find_element(By.CSS_SELECTOR, "line.limit")
    last = chart.find_elements(By.CSS_SELECTOR, "circle.point")[-1]
    # 458,000 of 500,000: the last point sits just below the limit line (SVG y grows downwards)
    assert float(last.get_attribute("cy")) > float(limit.get_attribute("y1"))
    assert "Past an alert threshold" in driver.find_element(By.TAG_NAME, "main").text
    _clean(driver, url)


def test_the_policy_refuses_inline_code_the_page_did_not_hash(driver, tmp_path):
    """Were escaping ever to fail, the policy would still hold: a script block, an event handler and a style
    attribute written into a page are refused (and recorded, in the console and by the violation listener the
    other tests rely on), while the page's own hashed script and style sheet keep working."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    engine, deal, decision = founding()
    page = render_decisions(decision, [deal], rulebook=engine.rulebook)
    probe = ('<p id="probe" style="color: rgb(1, 2, 3)" onclick="window.__pwned = 3">probe</p>'
             "<script>window.__pwned = 4</script>")
    path = tmp_path / "tampered.html"
    path.write_text(page.replace('<main id="main">', '<main id="main">' + probe, 1), encoding="utf-8")
    _open(driver, path)
    WebDriverWait(driver, 10).until(lambda d: len(csp_violations(d) or []) >= 2)
    el = driver.find_element(By.ID, "probe")
    el.click()
    WebDriverWait(driver, 10).until(lambda d: len(csp_violations(d)) >= 3)
    assert driver.execute_script("return window.__pwned") is None
    assert el.value_of_css_property("color") not in ("rgba(1, 2, 3, 1)", "rgb(1, 2, 3)")
    directives = {v.split()[0] for v in csp_violations(driver)}
    assert directives == {"script-src-elem", "script-src-attr", "style-src-attr"}, csp_violations(driver)
    assert any("Content Security Policy" in m for m in console_problems(driver))
    # the page's own script still runs (printing opens collapsed sections), its style sheet still applies
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert all(d.get_attribute("open") is not None for d in driver.find_elements(By.TAG_NAME, "details"))
    assert driver.find_element(By.CSS_SELECTOR, ".skip").value_of_css_property("left") == "-9999px"
