"""Failed order lookups, counted per (order id, email) pair, per address, per order id, per email,
and per address on each order id and email, in the current window (rules/lookup_limits.py decides
what the counts allow). Kept in the idempotency table, keyed by a digest so no order id, email or
address is stored, and expired by its TTL."""
from __future__ import annotations

import hashlib
from dataclasses import fields

from ..rules import lookup_limits
from .models import RequestRecordModel

KINDS = tuple(f.name for f in fields(lookup_limits.Failures))


def _key(kind: str, value: str, window: int) -> str:
    digest = hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()[:32]
    return f"lookup:{kind}:{digest}:{window}"


def _keys(address: str, order_id: str, email: str, window: int) -> dict[str, str]:
    email = email.strip().lower()
    values = {"pair": f"{order_id}\0{email}", "address": address, "order": order_id, "email": email,
              "address_on_order": f"{address}\0{order_id}", "address_on_email": f"{address}\0{email}"}
    return {kind: _key(kind, values[kind], window) for kind in KINDS}


def failures(address: str, order_id: str, email: str, now: int) -> lookup_limits.Failures:
    """The failures of this window and the one before: a count never drops to nothing at a window's
    edge, so guesses straddling it are not given a fresh allowance."""
    current = lookup_limits.window(now)
    keys = {(kind, window): key for window in (current, current - 1)
            for kind, key in _keys(address, order_id, email, window).items()}
    counts = {record.id: int(record.count or 0) for record in RequestRecordModel.batch_get(list(keys.values()))}
    totals = {kind: 0 for kind in KINDS}
    for (kind, _), key in keys.items():
        totals[kind] += counts.get(key, 0)
    return lookup_limits.Failures(**totals)


def record_failure(address: str, order_id: str, email: str, now: int) -> None:
    expires = now + 3 * lookup_limits.WINDOW_SECONDS   # counted in its window and the next
    for key in _keys(address, order_id, email, lookup_limits.window(now)).values():
        RequestRecordModel(key).update(actions=[RequestRecordModel.count.add(1),
                                                RequestRecordModel.expiration.set(expires)])


def email_failures(email: str, now: int) -> int:
    """Failed lookups naming this email from anywhere, in this window and the one before (two key reads):
    a signal of the return's risk score (rules/risk.py `many_lookups`)."""
    current = lookup_limits.window(now)
    keys = [_key("email", email.strip().lower(), window) for window in (current, current - 1)]
    return sum(int(record.count or 0) for record in RequestRecordModel.batch_get(keys))
