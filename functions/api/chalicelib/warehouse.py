"""Warehouse staff: receiving parcels, grading them, the queue and unmatched parcels."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, query, raw
from .cursors import status_cursor_in as _cursor_in
from .cursors import status_cursor_out as _cursor_out
from .errors import route

bp = Blueprint(__name__)
ROLES = frozenset({"warehouse"})


@route(bp, "/warehouse/scans", methods=["POST"])
def scan() -> Response:
    from returns_core.store.models import plain
    from returns_core.usecases import warehouse

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Scan)

    def effect() -> dict:
        ret, already = warehouse.scan(req.code, who.sub)
        return {"return_id": ret.return_id, "code": ret.code, "status": ret.status,
                "expected_items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])}
                                   for i in plain(ret.items)],
                "already_received": already}

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/{return_id}/inspection", methods=["POST"])
def inspection(return_id: str) -> Response:
    from returns_core import views
    from returns_core.store import returns
    from returns_core.usecases import warehouse

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Inspection)

    def effect() -> dict:
        warehouse.inspect(return_id, [line.model_dump() for line in req.items], who.sub)
        return views.return_view(returns.get(return_id))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/warehouse/unmatched", methods=["GET"])
def unmatched() -> dict:
    from returns_core.usecases import warehouse

    principal(bp.current_request, ROLES)
    return {"items": warehouse.unmatched()}


@route(bp, "/warehouse/queue", methods=["GET"])
def queue() -> dict:
    """Oldest first (the by_status GSI sorts by status_since), so the team works first-in first-out."""
    from returns_core.rules import clock
    from returns_core.store.models import ReturnModel, plain
    from returns_core.usecases import warehouse

    principal(bp.current_request, ROLES)
    q = query(bp.current_request, schemas.QueueQuery)
    found = ReturnModel.by_status.query(q.status, limit=q.limit, scan_index_forward=True,
                                        last_evaluated_key=_cursor_in(q.cursor, q.status))
    now = clock.now()
    items = [{"return_id": r.return_id, "order_id": r.order_id, "code": r.code, "status": r.status,
              "status_since": r.status_since, "resolution": r.resolution,
              "overdue": warehouse.overdue(r, now),
              "items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])} for i in plain(r.items)]}
             for r in found]
    return {"items": items, "next_cursor": _cursor_out(found.last_evaluated_key)}
