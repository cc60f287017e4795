"""Ops / customer service: risky-return reviews, refund retries, disputes."""
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
    from returns_core import clock, lifecycle, statuses, views
    from returns_core.models import ReturnModel

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Review)

    def effect() -> dict:
        ret = lifecycle.get(return_id)
        # Approved returns go back to `requested`: the workflow then issues their label.
        target = statuses.REQUESTED if req.decision == "approve" else statuses.REJECTED
        event = "review.approved" if req.decision == "approve" else "review.rejected"
        lifecycle.transition(ret, target, actor=who.sub, event=event, detail={"note": req.note} if req.note else None,
                             allowed_from={statuses.IN_REVIEW},
                             updates=[ReturnModel.review.set({"decision": req.decision, "by": who.sub,
                                                              "at": clock.iso(), "note": req.note})])
        return views.return_view(ret)

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/{return_id}/refund/retry", methods=["POST"])
def retry_refund(return_id: str) -> Response:
    from returns_core import lifecycle, statuses, views

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Note, empty_ok=True)

    def effect() -> dict:
        ret = lifecycle.get(return_id)
        lifecycle.transition(ret, statuses.REFUNDING, actor=who.sub, event="refund.retry_requested",
                             detail={"note": req.note} if req.note else None,
                             allowed_from={statuses.REFUND_FAILED})
        return views.return_view(ret)

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/ops/disputes", methods=["GET"])
def disputes() -> dict:
    from returns_core import statuses, views
    from returns_core.models import ReturnModel

    principal(bp.current_request, ROLES)
    hits = ReturnModel.by_status.query(statuses.DISPUTED, limit=200)
    return {"items": [views.return_view(r) for r in ReturnModel.load_many(hits)]}
