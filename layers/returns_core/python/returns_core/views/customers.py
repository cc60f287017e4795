"""A customer's orders and returns as customer service's search lists them (the full return: views.returns)."""
from __future__ import annotations

from ..store.models import OrderModel, ReturnModel
from .returns import risk_of


def order_summary(order: OrderModel) -> dict:
    payment = order.payment or {}
    return {"order_id": order.order_id, "currency": order.currency, "placed_at": order.placed_at,
            "delivered_at": order.delivered_at, "captured_amount": int(payment.get("captured_amount") or 0),
            "refunded_total": int(order.refunded_total or 0),
            "lines": [{"sku": x["sku"], "name": x.get("name"), "qty": int(x["qty"]), "unit_price": int(x["unit_price"])}
                      for x in order.lines]}


def return_summary(ret: ReturnModel) -> dict:
    refund = ret.refund or None
    label = ret.label or {}
    return {"return_id": ret.return_id, "order_id": ret.order_id, "status": ret.status,
            "status_since": ret.status_since, "created_at": ret.created_at, "resolution": ret.resolution,
            "currency": ret.currency, "code": ret.code, "tracking_number": label.get("tracking_number"),
            "refund_amount": int((ret.quote or {}).get("refund_amount") or 0),
            "refund": ({k: refund.get(k) for k in ("amount", "method", "status", "reference", "issued_at")}
                       if refund else None),
            "items": [{"sku": i["sku"], "qty": int(i["qty"]), "reason": i["reason"]} for i in ret.items],
            "exception": (ret.exception or None), "risk": risk_of(ret)}
