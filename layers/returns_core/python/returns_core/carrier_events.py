"""Carrier tracking events: late, repeated or out of order, they never move a return backwards."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

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
    """Apply one event; (return, True) when new, (return, False) for a repeat.

    An event is known by `event@occurred_at`; the key is stored in the same conditional write
    that moves the status or adds the timeline entry, so a repeat, even a racing one, has no
    second effect.
    """
    ret = find_by_tracking(tracking_number)
    key = f"{event}@{occurred_at}"
    if key in (ret.carrier_events or []):
        return ret, False
    detail = {"event": event, "occurred_at": occurred_at, "location": location}
    remember = ReturnModel.carrier_events.set(ReturnModel.carrier_events.append([key]))
    move = _MOVES.get(event)
    if move and ret.status in move[1]:
        try:
            moved = lifecycle.transition(ret, move[0], actor="carrier", event=f"carrier.{event}", detail=detail,
                                         allowed_from=move[1], updates=[remember])
            if moved.changed:
                return ret, True
        except lifecycle.InvalidTransition:
            pass  # moved meanwhile (a scan, another event): only record it below
        ret.refresh(consistent_read=True)
    # Already further along (or an informational event): keep it in the timeline, move nothing.
    return ret, _record_once(ret, key, event, detail)


def _record_once(ret: ReturnModel, key: str, event: str, detail: dict) -> bool:
    for _ in range(lifecycle.MAX_ATTEMPTS):
        if key in (ret.carrier_events or []):
            return False
        try:
            ret.update(actions=[
                ReturnModel.timeline.set(ReturnModel.timeline.append(
                    [lifecycle.timeline_entry(f"carrier.{event}", "carrier", detail)])),
                ReturnModel.carrier_events.set(ReturnModel.carrier_events.append([key]))],
                condition=ReturnModel.status == ret.status)  # with the version check: nobody wrote since
            return True
        except UpdateError as exc:
            if not lifecycle.is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
    raise RuntimeError("could not record the carrier event")
