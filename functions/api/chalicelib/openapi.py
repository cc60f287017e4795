"""The OpenAPI 3.0 document: the request schemas from pydantic plus this route table.

A test checks that the table and the app's registered routes are the same set, so
the document cannot drift from the code. The statuses and parameters are derived
where the code decides them, not kept by hand:

- `Route.responses` is only what the route's own effect answers (its successes and
  the domain's 404/409/422/429); `statuses()` adds those of every mechanism the
  request passes through (the auth gate, the body parser, the query parser,
  `Idempotency-Key`, Chalice itself).
- query parameters come from the pydantic models the view reads (`bodies.query`),
  so `limit` is an integer with the model's bounds and `from`/`to` are dates.
- the `Idempotency-Key` header carries the pattern and length `idempotency` enforces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from returns_core.edge.auth import ROLES
from returns_core.rules import ledger_chain

from . import idempotency, schemas

PUBLIC, SIGNED = "public", "signed"
STAFF = ("warehouse", "finance", "ops")
READERS = ("customer", "store", *STAFF)
# Chalice refuses a binary response (the label) unless Accept names it: a 400 (app.api.binary_types).
BINARY = ("application/pdf",)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    auth: str | tuple[str, ...]         # PUBLIC, SIGNED, or the roles allowed
    body: type[BaseModel] | None = None
    responses: tuple[int, ...] = (200,)  # the effect's own statuses; statuses() adds the mechanisms'
    params: tuple[type[BaseModel], ...] = ()   # the query models the view reads (bodies.query)
    required_params: tuple[str, ...] = ()      # optional in the model, required by the view
    produces: str = "application/json"
    idempotent_key: bool = field(default=False)
    link_in_query: bool = False   # also opened from a message's signed link: its token in `?t=` (authn.principal)
    result: dict[str, Any] | None = None       # the success body's schema, where it is documented

    @property
    def query(self) -> tuple[tuple[str, bool, str], ...]:
        """(name, required, description) of each query parameter."""
        return tuple((p["name"], p["required"], p["description"]) for p in _query_parameters(self))


_SEQ = {"type": "integer", "nullable": True}
LEDGER_VERDICT = {"type": "object", "required": ["ok", "checked", "first_bad_seq"], "properties": {
    "ok": {"type": "boolean"},
    "checked": {"type": "integer", "description": "Entries of the range whose seal and link were checked"},
    "first_bad_seq": {**_SEQ, "description": "The first entry edited, inserted or missing; null when ok"},
    "reason": {"type": "string", "nullable": True, "enum": [*ledger_chain.REASONS, None]},
    "anchored_seq": {**_SEQ, "description": "The last sequence number the anchor table recorded"},
    "order_id": {"type": "string", "description": "Only when an order's total or records disagree with the ledger"},
    "record": {"type": "string", "description": "Only when a record disagrees: \"return <id> refund\", "
               "\"return <id> dispute_resolution\" or \"claim <id> resolution\""}}}

LOOKUP_RESULT = {"type": "object", "required": ["token", "order", "policy", "dropoff_countries"], "properties": {
    "token": {"type": "string"}, "expires_in": {"type": "integer"},
    "order": {"type": "object", "description": "The order's lines with what may be returned, the shipping postcode "
              "and country, and `customer.locale` (the language the portal speaks)"},
    "policy": {"type": "object"},
    "dropoff_countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                          "description": "The countries the carrier collects from (relay points and letterboxes)"}}}

SESSION_RESULT = {"type": "object", "required": ["token", "expires_in", "return_id"], "properties": {
    "token": {"type": "string"}, "expires_in": {"type": "integer"}, "return_id": {"type": "string"}}}

_ENTRY = {"type": "object", "required": ["at", "type", "detail"], "properties": {
    "at": {"type": "string"}, "type": {"type": "string"}, "actor": {"type": "string", "nullable": True},
    "return_id": {"type": "string"}, "claim_id": {"type": "string"}, "order_id": {"type": "string"},
    "channel": {"type": "string", "description": "A message's channel: email or sms"},
    "text": {"type": "string"}, "detail": {"description": "What the entry records: text, a map, or null"}}}
CUSTOMER_SEARCH_RESULT = {"type": "object", "required": ["customer", "orders", "returns", "claims", "timeline",
                                                         "truncated"], "properties": {
    "customer": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}}},
    "orders": {"type": "array", "items": {"type": "object"}},
    "returns": {"type": "array", "items": {"type": "object"}},
    "claims": {"type": "array", "items": {"type": "object"}},
    "timeline": {"type": "array", "items": _ENTRY, "maxItems": 500},
    "truncated": {"type": "boolean"}}}

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "Liveness and version", PUBLIC),
    Route("GET", "/openapi.json", "This document", PUBLIC),
    Route("PUT", "/orders/{order_id}", "Create or update an order (409 changing the lines of an order with open "
          "returns)", ("store",), schemas.OrderUpsert, (200, 201, 409, 422)),
    Route("POST", "/returns/lookup", "Find an order by number and email; returns a customer token. Failed "
          "lookups are limited per order id and email, and per address (429 with Retry-After); an optional "
          "`Authorization: Bearer` customer token of that order (a portal session, an earlier lookup) proves "
          "the caller is its customer and lifts the per-address limits", PUBLIC,
          schemas.Lookup, (200, 404, 429), result=LOOKUP_RESULT),
    Route("GET", "/relay-points", "Relay points near a postcode", PUBLIC, params=(schemas.RelayPointQuery,)),
    Route("POST", "/returns", "Start a return (503 workflow_unavailable, with Retry-After: the return's workflow "
          "could not start, nothing is held; send the same request and Idempotency-Key again). `exception` "
          "({reason}): ops only, the failing eligibility rules are waived and named in the timeline; from a "
          "customer or the store it is a 403 exception_not_allowed naming `exception`",
          ("customer", "store", "ops"), schemas.ReturnCreate, (201, 403, 404, 409, 422, 503), idempotent_key=True),
    Route("POST", "/returns/quote", "The quote of a selection before it is submitted (same checks as a return)",
          ("customer", "store"), schemas.QuoteRequest, (200, 404, 422)),
    Route("GET", "/returns/{return_id}", "A return", READERS, None, (200, 404), params=(schemas.ReturnRead,)),
    Route("GET", "/returns/{return_id}/label", "The return label", READERS, None, (200, 404),
          produces="application/pdf", link_in_query=True),
    Route("POST", "/returns/{return_id}/session",
          "Exchange a message's portal link token (or the order's customer token) for a short session on "
          "this one return: `{token, expires_in, return_id}`. A label link's token is a 403 here, as a "
          "portal link's is on every other route", ("customer",), None, (200, 404), result=SESSION_RESULT),
    Route("GET", "/orders/{order_id}/returns", "The returns of an order", READERS, None, (200, 404),
          params=(schemas.ReturnRead,)),
    Route("POST", "/returns/{return_id}/label/retry",
          "Issue a failed label again (status label_failed), with another drop-off or as it was",
          ("customer", "ops"), schemas.LabelRetry, (200, 404, 409, 422), idempotent_key=True),
    Route("POST", "/returns/{return_id}/cancel", "Cancel before drop-off", ("customer",), schemas.Cancel,
          (200, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/confirm", "Confirm (close) or contest the refund", ("customer",),
          schemas.Confirm, (200, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/dispute", "Dispute the outcome", ("customer",), schemas.Dispute,
          (200, 404, 409), idempotent_key=True),
    Route("POST", "/carrier/events", "Carrier tracking webhook (200 a repeat, no second effect)", SIGNED,
          schemas.CarrierEvent, (200, 202, 404, 409), idempotent_key=True),
    Route("POST", "/warehouse/scans", "Receive a parcel", ("warehouse",), schemas.Scan,
          (200, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/exchange/shipped",
          "The store shipped an exchange's replacement; the customer is told once (409 before it was requested)",
          ("store",), schemas.ExchangeShipped, (200, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/inspection",
          "Grade what arrived (409 not_received before the scan, 409 already_inspected once graded)",
          ("warehouse",), schemas.Inspection, (200, 404, 409, 422), idempotent_key=True),
    Route("GET", "/warehouse/unmatched", "Parcels that matched no return", ("warehouse",)),
    Route("GET", "/warehouse/queue", "Returns in one status, oldest first", ("warehouse",),
          params=(schemas.QueueQuery,)),
    Route("POST", "/returns/{return_id}/review", "Approve or reject a risky return", ("ops",), schemas.Review,
          (200, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/refund/retry", "Retry a failed refund", ("ops",), schemas.Note,
          (200, 404, 409), idempotent_key=True),
    Route("GET", "/ops/disputes", "Disputed returns", ("ops",)),
    Route("POST", "/returns/{return_id}/dispute/resolve",
          "Resolve a dispute: uphold (optionally refunding refund_amount more, once: 422 over_refund past what the "
          "order has left) or reject; the return becomes resolved", ("ops",), schemas.DisputeResolve,
          (200, 404, 409, 422), idempotent_key=True),
    Route("GET", "/ops/label-failures", "Returns whose label could not be issued", ("ops",)),
    Route("POST", "/ops/customers/search",
          "A customer by exactly one of email, order_id, tracking_number (422 one_search_key naming the field "
          "otherwise): their orders, returns, claims and one timeline of every return, claim, dispute and "
          "message, newest first, at most 500 entries (`truncated`: some were left out). No order or return "
          "of that customer: 404 customer_not_found", ("ops",), schemas.CustomerSearch, (200, 404, 422),
          result=CUSTOMER_SEARCH_RESULT),
    Route("GET", "/ops/queue", "Returns in one status, oldest first, each with `overdue` (the review queue: "
          "in_review; failed refunds: refund_failed; waiting refunds: awaiting_approval, refunding; lost parcels: "
          "lost)", ("ops",), params=(schemas.OpsQueueQuery,)),
    Route("POST", "/claims", "Open a claim: a problem with the order that needs no return parcel (not_received, "
          "damaged_on_arrival, missing_item); ops is alerted, the customer gets claim_received",
          ("customer",), schemas.ClaimCreate, (201, 404, 422), idempotent_key=True),
    Route("POST", "/claims/{claim_id}/photos", "A presigned S3 POST {url, fields} for one photo of the claim "
          "(JPEG, PNG or WebP as content_type says; at most 10 MB); a bad upload is deleted and never shown",
          ("customer",), schemas.ClaimPhoto, (201, 404, 409, 422)),
    Route("GET", "/claims/{claim_id}", "A claim with its timeline (ops: with its checked photos' view links)",
          ("customer", "ops"), None, (200, 404), params=(schemas.ReturnRead,)),
    Route("POST", "/claims/{claim_id}/resolve",
          "Resolve a claim once: refund (amount, default what the lines were paid; 422 over_refund past what the "
          "order has left; 503 refund_pending: decided and held, not paid yet, send it again), reship "
          "(claim.reship_requested for the store) or reject (the note tells the customer why)", ("ops",),
          schemas.ClaimResolve, (200, 404, 409, 422, 503), idempotent_key=True),
    Route("GET", "/ops/claims", "Claims in one status (default open; refund_pending: refunds not paid yet), "
          "oldest first: {items, next_cursor}", ("ops",), params=(schemas.ClaimsQuery,)),
    Route("POST", "/returns/{return_id}/refund/approve",
          "Approve a refund above the threshold (403 four_eyes: the inspector may not approve)", ("finance",),
          schemas.Note, (200, 403, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/refund/manual", "Record the reference of a refund paid offline",
          ("finance",), schemas.ManualRefund, (200, 404, 409, 422), idempotent_key=True),
    Route("GET", "/finance/queue", "What waits for finance: refunds to approve (four eyes) and manual refunds to "
          "record", ("finance",)),
    Route("GET", "/finance/refunds", "Ledger entries by issue date", ("finance",),
          params=(schemas.DateRange, schemas.Page), required_params=("from", "to")),
    Route("GET", "/finance/refunds.csv", "Ledger entries as CSV. A range too large for one response is written "
          "to S3: with Accept: application/json, 200 {url, rows, expires_in} (a presigned GET link); otherwise "
          "303 to that link", ("finance",),
          params=(schemas.DateRange,), required_params=("from", "to"), produces="text/csv"),
    Route("GET", "/finance/ledger/verify", "Check the ledger's keyed hash chain over the range (from and to: both "
          "or neither) and its last entry against the anchored head (503: the check could not run)",
          ("finance",), None, (200, 503), params=(schemas.DateRange,), result=LEDGER_VERDICT),
    Route("GET", "/finance/reconciliation", "Captured, refunded and remaining per order refunded in the range",
          ("finance",), params=(schemas.DateRange,), required_params=("from", "to")),
    Route("GET", "/analytics/returns", "Returns by reason, SKU and status; return rate; drop-off to refund time",
          ("finance", "ops"), params=(schemas.DateRange,), required_params=("from", "to")),
    Route("GET", "/policy", "The returns policy in force, or one version of it (versions never change)",
          ("store", "ops", "finance"), None, (200, 404), params=(schemas.PolicyVersionQuery,)),
    Route("PUT", "/policy", "Publish the next version of the returns policy (422 naming the bad field; "
          "409 another was published meanwhile)", ("store",), schemas.PolicyPut, (200, 409, 422)),
    Route("POST", "/policy/simulate", "A sample order's per-line decisions and quote under a draft policy "
          "(or the one in force), nothing stored", ("store", "ops"), schemas.PolicySimulate, (200, 422)),
    Route("POST", "/withdrawals", "Withdraw from the contract (EU right of withdrawal): confirm false previews "
          "(200), confirm true sends the notice and opens its return (201; the same lines again: 200, the same "
          "notice). 422 withdrawal_period_over, not_applicable (not shipped to the EU/EEA)", ("customer",),
          schemas.WithdrawalNotice, (200, 201, 404, 409, 422, 503), idempotent_key=True),
    Route("GET", "/finance/withdrawals", "Withdrawal notices received in the range: their refund deadline, "
          "refund date and whether it was on time", ("finance",), params=(schemas.DateRange, schemas.Page),
          required_params=("from", "to")),
    Route("GET", "/portal", "The customer's returns page", PUBLIC, produces="text/html"),
    Route("GET", "/warehouse", "The warehouse scanning page", PUBLIC, produces="text/html"),
    Route("GET", "/finance", "The finance page", PUBLIC, produces="text/html"),
    Route("GET", "/ops", "The customer-service page", PUBLIC, produces="text/html"),
)

_REASONS = {200: "OK", 201: "Created", 202: "Accepted",
            400: "Malformed JSON, a wrong type, or a malformed header, query parameter or cursor",
            401: "No, bad or expired credentials", 403: "Not allowed for this role", 404: "Not found",
            409: "The return is not in a status that allows this, or a request with this Idempotency-Key is "
                 "still running", 413: "Body over 256 KiB", 415: "A Content-Type other than application/json",
            422: "Well-formed but not allowed", 429: "Too many requests",
            503: "A dependency did not answer; try again"}


def statuses(route: Route) -> tuple[int, ...]:
    """Every status `route` can answer: its effect's own, plus those of the mechanisms it goes through."""
    codes = set(route.responses)
    codes.add(415)                      # Chalice: any route, a Content-Type that is not JSON
    if route.auth == SIGNED:
        codes.add(401)                  # authn.verify_carrier: a missing or wrong signature
    elif route.auth != PUBLIC:
        codes.add(401)                  # authn.principal: no, a bad or an expired token
        if set(ROLES) - set(route.auth):
            codes.add(403)              # authn.principal: a role the route does not list
    if route.body is not None:
        codes |= {400, 413, 422}        # bodies.raw / bodies.parse: too large, malformed, a value not allowed
    if route.params:
        codes |= {400, 422}             # bodies.query: a wrong type, a value out of range
    if route.idempotent_key:
        codes |= {400, 409, 422}        # idempotency.run: a malformed key, still running, reused with another body
    if route.produces in BINARY:
        codes.add(400)                  # Chalice: an Accept header that does not name the binary type
    return tuple(sorted(codes))


_DESCRIPTIONS = {"from": "First day, inclusive (YYYY-MM-DD)", "to": "Last day, inclusive (YYYY-MM-DD)",
                 "cursor": "next_cursor of the previous page", "limit": "Page size",
                 "status": "A return status", "postcode": "Postcode", "country": "ISO 3166-1 alpha-2"}


def _plain_parameter(schema: dict[str, Any]) -> dict[str, Any]:
    """A query model's field schema as a parameter's: no title, no null branch (absent is the null)."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    branches = schema.pop("anyOf", None)
    if branches:
        rest = [b for b in branches if b != {"type": "null"}]
        schema = {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **schema}
    if schema.get("default", 0) is None:
        schema.pop("default")
    return _openapi30(schema)


def _query_parameters(route: Route) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for model in route.params:
        found = model.model_json_schema(by_alias=True, mode="validation")
        required = set(found.get("required", ())) | set(route.required_params)
        for name, schema in found["properties"].items():
            out.append({"name": name, "in": "query", "required": name in required,
                        "description": _DESCRIPTIONS.get(name, name), "schema": _plain_parameter(schema)})
    return out


_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "details": {"type": "object", "nullable": True,
                               "properties": {"field": {"type": "string", "nullable": True}}}}}}}


def _components() -> dict[str, Any]:
    models = sorted({r.body for r in ROUTES if r.body is not None}, key=lambda m: m.__name__)
    _, top = models_json_schema([(m, "validation") for m in models],
                                ref_template="#/components/schemas/{model}")
    found = dict(top.get("$defs", {}))
    found["Error"] = _ERROR
    return _openapi30(found)


def _openapi30(node: Any) -> Any:
    """pydantic emits JSON Schema 2020-12; OpenAPI 3.0 wants `nullable` instead of a null branch."""
    if isinstance(node, list):
        return [_openapi30(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _openapi30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list) and {"type": "null"} in branches:
            rest = [b for b in branches if b != {"type": "null"}]
            node.pop(key)
            if len(rest) == 1:
                node.update({**rest[0], "nullable": True} if "$ref" not in rest[0]
                            else {"allOf": rest, "nullable": True})
            else:
                node.update({key: rest, "nullable": True})
    if "const" in node:
        node["enum"] = [node.pop("const")]
    return node


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary, "operationId": f"{route.method.lower()}_{route.path}"}
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
              for name in (p[1:-1] for p in route.path.split("/") if p.startswith("{"))]
    params += _query_parameters(route)
    if route.idempotent_key:
        params.append({"name": idempotency.HEADER, "in": "header", "required": False, "schema": {
            "type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX_LENGTH,
            "pattern": idempotency.KEY_PATTERN},
            "description": "Same key and body: same response, one effect. 1-255 printable ASCII characters "
                           "(no space); a malformed key is a 400, the same key with another body a 422."})
    if route.auth == SIGNED:
        params.append({"name": "X-Carrier-Signature", "in": "header", "required": True,
                       "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                       "description": "HMAC-SHA256 of the raw body with the carrier secret."})
        op["security"] = []
    elif route.auth == PUBLIC:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}, {"link": []}] if route.link_in_query else [{"bearer": []}]
        op["x-roles"] = list(route.auth)
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": route.body not in (schemas.Cancel, schemas.Note), "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
    responses: dict[str, Any] = {}
    for code in statuses(route):
        if code < 300:
            responses[str(code)] = {"description": _REASONS[code],
                                    "content": {route.produces: {"schema": {"type": "string", "format": "binary"}
                                                                 if route.produces != "application/json"
                                                                 else route.result or {"type": "object"}}}}
        else:
            responses[str(code)] = {"description": _REASONS[code], "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op["responses"] = responses
    return op


def document(version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {"title": "returns", "version": version,
                 "description": "Returns and refunds. Money is integer minor units beside an ISO 4217 currency."},
        "paths": paths,
        "components": {"schemas": _components(),
                       "securitySchemes": {
                           "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                           "link": {"type": "apiKey", "in": "query", "name": "t",
                                    "description": "The signed link token of a customer message (one return, "
                                                   "expires); used when no Authorization header is sent."}}},
    }
