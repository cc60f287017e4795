"""The OpenAPI 3.0 document: the request schemas from pydantic plus the route declarations (routes.py).

The app registers exactly the declared routes (endpoints.endpoint), and a test checks that the app,
this document and template.yaml serve the same set. The statuses and parameters are derived
where the code decides them, not kept by hand:

- `Route.responses` is only what the route's own effect answers (its successes and
  the domain's 404/409/422/429); `statuses()` adds those of every mechanism the
  request passes through (the auth gate, the body parser, the query parser,
  `Idempotency-Key`, Chalice itself).
- query parameters come from the pydantic models the route declares (parsed before its view runs),
  so `limit` is an integer with the model's bounds and `from`/`to` are dates.
- the `Idempotency-Key` header carries the pattern and length `idempotency` enforces.
"""
from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from returns_core.edge.auth import ROLES

from . import idempotency
from .routes import PUBLIC, ROUTES, SIGNED, Route

__all__ = ["PUBLIC", "ROUTES", "SIGNED", "Route", "document", "statuses"]
# Chalice refuses a binary response (the label) unless Accept names it: a 400 (app.api.binary_types).
BINARY = ("application/pdf",)

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
    schemas = {name: schema for model in route.params
               for name, schema in model.model_json_schema(by_alias=True, mode="validation")["properties"].items()}
    return [{"name": name, "in": "query", "required": required, "description": description,
             "schema": _plain_parameter(schemas[name])} for name, required, description in route.query]


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
        op["requestBody"] = {"required": not route.empty_body, "content": {
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
