"""Orders pushed by the store, and what of them a customer may still return."""
from __future__ import annotations

import hmac
from typing import Any

from pynamodb.exceptions import PutError

from . import clock, ids, policy, statuses
from .errors import ConflictError, NotFoundError
from .models import OrderModel, ReturnModel


def _plain(value: Any) -> Any:
    return value.as_dict() if hasattr(value, "as_dict") else value


def get(order_id: str) -> OrderModel:
    try:
        return OrderModel.get(order_id, consistent_read=True)
    except OrderModel.DoesNotExist as exc:
        raise NotFoundError("order not found", code="order_not_found") from exc


def upsert(order_id: str, data: dict) -> bool:
    """Create or update an order; True when created. Lines are frozen while returns are open."""
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
        old_lines = [_plain(x) for x in order.lines]
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


def reserved_qty(order: OrderModel) -> dict[str, int]:
    """sku -> quantity held by returns (per-return maps, so releasing one is idempotent)."""
    total: dict[str, int] = {}
    for held in _plain(order.reserved or {}).values():
        for sku, qty in held.items():
            total[sku] = total.get(sku, 0) + int(qty)
    return total


def eligibility(order: OrderModel, pol: policy.Policy = policy.DEFAULT) -> list[dict]:
    reserved = reserved_qty(order)
    delivered = clock.parse(order.delivered_at) if order.delivered_at else None
    now = clock.now()
    out = []
    for line in order.lines:
        line = _plain(line)
        e = policy.line_eligibility(line, delivered, now, int(reserved.get(line["sku"], 0)), pol)
        out.append({"sku": line["sku"], "name": line["name"], "qty": int(line["qty"]),
                    "returnable_qty": e.returnable_qty, "unit_price": int(line["unit_price"]),
                    "eligible": e.eligible, "ineligible_reason": e.reason})
    return out


def view(order: OrderModel) -> dict:
    # Only where relay points are searched from: the token holder sees no address or name.
    home = _plain(order.shipping_address) or {}
    return {"order_id": order.order_id, "currency": order.currency, "lines": eligibility(order),
            "shipping": {"postcode": home.get("postcode"), "country": home.get("country")}}


def returns_of(order_id: str) -> list[ReturnModel]:
    return ReturnModel.load_many(ReturnModel.by_order.query(order_id))


def open_returns(order_id: str) -> list[ReturnModel]:
    return [r for r in returns_of(order_id) if r.status in statuses.OPEN]
