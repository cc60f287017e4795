"""The EU right of withdrawal: a customer's notice, previewed then confirmed, opens a return
(usecases/request_return.py, judged by rules/withdrawal.py) whose refund is due 14 days later.

The notice's acknowledgement (the `withdrawal_received` email) is sent at once; the notice is the
first entry of the return's timeline (append-only) and the return keeps `withdrawal`.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from .. import config
from ..rules import clock, policy, withdrawal as statutory
from ..rules.errors import ConflictError, UnprocessableError
from ..store.models import OrderModel, ReturnModel
from ..views import eligibility
from . import orders, request_return, side_effects

RESOLUTION = "refund"


def _applicable(order: OrderModel) -> None:
    country = (order.shipping_address or {}).get("country")
    if not statutory.applies_to(country):
        raise UnprocessableError("the right of withdrawal applies to orders shipped to an EU or EEA country",
                                 field="order_id", code="not_applicable")


def _period_over(order: OrderModel, decided: dict, skus: list[str]) -> bool:
    delivered = clock.parse(order.delivered_at) if order.delivered_at else None
    if delivered is None:
        return False
    age = clock.now() - delivered
    return all(age.total_seconds() > statutory.period_days(decided[sku].terms) * 86400 for sku in skus)


def _selection(order: OrderModel, lines: list[dict] | None) -> tuple[list[dict], dict]:
    """The lines withdrawn ({sku, qty, reason}) and the statutory decisions; 422 when the period is over."""
    _applicable(order)
    decided = request_return.withdrawal_decisions(order)
    known = [x["sku"] for x in order.lines]
    asked = [x["sku"] for x in lines] if lines else known
    if _period_over(order, decided, [s for s in asked if s in decided] or known):
        raise UnprocessableError("the withdrawal period of this order is over", field="order_id",
                                 code="withdrawal_period_over")
    if lines:
        chosen = [{"sku": x["sku"], "qty": int(x["qty"])} for x in lines]
    else:
        chosen = [{"sku": x["sku"], "qty": x["returnable_qty"]}
                  for x in eligibility(order, decided, statutory=True) if x["eligible"] and x["returnable_qty"] > 0]
        if not chosen:
            raise UnprocessableError("nothing on this order can still be withdrawn", field="lines",
                                     code="nothing_to_withdraw")
    return [{**x, "reason": statutory.REASON} for x in chosen], decided


def _delivery_refund(order: OrderModel, items: list[dict]) -> int:
    held = policy.held_quantities(order.reserved or {})
    whole = statutory.whole_order(order.lines, held, items)
    return int(order.shipping_paid or 0) if whole else 0


def _names(order: OrderModel) -> dict[str, str]:
    return {x["sku"]: x["name"] for x in order.lines}


def _lines_view(order: OrderModel, items: list[dict]) -> list[dict]:
    names = _names(order)
    return [{"sku": i["sku"], "name": names.get(i["sku"]), "qty": int(i["qty"])} for i in items]


@contextmanager
def _named_as_lines():
    """The return's checks name `items[n]`; the notice's body calls them `lines[n]`."""
    try:
        yield
    except UnprocessableError as exc:
        if exc.field and exc.field.startswith("items["):
            exc.field = "lines[" + exc.field[len("items["):]
        raise


def preview(order: OrderModel, lines: list[dict] | None) -> dict:
    """What confirming now would withdraw, refund at least, and by when (nothing stored)."""
    items, _ = _selection(order, lines)
    with _named_as_lines():
        quote = request_return.check(order, items, RESOLUTION, withdrawal=True)
    estimate = statutory.with_delivery_refund(quote.to_api(), _delivery_refund(order, items))
    due = statutory.refund_due_by(clock.now(), config.withdrawal_durations()["refund"])
    return {"preview": {"order_id": order.order_id, "lines": _lines_view(order, items),
                        "refund_estimate": {"amount": estimate["refund_amount"], "currency": order.currency,
                                            "items_total": estimate["items_total"],
                                            "delivery_refund": estimate["delivery_refund"]},
                        "refund_due_by": clock.iso(due)}}


def _opened_by(order_id: str, withdrawal_id: str) -> ReturnModel | None:
    for ret in orders.returns_of(order_id):
        if (ret.withdrawal or {}).get("withdrawal_id") == withdrawal_id:
            return ret
    return None


def confirm(order: OrderModel, lines: list[dict] | None, dropoff: dict | None, actor: str,
            stated_name: str | None = None) -> tuple[dict, bool]:
    """The notice: (its record, True when this call opened the return). The same lines again: the
    first notice's record, no second return. `stated_name`: the name the consumer gave in the notice,
    kept with it (the order's own name is the one on file)."""
    items, _ = _selection(order, lines)
    wid = statutory.withdrawal_id(order.order_id, items)
    if wid in (order.withdrawals or set()):
        found = _opened_by(order.order_id, wid)
        if found is not None:
            return record(found), False
    now = clock.now()
    notice = {"withdrawal_id": wid, "received_at": clock.iso(now),
              "refund_due_by": clock.iso(statutory.refund_due_by(now, config.withdrawal_durations()["refund"])),
              "delivery_refund": _delivery_refund(order, items), "lines": policy.holding(items)}
    if stated_name:
        notice["stated_name"] = stated_name
    try:
        with _named_as_lines():
            ret = request_return.create(order, items, RESOLUTION, dropoff or {"method": "letterbox"}, actor,
                                        withdrawal=notice)
    except ConflictError:
        found = _opened_by(order.order_id, wid)   # a concurrent confirm of the same notice won the write
        if found is None:
            raise
        return record(found), False
    side_effects.withdrawal_received(ret)
    return record(ret), True


def record(ret: ReturnModel) -> dict:
    """POST /withdrawals' answer (201), and the return's `withdrawal` as GET /returns shows it."""
    w = ret.withdrawal or {}
    return {"withdrawal_id": w.get("withdrawal_id"), "order_id": ret.order_id, "return_id": ret.return_id,
            "received_at": w.get("received_at"), "refund_due_by": w.get("refund_due_by"),
            "lines": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])} for i in ret.items]}


def finance_row(ret: ReturnModel, now: str) -> dict:
    """One line of GET /finance/withdrawals: the notice, its deadline, the refund date, on time or not."""
    w = ret.withdrawal or {}
    refunded_at = (ret.refund or {}).get("issued_at")
    return {"withdrawal_id": w.get("withdrawal_id"), "order_id": ret.order_id, "return_id": ret.return_id,
            "received_at": w.get("received_at"), "refund_due_by": w.get("refund_due_by"),
            "refunded_at": refunded_at, "on_time": statutory.on_time(w["refund_due_by"], refunded_at, now)}


def received_on(day: str, last_key: dict | None = None, limit: int = 100) -> tuple[list[ReturnModel], dict | None]:
    """The returns opened by a withdrawal notice received on `day` (UTC), by the sparse index."""
    page = ReturnModel.by_withdrawal_day.query(day, limit=limit, last_evaluated_key=last_key)
    hits = list(page)
    return ReturnModel.load_many(hits), page.last_evaluated_key


def clock_of(ret: ReturnModel, now: datetime | None = None) -> dict[str, int]:
    """The workflow's clock for this return's refund deadline (seconds to the alert and to the deadline),
    on the scale of the workflow's waits (config.wait_scale); the record's refund_due_by is not changed."""
    w = ret.withdrawal or {}
    return statutory.seconds_left(clock.parse(w["received_at"]), clock.parse(w["refund_due_by"]),
                                  now or clock.now(), config.withdrawal_durations()["alert_lead"],
                                  wait_scale=config.wait_scale())
