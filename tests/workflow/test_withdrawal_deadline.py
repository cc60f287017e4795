"""Issue 18: the withdrawal's refund deadline in the real ASL. Once the carrier's `dropped_off` (proof of
sending) exists, the refund is paid by `refund_due_by` even if nobody inspects the parcel, and ops is
alerted before the deadline. Short WithdrawalRefundSeconds / WithdrawalAlertLeadSeconds (25 s, 24 s): the
alert is due by the time the parcel is sent, however slow the machine, and the deadline follows it."""
from __future__ import annotations

import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from tests.conftest import GatewayClient

from .helpers import Http, carrier_event, history_of, order_payload, parked_wait, states_entered, subscribe, wait_for


@pytest.fixture
def short_deadline_stack(monkeypatch):
    from tests.conftest import deployed_stack

    with deployed_stack(monkeypatch, overrides={"WithdrawalRefundSeconds": "25",
                                                "WithdrawalAlertLeadSeconds": "24"}) as deployed:
        yield deployed


def _withdrawn(http: Http, order_id: str, lines: list | None = None) -> tuple[str, dict, dict]:
    """A manual-payment order with paid delivery, withdrawn: (the customer's token, the notice, the order)."""
    payload = {**order_payload(provider="manual"), "shipping_paid": 590}
    payload["payment"]["captured_amount"] += 590
    assert http.call("PUT", f"/orders/{order_id}", payload, token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})[1]["token"]
    body = {"order_id": order_id, "confirm": True, **({"lines": lines} if lines else {})}
    status, notice, _ = http.call("POST", "/withdrawals", body, token=customer)
    assert status == 201, notice
    return customer, notice, payload


def test_inspected_before_the_deadline_is_refunded_by_the_inspection_delivery_included(stack):
    """The demo's waits (the deadline 14 minutes after the notice, the alert 5 minutes before): the parcel
    arrives and is graded long before."""
    http = Http(GatewayClient())
    customer, notice, payload = _withdrawn(http, "ORD-WD-IN")
    rid = notice["return_id"]

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label")
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    wait_for(get, lambda r: r["status"] == "in_transit", what="in transit")
    # One wait against the deadline from sending to inspection: the scan keeps its token (issue 20: the
    # workflow no longer goes round Route and the clock again only to wait for the same deadline).
    parked = wait_for(lambda: parked_wait(rid), lambda p: p[0] == "withdrawal_parcel", what="the withdrawal wait")
    warehouse = auth.mint("warehouse", "wh:bob")
    assert http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)[0] == 200
    assert parked_wait(rid) == parked
    graded = [{"sku": i["sku"], "qty": i["qty"], "condition": "resellable"} for i in ret["items"]]
    status, inspected, _ = http.call("POST", f"/returns/{rid}/inspection", {"items": graded}, token=warehouse)
    assert status == 200, inspected
    # The final quote keeps the delivery refund of a whole order withdrawn.
    assert inspected["quote"]["delivery_refund"] == 590
    assert inspected["quote"]["refund_amount"] == payload["payment"]["captured_amount"]
    ret = wait_for(get, lambda r: (r["refund"] or {}).get("status") == "pending_manual", what="the refund")
    kinds = [t["type"] for t in ret["timeline"]]
    assert "withdrawal.refund_due" not in kinds and "withdrawal.deadline_near" not in kinds
    assert ret["refund"]["amount"] == payload["payment"]["captured_amount"]
    entered = states_entered(history_of(stack, rid))
    assert entered.count("WithdrawalClock") == 1, entered
    assert entered[entered.index("WithdrawalClock"):entered.index("Settle") + 1] == [
        "WithdrawalClock", "WithdrawalDeadlineChoice", "WithdrawalAwaitBeforeAlert", "Route", "Settle"]


def test_dropped_off_never_inspected_is_refunded_by_the_deadline_after_an_ops_alert(short_deadline_stack):
    http = Http(GatewayClient())
    ops = subscribe(short_deadline_stack.environment["OPS_TOPIC_ARN"], "ops-withdrawal")
    customer, notice, payload = _withdrawn(http, "ORD-WD")
    rid = notice["return_id"]

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label")
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202

    # Nobody scans or inspects the parcel: the deadline pays the whole order, delivery included.
    ret = wait_for(get, lambda r: (r["refund"] or {}).get("status") == "pending_manual", timeout=60,
                   what="the refund at the deadline")
    assert ret["status"] == "refunding"
    finance = auth.mint("finance", "fin")
    assert http.call("POST", f"/returns/{rid}/refund/manual", {"reference": "bank-transfer-0001"},
                     token=finance)[0] == 200
    ret = wait_for(get, lambda r: r["status"] == "refunded", timeout=30, what="the refund")
    kinds = [t["type"] for t in ret["timeline"]]
    assert kinds.index("carrier.dropped_off") < kinds.index("withdrawal.deadline_near") \
        < kinds.index("withdrawal.refund_due") < kinds.index("refund.issued")
    assert "return.inspected" not in kinds
    assert ret["refund"]["amount"] == payload["payment"]["captured_amount"] == ret["quote"]["refund_amount"]
    assert kinds.count("withdrawal.refund_due") == 1
    assert [(e.return_id, int(e.amount)) for e in ledger.entries()] == \
        [(rid, payload["payment"]["captured_amount"])]
    alerts = [m for m in ops() if "withdrawal" in str(m)]
    assert len(alerts) == 1
