"""A customer's claims (a problem with an order that needs no return parcel), for customer service's search.

The Claims table is being built beside this (issue 19, "Claims"). Until it lands this answers no claims,
so the search works before and after. Where its data plugs in: `claims_of` returns, for the customer's
orders, each claim as {"claim_id", "order_id", "kind", "status", "created_at", "timeline": [{"at",
"type", "actor", "detail"}, ...]} (its timeline newest first, at most `timeline_limit` entries). It must
read by key or index (a Query by order_id or customer_key), never a Scan.
"""
from __future__ import annotations


def claims_of(customer_key: str, order_ids: list[str], timeline_limit: int) -> list[dict]:
    """The customer's claims on these orders, newest first; [] while there is no Claims table."""
    return []
