"""Issue 14, defect 4: an order's dates are checked where they come in, and no stored date breaks eligibility.

`delivered_at` far in the future was accepted; then the lookup, the quote and POST /returns were
500s (an OverflowError adding the return window to it). Now PUT /orders refuses a delivery after
now plus a day or before `placed_at` (422 naming `delivered_at`), and an order stored before
with such a date still reads.

The API in-process against moto (test_api_unit's harness).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.api.support import auth, customer, error_of, order_body, return_body, send

EXTREMES = ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999-05:00", "9999-12-31", "0001-01-01T00:00:00+05:00",
            "0001-01-01T00:00:00Z")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _customer_calls(api, order_id: str) -> list:
    """The lookup, the live quote and POST /returns of an order, as the customer makes them."""
    return [
        send(api, "POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"}),
        send(api, "POST", "/returns/quote", {"order_id": order_id, "resolution": "refund",
                                             "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}]},
             customer(order_id)),
        send(api, "POST", "/returns", return_body(order_id), customer(order_id)),
    ]


@pytest.mark.parametrize("delivered_at", [
    "9999-12-31T23:59:59Z",                          # the one that overflowed
    "9999-12-31T23:59:59.999999-05:00",              # past the end of time once in UTC
    _iso(_now() + timedelta(days=400)),
    _iso(_now() + timedelta(days=1, hours=2)),
], ids=["year-9999", "year-9999-negative-offset", "next-year", "a-day-and-two-hours"])
def test_a_delivery_in_the_future_is_422_naming_delivered_at(api, delivered_at):
    res = send(api, "PUT", "/orders/o-late", order_body(delivered_at=delivered_at), auth("store"))
    assert res.status_code == 422, res.body
    assert error_of(res)["details"]["field"] == "delivered_at"
    # Nothing was stored: the customer finds no order rather than a 500.
    assert [r.status_code for r in _customer_calls(api, "o-late")] == [404, 404, 404]


def test_a_delivery_before_the_order_was_placed_is_422_naming_delivered_at(api):
    placed = _now() - timedelta(days=2)
    res = send(api, "PUT", "/orders/o-1", order_body(placed_at=_iso(placed),
                                                     delivered_at=_iso(placed - timedelta(seconds=1))), auth("store"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "delivered_at", res.body
    # The same instant in another offset is not before it.
    same = placed.astimezone(timezone(timedelta(hours=2))).isoformat()
    res = send(api, "PUT", "/orders/o-1", order_body(placed_at=_iso(placed), delivered_at=same), auth("store"))
    assert res.status_code == 201, res.body


def test_a_delivery_within_a_day_of_now_is_accepted(api):
    """Clocks differ: the store's `delivered_at` may be a little ahead of ours."""
    soon = _now() + timedelta(hours=20)
    res = send(api, "PUT", "/orders/o-1", order_body(placed_at=_iso(_now() - timedelta(days=1)),
                                                     delivered_at=_iso(soon)), auth("store"))
    assert res.status_code == 201, res.body
    lookup, quote, created = _customer_calls(api, "o-1")
    assert (lookup.status_code, quote.status_code, created.status_code) == (200, 200, 201)


@pytest.mark.parametrize("placed_at", EXTREMES)
def test_extreme_placed_at_is_never_a_500(api, placed_at):
    res = send(api, "PUT", "/orders/o-1", order_body(placed_at=placed_at), auth("store"))
    assert res.status_code in (201, 422), res.body
    if res.status_code == 422:
        assert error_of(res)["details"]["field"] in ("placed_at", "delivered_at")


@pytest.mark.parametrize("stored", EXTREMES)
def test_an_order_stored_with_any_delivered_at_never_500s(api, stored):
    """Orders written before the edge checked the date: the eligibility arithmetic cannot overflow."""
    from returns_core.store.models import OrderModel

    assert send(api, "PUT", "/orders/o-old", order_body(), auth("store")).status_code == 201
    OrderModel("o-old").update(actions=[OrderModel.delivered_at.set(stored)], add_version_condition=False)
    lookup, quote, created = _customer_calls(api, "o-old")
    assert lookup.status_code == 200, lookup.body
    assert quote.status_code in (200, 422) and created.status_code in (201, 422), (quote.body, created.body)
    lines = {x["sku"]: x for x in lookup.json_body["order"]["lines"]}
    if stored.startswith("0001"):   # delivered two thousand years ago: the window has passed
        assert lines["TSHIRT-M"]["eligible"] is False and quote.status_code == 422


def test_an_unreadable_stored_delivered_at_is_not_a_500(api):
    from returns_core.store.models import OrderModel

    assert send(api, "PUT", "/orders/o-old", order_body(), auth("store")).status_code == 201
    OrderModel("o-old").update(actions=[OrderModel.delivered_at.set("last tuesday")], add_version_condition=False)
    lookup, quote, created = _customer_calls(api, "o-old")
    assert lookup.status_code == 200, lookup.body
    assert quote.status_code == 422 and created.status_code == 422
