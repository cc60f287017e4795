"""What the warehouse does with a scanned parcel, by the status of its return."""
from __future__ import annotations

from . import statuses

# The parcel is in the building already: a scan of one of these changes nothing.
ARRIVED = frozenset({statuses.RECEIVED, statuses.INSPECTED, statuses.AWAITING_APPROVAL, statuses.REFUNDING,
                     statuses.REFUNDED, statuses.REFUND_FAILED, statuses.CLOSED, statuses.DISPUTED,
                     statuses.RESOLVED})
RECEIVED_EVENT = "parcel.received"
# What staff should do with a parcel whose return cannot be received (the 409's message).
SET_ASIDE = {
    statuses.CANCELLED: "this return was cancelled by the customer: do not restock it, "
                        "set the parcel aside for customer service",
    statuses.EXPIRED: "this return expired before it was dropped off: do not restock it, "
                      "set the parcel aside for customer service",
    statuses.REJECTED: "this return was rejected: do not restock it, set the parcel aside for customer service",
    statuses.LOST: "this parcel was declared lost and the customer's return already settled: do not restock it, "
                   "set it aside for customer service so the carrier claim can be withdrawn",
    statuses.REQUESTED: "this return has no label yet: set the parcel aside for customer service",
    statuses.IN_REVIEW: "this return is still being reviewed: set the parcel aside for customer service",
}


def set_aside(status: str, default: str | None = None) -> str:
    return SET_ASIDE.get(status, default or f"this return is {status}")
