"""The local outbox shows what a customer would receive, rendered, newest first."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import shot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _days_ago(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_outbox_shows_the_label_email_a_new_return_sends(local_stack, desk_page):
    order_id = f"OUTBOX-{int(time.time() * 1000)}"
    store = local_stack.token("store", "shop")
    status, body = local_stack.request("PUT", f"/orders/{order_id}", {
        "customer": {"email": "lea@example.com", "name": "Léa <Dupont>", "locale": "en-GB", "phone": "+33611111111"},
        "currency": "EUR", "placed_at": _days_ago(10), "delivered_at": _days_ago(3),   # inside the return window
        "shipping_address": {"line1": "3 rue des Lilas", "postcode": "75020", "city": "Paris", "country": "FR"},
        "payment": {"provider": "manual", "reference": "r-1", "captured_amount": 2499},
        "lines": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1, "unit_price": 2499, "final_sale": False}]},
        token=store)
    assert status == 201, body
    status, body = local_stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": "lea@example.com"})
    assert status == 200, body
    customer = body["token"]
    status, ret = local_stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret

    subject = f"Your return label for order {order_id}"
    outbox = wait_until(lambda: local_stack.request("GET", "/outbox/messages")[1],
                   lambda o: any(e["subject"] == subject for e in o["emails"]), "the label email")
    newest = outbox["emails"][0]
    assert newest["subject"] == subject and newest["template"] == "return_requested" and newest["locale"] == "en"
    assert "Léa &lt;Dupont&gt;" in newest["html"] and "<Dupont>" not in newest["html"]
    wait_until(lambda: local_stack.request("GET", "/outbox/messages")[1],
          lambda o: any(s["to"] == "+33611111111" for s in o["sms"]), "the label SMS")

    desk_page.goto(local_stack.url + "/outbox")
    first = desk_page.locator("article.email").first
    first.locator(".subject").wait_for()
    assert first.locator(".subject").inner_text() == subject
    frame = desk_page.frame_locator("article.email >> nth=0 >> iframe")
    assert order_id in frame.locator("body").inner_text()
    assert desk_page.locator("article.sms", has_text="+33611111111").count() == 1
    first.get_by_role("button", name="Plain text").click()
    assert "Hello Léa <Dupont>" in first.locator("pre").inner_text()
    assert not first.locator("iframe").is_visible()
    shot(desk_page, "outbox")
