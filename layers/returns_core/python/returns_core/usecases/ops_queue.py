"""What waits for customer service, one status at a time (GET /ops/queue): risky returns to review,
failed refunds to retry, refunds taking too long, lost parcels, labels that failed, disputes."""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import config
from ..rules import clock, statuses
from ..store.models import ReturnModel
from ..views import risk_of

# How long a return may sit in a status before ops sees it as overdue: the workflow's own wait for it
# (config.workflow_timeouts), or for a refund being paid, a day (a payment completes in seconds; a
# manual one waits for finance's reference, and a day without it needs a look).
_WAIT_OF = {statuses.IN_REVIEW: "review", statuses.AWAITING_APPROVAL: "approval",
            statuses.REFUND_FAILED: "refund_retry", statuses.RECEIVED: "inspection_sla",
            statuses.IN_TRANSIT: "transit"}
REFUNDING_OVERDUE_SECONDS = 86400


def overdue(ret: ReturnModel, now: datetime | None = None) -> bool:
    if ret.status == statuses.REFUNDING:
        seconds = REFUNDING_OVERDUE_SECONDS
    elif ret.status in _WAIT_OF:
        seconds = config.workflow_timeouts()[_WAIT_OF[ret.status]]
    else:
        return False
    return clock.parse(ret.status_since) + timedelta(seconds=seconds) <= (now or clock.now())


def row(ret: ReturnModel, now: datetime) -> dict:
    """One queue row: enough to act on it; the whole return is GET /returns/{id}."""
    label = ret.label or {}
    return {"return_id": ret.return_id, "order_id": ret.order_id, "code": ret.code, "status": ret.status,
            "status_since": ret.status_since, "created_at": ret.created_at, "resolution": ret.resolution,
            "currency": ret.currency, "refund_amount": int((ret.quote or {}).get("refund_amount") or 0),
            "tracking_number": label.get("tracking_number"), "overdue": overdue(ret, now),
            "items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"]), "reason": i["reason"]}
                      for i in ret.items], "risk": risk_of(ret)}


def page(status: str, limit: int, start: dict | None) -> tuple[list[dict], dict | None]:
    """One page of the status's returns, oldest first (the by_status index), full records read once."""
    hits = ReturnModel.by_status.query(status, limit=limit, scan_index_forward=True, last_evaluated_key=start)
    found = list(hits)
    now = clock.now()
    return [row(r, now) for r in ReturnModel.load_many(found)], hits.last_evaluated_key
