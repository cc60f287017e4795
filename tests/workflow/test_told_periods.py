"""What a customer is told never shrinks (api.md v3, "Languages"; issue 28).

`make run` deploys the template's own periods: a withdrawal's refund_due_by is 14 days after the notice,
a label's drop-off deadline the real drop-off period, and the workflow waits exactly those. `make demo`
(deploy.DEMO_PARAMETERS, as the tests' stacks) shortens the workflow's waits, the withdrawal's deadline
clock included, and tells the customer the very same dates. Both run here on the real template and ASL.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from infra.local import deploy
from infra.local.template import load, samconfig_parameters
from returns_core.edge import auth

from tests.conftest import GatewayClient, deployed_stack

from .helpers import history_of, order_payload, parked_wait, wait_for

pytestmark = pytest.mark.xdist_group("workflow")

DEFAULTS = {name: int(spec["Default"]) for name, spec in load()["Parameters"].items() if name.endswith("Seconds")}
# The periods each wait of the execution input stands for (config._TIMEOUTS, by template parameter).
WAIT_OF = {"review": "ReviewTimeoutSeconds", "dropoff": "DropoffTimeoutSeconds", "transit": "TransitTimeoutSeconds",
           "inspection_sla": "InspectionSlaSeconds", "approval": "ApprovalTimeoutSeconds",
           "refund_retry": "RefundRetryTimeoutSeconds", "followup": "FollowupDelaySeconds",
           "autoclose": "AutocloseDelaySeconds", "dispute_followup": "DisputeFollowupDelaySeconds"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _call(api: GatewayClient, method: str, path: str, body=None, token: str | None = None):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    res = api.request(method, path, headers=headers, body=json.dumps(body) if body is not None else None)
    return res.status_code, json.loads(res.body) if res.body else None


def _carrier_event(api: GatewayClient, tracking: str, event: str) -> int:
    import hashlib
    import hmac

    raw = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": "2026-11-22T10:00:00Z",
                      "location": "Paris 11"}).encode()
    sig = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
    headers = {"X-Carrier-Signature": f"sha256={sig}"}
    return api.request("POST", "/carrier/events", headers=headers, body=raw).status_code


def test_make_run_sets_no_period_and_no_wait_scale():
    _, local = samconfig_parameters("local")
    assert [name for name in local if name in DEFAULTS or name == "WaitScale"] == []
    assert DEFAULTS["WithdrawalRefundSeconds"] == 14 * 86400 and DEFAULTS["DropoffTimeoutSeconds"] == 14 * 86400


@pytest.mark.parametrize("demo", [False, True], ids=["make-run", "make-demo"])
def test_the_customer_is_told_the_template_periods_and_only_the_demo_waits_less(monkeypatch, demo):
    with deployed_stack(monkeypatch, demo_waits=demo) as stack:
        assert stack.environment["WAIT_SCALE"] == (deploy.DEMO_PARAMETERS["WaitScale"] if demo else "1")
        api = GatewayClient()
        payload = {**order_payload(provider="manual"), "shipping_paid": 590}
        payload["payment"]["captured_amount"] += 590
        assert _call(api, "PUT", "/orders/ORD-TOLD", payload, token=auth.mint("store", "shop"))[0] == 201
        customer = _call(api, "POST", "/returns/lookup",
                         {"order_id": "ORD-TOLD", "email": "ana@example.com"})[1]["token"]
        status, notice = _call(api, "POST", "/withdrawals", {"order_id": "ORD-TOLD", "confirm": True}, token=customer)
        assert status == 201, notice
        rid = notice["return_id"]

        # Told: the law's 14 days and the real drop-off period, on the notice and on the return.
        assert _at(notice["refund_due_by"]) - _at(notice["received_at"]) == timedelta(days=14)
        ret = wait_for(lambda: _call(api, "GET", f"/returns/{rid}", token=customer)[1],
                       lambda r: r["status"] == "awaiting_dropoff", what="the label")
        assert ret["withdrawal"]["refund_due_by"] == notice["refund_due_by"]
        assert _at(ret["deadline"]) - _at(ret["created_at"]) == timedelta(seconds=DEFAULTS["DropoffTimeoutSeconds"])
        from returns_core.usecases import side_effects

        assert side_effects.dispute_closes_after_days() == DEFAULTS["DisputeFollowupDelaySeconds"] // 86400

        # Waited: what the execution was started with.
        started = json.loads(history_of(stack, rid)[0]["executionStartedEventDetails"]["input"])["timeouts"]
        for wait, parameter in WAIT_OF.items():
            if demo:
                assert started[wait] < DEFAULTS[parameter] and started[wait] <= 30 * 60, (wait, started[wait])
            else:
                assert started[wait] == DEFAULTS[parameter], wait
        assert started["dropoff_before_reminder"] + started["dropoff_after_reminder"] == started["dropoff"]

        # The withdrawal's deadline clock, once the parcel is sent: weeks on `make run`, minutes in the demo.
        assert _carrier_event(api, ret["label"]["tracking_number"], "dropped_off") == 202
        wait_for(lambda: parked_wait(rid), lambda p: p[0] == "withdrawal_parcel", what="the withdrawal wait")
        clock = next(json.loads(e["stateExitedEventDetails"]["output"])["withdrawal_clock"]
                     for e in history_of(stack, rid) if e["type"] == "TaskStateExited"
                     and e["stateExitedEventDetails"]["name"] == "WithdrawalClock")
        if demo:
            assert 0 < clock["due_in"] <= 14 * 60 and clock["alert_in"] < clock["due_in"]
        else:
            assert clock["due_in"] > 13 * 86400 and clock["due_in"] - clock["alert_in"] == DEFAULTS[
                "WithdrawalAlertLeadSeconds"]
        # The record still says the law's date, whatever the workflow waits.
        ret = _call(api, "GET", f"/returns/{rid}", token=customer)[1]
        assert ret["withdrawal"]["refund_due_by"] == notice["refund_due_by"]
