"""Issue 29: GET /carriers, the policy's `carriers`, and returns from the nine countries: the demo carrier's
labels and a real carrier's (DHL through karrio, its HTTP replayed by tests/carrier_http_double.py)."""
from __future__ import annotations

import base64
import io
import json

import pypdf

from tests.api.support import auth, customer, error_of, order_body, return_body, send
from tests.carrier_http_double import TOKEN, carrier_http, sample

BERLIN = {"line1": "Charles-de-Gaulle Str. 20", "postcode": "53113", "city": "Bonn", "country": "DE"}
DHL = {"username": "user", "password": "pass", "client_id": "id", "client_secret": "secret"}


def _carriers(api, role: str = "store") -> dict:
    res = send(api, "GET", "/carriers", None, auth(role))
    assert res.status_code == 200, res.body
    return {c["id"]: c for c in res.json_body["items"]}


def _return_from_germany(api, dropoff: dict, order_id: str = "o-1") -> tuple[int, dict]:
    """A return of one item of a German order (a new order each time: `order_id`)."""
    put = send(api, "PUT", f"/orders/{order_id}", order_body(shipping_address=BERLIN), auth("store"))
    assert put.status_code in (200, 201), put.body
    res = send(api, "POST", "/returns", return_body(order_id, dropoff=dropoff), customer(order_id))
    return res.status_code, res.json_body


def test_carriers_lists_every_carrier_and_only_the_demo_is_configured_by_default(api):
    found = _carriers(api)
    assert list(found) == ["demo", "colissimo", "dhl_parcel_de", "gls", "bpost", "easypost"]
    demo = found["demo"]
    assert demo["configured"] is True and demo["demo"] is True and demo["name"].startswith("DEMO")
    assert demo["countries"] == ["AT", "BE", "DE", "ES", "FR", "IT", "LU", "NL", "PT"]
    assert demo["dropoff_methods"] == ["relay_point", "letterbox", "post_office"]
    assert demo["label_formats"] == ["pdf", "qr"]
    assert all(c["configured"] is False and c["demo"] is False for cid, c in found.items() if cid != "demo")
    assert found["dhl_parcel_de"]["label_formats"] == ["pdf", "qr"] and found["bpost"]["countries"] == ["BE"]
    assert _carriers(api, "ops") == found


def test_only_the_store_and_ops_read_the_carriers(api):
    for role in ("warehouse", "finance"):
        assert send(api, "GET", "/carriers", None, auth(role)).status_code == 403
    assert send(api, "GET", "/carriers", None, customer("o-1")).status_code == 403
    assert send(api, "GET", "/carriers").status_code == 401


def test_a_carrier_the_store_names_in_label_carriers_is_configured(api, monkeypatch):
    monkeypatch.setenv("LABEL_CARRIERS", "dhl_parcel_de,demo")
    found = _carriers(api)
    assert found["dhl_parcel_de"]["configured"] is True and found["gls"]["configured"] is False


def test_a_german_order_now_gets_relay_points_and_a_demo_label(api):
    """It was `422 country 'DE' is not served`."""
    from returns_core.usecases import labels

    points = api.http.get("/relay-points?postcode=10115&country=DE&limit=2")
    assert points.status_code == 200, points.body
    items = points.json_body["items"]
    assert len(items) == 2 and all(p["country"] == "DE" and p["name"].startswith("DEMO") for p in items)
    status, ret = _return_from_germany(api, {"method": "relay_point", "relay_point_id": items[0]["id"]})
    assert status == 201, ret
    assert ret["dropoff"]["carrier"] == "demo"
    assert labels.issue(ret["return_id"]) == "awaiting_dropoff"
    pdf = api.http.get(f"/returns/{ret['return_id']}/label", headers=customer("o-1"))
    assert "DEMO — not a carrier label" in pypdf.PdfReader(io.BytesIO(pdf.body)).pages[0].extract_text()
    view = send(api, "GET", f"/returns/{ret['return_id']}", None, customer("o-1")).json_body
    assert view["label"]["qr_url"] and view["label"]["download_url"]


def test_a_german_post_office_return_gets_dhls_label_and_qr_through_karrio(api, monkeypatch):
    from returns_core.usecases import labels

    monkeypatch.setenv("LABEL_CARRIERS", "dhl_parcel_de,demo")
    monkeypatch.setenv("CARRIER_CREDENTIALS", json.dumps({"dhl_parcel_de": DHL}))
    status, ret = _return_from_germany(api, {"method": "post_office"})
    assert status == 201, ret
    assert ret["dropoff"]["carrier"] == "dhl_parcel_de"
    answer = json.loads(sample("dhl_parcel_de", "return_response.json"))
    with carrier_http(monkeypatch, ("/token", TOKEN),
                      ("/returns/v1/orders", sample("dhl_parcel_de", "return_response.json"))) as http:
        assert labels.issue(ret["return_id"]) == "awaiting_dropoff"
    sent = http.to("/returns/v1/orders").json()
    assert sent["shipper"]["postalCode"] == "53113" and sent["receiverId"] == "deu"
    view = send(api, "GET", f"/returns/{ret['return_id']}", None, customer("o-1")).json_body
    assert view["label"]["tracking_number"] == "999991587211"
    assert view["label"]["qr_url"]
    label = api.http.get(f"/returns/{ret['return_id']}/label", headers=customer("o-1"))
    assert label.status_code == 200 and label.body == base64.b64decode(answer["label"]["b64"])


def test_a_real_carrier_without_credentials_fails_the_label_with_its_reason(api, monkeypatch):
    from returns_core.outbound import carriers
    from returns_core.usecases import labels

    monkeypatch.setenv("LABEL_CARRIERS", "gls")
    monkeypatch.delenv("CARRIER_CREDENTIALS", raising=False)
    status, ret = _return_from_germany(api, {"method": "post_office"})
    assert status == 201 and ret["dropoff"]["carrier"] == "gls"
    with carrier_http(monkeypatch) as http:
        try:
            labels.issue(ret["return_id"])
            raise AssertionError("a label was issued without credentials")
        except carriers.CarrierError as exc:
            assert "not configured" in str(exc)
    assert http.sent == []


def test_dropoff_carrier_picks_among_those_serving_and_the_policy_orders_them(api, monkeypatch):
    monkeypatch.setenv("LABEL_CARRIERS", "gls,dhl_parcel_de,demo")
    assert _return_from_germany(api, {"method": "post_office"}, "o-1")[1]["dropoff"]["carrier"] == "gls"
    picked = _return_from_germany(api, {"method": "post_office", "carrier": "dhl_parcel_de"}, "o-2")[1]
    assert picked["dropoff"]["carrier"] == "dhl_parcel_de"
    assert _return_from_germany(api, {"method": "letterbox"}, "o-3")[1]["dropoff"]["carrier"] == "demo"
    published = send(api, "PUT", "/policy", {"policy": {"defaults": {"carriers": {
        "DE": {"post_office": ["dhl_parcel_de"]}, "*": {"*": ["demo"]}}}}}, auth("store"))
    assert published.status_code == 200, published.body
    assert _return_from_germany(api, {"method": "post_office"}, "o-4")[1]["dropoff"]["carrier"] == "dhl_parcel_de"


def test_a_carrier_that_cannot_take_the_return_is_a_422_naming_the_field(api, monkeypatch):
    monkeypatch.setenv("LABEL_CARRIERS", "dhl_parcel_de,demo")
    status, body = _return_from_germany(api, {"method": "post_office", "carrier": "bpost"})
    assert status == 422 and body["error"]["details"]["field"] == "dropoff.carrier"   # not configured
    monkeypatch.setenv("LABEL_CARRIERS", "bpost,demo")
    status, body = _return_from_germany(api, {"method": "post_office", "carrier": "bpost"}, "o-2")
    assert status == 422 and body["error"]["details"]["field"] == "dropoff.carrier"   # bpost: Belgium only
    status, body = _return_from_germany(api, {"method": "post_office", "carrier": "pigeon"}, "o-3")
    assert status == 422 and body["error"]["details"]["field"] == "dropoff.carrier"


def test_the_policy_carriers_key_is_validated_naming_the_field(api):
    bad = {
        "policy.defaults.carriers.DE.post_office[0]": {"defaults": {"carriers": {"DE": {"post_office": ["ups"]}}}},
        "policy.defaults.carriers.de": {"defaults": {"carriers": {"de": {"*": ["demo"]}}}},
        "policy.defaults.carriers.FR.drone": {"defaults": {"carriers": {"FR": {"drone": ["demo"]}}}},
        "policy.rules[0].set.carriers.FR.*": {"rules": [{"id": "r", "match": {"country": ["FR"]},
                                                         "set": {"carriers": {"FR": {"*": []}}}}]},
    }
    for field, document in bad.items():
        res = send(api, "PUT", "/policy", {"policy": document}, auth("store"))
        assert res.status_code == 422, (field, res.body)
        assert error_of(res)["details"]["field"] == field, (field, res.body)


def test_simulate_says_which_carrier_each_dropoff_would_go_with(api, monkeypatch):
    monkeypatch.setenv("LABEL_CARRIERS", "gls,dhl_parcel_de,demo")
    order = {**order_body(shipping_address=BERLIN), "order_id": "o-sim"}
    draft = {"rules": [{"id": "germany-dhl", "match": {"country": ["DE"]},
                        "set": {"carriers": {"DE": {"post_office": ["dhl_parcel_de", "gls"]}}}}]}
    body = {"order": order, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}], "resolution": "refund"}
    res = send(api, "POST", "/policy/simulate", {**body, "policy": draft}, auth("store"))
    assert res.status_code == 200, res.body
    assert res.json_body["carriers"] == {"relay_point": "demo", "letterbox": "demo", "post_office": "dhl_parcel_de"}
    without = send(api, "POST", "/policy/simulate", body, auth("ops")).json_body
    assert without["carriers"]["post_office"] == "gls"


def test_a_carrier_that_does_not_answer_is_retried_never_a_fake_label(api, monkeypatch):
    """A timeout or 5xx raises TransientError, which the state machine retries with backoff before
    label_failed (statemachines: IssueLabel's Retry); the return keeps no label meanwhile."""
    import pytest

    from returns_core.edge.steps import TransientError
    from returns_core.usecases import labels

    monkeypatch.setenv("LABEL_CARRIERS", "dhl_parcel_de,demo")
    monkeypatch.setenv("CARRIER_CREDENTIALS", json.dumps({"dhl_parcel_de": DHL}))
    status, ret = _return_from_germany(api, {"method": "post_office"})
    assert status == 201, ret
    with carrier_http(monkeypatch, ("/token", TOKEN), ("/returns/v1/orders", TimeoutError("timed out"))), \
            pytest.raises(TransientError, match="dhl_parcel_de: unavailable"):
        labels.issue(ret["return_id"])
    view = send(api, "GET", f"/returns/{ret['return_id']}", None, customer("o-1")).json_body
    assert view["status"] == "requested" and view["label"] is None
    with carrier_http(monkeypatch, ("/token", TOKEN),
                      ("/returns/v1/orders", sample("dhl_parcel_de", "return_response.json"))):
        assert labels.issue(ret["return_id"]) == "awaiting_dropoff"   # the retry issues it
