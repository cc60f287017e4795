"""A sample order judged by a draft policy (or the one in force): what `POST /returns` would decide
and quote, by the same functions, with nothing read from or written to the order or return tables."""
from __future__ import annotations

from datetime import datetime

from ..rules import clock, paid, policy, policy_document, refund_timing, risk
from ..rules.errors import UnprocessableError
from ..rules.policy_document import OrderFacts
from . import labels, policies
from .request_return import check_selection, keep_terms


def _delivered(order: dict) -> datetime | None:
    try:
        return clock.parse(order["delivered_at"]) if order.get("delivered_at") else None
    except ValueError:
        return None


def simulate(draft: dict | None, order: dict, items: list[dict], resolution: str, recent_returns: int = 0,
             customer: dict | None = None) -> dict:
    """`customer`: what the risk score knows of the customer beyond the order (rules/risk.Facts' fields)."""
    for field, message in paid.order_problems(order["lines"], int(order["payment"]["captured_amount"]),
                                              order.get("shipping_paid")):
        raise UnprocessableError(message, field=f"order.{field}", code="invalid_value")
    if draft is None:
        in_force = policies.current()
        document, version, warned = in_force.document, in_force.version, []
    else:
        document, warned = policies.validated(draft)
        version = None
    delivered = _delivered(order)
    facts = OrderFacts(order["currency"], (order.get("shipping_address") or {}).get("country"),
                       policy_document.delivered_on(delivered), recent_returns)
    decided = policies.decisions(document, order["lines"], facts, items, resolution)
    lines = policy.order_eligibility(order["lines"], {}, delivered, clock.now(),
                                     terms={sku: d.terms for sku, d in decided.items()},
                                     rules={sku: d.rule for sku, d in decided.items()})
    out = {"version": version, "warnings": warned, "lines": lines, "problems": [], "quote": None,
           "keep_item": False, "review": False, "approval_required": False, "items": [], "risk": None,
           "refund_timing": None}
    try:
        check_selection({x["sku"]: x for x in lines}, items, resolution, decided)
    except UnprocessableError as exc:
        out["problems"] = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        return out
    terms = keep_terms(decided, items)
    held = {i["sku"]: 0 for i in items}
    amounts = paid.items_paid(order["lines"], int(order["payment"]["captured_amount"]), order.get("shipping_paid"),
                              items, held)
    prices = {line["sku"]: int(line["unit_price"]) for line in order["lines"]}
    quote = policy.quote_request(items, prices, order["currency"], resolution, paid=amounts, terms=terms)
    order_total = sum(int(x["unit_price"]) * int(x["qty"]) for x in order["lines"])
    strictest = min(terms.values(), key=lambda t: t.approval_threshold)
    scored = risk.score(risk.Facts(**{**(customer or {}), "earlier_returns_90d": recent_returns,
                                      "refund_amount": quote.refund_amount - quote.bonus,
                                      "order_captured": int(order["payment"]["captured_amount"]),
                                      "approval_threshold": strictest.approval_threshold}),
                        document.risk_weights)
    timing = refund_timing.decide([t.refund_on for t in terms.values()], [t.risk_hold_above for t in terms.values()],
                                  scored.score, resolution, policy.needs_approval(quote.refund_amount, strictest))
    out.update({"risk": scored.to_api(), "refund_timing": timing.to_stored()})
    out.update({
        "quote": quote.to_api(), "keep_item": all(t.keep_item for t in terms.values()),
        "review": policies.is_risky(order_total, recent_returns, list(terms.values())),
        "approval_required": policy.needs_approval(quote.refund_amount, min(
            terms.values(), key=lambda t: t.approval_threshold)),
        "items": [{"sku": i["sku"], "rule": decided[i["sku"]].rule, "keep_item": terms[i["sku"]].keep_item}
                  for i in items],
        # Issue 29: the carrier each drop-off method's label would go with, by the policy's `carriers`.
        "carriers": labels.carriers_for(facts.country or "", terms[items[0]["sku"]].carriers),
    })
    return out
