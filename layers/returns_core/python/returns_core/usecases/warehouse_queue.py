"""The warehouse's queue (GET /warehouse/queue): one status's returns, oldest first, from the by_status
index's own copy (no read of the whole records), each with whether it is overdue."""
from __future__ import annotations

from ..rules import clock
from ..store.models import ReturnModel
from .warehouse import overdue


def page(status: str, limit: int, start: dict | None) -> tuple[list[dict], dict | None]:
    """One page, and the index's key to go on from (None: the last page)."""
    found = ReturnModel.by_status.query(status, limit=limit, scan_index_forward=True, last_evaluated_key=start)
    now = clock.now()
    items = [{"return_id": r.return_id, "order_id": r.order_id, "code": r.code, "status": r.status,
              "status_since": r.status_since, "resolution": r.resolution, "overdue": overdue(r, now),
              "items": [{"sku": i["sku"], "name": i.get("name"), "qty": int(i["qty"])} for i in r.items]}
             for r in found]
    return items, found.last_evaluated_key
