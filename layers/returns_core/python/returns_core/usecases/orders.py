"""Orders pushed by the store, and what of them a customer may still return."""
from __future__ import annotations

import hmac

from pynamodb.exceptions import PutError

from ..rules import clock, ids, paid, statuses
from ..rules.errors import ConflictError, NotFoundError, UnprocessableError
from ..store.models import OrderModel, ReturnModel


def get(order_id: str) -> OrderModel:
    try:
        return OrderModel.get(order_id, consistent_read=True)
    except OrderModel.DoesNotExist as exc:
        raise NotFoundError("order not found", code="order_not_found") from exc


class OrderOnce:
    """A return's order, read when first needed, then shared by one piece of work: a settlement's grading,
    its hold and its messages read one record. Every write through it (a hold, the ledger's append) leaves
    it as written, and those writes are versioned: one that finds it changed since reads it again."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        self._order: OrderModel | None = None

    def __call__(self) -> OrderModel:
        if self._order is None:
            self._order = get(self.order_id)
        return self._order


def upsert(order_id: str, data: dict) -> bool:
    """Create or update an order; True when created. Lines are frozen while returns are open."""
    for field, message in paid.order_problems(data["lines"], int(data["payment"]["captured_amount"]),
                                              data.get("shipping_paid")):
        raise UnprocessableError(message, field=field, code="invalid_value")
    now = clock.iso()
    try:
        order = OrderModel.get(order_id, consistent_read=True)
    except OrderModel.DoesNotExist:
        order = None
    if order is None:
        order = OrderModel(order_id, reserved={}, refund_holds={}, refunded_total=0)
        created = True
    else:
        created = False
        old_lines = order.lines
        if old_lines != data["lines"] and any(r.status in statuses.ACTIVE for r in returns_of(order_id)):
            raise ConflictError("the order's lines cannot change while it has open returns", field="lines",
                                code="order_has_open_returns")
        if int(order.refunded_total or 0) > int(data["payment"]["captured_amount"]):
            raise ConflictError("captured_amount is below what was already refunded", field="payment.captured_amount")
    order.customer = data["customer"]
    order.customer_key = ids.customer_key(data["customer"]["email"])
    order.currency = data["currency"]
    order.placed_at = data.get("placed_at")
    order.delivered_at = data.get("delivered_at")
    order.shipping_address = data.get("shipping_address")
    order.payment = data["payment"]
    order.shipping_paid = data.get("shipping_paid")
    order.lines = data["lines"]
    order.instant_exchange = bool(data.get("instant_exchange", False))
    order.updated_at = now
    try:
        order.save()  # VersionAttribute: a concurrent writer makes this fail instead of being overwritten
    except PutError as exc:
        raise ConflictError("the order changed meanwhile; send it again", code="order_changed") from exc
    return created


def find_for_customer(order_id: str, email: str) -> OrderModel:
    """The same error for an unknown order and a wrong email: ids cannot be probed."""
    try:
        order = OrderModel.get(order_id, consistent_read=True)
    except OrderModel.DoesNotExist:
        order = None
    given = ids.customer_key(email)
    if order is None or not hmac.compare_digest(order.customer_key, given):
        raise NotFoundError("no order matches this order number and email", code="order_not_found")
    return order


def prices(order: OrderModel) -> dict[str, int]:
    return {line["sku"]: int(line["unit_price"]) for line in order.lines}


def paid_for(order: OrderModel, items: list[dict], lines: dict[str, dict]) -> dict[str, int]:
    """sku -> what the customer paid for the units these items would take (rules/paid.py), after the
    units of each line already held by other returns. `lines`: the order's eligibility by sku."""
    held = {i["sku"]: int(lines[i["sku"]]["qty"]) - int(lines[i["sku"]]["returnable_qty"]) for i in items}
    return paid.items_paid(order.lines, int(order.payment["captured_amount"]),
                           int(order.shipping_paid) if order.shipping_paid is not None else None, items, held)


def returns_of(order_id: str) -> list[ReturnModel]:
    return ReturnModel.load_many(ReturnModel.by_order.query(order_id))


def release(ret: ReturnModel) -> None:
    """Give the quantities of a return that will not come back to the order again (idempotent)."""
    from ..store import writes

    try:
        order = OrderModel.get(ret.order_id, consistent_read=True)
    except OrderModel.DoesNotExist:
        return
    writes.forget_key(order, OrderModel.reserved, ret.return_id, [OrderModel.updated_at.set(clock.iso())])
