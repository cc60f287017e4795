"""Give moto's DynamoDB Query the cost of the real service: the partition asked for, not the table.

DynamoDB answers a Query from the items of one partition key (of the table or of an index). moto's
`Table.query` instead lists every item of the table, sorts them all, and then drops those of
other partitions, for every Query. On the local stack that is O(n log n) DynamoType comparisons per
Query, under the lock that makes each request atomic (atomic.py): with a bench's data (2,000
timeline entries) a Query held that lock 66 ms on average, and every DynamoDB request of every
function queued behind it; a scan's latency grew with the size of the data, not with its work.

Here moto's `query` runs on a view of the table that holds only the items its own key conditions
would keep: for a table query, the partition of the hash key; for an index query, the items whose
index key attributes equal the query's (moto's loop drops every other item the same way). The
results are the same items in the same order (moto sorts what it keeps by the full key), pages and
filters included: moto's own code still does all of it, on fewer items.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

_original: Callable | None = None


def _partition_view(table: Any, hash_key: Any, index_name: str | None,
                    hash_key_conditions: list[tuple[str, Any]] | None) -> Any | None:
    """A shallow copy of `table` holding only the items the query can return; None: use the table."""
    if not index_name:
        if hash_key is None:
            return None
        view = copy.copy(table)
        partition = table.items.get(hash_key)
        view.items = {hash_key: partition} if partition is not None else {}
        return view
    if not hash_key_conditions:
        return None
    conditions = list(hash_key_conditions)

    def kept(item: Any) -> bool:
        attrs = getattr(item, "attrs", None)
        if attrs is None:
            return False
        for name, value in conditions:
            mine = attrs.get(name)
            if mine is None or mine != value:   # moto's loop: `not item_value or item_value != value`
                return False
        return True

    view = copy.copy(table)
    if table.range_key_attr:
        view.items = {}
        for h, by_range in table.items.items():
            chosen = {r: item for r, item in by_range.items() if kept(item)}
            if chosen:
                view.items[h] = chosen
    else:
        view.items = {h: item for h, item in table.items.items() if kept(item)}
    return view


def install() -> None:
    """Idempotent."""
    global _original
    from moto.dynamodb.models.table import Table

    if _original is not None:
        return
    _original = Table.query

    @functools.wraps(_original)
    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        view = _partition_view(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        return _original(view if view is not None else self, hash_key, *args, **kwargs)

    Table.query = query


def uninstall() -> None:
    global _original
    from moto.dynamodb.models.table import Table

    if _original is not None:
        Table.query = _original
        _original = None
