"""Load a function's handler module the way Lambda does, as a pytest fixture.

`load_handler("settle", environment)` sets the function's environment, puts
functions/<step>/ first on the import path, imports its `app.py` afresh (a cold start:
no module of that folder is cached), and forgets those modules afterwards, so the next
test, or another function whose module is also called `app`, starts cold too.
Import it into a test module (`from tests.handlers import load_handler  # noqa: F401`).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def _forget_function_modules() -> None:
    """Every module imported from functions/ (each step's `app`, the API's chalicelib)."""
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name == "app" or origin.startswith(str(FUNCTIONS)):
            del sys.modules[name]


@pytest.fixture
def load_handler(monkeypatch) -> Callable[..., ModuleType]:
    def load(step: str, environment: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> ModuleType:
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        _forget_function_modules()
        monkeypatch.syspath_prepend(str(FUNCTIONS / step))
        return importlib.import_module("app")

    yield load
    _forget_function_modules()
