"""The local stack serves its pages to a real Chromium."""
from __future__ import annotations

import pytest

from .page import shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_local_stack_serves_health_and_the_portal(local_stack, phone_page):
    assert local_stack.request("GET", "/health")[0] == 200
    phone_page.goto(local_stack.url + "/portal")
    assert phone_page.locator("h1").count() >= 1
    shot(phone_page, "smoke-portal")


def test_token_command_mints_tokens_the_stack_accepts(local_stack):
    token = local_stack.token("warehouse", "bob")
    status, body = local_stack.request("GET", "/warehouse/unmatched", token=token)
    assert status == 200 and isinstance(body["items"], list)   # the stack is shared: other tests' scans may be there
    assert local_stack.request("GET", "/warehouse/unmatched", token="nope")[0] == 401


def test_concurrent_requests_each_get_their_own_answer(local_stack):
    """Chalice keeps the current request in one attribute: the local server must not mix them."""
    import threading

    store = local_stack.token("store", "shop")
    failures: list = []

    def one(i: int) -> None:
        order = {"customer": {"email": f"c{i}@example.com", "name": "A", "locale": "en"}, "currency": "EUR",
                 "delivered_at": "2026-11-20T00:00:00Z",
                 "payment": {"provider": "manual", "reference": "r", "captured_amount": 1000},
                 "lines": [{"sku": "A", "name": "A", "qty": 1, "unit_price": 1000, "final_sale": False}]}
        status, body = local_stack.request("PUT", f"/orders/CC-{i}", order, token=store)
        if status != 201:
            failures.append((i, status, body))
            return
        status, body = local_stack.request("POST", "/returns/lookup", {"order_id": f"CC-{i}",
                                                                       "email": f"c{i}@example.com"})
        if status != 200 or body["order"]["order_id"] != f"CC-{i}":
            failures.append((i, status, body))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert failures == []
