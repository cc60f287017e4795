"""Issue 28: refunds recover by themselves. A failed refund says `failed` (and why, and whether the fault
was transient); the sweeper retries the transient ones with backoff and pays claims left pending; a
request whose function died mid-way is not "in progress" for 24 hours; the payment lease never
outlives the step's retries. In-process app on moto; the use cases run as the Settle function runs them."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.api.support import auth, customer, error_of, return_body, send, ship, start_return

ROOT = Path(__file__).resolve().parents[2]


def _refunding(api) -> str:
    from returns_core.store.models import ReturnModel

    rid = start_return(api)["return_id"]
    ship(rid, status="refunding")
    ReturnModel.get(rid).update(actions=[ReturnModel.refund.set({
        "amount": 2499, "method": "original_payment", "status": "paying", "reference": None, "issued_at": None,
        "lease_owner": "dead-invocation", "lease_until": "2026-01-01T00:00:00Z"})])
    return rid


def _refund(rid: str) -> dict:
    from returns_core.store.models import ReturnModel

    return (ReturnModel.get(rid, consistent_read=True).refund)


@pytest.mark.parametrize("error, transient", [("TransientError: stripe unreachable", True),
                                              ("PaymentInProgress: being paid", True),
                                              ("PaymentError: card closed", False)])
def test_a_failed_refund_says_failed_with_why_and_no_lease(api, order, error, transient):
    from returns_core.usecases import settlement

    rid = _refunding(api)
    assert settlement.mark_failed(rid, error) == "refund_failed"
    refund = _refund(rid)
    assert refund["status"] == "failed"
    assert refund["failure"]["error"] == error.split(":")[0] and refund["failure"]["transient"] is transient
    assert "lease_owner" not in refund and "lease_until" not in refund
    assert refund["amount"] == 2499                       # what was being paid is still said


def _failed_since(rid: str, seconds_ago: int, error: str = "TransientError: down") -> None:
    from returns_core.rules import clock
    from returns_core.store.models import ReturnModel
    from returns_core.usecases import settlement

    settlement.mark_failed(rid, error)
    ReturnModel.get(rid).update(actions=[ReturnModel.status_since.set(
        clock.iso(clock.now() - timedelta(seconds=seconds_ago)))])


def test_the_sweeper_retries_a_transient_failure_with_backoff_and_then_leaves_it_to_ops(api, order):
    from returns_core.rules import clock
    from returns_core.store import returns
    from returns_core.store.models import ReturnModel
    from returns_core.usecases import refund_recovery

    rid = _refunding(api)
    _failed_since(rid, 60)                                 # 1 min ago: the first retry is due after 5
    assert refund_recovery.sweep()["refunds_retried"] == 0
    assert returns.get(rid).status == "refund_failed"
    done = refund_recovery.sweep(clock.now() + timedelta(seconds=refund_recovery.RETRY_BASE_SECONDS))
    assert done["refunds_retried"] == 1
    ret = returns.get(rid)
    assert ret.status == "refunding" and _refund(rid)["automatic_retries"] == 1
    assert "refund.retried_automatically" in [e["type"] for e in returns.timeline_of(ret)]
    # It fails again: the next retry comes twice as late (the count is kept on the refund).
    _failed_since(rid, 0)
    assert _refund(rid)["automatic_retries"] == 1
    second = clock.now() + timedelta(seconds=2 * refund_recovery.RETRY_BASE_SECONDS)
    assert refund_recovery.sweep(second - timedelta(seconds=30))["refunds_retried"] == 0
    assert refund_recovery.sweep(second + timedelta(seconds=30))["refunds_retried"] == 1
    assert _refund(rid)["automatic_retries"] == 2
    # After the last automatic retry, the refund stays with ops (alerted by each failure).
    ReturnModel.get(rid).update(actions=[ReturnModel.refund["automatic_retries"].set(
        refund_recovery.AUTOMATIC_RETRIES)])
    _failed_since(rid, 0)
    assert refund_recovery.retry_due(clock.now(), refund_recovery.AUTOMATIC_RETRIES) is None
    assert refund_recovery.sweep(clock.now() + timedelta(days=30))["refunds_retried"] == 0
    assert returns.get(rid).status == "refund_failed"


def test_the_sweeper_never_retries_a_refusal(api, order):
    from returns_core.rules import clock
    from returns_core.store import returns
    from returns_core.usecases import refund_recovery

    rid = _refunding(api)
    _failed_since(rid, 3600, error="PaymentError: the card cannot be refunded")
    assert refund_recovery.sweep(clock.now() + timedelta(days=1))["refunds_retried"] == 0
    assert returns.get(rid).status == "refund_failed"


def test_the_sweeper_pays_a_claim_left_pending_once(api, order):
    from returns_core import aws as core_aws
    from returns_core.rules import clock
    from returns_core.store import ledger
    from returns_core.usecases import refund_recovery

    from tests.api.support import settle_answers_the_ledger_check

    cid = send(api, "POST", "/claims", {"order_id": "o-1", "kind": "damaged_on_arrival",
                                        "lines": [{"sku": "TSHIRT-M", "qty": 1}], "message": "Torn on arrival"},
               customer("o-1")).json_body["claim_id"]
    events = core_aws.client("lambda").meta.events
    events.unregister("before-call.lambda.Invoke", unique_id="settle-ledger-check")   # Settle unreachable
    try:
        res = send(api, "POST", f"/claims/{cid}/resolve", {"decision": "refund", "note": "Sorry", "amount": 900,
                                                           "method": "store_credit"}, auth("ops"))
    finally:
        settle_answers_the_ledger_check()
    assert res.status_code == 503 and error_of(res)["code"] == "refund_pending"
    assert refund_recovery.sweep()["claims_paid"] == 0       # within the API's own time to pay it
    later = clock.now() + timedelta(seconds=refund_recovery.CLAIM_GRACE_SECONDS + 1)
    assert refund_recovery.sweep(later)["claims_paid"] == 1
    assert refund_recovery.sweep(later)["claims_paid"] == 0
    got = send(api, "GET", f"/claims/{cid}", None, auth("ops")).json_body
    assert got["status"] == "refunded"
    mine = [e for e in ledger.entries() if e.return_id == cid]
    assert [(e.kind, int(e.amount)) for e in mine] == [("claim", 900)]


def test_a_request_whose_function_died_is_run_again_and_finds_what_it_made(api, order):
    """POST /returns resent with its Idempotency-Key after a crash got 409 request_in_progress for 24 h
    although the return existed. The crash's trace in the store: the return written, the request's
    record still "in progress"."""
    from returns_core.store.models import RequestRecordModel, ReturnModel

    key = {"Idempotency-Key": "crash-1"}
    first = send(api, "POST", "/returns", return_body(), {**customer("o-1"), **key})
    assert first.status_code == 201, first.body
    record = next(r for r in RequestRecordModel.scan() if r.status_code is not None)
    record.update(actions=[RequestRecordModel.status_code.remove(), RequestRecordModel.body.remove(),
                           RequestRecordModel.expiration.set(int(time.time()) + 30)])
    # While the first run may still be alive (the API's timeout is 30 s), the same request waits.
    busy = send(api, "POST", "/returns", return_body(), {**customer("o-1"), **key})
    assert busy.status_code == 409 and error_of(busy)["code"] == "request_in_progress"
    record.update(actions=[RequestRecordModel.expiration.set(int(time.time()) - 1)])
    again = send(api, "POST", "/returns", return_body(), {**customer("o-1"), **key})
    assert again.status_code == 201, again.body
    assert again.json_body["return_id"] == first.json_body["return_id"]
    assert len(list(ReturnModel.by_order.query("o-1"))) == 1
    replay = send(api, "POST", "/returns", return_body(), {**customer("o-1"), **key})
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    # Without a key, every request is its own: a second return of the other T-shirt is a new one.
    other = send(api, "POST", "/returns", return_body(), customer("o-1"))
    assert other.status_code == 201 and other.json_body["return_id"] != first.json_body["return_id"]


def test_the_lease_never_outlives_the_step_retries():
    """After a crash while paying, the lease (which must outlast any live invocation: the Settle timeout)
    runs out before the step's retries of PaymentInProgress do, so the step finishes the payment."""
    from infra.local.template import load
    from returns_core.usecases import movements

    template = load()
    timeout = template["Resources"]["SettleFunction"]["Properties"].get("Timeout") \
        or template["Globals"]["Function"]["Timeout"]
    assert timeout < movements.LEASE_SECONDS
    asl = json.loads((ROOT / "statemachines/return_lifecycle.asl.json").read_text())
    for state in ("Settle", "SettleAdjustment"):
        retriers = asl["States"][state]["Retry"]
        retrier = next(r for r in retriers if "PaymentInProgress" in r["ErrorEquals"])
        assert retriers.index(retrier) == 0   # before the generic TransientError retrier
        waits = [retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n for n in range(retrier["MaxAttempts"])]
        assert sum(waits) > 2 * movements.LEASE_SECONDS, (state, waits)


def test_the_sweeper_is_scheduled_and_the_local_stack_runs_it():
    import threading

    from infra.local import schedules
    from infra.local.template import load

    found = schedules.of_template(load())
    sweep = next(s for s in found if s.function == "SettleFunction")
    assert sweep.event == {"refund_sweep": {}} and sweep.every_seconds == 300
    called = threading.Event()
    runner = schedules.Runner([sweep], lambda fn, event: called.set(), scale=0.001).start()
    try:
        assert called.wait(10)
    finally:
        runner.stop()
    with pytest.raises(ValueError):
        schedules.rate_seconds("cron(0 12 * * ? *)")
