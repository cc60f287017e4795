"""The EU right of withdrawal: the customer's notice (preview, then confirm) and finance's list of
notices with their refund deadlines. The rules are in returns_core (rules/withdrawal.py)."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import check_order, principal
from .bodies import parse, query, raw
from .errors import route
from .finance import _days, _decode_cursor, _encode_cursor, _range

bp = Blueprint(__name__)


@route(bp, "/withdrawals", methods=["POST"])
def withdraw() -> Response:
    from returns_core.usecases import orders, withdrawals

    request = bp.current_request
    who = principal(request, {"customer"})
    body = raw(request)
    req = parse(request, schemas.WithdrawalNotice)
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

    return idempotency.run(request, who.sub, body, effect)


def _page(days: list[str], cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Up to `limit` returns opened by a notice, day by day; one Query of the sparse index per day."""
    from returns_core.usecases import withdrawals

    day, key = _decode_cursor(cursor, days) if cursor else (days[0], None)
    found: list = []
    for i in range(days.index(day), len(days)):
        rets, key = withdrawals.received_on(days[i], key, limit - len(found))
        found.extend(rets)
        if len(found) >= limit:
            if key is not None:
                return found, _encode_cursor(days[i], key)
            return found, _encode_cursor(days[i + 1], None) if i + 1 < len(days) else None
        key = None
    return found, None


@route(bp, "/finance/withdrawals", methods=["GET"])
def finance_withdrawals() -> dict:
    from returns_core.rules import clock
    from returns_core.usecases import withdrawals

    request = bp.current_request
    principal(request, {"finance"})
    start, end = _range(request, required=True)
    page = query(request, schemas.Page)
    found, next_cursor = _page(_days(start, end), page.cursor, page.limit)
    now = clock.iso()
    return {"items": [withdrawals.finance_row(r, now) for r in found], "next_cursor": next_cursor}
