"""The OpenAPI 3.0 document: the request schemas from pydantic plus this route table.

A test checks that the table and the app's registered routes are the same set, so
the document cannot drift from the code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas

PUBLIC, SIGNED = "public", "signed"
STAFF = ("warehouse", "finance", "ops")
READERS = ("customer", "store", *STAFF)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    auth: str | tuple[str, ...]         # PUBLIC, SIGNED, or the roles allowed
    body: type[BaseModel] | None = None
    responses: tuple[int, ...] = (200,)
    query: tuple[tuple[str, bool, str], ...] = ()   # (name, required, description)
    produces: str = "application/json"
    idempotent_key: bool = field(default=False)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "Liveness and version", PUBLIC),
    Route("GET", "/openapi.json", "This document", PUBLIC),
    Route("PUT", "/orders/{order_id}", "Create or update an order", ("store",), schemas.OrderUpsert,
          (200, 201, 400, 401, 403, 409, 413, 422)),
    Route("POST", "/returns/lookup", "Find an order by number and email; returns a customer token", PUBLIC,
          schemas.Lookup, (200, 400, 404, 413, 422, 429)),
    Route("GET", "/relay-points", "Relay points near a postcode", PUBLIC, None, (200, 400, 422),
          (("postcode", True, "postcode"), ("country", True, "ISO 3166 alpha-2"), ("limit", False, "1-20"))),
    Route("POST", "/returns", "Start a return", ("customer", "store"), schemas.ReturnCreate,
          (201, 400, 401, 403, 404, 409, 413, 422), idempotent_key=True),
    Route("POST", "/returns/quote", "The quote of a selection before it is submitted (same checks as a return)",
          ("customer", "store"), schemas.QuoteRequest, (200, 400, 401, 403, 404, 413, 422)),
    Route("GET", "/returns/{return_id}", "A return", READERS, None, (200, 401, 403, 404)),
    Route("GET", "/returns/{return_id}/label", "The return label", READERS, None, (200, 401, 403, 404),
          produces="application/pdf"),
    Route("GET", "/orders/{order_id}/returns", "The returns of an order", READERS, None, (200, 401, 403, 404)),
    Route("POST", "/returns/{return_id}/cancel", "Cancel before drop-off", ("customer",), schemas.Cancel,
          (200, 400, 401, 403, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/confirm", "Confirm (close) or contest the refund", ("customer",),
          schemas.Confirm, (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("POST", "/returns/{return_id}/dispute", "Dispute the outcome", ("customer",), schemas.Dispute,
          (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("POST", "/carrier/events", "Carrier tracking webhook", SIGNED, schemas.CarrierEvent,
          (200, 202, 400, 401, 404, 413, 422), idempotent_key=True),
    Route("POST", "/warehouse/scans", "Receive a parcel", ("warehouse",), schemas.Scan,
          (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("POST", "/returns/{return_id}/exchange/shipped",
          "The store shipped an exchange's replacement; the customer is told once (409 before it was requested)",
          ("store",), schemas.ExchangeShipped, (200, 400, 401, 403, 404, 409, 413, 422), idempotent_key=True),
    Route("POST", "/returns/{return_id}/inspection",
          "Grade what arrived (409 not_received before the scan, 409 already_inspected once graded)",
          ("warehouse",), schemas.Inspection,
          (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("GET", "/warehouse/unmatched", "Parcels that matched no return", ("warehouse",)),
    Route("GET", "/warehouse/queue", "Returns in one status, oldest first", ("warehouse",), None,
          (200, 400, 401, 403, 422),
          (("status", False, "a return status (default received)"), ("limit", False, "1-100"),
           ("cursor", False, "next_cursor of the previous page"))),
    Route("POST", "/returns/{return_id}/review", "Approve or reject a risky return", ("ops",), schemas.Review,
          (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("POST", "/returns/{return_id}/refund/retry", "Retry a failed refund", ("ops",), schemas.Note,
          (200, 400, 401, 403, 404, 409), idempotent_key=True),
    Route("GET", "/ops/disputes", "Disputed returns", ("ops",)),
    Route("POST", "/returns/{return_id}/refund/approve", "Approve a refund above the threshold", ("finance",),
          schemas.Note, (200, 400, 401, 403, 404, 409), idempotent_key=True),
    Route("POST", "/returns/{return_id}/refund/manual", "Record the reference of a refund paid offline",
          ("finance",), schemas.ManualRefund, (200, 400, 401, 403, 404, 409, 422), idempotent_key=True),
    Route("GET", "/finance/refunds", "Ledger entries by issue date", ("finance",), None, (200, 400, 401, 403, 422),
          (("from", True, "YYYY-MM-DD"), ("to", True, "YYYY-MM-DD"), ("limit", False, "1-500 (default 100)"),
           ("cursor", False, "next_cursor of the previous page"))),
    Route("GET", "/finance/refunds.csv", "Ledger entries as CSV", ("finance",), None, (200, 400, 401, 403, 422),
          (("from", True, "YYYY-MM-DD"), ("to", True, "YYYY-MM-DD")), produces="text/csv"),
    Route("GET", "/finance/ledger/verify", "Recompute the ledger's hash chain", ("finance",), None,
          (200, 400, 401, 403, 422), (("from", False, "YYYY-MM-DD"), ("to", False, "YYYY-MM-DD"))),
    Route("GET", "/finance/reconciliation", "Captured, refunded and remaining per order refunded in the range",
          ("finance",), None, (200, 400, 401, 403, 422), (("from", True, "YYYY-MM-DD"), ("to", True, "YYYY-MM-DD"))),
    Route("GET", "/analytics/returns", "Returns by reason, SKU and status; return rate; drop-off to refund time",
          ("finance", "ops"), None, (200, 400, 401, 403, 422),
          (("from", True, "YYYY-MM-DD"), ("to", True, "YYYY-MM-DD"))),
    Route("GET", "/portal", "The customer's returns page", PUBLIC, produces="text/html"),
    Route("GET", "/warehouse", "The warehouse scanning page", PUBLIC, produces="text/html"),
    Route("GET", "/finance", "The finance page", PUBLIC, produces="text/html"),
)

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Malformed JSON or wrong types",
            401: "No, bad or expired credentials", 403: "Not allowed for this role", 404: "Not found",
            409: "The return is not in a status that allows this", 413: "Body over 256 KiB",
            422: "Well-formed but not allowed", 429: "Too many requests"}

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
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in (p[1:-1] for p in route.path.split("/") if p.startswith("{"))]
    params += [{"name": n, "in": "query", "required": req, "description": d, "schema": {"type": "string"}}
               for n, req, d in route.query]
    if route.idempotent_key:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {
            "type": "string", "maxLength": 255}, "description": "Same key and body: same response, one effect."})
    if route.auth == SIGNED:
        params.append({"name": "X-Carrier-Signature", "in": "header", "required": True,
                       "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                       "description": "HMAC-SHA256 of the raw body with the carrier secret."})
        op["security"] = []
    elif route.auth == PUBLIC:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = list(route.auth)
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": route.body not in (schemas.Cancel, schemas.Note), "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}}}
    responses: dict[str, Any] = {}
    for code in route.responses:
        if code < 300:
            responses[str(code)] = {"description": _REASONS[code],
                                    "content": {route.produces: {"schema": {"type": "string", "format": "binary"}
                                                                 if route.produces != "application/json"
                                                                 else {"type": "object"}}}}
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
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
