"""Issue 19 on the real ASL: a dispute waits for customer service, its resolution's adjustment is
paid by the Settle step as an `adjustment` ledger entry, and the return closes on its own after
DisputeFollowupDelaySeconds when nobody answers. Issue 20: the resolution's email is the case's last (it
says when the case closes on its own and how to answer sooner); no second "is everything all right?"."""
from __future__ import annotations

import boto3
import pytest

from .helpers import history_of, order_payload, parked_wait, states_entered
from .journey import Journey, Outbox, client, deployed, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def test_a_dispute_resolved_with_an_adjustment_is_paid_once_and_closes_on_its_own(monkeypatch):
    with deployed(monkeypatch, {"DisputeFollowupDelaySeconds": "1"}) as stack, client() as http:
        outbox = Outbox(stack)
        journey = Journey(http, "ORD-DSP", order_payload(locale="fr-FR"))
        journey.start({"method": "letterbox"})
        journey.to_refunded()
        status, body, _ = http.call("POST", f"/returns/{journey.rid}/dispute", {"message": "one sleeve is torn"},
                                    token=journey.customer)
        assert status == 200 and body["status"] == "disputed", body
        # The workflow no longer ends here: it waits for customer service.
        wait_for(lambda: parked_wait(journey.rid)[0], lambda w: w == "dispute", what="the dispute wait")

        status, body, _ = http.call("POST", f"/returns/{journey.rid}/dispute/resolve",
                                    {"decision": "uphold", "note": "Désolés pour la manche", "refund_amount": 500,
                                     "method": "store_credit"}, token=journey.ops)
        assert status == 200 and body["status"] == "resolved", body

        ret = wait_for(journey.get, lambda r: r.get("status") == "closed", timeout=40, what="closed on its own")
        assert ret["dispute_resolution"]["status"] == "succeeded"
        types = [t["type"] for t in ret["timeline"]]
        assert types.index("dispute.resolved") < types.index("dispute.adjustment_paid") < \
            types.index("return.auto_closed")
        # Issue 20: the resolution's email said the case closes on its own; the automatic close sends nothing.
        assert outbox.templates()[-2:] == ["dispute_opened-fr", "dispute_resolved-fr"]
        assert "dispute_followup-fr" not in outbox.templates()
        resolved = dict(outbox.emails())["dispute_resolved-fr"]
        assert resolved["has_adjustment"] is True and resolved["note"] == "Désolés pour la manche"
        assert resolved["closes_after"] == "1\u00a0jour" and resolved["confirm_url"] == resolved["portal_url"]
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + journey.rid
        done = wait_for(lambda: sfn.describe_execution(executionArn=arn), lambda e: e["status"] != "RUNNING",
                        what="the execution to end")
        assert done["status"] == "SUCCEEDED"
        entered = states_entered(history_of(stack, journey.rid))
        assert entered[entered.index("AwaitDisputeResolution") - 1:] == [
            "Route", "AwaitDisputeResolution", "SettleAdjustment", "AwaitDisputeFollowup", "DisputeAutoClose"]

        from returns_core.rules.ledger_chain import from_capture
        from returns_core.store import ledger
        from returns_core.store.models import OrderModel

        mine = [e for e in ledger.entries() if e.return_id == journey.rid]
        assert [(e.kind, int(e.amount)) for e in mine] == [("store_credit", 2204), ("adjustment", 500)]
        order = OrderModel.get("ORD-DSP", consistent_read=True)
        # What the capture paid: the refund less its store credit bonus, and the adjustment, once each.
        assert int(order.refunded_total) == sum(from_capture(e) for e in mine) == 2004 + 500
        assert not dict(order.refund_holds or {})
