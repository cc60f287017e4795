"""Customer service resolves a dispute: upheld (maybe with an adjustment refund) or rejected.

The API decides and reserves through the one pay path (usecases/movements.py): the adjustment's
amount is held on the order under a key of this request (checked against what is left of the
capture, with the other refunds, claims and holds, in one versioned write) and the return moves
`disputed` -> `resolved` with the resolution, which resumes the workflow's wait. Agents racing on
one dispute: one resolution is written; the others give their hold back and are answered 409 (or
the winner's resolution when they decided the same). The workflow's Settle step then pays it (only
Settle may write the ledger): once, under a key fixed for the adjustment, as an `adjustment` entry.
"""
from __future__ import annotations

from ..rules import clock, statuses
from ..rules.errors import ConflictError, InvalidTransition, UnprocessableError
from ..rules.settlement import movement_key
from ..rules.shapes import DisputeResolution
from ..store import ledger, returns
from ..store.models import OrderModel, ReturnModel
from . import lifecycle, movements, orders

DECISIONS = ("uphold", "reject")
METHODS = ("refund", "store_credit")
PENDING, SUCCEEDED, NONE = "pending", "succeeded", "none"


def hold_key(return_id: str) -> str:
    """The adjustment's refund hold on the order (a return's own refund holds under its id); each
    resolve request holds under this key and a token of its own (movements.request_hold_key)."""
    return f"{return_id}:adjustment"


class AlreadyResolved(ConflictError):
    def __init__(self, decided: DisputeResolution):
        super().__init__("this dispute was resolved otherwise by someone else", code="already_resolved",
                         details={"decision": decided.get("decision"), "refund_amount": decided.get("refund_amount"),
                                  "method": decided.get("method")})


def _same(decided: DisputeResolution, decision: str, amount: int, method: str) -> bool:
    return (decided.get("decision"), int(decided.get("refund_amount") or 0), decided.get("method")) == \
        (decision, amount, method)


def resolve(return_id: str, decision: str, note: str, refund_amount: int | None, method: str | None,
            actor: str) -> ReturnModel:
    """One agent's resolution wins; a racing one that decided the same is answered with it, any other is
    a 409 `already_resolved`, and its hold is given back before it answers (movements.decide)."""
    ret = returns.get(return_id)
    amount = int(refund_amount or 0)
    method = method or "refund"
    if ret.status != statuses.DISPUTED:
        decided = ret.dispute_resolution or {}
        if ret.status == statuses.RESOLVED and _same(decided, decision, amount, method):
            return ret   # the same resolution, decided by someone else first (or this one, resent)
        raise InvalidTransition(ret.status, statuses.RESOLVED)
    if decision != "uphold" and amount:
        raise UnprocessableError("only an upheld dispute refunds", field="refund_amount", code="invalid_value")
    order = orders.get(ret.order_id)
    if amount and method == "refund" and order.payment["provider"] == "manual":
        # A manual order's refunds wait for finance's offline reference; an adjustment has no such wait.
        raise UnprocessableError("this order was paid offline: pay the adjustment as store_credit",
                                 field="method", code="invalid_value")
    now = clock.iso()
    held = movements.request_hold_key(hold_key(return_id))
    resolution = {"decision": decision, "note": note, "by": actor, "at": now, "refund_amount": amount,
                  "method": method, "status": PENDING if amount else NONE, **({"hold": held} if amount else {})}

    def write_decision() -> bool:
        return lifecycle.transition(ret, statuses.RESOLVED, actor=actor, event="dispute.resolved",
                                    detail={"decision": decision, "note": note, "refund_amount": amount,
                                            "method": method},
                                    allowed_from={statuses.DISPUTED},
                                    updates=[ReturnModel.dispute_resolution.set(resolution)]).changed

    def lost() -> ReturnModel:
        ret.refresh(consistent_read=True)
        decided = ret.dispute_resolution or {}
        if _same(decided, decision, amount, method):
            return ret
        raise AlreadyResolved(decided)

    try:
        answer = movements.decide(order, held, amount, write_decision, lost)
    except ledger.OverRefund as exc:
        raise UnprocessableError(str(exc), field="refund_amount", code="over_refund") from None
    return answer if answer is not None else ret


def adjustment_payment(ret: ReturnModel, order: OrderModel, resolution: DisputeResolution) -> movements.Payment:
    amount = int(resolution.get("refund_amount") or 0)
    return movements.Payment(
        key=movement_key(ret.return_id, "adjustment"), kind="adjustment", owner=ret, owner_id=ret.return_id,
        recorded_in="dispute_resolution", hold=resolution.get("hold") or hold_key(ret.return_id), order=order,
        amount=amount, currency=ret.currency, customer_key=ret.customer_key,
        store_credit=resolution.get("method") == "store_credit", record={"amount": amount},
        metadata={"return_id": ret.return_id, "order_id": ret.order_id, "kind": "adjustment"},
        approved_by=resolution.get("by"))


def pay_adjustment(return_id: str) -> dict:
    """The Settle step after a resolution: pay the adjustment once; safe to run again."""
    ret = returns.get(return_id)
    resolution = ret.dispute_resolution or {}
    amount = int(resolution.get("refund_amount") or 0)
    if amount <= 0 or resolution.get("ledger_seq") is not None:
        return {"status": ret.status, "adjustment": resolution.get("status") or NONE}
    if movements.pay(adjustment_payment(ret, orders.get(ret.order_id), resolution)):
        returns.append_timeline(ret, actor="system", event="dispute.adjustment_paid",
                                detail={"amount": amount, "method": resolution.get("method")})
    ret.refresh(consistent_read=True)
    return {"status": ret.status, "adjustment": SUCCEEDED}
