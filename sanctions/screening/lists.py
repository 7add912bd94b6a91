"""Sanctions-list management: download, verify, install, load and compare editions.

The library never ships the UN list; the user installs it with :func:`update`, which downloads the
official file (or reads a local copy), parses and checks it, and only then installs it. Installed
editions live in the user data directory::

    <data dir>/                      SANCTIONS_DATA_DIR, else platformdirs.user_data_dir("sanctions")
        un/
            2026-05-08-1f1b3bfe29a5.xml     <generated date>-<sha256[:12]>.xml, the bytes as downloaded
            2026-01-28-c6a354e9d798.xml     the previous edition, kept
            manifest.json                    which file is current and which is previous

Every write is atomic (temporary file in the same directory, then :func:`os.replace`), so a crash
leaves either the old manifest or the new one, never a half-written file. :func:`current` re-hashes the
installed file and refuses it if it no longer matches the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import platformdirs

from sanctions.exc import ListError
from sanctions.screening.unlist import ListEdition, ListedEntry, parse, read

__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MIN_ENTRIES",
    "OFFICIAL_URL",
    "EntryChange",
    "InstalledEdition",
    "ListDiff",
    "current",
    "data_dir",
    "diff",
    "installed",
    "load",
    "previous",
    "update",
]

OFFICIAL_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
"""Where the UN publishes the consolidated list (English XML)."""

DATA_DIR_ENV = "SANCTIONS_DATA_DIR"
"""Environment variable that overrides the data directory."""

DEFAULT_MIN_ENTRIES = 500
"""A full consolidated list has about 1,000 records (1,009 on 2026-05-08). Fewer than this many means a
truncated download or the wrong file, and the update is refused."""

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Download size limit (the 2026 list is about 2.2 MB)."""

DEFAULT_TIMEOUT = 60.0

_SUBDIR = "un"
_MANIFEST = "manifest.json"
_USER_AGENT = "sanctions-list-updater (+https://scsanctions.un.org)"


def data_dir() -> Path:
    """The directory that holds installed lists: ``$SANCTIONS_DATA_DIR`` if set, else the platform's
    user data directory for ``sanctions``. Not created here."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("sanctions"))


def _list_dir(root: Path | None) -> Path:
    return (root if root is not None else data_dir()) / _SUBDIR


@dataclass(frozen=True)
class InstalledEdition:
    """One row of the manifest: an installed file and where it came from."""

    file: str
    generated: str
    sha256: str
    source: str
    installed_at: str
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path) -> InstalledEdition:
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls)})
        except (KeyError, TypeError) as exc:
            raise ListError(f"{where}: manifest entry is damaged ({exc})") from exc


def _atomic_write(path: Path, data: bytes) -> None:
    from sanctions.atomic import atomic_write

    atomic_write(path, data, make_parents=True)


FUTURE_TOLERANCE_DAYS = 2
"""An edition generated more than this many days after today (by the machine's clock) is refused."""


def _parse_generated(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _utc(when: datetime) -> datetime:
    """A timestamp as an aware UTC one (a list's ``dateGenerated`` without a zone is UTC)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _in_the_future(when: datetime) -> bool:
    # compared as a duration: (x).days rounds down, so "more than 2 days" would let nearly 3 through
    return _utc(when) - datetime.now(timezone.utc) > timedelta(days=FUTURE_TOLERANCE_DAYS)


def _read_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / _MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ListError(f"{path}: cannot read manifest ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListError(f"{path}: manifest is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ListError(f"{path}: manifest is not a JSON object")
    return data


def installed(*, root: Path | None = None) -> tuple[InstalledEdition | None, InstalledEdition | None]:
    """``(current, previous)`` manifest rows, without loading the files. Either may be ``None``."""
    directory = _list_dir(root)
    manifest = _read_manifest(directory)
    if manifest is None:
        return None, None
    where = directory / _MANIFEST
    cur = manifest.get("current")
    prev = manifest.get("previous")
    return (
        InstalledEdition.from_dict(cur, where) if cur else None,
        InstalledEdition.from_dict(prev, where) if prev else None,
    )


def _load_installed(row: InstalledEdition | None, directory: Path) -> ListEdition | None:
    if row is None:
        return None
    path = directory / row.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListError(f"{path}: installed list file is missing or unreadable ({exc.strerror or exc}); "
                        "run the list update again") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != row.sha256:
        raise ListError(f"{path}: file does not match its manifest (sha256 {digest[:12]} != "
                        f"{row.sha256[:12]}); it was changed after installation, run the list update again")
    return parse(data, source=str(path))


def current(*, root: Path | None = None) -> ListEdition | None:
    """The installed current edition, re-verified against its manifest hash, or ``None`` if none is
    installed.

    Raises:
        ListError: If the manifest or the file is damaged or does not match.
    """
    directory = _list_dir(root)
    cur, _ = installed(root=root)
    return _load_installed(cur, directory)


def previous(*, root: Path | None = None) -> ListEdition | None:
    """The edition that was current before the last update, or ``None``."""
    directory = _list_dir(root)
    _, prev = installed(root=root)
    return _load_installed(prev, directory)


def load(path: str | Path) -> ListEdition:
    """Read a consolidated-list XML file from anywhere (no installation, no size check).

    Raises:
        ListError: If it cannot be read or parsed.
    """
    return read(path)


def _download(url: str, *, timeout: float, max_bytes: int) -> bytes:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("https", "http"):
        raise ListError(f"{url}: only http(s) URLs can be downloaded; use from_file= for a local file")
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ListError(f"{url}: server announces {int(length):,} bytes, over the {max_bytes:,}-byte limit")
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise ListError(f"{url}: download exceeds the {max_bytes:,}-byte limit")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise ListError(f"{url}: download failed with HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise ListError(f"{url}: download failed ({exc.reason})") from exc
    except (TimeoutError, OSError) as exc:
        raise ListError(f"{url}: download failed ({exc})") from exc
    return b"".join(chunks)


def update(
    url: str = OFFICIAL_URL,
    from_file: str | Path | None = None,
    *,
    min_entries: int = DEFAULT_MIN_ENTRIES,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_older: bool = False,
    root: Path | None = None,
) -> ListEdition:
    """Download (or read) a list edition, verify it, and install it as the current edition.

    Verification happens before anything is replaced: the bytes must parse as a safe
    ``CONSOLIDATED_LIST``, hold at least ``min_entries`` records, and (unless ``allow_older``) not be
    older than the installed edition. Then the file is written as ``<date>-<sha256[:12]>.xml``, and the
    manifest is replaced atomically with the new edition as current and the old current as previous.
    Files of older editions are deleted. Installing the edition that is already current changes nothing.

    Args:
        url: Where to download from (http or https); ignored when ``from_file`` is given.
        from_file: A local copy of the list to install instead of downloading.
        min_entries: Refuse a list with fewer records (a truncated download, or the wrong file).
        timeout: Network timeout in seconds.
        max_bytes: Refuse a download larger than this.
        allow_older: Install even if the new edition was generated before the current one.
        root: Data directory; defaults to :func:`data_dir`.

    Returns:
        The installed edition, with ``source`` set to the path of the installed file.

    Raises:
        ListError: If the download fails, the file is unsafe, malformed, too small or older than the
            current edition, or the data directory cannot be written.
    """
    if from_file is not None:
        src = str(from_file)
        try:
            data = Path(from_file).read_bytes()
        except OSError as exc:
            raise ListError(f"{from_file}: cannot read list file ({exc.strerror or exc})") from exc
        if len(data) > max_bytes:
            raise ListError(f"{from_file}: file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    else:
        src = url
        data = _download(url, timeout=timeout, max_bytes=max_bytes)

    edition = parse(data, source=src)
    if len(edition) < min_entries:
        raise ListError(f"{src}: only {len(edition)} records, fewer than the {min_entries} expected of a full "
                        "consolidated list; refusing to install (truncated download or wrong file?)")
    if edition.generated is None:
        raise ListError(f"{src}: CONSOLIDATED_LIST has no usable dateGenerated; refusing to install")

    if _in_the_future(edition.generated):
        raise ListError(f"{src}: dateGenerated {edition.generated.isoformat()} is in the future; refusing to install "
                        "(a wrong or altered file: an edition from the future would block every real one)")

    directory = _list_dir(root)
    try:
        cur_row, _ = installed(root=root)
    except ListError:
        cur_row = None  # a damaged manifest must not block the update that replaces it
    if cur_row is not None and cur_row.sha256 == edition.sha256:
        try:
            return _load_installed(cur_row, directory) or edition
        except ListError:
            pass  # the installed file was damaged: install it again
    if cur_row is not None and not allow_older:
        cur_generated = _parse_generated(cur_row.generated)
        if (cur_generated is not None and not _in_the_future(cur_generated)
                and _utc(edition.generated) < _utc(cur_generated)):  # one may carry a zone and the other not
            raise ListError(f"{src}: edition generated {edition.generated.isoformat()} is older than the "
                            f"installed one ({cur_row.generated}); to install it anyway use "
                            "'check-transfer lists update --allow-older' (allow_older=True in the library)")

    filename = f"{edition.generated.date().isoformat()}-{edition.sha256[:12]}.xml"
    try:
        _atomic_write(directory / filename, data)
        new_row = InstalledEdition(
            file=filename,
            generated=edition.generated.isoformat(),
            sha256=edition.sha256,
            source=src,
            installed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            entries=len(edition),
        )
        manifest = {
            "format": 1,
            "current": new_row.to_dict(),
            "previous": cur_row.to_dict() if cur_row else None,
        }
        _atomic_write(directory / _MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ListError(f"{directory}: cannot install list ({exc.strerror or exc})") from exc

    keep = {filename, cur_row.file if cur_row else None}
    for stale in directory.glob("*.xml"):
        if stale.name not in keep:
            try:
                stale.unlink()
            except OSError:
                pass  # an old edition left behind is harmless
    return ListEdition(edition.generated, edition.sha256, str(directory / filename), edition.entries)


# --------------------------------------------------------------------------------------------- diff

_DIFF_IGNORED = ("dataid",)


@dataclass(frozen=True)
class EntryChange:
    """One entry present in both editions with different content.

    Attributes:
        reference_number: The entry's reference number.
        old: The entry in the old edition.
        new: The entry in the new edition.
        fields: Names of the :class:`~sanctions.unlist.ListedEntry` fields that differ, in field order.
    """

    reference_number: str
    old: ListedEntry
    new: ListedEntry
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ListDiff:
    """What changed between two editions, each part sorted by reference number."""

    added: tuple[ListedEntry, ...]
    removed: tuple[ListedEntry, ...]
    changed: tuple[EntryChange, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One line, e.g. ``11 added, 1 removed, 3 changed``."""
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [e.reference_number for e in self.added],
            "removed": [e.reference_number for e in self.removed],
            "changed": {c.reference_number: list(c.fields) for c in self.changed},
        }


def diff(old: ListEdition | Iterable[ListedEntry], new: ListEdition | Iterable[ListedEntry]) -> ListDiff:
    """Compare two editions by reference number.

    An entry is *changed* when the same reference number has different content in any field other than
    the list's internal ``dataid``; :attr:`EntryChange.fields` names the fields.
    """
    old_by = {e.reference_number: e for e in old}
    new_by = {e.reference_number: e for e in new}
    added = tuple(new_by[r] for r in sorted(new_by.keys() - old_by.keys()))
    removed = tuple(old_by[r] for r in sorted(old_by.keys() - new_by.keys()))
    changed: list[EntryChange] = []
    for ref in sorted(old_by.keys() & new_by.keys()):
        a, b = old_by[ref], new_by[ref]
        if a == b:
            continue
        names = tuple(
            f.name for f in fields(ListedEntry)
            if f.name not in _DIFF_IGNORED and getattr(a, f.name) != getattr(b, f.name)
        )
        if names:
            changed.append(EntryChange(ref, a, b, names))
    return ListDiff(added, removed, tuple(changed))
