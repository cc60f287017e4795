"""A customer's records, found by their customer key (rules.ids.customer_key: the hash of the normalised
email) through the indexes made for it: never a Scan. Customer service's search reads these."""
from __future__ import annotations

from .models import OrderModel, ReturnModel, TimelineEntryModel

# The most of each kind one search reads: a customer with more is shown their newest (and told so).
MAX_ORDERS = 100
MAX_RETURNS = 100


def orders_of(customer_key: str, limit: int = MAX_ORDERS) -> tuple[list[OrderModel], bool]:
    """The customer's orders (the Orders table's by_customer index, keys only, then one BatchGet) and
    whether there were more than `limit`."""
    ids = [hit.order_id for hit in OrderModel.by_customer.query(customer_key, limit=limit + 1)]
    more, ids = len(ids) > limit, ids[:limit]
    found: dict[str, OrderModel] = {}
    for start in range(0, len(ids), 100):   # BatchGetItem's limit
        found.update((o.order_id, o) for o in OrderModel.batch_get(ids[start:start + 100], consistent_read=True))
    return [found[i] for i in ids if i in found], more


def returns_of(customer_key: str, limit: int = MAX_RETURNS) -> tuple[list[ReturnModel], bool]:
    """The customer's returns, newest first (the Returns table's by_customer index), and whether there
    were more than `limit`."""
    hits = list(ReturnModel.by_customer.query(customer_key, scan_index_forward=False, limit=limit + 1))
    return ReturnModel.load_many(hits[:limit]), len(hits) > limit


def return_by_tracking(tracking_number: str) -> ReturnModel | None:
    """The return whose label carries this tracking number (the by_tracking index)."""
    hits = list(ReturnModel.by_tracking.query(tracking_number, limit=1))
    found = ReturnModel.load_many(hits)
    return found[0] if found else None


def newest_timeline(ret: ReturnModel, limit: int) -> tuple[list[dict], bool]:
    """At most `limit` of the return's newest timeline entries, newest first, and whether it has more:
    one Query read backwards, so a return with thousands of carrier events costs one page."""
    inline = list(reversed(ret.timeline or []))   # returns written before kept them inline
    items: list[dict] = []
    if int(ret.timeline_count or 0):
        items = [i.as_entry() for i in TimelineEntryModel.query(
            ret.return_id, scan_index_forward=False, limit=limit + 1, consistent_read=True)]
    found = [*items, *inline]
    return found[:limit], len(found) > limit
