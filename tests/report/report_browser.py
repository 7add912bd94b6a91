"""Headless Chromium for the report tests: Debian's ``chromium`` and ``chromium-driver`` driven by Selenium.

``scripts/ensure-system-deps`` installs both (``make test`` runs it). Without them the browser tests skip with
the reason, except in CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)


def _which(names: tuple[str, ...]) -> str | None:
    for n in names:
        found = shutil.which(n) or (f"/usr/bin/{n}" if os.path.exists(f"/usr/bin/{n}") else None)
        if found:
            return found
    return None


def missing() -> str | None:
    """Why no browser can be driven here, or None when one can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    if _which(CHROMIUM) is None:
        return "no chromium binary (make test installs Debian's chromium: scripts/ensure-system-deps)"
    if _which(DRIVER) is None:
        return "no chromedriver (make test installs Debian's chromium-driver: scripts/ensure-system-deps)"
    return None


WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.effectiveDirective + " " + e.blockedURI + " " + (e.sample || ""));
}, true);
"""
"""Records every Content-Security-Policy violation of a page into ``window.__cspViolations``. DevTools runs it
as each document is created, before the page's own markup, and outside the page's policy."""


def start(width: int = 1200, height: int = 900) -> Any:
    """A headless Chromium with browser and performance (network) logs, or a skip (a failure in CI).

    Every page it opens records its CSP violations (:func:`csp_violations`)."""
    reason = missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(f"no browser: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = _which(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=_which(DRIVER)), options=opts)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
    return driver


def requests(driver: Any) -> list[str]:
    """The URLs the page asked for since the last call (from the DevTools network events)."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            out.append(msg["params"]["request"]["url"])
    return out


def console_problems(driver: Any) -> list[str]:
    """Console messages at warning level or above (errors, CSP violations, failed loads)."""
    return [f"{e['level']}: {e['message']}" for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def csp_violations(driver: Any) -> list[str] | None:
    """The open page's CSP violations so far ("directive blocked-uri sample" each); None if nothing recorded
    them (the page was not opened by :func:`start`'s driver), so an assertion of ``== []`` cannot pass idly."""
    return driver.execute_script("return window.__cspViolations === undefined ? null : window.__cspViolations")


def open_file(driver: Any, path: Path) -> str:
    url = path.resolve().as_uri()
    driver.get(url)
    return url
