"""Carrier-neutral types: what the workflow and the API code against.

Everything here is plain data, so that handlers can import it without paying
for a PDF library at cold start.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# relay_point: a shop the customer picked (GET /relay-points); letterbox: collected from the customer's
# letterbox; post_office: any counter of the carrier, no point picked (the carrier's own network).
DROPOFF_METHODS: tuple[str, ...] = ("relay_point", "letterbox", "post_office")


class CarrierError(ValueError):
    """Input the carrier cannot act on; `field` names it so the API can say which (422)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    postcode: str
    city: str
    country: str
    line2: str = ""

    def lines(self) -> list[str]:
        """Printable lines, empty ones dropped (line2 is usually blank)."""
        city_line = " ".join(p for p in (self.postcode, self.city) if p)
        return [ln for ln in (self.name, self.line1, self.line2, city_line, self.country) if ln]


@dataclass(frozen=True)
class RelayPoint:
    id: str
    name: str
    address: str
    postcode: str
    city: str
    country: str
    lat: float
    lon: float
    # Excluded from hashing so points can still live in sets despite the dict.
    opening_hours: dict[str, str] = field(hash=False)

    def to_api(self, distance_km: float | None = None) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "address": self.address,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
            "distance_km": distance_km,
            # A copy: the dataset objects are shared across requests in a warm Lambda.
            "opening_hours": {day: self.opening_hours.get(day, "closed") for day in DAYS},
        }


@dataclass(frozen=True)
class LabelRequest:
    return_id: str
    return_code: str
    sender: Address
    warehouse: Address
    dropoff_method: str
    relay_point: RelayPoint | None
    items_count: int
    locale: str


@dataclass(frozen=True)
class IssuedLabel:
    """What a carrier hands back: its tracking number, the printable label (`pdf`; a carrier may give it
    as PNG, `label_format` says which) and, where it offers paperless drop-off, a QR code (PNG) to show
    at the counter. At least one of the two."""
    tracking_number: str
    pdf: bytes | None
    qr_png: bytes | None = None
    carrier: str = "demo"
    label_format: str = "PDF"


@runtime_checkable
class CarrierAdapter(Protocol):
    name: str           # the carrier's id: GET /carriers, `dropoff.carrier`
    display_name: str
    demo: bool
    dropoff_methods: tuple[str, ...]
    label_formats: tuple[str, ...]

    def countries(self) -> tuple[str, ...]:
        """The ISO country codes this carrier collects from (relay points and letterboxes)."""
        ...

    def search_relay_points(self, postcode: str, country: str, limit: int = 5) -> list[tuple[RelayPoint, float]]: ...

    def get_relay_point(self, relay_point_id: str) -> RelayPoint | None: ...

    def issue_label(self, request: LabelRequest) -> IssuedLabel: ...


def is_french(locale: str | None) -> bool:
    return bool(locale) and locale.lower().startswith("fr")  # type: ignore[union-attr]


def luhn_check_digit(digits: str) -> str:
    """Mod-10 (Luhn) check digit, so a mistyped tracking number is rejected before any lookup."""
    total = 0
    # Walking from the right, the digit next to the check digit is doubled first.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def tracking_number_for(return_id: str, prefix: str = "LC") -> str:
    """Derived, not random: a retried label step must hand out the same number."""
    body = str(int(hashlib.sha256(return_id.encode("utf-8")).hexdigest(), 16) % 10**10).zfill(10)
    return f"{prefix}{body}{luhn_check_digit(body)}"


def is_valid_tracking_number(value: str, prefix: str = "LC") -> bool:
    if not isinstance(value, str) or len(value) != len(prefix) + 11 or not value.startswith(prefix):
        return False
    digits = value[len(prefix):]
    return digits.isdigit() and digits.isascii() and luhn_check_digit(digits[:-1]) == digits[-1]


_DAY_LABELS = {
    "en": {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"},
    "fr": {"mon": "Lun", "tue": "Mar", "wed": "Mer", "thu": "Jeu", "fri": "Ven", "sat": "Sam", "sun": "Dim"},
}
_CLOSED = {"en": "closed", "fr": "fermé"}


def opening_hours_summary(hours: dict[str, str], locale: str = "en-GB") -> str:
    """'Mon–Fri 09:00-19:00; Sat 09:00-13:00; Sun closed' — runs of equal days folded together."""
    lang = "fr" if is_french(locale) else "en"
    labels = _DAY_LABELS[lang]
    runs: list[tuple[str, str, str]] = []  # (first day, last day, hours)
    for day in DAYS:
        value = (hours.get(day) or "closed").strip()
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], day, value)
        else:
            runs.append((day, day, value))
    parts = []
    for first, last, value in runs:
        days = labels[first] if first == last else f"{labels[first]}–{labels[last]}"
        shown = _CLOSED[lang] if value == "closed" else value.replace(",", ", ")
        parts.append(f"{days} {shown}")
    return "; ".join(parts)
