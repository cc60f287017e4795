"""Issue 18: the portal's withdrawal function as the law words it, in a real Chromium: found first thing
under the order (no hunting), "Se rétracter du contrat ici", then "Confirmer la rétractation"; the
acknowledgement shows the date and time, and the return it opened follows. On a phone and a desk."""
from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.workflow.helpers import order_payload

from .page import customer_email, fits, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _order(stack, country: str = "FR", locale: str = "fr-FR") -> str:
    order_id = "ORD-W-" + uuid.uuid4().hex[:8]
    payload = order_payload(locale=locale, email=customer_email(order_id))
    payload["shipping_address"]["country"] = country
    status, body = stack.request("PUT", f"/orders/{order_id}", payload, token=stack.token("store", "shop"))
    assert status == 201, body
    return order_id


def _find(page, stack, order_id: str) -> None:
    page.goto(stack.url + "/portal")
    page.locator("#order-id").fill(order_id)
    page.locator("#email").fill(customer_email(order_id))
    page.locator("#lookup-btn").click()
    page.locator("#choose").wait_for(state="visible")


@pytest.mark.parametrize("viewport", ["phone_page", "desk_page"])
def test_a_french_customer_withdraws_in_two_steps_and_gets_the_acknowledgement(local_stack, viewport, request):
    page = request.getfixturevalue(viewport)
    order_id = _order(local_stack)
    _find(page, local_stack, order_id)
    withdraw = page.get_by_role("button", name="Se rétracter du contrat ici")
    withdraw.wait_for()
    assert page.get_by_role("button", name="Confirmer la rétractation").count() == 0   # the second step comes second
    shot(page, f"withdrawal-1-offered-{viewport}")
    withdraw.click()
    step = page.locator("#withdraw-step")
    assert order_id in step.inner_text() and customer_email(order_id) in step.inner_text()
    page.get_by_role("button", name="Confirmer la rétractation").click()
    assert page.locator("#err-name").inner_text() == "Saisissez votre nom."   # the name is stated
    page.get_by_label("Votre nom").fill("Ana Lefèvre")
    shot(page, f"withdrawal-2-confirm-{viewport}")
    page.get_by_role("button", name="Confirmer la rétractation").click()
    done = page.locator("#withdraw-done")
    done.wait_for(state="visible")
    assert "Nous avons reçu votre rétractation le" in done.inner_text()
    page.locator("#return").wait_for(state="visible")
    expect(page.locator("#status")).not_to_be_empty()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot(page, f"withdrawal-3-received-{viewport}")

    status, returns = local_stack.request("GET", f"/orders/{order_id}/returns", token=local_stack.token("ops"))
    assert status == 200 and len(returns["items"]) == 1
    ret = returns["items"][0]
    assert ret["withdrawal"]["received_at"] and {i["reason"] for i in ret["items"]} == {"withdrawal"}
    wait_until(lambda: local_stack.request("GET", "/outbox/messages")[1],
               lambda box: "withdrawal_received" in json.dumps(box), what="the acknowledgement email")


def test_no_withdrawal_function_outside_the_eu(local_stack, phone_page):
    order_id = _order(local_stack, country="US", locale="en-US")
    _find(phone_page, local_stack, order_id)
    assert phone_page.locator("#withdraw").is_hidden()


def test_finance_sees_the_notice_its_deadline_and_the_count_of_breaches(local_stack, desk_page):
    from datetime import date, timedelta

    order_id = _order(local_stack)
    status, found = local_stack.request("POST", "/returns/lookup", {"order_id": order_id,
                                                                   "email": customer_email(order_id)})
    assert status == 200, found
    status, notice = local_stack.request("POST", "/withdrawals", {"order_id": order_id, "confirm": True},
                                         token=found["token"])
    assert status == 201, notice
    page = desk_page
    sign_in(page, local_stack, "/finance", "fin:ann", "finance")
    today = date.today()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", (today + timedelta(days=1)).isoformat())
    page.click("#apply")
    row = page.locator("#withdrawals tbody tr", has_text=notice["withdrawal_id"])
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == notice["return_id"] and cells[2] == order_id and cells[6] == "Pending"
    expect(page.locator("#withdrawals-breaches")).to_have_text("Breaches: 0")
    fits(page)
    shot(page, "withdrawal-4-finance")
