"""The layer's house rules, read from the source with `ast` (nothing is imported):

- no import cycle between the layer's modules, counting imports inside functions (a local
  import hides a cycle from Python at import time, not from this test);
- rules/ is pure: nothing that does I/O, and nothing of the layer outside rules/;
- imports run one way: rules <- config/aws/logsafe <- store, outbound <- views, edge <- usecases
  <- functions (the step handlers and the Chalice app).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "returns_core" / "python"
FUNCTIONS = ROOT / "functions"

# What may not be imported by rules/: SDKs, the network, the environment.
IO_MODULES = frozenset({"boto3", "botocore", "pynamodb", "stripe", "aws_lambda_powertools", "urllib", "http",
                        "socket", "requests", "os", "subprocess", "chalice"})
# The rank of each part of the layer: a module imports only from lower ranks, or from its own part.
RANKS = {"rules": 0, "base": 1, "store": 2, "outbound": 2, "views": 3, "edge": 3, "usecases": 4}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer_modules() -> dict[str, Path]:
    return {_module_name(p, LAYER): p for p in sorted((LAYER / "returns_core").rglob("*.py"))}


MODULES = _layer_modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports at run time (anywhere in it), absolute names."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod when there is one.
                candidate = f"{source}.{alias.name}"
                found.add(candidate if candidate in MODULES else source)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


GRAPH = {name: {i for i in _imports(path, name) if i in MODULES and i != name} for name, path in MODULES.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else "base"


def test_the_walk_sees_the_layer():
    assert {"returns_core.rules.policy", "returns_core.store.writes", "returns_core.usecases.lifecycle",
            "returns_core.outbound.events", "returns_core.views.returns"} <= set(MODULES)
    # Imports inside functions count: lifecycle's move calls side_effects, which must not call back.
    assert "returns_core.usecases.side_effects" in GRAPH["returns_core.usecases.lifecycle"]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycle_in_the_layer():
    assert _cycles(GRAPH) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("returns_core.rules")))
def test_rules_do_no_io_and_import_only_rules(module):
    imported = _imports(MODULES[module], module)
    io = sorted(i for i in imported if i.split(".")[0] in IO_MODULES)
    assert io == [], f"{module} imports {io}"
    outside = sorted(i for i in imported if i.startswith("returns_core") and not i.startswith("returns_core.rules"))
    assert outside == [], f"{module} imports {outside}"


def test_imports_run_one_way():
    wrong = []
    for module, imported in GRAPH.items():
        part = _part(module)
        for target in imported:
            other = _part(target)
            if other != part and RANKS[other] >= RANKS[part]:
                wrong.append(f"{module} ({part}) -> {target} ({other})")
    assert wrong == []


def _function_modules() -> list[Path]:
    return sorted(p for p in FUNCTIONS.rglob("*.py"))


@pytest.mark.parametrize("path", _function_modules(), ids=lambda p: str(p.relative_to(FUNCTIONS)))
def test_functions_import_the_layer_from_its_real_modules(path):
    """Handlers and chalicelib name modules that exist (no old flat names left behind)."""
    for imported in _imports(path, "functions." + _module_name(path, FUNCTIONS)):
        if imported.startswith("returns_core"):
            assert imported in MODULES, f"{path.name} imports {imported}, which is not a module of the layer"


def test_no_module_of_the_layer_shadows_the_standard_library():
    shadowing = sorted(m for m in MODULES if m.rpartition(".")[2] in sys.stdlib_module_names)
    assert shadowing == []
