"""Failed order lookups: whether the limits let one more through, and counting one that failed
(rules/lookup_limits.py decides what the counts allow; store/lookup_attempts.py keeps them)."""
from __future__ import annotations

import time

from ..rules import lookup_limits
from ..store import lookup_attempts


def wait_before(client: str, order_id: str, email: str, proven: bool = False) -> int | None:
    """Seconds the caller must wait when the limits refuse this lookup; None when it may go ahead.
    `proven`: the caller showed a token we gave this order's customer."""
    now = int(time.time())
    if lookup_limits.allowed(lookup_attempts.failures(client, order_id, email, now), proven):
        return None
    return lookup_limits.retry_after(now)


def failed(client: str, order_id: str, email: str) -> None:
    lookup_attempts.record_failure(client, order_id, email, int(time.time()))
