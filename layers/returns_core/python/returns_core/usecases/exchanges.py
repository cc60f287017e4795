"""The replacement side of an exchange: the store ships it, the customer hears about it once.

The store is asked for a replacement by `return.exchange_requested` (side_effects.py: after a
passing inspection, or at drop-off when the order opted in). When it ships, it tells us
the tracking number; we keep it on the return with a conditional write, so a repeat is a
no-op and a second, different parcel is a conflict someone must look at.
"""
from __future__ import annotations

from ..rules import clock, exchanges, timeline
from ..rules.errors import ConflictError
from ..store import returns, writes
from ..store.models import ReturnModel
from . import side_effects


def mark_shipped(return_id: str, tracking_number: str, carrier: str | None, tracking_url: str | None,
                 actor: str) -> tuple[ReturnModel, bool]:
    """(return, True) the first time; (return, False) for a repeat of the same parcel."""
    def decide(ret: ReturnModel) -> writes.Update | None:
        current = ret.exchange_shipment
        if current:
            if current.get("tracking_number") == tracking_number:
                return None
            raise ConflictError("the replacement already shipped with another tracking number",
                                code="exchange_already_shipped", field="tracking_number",
                                details={"tracking_number": current.get("tracking_number")})
        lines = exchanges.requested_lines(returns.timeline_of(ret)) if ret.resolution == "exchange" else None
        if not lines:
            raise ConflictError("no replacement has been requested for this return yet",
                                code="exchange_not_requested", details={"status": ret.status})
        now = clock.iso()
        shipment = {"tracking_number": tracking_number, "carrier": carrier, "tracking_url": tracking_url,
                    "lines": lines, "at": now, "by": actor}
        entry = timeline.entry(exchanges.SHIPPED, actor, {"tracking_number": tracking_number, "carrier": carrier},
                               now)
        return writes.Update([ReturnModel.exchange_shipment.set(shipment)],
                             condition=ReturnModel.exchange_shipment.does_not_exist(), memo=shipment,
                             timeline=[entry])

    ret = returns.get(return_id)
    written = writes.update(ret, decide, busy=lambda: ConflictError("the return is changing too fast; try again",
                                                                    code="invalid_status"))
    if written is None:
        return ret, False
    side_effects.exchange_shipped(ret, written.memo)
    return ret, True
