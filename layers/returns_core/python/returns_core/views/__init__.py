"""What the API and the pages show: a return (`returns`), an order at lookup (`orders`)."""
from __future__ import annotations

from .orders import eligibility, order_view
from .returns import SHIPMENT_FIELDS, return_view

__all__ = ["SHIPMENT_FIELDS", "eligibility", "order_view", "return_view"]
