"""Route moto's Lambda invocations to the built functions, each in its own execution environments.

moto cannot run code without Docker; with `lambda.use_docker = False` its simple backend answers
every invoke itself. We replace that one method with a call into infra/local/workers.py, which
runs the artifact `sam build` made in a worker process shaped like Lambda's. It is moto's private
API: this module is the only place that touches it, and tests/infra/test_dispatch.py fails loudly
if it changes.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from . import atomic, partitions
from .deploy import ACCOUNT, REGION, Function
from .workers import FunctionPool, LogSink, lambda_environment

_pools: dict[str, FunctionPool] = {}
_functions: dict[str, Function] = {}
_original: Callable | None = None
# Lambda's asynchronous invoke (InvocationType=Event): accepted at once (202), run by Lambda's own queue.
# Lambda retries a failed run after about one minute, then two; locally after these many seconds, so a
# developer sees the whole story. Then the event goes to the function's on-failure destination.
ASYNC_RETRY_DELAYS_SECONDS = (1.0, 2.0)
# One runner: the queue is run in the order it was accepted, by one warm worker. A second runner started a
# second worker (a cold start, ~0.8 s of CPU) whenever two moves came close together, for no gain here.
ASYNC_RUNNERS = 1
_async: ThreadPoolExecutor | None = None
_async_lock = threading.Lock()
_settled = threading.Condition(_async_lock)
# Accepted and not yet finished (retries waiting included), by invocation: a run of a stack already stopped
# that finishes late removes only its own, never one of the next stack's.
_pending: set[int] = set()
_ids = itertools.count()
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
    if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
        _queue(pool, _functions.get(name), event)
        return b""     # moto answers 202 with an empty body, as Lambda does
    result, error = _run(pool, event)
    if error:
        response_headers["x-amz-function-error"] = error
    return json.dumps(result).encode()


def _run(pool: FunctionPool, event: Any) -> tuple[Any, str | None]:
    started = time.monotonic()
    result, error = pool.invoke(event)
    if on_step is not None:
        on_step(pool.logical_id, event, result, error, time.monotonic() - started)
    return result, error


def _queue(pool: FunctionPool, fn: Function | None, event: Any) -> None:
    with _async_lock:
        invocation = next(_ids)
        _pending.add(invocation)
    _submit(invocation, pool, fn, event, 0)


def _submit(invocation: int, pool: FunctionPool, fn: Function | None, event: Any, attempt: int) -> None:
    global _async
    if _pools.get(pool.name) is not pool:
        return _finished(invocation)     # a retry's timer after the stack stopped
    with _async_lock:
        if _async is None:
            _async = ThreadPoolExecutor(max_workers=ASYNC_RUNNERS, thread_name_prefix="lambda-async")
        _async.submit(_run_async, invocation, pool, fn, event, attempt)


def _finished(invocation: int) -> None:
    with _async_lock:
        _pending.discard(invocation)
        _settled.notify_all()


def _run_async(invocation: int, pool: FunctionPool, fn: Function | None, event: Any, attempt: int) -> None:
    """One try of an asynchronous invocation. A failed try is tried again after its delay (a timer, so the
    queue goes on meanwhile), Lambda's retries; one that still fails goes to the on-failure queue, in the
    record Lambda sends there."""
    retries = fn.async_retries if fn is not None else 2   # fn: None only for a pool installed without one
    if _pools.get(pool.name) is not pool:
        return _finished(invocation)   # the stack stopped (or redeployed the function): its queue went with it
    try:
        result, error = _run(pool, event)
        if error and attempt < retries:
            delay = ASYNC_RETRY_DELAYS_SECONDS[min(attempt, len(ASYNC_RETRY_DELAYS_SECONDS) - 1)]
            timer = threading.Timer(delay, _submit, (invocation, pool, fn, event, attempt + 1))
            timer.daemon = True
            timer.start()
            return None
        if error and _pools.get(pool.name) is pool:
            _keep_failed(pool, fn, event, result, error, retries)
    except Exception as exc:  # noqa: BLE001 - a runner thread must not die silently
        sink.write(pool.logical_id, f"asynchronous invocation could not be run: {type(exc).__name__}")
    _finished(invocation)
    return None


def _keep_failed(pool: FunctionPool, fn: Function | None, event: Any, result: Any, error: str, retries: int) -> None:
    sink.write(pool.logical_id, f"asynchronous invocation failed {retries + 1} times: "
                                f"{(result or {}).get('errorType') if isinstance(result, dict) else error}")
    if fn is None or not fn.on_failure_queue_arn:
        return
    import boto3

    record = {"version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
              "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": f"{fn.arn}:$LATEST",
                                 "condition": "RetriesExhausted", "approximateInvokeCount": retries + 1},
              "requestPayload": event,
              "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": error},
              "responsePayload": result}
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.get_queue_url(QueueName=fn.on_failure_queue_arn.split(":")[-1],
                              QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))


def drain(timeout: float = 30.0) -> None:
    """Wait until every asynchronous invocation accepted so far has finished (its retries included);
    TimeoutError if they have not within `timeout` seconds (a caller must not read on as if they had)."""
    with _async_lock:
        if not _settled.wait_for(lambda: not _pending, timeout=timeout):
            raise TimeoutError(f"{len(_pending)} asynchronous invocation(s) still running after {timeout:.0f} s")


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
        _functions[name] = fn
    if _original is None:
        _original = LambdaSimpleBackend.invoke
        LambdaSimpleBackend.invoke = _invoke


def uninstall() -> None:
    global _original
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if _original is not None:
        LambdaSimpleBackend.invoke = _original
        _original = None
    global _async
    with _async_lock:
        runner, _async = _async, None
        _pending.clear()
        _settled.notify_all()
    if runner is not None:
        runner.shutdown(wait=False, cancel_futures=True)   # the stack stops: queued invocations are lost
    _functions.clear()
    for pool in _pools.values():
        pool.close()
    _pools.clear()
    atomic.uninstall()
    partitions.uninstall()
