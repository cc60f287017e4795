"""A return's risk score (rules/risk.py), from bounded reads of our own records; and ops's verdict on a
return (fine or abuse), which the next score of that customer reads.

Reads, all by key or index with a limit (no Scan): the customer's newest returns (the Returns table's
`by_customer` index, at most RECENT_LIMIT, then one BatchGet), whether the customer has another order
(the Orders table's `by_customer` index, limit 2), and the failed lookups of the customer's email (two
keys of the lookup counters).
"""
from __future__ import annotations

from ..rules import clock, risk, timeline
from ..rules.errors import ConflictError, UnprocessableError
from ..store import customers, lookup_attempts, returns, writes
from ..store.models import OrderModel, ReturnModel

# The newest returns a score reads; a customer with more is scored on these (the count saturates long
# before: rules/risk.RECENT_FULL).
RECENT_LIMIT = 25
VERDICT_EVENT = "risk.verdict"


def facts(order: OrderModel, *, refund_amount: int, approval_threshold: int, dropoff: dict | None,
          exclude: str | None = None) -> risk.Facts:
    """What the score of a new return on `order` is decided from. `exclude`: a return id not to count
    (the return being scored, when it is already stored)."""
    now = clock.now()
    newest, _ = customers.returns_of(order.customer_key, limit=RECENT_LIMIT)
    earlier = [risk.Earlier(r.order_id, r.created_at, tuple(r.items or ()),
                            tuple((r.inspection or {}).get("items") or ())
                            if r.inspection and not r.inspection.get("lost") else None,
                            (r.risk_verdict or {}).get("verdict"))
               for r in newest if r.return_id != exclude]
    only_order = [hit.order_id for hit in OrderModel.by_customer.query(order.customer_key, limit=2)] in (
        [], [order.order_id])
    email = (order.customer or {}).get("email") or ""
    collected = (dropoff or {}).get("address") if (dropoff or {}).get("method") == "letterbox" else None
    request = risk.Request(
        order.order_id, refund_amount, int((order.payment or {}).get("captured_amount") or 0), approval_threshold,
        only_order=only_order, shipped_to=order.shipping_address, collected_from=collected,
        customer_name=(order.customer or {}).get("name"),
        failed_lookups=lookup_attempts.email_failures(email, int(now.timestamp())) if email else 0)
    return risk.facts_of(request, earlier, now)


def record_verdict(return_id: str, verdict: str, note: str | None, actor: str) -> ReturnModel:
    """Ops's verdict on a return: kept on it (`risk_verdict`) and told in its timeline. The same verdict
    again changes nothing; another one replaces it (the latest word counts), told in the timeline too."""
    if verdict not in risk.VERDICTS:
        raise UnprocessableError(f"must be one of {', '.join(risk.VERDICTS)}", field="verdict", code="invalid_value")
    ret = returns.get(return_id)

    def decide(ret: ReturnModel) -> writes.Update | None:
        current = ret.risk_verdict or {}
        if current.get("verdict") == verdict and (current.get("note") or None) == (note or None):
            return None
        now = clock.iso()
        given = {"verdict": verdict, "note": note, "by": actor, "at": now}
        # The version read is the write's condition (writes.update): two verdicts at once, the second reads again.
        return writes.Update([ReturnModel.risk_verdict.set(given)],
                             timeline=[timeline.entry(VERDICT_EVENT, actor,
                                                      {"verdict": verdict, "note": note}, now)])

    writes.update(ret, decide, busy=lambda: ConflictError("the return is changing too fast; try again"))
    return ret
