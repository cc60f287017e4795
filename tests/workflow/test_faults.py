"""Faults injected through the adapters and the emulator; the return ends in a correct, visible state.

Ops alerts are read the way a person would get them: an SQS queue subscribed to the ops topic.
"""
from __future__ import annotations

import threading

import boto3
import pytest

from infra.local import faults
from returns_core.edge import auth
from returns_core.rules.errors import InvalidTransition
from returns_core.store import returns
from returns_core.usecases import lifecycle

from .helpers import Http, carrier_event, effects_settled, order_payload, wait_for
from .refund_fixtures import make_order, make_return

pytestmark = pytest.mark.xdist_group("workflow")


def _to_awaiting_dropoff(http: Http, order_id: str = "ORD-F") -> tuple[str, str, dict]:
    store = auth.mint("store", "shop")
    assert http.call("PUT", f"/orders/{order_id}", order_payload(provider="manual"), token=store)[0] == 201
    status, body, _ = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})
    assert status == 200, body
    customer = body["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "awaiting_dropoff" and returns.get(rid).task_token, what="the label")
    return rid, customer, ret


def test_two_writers_racing_on_one_return_one_wins_nothing_lost(stack):
    make_order("ORD-RACE", 10000)
    make_return("ret_race", "ORD-RACE", 1000, status="awaiting_dropoff")
    results: dict[str, object] = {}

    def move(name: str, new: str, event: str) -> None:
        try:
            results[name] = lifecycle.transition(returns.get("ret_race"), new, actor=name, event=event).changed
        except Exception as exc:  # noqa: BLE001 - the loser's exception is the result under test
            results[name] = exc

    threads = [threading.Thread(target=move, args=("customer:ORD-RACE", "cancelled", "return.cancelled")),
               threading.Thread(target=move, args=("carrier", "in_transit", "carrier.dropped_off"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, v in results.items() if v is True]
    losers = [k for k, v in results.items() if isinstance(v, InvalidTransition)]
    assert len(winners) == 1 and len(losers) == 1, results
    ret = returns.get("ret_race")
    assert ret.status == ("cancelled" if winners == ["customer:ORD-RACE"] else "in_transit")
    kinds = [t["type"] for t in returns.timeline_of(ret)]
    assert ("return.cancelled" in kinds) != ("carrier.dropped_off" in kinds[1:]), kinds   # exactly one move recorded


def test_a_task_token_resumed_twice_is_harmless(stack, api):
    http = Http(api)
    rid, customer, _ = _to_awaiting_dropoff(http)
    ret = returns.get(rid)
    token = ret.task_token
    assert lifecycle.resume(token, ret) is True
    # Already used: Step Functions answers InvalidToken/TaskTimedOut, which resume() turns into a
    # warning and False; moto accepts the token again. Either way: no error, no second move.
    assert lifecycle.resume(token, ret) in (True, False)
    # the workflow comes back to the same wait and parks a new token; the return did not move
    wait_for(lambda: returns.get(rid), lambda r: r.task_token and r.task_token != token, what="a new wait")
    assert returns.get(rid).status == "awaiting_dropoff"
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    execution = sfn.describe_execution(executionArn=returns.get(rid).execution_arn)
    assert execution["status"] == "RUNNING"


def test_duplicate_and_reordered_carrier_events(stack, api):
    http = Http(api)
    rid, customer, ret = _to_awaiting_dropoff(http, "ORD-CARRIER")
    tracking = ret["label"]["tracking_number"]
    assert carrier_event(http, tracking, "in_transit", "2026-11-22T12:00:00Z")[0] in (200, 202)
    assert carrier_event(http, tracking, "dropped_off", "2026-11-22T10:00:00Z")[0] in (200, 202)  # late
    assert carrier_event(http, tracking, "dropped_off", "2026-11-22T10:00:00Z")[0] == 200        # replay
    assert carrier_event(http, tracking, "in_transit", "2026-11-22T12:00:00Z")[0] == 200         # replay
    got = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "in_transit", what="in transit")
    kinds = [t["type"] for t in got["timeline"]]
    assert kinds.count("carrier.dropped_off") <= 1 and kinds.count("carrier.in_transit") <= 1, kinds
    # the parcel never goes back to awaiting drop-off
    assert returns.get(rid).status == "in_transit"


def test_ses_throttling_keeps_the_status_and_alerts_ops(stack, api, ops_inbox):
    http = Http(api)
    rid, customer, ret = _to_awaiting_dropoff(http, "ORD-SES")
    ops_inbox()   # drop anything earlier

    # SES throttles every email while the parcel moves (the functions meet it over HTTP, as on AWS).
    with faults.fail("ses", "SendTemplatedEmail", "Throttling", "Maximum sending rate exceeded.", times=1000):
        assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
        wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                 lambda r: r["status"] == "in_transit", what="in transit")
        status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                    token=auth.mint("warehouse", "wh:bob"))
        assert status == 200 and scan["status"] == "received", scan
        got = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                       lambda r: any(t["type"] == "effect.failed" for t in r["timeline"]),
                       what="the failed email in the timeline")
    assert got["status"] == "received"
    alerts = wait_for(ops_inbox, lambda a: a, what="an ops alert")
    assert any("Throttling" in (a["message"] or "") or "notification_failed" in (a["message"] or "")
               for a in alerts), alerts


def test_sns_failure_on_domain_events_keeps_the_status(stack, api):
    http = Http(api)
    rid, customer, ret = _to_awaiting_dropoff(http, "ORD-SNS")

    with faults.fail("sns", "Publish", "InternalError", "SNS is down", times=1000) as sns_down:
        assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
        got = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                       lambda r: r["status"] == "in_transit", what="in transit")
        effects_settled()   # the move's event is published after the answer, by StatusEffects
    assert sns_down.hits
    assert got["status"] == "in_transit"


def test_a_step_that_fails_for_good_says_so_in_the_timeline_in_its_own_item(stack, api, ops_inbox):
    """MarkStuck is the workflow's own write (a direct DynamoDB integration): it takes the entry's number
    from the return's timeline_count, with its version, and puts the entry in the timeline table."""
    http = Http(api)
    store = auth.mint("store", "shop")
    assert http.call("PUT", "/orders/ORD-STUCK", order_payload(provider="manual"), token=store)[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-STUCK", "email": "ana@example.com"})[1]["token"]
    # The label step cannot record its label, nor its failure (label_failed): both fail with an error no
    # retry mends, so the workflow has nowhere to go but MarkStuck.
    with faults.fail("dynamodb", "TransactWriteItems", "ValidationException", "injected: refused", times=1000,
                     when=lambda body: "label.issued" in body or "label.failed" in body):
        status, ret, _ = http.call("POST", "/returns", {
            "order_id": "ORD-STUCK", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
            "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
        assert status == 201, ret
        rid = ret["return_id"]
        got = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                       lambda r: any(t["type"] == "workflow.error" for t in r["timeline"]), what="the stuck entry")
    stuck = [t for t in got["timeline"] if t["type"] == "workflow.error"]
    assert len(stuck) == 1 and stuck[0]["actor"] == "system" and stuck[0]["detail"] is None, stuck   # no internals
    assert got["timeline"][0]["type"] == "return.requested" and got["timeline"][-1] == stuck[0]
    staff = http.call("GET", f"/returns/{rid}", token=auth.mint("ops", "ops:eve"))[1]
    stuck = [t for t in staff["timeline"] if t["type"] == "workflow.error"]
    assert len(stuck) == 1 and stuck[0]["actor"] == "system" and stuck[0]["detail"], stuck
    record = returns.get(rid)
    assert int(record.timeline_count) == len(got["timeline"]) and record.timeline is None
    alerts = wait_for(ops_inbox, lambda a: any("stuck" in (x["subject"] or "") for x in a), what="the ops alert")
    assert any(rid in (x["message"] or "") for x in alerts), alerts
