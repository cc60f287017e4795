"""Carrier tracking webhooks, authenticated by an HMAC of the raw body (routes.SIGNED)."""
from __future__ import annotations

from chalice import Blueprint, Response

from . import routes
from .endpoints import Call, Effect, endpoint

bp = Blueprint(__name__)


@endpoint(bp, routes.CARRIER_EVENT)
def carrier_event(call: Call) -> Effect:
    from returns_core.usecases import carrier_tracking

    event = call.body

    def effect() -> Response:
        ret, new = carrier_tracking.apply(event.tracking_number, event.event, event.occurred_at, event.location)
        return Response(body={"tracking_number": event.tracking_number, "event": event.event,
                              "status": ret.status, "duplicate": not new},
                        status_code=202 if new else 200)

    return effect
