"""Give moto's DynamoDB the per-request atomicity of the real service.

DynamoDB applies each request (a conditional write, a transaction, a query) atomically.
moto's in-process backend checks a condition and writes in separate Python steps and copies
items for a read while another thread may be writing them; on the local stack the API, the
state machine's threads and the tests all share it. One re-entrant lock around each request
(the handler that parses and answers it, and the backend methods) makes every request run
alone, as it would against AWS. Our code is untouched: it still relies on conditions, never
on this lock.

Under that lock, a transaction's rollback copy is made cheap as well: moto deep-copies every
table a transaction touches before writing (O(table size) per transaction: about a second per
`POST /returns` once the local returns table holds 2,000 returns). While one of its
transactions runs, a table's copy keeps the untouched items (the transaction cannot change
them) and deep-copies only the items the transaction names.
"""
from __future__ import annotations

import copy
import functools
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()
_originals: dict[tuple[type, str], Callable] = {}


def lock() -> threading.RLock:
    """The lock each DynamoDB request runs under: whoever holds it sees the tables between requests
    (the local stack's snapshots, persistence.py)."""
    return _lock


def _locked(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _lock:
            return fn(*args, **kwargs)
    return wrapper


def _keys_named(backend: Any, transact_items: list[dict]) -> dict[str, list[tuple]] | None:
    """Per table, the (hash, range) keys a transaction writes or checks; None if any is unclear."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: dict[str, list[tuple]] = {}
    try:
        for entry in transact_items:
            (_, op), = entry.items()
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op["Item"]
            keys.setdefault(table.name, []).append((
                DynamoType(key[table.hash_key_attr]),
                DynamoType(key[table.range_key_attr]) if table.has_range_key else None))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return keys


def _copy_for_rollback(table: Any, keys: list[tuple]) -> Any:
    clone = copy.copy(table)
    if table.has_range_key:
        clone.items = defaultdict(dict, {h: dict(by_range) for h, by_range in table.items.items()})
    else:
        clone.items = defaultdict(dict, table.items)
    for hash_key, range_key in keys:
        item = table.get_item(hash_key, range_key)
        if item is not None:
            if range_key is None:
                clone.items[hash_key] = copy.deepcopy(item)
            else:
                clone.items[hash_key][range_key] = copy.deepcopy(item)
    return clone


def _cheap_rollback_copies(transact: Callable) -> Callable:
    @functools.wraps(transact)
    def wrapper(self, transact_items, *args, **kwargs):
        from moto.dynamodb.models.table import Table

        keys = _keys_named(self, transact_items)
        if keys is None or "__deepcopy__" in vars(Table):
            return transact(self, transact_items, *args, **kwargs)   # moto's own full copies
        Table.__deepcopy__ = lambda table, memo: _copy_for_rollback(table, keys.get(table.name, []))
        try:
            return transact(self, transact_items, *args, **kwargs)
        finally:
            del Table.__deepcopy__
    return wrapper


def _targets() -> list[tuple[type, str]]:
    """What runs under the lock: each backend request method, and the response handler's
    `call_action`, which also turns the stored item into the reply (a read serialises the
    very item objects a racing update changes in place)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    backend = [(DynamoDBBackend, name) for name, value in vars(DynamoDBBackend).items()
               if callable(value) and not name.startswith("_")]
    return [*backend, (DynamoHandler, "call_action")]


def install() -> None:
    """Idempotent."""
    if _originals:
        return
    for owner, name in _targets():
        value = vars(owner)[name]
        _originals[(owner, name)] = value
        inner = _cheap_rollback_copies(value) if name == "transact_write_items" else value
        setattr(owner, name, _locked(inner))   # the lock outermost: one request at a time


def uninstall() -> None:
    for (owner, name), value in _originals.items():
        setattr(owner, name, value)
    _originals.clear()
