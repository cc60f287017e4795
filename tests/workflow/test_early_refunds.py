"""Issue 33 on the real ASL: a refund paid at the carrier's first scan (refunded before the parcel is
received, then received and inspected, an inspection below the refund told to ops), a risky return held
until its inspection, and carrier events repeated, racing or out of order that never pay twice."""
from __future__ import annotations

import json
import threading

import pytest

from returns_core.edge import auth
from returns_core.store import ledger

from .helpers import Http, carrier_event, parked_wait, start_return, wait_for

pytestmark = [pytest.mark.xdist_group("workflow"), pytest.mark.slow]



def _store() -> str:
    return auth.mint("store", "shop")


def _warehouse() -> str:
    return auth.mint("warehouse", "wh:bob")


def _ops() -> str:
    return auth.mint("ops", "ops:carla")


def _publish(http: Http, defaults: dict) -> None:
    status, body, _ = http.call("PUT", "/policy", {"policy": {"defaults": defaults}}, token=_store())
    assert status == 200, body


def _staff(http: Http, rid: str) -> dict:
    return http.call("GET", f"/returns/{rid}", token=_ops())[1]


def _types(ret: dict) -> list[str]:
    return [e["type"] for e in ret["timeline"]]


def _ledger(rid: str) -> list:
    return [e for e in ledger.entries() if e.return_id == rid]


def _awaiting_dropoff(http: Http, order_id: str) -> tuple[str, str, dict]:
    rid, customer = start_return(http, order_id)
    ret = wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "awaiting_dropoff", what="the label")
    wait_for(lambda: parked_wait(rid)[0], lambda w: w == "dropoff", what="the dropoff wait")
    return rid, customer, ret


def test_first_scan_refunds_before_receipt_then_the_parcel_is_received_and_inspected(stack, http, ops_inbox):
    _publish(http, {"refund_on": "first_scan", "risk_hold_above": 60})
    rid, customer, ret = _awaiting_dropoff(http, "ORD-FS1")
    assert ret["refund_timing"] == {"asked": "first_scan", "on": "first_scan", "held_by": None,
                                    "score": ret["risk"]["score"], "hold_above": 60}
    paid = ret["quote"]["refund_amount"]
    ops_inbox()

    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    refunded = wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "refunded", what="the early refund")
    assert refunded["refund"]["amount"] == paid
    assert "parcel.received" not in _types(refunded)              # refunded before the parcel is received
    early = [e for e in refunded["timeline"] if e["type"] == "refund.paid_early"]
    assert [e["detail"] for e in early] == [{"on": "first_scan", "amount": paid}]
    assert refunded["refund_timing"]["paid_early_by"] == "first_scan"
    assert [int(e.amount) for e in _ledger(rid)] == [paid]
    wait_for(lambda: parked_wait(rid)[0], lambda w: w == "confirmation", what="the confirmation wait")

    # The customer's timeline tells the refund before the parcel, truthfully.
    mine = http.call("GET", f"/returns/{rid}", token=customer)[1]
    assert mine["status"] == "refunded" and "risk" not in mine
    assert _types(mine).index("refund.paid_early") < _types(mine).index("refund.issued")

    # The parcel still arrives: scanned (once), graded; the grading is below what was paid.
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())
    assert status == 200 and scan["already_received"] is False, scan
    status, again, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())
    assert status == 200 and again["already_received"] is True
    status, graded, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "damaged", "note": "torn"}]}, token=_warehouse())
    assert status == 200, graded
    after = _staff(http, rid)
    assert (after["status"], after["refund"]["amount"], after["quote"]["refund_amount"]) == ("refunded", paid, paid)
    assert after["parcel_received_at"] and after["items"][0]["condition"] == "damaged"
    (below,) = [e for e in after["timeline"] if e["type"] == "inspection.below_refund"]
    inspected = below["detail"]["inspected"]
    assert inspected < paid and below["detail"] == {"paid": paid, "inspected": inspected,
                                                    "difference": paid - inspected}
    alerts = wait_for(ops_inbox, lambda a: a, what="the ops alert")
    told = [json.loads(a["message"]) for a in alerts if "inspection_below_refund" in (a["subject"] or "")]
    assert [(t["return_id"], t["data"]["difference"]) for t in told] == [(rid, paid - inspected)]
    # Nothing taken back, nothing paid again; the customer does not see ops's alert.
    assert [int(e.amount) for e in _ledger(rid)] == [paid]
    mine = http.call("GET", f"/returns/{rid}", token=customer)[1]
    assert "inspection.below_refund" not in _types(mine) and "return.inspected" in _types(mine)
    status, twice, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=_warehouse())
    assert status == 409 and twice["error"]["code"] == "already_inspected"


def test_a_risky_return_is_held_until_its_inspection(stack, http):
    # Ana's first order scores `new_customer` (10): above a hold of 5, the refund waits whatever refund_on says.
    _publish(http, {"refund_on": "first_scan", "risk_hold_above": 5})
    rid, customer, ret = _awaiting_dropoff(http, "ORD-RISK")
    assert ret["risk"]["score"] > 5 and ret["refund_timing"]["on"] == "inspection"
    (held,) = [e for e in ret["timeline"] if e["type"] == "refund.held_for_inspection"]
    assert held["detail"] == {"reason": "risk", "asked": "first_scan", "score": ret["risk"]["score"], "hold_above": 5}
    mine = http.call("GET", f"/returns/{rid}", token=customer)[1]
    (told,) = [e for e in mine["timeline"] if e["type"] == "refund.held_for_inspection"]
    assert told["detail"] is None and told["text"] in ("Your refund will be paid once we have checked your items.",
                                                       "Votre remboursement sera versé une fois vos articles vérifiés.")

    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "in_transit", what="in transit")
    wait_for(lambda: parked_wait(rid)[0], lambda w: w == "arrival", what="the arrival wait")
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())
    assert status == 200 and scan["status"] == "received"
    wait_for(lambda: parked_wait(rid)[0], lambda w: w == "inspection", what="the inspection wait")
    assert _ledger(rid) == []
    status, graded, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=_warehouse())
    assert status == 200, graded
    done = wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "refunded", what="the refund")
    assert "refund.paid_early" not in _types(done)
    assert [int(e.amount) for e in _ledger(rid)] == [done["refund"]["amount"]]


def test_carrier_events_repeated_racing_or_out_of_order_never_pay_twice(stack, http):
    _publish(http, {"refund_on": "first_scan", "risk_hold_above": 90})
    rid, _, ret = _awaiting_dropoff(http, "ORD-DUP")
    tracking = ret["label"]["tracking_number"]
    # The later scan arrives first, then the earlier one; each is sent several times at once.
    sent = [("in_transit", "2026-11-22T12:00:00Z"), ("dropped_off", "2026-11-22T10:00:00Z")] * 3
    answers: list[int] = []

    def send(event: str, at: str) -> None:
        answers.append(carrier_event(http, tracking, event, at)[0])

    threads = [threading.Thread(target=send, args=pair) for pair in sent]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(answers)) in ([200, 202], [202]) and answers.count(202) >= 2, answers
    done = wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "refunded", what="the early refund")
    wait_for(lambda: parked_wait(rid)[0], lambda w: w == "confirmation", what="the confirmation wait")
    # And again, after the refund: a repeat and a late event only go in the timeline.
    assert carrier_event(http, tracking, "dropped_off", "2026-11-22T10:00:00Z")[0] == 200
    assert carrier_event(http, tracking, "delivered", "2026-11-23T09:00:00Z")[0] == 202
    # The parcel scanned in after the refund pays nothing either.
    assert http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())[0] == 200
    final = _staff(http, rid)
    assert final["status"] == "refunded"
    assert _types(final).count("refund.paid_early") == 1 and _types(final).count("refund.issued") == 1
    assert [int(e.amount) for e in _ledger(rid)] == [done["refund"]["amount"]]
    kinds = sorted(e["detail"]["event"] for e in final["timeline"] if e["type"].startswith("carrier."))
    assert kinds == ["delivered", "dropped_off", "in_transit"]   # each event once, whichever order


def test_refund_on_receipt_pays_at_the_warehouse_scan(stack, http):
    _publish(http, {"refund_on": "receipt", "risk_hold_above": 90})
    rid, _, ret = _awaiting_dropoff(http, "ORD-RCPT")
    assert carrier_event(http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
    wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "in_transit", what="in transit")
    assert _ledger(rid) == []
    status, scan, _ = http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())
    assert status == 200 and scan["already_received"] is False, scan
    done = wait_for(lambda: _staff(http, rid), lambda r: r["status"] == "refunded", what="the refund at receipt")
    assert [e["detail"]["on"] for e in done["timeline"] if e["type"] == "refund.paid_early"] == ["receipt"]
    assert done["parcel_received_at"] and "parcel.received" in _types(done)
    assert http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]}, token=_warehouse())[1][
        "already_received"] is True
    status, graded, _ = http.call("POST", f"/returns/{rid}/inspection", {
        "items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]}, token=_warehouse())
    assert status == 200, graded
    after = _staff(http, rid)
    assert "inspection.below_refund" not in _types(after)
    assert [int(e.amount) for e in _ledger(rid)] == [done["refund"]["amount"]]
