"""A parcel the carrier loses settles like one that arrived, on the real template and state machine:
the carrier's `lost` event -> Route -> Settle, graded as if the carrier had lost every item. Above the
approval threshold finance approves it (four eyes); an exchange gets its replacement, and nobody is
told "your refund of 0,00 €"."""
from __future__ import annotations

import json
import os

import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from .helpers import Http, carrier_event, order_payload, sent_emails, wait_for

pytestmark = pytest.mark.xdist_group("workflow")


def _events(kind: str, return_id: str) -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[os.environ["EVENTS_TOPIC_ARN"]]
    return [m for m in (json.loads(n[1]) for n in topic.sent_notifications)
            if m["type"] == kind and m["return_id"] == return_id]


def _texts() -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return [text for _, text, *_ in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()]


def _lost_in_transit(http: Http, order: dict, items: list[dict], resolution: str) -> tuple[str, str]:
    """A return whose parcel is dropped off, then reported lost by the carrier: (return id, customer token)."""
    assert http.call("PUT", "/orders/ORD-LOST", order, token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-LOST", "email": "ana@example.com"})[1]["token"]
    status, created, _ = http.call("POST", "/returns", {"order_id": "ORD-LOST", "items": items,
                                                        "resolution": resolution, "dropoff": {"method": "letterbox"}},
                                   token=customer)
    assert status == 201, created
    rid = created["return_id"]
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "awaiting_dropoff", what="the label")
    tracking = ret["label"]["tracking_number"]
    assert carrier_event(http, tracking, "dropped_off", "2026-11-22T10:00:00Z")[0] == 202
    wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1], lambda r: r["status"] == "in_transit",
             what="in transit")
    assert carrier_event(http, tracking, "lost", "2026-11-25T10:00:00Z")[0] == 202
    return rid, customer


def test_a_lost_parcel_over_the_threshold_waits_for_finance_then_is_refunded(stack, api):
    http = Http(api)
    coat = [{"sku": "COAT", "name": "Coat", "qty": 1, "unit_price": 60000, "final_sale": False}]
    rid, customer = _lost_in_transit(http, order_payload(lines=coat),
                                     [{"sku": "COAT", "qty": 1, "reason": "defective"}], "store_credit")

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_for(get, lambda r: r["status"] == "awaiting_approval", what="the approval wait", timeout=90)
    # Settled as an inspection in which the carrier lost every item: the paid price, the bonus.
    assert ret["quote"]["refund_amount"] == 66000 and ret["quote"]["bonus"] == 6000
    assert [(i["sku"], i["condition"], i["received_qty"]) for i in ret["items"]] == [("COAT", "lost_in_transit", 0)]
    assert [e for e in ledger.entries() if e.return_id == rid] == []

    finance = auth.mint("finance", "fin:eve")
    status, body, _ = http.call("POST", f"/returns/{rid}/refund/approve", {"note": "carrier claim filed"},
                                token=finance)
    assert status == 200, body
    done = wait_for(get, lambda r: r["status"] == "refunded", what="the refund", timeout=90)
    assert done["refund"]["amount"] == 66000 and done["refund"]["method"] == "store_credit"
    (entry,) = [e for e in ledger.entries() if e.return_id == rid]
    assert int(entry.amount) == 66000 and entry.approved_by == "fin:eve"


def test_a_lost_exchange_parcel_gets_its_replacement_and_no_refund_of_nothing(stack, api):
    http = Http(api)
    rid, customer = _lost_in_transit(http, order_payload(provider="manual"), [
        {"sku": "TSHIRT-M", "qty": 2, "reason": "too_small", "exchange_for": "TSHIRT-L"},
        {"sku": "JEANS-32", "qty": 1, "reason": "changed_mind", "exchange_for": "JEANS-34"}], "exchange")

    # A lost parcel's settlement is a carrier event, the Settle step and the status effects, each a Lambda
    # that may start cold on a loaded machine: waited for as long as that may take (CI took over 30 s once).
    (sent,) = wait_for(lambda: _events("return.exchange_requested", rid), bool, what="the replacement", timeout=90)
    assert sorted((x["sku"], x["qty"], x["exchange_for"]) for x in sent["data"]["lines"]) == [
        ("JEANS-32", 1, "JEANS-34"), ("TSHIRT-M", 2, "TSHIRT-L")]
    ret = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=customer)[1],
                   lambda r: r["status"] == "refunded"
                   and any(t["type"] == "exchange.requested" for t in r["timeline"]),
                   what="the settlement", timeout=90)
    # The replacement is the settlement: no money moved, no ledger entry, no refund message of 0.
    assert ret["refund"]["status"] == "none"
    assert [e for e in ledger.entries() if e.return_id == rid] == []
    emails = sent_emails(rid)
    assert not [name for name, _ in emails if "refund_issued" in name], emails
    assert not any("0,00" in json.dumps(data, ensure_ascii=False) for _, data in emails), emails
    assert not [t for t in _texts() if "0,00" in t or "rembours" in t.lower()]
    (lost,) = [data for name, data in emails if "parcel_lost" in name]
    assert lost["is_exchange"] is True and lost["refunds_amount"] is False
