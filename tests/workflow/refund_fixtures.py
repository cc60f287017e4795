"""Orders and returns written straight through the models, for refund tests at the domain level."""
from __future__ import annotations

from returns_core.rules import clock, policy
from returns_core.rules.errors import UnprocessableError
from returns_core.store import writes
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


def reserve_units(order_id: str, return_id: str, qty: int) -> None:
    """What POST /returns does to the order (usecases/request_return.py): the return's units are held on the
    order under its id, on the order's version, only while no return or claim holds them already
    (policy.held_quantities, the rule the portal's `returnable_qty` is read from). 422 when they are taken."""
    order = OrderModel.get(order_id, consistent_read=True)

    def decide(order: OrderModel) -> writes.Update:
        held = policy.held_quantities(order.reserved or {}).get("A", 0)
        if held + qty > int(order.lines[0]["qty"]):
            raise UnprocessableError(f"only {int(order.lines[0]['qty']) - held} of A can be returned",
                                     field="items[0].qty", code="over_quantity")
        return writes.Update([OrderModel.reserved[return_id].set(policy.holding([{"sku": "A", "qty": qty}]))])

    writes.update(order, decide, busy=lambda: RuntimeError("the order kept changing"))
