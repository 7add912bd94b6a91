"""The one Jinja2 environment every report renders with: autoescape on for everything, undefined names fail.

Every string that reaches a template may come from the input (names, descriptions, notes, ids), so nothing is
marked safe except markup the templates write themselves, :func:`json_script`'s output, which escapes every
character that could end a ``<script>`` block or start markup, and the page's own style sheet and scripts.

Those come from ``static/`` (read once, at import) and are written into the page as inline ``<style>`` and
``<script>`` blocks. The page's Content-Security-Policy allows exactly those blocks, each by the SHA-256 of its
text, and nothing else: no ``'unsafe-inline'``, so a ``style=`` or ``on...=`` attribute, or a script block that
escaping somehow let through, is refused by the browser. The templates therefore carry no ``style=`` and no
event-handler attribute: styling is by class in ``static/report.css``, behaviour by ``addEventListener``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

OUTCOMES = ("prohibited", "authorisation_required", "review", "notification_required", "clear")
"""Outcomes, strictest first."""

WORDS = {"prohibited": "Prohibited", "authorisation_required": "Authorisation required", "review": "Review",
         "notification_required": "Notification required", "clear": "Clear"}
ICONS = {"prohibited": "\u2716", "authorisation_required": "\u26a0", "review": "?",
         "notification_required": "\u2709", "clear": "\u2714"}
"""A symbol per outcome, shown beside the word so the outcome never depends on colour alone."""

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028",
                 0x2029: "\\u2029"}


@dataclass(frozen=True)
class Asset:
    """A style sheet or script written inline into every page that uses it, with its CSP hash source."""

    name: str
    tag: str
    text: str

    @property
    def block(self) -> str:
        """The exact text between the opening and closing tag: the hash is of this, byte for byte."""
        return "\n" + self.text

    @property
    def source(self) -> str:
        """The CSP hash source allowing this block: ``'sha256-<base64 of the SHA-256 of its UTF-8 text>'``."""
        digest = hashlib.sha256(self.block.encode("utf-8")).digest()
        return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"

    def html(self) -> Markup:
        """The inline element: our own file, so marked safe (it is never input)."""
        return Markup(f"<{self.tag}>{self.block}</{self.tag}>")


def _load(name: str) -> Asset:
    text = resources.files("sanctions.report").joinpath("static", name).read_text(encoding="utf-8")
    if f"</{'style' if name.endswith('.css') else 'script'}" in text.lower():
        raise RuntimeError(f"static/{name} would close its own block")  # a broken asset, never input
    return Asset(name, "style" if name.endswith(".css") else "script", text)


ASSETS = {a.name: a for a in map(_load, ("report.css", "print.js", "batch.js"))}
"""Every page's style sheet and scripts, read once at import."""

BASE_ASSETS = ("report.css", "print.js")
"""What every page holds: the style sheet, and the script that opens collapsed sections for printing."""


def policy(names: tuple[str, ...]) -> Markup:
    """The Content-Security-Policy of a page holding the assets ``names`` and nothing else that runs or styles.

    Nothing is fetched (``default-src 'none'``; ``img-src data:`` only); the one style sheet and each script
    are allowed by hash; ``base-uri`` and ``form-action`` (which ``default-src`` does not cover) are shut too.
    """
    styles = " ".join(ASSETS[n].source for n in names if ASSETS[n].tag == "style") or "'none'"
    scripts = " ".join(ASSETS[n].source for n in names if ASSETS[n].tag == "script") or "'none'"
    return Markup(f"default-src 'none'; style-src {styles}; script-src {scripts}; img-src data:; "
                  "base-uri 'none'; form-action 'none'")


def strictest(outcomes: Any) -> str:
    """The strictest of some outcomes; ``clear`` when there are none."""
    ranks = [OUTCOMES.index(o) for o in outcomes if o in OUTCOMES]
    return OUTCOMES[min(ranks)] if ranks else "clear"


def json_script(value: Any) -> Markup:
    """``value`` as JSON safe to put inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` (and
    the two JavaScript line separators) are written as ``\\u`` escapes, so no input can close the block."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Markup(text.translate(_JSON_ESCAPES))


def _words(outcome: str) -> str:
    return WORDS.get(outcome, outcome.replace("_", " ").capitalize())


def _icon(outcome: str) -> str:
    return ICONS.get(outcome, "\u2022")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment: templates from this package, autoescape on for every template."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sanctions.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["words"] = _words
    env.filters["icon"] = _icon
    env.filters["json_script"] = json_script
    env.globals["OUTCOMES"] = OUTCOMES
    from sanctions import __version__

    env.globals["version"] = __version__
    return env


def render(template: str, *, scripts: tuple[str, ...] = (), **context: Any) -> str:
    """Render one of this package's templates.

    Args:
        template: The template's file name.
        scripts: Scripts (names in ``static/``) the page needs besides :data:`BASE_ASSETS`, in page order.
        **context: The template's values.
    """
    names = BASE_ASSETS + tuple(scripts)
    return environment().get_template(template).render(
        csp=policy(names), style=ASSETS["report.css"].html(),
        scripts=[ASSETS[n].html() for n in names if ASSETS[n].tag == "script"], **context)
