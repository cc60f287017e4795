"""Refunds racing for the ledger's head: a lost race is never a failed refund.

Twenty Settle steps at once, of twenty returns of fourteen orders (three orders with three
returns each), all paid through a real localstripe, appended to the chains of their orders' shards. One of them is
also made to lose the head far more often than the old bounded retry allowed (DynamoDB cancels
its transaction with TransactionConflict, as it does under contention)."""
from __future__ import annotations

import os
import threading

import pytest

from infra.local import faults
from returns_core.store import ledger
from returns_core.store.models import OrderModel, ReturnModel
from returns_core.usecases import ledger_audit, settlement

from tests.payments_support import create_captured_payment_intent, list_refunds

from .refund_fixtures import make_order, make_return

SETTLES = 20
UNLUCKY_LOSSES = 25   # the old append gave up (refund_failed, card already paid) after 10


def _orders_and_returns(url: str) -> tuple[dict[str, str], list[str]]:
    """order id -> PaymentIntent; the return ids. Each order's capture is exactly its returns' sum."""
    shape = {f"LC-{n}": (3 if n < 3 else 1) for n in range(14)}
    assert sum(shape.values()) == SETTLES
    intents, return_ids = {}, []
    for order_id, count in shape.items():
        amounts = [1000 + 100 * i for i in range(count)]
        intents[order_id] = create_captured_payment_intent(url, amount=sum(amounts))
        make_order(order_id, captured=sum(amounts), provider="stripe", reference=intents[order_id])
        for i, amount in enumerate(amounts):
            make_return(f"R-{order_id}-{i}", order_id, amount, resolution="refund")
            return_ids.append(f"R-{order_id}-{i}")
    return intents, return_ids


def test_twenty_concurrent_settles_on_one_chain_all_refund_once_and_the_chain_verifies(stripe_stack,
                                                                                     localstripe_url):
    intents, return_ids = _orders_and_returns(localstripe_url)
    unlucky = return_ids[4]
    ledger_table = os.environ["LEDGER_TABLE"]
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(SETTLES)

    def settle(return_id: str) -> None:
        barrier.wait()
        try:
            outcomes[return_id] = settlement.settle(return_id)
        except Exception as exc:  # noqa: BLE001 - what the Settle step would have raised
            outcomes[return_id] = f"raised {type(exc).__name__}: {exc}"

    lost_before = ledger.contention.lost
    with faults.fail("dynamodb", "TransactWriteItems", "TransactionCanceledException", "injected: conflict",
                     times=UNLUCKY_LOSSES, when=lambda body: ledger_table in body and unlucky in body) as conflicts:
        threads = [threading.Thread(target=settle, args=(rid,)) for rid in return_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert len(conflicts.hits) == UNLUCKY_LOSSES
    assert ledger.contention.lost - lost_before >= UNLUCKY_LOSSES

    assert outcomes == {rid: "refunded" for rid in return_ids}
    assert [ReturnModel.get(rid).status for rid in return_ids].count("refund_failed") == 0
    entries = list(ledger.entries())
    # Issue 35: the appends are spread over chains (by day and order shard), each numbered from 1 with no gap.
    by_chain: dict[str, list[int]] = {}
    for e in entries:
        by_chain.setdefault(e.ledger, []).append(int(e.seq))
    assert len(entries) == SETTLES and len(by_chain) > 1, by_chain
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_chain.values()), by_chain
    assert sorted(e.return_id for e in entries) == sorted(return_ids)
    verdict = ledger_audit.verify(None)
    assert verdict["ok"] is True and verdict["checked"] == SETTLES and verdict["anchored_seq"] == SETTLES, verdict
    # Exactly once at the provider: one refund per return, each the one the ledger names.
    by_return = {e.return_id: e for e in entries}
    for order_id, intent in intents.items():
        paid = list_refunds(localstripe_url, intent)
        mine = sorted(rid for rid in return_ids if rid.startswith(f"R-{order_id}-"))
        assert sorted(r["metadata"]["return_id"] for r in paid) == mine, (order_id, paid)
        assert {r["id"] for r in paid} == {by_return[rid].reference for rid in mine}
        assert sum(r["amount"] for r in paid) == sum(int(by_return[rid].amount) for rid in mine)


def test_an_append_that_loses_for_its_whole_budget_writes_nothing_and_is_retryable(stack):
    """Past its time budget the append gives up as LedgerBusy, which the Settle step raises as a
    TransientError for the ASL's Retry (settlement.RETRYABLE), never as a refusal."""
    ret = make_return("R-busy", make_order("O-busy", captured=1000).order_id, 400, resolution="refund")
    movement = ledger.Movement(entry_id="k-busy", kind="refund", return_id=ret.return_id, order_id="O-busy",
                               amount=400, currency="EUR", method="manual", reference="REF", inspected_by="wh:bob",
                               approved_by=None)
    order = OrderModel.get("O-busy")
    with faults.fail("dynamodb", "TransactWriteItems", "TransactionCanceledException", "injected: conflict",
                     times=10_000) as conflicts, pytest.raises(ledger.LedgerBusy) as busy:
        ledger.append(movement, ret, order, {"amount": 400}, ledger_audit.ledger_key(), budget_seconds=1.5)
    assert isinstance(busy.value, settlement.RETRYABLE)
    assert conflicts.hits   # it tried, lost every time, and stopped at its budget
    assert list(ledger.entries()) == [] and ReturnModel.get("R-busy").refund is None


def test_a_store_credit_append_that_lost_to_another_refund_of_the_same_customer_lands(stack):
    """The customer's balance was read (absent) before another refund of theirs raised it: the
    append reads it again on the retry instead of failing its version check until refund_failed."""
    from returns_core.rules import clock
    from returns_core.store.models import CreditModel

    make_order("O-cr", captured=10_000)
    first, second = make_return("R-cr-1", "O-cr", 1000), make_return("R-cr-2", "O-cr", 2000)
    read_before = CreditModel(second.customer_key, "EUR", balance=0, updated_at=clock.iso())
    assert settlement.settle(first.return_id) == "refunded"
    movement = ledger.Movement(entry_id="k-cr-2", kind="store_credit", return_id=second.return_id, order_id="O-cr",
                               amount=2000, currency="EUR", method="store_credit", reference="credit:k-cr-2",
                               inspected_by="wh:bob", approved_by=None)
    ledger.append(movement, second, OrderModel.get("O-cr"), {"amount": 2000, "method": "store_credit"},
                  ledger_audit.ledger_key(), credit=read_before, budget_seconds=5)
    assert int(CreditModel.get(second.customer_key, "EUR").balance) == 3000
    assert ledger_audit.verify(None)["ok"] is True
