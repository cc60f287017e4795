"""Customer service looks a customer up by email, order number or tracking number, and sees everything
of theirs in one place: orders, returns, claims, and one timeline of every return, claim, dispute and
message, newest first (POST /ops/customers/search)."""
from __future__ import annotations

from ..rules import customer_timeline, ids
from ..rules.errors import NotFoundError
from ..rules.timeline import text
from ..store import customer_claims, customers
from ..store.models import OrderModel
from ..views import customers as customers_view


def _not_found() -> NotFoundError:
    # The same answer whichever key was given: the search says nothing about what exists for another key.
    return NotFoundError("no customer matches this search", code="customer_not_found")


def customer_key_of(email: str | None = None, order_id: str | None = None,
                    tracking_number: str | None = None) -> str:
    """The customer key of exactly one of: an email (normalised by the key), an order, a parcel."""
    if email is not None:
        return ids.customer_key(email)
    if order_id is not None:
        try:
            return OrderModel.get(order_id, consistent_read=True).customer_key
        except OrderModel.DoesNotExist:
            raise _not_found() from None
    ret = customers.return_by_tracking(tracking_number or "")
    if ret is None:
        raise _not_found()
    return ret.customer_key


def _order_entries(order: OrderModel) -> list[dict]:
    out = []
    if order.delivered_at:
        out.append(customer_timeline.entry({"at": order.delivered_at, "type": "order.delivered", "actor": "store",
                                            "detail": None}, order_id=order.order_id, text="The order was delivered."))
    if order.placed_at:
        out.append(customer_timeline.entry({"at": order.placed_at, "type": "order.placed", "actor": "customer",
                                            "detail": None}, order_id=order.order_id, text="The order was placed."))
    return out


def search(email: str | None = None, order_id: str | None = None, tracking_number: str | None = None,
           limit: int = customer_timeline.MAX_ENTRIES) -> dict:
    """Everything of one customer (404 customer_not_found when the key finds no order and no return).
    Bounded: the newest orders and returns (store.customers), each timeline's newest `limit` entries,
    and the merged timeline's newest `limit`; `truncated` says whether anything was left out."""
    key = customer_key_of(email, order_id, tracking_number)
    orders, more_orders = customers.orders_of(key)
    returns, more_returns = customers.returns_of(key)
    if not orders and not returns:
        raise _not_found()
    orders.sort(key=lambda o: o.placed_at or o.updated_at or "", reverse=True)
    newest = orders[0].customer if orders else {}
    sources: list[list[dict]] = [_order_entries(o) for o in orders]
    truncated = more_orders or more_returns
    for ret in returns:
        entries, more = customers.newest_timeline(ret, limit)
        truncated = truncated or more
        sources.append([customer_timeline.entry(e, return_id=ret.return_id, order_id=ret.order_id,
                                                text=text(e, ret.currency)) for e in entries])
    claims = customer_claims.claims_of(key, [o.order_id for o in orders], limit)
    for claim in claims:
        sources.append([customer_timeline.entry(e, claim_id=claim["claim_id"], order_id=claim.get("order_id"))
                        for e in claim.get("timeline", [])])
    timeline, truncated = customer_timeline.merge(sources, limit, truncated)
    return {"customer": {"email": newest.get("email"), "name": newest.get("name")},
            "orders": [customers_view.order_summary(o) for o in orders],
            "returns": [customers_view.return_summary(r) for r in returns],
            "claims": [{k: v for k, v in c.items() if k != "timeline"} for c in claims],
            "timeline": timeline, "truncated": truncated}
