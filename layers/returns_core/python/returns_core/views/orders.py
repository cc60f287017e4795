"""An order as the customer's lookup shows it."""
from __future__ import annotations

from ..rules import clock, policy, withdrawal as statutory_right
from ..store.models import OrderModel


def _moment(value: str | None):
    """A stored timestamp; one that does not read (written before the edge checked it) counts as none."""
    try:
        return clock.parse(value) if value else None
    except ValueError:
        return None


def eligibility(order: OrderModel, decided: dict | None = None, waive: bool = False,
                statutory: bool = False) -> list[dict]:
    """Each line of the order with what of it may still be returned, now. `decided`: sku -> the line's
    decision under the store's policy (rules/policy_document.Decision); without it, the built-in terms.
    `waive`: an ops exception's view, the waivable rules that fail named per line (policy.WAIVABLE_RULES).
    `statutory`: as the right of withdrawal sees the lines (a store's final sale does not bind it)."""
    delivered = _moment(order.delivered_at)
    decided = decided or {}
    lines = order.lines
    if statutory:
        lines = [statutory_right.statutory_line(line) for line in lines]
    return policy.order_eligibility(lines, order.reserved or {}, delivered,
                                    clock.now(), terms={sku: d.terms for sku, d in decided.items()},
                                    rules={sku: d.rule for sku, d in decided.items()}, waive=waive)


def order_view(order: OrderModel, decided: dict | None = None) -> dict:
    # Only where relay points are searched from, and the language the portal speaks: the token
    # holder sees no address, name or email.
    home = order.shipping_address or {}
    return {"order_id": order.order_id, "currency": order.currency, "lines": eligibility(order, decided),
            "shipping": {"postcode": home.get("postcode"), "country": home.get("country")},
            "customer": {"locale": (order.customer or {}).get("locale")}}
