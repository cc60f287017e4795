"""What follows each status change: the domain event, the customer's message, ops alerts.

One table, so a newcomer finds in one place which step tells whom what. The state
change is already written when these run; a failing side effect is recorded and
alerted, it never undoes or blocks the change.
"""
from __future__ import annotations

import logging
from typing import Callable

from . import events, exchanges, lifecycle, notify, statuses
from .models import ReturnModel
from .views import plain

log = logging.getLogger(__name__)


def _release(ret: ReturnModel) -> None:
    from .return_requests import release
    release(ret)


def _exchange_once(ret: ReturnModel, lines: list[dict], when: str) -> None:
    """Publish `return.exchange_requested` at most once per return: a timeline flag, set by a versioned write
    before publishing, so a racing drop-off and scan (or a replayed step) cannot ask the store twice."""
    from pynamodb.exceptions import UpdateError

    for _ in range(lifecycle.MAX_ATTEMPTS):
        if exchanges.requested_lines(ret) is not None:
            return
        entry = lifecycle.timeline_entry(exchanges.REQUESTED, "system", {"when": when, "lines": lines})
        try:
            ret.update(actions=[ReturnModel.timeline.set(ReturnModel.timeline.append([entry]))])
            break
        except UpdateError as exc:
            if not lifecycle.is_conflict(exc):
                raise
            ret.refresh(consistent_read=True)
    else:
        raise RuntimeError("could not flag the exchange")
    events.publish("return.exchange_requested", ret, {"lines": lines, "when": when})


def _exchange(ret: ReturnModel) -> None:
    """After inspection: the items that passed are swapped (the others were refunded by grade)."""
    lines = [{"sku": i["sku"], "qty": int(i["qty"]), "exchange_for": next(
        (x.get("exchange_for") for x in plain(ret.items) if x["sku"] == i["sku"]), None)}
        for i in (plain(ret.inspection) or {}).get("items", []) if i.get("exchanged")]
    if lines:
        _exchange_once(ret, lines, "inspected")


def _instant_exchange(ret: ReturnModel) -> None:
    """A store that opted in for the order ships the replacement once the parcel is dropped off."""
    if ret.resolution != "exchange":
        return
    from . import orders
    if not orders.get(ret.order_id).instant_exchange:
        return
    lines = [{"sku": i["sku"], "qty": int(i["qty"]), "exchange_for": i.get("exchange_for")}
             for i in plain(ret.items) if i.get("exchange_for")]
    if lines:
        _exchange_once(ret, lines, "dropped_off")


# status -> (domain event, customer email template, SMS kind, ops alert, extra action)
RULES: dict[str, tuple[str, str | None, str | None, str | None, Callable[[ReturnModel], None] | None]] = {
    statuses.IN_REVIEW: ("return.review_required", None, None, "review_needed", None),
    statuses.AWAITING_DROPOFF: ("return.label_issued", "return_requested", "label_ready", None, None),
    statuses.IN_TRANSIT: ("return.in_transit", None, None, None, _instant_exchange),
    # A parcel scanned without a carrier drop-off event was dropped off all the same.
    statuses.RECEIVED: ("return.received", "parcel_received", None, None, _instant_exchange),
    statuses.INSPECTED: ("return.inspected", "inspection_result", None, None, None),
    statuses.AWAITING_APPROVAL: ("refund.approval_required", None, None, None, None),
    statuses.REFUNDING: ("refund.started", None, None, None, None),
    statuses.REFUNDED: ("refund.issued", "refund_issued", "refund_issued", None, _exchange),
    statuses.REFUND_FAILED: ("refund.failed", None, None, "refund_failed", None),
    statuses.CLOSED: ("return.closed", "return_closed", None, None, None),
    statuses.DISPUTED: ("return.disputed", "dispute_opened", None, "dispute_opened", None),
    statuses.CANCELLED: ("return.cancelled", None, None, None, _release),
    statuses.REJECTED: ("return.rejected", "review_outcome", None, None, _release),
    statuses.EXPIRED: ("return.expired", "return_expired", None, None, _release),
    statuses.LOST: ("return.lost", "parcel_lost", None, "parcel_lost", None),
}


# (previous, new) -> (domain event, customer email template): moves whose message depends on where they came from.
# An approved review sends the return back to `requested` (the workflow then issues its label); a new return
# starts in `requested` without a move, so it never gets this.
MOVES: dict[tuple[str, str], tuple[str, str]] = {
    (statuses.IN_REVIEW, statuses.REQUESTED): ("return.review_approved", "review_outcome"),
}


def _last_detail(ret: ReturnModel, *kinds: str) -> dict:
    for entry in reversed(plain(ret.timeline) or []):
        if entry.get("type") in kinds:
            return entry.get("detail") if isinstance(entry.get("detail"), dict) else {}
    return {}


def _email_extras(ret: ReturnModel, template: str) -> dict:
    """What a message says beyond the return itself: the reviewer's note, the customer's own words."""
    if template == "review_outcome":
        review = plain(ret.review) or {}
        return {"approved": ret.status != statuses.REJECTED, "note": review.get("note") or ""}
    if template == "dispute_opened":
        detail = _last_detail(ret, "return.disputed")
        return {"message": detail.get("message") or detail.get("comment") or ""}
    return {}


def _safely(what: str, ret: ReturnModel, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # the status is written; record the miss and tell ops, never fail the step
        log.exception("side effect failed", extra={"effect": what, "return_id": ret.return_id})
        try:
            lifecycle.record(ret, actor="system", event="effect.failed", detail={"effect": what,
                                                                                  "error": type(exc).__name__})
            events.alert_ops("notification_failed", ret, f"{what} failed: {type(exc).__name__}")
        except Exception:
            log.exception("could not report the failed side effect", extra={"return_id": ret.return_id})


def exchange_shipped(ret: ReturnModel, shipment: dict) -> None:
    """The store shipped the replacement (exchanges.mark_shipped wrote it once): tell the store's
    systems and the customer, with the tracking number."""
    data = {k: shipment.get(k) for k in ("tracking_number", "carrier", "tracking_url", "lines")}
    items = [{"sku": line.get("exchange_for") or line.get("sku"), "qty": line.get("qty")}
             for line in shipment.get("lines") or []]
    _safely("event:return.exchange_shipped", ret, lambda: events.publish("return.exchange_shipped", ret, data))
    _safely("email:exchange_shipping", ret, lambda: notify.email(
        ret, "exchange_shipping", tracking_number=shipment["tracking_number"],
        tracking_url=shipment.get("tracking_url") or "", items=items))


def _alert_text(ret: ReturnModel) -> tuple[str, dict | None]:
    """The alert's message and data: a lost parcel is a carrier claim for ops to file."""
    if ret.status == statuses.LOST:
        quote = plain(ret.quote) or {}
        return (f"return {ret.return_id}: parcel lost in transit, the customer is refunded; "
                "file a claim with the carrier", {"tracking_number": ret.tracking_number,
                                                  "declared_value": quote.get("items_total"),
                                                  "currency": ret.currency})
    return f"return {ret.return_id} is {ret.status}", None


def status_changed(ret: ReturnModel, previous: str) -> None:
    move = MOVES.get((previous, ret.status))
    if move:
        event, template = move
        _safely(f"event:{event}", ret, lambda: events.publish(event, ret, {"previous": previous}))
        _safely(f"email:{template}", ret, lambda: notify.email(ret, template, **_email_extras(ret, template)))
    rule = RULES.get(ret.status)
    if rule is None:
        return
    event, template, sms_kind, alert, extra = rule
    _safely(f"event:{event}", ret, lambda: events.publish(event, ret, {"previous": previous}))
    if extra:
        _safely(f"action:{ret.status}", ret, lambda: extra(ret))
    if alert:
        _safely(f"alert:{alert}", ret, lambda: events.alert_ops(alert, ret, *_alert_text(ret)))
    if template:
        _safely(f"email:{template}", ret, lambda: notify.email(ret, template, **_email_extras(ret, template)))
    if sms_kind:
        _safely(f"sms:{sms_kind}", ret, lambda: notify.sms(ret, sms_kind))


def requested(ret: ReturnModel) -> None:
    _safely("event:return.requested", ret, lambda: events.publish("return.requested", ret))
