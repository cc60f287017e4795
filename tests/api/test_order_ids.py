"""A store's order id is checked by one rule (rules/ids.py, schemas.OrderId) wherever one comes in:
the path of PUT /orders/{order_id} and GET /orders/{order_id}/returns, the lookup, a return, a quote,
a claim, a withdrawal, customer service's search. A bad one (`..`, `a/b`, a NUL, a control
character, a lone space, too long) is a 4xx naming `order_id`, never a 500 and never a record.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.api.support import auth, customer, order_body, return_body, send, token

KNOWN_BAD = ["..", ".", "a/b", "/", "a\x00b", "\x00", " ", " o-1", "o-1 ", "o\t1", "o\n", "o-1\n", "o\r1",
             "o\x1b1", "\u00a0", "o\u202e1", "x" * 65, "", "=cmd", "-1", "@x", "+1", "a\\b", "%2F", "o;1", "o?1"]
bad_ids = st.one_of(st.sampled_from(KNOWN_BAD),
                    st.text(max_size=80).filter(lambda v: not _is_order_id(v)))


def _is_order_id(value: str) -> bool:
    from returns_core.rules import ids

    return ids.is_order_id(value)


def _records() -> tuple[int, int, int]:
    from returns_core.store.models import ClaimModel, OrderModel, ReturnModel

    return (sum(1 for _ in OrderModel.scan()), sum(1 for _ in ReturnModel.scan()), sum(1 for _ in ClaimModel.scan()))


def _bodies(order_id: str) -> list[tuple[str, str, dict, dict]]:
    """(method, path, body, headers): every route taking an order id in its body."""
    items = [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}]
    cust = customer("o-1")
    return [
        ("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"}, {}),
        ("POST", "/returns", {**return_body(), "order_id": order_id}, cust),
        ("POST", "/returns", {**return_body(), "order_id": order_id}, auth("store")),
        ("POST", "/returns/quote", {"order_id": order_id, "items": items, "resolution": "refund"}, cust),
        ("POST", "/claims", {"order_id": order_id, "kind": "missing_item", "message": "one was missing",
                             "lines": [{"sku": "TSHIRT-M", "qty": 1}]}, cust),
        ("POST", "/withdrawals", {"order_id": order_id, "confirm": True}, cust),
        ("POST", "/ops/customers/search", {"order_id": order_id}, auth("ops")),
        ("POST", "/policy/simulate", {"order": {**order_body(), "order_id": order_id}, "resolution": "refund",
                                      "items": items}, auth("store")),
    ]


def _names_the_order_id(res, field: str = "order_id") -> bool:
    body = res.json_body
    return 400 <= res.status_code < 500 and body["error"]["details"]["field"] == field


# slow: sixty generated ids, each against every route that takes one
@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=bad_ids)
@example(order_id="..")
@example(order_id="a/b")
@example(order_id="\x00")
@example(order_id=" ")
def test_a_bad_order_id_in_a_body_is_a_4xx_naming_it_and_writes_nothing(api, order, order_id):
    before = _records()
    for method, path, body, headers in _bodies(order_id):
        res = send(api, method, path, json.dumps(body), headers)
        field = "order.order_id" if path == "/policy/simulate" else "order_id"
        assert _names_the_order_id(res, field), (path, repr(order_id), res.status_code, res.body[:300])
    assert _records() == before


@pytest.fixture
def gateway(api):
    """The API behind the gateway emulation: a path parameter arrives percent-decoded, as on AWS."""
    import app as app_module
    from infra.local.gateway import RestApi
    from infra.local.template import load

    from tests.api.support import in_process

    return RestApi.from_template(load(), in_process(app_module))


def _through_gateway(gateway, method: str, order_id: str, body: dict | None, who: str):
    # Every character encoded (dots too): the id is one path segment, never a `..` the client resolves.
    segment = "".join(f"%{b:02X}" for b in order_id.encode()) if order_id else ""
    res = gateway.handle(method, f"/orders/{segment}" + ("/returns" if method == "GET" else ""),
                         [("authorization", f"Bearer {token(who)}"), ("content-type", "application/json")],
                         json.dumps(body).encode() if body is not None else b"")
    return res.status_code, json.loads(res.body)


# slow: sixty generated ids, each in every path that takes one
@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=bad_ids.filter(bool))
@example(order_id="..")
@example(order_id="a/b")
@example(order_id="a\x00b")
@example(order_id=" ")
def test_a_bad_order_id_in_the_path_is_a_4xx_naming_it_and_writes_nothing(api, gateway, order_id):
    before = _records()
    for method, body in (("PUT", order_body()), ("GET", None)):
        status, payload = _through_gateway(gateway, method, order_id, body, "store")
        assert 400 <= status < 500, (method, repr(order_id), status, payload)
        assert payload["error"]["details"]["field"] == "order_id", (method, repr(order_id), payload)
    assert _records() == before


@pytest.mark.parametrize("order_id", ["o-1", "ORD-1001", "#1001", "1001", "shop:1001", "o_9.2", "x" * 64])
def test_store_order_ids_of_every_usual_shape_are_taken(api, gateway, order_id):
    status, payload = _through_gateway(gateway, "PUT", order_id, order_body(), "store")
    assert status == 201 and payload["order_id"] == order_id, payload
    res = send(api, "POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})
    assert res.status_code == 200, res.body
