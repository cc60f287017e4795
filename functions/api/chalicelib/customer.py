"""The customer's returns: find the order, start a return, follow it, cancel, confirm or dispute.

Every route taking a return id goes through `authn.owned_return`: a customer token
only ever reaches the returns of its own order.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from returns_core.edge import auth

from . import routes, schemas, throttle
from .authn import check_order, owned_return, proves_order, store_link_keys
from .endpoints import Call, Effect, endpoint
from .errors import ApiError

bp = Blueprint(__name__)

# Of those who may start a return (routes.CREATE_RETURN: the order's customer, the store, and customer
# service for a customer's order), customer service alone may make an exception to the eligibility
# rules (ReturnCreate.exception).
EXCEPTION_MAKERS = frozenset({"ops"})


def _policy(p=None, version: int | None = None) -> dict:
    """The defaults the lookup shows (the policy version in force, in the order's currency)."""
    from returns_core.rules import policy

    p = p or policy.DEFAULT
    return {"window_days": p.window_days, "return_shipping_fee": p.return_shipping_fee, "version": version,
            "restocking_fee_percent": p.restocking_fee_percent,
            "store_credit_bonus_percent": p.store_credit_bonus_percent,
            "reasons": list(policy.REASONS), "resolutions": list(p.resolutions),
            "dropoff_methods": ["relay_point", "letterbox"]}


@endpoint(bp, routes.LOOKUP)
def lookup(call: Call) -> dict:
    # No Idempotency-Key record here: the lookup changes nothing, and its answer holds a credential.
    from returns_core import views
    from returns_core.outbound import carriers
    from returns_core.rules.errors import NotFoundError
    from returns_core.usecases import orders, policies

    body = call.body
    if body.sig is not None:
        # A link the store signed: only the store could make it, so it is no guess and the lookup
        # limits neither stop nor count it (rules/store_links.py). A bad or expired one is a 401.
        from returns_core.rules import clock, store_links

        store_links.check(store_link_keys(), body.order_id, body.email, body.exp, body.sig,
                          now=clock.now().timestamp())
        order = orders.find_for_customer(body.order_id, body.email)
    else:
        client = throttle.client_of(call.request)
        throttle.check(client, body.order_id, body.email, proven=proves_order(call.request, body.order_id))
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
            "policy": _policy(defaults, in_force.version),
            "dropoff_countries": carriers.served_countries()}


@endpoint(bp, routes.RELAY_POINTS)
def relay_points(call: Call) -> dict:
    from returns_core.outbound import carriers

    q = call.query(schemas.RelayPointQuery)
    found = carriers.relay_point_carrier().search_relay_points(q.postcode, q.country, q.limit)
    return {"items": [point.to_api(distance) for point, distance in found]}


@endpoint(bp, routes.CREATE_RETURN)
def create_return(call: Call) -> Effect:
    from returns_core import views
    from returns_core.usecases import orders, request_return

    who, req = call.who, call.body
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

    return effect


@endpoint(bp, routes.QUOTE)
def quote(call: Call) -> dict:
    """What `POST /returns` would quote for this selection: the portal's live quote, from the one policy."""
    from returns_core.usecases import orders, request_return

    req = call.body
    check_order(call.who, req.order_id)
    order = orders.get(req.order_id)
    found = request_return.check(order, [i.model_dump() for i in req.items], req.resolution)
    return {"order_id": order.order_id, "currency": order.currency, "resolution": req.resolution,
            "quote": found.to_api()}


@endpoint(bp, routes.GET_RETURN)
def get_return(call: Call, return_id: str) -> dict:
    from returns_core import views
    from returns_core.outbound import carriers
    from returns_core.usecases import labels

    who = call.who
    ret = owned_return(who, return_id)
    view = views.return_view_for(who.role, ret, call.query(schemas.ReturnRead).lang or "en")
    if view["label"]:
        # Fresh on every read (it expires): never part of a stored idempotent response.
        view["label"]["download_url"] = labels.presigned_url(ret, seconds=15 * 60)
        # The paperless label (a QR code PNG shown at the counter), beside or instead of the PDF.
        if qr_url := labels.qr_presigned_url(ret, seconds=15 * 60):
            view["label"]["qr_url"] = qr_url
    # As at lookup: a portal opened from a message link (no lookup) offers a failed label's
    # collection address only in the countries the carriers serve.
    view["dropoff_countries"] = carriers.served_countries()
    return view


@endpoint(bp, routes.GET_LABEL)
def get_label(call: Call, return_id: str) -> Response:
    """The label link in a message (its token downloads this and nothing else), or any reader's token."""
    from returns_core.usecases import records

    ret = owned_return(call.who, return_id)
    pdf = records.label_pdf(ret)
    if pdf is None:
        raise ApiError(404, "label_not_ready", "the label has not been issued yet")
    return Response(body=pdf, status_code=200, headers={
        "Content-Type": "application/pdf", "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="return-{ret.code}.pdf"'})


@endpoint(bp, routes.OPEN_SESSION)
def open_session(call: Call, return_id: str) -> dict:
    """The portal link's token (or the order's customer token) for a short session on this one return:
    what the portal then reads and acts with. No Idempotency-Key record: nothing changes, and the
    answer is a credential."""
    ret = owned_return(call.who, return_id)
    return {"token": auth.mint_session(ret.order_id, ret.return_id), "expires_in": auth.SESSION_TTL_SECONDS,
            "return_id": ret.return_id}


@endpoint(bp, routes.RETRY_LABEL)
def retry_label(call: Call, return_id: str) -> Effect:
    """A label that could not be issued (`label_failed`): the customer picks another drop-off (a relay
    point, another collection address), or ops retries once the cause is fixed."""
    from returns_core import views
    from returns_core.usecases import labels

    who, req = call.who, call.body
    ret = owned_return(who, return_id)
    dropoff = req.dropoff.model_dump(exclude_none=True) if req.dropoff else None
    return lambda: views.return_view_for(who.role, labels.retry(ret.return_id, dropoff, req.note, who.sub))


@endpoint(bp, routes.ORDER_RETURNS)
def order_returns(call: Call, order_id: str) -> dict:
    from returns_core import views
    from returns_core.usecases import orders

    who = call.who
    check_order(who, order_id)
    if who.role != "customer":
        orders.get(order_id)  # 404 for an unknown order rather than an empty list
    lang = call.query(schemas.ReturnRead).lang or "en"
    return {"items": [views.return_view_for(who.role, r, lang) for r in orders.returns_of(order_id)]}


def _customer_move(call: Call, return_id: str, move) -> Effect:
    """The customer's own move on its return, answered with the return as the customer sees it."""
    from returns_core import views

    ret = owned_return(call.who, return_id)

    def effect() -> dict:
        move(ret, call.body, call.who.sub)
        return views.customer_return_view(ret)

    return effect


@endpoint(bp, routes.CANCEL)
def cancel(call: Call, return_id: str) -> Effect:
    from returns_core.usecases import customer_moves

    return _customer_move(call, return_id, lambda ret, data, sub: customer_moves.cancel(ret, data.reason, sub))


@endpoint(bp, routes.CONFIRM)
def confirm(call: Call, return_id: str) -> Effect:
    from returns_core.usecases import customer_moves

    return _customer_move(call, return_id,
                          lambda ret, data, sub: customer_moves.confirm(ret, data.satisfied, data.comment, sub,
                                                                         data.score))


@endpoint(bp, routes.DISPUTE)
def dispute(call: Call, return_id: str) -> Effect:
    from returns_core.usecases import customer_moves

    return _customer_move(call, return_id, lambda ret, data, sub: customer_moves.dispute(ret, data.message, sub))
