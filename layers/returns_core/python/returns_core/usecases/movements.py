"""The one pay path: every money movement (a return's refund, a dispute's adjustment, a claim's refund,
and whatever pays next) is decided, held and paid here, the same way.

1. Decide and hold (`decide`, from the API or the workflow): the movement's amount is reserved on the
   order under a hold key unique to this request, checked against what is left of the capture with
   every other refund and hold, in one versioned write. Then the owner's record (a return, a claim)
   takes the decision with a conditional write. If another request decided first, this request's
   hold is released at once (nobody else knows its key, so releasing it can never free a winner's
   hold) and the caller is told who won: the same decision gets the winner's result, another one a
   409. So no hold outlives its request, and no race is answered 200 for nothing.
2. Pay (`pay`, only in the Settle function, which alone holds the ledger key): a lease on the owner's
   record says one invocation talks to the provider; the provider is called with a key derived from
   the movement (asked first what it already did under that key, so a crash after paying is
   recovered, never paid twice); the ledger entry, the order's total (the hold released) and the
   record are written in one transaction (store/ledger.py). A lost lease is `PaymentInProgress`,
   retried by the workflow (or the sweeper) after the lease has run out.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..rules import clock
from ..rules.errors import ConflictError
from ..rules.settlement import PAYING
from ..store import ledger, writes
from ..store.models import CreditModel, OrderModel
from .ledger_audit import ledger_key

# How long a payment lease keeps other invocations away from the provider: the Settle function's
# timeout (template.yaml, 60 s) and a margin, so it is never taken from an invocation still alive.
# The workflow's Retry for PaymentInProgress (statemachines/return_lifecycle.asl.json) lasts longer
# than this, so a step whose invocation crashed while paying is finished by the step's own retries
# (tests/unit/test_pay_path_bounds.py holds the three numbers together).
LEASE_SECONDS = 65


class PaymentInProgress(ConflictError):
    """Another invocation holds this movement's lease; try again once it has run out. Its name is a
    contract with the ASL's Retry (the Lambda error type)."""

    def __init__(self, key: str):
        super().__init__(f"{key} is being paid by another invocation", code="payment_in_progress")


class OrderBusy(ConflictError):
    """Other refunds of the order kept changing it while this one tried to hold its amount."""

    def __init__(self, order_id: str):
        super().__init__(f"order {order_id} is busy with other refunds; retry the refund", code="order_busy")


def hold(order: OrderModel, key: str, amount: int) -> None:
    """Reserve `amount` on the order under `key` before anything is paid, so concurrent movements of one
    order can never together exceed its capture. Idempotent per key."""
    def decide(order: OrderModel) -> writes.Update | None:
        holds = order.refund_holds or {}
        if key in holds:
            return None
        others = sum(int(v) for v in holds.values())
        if int(order.refunded_total or 0) + others + amount > int(order.payment["captured_amount"]):
            raise ledger.OverRefund(f"a movement of {amount} would exceed what order {order.order_id} captured")
        return writes.Update([OrderModel.refund_holds[key].set(amount)])

    writes.update(order, decide, busy=lambda: OrderBusy(order.order_id))


def release(order_id: str, key: str) -> None:
    """Give a hold back (idempotent). Only for a key no decided movement names: the request that made the
    key lost its race, so no one will ever pay under it."""
    try:
        order = OrderModel.get(order_id, consistent_read=True)
    except OrderModel.DoesNotExist:
        return
    writes.forget_key(order, OrderModel.refund_holds, key)


def request_hold_key(base: str) -> str:
    """A hold key of one request's decision: the movement's own key and a token nobody else has."""
    return f"{base}#{uuid.uuid4().hex[:16]}"


def decide(order: OrderModel, hold_key: str, amount: int, write_decision: Callable[[], bool],
           on_lost: Callable[[], Any]) -> Any:
    """Hold `amount` under `hold_key` (unique to this request), then write the decision.

    `write_decision()` True: this request decided (its hold now belongs to the decided movement).
    False: another request decided first: the hold is released and `on_lost()` answers (the winner's
    result for the same decision, or raises a 409). Any error releases the hold too."""
    if amount:
        hold(order, hold_key, amount)
    try:
        won = write_decision()
    except BaseException:
        if amount:
            release(order.order_id, hold_key)
        raise
    if won:
        return None
    if amount:
        release(order.order_id, hold_key)
    return on_lost()


@dataclass
class Payment:
    """One movement to pay: who owns it (`owner`, a return or a claim, and `recorded_in`, its map
    attribute that gets the payment record), what and how much, the order's hold it releases."""
    key: str                   # the ledger entry's id and the provider's idempotency key
    kind: str                  # refund | store_credit | adjustment | claim (the ledger entry's kind)
    owner: Any
    owner_id: str
    recorded_in: str
    hold: str
    order: OrderModel
    amount: int
    currency: str
    customer_key: str
    store_credit: bool
    record: dict               # what the payment record says besides the payment (amount, method, ...)
    metadata: dict
    inspected_by: str | None = None
    approved_by: str | None = None
    bonus: int = 0
    # Raises when the owner may no longer be paid (it moved on meanwhile); checked under the lease.
    still_payable: Callable[[Any], None] = field(default=lambda owner: None)


def recorded(payment: Payment) -> dict:
    return getattr(payment.owner, payment.recorded_in) or {}


def pay(payment: Payment) -> bool:
    """Pay the movement once; True when this call wrote its ledger entry, False when it was there
    before. Safe to run again at any point, concurrently included: the loser of the lease raises
    PaymentInProgress."""
    if recorded(payment).get("ledger_seq") is not None:
        return False
    if payment.store_credit:
        # No provider: the credit is raised in the ledger's own transaction, which lands once.
        try:
            credit = CreditModel.get(payment.customer_key, payment.currency, consistent_read=True)
        except CreditModel.DoesNotExist:
            credit = CreditModel(payment.customer_key, payment.currency, balance=0, updated_at=clock.iso())
        return _append(payment, f"credit:{payment.key}", "store_credit", credit)
    owner = _take_lease(payment)
    if owner is None:
        return False
    try:
        from ..outbound.payments import RefundRequest, get_provider  # deferred: providers load at first use

        provider = get_provider(payment.order.payment["provider"])
        result = provider.refund(RefundRequest(
            idempotency_key=payment.key, payment_reference=payment.order.payment["reference"],
            amount=payment.amount, currency=payment.currency, metadata=payment.metadata))
        return _append(payment, result.reference, provider.name, None)
    except BaseException:
        _release_lease(payment, owner)   # the next attempt asks the provider what it already did
        raise


def record_paid(payment: Payment, reference: str, provider: str) -> bool:
    """A movement paid outside any provider we call (finance paid offline and recorded the reference):
    only its ledger entry is written, once."""
    return _append(payment, reference, provider, None)


def _append(payment: Payment, reference: str, provider: str, credit: CreditModel | None) -> bool:
    movement = ledger.Movement(
        entry_id=payment.key, kind=payment.kind, return_id=payment.owner_id, order_id=payment.order.order_id,
        amount=payment.amount, currency=payment.currency, method=provider, reference=reference,
        inspected_by=payment.inspected_by, approved_by=payment.approved_by, bonus=payment.bonus)
    try:
        ledger.append(movement, payment.owner, payment.order,
                      {**payment.record, "status": "succeeded", "provider": provider}, ledger_key(),
                      credit=credit, recorded_in=payment.recorded_in, hold=payment.hold)
        appended = True
    except ledger.AlreadyRecorded:
        appended = False
    payment.owner.refresh(consistent_read=True)
    return appended


def _take_lease(payment: Payment) -> str | None:
    """Only one invocation talks to the provider for a movement at a time (two racing ones would both
    find nothing at the provider and both pay). None: the ledger already has it."""
    attr = getattr(type(payment.owner), payment.recorded_in)

    def decide(owner: Any) -> writes.Update | None:
        payment.still_payable(owner)
        record = getattr(owner, payment.recorded_in) or {}
        if record.get("ledger_seq") is not None:
            return None
        now = clock.now()
        if record.get("status") == PAYING and record.get("lease_until", "") > clock.iso(now):
            raise PaymentInProgress(payment.key)
        token = uuid.uuid4().hex
        lease = {**record, **payment.record, "status": PAYING, "reference": None, "issued_at": None,
                 "lease_owner": token, "lease_until": clock.iso(now + timedelta(seconds=LEASE_SECONDS))}
        lease.pop("failure", None)
        # The version condition (VersionAttribute) makes this a compare-and-set on what was read.
        return writes.Update([attr.set(lease)], memo=token)

    written = writes.update(payment.owner, decide, busy=lambda: PaymentInProgress(payment.key))
    return written.memo if written else None


def _release_lease(payment: Payment, token: str) -> None:
    """The provider call failed here: let the next attempt in at once (best effort; the lease runs out anyway)."""
    attr = getattr(type(payment.owner), payment.recorded_in)
    try:
        payment.owner.update(actions=[attr["lease_until"].set("")], condition=attr["lease_owner"] == token)
    except Exception:  # noqa: BLE001 - the original error matters more; the lease runs out
        pass
