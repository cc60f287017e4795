"""A message SES refuses is never lost silently: the status still moves, the timeline and ops know."""
from __future__ import annotations

import json

import boto3
import pytest

from infra.local import faults

from .helpers import order_payload
from .journey import REGION, Journey, Outbox, client, deployed

pytestmark = pytest.mark.xdist_group("workflow")


def test_throttled_email_is_recorded_and_alerted_and_the_return_moves_on(monkeypatch):
    with deployed(monkeypatch) as stack, client() as http:
        outbox = Outbox(stack)
        sqs = boto3.client("sqs", region_name=REGION)
        ops_queue = sqs.create_queue(QueueName="ops-alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=ops_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns", region_name=REGION).subscribe(TopicArn=stack.environment["OPS_TOPIC_ARN"],
                                                         Protocol="sqs", Endpoint=arn)
        # SES throttles every attempt at the email while this block runs; the built function meets
        # it over HTTP, as on AWS, and its client retries before giving up.
        with faults.fail("ses", "SendTemplatedEmail", "Throttling", "Maximum sending rate exceeded.",
                         times=1000) as throttled:
            journey = Journey(http, "ORD-THR", order_payload(locale="fr-FR"))
            journey.start({"method": "letterbox"})
            ret = journey.until("awaiting_dropoff", sent=1, parked=False)  # the SMS went; the email did not

        assert len(throttled.hits) >= 3   # standard retry mode: 3 attempts
        failed = [t["detail"] for t in ret["timeline"] if t["type"] == "effect.failed"]
        assert failed == [None]   # the customer reads the sentence; what failed is for staff
        staff = http.call("GET", f"/returns/{journey.rid}", token=journey.ops)[1]
        failed = [t["detail"] for t in staff["timeline"] if t["type"] == "effect.failed"]
        assert failed == [{"effect": "email:return_requested", "error": "ClientError"}]
        assert outbox.templates() == []
        assert [t["detail"]["channel"] for t in ret["timeline"] if t["type"] == "message.sent"] == ["sms"]
        alerts = [json.loads(json.loads(m["Body"])["Message"])
                  for m in sqs.receive_message(QueueUrl=ops_queue, MaxNumberOfMessages=10).get("Messages", [])]
        assert [(a["type"], a["return_id"]) for a in alerts] == [("notification_failed", journey.rid)], alerts
        assert "ClientError" in alerts[0]["message"]
        assert outbox.event_types() == ["return.requested", "return.label_issued"]  # the event still went out


def test_no_phone_or_opted_out_means_no_sms(monkeypatch):
    with deployed(monkeypatch) as stack, client() as http:
        outbox = Outbox(stack)
        no_phone = order_payload(email="nophone@example.com", locale="en-GB")
        del no_phone["customer"]["phone"]
        opted_out = order_payload(email="optout@example.com", locale="en-GB")
        opted_out["customer"]["sms_opt_out"] = True
        journeys = [Journey(http, "ORD-NOPHONE", no_phone), Journey(http, "ORD-OPTOUT", opted_out)]
        for journey in journeys:
            journey.start({"method": "letterbox"})
        for journey in journeys:
            journey.until("awaiting_dropoff", sent=1, parked=False)
        assert outbox.templates() == ["return_requested-en", "return_requested-en"]
        assert outbox.sms() == []
