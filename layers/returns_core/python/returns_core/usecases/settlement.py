"""Settling an inspected (or lost) return: approval rule, then the money, exactly once.

The saga, each step safe to repeat:
1. hold the amount on the order (checked against what was captured, versioned write);
2. ask the provider to refund with a key fixed for this refund — the provider is first
   asked whether it already did (a crash after paying is recovered, never paid twice);
3. write the ledger entry, the order's total and the return's refund in one transaction;
4. move the return to `refunded`.

Manual refunds (the order was paid offline) stop after step 1: the return stays
`refunding` with refund.status `pending_manual` and the workflow waits for finance to
record the offline reference (`record_manual_reference`, from the API). The ledger entry
is still written here, by the Settle step, which alone may write the ledger.
"""
from __future__ import annotations

from ..rules import clock, policy, statuses, timeline, withdrawal as statutory
from ..rules.errors import ConflictError, ForbiddenError, InvalidTransition, UnprocessableError
from ..rules.settlement import FAILED, METHODS, PENDING_MANUAL, awaiting_manual, capture_part, idempotency_key
from ..store import ledger, returns, writes
from ..store.models import OrderModel, ReturnModel
from . import lifecycle, movements, orders


def settle_outcome(return_id: str) -> dict:
    """What the Settle step hands the state machine: the status, and whether a manual refund waits.
    Read from the return as settling left it (every write of it returns what it wrote), not read again."""
    ret = _settle(returns.get(return_id))
    return {"status": ret.status,
            "manual": ret.status == statuses.REFUNDING and awaiting_manual(ret.refund)}


# A lost race for the provider or the order is not a refusal: the Settle step raises them as transient
# (PaymentInProgress by its own name, retried past the lease) so the workflow runs it again, never
# refund_failed for a lost race (the provider is asked first what it already paid: a retry never pays twice).
SettleInProgress = movements.PaymentInProgress
OrderBusy = movements.OrderBusy
RETRYABLE = (movements.PaymentInProgress, movements.OrderBusy, ledger.LedgerBusy)


def settle(return_id: str) -> str:
    """Advance settlement as far as it can go; returns the return's status."""
    return _settle(returns.get(return_id)).status


def _settle(ret: ReturnModel) -> ReturnModel:
    items = ret.items
    order = orders.OrderOnce(ret.order_id)   # read by the first step that needs it (a paid refund's replay: none)
    # A returnless return (every item kept) is settled from `requested`, at its request's quote: no parcel
    # comes, so nothing is graded. Its review, when the rules asked for one, came first.
    keep = ret.status == statuses.REQUESTED and policy.keeps_items(items)
    if ret.status in (statuses.INSPECTED, statuses.LOST) or keep:
        # One decision for all: a lost parcel brings the same input as an inspection (`_graded_as_lost`).
        quote, graded = _graded_as_lost(ret, order()) if ret.status == statuses.LOST else (ret.quote, [])
        amount = int(quote["refund_amount"])
        # The approval threshold of the policy version the return was judged by (its items' terms).
        wanted = statuses.AWAITING_APPROVAL if policy.needs_approval(amount, policy.return_terms(items)) \
            else statuses.REFUNDING
        lifecycle.transition(ret, wanted, actor="system", event=f"refund.{wanted}", detail={"amount": amount},
                             allowed_from={statuses.INSPECTED, statuses.LOST, statuses.REQUESTED}, updates=graded,
                             order=order)
    if ret.status == statuses.REFUNDING:
        pay(ret, order)
    return ret


def _graded_as_lost(ret: ReturnModel, order: OrderModel) -> tuple[dict, list]:
    """A lost parcel's settlement input: the inspection it would have had if the carrier had lost every
    item (policy.lost_in_transit), and its final quote, written with the move out of `lost`. So the
    approval threshold, an exchange's replacement and what was paid for each line hold for it as for a
    parcel that arrived, never the quote asked for (an exchange's is 0)."""
    items = ret.items
    final = policy.quote_inspected(items, policy.lost_in_transit(items), orders.prices(order),
                                   ret.currency, ret.resolution)
    # `by` is nobody who could approve: four eyes hold (no finance person graded it).
    inspection = {"by": "system", "at": clock.iso(), "items": policy.inspection_items(final), "lost": True}
    quote = statutory.final_quote(final.to_api(), ret.withdrawal)
    return quote, [ReturnModel.inspection.set(inspection), ReturnModel.quote.set(quote)]


# A return's own refund holds its amount on the order under the return's id (one refund per return,
# decided by the workflow, never raced by people); other movements hold under a key per request.
hold = movements.hold


def _still_refunding(ret: ReturnModel) -> None:
    if ret.status != statuses.REFUNDING:   # pay() read it refunding: only a racer can have moved it
        raise InvalidTransition(ret.status, statuses.REFUNDED)


def _refund_payment(ret: ReturnModel, order: OrderModel, amount: int, method: str,
                    from_capture: int) -> movements.Payment:
    return movements.Payment(
        key=idempotency_key(ret.return_id), kind="store_credit" if method == "store_credit" else "refund",
        owner=ret, owner_id=ret.return_id, recorded_in="refund", hold=ret.return_id, order=order, amount=amount,
        currency=ret.currency, customer_key=ret.customer_key, store_credit=method == "store_credit",
        record={"amount": amount, "method": method, "bonus": amount - from_capture},
        metadata={"return_id": ret.return_id, "order_id": ret.order_id},
        inspected_by=(ret.inspection or {}).get("by"), approved_by=(ret.approval or {}).get("by"),
        bonus=amount - from_capture, still_payable=_still_refunding)


def pay(ret: ReturnModel, order_once: orders.OrderOnce | None = None) -> None:
    """Pay the return's refund, then move it to `refunded`. `order_once`: its order as settling reads it."""
    order_once = order_once or orders.OrderOnce(ret.order_id)
    recorded = ret.refund or {}
    if recorded.get("ledger_seq") is None:
        order = order_once()
        quote = ret.quote
        amount = int(quote["refund_amount"])
        method = METHODS[ret.resolution]
        from_capture = capture_part(quote, method)   # the store credit bonus is not held against the capture
        if amount > 0:
            hold(order, ret.return_id, from_capture)
            payment = _refund_payment(ret, order, amount, method, from_capture)
            if method != "store_credit" and order.payment["provider"] == "manual":
                manual_reference = recorded.get("manual_reference")
                if not manual_reference:
                    _await_manual(ret, amount, method)
                    return
                payment.record.update({k: recorded.get(k) for k in ("recorded_by", "recorded_at", "manual_reference")})
                movements.record_paid(payment, manual_reference, "manual")
            else:
                movements.pay(payment)
            # Either way `ret` is left as last written (movements read it again after the ledger's write).
        elif not writes.update_once(ret, [ReturnModel.refund.set({"amount": 0, "method": method, "status": "none",
                                                                  "reference": None, "issued_at": clock.iso(),
                                                                  "ledger_seq": 0})],
                                    ReturnModel.refund["ledger_seq"].does_not_exist()):
            # Nothing to pay, no ledger entry: a racing Settle wrote the same record first; read it.
            ret.refresh(consistent_read=True)
    lifecycle.transition(ret, statuses.REFUNDED, actor="system", event="refund.issued",
                         detail={"amount": int(ret.refund["amount"])}, allowed_from={statuses.REFUNDING},
                         order=order_once)


def _await_manual(ret: ReturnModel, amount: int, method: str) -> None:
    """Record that finance has to pay offline; safe to repeat, never overwrites a recorded reference."""
    if (ret.refund or {}).get("status") == PENDING_MANUAL:
        return
    if not writes.update_once(ret, [ReturnModel.refund.set({"amount": amount, "method": method,
                                                            "status": PENDING_MANUAL, "provider": "manual",
                                                            "reference": None, "issued_at": None})],
                              (ReturnModel.status == statuses.REFUNDING) & ReturnModel.refund.does_not_exist()):
        ret.refresh(consistent_read=True)   # a racing Settle recorded it first
        return
    returns.append_timeline(ret, actor="system", event="refund.awaiting_manual",
                            detail={"amount": amount, "note": "finance pays offline and records the reference"})


class NotAwaitingManualRefund(ConflictError):
    def __init__(self, status: str):
        super().__init__("this return is not waiting for a manual refund reference", code="not_awaiting_manual_refund",
                         details={"status": status})


def record_manual_reference(return_id: str, reference: str, actor: str) -> ReturnModel:
    """Finance paid offline: keep the reference on the return and resume the workflow's wait.

    The ledger entry is written by the Settle step that the workflow runs next (only Settle
    may write the ledger). A repeat with the same reference is a no-op; another reference is 409.
    """
    from ..outbound.payments import InvalidManualReference, RefundRequest, record_manual_refund

    def decide(ret: ReturnModel) -> writes.Update | None:
        refund = ret.refund or {}
        if ret.status not in (statuses.REFUNDING, statuses.REFUNDED) or refund.get("provider") != "manual":
            raise NotAwaitingManualRefund(ret.status)
        if refund.get("manual_reference"):
            if refund["manual_reference"] == (reference or "").strip():
                return None
            raise NotAwaitingManualRefund(ret.status)
        try:
            result = record_manual_refund(RefundRequest(
                idempotency_key=idempotency_key(ret.return_id), payment_reference="manual",
                amount=int(refund["amount"]), currency=ret.currency), reference)
        except InvalidManualReference as exc:
            raise UnprocessableError(str(exc), field="reference", code="invalid_value") from None
        now = clock.iso()
        token = ret.task_token if ret.waiting_for == "manual_refund" else None
        actions = [ReturnModel.refund["manual_reference"].set(result.reference),
                   ReturnModel.refund["recorded_by"].set(actor), ReturnModel.refund["recorded_at"].set(now)]
        if token:
            actions += [ReturnModel.task_token.remove(), ReturnModel.waiting_for.remove()]
        return writes.Update(actions, condition=(ReturnModel.status == statuses.REFUNDING)
                             & (ReturnModel.refund["status"] == PENDING_MANUAL)
                             & ReturnModel.refund["manual_reference"].does_not_exist(), memo=token,
                             timeline=[timeline.entry("refund.manual_recorded", actor,
                                                      {"reference": result.reference}, now)])

    ret = returns.get(return_id)
    written = writes.update(ret, decide, busy=lambda: ConflictError("the return is changing too fast; try again"))
    if written is not None and written.memo:
        lifecycle.resume(written.memo, ret)
    return ret


# The errors (their names, as the workflow's Catch hands them over) that say nothing about the refund
# itself: the provider or Lambda did not answer in time, another invocation held the lease. A refund
# that failed so is retried by the sweeper (usecases/refund_recovery.py); any other waits for ops.
TRANSIENT_ERRORS = frozenset({"TransientError", "PaymentInProgress", "States.Timeout", "States.TaskFailed",
                              "Lambda.Unknown", "Lambda.ServiceException", "Lambda.AWSLambdaException",
                              "Lambda.SdkClientException", "Lambda.TooManyRequestsException"})


def mark_failed(return_id: str, error: str) -> str:
    """The workflow's Catch after Settle: the return is `refund_failed` and its refund says `failed`, with
    the error's name and whether it was transient (never the lease of an invocation that is gone)."""
    ret = returns.get(return_id)
    if ret.status == statuses.REFUNDING:
        name = error.split(":", 1)[0].strip() or "unknown"
        refund = {k: v for k, v in (ret.refund or {}).items() if k not in ("lease_owner", "lease_until")}
        if refund.get("ledger_seq") is None:
            refund.update(status=FAILED, failure={"error": name[:100], "transient": name in TRANSIENT_ERRORS,
                                                  "at": clock.iso()})
        lifecycle.transition(ret, statuses.REFUND_FAILED, actor="system", event="refund.failed",
                             detail={"error": error[:300]}, allowed_from={statuses.REFUNDING},
                             updates=[ReturnModel.refund.set(refund)] if refund else None)
    return ret.status


def approve(return_id: str, note: str | None, actor: str) -> ReturnModel:
    """Finance approves a refund above the threshold; never the return's own inspector (four eyes)."""
    ret = returns.get(return_id)
    if not policy.may_approve(actor, (ret.inspection or {}).get("by")):
        raise ForbiddenError("the inspector of a return cannot approve its refund", code="four_eyes")
    moved = lifecycle.transition(ret, statuses.REFUNDING, actor=actor, event="refund.approved",
                                 detail={"note": note} if note else None, allowed_from={statuses.AWAITING_APPROVAL},
                                 updates=[ReturnModel.approval.set({"by": actor, "at": clock.iso(), "note": note})])
    if not moved.changed and (ret.approval or {}).get("by") != actor:
        # Two approvers at once: one approval is written, the other is told so (never a 200 for nothing).
        raise ConflictError("this refund was approved by someone else just now", code="already_approved",
                            details={"status": ret.status})
    return ret


def retry(return_id: str, note: str | None, actor: str) -> ReturnModel:
    """Ops asks for a failed refund to be paid again (the same idempotency key)."""
    ret = returns.get(return_id)
    moved = lifecycle.transition(ret, statuses.REFUNDING, actor=actor, event="refund.retry_requested",
                                 detail={"note": note} if note else None, allowed_from={statuses.REFUND_FAILED})
    if not moved.changed:
        # Already being paid again (a colleague's retry, or the sweeper's): this request changed nothing.
        raise ConflictError("this refund is already being paid again", code="already_retried",
                            details={"status": ret.status})
    return ret
