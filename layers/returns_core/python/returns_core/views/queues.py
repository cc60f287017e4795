"""Returns waiting in one status, as the staff lists show them: customer service's label failures and
disputes, finance's refunds to approve and to record (the by_status index, whole records read once)."""
from __future__ import annotations

from ..rules import refund_timing, statuses
from ..rules.settlement import awaiting_manual
from ..store.models import ReturnModel
from .returns import return_view, risk_of

LIMIT = 200


def in_status(status: str, limit: int = LIMIT) -> list[dict]:
    hits = ReturnModel.by_status.query(status, limit=limit)
    return [return_view(r) for r in ReturnModel.load_many(hits)]


def _oldest_first(status: str) -> list[ReturnModel]:
    return ReturnModel.load_many(ReturnModel.by_status.query(status, limit=LIMIT, scan_index_forward=True))


def finance() -> dict:
    """Refunds above the threshold to approve (four eyes: each names its inspector), and refunds paid
    offline whose reference is still to be recorded; oldest first."""
    def item(ret: ReturnModel) -> dict:
        return {**return_view(ret), "inspected_by": (ret.inspection or {}).get("by"),
                "status_since": ret.status_since}

    return {"awaiting_approval": [item(r) for r in _oldest_first(statuses.AWAITING_APPROVAL)],
            "awaiting_manual_refund": [item(r) for r in _oldest_first(statuses.REFUNDING)
                                       if awaiting_manual(r.refund)]}


def scanned(ret: ReturnModel, already: bool) -> dict:
    """The warehouse's answer to a scan: the return the parcel belongs to and what should be inside."""
    return {"return_id": ret.return_id, "code": ret.code, "status": ret.status,
            "expected_items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])}
                               for i in ret.items],
            "already_received": already, "risk": risk_of(ret),
            # Whether the parcel waits for its grading: received, or refunded before it arrived and scanned in.
            "inspectable": ret.status == statuses.RECEIVED or (
                refund_timing.paid_early(ret.refund_timing) and bool(ret.parcel_received_at) and not ret.inspection)}
