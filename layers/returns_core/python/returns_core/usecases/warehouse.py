"""Receiving parcels and grading what is inside."""
from __future__ import annotations

import uuid
from datetime import timedelta

from .. import config
from ..rules import clock, parcels, policy, refund_timing, statuses, timeline, withdrawal as statutory
from ..rules.errors import ConflictError, InvalidTransition, NotFoundError, UnprocessableError
from ..store import returns
from ..store.models import ReturnModel, UnmatchedScanModel
from ..views import return_view
from . import early_refunds, lifecycle, orders

_UNMATCHED = "unmatched"


def find_parcel(code: str) -> ReturnModel | None:
    code = code.strip()
    for index in (ReturnModel.by_code, ReturnModel.by_tracking):
        for ret in index.query(code.upper() if index is ReturnModel.by_code else code, limit=1):
            return returns.get(ret.return_id)
    return None


def scan(code: str, actor: str) -> tuple[ReturnModel, bool]:
    """Receive a parcel; (return, already_received)."""
    ret = find_parcel(code)
    if ret is None:
        now = clock.iso()
        UnmatchedScanModel(_UNMATCHED, f"{now}#{uuid.uuid4().hex[:8]}", code=code.strip()[:100],
                           scanned_at=now, actor=actor).save()
        raise NotFoundError("no return matches this code; the parcel is kept in the unmatched list",
                            field="code", code="unknown_parcel")
    if ret.status in parcels.ARRIVED and _was_received(ret):
        return ret, True
    if refund_timing.paid_early(ret.refund_timing) and ret.status not in statuses.SCANNABLE:
        return early_refunds.receive(ret, code, actor)
    if ret.status not in statuses.SCANNABLE:
        # A return refunded as lost is `refunded` now, yet its parcel never came in: still a lost parcel.
        status = ret.status if ret.status not in parcels.ARRIVED else statuses.LOST
        raise ConflictError(parcels.set_aside(status, f"this return is {status}: set the parcel aside "
                                              "for customer service"),
                            field="code", code=f"return_{status}",
                            details={"return_id": ret.return_id, "status": ret.status})
    target, updates, also = statuses.RECEIVED, [], []
    if refund_timing.pays_at_receipt(ret.refund_timing):
        # The policy pays at receipt (or at the first scan, which this parcel never had): pay now, received.
        updates, also = early_refunds.start(ret, refund_timing.RECEIPT, actor)
        target, updates = statuses.REFUNDING, [*updates, ReturnModel.parcel_received_at.set(clock.iso())]
    try:
        moved = lifecycle.transition(ret, target, actor=actor, event=parcels.RECEIVED_EVENT,
                                     detail={"code": code.strip()[:100]}, allowed_from=statuses.SCANNABLE,
                                     updates=updates, also=also)
    except InvalidTransition:
        ret.refresh(consistent_read=True)  # moved meanwhile (another scan, a cancel): judge it again
        if ret.status in parcels.ARRIVED and _was_received(ret):
            return ret, True
        raise ConflictError(parcels.set_aside(ret.status), field="code",
                            code=f"return_{ret.status}", details={"return_id": ret.return_id,
                                                                 "status": ret.status}) from None
    if not moved.changed and refund_timing.paid_early(moved.ret.refund_timing) and not moved.ret.parcel_received_at:
        return early_refunds.receive(moved.ret, code, actor)   # the carrier's first scan paid it meanwhile
    return moved.ret, not moved.changed


def _was_received(ret: ReturnModel) -> bool:
    return timeline.has(returns.timeline_of(ret), parcels.RECEIVED_EVENT)


def overdue(ret: ReturnModel, now=None) -> bool:
    """Received and not inspected within the SLA (INSPECTION_SLA_SECONDS)."""
    if ret.status != statuses.RECEIVED:
        return False
    sla = config.workflow_timeouts()["inspection_sla"]
    return clock.parse(ret.status_since) + timedelta(seconds=sla) <= (now or clock.now())


def unmatched(limit: int = 100) -> list[dict]:
    return [{"code": s.code, "scanned_at": s.scanned_at, "actor": s.actor}
            for s in UnmatchedScanModel.query(_UNMATCHED, scan_index_forward=False, limit=limit)]


def inspect(return_id: str, lines: list[dict], actor: str) -> ReturnModel:
    """Grade what arrived; the final quote counts only what was received and accepted."""
    ret = returns.get(return_id)
    if ret.inspection is not None:
        # A second submission (a double click, a retried request without its Idempotency-Key) must not
        # regrade what is already graded and maybe paid: say so, with the return as it stands.
        raise ConflictError(f"this return was already inspected by {ret.inspection.get('by')}",
                            code="already_inspected", details={"return": return_view(ret)})
    early = refund_timing.paid_early(ret.refund_timing)
    if ret.status != statuses.RECEIVED and not early:
        raise ConflictError(f"the return is {ret.status}; only a received parcel can be inspected",
                            code="not_received")
    announced = {i["sku"]: i for i in ret.items}
    counted: dict[str, int] = {}
    for n, line in enumerate(lines):
        if line["sku"] not in announced:
            raise UnprocessableError(f"{line['sku']} is not part of this return", field=f"items[{n}].sku")
        counted[line["sku"]] = counted.get(line["sku"], 0) + line["qty"]
        if counted[line["sku"]] > int(announced[line["sku"]]["qty"]):
            raise UnprocessableError(f"more {line['sku']} graded than were received", field=f"items[{n}].qty",
                                     code="over_quantity")
    if early:
        return early_refunds.inspect(ret, lines, actor)   # refunded before it arrived: graded, never re-priced
    order = orders.get(ret.order_id)
    final = policy.quote_inspected(list(announced.values()), lines, orders.prices(order), ret.currency,
                                   ret.resolution)
    # The quote decided each line (swapped or refunded by grade); this only stores what it decided.
    graded = policy.inspection_items(final, [line.get("note") for line in lines])
    now = clock.iso()
    try:
        lifecycle.transition(
            ret, statuses.INSPECTED, actor=actor, event="return.inspected",
            detail={"refund_amount": final.refund_amount}, allowed_from={statuses.RECEIVED},
            updates=[ReturnModel.inspection.set({"by": actor, "at": now, "items": graded}),
                     ReturnModel.quote.set(statutory.final_quote(final.to_api(), ret.withdrawal))])
    except InvalidTransition:
        ret.refresh(consistent_read=True)  # two inspectors at once: the first one's grading stands
        if ret.inspection is not None:
            raise ConflictError(f"this return was already inspected by {ret.inspection.get('by')}",
                                code="already_inspected", details={"return": return_view(ret)}) from None
        raise
    return ret
