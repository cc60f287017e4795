"""A parcel dropped off but never received: `lost` when the transit limit runs out, then refunded
with no other step, and ops gets the carrier claim to file.

The real template deployed into moto with a 2-second TransitTimeoutSeconds; the real ASL's
AwaitArrival times out in moto's interpreter and goes TransitTimedOut -> Route -> Settle.
"""
from __future__ import annotations

import time

import pytest

from returns_core.edge import auth
from returns_core.store import ledger, returns
from returns_core.store.models import ReturnModel

from tests.conftest import GatewayClient

from .helpers import Http, carrier_event, order_payload, subscribe, wait_for

TRANSIT_SECONDS = 2


@pytest.fixture
def short_transit_stack(monkeypatch, request):
    """conftest's `stack`, with a transit limit of a few seconds instead of the demo's 21 minutes
    (and other parameters from `@pytest.mark.parametrize("short_transit_stack", [...], indirect=True)`)."""
    from tests.conftest import deployed_stack

    overrides = {"TransitTimeoutSeconds": str(TRANSIT_SECONDS), **getattr(request, "param", {})}
    with deployed_stack(monkeypatch, overrides=overrides) as deployed:
        yield deployed


@pytest.fixture
def http(short_transit_stack):
    yield Http(GatewayClient())


def test_a_parcel_not_received_in_time_is_lost_then_refunded_and_ops_alerted(short_transit_stack, http):
    assert short_transit_stack.environment["TRANSIT_TIMEOUT_SECONDS"] == str(TRANSIT_SECONDS)
    ops = subscribe(short_transit_stack.environment["OPS_TOPIC_ARN"], "ops-tap")
    assert http.call("PUT", "/orders/ORD-LOST", order_payload(), token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-LOST", "email": "ana@example.com"})[1]["token"]
    status, created, _ = http.call("POST", "/returns", {
        "order_id": "ORD-LOST", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, created
    rid = created["return_id"]

    def get() -> dict:
        return http.call("GET", f"/returns/{rid}", token=customer)[1]

    ret = wait_for(get, lambda r: r["status"] == "awaiting_dropoff", what="the label")
    status, body, _ = carrier_event(http, ret["label"]["tracking_number"], "dropped_off")
    assert status == 202 and body["status"] == "in_transit"

    # Nothing arrives. The transit limit runs out: lost, then the store credit is issued at once.
    ret = wait_for(get, lambda r: r["status"] == "refunded", timeout=30, what="the refund of a lost parcel")
    kinds = [t["type"] for t in ret["timeline"]]
    assert kinds.index("carrier.dropped_off") < kinds.index("parcel.lost") < kinds.index("refund.issued")
    lost = next(t for t in ret["timeline"] if t["type"] == "parcel.lost")
    assert lost["actor"] == "system" and lost["detail"] is None   # the customer reads the sentence, not ops' note
    staff = http.call("GET", f"/returns/{rid}", token=auth.mint("ops", "ops:eve"))[1]
    lost = next(t for t in staff["timeline"] if t["type"] == "parcel.lost")
    assert lost["actor"] == "system" and "claim with the carrier" in lost["detail"]
    assert "parcel.received" not in kinds
    # The customer is not held hostage: the quoted amount, as store credit, ledgered once.
    assert ret["refund"]["method"] == "store_credit" and ret["refund"]["amount"] == created["quote"]["refund_amount"]
    assert [(e.return_id, int(e.amount)) for e in ledger.entries()] == \
        [(rid, created["quote"]["refund_amount"])]

    alerts = wait_for(ops, lambda a: any(x["type"] == "parcel_lost" for x in a), what="the ops alert")
    claim = [a for a in alerts if a["type"] == "parcel_lost"]
    assert len(claim) == 1 and claim[0]["return_id"] == rid and claim[0]["status"] == "lost"
    # The claim ops has to file: which parcel, and what it was worth.
    assert "claim with the carrier" in claim[0]["message"]
    assert claim[0]["data"] == {"tracking_number": ret["label"]["tracking_number"],
                                "declared_value": created["quote"]["items_total"], "currency": "EUR"}

    # A parcel that turns up after all is not "already received": staff are told to set it aside.
    status, body, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                token=auth.mint("warehouse", "wh:bob"))
    assert status == 409 and body["error"]["code"] == "return_lost", body
    assert "declared lost" in body["error"]["message"] and body["error"]["details"]["status"] == "refunded"


@pytest.mark.parametrize("short_transit_stack", [{"InspectionSlaSeconds": "1"}], indirect=True)
def test_a_parcel_past_the_inspection_sla_alerts_ops_once_and_keeps_waiting(short_transit_stack, http):
    ops = subscribe(short_transit_stack.environment["OPS_TOPIC_ARN"], "ops-tap")
    wh = auth.mint("warehouse", "wh:bob")
    assert http.call("PUT", "/orders/ORD-SLA", order_payload(), token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": "ORD-SLA", "email": "ana@example.com"})[1]["token"]
    status, created, _ = http.call("POST", "/returns", {
        "order_id": "ORD-SLA", "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, created
    rid = created["return_id"]
    ret = wait_for(lambda: ReturnModel.get(rid, consistent_read=True), lambda r: r.waiting_for == "dropoff",
                   what="the drop-off wait")
    assert http.call("POST", "/warehouse/scans", {"code": ret.label["code"]}, token=wh)[0] == 200

    # The 1-second SLA runs out several times over: one timeline flag, one alert, still waiting.
    wait_for(lambda: [a["type"] for a in ops()], lambda a: "inspection_sla_missed" in a, what="the SLA alert")
    sfn_waits = wait_for(lambda: ReturnModel.get(rid, consistent_read=True),
                         lambda r: r.waiting_for == "inspection" and
                         sum(1 for t in returns.timeline_of(r) if t["type"] == "inspection.overdue") == 1,
                         what="the inspection wait again")
    time.sleep(3)  # at least two more timeouts of the 1-second wait
    assert [a["type"] for a in ops()].count("inspection_sla_missed") == 1
    items = http.call("GET", "/warehouse/queue?status=received", token=wh)[1]["items"]
    assert [(x["return_id"], x["overdue"]) for x in items] == [(rid, True)]
    # The inspection still resumes the workflow, and the refund follows.
    assert http.call("POST", f"/returns/{rid}/inspection",
                     {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=wh)[0] == 200
    assert sfn_waits.status == "received"
    wait_for(lambda: ReturnModel.get(rid, consistent_read=True).status, lambda s: s == "refunded", timeout=20,
             what="the refund")
