"""Reading transfers and deals from files: JSON, JSON arrays and JSON Lines, with errors that name the place.

:func:`read_records` yields, for every record in a file, either the parsed :class:`~sanctions.model.Transfer` /
:class:`~sanctions.model.Deal` or the :class:`~sanctions.exc.InvalidInput` that explains why it could not be
read (file, line, field, value). A bad record never stops the records after it, and nothing is dropped
without a word: every record read is yielded once, good or bad.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sanctions.exc import InvalidInput, InvalidTransfer
from sanctions.model.records import Deal, Transfer, parse_input

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""A single record larger than this is refused (64 MiB)."""
MAX_DEPTH = 64
"""JSON nested deeper than this is refused: no real transfer is that deep."""


@dataclass(frozen=True)
class Record:
    """One record of an input file: where it was, and what it became."""

    source: str
    line: int | None
    value: Transfer | Deal | None
    error: InvalidInput | None


def _depth(text: str) -> int:
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(text: str, *, source: str, line: int | None = None) -> Any:
    """Parse JSON text, turning every failure into an :class:`InvalidInput` that names the place."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RECORD_BYTES:
        raise InvalidInput(f"record is larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB", source=source, record=line)
    if _depth(text) > MAX_DEPTH:
        raise InvalidInput(f"JSON is nested more than {MAX_DEPTH} levels deep", source=source, record=line)
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=no_duplicate_keys)
    except DuplicateKey as err:
        where = line if line is not None else _duplicate_line(text, err.key)
        raise InvalidInput(f"key {err.key!r} appears twice in one object; a repeated key is ambiguous, so it is "
                           "refused rather than one of its values silently kept",
                           source=source, record=where) from None
    except json.JSONDecodeError as err:
        where = err.lineno if line is None else line
        raise InvalidInput(f"not valid JSON: {err.msg} at column {err.colno}", source=source, record=where) from None
    except ValueError as err:
        raise InvalidInput(f"not valid JSON: {err}", source=source, record=line) from None
    except RecursionError:
        raise InvalidInput("JSON is nested too deeply", source=source, record=line) from None


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads`` that raises :class:`DuplicateKey` for a key given twice."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(k)
            seen.add(k)
    return obj


def _duplicate_line(text: str, key: str) -> int | None:
    """The line of the first repeated ``key`` in one object (only run once a duplicate is known to exist)."""
    stack: list[set[str] | None] = []  # a set of keys per open object, None per open array
    expect_key = False
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if expect_key and stack and stack[-1] is not None:
                try:
                    name = json.loads(text[i:j + 1])
                except ValueError:
                    name = None
                if name == key and name in stack[-1]:
                    return line
                stack[-1].add(name)
                expect_key = False
            line += text.count("\n", i, j)
            i = j
        elif ch == "{":
            stack.append(set())
            expect_key = True
        elif ch == "[":
            stack.append(None)
        elif ch in "]}":
            if stack:
                stack.pop()
        elif ch == "," and stack and stack[-1] is not None:
            expect_key = True
        i += 1
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InvalidInput(f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}", source=source,
                           record=line) from None


def _parse(obj: Any, source: str, line: int | None) -> Record:
    try:
        return Record(source, line, parse_input(obj, source=source, record=line), None)
    except InvalidTransfer as err:
        return Record(source, line, None, err)


def read_records(path: str | Path | None = None, *, stream: IO[bytes] | None = None,
                 source: str | None = None) -> Iterator[Record]:
    """Every record in a JSON file (an object or an array of objects) or a JSON Lines file.

    Args:
        path: The file; ``None`` or ``"-"`` with ``stream`` for standard input.
        stream: A binary stream to read instead of a file.
        source: The name to use in error messages.
    """
    name = source or (str(path) if path not in (None, "-") else "<stdin>")
    try:
        if stream is not None:
            data = stream.read()
        else:
            data = Path(path).read_bytes()  # type: ignore[arg-type]
    except OSError as err:
        yield Record(name, None, None, InvalidInput(f"cannot read: {err.strerror}", source=name))
        return
    try:
        text = _decode(data, name)
    except InvalidInput as err:
        yield Record(name, None, None, err)
        return
    if not text.strip():
        yield Record(name, None, None, InvalidInput("file is empty: expected a transfer, a deal, or JSON Lines",
                                                    source=name))
        return
    stripped = text.lstrip()
    jsonl = str(path).endswith((".jsonl", ".ndjson")) or (
        not stripped.startswith("[") and _looks_like_lines(text))
    if jsonl:
        yield from _lines(text, name)
        return
    try:
        obj = loads(text, source=name)
    except InvalidInput as err:
        yield Record(name, None, None, err)
        return
    if isinstance(obj, list):
        if not obj:
            yield Record(name, None, None, InvalidInput("the array is empty", source=name))
        for i, entry in enumerate(obj):
            rec = _parse(entry, f"{name}[{i}]", None)
            yield rec
        return
    yield _parse(obj, name, None)


def _looks_like_lines(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
        return True
    except ValueError:
        return False


def _lines(text: str, name: str) -> Iterator[Record]:
    seen = False
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        seen = True
        try:
            obj = loads(line, source=name, line=n)
        except InvalidInput as err:
            yield Record(name, n, None, err)
            continue
        yield _parse(obj, name, n)
    if not seen:
        yield Record(name, None, None, InvalidInput("file has no records", source=name))
