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

import uuid
from datetime import timedelta

from ..rules import clock, policy, statuses, timeline
from ..rules import withdrawal as statutory
from ..rules.errors import ConflictError, ForbiddenError, InvalidTransition, UnprocessableError
from ..rules.settlement import METHODS, PAYING, PENDING_MANUAL, awaiting_manual, capture_part, idempotency_key
from ..store import ledger, returns, writes
from ..store.models import CreditModel, OrderModel, ReturnModel, plain
from . import lifecycle, orders
from .ledger_audit import ledger_key


def settle_outcome(return_id: str) -> dict:
    """What the Settle step hands the state machine: the status, and whether a manual refund waits."""
    status = settle(return_id)
    return {"status": status,
            "manual": status == statuses.REFUNDING and awaiting_manual(plain(returns.get(return_id).refund))}


# Longer than the Settle function's timeout: a lease outlives only an invocation that is dead.
LEASE_SECONDS = 90


class SettleInProgress(ConflictError):
    """Another Settle invocation is paying this refund right now; retry later with the same key."""

    def __init__(self, return_id: str):
        super().__init__(f"the refund of {return_id} is being paid by another invocation", code="settle_in_progress")


class OrderBusy(ConflictError):
    """Other refunds of the order kept changing it while this one tried to hold its amount."""

    def __init__(self, order_id: str):
        super().__init__(f"order {order_id} is busy with other refunds; retry the refund", code="order_busy")


# Lost races, not refusals: the Settle step raises them as transient so the workflow runs it again
# (the provider is asked first what it already paid, so a retry never pays twice), never refund_failed.
RETRYABLE = (SettleInProgress, OrderBusy, ledger.LedgerBusy)


def settle(return_id: str) -> str:
    """Advance settlement as far as it can go; returns the return's status."""
    ret = returns.get(return_id)
    items = plain(ret.items)
    # A returnless return (every item kept) is settled from `requested`, at its request's quote: no parcel
    # comes, so nothing is graded. Its review, when the rules asked for one, came first.
    keep = ret.status == statuses.REQUESTED and policy.keeps_items(items)
    if ret.status in (statuses.INSPECTED, statuses.LOST) or keep:
        # One decision for all: a lost parcel brings the same input as an inspection (`_graded_as_lost`).
        quote, graded = _graded_as_lost(ret) if ret.status == statuses.LOST else (plain(ret.quote), [])
        amount = int(quote["refund_amount"])
        # The approval threshold of the policy version the return was judged by (its items' terms).
        wanted = statuses.AWAITING_APPROVAL if policy.needs_approval(amount, policy.return_terms(items)) \
            else statuses.REFUNDING
        lifecycle.transition(ret, wanted, actor="system", event=f"refund.{wanted}", detail={"amount": amount},
                             allowed_from={statuses.INSPECTED, statuses.LOST, statuses.REQUESTED}, updates=graded)
    if ret.status == statuses.REFUNDING:
        pay(ret)
    return ret.status


def _graded_as_lost(ret: ReturnModel) -> tuple[dict, list]:
    """A lost parcel's settlement input: the inspection it would have had if the carrier had lost every
    item (policy.lost_in_transit), and its final quote, written with the move out of `lost`. So the
    approval threshold, an exchange's replacement and what was paid for each line hold for it as for a
    parcel that arrived, never the quote asked for (an exchange's is 0)."""
    items = plain(ret.items)
    final = policy.quote_inspected(items, policy.lost_in_transit(items), orders.prices(orders.get(ret.order_id)),
                                   ret.currency, ret.resolution)
    # `by` is nobody who could approve: four eyes hold (no finance person graded it).
    inspection = {"by": "system", "at": clock.iso(), "items": policy.inspection_items(final), "lost": True}
    quote = statutory.final_quote(final.to_api(), plain(ret.withdrawal))
    return quote, [ReturnModel.inspection.set(inspection), ReturnModel.quote.set(quote)]


def _hold(order: OrderModel, return_id: str, amount: int) -> None:
    """Reserve the amount before paying, so concurrent refunds of one order cannot exceed the capture."""
    def decide(order: OrderModel) -> writes.Update | None:
        holds = plain(order.refund_holds or {})
        if return_id in holds:
            return None
        others = sum(int(v) for v in holds.values())
        if int(order.refunded_total or 0) + others + amount > int(order.payment["captured_amount"]):
            raise ledger.OverRefund(f"refund of {amount} would exceed what order {order.order_id} captured")
        return writes.Update([OrderModel.refund_holds[return_id].set(amount)])

    writes.update(order, decide, busy=lambda: OrderBusy(order.order_id))


# Other movements (a dispute's adjustment, a claim's refund) reserve their amount the same way, under
# their own hold key, before anything is paid.
hold = _hold


def pay(ret: ReturnModel) -> None:
    recorded = plain(ret.refund) or {}
    if recorded.get("ledger_seq") is None:
        order = orders.get(ret.order_id)
        quote = plain(ret.quote)
        amount = int(quote["refund_amount"])
        method = METHODS[ret.resolution]
        from_capture = capture_part(quote, method)   # the store credit bonus is not held against the capture
        inspected_by = (plain(ret.inspection) or {}).get("by")
        approved_by = (plain(ret.approval) or {}).get("by")
        if amount > 0:
            _hold(order, ret.return_id, from_capture)
            extra: dict = {}
            if method != "store_credit" and order.payment["provider"] == "manual":
                manual_reference = recorded.get("manual_reference")
                if not manual_reference:
                    _await_manual(ret, amount, method)
                    return
                extra = {k: recorded.get(k) for k in ("recorded_by", "recorded_at", "manual_reference")}
                _record(ret, order, amount, method, manual_reference, "manual", None, extra, inspected_by, approved_by)
            elif method == "store_credit":
                reference, provider, credit = _move_money(ret, order, amount, method)
                _record(ret, order, amount, method, reference, provider, credit, extra, inspected_by, approved_by,
                        bonus=amount - from_capture)
            else:
                owner = _take_lease(ret, amount, method)
                if owner is None:
                    ret.refresh(consistent_read=True)
                    return pay(ret)   # another invocation finished it meanwhile
                try:
                    reference, provider, credit = _move_money(ret, order, amount, method)
                    _record(ret, order, amount, method, reference, provider, credit, extra, inspected_by, approved_by)
                except BaseException:
                    _release_lease(ret, owner)   # the next attempt asks the provider what it already did
                    raise
        else:
            # Nothing to pay: no ledger entry; a racing Settle may have written the same thing.
            writes.update_once(ret, [ReturnModel.refund.set({"amount": 0, "method": method, "status": "none",
                                                             "reference": None, "issued_at": clock.iso(),
                                                             "ledger_seq": 0})],
                               ReturnModel.refund["ledger_seq"].does_not_exist())
        ret.refresh(consistent_read=True)
    lifecycle.transition(ret, statuses.REFUNDED, actor="system", event="refund.issued",
                         detail={"amount": int(plain(ret.refund)["amount"])}, allowed_from={statuses.REFUNDING})


def _record(ret: ReturnModel, order: OrderModel, amount: int, method: str, reference: str, provider: str,
            credit: CreditModel | None, extra: dict, inspected_by: str | None, approved_by: str | None,
            bonus: int = 0) -> None:
    movement = ledger.Movement(
        entry_id=idempotency_key(ret.return_id), kind="store_credit" if method == "store_credit" else "refund",
        return_id=ret.return_id, order_id=ret.order_id, amount=amount, currency=ret.currency,
        method=provider, reference=reference, inspected_by=inspected_by, approved_by=approved_by, bonus=bonus)
    try:
        ledger.append(movement, ret, order, {"amount": amount, "method": method, "status": "succeeded",
                                             "provider": provider, "bonus": bonus, **extra}, ledger_key(),
                      credit=credit)
    except ledger.AlreadyRecorded:
        pass


def _take_lease(ret: ReturnModel, amount: int, method: str) -> str | None:
    """Only one invocation talks to the provider for a refund at a time (two racing Settle calls
    would both find nothing at the provider and both pay). None: the ledger already has it."""
    def decide(ret: ReturnModel) -> writes.Update | None:
        if ret.status != statuses.REFUNDING:   # pay() read it refunding: only a racer can have moved it
            raise InvalidTransition(ret.status, statuses.REFUNDED)
        refund = plain(ret.refund) or {}
        if refund.get("ledger_seq") is not None:
            return None
        now = clock.now()
        if refund.get("status") == PAYING and refund.get("lease_until", "") > clock.iso(now):
            raise SettleInProgress(ret.return_id)
        owner = uuid.uuid4().hex
        lease = {"amount": amount, "method": method, "status": PAYING, "reference": None, "issued_at": None,
                 "lease_owner": owner, "lease_until": clock.iso(now + timedelta(seconds=LEASE_SECONDS))}
        # The version condition (VersionAttribute) makes this a compare-and-set on what was read.
        return writes.Update([ReturnModel.refund.set(lease)], condition=ReturnModel.status == statuses.REFUNDING,
                             memo=owner)

    written = writes.update(ret, decide, busy=lambda: SettleInProgress(ret.return_id))
    return written.memo if written else None


def _release_lease(ret: ReturnModel, owner: str) -> None:
    """The provider call failed here: let the next attempt in at once (best effort; the lease expires anyway)."""
    try:
        ret.update(actions=[ReturnModel.refund["lease_until"].set("")],
                   condition=ReturnModel.refund["lease_owner"] == owner)
    except Exception:  # noqa: BLE001 - the original error matters more; the lease expires
        pass


def _await_manual(ret: ReturnModel, amount: int, method: str) -> None:
    """Record that finance has to pay offline; safe to repeat, never overwrites a recorded reference."""
    if (plain(ret.refund) or {}).get("status") == PENDING_MANUAL:
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
        refund = plain(ret.refund) or {}
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


def _move_money(ret: ReturnModel, order: OrderModel, amount: int, method: str) -> tuple[str, str, CreditModel | None]:
    """(reference, provider name, credit balance to raise in the ledger transaction)."""
    if method == "store_credit":
        try:
            credit = CreditModel.get(ret.customer_key, ret.currency, consistent_read=True)
        except CreditModel.DoesNotExist:
            credit = CreditModel(ret.customer_key, ret.currency, balance=0, updated_at=clock.iso())
        return f"credit:{idempotency_key(ret.return_id)}", "store_credit", credit
    from ..outbound.payments import RefundRequest, get_provider  # deferred: the providers' modules load at the first refund

    provider = get_provider(order.payment["provider"])
    result = provider.refund(RefundRequest(
        idempotency_key=idempotency_key(ret.return_id), payment_reference=order.payment["reference"],
        amount=amount, currency=ret.currency, metadata={"return_id": ret.return_id, "order_id": ret.order_id}))
    return result.reference, provider.name, None


def mark_failed(return_id: str, error: str) -> str:
    ret = returns.get(return_id)
    if ret.status == statuses.REFUNDING:
        lifecycle.transition(ret, statuses.REFUND_FAILED, actor="system", event="refund.failed",
                             detail={"error": error[:300]}, allowed_from={statuses.REFUNDING})
    return ret.status


def approve(return_id: str, note: str | None, actor: str) -> ReturnModel:
    """Finance approves a refund above the threshold; never the return's own inspector (four eyes)."""
    ret = returns.get(return_id)
    if not policy.may_approve(actor, (plain(ret.inspection) or {}).get("by")):
        raise ForbiddenError("the inspector of a return cannot approve its refund", code="four_eyes")
    lifecycle.transition(ret, statuses.REFUNDING, actor=actor, event="refund.approved",
                         detail={"note": note} if note else None, allowed_from={statuses.AWAITING_APPROVAL},
                         updates=[ReturnModel.approval.set({"by": actor, "at": clock.iso(), "note": note})])
    return ret


def retry(return_id: str, note: str | None, actor: str) -> ReturnModel:
    """Ops asks for a failed refund to be paid again (the same idempotency key)."""
    ret = returns.get(return_id)
    lifecycle.transition(ret, statuses.REFUNDING, actor=actor, event="refund.retry_requested",
                         detail={"note": note} if note else None, allowed_from={statuses.REFUND_FAILED})
    return ret
