"""How a refund is paid: the method of each resolution and the key fixed per refund."""
from __future__ import annotations

from typing import Any

METHODS = {"refund": "original_payment", "store_credit": "store_credit", "exchange": "original_payment"}
PENDING_MANUAL = "pending_manual"
PAYING = "paying"
FAILED = "failed"   # the last attempt failed (refund.failure says why); a retry pays under the same key


def idempotency_key(return_id: str, n: int = 1) -> str:
    """The key of the n-th refund of a return: fixed per refund and kept across every retry, ops
    retries included, so a provider can tell "again" from "another"."""
    if not return_id or ":" in return_id:
        raise ValueError("return_id must be non-empty and contain no ':'")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("refund number must be an integer >= 1")
    return f"{return_id}:refund:{n}"


def movement_key(owner_id: str, kind: str, n: int = 1) -> str:
    """The provider key of a money movement that is not a return's own refund (a dispute's
    `adjustment`, a `claim`'s refund): fixed per movement, never equal to a refund's key, so the
    provider pays each once and never takes one for another."""
    if not owner_id or ":" in owner_id:
        raise ValueError("the owner's id must be non-empty and contain no ':'")
    if kind not in ("adjustment", "claim"):
        raise ValueError(f"no movement kind {kind!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("movement number must be an integer >= 1")
    return f"{owner_id}:{kind}:{n}"


def capture_part(quote: dict[str, Any], method: str) -> int:
    """Of a quote's refund, what comes out of the order's capture. The store credit bonus is the
    store's own money: it is credited to the customer, never held against what the order captured."""
    amount = int(quote["refund_amount"])
    if method != "store_credit":
        return amount
    return max(0, amount - int(quote.get("bonus") or 0))


def awaiting_manual(refund: dict[str, Any] | None) -> bool:
    refund = refund or {}
    return refund.get("status") == PENDING_MANUAL and not refund.get("manual_reference")
