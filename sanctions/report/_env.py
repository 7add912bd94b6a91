"""The one Jinja2 environment every report renders with: autoescape on for everything, undefined names fail.

Every string that reaches a template may come from the input (names, descriptions, notes, ids), so nothing is
marked safe except markup the templates write themselves and :func:`json_script`'s output, which escapes every
character that could end a ``<script>`` block or start markup.
"""

from __future__ import annotations

import json
from functools import lru_cache
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


def render(template: str, **context: Any) -> str:
    """Render one of this package's templates."""
    return environment().get_template(template).render(**context)
