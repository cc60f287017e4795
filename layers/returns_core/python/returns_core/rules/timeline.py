"""A return's timeline: what one entry holds, and the sentence the portal shows for it
("Your parcel arrived at our warehouse").

The entry keeps its `type` (what the store's systems and tests read); `text` adds the
sentence. Unknown types get a neutral sentence rather than the code.
"""
from __future__ import annotations

from typing import Any, Callable

from . import clock
from .money import format_amount


# The longest text an entry keeps: the longest one the API accepts (a dispute's message, 2,000 characters).
# The edge refuses longer input with a 4xx naming the field; this bounds what any other writer puts in.
MAX_TEXT_CHARS = 2000


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT_CHARS else value[:MAX_TEXT_CHARS - 1] + "\u2026"
    if isinstance(value, dict):
        return {k: _bounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_bounded(v) for v in value]
    return value


def entry(kind: str, actor: str, detail: Any = None, at: str | None = None) -> dict:
    """One entry; each text in `detail` at most MAX_TEXT_CHARS long, so no entry outgrows its item."""
    return {"at": at or clock.iso(), "type": kind, "actor": actor, "detail": _bounded(detail)}


def has(timeline: list[dict] | None, kind: str) -> bool:
    return any(e.get("type") == kind for e in timeline or [])

_CHANNELS = {"email": "an email", "sms": "a text message"}


def _amount(detail: Any, currency: str) -> str | None:
    if isinstance(detail, dict) and isinstance(detail.get("amount"), int) and detail["amount"] > 0:
        return format_amount(detail["amount"], currency) if currency else str(detail["amount"])
    return None


def _refund_issued(detail: Any, currency: str) -> str:
    amount = _amount(detail, currency)
    return f"Your refund of {amount} has been issued." if amount else "Your return is settled: nothing to pay back."


def _exchange_shipped(detail: Any, currency: str) -> str:
    number = detail.get("tracking_number") if isinstance(detail, dict) else None
    return f"Your replacement is on its way (tracking number {number})." if number else \
        "Your replacement is on its way."


def _message_sent(detail: Any, currency: str) -> str:
    channel = _CHANNELS.get(detail.get("channel") if isinstance(detail, dict) else None, "a message")
    return f"We sent you {channel} about your return."


TEXTS: dict[str, str | Callable[[Any, str], str]] = {
    "return.requested": "You started this return.",
    "review.required": "A colleague is checking your return before we issue the label.",
    "review.approved": "Your return was approved.",
    "review.auto_approved": "Your return was approved.",
    "review.rejected": "Your return could not be accepted.",
    "label.issued": "Your prepaid label is ready to download.",
    "label.failed": "We could not prepare your prepaid label; our team has been told and will help you.",
    "label.retry_requested": "We are preparing your prepaid label again.",
    "carrier.dropped_off": "You dropped off your parcel. Thank you!",
    "carrier.in_transit": "Your parcel is on its way to our warehouse.",
    "carrier.delivered": "Your parcel was delivered to our warehouse.",
    "carrier.lost": "The carrier reported your parcel as lost.",
    "parcel.received": "Your parcel arrived at our warehouse.",
    "parcel.lost": "Your parcel did not reach us in time; we treat it as lost and settle your return.",
    "return.inspected": "We checked your items.",
    "inspection.overdue": "Checking your items is taking longer than usual.",
    "refund.awaiting_approval": "Your refund is waiting for a final check by our finance team.",
    "approval.overdue": "The final check of your refund is taking longer than usual.",
    "refund.approved": "Your refund was approved.",
    "refund.refunding": "Your refund is being paid.",
    "refund.awaiting_manual": "Your refund is being paid.",
    "refund.retry_requested": "We are trying your refund again.",
    "refund.failed": "Your refund could not be paid yet; our team is on it.",
    "refund.issued": _refund_issued,
    "exchange.requested": "Your replacement has been requested from the store.",
    "exchange.shipped": _exchange_shipped,
    "return.cancelled": "You cancelled this return.",
    "return.expired": "The parcel was not dropped off before the deadline, so the return expired.",
    "return.confirmed": "You confirmed that everything is settled. This return is closed.",
    "return.auto_closed": "This return was closed.",
    "return.disputed": "You told us something is wrong; our customer service team will contact you.",
    "dispute.resolved": "Our customer service team answered you about this return.",
    "dispute.overdue": "Answering you is taking longer than usual.",
    "dispute.adjustment_paid": _refund_issued,
    "message.sent": _message_sent,
    "effect.failed": "We could not send you an update; our team has been told.",
}


def text(item: dict, currency: str = "") -> str:
    """The sentence for one timeline entry."""
    found = TEXTS.get(item.get("type") or "")
    if found is None:
        return "Your return was updated."
    return found(item.get("detail"), currency) if callable(found) else found
