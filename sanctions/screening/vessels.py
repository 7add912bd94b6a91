"""Vessels designated by the UN 1718 (DPRK) Committee: IMO numbers and vessel matching.

The UN Consolidated List XML does not carry vessels; the 1718 Committee keeps them in a separate
"Designated Vessels List". This module reads a curated, cited copy of it kept as data in
``rules/data/dprk_designated_vessels.yaml`` (every row names its sources and says whether its details
could be confirmed against an official text) and matches a vessel by IMO number and/or name.

An IMO ship identification number is seven digits whose last digit is a check digit: the first six
digits are multiplied by 7, 6, 5, 4, 3 and 2, and the sum's last digit must equal the seventh
(``9074729``: 9*7 + 0*6 + 7*5 + 4*4 + 7*3 + 2*2 = 139, check digit 9).

Matching: an IMO number identifies a hull for life, so an IMO match is decisive (score 100) whatever
the name; a name match is fuzzy and weaker (names are reused and changed), and a name match whose IMO
differs from the one given is reported but heavily weakened. The flag is evidence only: designated
vessels are routinely re-flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz

from sanctions.exc import FieldProblem, InvalidInput, ListError

__all__ = [
    "DesignatedVessel",
    "VesselEvidence",
    "VesselMatch",
    "designated_vessels",
    "imo_check_digit",
    "is_valid_imo",
    "match_vessel",
    "parse_imo",
]

_DATA_NAME = "dprk_designated_vessels.yaml"
_IMO_TEXT = re.compile(r"^\s*(?:imo)?\s*(?:no\.?|number|nr\.?)?\s*[:#]?\s*(\d{7})\s*$", re.IGNORECASE)


# ------------------------------------------------------------------------------------------- IMO


def imo_check_digit(first_six: str) -> int:
    """The check digit for the first six digits of an IMO number."""
    if len(first_six) != 6 or not first_six.isdigit():
        raise InvalidInput("an IMO number's first part must be six digits",
                           problems=[FieldProblem("imo", "expected six digits", first_six)])
    return sum(int(d) * w for d, w in zip(first_six, range(7, 1, -1), strict=True)) % 10


def is_valid_imo(value: str | int) -> bool:
    """Whether ``value`` (``"9074729"``, ``"IMO 9074729"``, ``9074729``) is a well-formed IMO number
    with a correct check digit."""
    try:
        parse_imo(value)
    except InvalidInput:
        return False
    return True


def parse_imo(value: str | int) -> str:
    """Normalise an IMO number to its seven digits, checking the check digit.

    Accepts ``9074729``, ``"9074729"``, ``"IMO 9074729"``, ``"IMO: 9074729"``, ``"IMO No. 9074729"``.

    Raises:
        InvalidInput: If it is not seven digits or the check digit is wrong (the message gives the
            expected check digit).
    """
    text = f"{value:07d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    match = _IMO_TEXT.match(text)
    if not match:
        raise InvalidInput("not an IMO number", problems=[
            FieldProblem("imo", "an IMO number is seven digits, optionally prefixed by 'IMO'", value)])
    digits = match[1]
    expected = imo_check_digit(digits[:6])
    if int(digits[6]) != expected:
        raise InvalidInput("IMO number fails its check digit", problems=[
            FieldProblem("imo", f"check digit should be {expected}", value,
                         hint=f"did you mean {digits[:6]}{expected}?")])
    return digits


# --------------------------------------------------------------------------------------- vessels


@dataclass(frozen=True, slots=True)
class DesignatedVessel:
    """One row of the curated 1718 designated-vessels table.

    Attributes:
        name: Vessel name at designation.
        imo: Seven-digit IMO number, or ``None`` if no cited source gives it.
        flag: ISO 3166 alpha-2 flag at designation, or ``None``.
        designated_on: Date of the Committee's designation.
        basis: Resolution paragraphs, e.g. ``2321 OP12 / 2371 OP6``.
        measures: e.g. ``("de-flag", "port entry ban")``.
        verified: Whether name, IMO, date and basis are confirmed by an official text in ``sources``.
        sources: Citations, each naming the document and where it was read.
        notes: Caveats.
        listing: For a vessel reached through a listed owner or manager, the UN reference numbers and roles
            (``KPe.064 (registered owner)``); empty otherwise.
    """

    name: str
    imo: str | None
    flag: str | None
    designated_on: date
    basis: str
    measures: tuple[str, ...]
    verified: bool
    sources: tuple[str, ...]
    notes: str = ""
    listing: str = ""

    @property
    def committee_designated(self) -> bool:
        """Designated by the 1718 Committee itself (2321 OP12, 2371 OP6, 2375 OP6), as the row's basis says."""
        return any(p in self.basis for p in ("2321 OP12", "2371 OP6", "2375 OP6"))

    @property
    def owner_listed(self) -> bool:
        """Reached through an owner or manager on the UN list (the 2270 port-entry ban for their vessels)."""
        return bool(self.listing)


def _data_path() -> Path:
    installed = resources.files("sanctions").joinpath("_rules", "data", _DATA_NAME)
    if installed.is_file():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "rules" / "data" / _DATA_NAME


def _row(raw: Any, where: str, i: int) -> DesignatedVessel:
    if not isinstance(raw, dict):
        raise ListError(f"{where}: vessels[{i}] is not a mapping")
    missing = [k for k in ("name", "imo", "flag", "designated_on", "basis", "measures", "verified", "sources")
               if k not in raw]
    if missing:
        raise ListError(f"{where}: vessels[{i}] ({raw.get('name')!r}) lacks {', '.join(missing)}")
    if not raw["sources"]:
        raise ListError(f"{where}: vessels[{i}] ({raw['name']!r}) has no source; every row must be cited")
    imo = raw["imo"]
    if imo is not None:
        try:
            imo = parse_imo(str(imo))
        except InvalidInput as exc:
            raise ListError(f"{where}: vessels[{i}] ({raw['name']!r}): {exc}") from exc
    designated = raw["designated_on"]
    if not isinstance(designated, date):
        raise ListError(f"{where}: vessels[{i}] ({raw['name']!r}): designated_on must be a date")
    return DesignatedVessel(
        name=str(raw["name"]),
        imo=imo,
        flag=str(raw["flag"]) if raw["flag"] else None,
        designated_on=designated,
        basis=str(raw["basis"]),
        measures=tuple(str(m) for m in raw["measures"]),
        verified=bool(raw["verified"]),
        sources=tuple(str(s) for s in raw["sources"]),
        notes=str(raw.get("notes") or ""),
        listing=str(raw.get("listing") or ""),
    )


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[DesignatedVessel, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ListError(f"{path}: cannot read designated-vessels table ({exc})") from exc
    rows = tuple(_row(r, path, i) for i, r in enumerate((data or {}).get("vessels") or []))
    imos = [v.imo for v in rows if v.imo]
    dupes = sorted({x for x in imos if imos.count(x) > 1})
    if dupes:
        raise ListError(f"{path}: IMO numbers listed twice: {', '.join(dupes)}")
    return rows


def designated_vessels(path: str | Path | None = None) -> tuple[DesignatedVessel, ...]:
    """The curated designated-vessels table (cached).

    Raises:
        ListError: If the table is unreadable, a row lacks a field or a source, or an IMO is invalid.
    """
    return _load(str(path) if path is not None else str(_data_path()))


# -------------------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class VesselEvidence:
    """One comparison between the vessel given and a designated vessel, with its effect on the score."""

    feature: str
    effect: float
    query_value: str
    list_value: str
    note: str


@dataclass(frozen=True, slots=True)
class VesselMatch:
    """A designated vessel that matches, and why.

    Attributes:
        vessel: The designated vessel.
        matched_on: ``imo`` (decisive) or ``name``.
        score: 0-100 after evidence.
        evidence: Each comparison made (IMO, name, flag) and its effect.
    """

    vessel: DesignatedVessel
    matched_on: str
    score: float
    evidence: tuple[VesselEvidence, ...]

    def explain(self) -> str:
        v = self.vessel
        head = (f"{v.name} (IMO {v.imo or 'unknown'}), designated {v.designated_on.isoformat()} by the 1718 "
                f"Committee under {v.basis} ({', '.join(v.measures)}): matched on {self.matched_on}, score "
                f"{self.score:.1f}" + ("" if v.verified else " [row not verified against an official text]"))
        return "\n".join([head, *(f"  {e.feature} {e.effect:+g}: {e.note}" for e in self.evidence),
                          *(f"  source: {s}" for s in v.sources)])


def _vessel_name(text: str) -> str:
    text = text.casefold().replace("’", "'")
    text = re.sub(r"\b(m/?v|m/?t|mv|mt)\b\.?", " ", text)          # M/V, MT prefixes
    text = re.sub(r"\bno\b\.?", " ", text)                          # "NO. 18" -> "18"
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def match_vessel(
    name: str | None = None,
    imo: str | int | None = None,
    flag: str | None = None,
    *,
    threshold: float = 90.0,
    vessels: tuple[DesignatedVessel, ...] | None = None,
) -> list[VesselMatch]:
    """Match a vessel against the designated-vessels table; IMO matches first.

    Args:
        name: Vessel name as given (``M/V``, ``No.``, case and punctuation are ignored).
        imo: IMO number (validated; see :func:`parse_imo`).
        flag: Current flag (ISO alpha-2), compared with the flag at designation as evidence only.
        threshold: Minimum name similarity (0-100) for a name-only match.
        vessels: The table to use; default :func:`designated_vessels`.

    Returns:
        Matches, IMO matches first, then by score.

    Raises:
        InvalidInput: If neither name nor IMO is given, or the IMO number is malformed.
    """
    if not name and imo is None:
        raise InvalidInput("give a vessel name or an IMO number", problems=[
            FieldProblem("name", "name and imo are both empty")])
    given_imo = parse_imo(imo) if imo is not None else None
    table = vessels if vessels is not None else designated_vessels()
    query_name = _vessel_name(name) if name else ""
    out: list[VesselMatch] = []
    for v in table:
        evidence: list[VesselEvidence] = []
        imo_hit = given_imo is not None and v.imo == given_imo
        name_score = fuzz.ratio(query_name, _vessel_name(v.name)) if query_name else 0.0
        if imo_hit:
            matched_on, score = "imo", 100.0
            evidence.append(VesselEvidence("imo", 0.0, given_imo or "", v.imo or "",
                                           "same IMO number: the same hull, whatever its current name"))
            if query_name:
                evidence.append(VesselEvidence("name", 0.0, name or "", v.name,
                                               f"name similarity {name_score:.0f} (names change; IMO decides)"))
        elif query_name and name_score >= threshold:
            matched_on, score = "name", name_score
            evidence.append(VesselEvidence("name", 0.0, name or "", v.name, f"name similarity {name_score:.0f}"))
            if given_imo is not None and v.imo is not None:
                evidence.append(VesselEvidence("imo", -40.0, given_imo, v.imo,
                                               "different IMO number: probably a different ship with a similar name"))
            elif given_imo is not None:
                evidence.append(VesselEvidence("imo", 0.0, given_imo, "",
                                               "the table has no IMO number for this vessel; cannot compare"))
        else:
            continue
        if flag and v.flag:
            if flag.strip().upper() == v.flag:
                evidence.append(VesselEvidence("flag", 0.0 if imo_hit else 2.0, flag, v.flag,
                                               "same flag as at designation"))
            else:
                evidence.append(VesselEvidence("flag", 0.0 if imo_hit else -5.0, flag, v.flag,
                                               "flag differs from the flag at designation (vessels are often re-flagged)"))
        score = max(0.0, min(100.0, score + sum(e.effect for e in evidence)))
        out.append(VesselMatch(v, matched_on, score, tuple(evidence)))
    return sorted(out, key=lambda m: (m.matched_on != "imo", -m.score, m.vessel.name))
