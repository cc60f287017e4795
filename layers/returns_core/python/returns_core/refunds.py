"""Settling an inspected (or lost) return: approval rule, then the money, exactly once.

The saga, each step safe to repeat:
1. hold the amount on the order (checked against what was captured, versioned write);
2. ask the provider to refund with a key fixed for this refund — the provider is first
   asked whether it already did (a crash after paying is recovered, never paid twice);
3. write the ledger entry, the order's total and the return's refund in one transaction;
4. move the return to `refunded`.
"""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from . import clock, ledger, lifecycle, orders, policy, statuses
from .errors import ConflictError
from .models import CreditModel, OrderModel, ReturnModel
from .views import plain

METHODS = {"refund": "original_payment", "store_credit": "store_credit", "exchange": "original_payment"}


def idempotency_key(return_id: str, n: int = 1) -> str:
    """Fixed per refund and kept across every retry, ops retries included."""
    return f"{return_id}:refund:{n}"


def settle(return_id: str) -> str:
    """Advance settlement as far as it can go; returns the return's status."""
    ret = lifecycle.get(return_id)
    if ret.status == statuses.INSPECTED:
        amount = int(plain(ret.quote)["refund_amount"])
        wanted = statuses.AWAITING_APPROVAL if policy.needs_approval(amount) else statuses.REFUNDING
        lifecycle.transition(ret, wanted, actor="system", event=f"refund.{wanted}", detail={"amount": amount},
                             allowed_from={statuses.INSPECTED})
    elif ret.status == statuses.LOST:
        lifecycle.transition(ret, statuses.REFUNDING, actor="system", event="refund.refunding",
                             detail="The parcel was lost: we refund the customer and claim from the carrier.",
                             allowed_from={statuses.LOST})
    if ret.status == statuses.REFUNDING:
        pay(ret)
    return ret.status


def _hold(order: OrderModel, return_id: str, amount: int) -> None:
    """Reserve the amount before paying, so concurrent refunds of one order cannot exceed the capture."""
    for _ in range(lifecycle.MAX_ATTEMPTS):
        holds = plain(order.refund_holds or {})
        if return_id in holds:
            return
        others = sum(int(v) for v in holds.values())
        if int(order.refunded_total or 0) + others + amount > int(order.payment["captured_amount"]):
            raise ledger.OverRefund(f"refund of {amount} would exceed what order {order.order_id} captured")
        try:
            order.update(actions=[OrderModel.refund_holds[return_id].set(amount)])
            return
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            order.refresh(consistent_read=True)
    raise ConflictError("the order is busy; retry the refund")


def pay(ret: ReturnModel) -> None:
    recorded = plain(ret.refund) or {}
    if recorded.get("ledger_seq") is None:
        order = orders.get(ret.order_id)
        amount = int(plain(ret.quote)["refund_amount"])
        method = METHODS[ret.resolution]
        inspected_by = (plain(ret.inspection) or {}).get("by")
        approved_by = (plain(ret.approval) or {}).get("by")
        if amount > 0:
            _hold(order, ret.return_id, amount)
            reference, provider, credit = _move_money(ret, order, amount, method)
            movement = ledger.Movement(
                entry_id=idempotency_key(ret.return_id), kind="store_credit" if method == "store_credit" else "refund",
                return_id=ret.return_id, order_id=ret.order_id, amount=amount, currency=ret.currency,
                method=provider, reference=reference, inspected_by=inspected_by, approved_by=approved_by)
            try:
                ledger.append(movement, ret, order, {"amount": amount, "method": method, "status": "succeeded",
                                                     "provider": provider}, credit=credit)
            except ledger.AlreadyRecorded:
                pass
        else:
            ret.update(actions=[ReturnModel.refund.set({"amount": 0, "method": method, "status": "none",
                                                        "reference": None, "issued_at": clock.iso(),
                                                        "ledger_seq": 0})])
        ret.refresh(consistent_read=True)
    lifecycle.transition(ret, statuses.REFUNDED, actor="system", event="refund.issued",
                         detail={"amount": int(plain(ret.refund)["amount"])}, allowed_from={statuses.REFUNDING})


def _move_money(ret: ReturnModel, order: OrderModel, amount: int, method: str) -> tuple[str, str, CreditModel | None]:
    """(reference, provider name, credit balance to raise in the ledger transaction)."""
    if method == "store_credit":
        try:
            credit = CreditModel.get(ret.customer_key, ret.currency, consistent_read=True)
        except CreditModel.DoesNotExist:
            credit = CreditModel(ret.customer_key, ret.currency, balance=0, updated_at=clock.iso())
        return f"credit:{idempotency_key(ret.return_id)}", "store_credit", credit
    from .payments import RefundRequest, get_provider  # deferred: providers import their SDKs

    provider = get_provider(order.payment["provider"])
    result = provider.refund(RefundRequest(
        idempotency_key=idempotency_key(ret.return_id), payment_reference=order.payment["reference"],
        amount=amount, currency=ret.currency, metadata={"return_id": ret.return_id, "order_id": ret.order_id}))
    return result.reference, provider.name, None


def mark_failed(return_id: str, error: str) -> str:
    ret = lifecycle.get(return_id)
    if ret.status == statuses.REFUNDING:
        lifecycle.transition(ret, statuses.REFUND_FAILED, actor="system", event="refund.failed",
                             detail={"error": error[:300]}, allowed_from={statuses.REFUNDING})
    return ret.status
