"""Claims: a problem with an order that needs no return parcel (usecases/claims.py).

The customer of the order opens one and adds photos; ops reads it (with the photos), lists them and
resolves each once. A customer reaches only the claims of its own order: another's is the same 404
an unknown id gets.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from . import routes, schemas
from .authn import check_order
from .cursors import status_cursor_in, status_cursor_out
from .endpoints import Call, Effect, endpoint
from .errors import ApiError

bp = Blueprint(__name__)


def _owned_claim(who, claim_id: str):
    """The claim, if this principal may see it; the same 404 for unknown and not-yours (a message
    link's token opens one return, never a claim)."""
    from returns_core.rules.errors import NotFoundError
    from returns_core.usecases import records

    try:
        claim = records.get_claim(claim_id)
    except NotFoundError:
        raise ApiError(404, "claim_not_found", "no such claim") from None
    if who.role == "customer" and (who.order_id != claim.order_id or who.return_id is not None):
        raise ApiError(404, "claim_not_found", "no such claim")
    return claim


@endpoint(bp, routes.OPEN_CLAIM)
def open_claim(call: Call) -> Effect:
    from returns_core.usecases import claims, orders
    from returns_core.views.claims import claim_view

    who, req = call.who, call.body

    def effect() -> Response:
        # In the effect: a key reused with another body is named as such first, whatever it names.
        check_order(who, req.order_id)
        claim = claims.open_claim(orders.get(req.order_id), req.kind, [x.model_dump() for x in req.lines],
                                  req.message, who.sub)
        return Response(body=claim_view(claim), status_code=201)

    return effect


@endpoint(bp, routes.ADD_PHOTO)
def add_photo(call: Call, claim_id: str) -> Response:
    """A presigned POST for one image; the form itself is never stored in an idempotent response
    (it is fresh on every call, and each call is another photo)."""
    from returns_core.usecases import claims

    claim = _owned_claim(call.who, claim_id)
    return Response(body=claims.add_photo(claim, call.body.content_type), status_code=201)


@endpoint(bp, routes.GET_CLAIM)
def get_claim(call: Call, claim_id: str) -> dict:
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    lang = call.query(schemas.ReturnRead).lang or "en"
    claim = _owned_claim(call.who, claim_id)
    if call.who.role == "ops":
        # Checked on every read, each with a fresh link: a bad upload is never shown (claim_photos.check).
        return claim_view(claim, lang, photos=claims.photos_for_staff(claim), staff=True)
    return claim_view(claim, lang)


@endpoint(bp, routes.RESOLVE_CLAIM)
def resolve_claim(call: Call, claim_id: str) -> Effect:
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    who, req = call.who, call.body

    def effect() -> dict:
        claim = _owned_claim(who, claim_id)
        return claim_view(claims.resolve(claim.claim_id, req.decision, req.amount, req.note, req.method, who.sub),
                          staff=True)

    return effect


@endpoint(bp, routes.LIST_CLAIMS)
def list_claims(call: Call) -> dict:
    """Claims in one status (default open), oldest first; `refund_pending` lists refunds decided but
    not paid yet (resolve them again to pay them)."""
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    q = call.query(schemas.ClaimsQuery)
    found, last = claims.listing(q.status, status_cursor_in(q.cursor, q.status, record_key="claim_id"), q.limit)
    items = [claim_view(c, staff=True, with_timeline=False) for c in found]
    return {"items": items, "next_cursor": status_cursor_out(last)}
