"""A label that cannot be issued, on the real template and state machine: the IssueLabel step fails
(CarrierError: a letterbox collection with no address at all), the workflow catches it, the return is
`label_failed` for the customer and ops to see, ops is alerted once, and the customer's new collection
address brings the workflow back to IssueLabel: the label then prints that address."""
from __future__ import annotations

import io

import pypdf
import pytest

from returns_core.edge import auth
from returns_core.outbound import workflow
from returns_core.rules import clock, ids
from returns_core.store.models import ReturnModel

from .helpers import Http, order_payload, subscribe, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def _return_without_any_address(order_id: str) -> str:
    """A letterbox return with no collection address, of an order with no shipping address: the API refuses
    to create one (422 dropoff.address), so it is written as an older record or another channel would be."""
    rid = ids.new_return_id()
    now = clock.iso()
    ReturnModel(rid, order_id=order_id, code=ids.return_code(rid), customer_key="cust-x", status="requested",
                status_since=now, created_at=now, resolution="refund", currency="EUR", locale="fr-FR",
                items=[{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 1, "reason": "too_small", "unit_price": 2499,
                        "paid": 2499}],
                quote={"items_total": 2499, "restocking_fee": 0, "return_shipping_fee": 495, "bonus": 0,
                       "refund_amount": 2004},
                dropoff={"method": "letterbox"}, deadline=now, carrier_events=[],
                timeline=[{"at": now, "type": "return.requested", "actor": "customer", "detail": None}]).save()
    ReturnModel.get(rid).update(actions=[ReturnModel.execution_arn.set(workflow.start(rid, "requested"))])
    return rid


def test_a_label_that_cannot_be_issued_is_seen_alerted_once_and_recovered(stack, api):
    http = Http(api)
    ops = subscribe(stack.environment["OPS_TOPIC_ARN"], "ops-labels")
    order = order_payload()
    del order["shipping_address"]
    assert http.call("PUT", "/orders/ORD-NOADDR", order, token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-NOADDR", "email": "ana@example.com"})[1]["token"]
    rid = _return_without_any_address("ORD-NOADDR")

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    failed = wait_for(get, lambda r: r["status"] == "label_failed", what="the failed label", timeout=30)
    assert failed["label"] is None
    wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.waiting_for == "label_retry",
             what="the workflow waiting for a retry")
    alerts = [a for a in ops() if a.get("return_id") == rid]
    assert [a["type"] for a in alerts] == ["label_failed"], alerts   # once, and not "workflow stuck"
    assert f"/returns/{rid}/label/retry" in alerts[0]["message"]   # what ops can do about it

    office = {"line1": "8 avenue de l'Opéra", "postcode": "75001", "city": "Paris", "country": "FR"}
    status, body, _ = http.call("POST", f"/returns/{rid}/label/retry",
                                {"dropoff": {"method": "letterbox", "address": office}}, token=customer)
    assert status == 200, body
    ready = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label, issued again", timeout=30)
    status, pdf, response = http.call("GET", f"/returns/{rid}/label", token=customer,
                                      headers={"Accept": "application/pdf"})
    assert status == 200, pdf
    text = " ".join(pypdf.PdfReader(io.BytesIO(response.body)).pages[0].extract_text().split())
    assert "8 avenue de l'Opéra" in text and "75001 Paris" in text
    assert ready["label"]["tracking_number"]
    assert [a["type"] for a in ops() if a.get("return_id") == rid] == ["label_failed"]
