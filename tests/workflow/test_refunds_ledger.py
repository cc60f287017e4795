"""The ledger at the domain level: over-refunds refused in the write itself, tampering found by verify,
and manual refunds that wait for finance's reference."""
from __future__ import annotations

import threading

import boto3
import pytest

from returns_core.rules import ledger_chain
from returns_core.rules.errors import UnprocessableError
from returns_core.rules.settlement import idempotency_key
from returns_core.store import ledger, returns
from returns_core.store.models import LedgerEntryModel, OrderModel, ReturnModel
from returns_core.usecases import lifecycle, settlement

from .refund_fixtures import make_order, make_return


def _movement(ret: ReturnModel, amount: int) -> ledger.Movement:
    return ledger.Movement(entry_id=idempotency_key(ret.return_id), kind="refund", return_id=ret.return_id,
                           order_id=ret.order_id, amount=amount, currency="EUR", method="manual",
                           reference="REF-" + ret.return_id, inspected_by="wh:bob", approved_by=None)


def _append(ret: ReturnModel, amount: int):
    order = OrderModel.get(ret.order_id)
    return ledger.append(_movement(ret, amount), ret, order, {"amount": amount, "method": "original_payment",
                                                               "status": "succeeded"})


def test_an_over_refund_is_refused_by_the_ledger_write_and_nothing_is_written(stack):
    make_order("O1", captured=1000)
    a, b = make_return("R-a", "O1", 600), make_return("R-b", "O1", 600)
    _append(a, 600)
    with pytest.raises(ledger.OverRefund):
        _append(b, 600)
    assert [int(e.seq) for e in ledger.entries()] == [1]
    assert int(OrderModel.get("O1").refunded_total) == 600
    assert ReturnModel.get("R-b").refund is None


def test_racing_appends_on_one_order_never_exceed_the_capture(stack):
    make_order("O2", captured=1000)
    rets = [make_return(f"R-{i}", "O2", 400) for i in range(4)]
    outcomes: list = []
    barrier = threading.Barrier(len(rets))

    def go(ret):
        barrier.wait()
        try:
            _append(ret, 400)
            outcomes.append("ok")
        except ledger.OverRefund:
            outcomes.append("over")

    threads = [threading.Thread(target=go, args=(r,)) for r in rets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "ok", "over", "over"]
    assert int(OrderModel.get("O2").refunded_total) == 800
    assert ledger.verify_range() == {"ok": True, "checked": 2, "first_bad_seq": None}


def _three_entries() -> None:
    make_order("O3", captured=10_000)
    for i in range(3):
        make_return(f"R3-{i}", "O3", 1000 + i)
        assert settlement.settle(f"R3-{i}") == "refunded"
    assert [int(e.seq) for e in ledger.entries()] == [1, 2, 3]


def _table():
    import os

    return boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["LEDGER_TABLE"])


def test_verify_names_an_edited_entry(stack):
    _three_entries()
    today = ledger.get(1).issued_day
    assert ledger.verify_range([today]) == {"ok": True, "checked": 3, "first_bad_seq": None}
    _table().update_item(Key={"ledger": "refunds", "seq": 2}, UpdateExpression="SET amount = :a",
                         ExpressionAttributeValues={":a": 99999})
    assert ledger.verify_range([today]) == {"ok": False, "checked": 1, "first_bad_seq": 2}
    assert ledger.verify_range()["first_bad_seq"] == 2


def test_verify_names_an_entry_whose_hash_was_recomputed_by_the_next_one(stack):
    _three_entries()
    entry = ledger.get(2)
    entry.reference = "EDITED"
    forged = ledger_chain.chain_hash(ledger_chain.entry_fields(entry), entry.prev_hash)
    _table().update_item(Key={"ledger": "refunds", "seq": 2}, UpdateExpression="SET #r = :r, #h = :h",
                         ExpressionAttributeNames={"#r": "reference", "#h": "hash"},
                         ExpressionAttributeValues={":r": "EDITED", ":h": forged})
    assert ledger.verify_range()["first_bad_seq"] == 3


@pytest.mark.parametrize("deleted", [1, 2, 3])
def test_verify_names_a_deleted_entry(stack, deleted):
    _three_entries()
    today = ledger.get(1).issued_day
    _table().delete_item(Key={"ledger": "refunds", "seq": deleted})
    result = ledger.verify_range([today])
    if deleted == 3:   # the last entry: nothing after it to notice; the range still checks what is there
        assert result["ok"] is True and result["checked"] == 2
    else:
        assert result["ok"] is False and result["first_bad_seq"] == deleted


def test_a_range_check_reads_from_the_entry_before_the_range(stack):
    _three_entries()
    _table().update_item(Key={"ledger": "refunds", "seq": 2}, UpdateExpression="SET issued_day = :d",
                         ExpressionAttributeValues={":d": "2000-01-01"})   # not hashed: moves it out of today
    today = ledger.get(1).issued_day
    # today's entries are 1 and 3: not consecutive, so the gap is named
    assert ledger.verify_range([today])["first_bad_seq"] == 2
    assert ledger.verify_range(["2000-01-01"]) == {"ok": True, "checked": 1, "first_bad_seq": None}


def test_a_manual_refund_waits_for_the_reference_then_settle_writes_the_ledger(stack):
    make_order("O4", captured=5000, provider="manual")
    make_return("R4", "O4", 3000, resolution="refund")
    assert settlement.settle_outcome("R4") == {"status": "refunding", "manual": True}
    assert settlement.settle_outcome("R4") == {"status": "refunding", "manual": True}   # a repeat: same wait
    assert list(ledger.entries()) == []
    with pytest.raises(UnprocessableError) as bad:
        settlement.record_manual_reference("R4", "   ", "fin:ann")
    assert bad.value.field == "reference"
    settlement.record_manual_reference("R4", "BANK-2026-001", "fin:ann")
    settlement.record_manual_reference("R4", "BANK-2026-001", "fin:ann")       # a replay
    with pytest.raises(settlement.NotAwaitingManualRefund):
        settlement.record_manual_reference("R4", "BANK-OTHER", "fin:ann")
    assert settlement.settle_outcome("R4") == {"status": "refunded", "manual": False}
    [entry] = list(ledger.entries())
    assert (entry.reference, entry.method, int(entry.amount)) == ("BANK-2026-001", "manual", 3000)
    ret = returns.get("R4")
    assert ret.refund["manual_reference"] == "BANK-2026-001" and ret.refund["recorded_by"] == "fin:ann"


def test_the_manual_wait_is_not_parked_when_the_reference_came_first(stack):
    make_order("O5", captured=5000, provider="manual")
    make_return("R5", "O5", 3000, resolution="refund")
    settlement.settle_outcome("R5")
    settlement.record_manual_reference("R5", "BANK-5", "fin:ann")
    # The workflow's wait arrives after finance: it must be resumed at once, not parked.
    sent = []
    from returns_core.usecases import lifecycle as lc
    real = lc.resume
    lc.resume = lambda token, ret: sent.append(token) or True
    try:
        assert lifecycle.park("R5", "manual_refund", "token-1") == "resumed"
    finally:
        lc.resume = real
    assert sent == ["token-1"]


def _cancel_transactions(reasons: list[str], times: int) -> tuple[list[int], object]:
    """Make DynamoDB cancel the next `times` TransactWriteItems with these cancellation reasons
    (a botocore hook answering in DynamoDB's place); counts every call made."""
    from botocore.awsrequest import AWSResponse

    from returns_core import aws

    calls: list[int] = []

    def answer(**_):
        calls.append(1)
        if len(calls) > times:
            return None   # the real call
        return AWSResponse("https://dynamodb", 400, {}, None), {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code, "Message": code} for code in reasons],
            "ResponseMetadata": {"HTTPStatusCode": 400}}

    events = aws.dynamodb_connection().client.meta.events
    events.register("before-call.dynamodb.TransactWriteItems", answer, unique_id="cancel-tx")
    return calls, lambda: events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="cancel-tx")


def test_the_ledger_retries_a_lost_race_for_the_chain_head(stack):
    make_order("O7", captured=1000)
    ret = make_return("R7", "O7", 400)
    calls, stop = _cancel_transactions(["ConditionalCheckFailed", "None", "None"], times=1)
    try:
        entry = _append(ret, 400)
    finally:
        stop()
    assert len(calls) == 2 and int(entry.seq) == 1
    assert ledger.verify_range() == {"ok": True, "checked": 1, "first_bad_seq": None}


def test_the_ledger_does_not_retry_a_transaction_that_failed_for_another_reason(stack):
    from pynamodb.exceptions import TransactWriteError

    make_order("O8", captured=1000)
    ret = make_return("R8", "O8", 400)
    calls, stop = _cancel_transactions(["None", "ValidationError", "None"], times=10)
    try:
        with pytest.raises(TransactWriteError):
            _append(ret, 400)
    finally:
        stop()
    assert len(calls) == 1   # reported at once, never retried blindly
    assert list(ledger.entries()) == [] and ReturnModel.get("R8").refund is None
