"""/openapi.json states what the server really does: every status a route answers, typed
parameters, the Idempotency-Key format (issue 14, defect 12).

The statuses are checked against behaviour, not against a second list: every route is
called by every caller of the role matrix and through every known error path of the
mechanisms it passes (the auth gate, the body and query parsers, Idempotency-Key,
Chalice's content-type and Accept checks), and each status it answers must be among
the documented ones, with a body that is the one Error schema.
"""
from __future__ import annotations

import json
import re

import pytest

from chalicelib import openapi

from tests.api.support import ENV, auth, boto, error_of, order_body, send, ship, signed, start_return

from .test_role_matrix import BODIES, CALLERS, CLAIM_ID, QUERY, _call, _headers, seed_claim

ERROR_REF = {"$ref": "#/components/schemas/Error"}
VALID_QUERY = {**QUERY, "from": "2026-11-01", "to": "2026-11-30"}   # the matrix's range is over the 92-day limit


def _id(route) -> str:
    return f"{route.method} {route.path}"


@pytest.fixture
def doc(api):
    res = api.http.get("/openapi.json")
    assert res.status_code == 200
    return res.json_body


def _op(doc, method: str, path: str) -> dict:
    return doc["paths"][path][method.lower()]


def _documented(doc, route) -> set[int]:
    return {int(code) for code in _op(doc, route.method, route.path)["responses"]}


# --- the defect as reported -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ops/disputes", "/warehouse/unmatched"])
def test_protected_lists_document_401_and_403_which_they_answer(api, doc, path):
    documented = {int(c) for c in _op(doc, "GET", path)["responses"]}
    assert api.http.get(path).status_code == 401
    assert api.http.get(path, headers=auth("customer", order_id="o-1")).status_code == 403
    assert {401, 403} <= documented, sorted(documented)


def test_cancel_documents_the_422_it_answers_for_an_over_long_reason(api, order, doc):
    rid = start_return(api)["return_id"]
    res = send(api, "POST", f"/returns/{rid}/cancel", {"reason": "x" * 1001},
               auth("customer", sub="customer:o-1", order_id="o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "reason"
    assert "422" in _op(doc, "POST", "/returns/{return_id}/cancel")["responses"]


def _param(op: dict, name: str, where: str = "query") -> dict:
    found = [p for p in op.get("parameters", []) if p["name"] == name and p["in"] == where]
    assert len(found) == 1, (name, op.get("parameters"))
    return found[0]


@pytest.mark.parametrize("path", ["/finance/refunds", "/finance/refunds.csv", "/finance/ledger/verify",
                                  "/finance/reconciliation", "/analytics/returns"])
def test_date_ranges_are_typed_as_dates(doc, path):
    op = _op(doc, "GET", path)
    for name in ("from", "to"):
        assert _param(op, name)["schema"] == {"type": "string", "format": "date"}
    assert _param(op, "from")["required"] is (path != "/finance/ledger/verify")


@pytest.mark.parametrize("path,low,high,default", [("/finance/refunds", 1, 500, 100), ("/warehouse/queue", 1, 100, 50),
                                                   ("/relay-points", 1, 20, 5)])
def test_limits_are_bounded_integers(doc, path, low, high, default):
    schema = _param(_op(doc, "GET", path), "limit")["schema"]
    assert schema == {"type": "integer", "minimum": low, "maximum": high, "default": default}


def test_the_queue_status_is_the_enum_of_return_statuses(doc):
    from returns_core.rules import statuses

    schema = _param(_op(doc, "GET", "/warehouse/queue"), "status")["schema"]
    assert schema["type"] == "string" and schema["enum"] == list(statuses.ALL)


def test_no_query_parameter_is_an_unconstrained_string(doc):
    loose = [(path, method, p["name"]) for path, ops in doc["paths"].items() for method, op in ops.items()
             for p in op.get("parameters", []) if p["in"] == "query"
             and p["schema"].get("type") == "string"
             and not {"format", "enum", "pattern", "maxLength"} & set(p["schema"])]
    assert not loose


def test_every_idempotent_post_states_the_key_format_the_server_enforces(doc):
    from chalicelib import idempotency

    for route in openapi.ROUTES:
        op = _op(doc, route.method, route.path)
        if not route.idempotent_key:
            assert not [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"], _id(route)
            continue
        schema = _param(op, "Idempotency-Key", "header")["schema"]
        assert schema["maxLength"] == 255 and schema["minLength"] == 1, _id(route)
        assert schema["pattern"] == idempotency._KEY.pattern, _id(route)
    # The documented pattern, read as JSON Schema reads it (no multiline; `$` is the end), agrees with the server.
    documented = re.compile(schema["pattern"].replace("$", r"\Z"))
    for key in ("k", "order-1:retry/2", "~" * 255, "!" * 256, "a b", "tab\there", "new\n", "", "caf\u00e9"):
        assert bool(documented.match(key)) is bool(idempotency._KEY.fullmatch(key)), key


def test_the_server_enforces_the_documented_key_length(api, order, doc):
    schema = _param(_op(doc, "POST", "/returns/{return_id}/cancel"), "Idempotency-Key", "header")["schema"]
    rid = start_return(api)["return_id"]
    headers = auth("customer", sub="customer:o-1", order_id="o-1")
    too_long = send(api, "POST", f"/returns/{rid}/cancel", {},
                    {**headers, "Idempotency-Key": "k" * (schema["maxLength"] + 1)})
    assert too_long.status_code == 400 and error_of(too_long)["code"] == "invalid_idempotency_key"
    longest = send(api, "POST", f"/returns/{rid}/cancel", {}, {**headers, "Idempotency-Key": "k" * schema["maxLength"]})
    assert longest.status_code == 200, longest.body


def test_every_error_response_is_the_one_error_schema(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for code, response in op["responses"].items():
                if int(code) >= 400:
                    assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (method, path, code)
    assert set(doc["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {"code", "message"}


# --- the cross-check: what a route really answers is documented ----------------------------


def _allowed_headers(route) -> dict[str, str]:
    if route.auth in (openapi.PUBLIC, openapi.SIGNED):
        return {}
    caller = next((r for r in route.auth if r != "customer"), "customer")
    return _headers(caller)


def _path(route, rid: str, query: str | None = None) -> str:
    path = route.path.replace("{return_id}", rid).replace("{order_id}", "o-1").replace("{claim_id}", CLAIM_ID)
    if query is None:
        query = "&".join(f"{name}={VALID_QUERY[name]}" for name, _, _ in route.query if name in VALID_QUERY)
    return path + ("?" + query if query else "")


def _post(api, route, path: str, raw: bytes, headers: dict[str, str]):
    if route.auth == openapi.SIGNED:
        headers = {**signed(raw), **headers}
    return api.http.request(route.method, path, body=raw,
                            headers={"Content-Type": "application/json", **_allowed_headers(route), **headers})


def _variant(model, body: dict) -> dict | None:
    """Another body the model accepts, to reuse an Idempotency-Key with."""
    for name in model.model_fields:
        candidate = {**body, name: body[name] + "-2" if isinstance(body.get(name), str) else "variant"}
        try:
            model.model_validate(candidate)
        except ValueError:
            continue
        return candidate
    return None


def _probes(api, route, rid: str, op: dict):
    """(what, response) for each known error path of the mechanisms this route goes through."""
    yield "text/plain", api.http.request(route.method, _path(route, rid), body=b"x",
                                         headers={**_allowed_headers(route), "Content-Type": "text/plain"})
    import app as app_module

    if route.produces in app_module.app.api.binary_types:   # Chalice's Accept check for binary responses
        ship(rid)
        boto("s3").put_object(Bucket=ENV["LABELS_BUCKET"], Key=f"labels/{rid}.pdf", Body=b"%PDF-1.4 label")
        res = api.http.get(_path(route, rid), headers={**_allowed_headers(route), "Accept": "application/pdf"})
        assert res.status_code == 200, res.body
        yield "Accept pdf", res
        yield "Accept json", api.http.get(_path(route, rid), headers={**_allowed_headers(route),
                                                                      "Accept": "application/json"})
    if route.path == "/orders/{order_id}":
        yield "long order id", send(api, "PUT", "/orders/" + "o" * 65, order_body(), _allowed_headers(route))
    if route.body is not None:
        path = _path(route, rid)
        yield "malformed JSON", _post(api, route, path, b'{"a": ', {})
        yield "a JSON array", _post(api, route, path, b"[]", {})
        yield "over 256 KiB", _post(api, route, path, b'{"a": "' + b"x" * (257 * 1024) + b'"}', {})
        yield "an unknown field", _post(api, route, path, b'{"no_such_field": 1}', {})
    if route.idempotent_key:
        body = BODIES[(route.method, route.path)]
        raw = json.dumps(body).encode()
        path = _path(route, rid)
        yield "a malformed key", _post(api, route, path, raw, {"Idempotency-Key": "a b"})
        first = _post(api, route, path, raw, {"Idempotency-Key": "probe-1"})
        yield "the first use of a key", first
        other = _variant(route.body, body)
        if other is not None:
            again = _post(api, route, path, json.dumps(other).encode(), {"Idempotency-Key": "probe-1"})
            if first.status_code not in (409, 429):
                assert again.status_code == 422 and error_of(again)["code"] == "idempotency_key_reused", again.body
            yield "a key reused with another body", again
    for p in route.query:
        name = p[0]
        schema = next(x["schema"] for x in op["parameters"] if x["name"] == name and x["in"] == "query")
        base = {n: VALID_QUERY[n] for n, _, _ in route.query if n in VALID_QUERY}
        bad: list[tuple[str, int | None]] = [("x", 400)] if schema.get("type") == "integer" or "format" in schema \
            else [("", None)]
        if "minimum" in schema:
            bad += [(str(schema["minimum"] - 1), 422), (str(schema["maximum"] + 1), 422),
                    (str(schema["maximum"]), None)]
        if "enum" in schema:
            bad += [("no_such_value", 422)]
        if "maxLength" in schema:
            bad += [("x" * (schema["maxLength"] + 1), 422)]
        for value, wanted in bad:
            query = "&".join(f"{k}={v}" for k, v in {**base, name: value}.items())
            res = api.http.get(_path(route, rid, query), headers=_allowed_headers(route))
            if wanted is not None:
                assert res.status_code == wanted, (name, value, res.status_code, res.body[:200])
            yield f"{name}={value[:20]}", res
    if any(p[0] == "from" for p in route.query):
        for query, wanted in (("from=2026-11-30&to=2026-11-01", 422), ("from=2026-01-01&to=2026-12-31", 422),
                              ("from=2026-11-01", 400), ("to=2026-11-01", 400)):
            res = api.http.get(_path(route, rid, query), headers=_allowed_headers(route))
            assert res.status_code == wanted, (query, res.status_code, res.body[:200])
            yield query, res


# slow: every route driven to each status it answers
@pytest.mark.slow
@pytest.mark.parametrize("route", openapi.ROUTES, ids=_id)
def test_every_status_a_route_really_returns_is_documented(api, order, doc, route):
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    rid = start_return(api)["return_id"]
    seed_claim()
    documented = _documented(doc, route)
    seen: list[tuple[str, int]] = []
    undocumented: list[str] = []

    def check(what: str, res) -> None:
        seen.append((what, res.status_code))
        if res.status_code not in documented:
            undocumented.append(f"{what}: {res.status_code} {res.body[:160]!r}")
        if res.status_code >= 400:
            body = res.json_body
            assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), (what, res.body)

    for caller in ("none", "expired", "tampered", *CALLERS):
        check(caller, _call(api, route, rid, caller))
    for what, res in _probes(api, route, rid, _op(doc, route.method, route.path)):
        check(what, res)
    assert all(status < 500 for _, status in seen), seen
    assert not undocumented, f"documented {sorted(documented)}; undocumented:\n" + "\n".join(undocumented)


def _views_opened_by_links(api) -> set[str]:
    """The routes a message link's token opens from `?t=` with no Authorization header, as the server
    answers: refused (401) without a token, past the gate (anything but 401) with a label or a portal link."""
    from returns_core.edge import auth as tokens

    rid = start_return(api)["return_id"]
    seed_claim()
    links = (tokens.mint_label_link("o-1", rid), tokens.mint_portal_link("o-1", rid))
    found = set()
    for route in openapi.ROUTES:
        path = route.path.replace("{return_id}", rid).replace("{order_id}", "o-1").replace("{claim_id}", CLAIM_ID)
        if api.http.request(route.method, path, body=b"", headers={"Accept": "*/*"}).status_code != 401:
            continue
        for link in links:
            res = api.http.request(route.method, f"{path}?t={link}", body=b"", headers={"Accept": "*/*"})
            if res.status_code != 401:
                found.add(f"{route.method} {route.path}")
    return found


def test_routes_opened_from_message_links_document_the_link_token(api, order, doc):
    opened = _views_opened_by_links(api)
    assert "GET /returns/{return_id}/label" in opened
    for key in opened:
        method, path = key.split(" ", 1)
        assert {"link": []} in _op(doc, method, path)["security"], key
    assert doc["components"]["securitySchemes"]["link"] == {**doc["components"]["securitySchemes"]["link"],
                                                            "type": "apiKey", "in": "query", "name": "t"}
    documented = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m, op in ops.items()
                  if {"link": []} in op.get("security", [])}
    assert documented == opened


# --- one declaration per route (chalicelib/routes.py): everything else reads it ------------------------


def test_every_route_declares_who_may_call_it_and_what_body_it_reads():
    from pydantic import BaseModel

    from chalicelib import routes
    from returns_core.edge.auth import ROLES

    for route in routes.ROUTES:
        assert route.auth in (routes.PUBLIC, routes.SIGNED) or (
            isinstance(route.auth, tuple) and route.auth and set(route.auth) <= set(ROLES)), _id(route)
        if route.method in ("POST", "PUT", "PATCH"):
            has_model = isinstance(route.body, type) and issubclass(route.body, BaseModel)
            assert has_model != bool(route.no_body.strip()), f"{_id(route)}: a body model, or why it has none"
        else:
            assert route.body is None and not route.no_body, _id(route)


@pytest.mark.parametrize("declared", [
    {"method": "GET", "path": "/x", "auth": ()},                       # no roles
    {"method": "GET", "path": "/x", "auth": None},                     # no auth at all
    {"method": "GET", "path": "/x", "auth": ("customer", "nobody")},   # a role that does not exist
    {"method": "GET", "path": "/x", "auth": "customer"},               # a role, not a tuple of roles
    {"method": "POST", "path": "/x", "auth": ("ops",)},                # a POST without a body model
    {"method": "PUT", "path": "/x", "auth": ("ops",), "no_body": "  "},   # ... or with no reason for none
    {"method": "POST", "path": "/x", "auth": ("ops",), "body": "schemas.Note", "no_body": "none"},
    {"method": "GET", "path": "/x", "auth": ("ops",), "body": "schemas.Note"},
    {"method": "GET", "path": "/x", "auth": ("ops",), "link_in_query": True},   # a link with no scope
], ids=lambda d: ", ".join(f"{k}={v!r}" for k, v in d.items() if k != "path"))
def test_a_route_declared_without_auth_or_body_is_refused(declared):
    from chalicelib import routes, schemas

    if declared.get("body") == "schemas.Note":
        declared = {**declared, "body": schemas.Note}
    with pytest.raises(routes.BadDeclaration):
        routes.Route(summary="s", **declared)


def _template_paths() -> set[tuple[str, str]]:
    """(path, METHOD) of the generated block of template.yaml, read as text."""
    from pathlib import Path

    from infra import api_events

    text = (Path(api_events.__file__).resolve().parents[1] / "template.yaml").read_text()
    block = text[text.index(api_events.BEGIN):text.index(api_events.END)]
    found, path = set(), None
    for line in block.splitlines():
        if re.fullmatch(r" {10}/\S*:", line):
            path = line.strip()[:-1]
        elif re.fullmatch(r" {12}[a-z]+:", line):
            found.add((path, line.strip()[:-1].upper()))
    return found


def test_the_app_the_document_and_the_template_serve_exactly_the_declared_routes(api, doc):
    import app as app_module
    from chalicelib import routes
    from infra import api_events

    declared = [route.key for route in routes.ROUTES]
    assert len(declared) == len(set(declared))
    registered = {(path, method) for path, methods in app_module.app.routes.items() for method in methods}
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert registered == set(declared)
    assert documented == set(declared)
    assert _template_paths() == set(declared)
    assert api_events.main(["--check"]) == 0

