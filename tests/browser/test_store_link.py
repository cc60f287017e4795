"""A return started from the store's own order page: the store's signed link opens /portal on that order,
signed in, with nothing typed (../shared/api.md v3, "Store links"); a bad or expired link shows the lookup
form, filled in, with one sentence saying why."""
from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest

from infra.local.template import LOCAL_EMULATOR_PARAMETERS
from returns_core.rules import store_links

from tests.workflow.helpers import order_payload

from .page import shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SECRET = LOCAL_EMULATOR_PARAMETERS["StoreLinkSigningSecret"].encode()


def _order(stack) -> str:
    order_id = "ORD-L-" + uuid.uuid4().hex[:8]
    status, body = stack.request("PUT", f"/orders/{order_id}", order_payload(locale="en-GB", email="ana@example.com"),
                                 token=stack.token("store", "shop"))
    assert status == 201, body
    return order_id


def _link(stack, order_id: str, exp: int, sig: str | None = None) -> str:
    sig = sig or store_links.sign(SECRET, order_id, "Ana@Example.com", exp)
    query = urllib.parse.urlencode({"order_id": order_id, "email": "Ana@Example.com", "exp": exp, "sig": sig})
    return f"{stack.url}/portal?{query}"


def test_the_stores_link_opens_the_order_with_nothing_typed(local_stack, phone_page):
    page = phone_page
    order_id = _order(local_stack)
    page.goto(_link(local_stack, order_id, int(time.time()) + 3600))
    page.locator("#choose").wait_for(state="visible")
    assert order_id in page.locator("#order-summary").inner_text()
    assert page.locator("#lookup-form").is_hidden()
    assert "sig=" not in page.url and "email=" not in page.url   # the link left the address bar
    shot(page, "store-link-1-signed-in")


@pytest.mark.parametrize("case, sentence", [
    ("expired", "This return link has expired. Enter your order number and email to continue."),
    ("forged", "This return link is not valid. Enter your order number and email to continue."),
])
def test_a_bad_or_expired_link_shows_the_form_filled_in_and_why(local_stack, phone_page, case, sentence):
    page = phone_page
    order_id = _order(local_stack)
    exp = int(time.time()) - 60 if case == "expired" else int(time.time()) + 3600
    page.goto(_link(local_stack, order_id, exp, sig="0" * 64 if case == "forged" else None))
    page.get_by_text(sentence).wait_for()
    assert page.get_by_label("Order number").input_value() == order_id
    assert page.get_by_label("Email used for the order").input_value() == "Ana@Example.com"
    assert page.locator("#choose").is_hidden()
    shot(page, f"store-link-2-{case}")
    page.get_by_role("button", name="Find my order").click()   # typed in by the link: one click finds it
    page.locator("#choose").wait_for(state="visible")
