"""Customer service resolves a dispute: upheld (maybe with an adjustment refund) or rejected.

The API decides and reserves: the adjustment's amount is held on the order (checked against what
is left of the capture, with the other refunds, claims and holds, in one versioned write) and the
return moves `disputed` -> `resolved` with the resolution, which resumes the workflow's wait. The
workflow's Settle step then pays it (only Settle may write the ledger): once, under a key fixed
for the adjustment, as an `adjustment` entry of the same return.
"""
from __future__ import annotations

from ..rules import clock, statuses
from ..rules.errors import InvalidTransition, UnprocessableError
from ..rules.settlement import movement_key
from ..store import ledger, returns, writes
from ..store.models import CreditModel, OrderModel, ReturnModel, plain
from . import lifecycle, orders, settlement
from .ledger_audit import ledger_key

DECISIONS = ("uphold", "reject")
METHODS = ("refund", "store_credit")
PENDING, SUCCEEDED, NONE = "pending", "succeeded", "none"


def hold_key(return_id: str) -> str:
    """The adjustment's refund hold on the order (a return's own refund holds under its id)."""
    return f"{return_id}:adjustment"


def resolve(return_id: str, decision: str, note: str, refund_amount: int | None, method: str | None,
            actor: str) -> ReturnModel:
    ret = returns.get(return_id)
    if ret.status != statuses.DISPUTED:
        # Resolved already included: a replay is answered by its Idempotency-Key, another answer is a 409.
        raise InvalidTransition(ret.status, statuses.RESOLVED)
    amount = int(refund_amount or 0)
    if decision != "uphold" and amount:
        raise UnprocessableError("only an upheld dispute refunds", field="refund_amount", code="invalid_value")
    method = method or "refund"
    order = orders.get(ret.order_id)
    if amount and method == "refund" and order.payment["provider"] == "manual":
        # A manual order's refunds wait for finance's offline reference; an adjustment has no such wait.
        raise UnprocessableError("this order was paid offline: pay the adjustment as store_credit",
                                 field="method", code="invalid_value")
    now = clock.iso()
    resolution = {"decision": decision, "note": note, "by": actor, "at": now, "refund_amount": amount,
                  "method": method, "status": PENDING if amount else NONE}
    if amount:
        try:
            settlement.hold(order, hold_key(return_id), amount)
        except ledger.OverRefund as exc:
            raise UnprocessableError(str(exc), field="refund_amount", code="over_refund") from None
    try:
        lifecycle.transition(ret, statuses.RESOLVED, actor=actor, event="dispute.resolved",
                             detail={"decision": decision, "note": note, "refund_amount": amount, "method": method},
                             allowed_from={statuses.DISPUTED},
                             updates=[ReturnModel.dispute_resolution.set(resolution)])
    except BaseException:
        if amount:
            _release(order, return_id)   # nobody will pay this hold: another resolution won
        raise
    return ret


def _release(order: OrderModel, return_id: str) -> None:
    def decide(order: OrderModel) -> writes.Update | None:
        ret = returns.get(return_id)
        if (plain(ret.dispute_resolution) or {}).get("status") == PENDING:
            return None   # the return holds a pending adjustment: this hold is its
        if hold_key(return_id) not in (plain(order.refund_holds) or {}):
            return None
        return writes.Update([OrderModel.refund_holds[hold_key(return_id)].remove()])

    order.refresh(consistent_read=True)
    writes.update(order, decide, busy=lambda: RuntimeError("could not release the adjustment's hold"))


def pay_adjustment(return_id: str) -> dict:
    """The Settle step after a resolution: pay the adjustment once; safe to run again."""
    ret = returns.get(return_id)
    resolution = plain(ret.dispute_resolution) or {}
    amount = int(resolution.get("refund_amount") or 0)
    if amount <= 0 or resolution.get("ledger_seq") is not None:
        return {"status": ret.status, "adjustment": resolution.get("status") or NONE}
    order = orders.get(ret.order_id)
    key = movement_key(ret.return_id, "adjustment")
    credit = None
    if resolution.get("method") == "store_credit":
        try:
            credit = CreditModel.get(ret.customer_key, ret.currency, consistent_read=True)
        except CreditModel.DoesNotExist:
            credit = CreditModel(ret.customer_key, ret.currency, balance=0, updated_at=clock.iso())
        reference, provider = f"credit:{key}", "store_credit"
    else:
        from ..outbound.payments import RefundRequest, get_provider  # deferred: providers load at first use

        chosen = get_provider(order.payment["provider"])
        result = chosen.refund(RefundRequest(
            idempotency_key=key, payment_reference=order.payment["reference"], amount=amount,
            currency=ret.currency, metadata={"return_id": ret.return_id, "order_id": ret.order_id,
                                             "kind": "adjustment"}))
        reference, provider = result.reference, chosen.name
    movement = ledger.Movement(entry_id=key, kind="adjustment", return_id=ret.return_id, order_id=ret.order_id,
                               amount=amount, currency=ret.currency, method=provider, reference=reference,
                               inspected_by=None, approved_by=resolution.get("by"))
    try:
        ledger.append(movement, ret, order, {"amount": amount, "status": SUCCEEDED, "provider": provider},
                      ledger_key(), credit=credit, recorded_in="dispute_resolution", hold=hold_key(ret.return_id))
        returns.append_timeline(ret, actor="system", event="dispute.adjustment_paid",
                                detail={"amount": amount, "method": resolution.get("method")})
    except ledger.AlreadyRecorded:
        pass
    ret.refresh(consistent_read=True)
    return {"status": ret.status, "adjustment": SUCCEEDED}
