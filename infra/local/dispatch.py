"""Run Lambda invocations in-process with the real handler modules.

moto cannot run code without Docker; with `lambda.use_docker = False` its simple
backend answers every invoke itself. We replace that one method with a call to the
handler named in the template. It is moto's private API: this module is the only
place that touches it, and tests/infra/test_dispatch.py fails loudly if it changes.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from . import atomic
from .deploy import Function

_functions: dict[str, Function] = {}
_modules: dict[str, ModuleType] = {}
_env_lock = threading.RLock()
_original: Callable | None = None
LAYER = Path(__file__).resolve().parents[2] / "layers" / "returns_core" / "python"


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


def _load(fn: Function) -> Callable[[dict, Any], Any]:
    """Import functions/<step>/app.py under a unique name (every step's module is called `app`)."""
    module_file, attr = fn.handler.rsplit(".", 1)
    key = f"_lambda_{fn.logical_id}_{module_file}"
    if key not in _modules:
        if str(LAYER) not in sys.path:
            sys.path.insert(0, str(LAYER))
        spec = importlib.util.spec_from_file_location(key, fn.code_dir / f"{module_file}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
        _modules[key] = module
    return getattr(_modules[key], attr)


def call(fn: Function, event: Any) -> tuple[Any, str | None]:
    """(result, error type or None) — errors come back the way Lambda reports them."""
    with _env_lock:
        os.environ.update(fn.environment)
    context = LambdaContext(fn.name, fn.memory_mb, fn.arn, str(uuid.uuid4()), fn.timeout)
    try:
        return _load(fn)(event, context), None
    except Exception as exc:
        return {"errorType": type(exc).__name__, "errorMessage": str(exc)[:1000],
                "stackTrace": traceback.format_exception(exc)[-3:]}, "Unhandled"


def _invoke(self, function_name: str, qualifier: str | None, body: Any, headers: Any,
            response_headers: Any) -> bytes:
    name = function_name.split(":function:")[-1].split(":")[0]
    fn = _functions.get(name)
    if fn is None:
        raise RuntimeError(f"no function {name} was deployed from template.yaml")
    event = json.loads(body) if body else {}
    result, error = call(fn, event)
    if error:
        response_headers["x-amz-function-error"] = error
    return json.dumps(result).encode()


def install(functions: dict[str, Function]) -> None:
    """Route moto's Lambda invokes to these functions (idempotent; later calls add functions).
    The handlers then run on moto's threads next to the API's, so DynamoDB requests are made
    atomic as well (see atomic.py)."""
    global _original
    from moto.awslambda_simple.models import LambdaSimpleBackend

    atomic.install()
    _functions.update(functions)
    if _original is None:
        _original = LambdaSimpleBackend.invoke
        LambdaSimpleBackend.invoke = _invoke


def uninstall() -> None:
    global _original
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if _original is not None:
        LambdaSimpleBackend.invoke = _original
        _original = None
    _functions.clear()
    atomic.uninstall()
