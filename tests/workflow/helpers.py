"""Small helpers for driving lifecycles in tests: orders, polling, the API over the gateway (`Http`), the
carrier's signed events, and what the emulator sent (a topic's messages, the emails about a return)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import boto3

from returns_core.rules import clock


def order_payload(email: str = "ana@example.com", locale: str = "fr-FR", provider: str = "stripe",
                  captured: int | None = None, days_since_delivery: int = 3, lines: list | None = None) -> dict:
    """A paid order; `captured` defaults to the lines' list total (no discount: a return refunds what
    was paid for its units, so a capture below the list total would read as a discount)."""
    delivered = clock.now() - timedelta(days=days_since_delivery)
    lines = lines or [
        {"sku": "TSHIRT-M", "name": "T-shirt M", "qty": 2, "unit_price": 2499, "final_sale": False},
        {"sku": "JEANS-32", "name": "Jeans 32", "qty": 1, "unit_price": 7999, "final_sale": False},
        {"sku": "SOCKS", "name": "Socks", "qty": 1, "unit_price": 999, "final_sale": True},
    ]
    if captured is None:
        captured = sum(int(line["qty"]) * int(line["unit_price"]) for line in lines)
    return {
        "customer": {"email": email, "name": "Ana Lefèvre", "phone": "+33600000000", "locale": locale},
        "currency": "EUR", "placed_at": clock.iso(delivered - timedelta(days=2)), "delivered_at": clock.iso(delivered),
        "shipping_address": {"line1": "12 rue Oberkampf", "postcode": "75011", "city": "Paris", "country": "FR"},
        "payment": {"provider": provider, "reference": "pi_test_1", "captured_amount": captured},
        "lines": lines,
    }


def wait_for(fetch, predicate, timeout: float = 30.0, what: str = "condition", interval: float = 0.02):
    """Poll `fetch()` until `predicate(value)`; the workflow runs in moto's threads."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not predicate(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(interval)
        value = fetch()
    return value


def effects_settled() -> None:
    """Wait until what follows the API's moves has run: the StatusEffects function's asynchronous
    invocations (outbound/deferred_effects.py) that Lambda's emulated queue accepted so far."""
    from infra.local import dispatch

    dispatch.drain()


def roll_up_finance(stack) -> dict:
    """Finance's roll-up, run as its schedule runs it (HandleTimeout's FinanceRollup, over Lambda's Invoke,
    the built artifact): what /analytics/returns and /finance/reconciliation read next."""
    out = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=stack.function("HandleTimeoutFunction").name, Payload=json.dumps({"finance_rollup": {}}).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out and body["complete"], body
    return body


def states_entered(events: list[dict]) -> list[str]:
    """The states an execution entered, in order, from its history (each one a billed transition)."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def history_of(stack, return_id: str) -> list[dict]:
    """The history of the return's execution (named after the return)."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + return_id
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def parked_wait(return_id: str) -> tuple[str | None, str | None]:
    """(the workflow wait the return is parked in, its task token), as stored; (None, None) while moto
    reads the item another thread writes."""
    from returns_core.store import returns

    try:
        ret = returns.get(return_id)
    except RuntimeError:
        return None, None
    return ret.waiting_for, ret.task_token


from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Http:
    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None,
             raw: bytes | None = None):
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=h, body=data)
        try:
            payload = json.loads(response.body) if response.body else None
        except (ValueError, UnicodeDecodeError):
            payload = response.body
        return response.status_code, payload, response


def start_return(http: Http, order_id: str, reason: str = "too_small") -> tuple[str, str]:
    """The store pushes a paid-offline order, its customer finds it and asks to send one T-shirt back for
    store credit by letterbox: (return id, the customer's token)."""
    from returns_core.edge import auth

    assert http.call("PUT", f"/orders/{order_id}", order_payload(provider="manual"),
                     token=auth.mint("store", "shop"))[0] == 201
    customer = http.call("POST", "/returns/lookup", {"order_id": order_id, "email": "ana@example.com"})[1]["token"]
    status, ret, _ = http.call("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": reason}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    return ret["return_id"], customer


def carrier_event(http: Http, tracking: str, event: str, occurred_at: str = "2026-11-22T10:00:00Z"):
    raw = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": occurred_at,
                      "location": "Paris 11"}).encode()
    sig = hmac.new(b"local-carrier-secret", raw, hashlib.sha256).hexdigest()
    return http.call("POST", "/carrier/events", raw=raw, headers={"X-Carrier-Signature": f"sha256={sig}"})


def subscribe(topic_arn: str, name: str):
    """An SQS queue on the topic; returns a reader of the messages so far."""
    sqs, sns = boto3.client("sqs", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    seen: list[dict] = []

    def read() -> list[dict]:
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return list(seen)
            seen.extend(json.loads(m["Body"]) for m in got)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])

    return read


def sent_emails(return_id: str) -> list[tuple[str, dict]]:
    """(SES template name, its data) of every email sent about this return."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [(m.template, json.loads(m.template_data)) for m in sent
            if getattr(m, "template", None) and return_id in m.template_data]
