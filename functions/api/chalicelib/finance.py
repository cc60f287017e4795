"""Finance: approving large refunds (four eyes), the refunds list, and the ledger check."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from chalice import Blueprint, Response

from . import idempotency, schemas
from .authn import principal
from .bodies import parse, query, raw
from .errors import ApiError, route

bp = Blueprint(__name__)
ROLES = frozenset({"finance"})
MAX_RANGE_DAYS = 92
REFUND_FIELDS = ("seq", "return_id", "order_id", "amount", "currency", "method", "reference",
                 "inspected_by", "approved_by", "issued_at", "hash", "prev_hash")


@route(bp, "/returns/{return_id}/refund/approve", methods=["POST"])
def approve_refund(return_id: str) -> Response:
    from returns_core import clock, lifecycle, statuses, views
    from returns_core.models import ReturnModel
    from returns_core.views import plain

    request = bp.current_request
    who = principal(request, ROLES)
    body = raw(request)
    req = parse(request, schemas.Note, empty_ok=True)

    def effect() -> dict:
        ret = lifecycle.get(return_id)
        if (plain(ret.inspection) or {}).get("by") == who.sub:
            raise ApiError(403, "four_eyes", "the inspector of a return cannot approve its refund")
        lifecycle.transition(ret, statuses.REFUNDING, actor=who.sub, event="refund.approved",
                             detail={"note": req.note} if req.note else None,
                             allowed_from={statuses.AWAITING_APPROVAL},
                             updates=[ReturnModel.approval.set({"by": who.sub, "at": clock.iso(), "note": req.note})])
        return views.return_view(ret)

    return idempotency.run(request, who.sub, body, effect)


def _range(request, required: bool) -> tuple[date | None, date | None]:
    r = query(request, schemas.DateRange)
    if required and (r.from_ is None or r.to is None):
        raise ApiError(400, "invalid_request", "from and to are required (YYYY-MM-DD)",
                       field="from" if r.from_ is None else "to")
    if r.from_ and r.to:
        if r.to < r.from_:
            raise ApiError(422, "invalid_value", "to is before from", field="to")
        if (r.to - r.from_).days >= MAX_RANGE_DAYS:
            raise ApiError(422, "invalid_value", f"at most {MAX_RANGE_DAYS} days at a time", field="to")
    return r.from_, r.to


def _entries_between(start: date, end: date) -> list:
    """One Query on the by_day index per day: no Scan."""
    from returns_core.models import LedgerEntryModel

    out = []
    day = start
    while day <= end:
        out.extend(LedgerEntryModel.by_day.query(day.isoformat()))
        day += timedelta(days=1)
    return sorted(out, key=lambda e: int(e.seq))


def _refund_row(entry) -> dict:
    return {k: (int(getattr(entry, k)) if k in ("seq", "amount") else getattr(entry, k)) for k in REFUND_FIELDS}


@route(bp, "/finance/refunds", methods=["GET"])
def refunds() -> dict:
    principal(bp.current_request, ROLES)
    start, end = _range(bp.current_request, required=True)
    return {"items": [_refund_row(e) for e in _entries_between(start, end)], "next_cursor": None}


@route(bp, "/finance/refunds.csv", methods=["GET"])
def refunds_csv() -> Response:
    principal(bp.current_request, ROLES)
    start, end = _range(bp.current_request, required=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REFUND_FIELDS, lineterminator="\n")
    writer.writeheader()
    for entry in _entries_between(start, end):
        writer.writerow(_refund_row(entry))
    return Response(body=out.getvalue(), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="refunds-{start}-{end}.csv"'})


@route(bp, "/finance/ledger/verify", methods=["GET"])
def verify_ledger() -> dict:
    from returns_core import ledger

    principal(bp.current_request, ROLES)
    start, end = _range(bp.current_request, required=False)
    chain = list(ledger.entries())  # one Query on the ledger's partition, in sequence order
    picked = [e for e in chain if (start is None or e.issued_day >= start.isoformat())
              and (end is None or e.issued_day <= end.isoformat())]
    if not picked:
        return {"ok": True, "checked": 0, "first_bad_seq": None}
    first = int(picked[0].seq)
    before = [e for e in chain if int(e.seq) < first]
    prev = before[-1] if before else None
    expected_first = int(prev.seq) + 1 if prev else 1
    if first != expected_first:  # entries deleted just before the range
        return {"ok": False, "checked": 0, "first_bad_seq": expected_first}
    ok, checked, bad = ledger.verify(picked, prev.hash if prev else ledger.GENESIS)
    return {"ok": ok, "checked": checked, "first_bad_seq": bad}
