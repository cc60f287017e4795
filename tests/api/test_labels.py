"""The label's FROM address and a label that cannot be issued, at the API and domain level (the real
label step's code against moto; the PDF is read back with pypdf)."""
from __future__ import annotations

import io

import pypdf

from tests.api.support import auth, customer, error_of, order_body, return_body, send

HOME = {"line1": "1 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"}
OFFICE = {"name": "Ana at work", "line1": "8 avenue de l'Opéra", "postcode": "75001", "city": "Paris",
          "country": "FR"}


def _label_text(api, return_id: str) -> str:
    res = api.http.get(f"/returns/{return_id}/label", headers={**customer("o-1"), "Accept": "application/pdf"})
    assert res.status_code == 200, res.body
    return " ".join(pypdf.PdfReader(io.BytesIO(res.body)).pages[0].extract_text().split())


def _requested(api, order: dict, dropoff: dict) -> str:
    assert send(api, "PUT", "/orders/o-1", order, auth("store")).status_code in (200, 201)
    res = send(api, "POST", "/returns", return_body(dropoff=dropoff), customer("o-1"))
    assert res.status_code == 201, res.body
    return res.json_body["return_id"]


def test_a_letterbox_label_prints_the_collection_address_not_the_orders(api):
    from returns_core.usecases import labels

    rid = _requested(api, order_body(shipping_address=HOME), {"method": "letterbox", "address": OFFICE})
    assert labels.issue(rid) == "awaiting_dropoff"
    text = _label_text(api, rid)
    assert "8 avenue de l'Opéra" in text and "75001 Paris" in text and "Ana at work" in text
    assert "1 rue Oberkampf" not in text


def test_a_letterbox_label_without_a_collection_address_prints_the_orders(api):
    from returns_core.usecases import labels

    rid = _requested(api, order_body(shipping_address=HOME), {"method": "letterbox"})
    assert labels.issue(rid) == "awaiting_dropoff"
    text = _label_text(api, rid)
    assert "1 rue Oberkampf" in text and "75011 Paris" in text


def test_an_order_without_an_address_takes_the_customers_collection_address(api):
    from returns_core.usecases import labels

    order = order_body()
    del order["shipping_address"]
    # No address at all: refused at once, naming the field, nothing written.
    assert send(api, "PUT", "/orders/o-1", order, auth("store")).status_code == 201
    res = send(api, "POST", "/returns", return_body(dropoff={"method": "letterbox"}), customer("o-1"))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "dropoff.address"
    assert api.http.get("/orders/o-1/returns", headers=customer("o-1")).json_body["items"] == []
    # With one, the label is issued from it (it used to fail on the order's missing address).
    rid = _requested(api, order, {"method": "letterbox", "address": OFFICE})
    assert labels.issue(rid) == "awaiting_dropoff"
    assert "8 avenue de l'Opéra" in _label_text(api, rid)


def test_a_failed_label_is_visible_listed_for_ops_and_retried_with_another_dropoff(api):
    from returns_core.store import returns
    from returns_core.usecases import labels, timeouts

    rid = _requested(api, order_body(shipping_address=HOME), {"method": "letterbox"})
    # What the workflow's Catch does when the label step failed for good.
    assert timeouts.handle(rid, "label_failed", {"Error": "CarrierError", "Cause": "{}"}) == "label_failed"
    assert timeouts.handle(rid, "label_failed", {"Error": "CarrierError", "Cause": "{}"}) == "label_failed"
    view = api.http.get(f"/returns/{rid}", headers=customer("o-1")).json_body
    assert view["status"] == "label_failed" and view["label"] is None
    assert [t["text"] for t in view["timeline"] if t["type"] == "label.failed"] == [
        "We could not prepare your prepaid label; our team has been told and will help you."]
    listed = api.http.get("/ops/label-failures", headers=auth("ops"))
    assert listed.status_code == 200 and [r["return_id"] for r in listed.json_body["items"]] == [rid]
    assert api.http.get("/ops/label-failures", headers=customer("o-1")).status_code == 403

    path = f"/returns/{rid}/label/retry"
    assert send(api, "POST", path, {}, auth("warehouse")).status_code == 403
    bad = send(api, "POST", path, {"dropoff": {"method": "relay_point", "relay_point_id": "nope"}}, customer("o-1"))
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "dropoff.relay_point_id"
    assert returns.get(rid).status == "label_failed"   # nothing half-written
    res = send(api, "POST", path, {"dropoff": {"method": "relay_point", "relay_point_id": "LC-FR-75011-01"}},
               customer("o-1"))
    assert res.status_code == 200, res.body
    assert res.json_body["status"] == "requested" and res.json_body["dropoff"]["relay_point"]["id"] == "LC-FR-75011-01"
    assert api.http.get("/ops/label-failures", headers=auth("ops")).json_body["items"] == []
    again = send(api, "POST", path, {}, auth("ops"))   # a repeat: no second effect
    assert again.status_code == 200 and [t["type"] for t in again.json_body["timeline"]].count(
        "label.retry_requested") == 1
    assert labels.issue(rid) == "awaiting_dropoff"
    late = send(api, "POST", path, {}, auth("ops"))
    assert late.status_code == 409, late.body   # it has its label: nothing to retry


def test_ops_retries_a_failed_label_as_it_was(api):
    from returns_core.usecases import labels

    rid = _requested(api, order_body(shipping_address=HOME), {"method": "letterbox"})
    labels.mark_failed(labels.returns.get(rid), "ClientError")
    res = send(api, "POST", f"/returns/{rid}/label/retry", {"note": "S3 was down"}, auth("ops"))
    assert res.status_code == 200 and res.json_body["status"] == "requested", res.body
    assert res.json_body["dropoff"]["address"] == HOME
    assert labels.issue(rid) == "awaiting_dropoff"


def test_a_record_written_while_the_carrier_prints_does_not_fail_the_label(api, monkeypatch):
    """The API writes a return after starting its workflow (a withdrawal's acknowledgement is recorded as
    a message sent, usecases/withdrawals.py) while the label step is at the carrier: the step stores its
    label on the return as it is now, it does not fail the return to label_failed on the version it read."""
    from returns_core.outbound.carriers import DemoCarrier
    from returns_core.store import returns
    from returns_core.usecases import labels

    rid = _requested(api, order_body(shipping_address=HOME), {"method": "letterbox"})
    printed = DemoCarrier.issue_label

    def issue_label_meanwhile_recorded(self, request):
        returns.append_timeline(returns.get(rid), actor="system", event="message.sent",
                                detail={"channel": "email", "template": "withdrawal_received"})
        return printed(self, request)

    monkeypatch.setattr(DemoCarrier, "issue_label", issue_label_meanwhile_recorded)
    assert labels.issue(rid) == "awaiting_dropoff"
    ret = returns.get(rid)
    assert ret.label["tracking_number"] == ret.tracking_number and ret.label["s3_key"]
    kinds = [t["type"] for t in send(api, "GET", f"/returns/{rid}", None, customer("o-1")).json_body["timeline"]]
    assert "message.sent" in kinds and "label.issued" in kinds
