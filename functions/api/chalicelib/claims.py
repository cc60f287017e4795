"""Claims: a problem with an order that needs no return parcel (usecases/claims.py).

The customer of the order opens one and adds photos; ops reads it (with the photos), lists them and
resolves each once. A customer reaches only the claims of its own order: another's is the same 404
an unknown id gets.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import check_order, principal
from .bodies import parse, query, raw
from .cursors import status_cursor_in, status_cursor_out
from .errors import ApiError, route

bp = Blueprint(__name__)
CUSTOMER = frozenset({"customer"})
OPS = frozenset({"ops"})
READERS = CUSTOMER | OPS


def _owned_claim(who, claim_id: str):
    """The claim, if this principal may see it; the same 404 for unknown and not-yours (a message
    link's token opens one return, never a claim)."""
    from returns_core.store import claims

    try:
        claim = claims.get(claim_id)
    except claims.ClaimNotFound:
        raise ApiError(404, "claim_not_found", "no such claim") from None
    if who.role == "customer" and (who.order_id != claim.order_id or who.return_id is not None):
        raise ApiError(404, "claim_not_found", "no such claim")
    return claim


@route(bp, "/claims", methods=["POST"])
def open_claim() -> Response:
    from returns_core.usecases import claims, orders
    from returns_core.views.claims import claim_view

    request = bp.current_request
    who = principal(request, CUSTOMER)
    body = raw(request)
    req = parse(request, schemas.ClaimCreate)

    def effect() -> Response:
        # In the effect: a key reused with another body is named as such first, whatever it names.
        check_order(who, req.order_id)
        claim = claims.open_claim(orders.get(req.order_id), req.kind, [x.model_dump() for x in req.lines],
                                  req.message, who.sub)
        return Response(body=claim_view(claim), status_code=201)

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/claims/{claim_id}/photos", methods=["POST"])
def add_photo(claim_id: str) -> Response:
    """A presigned POST for one image; the form itself is never stored in an idempotent response
    (it is fresh on every call, and each call is another photo)."""
    from returns_core.usecases import claims

    request = bp.current_request
    who = principal(request, CUSTOMER)
    req = parse(request, schemas.ClaimPhoto, empty_ok=True)
    claim = _owned_claim(who, claim_id)
    return Response(body=claims.add_photo(claim, req.content_type), status_code=201)


@route(bp, "/claims/{claim_id}", methods=["GET"])
def get_claim(claim_id: str) -> dict:
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    who = principal(bp.current_request, READERS)
    lang = query(bp.current_request, schemas.ReturnRead).lang or "en"
    claim = _owned_claim(who, claim_id)
    if who.role == "ops":
        # Checked on every read, each with a fresh link: a bad upload is never shown (claim_photos.check).
        return claim_view(claim, lang, photos=claims.photos_for_staff(claim), staff=True)
    return claim_view(claim, lang)


@route(bp, "/claims/{claim_id}/resolve", methods=["POST"])
def resolve_claim(claim_id: str) -> Response:
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    request = bp.current_request
    who = principal(request, OPS)
    body = raw(request)
    req = parse(request, schemas.ClaimResolve)

    def effect() -> dict:
        claim = _owned_claim(who, claim_id)
        return claim_view(claims.resolve(claim.claim_id, req.decision, req.amount, req.note, req.method, who.sub),
                          staff=True)

    return idempotency.run(request, who.sub, body, effect)




@route(bp, "/ops/claims", methods=["GET"])
def list_claims() -> dict:
    """Claims in one status (default open), oldest first; `refund_pending` lists refunds decided but
    not paid yet (resolve them again to pay them)."""
    from returns_core.usecases import claims
    from returns_core.views.claims import claim_view

    principal(bp.current_request, OPS)
    q = query(bp.current_request, schemas.ClaimsQuery)
    found, last = claims.listing(q.status, status_cursor_in(q.cursor, q.status, record_key="claim_id"), q.limit)
    items = [claim_view(c, staff=True, with_timeline=False) for c in found]
    return {"items": items, "next_cursor": status_cursor_out(last)}
