"""The ledger at the domain level: over-refunds refused in the write itself, tampering found by verify
(edits, insertions, deletions, the last entry's included; recomputed chains), and manual refunds that
wait for finance's reference."""
from __future__ import annotations

import threading

import boto3
import pytest

from returns_core.rules import clock, ledger_chain
from returns_core.rules.errors import UnprocessableError
from returns_core.rules.settlement import idempotency_key
from returns_core.store import ledger, returns
from returns_core.store.models import LedgerAnchorModel, LedgerEntryModel, OrderModel, ReturnModel
from returns_core.usecases import ledger_audit, lifecycle, settlement

from .refund_fixtures import make_order, make_return


def _chain(order_id: str = "O3") -> str:
    """The chain today's movements of an order are appended to (store/ledger.py: by day and shard)."""
    return ledger.chain_for(order_id, clock.iso()[:10])


def _movement(ret: ReturnModel, amount: int) -> ledger.Movement:
    return ledger.Movement(entry_id=idempotency_key(ret.return_id), kind="refund", return_id=ret.return_id,
                           order_id=ret.order_id, amount=amount, currency="EUR", method="manual",
                           reference="REF-" + ret.return_id, inspected_by="wh:bob", approved_by=None)


def _append(ret: ReturnModel, amount: int):
    order = OrderModel.get(ret.order_id)
    return ledger.append(_movement(ret, amount), ret, order, {"amount": amount, "method": "original_payment",
                                                               "status": "succeeded"}, ledger_audit.ledger_key())


def _verify(days: list[str] | None = None) -> dict:
    return ledger_audit.verify(days)


def _verdict(result: dict) -> tuple:
    return result["ok"], result["first_bad_seq"], result["reason"]


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
    assert _verify() == {"ok": True, "checked": 2, "first_bad_seq": None, "reason": None, "anchored_seq": 2}


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
    today = ledger.get(1, _chain()).issued_day
    assert _verify([today]) == {"ok": True, "checked": 3, "first_bad_seq": None, "reason": None, "anchored_seq": 3}
    _table().update_item(Key={"ledger": _chain(), "seq": 2}, UpdateExpression="SET amount = :a",
                         ExpressionAttributeValues={":a": 99999})
    assert _verify([today]) == {"ok": False, "checked": 1, "first_bad_seq": 2, "reason": "hash_mismatch",
                                "anchored_seq": 3, "chain": _chain()}
    assert _verdict(_verify()) == (False, 2, "hash_mismatch")


def _forge_unkeyed_chain(from_seq: int, edit: dict, chain: str | None = None) -> None:
    """What anyone with write access to the table could do before: edit an entry, then recompute the
    (unkeyed) SHA-256 chain from there to the tail, so every hash and link is consistent again."""
    chain = chain or _chain()
    prev_hash = ledger.get(from_seq - 1, chain).hash if from_seq > 1 else ledger_chain.GENESIS
    for entry in list(ledger.entries(chain, since_seq=from_seq - 1)):
        if int(entry.seq) == from_seq:
            for name, value in edit.items():
                setattr(entry, name, value)
        entry.hash_scheme = None
        entry.prev_hash = prev_hash
        entry.hash = ledger_chain.legacy_hash(ledger_chain.legacy_fields(ledger.stored(entry)), prev_hash)
        _table().delete_item(Key={"ledger": chain, "seq": int(entry.seq)})
        entry.save()
        prev_hash = entry.hash


def test_an_amount_edited_and_the_unkeyed_chain_recomputed_is_found(stack):
    _three_entries()
    _forge_unkeyed_chain(2, {"amount": 5})
    assert [int(e.amount) for e in ledger.entries()] == [1000, 5, 1002]
    assert _verdict(_verify()) == (False, 2, "unkeyed_entry")
    assert _verdict(_verify([ledger.get(1, _chain()).issued_day])) == (False, 2, "unkeyed_entry")


def test_a_chain_recomputed_with_a_guessed_key_is_found(stack):
    _three_entries()
    for entry in list(ledger.entries(_chain(), since_seq=1)):
        entry.amount = int(entry.amount) + 1
        ledger.seal(entry, b"not-the-ledger-key")
        entry.save()
    assert _verdict(_verify()) == (False, 2, "hash_mismatch")


def test_verify_names_a_deleted_entry_the_last_one_included(stack):
    _three_entries()
    today = ledger.get(1, _chain()).issued_day
    for deleted in (2, 3):
        saved = ledger.get(deleted, _chain())
        _table().delete_item(Key={"ledger": _chain(), "seq": deleted})
        assert _verdict(_verify([today])) == (False, deleted, "missing_entry"), deleted
        assert _verdict(_verify()) == (False, deleted, "missing_entry"), deleted
        saved.save()
    assert _verify()["ok"] is True


def test_after_the_last_entry_was_deleted_the_next_refund_does_not_reuse_its_seq(stack):
    _three_entries()
    _table().delete_item(Key={"ledger": _chain(), "seq": 3})
    make_return("R3-next", "O3", 500)
    assert settlement.settle("R3-next") == "refunded"
    assert returns.get("R3-next").refund["ledger_seq"] == 4
    assert [int(e.seq) for e in ledger.entries()] == [1, 2, 4]
    assert _verdict(_verify()) == (False, 3, "missing_entry")
    assert _verify()["anchored_seq"] == 4


def test_a_changed_issued_day_is_found_in_either_day(stack):
    _three_entries()
    today = ledger.get(1, _chain()).issued_day
    for seq in (2, 3):   # in the middle, and the last entry (nothing after it links to it)
        _table().update_item(Key={"ledger": _chain(), "seq": seq}, UpdateExpression="SET issued_day = :d",
                             ExpressionAttributeValues={":d": "2000-01-01"})
        assert _verdict(_verify([today])) == (False, seq, "hash_mismatch"), seq
        assert _verdict(_verify(["2000-01-01"])) == (False, seq, "hash_mismatch"), seq
        assert _verdict(_verify()) == (False, seq, "hash_mismatch"), seq
        _table().update_item(Key={"ledger": _chain(), "seq": seq}, UpdateExpression="SET issued_day = :d",
                             ExpressionAttributeValues={":d": today})
    assert _verify([today])["ok"] is True


def test_a_forged_entry_at_the_tail_is_found_and_blocks_the_next_append(stack):
    _three_entries()
    last = ledger.get(3, _chain())
    forged = LedgerEntryModel(_chain(), 4, **{k: getattr(last, k) for k in (
        "kind", "order_id", "currency", "method", "reference", "inspected_by", "issued_at", "issued_day")},
        entry_id="R-x:refund:1", return_id="R-x", amount=777, prev_hash=last.hash)
    forged.hash = ledger_chain.legacy_hash(ledger_chain.legacy_fields(ledger.stored(forged)), last.hash)
    forged.save()
    assert _verdict(_verify()) == (False, 4, "unkeyed_entry")
    ledger.seal(forged, b"a-guessed-key").save()
    assert _verdict(_verify()) == (False, 4, "hash_mismatch")
    assert _verdict(_verify([last.issued_day])) == (False, 4, "hash_mismatch")
    make_return("R3-next", "O3", 500)
    with pytest.raises(ledger.UnanchoredEntry):
        settlement.settle("R3-next")
    assert returns.get("R3-next").refund is None   # nothing half-written
    assert int(OrderModel.get("O3").refunded_total) == 3003


def test_an_entry_slipped_between_two_is_found(stack):
    _three_entries()
    between = ledger.get(2, _chain())
    between.seq = 2.5
    between.save()
    result = _verify()
    assert result["ok"] is False and result["first_bad_seq"] == 3


def test_entries_of_the_unkeyed_scheme_still_verify_beside_the_keyed_chains(stack, monkeypatch):
    # Issue 35: the first chain ("refunds") is closed; a new refund starts its own day/shard chain
    # (before, it continued the first chain at seq 3). Both verify, each as its own chain.
    # Scheme 1 is accepted only up to the deployment's configured last legacy seq (template parameter).
    monkeypatch.setenv("LEDGER_LEGACY_LAST_SEQ", "2")
    prev_hash = ledger_chain.GENESIS
    for seq in (1, 2):   # as written before the keyed scheme: no hash_scheme, no anchor
        entry = LedgerEntryModel("refunds", seq, entry_id=f"old-{seq}:refund:1", kind="refund", return_id=f"old-{seq}",
                                 order_id="O-old", amount=100 * seq, currency="EUR", method="manual",
                                 reference=f"BANK-{seq}", inspected_by="wh:bob", approved_by=None,
                                 issued_at="2026-11-02T10:00:00.000Z", issued_day="2026-11-02", prev_hash=prev_hash)
        entry.hash = ledger_chain.legacy_hash(ledger_chain.legacy_fields(ledger.stored(entry)), prev_hash)
        entry.save()
        prev_hash = entry.hash
    assert _verify() == {"ok": True, "checked": 2, "first_bad_seq": None, "reason": None, "anchored_seq": None}
    make_order("O-new", captured=5000)
    make_return("R-new", "O-new", 1000)
    assert settlement.settle("R-new") == "refunded"
    first = ledger.get(1, _chain("O-new"))
    assert int(first.hash_scheme) == 2 and first.prev_hash == ledger_chain.GENESIS
    assert ledger.get(3) is None   # nothing appended to the first chain any more
    assert _verify() == {"ok": True, "checked": 3, "first_bad_seq": None, "reason": None, "anchored_seq": 1}
    assert _verify(["2026-11-02"])["ok"] is True
    # The keyed entry cannot be turned into an unkeyed one, recomputed
    _forge_unkeyed_chain(1, {"amount": 1}, _chain("O-new"))
    result = _verify()
    assert (result["ok"], result["first_bad_seq"], result["reason"], result["chain"]) == \
        (False, 1, "unkeyed_entry", _chain("O-new"))


def test_anchors_are_one_per_entry_and_racing_appends_still_verify(stack):
    make_order("O9", captured=100_000)
    rets = [make_return(f"R9-{i}", "O9", 100 + i) for i in range(4)]
    barrier = threading.Barrier(len(rets))
    errors: list = []

    def go(ret):
        barrier.wait()
        try:
            _append(ret, 100)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(r,)) for r in rets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [int(a.seq) for a in LedgerAnchorModel.query(_chain("O9"))] == [1, 2, 3, 4]
    assert {a.hash for a in LedgerAnchorModel.query(_chain("O9"))} == {e.hash for e in ledger.entries()}
    assert _verify() == {"ok": True, "checked": 4, "first_bad_seq": None, "reason": None, "anchored_seq": 4}


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
    assert _verify() == {"ok": True, "checked": 1, "first_bad_seq": None, "reason": None, "anchored_seq": 1}


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
