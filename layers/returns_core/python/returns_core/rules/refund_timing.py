"""When a return's refund is paid: at inspection (the default), at the warehouse's receipt, or at the
carrier's first scan; and why a return pays later than its policy asks (risk, approval, exchange).

Pure. Decided once, when the return is requested (usecases/request_return.py), and kept on it
(`refund_timing`), like the rest of what its policy version decided.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import risk

INSPECTION, RECEIPT, FIRST_SCAN = "inspection", "receipt", "first_scan"
# Earliest last: a return whose items ask for different moments pays at the latest of them.
MOMENTS = (INSPECTION, RECEIPT, FIRST_SCAN)
DEFAULT_HOLD_ABOVE = 50

# Why a refund waits for the inspection although its policy asks for earlier.
HELD_BY_RISK = "risk"            # the score is above the policy's risk_hold_above
HELD_BY_APPROVAL = "approval"    # finance approves this amount, after grading (four eyes)
HELD_BY_EXCHANGE = "exchange"    # the replacement is decided by the grading


@dataclass(frozen=True)
class Timing:
    asked: str                 # what the policy asks (the latest of the items' moments)
    on: str                    # when the refund is paid
    held_by: str | None = None
    score: int = 0
    hold_above: int = DEFAULT_HOLD_ABOVE

    def to_stored(self) -> dict[str, Any]:
        return {"asked": self.asked, "on": self.on, "held_by": self.held_by, "score": self.score,
                "hold_above": self.hold_above}


def decide(asked_by_item: list[str], hold_above_by_item: list[int], score: int, resolution: str,
           needs_approval: bool) -> Timing:
    """The moment the refund is paid. Any item asking for the inspection makes it the inspection; the
    strictest (lowest) hold threshold of the items holds."""
    asked = min(asked_by_item or [INSPECTION], key=MOMENTS.index)
    hold_above = min(hold_above_by_item or [DEFAULT_HOLD_ABOVE])
    held_by = None
    if asked != INSPECTION:
        if resolution == "exchange":
            held_by = HELD_BY_EXCHANGE
        elif needs_approval:
            held_by = HELD_BY_APPROVAL
        elif risk.held(score, hold_above):
            held_by = HELD_BY_RISK
    return Timing(asked, INSPECTION if held_by else asked, held_by, score, hold_above)


# The carrier events that are a first scan: the parcel is in the carrier's hands.
FIRST_SCAN_EVENTS = frozenset({"dropped_off", "in_transit"})
# What timeline types tell of it (the analytics count them): the refund paid before the inspection (its
# detail says `on`: first_scan or receipt), and an inspection that found less than was paid.
PAID_EARLY_EVENT = "refund.paid_early"
BELOW_REFUND_EVENT = "inspection.below_refund"
BELOW_REFUND_ALERT = "inspection_below_refund"


def pays_at_first_scan(stored: dict[str, Any] | None, carrier_event: str) -> bool:
    return (stored or {}).get("on") == FIRST_SCAN and carrier_event in FIRST_SCAN_EVENTS


def pays_at_receipt(stored: dict[str, Any] | None) -> bool:
    """A parcel received before any carrier scan was sent all the same: first_scan pays at receipt too."""
    return (stored or {}).get("on") in (RECEIPT, FIRST_SCAN)


def paid_early(stored: dict[str, Any] | None) -> bool:
    """Whether the refund was started before the inspection (the parcel is received and graded after)."""
    return bool((stored or {}).get("paid_early_at"))


def below_refund(paid: int, inspected: int) -> int:
    """What an inspection found less than was already paid (0 when it found as much or more)."""
    return max(0, paid - inspected)
