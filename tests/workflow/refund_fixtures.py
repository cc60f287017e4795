"""Orders and returns written straight through the models, for refund tests at the domain level."""
from __future__ import annotations

from returns_core.rules import clock
from returns_core.store.models import OrderModel, ReturnModel


def make_order(order_id: str, captured: int, provider: str = "manual", reference: str = "offline",
               units: int = 10) -> OrderModel:
    order = OrderModel(order_id, customer={"email": "ana@example.com", "name": "Ana", "locale": "en"},
                       customer_key="cust-" + order_id, currency="EUR",
                       payment={"provider": provider, "reference": reference, "captured_amount": captured},
                       lines=[{"sku": "A", "name": "A", "qty": units, "unit_price": 1000, "final_sale": False}],
                       updated_at=clock.iso())
    order.save()
    return order


def make_return(return_id: str, order_id: str, amount: int, resolution: str = "store_credit",
                status: str = "inspected", inspector: str = "wh:bob", qty: int = 1,
                reason: str = "defective", bonus: int = 0) -> ReturnModel:
    """`amount` from the capture; a store credit `bonus` (the store's money) on top of it."""
    now = clock.iso()
    ret = ReturnModel(return_id, order_id=order_id, code="C-" + return_id, customer_key="cust-" + order_id,
                      status=status, status_since=now, created_at=now, resolution=resolution, currency="EUR",
                      items=[{"sku": "A", "name": "A", "qty": qty, "reason": reason, "unit_price": 1000}],
                      quote={"items_total": amount, "restocking_fee": 0, "return_shipping_fee": 0, "bonus": bonus,
                             "refund_amount": amount + bonus},
                      dropoff={"method": "letterbox"},
                      inspection={"by": inspector, "at": now, "items": []},
                      timeline=[{"at": now, "type": "carrier.dropped_off", "actor": "carrier", "detail": None}])
    ret.save()
    return ret
