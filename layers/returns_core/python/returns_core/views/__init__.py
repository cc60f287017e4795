"""What the API and the pages show: a return (`returns`), an order at lookup (`orders`)."""
from __future__ import annotations

from .orders import eligibility, order_view
from .returns import SHIPMENT_FIELDS, customer_return_view, for_customer, return_view, return_view_for, risk_of

__all__ = ["SHIPMENT_FIELDS", "customer_return_view", "eligibility", "for_customer", "order_view", "return_view",
           "return_view_for", "risk_of"]
