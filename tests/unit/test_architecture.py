"""The layer's house rules, read from the source with `ast` (nothing is imported):

- no import cycle between the layer's modules, counting imports inside functions (a local
  import hides a cycle from Python at import time, not from this test);
- rules/ is pure: nothing that does I/O, and nothing of the layer outside rules/;
- imports run one way: rules <- config/aws/logsafe <- store, outbound <- views, edge <- usecases
  <- functions (the step handlers and the Chalice app);
- the functions reach storage (returns_core.store) only through use cases and views, the layer imports
  nothing of the functions, and a function imports nothing of another (each is its own Lambda package).
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


def _import_sites(path: Path, module: str, type_checking: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in `path`, anywhere in it; imports under
    `if TYPE_CHECKING:` only when `type_checking` (they do not run, but they do couple)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
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
                found.append((node.lineno, candidate if candidate in MODULES else source))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports at run time (anywhere in it), absolute names."""
    return {name for _, name in _import_sites(path, module)}


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


# Each folder under functions/ is one Lambda's code (its CodeUri): the names it puts on sys.path.
FUNCTION_FOLDERS = {folder.name: {p.stem for p in folder.iterdir()
                                   if p.suffix == ".py" or (p / "__init__.py").is_file()}
                    for folder in sorted(FUNCTIONS.iterdir()) if folder.is_dir()}
# Storage is the store's: a function reaches it through a use case or a view, which say what is read or written.
STORAGE = "returns_core.store"


def _function_import_sites(path: Path, type_checking: bool = True) -> list[tuple[int, str]]:
    return _import_sites(path, "functions." + _module_name(path, FUNCTIONS), type_checking)


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _storage_imports(path: Path, module: str) -> list[str]:
    """`file:line imports name` for each import of the store in `path`, type-only ones included."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    sites = {(line, name) for line, name in _import_sites(path, module, type_checking=True)
             if _is_under(name, STORAGE)}
    return [f"{where}:{line} imports {name}" for line, name in sorted(sites)]


def test_the_walk_sees_the_functions():
    """The rules below are not true of nothing: the walk finds the handlers, the API and their imports."""
    seen = {str(p.relative_to(FUNCTIONS)) for p in _function_modules()}
    assert {"api/app.py", "api/chalicelib/customer.py", "api/chalicelib/finance.py", "settle/app.py",
            "issue_label/app.py", "await_callback/app.py", "handle_timeout/app.py", "status_effects/app.py"} <= seen
    assert FUNCTION_FOLDERS["api"] >= {"app", "chalicelib"} and FUNCTION_FOLDERS["settle"] == {"app"}
    settle = {name for _, name in _function_import_sites(FUNCTIONS / "settle" / "app.py")}
    assert {"returns_core.usecases.settlement", "returns_core.usecases.disputes"} <= settle
    customer = {name for _, name in _function_import_sites(FUNCTIONS / "api" / "chalicelib" / "customer.py")}
    assert "returns_core.views" in customer


def test_the_storage_rule_reports_each_import_by_line(tmp_path):
    handler = tmp_path / "app.py"
    handler.write_text("from returns_core.usecases import orders\n"
                       "import returns_core.store.ledger as ledger\n"
                       "def view():\n"
                       "    from returns_core import store\n"
                       "    from returns_core.store.models import ReturnModel, plain\n"
                       "from typing import TYPE_CHECKING\n"
                       "if TYPE_CHECKING:\n"
                       "    from returns_core.store import returns\n")
    assert _storage_imports(handler, "functions.step.app") == [
        f"{handler}:2 imports returns_core.store.ledger", f"{handler}:4 imports returns_core.store",
        f"{handler}:5 imports returns_core.store.models", f"{handler}:8 imports returns_core.store.returns"]


def test_functions_reach_storage_only_through_usecases_and_views():
    wrong = [site for path in _function_modules()
             for site in _storage_imports(path, "functions." + _module_name(path, FUNCTIONS))]
    assert wrong == [], f"{len(wrong)} imports of {STORAGE} from functions/:\n" + "\n".join(wrong)


def test_functions_import_nothing_of_another_function():
    """A function's folder is all of its code that ships, with the layer: another's module is not there."""
    wrong = []
    for folder, own in FUNCTION_FOLDERS.items():
        others = set().union(*(names for name, names in FUNCTION_FOLDERS.items() if name != folder)) - own
        for path in sorted((FUNCTIONS / folder).rglob("*.py")):
            wrong += sorted({f"{path.relative_to(ROOT)}:{line} imports {name}"
                             for line, name in _function_import_sites(path) if name.split(".")[0] in others})
    assert wrong == [], "\n".join(wrong)


def test_the_layer_imports_nothing_of_the_functions():
    """The arrow points one way: usecases <- functions, never back (the layer ships without them)."""
    theirs = set().union(*FUNCTION_FOLDERS.values()) | {"functions"}
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for module, path in MODULES.items() for line, name in _import_sites(path, module, type_checking=True)
             if name.split(".")[0] in theirs]
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("path", _function_modules(), ids=lambda p: str(p.relative_to(FUNCTIONS)))
def test_functions_import_the_layer_from_its_real_modules(path):
    """Handlers and chalicelib name modules that exist (no old flat names left behind)."""
    for imported in _imports(path, "functions." + _module_name(path, FUNCTIONS)):
        if imported.startswith("returns_core"):
            assert imported in MODULES, f"{path.name} imports {imported}, which is not a module of the layer"


def test_no_module_of_the_layer_shadows_the_standard_library():
    shadowing = sorted(m for m in MODULES if m.rpartition(".")[2] in sys.stdlib_module_names)
    assert shadowing == []
