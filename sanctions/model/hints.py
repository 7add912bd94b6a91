"""Hints for the mistakes users make most: dates in local formats, units by another name, near-miss names.

Each function returns a short sentence fragment (``use YYYY-MM-DD ...``, ``did you mean 'tonnes'?``) or ``""``
when it has nothing useful to say.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_LOCAL_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_YEAR_FIRST = re.compile(r"^\s*(\d{4})[/.](\d{1,2})[/.](\d{1,2})\s*$")

SYNONYMS = {
    "tons": "tonnes", "ton": "tonnes", "t": "tonnes", "mt": "tonnes", "metric_tons": "tonnes", "metric tons": "tonnes",
    "tonne": "tonnes", "kg": "kilograms", "kgs": "kilograms", "kilogram": "kilograms", "l": "litres",
    "liters": "litres", "liter": "litres", "litre": "litres", "m3": "cubic_metres", "cubic_meters": "cubic_metres",
    "bbl": "barrels", "barrel": "barrels", "bbls": "barrels", "pcs": "units", "pieces": "units", "unit": "units",
    "dollars": "usd", "$": "usd",
}
"""Other names users give for a value of ours (units mostly), mapped to our name."""


def date_hint(text: object) -> str:
    """A hint for a date given as ``01/02/2024`` or ``2024/02/01``: the format we take, and what it could mean."""
    if not isinstance(text, str):
        return ""
    m = _LOCAL_DATE.match(text)
    if m:
        a, b, year = int(m[1]), int(m[2]), m[3]
        options = []
        for month, day in ((b, a), (a, b)):
            if 1 <= month <= 12 and 1 <= day <= 31:
                iso = f"{year}-{month:02d}-{day:02d}"
                if iso not in options:
                    options.append(iso)
        if len(options) == 2:
            return f"use YYYY-MM-DD: {text.strip()!r} is {options[0]!r} or {options[1]!r} depending on the country"
        if options:
            return f"use YYYY-MM-DD, e.g. {options[0]!r}"
        return "use YYYY-MM-DD"
    m = _YEAR_FIRST.match(text)
    if m:
        return f"use YYYY-MM-DD, e.g. '{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}'"
    return ""


def nearest(value: object, allowed: Iterable[str], *, n: int = 3) -> str:
    """``did you mean 'tonnes'?`` for a near miss among ``allowed``, using :data:`SYNONYMS` first; ``""`` if none."""
    if not isinstance(value, str):
        return ""
    names = list(allowed)
    key = value.strip().lower()
    synonym = SYNONYMS.get(key) or SYNONYMS.get(key.replace(" ", "_"))
    if synonym in names:
        return f"did you mean {synonym!r}?"
    norm = key.replace(" ", "_").replace("-", "_")
    if norm in names and norm != value:
        return f"did you mean {norm!r}?"
    close = difflib.get_close_matches(norm, names, n=n, cutoff=0.6)
    if not close:  # a word inside a long name: 'tanks' -> 'unroca_i_battle_tanks'
        close = [name for name in names if len(norm) >= 4 and norm in name][:n]
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


def parse_expected(expected: str) -> list[str]:
    """The names in pydantic's ``expected`` context of an enum error: ``"'a', 'b' or 'c'"`` -> ``[a, b, c]``."""
    return re.findall(r"'([^']*)'", expected)
