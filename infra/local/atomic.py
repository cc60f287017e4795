"""Give moto's DynamoDB the per-request atomicity of the real service.

DynamoDB applies each request (a conditional write, a transaction, a query) atomically.
moto's in-process backend checks a condition and writes in separate Python steps and copies
items for a read while another thread may be writing them; on the local stack the API, the
state machine's threads and the tests all share it. One re-entrant lock around each of the
backend's request methods makes every request run alone, as it would against AWS. Our code
is untouched: it still relies on conditions, never on this lock.
"""
from __future__ import annotations

import functools
import threading
from typing import Callable

_lock = threading.RLock()
_originals: dict[str, Callable] = {}


def _locked(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _lock:
            return fn(*args, **kwargs)
    return wrapper


def install() -> None:
    """Idempotent."""
    from moto.dynamodb.models import DynamoDBBackend

    if _originals:
        return
    for name, value in list(vars(DynamoDBBackend).items()):
        if callable(value) and not name.startswith("_"):
            _originals[name] = value
            setattr(DynamoDBBackend, name, _locked(value))


def uninstall() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name, value in _originals.items():
        setattr(DynamoDBBackend, name, value)
    _originals.clear()
