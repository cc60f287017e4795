"""The customer's returns: find the order, start a return, follow it, cancel, confirm or dispute.

Every route taking a return id goes through `authn.owned_return`: a customer token
only ever reaches the returns of its own order.
"""
from __future__ import annotations

from chalice import Blueprint, Response
from returns_core.edge import auth

from . import idempotency, schemas, throttle
from .authn import STAFF, check_order, owned_return, principal, proves_order
from .bodies import parse, query, raw
from .errors import ApiError, route

bp = Blueprint(__name__)

READERS = frozenset({"customer", "store"} | STAFF)
# Who may start a return: the order's customer, the store, and customer service for a customer's order,
# which alone may make an exception to the eligibility rules (ReturnCreate.exception).
RETURN_STARTERS = frozenset({"customer", "store", "ops"})
EXCEPTION_MAKERS = frozenset({"ops"})
# The link tokens (edge/auth.py) each route takes: the label link downloads the label; the portal
# link is only exchanged for a session. A link sent before scopes existed does either.
LABEL_LINK_SCOPES = frozenset({auth.LABEL_SCOPE, auth.MESSAGE_SCOPE})
PORTAL_LINK_SCOPES = frozenset({auth.PORTAL_SCOPE, auth.MESSAGE_SCOPE})


def _policy(p=None, version: int | None = None) -> dict:
    """The defaults the lookup shows (the policy version in force, in the order's currency)."""
    from returns_core.rules import policy

    p = p or policy.DEFAULT
    return {"window_days": p.window_days, "return_shipping_fee": p.return_shipping_fee, "version": version,
            "restocking_fee_percent": p.restocking_fee_percent,
            "store_credit_bonus_percent": p.store_credit_bonus_percent,
            "reasons": list(policy.REASONS), "resolutions": list(p.resolutions),
            "dropoff_methods": ["relay_point", "letterbox"]}


@route(bp, "/returns/lookup", methods=["POST"])
def lookup() -> dict:
    # No Idempotency-Key record here: the lookup changes nothing, and its answer holds a credential.
    from returns_core import views
    from returns_core.outbound import carriers
    from returns_core.rules.errors import NotFoundError
    from returns_core.usecases import orders, policies

    body = parse(bp.current_request, schemas.Lookup)
    client = throttle.client_of(bp.current_request)
    throttle.check(client, body.order_id, body.email, proven=proves_order(bp.current_request, body.order_id))
    try:
        order = orders.find_for_customer(body.order_id, body.email)
    except NotFoundError:
        throttle.failed(client, body.order_id, body.email)
        raise
    token = auth.mint("customer", sub=f"customer:{order.order_id}", order_id=order.order_id,
                      ttl=auth.CUSTOMER_TTL_SECONDS)
    in_force, decided, defaults = policies.for_lookup(order)
    # `dropoff_countries`: where the carrier collects (relay points, letterboxes), so the portal never
    # offers a country it would then refuse.
    return {"token": token, "expires_in": auth.CUSTOMER_TTL_SECONDS, "order": views.order_view(order, decided),
            "policy": _policy(defaults, in_force.version), "dropoff_countries": list(carriers.get_carrier().countries())}


@route(bp, "/relay-points", methods=["GET"])
def relay_points() -> dict:
    from returns_core.outbound import carriers

    q = query(bp.current_request, schemas.RelayPointQuery)
    found = carriers.get_carrier().search_relay_points(q.postcode, q.country, q.limit)
    return {"items": [point.to_api(distance) for point, distance in found]}


@route(bp, "/returns", methods=["POST"])
def create_return() -> Response:
    from returns_core import views
    from returns_core.usecases import orders, request_return

    request = bp.current_request
    who = principal(request, RETURN_STARTERS)
    body = raw(request)
    req = parse(request, schemas.ReturnCreate)
    check_order(who, req.order_id)
    if req.exception is not None and who.role not in EXCEPTION_MAKERS:
        raise ApiError(403, "exception_not_allowed", "only customer service may make an exception",
                       field="exception")

    def effect() -> Response:
        order = orders.get(req.order_id)
        ret = request_return.create(
            order, [i.model_dump() for i in req.items], req.resolution,
            req.dropoff.model_dump(exclude_none=True), actor=who.sub,
            exception=req.exception.model_dump() if req.exception else None)
        return Response(body=views.return_view_for(who.role, ret), status_code=201)

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/quote", methods=["POST"])
def quote() -> dict:
    """What `POST /returns` would quote for this selection: the portal's live quote, from the one policy."""
    from returns_core.usecases import orders, request_return

    request = bp.current_request
    who = principal(request, {"customer", "store"})
    req = parse(request, schemas.QuoteRequest)
    check_order(who, req.order_id)
    order = orders.get(req.order_id)
    found = request_return.check(order, [i.model_dump() for i in req.items], req.resolution)
    return {"order_id": order.order_id, "currency": order.currency, "resolution": req.resolution,
            "quote": found.to_api()}


@route(bp, "/returns/{return_id}", methods=["GET"])
def get_return(return_id: str) -> dict:
    from returns_core import views
    from returns_core.outbound import carriers
    from returns_core.usecases import labels

    who = principal(bp.current_request, READERS)
    lang = query(bp.current_request, schemas.ReturnRead).lang or "en"
    ret = owned_return(who, return_id)
    view = views.return_view_for(who.role, ret, lang)
    if view["label"]:
        # Fresh on every read (it expires): never part of a stored idempotent response.
        view["label"]["download_url"] = labels.presigned_url(ret, seconds=15 * 60)
    # As at lookup: a portal opened from a message link (no lookup) offers a failed label's
    # collection address only in the countries the carrier serves.
    view["dropoff_countries"] = list(carriers.get_carrier().countries())
    return view


@route(bp, "/returns/{return_id}/label", methods=["GET"])
def get_label(return_id: str) -> Response:
    from returns_core.outbound import label_store
    from returns_core.store.models import plain

    # The label link in a message (its token downloads this and nothing else), or any reader's token.
    who = principal(bp.current_request, READERS, link_in_query=True, scopes=LABEL_LINK_SCOPES)
    ret = owned_return(who, return_id)
    label = plain(ret.label) or {}
    pdf = label_store.read(label["s3_key"]) if label.get("s3_key") else None
    if pdf is None:
        raise ApiError(404, "label_not_ready", "the label has not been issued yet")
    return Response(body=pdf, status_code=200, headers={
        "Content-Type": "application/pdf", "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="return-{ret.code}.pdf"'})


@route(bp, "/returns/{return_id}/session", methods=["POST"])
def open_session(return_id: str) -> dict:
    """The portal link's token (or the order's customer token) for a short session on this one return:
    what the portal then reads and acts with. No Idempotency-Key record: nothing changes, and the
    answer is a credential."""
    who = principal(bp.current_request, {"customer"}, scopes=PORTAL_LINK_SCOPES)
    ret = owned_return(who, return_id)
    return {"token": auth.mint_session(ret.order_id, ret.return_id), "expires_in": auth.SESSION_TTL_SECONDS,
            "return_id": ret.return_id}


@route(bp, "/returns/{return_id}/label/retry", methods=["POST"])
def retry_label(return_id: str) -> Response:
    """A label that could not be issued (`label_failed`): the customer picks another drop-off (a relay
    point, another collection address), or ops retries once the cause is fixed."""
    from returns_core import views
    from returns_core.usecases import labels

    request = bp.current_request
    who = principal(request, {"customer", "ops"})
    body = raw(request)
    req = parse(request, schemas.LabelRetry, empty_ok=True)
    ret = owned_return(who, return_id)
    dropoff = req.dropoff.model_dump(exclude_none=True) if req.dropoff else None

    def effect() -> dict:
        return views.return_view_for(who.role, labels.retry(ret.return_id, dropoff, req.note, who.sub))

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/orders/{order_id}/returns", methods=["GET"])
def order_returns(order_id: str) -> dict:
    from returns_core import views
    from returns_core.usecases import orders

    who = principal(bp.current_request, READERS)
    lang = query(bp.current_request, schemas.ReturnRead).lang or "en"
    schemas.OrderPath.checked(order_id)
    check_order(who, order_id)
    if who.role != "customer":
        orders.get(order_id)  # 404 for an unknown order rather than an empty list
    return {"items": [views.return_view_for(who.role, r, lang) for r in orders.returns_of(order_id)]}


def _customer_move(return_id: str, model: type, move) -> Response:
    from returns_core import views

    request = bp.current_request
    who = principal(request, {"customer"})
    body = raw(request)
    data = parse(request, model, empty_ok=model is schemas.Cancel)
    ret = owned_return(who, return_id)

    def effect() -> dict:
        move(ret, data, who)
        return views.customer_return_view(ret)

    return idempotency.run(request, who.sub, body, effect)


@route(bp, "/returns/{return_id}/cancel", methods=["POST"])
def cancel(return_id: str) -> Response:
    from returns_core.usecases import customer_moves

    return _customer_move(return_id, schemas.Cancel,
                          lambda ret, data, who: customer_moves.cancel(ret, data.reason, who.sub))


@route(bp, "/returns/{return_id}/confirm", methods=["POST"])
def confirm(return_id: str) -> Response:
    from returns_core.usecases import customer_moves

    return _customer_move(return_id, schemas.Confirm,
                          lambda ret, data, who: customer_moves.confirm(ret, data.satisfied, data.comment, who.sub))


@route(bp, "/returns/{return_id}/dispute", methods=["POST"])
def dispute(return_id: str) -> Response:
    from returns_core.usecases import customer_moves

    return _customer_move(return_id, schemas.Dispute,
                          lambda ret, data, who: customer_moves.dispute(ret, data.message, who.sub))
