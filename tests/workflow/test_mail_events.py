"""An email that did not arrive is told where people look (issue 35, "Mail"): SES's documented bounce,
complaint and reject events (tests/vendor/ses_sns_events.json), delivered by SNS to the built
StatusEffects function as SNS delivers them, put a `message.undelivered` entry in the return's timeline
(for staff; no address kept) and alert ops, once per message however often SNS delivers it."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest

from returns_core.edge import auth
from returns_core.usecases import mail_events

from .helpers import Http, start_return, wait_for

pytestmark = pytest.mark.xdist_group("workflow")

SAMPLES = json.loads((Path(__file__).resolve().parents[1] / "vendor/ses_sns_events.json").read_text())


def _event(kind: str, return_id: str, template: str, **changes) -> dict:
    event = copy.deepcopy(SAMPLES[kind])
    event["mail"]["tags"].update({"return_id": [return_id], "template": [template]})
    for key, value in changes.items():
        event[kind][key] = value
    return event


def _sns(*events: dict) -> dict:
    """SNS's delivery to a Lambda subscriber (the Lambda developer guide's SNS event shape)."""
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:mail-events:sub",
                         "Sns": {"Type": "Notification", "MessageId": f"m-{n}",
                                 "TopicArn": "arn:aws:sns:us-east-1:123456789012:mail-events",
                                 "Subject": None, "Message": json.dumps(event), "Timestamp": "2017-08-05T00:41:03.000Z",
                                 "SignatureVersion": "1", "MessageAttributes": {}}}
                        for n, event in enumerate(events)]}


@pytest.mark.parametrize(("kind", "changes", "expected"), [
    ("bounce", {}, "bounced"),
    ("bounce", {"bounceSubType": "OnSuppressionList"}, "suppressed"),
    ("bounce", {"bounceType": "Transient"}, None),   # SES retries it; a final failure comes as Permanent
    ("complaint", {}, "complaint"),
    ("reject", {}, "rejected"),
])
def test_what_each_documented_event_means(kind, changes, expected):
    assert mail_events.why_undelivered(_event(kind, "RT-X", "t", **changes)) == expected


def test_a_bounce_and_a_complaint_reach_the_timeline_and_ops_once(stack, api, ops_inbox):
    http = Http(api)
    rid, customer = start_return(http, "ORD-BOUNCE")
    staff = auth.mint("ops", "ops:eve")
    sent = wait_for(lambda: http.call("GET", f"/returns/{rid}", token=staff)[1],
                    lambda r: any(t["type"] == "message.sent" for t in r["timeline"]), what="the first email")
    template = next(t["detail"]["template"] for t in sent["timeline"] if t["type"] == "message.sent")
    ops_inbox()

    bounce, complaint = _event("bounce", rid, template), _event("complaint", rid, template)
    function = stack.function("StatusEffectsFunction").name
    client = boto3.client("lambda", region_name="us-east-1")
    for _ in range(2):   # SNS delivers at least once
        out = client.invoke(FunctionName=function, Payload=json.dumps(_sns(bounce, complaint)).encode())
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
    assert body == {"undelivered": []}   # the second delivery recorded nothing

    got = http.call("GET", f"/returns/{rid}", token=staff)[1]
    undelivered = [t for t in got["timeline"] if t["type"] == "message.undelivered"]
    assert [(t["actor"], t["detail"]["why"], t["detail"]["template"]) for t in undelivered] == [
        ("system", "bounced", template), ("system", "complaint", template)]
    assert "recipient@example.com" not in json.dumps(got)
    mine = http.call("GET", f"/returns/{rid}", token=customer)[1]
    told = [t for t in mine["timeline"] if t["type"] == "message.undelivered"]
    assert [(t["actor"], t["detail"]) for t in told] == [("system", {"channel": "email"})] * 2
    assert told[0]["text"].startswith("An email we sent you did not arrive")
    alerts = wait_for(ops_inbox, lambda a: len(a) >= 2, what="two ops alerts")
    assert [a["subject"] for a in alerts] == ["[returns] email_undelivered"] * 2
    assert all(rid in a["message"] for a in alerts)
