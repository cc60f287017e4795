"""Finance: what waits for finance, approving large refunds (four eyes), manual refund references, the refunds list,
the CSV export, the ledger check, reconciliation and return analytics.

Every read is a Query or GetItem on a key or an index: the ledger by day (`by_day`, one
Query per day of the range); reconciliation and analytics from finance's day aggregates.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta

from chalice import Blueprint, Response

from . import routes, schemas
from .endpoints import Call, Effect, endpoint
from .errors import ApiError

bp = Blueprint(__name__)
MAX_RANGE_DAYS = 92
# Columns added later go last (`bonus`, then `kind`: refund, store_credit, adjustment, claim): scripts that read
# the CSV's columns by position keep working.
REFUND_FIELDS = ("seq", "return_id", "order_id", "amount", "currency", "method", "reference",
                 "inspected_by", "approved_by", "issued_at", "hash", "prev_hash", "bonus", "kind")
MINOR_UNITS = ("seq", "amount", "bonus")   # integers as stored; an entry written without a bonus has none


@endpoint(bp, routes.APPROVE_REFUND)
def approve_refund(call: Call, return_id: str) -> Effect:
    from returns_core import views
    from returns_core.usecases import settlement

    return lambda: views.return_view(settlement.approve(return_id, call.body.note, call.who.sub))


@endpoint(bp, routes.FINANCE_QUEUE)
def finance_queue(call: Call) -> dict:
    """What waits for finance, oldest first: refunds above the threshold to approve (four eyes: each
    names its inspector), and refunds paid offline whose reference is still to be recorded."""
    from returns_core.views import queues

    return queues.finance()


def _range(call: Call, required: bool) -> tuple[date | None, date | None]:
    r = call.query(schemas.DateRange)
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


def by_day(days: list[str], cursor: str | None, limit: int,
           read: Callable[[str, dict | None, int], tuple[list, dict | None]]) -> tuple[list, str | None]:
    """Up to `limit` items in the order `read(day, start key, limit)` gives each day's, days in order; one
    read per day. The cursor names the day and the key to go on from."""
    day, key = _decode_cursor(cursor, days) if cursor else (days[0], None)
    items: list = []
    for i in range(days.index(day), len(days)):
        found, key = read(days[i], key, limit - len(items))
        items.extend(found)
        if len(items) >= limit:
            if key is not None:
                return items, _encode_cursor(days[i], key)
            return items, _encode_cursor(days[i + 1], None) if i + 1 < len(days) else None
        key = None
    return items, None


def _entries_page(days: list[str], cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Up to `limit` ledger entries in sequence order within each day (the ledger's by_day index)."""
    from returns_core.views import finance

    return by_day(days, cursor, limit, finance.ledger_on)


def _refund_row(entry) -> dict:
    """A row of /finance/refunds and of the CSV; `bonus` is the store's own part of `amount`."""
    return {k: (int(getattr(entry, k) or 0) if k in MINOR_UNITS else getattr(entry, k)) for k in REFUND_FIELDS}


@endpoint(bp, routes.REFUNDS)
def refunds(call: Call) -> dict:
    start, end = _range(call, required=True)
    page = call.query(schemas.Page)
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


@endpoint(bp, routes.REFUNDS_CSV)
def refunds_csv(call: Call) -> Response:
    """Any range, paged through the ledger: a small one is the CSV itself (text/csv); past
    CSV_INLINE_MAX_BYTES it is in S3 and the answer is a presigned link: `{"url", "rows",
    "expires_in"}` for a client that accepts JSON, else a 303 to it."""
    from returns_core.outbound import exports

    start, end = _range(call, required=True)
    name = f"refunds-{start}-{end}.csv"
    written = write_csv(_ledger_rows(_days(start, end)), REFUND_FIELDS, name)
    if written.key is None:
        return Response(body=written.text, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})
    url = exports.presigned_url(written.key, CSV_LINK_SECONDS)
    if _wants_json(call.request):
        return Response(body={"url": url, "rows": written.rows, "expires_in": CSV_LINK_SECONDS}, status_code=200)
    return Response(body="", status_code=303, headers={"Location": url, "Cache-Control": "no-store"})


@endpoint(bp, routes.VERIFY_LEDGER)
def verify_ledger(call: Call) -> dict:
    """The check runs in the Settle function, the only holder of the ledger key: the API asks it."""
    from returns_core.outbound import ledger_verifier

    start, end = _range(call, required=False)
    try:
        return ledger_verifier.verify(_days(start, end) if start else None)
    except ledger_verifier.VerifierUnavailable:
        raise ApiError(503, "ledger_check_unavailable", "the ledger could not be checked; try again") from None


@endpoint(bp, routes.RECONCILIATION)
def reconciliation(call: Call) -> dict:
    """The range's ledger totals by currency and kind (in all and per day), and a page of the orders refunded
    in it (one row per order and day, by day then order id; `next_cursor` for the next page): captured,
    refunded (the order's total), remaining. Read from finance's day aggregates: bounded reads per page.

    Counted from the capture side: a store credit bonus is the store's money, not the order's."""
    from returns_core.views import finance

    start, end = _range(call, required=True)
    page = call.query(schemas.Page)
    days = _days(start, end)
    rows, next_cursor = by_day(days, page.cursor, page.limit, finance.reconciliation_orders)
    return {**finance.reconciliation_page(rows), **finance.reconciliation_totals(days), "next_cursor": next_cursor}


@endpoint(bp, routes.ANALYTICS)
def analytics(call: Call) -> dict:
    """Returns whose current status began in the range, from finance's day aggregates (one read per day)."""
    from returns_core.views import finance

    start, end = _range(call, required=True)
    return finance.analytics(start, end)


@endpoint(bp, routes.MANUAL_REFUND)
def record_manual_refund(call: Call, return_id: str) -> Effect:
    """Finance paid offline: record the reference; the workflow's Settle step writes the ledger."""
    from returns_core import views
    from returns_core.usecases import settlement

    return lambda: views.return_view(settlement.record_manual_reference(return_id, call.body.reference, call.who.sub))
