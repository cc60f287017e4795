"""Return statuses and which moves between them are allowed (api.md's lifecycle)."""
from __future__ import annotations

REQUESTED = "requested"
IN_REVIEW = "in_review"
AWAITING_DROPOFF = "awaiting_dropoff"
IN_TRANSIT = "in_transit"
RECEIVED = "received"
INSPECTED = "inspected"
AWAITING_APPROVAL = "awaiting_approval"
REFUNDING = "refunding"
REFUNDED = "refunded"
CLOSED = "closed"
REJECTED = "rejected"
CANCELLED = "cancelled"
EXPIRED = "expired"
LOST = "lost"
REFUND_FAILED = "refund_failed"
DISPUTED = "disputed"
# Ops resolved the dispute (upheld, maybe with an adjustment refund, or rejected); the resolution's email
# says the return closes on its own after the dispute follow-up delay, and it closes then or on the
# customer's confirmation, whichever comes first.
RESOLVED = "resolved"
# The label could not be issued (no address to collect from, the carrier refused): ops is alerted and
# the return waits, visibly, for a new drop-off choice or an ops retry (POST /returns/{id}/label/retry).
LABEL_FAILED = "label_failed"

ALL = (
    REQUESTED, IN_REVIEW, AWAITING_DROPOFF, IN_TRANSIT, RECEIVED, INSPECTED,
    AWAITING_APPROVAL, REFUNDING, REFUNDED, CLOSED, REJECTED, CANCELLED,
    EXPIRED, LOST, REFUND_FAILED, DISPUTED, LABEL_FAILED, RESOLVED,
)

ALLOWED: dict[str, frozenset[str]] = {
    # A returnless return (the customer keeps every item) goes from here straight to the refund.
    REQUESTED: frozenset({IN_REVIEW, AWAITING_DROPOFF, CANCELLED, LABEL_FAILED, AWAITING_APPROVAL, REFUNDING}),
    # Retried (back to `requested`: the workflow issues the label again), or given up by the customer.
    LABEL_FAILED: frozenset({REQUESTED, CANCELLED}),
    # Approved returns go back to `requested`: the workflow then issues their label.
    IN_REVIEW: frozenset({REQUESTED, REJECTED, CANCELLED}),
    # A refund paid at the carrier's first scan or at receipt (rules/refund_timing.py) goes from here to
    # `refunding`: the status follows the money; the parcel's receipt and grading are recorded beside it.
    AWAITING_DROPOFF: frozenset({IN_TRANSIT, RECEIVED, CANCELLED, EXPIRED, REFUNDING}),
    # A withdrawal's refund is paid by its deadline once the parcel is sent, inspected or not (Art. 13(3)).
    # So does a refund paid at receipt (rules/refund_timing.py).
    IN_TRANSIT: frozenset({RECEIVED, LOST, REFUNDING}),
    RECEIVED: frozenset({INSPECTED, REFUNDING}),
    INSPECTED: frozenset({AWAITING_APPROVAL, REFUNDING}),
    AWAITING_APPROVAL: frozenset({REFUNDING}),
    REFUNDING: frozenset({REFUNDED, REFUND_FAILED}),
    REFUND_FAILED: frozenset({REFUNDING}),
    # A lost parcel settles as an inspected one: finance approves above the threshold.
    LOST: frozenset({AWAITING_APPROVAL, REFUNDING}),
    REFUNDED: frozenset({CLOSED, DISPUTED}),
    DISPUTED: frozenset({CLOSED, RESOLVED}),
    RESOLVED: frozenset({CLOSED}),
    EXPIRED: frozenset(),
    CLOSED: frozenset(),
    REJECTED: frozenset(),
    CANCELLED: frozenset(),
}

# Statuses in which the return still holds quantities of its order.
OPEN = frozenset(set(ALL) - {REJECTED, CANCELLED, EXPIRED})
# Not finished: the order's lines are frozen while one of these exists.
ACTIVE = frozenset(set(ALL) - {CLOSED, REJECTED, CANCELLED, EXPIRED})
# Before the parcel is handed to the carrier the customer may still cancel.
CANCELLABLE = frozenset({REQUESTED, IN_REVIEW, AWAITING_DROPOFF, LABEL_FAILED})
# A parcel in one of these may be scanned at the warehouse.
SCANNABLE = frozenset({AWAITING_DROPOFF, IN_TRANSIT})


# The workflow's waits: wait name -> the status in which that wait is pending. A wait is
# resumed by the write that moves the return out of its status (usecases/lifecycle.py).
WAITS = {
    "review": IN_REVIEW,
    "label_retry": LABEL_FAILED,
    "dropoff": AWAITING_DROPOFF,
    "arrival": IN_TRANSIT,
    "inspection": RECEIVED,
    "approval": AWAITING_APPROVAL,
    "refund_retry": REFUND_FAILED,
    "manual_refund": REFUNDING,   # and no manual reference recorded yet
    "confirmation": REFUNDED,
    "dispute": DISPUTED,                # ops resolves it (POST /returns/{id}/dispute/resolve)
    "dispute_followup": RESOLVED,       # the customer confirms after the resolution, or it closes
}


# A withdrawal's return, once its parcel is sent, waits against its refund deadline (the workflow's
# WithdrawalClock and its own waits), never in the lifecycle's plain arrival and inspection waits.
DEADLINE_CLOCKED = frozenset({"arrival", "inspection"})

# Waits that stay pending across more than one status. A withdrawal's parcel is waited for against the
# refund deadline from the moment it is sent until it is inspected: its arrival at the warehouse changes
# nothing the deadline cares about, so it does not end the wait (before, the scan resumed the workflow,
# which went through Route and the clock again only to wait once more for the same deadline: 4 billed
# transitions per withdrawal).
SPANNING_WAITS = {
    "withdrawal_parcel": frozenset({IN_TRANSIT, RECEIVED}),
}


def pending_in(wait: str) -> frozenset[str]:
    """The statuses in which the workflow wait `wait` is pending (one, except for a spanning wait)."""
    return SPANNING_WAITS.get(wait) or frozenset({WAITS[wait]})


def keeps_waiting(wait: str | None, current: str, new: str) -> bool:
    """Whether a move from `current` to `new` leaves the pending wait `wait` pending (its token kept)."""
    span = SPANNING_WAITS.get(wait or "")
    return span is not None and current in span and new in span


def waits_in(wait: str, entered_with: str, *, withdrawal: bool = False) -> bool:
    """Whether the workflow wait `wait`, entered with the status `entered_with` (what the step before it
    handed on), is the wait for that status. The workflow goes from each step straight to the wait that
    usually follows it; when this is False the step before ended otherwise (cancelled, received without a
    carrier event, waiting for finance, ...) and the workflow's Route choice decides from the status.

    `withdrawal`: the return is a withdrawal's (`$.withdrawal`). The withdrawal deadline's own waits
    (entered from the clock's choice, never straight from a step) do not ask."""
    if entered_with not in pending_in(wait):
        return False
    return not (withdrawal and wait in DEADLINE_CLOCKED)


def issues_label_in(entered_with: str, *, keep_item: bool = False) -> bool:
    """Whether the workflow's label step, entered with `entered_with`, has a label to issue. It is the
    execution's first state (a new return is `requested`); a return under review, a returnless one
    (`keep_item`: nothing is sent back) or an execution resumed in a later status goes to Route instead."""
    return entered_with == REQUESTED and not keep_item


def can_move(current: str, new: str) -> bool:
    return new in ALLOWED.get(current, frozenset())
