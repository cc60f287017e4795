"""Carriers: relay-point search and prepaid return labels behind one adapter interface.

Two kinds: the `demo` carrier (dataset-backed, prints DEMO on every label, the local stack's) and the
real carriers reached through karrio (karrio_carriers.py). Which of them a stack may use is the store's
choice (`LABEL_CARRIERS`, the template's LabelCarriers parameter); their credentials are one JSON secret
(`CARRIER_CREDENTIALS`) only the label function reads. Importing this package imports neither reportlab
nor karrio.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .base import (
    DROPOFF_METHODS,
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
from .demo_carrier import DemoCarrier, haversine_km, normalize_postcode
from .karrio_carriers import CATALOGUE, CarrierRefused, CarrierUnavailable, KarrioCarrier

__all__ = [
    "DROPOFF_METHODS",
    "Address",
    "CarrierAdapter",
    "CarrierError",
    "CATALOGUE",
    "CarrierRefused",
    "CarrierUnavailable",
    "DemoCarrier",
    "IssuedLabel",
    "KarrioCarrier",
    "LabelRequest",
    "RelayPoint",
    "all_carriers",
    "carrier_for",
    "configured_ids",
    "credentials_of",
    "describe",
    "get_carrier",
    "haversine_km",
    "is_valid_tracking_number",
    "normalize_postcode",
    "opening_hours_summary",
    "relay_point_carrier",
    "served_countries",
    "tracking_number_for",
]

DEMO = "demo"
_DEMO = DemoCarrier()


def all_carriers() -> dict[str, CarrierAdapter]:
    """Every carrier this build can issue return labels with, by id: the demo first."""
    return {DEMO: _DEMO, **CATALOGUE}


def get_carrier(name: str = DEMO) -> CarrierAdapter:
    # "local" was the demo carrier's name before it said what it is; returns stored then still name it.
    key = name.strip().lower() if isinstance(name, str) else ""
    carrier = all_carriers().get(DEMO if key == "local" else key)
    if carrier is None:
        raise CarrierError(f"unknown carrier {name!r}; known: {', '.join(sorted(all_carriers()))}",
                           field="carrier")
    return carrier


def configured_ids() -> tuple[str, ...]:
    """The carriers the store set up for this stack (LabelCarriers), in its order of preference; the demo
    carrier when none is given (the local stack, the tests)."""
    raw = os.environ.get("LABEL_CARRIERS", DEMO)
    ids = tuple(dict.fromkeys(i.strip().lower() for i in raw.split(",") if i.strip()))
    return tuple(i for i in ids if i in all_carriers()) or (DEMO,)


def served_countries() -> list[str]:
    """Where some configured carrier collects returns: what the portal offers."""
    return sorted({code for cid in configured_ids() for code in get_carrier(cid).countries()})


def relay_point_carrier() -> CarrierAdapter:
    """The configured carrier whose relay points GET /relay-points lists (karrio gives no carrier's
    relay-point search: only the demo carrier has points, invented and marked so)."""
    for cid in configured_ids():
        carrier = get_carrier(cid)
        if "relay_point" in carrier.dropoff_methods:
            return carrier
    raise CarrierError("no configured carrier offers relay points; drop off at a post office", field="country")


def describe(carrier: CarrierAdapter) -> dict[str, Any]:
    """A carrier as GET /carriers lists it."""
    return {"id": carrier.name, "name": carrier.display_name, "countries": list(carrier.countries()),
            "dropoff_methods": list(carrier.dropoff_methods), "label_formats": list(carrier.label_formats),
            "configured": carrier.name in configured_ids(), "demo": carrier.demo}


def carrier_for(country: str, method: str, wanted: str | None = None,
                preferred: list[str] | None = None) -> CarrierAdapter:
    """The carrier a return's label goes with: the one the customer picked (`dropoff.carrier`) if it serves
    this country and drop-off, else the first of the store's policy preference (`carriers`) then of the
    configured carriers that does. CarrierError naming the field when none does."""
    code = country.strip().upper() if isinstance(country, str) else ""
    usable = [get_carrier(i) for i in configured_ids()]

    def serves(c: CarrierAdapter) -> bool:
        return code in c.countries() and method in c.dropoff_methods

    if wanted:
        try:
            chosen = get_carrier(wanted)
        except CarrierError as exc:
            raise CarrierError(str(exc), field="dropoff.carrier") from None
        if chosen.name not in configured_ids():
            raise CarrierError(f"carrier {wanted!r} is not configured", field="dropoff.carrier")
        if not serves(chosen):
            raise CarrierError(f"carrier {wanted!r} does not collect {method} returns in {code or country!r}",
                               field="dropoff.carrier")
        return chosen
    order = {cid: n for n, cid in enumerate(preferred or [])}
    ranked = sorted(usable, key=lambda c: order.get(c.name, len(order)))
    for c in ranked:
        if serves(c):
            return c
    raise CarrierError(f"no configured carrier collects {method} returns in {code or country!r}",
                       field="dropoff.method" if any(code in c.countries() for c in usable) else "country")


def credentials_of(carrier_id: str) -> dict[str, Any] | None:
    """The carrier's settings for karrio, from the one JSON secret {carrier id: {...}}: the label function
    alone is given it (template.yaml). None when the store has not set them."""
    from ...config import ConfigError
    from .. import secret_store

    try:
        raw = secret_store.get("CARRIER_CREDENTIALS")
    except ConfigError:
        return None
    try:
        value = json.loads(raw or "{}").get(carrier_id)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, dict) and value else None
