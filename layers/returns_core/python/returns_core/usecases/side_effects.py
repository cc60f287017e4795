"""Carrying out rules/effects.py after a status change: the domain event, the customer's message,
the ops alert and the domain's follow-up.

The state change is already written when these run; a failing side effect is recorded and
alerted, it never undoes or blocks the change.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from .. import config
from ..outbound import events
from ..rules import effects, exchanges, policy, statuses, timeline
from ..store import returns, writes
from ..store.models import ReturnModel
from . import notify, orders

log = logging.getLogger(__name__)


def _exchange_once(ret: ReturnModel, lines: list[dict], when: str) -> None:
    """Publish `return.exchange_requested` at most once per return: a timeline flag, set by a versioned write
    before publishing, so a racing drop-off and scan (or a replayed step) cannot ask the store twice."""
    def decide(ret: ReturnModel) -> writes.Update | None:
        if exchanges.requested_lines(returns.timeline_of(ret)) is not None:
            return None
        return writes.Update([], timeline=[timeline.entry(exchanges.REQUESTED, "system",
                                                          {"when": when, "lines": lines})])

    if writes.update(ret, decide, busy=lambda: RuntimeError("could not flag the exchange")) is not None:
        events.publish(effects.EXCHANGE_REQUESTED_EVENT, ret, {"lines": lines, "when": when})


def _exchange_after_inspection(ret: ReturnModel, order: orders.OrderOnce) -> None:
    lines = exchanges.lines_after_inspection(ret.items, ret.inspection)
    if lines:
        _exchange_once(ret, lines, "inspected")


def _instant_exchange(ret: ReturnModel, order: orders.OrderOnce) -> None:
    """A store that opted in for the order ships the replacement once the parcel is dropped off."""
    if ret.resolution != "exchange" or not order().instant_exchange:
        return
    lines = exchanges.lines_at_dropoff(ret.items)
    if lines:
        _exchange_once(ret, lines, "dropped_off")


ACTIONS: dict[str, Callable[[ReturnModel, orders.OrderOnce], None]] = {
    # A versioned write on the order that reads it itself (and finds none gone quietly).
    effects.RELEASE: lambda ret, order: orders.release(ret),
    effects.INSTANT_EXCHANGE: _instant_exchange,
    effects.EXCHANGE: _exchange_after_inspection,
}


def _last_detail(ret: ReturnModel, *kinds: str) -> dict:
    for entry in reversed(returns.timeline_of(ret)):
        if entry.get("type") in kinds:
            return entry.get("detail") if isinstance(entry.get("detail"), dict) else {}
    return {}


def dispute_closes_after_days() -> int:
    """Whole days from a dispute's resolution to its automatic close, as its email tells the customer."""
    return max(1, -(-config.periods()["dispute_followup"] // 86400))


def _email_extras(ret: ReturnModel, template: str) -> dict:
    """What a message says beyond the return itself: the reviewer's note, the customer's own words."""
    if template == "review_outcome":
        review = ret.review or {}
        return {"approved": ret.status != statuses.REJECTED, "note": review.get("note") or ""}
    if template == "dispute_opened":
        detail = _last_detail(ret, "return.disputed")
        return {"message": detail.get("message") or detail.get("comment") or ""}
    if template == "dispute_resolved":
        resolution = ret.dispute_resolution or {}
        # The resolution's email is the case's last one: it says when the case closes on its own (the
        # workflow's AwaitDisputeFollowup waits this long, then DisputeAutoClose).
        return {"decision": resolution.get("decision") or "", "note": resolution.get("note") or "",
                "adjustment_amount": int(resolution.get("refund_amount") or 0),
                "closes_after_days": dispute_closes_after_days()}
    return {}


def _safely(what: str, ret: ReturnModel, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # the status is written; record the miss and tell ops, never fail the step
        log.exception("side effect failed", extra={"effect": what, "return_id": ret.return_id})
        try:
            returns.append_timeline(ret, actor="system", event="effect.failed",
                                    detail={"effect": what, "error": type(exc).__name__})
            events.alert_ops(effects.FAILED_ALERT, ret, f"{what} failed: {type(exc).__name__}")
        except Exception:
            log.exception("could not report the failed side effect", extra={"return_id": ret.return_id})


def exchange_shipped(ret: ReturnModel, shipment: dict) -> None:
    """The store shipped the replacement (exchanges.mark_shipped wrote it once): tell the store's
    systems and the customer, with the tracking number."""
    data = {k: shipment.get(k) for k in ("tracking_number", "carrier", "tracking_url", "lines")}
    items = [{"sku": line.get("exchange_for") or line.get("sku"), "qty": line.get("qty")}
             for line in shipment.get("lines") or []]
    event, template = effects.EXCHANGE_SHIPPED_EVENT, effects.EXCHANGE_SHIPPED_EMAIL
    _safely(f"event:{event}", ret, lambda: events.publish(event, ret, data))
    _safely(f"email:{template}", ret, lambda: notify.email(
        ret, template, tracking_number=shipment["tracking_number"],
        tracking_url=shipment.get("tracking_url") or "", items=items))


def _alert_text(ret: ReturnModel) -> tuple[str, dict | None]:
    """The alert's message and data: a lost parcel is a carrier claim for ops to file."""
    if ret.status == statuses.LOST:
        # What the goods were worth, not what this return refunds (an exchange refunds nothing).
        return (f"return {ret.return_id}: parcel lost in transit, the customer's return is settled as if it "
                "had arrived; file a claim with the carrier",
                {"tracking_number": ret.tracking_number, "declared_value": policy.declared_value(ret.items),
                 "currency": ret.currency})
    if ret.status == statuses.LABEL_FAILED:
        return (f"return {ret.return_id}: its label could not be issued; the customer may pick another drop-off, "
                f"or retry it with POST /returns/{ret.return_id}/label/retry", None)
    return f"return {ret.return_id} is {ret.status}", None


def _carry_out(ret: ReturnModel, previous: str, todo: effects.Effects, order: orders.OrderOnce, *,
               current: bool = True) -> None:
    news = effects.inspection_is_news(ret.items, (ret.inspection or {}).get("items"))
    todo = effects.announce(todo, (ret.refund or {}).get("amount"), inspection_news=news)
    _safely(f"event:{todo.event}", ret, lambda: events.publish(todo.event, ret, {"previous": previous}))
    if todo.action:
        _safely(f"action:{ret.status}", ret, lambda: ACTIONS[todo.action](ret, order))
    if not current:
        return   # the return moved on before this ran: the later move's message and alert tell what is true now
    if todo.alert:
        _safely(f"alert:{todo.alert}", ret, lambda: events.alert_ops(todo.alert, ret, *_alert_text(ret)))
    # The email and the SMS go to one customer, read once for both (inside each _safely: an order that
    # cannot be read is that message's failure, as before).
    if todo.email:
        _safely(f"email:{todo.email}", ret, lambda: notify.email(ret, todo.email, customer=order().customer,
                                                                 **_email_extras(ret, todo.email)))
    if todo.sms:
        _safely(f"sms:{todo.sms}", ret, lambda: notify.sms(ret, todo.sms, customer=order().customer))


def status_changed(ret: ReturnModel, previous: str, *, moved_to: str | None = None,
                   order: orders.OrderOnce | None = None) -> None:
    """The effects of the move from `previous` to `moved_to` (default: the return's status). Carried out
    later than the move (the StatusEffects function), the return may have moved on since: the move's
    event and follow-up still happen, its message and alert do not. `order`: the return's order as the
    mover reads it (read here, once, when it is needed and not given)."""
    moved_to = moved_to or ret.status
    # A move of its own replaces the status's rule: one event per change, the message the move calls for.
    todo = effects.MOVES.get((previous, moved_to)) or effects.RULES.get(moved_to)
    if todo:
        _carry_out(ret, previous, todo, order or orders.OrderOnce(ret.order_id), current=ret.status == moved_to)


def requested(ret: ReturnModel) -> None:
    event = effects.REQUESTED_EVENT
    _safely(f"event:{event}", ret, lambda: events.publish(event, ret))


def withdrawal_received(ret: ReturnModel) -> None:
    """The acknowledgement of a withdrawal notice, on a durable medium, at once (not by the workflow):
    what was withdrawn, and the date and time the notice was received."""
    event, template = effects.WITHDRAWAL_RECEIVED_EVENT, effects.WITHDRAWAL_RECEIVED_EMAIL
    _safely(f"event:{event}", ret, lambda: events.publish(event, ret, {"withdrawal": ret.withdrawal}))
    _safely(f"email:{template}", ret, lambda: notify.email(ret, template))
