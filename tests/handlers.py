"""Load a function's handler module the way Lambda does (the `load_handler` fixture, tests/conftest.py).

`load_handler("settle", environment)` sets the function's environment, puts
functions/<step>/ first on the import path, imports its `app.py` afresh (a cold start:
no module of that folder is cached), and forgets those modules afterwards, so the next
test, or another function whose module is also called `app`, starts cold too.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def forget_function_modules() -> None:
    """Every module imported from functions/ (each step's `app`, the API's chalicelib)."""
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name == "app" or origin.startswith(str(FUNCTIONS)):
            del sys.modules[name]


def loader(monkeypatch) -> Callable[..., ModuleType]:
    """`load(step, environment, unset)`, undone with the test's monkeypatch; the caller forgets the
    modules afterwards (forget_function_modules)."""
    def load(step: str, environment: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> ModuleType:
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        forget_function_modules()
        monkeypatch.syspath_prepend(str(FUNCTIONS / step))
        return importlib.import_module("app")

    return load
