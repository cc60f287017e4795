"""Ops / customer service: risky-return reviews, refund retries, disputes and their resolution, customer
search with one timeline, and the queues of what waits for them."""
from __future__ import annotations

from chalice import Blueprint

from . import routes, schemas
from .cursors import status_cursor_in, status_cursor_out
from .endpoints import Call, Effect, endpoint
from .errors import ApiError

bp = Blueprint(__name__)


@endpoint(bp, routes.REVIEW)
def review(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import reviews

    req = call.body
    return lambda: views.return_view(reviews.decide(return_id, req.decision, req.note, call.who.sub))


@endpoint(bp, routes.RISK_VERDICT)
def risk_verdict(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import risk_scoring

    req = call.body
    return lambda: views.return_view(risk_scoring.record_verdict(return_id, req.verdict, req.note, call.who.sub))


@endpoint(bp, routes.RETRY_REFUND)
def retry_refund(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import settlement

    return lambda: views.return_view(settlement.retry(return_id, call.body.note, call.who.sub))


@endpoint(bp, routes.RESOLVE_DISPUTE)
def resolve_dispute(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import disputes

    req = call.body
    return lambda: views.return_view(disputes.resolve(return_id, req.decision, req.note, req.refund_amount,
                                                      req.method, call.who.sub))


@endpoint(bp, routes.LABEL_FAILURES)
def label_failures(call: Call) -> dict:
    """Returns whose label could not be issued, for ops to retry (POST /returns/{id}/label/retry)."""
    from returns_core.rules import statuses
    from returns_core.views import queues

    return {"items": queues.in_status(statuses.LABEL_FAILED)}


@endpoint(bp, routes.OPS_RECOVERY)
def recovery(call: Call) -> dict:
    from returns_core.outbound import parked_effects
    from returns_core.usecases import workflow_recovery

    return {"workflows": workflow_recovery.stopped(), "parked_effects": parked_effects.count()}


@endpoint(bp, routes.REPLAY_EFFECTS)
def replay_effects(call: Call) -> dict:
    from returns_core.outbound import parked_effects

    return parked_effects.replay()


@endpoint(bp, routes.DISPUTES)
def disputes(call: Call) -> dict:
    from returns_core.rules import statuses
    from returns_core.views import queues

    return {"items": queues.in_status(statuses.DISPUTED)}


@endpoint(bp, routes.CUSTOMER_SEARCH)
def search_customer(call: Call) -> dict:
    """One customer's orders, returns, claims and one merged timeline, by exactly one of email,
    order_id, tracking_number. A read: no Idempotency-Key record (its answer holds personal data)."""
    from returns_core.usecases import customer_search

    req = call.body
    given = req.given()
    if len(given) != 1:
        field = given[1] if given else "email"
        raise ApiError(422, "one_search_key", "give exactly one of email, order_id, tracking_number", field=field)
    return customer_search.search(**{given[0]: getattr(req, given[0])})


@endpoint(bp, routes.OPS_QUEUE)
def queue(call: Call) -> dict:
    """One status's returns, oldest first, each with `overdue`: the review queue (in_review), failed
    refunds (refund_failed), refunds waiting (awaiting_approval, refunding), lost parcels (lost)..."""
    from returns_core.usecases import ops_queue

    q = call.query(schemas.OpsQueueQuery)
    items, last = ops_queue.page(q.status, q.limit, status_cursor_in(q.cursor, q.status))
    return {"items": items, "next_cursor": status_cursor_out(last)}
