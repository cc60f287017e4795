"""Failed order lookups, so order-number + email pairs cannot be guessed at speed
(the limits and why: returns_core/rules/lookup_limits.py)."""
from __future__ import annotations

import time

from .errors import ApiError


def client_of(request) -> str:
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp)."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


def check(client: str, order_id: str, email: str, proven: bool = False) -> None:
    """`proven`: the caller showed a token we gave this order's customer (authn.proves_order)."""
    from returns_core.rules import lookup_limits
    from returns_core.store import lookup_attempts

    now = int(time.time())
    if not lookup_limits.allowed(lookup_attempts.failures(client, order_id, email, now), proven):
        raise ApiError(429, "too_many_requests", "too many failed lookups; try again later",
                       headers={"Retry-After": str(lookup_limits.retry_after(now))})


def failed(client: str, order_id: str, email: str) -> None:
    from returns_core.store import lookup_attempts

    lookup_attempts.record_failure(client, order_id, email, int(time.time()))
