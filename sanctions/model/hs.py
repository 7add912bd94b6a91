"""HS classification: which goods category an HS code falls in, as data.

The table lives in ``sanctions/data/hs_classification.csv`` (hand-edited, one row per HS prefix, sorted)
and is read once, on first use. Each row maps an HS chapter (2 digits), heading (4) or subheading (6) to a
:class:`~sanctions.model.Category`, names the resolution paragraphs it serves, and says where the mapping
comes from::

    prefix,category,measures,note,source
    2710,refined_petroleum,2375 OP14; 2397 OP5,"Refined petroleum oils ...",engineering mapping: ...
    271019,refined_petroleum,2397 OP5; 2375 OP14; 2270 OP31,"... kerosene-type jet fuel ...",...

Lookup is by longest matching prefix: a 6-digit row beats a 4-digit row beats a 2-digit row, so
``classify("930690")`` finds ``9306`` (ammunition) before ``93`` (small arms), and national codes longer
than six digits (``2710192100``) match on their first six.

An HS code is a screening hint, not the legal test. The test is the definition in the resolution or the
list (UNROCA categories, the Committee's item lists, "luxury goods"); where the two can diverge the row's
``note`` says so. When an item declares its own category and it disagrees with the one derived here, the
decision says so and rules see both (see :class:`sanctions.model.records.Item`).

Example::

    >>> from sanctions import hs
    >>> hs.classify("2701.12")
    <Category.coal: 'coal'>
    >>> hs.classification("930690").measures
    ('1718 OP8(a)(i)', '1874 OP9', '1874 OP10', '2270 OP6')
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from sanctions.exc import FieldProblem, InvalidInput, InvalidRule
from sanctions.model.vocab import Category, normalise_hs

__all__ = [
    "COLUMNS",
    "TABLE_FILE",
    "HsRow",
    "chapter",
    "classification",
    "classify",
    "heading",
    "markdown_summary",
    "parse_table",
    "rows",
]

TABLE_FILE = "data/hs_classification.csv"
"""Where the table lives, relative to the ``sanctions`` package."""

COLUMNS = ("prefix", "category", "measures", "note", "source")
"""The table's header, in order."""

PREFIX_LENGTHS = (6, 4, 2)
"""Digits in a subheading, a heading and a chapter: the prefix lengths a row may have, longest first."""

TEXT_SOURCE = "resolution text"
"""A ``source`` that starts with this says the resolution itself names the HS number."""

_MEASURE = re.compile(r"^\d{4} (OP\d+(\([a-z]\))?(\([ivx]+\))?|Annex [IVX]+)$")
"""One measure: a resolution number and an operative paragraph (``2397 OP7``, ``1718 OP8(a)(iii)``) or an
annex (``2094 Annex IV``)."""

_CATEGORY_VALUES = {c.value: c for c in Category}


@dataclass(frozen=True, slots=True)
class HsRow:
    """One row of the classification table.

    Attributes:
        prefix: HS chapter, heading or subheading, digits only (``"27"``, ``"2710"``, ``"271019"``).
        category: The goods category a code under this prefix falls in, unless a longer row says otherwise.
        measures: Resolution paragraphs the row serves, e.g. ``("2397 OP5", "2270 OP31")``; empty when no UN
            measure names these goods (natural gas).
        note: What the code covers and any caveat, in a sentence or two.
        source: Where the mapping comes from: ``resolution text: ...`` when the resolution names the HS
            number, otherwise ``engineering mapping: ...``.
        line: Line of the CSV file the row was read from (the header is line 1).
    """

    prefix: str
    category: Category
    measures: tuple[str, ...]
    note: str
    source: str
    line: int

    @property
    def level(self) -> str:
        """``"chapter"``, ``"heading"`` or ``"subheading"``, from the prefix's length."""
        return {2: "chapter", 4: "heading", 6: "subheading"}[len(self.prefix)]

    @property
    def from_text(self) -> bool:
        """True when the resolution text itself names this HS number (rather than an engineering mapping)."""
        return self.source.startswith(TEXT_SOURCE)


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------


def parse_table(text: str, *, source: str = "<string>") -> tuple[HsRow, ...]:
    """Parse and check a classification table given as CSV text.

    Checks the header, that each row sits on one line, that every prefix is 2, 4 or 6 ASCII digits, that
    every category is a :class:`~sanctions.model.Category` value, that measures are well formed, that note
    and source are not empty, that no prefix appears twice and that rows are sorted by prefix.

    Args:
        text: The CSV text, header first.
        source: Name of the file, for error messages.

    Returns:
        The rows, in file order.

    Raises:
        InvalidRule: naming the file and the line, e.g. ``hs_classification.csv: line 12: unknown category
            'coals'; did you mean 'coal'?``.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InvalidRule("the table is empty; expected the header " + ",".join(COLUMNS), file=source)
    if tuple(h.strip() for h in header) != COLUMNS:
        raise InvalidRule(f"header is {','.join(header)!r}, expected {','.join(COLUMNS)!r}", file=source,
                          key="line 1")
    out: list[HsRow] = []
    seen: dict[str, int] = {}
    end = reader.line_num
    for cells in reader:
        line, end = end + 1, reader.line_num  # a quoted cell may span lines: name the row's first line
        if not any(c.strip() for c in cells):
            continue
        if line != end:
            raise InvalidRule(f"the row spans lines {line}-{end}; keep each row on one line", file=source,
                              key=f"line {line}")
        row = _parse_row(cells, line=line, source=source)
        if row.prefix in seen:
            raise InvalidRule(f"duplicate prefix {row.prefix!r}, first given on line {seen[row.prefix]}",
                              file=source, key=f"line {line}")
        if out and row.prefix < out[-1].prefix:
            raise InvalidRule(f"rows are not sorted: prefix {row.prefix!r} comes after {out[-1].prefix!r} "
                              f"(line {out[-1].line})", file=source, key=f"line {line}")
        seen[row.prefix] = line
        out.append(row)
    return tuple(out)


def _parse_row(cells: list[str], *, line: int, source: str) -> HsRow:
    where = f"line {line}"
    if len(cells) != len(COLUMNS):
        raise InvalidRule(f"expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), got {len(cells)}",
                          file=source, key=where)
    prefix, category, measures, note, origin = (c.strip() for c in cells)
    if not (prefix.isascii() and prefix.isdigit()):
        raise InvalidRule(f"prefix {prefix!r} is not digits only (write 271019, not 2710.19)", file=source,
                          key=where)
    if len(prefix) not in PREFIX_LENGTHS:
        raise InvalidRule(f"prefix {prefix!r} has {len(prefix)} digits; a prefix is a chapter (2), "
                          "heading (4) or subheading (6)", file=source, key=where)
    found = _CATEGORY_VALUES.get(category)
    if found is None:
        close = difflib.get_close_matches(category, sorted(_CATEGORY_VALUES), n=1, cutoff=0.6)
        raise InvalidRule(f"unknown category {category!r}", file=source, key=where,
                          hint=f"did you mean {close[0]!r}?" if close else "see sanctions.model.Category")
    parts = tuple(m.strip() for m in measures.split(";")) if measures else ()
    for part in parts:
        if not _MEASURE.match(part):
            raise InvalidRule(f"measure {part!r} is not of the form '2397 OP7', '1718 OP8(a)(iii)' or "
                              "'2094 Annex IV'", file=source, key=where)
    if len(set(parts)) != len(parts):
        raise InvalidRule(f"a measure is listed twice in {measures!r}", file=source, key=where)
    if not note:
        raise InvalidRule("note is empty; say what the code covers", file=source, key=where)
    if not origin:
        raise InvalidRule("source is empty; cite the resolution text or say 'engineering mapping'",
                          file=source, key=where)
    return HsRow(prefix=prefix, category=found, measures=parts, note=note, source=origin, line=line)


@cache
def _table() -> tuple[tuple[HsRow, ...], dict[str, HsRow]]:
    text = resources.files("sanctions").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    loaded = parse_table(text, source=f"sanctions/{TABLE_FILE}")
    return loaded, {r.prefix: r for r in loaded}


def rows() -> tuple[HsRow, ...]:
    """Every row of the shipped table, sorted by prefix.

    Raises:
        InvalidRule: if the shipped table is broken (naming the line).
    """
    return _table()[0]


# --------------------------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------------------------


def _digits(hs_code: str) -> str:
    code = normalise_hs(hs_code)
    if not code or not code.isascii() or not code.isdigit():
        raise InvalidInput("not an HS code", problems=[FieldProblem(
            "hs_code", "an HS code has digits only (dots and spaces are allowed between them)", hs_code)])
    if len(code) < 2:
        raise InvalidInput("not an HS code", problems=[FieldProblem(
            "hs_code", "an HS code has at least 2 digits (the chapter)", hs_code)])
    return code


def classification(hs_code: str) -> HsRow | None:
    """The table row that decides an HS code's category: the longest prefix that matches.

    Args:
        hs_code: An HS or national tariff code of 2 or more digits; dots and spaces are ignored
            (``"2710.19"``, ``"2710 19 21"``).

    Returns:
        The matching row, or ``None`` when no row covers the code.

    Raises:
        InvalidInput: when the code is not digits, or has fewer than 2.
    """
    return _classification(hs_code)


@lru_cache(maxsize=1 << 16)
def _classification(hs_code: str) -> HsRow | None:
    # the table is fixed for the process and a trade file repeats few codes: look each one up once
    code = _digits(hs_code)
    by_prefix = _table()[1]
    for length in PREFIX_LENGTHS:
        if len(code) >= length and (row := by_prefix.get(code[:length])) is not None:
            return row
    return None


def classify(hs_code: str) -> Category | None:
    """The goods category of an HS code, by longest matching prefix; ``None`` when no row covers it.

    A screening hint: the legal test is the definition in the resolution or list (see the row's note via
    :func:`classification`).

    Args:
        hs_code: An HS or national tariff code of 2 or more digits; dots and spaces are ignored.

    Raises:
        InvalidInput: when the code is not digits, or has fewer than 2.
    """
    row = classification(hs_code)
    return row.category if row is not None else None


def chapter(code: str) -> str:
    """The HS chapter of a code: its first two digits (``"2710.19"`` -> ``"27"``).

    Raises:
        InvalidInput: when the code is not digits, or has fewer than 2.
    """
    return _digits(code)[:2]


def heading(code: str) -> str | None:
    """The HS heading of a code: its first four digits (``"2710.19"`` -> ``"2710"``); ``None`` for a chapter.

    Raises:
        InvalidInput: when the code is not digits, or has fewer than 2.
    """
    digits = _digits(code)
    return digits[:4] if len(digits) >= 4 else None


# --------------------------------------------------------------------------------------------------------------
# Summary for the docs
# --------------------------------------------------------------------------------------------------------------

_NOT_IN_HS = {"77"}
"""Chapter 77 is reserved in the HS; chapters 76 and 78 are neighbours."""


def _next_chapter(ch: str) -> str:
    n = int(ch) + 1
    while f"{n:02d}" in _NOT_IN_HS:
        n += 1
    return f"{n:02d}"


def _confidence(source: str) -> str:
    """The catalogue's tag for the HS number a ``resolution text`` source cites: [C1]/[C2] or [R].

    Only the first clause counts: later clauses (after ``;``) cite other facts, with their own tags.
    """
    first = source.split(";", 1)[0]
    for tag in ("[C1]", "[C2]"):
        if tag in first:
            return tag
    return "[R]"


def markdown_summary() -> str:
    """A Markdown table summarising the shipped table: HS range -> category -> measures -> basis.

    Consecutive chapter rows with the same category, measures and basis collapse into a range
    (``50-56``); headings and subheadings are listed one by one, as the exceptions they are. ``basis`` says
    whether the resolution names the HS number (with the catalogue's tag: [C2] confirmed, [R] not yet
    checked against the S/RES text) or the row is an engineering mapping. The output is
    embedded in ``docs/hs-classification.md`` and a test checks the two agree; regenerate it with
    ``python -m sanctions.hs``.

    Returns:
        The table, ending with a newline.
    """
    groups: list[list[HsRow]] = []
    for row in rows():
        last = groups[-1][-1] if groups else None
        if (last is not None and row.level == "chapter" and last.level == "chapter"
                and row.prefix == _next_chapter(last.prefix)
                and (row.category, row.measures, row.from_text)
                == (last.category, last.measures, last.from_text)):
            groups[-1].append(row)
        else:
            groups.append([row])
    lines = ["| HS | level | category | measures | basis |", "|---|---|---|---|---|"]
    for group in groups:
        first, last = group[0], group[-1]
        span = first.prefix if first is last else f"{first.prefix}-{last.prefix}"
        measures = ", ".join(first.measures) or "none"
        basis = f"resolution text {_confidence(first.source)}" if first.from_text else "engineering mapping"
        lines.append(f"| {span} | {first.level} | `{first.category.value}` | {measures} | {basis} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_summary(), end="")
