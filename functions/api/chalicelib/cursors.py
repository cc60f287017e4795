"""Cursors of the by_status lists (the warehouse's and customer service's queues, the claims): the
index's LastEvaluatedKey."""
from __future__ import annotations

import base64
import json

from .errors import ApiError

# A queue's cursor is the GSI's LastEvaluatedKey as base64 JSON: opaque to clients, and checked on the
# way back in, so a forged or stale one is a 400 naming `cursor`, never a DynamoDB error.
# `record_key`: the table's own key beside the index's (return_id for returns, claim_id for claims).


def status_cursor_out(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def status_cursor_in(cursor: str | None, status: str, record_key: str = "return_id") -> dict | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or set(key) != {record_key, "status", "status_since"} or not all(
                isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"]
                for v in key.values()):
            raise ValueError
    except (ValueError, UnicodeError):
        raise ApiError(400, "invalid_request", "cursor is not one this API returned", field="cursor") from None
    if key["status"]["S"] != status:
        raise ApiError(400, "invalid_request", "cursor belongs to another status's list", field="cursor")
    return key
