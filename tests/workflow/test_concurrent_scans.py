"""Twenty scans of one parcel at once (two scanners, a nervous trigger finger): one receipt.

The real template and ASL in moto; the scans race through the domain's `warehouse.scan`, the
same call the API makes. The stack gives moto DynamoDB's per-request atomicity
(infra/local/atomic.py); the single receipt comes from our conditional writes.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from returns_core.edge import auth
from returns_core.store import returns
from returns_core.store.models import ReturnModel
from returns_core.usecases import warehouse

from .helpers import Http, carrier_event, order_payload, subscribe, wait_for

SCANS = 20


def returned_and_labelled(http: Http, order_id: str) -> ReturnModel:
    assert http.call("PUT", f"/orders/{order_id}", order_payload(), token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})[1]["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 2, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    return wait_for(lambda: ReturnModel.get(ret["return_id"], consistent_read=True),
                    lambda r: r.status == "awaiting_dropoff" and r.label is not None, what="the label")


@pytest.mark.parametrize("dropped_off", [True, False], ids=["in_transit", "no_dropoff_event"])
def test_twenty_racing_scans_make_one_receipt(stack, http, dropped_off):
    events = subscribe(stack.environment["EVENTS_TOPIC_ARN"], "events-tap")
    ret = returned_and_labelled(http, "ORD-SCAN")
    if dropped_off:
        assert carrier_event(http, ret.label["tracking_number"], "dropped_off")[0] == 202
    waiting = "arrival" if dropped_off else "dropoff"
    ret = wait_for(lambda: ReturnModel.get(ret.return_id, consistent_read=True),
                   lambda r: r.waiting_for == waiting, what=f"the {waiting} wait")

    start = threading.Barrier(SCANS)

    def one(n: int):
        start.wait()
        code = ret.label["code"] if n % 2 else ret.label["tracking_number"]  # by label code and tracking number
        got, already = warehouse.scan(code, f"wh:scanner{n % 3}")
        return got.return_id, already

    with ThreadPoolExecutor(max_workers=SCANS) as pool:
        results = list(pool.map(one, range(SCANS)))

    assert {rid for rid, _ in results} == {ret.return_id}
    assert sorted(already for _, already in results) == [False] + [True] * (SCANS - 1)
    after = ReturnModel.get(ret.return_id, consistent_read=True)
    assert after.status == "received"
    assert [t["type"] for t in returns.timeline_of(after)].count("parcel.received") == 1
    # The workflow was resumed once and now waits for the inspection.
    wait_for(lambda: ReturnModel.get(ret.return_id, consistent_read=True).waiting_for,
             lambda w: w == "inspection", what="the inspection wait")
    received = [e for e in events() if e["type"] == "return.received"]
    assert [e["return_id"] for e in received] == [ret.return_id]
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    execution = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"][0]
    assert execution["status"] == "RUNNING"
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered.count("AwaitInspection") == 1
