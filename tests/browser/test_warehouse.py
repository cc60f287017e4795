"""/warehouse in a real Chromium, as a scanner uses it: the code typed then Enter, the expected
items at once, the input empty and focused for the next parcel, an inspection, the final quote, what
becomes of the refund (said as it is: an order paid offline waits for finance), and banners that go
when the next action starts or after a short while."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.workflow.helpers import order_payload

from .page import customer_email, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _labelled_return(stack, dropped_off: bool = True, provider: str = "stripe",
                     resolution: str = "store_credit") -> dict:
    order_id = "ORD-WH-" + uuid.uuid4().hex[:8]
    store = stack.token("store", "shop")
    order = order_payload(email=customer_email(order_id), provider=provider)
    assert stack.request("PUT", f"/orders/{order_id}", order, token=store)[0] == 201
    status, found = stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": customer_email(order_id)})
    assert status == 200, found
    customer = found["token"]
    status, ret = stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 2, "reason": "too_small"},
                                        {"sku": "JEANS-32", "qty": 1, "reason": "defective"}],
        "resolution": resolution, "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret

    def get():
        return stack.request("GET", f"/returns/{ret['return_id']}", token=customer)[1]

    ret = wait_until(get, lambda r: r["status"] == "awaiting_dropoff" and r["label"], "the label")
    if dropped_off:
        raw = json.dumps({"tracking_number": ret["label"]["tracking_number"], "event": "dropped_off",
                          "occurred_at": "2026-11-22T10:00:00Z", "location": "Paris"}).encode()
        sig = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
        assert stack.request("POST", "/carrier/events", raw=raw,
                             headers={"X-Carrier-Signature": f"sha256={sig}"})[0] == 202
        ret = wait_until(get, lambda r: r["status"] == "in_transit", "in transit")
    ret["customer_token"] = customer
    return ret


def _scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: types into whatever has focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_scan_then_inspect_with_the_keyboard_like_a_scanner(local_stack, desk_page):
    page = desk_page
    ret = _labelled_return(local_stack)
    code = ret["label"]["code"]

    page.clock.install()   # time flows as usual; the banners' own timers can be fast-forwarded
    sign_in(page, local_stack, "/warehouse", "wh:lea", "warehouse")
    assert _focused_id(page) == "code"  # ready to scan as soon as the sign-in is done

    _scan(page, code)
    page.wait_for_selector("#scan-result.ok")
    assert code in page.inner_text("#scan-result") and "Received" in page.inner_text("#scan-result")
    expected = page.inner_text("#expected")
    assert "TSHIRT-M" in expected and "JEANS-32" in expected
    assert page.input_value("#code") == "" and _focused_id(page) == "code"
    shot(page, "warehouse-scanned")

    # The same parcel again: a warning, nothing changes, still ready for the next one.
    _scan(page, code)
    page.wait_for_selector("#scan-result.warn")
    assert "Already received" in page.inner_text("#scan-result")
    assert page.input_value("#code") == "" and _focused_id(page) == "code"

    # An unknown parcel: told at once, listed in the unmatched table with who scanned it.
    _scan(page, "RT-NOBODY42")
    page.wait_for_selector("#scan-result.bad")
    assert "Unknown parcel" in page.inner_text("#scan-result")
    page.wait_for_selector("#unmatched td:has-text('RT-NOBODY42')")
    assert "wh:lea" in page.inner_text("#unmatched")
    assert _focused_id(page) == "code"
    shot(page, "warehouse-unknown")

    # Clicking somewhere that is not a field gives focus back to the scan input.
    page.click("h1")
    assert _focused_id(page) == "code"

    # Re-open the received parcel from the queue, keyboard only: Tab to its Inspect button.
    page.wait_for_selector(f"#queue td:has-text('{code}')")
    page.focus(f"#queue button[aria-label='Inspect {code}']")
    page.keyboard.press("Enter")
    # The form opens with the cursor in its first quantity.
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('qty')")
    rows = page.locator("#inspect-lines tbody tr")
    assert rows.count() == 2
    # One T-shirt resellable, one damaged (split grade); the jeans wrong item.
    tshirt = page.locator("#inspect-lines tbody tr[data-sku='TSHIRT-M']").first
    tshirt.locator(".qty").fill("1")
    tshirt.locator("button").click()
    split = page.locator("#inspect-lines tbody tr[data-sku='TSHIRT-M']").nth(1)
    split.locator(".qty").fill("1")
    split.locator(".condition").select_option("damaged")
    split.locator(".note").fill("seam torn")
    jeans = page.locator("#inspect-lines tbody tr[data-sku='JEANS-32']")
    jeans.locator(".condition").select_option("wrong_item")
    jeans.locator(".note").press("Enter")  # Enter submits
    page.wait_for_selector("#quote:not([hidden])")
    assert "Inspection saved" in page.inner_text("#inspect-result")
    assert _focused_id(page) == "code"
    shot(page, "warehouse-inspected")

    view = local_stack.request("GET", f"/returns/{ret['return_id']}", token=ret["customer_token"])[1]
    assert view["status"] in ("inspected", "refunding", "refunded")
    refund = view["quote"]["refund_amount"]
    shown = page.inner_text("#quote-refund")
    assert f"{refund // 100}" in shown.replace(",", "").replace("\u202f", "").replace(" ", "")
    lines = {i["sku"]: i for i in view["items"]}
    assert lines["TSHIRT-M"]["received_qty"] == 2 and lines["TSHIRT-M"]["condition"] == "resellable,damaged"
    assert lines["JEANS-32"]["condition"] == "wrong_item"
    # Store credit: paid at once, and the banner says so once it is.
    expect(page.locator("#inspect-result")).to_contain_text("refunded:", timeout=30000)

    # The next scan clears the last parcel's banners and quote; its own banner goes after a while.
    _scan(page, "RT-NOBODY43")
    page.wait_for_selector("#scan-result.bad")
    assert page.inner_text("#inspect-result") == "" and page.locator("#quote").is_hidden()
    page.clock.fast_forward(11_000)
    expect(page.locator("#scan-result")).to_have_text("")
    assert page.get_attribute("#scan-result", "class") == "result" and _focused_id(page) == "code"


def test_a_parcel_with_no_dropoff_event_scans_and_inspects_at_once(local_stack, desk_page):
    page = desk_page
    # Paid offline: the refund does not "follow automatically", finance pays and records it.
    ret = _labelled_return(local_stack, dropped_off=False, provider="manual", resolution="refund")
    sign_in(page, local_stack, "/warehouse", "wh:max", "warehouse")
    _scan(page, ret["label"]["tracking_number"])
    page.wait_for_selector("#scan-result.ok")
    page.wait_for_selector("#inspect-form:not([hidden])")
    assert page.input_value("#code") == "" and _focused_id(page) == "code"
    page.click("#inspect-submit")  # every item as expected, resellable
    page.wait_for_selector("#quote:not([hidden])")
    assert page.locator("#quote-refund").inner_text().strip()
    assert "automatically" not in page.inner_text("#inspect-result")
    expect(page.locator("#inspect-result")).to_contain_text("waits for finance", timeout=30000)
    shot(page, "warehouse-no-dropoff")


def test_the_scan_shows_the_return_s_risk_and_its_reasons(local_stack, desk_page):
    """Issue 33: staff at the bench see the score and why (a new customer returning nearly the whole order),
    on the scan and on a parcel opened from the queue."""
    page = desk_page
    ret = _labelled_return(local_stack)
    sign_in(page, local_stack, "/warehouse", "wh:lea", "warehouse")
    _scan(page, ret["label"]["code"])
    page.wait_for_selector("#scan-result.ok")
    # What the refund takes from the 13,996 captured (the store credit bonus is the store's own money).
    taken = ret["quote"]["refund_amount"] - ret["quote"]["bonus"]
    reasons = ([f"refund of {taken} is {taken * 100 // 13996} % of the 13996 captured"]
               if taken * 100 >= 13996 * 90 else []) + ["first order we know of this customer"]
    score = 10 * len(reasons)
    expect(page.locator("#scan-risk")).to_have_text(
        f"Risk {score}/100: {'; '.join(reasons)}. Grade this parcel with care.")
    # Opened again from the queue (which reads the status index only), the risk comes with the return.
    page.evaluate("document.getElementById('scan-risk').textContent = ''")
    page.locator("#queue tbody tr", has_text=ret["label"]["code"]).get_by_role("button", name="Inspect").click()
    expect(page.locator("#scan-risk")).to_contain_text(f"Risk {score}/100")
