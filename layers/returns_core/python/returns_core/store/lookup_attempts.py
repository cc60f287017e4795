"""Failed order lookups, counted per client, order id and email in the current window
(rules/lookup_limits.py decides what the counts allow). Kept in the idempotency table, keyed by
a digest so no order id, email or address is stored, and expired by its TTL."""
from __future__ import annotations

import hashlib

from ..rules import lookup_limits
from .models import RequestRecordModel


def _key(kind: str, value: str, now: int) -> str:
    digest = hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()[:32]
    return f"lookup:{kind}:{digest}:{lookup_limits.window(now)}"


def _keys(client: str, order_id: str, email: str, now: int) -> dict[str, str]:
    return {"client": _key("client", client, now), "order": _key("order", order_id, now),
            "email": _key("email", email.strip().lower(), now)}


def failures(client: str, order_id: str, email: str, now: int) -> lookup_limits.Failures:
    keys = _keys(client, order_id, email, now)
    counts = {record.id: int(record.count or 0) for record in RequestRecordModel.batch_get(list(keys.values()))}
    return lookup_limits.Failures(**{kind: counts.get(key, 0) for kind, key in keys.items()})


def record_failure(client: str, order_id: str, email: str, now: int) -> None:
    expires = now + 2 * lookup_limits.WINDOW_SECONDS
    for key in _keys(client, order_id, email, now).values():
        RequestRecordModel(key).update(actions=[RequestRecordModel.count.add(1),
                                                RequestRecordModel.expiration.set(expires)])
