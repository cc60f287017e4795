"""A return's timeline in its own items: no number of events pushes the return past DynamoDB's item limit.

The API in-process against moto (test_api_unit's harness: real tables from template.yaml, a do-nothing
state machine, so the Settle step is called here as the workflow would call it).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.support import ENV, auth, boto, customer, error_of, return_body, send, ship, signed

TRACKING = "LC99999999999"
# Past the cap by half again: enough to show the item stops growing (the 600 only costs time).
EVENTS = 300
FAR = "Plateforme de tri " + "x" * 182   # the longest location the edge accepts (200 characters)


def carrier_event(api, event: str, occurred_at: datetime, location: str = FAR):
    body = json.dumps({"tracking_number": TRACKING, "event": event, "location": location,
                       "occurred_at": occurred_at.isoformat().replace("+00:00", "Z")}).encode()
    return api.http.post("/carrier/events", body=body, headers=signed(body))


def stored_size(return_id: str) -> int:
    """The return's item as DynamoDB holds it, serialised (an upper bound of what DynamoDB counts)."""
    item = boto("dynamodb").get_item(TableName=ENV["RETURNS_TABLE"], Key={"return_id": {"S": return_id}},
                                     ConsistentRead=True)["Item"]
    return len(json.dumps(item).encode())


def view(api, return_id: str) -> dict:
    res = api.http.get(f"/returns/{return_id}", headers=customer("o-1"))
    assert res.status_code == 200, res.body
    return res.json_body


def new_return(api, resolution: str = "refund") -> str:
    res = send(api, "POST", "/returns", return_body(resolution=resolution), customer("o-1"))
    assert res.status_code == 201, res.body
    ship(res.json_body["return_id"], tracking=TRACKING)
    return res.json_body["return_id"]


# slow: carrier events up to the cap and past it
@pytest.mark.slow
def test_carrier_events_past_the_cap_are_429_never_500_and_the_return_is_still_inspected_and_refunded(api, order):
    from returns_core.rules.carrier_moves import MAX_EVENTS_PER_RETURN
    from returns_core.usecases import settlement

    rid = new_return(api, resolution="store_credit")
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    # The first moves the return to in_transit; up to the cap each is kept; past it none is.
    for n in range(EVENTS):
        res = carrier_event(api, "in_transit", start + timedelta(minutes=n))
        if n < MAX_EVENTS_PER_RETURN:
            assert res.status_code == 202, (n, res.body)
            continue
        assert res.status_code == 429, (n, res.body)
        error = error_of(res)
        assert error["code"] == "too_many_events" and error["details"]["field"] == "tracking_number", error
        if n == MAX_EVENTS_PER_RETURN:
            at_the_cap = stored_size(rid)
    # A repeat of a kept event is still a repeat (200), not refused; an informational one past the cap is.
    assert carrier_event(api, "in_transit", start).status_code == 200
    assert carrier_event(api, "delivered", start + timedelta(days=1)).status_code == 429
    # What the return holds does not grow with what was refused, and stays far from the 400 KB limit.
    assert stored_size(rid) == at_the_cap < 16 * 1024

    timeline = view(api, rid)["timeline"]
    carrier = [t for t in timeline if t["type"] == "carrier.in_transit"]
    assert len(carrier) == MAX_EVENTS_PER_RETURN
    assert [t["detail"]["occurred_at"] for t in carrier] == [
        (start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z") for n in range(MAX_EVENTS_PER_RETURN)]
    assert timeline[0]["type"] == "return.requested"

    # The parcel still comes in, is graded and refunded.
    ret = view(api, rid)
    scan = send(api, "POST", "/warehouse/scans", {"code": ret["label"]["code"]}, auth("warehouse", sub="warehouse:wes"))
    assert scan.status_code == 200, scan.body
    graded = send(api, "POST", f"/returns/{rid}/inspection",
                  {"items": [{"sku": "TSHIRT-M", "qty": 1, "condition": "resellable"}]},
                  auth("warehouse", sub="warehouse:wes"))
    assert graded.status_code == 200, graded.body
    assert settlement.settle(rid) == "refunded"
    done = view(api, rid)
    assert done["status"] == "refunded" and done["refund"]["amount"] == done["quote"]["refund_amount"] > 0
    steps = ("parcel.received", "return.inspected", "refund.refunding", "refund.issued")
    assert [t["type"] for t in done["timeline"] if t["type"] in steps] == list(steps)
    assert stored_size(rid) < 16 * 1024


def test_a_write_that_fails_its_condition_leaves_no_timeline_entry(api, order):
    from returns_core.rules import timeline
    from returns_core.store import returns, writes
    from returns_core.store.models import ReturnModel, TimelineEntryModel

    rid = new_return(api)
    before = [t["type"] for t in view(api, rid)["timeline"]]
    stale = returns.get(rid)
    assert send(api, "POST", f"/returns/{rid}/cancel", {}, customer("o-1")).status_code == 200

    # A condition the return does not meet, and a copy another writer has moved on from (its version).
    for ret, condition in ((returns.get(rid), ReturnModel.status == "awaiting_dropoff"),
                           (stale, ReturnModel.status == "awaiting_dropoff")):
        landed = writes.update_once(ret, [ReturnModel.status.set("in_transit")], condition,
                                    [timeline.entry("carrier.dropped_off", "carrier")])
        assert landed is False
    after = returns.get(rid)
    assert after.status == "cancelled"
    items = list(TimelineEntryModel.query(rid, consistent_read=True))
    assert [i.type for i in items] == before + ["return.cancelled"]
    assert [int(i.seq) for i in items] == list(range(1, len(items) + 1)) and int(after.timeline_count) == len(items)


def test_a_return_written_with_an_inline_timeline_still_reads_and_goes_on_in_items(api, order):
    """Returns stored before the timeline had its own table: their entries come first, then the new ones."""
    from returns_core.store import returns
    from returns_core.store.models import ReturnModel, TimelineEntryModel

    rid = new_return(api)
    old = [{"at": "2026-11-01T09:00:00.000Z", "type": "return.requested", "actor": "customer:o-1",
            "detail": {"items": 1, "resolution": "refund"}},
           {"at": "2026-11-01T09:00:05.000Z", "type": "label.issued", "actor": "system", "detail": None}]
    # As the record looked before: the list inline, no count, no items.
    for item in TimelineEntryModel.query(rid):
        item.delete()
    returns.get(rid).update(actions=[ReturnModel.timeline.set(old), ReturnModel.timeline_count.remove()])

    assert [t["type"] for t in view(api, rid)["timeline"]] == ["return.requested", "label.issued"]
    assert send(api, "POST", f"/returns/{rid}/cancel", {"reason": "found a better size"},
                customer("o-1")).status_code == 200
    timeline = view(api, rid)["timeline"]
    assert [(t["type"], t["detail"]) for t in timeline] == [
        ("return.requested", {"items": 1, "resolution": "refund"}), ("label.issued", None),
        ("return.cancelled", {"reason": "found a better size"})]
    assert timeline[0]["text"] == "You started this return."
    assert [i.type for i in TimelineEntryModel.query(rid, consistent_read=True)] == ["return.cancelled"]
    assert len(returns.get(rid).timeline) == 2   # the inline list is read, never written again


def test_user_text_in_an_entry_is_bounded():
    from returns_core.rules import timeline

    entry = timeline.entry("return.disputed", "customer:o-1",
                           {"message": "é" * 50_000, "lines": [{"note": "x" * 9999}]})
    assert len(entry["detail"]["message"]) == timeline.MAX_TEXT_CHARS
    assert len(entry["detail"]["lines"][0]["note"]) == timeline.MAX_TEXT_CHARS
    assert timeline.entry("return.cancelled", "c", {"reason": "short"})["detail"] == {"reason": "short"}


@pytest.mark.parametrize("field,value", [("location", "x" * 201), ("occurred_at", "2026-11-02T10:00:00Z" + "0" * 30)])
def test_carrier_text_beyond_what_an_entry_keeps_is_a_422_naming_the_field(api, order, field, value):
    new_return(api)
    body = {"tracking_number": TRACKING, "event": "in_transit", "occurred_at": "2026-11-02T10:00:00Z",
            "location": "Paris", field: value}
    raw = json.dumps(body).encode()
    res = api.http.post("/carrier/events", body=raw, headers=signed(raw))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == field


def test_a_record_is_two_single_writes_numbered_after_any_change_that_raced_it(api, order):
    """Issue 20: an entry that changes nothing (a message sent) costs no transaction; a copy of the return
    another writer has moved on from loses the number's claim, reads again and takes the next one, and a
    change after it is numbered after it, still in its own transaction with its conditions."""
    from returns_core.rules import timeline
    from returns_core.store import returns, writes
    from returns_core.store.models import ReturnModel, TimelineEntryModel

    rid = new_return(api)
    stale = returns.get(rid)
    assert send(api, "POST", f"/returns/{rid}/cancel", {}, customer("o-1")).status_code == 200

    calls: list[str] = []
    clients = {id(c): c for c in (m._get_connection().connection.client for m in (ReturnModel, TimelineEntryModel))}
    count = lambda model, **_: calls.append(model.name)  # noqa: E731
    for c in clients.values():
        c.meta.events.register("before-call.dynamodb.*", count)
    try:
        returns.append_timeline(stale, actor="system", event="message.sent", detail={"channel": "email"})
    finally:
        for c in clients.values():
            c.meta.events.unregister("before-call.dynamodb.*", count)
    assert "TransactWriteItems" not in calls and calls.count("PutItem") == 1, calls
    assert stale.status == "cancelled"   # read again after losing the claim, not written over

    assert writes.update_once(returns.get(rid), [ReturnModel.status_since.set("2026-11-02T08:00:00Z")],
                              ReturnModel.status == "cancelled", [timeline.entry("note.added", "ops")])
    items = list(TimelineEntryModel.query(rid, consistent_read=True))
    assert [i.type for i in items][-3:] == ["return.cancelled", "message.sent", "note.added"]
    assert [int(i.seq) for i in items] == list(range(1, len(items) + 1))
    assert int(returns.get(rid).timeline_count) == len(items)
