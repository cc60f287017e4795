"""Cursors of the by_status queues (the warehouse's and customer service's): the index's LastEvaluatedKey."""
from __future__ import annotations

import base64
import json

from .errors import ApiError

# A queue's cursor is the GSI's LastEvaluatedKey as base64 JSON: opaque to clients, and checked on the
# way back in, so a forged or stale one is a 400 naming `cursor`, never a DynamoDB error.
_CURSOR_KEYS = frozenset({"return_id", "status", "status_since"})


def status_cursor_out(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def status_cursor_in(cursor: str | None, status: str) -> dict | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(key, dict) or set(key) != _CURSOR_KEYS or not all(
                isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"]
                for v in key.values()):
            raise ValueError
    except (ValueError, UnicodeError):
        raise ApiError(400, "invalid_request", "cursor is not one this API returned", field="cursor") from None
    if key["status"]["S"] != status:
        raise ApiError(400, "invalid_request", "cursor belongs to another status's queue", field="cursor")
    return key
