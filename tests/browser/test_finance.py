"""/finance in a real Chromium: a refund made through the API shows up in the range, the CSV
downloads with a header row, the ledger badge says OK, the charts are inline SVG."""
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

from .conftest import customer_email, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _refund_through_the_api(stack) -> str:
    order_id = "ORD-FIN-" + uuid.uuid4().hex[:8]
    store, wh = stack.token("store", "shop"), stack.token("warehouse", "wh:bob")
    order = order_payload(provider="manual", email=customer_email(order_id))
    assert stack.request("PUT", f"/orders/{order_id}", order, token=store)[0] == 201
    status, found = stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": customer_email(order_id)})
    assert status == 200, found
    customer = found["token"]
    status, ret = stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
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
                                 {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=wh)
    assert status == 200, body
    wait_until(get, lambda r: r["status"] == "refunded", "the refund")
    return rid


def test_finance_page_lists_exports_and_checks_the_ledger(local_stack, desk_page, tmp_path):
    rid = _refund_through_the_api(local_stack)
    page = desk_page
    sign_in(page, local_stack, "/finance", "fin:ann", "finance")
    today = date.today()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", (today + timedelta(days=1)).isoformat())
    page.click("#apply")
    row = page.locator("#refunds tbody tr", has_text=rid)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == rid and cells[4] == "store_credit" and cells[6] == "wh:bob"
    assert "22.04" in cells[3] or "22,04" in cells[3]
    badge = page.locator("#ledger-badge")
    expect(badge).to_have_text(re.compile(r"^Ledger OK"))   # (the CSP forbids eval: no wait_for_function)
    assert "ok" in badge.get_attribute("class")
    page.locator("#reasons-chart svg").wait_for()
    assert page.locator("#reasons-chart svg text", has_text="too_small").count() == 1
    assert page.locator("#daily-chart svg rect").count() >= 1
    shot(page, "finance-refunds")

    with page.expect_download() as info:
        page.click("#csv")
    path = tmp_path / "refunds.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["seq", "return_id", "order_id", "amount", "currency", "method", "reference",
                       "inspected_by", "approved_by", "issued_at", "hash", "prev_hash", "bonus"]
    mine = [r for r in rows[1:] if r[1] == rid]
    assert len(mine) == 1 and mine[0][3] == "2204" and mine[0][-1].isdigit()   # minor units, like `amount`
    assert page.locator("#error").inner_text() == ""

    # A range without refunds: the table says so, the badge stays OK.
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-01-31")
    page.click("#apply")
    page.locator("#refunds tbody tr", has_text="No refunds in this range.").wait_for()
    shot(page, "finance-empty-range")
