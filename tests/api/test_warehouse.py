"""Warehouse API: scanning, unmatched parcels, inspection edge cases, the FIFO queue and its cursor.

The API in-process against moto (test_api_unit's harness: real tables, a do-nothing state machine).
"""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from tests.api.support import auth, customer, error_of, order_body, return_body, send, ship

WH = {"sub": "warehouse:wes"}


def scan(api, code: str, sub: str = "warehouse:wes"):
    return send(api, "POST", "/warehouse/scans", {"code": code}, auth("warehouse", sub=sub))


def inspect(api, return_id: str, items: list[dict], sub: str = "warehouse:wes", headers: dict | None = None):
    return send(api, "POST", f"/returns/{return_id}/inspection", {"items": items},
                {**auth("warehouse", sub=sub), **(headers or {})})


def timeline_of(ret) -> list[dict]:
    from returns_core.store.returns import timeline_of

    return timeline_of(ret)


def record(return_id: str):
    from returns_core.store.returns import get

    return get(return_id)


def new_return(api, order_id: str = "o-1", qty: int = 1, status: str = "in_transit",
               tracking: str = "LC00000000001") -> str:
    if order_id != "o-1":
        assert send(api, "PUT", f"/orders/{order_id}", order_body(), auth("store")).status_code == 201
    res = send(api, "POST", "/returns", return_body(order_id, qty=qty), customer(order_id))
    assert res.status_code == 201, res.body
    ship(res.json_body["return_id"], tracking=tracking, status=status)
    return res.json_body["return_id"]


# --- scanning -------------------------------------------------------------------------------------

def test_a_scan_by_label_code_receives_the_parcel_and_lists_what_to_expect(api, order):
    rid = new_return(api, qty=2)
    code = record(rid).code
    res = scan(api, f"  {code.lower()}\n")  # a scanner may add whitespace; codes are case-insensitive
    assert res.status_code == 200, res.body
    # Issue 33 added the return's risk (staff see it at the bench) and whether the parcel waits for grading.
    assert res.json_body == {"return_id": rid, "code": code, "status": "received", "already_received": False,
                             "expected_items": [{"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2}],
                             "inspectable": True, "risk": {"score": 10, "reasons": [
                                 {"code": "new_customer", "detail": "first order we know of this customer",
                                  "points": 10}]}}
    entry = [t for t in timeline_of(record(rid)) if t["type"] == "parcel.received"]
    assert len(entry) == 1 and entry[0]["actor"] == "warehouse:wes"


def test_a_scan_by_tracking_number_works_too(api, order):
    rid = new_return(api, tracking="LC55555555555")
    res = scan(api, "LC55555555555")
    assert res.status_code == 200 and res.json_body["return_id"] == rid and res.json_body["status"] == "received"


def test_a_parcel_without_a_dropped_off_event_is_still_received(api, order):
    """Carriers miss scans: a parcel still `awaiting_dropoff` that reaches the warehouse is received."""
    rid = new_return(api, status="awaiting_dropoff")
    res = scan(api, record(rid).code)
    assert res.status_code == 200 and res.json_body["already_received"] is False
    assert record(rid).status == "received"


def test_a_second_scan_is_already_received_with_no_second_effect(api, order):
    rid = new_return(api)
    code = record(rid).code
    assert scan(api, code).json_body["already_received"] is False
    version = record(rid).version
    for _ in range(2):
        again = scan(api, code, sub="warehouse:other")
        assert again.status_code == 200 and again.json_body["already_received"] is True
    assert record(rid).version == version  # nothing written
    assert [t["type"] for t in timeline_of(record(rid))].count("parcel.received") == 1


def test_a_scan_after_inspection_is_still_already_received(api, order):
    rid = new_return(api)
    code = record(rid).code
    scan(api, code)
    assert inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]).status_code == 200
    res = scan(api, code)
    assert res.status_code == 200 and res.json_body["already_received"] is True
    assert res.json_body["status"] == "inspected"


def test_an_unknown_code_is_404_and_kept_with_who_scanned_it_and_when(api):
    from returns_core.rules import clock

    before = clock.now()
    res = scan(api, "RT-NOPE1234", sub="warehouse:wes")
    assert res.status_code == 404 and error_of(res)["code"] == "unknown_parcel"
    assert error_of(res)["details"]["field"] == "code" and "unmatched" in error_of(res)["message"]
    scan(api, "LC-MYSTERY", sub="warehouse:zoe")
    listed = api.http.get("/warehouse/unmatched", headers=auth("warehouse")).json_body["items"]
    assert [(x["code"], x["actor"]) for x in listed] == [("LC-MYSTERY", "warehouse:zoe"),
                                                         ("RT-NOPE1234", "warehouse:wes")]  # newest first
    for x in listed:
        assert before - timedelta(seconds=1) <= clock.parse(x["scanned_at"]) <= clock.now()


@pytest.mark.parametrize("status,words", [
    ("cancelled", "cancelled by the customer"),
    ("expired", "expired before it was dropped off"),
    ("rejected", "rejected"),
    ("lost", "declared lost"),
])
def test_a_return_that_cannot_be_received_is_409_telling_staff_what_to_do(api, order, status, words):
    rid = new_return(api, status=status)
    res = scan(api, record(rid).code)
    assert res.status_code == 409
    err = error_of(res)
    assert err["code"] == f"return_{status}" and words in err["message"]
    assert "set" in err["message"] and "aside" in err["message"] and "customer service" in err["message"]
    assert err["details"]["return_id"] == rid and err["details"]["status"] == status
    assert record(rid).status == status


def test_a_scan_needs_a_code_and_the_warehouse_role(api):
    assert send(api, "POST", "/warehouse/scans", {"code": "  "}, auth("warehouse")).status_code == 422
    assert send(api, "POST", "/warehouse/scans", {}, auth("warehouse")).status_code == 400
    assert send(api, "POST", "/warehouse/scans", {"code": "RT-X"}, auth("finance")).status_code == 403
    assert send(api, "POST", "/warehouse/scans", {"code": "RT-X"}).status_code == 401


# --- inspection -----------------------------------------------------------------------------------

def test_inspection_before_receipt_is_409(api, order):
    rid = new_return(api)
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}])
    assert res.status_code == 409 and error_of(res)["code"] == "not_received"
    assert record(rid).status == "in_transit" and record(rid).inspection is None


def test_inspection_beyond_what_was_received_is_422(api, order):
    rid = new_return(api, qty=2)
    scan(api, record(rid).code)
    # One line over, and two lines of one sku that together are over.
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 3, "condition": "resellable"}])
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].qty"
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"},
                             {"sku": "TSHIRT-M", "qty": 2, "condition": "damaged"}])
    assert res.status_code == 422 and error_of(res)["code"] == "over_quantity"
    assert error_of(res)["details"]["field"] == "items[1].qty"
    assert record(rid).status == "received" and record(rid).inspection is None


def test_inspection_of_an_sku_not_in_the_return_is_422(api, order):
    rid = new_return(api)
    scan(api, record(rid).code)
    res = inspect(api, rid, [{"sku": "JEANS-32", "qty": 1, "condition": "resellable"}])
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].sku"
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "shiny"}])
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "items[0].condition"
    assert inspect(api, rid, []).status_code == 422


def test_mixed_grades_on_one_sku_and_the_inspector_recorded(api, order):
    rid = new_return(api, qty=2)
    scan(api, record(rid).code)
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable", "note": "tags on"},
                             {"sku": "TSHIRT-M", "qty": 1, "condition": "damaged", "note": "torn"}],
                  sub="warehouse:ines")
    assert res.status_code == 200, res.body
    body = res.json_body
    assert body["status"] == "inspected"
    item = body["items"][0]
    assert item["received_qty"] == 2 and item["condition"] == "resellable,damaged"
    graded = record(rid).inspection
    assert graded["by"] == "warehouse:ines"
    full, torn = graded["items"]
    assert (full["condition"], full["note"], torn["condition"], torn["note"]) == \
        ("resellable", "tags on", "damaged", "torn")
    # The damaged one is worth less than the resellable one; the quote adds them up.
    assert 0 <= int(torn["refund_amount"]) < int(full["refund_amount"]) == 2499
    assert item["refund_amount"] == int(full["refund_amount"]) + int(torn["refund_amount"])
    assert body["quote"]["items_total"] == item["refund_amount"]
    assert "return.inspected" in [t["type"] for t in body["timeline"]]


def test_a_missing_item_is_refunded_nothing(api, order):
    rid = new_return(api, qty=2)
    scan(api, record(rid).code)
    res = inspect(api, rid, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"},
                             {"sku": "TSHIRT-M", "qty": 1, "condition": "missing"}])
    assert res.status_code == 200
    assert [int(i["refund_amount"]) for i in record(rid).inspection["items"]] == [2499, 0]


def test_a_repeated_inspection_is_409_already_inspected_with_the_return(api, order):
    rid = new_return(api)
    scan(api, record(rid).code)
    lines = [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened"}]
    first = inspect(api, rid, lines, headers={"Idempotency-Key": "insp-1"})
    assert first.status_code == 200
    # The same request with its Idempotency-Key replays the first answer.
    replay = inspect(api, rid, lines, headers={"Idempotency-Key": "insp-1"})
    assert replay.status_code == 200 and replay.json_body == first.json_body
    # Without it (a double click, another inspector), it is refused and shows what stands.
    for again in (lines, [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]):
        res = inspect(api, rid, again, sub="warehouse:other")
        assert res.status_code == 409
        err = error_of(res)
        assert err["code"] == "already_inspected" and "warehouse:wes" in err["message"]
        assert err["details"]["return"]["return_id"] == rid
        assert err["details"]["return"]["items"][0]["condition"] == "opened"
    assert record(rid).inspection["by"] == "warehouse:wes"
    assert [t["type"] for t in timeline_of(record(rid))].count("return.inspected") == 1


def test_inspection_of_an_unknown_return_is_404(api):
    res = inspect(api, "ret_nope", [{"sku": "TSHIRT-M", "qty": 1, "condition": "opened"}])
    assert res.status_code == 404


# --- the queue ------------------------------------------------------------------------------------

def queue(api, query: str):
    return api.http.get(f"/warehouse/queue?{query}", headers=auth("warehouse"))


# slow: a queue of returns paged through
@pytest.mark.slow
def test_the_queue_pages_oldest_first_without_duplicates(api, order):
    ids = [new_return(api, order_id=f"o-{n}", tracking=f"LC0000000000{n}") for n in range(1, 8)]
    scanned = [ids[n] for n in (4, 0, 6, 2, 5, 1, 3)]  # received in this order: the queue must follow it
    for rid in scanned:
        assert scan(api, record(rid).code).status_code == 200
    pages, cursor = [], None
    for _ in range(5):
        res = queue(api, "status=received&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert res.status_code == 200, res.body
        pages.append([x["return_id"] for x in res.json_body["items"]])
        cursor = res.json_body["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [rid for page in pages for rid in page] == scanned
    assert queue(api, "status=in_transit").json_body["items"] == []


def test_the_cursor_is_opaque_and_checked(api, order):
    for n in range(1, 3):
        rid = new_return(api, order_id=f"o-{n}", tracking=f"LC0000000000{n}")
        scan(api, record(rid).code)
    cursor = queue(api, "status=received&limit=1").json_body["next_cursor"]
    assert set(json.loads(base64.urlsafe_b64decode(cursor))) == {"return_id", "status", "status_since"}

    def b64(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    forged = json.loads(base64.urlsafe_b64decode(cursor))
    forged["status_since"] = {"N": "1"}
    for bad in ("%%%", "garbage", b64([1, 2]), b64({"a": {"S": "b"}}), b64(forged), "bm90IGpzb24=",
                base64.urlsafe_b64encode(b"\xff\xfe").decode()):
        res = queue(api, f"status=received&cursor={bad}")
        assert res.status_code == 400, (bad, res.body)
        assert error_of(res)["details"]["field"] == "cursor"
    # A cursor of one status's queue is not one of another's.
    res = queue(api, f"status=inspected&cursor={cursor}")
    assert res.status_code == 400 and error_of(res)["details"]["field"] == "cursor"
    assert queue(api, "status=received&limit=0").status_code == 422
    assert queue(api, "status=received&limit=101").status_code == 422


def test_parcels_waiting_longer_than_the_sla_are_flagged(api, order, monkeypatch):
    from returns_core.rules import clock
    from returns_core.store.models import ReturnModel

    monkeypatch.setenv("INSPECTION_SLA_SECONDS", "3600")
    old, fresh = (new_return(api, order_id=f"o-{n}", tracking=f"LC0000000000{n}") for n in (1, 2))
    for rid in (old, fresh):
        scan(api, record(rid).code)
    # Received two hours ago: past a one-hour SLA.
    record(old).update(actions=[ReturnModel.status_since.set(clock.iso(clock.now() - timedelta(hours=2)))])
    items = queue(api, "status=received").json_body["items"]
    assert [(x["return_id"], x["overdue"]) for x in items] == [(old, True), (fresh, False)]
    monkeypatch.setenv("INSPECTION_SLA_SECONDS", str(3 * 3600))
    assert [x["overdue"] for x in queue(api, "status=received").json_body["items"]] == [False, False]
