"""The store's back office: pushing orders in."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import schemas
from .authn import principal
from .bodies import parse
from .errors import ApiError, route

bp = Blueprint(__name__)


@route(bp, "/orders/{order_id}", methods=["PUT"])
def put_order(order_id: str) -> Response:
    from returns_core import orders

    principal(bp.current_request, {"store"})
    if not order_id or len(order_id) > 64:
        raise ApiError(422, "invalid_value", "order_id must be 1-64 characters", field="order_id")
    order = parse(bp.current_request, schemas.OrderUpsert)
    created = orders.upsert(order_id, order.model_dump(mode="json", exclude_none=True))
    return Response(body={"order_id": order_id, "created": created}, status_code=201 if created else 200)
