"""Every import of our own code names something that exists, also the imports made inside
functions (kept there for cold start), which only fail when that path first runs.

Issue 15: `from .. import secrets` in the Stripe provider outlived the module's rename to
`secret_store`; every card refund on the stack (key from Secrets Manager) failed with ImportError,
while the tests, which set STRIPE_API_KEY, never took that path.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "layers/returns_core/python"


def _imports():
    for path in sorted((PACKAGE_ROOT / "returns_core").rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        package = package.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("returns_core")):
                target = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                    if node.level else node.module
                for alias in node.names:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", target, alias.name


IMPORTS = list(_imports())


def test_the_walk_sees_imports_inside_functions():
    assert ("returns_core.outbound", "secret_store") in {(t, n) for _, t, n in IMPORTS}


@pytest.mark.parametrize("where,target,name", IMPORTS, ids=[f"{w}:{n}" for w, _, n in IMPORTS])
def test_each_import_of_our_code_resolves(where, target, name):
    module = importlib.import_module(target)
    if name == "*" or hasattr(module, name):
        return
    assert importlib.util.find_spec(f"{target}.{name}") is not None, f"{where}: {target} has no {name}"
