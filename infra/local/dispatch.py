"""Route moto's Lambda invocations to the built functions, each in its own execution environments.

moto cannot run code without Docker; with `lambda.use_docker = False` its simple backend answers
every invoke itself. We replace that one method with a call into infra/local/workers.py, which
runs the artifact `sam build` made in a worker process shaped like Lambda's. It is moto's private
API: this module is the only place that touches it, and tests/infra/test_dispatch.py fails loudly
if it changes.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from . import atomic, partitions
from .deploy import Function
from .workers import FunctionPool, LogSink, lambda_environment

_pools: dict[str, FunctionPool] = {}
_original: Callable | None = None
sink = LogSink()
# Told of every workflow step (an invoke that comes through moto): (function, event, result, error, seconds).
on_step: Callable[[str, Any, Any, str | None, float], None] | None = None


def call(fn: Function, event: Any) -> tuple[Any, str | None]:
    """(result, error type or None) — errors come back the way Lambda reports them."""
    pool = _pools.get(fn.name)
    if pool is None:
        raise RuntimeError(f"{fn.name} is not installed: call dispatch.install first")
    return pool.invoke(event)


def invoker(logical_id: str) -> Callable[[Any], tuple[Any, str | None]]:
    """The installed function of that logical id (e.g. the API for the gateway), as a callable."""
    pool = next((p for p in _pools.values() if p.logical_id == logical_id), None)
    if pool is None:
        raise RuntimeError(f"no {logical_id} is installed: call dispatch.install first")
    return pool.invoke


def _invoke(self, function_name: str, qualifier: str | None, body: Any, headers: Any,
            response_headers: Any) -> bytes:
    name = function_name.split(":function:")[-1].split(":")[0]
    pool = _pools.get(name)
    if pool is None:
        raise RuntimeError(f"no function {name} was deployed from template.yaml")
    event = json.loads(body) if body else {}
    started = time.monotonic()
    result, error = pool.invoke(event)
    if on_step is not None:
        on_step(pool.logical_id, event, result, error, time.monotonic() - started)
    if error:
        response_headers["x-amz-function-error"] = error
    return json.dumps(result).encode()


def install(functions: dict[str, Function], aws: dict[str, str]) -> None:
    """Route moto's Lambda invokes to these functions (later calls replace a function's pool).
    `aws`: the endpoint and credentials the functions use to reach the emulator. The workers'
    requests reach moto on its server threads next to the API's, so DynamoDB requests are made
    atomic as well (see atomic.py), and a Query reads its partition, not the whole table (partitions.py)."""
    global _original
    from moto.awslambda_simple.models import LambdaSimpleBackend

    atomic.install()
    partitions.install()
    for name, fn in functions.items():
        old = _pools.pop(name, None)
        if old:
            old.close()
        env = lambda_environment(fn.logical_id, fn.name, fn.artifact, fn.memory_mb, fn.environment, aws)
        _pools[name] = FunctionPool(fn.logical_id, fn.name, fn.arn, fn.artifact, env, fn.memory_mb, fn.timeout,
                                    sink)
    if _original is None:
        _original = LambdaSimpleBackend.invoke
        LambdaSimpleBackend.invoke = _invoke


def uninstall() -> None:
    global _original
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if _original is not None:
        LambdaSimpleBackend.invoke = _original
        _original = None
    for pool in _pools.values():
        pool.close()
    _pools.clear()
    atomic.uninstall()
    partitions.uninstall()
