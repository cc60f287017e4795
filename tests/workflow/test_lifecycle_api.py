"""Issue 3's proof: the real ASL in moto's interpreter, driven only through the Chalice API."""
from __future__ import annotations

import boto3
import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from .helpers import Http, carrier_event, order_payload, states_entered, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def test_one_return_end_to_end_through_the_api(stack, api):
    http = Http(api)
    store = auth.mint("store", "shop")
    warehouse = auth.mint("warehouse", "wh:bob")

    status, body, _ = http.call("PUT", "/orders/ORD-1", order_payload(provider="manual"), token=store)
    assert status == 201, body
    status, body, _ = http.call("POST", "/returns/lookup", {"order_id": "ORD-1", "email": "ana@example.com"})
    assert status == 200, body
    customer = body["token"]
    lines = {line["sku"]: line for line in body["order"]["lines"]}
    assert lines["TSHIRT-M"]["returnable_qty"] == 2 and not lines["SOCKS"]["eligible"]

    status, points, _ = http.call("GET", "/relay-points?postcode=75011&country=FR&limit=3")
    assert status == 200 and len(points["items"]) == 3
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": "ORD-1", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small", "comment": "short"}],
        "resolution": "store_credit", "dropoff": {"method": "relay_point", "relay_point_id": points["items"][0]["id"]},
    }, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]
    assert ret["quote"] == {"items_total": 2499, "restocking_fee": 0, "return_shipping_fee": 495, "bonus": 200,
                            "refund_amount": 2204}

    def get():
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    def parked(wait: str) -> None:
        """Each step only once the workflow waits for it, so the path below is the one asserted: an API call
        that overtakes the workflow is still right (that wait is entered with the new status and reroutes
        through Route), it is simply another path."""
        from returns_core.store import returns

        def waiting():
            try:
                return returns.get(rid).waiting_for
            except RuntimeError:   # moto read the item while another thread wrote it
                return None
        wait_for(waiting, lambda w: w == wait, what=f"the {wait} wait")

    ret = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label")
    parked("dropoff")
    status, _, pdf = http.call("GET", f"/returns/{rid}/label", token=customer)
    assert status == 200 and pdf.headers["Content-Type"] == "application/pdf" and pdf.body[:5] == b"%PDF-"

    status, _, _ = carrier_event(http, ret["label"]["tracking_number"], "dropped_off")
    assert status == 202
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 200  # a repeat: no effect
    wait_for(get, lambda r: r["status"] == "in_transit", what="in transit")
    parked("arrival")

    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)
    assert status == 200 and scan["status"] == "received" and scan["already_received"] is False
    status, again, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=warehouse)
    assert status == 200 and again["already_received"] is True

    parked("inspection")
    status, inspected, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable", "note": "tags on"}]}, token=warehouse)
    assert status == 200, inspected
    ret = wait_for(get, lambda r: r["status"] == "refunded", what="the refund")
    assert ret["refund"]["amount"] == 2204 and ret["refund"]["method"] == "store_credit"
    parked("confirmation")

    status, closed, _ = http.call("POST", f"/returns/{rid}/confirm", {"satisfied": True, "comment": "merci"},
                                  token=customer)
    assert status == 200 and closed["status"] == "closed"

    entries = list(ledger.entries())
    assert [(e.return_id, int(e.amount), e.inspected_by) for e in entries] == [(rid, 2204, "wh:bob")]

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    execution = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert [e["name"] for e in execution] == [rid]
    done = wait_for(lambda: sfn.describe_execution(executionArn=execution[0]["executionArn"]),
                    lambda e: e["status"] != "RUNNING", what="the execution to end")
    assert done["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution[0]["executionArn"], maxResults=1000)["events"]
    # Issue 20: step to step, from IssueLabel (the first state); Route only for the confirmation's branch
    # (closed, disputed).
    assert states_entered(events) == [
        "IssueLabel", "AwaitDropoff", "AwaitArrival", "AwaitInspection", "Settle", "AwaitConfirmation",
        "Route", "Closed"]
    timeline = [t["type"] for t in get()["timeline"]]
    for kind in ("return.requested", "label.issued", "carrier.dropped_off", "parcel.received",
                 "return.inspected", "refund.issued"):
        assert kind in timeline
