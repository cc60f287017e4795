"""A return whose workflow stopped before it finished gets it back (issue 35, "Recovery"): a throttle
that outlasts the workflow's retries ends the execution in Stuck; the sweep, run as its schedule runs
it (HandleTimeout, `{"workflow_sweep": {}}`, over Lambda's API), starts a new execution from the
return's status, and the refund is paid once. A status effect parked in the dead-letter queue is
replayed and carried out."""
from __future__ import annotations

import json

import boto3
import pytest

from infra.local import faults
from returns_core.edge import auth
from returns_core.store import returns
from returns_core.store.models import CreditModel, LedgerEntryModel

from .helpers import Http, carrier_event, effects_settled, start_return, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def _invoke(stack, logical_id: str, event: dict) -> dict:
    """The function run as EventBridge's schedule runs it: Lambda's Invoke, the built artifact."""
    out = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=stack.function(logical_id).name, Payload=json.dumps(event).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body


def _executions(stack, return_id: str) -> list[dict]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    found = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return [e for e in found if e["name"].split("-restart-")[0] == return_id]


def _received(http: Http, order_id: str) -> tuple[str, str, str]:
    """(return id, customer token, parcel code) of a store-credit return scanned at the warehouse."""
    rid, customer = start_return(http, order_id, reason="defective")
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "awaiting_dropoff", what="the label")
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                token=auth.mint("warehouse", "wh:bob"))
    assert status == 200 and scan["status"] == "received", scan
    return rid, customer, ret["label"]["code"]


def test_a_throttle_that_outlasts_the_retries_stops_the_workflow_and_the_sweep_brings_the_refund_once(stack, api):
    http = Http(api)
    rid, customer, _ = _received(http, "ORD-THROTTLED")
    # Every Lambda the workflow calls for this return is throttled (the API's own hand-over of status
    # effects, which names `previous`, is not): Settle's retries run out, then the refund_failed step's,
    # and the execution ends in Stuck, as on AWS when the account's concurrency is taken.
    workflow_call = lambda body: rid in body and '"previous"' not in body   # noqa: E731
    with faults.fail("lambda", "Invoke", "TooManyRequestsException", "Rate Exceeded.", times=10_000,
                     when=workflow_call) as throttled:
        status, body, _ = http.call("POST", f"/returns/{rid}/inspection", {
            "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]},
            token=auth.mint("warehouse", "wh:bob"))
        assert status == 200, body
        failed = wait_for(lambda: _executions(stack, rid), lambda found: found and found[0]["status"] == "FAILED",
                          timeout=90, what="the stopped execution")
    assert throttled.hits, "the workflow never called a Lambda for this return"
    assert returns.get(rid).status == "inspected"    # nothing paid, nothing moved: it waits for nobody

    ops = auth.mint("ops", "ops:eve")
    status, seen, _ = http.call("GET", "/ops/recovery", token=ops)
    assert status == 200, seen
    assert seen["workflows"] == [{"return_id": rid, "order_id": "ORD-THROTTLED", "status": "inspected",
                                  "ended": "FAILED", "restarts": 0, "given_up": False}]
    done = _invoke(stack, "HandleTimeoutFunction", {"workflow_sweep": {}})
    assert done == {"restarted": 1, "given_up": 0}
    got = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "refunded", timeout=90, what="the refund after the restart")
    assert got["refund"]["amount"] > 0
    # Once: one ledger entry, one credit; a second sweep finds nothing to restart.
    entries = [e for e in LedgerEntryModel.scan() if e.return_id == rid]
    assert len(entries) == 1 and int(entries[0].amount) == got["refund"]["amount"]
    assert int(CreditModel.get(returns.get(rid).customer_key, "EUR").balance) == got["refund"]["amount"]
    assert _invoke(stack, "HandleTimeoutFunction", {"workflow_sweep": {}}) == {"restarted": 0, "given_up": 0}
    assert http.call("GET", "/ops/recovery", token=ops)[1]["workflows"] == []
    executions = _executions(stack, rid)
    assert sorted(e["name"] for e in executions) == sorted([rid, f"{rid}-restart-1"])
    assert failed[0]["name"] == rid
    staff = http.call("GET", f"/returns/{rid}", token=auth.mint("ops", "ops:eve"))[1]
    restarted = [t for t in staff["timeline"] if t["type"] == "workflow.restarted"]
    assert len(restarted) == 1 and restarted[0]["detail"] == {"restart": 1, "after": "failed"}, restarted


def test_a_return_whose_start_was_lost_is_started_by_the_sweep(stack, api):
    """What a crash between the return's write and its start leaves (usecases/request_return.py): the order's
    units held, the return `requested`, no execution, and nobody sending the request again. Once older
    than the grace period, the sweep starts it, once."""
    from returns_core.rules import clock
    from returns_core.store.models import ReturnModel

    from .refund_fixtures import make_order, make_return, reserve_units

    http = Http(api)
    make_order("ORD-LOST", 1000)
    reserve_units("ORD-LOST", "RT-LOSTSTART", 1)
    ret = make_return("RT-LOSTSTART", "ORD-LOST", 1000, status="requested")
    young = _invoke(stack, "HandleTimeoutFunction", {"workflow_sweep": {}})
    assert young == {"restarted": 0, "given_up": 0}   # within the grace: its own request may still start it
    long_ago = clock.iso(clock.now().replace(year=clock.now().year - 1))
    ret.update(actions=[ReturnModel.status_since.set(long_ago)])
    assert _executions(stack, "RT-LOSTSTART") == []

    assert _invoke(stack, "HandleTimeoutFunction", {"workflow_sweep": {}}) == {"restarted": 1, "given_up": 0}
    staff = auth.mint("ops", "ops:eve")
    got = wait_for(lambda: http.call("GET", "/returns/RT-LOSTSTART", token=staff)[1],
                   lambda r: r["status"] != "requested", timeout=60, what="the workflow's first step")
    assert got["status"] in ("awaiting_dropoff", "label_failed"), got["status"]
    assert [e["name"] for e in _executions(stack, "RT-LOSTSTART")] == ["RT-LOSTSTART"]
    assert [t["detail"] for t in got["timeline"] if t["type"] == "workflow.restarted"] == [
        {"restart": 0, "after": "start_lost"}]
    assert _invoke(stack, "HandleTimeoutFunction", {"workflow_sweep": {}}) == {"restarted": 0, "given_up": 0}


def test_a_parked_status_effect_is_replayed_once_its_cause_is_gone(stack, api):
    """Step Functions refuses the workflow's resume for longer than Lambda's retries: the move's follow-up
    is parked in the dead-letter queue as Lambda parks it, and the workflow waits on; the replay runs it
    again, the wait is resumed (the workflow goes on to wait for the parcel), and the queue is empty."""
    from returns_core.outbound import parked_effects

    from .helpers import history_of, parked_wait, states_entered

    http = Http(api)
    rid, customer = start_return(http, "ORD-PARKED")
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "awaiting_dropoff", what="the label")
    wait_for(lambda: parked_wait(rid), lambda w: w[0] == "dropoff", what="the drop-off wait")
    effects_settled()
    assert parked_effects.count() == 0

    with faults.fail("stepfunctions", "SendTaskSuccess", "ServiceUnavailable", "injected: Step Functions down",
                     times=10_000) as down:
        assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
        effects_settled()
    assert len(down.hits) == 3   # the invocation and Lambda's two retries
    ops = auth.mint("ops", "ops:eve")
    assert http.call("GET", "/ops/recovery", token=ops)[1]["parked_effects"] == 1
    assert states_entered(history_of(stack, rid))[-1] == "AwaitDropoff"   # the workflow was never told

    status, done, _ = http.call("POST", "/ops/parked-effects/replay", token=ops)
    assert status == 200, done
    assert done["replayed"] == 1 and done["unreadable"] == 0
    assert {k: done["items"][0][k] for k in ("return_id", "previous", "status", "attempts")} == {
        "return_id": rid, "previous": "awaiting_dropoff", "status": "in_transit", "attempts": 3}
    effects_settled()
    assert http.call("GET", "/ops/recovery", token=ops)[1]["parked_effects"] == 0
    wait_for(lambda: states_entered(history_of(stack, rid)), lambda s: s[-1] == "AwaitArrival",
             what="the workflow waiting for the parcel")
