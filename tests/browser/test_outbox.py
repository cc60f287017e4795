"""The local outbox shows what a customer would receive, rendered, newest first."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from .page import shot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def test_the_label_and_follow_links_of_an_email_open_from_the_outbox_with_no_token(local_stack, desk_page):
    """Clicked as a customer clicks them in an inbox: no bearer token, no sign-in."""
    order_id = f"LINKS-{int(time.time() * 1000)}"
    email = f"{order_id.lower()}@example.com"
    store = local_stack.token("store", "shop")
    status, body = local_stack.request("PUT", f"/orders/{order_id}", {
        "customer": {"email": email, "name": "Noé", "locale": "en-GB"},
        "currency": "EUR", "placed_at": _days_ago(10), "delivered_at": _days_ago(3),
        "shipping_address": {"line1": "3 rue des Lilas", "postcode": "75020", "city": "Paris", "country": "FR"},
        "payment": {"provider": "manual", "reference": "r-2", "captured_amount": 2499},
        "lines": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1, "unit_price": 2499, "final_sale": False}]},
        token=store)
    assert status == 201, body
    customer = local_stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": email})[1]["token"]
    status, ret = local_stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    subject = f"Your return label for order {order_id}"
    wait_until(lambda: local_stack.request("GET", "/outbox/messages")[1],
               lambda o: any(e["subject"] == subject for e in o["emails"]), "the label email")

    desk_page.goto(local_stack.url + "/outbox")
    card = desk_page.locator("article.email", has_text=subject)
    card.locator(".subject").wait_for()
    frame = card.frame_locator("iframe")

    # The label link: a PDF, downloaded by a browser that holds no token.
    with desk_page.context.expect_page() as opened:
        frame.get_by_role("link", name="Download your label").click()
    label_tab = opened.value
    label_url = label_tab.url
    assert f"/returns/{ret['return_id']}/label?t=" in label_url
    label_tab.close()
    pdf = desk_page.context.request.get(label_url)
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF-")
    # The same link with its token altered, or for another return, opens nothing.
    assert desk_page.context.request.get(label_url[:-3] + "AAA").status == 401

    # The follow link: the portal, on this return, signed in by the link alone.
    with desk_page.context.expect_page() as opened:
        frame.get_by_role("link", name="Follow your return").click()
    portal = opened.value
    portal.wait_for_load_state()
    portal.locator("#return").wait_for(state="visible")
    assert ret["return_id"] in portal.url and "#t=" not in portal.url   # the token left the address bar
    portal.locator("#label-link").wait_for()     # the return, with its label, not the lookup form
    assert portal.locator("#find").is_hidden() and portal.get_by_label("Order number").is_hidden()
    assert portal.locator("#status").inner_text() == "Ready to drop off"   # the en-GB customer's language
    assert portal.get_by_role("button", name="Find another order").is_visible()
    shot(portal, "portal-from-email-link")
    portal.close()
