"""Hostile input: schemathesis against /openapi.json of the in-process app.

The Chalice app runs in-process behind the local stack's API Gateway emulation (the routes of
template.yaml; infra.local.gateway), through a tiny WSGI adapter, on moto. Each operation gets a
bounded number of examples with a token of a role it allows, a few with input the document calls invalid, then a few
with no token and with a role it refuses, and every response is checked: no 5xx, a
documented status, the documented content type and schema.

The examples come from one random seed per run, printed in the terminal summary (with or
without `-s`) and in any failure: `SCHEMATHESIS_SEED=N pytest tests/api/test_schemathesis.py`
replays that run's examples.
"""
from __future__ import annotations

import json
import os
import secrets
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib import openapi
from returns_core.edge.auth import ROLES

from tests.api.support import auth, error_of, in_process, order_body, send, start_return, token

MAX_EXAMPLES = 15          # per operation, with a token it allows (a new seed each run: runs add up)
MAX_DENIED_EXAMPLES = 2    # per operation and denied caller (no token; a role it refuses)
MAX_NEGATIVE_EXAMPLES = 5  # per operation with parameters or a body: inputs the document says are invalid
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
SEED_VARIABLE = "SCHEMATHESIS_SEED"


def run_seed() -> int:
    """SCHEMATHESIS_SEED when set (a replay), else a fresh random seed for this run."""
    given_seed = os.environ.get(SEED_VARIABLE, "").strip()
    return int(given_seed) if given_seed else secrets.randbits(32)


SEED = run_seed()
REPLAY = f"schemathesis seed {SEED}; replay with {SEED_VARIABLE}={SEED}"


class _SeedReport:
    """Prints the seed at the end of the run, whatever the capture mode."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", REPLAY)


@pytest.fixture(scope="session")
def seed_reported(pytestconfig):
    if not pytestconfig.pluginmanager.has_plugin("returns-schemathesis-seed"):
        pytestconfig.pluginmanager.register(_SeedReport(), "returns-schemathesis-seed")
    return SEED


def wsgi_app(gateway):
    """WSGI over the local stack's API Gateway emulation (infra.local.gateway: the routes of
    template.yaml, the proxy event, its answer back to HTTP), the app invoked in-process."""

    def app(environ, start_response):
        # The path as sent on the wire: API Gateway matches it before decoding a parameter, so a
        # `;`, `?` or `/` inside an order id (percent-encoded by the client) stays in that id.
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
        if "?" not in target and environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = [(k[5:].replace("_", "-").lower(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        res = gateway.handle(environ["REQUEST_METHOD"], target, headers, body)
        start_response(f"{res.status_code} X", res.headers)
        return [res.body]

    return app


@pytest.fixture
def api_schema(api, order):
    import app as app_module
    from infra.local.gateway import RestApi
    from infra.local.template import load

    start_return(api)
    gateway = RestApi.from_template(load(), in_process(app_module))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi_app(gateway))
    return schema


POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


def _runs(route) -> list[tuple[str, dict[str, str], int, schemathesis.GenerationMode]]:
    """(who, headers, max examples, mode): valid input from a role the route allows, then invalid input
    (a documented 4xx, never a 5xx), then no token and a role it refuses."""
    allowed = "anyone" if route.auth in (openapi.PUBLIC, openapi.SIGNED) else \
        next((r for r in route.auth if r != "customer"), route.auth[0])
    headers = {} if allowed == "anyone" else _bearer(allowed)
    out = [(allowed, headers, MAX_EXAMPLES, POSITIVE)]
    if route.body is not None or route.params or "{" in route.path or route.idempotent_key:
        out.append((f"{allowed}, invalid input", headers, MAX_NEGATIVE_EXAMPLES, NEGATIVE))
    if allowed != "anyone":
        out.append(("no token", {}, MAX_DENIED_EXAMPLES, POSITIVE))
        refused = [r for r in ROLES if r not in route.auth]
        if refused:
            out.append((refused[0], _bearer(refused[0]), MAX_DENIED_EXAMPLES, POSITIVE))
    return out


def _bearer(role: str) -> dict[str, str]:
    tok = token(role, order_id="o-1") if role == "customer" else token(role)
    return {"Authorization": f"Bearer {tok}"}


# One test per operation (schemathesis's lazy pytest loader does not run under pytest 9 yet).
# slow: generated requests to every route
@pytest.mark.slow
@pytest.mark.parametrize("route", openapi.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_server_error_and_responses_match_the_schema(api_schema, route, seed_reported, record_property):
    record_property("schemathesis_seed", seed_reported)
    operation = api_schema[route.path][route.method]
    for who, headers, examples, mode in _runs(route):

        @seed(seed_reported)
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)  # noqa: B023 - run() runs in this iteration

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:   # schemathesis raises a FailureGroup (BaseException)
            raise AssertionError(f"{route.method} {route.path} as {who}: {REPLAY}") from exc


# --- hostile input the generator does not aim at ---------------------------------------


@pytest.mark.parametrize("order_id", ["o;1", "o/1", "o?1", "o#1", "o%1", "o 1", "o\u00e91", ";", "%2F"])
def test_reserved_characters_in_a_path_parameter_reach_the_function(api, order_id):
    """A parameter percent-encoded by the client matches its `{order_id}` route as API Gateway does
    (`;` is no path-parameter separator, `%2F` no segment break): the function answers, with the order
    or the error envelope naming the field, never the gateway's route-not-found 403."""
    import app as app_module
    from infra.local.gateway import RestApi
    from infra.local.template import load

    gateway = RestApi.from_template(load(), in_process(app_module))
    res = gateway.handle("PUT", f"/orders/{quote(order_id, safe='')}",
                         [("authorization", f"Bearer {token('store')}"), ("content-type", "application/json")],
                         json.dumps(order_body()).encode())
    payload = json.loads(res.body)
    assert res.status_code in (200, 201, 422), (res.status_code, payload)
    if res.status_code == 422:
        assert payload["error"]["details"]["field"] == "order_id", payload
    else:
        assert payload["order_id"] == order_id


def test_a_body_over_256_kib_is_413(api, order):
    res = send(api, "POST", "/returns", b'{"order_id": "' + b"x" * (257 * 1024) + b'"}',
               {"Authorization": f"Bearer {token('customer', order_id='o-1')}"})
    assert res.status_code == 413 and error_of(res)["code"] == "payload_too_large"


@pytest.mark.parametrize("comment,ok", [
    ("seam open \u0000 here", True),            # NUL: stored as sent (JSON escapes it) or refused, never a 500
    ("\u202e\u0645\u0631\u062d\u0628\u0627 \U0001f600 \u00e9\u0301", True),  # bidi, Arabic, emoji, combining
    ("\ud800", True),                           # a lone surrogate (JSON allows the escape)
    ("x" * 501, False),                         # over the 500-character limit
])
def test_unicode_and_control_characters_in_a_comment(api, order, comment, ok):
    body = {"order_id": "o-1", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small", "comment": comment}],
            "resolution": "refund", "dropoff": {"method": "letterbox"}}
    res = send(api, "POST", "/returns", json.dumps(body),
               {"Authorization": f"Bearer {token('customer', order_id='o-1')}"})
    assert res.status_code < 500, res.body
    if not ok:
        assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].comment"
        return
    assert res.status_code in (201, 422), res.body
    if res.status_code == 201:
        got = api.http.get(f"/returns/{res.json_body['return_id']}",
                           headers={"Authorization": f"Bearer {token('ops')}"})
        assert got.status_code == 200
        stored = got.json_body["items"][0].get("comment")
        assert stored in (None, comment.strip()), stored


@pytest.mark.parametrize("raw", [b'{"order_id": "o-1", "email": "a@b.c"' + b"]" * 50000,
                                 b"[" * 100000 + b"]" * 100000, b'{"order_id": 1e999999, "email": "a@b.c"}',
                                 b'{"order_id": "\\ud800", "email": "a@b.c"}', b"\xff\xfe{}", b'"just a string"',
                                 b"NaN", b'{"order_id": "o-1", "email": "a@b.c", "email": "b@c.d"}'])
def test_malformed_bodies_are_4xx(api, raw):
    res = send(api, "POST", "/returns/lookup", raw, {})
    assert 400 <= res.status_code < 500, (raw[:40], res.status_code, res.body[:200])


def test_huge_and_float_numbers_where_integers_are_expected_are_422(api, order):
    for price in (24.99, 1e300, 10**40):
        lines = order_body()["lines"]
        lines[0]["unit_price"] = price
        res = send(api, "PUT", "/orders/o-9", order_body(lines=lines), auth("store"))
        assert res.status_code == 422, (price, res.body)
        assert error_of(res)["details"]["field"] == "lines[0].unit_price"


# --- the seed --------------------------------------------------------------------------


def test_each_run_draws_a_fresh_seed_unless_one_is_given_to_replay(monkeypatch):
    monkeypatch.delenv(SEED_VARIABLE, raising=False)
    assert len({run_seed() for _ in range(5)}) > 1
    monkeypatch.setenv(SEED_VARIABLE, "12345")
    assert run_seed() == 12345
    assert str(SEED) in REPLAY and f"{SEED_VARIABLE}={SEED}" in REPLAY
