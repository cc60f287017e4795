"""Exchanges end to end on the real template and state machine: the replacement lines go to the store
as `return.exchange_requested` (after inspection, or at drop-off when the order opted in), exactly once;
an item failing inspection falls back to its graded refund; a full exchange moves no money."""
from __future__ import annotations

import json
import os

import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from .helpers import Http, carrier_event, effects_settled, order_payload, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def _events(stack, kind: str, return_id: str) -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    effects_settled()
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[os.environ["EVENTS_TOPIC_ARN"]]
    out = [json.loads(m) for _, m, *_ in topic.sent_notifications]
    return [m for m in out if m["type"] == kind and m["return_id"] == return_id]


def _start(http: Http, instant: bool) -> tuple[str, str, dict]:
    store = auth.mint("store", "shop")
    order = {**order_payload(provider="manual"), "instant_exchange": instant}
    status, body, _ = http.call("PUT", "/orders/ORD-X", order, token=store)
    assert status == 201, body
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-X", "email": "ana@example.com"})[1]["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": "ORD-X", "resolution": "exchange", "dropoff": {"method": "letterbox"},
        "items": [{"sku": "TSHIRT-M", "qty": 2, "reason": "too_small", "exchange_for": "TSHIRT-L"},
                  {"sku": "JEANS-32", "qty": 1, "reason": "changed_mind", "exchange_for": "JEANS-34"}]},
        token=customer)
    assert status == 201, ret
    assert ret["quote"]["refund_amount"] == 0
    rid = ret["return_id"]
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "awaiting_dropoff", what="the label")
    return rid, customer, ret


def _receive_and_inspect(http: Http, rid: str, code: str, lines: list[dict]) -> dict:
    warehouse = auth.mint("warehouse", "wh:bob")
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": code}, token=warehouse)
    assert status == 200, scan
    status, inspected, _ = http.call("POST", f"/returns/{rid}/inspection", {"items": lines}, token=warehouse)
    assert status == 200, inspected
    return inspected


def test_exchange_after_inspection_swaps_passing_items_and_refunds_the_failed_one(stack, api):
    http = Http(api)
    rid, customer, ret = _start(http, instant=False)
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1], lambda r: r["status"] == "in_transit",
             what="in transit")
    assert _events(stack, "return.exchange_requested", rid) == []   # not at drop-off without the opt-in

    inspected = _receive_and_inspect(http, rid, ret["label"]["code"], [
        {"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"},
        {"sku": "TSHIRT-M", "qty": 1, "condition": "opened"},
        {"sku": "JEANS-32", "qty": 1, "condition": "damaged"}])   # the customer's fault: half its price back
    # the failed jeans fall back to their graded refund (50 % for damage by the customer); exchanges ship free
    jeans_refund = inspected["quote"]["refund_amount"]
    assert jeans_refund == 4000 and inspected["quote"]["return_shipping_fee"] == 0
    done = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                    lambda r: (r["refund"] or {}).get("status") == "pending_manual", what="the manual refund",
                    timeout=30)
    if done["status"] == "refunding":   # a manual order: finance records the bank transfer of the fallback
        finance = auth.mint("finance", "fin:eve")
        status, body, _ = http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "bank-0001"},
                                    token=finance)
        assert status == 200, body
        done = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                        lambda r: r["status"] == "refunded", what="the refund", timeout=30)
    assert done["refund"]["amount"] == jeans_refund
    items = {i["sku"]: i for i in done["items"]}
    assert items["TSHIRT-M"]["refund_amount"] == 0 and items["JEANS-32"]["refund_amount"] > 0

    # the effects of `refunded` follow its write (in the workflow's thread): wait for the event itself
    sent = wait_for(lambda: _events(stack, "return.exchange_requested", rid), bool, what="the exchange event",
                    timeout=30)
    assert len(sent) == 1
    assert sent[0]["data"]["when"] == "inspected"
    assert sorted((x["sku"], x["qty"], x["exchange_for"]) for x in sent[0]["data"]["lines"]) == [
        ("TSHIRT-M", 1, "TSHIRT-L"), ("TSHIRT-M", 1, "TSHIRT-L")]
    assert [int(e.amount) for e in ledger.entries() if e.return_id == rid] == [jeans_refund]
    timeline = http.call("GET", f"/returns/{rid}", token=customer)[1]["timeline"]
    texts = [t["text"] for t in timeline if t["type"] == "exchange.requested"]
    assert texts == ["Your replacement has been requested from the store."]


def test_full_exchange_moves_no_money(stack, api):
    http = Http(api)
    rid, customer, ret = _start(http, instant=False)
    _receive_and_inspect(http, rid, ret["label"]["code"], [
        {"sku": "TSHIRT-M", "qty": 2, "condition": "resellable"},
        {"sku": "JEANS-32", "qty": 1, "condition": "resellable"}])
    done = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                    lambda r: r["status"] == "refunded", what="the settlement", timeout=30)
    assert done["refund"]["amount"] == 0 and done["quote"]["refund_amount"] == 0
    assert [e for e in ledger.entries() if e.return_id == rid] == []
    (sent,) = wait_for(lambda: _events(stack, "return.exchange_requested", rid), bool, what="the exchange event",
                       timeout=30)
    assert sorted((x["sku"], x["qty"], x["exchange_for"]) for x in sent["data"]["lines"]) == [
        ("JEANS-32", 1, "JEANS-34"), ("TSHIRT-M", 2, "TSHIRT-L")]


def test_instant_exchange_at_drop_off_once(stack, api):
    http = Http(api)
    rid, customer, ret = _start(http, instant=True)
    assert _events(stack, "return.exchange_requested", rid) == []   # not before the parcel is handed over
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    (sent,) = wait_for(lambda: _events(stack, "return.exchange_requested", rid), bool, what="the exchange event",
                       timeout=30)
    assert sent["data"]["when"] == "dropped_off"
    assert sorted((x["sku"], x["qty"], x["exchange_for"]) for x in sent["data"]["lines"]) == [
        ("JEANS-32", 1, "JEANS-34"), ("TSHIRT-M", 2, "TSHIRT-L")]
    # the parcel arrives; the jeans fail (refunded by grade), the T-shirts pass: no second request to the store
    _receive_and_inspect(http, rid, ret["label"]["code"], [
        {"sku": "TSHIRT-M", "qty": 2, "condition": "resellable"},
        {"sku": "JEANS-32", "qty": 1, "condition": "damaged"}])
    wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
             lambda r: (r["refund"] or {}).get("status") == "pending_manual", what="the manual refund", timeout=30)
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "bank-0002"},
                                token=auth.mint("finance", "fin:eve"))
    assert status == 200, body
    wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
             lambda r: any(t["type"] == "refund.issued" for t in r["timeline"])
             and any(t["type"] == "message.sent" for t in r["timeline"][-2:]), what="the settlement and its effects",
             timeout=30)
    assert len(_events(stack, "return.exchange_requested", rid)) == 1


def test_instant_exchange_when_the_scan_comes_first(stack, api):
    """No carrier drop-off event: the warehouse scan is the drop-off."""
    http = Http(api)
    rid, customer, ret = _start(http, instant=True)
    warehouse = auth.mint("warehouse", "wh:bob")
    assert http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)[0] == 200
    assert http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)[0] == 200
    (sent,) = _events(stack, "return.exchange_requested", rid)
    assert sent["data"]["when"] == "dropped_off"


def _replacement_emails(stack, return_id: str) -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    effects_settled()
    name = f"{stack.environment['SES_TEMPLATE_PREFIX']}-exchange_shipping-"   # + the order's language
    return [json.loads(m.template_data) for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
            if (getattr(m, "template", None) or "").startswith(name) and return_id in m.template_data]


def test_the_store_ships_the_replacement_and_the_customer_hears_once(stack, api):
    http = Http(api)
    store = auth.mint("store", "shop")
    rid, customer, ret = _start(http, instant=False)
    shipped = {"tracking_number": "1Z999AA10123456784", "carrier": "UPS",
               "tracking_url": "https://track.example/1Z999AA10123456784"}
    status, body, _ = http.call("POST", f"/returns/{rid}/exchange/shipped", shipped, token=store)
    assert status == 409 and body["error"]["code"] == "exchange_not_requested", body   # nothing asked yet
    assert http.call("POST", f"/returns/{rid}/exchange/shipped", shipped, token=customer)[0] == 403

    _receive_and_inspect(http, rid, ret["label"]["code"], [
        {"sku": "TSHIRT-M", "qty": 2, "condition": "resellable"},
        {"sku": "JEANS-32", "qty": 1, "condition": "resellable"}])
    wait_for(lambda: _events(stack, "return.exchange_requested", rid), bool, what="the exchange request", timeout=30)

    status, body, _ = http.call("POST", f"/returns/{rid}/exchange/shipped", shipped, token=store)
    assert status == 200, body
    assert body["exchange_shipment"]["tracking_number"] == "1Z999AA10123456784"
    again = http.call("POST", f"/returns/{rid}/exchange/shipped", shipped, token=store,
                      headers={"Idempotency-Key": "a-store-retry"})
    assert again[0] == 200   # the same parcel again: no second effect
    status, body, _ = http.call("POST", f"/returns/{rid}/exchange/shipped",
                                {**shipped, "tracking_number": "1Z999AA10999999999"}, token=store)
    assert status == 409 and body["error"]["code"] == "exchange_already_shipped", body
    assert body["error"]["details"]["field"] == "tracking_number"

    (event,) = _events(stack, "return.exchange_shipped", rid)
    assert event["data"]["tracking_number"] == "1Z999AA10123456784" and event["data"]["carrier"] == "UPS"
    assert sorted((x["exchange_for"], x["qty"]) for x in event["data"]["lines"]) == [("JEANS-34", 1), ("TSHIRT-L", 2)]
    (email,) = _replacement_emails(stack, rid)
    assert email["tracking_number"] == "1Z999AA10123456784"
    assert email["tracking_url"] == shipped["tracking_url"]
    assert sorted((i["sku"], i["qty"]) for i in email["items"]) == [("JEANS-34", "1"), ("TSHIRT-L", "2")]
    timeline = http.call("GET", f"/returns/{rid}", token=customer)[1]["timeline"]
    assert [t["text"] for t in timeline if t["type"] == "exchange.shipped"] == [
        "Your replacement is on its way (tracking number 1Z999AA10123456784)."]
    sent = [t["detail"]["template"] for t in timeline if t["type"] == "message.sent"]
    assert len([name for name in sent if "exchange_shipping" in name]) == 1
