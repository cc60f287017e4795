"""The workflow tests' fixtures: the deployed stack's API through the gateway emulation, as a client
(`api`) or wrapped in helpers.Http (`http`), the stack paying through localstripe (`stripe_stack`), and
the ops topic read as a person subscribed to it would (`ops_inbox`)."""
from __future__ import annotations

import json
import os

import boto3
import pytest

from tests.conftest import GatewayClient, deployed_stack

from .helpers import Http


@pytest.fixture
def api(stack):
    yield GatewayClient()


@pytest.fixture
def http(stack):
    yield Http(GatewayClient())


@pytest.fixture
def stripe_stack(monkeypatch, localstripe_url):
    """The `stack` fixture, with every function paying through localstripe instead of Secrets Manager."""
    overrides = {"STRIPE_SECRET_ARN": None, "STRIPE_API_KEY": "sk_test_local", "STRIPE_API_BASE": localstripe_url}
    with deployed_stack(monkeypatch, environment_overrides=overrides) as deployed:
        assert "STRIPE_SECRET_ARN" not in deployed.function("SettleFunction").environment
        yield deployed


@pytest.fixture
def ops_inbox(stack):
    """The ops alerts so far, read from an SQS queue subscribed to the ops topic (each read empties it)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    url = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=os.environ["OPS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn)

    def read() -> list[dict]:
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for m in got:
                body = json.loads(m["Body"])
                out.append({"subject": body.get("Subject"), "message": body.get("Message")})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    return read

