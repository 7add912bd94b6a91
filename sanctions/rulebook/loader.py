"""Rule files: their format, the loader, and the compiler to the engine-neutral form.

A rulebook is a folder of YAML files. Each file holds either one rule (a mapping with an ``id``) or named
predicates (a mapping with a ``predicates`` key) that rules reuse with ``{op: ref, name: ...}``. Files are
loaded with ``yaml.safe_load`` into frozen pydantic *spec* models (``extra="forbid"``); a second pass checks
what spans files (unique ids, known field paths and constants, predicate references without cycles,
explanation placeholders) and then compiles every rule to :mod:`sanctions.evaluate.compiled` patterns.

Naming runs raw shape -> runtime object: :class:`RuleSpec` (what the YAML says) -> :class:`Rule` (checked,
with its compiled patterns) -> the ``Finding`` dicts of :mod:`sanctions.explain`.

Every error names the file and the key path inside it (:class:`sanctions.exc.InvalidRule`).

The format is :mod:`sanctions.rulebook.spec`, the compiler :mod:`sanctions.rulebook.compiler`, the runtime
objects :mod:`sanctions.rulebook.book`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sanctions.evaluate import compiled as C
from sanctions.exc import InvalidRule
from sanctions.rulebook.facts import default_for
from sanctions.rulebook.spec import OPS, PredicatesSpec, RuleSpec  # noqa: F401  (OPS re-exported)
from sanctions.rulebook.book import Exemption, Rule, Rulebook  # noqa: F401
from sanctions.rulebook.compiler import _Compiler, _did_you_mean, _spec_error


MAX_FILE_BYTES = 1_000_000
MAX_RULES = 2_000


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader (same safety: no Python tags; ten times faster), refusing a key given twice in one
    mapping: YAML keeps the last silently, so a rule whose ``outcome`` or ``in_force`` was written twice would be
    judged by whichever came last without a word."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class says so
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping (first on line {first + 1}); a repeated "
                    "key is ambiguous, so it is refused", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# ----------------------------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------------------------


def builtin_rules_dir() -> Path:
    """The rulebook that ships with the library (``rules/`` in a checkout, ``sanctions/_rules`` in a wheel)."""
    packaged = Path(str(resources.files("sanctions"))) / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.y*ml") if p.suffix in (".yaml", ".yml") and "data" not in
                  p.relative_to(folder).parts[:1])



def _read_bounded(path: Path, label: str) -> bytes:
    """The bytes of a rule file: a regular file (a symlink to one is fine), read to at most MAX_FILE_BYTES.

    A device (``/dev/zero``), a FIFO or a folder named ``*.yaml`` is refused without reading it: its size says
    nothing (``st_size`` is 0), and reading it would never end or never start.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise InvalidRule(f"cannot read: {err.strerror}", file=label) from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a folder" if stat.S_ISDIR(mode) else "not a regular file")
            raise InvalidRule(f"is {kind}, not a rule file; only regular files are read", file=label)
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise InvalidRule(f"cannot read: {err.strerror}", file=label) from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidRule(f"file is larger than {MAX_FILE_BYTES} bytes", file=label)
    return data


def _read_yaml(path: Path, label: str, data: bytes | None = None) -> Any:
    raw = _read_bounded(path, label) if data is None else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRule(f"not UTF-8 text ({err.reason} at byte {err.start})", file=label) from None
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InvalidRule(f"not valid YAML: {problem}", file=label, key=where) from None



def load_rulebook(*folders: str | Path, include_builtin: bool = True) -> Rulebook:
    """Load, check and compile rule files.

    Args:
        folders: Extra rule packs; a rule in a later pack with the same id as an earlier one is an error.
        include_builtin: Start from the rulebook shipped with the library.

    Raises:
        InvalidRule: naming the file and key of the first problem found.
    """
    dirs: list[Path] = [builtin_rules_dir()] if include_builtin else []
    dirs += [Path(f) for f in folders]
    specs: list[tuple[str, RuleSpec]] = []
    predicates: dict[str, tuple[str, Any]] = {}
    digest = hashlib.sha256()
    for folder in dirs:
        if not folder.is_dir():
            raise InvalidRule("not a folder of rule files", file=str(folder))
        for path in _yaml_files(folder):
            label = str(path) if folder not in dirs[:1] or not include_builtin else f"rules/{path.relative_to(folder)}"
            raw = _read_bounded(path, label)
            data = _read_yaml(path, label, raw)
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + raw + b"\0")
            if not isinstance(data, dict):
                raise InvalidRule("a rule file must hold a mapping (a rule, or 'predicates:')", file=label)
            try:
                if "predicates" in data and "id" not in data:
                    pspec = PredicatesSpec.model_validate(data)
                    for name, cond in pspec.predicates.items():
                        if name in predicates:
                            raise InvalidRule(f"predicate {name!r} is also defined in {predicates[name][0]}",
                                              file=label, key=f"predicates.{name}")
                        predicates[name] = (label, cond)
                else:
                    specs.append((label, RuleSpec.model_validate(data)))
            except ValidationError as err:
                raise _spec_error(err, label) from None
    if len(specs) > MAX_RULES:
        raise InvalidRule(f"{len(specs)} rules; at most {MAX_RULES} are supported", file=str(dirs[-1]))
    return _build(specs, predicates, digest.hexdigest(), tuple(str(d) for d in dirs))


def _build(specs: list[tuple[str, RuleSpec]], predicates: Mapping[str, tuple[str, Any]], digest: str,
           sources: tuple[str, ...]) -> Rulebook:
    seen: dict[str, str] = {}
    for label, spec in specs:
        if spec.id in seen:
            raise InvalidRule(f"duplicate rule id {spec.id!r} (also in {seen[spec.id]})", file=label, key="id")
        seen[spec.id] = label
    compiler = _Compiler(predicates)
    rules: dict[str, Rule] = {}
    patterns: list[C.Pattern] = []
    joins: list[C.JoinPattern] = []
    for label, spec in sorted(specs, key=lambda s: s[1].id):
        rule, made = compiler.rule(spec, label)
        rules[spec.id] = rule
        for p in made:
            (joins if isinstance(p, C.JoinPattern) else patterns).append(p)
    for label, spec in specs:
        links = {"replaces": spec.replaces, "replaced_by": spec.replaced_by, "supplements": spec.supplements,
                 "supplemented_by": spec.supplemented_by}
        for key, refs in links.items():
            for ref in refs:
                if ref not in rules:
                    raise InvalidRule(f"names rule {ref!r}, which is not in the rulebook", file=label, key=key,
                                      hint=_did_you_mean(ref, rules))
        # a supplement adds to a measure that stays binding: the two cannot also be a replacement
        for ref in spec.supplemented_by:
            if ref in spec.replaced_by:
                raise InvalidRule(f"{ref!r} is named both in replaced_by and supplemented_by", file=label,
                                  key="supplemented_by",
                                  hint="a measure that never lapsed is supplemented; one that ended is replaced")
        for ref in spec.cite_with:
            if ref not in rules:
                raise InvalidRule(f"cite_with names rule {ref!r}, which is not in the rulebook", file=label,
                                  key="cite_with", hint=_did_you_mean(ref, rules))
    defaults: dict[str, dict[str, C.Scalar]] = {k: {} for k in C.FACT_KINDS}
    for p in patterns:
        for key in C.keys_of(p.cond):
            defaults[p.kind][key] = default_for(key)
    for jp in joins:
        for key in C.keys_of(jp.left) | {j.left_key for j in jp.joins}:
            defaults[jp.left_kind][key] = default_for(key)
        for key in C.keys_of(jp.right) | {j.right_key for j in jp.joins}:
            defaults[jp.right_kind][key] = default_for(key)
    compiled = C.CompiledRulebook(
        patterns=tuple(sorted(patterns, key=lambda p: p.id)),
        join_patterns=tuple(sorted(joins, key=lambda p: p.id)),
        defaults={k: dict(sorted(v.items())) for k, v in defaults.items()},
    )
    return Rulebook(rules=dict(sorted(rules.items())), compiled=compiled, digest=digest, sources=sources,
                    predicates={k: v[1] for k, v in predicates.items()})


def select_regimes(rulebook: Rulebook, regimes: Iterable[str]) -> Rulebook:
    """The part of a rulebook whose rules belong to the named regimes.

    Regime names match their ``regime`` field with case and punctuation ignored (:func:`regime_key`), so
    ``iran``, ``south_sudan`` and ``isil_alqaida`` select ``Iran``, ``South Sudan`` and ``ISIL/Al-Qaida``.
    The selection keeps the rulebook's digest (the rule files are the same) and recompiles only the rules kept.

    Raises:
        InvalidInput: naming an unknown regime, with the regimes there are.
    """
    from sanctions.exc import FieldProblem, InvalidInput
    from sanctions.rulebook.book import regime_key

    known = {regime_key(name): name for name in rulebook.regimes}
    wanted: set[str] = set()
    for name in regimes:
        key = regime_key(name)
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = (f"did you mean {known[close[0]]!r}? " if close else "") + "regimes: " + ", ".join(
                sorted(known.values()))
            raise InvalidInput(f"unknown regime {name!r}", problems=[FieldProblem(
                "regime", "not a regime of the rulebook", name, hint)])
        wanted.add(known[key])
    if not wanted:
        raise InvalidInput("no regime selected", problems=[FieldProblem("regime", "empty selection", "")])
    specs = [(r.file, r.spec) for r in rulebook.rules.values() if r.spec.regime in wanted]
    predicates = {name: ("predicates", cond) for name, cond in rulebook.predicates.items()}
    return _build(specs, predicates, rulebook.digest, rulebook.sources)
