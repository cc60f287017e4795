"""Relay-point search of the local carrier: dataset sanity, distances, errors."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from returns_core.outbound.carriers import (
    CarrierAdapter,
    CarrierError,
    DemoCarrier,
    RelayPoint,
    get_carrier,
    haversine_km,
    opening_hours_summary,
)
from returns_core.outbound.carriers.base import DAYS
from returns_core.outbound.carriers.demo_carrier import DATA_DIR, postcode_coordinates

# Rough bounding boxes: metropolitan France with Corsica, and Belgium.
BBOX = {"FR": (41.3, 51.2, -5.2, 9.6), "BE": (49.4, 51.6, 2.5, 6.5), "DE": (47.2, 55.1, 5.8, 15.1),
        "AT": (46.3, 49.1, 9.5, 17.2), "NL": (50.7, 53.6, 3.3, 7.3), "LU": (49.4, 50.2, 5.7, 6.6),
        "PT": (36.9, 42.2, -9.6, -6.1), "ES": (35.9, 43.8, -9.4, 4.4), "IT": (36.6, 47.1, 6.6, 18.6)}
NINE = ("AT", "BE", "DE", "ES", "FR", "IT", "LU", "NL", "PT")


@pytest.fixture(scope="module")
def carrier() -> DemoCarrier:
    return get_carrier()


@pytest.fixture(scope="module")
def points() -> list[dict]:
    return json.loads((DATA_DIR / "relay_points.json").read_text(encoding="utf-8"))["points"]


# --- the dataset -------------------------------------------------------------


def test_dataset_covers_the_required_cities(points: list[dict]) -> None:
    by_country = Counter(p["country"] for p in points)
    assert by_country["FR"] >= 60
    assert by_country["BE"] >= 15
    cities = Counter(p["city"] for p in points)
    for city in ("Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Toulouse", "Nantes", "Strasbourg"):
        assert cities[city] >= 4, city
    for city in ("Bruxelles", "Antwerpen", "Gent", "Liège"):
        assert cities[city] >= 2, city
    assert len({p["city"] for p in points if p["country"] == "FR"}) >= 25


def test_dataset_rows_are_well_formed(points: list[dict], carrier: DemoCarrier) -> None:
    assert len({p["id"] for p in points}) == len(points)
    for p in points:
        lat_min, lat_max, lon_min, lon_max = BBOX[p["country"]]
        assert lat_min < p["lat"] < lat_max and lon_min < p["lon"] < lon_max, p["id"]
        assert set(p["opening_hours"]) == set(DAYS), p["id"]
        assert any(v != "closed" for v in p["opening_hours"].values()), p["id"]
        loaded = carrier.get_relay_point(p["id"])
        assert loaded is not None and loaded.name == p["name"]


def test_each_point_lies_near_its_own_postcode(points: list[dict]) -> None:
    # Catches a swapped lat/lon or a typo in a postcode in either JSON file.
    for p in points:
        lat, lon = postcode_coordinates(p["postcode"], p["country"])
        assert haversine_km(lat, lon, p["lat"], p["lon"]) < 10, p["id"]


def test_paris_arrondissements_are_all_precise() -> None:
    seen = set()
    for n in range(1, 21):
        coords = postcode_coordinates(f"750{n:02d}", "FR")
        assert haversine_km(*coords, 48.8566, 2.3522) < 8
        seen.add(coords)
    assert len(seen) == 20  # none falls back to the département point


def test_haversine_known_distance() -> None:
    # Paris (Hôtel de Ville) to Lyon (Bellecour) is about 392 km as the crow flies.
    assert haversine_km(48.8566, 2.3522, 45.7578, 4.8320) == pytest.approx(392, abs=4)
    assert haversine_km(50.0, 4.0, 50.0, 4.0) == 0


# --- search ------------------------------------------------------------------


def test_paris_11e_finds_paris_points_nearest_first(carrier: DemoCarrier) -> None:
    results = carrier.search_relay_points("75011", "FR")
    assert len(results) == 5
    first, distance = results[0]
    assert first.city == "Paris" and first.postcode.startswith("75")
    assert distance < 3
    distances = [d for _, d in results]
    assert distances == sorted(distances)
    assert all(d == round(d, 1) for d in distances)
    assert all(p.country == "FR" for p, _ in results)


@pytest.mark.parametrize(
    ("postcode", "country", "city"),
    [
        ("69003", "FR", "Lyon"),
        ("13001", "FR", "Marseille"),
        ("59000", "FR", "Lille"),
        ("33000", "FR", "Bordeaux"),
        ("31000", "FR", "Toulouse"),
        ("44000", "FR", "Nantes"),
        ("67000", "FR", "Strasbourg"),
        ("1000", "BE", "Bruxelles"),
        ("2000", "BE", "Antwerpen"),
        ("9000", "BE", "Gent"),
        ("4000", "BE", "Liège"),
    ],
)
def test_city_centre_postcodes_find_local_points(carrier: DemoCarrier, postcode: str, country: str, city: str) -> None:
    (first, distance), *_ = carrier.search_relay_points(postcode, country, limit=3)
    assert first.city == city
    assert distance < 3


def test_belgium_only_returns_belgian_points(carrier: DemoCarrier) -> None:
    results = carrier.search_relay_points("1050", "BE", limit=20)
    assert results and all(p.country == "BE" for p, _ in results)
    assert results[0][0].city in {"Ixelles", "Bruxelles", "Saint-Gilles"}
    # Mouscron sits on the French border; it must still get Belgian points, not Lille's.
    assert all(p.country == "BE" for p, _ in carrier.search_relay_points("7700", "BE"))


def test_input_is_normalised(carrier: DemoCarrier) -> None:
    assert carrier.search_relay_points(" 75 011 ", "fr", 3) == carrier.search_relay_points("75011", "FR", 3)


def test_rural_postcode_falls_back_to_the_departement(carrier: DemoCarrier) -> None:
    # 29 = Finistère: Brest has a point; a village postcode still gets results.
    (first, distance), *_ = carrier.search_relay_points("29860", "FR", 1)
    assert first.city == "Brest" and distance < 80


@pytest.mark.parametrize(("limit", "expected"), [(1, 1), (3, 3), (0, 1), (-4, 1), (20, 20), (500, 20)])
def test_limit_is_clamped(carrier: DemoCarrier, limit: int, expected: int) -> None:
    assert len(carrier.search_relay_points("75011", "FR", limit=limit)) == expected


def test_search_is_deterministic(carrier: DemoCarrier) -> None:
    ids = [[p.id for p, _ in carrier.search_relay_points("69002", "FR", 20)] for _ in range(3)]
    assert ids[0] == ids[1] == ids[2]


@pytest.mark.parametrize("country", ["XX", "", "FRA", "CH", None])
def test_unknown_country(carrier: DemoCarrier, country: str) -> None:
    with pytest.raises(CarrierError) as err:
        carrier.search_relay_points("75011", country)
    assert err.value.field == "country"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("postcode", "country"),
    [
        ("7501", "FR"), ("750111", "FR"), ("75O11", "FR"), ("00100", "FR"), ("", "FR"), ("2A004", "FR"),
        ("97100", "FR"),  # well-formed, Guadeloupe: outside the network
        ("0999", "BE"), ("10000", "BE"), ("B-1000", "BE"), ("75011", "BE"), ("1050", "FR"),
    ],
)
def test_bad_postcode(carrier: DemoCarrier, postcode: str, country: str) -> None:
    with pytest.raises(CarrierError) as err:
        carrier.search_relay_points(postcode, country)
    assert err.value.field == "postcode"


def test_bad_limit_type(carrier: DemoCarrier) -> None:
    with pytest.raises(CarrierError) as err:
        carrier.search_relay_points("75011", "FR", limit="lots")  # type: ignore[arg-type]
    assert err.value.field == "limit"


# --- lookup and the API shape ------------------------------------------------


def test_get_relay_point_round_trip(carrier: DemoCarrier) -> None:
    for point, _ in carrier.search_relay_points("44000", "FR", 5):
        assert carrier.get_relay_point(point.id) == point
    assert carrier.get_relay_point("LC-FR-99999-01") is None
    assert carrier.get_relay_point("") is None
    assert carrier.get_relay_point(None) is None  # type: ignore[arg-type]


def test_to_api_shape(carrier: DemoCarrier) -> None:
    point, distance = carrier.search_relay_points("75011", "FR", 1)[0]
    body = point.to_api(distance)
    assert set(body) == {"id", "name", "address", "postcode", "city", "country", "distance_km", "opening_hours"}
    assert body["distance_km"] == distance
    assert list(body["opening_hours"]) == list(DAYS)
    json.dumps(body)
    body["opening_hours"]["mon"] = "tampered"
    assert point.opening_hours["mon"] != "tampered"  # the shared dataset object is untouched
    assert point.to_api()["distance_km"] is None


def test_relay_points_are_hashable(carrier: DemoCarrier) -> None:
    pts = [p for p, _ in carrier.search_relay_points("75011", "FR", 5)]
    assert len(set(pts)) == 5


def test_opening_hours_summary() -> None:
    hours = {"mon": "closed", "tue": "09:00-19:00", "wed": "09:00-19:00", "thu": "09:00-19:00",
             "fri": "09:00-12:30,14:00-19:00", "sat": "09:00-13:00", "sun": "closed"}
    assert opening_hours_summary(hours, "en-GB") == (
        "Mon closed; Tue–Thu 09:00-19:00; Fri 09:00-12:30, 14:00-19:00; Sat 09:00-13:00; Sun closed"
    )
    assert opening_hours_summary(hours, "fr-FR").startswith("Lun fermé; Mar–Jeu 09:00-19:00")


# --- the factory and import cost ---------------------------------------------


def test_get_carrier() -> None:
    carrier = get_carrier()
    # Issue 29: the dataset carrier says what it is; returns stored under its old name still find it.
    assert isinstance(carrier, CarrierAdapter) and carrier.name == "demo" and carrier.demo is True
    assert isinstance(get_carrier("LOCAL"), DemoCarrier) and isinstance(get_carrier("Demo"), DemoCarrier)
    with pytest.raises(CarrierError) as err:
        get_carrier("pigeon")
    assert err.value.field == "carrier"
    assert isinstance(carrier.search_relay_points("75011", "FR", 1)[0][0], RelayPoint)


def test_importing_carriers_does_not_load_reportlab() -> None:
    layer = Path(__file__).resolve().parents[2] / "layers" / "returns_core" / "python"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import returns_core.outbound.carriers as c; "
        "c.get_carrier().search_relay_points('75011', 'FR'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('reportlab', 'segno', 'PIL')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code, str(layer)], check=True)


def test_the_demo_serves_nine_countries_each_with_its_own_relay_points_marked_demo(carrier: DemoCarrier) -> None:
    assert carrier.countries() == NINE
    for country in NINE:
        example = {"AT": "1010", "BE": "1050", "DE": "10115", "ES": "28013", "FR": "75011", "IT": "00184",
                   "LU": "1009", "NL": "1012 AB", "PT": "1100-148"}[country]
        found = carrier.search_relay_points(example, country, 3)
        assert found and all(p.country == country for p, _ in found), country
        if country not in ("FR", "BE"):   # the points added for the demo say so in their name
            assert all(p.name.startswith("DEMO ") and p.id.startswith("DEMO-") for p, _ in found), country


@pytest.mark.parametrize(("postcode", "country"), [("1234", "DE"), ("123456", "IT"), ("1012", "NL"), ("53000", "ES"),
                                                   ("11001", "AT"), ("1100", "PT"), ("ABCDE", "DE")])
def test_a_postcode_a_country_does_not_have_is_refused_naming_the_field(carrier: DemoCarrier, postcode: str,
                                                                        country: str) -> None:
    with pytest.raises(CarrierError) as err:
        carrier.search_relay_points(postcode, country)
    assert err.value.field == "postcode"
