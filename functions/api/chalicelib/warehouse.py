"""Warehouse staff: receiving parcels, grading them, the queue and unmatched parcels."""
from __future__ import annotations

import base64
import json

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, query, raw
from .errors import ApiError, route

bp = Blueprint(__name__)
ROLES = frozenset({"warehouse"})


@route(bp, "/warehouse/scans", methods=["POST"])
def scan() -> Response:
    from returns_core import warehouse
    from returns_core.views import plain

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
    from returns_core import lifecycle, views, warehouse

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Inspection)

    def effect() -> dict:
        warehouse.inspect(return_id, [line.model_dump() for line in req.items], who.sub)
        return views.return_view(lifecycle.get(return_id))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/warehouse/unmatched", methods=["GET"])
def unmatched() -> dict:
    from returns_core import warehouse

    principal(bp.current_request, ROLES)
    return {"items": warehouse.unmatched()}


def _cursor_out(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def _cursor_in(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict):
            raise ValueError
        return key
    except ValueError:
        raise ApiError(400, "invalid_request", "cursor is not one this API returned", field="cursor") from None


@route(bp, "/warehouse/queue", methods=["GET"])
def queue() -> dict:
    from returns_core.models import ReturnModel
    from returns_core.views import plain

    principal(bp.current_request, ROLES)
    q = query(bp.current_request, schemas.QueueQuery)
    found = ReturnModel.by_status.query(q.status, limit=q.limit, last_evaluated_key=_cursor_in(q.cursor))
    items = [{"return_id": r.return_id, "order_id": r.order_id, "code": r.code, "status": r.status,
              "status_since": r.status_since, "resolution": r.resolution,
              "items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])} for i in plain(r.items)]}
             for r in found]
    return {"items": items, "next_cursor": _cursor_out(found.last_evaluated_key)}
