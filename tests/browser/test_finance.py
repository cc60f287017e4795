"""/finance in a real Chromium: a refund made through the API shows up in the range, the CSV
downloads with a header row, the ledger badge says OK, the charts are inline SVG with words, not
codes, and nothing is clipped at 1280x800. What waits for finance has its action on the page: a large
refund approved by someone other than its inspector (the API's four-eyes refusal shown in place),
then, the order being paid offline, the manual refund recorded with its reference."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.workflow.helpers import order_payload

from .page import customer_email, fits, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _refund_through_the_api(stack, inspector: str = "wh:bob", resolution: str = "store_credit",
                            lines: list | None = None, until: str = "refunded") -> str:
    order_id = "ORD-FIN-" + uuid.uuid4().hex[:8]
    store, wh = stack.token("store", "shop"), stack.token("warehouse", inspector)
    order = order_payload(provider="manual", email=customer_email(order_id), lines=lines)
    assert stack.request("PUT", f"/orders/{order_id}", order, token=store)[0] == 201
    status, found = stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": customer_email(order_id)})
    assert status == 200, found
    customer = found["token"]
    sku = order["lines"][0]["sku"]
    status, ret = stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": sku, "qty": 1, "reason": "too_small"}],
        "resolution": resolution, "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]

    def get():
        return stack.request("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_until(get, lambda r: r["status"] == "awaiting_dropoff", "the label")
    raw = json.dumps({"tracking_number": ret["label"]["tracking_number"], "event": "dropped_off",
                      "occurred_at": "2026-11-22T10:00:00Z", "location": "Paris"}).encode()
    sig = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
    assert stack.request("POST", "/carrier/events", raw=raw, headers={"X-Carrier-Signature": f"sha256={sig}"})[0] == 202
    wait_until(get, lambda r: r["status"] == "in_transit", "in transit")
    assert stack.request("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=wh)[0] == 200
    status, body = stack.request("POST", f"/returns/{rid}/inspection",
                                 {"items": [{"sku": sku, "qty": 1, "condition": "resellable"}]}, token=wh)
    assert status == 200, body
    wait_until(get, lambda r: r["status"] == until, until)
    return rid


def _roll_up_finance(stack) -> None:
    """Finance's roll-up now, as its 5-minute schedule would: HandleTimeout over the stack's Lambda API."""
    import boto3

    lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    [name] = [f["FunctionName"] for f in lam.list_functions()["Functions"]
              if f["FunctionName"].endswith("-HandleTimeoutFunction")]
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"finance_rollup": {}}).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out and body["complete"], body


def test_finance_page_lists_exports_and_checks_the_ledger(local_stack, desk_page, tmp_path):
    rid = _refund_through_the_api(local_stack)
    _roll_up_finance(local_stack)
    page = desk_page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, local_stack, "/finance", "fin:ann", "finance")
    today = date.today()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", (today + timedelta(days=1)).isoformat())
    page.click("#apply")
    row = page.locator("#refunds tbody tr", has_text=rid)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == rid and cells[4] == "Store credit" and cells[6] == "wh:bob"
    assert "22.04" in cells[3] or "22,04" in cells[3]
    badge = page.locator("#ledger-badge")
    expect(badge).to_have_text(re.compile(r"^Ledger OK"))   # (the CSP forbids eval: no wait_for_function)
    assert "ok" in badge.get_attribute("class")
    page.locator("#reasons-chart svg").wait_for()
    labels = page.locator("#reasons-chart svg text").all_text_contents()
    assert "Too small" in labels and not [t for t in labels if "_" in t]   # words, never the API's codes
    assert page.locator("#daily-chart svg rect").count() >= 1
    expect(page.locator("#totals tbody tr", has_text="Store credit")).to_have_count(1)
    fits(page)
    shot(page, "finance-refunds")

    with page.expect_download() as info:
        page.click("#csv")
    path = tmp_path / "refunds.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["seq", "return_id", "order_id", "amount", "currency", "method", "reference",
                       "inspected_by", "approved_by", "issued_at", "hash", "prev_hash", "bonus", "kind"]
    mine = [r for r in rows[1:] if r[1] == rid]
    assert len(mine) == 1 and mine[0][3] == "2204" and mine[0][-2].isdigit()   # the bonus: minor units, like `amount`
    assert page.locator("#error").inner_text() == ""

    # A range without refunds: the table says so, the badge stays OK.
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-01-31")
    page.click("#apply")
    page.locator("#refunds tbody tr", has_text="No refunds in this range.").wait_for()
    shot(page, "finance-empty-range")


def test_finance_approves_with_four_eyes_then_records_the_manual_refund(local_stack, browser, desk_page):
    # Above the approval threshold (500.00), on an order paid offline; inspected by fin:cho, who
    # also works in finance.
    big = [{"sku": "COAT-L", "name": "Coat L", "qty": 1, "unit_price": 62000, "final_sale": False}]
    rid = _refund_through_the_api(local_stack, inspector="fin:cho", resolution="refund", lines=big,
                                  until="awaiting_approval")
    page = desk_page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, local_stack, "/finance", "fin:cho", "finance")
    row = page.locator("#approvals tbody tr", has_text=rid)
    row.wait_for()
    assert "fin:cho" in row.inner_text() and "615.05" in row.inner_text()   # 620.00 less the 4.95 label
    row.get_by_role("button", name=f"Approve the refund of {rid}").click()
    expect(row.locator(".note.bad")).to_contain_text("Four eyes")   # the API's refusal, in the row
    assert row.get_by_role("button", name=f"Approve the refund of {rid}").is_enabled()
    fits(page)
    shot(page, "finance-four-eyes-refused")

    # A colleague approves; the order was paid offline, so the refund waits for its reference.
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        colleague = other.new_page()
        sign_in(colleague, local_stack, "/finance", "fin:dan", "finance")
        row = colleague.locator("#approvals tbody tr", has_text=rid)
        row.get_by_role("button", name=f"Approve the refund of {rid}").click()
        expect(row.locator(".note.ok")).to_contain_text("Approved")

        def get():
            return local_stack.request("GET", f"/returns/{rid}", token=local_stack.token("finance", "fin:dan"))[1]

        wait_until(get, lambda r: r["status"] == "refunding" and (r["refund"] or {}).get("status") == "pending_manual",
                   "the manual refund")
        colleague.click("#queue-refresh")
        manual = colleague.locator("#manual tbody tr", has_text=rid)
        manual.wait_for()
        # No reference: told in place, nothing sent.
        manual.get_by_role("button", name=f"Record the manual refund of {rid}").click()
        expect(manual.locator(".note.bad")).to_contain_text("Enter the reference")
        manual.get_by_label(f"Payment reference for {rid}").fill("VIR-2026-0042")
        manual.get_by_role("button", name=f"Record the manual refund of {rid}").click()
        confirm_box = manual.locator(".confirm-box")
        expect(confirm_box).to_contain_text("VIR-2026-0042")
        fits(colleague)
        shot(colleague, "finance-manual-refund-confirm")
        confirm_box.get_by_role("button", name="Confirm").click()
        expect(manual.locator(".note.ok")).to_contain_text("Recorded")
        shot(colleague, "finance-manual-refund-recorded")
        ret = wait_until(get, lambda r: r["status"] == "refunded", "the refund")
        assert ret["refund"]["reference"] == "VIR-2026-0042"
    finally:
        other.close()
