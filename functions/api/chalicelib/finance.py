"""Finance: what waits for finance, approving large refunds (four eyes), manual refund references, the refunds list,
the CSV export, the ledger check, reconciliation and return analytics.

Every read is a Query or GetItem on a key or an index: the ledger by day (`by_day`, one
Query per day of the range), returns by status (`by_status`, status_since in the range).
"""
from __future__ import annotations

import base64
import binascii
import json
import statistics
from datetime import date, datetime, timedelta
from typing import Iterable, Iterator

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, query, raw
from .errors import ApiError, route

bp = Blueprint(__name__)
ROLES = frozenset({"finance"})
ANALYTICS_ROLES = frozenset({"finance", "ops"})
MAX_RANGE_DAYS = 92
# Columns added later go last (`bonus`, then `kind`: refund, store_credit, adjustment, claim): scripts that read
# the CSV's columns by position keep working.
REFUND_FIELDS = ("seq", "return_id", "order_id", "amount", "currency", "method", "reference",
                 "inspected_by", "approved_by", "issued_at", "hash", "prev_hash", "bonus", "kind")
MINOR_UNITS = ("seq", "amount", "bonus")   # integers as stored; an entry written without a bonus has none


@route(bp, "/returns/{return_id}/refund/approve", methods=["POST"])
def approve_refund(return_id: str) -> Response:
    from returns_core import views
    from returns_core.usecases import settlement

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Note, empty_ok=True)

    def effect() -> dict:
        return views.return_view(settlement.approve(return_id, req.note, who.sub))

    return idempotency.run(request, who.sub, body, effect)


QUEUE_LIMIT = 200


@route(bp, "/finance/queue", methods=["GET"])
def finance_queue() -> dict:
    """What waits for finance, oldest first: refunds above the threshold to approve (four eyes: each
    names its inspector), and refunds paid offline whose reference is still to be recorded."""
    from returns_core import views
    from returns_core.rules import statuses
    from returns_core.rules.settlement import awaiting_manual
    from returns_core.store.models import ReturnModel, plain

    principal(bp.current_request, ROLES)

    def waiting(status: str) -> list:
        hits = ReturnModel.by_status.query(status, limit=QUEUE_LIMIT, scan_index_forward=True)
        return ReturnModel.load_many(hits)

    def item(ret) -> dict:
        return {**views.return_view(ret), "inspected_by": (plain(ret.inspection) or {}).get("by"),
                "status_since": ret.status_since}

    return {"awaiting_approval": [item(r) for r in waiting(statuses.AWAITING_APPROVAL)],
            "awaiting_manual_refund": [item(r) for r in waiting(statuses.REFUNDING)
                                       if awaiting_manual(plain(r.refund))]}


def _range(request, required: bool) -> tuple[date | None, date | None]:
    r = query(request, schemas.DateRange)
    if required and (r.from_ is None or r.to is None):
        raise ApiError(400, "invalid_request", "from and to are required (YYYY-MM-DD)",
                       field="from" if r.from_ is None else "to")
    if (r.from_ is None) != (r.to is None):
        raise ApiError(400, "invalid_request", "give both from and to, or neither",
                       field="from" if r.from_ is None else "to")
    if r.from_ and r.to:
        if r.to < r.from_:
            raise ApiError(422, "invalid_value", "to is before from", field="to")
        if (r.to - r.from_).days >= MAX_RANGE_DAYS:
            raise ApiError(422, "invalid_value", f"at most {MAX_RANGE_DAYS} days at a time", field="to")
    return r.from_, r.to


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _encode_cursor(day: str, key: dict | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"d": day, "k": key}, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, days: list[str]) -> tuple[str, dict | None]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
        day, key = data["d"], data["k"]
        if day not in days or not (key is None or isinstance(key, dict)):
            raise ValueError
        return day, key
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_request", "the cursor is not one this range gave out", field="cursor") from None


def _entries_page(days: list[str], cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Up to `limit` entries in sequence order within each day, days in order; one Query per day."""
    from returns_core.store.models import LedgerEntryModel

    day, key = _decode_cursor(cursor, days) if cursor else (days[0], None)
    items: list = []
    for i in range(days.index(day), len(days)):
        results = LedgerEntryModel.by_day.query(days[i], last_evaluated_key=key, limit=limit - len(items))
        items.extend(results)
        key = results.last_evaluated_key
        if len(items) >= limit:
            if key is not None:
                return items, _encode_cursor(days[i], key)
            return items, _encode_cursor(days[i + 1], None) if i + 1 < len(days) else None
        key = None
    return items, None


def _refund_row(entry) -> dict:
    """A row of /finance/refunds and of the CSV; `bonus` is the store's own part of `amount`."""
    return {k: (int(getattr(entry, k) or 0) if k in MINOR_UNITS else getattr(entry, k)) for k in REFUND_FIELDS}


@route(bp, "/finance/refunds", methods=["GET"])
def refunds() -> dict:
    request = bp.current_request
    principal(request, ROLES)
    start, end = _range(request, required=True)
    page = query(request, schemas.Page)
    items, next_cursor = _entries_page(_days(start, end), page.cursor, page.limit)
    return {"items": [_refund_row(e) for e in items], "next_cursor": next_cursor}


# Above this the CSV goes to S3 behind a presigned link: a Lambda response is at most 6 MB, and
# API Gateway may carry the body base64-encoded (4/3 larger).
CSV_INLINE_MAX_BYTES = 1024 * 1024
CSV_LINK_SECONDS = 15 * 60
_CSV_PAGE = 500


def _wants_json(request) -> bool:
    return "application/json" in (request.headers.get("accept") or "").lower()


def write_csv(rows: Iterable[dict], fields: tuple[str, ...], name: str,
              inline_max_bytes: int | None = None):
    """Every CSV export goes through outbound.exports.write_csv (spreadsheet-safe cells, S3 past the
    inline limit); this one held in memory up to CSV_INLINE_MAX_BYTES by default."""
    from returns_core.outbound import exports

    return exports.write_csv(rows, fields, name,
                             CSV_INLINE_MAX_BYTES if inline_max_bytes is None else inline_max_bytes)


def _ledger_rows(days: list[str]) -> Iterator[dict]:
    cursor = None
    while True:
        items, cursor = _entries_page(days, cursor, _CSV_PAGE)
        yield from (_refund_row(entry) for entry in items)
        if cursor is None:
            return


@route(bp, "/finance/refunds.csv", methods=["GET"])
def refunds_csv() -> Response:
    """Any range, paged through the ledger: a small one is the CSV itself (text/csv); past
    CSV_INLINE_MAX_BYTES it is in S3 and the answer is a presigned link: `{"url", "rows",
    "expires_in"}` for a client that accepts JSON, else a 303 to it."""
    from returns_core.outbound import exports

    request = bp.current_request
    principal(request, ROLES)
    start, end = _range(request, required=True)
    name = f"refunds-{start}-{end}.csv"
    written = write_csv(_ledger_rows(_days(start, end)), REFUND_FIELDS, name)
    if written.key is None:
        return Response(body=written.text, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})
    url = exports.presigned_url(written.key, CSV_LINK_SECONDS)
    if _wants_json(request):
        return Response(body={"url": url, "rows": written.rows, "expires_in": CSV_LINK_SECONDS}, status_code=200)
    return Response(body="", status_code=303, headers={"Location": url, "Cache-Control": "no-store"})


@route(bp, "/finance/ledger/verify", methods=["GET"])
def verify_ledger() -> dict:
    """The check runs in the Settle function, the only holder of the ledger key: the API asks it."""
    from returns_core.outbound import ledger_verifier

    principal(bp.current_request, ROLES)
    start, end = _range(bp.current_request, required=False)
    try:
        return ledger_verifier.verify(_days(start, end) if start else None)
    except ledger_verifier.VerifierUnavailable:
        raise ApiError(503, "ledger_check_unavailable", "the ledger could not be checked; try again") from None


@route(bp, "/finance/reconciliation", methods=["GET"])
def reconciliation() -> dict:
    """Per order refunded in the range: captured, refunded (the order's total), remaining.

    Counted from the capture side: a store credit bonus is the store's money, not the order's."""
    from returns_core.rules.ledger_chain import from_capture
    from returns_core.store import ledger
    from returns_core.store.models import OrderModel

    principal(bp.current_request, ROLES)
    start, end = _range(bp.current_request, required=True)
    in_range: dict[str, int] = {}
    by_kind: dict[str, dict[str, int]] = {}   # order -> ledger kind (refund, adjustment, claim...) -> from the capture
    for entry in ledger.entries_on_days(_days(start, end)):
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


@route(bp, "/analytics/returns", methods=["GET"])
def analytics() -> dict:
    """Returns whose current status began in the range (by_status: one Query per status)."""
    from returns_core.rules import statuses
    from returns_core.store import returns
    from returns_core.store.models import OrderModel, ReturnModel, plain

    principal(bp.current_request, ANALYTICS_ROLES)
    start, end = _range(bp.current_request, required=True)
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
            for item in plain(ret.items) or []:
                qty = int(item.get("qty") or 0)
                by_reason[item.get("reason") or "other"] = by_reason.get(item.get("reason") or "other", 0) + 1
                by_sku[item["sku"]] = by_sku.get(item["sku"], 0) + qty
                returned_units[ret.order_id] = returned_units.get(ret.order_id, 0) + qty
            times = {}
            # Only a paid return has a drop-off-to-refund time: the others' timelines are not read.
            for entry in returns.timeline_of(ret) if (plain(ret.refund) or {}).get("issued_at") else []:
                times.setdefault(entry.get("type"), entry.get("at"))
            if times.get("carrier.dropped_off") and times.get("refund.issued"):
                durations.append((_at(times["refund.issued"]) - _at(times["carrier.dropped_off"])).total_seconds())
    ordered = 0
    if returned_units:
        for order in OrderModel.batch_get(list(returned_units)):
            ordered += sum(int(line.get("qty") or 0) for line in plain(order.lines) or [])
    returned = sum(returned_units.values())
    return {"from": start.isoformat(), "to": end.isoformat(), "returns": count,
            "by_reason": dict(sorted(by_reason.items())), "by_sku": dict(sorted(by_sku.items())),
            "by_status": dict(sorted(by_status.items())),
            "returned_units": returned, "ordered_units": ordered,
            "return_rate": round(returned / ordered, 4) if ordered else None,
            "median_dropoff_to_refund_seconds": statistics.median(durations) if durations else None}


@route(bp, "/returns/{return_id}/refund/manual", methods=["POST"])
def record_manual_refund(return_id: str) -> Response:
    """Finance paid offline: record the reference; the workflow's Settle step writes the ledger."""
    from returns_core import views
    from returns_core.usecases import settlement

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.ManualRefund)

    def effect() -> dict:
        return views.return_view(settlement.record_manual_reference(return_id, req.reference, who.sub))

    return idempotency.run(request, who.sub, body, effect)
