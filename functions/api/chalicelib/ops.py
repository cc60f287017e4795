"""Ops / customer service: risky-return reviews, refund retries, disputes and their resolution."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, raw
from .errors import route

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
