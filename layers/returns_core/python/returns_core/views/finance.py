"""What finance reads beside its queue: the ledger a day at a time, reconciliation per order, and
return analytics. Every read is a Query or a GetItem on a key or an index: the ledger by day (`by_day`),
returns by status (`by_status`, status_since in the range)."""
from __future__ import annotations

import statistics
from datetime import date, datetime

from ..rules import statuses
from ..rules.ledger_chain import from_capture
from ..store import ledger, returns
from ..store.models import LedgerEntryModel, OrderModel, ReturnModel


def ledger_on(day: str, start: dict | None, limit: int) -> tuple[list[LedgerEntryModel], dict | None]:
    """Up to `limit` entries issued on `day`, in sequence order, from `start`; and where to go on from."""
    results = LedgerEntryModel.by_day.query(day, last_evaluated_key=start, limit=limit)
    items = list(results)
    return items, results.last_evaluated_key


def reconciliation(days: list[str]) -> dict:
    """Per order refunded on these days: captured, refunded (the order's total), remaining.

    Counted from the capture side: a store credit bonus is the store's money, not the order's."""
    in_range: dict[str, int] = {}
    by_kind: dict[str, dict[str, int]] = {}   # order -> ledger kind (refund, adjustment, claim...) -> from the capture
    for entry in ledger.entries_on_days(days):
        in_range[entry.order_id] = in_range.get(entry.order_id, 0) + from_capture(entry)
        kinds = by_kind.setdefault(entry.order_id, {})
        kinds[entry.kind] = kinds.get(entry.kind, 0) + from_capture(entry)
    orders = []
    for order in sorted(OrderModel.batch_get(list(in_range)), key=lambda o: o.order_id):
        captured = int(order.payment["captured_amount"])
        refunded = int(order.refunded_total or 0)
        orders.append({"order_id": order.order_id, "currency": order.currency, "captured": captured,
                       "refunded": refunded, "remaining": captured - refunded,
                       "refunded_in_range": in_range[order.order_id],
                       "refunded_in_range_by_kind": by_kind[order.order_id]})
    over = [o["order_id"] for o in orders if o["refunded"] > o["captured"] or o["refunded_in_range"] > o["captured"]]
    missing = sorted(set(in_range) - {o["order_id"] for o in orders})
    return {"orders": orders, "over_refunded": over, "unknown_orders": missing}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def analytics(start: date, end: date) -> dict:
    """Returns whose current status began from `start` to `end` (by_status: one Query per status)."""
    since, until = start.isoformat(), end.isoformat() + "T\uffff"
    by_reason: dict[str, int] = {}
    by_sku: dict[str, int] = {}
    by_status: dict[str, int] = {}
    returned_units: dict[str, int] = {}
    durations: list[float] = []
    count = 0
    for status in statuses.ALL:
        hits = ReturnModel.by_status.query(status, ReturnModel.status_since.between(since, until))
        for ret in ReturnModel.load_many(hits):   # the index holds only a queue row
            count += 1
            by_status[status] = by_status.get(status, 0) + 1
            for item in ret.items or []:
                qty = int(item.get("qty") or 0)
                by_reason[item.get("reason") or "other"] = by_reason.get(item.get("reason") or "other", 0) + 1
                by_sku[item["sku"]] = by_sku.get(item["sku"], 0) + qty
                returned_units[ret.order_id] = returned_units.get(ret.order_id, 0) + qty
            times = {}
            # Only a paid return has a drop-off-to-refund time: the others' timelines are not read.
            for entry in returns.timeline_of(ret) if (ret.refund or {}).get("issued_at") else []:
                times.setdefault(entry.get("type"), entry.get("at"))
            if times.get("carrier.dropped_off") and times.get("refund.issued"):
                durations.append((_at(times["refund.issued"]) - _at(times["carrier.dropped_off"])).total_seconds())
    ordered = 0
    if returned_units:
        for order in OrderModel.batch_get(list(returned_units)):
            ordered += sum(int(line.get("qty") or 0) for line in order.lines or [])
    returned = sum(returned_units.values())
    return {"from": start.isoformat(), "to": end.isoformat(), "returns": count,
            "by_reason": dict(sorted(by_reason.items())), "by_sku": dict(sorted(by_sku.items())),
            "by_status": dict(sorted(by_status.items())),
            "returned_units": returned, "ordered_units": ordered,
            "return_rate": round(returned / ordered, 4) if ordered else None,
            "median_dropoff_to_refund_seconds": statistics.median(durations) if durations else None}
