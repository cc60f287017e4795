"""Issue 29 on the real template and state machine: an order shipped to Germany (once `422 country 'DE'
is not served`) gets relay points and, through the IssueLabel function, a label: the local stack's demo
carrier's, which says DEMO on it, beside its QR code."""
from __future__ import annotations

import io
import urllib.request

import pypdf
import pytest

from returns_core.edge import auth

from .helpers import Http, order_payload, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


@pytest.mark.slow
def test_a_german_return_gets_a_demo_label_and_qr_from_the_label_function(stack, api):
    http = Http(api)
    order = {**order_payload(locale="de-DE"),
             "shipping_address": {"line1": "Lagerstr. 5", "postcode": "10115", "city": "Berlin", "country": "DE"}}
    assert http.call("PUT", "/orders/ORD-DE-1", order, token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-DE-1", "email": "ana@example.com"})[1]["token"]
    status, points, _ = http.call("GET", "/relay-points?postcode=10115&country=DE&limit=1")
    assert status == 200 and points["items"][0]["country"] == "DE", points
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": "ORD-DE-1", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "refund", "dropoff": {"method": "relay_point", "relay_point_id": points["items"][0]["id"]}},
        token=customer)
    assert status == 201 and ret["dropoff"]["carrier"] == "demo", ret

    def get() -> dict:
        return http.call("GET", f"/returns/{ret['return_id']}", token=customer)[1]

    ready = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label", timeout=30)
    with urllib.request.urlopen(ready["label"]["download_url"]) as pdf:
        text = pypdf.PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
    assert "DEMO — not a carrier label" in text
    with urllib.request.urlopen(ready["label"]["qr_url"]) as png:
        assert png.read().startswith(b"\x89PNG")
