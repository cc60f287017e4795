"""An order as the customer's lookup shows it."""
from __future__ import annotations

from ..rules import clock, policy
from ..store.models import OrderModel, plain


def _moment(value: str | None):
    """A stored timestamp; one that does not read (written before the edge checked it) counts as none."""
    try:
        return clock.parse(value) if value else None
    except ValueError:
        return None


def eligibility(order: OrderModel) -> list[dict]:
    """Each line of the order with what of it may still be returned, now."""
    delivered = _moment(order.delivered_at)
    return policy.order_eligibility([plain(line) for line in order.lines], plain(order.reserved or {}), delivered,
                                    clock.now())


def order_view(order: OrderModel) -> dict:
    # Only where relay points are searched from, and the language the portal speaks: the token
    # holder sees no address, name or email.
    home = plain(order.shipping_address) or {}
    return {"order_id": order.order_id, "currency": order.currency, "lines": eligibility(order),
            "shipping": {"postcode": home.get("postcode"), "country": home.get("country")},
            "customer": {"locale": (plain(order.customer) or {}).get("locale")}}
