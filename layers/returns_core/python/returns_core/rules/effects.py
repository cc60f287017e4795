"""What follows each status change: the domain event, the customer's message, the ops alert.

One table, so a newcomer finds in one place which step tells whom what;
usecases/side_effects.py carries it out after the change is written.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from . import statuses


class Effects(NamedTuple):
    event: str                 # the domain event published on the events topic
    email: str | None = None   # the customer's email template
    sms: str | None = None     # the customer's SMS kind
    alert: str | None = None   # the ops alert
    action: str | None = None  # a follow-up of the domain, by name (see side_effects.ACTIONS)


RELEASE = "release_quantities"           # give the order's quantities back
INSTANT_EXCHANGE = "instant_exchange"    # ship the replacement at drop-off, if the order opted in
EXCHANGE = "exchange_after_inspection"   # ship the replacements of the lines that passed

RULES: dict[str, Effects] = {
    statuses.IN_REVIEW: Effects("return.review_required", alert="review_needed"),
    statuses.AWAITING_DROPOFF: Effects("return.label_issued", "return_requested", "label_ready"),
    statuses.IN_TRANSIT: Effects("return.in_transit", action=INSTANT_EXCHANGE),
    # A parcel scanned without a carrier drop-off event was dropped off all the same.
    statuses.RECEIVED: Effects("return.received", "parcel_received", action=INSTANT_EXCHANGE),
    # The inspection's line-by-line result goes out with the move that follows it (MOVES), where its
    # text ("a colleague gives a final check" / "we are sending the refund now") is true.
    statuses.INSPECTED: Effects("return.inspected"),
    statuses.AWAITING_APPROVAL: Effects("refund.approval_required"),
    statuses.REFUNDING: Effects("refund.started"),
    statuses.REFUNDED: Effects("refund.issued", "refund_issued", "refund_issued", action=EXCHANGE),
    statuses.REFUND_FAILED: Effects("refund.failed", alert="refund_failed"),
    statuses.CLOSED: Effects("return.closed", "return_closed"),
    statuses.DISPUTED: Effects("return.disputed", "dispute_opened", alert="dispute_opened"),
    statuses.RESOLVED: Effects("return.dispute_resolved", "dispute_resolved"),
    statuses.CANCELLED: Effects("return.cancelled", action=RELEASE),
    statuses.REJECTED: Effects("return.rejected", "review_outcome", action=RELEASE),
    statuses.EXPIRED: Effects("return.expired", "return_expired", action=RELEASE),
    statuses.LOST: Effects("return.lost", "parcel_lost", alert="parcel_lost"),
    statuses.LABEL_FAILED: Effects("return.label_failed", alert="label_failed"),
}

# (previous, new) -> effects of moves whose message depends on where they came from; a move listed
# here replaces the new status's RULES entry (one event per change). An approved review sends the
# return back to `requested` (the workflow then issues its label); a new return starts in `requested`
# without a move, so it never gets this.
MOVES: dict[tuple[str, str], Effects] = {
    (statuses.IN_REVIEW, statuses.REQUESTED): Effects("return.review_approved", "review_outcome"),
    # Fewer, better emails (issue 20): the inspection's result is an email of its own when it is news,
    # i.e. its grades changed the quote (`inspection_is_news`; then it says whether a colleague checks
    # the refund first); otherwise the next message, "your refund of X", says it all.
    (statuses.INSPECTED, statuses.AWAITING_APPROVAL): Effects("refund.approval_required", "inspection_result"),
    (statuses.INSPECTED, statuses.REFUNDING): Effects("refund.started", "inspection_result"),
    # Closed after the refund or after a dispute's resolution: by the customer's own confirmation (they
    # just did it, and the portal says so) or automatically after an email told them it would (`followup`
    # asked; `dispute_resolved` said the case closes on its own after N days); neither needs another
    # email. Other closes send `return_closed`.
    (statuses.REFUNDED, statuses.CLOSED): Effects("return.closed"),
    (statuses.RESOLVED, statuses.CLOSED): Effects("return.closed"),
}

INSPECTION_MESSAGE = "inspection_result"


def inspection_is_news(requested: list[dict[str, Any]] | None, graded: list[dict[str, Any]] | None) -> bool:
    """Whether the inspection changed what the customer was quoted when they asked (the portal showed the
    quote, its fees included, before they sent it): a line graded other than resellable, or fewer of an
    item graded than requested. Every requested item graded resellable refunds what was quoted. No
    grading known counts as news."""
    if not requested or not graded:
        return True
    resellable: dict[str, int] = {}
    for line in graded:
        if line.get("condition") != "resellable":
            return True
        resellable[str(line.get("sku"))] = resellable.get(str(line.get("sku")), 0) + int(line.get("qty") or 0)
    return any(resellable.get(str(item.get("sku")), 0) < int(item.get("qty") or 0) for item in requested)

# The customer messages that announce money paid back ("your refund of 12,99 €").
REFUND_MESSAGES = frozenset({"refund_issued"})


def announce(todo: Effects, refunded_amount: int | None, inspection_news: bool = True) -> Effects:
    """What of `todo` may be sent now: a refund message only for money actually paid back. A settlement
    that paid nothing (a full exchange: the replacement is the settlement) is never told to the customer
    as "your refund of 0,00 €"; the event and the follow-up (the exchange) still happen. The inspection's
    result only when it is news (`inspection_is_news`)."""
    if todo.email == INSPECTION_MESSAGE and not inspection_news:
        todo = todo._replace(email=None)
    if isinstance(refunded_amount, int) and not isinstance(refunded_amount, bool) and refunded_amount > 0:
        return todo
    return todo._replace(email=None if todo.email in REFUND_MESSAGES else todo.email,
                         sms=None if todo.sms in REFUND_MESSAGES else todo.sms)


REQUESTED_EVENT = "return.requested"
EXCHANGE_REQUESTED_EVENT = "return.exchange_requested"
EXCHANGE_SHIPPED_EVENT = "return.exchange_shipped"
EXCHANGE_SHIPPED_EMAIL = "exchange_shipping"
SMS_KINDS = ("label_ready", "refund_issued")
FAILED_ALERT = "notification_failed"

# A withdrawal notice is acknowledged at once, when its return is opened (usecases/withdrawals.py).
WITHDRAWAL_RECEIVED_EVENT = "withdrawal.received"
WITHDRAWAL_RECEIVED_EMAIL = "withdrawal_received"
