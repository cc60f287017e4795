"""A customer's return driven through the API on a deployed stack (`Journey`), and what the emulator
captured of it (`Outbox`: emails, SMS, the store's events), for the notification and workflow tests."""
from __future__ import annotations

import json
import time
from contextlib import contextmanager

import boto3

from returns_core.edge import auth

from tests.conftest import GatewayClient, deployed_stack

from .helpers import Http, carrier_event, effects_settled, wait_for as _wait_for

ACCOUNT, REGION = "123456789012", "us-east-1"


@contextmanager
def deployed(monkeypatch, overrides: dict[str, str] | None = None):
    """tests/conftest.py's `stack`, with template parameter overrides (short waits)."""
    with deployed_stack(monkeypatch, overrides=overrides) as stack:
        yield stack


def wait_for(fetch, predicate, timeout: float = 25.0, what: str = "condition"):
    """helpers.wait_for, polling every 0.1 s: each read of moto's DynamoDB while the workflow
    writes is a chance for the emulator's unlocked dicts to break one of the two."""
    def slow():
        time.sleep(0.08)
        return fetch()
    return _wait_for(slow, predicate, timeout=timeout, what=what)


class Outbox:
    """What the emulator captured: emails, SMS, and the domain events on an SQS subscription."""

    def __init__(self, stack):
        self.prefix = stack.environment["SES_TEMPLATE_PREFIX"]
        sqs = boto3.client("sqs", region_name=REGION)
        self.sqs = sqs
        self.queue = sqs.create_queue(QueueName="store-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=stack.environment["EVENTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn,
            Attributes={"RawMessageDelivery": "false"})
        self.events: list[dict] = []

    def emails(self) -> list[tuple[str, dict]]:
        from moto.ses.models import ses_backends

        effects_settled()
        sent = ses_backends[ACCOUNT][REGION].sent_messages
        return [(m.template.removeprefix(self.prefix + "-"), json.loads(m.template_data))
                for m in sent if hasattr(m, "template_data")]

    def templates(self) -> list[str]:
        return [name for name, _ in self.emails()]

    def sms(self) -> list[tuple[str, str]]:
        from moto.sns.models import sns_backends

        effects_settled()
        return list(sns_backends[ACCOUNT][REGION].sms_messages.values())

    def drain(self) -> list[dict]:
        effects_settled()
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return self.events
            for message in got:
                envelope = json.loads(message["Body"])
                self.events.append({"body": json.loads(envelope["Message"]),
                                    "attributes": {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}})
            self.sqs.delete_message_batch(QueueUrl=self.queue, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])

    def event_types(self) -> list[str]:
        return [e["body"]["type"] for e in self.drain()]


@contextmanager
def client():
    yield Http(GatewayClient())


class Journey:
    """One customer's return, driven through the API."""

    def __init__(self, http: Http, order_id: str, payload: dict):
        self.http, self.order_id = http, order_id
        self.store = auth.mint("store", "shop")
        self.warehouse = auth.mint("warehouse", "wh:bob")
        self.ops = auth.mint("ops", "ops:eve")
        status, body, _ = http.call("PUT", f"/orders/{order_id}", payload, token=self.store)
        assert status == 201, body
        status, body, _ = http.call("POST", "/returns/lookup",
                                    {"order_id": order_id, "email": payload["customer"]["email"]})
        assert status == 200, body
        self.customer = body["token"]
        self.rid = ""
        self.sms = int(bool(payload["customer"].get("phone")) and not payload["customer"].get("sms_opt_out"))

    def start(self, dropoff: dict, sku: str = "TSHIRT-M", resolution: str = "store_credit") -> dict:
        status, ret, _ = self.http.call("POST", "/returns", {
            "order_id": self.order_id, "items": [{"sku": sku, "qty": 1, "reason": "too_small"}],
            "resolution": resolution, "dropoff": dropoff}, token=self.customer)
        assert status == 201, ret
        self.rid = ret["return_id"]
        return ret

    def get(self) -> dict:
        return self.http.call("GET", f"/returns/{self.rid}", token=self.customer)[1]

    def until(self, status: str, sent: int | None = None, timeout: float = 25.0, parked: bool = True) -> dict:
        """Wait for `status` and, if given, for `sent` messages recorded in the timeline.

        moto's DynamoDB is not thread-safe: an API write racing a workflow write (a timeline entry,
        a parked task token) can lose one of them in the emulator, where DynamoDB's conditional
        writes would not; so each step waits for the previous one to settle, as a customer would.
        """
        def done(r: dict) -> bool:
            # A 500 here is moto reading an item another thread is writing: poll again.
            return r.get("status") == status and (sent is None or sum(
                1 for t in r["timeline"] if t["type"] == "message.sent") == sent)
        ret = wait_for(self.get, done, timeout=timeout, what=f"{status} with {sent} messages")
        wait = {"in_review": "review", "awaiting_dropoff": "dropoff", "in_transit": "arrival",
                "received": "inspection", "refunded": "confirmation"}.get(status)
        if wait and parked:  # and for the workflow to park its wait, for the same reason
            from returns_core.store import returns
            def waiting() -> str | None:
                try:
                    return returns.get(self.rid).waiting_for
                except RuntimeError:  # moto read the item while another thread wrote it
                    return None
            wait_for(waiting, lambda w: w == wait, timeout=timeout, what=f"the {wait} wait")
        return ret

    def to_refunded(self, sent: int = 0, parked: bool = True, condition: str = "resellable") -> dict:
        """Through inspection to the refund; the inspection's result is an email of its own only when the
        grade changed the quote (issue 20: otherwise the refund's email says it all)."""
        sent += 1 + self.sms
        ret = self.until("awaiting_dropoff", sent)
        assert carrier_event(self.http, ret["label"]["tracking_number"], "dropped_off")[0] == 202
        self.until("in_transit", sent)
        status, body, _ = self.http.call("POST", "/warehouse/scans", {"code": ret["label"]["code"]},
                                         token=self.warehouse)
        assert status == 200, body
        sent += 1
        self.until("received", sent)
        sku = ret["items"][0]["sku"]
        status, body, _ = self.http.call("POST", f"/returns/{self.rid}/inspection", {
            "items": [{"sku": sku, "qty": 1, "condition": condition}]}, token=self.warehouse)
        assert status == 200, body
        return self.until("refunded", sent + 1 + (condition != "resellable") + self.sms, parked=parked)
