"""The EU right of withdrawal: the customer's notice (preview, then confirm) and finance's list of
notices with their refund deadlines. The rules are in returns_core (rules/withdrawal.py)."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import routes, schemas
from .authn import check_order
from .endpoints import Call, Effect, endpoint
from .finance import _days, _range, by_day

bp = Blueprint(__name__)


@endpoint(bp, routes.WITHDRAW)
def withdraw(call: Call) -> Effect:
    from returns_core.usecases import orders, withdrawals

    who, req = call.who, call.body
    lines = [x.model_dump() for x in req.lines] if req.lines else None

    def effect() -> Response:
        # Inside the effect: a reused Idempotency-Key is refused (422) before the order is looked at.
        check_order(who, req.order_id)
        order = orders.get(req.order_id)
        if not req.confirm:
            return Response(body=withdrawals.preview(order, lines), status_code=200)
        notice, opened = withdrawals.confirm(order, lines, req.dropoff.model_dump(exclude_none=True)
                                             if req.dropoff else None, who.sub, stated_name=req.name)
        return Response(body=notice, status_code=201 if opened else 200)

    return effect


@endpoint(bp, routes.FINANCE_WITHDRAWALS)
def finance_withdrawals(call: Call) -> dict:
    from returns_core.rules import clock
    from returns_core.usecases import withdrawals

    start, end = _range(call, required=True)
    page = call.query(schemas.Page)
    # The returns opened by a notice, day by day: one Query of the sparse index per day.
    found, next_cursor = by_day(_days(start, end), page.cursor, page.limit, withdrawals.received_on)
    now = clock.iso()
    return {"items": [withdrawals.finance_row(r, now) for r in found], "next_cursor": next_cursor}
