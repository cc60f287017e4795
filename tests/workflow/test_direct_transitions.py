"""Issue 20 on the real ASL: the workflow goes from each step straight to the step that usually follows it,
and a wait entered with a status it does not wait for hands the execution back to Route (the AwaitCallback
function fails it with ReturnRerouted; moto's interpreter, like Step Functions, names the task's error
after the function's errorType, so the wait's first Catch takes it)."""
from __future__ import annotations

import boto3
import pytest

from .helpers import history_of, order_payload, parked_wait, states_entered
from .journey import Journey, client, deployed, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def test_a_parcel_scanned_without_a_carrier_event_is_rerouted_to_its_inspection(monkeypatch):
    """The parcel reaches the warehouse while AwaitDropoff waits (no carrier scan): the drop-off wait resumes
    with `received`, AwaitArrival (the usual next step) is entered with it, reroutes, and Route sends the
    execution to AwaitInspection; the return then settles and closes as any other."""
    with deployed(monkeypatch) as stack, client() as http:
        journey = Journey(http, "ORD-RRT", order_payload(locale="en-GB"))
        journey.start({"method": "letterbox"})
        ret = journey.until("awaiting_dropoff")          # and the drop-off wait parked
        status, body, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                    token=journey.warehouse)
        assert status == 200 and body["status"] == "received", body
        wait_for(lambda: parked_wait(journey.rid)[0], lambda w: w == "inspection", what="the inspection wait")

        events = history_of(stack, journey.rid)
        assert states_entered(events) == ["IssueLabel", "AwaitDropoff", "AwaitArrival", "Route", "AwaitInspection"]
        failed = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
        assert failed == ["ReturnRerouted"]
        # The reroute kept the status the drop-off wait handed on: Route read it.
        rerouted = [e for e in events if e["type"] == "TaskStateExited"
                    and e["stateExitedEventDetails"]["name"] == "AwaitArrival"]
        assert '"status":"received"' in rerouted[0]["stateExitedEventDetails"]["output"].replace(" ", "")

        status, body, _ = http.call("POST", f"/returns/{journey.rid}/inspection", {
            "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=journey.warehouse)
        assert status == 200, body
        journey.until("refunded")
        status, body, _ = http.call("POST", f"/returns/{journey.rid}/confirm", {"satisfied": True},
                                    token=journey.customer)
        assert status == 200 and body["status"] == "closed", body
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + journey.rid
        done = wait_for(lambda: sfn.describe_execution(executionArn=arn), lambda e: e["status"] != "RUNNING",
                        what="the execution to end")
        assert done["status"] == "SUCCEEDED"
        assert states_entered(history_of(stack, journey.rid))[5:] == ["Settle", "AwaitConfirmation", "Route", "Closed"]


def test_a_scan_is_answered_before_its_follow_up_which_the_status_effects_function_carries_out(monkeypatch):
    """Issue 20, scan latency: the scan writes the move and answers; the parcel_received email and the
    workflow's resume are StatusEffects' (outbound/deferred_effects.py), invoked asynchronously."""
    from infra.local import dispatch

    from .helpers import effects_settled
    from .journey import Outbox

    with deployed(monkeypatch) as stack, client() as http:
        outbox = Outbox(stack)
        journey = Journey(http, "ORD-FAST-SCAN", order_payload(locale="en-GB"))
        journey.start({"method": "letterbox"})
        ret = journey.until("awaiting_dropoff")
        before = len(dispatch.sink.of("StatusEffectsFunction"))
        status, body, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                    token=journey.warehouse)
        assert status == 200 and body["status"] == "received", body
        effects_settled()
        carried_out = [line for line in dispatch.sink.of("StatusEffectsFunction")[before:]
                       if "status effects carried out" in line]
        assert len(carried_out) == 1 and journey.rid in carried_out[0] and '"previous":"awaiting_dropoff"' in \
            carried_out[0].replace(" ", "")
        assert "parcel_received-en" in outbox.templates()
        wait_for(lambda: parked_wait(journey.rid)[0], lambda w: w == "inspection", what="the inspection wait")
