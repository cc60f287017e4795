"""Refunds paid before the inspection (rules/refund_timing.py): the move that starts them, at the carrier's
first scan or the warehouse's receipt, and the parcel's receipt and grading that come after.

The return's status follows its money (`refunding`, `refunded`, ...); its parcel's receipt is kept beside
it (`parcel_received_at`, the `parcel.received` entry) and its grading in `inspection`, which never changes
what was paid: an inspection worth less than the refund alerts ops (`inspection_below_refund`) with the
difference, and nothing is taken back automatically.
"""
from __future__ import annotations

from ..outbound import events
from ..rules import clock, parcels, policy, refund_timing, timeline
from ..rules.errors import ConflictError
from ..store import writes
from ..store.models import ReturnModel
from . import orders


def start(ret: ReturnModel, trigger: str, actor: str) -> tuple[list, list[dict]]:
    """What the move to `refunding` writes besides the status: when and why it was paid early, and the
    timeline entry that tells it. `trigger`: first_scan or receipt."""
    now = clock.iso()
    amount = int((ret.quote or {}).get("refund_amount") or 0)
    return ([ReturnModel.refund_timing["paid_early_at"].set(now),
             ReturnModel.refund_timing["paid_early_by"].set(trigger)],
            [timeline.entry(refund_timing.PAID_EARLY_EVENT, actor, {"on": trigger, "amount": amount}, now)])


def receive(ret: ReturnModel, code: str, actor: str) -> tuple[ReturnModel, bool]:
    """The parcel of a return refunded before it arrived is scanned: its receipt is recorded once, the status
    stays; (return, already_received)."""
    def decide(ret: ReturnModel) -> writes.Update | None:
        if ret.parcel_received_at:
            return None
        now = clock.iso()
        return writes.Update([ReturnModel.parcel_received_at.set(now)],
                             condition=ReturnModel.parcel_received_at.does_not_exist(),
                             timeline=[timeline.entry(parcels.RECEIVED_EVENT, actor,
                                                      {"code": code.strip()[:100]}, now)])

    written = writes.update(ret, decide, busy=lambda: ConflictError("the return is changing too fast; try again"))
    return ret, written is None


def inspect(ret: ReturnModel, lines: list[dict], actor: str) -> ReturnModel:
    """Grade a parcel whose refund was paid before it arrived: the grading is kept, the quote and the refund
    stay as paid; less than was paid is told to ops with the difference."""
    if not ret.parcel_received_at:
        raise ConflictError("this parcel has not been scanned in yet; scan it before grading it", code="not_received")
    announced = {i["sku"]: i for i in ret.items}
    final = policy.quote_inspected(list(announced.values()), lines, orders.prices(orders.get(ret.order_id)),
                                   ret.currency, ret.resolution)
    paid = int((ret.quote or {}).get("refund_amount") or 0)
    short = refund_timing.below_refund(paid, final.refund_amount)

    def decide(ret: ReturnModel) -> writes.Update | None:
        if ret.inspection is not None:
            raise ConflictError(f"this return was already inspected by {ret.inspection.get('by')}",
                                code="already_inspected")
        now = clock.iso()
        graded = policy.inspection_items(final, [line.get("note") for line in lines])
        told = [timeline.entry("return.inspected", actor, {"refund_amount": final.refund_amount, "paid": paid}, now)]
        if short:
            told.append(timeline.entry(refund_timing.BELOW_REFUND_EVENT, "system",
                                       {"paid": paid, "inspected": final.refund_amount, "difference": short}, now))
        return writes.Update([ReturnModel.inspection.set({"by": actor, "at": now, "items": graded,
                                                          "refund_amount": final.refund_amount, "after_refund": True})],
                             condition=ReturnModel.inspection.does_not_exist(), timeline=told)

    writes.update(ret, decide, busy=lambda: ConflictError("the return is changing too fast; try again"))
    if short:
        events.alert_ops(refund_timing.BELOW_REFUND_ALERT, ret,
                         "an inspection found less than the refund already paid; nothing was taken back",
                         {"paid": paid, "inspected": final.refund_amount, "difference": short,
                          "currency": ret.currency})
    return ret
