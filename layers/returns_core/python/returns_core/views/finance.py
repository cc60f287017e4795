"""What finance reads beside its queue: the ledger a day at a time, reconciliation per order, and
return analytics. The ledger is a Query on its `by_day` index; reconciliation and analytics read the day
aggregates usecases/finance_rollup.py keeps (store/finance_aggregates.py): a few key reads per day of the
range, however many returns and entries the days hold."""
from __future__ import annotations

from datetime import date, timedelta

from ..rules import finance_counts
from ..store import finance_aggregates as aggregates
from ..store.models import LedgerEntryModel, OrderModel


def ledger_on(day: str, start: dict | None, limit: int) -> tuple[list[LedgerEntryModel], dict | None]:
    """Up to `limit` entries issued on `day`, in sequence order, from `start`; and where to go on from."""
    results = LedgerEntryModel.by_day.query(day, last_evaluated_key=start, limit=limit)
    items = list(results)
    return items, results.last_evaluated_key


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def reconciliation_totals(days: list[str]) -> dict:
    """The range's ledger totals by currency and kind ({paid, captured, entries}), in all and per day:
    one BatchGetItem of the days' aggregates."""
    found = aggregates.days("ledger", days)
    whole: dict[str, int] = {}
    for counts in found.values():
        finance_counts.add(whole, counts)
    return {"totals": finance_counts.totals(whole),
            "by_day": {day: finance_counts.totals(found[day]) for day in days if day in found}}


def reconciliation_orders(day: str, start: dict | None, limit: int) -> tuple[list[dict], dict | None]:
    """Up to `limit` orders refunded on `day` (by order id, from `start`), each with what the day's entries
    took from its capture (in all and by kind); and where to go on from. For views.by_day paging."""
    rows, key = aggregates.order_rows("ledger", day, start, limit)
    return [{**row, "day": day} for row in rows], key


def reconciliation_page(rows: list[dict]) -> dict:
    """A page of order rows (one per order and day refunded) with each order's captured, refunded (the
    order's total) and remaining: one BatchGetItem of the page's orders.

    Counted from the capture side: a store credit bonus is the store's money, not the order's."""
    known = {o.order_id: o for o in OrderModel.batch_get(list({r["order_id"] for r in rows}))} if rows else {}
    orders = []
    for row in rows:
        order = known.get(row["order_id"])
        if order is None:
            continue
        captured = int(order.payment["captured_amount"])
        refunded = int(order.refunded_total or 0)
        orders.append({"order_id": order.order_id, "day": row["day"], "currency": order.currency,
                       "captured": captured, "refunded": refunded, "remaining": captured - refunded,
                       "refunded_in_range": row.get("in_range", 0),
                       "refunded_in_range_by_kind": finance_counts.prefixed(row, "kind:")})
    over = sorted({o["order_id"] for o in orders if o["refunded"] > o["captured"]
                   or o["refunded_in_range"] > o["captured"]})
    missing = sorted({r["order_id"] for r in rows} - set(known))
    return {"orders": orders, "over_refunded": over, "unknown_orders": missing}


def analytics(start: date, end: date) -> dict:
    """Returns whose current status began from `start` to `end`, from the day aggregates: one BatchGetItem.

    `ordered_units` adds each day's orders (the units of every order with a return counted that day): an
    order whose returns are counted on two days of the range counts twice. The median is read from a
    histogram of 2 % buckets (rules/finance_counts.py): within 1 % of the true median."""
    days = _days(start, end)
    whole: dict[str, int] = {}
    for counts in aggregates.days("returns", days).values():
        finance_counts.add(whole, counts)
    returned, ordered = whole.get(finance_counts.UNITS, 0), whole.get(finance_counts.ORDERED, 0)
    by_sku = finance_counts.prefixed(whole, finance_counts.SKU)
    if whole.get(finance_counts.OTHER_SKUS):
        by_sku["other"] = whole[finance_counts.OTHER_SKUS]
    durations = {int(bucket): n for bucket, n in finance_counts.prefixed(whole, finance_counts.DURATION).items()}
    return {"from": start.isoformat(), "to": end.isoformat(), "returns": whole.get(finance_counts.RETURNS, 0),
            "by_reason": finance_counts.prefixed(whole, finance_counts.REASON), "by_sku": by_sku,
            "by_status": finance_counts.prefixed(whole, finance_counts.STATUS),
            "returned_units": returned, "ordered_units": ordered,
            "return_rate": round(returned / ordered, 4) if ordered else None,
            "median_dropoff_to_refund_seconds": finance_counts.median_of(durations),
            "dropoff_to_refund_seconds_histogram": {str(finance_counts.bucket_seconds(b)): n
                                                    for b, n in sorted(durations.items()) if n},
            **_early_refunds(whole)}


def _early_refunds(whole: dict[str, int]) -> dict:
    """Refunds paid before the inspection (issue 33) among the paid returns of the range: how many, their
    share, those paid before the parcel was even received (at the carrier's first scan), the median time
    saved (refund to inspection, once inspected) and the inspections that found less than was paid."""
    paid, early = whole.get(finance_counts.PAID, 0), whole.get(finance_counts.PAID_EARLY, 0)
    saved = {int(b): n for b, n in finance_counts.prefixed(whole, finance_counts.SAVED).items()}
    return {"paid_returns": paid, "refunds_before_inspection": early,
            "refunds_before_inspection_share": round(early / paid, 4) if paid else None,
            "refunds_before_receipt": whole.get(finance_counts.PAID_BEFORE_RECEIPT, 0),
            "median_time_saved_seconds": finance_counts.median_of(saved),
            "inspections_below_refund": whole.get(finance_counts.BELOW_REFUND, 0)}
