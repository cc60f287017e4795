"""Carrier webhooks: the signature over the raw body, repeats, late and out-of-order events, `lost`.

The API in-process against moto (test_api_unit's harness: real tables, a do-nothing state machine).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.support import boto, customer, error_of, ship, signed, start_return

TRACKING = "LC12345678903"


def event_body(event: str, occurred_at: str = "2026-11-02T10:00:00Z", tracking: str = TRACKING) -> bytes:
    return json.dumps({"tracking_number": tracking, "event": event, "occurred_at": occurred_at,
                       "location": "Paris 11"}).encode()


def post(api, body: bytes, headers: dict):
    return api.http.post("/carrier/events", body=body, headers=headers)


def view(api, return_id: str) -> dict:
    return api.http.get(f"/returns/{return_id}", headers=customer("o-1")).json_body


def kinds(api, return_id: str) -> list[str]:
    return [t["type"] for t in view(api, return_id)["timeline"]]


@pytest.fixture
def shipped(api, order):
    ret = start_return(api)
    ship(ret["return_id"], tracking=TRACKING)
    return ret["return_id"]


@pytest.fixture
def ops_queue(aws):
    """An SQS queue subscribed to the ops topic: how a real subscriber would see the alerts."""
    import os

    sqs, sns = boto("sqs"), boto("sns")
    url = sqs.create_queue(QueueName="ops-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=os.environ["OPS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    def read() -> list[dict]:
        """The alerts so far; this harness has no SES templates, so the emails' failure alerts are left out."""
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return [a for a in out if a["type"] != "notification_failed"]
            out += [json.loads(m["Body"]) for m in got]
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])

    return read


# --- signature ----------------------------------------------------------------------------------

def test_a_good_signature_is_accepted(api, shipped):
    body = event_body("dropped_off")
    res = post(api, body, signed(body))
    assert res.status_code == 202, res.body
    assert res.json_body == {"tracking_number": TRACKING, "event": "dropped_off", "status": "in_transit",
                             "duplicate": False}


@pytest.mark.parametrize("headers", [
    {},                                                         # missing
    {"X-Carrier-Signature": ""},                                # empty
    {"X-Carrier-Signature": "sha256="},                         # no digest
    {"X-Carrier-Signature": "sha1=" + "0" * 40},                # another scheme
    {"X-Carrier-Signature": "sha256=" + "0" * 64},              # a wrong digest of the right shape
    {"X-Carrier-Signature": "sha256=not-hex-at-all-é"},         # garbage
], ids=["missing", "empty", "no-digest", "sha1", "zeros", "garbage"])
def test_a_missing_or_malformed_signature_is_401_and_moves_nothing(api, shipped, headers):
    body = event_body("dropped_off")
    res = post(api, body, {"Content-Type": "application/json", **headers})
    assert res.status_code == 401 and error_of(res)["code"] == "bad_signature"
    assert view(api, shipped)["status"] == "awaiting_dropoff"


def test_a_signature_made_with_another_secret_is_401(api, shipped):
    body = event_body("dropped_off")
    res = post(api, body, signed(body, "not-the-carrier-secret"))
    assert res.status_code == 401 and error_of(res)["code"] == "bad_signature"


def test_a_tampered_body_is_401(api, shipped):
    """Sign one body, send another: the signature covers the raw bytes, not the parsed JSON."""
    body = event_body("dropped_off")
    for other in (event_body("lost"), body.replace(b"Paris 11", b"Lyon 3"), body + b" ", body.replace(b", ", b",")):
        res = post(api, other, signed(body))
        assert res.status_code == 401, other
    assert view(api, shipped)["status"] == "awaiting_dropoff"
    assert "carrier.dropped_off" not in kinds(api, shipped)


def test_a_signed_body_that_is_not_an_event_is_a_4xx_naming_the_field(api, shipped):
    body = json.dumps({"tracking_number": TRACKING, "event": "teleported", "occurred_at": "x"}).encode()
    res = post(api, body, signed(body))
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "event"
    body = b"[1, 2]"
    assert post(api, body, signed(body)).status_code == 400
    body = b"{not json"
    assert post(api, body, signed(body)).status_code == 400


# --- repeats and order ----------------------------------------------------------------------------

def test_a_duplicate_is_200_with_no_second_timeline_entry(api, shipped):
    body = event_body("dropped_off")
    assert post(api, body, signed(body)).status_code == 202
    again = post(api, body, signed(body))
    assert again.status_code == 200 and again.json_body["duplicate"] is True
    # The same event re-serialised by the carrier (another key order) is still the same event.
    reordered = json.dumps({"occurred_at": "2026-11-02T10:00:00Z", "event": "dropped_off",
                            "tracking_number": TRACKING, "location": "Paris 11"}).encode()
    assert post(api, reordered, signed(reordered)).status_code == 200
    assert kinds(api, shipped).count("carrier.dropped_off") == 1
    assert view(api, shipped)["status"] == "in_transit"


def test_racing_duplicates_record_one_entry(api, shipped):
    """Ten deliveries of the same event at once (carriers retry on timeouts): one timeline entry."""
    from returns_core.usecases import carrier_tracking

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: carrier_tracking.apply(TRACKING, "delivered", "2026-11-03T08:00:00Z",
                                                               "Warehouse"), range(10)))
    assert sorted(new for _, new in results) == [False] * 9 + [True]
    assert kinds(api, shipped).count("carrier.delivered") == 1


def test_an_event_older_than_the_status_is_recorded_and_moves_nothing(api, order):
    ret = start_return(api)
    ship(ret["return_id"], tracking=TRACKING, status="received")
    body = event_body("in_transit", "2026-11-01T09:00:00Z")
    res = post(api, body, signed(body))
    assert res.status_code == 202 and res.json_body["status"] == "received"
    entry = [t for t in view(api, ret["return_id"])["timeline"] if t["type"] == "carrier.in_transit"]
    assert len(entry) == 1 and entry[0]["actor"] == "carrier"
    assert entry[0]["detail"] == {"event": "in_transit", "occurred_at": "2026-11-01T09:00:00Z",
                                  "location": "Paris 11"}
    # A late dropped_off is the same: in the timeline, no move back to in_transit.
    body = event_body("dropped_off", "2026-11-01T08:00:00Z")
    assert post(api, body, signed(body)).json_body["status"] == "received"
    assert view(api, ret["return_id"])["status"] == "received"


def test_delivered_is_recorded_only(api, shipped):
    body = event_body("dropped_off")
    post(api, body, signed(body))
    body = event_body("delivered", "2026-11-04T08:00:00Z")
    res = post(api, body, signed(body))
    assert res.status_code == 202 and res.json_body["status"] == "in_transit"
    assert "carrier.delivered" in kinds(api, shipped)


def test_in_transit_without_a_dropped_off_moves_the_return_along(api, shipped):
    body = event_body("in_transit")
    assert post(api, body, signed(body)).json_body["status"] == "in_transit"


# --- lost -----------------------------------------------------------------------------------------

def test_lost_moves_in_transit_to_lost_and_alerts_ops(api, shipped, ops_queue):
    body = event_body("dropped_off")
    post(api, body, signed(body))
    ops_queue()  # nothing before
    body = event_body("lost", "2026-11-09T08:00:00Z")
    res = post(api, body, signed(body))
    assert res.status_code == 202 and res.json_body["status"] == "lost"
    alerts = ops_queue()
    assert [(a["type"], a["return_id"]) for a in alerts] == [("parcel_lost", shipped)]
    # A repeat of `lost` alerts nobody a second time.
    assert post(api, body, signed(body)).status_code == 200
    assert ops_queue() == []


def test_lost_after_the_parcel_was_received_is_recorded_only(api, order, ops_queue):
    ret = start_return(api)
    ship(ret["return_id"], tracking=TRACKING, status="received")
    body = event_body("lost", "2026-11-09T08:00:00Z")
    res = post(api, body, signed(body))
    assert res.status_code == 202 and res.json_body["status"] == "received"
    assert "carrier.lost" in kinds(api, ret["return_id"])
    assert [a["type"] for a in ops_queue()] == []


def test_unknown_tracking_number_is_404(api):
    body = event_body("delivered", tracking="LC00000000000")
    res = post(api, body, signed(body))
    assert res.status_code == 404 and error_of(res)["code"] == "unknown_tracking_number"


# --- the instant, not its spelling (issue 14, defect 7) --------------------------------------------

SAME_INSTANT = ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00+00:00", "2026-11-02T10:00:00.000Z",
                "2026-11-02T11:00:00+01:00")


@pytest.mark.parametrize("event, status", [("dropped_off", "in_transit"), ("delivered", "awaiting_dropoff")])
def test_the_same_instant_spelled_four_ways_is_one_event(api, shipped, event, status):
    """`Z`, `+00:00`, `.000Z` and `+01:00` for one instant: one drop-off (202), then repeats (200)."""
    codes = []
    for occurred_at in SAME_INSTANT:
        body = event_body(event, occurred_at)
        res = post(api, body, signed(body))
        codes.append(res.status_code)
        assert res.json_body["duplicate"] is (len(codes) > 1), res.body
    assert codes == [202, 200, 200, 200]
    assert kinds(api, shipped).count(f"carrier.{event}") == 1
    assert view(api, shipped)["status"] == status


def test_another_instant_is_another_event(api, shipped):
    for occurred_at in ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00.001Z", "2026-11-02T10:00:00+01:00"):
        body = event_body("delivered", occurred_at)
        assert post(api, body, signed(body)).status_code == 202, occurred_at
    assert kinds(api, shipped).count("carrier.delivered") == 3


def test_racing_spellings_of_one_instant_record_one_entry(api, shipped):
    from returns_core.usecases import carrier_tracking

    spellings = list(SAME_INSTANT) * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda at: carrier_tracking.apply(TRACKING, "delivered", at, "Warehouse"), spellings))
    assert sorted(new for _, new in results) == [False] * (len(spellings) - 1) + [True]
    assert kinds(api, shipped).count("carrier.delivered") == 1


def test_an_event_remembered_by_its_old_raw_key_is_still_a_repeat(api, shipped):
    """Returns whose events were keyed by the string as sent, before keys were instants."""
    from returns_core.store.models import ReturnModel
    from returns_core.store.returns import get

    body = event_body("dropped_off", "2026-11-02T10:00:00+00:00")
    assert post(api, body, signed(body)).status_code == 202
    get(shipped).update(actions=[ReturnModel.carrier_events.set(["dropped_off@2026-11-02T10:00:00+00:00"])])
    for occurred_at in SAME_INSTANT:
        body = event_body("dropped_off", occurred_at)
        assert post(api, body, signed(body)).status_code == 200, occurred_at
    assert kinds(api, shipped).count("carrier.dropped_off") == 1


@pytest.mark.parametrize("occurred_at", [
    "yesterday", "2026-13-01T00:00:00Z", "2026-11-02T25:00:00Z", "2026-11-02T10:00:00+25:00",
    "0001-01-01T00:00:00+01:00",      # before the first instant once in UTC
    "9999-12-31T23:30:00-01:00",      # after the last one
    "", "   ",
])
def test_a_malformed_occurred_at_is_a_4xx_naming_it_and_moves_nothing(api, shipped, occurred_at):
    body = event_body("dropped_off", occurred_at)
    res = post(api, body, signed(body))
    assert res.status_code in (400, 422), res.body
    assert error_of(res)["details"]["field"] == "occurred_at"
    assert view(api, shipped)["status"] == "awaiting_dropoff"
    assert "carrier.dropped_off" not in kinds(api, shipped)


def test_an_occurred_at_of_the_wrong_type_is_400_naming_it(api, shipped):
    body = json.dumps({"tracking_number": TRACKING, "event": "dropped_off", "occurred_at": 1762077600}).encode()
    res = post(api, body, signed(body))
    assert res.status_code == 400 and error_of(res)["details"]["field"] == "occurred_at", res.body


def test_the_domain_refuses_an_instant_it_cannot_key(api, shipped):
    """Whoever calls it (not only the API), a timestamp that is not an instant is a 422 naming occurred_at."""
    from returns_core.rules.errors import UnprocessableError
    from returns_core.usecases import carrier_tracking

    with pytest.raises(UnprocessableError) as caught:
        carrier_tracking.apply(TRACKING, "dropped_off", "0001-01-01T00:00:00+01:00", None)
    assert caught.value.field == "occurred_at"
