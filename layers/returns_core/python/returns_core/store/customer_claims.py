"""A customer's claims (a problem with an order that needs no return parcel), for customer service's search.

Read through the Claims table's by_customer index (newest first), never a Scan; each claim's timeline
from the timeline table, newest first, one backwards Query. A claim on an order outside `order_ids`
(another order of the same customer key, past the orders the search read) is still theirs and shown.
"""
from __future__ import annotations

from .models import ClaimModel, TimelineEntryModel

MAX_CLAIMS = 100


def claims_of(customer_key: str, order_ids: list[str], timeline_limit: int) -> list[dict]:
    """The customer's claims, newest first, each {"claim_id", "order_id", "kind", "status", "created_at",
    "timeline"} with at most `timeline_limit` entries of its timeline, newest first."""
    hits = list(ClaimModel.by_customer.query(customer_key, scan_index_forward=False, limit=MAX_CLAIMS))
    out = []
    for claim in ClaimModel.load_many(hits):
        entries = []
        if int(claim.timeline_count or 0):
            entries = [{**e.as_entry(), "claim_id": claim.claim_id} for e in TimelineEntryModel.query(
                claim.claim_id, scan_index_forward=False, limit=timeline_limit, consistent_read=True)]
        out.append({"claim_id": claim.claim_id, "order_id": claim.order_id, "kind": claim.kind,
                    "status": claim.status, "created_at": claim.created_at, "timeline": entries})
    return out
