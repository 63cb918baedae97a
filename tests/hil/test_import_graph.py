"""``import hil`` has no cycles, and every import in ``hil`` sits at the top of its module.

The graph is built from the source with :mod:`ast` (nothing is imported), over every import
statement anywhere in a module: at the top, under ``if TYPE_CHECKING:``, inside functions and
classes. An edge ``a -> b`` means module ``a`` imports module ``b`` (or a name from it); importing
``hil.x.y`` also runs ``hil/x/__init__.py`` first, so that package is an edge too, except from a
module inside it (``hil.devices.registry`` importing its sibling ``hil.devices.contract`` does not
re-enter ``hil.devices``, which is already loading).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "hil"

#: Imports allowed inside a function for good, ``(module, imported module)`` with the reason (an
#: optional heavy dependency that must not load with the package): none today.
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the module that holds it names it."""

    module: str
    target: str
    names: tuple[str, ...]
    in_function: bool
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    """``hil/session/runner.py`` -> ``hil.session.runner``; a package's ``__init__`` is the
    package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, source: str, is_package: bool = False) -> list[Import]:
    """Every import statement of a module's source, with whether it sits inside a function."""
    tree = ast.parse(source)
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, (), in_function, child.lineno)
                             for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                found.append(Import(module, _absolute(module, child, is_package),
                                    tuple(a.name for a in child.names), in_function,
                                    child.lineno))
            visit(child, in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return found


def edges_of(imp: Import, known: set[str]) -> list[str]:
    """The package modules an import loads: its target, a submodule it names, and the packages
    on the way (except the importer's own packages, already loading)."""
    target = imp.target
    if target != PACKAGE and not target.startswith(PACKAGE + "."):
        return []
    out = [f"{target}.{n}" for n in imp.names if f"{target}.{n}" in known]
    parts = target.split(".")
    own = {".".join(imp.module.split(".")[:i]) for i in range(1, imp.module.count(".") + 2)}
    out += [p for p in (".".join(parts[:i]) for i in range(2, len(parts) + 1))
            if p in known and p not in own]
    return [t for t in dict.fromkeys(out) if t != imp.module]


def build_graph(sources: dict[str, tuple[str, bool]]) -> tuple[nx.DiGraph[str], list[Import]]:
    """The import graph of modules given as ``{name: (source, is_package)}`` and the imports
    inside their functions."""
    known = set(sources)
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(known)
    inner: list[Import] = []
    for name, (source, is_package) in sources.items():
        for imp in imports_of(name, source, is_package):
            graph.add_edges_from((name, t) for t in edges_of(imp, known))
            if imp.in_function:
                inner.append(imp)
    return graph, inner


def hil_graph() -> tuple[nx.DiGraph[str], list[Import]]:
    """hil's module graph and its function-level imports."""
    paths = sorted((ROOT / PACKAGE).rglob("*.py"))
    return build_graph({module_name(p): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
                        for p in paths})


def cycles(graph: nx.DiGraph[str]) -> list[list[str]]:
    """Every elementary cycle, each rotated to start at its smallest module."""
    out = []
    for c in nx.simple_cycles(graph):
        i = c.index(min(c))
        out.append(c[i:] + c[:i])
    return sorted(out)


# --- the checker can fail -----------------------------------------------------------------


def test_a_cycle_through_a_function_level_import_is_found() -> None:
    graph, inner = build_graph({
        "hil": ("", True),
        "hil.a": ("from hil import b\n", False),
        "hil.b": ("def f():\n    from hil.a import x\n    return x\n", False),
    })
    assert cycles(graph) == [["hil.a", "hil.b"]]
    assert [(i.module, i.target, i.line) for i in inner] == [("hil.b", "hil.a", 2)]


def test_a_type_checking_import_is_an_edge_and_relative_imports_resolve() -> None:
    graph, inner = build_graph({
        "hil": ("", True),
        "hil.pkg": ("from . import mod\n", True),
        "hil.pkg.mod": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from ..top import T\n", False),
        "hil.top": ("from hil.pkg.mod import y\n", False),
    })
    assert graph.has_edge("hil.pkg", "hil.pkg.mod")
    assert graph.has_edge("hil.pkg.mod", "hil.top")
    # importing hil.pkg.mod from outside runs hil/pkg/__init__ first
    assert graph.has_edge("hil.top", "hil.pkg")
    assert cycles(graph) == [["hil.pkg", "hil.pkg.mod", "hil.top"], ["hil.pkg.mod", "hil.top"]]
    assert inner == []


def test_a_sibling_import_inside_a_package_is_no_cycle() -> None:
    graph, _ = build_graph({
        "hil": ("", True),
        "hil.devices": ("from hil.devices.registry import open_device\n", True),
        "hil.devices.registry": ("from hil.devices.contract import X\n", False),
        "hil.devices.contract": ("import numpy\n", False),
    })
    assert cycles(graph) == []


def test_the_graph_sees_hil_as_it_is() -> None:
    graph, _ = hil_graph()
    assert {"hil.results", "hil.session.runner", "hil.reports.index"} <= set(graph)
    # the runner returns the results; every reader reads them
    for reader in ("hil.session.runner", "hil.reports.console", "hil.reports.evidence",
                   "hil.reports.tables", "hil.suite", "hil.pytest_plugin"):
        assert graph.has_edge(reader, "hil.results"), reader


# --- hil itself ---------------------------------------------------------------------------


def test_import_hil_has_no_cycles() -> None:
    found = cycles(hil_graph()[0])
    assert not found, "import cycles in hil:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_runner_and_the_results_import_no_report_and_no_instrument() -> None:
    graph, _ = hil_graph()
    for module in ("hil.session.runner", "hil.results"):
        direct = set(graph.successors(module))
        bad = sorted(t for t in direct
                     if t.startswith(("hil.reports", "hil.instruments")))
        assert not bad, f"{module} imports {bad}"
    # and the results reach no report at all, even through other modules
    reach = nx.descendants(graph, "hil.results")
    assert not [t for t in reach if t.startswith("hil.reports")]


def test_every_import_in_hil_is_at_the_top_of_its_module() -> None:
    _, inner = hil_graph()
    seen = {(i.module, i.target) for i in inner}
    bad = [i for i in inner if (i.module, i.target) not in ALLOWED]
    if bad:
        pytest.fail("imports inside functions in hil:\n" + "\n".join(
            f"{i.module}:{i.line} imports {i.target}" for i in bad))
    gone = sorted(set(ALLOWED) - seen)
    assert not gone, f"no longer imported inside a function, remove from ALLOWED: {gone}"
