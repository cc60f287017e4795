"""The store's back office: pushing orders in, and telling us it shipped an exchange's replacement."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, raw
from .errors import route

bp = Blueprint(__name__)


@route(bp, "/orders/{order_id}", methods=["PUT"])
def put_order(order_id: str) -> Response:
    from returns_core.usecases import orders

    principal(bp.current_request, {"store"})
    schemas.OrderPath.checked(order_id)   # one rule for every order id that comes in (rules/ids.py)
    order = parse(bp.current_request, schemas.OrderUpsert)
    created = orders.upsert(order_id, order.model_dump(mode="json", exclude_none=True))
    return Response(body={"order_id": order_id, "created": created}, status_code=201 if created else 200)


@route(bp, "/returns/{return_id}/exchange/shipped", methods=["POST"])
def exchange_shipped(return_id: str) -> Response:
    """200 the return; a repeat of the same parcel is a no-op (the customer is emailed once)."""
    from returns_core import views
    from returns_core.usecases import exchanges

    request = bp.current_request
    who = principal(request, {"store"})
    body = raw(request)
    req = parse(request, schemas.ExchangeShipped)

    def effect() -> dict:
        ret, _ = exchanges.mark_shipped(return_id, req.tracking_number, req.carrier, req.tracking_url, who.sub)
        return views.return_view(ret)

    return idempotency.run(request, who.sub, body, effect)
