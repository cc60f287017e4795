"""The store's back office: pushing orders in, and telling us it shipped an exchange's replacement."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import routes
from .endpoints import Call, Effect, endpoint

bp = Blueprint(__name__)


@endpoint(bp, routes.PUT_ORDER)
def put_order(call: Call, order_id: str) -> Response:
    from returns_core.usecases import orders

    created = orders.upsert(order_id, call.body.model_dump(mode="json", exclude_none=True))
    return Response(body={"order_id": order_id, "created": created}, status_code=201 if created else 200)


@endpoint(bp, routes.EXCHANGE_SHIPPED)
def exchange_shipped(call: Call, return_id: str) -> Effect:
    """200 the return; a repeat of the same parcel is a no-op (the customer is emailed once)."""
    from returns_core import views
    from returns_core.usecases import exchanges

    req = call.body

    def effect() -> dict:
        ret, _ = exchanges.mark_shipped(return_id, req.tracking_number, req.carrier, req.tracking_url, call.who.sub)
        return views.return_view(ret)

    return effect
