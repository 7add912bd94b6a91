"""The package boundaries, as a test over the import graph (stdlib ``ast``; no import is executed).

The rules (docs/architecture.md):

* only :mod:`sanctions.evaluate` imports the durable-rules adapter (``sanctions.evaluate._durable``), and
  nothing in the library imports ``durable`` (the native engine) except that adapter;
* :mod:`sanctions.rulebook` imports no evaluator (it may use the contract, ``sanctions.evaluate.compiled``);
* nothing outside :mod:`sanctions.cli` imports the CLI (but ``python -m sanctions``, :mod:`sanctions.__main__`);
* :mod:`sanctions.model` imports nothing of the rulebook, evaluators, engine, screening, ledger, batch or CLI;
* there is no import circle between modules.

Each rule is also shown to fail on a deliberately broken graph, so the test cannot pass vacuously.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sanctions

PACKAGE = Path(sanctions.__file__).resolve().parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, modules: set[str]) -> set[str]:
    """Modules imported anywhere in the file (function-level imports count too)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")
                base = ".".join(pkg[: len(pkg) - node.level + (1 if _is_package(module, modules) else 0)]
                                + ([base] if base else []))
            out.add(base)
            for a in node.names:  # ``from sanctions.x import sub`` imports the submodule sanctions.x.sub
                if f"{base}.{a.name}" in modules:
                    out.add(f"{base}.{a.name}")
    return out


def _is_package(module: str, modules: set[str]) -> bool:
    return any(m.startswith(module + ".") for m in modules)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: {imported module, ...}}`` for every module of the package (imports of other packages kept)."""
    files = {_module_name(p): p for p in root.rglob("*.py")}
    modules = set(files)
    return {m: _imports(ast.parse(p.read_text(encoding="utf-8")), m, modules) for m, p in sorted(files.items())}


def _internal(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {m: {i for i in deps if i in graph and i != m} for m, deps in graph.items()}


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every boundary rule broken by ``graph``, in words."""
    out = []
    for mod, deps in graph.items():
        for dep in deps:
            if _inside(dep, "sanctions.evaluate._durable") and not _inside(mod, "sanctions.evaluate"):
                out.append(f"{mod} imports the durable adapter {dep}")
            if (dep == "durable" or dep.startswith("durable.")) and mod != "sanctions.evaluate._durable":
                out.append(f"{mod} imports the native engine {dep}")
            if _inside(mod, "sanctions.rulebook") and _inside(dep, "sanctions.evaluate") \
                    and dep != "sanctions.evaluate.compiled" and dep != "sanctions.evaluate":
                out.append(f"{mod} (rulebook) imports the evaluator {dep}")
            if _inside(dep, "sanctions.cli") and not _inside(mod, "sanctions.cli") and mod != "sanctions.__main__":
                out.append(f"{mod} imports the CLI {dep}")
            if _inside(mod, "sanctions.model") and any(
                    _inside(dep, p) for p in ("sanctions.rulebook", "sanctions.evaluate", "sanctions.engine",
                                              "sanctions.explain", "sanctions.screening", "sanctions.ledger",
                                              "sanctions.batch", "sanctions.cli")):
                out.append(f"{mod} (model) imports {dep}")
    out.extend(f"import circle: {' -> '.join(c)}" for c in cycles(_internal(graph)))
    return sorted(out)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp) + [sorted(comp)[0]])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _without_package_reexports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package ``__init__`` that re-exports its submodules is not a circle with them: drop those edges."""
    return {m: {d for d in deps if not (_inside(d, m) and d != m)} for m, deps in graph.items()}


def test_the_package_keeps_its_boundaries():
    graph = _without_package_reexports(import_graph())
    assert "sanctions.evaluate._durable" in graph and "sanctions.cli.main" in graph  # the graph is the real one
    assert violations(graph) == []


@pytest.mark.parametrize("module, imported, expected", [
    ("sanctions.engine", "sanctions.evaluate._durable", "imports the durable adapter"),
    ("sanctions.ledger.store", "durable.lang", "imports the native engine"),
    ("sanctions.rulebook.loader", "sanctions.evaluate.reference", "(rulebook) imports the evaluator"),
    ("sanctions.batch.run", "sanctions.cli.main", "imports the CLI"),
    ("sanctions.model.hs", "sanctions.rulebook.facts", "(model) imports"),
])
def test_a_deliberately_broken_import_fails_the_check(module, imported, expected):
    graph = _without_package_reexports(import_graph())
    graph[module] = set(graph[module]) | {imported}
    assert any(expected in v and v.startswith(module) for v in violations(graph))


def test_a_deliberately_added_circle_fails_the_check():
    graph = _without_package_reexports(import_graph())
    graph["sanctions.model.vocab"] = set(graph["sanctions.model.vocab"]) | {"sanctions.model.records"}
    assert any(v.startswith("import circle:") and "sanctions.model.vocab" in v for v in violations(graph))
