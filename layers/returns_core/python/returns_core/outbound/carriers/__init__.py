"""Carriers: relay-point search and prepaid labels behind one adapter interface.

`get_carrier()` gives the dataset-backed local carrier, the default everywhere
until a real carrier adapter is registered here. Importing this package does
not import reportlab (see label_pdf).
"""
from __future__ import annotations

from .base import (
    Address,
    CarrierAdapter,
    CarrierError,
    IssuedLabel,
    LabelRequest,
    RelayPoint,
    is_valid_tracking_number,
    opening_hours_summary,
    tracking_number_for,
)
from .local_carrier import LocalCarrier, haversine_km, normalize_postcode

__all__ = [
    "Address",
    "CarrierAdapter",
    "CarrierError",
    "IssuedLabel",
    "LabelRequest",
    "LocalCarrier",
    "RelayPoint",
    "get_carrier",
    "haversine_km",
    "is_valid_tracking_number",
    "normalize_postcode",
    "opening_hours_summary",
    "tracking_number_for",
]

_CARRIERS: dict[str, type] = {"local": LocalCarrier}


def get_carrier(name: str = "local") -> CarrierAdapter:
    try:
        return _CARRIERS[name.strip().lower()]()
    except (KeyError, AttributeError):
        raise CarrierError(f"unknown carrier {name!r}; known: {', '.join(sorted(_CARRIERS))}",
                           field="carrier") from None
