"""Failed order lookups, so order-number + email pairs cannot be guessed at speed
(the limits and why: returns_core/rules/lookup_limits.py; the counts: usecases/lookup_guard.py)."""
from __future__ import annotations

from .errors import ApiError


def client_of(request) -> str:
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp)."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


def check(client: str, order_id: str, email: str, proven: bool = False) -> None:
    """`proven`: the caller showed a token we gave this order's customer (authn.proves_order)."""
    from returns_core.usecases import lookup_guard

    wait = lookup_guard.wait_before(client, order_id, email, proven)
    if wait is not None:
        raise ApiError(429, "too_many_requests", "too many failed lookups; try again later",
                       headers={"Retry-After": str(wait)})


def failed(client: str, order_id: str, email: str) -> None:
    from returns_core.usecases import lookup_guard

    lookup_guard.failed(client, order_id, email)
