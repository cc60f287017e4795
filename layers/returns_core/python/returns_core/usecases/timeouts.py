"""What the workflow does when a wait runs out. Each kind is safe to run twice."""
from __future__ import annotations

from ..outbound import events
from ..rules import statuses, timeline
from ..store import returns
from ..store.models import ReturnModel
from . import labels, lifecycle, notify, settlement, withdrawals


def _once(ret: ReturnModel, flag: str, alert: str, message: str) -> None:
    """Alert ops once per return and flag (the workflow may pass here again)."""
    if timeline.has(returns.timeline_of(ret), flag):
        return
    returns.append_timeline(ret, actor="system", event=flag, detail=message)
    events.alert_ops(alert, ret, message)


def handle(return_id: str, kind: str, error: dict | None = None) -> str:
    ret = returns.get(return_id)
    s = ret.status
    if kind == "review" and s == statuses.IN_REVIEW:
        lifecycle.transition(ret, statuses.REQUESTED, actor="system", event="review.auto_approved",
                             detail="Nobody reviewed this return in time; approved so the customer can go on.")
        events.alert_ops("review_timed_out", ret, "a risky return was approved automatically after the review time")
    elif kind == "dropoff_reminder" and s == statuses.AWAITING_DROPOFF:
        notify.email(ret, "dropoff_reminder")
    elif kind == "dropoff" and s == statuses.AWAITING_DROPOFF:
        lifecycle.transition(ret, statuses.EXPIRED, actor="system", event="return.expired",
                             detail="Not dropped off before the deadline.", allowed_from={statuses.AWAITING_DROPOFF})
    elif kind == "transit" and s == statuses.IN_TRANSIT:
        lifecycle.transition(ret, statuses.LOST, actor="system", event="parcel.lost",
                             detail="Not received within the transit limit; file a claim with the carrier.",
                             allowed_from={statuses.IN_TRANSIT})
    elif kind == "inspection_sla" and s == statuses.RECEIVED:
        _once(ret, "inspection.overdue", "inspection_sla_missed", "received parcel not inspected within the SLA")
    elif kind == "approval" and s == statuses.AWAITING_APPROVAL:
        _once(ret, "approval.overdue", "approval_overdue", "refund waiting for finance approval past its time")
    elif kind == "refund_retry" and s == statuses.REFUND_FAILED:
        events.alert_ops("refund_still_failed", ret, "a failed refund has not been retried")
    elif kind == "refund_retry" and s == statuses.REFUNDING:
        events.alert_ops("manual_refund_overdue", ret, "a manual refund still has no payment reference")
    elif kind == "label_failed" and s == statuses.REQUESTED:
        labels.mark_failed(ret, (error or {}).get("Error") or "unknown")
    elif kind == "label_retry" and s == statuses.LABEL_FAILED:
        events.alert_ops("label_still_failed", ret, f"return {ret.return_id} still has no label; "
                         f"retry it with POST /returns/{ret.return_id}/label/retry")
    elif kind == "refund_failed":
        error = error or {}
        settlement.mark_failed(return_id, error.get("Error", "unknown") + ": " + error.get("Cause", "")[:200])
    elif kind == "followup" and s == statuses.REFUNDED:
        notify.email(ret, "followup")
    elif kind == "autoclose" and s == statuses.REFUNDED:
        lifecycle.transition(ret, statuses.CLOSED, actor="system", event="return.auto_closed",
                             detail="Closed automatically: no answer to the follow-up.",
                             allowed_from={statuses.REFUNDED})
    elif kind == "dispute_overdue" and s == statuses.DISPUTED:
        _once(ret, "dispute.overdue", "dispute_overdue", "a disputed return has not been resolved by customer service")
    elif kind == "dispute_followup" and s == statuses.RESOLVED:
        notify.email(ret, "dispute_followup")
    elif kind == "withdrawal_due" and s in (statuses.IN_TRANSIT, statuses.RECEIVED):
        # Proof of sending exists (or the parcel is here): the law's deadline wins over the inspection.
        lifecycle.transition(ret, statuses.REFUNDING, actor="system", event="withdrawal.refund_due",
                             detail="The withdrawal's refund is due: paid before the parcel is inspected.",
                             allowed_from={statuses.IN_TRANSIT, statuses.RECEIVED})
    elif kind == "dispute_autoclose" and s == statuses.RESOLVED:
        lifecycle.transition(ret, statuses.CLOSED, actor="system", event="return.auto_closed",
                             detail="Closed automatically: no answer to the follow-up of the dispute.",
                             allowed_from={statuses.RESOLVED})
    ret.refresh(consistent_read=True)
    return ret.status


def withdrawal_clock(return_id: str) -> dict:
    """Where a withdrawal's return stands against its refund deadline: the seconds to the alert and to
    the deadline, and which wait the parcel is in. Inside the alert's lead, ops is alerted (once)."""
    ret = returns.get(return_id)
    left = withdrawals.clock_of(ret)
    if left["alert_in"] == 0 and left["due_in"] > 0:
        _once(ret, "withdrawal.deadline_near", "withdrawal_deadline_near",
              f"return {ret.return_id}: a withdrawal's refund is due by "
              f"{(ret.withdrawal or {}).get('refund_due_by')} and is not paid yet")
    # One wait from the parcel's sending to its inspection (statuses.SPANNING_WAITS): the scan does not end it.
    return {**left, "status": ret.status, "wait": "withdrawal_parcel"}
