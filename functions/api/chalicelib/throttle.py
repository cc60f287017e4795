"""Failed order lookups per order id, so order-number + email pairs cannot be guessed at speed."""
from __future__ import annotations

import hashlib
import time

from .errors import ApiError

WINDOW_SECONDS = 15 * 60
MAX_FAILURES = 10


def _record_id(order_id: str, now: int) -> str:
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:32]
    return f"lookup:{digest}:{now // WINDOW_SECONDS}"


def check(order_id: str) -> None:
    from returns_core.store.models import RequestRecordModel

    now = int(time.time())
    try:
        seen = RequestRecordModel.get(_record_id(order_id, now))
    except RequestRecordModel.DoesNotExist:
        return
    if int(seen.count or 0) >= MAX_FAILURES:
        retry = WINDOW_SECONDS - now % WINDOW_SECONDS
        raise ApiError(429, "too_many_requests", "too many failed lookups for this order; try again later",
                       headers={"Retry-After": str(retry)})


def failed(order_id: str) -> None:
    from returns_core.store.models import RequestRecordModel

    now = int(time.time())
    RequestRecordModel(_record_id(order_id, now)).update(
        actions=[RequestRecordModel.count.add(1),
                 RequestRecordModel.expiration.set(now + 2 * WINDOW_SECONDS)])
