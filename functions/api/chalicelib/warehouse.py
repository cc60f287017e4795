"""Warehouse staff: receiving parcels, grading them, the queue and unmatched parcels."""
from __future__ import annotations

from chalice import Blueprint

from . import routes, schemas
from .cursors import status_cursor_in, status_cursor_out
from .endpoints import Call, Effect, endpoint

bp = Blueprint(__name__)


@endpoint(bp, routes.SCAN)
def scan(call: Call) -> Effect:
    from returns_core.usecases import warehouse
    from returns_core.views import queues

    def effect() -> dict:
        ret, already = warehouse.scan(call.body.code, call.who.sub)
        return queues.scanned(ret, already)

    return effect


@endpoint(bp, routes.INSPECTION)
def inspection(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import records, warehouse

    def effect() -> dict:
        warehouse.inspect(return_id, [line.model_dump() for line in call.body.items], call.who.sub)
        return views.return_view(records.get_return(return_id))

    return effect


@endpoint(bp, routes.UNMATCHED)
def unmatched(call: Call) -> dict:
    from returns_core.usecases import warehouse

    return {"items": warehouse.unmatched()}


@endpoint(bp, routes.WAREHOUSE_QUEUE)
def queue(call: Call) -> dict:
    """Oldest first (the by_status GSI sorts by status_since), so the team works first-in first-out."""
    from returns_core.usecases import warehouse_queue

    q = call.query(schemas.QueueQuery)
    items, last = warehouse_queue.page(q.status, q.limit, status_cursor_in(q.cursor, q.status))
    return {"items": items, "next_cursor": status_cursor_out(last)}
