"""The demo carrier: dataset-backed, the default locally and in tests, no network at run time.

It is no carrier: nobody collects its parcels. Every label it prints says "DEMO — not a carrier label",
its relay points are invented (relay_points.json says so), and GET /carriers lists it with `demo: true`.
A deployed store configures a real carrier (karrio_carriers.py).

Relay points and postcode coordinates are JSON files shipped in the layer, read
once per process (a warm Lambda pays for it only on the first search).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .base import DAYS, DROPOFF_METHODS, CarrierError, IssuedLabel, LabelRequest, RelayPoint, tracking_number_for

DATA_DIR = Path(__file__).resolve().parent / "data"
MIN_LIMIT, MAX_LIMIT = 1, 20
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

_SPAN = r"[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]"
_HOURS = re.compile(rf"^(closed|({_SPAN})(,{_SPAN})*)$")
# Code 128 (set B) and the QR code both carry printable ASCII; anything else would
# make the scanned value differ from the stored one.
_RETURN_CODE = re.compile(r"^[!-~]{1,40}$")


@dataclass(frozen=True)
class _Country:
    pattern: re.Pattern[str]
    example: str
    prefixes: dict[str, tuple[float, float]]
    longest_prefix: int


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@lru_cache(maxsize=1)
def _postcode_tables() -> dict[str, _Country]:
    raw = json.loads((DATA_DIR / "postcodes.json").read_text(encoding="utf-8"))
    tables = {}
    for code, spec in raw["countries"].items():
        prefixes = {k: (float(v[0]), float(v[1])) for k, v in spec["prefixes"].items()}
        tables[code] = _Country(re.compile(spec["pattern"]), spec["example"], prefixes, max(map(len, prefixes)))
    return tables


@lru_cache(maxsize=1)
def _relay_points() -> tuple[dict[str, RelayPoint], dict[str, tuple[RelayPoint, ...]]]:
    """(by id, by country); validated on load so a bad edit of the JSON fails the first test, not a customer."""
    raw = json.loads((DATA_DIR / "relay_points.json").read_text(encoding="utf-8"))
    by_id: dict[str, RelayPoint] = {}
    by_country: dict[str, list[RelayPoint]] = {}
    for row in raw["points"]:
        hours = {day: row["opening_hours"][day] for day in DAYS}
        bad = [d for d, v in hours.items() if not _HOURS.match(v)]
        if bad:
            raise ValueError(f"relay point {row['id']}: bad opening hours for {bad}")
        point = RelayPoint(
            id=row["id"], name=row["name"], address=row["address"], postcode=row["postcode"],
            city=row["city"], country=row["country"], lat=float(row["lat"]), lon=float(row["lon"]),
            opening_hours=hours,
        )
        if point.id in by_id:
            raise ValueError(f"duplicate relay point id {point.id}")
        by_id[point.id] = point
        by_country.setdefault(point.country, []).append(point)
    return by_id, {c: tuple(pts) for c, pts in by_country.items()}


def supported_countries() -> tuple[str, ...]:
    return tuple(sorted(_postcode_tables()))


def normalize_country(country: str) -> str:
    code = country.strip().upper() if isinstance(country, str) else ""
    if code not in _postcode_tables():
        raise CarrierError(
            f"country {country!r} is not served; supported: {', '.join(supported_countries())}", field="country"
        )
    return code


def normalize_postcode(postcode: str, country: str) -> str:
    """Strip spaces (people type '75 011'), then check the country's format."""
    code = normalize_country(country)
    spec = _postcode_tables()[code]
    value = re.sub(r"\s+", "", postcode) if isinstance(postcode, str) else ""
    if not spec.pattern.match(value):
        raise CarrierError(f"postcode {postcode!r} is not a valid {code} postcode (e.g. {spec.example})",
                           field="postcode")
    return value


def postcode_coordinates(postcode: str, country: str) -> tuple[float, float]:
    """(lat, lon) of the longest known prefix of the postcode."""
    code = normalize_country(country)
    value = normalize_postcode(postcode, code)
    spec = _postcode_tables()[code]
    for n in range(min(len(value), spec.longest_prefix), 0, -1):
        hit = spec.prefixes.get(value[:n])
        if hit:
            return hit
    # Well-formed but outside the network (e.g. overseas départements, Monaco).
    raise CarrierError(f"postcode {value} is outside the {code} relay network", field="postcode")


class DemoCarrier:
    name = "demo"
    tracking_prefix = "LC"
    display_name = "DEMO — not a carrier"
    demo = True
    dropoff_methods = DROPOFF_METHODS
    label_formats = ("pdf", "qr")

    def countries(self) -> tuple[str, ...]:
        return supported_countries()

    def search_relay_points(self, postcode: str, country: str, limit: int = 5) -> list[tuple[RelayPoint, float]]:
        code = normalize_country(country)
        lat, lon = postcode_coordinates(postcode, code)
        try:
            limit = max(MIN_LIMIT, min(MAX_LIMIT, int(limit)))
        except (TypeError, ValueError):
            raise CarrierError("limit must be an integer", field="limit") from None
        candidates = _relay_points()[1].get(code, ())
        # Ties broken by id so the same query always lists the same points in the same order.
        ranked = sorted((haversine_km(lat, lon, p.lat, p.lon), p.id, p) for p in candidates)
        return [(p, round(d, 1)) for d, _, p in ranked[:limit]]

    def get_relay_point(self, relay_point_id: str) -> RelayPoint | None:
        if not isinstance(relay_point_id, str):
            return None
        return _relay_points()[0].get(relay_point_id.strip())

    def issue_label(self, request: LabelRequest) -> IssuedLabel:
        self._validate(request)
        tracking = tracking_number_for(request.return_id, self.tracking_prefix)
        # Imported here, not at module top: reportlab costs ~100 ms of cold start
        # and only the label step needs it.
        from .label_pdf import render_label_pdf, render_qr_png

        pdf = render_label_pdf(request, tracking, carrier_name=self.display_name, demo=True)
        return IssuedLabel(tracking_number=tracking, pdf=pdf, qr_png=render_qr_png(request.return_code),
                           carrier=self.name)

    def _validate(self, request: LabelRequest) -> None:
        if not isinstance(request.return_id, str) or not request.return_id.strip():
            raise CarrierError("return_id is required", field="return_id")
        if not isinstance(request.return_code, str) or not _RETURN_CODE.match(request.return_code):
            raise CarrierError("return_code must be 1-40 printable ASCII characters without spaces",
                               field="return_code")
        if request.dropoff_method not in DROPOFF_METHODS:
            raise CarrierError(f"dropoff_method must be one of {', '.join(DROPOFF_METHODS)}", field="dropoff_method")
        if request.dropoff_method == "relay_point":
            rp = request.relay_point
            if rp is None:
                raise CarrierError("a relay point is required for relay_point drop-off", field="relay_point_id")
            # A label routed to a point this carrier does not know is a lost parcel.
            if self.get_relay_point(rp.id) is None:
                raise CarrierError(f"unknown relay point {rp.id!r}", field="relay_point_id")
        if isinstance(request.items_count, bool) or not isinstance(request.items_count, int) or request.items_count < 1:
            raise CarrierError("items_count must be a positive integer", field="items_count")
        wh = request.warehouse
        if not (wh.name.strip() and wh.line1.strip() and wh.city.strip()):
            raise CarrierError("warehouse address needs a name, a street line and a city", field="warehouse")
        # The sender's address only matters when the carrier comes to collect; a missing
        # customer name must not block a relay-point label.
        snd = request.sender
        if request.dropoff_method == "letterbox" and not (
                snd.line1.strip() and snd.postcode.strip() and snd.city.strip()):
            raise CarrierError("letterbox collection needs the sender's street, postcode and city", field="sender")
