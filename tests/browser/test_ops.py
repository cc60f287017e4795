"""/ops in a real Chromium, on the local stack: customer service signs in, finds a customer by email and
sees their one timeline (returns, the dispute, the messages sent), resolves the dispute from the page
(upheld with an extra refund), and approves a risky return from the review queue with the keyboard
alone (Enter in the note field). Open claims show "No claims" until the claims routes land. Nothing is
clipped at 1280 px or 390 px."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.workflow.helpers import order_payload

from .page import ANSWER, customer_email, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _order(stack, prefix: str, lines: list | None = None) -> tuple[str, str]:
    """A new order of a new customer; (order_id, the customer's token)."""
    order_id = prefix + uuid.uuid4().hex[:8]
    order = order_payload(provider="manual", email=customer_email(order_id), lines=lines)
    assert stack.request("PUT", f"/orders/{order_id}", order, token=stack.token("store", "shop"))[0] == 201
    status, found = stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": customer_email(order_id)})
    assert status == 200, found
    return order_id, found["token"]


def _start(stack, order_id: str, customer: str, sku: str = "TSHIRT-M") -> str:
    status, ret = stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": sku, "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    return ret["return_id"]


def _disputed_return(stack) -> tuple[str, str]:
    """A return taken through the real workflow to its refund, then disputed: (order_id, return_id)."""
    order_id, customer = _order(stack, "ORD-OPS-")
    rid = _start(stack, order_id, customer)

    def get():
        return stack.request("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_until(get, lambda r: r["status"] == "awaiting_dropoff", "the label")
    raw = json.dumps({"tracking_number": ret["label"]["tracking_number"], "event": "dropped_off",
                      "occurred_at": "2026-11-22T10:00:00Z", "location": "Paris"}).encode()
    sig = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
    assert stack.request("POST", "/carrier/events", raw=raw, headers={"X-Carrier-Signature": f"sha256={sig}"})[0] == 202
    wait_until(get, lambda r: r["status"] == "in_transit", "in transit")
    wh = stack.token("warehouse", "wh:bob")
    assert stack.request("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=wh)[0] == 200
    status, body = stack.request("POST", f"/returns/{rid}/inspection",
                                 {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=wh)
    assert status == 200, body
    wait_until(get, lambda r: r["status"] == "refunded", "refunded (store credit)")
    status, body = stack.request("POST", f"/returns/{rid}/dispute", {"message": "One sleeve was torn"}, token=customer)
    assert status == 200, body
    return order_id, rid


def _return_in_review(stack) -> str:
    """A return of a large order (over the review threshold): it waits in the review queue."""
    lines = [{"sku": "COAT-L", "name": "Coat L", "qty": 1, "unit_price": 150000, "final_sale": False}]
    order_id, customer = _order(stack, "ORD-REV-", lines)
    rid = _start(stack, order_id, customer, sku="COAT-L")
    wait_until(lambda: stack.request("GET", f"/returns/{rid}", token=customer)[1],
               lambda r: r["status"] == "in_review", "the review")
    return rid


def _fits(page) -> None:
    """Nothing clipped or scrolled sideways: the page and every table box are as wide as they show."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    for box in page.locator("section, .scroll").all():
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), box.evaluate("b => b.outerHTML.slice(0, 80)")


def test_ops_finds_a_customer_resolves_their_dispute_and_approves_a_review(local_stack, desk_page):
    stack = local_stack
    order_id, disputed = _disputed_return(stack)
    in_review = _return_in_review(stack)
    ops = stack.token("ops", "ops:carla")
    page = desk_page
    sign_in(page, stack, "/ops", "ops:carla", "ops")

    # Search by email (typed in capitals): the customer's one timeline, newest first.
    page.fill("#search-value", customer_email(order_id).upper())
    page.press("#search-value", "Enter")
    expect(page.locator("#customer-name")).to_have_text("Ana Lefèvre", timeout=ANSWER)
    expect(page.locator("#timeline li[data-type='return.disputed']")).to_have_count(1)
    types = [t for t in page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.type)")]
    assert "message.sent" in types and "return.requested" in types and "order.placed" in types
    assert types.index("return.disputed") < types.index("return.requested") < types.index("order.placed")
    expect(page.locator("#timeline li", has_text="One sleeve was torn")).to_have_count(1)
    expect(page.locator("#timeline .badge", has_text="Email").first).to_be_visible()
    expect(page.locator("#customer-returns tbody tr", has_text=disputed)).to_have_count(1)
    expect(page.locator("#customer-claims")).to_have_text("No claims.")
    # An unknown customer is said in place.
    page.select_option("#search-key", "order_id")
    page.fill("#search-value", "ORD-NOBODY")
    page.click("#search-go")
    expect(page.locator("#search-error")).to_have_text("No customer matches this order number.", timeout=ANSWER)
    page.select_option("#search-key", "order_id")
    page.fill("#search-value", order_id)
    page.press("#search-value", "Enter")
    expect(page.locator("#customer-name")).to_have_text("Ana Lefèvre", timeout=ANSWER)

    # Claims: the route is not there yet (404): the section says so and the page works.
    expect(page.locator("#claims tbody")).to_contain_text("No claims.", timeout=ANSWER)
    # Recovery: nothing stopped, nothing parked on a healthy stack (no replay button to press).
    expect(page.locator("#recovery tbody")).to_contain_text("No stopped workflow.", timeout=ANSWER)
    expect(page.locator("#parked")).to_have_text("No status effect is parked.")
    expect(page.locator("#parked button")).to_have_count(0)

    # A phone: the customer's timeline and the queues' rows as cards, nothing wider than the screen.
    expect(page.locator("#disputes tbody tr", has_text=disputed)).to_have_count(1, timeout=ANSWER)
    expect(page.locator("#reviews tbody tr", has_text=in_review)).to_have_count(1, timeout=ANSWER)
    page.set_viewport_size({"width": 390, "height": 844})
    _fits(page)
    shot(page, "ops-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The dispute, resolved from the page: a bad amount is refused in place, then upheld with 1.50 more.
    row = page.locator("#disputes tbody tr", has_text=disputed)
    expect(row).to_contain_text("One sleeve was torn", timeout=ANSWER)
    row.get_by_label("Note to the customer").fill("Sorry about the sleeve: here is something back.")
    row.locator("input.amount").fill("1.5x")
    row.get_by_role("button", name=f"Uphold the dispute of {disputed}").click()
    expect(row.locator(".note.bad")).to_contain_text("an amount such as 12.50")
    row.locator("input.amount").fill("1.50")
    row.locator("select").select_option("store_credit")
    shot(page, "ops-1280")
    row.get_by_role("button", name=f"Uphold the dispute of {disputed}").click()
    expect(row.locator(".note.ok")).to_contain_text("Upheld: €1.50 more is being paid.", timeout=ANSWER)
    got = wait_until(lambda: stack.request("GET", f"/returns/{disputed}", token=ops)[1],
                     lambda r: r["status"] == "resolved", "resolved")
    assert got["dispute_resolution"]["decision"] == "uphold" and got["dispute_resolution"]["refund_amount"] == 150

    # The review, approved with the keyboard: Enter in its note field presses Approve.
    review = page.locator("#reviews tbody tr", has_text=in_review)
    note = review.get_by_label(f"Note on the review of {in_review}")
    note.focus()
    note.type("Known customer, large order")
    page.keyboard.press("Enter")
    expect(review.locator(".note.ok")).to_have_text("Approved: the label is being issued.", timeout=ANSWER)
    got = wait_until(lambda: stack.request("GET", f"/returns/{in_review}", token=ops)[1],
                     lambda r: r["status"] != "in_review", "approved")
    approved = [t for t in got["timeline"] if t["type"] == "review.approved"]
    assert approved and approved[0]["actor"] == "ops:carla"
    _fits(page)


def test_ops_sees_a_return_s_risk_and_marks_it_fine_or_abuse(local_stack, desk_page):
    """Issue 33: the customer's returns show their risk score and each reason with its points; ops marks
    one as abuse from the page, and the verdict is on the return and in its (staff) timeline."""
    stack = local_stack
    order_id, customer = _order(stack, "ORD-RISK-")
    rid = _start(stack, order_id, customer)
    page = desk_page
    sign_in(page, stack, "/ops", "ops:carla", "ops")
    page.select_option("#search-key", "order_id")
    page.fill("#search-value", order_id)
    page.press("#search-value", "Enter")
    row = page.locator("#customer-returns tbody tr", has_text=rid)
    expect(row.locator(".badge", has_text="risk 10")).to_be_visible(timeout=ANSWER)
    expect(row.locator("ul.reasons li[data-code='new_customer']")).to_have_text(
        "first order we know of this customer (+10)")
    row.get_by_label(f"Note on the verdict on {rid}").fill("box was empty")
    row.get_by_role("button", name=f"Mark return {rid} abuse").click()
    expect(row.locator(".note.ok")).to_have_text("Marked abuse: this customer's next returns score higher.",
                                                 timeout=ANSWER)
    got = stack.request("GET", f"/returns/{rid}", token=stack.token("ops", "ops:carla"))[1]
    assert got["risk_verdict"]["verdict"] == "abuse" and got["risk_verdict"]["by"] == "ops:carla"
    assert [t["detail"] for t in got["timeline"] if t["type"] == "risk.verdict"] == [
        {"verdict": "abuse", "note": "box was empty"}]
    _fits(page)
