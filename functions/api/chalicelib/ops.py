"""Ops / customer service: risky-return reviews, refund retries, disputes and their resolution, customer
search with one timeline, and the queues of what waits for them."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, query, raw
from .cursors import status_cursor_in, status_cursor_out
from .errors import ApiError, route

bp = Blueprint(__name__)
ROLES = frozenset({"ops"})


@route(bp, "/returns/{return_id}/review", methods=["POST"])
def review(return_id: str) -> Response:
    from returns_core import views
    from returns_core.usecases import reviews

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Review)

    def effect() -> dict:
        return views.return_view(reviews.decide(return_id, req.decision, req.note, who.sub))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/{return_id}/refund/retry", methods=["POST"])
def retry_refund(return_id: str) -> Response:
    from returns_core import views
    from returns_core.usecases import settlement

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Note, empty_ok=True)

    def effect() -> dict:
        return views.return_view(settlement.retry(return_id, req.note, who.sub))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/{return_id}/dispute/resolve", methods=["POST"])
def resolve_dispute(return_id: str) -> Response:
    from returns_core import views
    from returns_core.usecases import disputes

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.DisputeResolve)

    def effect() -> dict:
        return views.return_view(disputes.resolve(return_id, req.decision, req.note, req.refund_amount,
                                                  req.method, who.sub))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/ops/label-failures", methods=["GET"])
def label_failures() -> dict:
    """Returns whose label could not be issued, for ops to retry (POST /returns/{id}/label/retry)."""
    from returns_core import views
    from returns_core.rules import statuses
    from returns_core.store.models import ReturnModel

    principal(bp.current_request, ROLES)
    hits = ReturnModel.by_status.query(statuses.LABEL_FAILED, limit=200)
    return {"items": [views.return_view(r) for r in ReturnModel.load_many(hits)]}


@route(bp, "/ops/disputes", methods=["GET"])
def disputes() -> dict:
    from returns_core import views
    from returns_core.rules import statuses
    from returns_core.store.models import ReturnModel

    principal(bp.current_request, ROLES)
    hits = ReturnModel.by_status.query(statuses.DISPUTED, limit=200)
    return {"items": [views.return_view(r) for r in ReturnModel.load_many(hits)]}


@route(bp, "/ops/customers/search", methods=["POST"])
def search_customer() -> dict:
    """One customer's orders, returns, claims and one merged timeline, by exactly one of email,
    order_id, tracking_number. A read: no Idempotency-Key record (its answer holds personal data)."""
    from returns_core.usecases import customer_search

    request = bp.current_request
    principal(request, ROLES)
    req = parse(request, schemas.CustomerSearch)
    given = req.given()
    if len(given) != 1:
        field = given[1] if given else "email"
        raise ApiError(422, "one_search_key", "give exactly one of email, order_id, tracking_number", field=field)
    return customer_search.search(**{given[0]: getattr(req, given[0])})


@route(bp, "/ops/queue", methods=["GET"])
def queue() -> dict:
    """One status's returns, oldest first, each with `overdue`: the review queue (in_review), failed
    refunds (refund_failed), refunds waiting (awaiting_approval, refunding), lost parcels (lost)..."""
    from returns_core.usecases import ops_queue

    principal(bp.current_request, ROLES)
    q = query(bp.current_request, schemas.OpsQueueQuery)
    items, last = ops_queue.page(q.status, q.limit, status_cursor_in(q.cursor, q.status))
    return {"items": items, "next_cursor": status_cursor_out(last)}
