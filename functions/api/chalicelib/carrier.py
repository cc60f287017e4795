"""Carrier tracking webhooks, authenticated by an HMAC of the raw body."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import verify_carrier
from .bodies import json_of, raw
from .errors import ApiError, route

bp = Blueprint(__name__)


@route(bp, "/carrier/events", methods=["POST"])
def carrier_event() -> Response:
    from returns_core.usecases import carrier_tracking

    request = bp.current_request
    body = raw(request)
    verify_carrier(request, body)  # before parsing: unsigned input is not even read
    data = json_of(body)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    event = schemas.CarrierEvent.model_validate(data)

    def effect() -> Response:
        ret, new = carrier_tracking.apply(event.tracking_number, event.event, event.occurred_at, event.location)
        return Response(body={"tracking_number": event.tracking_number, "event": event.event,
                              "status": ret.status, "duplicate": not new},
                        status_code=202 if new else 200)

    return idempotency.run(request, "carrier", body, effect)
