"""The returns HTTP API: the Chalice app, its error mapping and its blueprints.

Routes are declared once, in chalicelib/routes.py; their views live in chalicelib/, one blueprint per
audience, each registered from its declaration by chalicelib.endpoints, which puts it behind
chalicelib.errors (api.md's error envelope) and chalicelib.authn (who may call).
"""
from __future__ import annotations

from chalice import Chalice
from chalice.app import CaseInsensitiveMapping

from chalicelib import (
    carrier,
    claims,
    conversations,
    customer,
    finance,
    ops,
    pages,
    policy,
    service,
    store,
    warehouse,
    withdrawals,
)
from chalicelib.errors import envelope
from returns_core import logsafe

logsafe.install()  # emails and phone numbers masked in every log line

app = Chalice(app_name="returns-api")
# Labels are served as PDF bytes; API Gateway must pass them through as binary.
app.api.binary_types.append("application/pdf")

for blueprint in (service.bp, store.bp, customer.bp, carrier.bp, warehouse.bp, ops.bp, finance.bp, policy.bp,
                  withdrawals.bp, pages.bp, claims.bp, conversations.bp):
    app.register_blueprint(blueprint)


@app.middleware("http")
def error_envelope(event, get_response):
    """Responses Chalice builds itself (405, 415) get api.md's envelope too.

    A request without `Accept` accepts anything (RFC 9110 12.5.1); Chalice would otherwise
    refuse the label's binary response with a 400.
    """
    if "accept" not in event.headers:
        event.headers = CaseInsensitiveMapping({**event.headers, "accept": "*/*"})
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        return envelope(response.status_code, str(body["Code"]), str(body["Message"]), {"field": None},
                        {k: v for k, v in response.headers.items() if k.lower() != "content-type"})
    if isinstance(body, (dict, list)) and not any(k.lower() == "content-type" for k in response.headers):
        response.headers["Content-Type"] = "application/json"   # say so, rather than rely on API Gateway
    return response
