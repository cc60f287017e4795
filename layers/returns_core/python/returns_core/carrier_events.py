"""Carrier tracking events: late, repeated or out of order, they never move a return backwards."""
from __future__ import annotations

from . import lifecycle, statuses
from .errors import NotFoundError
from .models import ReturnModel

EVENTS = ("dropped_off", "in_transit", "delivered", "lost")
# The status each event moves a return to, and from which statuses it may.
_MOVES = {
    "dropped_off": (statuses.IN_TRANSIT, {statuses.AWAITING_DROPOFF}),
    "in_transit": (statuses.IN_TRANSIT, {statuses.AWAITING_DROPOFF}),
    "lost": (statuses.LOST, {statuses.IN_TRANSIT}),
}


def find_by_tracking(tracking_number: str) -> ReturnModel:
    for ret in ReturnModel.by_tracking.query(tracking_number, limit=1):
        return lifecycle.get(ret.return_id)
    raise NotFoundError("unknown tracking number", field="tracking_number", code="unknown_tracking_number")


def apply(tracking_number: str, event: str, occurred_at: str, location: str | None) -> tuple[ReturnModel, bool]:
    """Apply one event; (return, True) when new, (return, False) for a repeat."""
    ret = find_by_tracking(tracking_number)
    key = f"{event}@{occurred_at}"
    if key in (ret.carrier_events or []):
        return ret, False
    detail = {"event": event, "occurred_at": occurred_at, "location": location}
    move = _MOVES.get(event)
    if move and ret.status in move[1]:
        try:
            lifecycle.transition(ret, move[0], actor="carrier", event=f"carrier.{event}", detail=detail,
                                 allowed_from=move[1], updates=[ReturnModel.carrier_events.set(
                                     ReturnModel.carrier_events.append([key]))])
            return ret, True
        except lifecycle.InvalidTransition:
            ret.refresh(consistent_read=True)  # moved meanwhile: fall through and only record it
            if key in (ret.carrier_events or []):
                return ret, False
    # Already further along (or an informational event): keep it in the timeline, move nothing.
    lifecycle.record(ret, actor="carrier", event=f"carrier.{event}", detail=detail,
                     updates=[ReturnModel.carrier_events.set(ReturnModel.carrier_events.append([key]))])
    return ret, True
