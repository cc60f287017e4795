"""Each real carrier through karrio, proved against the samples vendored in tests/vendor/karrio/
(karrio's own connector fixtures; ORIGIN.md says which file of which commit).

For each: the request karrio sends for one of our return labels has the carrier's documented shape
(the sample request's fields, the return product, the addresses the right way round, the weight), and
the carrier's sample answer becomes our IssuedLabel (tracking number, PDF and/or QR). karrio's HTTP
layer is intercepted (tests/carrier_http_double.py): no request leaves the machine.
"""
from __future__ import annotations

import base64
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from returns_core.outbound.carriers import (
    CATALOGUE,
    Address,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    LabelRequest,
)

from tests.carrier_http_double import TOKEN, carrier_http, sample


def _request(sender: Address, warehouse: Address, code: str = "RT-7K3F9QXM") -> LabelRequest:
    return LabelRequest(return_id="ret_1", return_code=code, sender=sender, warehouse=warehouse,
                        dropoff_method="post_office", relay_point=None, items_count=1, locale="de-DE")


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document (list items share their list's path)."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {f"{prefix}.{k}", *_paths(v, f"{prefix}.{k}")}}
    if isinstance(value, list):
        return {p for v in value for p in _paths(v, prefix)}
    return set()


# --- DHL Parcel DE (Returns API: PDF and QR) ---------------------------------------------------

DHL = {"username": "user", "password": "pass", "client_id": "id", "client_secret": "secret"}
# The person of karrio's DHL sample, sent back to a German warehouse.
MAX = Address(name="Max Mustermann", line1="Charles-de-Gaulle Str. 20", postcode="53113", city="Bonn", country="DE")
WAREHOUSE_DE = Address(name="Returns Centre", line1="Lagerstr. 5", postcode="04109", city="Leipzig", country="DE")


def test_dhl_return_request_is_the_documented_returns_order(monkeypatch):
    with carrier_http(monkeypatch, ("/token", TOKEN),
                      ("/returns/v1/orders", sample("dhl_parcel_de", "return_response.json"))) as http:
        CATALOGUE["dhl_parcel_de"].issue_label(_request(MAX, WAREHOUSE_DE, code="Return Order 5678"), DHL)
    sent = http.to("/returns/v1/orders")
    assert (sent.method, sent.path) == ("POST", "/parcel/de/shipping/returns/v1/orders")
    assert sent.query == {"labelType": ["BOTH"]}            # the PDF label and the QR code
    assert sent.headers["Authorization"] == "Bearer double-token"
    documented = json.loads(sample("dhl_parcel_de", "return_request.json"))
    # The sample's shipper also has an e-mail and a phone, which a return of ours does not pass on.
    for optional in ("email", "phone"):
        documented["shipper"].pop(optional)
    assert sent.json() == documented


def test_dhl_sample_answer_becomes_our_label_with_its_qr_code(monkeypatch):
    answer = json.loads(sample("dhl_parcel_de", "return_response.json"))
    with carrier_http(monkeypatch, ("/token", TOKEN),
                      ("/returns/v1/orders", sample("dhl_parcel_de", "return_response.json"))):
        label = CATALOGUE["dhl_parcel_de"].issue_label(_request(MAX, WAREHOUSE_DE), DHL)
    assert label.tracking_number == answer["shipmentNo"] == "999991587211"
    assert label.pdf == base64.b64decode(answer["label"]["b64"])
    assert label.qr_png == base64.b64decode(answer["qrLabel"]["b64"])
    assert label.carrier == "dhl_parcel_de"


def test_dhl_documented_error_is_the_carriers_refusal_in_its_own_words(monkeypatch):
    with carrier_http(monkeypatch, ("/token", TOKEN),
                      ("/returns/v1/orders", (400, sample("dhl_parcel_de", "return_error_response.json")))), \
            pytest.raises(CarrierRefused) as refused:
        CATALOGUE["dhl_parcel_de"].issue_label(_request(MAX, WAREHOUSE_DE), DHL)
    assert refused.value.field == "carrier"
    assert any("Bad Request" in m for m in refused.value.messages), refused.value.messages


FAULTS = [TimeoutError("timed out"), (503, b"<html>Service Unavailable</html>"), (502, b"")]


@pytest.mark.parametrize("fault", FAULTS, ids=["timeout", "503", "502-empty"])
def test_dhl_timeout_or_5xx_issues_no_label_and_is_worth_retrying(monkeypatch, fault):
    with carrier_http(monkeypatch, ("/token", TOKEN), ("/returns/v1/orders", fault)), \
            pytest.raises(CarrierUnavailable) as failed:
        CATALOGUE["dhl_parcel_de"].issue_label(_request(MAX, WAREHOUSE_DE), DHL)
    assert failed.value.carrier == "dhl_parcel_de" and not isinstance(failed.value, CarrierError)


# --- Colissimo (France: the return product CORE) -----------------------------------------------

COLISSIMO = {"contract_number": "MY_LOGIN", "password": "MY_PASSWORD"}
MARIE = Address(name="Marie Dupont", line1="3 rue de la Paix", postcode="75002", city="Paris", country="FR")
WAREHOUSE_FR = Address(name="Returns Centre", line1="12 rue des Entrepots", postcode="93200", city="Saint-Denis",
                       country="FR")


def test_colissimo_return_is_a_core_label_from_the_customer_to_the_warehouse(monkeypatch):
    with carrier_http(monkeypatch, ("/generateLabel", sample("colissimo", "shipment_response.multipart"))) as http:
        CATALOGUE["colissimo"].issue_label(_request(MARIE, WAREHOUSE_FR), COLISSIMO)
    sent = http.to("/generateLabel").json()
    documented = json.loads(sample("colissimo", "shipment_request.json"))
    # An address has the same fields whoever it is (the sample's addressee is a person, ours a company).
    address_fields = {p.rpartition(".")[2] for p in _paths(documented) if ".address." in p}
    assert {p for p in _paths(sent) if ".address." not in p} <= _paths(documented)
    assert {p.rpartition(".")[2] for p in _paths(sent) if ".address." in p} <= address_fields
    assert sent["letter"]["service"]["productCode"] == "CORE"   # Colissimo Retour France
    assert (sent["contractNumber"], sent["password"]) == ("MY_LOGIN", "MY_PASSWORD")
    assert sent["outputFormat"]["outputPrintingType"] == "PDF_10x15_300dpi"
    sender, addressee = sent["letter"]["sender"]["address"], sent["letter"]["addressee"]["address"]
    assert (sender["zipCode"], sender["city"], sender["lastName"]) == ("75002", "Paris", "Marie Dupont")
    assert (addressee["zipCode"], addressee["city"]) == ("93200", "Saint-Denis")
    assert sent["letter"]["parcel"]["weight"] == 1.0
    assert sent["letter"]["sender"]["senderParcelRef"] == "RT-7K3F9QXM"


def test_colissimo_sample_answer_becomes_our_label(monkeypatch):
    with carrier_http(monkeypatch, ("/generateLabel", sample("colissimo", "shipment_response.multipart"))):
        label = CATALOGUE["colissimo"].issue_label(_request(MARIE, WAREHOUSE_FR), COLISSIMO)
    assert label.tracking_number == "6A15984040331"
    assert label.pdf is not None and label.pdf.startswith(b"%PDF-1.3") and label.qr_png is None
    # The label is the part of the multipart answer after the JSON, as Colissimo sent it.
    raw = sample("colissimo", "shipment_response.multipart")
    assert raw[raw.index(b"%PDF"):].startswith(label.pdf[:1000])


@pytest.mark.parametrize("fault", FAULTS, ids=["timeout", "503", "502-empty"])
def test_colissimo_timeout_or_5xx_issues_no_label_and_is_worth_retrying(monkeypatch, fault):
    with carrier_http(monkeypatch, ("/generateLabel", fault)), pytest.raises(CarrierUnavailable):
        CATALOGUE["colissimo"].issue_label(_request(MARIE, WAREHOUSE_FR), COLISSIMO)


def test_colissimo_documented_error_is_refused_in_its_words(monkeypatch):
    with carrier_http(monkeypatch, ("/generateLabel", sample("colissimo", "error_response.multipart"))), \
            pytest.raises(CarrierRefused) as refused:
        CATALOGUE["colissimo"].issue_label(_request(MARIE, WAREHOUSE_FR), COLISSIMO)
    assert refused.value.messages == ["Identifiant ou mot de passe incorrect"]


# --- GLS (ShipIT: return labels) ---------------------------------------------------------------

GLS = {"client_id": "id", "client_secret": "secret"}


def test_gls_return_asks_for_return_labels_from_the_customer_to_the_warehouse(monkeypatch):
    with carrier_http(monkeypatch, ("/token", TOKEN), ("/rs/shipments", sample("gls", "shipment_response.json"))) \
            as http:
        CATALOGUE["gls"].issue_label(_request(MAX, WAREHOUSE_DE), GLS)
    sent = http.to("/rs/shipments")
    assert (sent.method, sent.path) == ("POST", "/shipit-farm/v1/backend/rs/shipments")
    body = sent.json()
    assert body["PrintingOptions"]["ReturnLabels"]["LabelFormat"] == "PDF"
    shipment = body["Shipment"]
    assert shipment["Product"] == "PARCEL"
    assert (shipment["Shipper"]["Address"]["Name1"], shipment["Shipper"]["Address"]["ZIPCode"]) == \
        ("Max Mustermann", "53113")
    assert (shipment["Consignee"]["Address"]["Name1"], shipment["Consignee"]["Address"]["ZIPCode"]) == \
        ("Returns Centre", "04109")
    assert shipment["ShipmentUnit"] == [{"ShipmentUnitReference": ["RT-7K3F9QXM"], "Weight": 1.0}]


def test_gls_sample_answer_becomes_our_label(monkeypatch):
    answer = json.loads(sample("gls", "shipment_response.json"))
    with carrier_http(monkeypatch, ("/token", TOKEN), ("/rs/shipments", sample("gls", "shipment_response.json"))):
        label = CATALOGUE["gls"].issue_label(_request(MAX, WAREHOUSE_DE), GLS)
    assert label.tracking_number == answer["labels"][0]["trackingNumber"] == "12345678901234567890"
    assert label.pdf == base64.b64decode(answer["labels"][0]["labelData"]) and label.pdf.startswith(b"%PDF-1.4")


def test_gls_documented_error_is_refused(monkeypatch):
    with carrier_http(monkeypatch, ("/token", TOKEN), ("/rs/shipments", (400, sample("gls", "error_response.json")))), \
            pytest.raises(CarrierRefused) as refused:
        CATALOGUE["gls"].issue_label(_request(MAX, WAREHOUSE_DE), GLS)
    assert any("Invalid request parameters" in m for m in refused.value.messages), refused.value.messages


# --- bpost (Belgium: return instructions) ------------------------------------------------------

BPOST = {"account_id": "123456", "passphrase": "secret"}
LOUISE = Address(name="Louise Peeters", line1="Avenue Louise 10", postcode="1050", city="Ixelles", country="BE")
WAREHOUSE_BE = Address(name="Returns Centre", line1="Muntcentrum 1", postcode="1000", city="Brussel", country="BE")
NS = "{http://schema.post.be/shm/deepintegration/v5/}"


def _tags(xml: bytes) -> set[str]:
    return {el.tag for el in ET.fromstring(xml).iter()}


def test_bpost_return_is_the_documented_order_from_the_customer(monkeypatch):
    with carrier_http(monkeypatch, ("/labels/", sample("bpost", "label_response.xml")), ("/orders/", b"")) as http:
        CATALOGUE["bpost"].issue_label(_request(LOUISE, WAREHOUSE_BE), BPOST)
    order = http.sent[0]
    assert (order.method, order.path) == ("POST", "/services/shm/123456/orders/")
    root = ET.fromstring(order.body)
    assert root.tag == f"{NS}order" and root.findtext(f"{NS}accountId") == "123456"
    # Every element we send is one of the documented order's (the sample: a national bpack 24h Pro box).
    assert _tags(order.body) <= _tags(sample("bpost", "shipment_request.xml")), \
        sorted(_tags(order.body) - _tags(sample("bpost", "shipment_request.xml")))
    box = root.find(f"{NS}box")
    assert box.find(f"{NS}sender").findtext(".//{http://schema.post.be/shm/deepintegration/v5/common}name") == \
        "Louise Peeters"
    at_home = box.find(f"{NS}nationalBox/{{http://schema.post.be/shm/deepintegration/v5/national}}atHome")
    ns_nat = "{http://schema.post.be/shm/deepintegration/v5/national}"
    assert at_home.findtext(f"{ns_nat}product") == "bpack 24h Pro" and at_home.findtext(f"{ns_nat}weight") == "1000"
    assert at_home.find(f"{ns_nat}receiver").findtext(
        "{http://schema.post.be/shm/deepintegration/v5/common}name") == "Returns Centre"


def test_bpost_sample_answer_becomes_our_label(monkeypatch):
    answer = ET.fromstring(sample("bpost", "label_response.xml"))
    with carrier_http(monkeypatch, ("/labels/", sample("bpost", "label_response.xml")), ("/orders/", b"")):
        label = CATALOGUE["bpost"].issue_label(_request(LOUISE, WAREHOUSE_BE), BPOST)
    assert label.tracking_number == answer.findtext(f"{NS}label/{NS}barcode") == "323212345659900357663030"
    assert label.label_format == "PNG" and label.pdf.startswith(b"\x89PNG")   # bpost's sample label is a PNG
    # karrio bundles the labels of a bpost order into one image (flattening transparency): the sample's.
    from PIL import Image

    given = Image.open(io.BytesIO(base64.b64decode(answer.findtext(f"{NS}label/{NS}bytes")))).convert("RGB")
    ours = Image.open(io.BytesIO(label.pdf)).convert("RGB")
    assert (ours.size, ours.tobytes()) == (given.size, given.tobytes())


def test_bpost_documented_error_is_refused(monkeypatch):
    with carrier_http(monkeypatch, ("/orders/", (409, sample("bpost", "error_response.xml")))), \
            pytest.raises(CarrierError):
        CATALOGUE["bpost"].issue_label(_request(LOUISE, WAREHOUSE_BE), BPOST)


# --- EasyPost (the long tail: an ordinary label from the customer to the warehouse) --------------

EASYPOST = {"api_key": "EZTK_double", "service": "easypost_ups_next_day_air"}
# What the double serves at the sample's label_url: the sample names the file, it does not hold it.
LABEL_FILE = b"\x89PNG\r\n\x1a\n double-made label file"


def _easypost(monkeypatch):
    return carrier_http(monkeypatch, ("/buy", sample("easypost", "buy_shipment_response.json")),
                        ("/v2/shipments", sample("easypost", "shipment_response.json")),
                        ("a1b2c3.png", LABEL_FILE))


def test_easypost_shipment_is_the_documented_shape_from_the_customer(monkeypatch):
    with _easypost(monkeypatch) as http:
        CATALOGUE["easypost"].issue_label(_request(MARIE, WAREHOUSE_FR), EASYPOST)
    created = [s for s in http.sent if s.path == "/v2/shipments"][0].json()
    documented = json.loads(sample("easypost", "shipment_request.json"))["data"]
    # The sample is US-domestic (no `country`), sent to a company (no `name`), with no payment options:
    # those fields of EasyPost's Address and Shipment options are ours only.
    ours_only = {".shipment.from_address.country", ".shipment.to_address.country", ".shipment.to_address.name",
                 ".shipment.options.payment", ".shipment.options.payment.country",
                 ".shipment.options.payment.postal_code", ".shipment.options.payment.type"}
    assert _paths(created) - ours_only <= _paths(documented), \
        sorted(_paths(created) - _paths(documented))
    assert created["shipment"]["from_address"]["name"] == "Marie Dupont"
    assert created["shipment"]["to_address"]["name"] == "Returns Centre"
    assert "is_return" not in created["shipment"]    # karrio does not send EasyPost's is_return (README)
    bought = http.to("/buy").json()
    assert bought["rate"]["id"].startswith("rate_")  # the sample's UPS NextDayAir rate, the configured service


def test_easypost_sample_answer_becomes_our_label(monkeypatch):
    with _easypost(monkeypatch):
        label = CATALOGUE["easypost"].issue_label(_request(MARIE, WAREHOUSE_FR), EASYPOST)
    assert label.tracking_number == json.loads(sample("easypost", "buy_shipment_response.json"))["tracking_code"]
    assert label.pdf == LABEL_FILE


# --- every carrier ---------------------------------------------------------------------------------

@pytest.mark.parametrize("carrier_id", sorted(CATALOGUE))
def test_a_carrier_without_credentials_issues_nothing_and_says_so(carrier_id, monkeypatch):
    with carrier_http(monkeypatch) as http, pytest.raises(CarrierError) as err:
        CATALOGUE[carrier_id].issue_label(_request(MAX, WAREHOUSE_DE), None)
    assert err.value.field == "carrier" and "not configured" in str(err.value) and http.sent == []
