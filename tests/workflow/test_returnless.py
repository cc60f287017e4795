"""Issue 17's returnless refunds on the real template and state machine: a return whose every item the
policy lets the customer keep (`keep_item`) goes from `requested` straight to Settle, with no label and
no parcel, is refunded once and the customer is told to keep the item; the review rules still apply
first (the fraud guard), then the same path."""
from __future__ import annotations

import json

import boto3
import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from .helpers import Http, order_payload, sent_emails, wait_for

pytestmark = pytest.mark.xdist_group("workflow")

KEEP_CHEAP_DEFECTS = {"id": "keep-cheap-defects", "match": {"reason": ["defective"], "unit_price_below": 3000},
                      "set": {"keep_item": True}}


def _returnless(http: Http, order_id: str, policy: dict) -> tuple[str, str, dict]:
    """Publish `policy`, order, ask to return one T-shirt as defective for store credit (no payment
    provider to reach): (return id, customer token, the created return)."""
    store = auth.mint("store", "shop")
    published = http.call("PUT", "/policy", {"policy": policy}, token=store)
    assert published[0] == 200, published[1]
    assert http.call("PUT", f"/orders/{order_id}", order_payload(), token=store)[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})[1]["token"]
    status, created, _ = http.call("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, created
    assert [(i["keep_item"], i["rule"]) for i in created["items"]] == [(True, "keep-cheap-defects")]
    assert created["policy_version"] == published[1]["version"]
    return created["return_id"], customer, created


def _assert_refunded_without_a_parcel(http: Http, stack, rid: str, customer: str, amount: int) -> list[str]:
    """Refunded once, never a label nor a carrier/warehouse step; the email says keep it. The timeline."""
    done = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                    lambda r: r["status"] == "refunded", what="the returnless refund", timeout=30)
    assert done["refund"]["amount"] == amount and done["label"] is None
    assert http.call("GET", f"/returns/{rid}/label", token=customer)[0] == 404
    (entry,) = [e for e in ledger.entries() if e.return_id == rid]
    assert int(entry.amount) == amount
    timeline = [t["type"] for t in done["timeline"]]
    assert not [t for t in timeline if t.startswith(("label.", "carrier.", "parcel.", "return.inspected"))], timeline
    (refund_email,) = wait_for(lambda: [data for name, data in sent_emails(rid) if "refund_issued" in name], bool,
                               what="the refund email")
    assert refund_email["keep_item"] is True
    # The workflow itself never entered a label or parcel state.
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    (execution,) = [e for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
                    if e["name"] == rid]
    events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    entered = [json.loads(json.dumps(e["stateEnteredEventDetails"]))["name"] for e in events
               if e["type"].endswith("StateEntered")]
    assert not {"AwaitDropoff", "AwaitArrival", "AwaitInspection"} & set(entered), entered
    # IssueLabel is every execution's first state: for a returnless return it reroutes to Route before
    # reading anything (rules.statuses.issues_label_in), and is never entered again.
    assert entered[:2] == ["IssueLabel", "Route"] and entered.count("IssueLabel") == 1, entered
    assert [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"][:1] == ["ReturnRerouted"]
    assert "Settle" in entered
    return timeline


def test_a_returnless_return_is_refunded_with_no_label_and_no_parcel(stack, api):
    http = Http(api)
    rid, customer, created = _returnless(http, "ORD-KEEP", {"rules": [KEEP_CHEAP_DEFECTS]})
    # Defective: no shipping fee; the paid price of one T-shirt (2499) and its 10 % store-credit bonus.
    assert created["quote"]["return_shipping_fee"] == 0 and created["quote"]["refund_amount"] == 2749
    _assert_refunded_without_a_parcel(http, stack, rid, customer, 2749)


def test_a_risky_returnless_return_is_reviewed_first_then_refunded(stack, api):
    http = Http(api)
    # The fraud guard: orders above 50,00 € are reviewed, kept items or not (this order is 139,96 €).
    risky = {"defaults": {"review": {"order_above": 5000}}, "rules": [KEEP_CHEAP_DEFECTS]}
    rid, customer, _ = _returnless(http, "ORD-KEEP-RISKY", risky)

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    wait_for(get, lambda r: r["status"] == "in_review", what="the review")
    assert [e for e in ledger.entries() if e.return_id == rid] == []
    status, body, _ = http.call("POST", f"/returns/{rid}/review", {"decision": "approve", "note": "known customer"},
                                token=auth.mint("ops", "ops:lea"))
    assert status == 200, body
    timeline = _assert_refunded_without_a_parcel(http, stack, rid, customer, 2749)
    assert timeline.index("review.approved") < timeline.index("refund.issued")
