"""The replacement side of an exchange: the store ships it, the customer hears about it once.

The store is asked for a replacement by `return.exchange_requested` (effects.py: after a
passing inspection, or at drop-off when the order opted in). When it ships, it tells us
the tracking number; we keep it on the return with a conditional write, so a repeat is a
no-op and a second, different parcel is a conflict someone must look at.
"""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from . import clock, lifecycle
from .errors import ConflictError
from .models import ReturnModel
from .views import plain

REQUESTED = "exchange.requested"   # the timeline flag effects.py writes once per return (with the lines)
SHIPPED = "exchange.shipped"


def requested_lines(ret: ReturnModel) -> list[dict] | None:
    """The replacement lines the store was asked for, or None if it was not asked yet."""
    for entry in plain(ret.timeline) or []:
        if entry.get("type") == REQUESTED:
            return list((entry.get("detail") or {}).get("lines") or [])
    return None


def mark_shipped(return_id: str, tracking_number: str, carrier: str | None, tracking_url: str | None,
                 actor: str) -> tuple[ReturnModel, bool]:
    """(return, True) the first time; (return, False) for a repeat of the same parcel."""
    from . import effects

    ret = lifecycle.get(return_id)
    for _ in range(lifecycle.MAX_ATTEMPTS):
        current = plain(ret.exchange_shipment)
        if current:
            if current.get("tracking_number") == tracking_number:
                return ret, False
            raise ConflictError("the replacement already shipped with another tracking number",
                                code="exchange_already_shipped", field="tracking_number",
                                details={"tracking_number": current.get("tracking_number")})
        lines = requested_lines(ret) if ret.resolution == "exchange" else None
        if not lines:
            raise ConflictError("no replacement has been requested for this return yet",
                                code="exchange_not_requested", details={"status": ret.status})
        now = clock.iso()
        shipment = {"tracking_number": tracking_number, "carrier": carrier, "tracking_url": tracking_url,
                    "lines": lines, "at": now, "by": actor}
        entry = lifecycle.timeline_entry(SHIPPED, actor, {"tracking_number": tracking_number, "carrier": carrier},
                                         now)
        try:
            ret.update(actions=[ReturnModel.exchange_shipment.set(shipment),
                                ReturnModel.timeline.set(ReturnModel.timeline.append([entry]))],
                       condition=ReturnModel.exchange_shipment.does_not_exist())
        except UpdateError as exc:
            if not lifecycle.is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
            continue
        effects.exchange_shipped(ret, shipment)
        return ret, True
    raise ConflictError("the return is changing too fast; try again", code="invalid_status")
