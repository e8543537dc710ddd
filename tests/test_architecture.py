"""The package's structure, from its own imports: no cycles, imports go down the floors, and the
pure packages (domain, allocation) reach no database, network or file system.

Imports under ``TYPE_CHECKING`` and inside functions count too: a cycle hidden there is still a
cycle for the reader. docs/architecture.md describes the floors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "anh_reporter"

# Floors from the ground up: a top-level package may import only packages on a lower floor.
FLOORS: dict[str, int] = {
    "errors": 0,
    "config": 0,
    "terminal": 0,
    "observability": 0,
    "domain": 1,
    "secretbox": 1,
    "site_virtual_meter": 1,
    "site_injection": 1,
    "site_avm": 1,
    "site_allocation": 1,
    "allocation": 2,
    "site_tanks": 1,
    "site": 2,
    "storage": 3,
    "bus": 3,
    "connectors": 3,
    "collect": 4,
    "ingest": 4,
    "production": 5,
    "analytics": 5,
    "reports": 6,
    "security": 7,
    "api": 8,
    "scheduler": 8,
    "simulator": 8,
    "runtime": 9,
    "web": 9,
    "cli": 10,
    "__main__": 11,
}

# Pure code takes values and returns values: none of these may appear in it.
PURE = ("domain", "allocation")
IO_MODULES = {
    "os",
    "pathlib",
    "socket",
    "asyncio",
    "subprocess",
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "sqlalchemy",
    "redis",
    "httpx",
    "requests",
    "asyncua",
    "pymodbus",
    "aiomqtt",
    "fastapi",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(f): f for f in PACKAGE.rglob("*.py") if "migrations" not in f.parts}


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every absolute module name ``path`` imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = name.split(".") if is_package else name.split(".")[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target in _imports(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("anh_reporter"):
                graph[name].add(target)
    return graph


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_every_top_level_package_has_a_floor() -> None:
    tops = {_top(m) for m in _modules()} - {"anh_reporter"}
    assert tops <= FLOORS.keys(), f"give these a floor in FLOORS: {sorted(tops - FLOORS.keys())}"


def test_imports_go_down_the_floors() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if _top(module) != _top(target)
        and _top(target) != "anh_reporter"
        and FLOORS.get(_top(module), 99) <= FLOORS.get(_top(target), 99)
    )
    assert upward == []


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_do_no_io(package: str) -> None:
    offending = sorted(
        f"{name} imports {target}"
        for name, path in _modules().items()
        if _top(name) == package
        for target in _imports(name, path)
        if target.split(".")[0] in IO_MODULES
    )
    assert offending == []


def test_cycle_finder_finds_a_cycle() -> None:
    """The checker itself: a three-module cycle is found, a plain chain is not."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
