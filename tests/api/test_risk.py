"""Issue 33 through the API: every return carries its risk score for staff (never for its customer), the
policy's `refund_on`, `risk_hold_above` and `risk_weights` are validated (422 naming the field) and simulated,
and ops's verdict on a return is recorded once and read by the customer's next score."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.support import auth, customer, error_of, order_body, return_body, send, ship, signed


def publish(api, document: dict):
    return send(api, "PUT", "/policy", {"policy": document}, auth("store"))


@pytest.mark.parametrize("document, field", [
    ({"defaults": {"refund_on": "dropoff"}}, "policy.defaults.refund_on"),
    ({"defaults": {"risk_hold_above": 101}}, "policy.defaults.risk_hold_above"),
    ({"defaults": {"risk_hold_above": True}}, "policy.defaults.risk_hold_above"),
    ({"rules": [{"id": "r", "match": {}, "set": {"refund_on": 3}}]}, "policy.rules[0].set.refund_on"),
    ({"risk_weights": {"new_customer": -101}}, "policy.risk_weights.new_customer"),
    ({"risk_weights": {"zodiac_sign": 5}}, "policy.risk_weights.zodiac_sign"),
    ({"risk_weights": [1, 2]}, "policy.risk_weights"),
])
def test_the_policy_keys_are_validated_naming_the_field(api, document, field):
    res = publish(api, document)
    assert res.status_code == 422, res.body
    assert error_of(res)["details"]["field"] == field
    order = {**order_body(), "order_id": "sample-1"}
    simulated = send(api, "POST", "/policy/simulate", {"policy": document, "order": order, "resolution": "refund",
                                                       "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "defective"}]},
                      auth("ops"))
    assert simulated.status_code == 422 and error_of(simulated)["details"]["field"] == field


def test_a_valid_policy_with_the_keys_is_published_and_simulated(api):
    doc = {"defaults": {"refund_on": "first_scan", "risk_hold_above": 20}, "risk_weights": {"whole_order": 30}}
    assert publish(api, doc).status_code == 200
    order = {**order_body(), "order_id": "sample-1"}
    items = [{"sku": "TSHIRT-M", "qty": 2, "reason": "defective"}, {"sku": "JEANS-32", "qty": 1, "reason": "defective"}]
    res = send(api, "POST", "/policy/simulate", {"order": order, "resolution": "refund", "items": items,
                                                 "risk": {"only_order": True}}, auth("store"))
    assert res.status_code == 200, res.body
    body = res.json_body
    assert [r["code"] for r in body["risk"]["reasons"]] == ["whole_order", "new_customer"]
    assert body["risk"]["score"] == 40
    assert body["refund_timing"] == {"asked": "first_scan", "on": "inspection", "held_by": "risk", "score": 40,
                                     "hold_above": 20}
    calm = send(api, "POST", "/policy/simulate", {"order": order, "resolution": "refund", "items": items[:1]},
                auth("store"))
    assert calm.json_body["refund_timing"]["on"] == "first_scan" and calm.json_body["risk"]["score"] == 0


def test_every_return_carries_its_risk_for_staff_only(api, order):
    created = send(api, "POST", "/returns", return_body(), customer(order))
    assert created.status_code == 201, created.body
    assert "risk" not in created.json_body and "refund_timing" not in created.json_body
    rid = created.json_body["return_id"]
    staff = send(api, "GET", f"/returns/{rid}", None, auth("ops")).json_body
    # Ana's first order: a new customer; nothing else holds.
    assert staff["risk"] == {"score": 10, "reasons": [
        {"code": "new_customer", "detail": "first order we know of this customer", "points": 10}]}
    assert staff["refund_timing"]["on"] == "inspection"
    mine = send(api, "GET", f"/returns/{rid}", None, customer(order)).json_body
    assert "risk" not in mine and "refund_timing" not in mine and "risk_verdict" not in mine


def test_an_ops_verdict_is_recorded_once_and_read_by_the_next_score(api, order):
    rid = send(api, "POST", "/returns", return_body(), customer(order)).json_body["return_id"]
    path = f"/returns/{rid}/risk-verdict"
    assert send(api, "POST", path, {"verdict": "abuse"}, auth("warehouse")).status_code == 403
    bad = send(api, "POST", path, {"verdict": "suspicious"}, auth("ops"))
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "verdict"
    first = send(api, "POST", path, {"verdict": "abuse", "note": "empty box"}, auth("ops"))
    assert first.status_code == 200, first.body
    verdict = first.json_body["risk_verdict"]
    assert (verdict["verdict"], verdict["note"], verdict["by"]) == ("abuse", "empty box", "ops:alice")
    again = send(api, "POST", path, {"verdict": "abuse", "note": "empty box"}, auth("ops"))
    assert again.status_code == 200
    staff = send(api, "GET", f"/returns/{rid}", None, auth("ops")).json_body
    assert [e["type"] for e in staff["timeline"]].count("risk.verdict") == 1
    mine = send(api, "GET", f"/returns/{rid}", None, customer(order)).json_body
    assert "risk.verdict" not in [e["type"] for e in mine["timeline"]]
    # The same customer's next return (another order) reads the verdict.
    assert send(api, "PUT", "/orders/o-2", order_body(), auth("store")).status_code == 201
    nxt = send(api, "POST", "/returns", return_body("o-2"), customer("o-2")).json_body["return_id"]
    reasons = send(api, "GET", f"/returns/{nxt}", None, auth("ops")).json_body["risk"]["reasons"]
    assert [r["code"] for r in reasons] == ["earlier_abuse"]
    assert send(api, "POST", "/returns/nope/risk-verdict", {"verdict": "fine"}, auth("ops")).status_code == 404


def _first_scan_return(api, order, tracking: str = "LC12345678903") -> str:
    assert publish(api, {"defaults": {"refund_on": "first_scan", "risk_hold_above": 90}}).status_code == 200
    rid = send(api, "POST", "/returns", return_body(), customer(order)).json_body["return_id"]
    ship(rid, tracking=tracking)
    return rid


def _carrier(api, event: str, at: str, tracking: str = "LC12345678903"):
    raw = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": at, "location": "Paris"}).encode()
    return api.http.post("/carrier/events", body=raw, headers=signed(raw))


def _staff(api, rid: str) -> dict:
    return send(api, "GET", f"/returns/{rid}", None, auth("ops")).json_body


def test_the_first_scan_starts_the_refund_once_and_the_parcel_is_received_and_graded_after(api, order):
    rid = _first_scan_return(api, order)
    assert _carrier(api, "in_transit", "2026-11-02T12:00:00Z").status_code == 202
    assert _carrier(api, "in_transit", "2026-11-02T12:00:00Z").status_code == 200      # a repeat
    assert _carrier(api, "dropped_off", "2026-11-02T10:00:00Z").status_code == 202     # earlier, told later
    ret = _staff(api, rid)
    types = [e["type"] for e in ret["timeline"]]
    assert ret["status"] == "refunding" and types.count("refund.paid_early") == 1
    assert ret["refund_timing"]["paid_early_by"] == "first_scan" and "parcel_received_at" not in ret
    code = ret["label"]["code"]
    first = send(api, "POST", "/warehouse/scans", {"code": code}, auth("warehouse"))
    assert first.status_code == 200 and first.json_body["already_received"] is False
    assert first.json_body["inspectable"] is True and first.json_body["status"] == "refunding"
    again = send(api, "POST", "/warehouse/scans", {"code": code}, auth("warehouse"))
    assert again.json_body["already_received"] is True
    graded = send(api, "POST", f"/returns/{rid}/inspection",
                  {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened"}]}, auth("warehouse"))
    assert graded.status_code == 200, graded.body
    ret = _staff(api, rid)
    (below,) = [e["detail"] for e in ret["timeline"] if e["type"] == "inspection.below_refund"]
    assert below["difference"] == below["paid"] - below["inspected"] > 0
    assert ret["quote"]["refund_amount"] == below["paid"] and ret["status"] == "refunding"   # never re-priced
    assert send(api, "POST", "/warehouse/scans", {"code": code}, auth("warehouse")).json_body[
        "inspectable"] is False


def test_carrier_events_and_scans_racing_start_one_refund_and_record_one_receipt(api, order):
    """Sent at once, in any order: one early refund, one receipt (whichever of the carrier and the warehouse
    comes first starts the refund; a scan that finds it started records the receipt beside it)."""
    rid = _first_scan_return(api, order)
    code = _staff(api, rid)["label"]["code"]
    calls = [lambda: _carrier(api, "dropped_off", "2026-11-02T10:00:00Z"),
             lambda: _carrier(api, "in_transit", "2026-11-02T12:00:00Z"),
             lambda: send(api, "POST", "/warehouse/scans", {"code": code}, auth("warehouse"))] * 3
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = [f.result() for f in [pool.submit(c) for c in calls]]
    assert all(a.status_code in (200, 202) for a in answers), [a.body for a in answers]
    ret = _staff(api, rid)
    types = [e["type"] for e in ret["timeline"]]
    assert ret["status"] == "refunding"
    assert types.count("refund.paid_early") == 1 and types.count("parcel.received") == 1
    assert ret["parcel_received_at"] and ret["refund_timing"]["paid_early_by"] in ("first_scan", "receipt")
